/*
 * Firmware profile: the core built without yajl/libb64 (`make CORE_ONLY=1`), every byte
 * from a static buffer through the arena allocator, no malloc anywhere. Compares sequence
 * numbers, formats times and reports the arena's high-water mark.
 */
#include <stdio.h>
#include <string.h>

#include <batchpoint.h>

static _Alignas(max_align_t) unsigned char heap[16 * 1024];

int main(void) {
  bp_arena *arena;
  bp_allocator alloc;
  int rc = bp_arena_init(&arena, heap, sizeof heap, &alloc);
  if (rc) {
    fprintf(stderr, "arena: %s\n", bp_strerror(rc));
    return 1;
  }
  printf("batchpoint %s, codec %s\n", bp_version_string(),
         bp_feature_enabled("CODEC") ? "built in" : "left out (core only)");

  /* Sequence numbers are decimal strings of up to 128 digits: compare them as such. */
  const char *a = "49590338271490256608559692538361571095921575989136588898";
  const char *b = "100000000000000000000000000000000000000000000000000000000";
  int order;
  if ((rc = bp_seqnum_compare(a, strlen(a), b, strlen(b), &order))) return 1;
  printf("56-digit %s 57-digit sequence number\n", order < 0 ? "<" : ">=");

  char when[BP_TIME_ISO_MS_LEN];
  if (bp_time_format_iso_ms(1573691884835, when, sizeof when) < 0) return 1;
  printf("arrival %s\n", when);

  /* Objects created with `alloc` live in `heap`; here a few raw blocks stand in for them. */
  void *blocks[8];
  for (int i = 0; i < 8; i++)
    if (!(blocks[i] = alloc.malloc(1000, alloc.ud))) return 1;
  for (int i = 0; i < 8; i++) alloc.free(blocks[i], alloc.ud);
  size_t used, high_water, capacity;
  bp_arena_stats(arena, &used, &high_water, &capacity, NULL);
  printf("arena: %zu of %zu bytes in use, high-water %zu\n", used, capacity, high_water);
  return used == 0 ? 0 : 1;
}
