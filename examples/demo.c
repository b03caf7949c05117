/*
 * demo: read Kinesis stream records as NDJSON and print the Lambda events they batch into,
 * exactly as an event source mapping would deliver them: one shard per event, records in
 * order, cut at BatchSize and at the 6 MB (6,291,456-byte) invocation payload limit, which
 * is measured on the encoded event with bp_codec_record_size() before anything is encoded.
 *
 *   demo [--batch-size N] [--full] FILE.ndjson
 *
 * One record per line:
 *   {"shard":"shardId-000000000000","seq":"4959...","partitionKey":"k","arrival_ms":1732550400123,
 *    "data":"text"}                       raw payload as UTF-8 text, or
 *    "data_b64":"aGVsbG8="                  payload already base64, or
 *    "data_fill":{"char":"x","length":N}   N bytes of one character (large records)
 * Events longer than 600 bytes are abbreviated unless --full is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include <batchpoint.h>

#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/demo"
#define ROLE_ARN "arn:aws:iam::111111111111:role/demo-role"
#define SHOW_MAX 600

typedef struct input_record {
  char *shard;
  bp_record view; /* points into owned copies below */
  char *seq, *pk;
  uint8_t *data;
} input_record;

static char *dup_str(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

static const char *str_at(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

/* One NDJSON line into a record; returns 0 or prints why and returns -1. */
static int parse_line(const char *line, int lineno, input_record *out) {
  char err[256];
  yajl_val v = yajl_tree_parse(line, err, sizeof err);
  if (!v || !YAJL_IS_OBJECT(v)) {
    fprintf(stderr, "line %d: not a JSON object: %s\n", lineno, v ? "" : err);
    yajl_tree_free(v);
    return -1;
  }
  const char *shard = str_at(v, "shard"), *seq = str_at(v, "seq"), *pk = str_at(v, "partitionKey");
  const char *arrival_path[] = {"arrival_ms", NULL};
  yajl_val arrival = yajl_tree_get(v, arrival_path, yajl_t_number);
  int rc = -1;
  memset(out, 0, sizeof *out);
  if (!shard || !seq || !pk || !arrival || !YAJL_IS_INTEGER(arrival)) {
    fprintf(stderr, "line %d: needs shard, seq, partitionKey (strings) and arrival_ms (integer)\n",
            lineno);
    goto done;
  }
  out->shard = dup_str(shard);
  out->seq = dup_str(seq);
  out->pk = dup_str(pk);
  out->view.seq = out->seq;
  out->view.seq_len = strlen(seq);
  out->view.partition_key = out->pk;
  out->view.partition_key_len = strlen(pk);
  out->view.arrival_ms = YAJL_GET_INTEGER(arrival);
  const char *data = str_at(v, "data"), *b64 = str_at(v, "data_b64");
  const char *fill_char[] = {"data_fill", "char", NULL}, *fill_len[] = {"data_fill", "length", NULL};
  yajl_val fc = yajl_tree_get(v, fill_char, yajl_t_string);
  yajl_val fl = yajl_tree_get(v, fill_len, yajl_t_number);
  const char *fill = fc ? YAJL_GET_STRING(fc) : NULL;
  size_t n;
  const char *text = data ? data : b64;
  if (text) {
    out->data = (uint8_t *)dup_str(text);
    n = strlen(text);
    if (b64) out->view.flags = BP_RECORD_DATA_BASE64;
  } else if (fill && fill[0] && !fill[1] && fl && YAJL_IS_INTEGER(fl) &&
             YAJL_GET_INTEGER(fl) >= 0) {
    n = (size_t)YAJL_GET_INTEGER(fl);
    out->data = malloc(n ? n : 1);
    if (out->data) memset(out->data, fill[0], n);
  } else {
    fprintf(stderr, "line %d: needs data, data_b64 or data_fill {char, length}\n", lineno);
    goto done;
  }
  out->view.data = out->data;
  out->view.data_len = n;
  rc = out->shard && out->seq && out->pk && out->data ? 0 : -1;
  if (rc) fprintf(stderr, "line %d: out of memory\n", lineno);
done:
  yajl_tree_free(v);
  return rc;
}

static void free_record(input_record *r) {
  free(r->shard);
  free(r->seq);
  free(r->pk);
  free(r->data);
}

static int invocations;

static int invoke(bp_codec *codec, const char *shard, const bp_record *recs, size_t n,
                  const char *why, int full) {
  const char *event;
  size_t len;
  int rc = bp_codec_encode_event(codec, shard, recs, n, NULL, &event, &len);
  if (rc) {
    fprintf(stderr, "encode failed: %s: %s\n", bp_strerror(rc), bp_codec_errmsg(codec));
    return rc;
  }
  printf("== invocation %d: %s, %zu record%s (%.*s .. %.*s), %zu bytes, cut by %s\n",
         ++invocations, shard, n, n == 1 ? "" : "s", (int)recs[0].seq_len, recs[0].seq,
         (int)recs[n - 1].seq_len, recs[n - 1].seq, len, why);
  if (full || len <= SHOW_MAX) printf("%s\n", event);
  else printf("%.*s ... (%zu more bytes)\n", SHOW_MAX, event, len - SHOW_MAX);
  return 0;
}

/* Batch the records of one shard: cut at BatchSize or before the record that would push the
 * encoded event past 6 MB; a record too big on its own still forms a batch of one. */
static int batch_shard(bp_codec *codec, const char *shard, const bp_record *recs, size_t n,
                       uint32_t batch_size, int full) {
  size_t overhead, start = 0, bytes = 0;
  int rc = bp_codec_event_overhead(codec, shard, NULL, &overhead);
  for (size_t i = 0; !rc && i < n; i++) {
    size_t rs;
    if ((rc = bp_codec_record_size(codec, shard, &recs[i], &rs))) {
      fprintf(stderr, "%s: %s\n", bp_strerror(rc), bp_codec_errmsg(codec));
      break;
    }
    size_t count = i - start;
    size_t with = overhead + bytes + (count ? 1 : 0) + rs;
    if (count && (count == batch_size || with > BP_MAX_EVENT_BYTES)) {
      const char *why = count == batch_size ? "BatchSize" : "the 6 MB payload limit";
      if ((rc = invoke(codec, shard, recs + start, count, why, full))) break;
      start = i;
      bytes = 0;
      count = 0;
    }
    bytes += (count ? 1 : 0) + rs;
  }
  if (!rc && start < n) rc = invoke(codec, shard, recs + start, n - start, "end of input", full);
  return rc;
}

int main(int argc, char **argv) {
  uint32_t batch_size = 100;
  int full = 0;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--batch-size") && i + 1 < argc) batch_size = (uint32_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--full")) full = 1;
    else path = argv[i];
  }
  if (!path || batch_size < 1 || batch_size > 10000) {
    fprintf(stderr, "usage: demo [--batch-size 1..10000] [--full] FILE.ndjson\n");
    return 2;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return 1;
  }
  input_record *recs = NULL;
  size_t n = 0, cap = 0;
  char *line = NULL;
  size_t line_cap = 0;
  int lineno = 0, rc = 0;
  while (getline(&line, &line_cap, f) > 0) {
    lineno++;
    if (line[0] == '\n' || line[0] == '#') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      input_record *p = realloc(recs, cap * sizeof *recs);
      if (!p) {
        rc = 1;
        break;
      }
      recs = p;
    }
    if (parse_line(line, lineno, &recs[n])) {
      free_record(&recs[n]);
      rc = 1;
      break;
    }
    n++;
  }
  free(line);
  fclose(f);

  bp_codec_opts opts = {BP_SOURCE_KINESIS, STREAM_ARN, NULL, ROLE_ARN, NULL};
  bp_codec *codec = NULL;
  if (!rc && bp_codec_new(&codec, &opts, NULL)) rc = 1;
  printf("batchpoint %s demo: %zu records from %s, BatchSize %u, payload limit %u bytes\n",
         bp_version_string(), n, path, batch_size, BP_MAX_EVENT_BYTES);
  /* Group by shard, keeping each shard's order (one event never mixes shards). */
  bp_record *views = malloc((n ? n : 1) * sizeof *views);
  char *done = calloc(n ? n : 1, 1);
  if (!views || !done) rc = 1;
  for (size_t i = 0; !rc && i < n; i++) {
    if (done[i]) continue;
    size_t k = 0;
    for (size_t j = i; j < n; j++)
      if (!done[j] && !strcmp(recs[j].shard, recs[i].shard)) {
        views[k++] = recs[j].view;
        done[j] = 1;
      }
    rc = batch_shard(codec, recs[i].shard, views, k, batch_size, full) ? 1 : 0;
  }
  if (!rc) printf("%d invocations\n", invocations);
  free(views);
  free(done);
  bp_codec_del(codec);
  for (size_t i = 0; i < n; i++) free_record(&recs[i]);
  free(recs);
  return rc;
}
