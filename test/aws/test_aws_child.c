/* SPDX-License-Identifier: MIT */
/* Child processes on the add-on's loop: real /bin/sh commands, no server needed. */
#define _GNU_SOURCE /* SIGKILL and friends with strict C11 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bp_aws_int.h"

typedef struct got {
  int calls;
  bp__aws_child_result r;
  char *out; /* a copy of r.out */
} got;

static void on_child(void *ctx, const bp__aws_child_result *r) {
  got *g = ctx;
  g->calls++;
  g->r = *r;
  assert_non_null(r->out);
  g->out = malloc(r->out_len + 1);
  memcpy(g->out, r->out, r->out_len + 1);
  g->r.out = g->out;
}

static int setup(void **state) {
  bp__aws_loop *l;
  char err[256];
  assert_int_equal(bp__aws_loop_new(&l, err, sizeof err), 0);
  *state = l;
  return 0;
}

/* Every child of the test process was reaped: no zombie, nothing left running. */
static void assert_no_children(void) {
  int st;
  errno = 0;
  assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static int teardown(void **state) {
  bp__aws_loop_del(*state);
  assert_no_children();
  return 0;
}

static void drain(bp__aws_loop *l, int64_t limit_ms) {
  char err[256];
  int64_t end = bp__aws_now_ms() + limit_ms;
  while (bp__aws_loop_pending(l) > 0) {
    assert_true(bp__aws_now_ms() < end);
    assert_true(bp__aws_loop_run_once(l, 100, err, sizeof err) >= 0);
  }
}

static void run(bp__aws_loop *l, const char *cmd, const char *const *env, const char *in,
                size_t in_len, int64_t timeout_ms, size_t cap, got *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(bp__aws_child_start(l, cmd, env, in, in_len, timeout_ms, cap, on_child, g), 0);
  assert_int_equal(g->calls, 0);
  drain(l, 10000);
  assert_int_equal(g->calls, 1);
}

static void test_cat_round_trip(void **state) {
  bp__aws_loop *l = *state;
  size_t n = 300000; /* several pipe buffers each way, with NUL bytes */
  char *in = malloc(n);
  for (size_t i = 0; i < n; i++) in[i] = (char)(i * 7);
  got g;
  run(l, "cat", NULL, in, n, 5000, 0, &g);
  assert_int_equal(g.r.spawn_errno, 0);
  assert_int_equal(g.r.exited, 1);
  assert_int_equal(g.r.exit_code, 0);
  assert_int_equal(g.r.timed_out, 0);
  assert_int_equal(g.r.too_large, 0);
  assert_int_equal(g.r.out_len, n);
  assert_memory_equal(g.r.out, in, n);
  free(g.out);
  free(in);
}

static void test_exit_status_and_signal(void **state) {
  bp__aws_loop *l = *state;
  got g;
  run(l, "echo partial; exit 3", NULL, NULL, 0, 5000, 0, &g);
  assert_int_equal(g.r.exited, 1);
  assert_int_equal(g.r.exit_code, 3);
  assert_string_equal(g.r.out, "partial\n");
  free(g.out);
  run(l, "kill -TERM $$", NULL, NULL, 0, 5000, 0, &g);
  assert_int_equal(g.r.exited, 0);
  assert_int_equal(g.r.term_signal, SIGTERM);
  assert_int_equal(g.r.out_len, 0);
  assert_string_equal(g.r.out, "");
  free(g.out);
  run(l, "/nonexistent/command", NULL, NULL, 0, 5000, 0, &g);
  assert_int_equal(g.r.spawn_errno, 0); /* the shell started; it reports the missing command */
  assert_int_equal(g.r.exit_code, 127);
  free(g.out);
}

static void test_env(void **state) {
  bp__aws_loop *l = *state;
  setenv("BP_AWS_TEST_INHERITED", "kept", 1);
  setenv("BP_AWS_TEST_REPLACED", "old", 1);
  const char *env[] = {"BP_AWS_TEST_ADDED=42", "BP_AWS_TEST_REPLACED=new", NULL};
  got g;
  run(l, "printf '%s,%s,%s' \"$BP_AWS_TEST_INHERITED\" \"$BP_AWS_TEST_ADDED\" \"$BP_AWS_TEST_REPLACED\"",
      env, NULL, 0, 5000, 0, &g);
  assert_string_equal(g.r.out, "kept,42,new");
  free(g.out);
}

static int pid_gone(pid_t pid) {
  /* A killed orphan is reaped by init shortly after: wait up to 2 s for it to vanish. */
  for (int i = 0; i < 200; i++) {
    if (kill(pid, 0) != 0 && errno == ESRCH) return 1;
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static void test_timeout_kills_the_group(void **state) {
  bp__aws_loop *l = *state;
  got g;
  int64_t t0 = bp__aws_now_ms();
  /* The shell starts sleep in the background and prints its pid: the kill must reach it. */
  run(l, "sleep 10 & echo $!; wait", NULL, NULL, 0, 200, 0, &g);
  int64_t took = bp__aws_now_ms() - t0;
  assert_true(took >= 150 && took < 2000);
  assert_int_equal(g.r.timed_out, 1);
  assert_int_equal(g.r.exited, 0);
  assert_int_equal(g.r.term_signal, SIGKILL);
  pid_t grandchild = (pid_t)atoi(g.r.out);
  assert_true(grandchild > 0);
  assert_true(pid_gone(grandchild));
  free(g.out);
  run(l, "sleep 10", NULL, NULL, 0, 200, 0, &g);
  assert_int_equal(g.r.timed_out, 1);
  free(g.out);
}

static void test_stdout_cap(void **state) {
  bp__aws_loop *l = *state;
  got g;
  run(l, "yes", NULL, NULL, 0, 10000, 1 << 20, &g);
  assert_int_equal(g.r.too_large, 1);
  assert_int_equal(g.r.timed_out, 0);
  assert_true(g.r.out_len <= 1 << 20);
  assert_int_equal(g.r.term_signal, SIGKILL);
  free(g.out);
  /* Exactly at the cap is fine. */
  run(l, "head -c 1000 /dev/zero", NULL, NULL, 0, 5000, 1000, &g);
  assert_int_equal(g.r.too_large, 0);
  assert_int_equal(g.r.out_len, 1000);
  free(g.out);
}

static void test_unread_stdin(void **state) {
  bp__aws_loop *l = *state;
  size_t n = 8 << 20;
  char *in = calloc(1, n);
  got g;
  /* Exits at once without reading, and one that sleeps first: the pipe fills, then breaks. */
  run(l, "true", NULL, in, n, 5000, 0, &g);
  assert_int_equal(g.r.exited, 1);
  assert_int_equal(g.r.exit_code, 0);
  free(g.out);
  run(l, "sleep 0.2; echo done", NULL, in, n, 5000, 0, &g);
  assert_int_equal(g.r.exit_code, 0);
  assert_string_equal(g.r.out, "done\n");
  free(g.out);
  /* Reads a little, then exits. */
  run(l, "head -c 10 >/dev/null; echo ok", NULL, in, n, 5000, 0, &g);
  assert_string_equal(g.r.out, "ok\n");
  free(g.out);
  free(in);
}

#define NKIDS 20
static void test_many_children(void **state) {
  bp__aws_loop *l = *state;
  static got g[NKIDS];
  char in[NKIDS][24];
  for (int i = 0; i < NKIDS; i++) {
    memset(&g[i], 0, sizeof g[i]);
    snprintf(in[i], sizeof in[i], "child %d", i);
    assert_int_equal(bp__aws_child_start(l, i % 2 ? "cat" : "sleep 0.1; cat", NULL, in[i],
                                         strlen(in[i]), 5000, 0, on_child, &g[i]),
                     0);
  }
  assert_int_equal(bp__aws_loop_pending(l), NKIDS);
  drain(l, 10000);
  for (int i = 0; i < NKIDS; i++) {
    assert_int_equal(g[i].calls, 1);
    assert_string_equal(g[i].r.out, in[i]);
    free(g[i].out);
  }
}

static void never(void *ctx, const bp__aws_child_result *r) {
  (void)ctx;
  (void)r;
  fail_msg("an abandoned child's callback ran");
}

static void test_del_kills_and_reaps(void **state) {
  bp__aws_loop *l = *state;
  assert_int_equal(bp__aws_child_start(l, "sleep 10", NULL, NULL, 0, 0, 0, never, NULL), 0);
  assert_int_equal(bp__aws_child_start(l, "cat", NULL, "x", 1, 0, 0, never, NULL), 0);
  char err[256];
  assert_true(bp__aws_loop_run_once(l, 20, err, sizeof err) >= 0);
  /* teardown deletes the loop: it must return at once and leave no child behind */
  int64_t t0 = bp__aws_now_ms();
  bp__aws_loop_del(l);
  assert_true(bp__aws_now_ms() - t0 < 1000);
  assert_no_children();
  setup(state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cat_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exit_status_and_signal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_env, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout_kills_the_group, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stdout_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unread_stdin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_children, setup, teardown),
      cmocka_unit_test_setup_teardown(test_del_kills_and_reaps, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
