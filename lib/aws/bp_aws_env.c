/* SPDX-License-Identifier: MIT */
/* Credentials from the environment, a service client's region and endpoint, ARN regions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_aws_int.h"

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* An unset or empty variable is absent (`export AWS_SESSION_TOKEN=` means none). */
static const char *env_value(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int bp__aws_creds_from_env(bp__aws_creds *c, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  const char *key = env_value("AWS_ACCESS_KEY_ID");
  const char *secret = env_value("AWS_SECRET_ACCESS_KEY");
  const char *token = env_value("AWS_SESSION_TOKEN");
  if (!key || !secret) {
    snprintf(err, errlen, "AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY%s",
             !key && !secret ? "" : (!key ? " (AWS_ACCESS_KEY_ID is unset)"
                                          : " (AWS_SECRET_ACCESS_KEY is unset)"));
    return BP_ERR_INVALID_ARGUMENT;
  }
  /* curl takes "key:secret" as user:password: a ':' in the key would split it wrongly. */
  if (strchr(key, ':')) {
    snprintf(err, errlen, "AWS credentials: AWS_ACCESS_KEY_ID contains ':'");
    return BP_ERR_INVALID_ARGUMENT;
  }
  c->access_key_id = dup_str(key);
  c->secret_access_key = dup_str(secret);
  c->session_token = token ? dup_str(token) : NULL;
  if (!c->access_key_id || !c->secret_access_key || (token && !c->session_token)) {
    bp__aws_creds_free(c);
    snprintf(err, errlen, "AWS credentials: out of memory");
    return BP_ERR_NOMEM;
  }
  return 0;
}

void bp__aws_creds_free(bp__aws_creds *c) {
  if (!c) return;
  free(c->access_key_id);
  free(c->secret_access_key);
  free(c->session_token);
  memset(c, 0, sizeof *c);
}

/* A region or host prefix becomes part of a host name and of the SigV4 scope. */
static int name_ok(const char *s) {
  if (!s || !*s) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')) return 0;
  return 1;
}

int bp__aws_client_init(bp__aws_client *c, const bp__aws_creds *creds, const char *region,
                        const char *host_prefix, const char *signing_name,
                        const char *endpoint_override, char *err, size_t errlen) {
  memset(c, 0, sizeof *c);
  if (!creds || !name_ok(host_prefix) || !name_ok(signing_name)) {
    snprintf(err, errlen, "AWS client: missing credentials or bad service name");
    return BP_ERR_INVALID_ARGUMENT;
  }
  if (!name_ok(region)) {
    snprintf(err, errlen, "AWS region '%s' is not a region name (such as us-east-1)",
             region ? region : "");
    return BP_ERR_INVALID_ARGUMENT;
  }
  if (endpoint_override && strncmp(endpoint_override, "http://", 7) != 0 &&
      strncmp(endpoint_override, "https://", 8) != 0) {
    snprintf(err, errlen, "endpoint '%s' must start with http:// or https://", endpoint_override);
    return BP_ERR_INVALID_ARGUMENT;
  }
  if (endpoint_override && strcspn(endpoint_override, " \t\r\n") != strlen(endpoint_override)) {
    snprintf(err, errlen, "endpoint '%s' contains white space", endpoint_override);
    return BP_ERR_INVALID_ARGUMENT;
  }
  bp__aws_buf url = {0};
  int rc = endpoint_override ? bp__aws_buf_puts(&url, endpoint_override)
                             : bp__aws_buf_printf(&url, "https://%s.%s.amazonaws.com", host_prefix,
                                                  region);
  /* Request paths start with '/': a trailing one here would double it. */
  while (rc == 0 && url.len > 0 && url.data[url.len - 1] == '/') url.data[--url.len] = '\0';
  c->creds = creds;
  c->endpoint = url.data;
  c->region = dup_str(region);
  c->signing_name = dup_str(signing_name);
  if (rc != 0 || !c->region || !c->signing_name) {
    bp__aws_client_free(c);
    snprintf(err, errlen, "AWS client: out of memory");
    return BP_ERR_NOMEM;
  }
  return 0;
}

void bp__aws_client_free(bp__aws_client *c) {
  if (!c) return;
  free(c->region);
  free(c->signing_name);
  free(c->endpoint);
  memset(c, 0, sizeof *c);
}

int bp__aws_arn_region(const char *arn, char *out, size_t cap) {
  /* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE */
  if (!arn || strncmp(arn, "arn:", 4) != 0 || cap == 0) return -1;
  const char *p = arn;
  for (int field = 0; field < 3; field++) {
    p = strchr(p, ':');
    if (!p) return -1;
    p++;
  }
  const char *end = strchr(p, ':');
  if (!end || end == p || (size_t)(end - p) >= cap) return -1;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return 0;
}
