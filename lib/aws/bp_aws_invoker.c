/* SPDX-License-Identifier: MIT */
/* The invokers' common entry points (bp_aws_invoker.h). */
#include "bp_aws_invoker.h"

int bp__aws_invoker_invoke(bp__aws_invoker *iv, bp_engine *e, const bp_invoke_req *req) {
  if (!iv || !e || !req) return BP_ERR_INVALID_ARGUMENT;
  return iv->ops->invoke(iv, e, req);
}

void bp__aws_invoker_del(bp__aws_invoker *iv) {
  if (iv) iv->ops->del(iv);
}

size_t bp__aws_clean_token(const char *s, size_t max) {
  size_t n = 0;
  if (!s) return 0;
  for (; s[n]; n++)
    if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e) return 0;
  return n;
}
