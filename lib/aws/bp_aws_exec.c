/* SPDX-License-Identifier: MIT */
/*
 * The exec invoker (local development): each attempt runs `/bin/sh -c command` as its own
 * child, so parallel lanes run in parallel. The encoded event is its stdin; BP_SHARD_ID,
 * BP_ATTEMPT and BP_RECORD_COUNT are added to its environment; its stdout is the response.
 *
 * Results, as a user who knows Lambda expects them:
 *   exit 0                           RETURNED, body = stdout
 *   non-zero exit, killed by signal  ERROR "Unhandled" (an uncaught exception, a crash)
 *   timeout (killed)                 ERROR "Unhandled" (Lambda reports "Task timed out" so)
 *   stdout over 6,291,456 bytes      ERROR "Unhandled": Lambda answers an oversized response
 *                                    with X-Amz-Function-Error Unhandled (its errorType
 *                                    Function.ResponseSizeTooLarge is in the body, and the
 *                                    on-failure record carries the header's value)
 *   the command cannot be started    ERROR "Unhandled" (as a function that fails to init)
 * Nothing is THROTTLED: a local command is always reached.
 */
#include "bp_aws_invoker.h"
#include "bp_aws_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lambda's longest timeout, the default when the caller gives none. */
#define EXEC_DEFAULT_TIMEOUT_MS (15 * 60 * 1000)

typedef struct exec_invoker {
  bp__aws_invoker base;
  bp__aws_loop *loop;
  char *command;
  int64_t timeout_ms;
  bp__aws_counters *counters;
  bp__aws_pool calls;
} exec_invoker;

typedef struct exec_call {
  bp__aws_pool_item item;
  exec_invoker *iv;
  bp_engine *e;
  uint64_t req_id;
  bp__aws_buf env_text;   /* the three NAME=value strings, NUL-separated; reused */
  const char *env[4];     /* pointers into env_text, NULL-terminated */
} exec_call;

static void exec_call_fini(void *item) {
  exec_call *c = item;
  bp__aws_buf_free(&c->env_text);
}

static void exec_done(void *ctx, const bp__aws_child_result *r) {
  exec_call *c = ctx;
  exec_invoker *iv = c->iv;
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  if (!r->spawn_errno && r->exited && r->exit_code == 0 && !r->timed_out && !r->too_large) {
    res.kind = BP_INVOKE_RESULT_RETURNED;
    res.body = r->out_len ? r->out : NULL;
    res.body_len = r->out_len;
  } else {
    res.kind = BP_INVOKE_RESULT_ERROR;
    res.function_error = BP__AWS_UNHANDLED;
    res.function_error_len = strlen(BP__AWS_UNHANDLED);
    iv->counters->invoke_function_errors++;
  }
  bp_engine *e = c->e;
  uint64_t id = c->req_id;
  bp__aws_pool_put(&iv->calls, c); /* first: the completion may start the next attempt */
  (void)bp_engine_complete_invoke(e, id, bp__aws_now_ms(), &res);
}

static int exec_invoke(bp__aws_invoker *base, bp_engine *e, const bp_invoke_req *req) {
  exec_invoker *iv = (exec_invoker *)base;
  if (!req->payload) return BP_ERR_UNSUPPORTED; /* a core-only library encodes no event */
  exec_call *c = bp__aws_pool_get(&iv->calls);
  if (!c) return BP_ERR_WOULDBLOCK;
  c->iv = iv;
  c->e = e;
  c->req_id = req->req_id;
  bp__aws_buf *t = &c->env_text;
  bp__aws_buf_reset(t);
  /* Offsets, not pointers: the buffer may move while it grows. */
  size_t at_attempt, at_count;
  int rc = bp__aws_buf_printf(t, "BP_SHARD_ID=%s", req->shard_id);
  at_attempt = t->len + 1;
  if (!rc) rc = bp__aws_buf_append(t, "", 1);
  if (!rc) rc = bp__aws_buf_printf(t, "BP_ATTEMPT=%" PRIu32, req->attempt);
  at_count = t->len + 1;
  if (!rc) rc = bp__aws_buf_append(t, "", 1);
  if (!rc) rc = bp__aws_buf_printf(t, "BP_RECORD_COUNT=%zu", req->count);
  if (!rc) {
    c->env[0] = t->data;
    c->env[1] = t->data + at_attempt;
    c->env[2] = t->data + at_count;
    c->env[3] = NULL;
    rc = bp__aws_child_start(iv->loop, iv->command, c->env, req->payload, req->payload_len,
                             iv->timeout_ms, BP__AWS_MAX_RESPONSE_BYTES, exec_done, c);
  }
  if (rc) {
    bp__aws_pool_put(&iv->calls, c);
    return rc == BP_ERR_NOMEM ? BP_ERR_WOULDBLOCK : rc;
  }
  iv->counters->invokes++;
  return 0;
}

static void exec_del(bp__aws_invoker *base) {
  exec_invoker *iv = (exec_invoker *)base;
  bp__aws_pool_free(&iv->calls);
  free(iv->command);
  free(iv);
}

static const bp__aws_invoker_ops exec_ops = {exec_invoke, exec_del};

int bp__aws_exec_invoker_new(bp__aws_invoker **out, bp__aws_loop *l, const char *command,
                             int64_t timeout_ms, bp__aws_counters *counters, char *err,
                             size_t errlen) {
  if (out) *out = NULL;
  if (!out || !l || !counters || !command || !*command) {
    if (err && errlen) snprintf(err, errlen, "exec invoker: a command is required");
    return BP_ERR_INVALID_ARGUMENT;
  }
  exec_invoker *iv = calloc(1, sizeof *iv);
  char *cmd = strdup(command);
  if (!iv || !cmd) {
    free(iv);
    free(cmd);
    if (err && errlen) snprintf(err, errlen, "exec invoker: out of memory");
    return BP_ERR_NOMEM;
  }
  iv->base.ops = &exec_ops;
  iv->loop = l;
  iv->command = cmd;
  iv->timeout_ms = timeout_ms > 0 ? timeout_ms : EXEC_DEFAULT_TIMEOUT_MS;
  iv->counters = counters;
  bp__aws_pool_init(&iv->calls, sizeof(exec_call), exec_call_fini);
  *out = &iv->base;
  return 0;
}
