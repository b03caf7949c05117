/* SPDX-License-Identifier: MIT */
/*
 * What the two invokers (bp_aws_lambda.c, bp_aws_exec.c) share: the dispatch behind
 * bp__aws_invoker_invoke() / _del() and the cleaning of strings the engine will check.
 * Not installed.
 */
#ifndef BATCHPOINT_BP_AWS_INVOKER_H
#define BATCHPOINT_BP_AWS_INVOKER_H

#include "bp_aws_int.h"

/* Lambda's limit on a synchronous response payload (and so on the exec invoker's stdout). */
#define BP__AWS_MAX_RESPONSE_BYTES ((size_t)6291456)
/* The function error Lambda reports for a crash, a timeout or an oversized response. */
#define BP__AWS_UNHANDLED "Unhandled"

typedef struct bp__aws_invoker_ops {
  int (*invoke)(bp__aws_invoker *iv, bp_engine *e, const bp_invoke_req *req);
  void (*del)(bp__aws_invoker *iv);
} bp__aws_invoker_ops;

/* The first member of each invoker's own struct. */
struct bp__aws_invoker {
  const bp__aws_invoker_ops *ops;
};

/*
 * @p s (NUL-terminated, may be NULL) as a value bp_engine_complete_invoke() accepts: 1 to
 * @p max bytes of printable ASCII. Returns its length, or 0 (then drop it): a hostile or
 * broken server's header must not make the completion fail, which would leave the request
 * in flight for ever.
 */
size_t bp__aws_clean_token(const char *s, size_t max);

#endif
