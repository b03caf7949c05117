/* SPDX-License-Identifier: MIT */
/*
 * One AWS request as a libcurl easy handle on the loop's multi handle, signed by libcurl
 * (CURLOPT_AWS_SIGV4). Finished transfers keep their easy handle and buffers on an idle
 * list, so a steady stream of requests allocates nothing new.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <yajl/yajl_tree.h>

#include "bp_aws_loop_int.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)
/* Error bodies are small; a larger one is not parsed for its code. */
#define MAX_ERROR_BODY ((size_t)1 << 20)

struct bp__aws_xfer {
  bp__aws_work work; /* first: the loop's ready list links it */
  bp__aws_xfer *prev, *next; /* the loop's active list, or (next only) its idle list */
  bp__aws_loop *loop;
  CURL *easy;
  struct curl_slist *headers;
  bp__aws_buf scratch;  /* one option's text at a time (curl copies string options) */
  bp__aws_buf req_body; /* curl does not copy CURLOPT_POSTFIELDS */
  bp__aws_buf body;     /* the response */
  bp__aws_buf hdrs;     /* the final response's headers: "name\0value\0" pairs */
  bp__aws_buf errinfo;  /* error code and message: "code\0message\0" */
  size_t max_body;
  int too_large;
  int nomem;
  CURLcode result;
  bp__aws_http_done done;
  void *ctx;
  bp__aws_http_resp resp;
  char errbuf[CURL_ERROR_SIZE];
};

/* ---- curl callbacks ---- */

/* Sockets close on exec: a child started by the loop must not hold a connection open (where
 * posix_spawn cannot close every inherited descriptor, see bp_aws_child.c). */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
  (void)ud;
  (void)purpose;
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  bp__aws_xfer *x = ud;
  size_t len = size * n;
  if (len > x->max_body - x->body.len) {
    x->too_large = 1;
    return 0; /* curl stops the transfer: CURLE_WRITE_ERROR */
  }
  if (bp__aws_buf_append(&x->body, p, len) != 0) {
    x->nomem = 1;
    return 0;
  }
  return len;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  bp__aws_xfer *x = ud;
  size_t len = size * n;
  /* A status line starts a response: only the last one's headers (after a 100) count. */
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    bp__aws_buf_reset(&x->hdrs);
    return len;
  }
  const char *colon = memchr(p, ':', len);
  if (!colon || colon == p) return len; /* the blank end line, or a malformed line */
  const char *v = colon + 1, *end = p + len;
  while (v < end && is_space(*v)) v++;
  while (end > v && is_space(end[-1])) end--;
  static const char nul = '\0';
  if (bp__aws_buf_append(&x->hdrs, p, (size_t)(colon - p)) != 0 ||
      bp__aws_buf_append(&x->hdrs, &nul, 1) != 0 ||
      bp__aws_buf_append(&x->hdrs, v, (size_t)(end - v)) != 0 ||
      bp__aws_buf_append(&x->hdrs, &nul, 1) != 0) {
    x->nomem = 1;
    return 0;
  }
  return len;
}

const char *bp__aws_http_header(const bp__aws_http_resp *r, const char *name) {
  const bp__aws_xfer *x = r ? r->priv : NULL;
  if (!x || !x->hdrs.data) return NULL;
  const char *p = x->hdrs.data, *end = x->hdrs.data + x->hdrs.len;
  while (p < end) {
    const char *v = p + strlen(p) + 1;
    if (v >= end) break;
    if (strcasecmp(p, name) == 0) return v;
    p = v + strlen(v) + 1;
  }
  return NULL;
}

/* ---- the AWS error code of a failed response ---- */

static void put_error(bp__aws_xfer *x, const char *code, size_t code_len, const char *msg,
                      size_t msg_len) {
  bp__aws_buf_reset(&x->errinfo);
  /* The long form "com.amazonaws.kinesis.v20131202#Name" is reported as "Name". */
  const char *hash = code ? memchr(code, '#', code_len) : NULL;
  while (hash) {
    code_len -= (size_t)(hash + 1 - code);
    code = hash + 1;
    hash = memchr(code, '#', code_len);
  }
  static const char nul = '\0';
  if (bp__aws_buf_append(&x->errinfo, code ? code : "", code ? code_len : 0) != 0 ||
      bp__aws_buf_append(&x->errinfo, &nul, 1) != 0 ||
      bp__aws_buf_append(&x->errinfo, msg ? msg : "", msg ? msg_len : 0) != 0)
    return; /* out of memory: the response goes without its error code */
  x->resp.error_code = code && code_len ? x->errinfo.data : NULL;
  x->resp.error_message = msg ? x->errinfo.data + code_len + 1 : NULL;
}

static const char *json_str(yajl_val root, const char *a, const char *b) {
  const char *pa[] = {a, NULL}, *pb[] = {b, NULL};
  yajl_val v = yajl_tree_get(root, pa, yajl_t_string);
  if (!v) v = yajl_tree_get(root, pb, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

/* The text between <tag> and </tag>, or NULL. */
static const char *xml_elem(const char *body, const char *tag, size_t *len) {
  char open[32], close[32];
  size_t tl = strlen(tag);
  open[0] = '<';
  memcpy(open + 1, tag, tl);
  memcpy(open + 1 + tl, ">", 2);
  close[0] = '<';
  close[1] = '/';
  memcpy(close + 2, tag, tl);
  memcpy(close + 2 + tl, ">", 2);
  const char *s = strstr(body, open);
  if (!s) return NULL;
  s += tl + 2;
  const char *e = strstr(s, close);
  if (!e) return NULL;
  *len = (size_t)(e - s);
  return s;
}

static void extract_error(bp__aws_xfer *x) {
  const char *type = bp__aws_http_header(&x->resp, "x-amzn-ErrorType");
  const char *body = x->body.data ? x->body.data : "";
  while (is_space(*body)) body++;
  const char *msg = NULL;
  size_t msg_len = 0;
  yajl_val root = NULL;
  if (*body == '{' && x->body.len <= MAX_ERROR_BODY) {
    root = yajl_tree_parse(body, NULL, 0);
    if (root) {
      msg = json_str(root, "message", "Message");
      if (msg) msg_len = strlen(msg);
      if (!type) type = json_str(root, "__type", "code");
      if (!type) type = json_str(root, "Code", "Type");
    }
  } else if (*body == '<') {
    size_t code_len = 0;
    const char *code = xml_elem(body, "Code", &code_len);
    msg = xml_elem(body, "Message", &msg_len);
    if (code || msg) {
      put_error(x, code, code_len, msg, msg_len);
      return;
    }
  }
  if (type || msg) {
    /* x-amzn-ErrorType: "Name:http://internal.amazon.com/coral/..." */
    size_t type_len = type ? strcspn(type, ":") : 0;
    put_error(x, type, type_len, msg, msg_len);
  }
  yajl_tree_free(root);
}

/* ---- finishing ---- */

static int map_curl_error(const bp__aws_xfer *x) {
  switch (x->result) {
  case CURLE_OK:
    return BP__AWS_HTTP_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return BP__AWS_HTTP_TIMEOUT;
  case CURLE_FILESIZE_EXCEEDED:
    return BP__AWS_HTTP_TOO_LARGE;
  case CURLE_WRITE_ERROR:
    return x->too_large ? BP__AWS_HTTP_TOO_LARGE : BP__AWS_HTTP_OTHER;
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
    return BP__AWS_HTTP_CONNECT;
  default:
    return BP__AWS_HTTP_OTHER;
  }
}

static void xfer_finish(bp__aws_work *w) {
  bp__aws_xfer *x = (bp__aws_xfer *)w;
  x->done(x->ctx, &x->resp);
  /* Keep the handle and the buffers' memory for the next request. */
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  x->next = x->loop->idle;
  x->loop->idle = x;
}

static void active_remove(bp__aws_loop *l, bp__aws_xfer *x) {
  if (x->prev) x->prev->next = x->next;
  else l->active = x->next;
  if (x->next) x->next->prev = x->prev;
  x->prev = x->next = NULL;
}

void bp__aws_http_collect(bp__aws_loop *l) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    char *priv = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
    bp__aws_xfer *x = (bp__aws_xfer *)priv;
    x->result = m->data.result;
    curl_multi_remove_handle(l->multi, x->easy);
    active_remove(l, x);
    l->transfers--;

    memset(&x->resp, 0, sizeof x->resp);
    x->resp.priv = x;
    if (!x->body.data) bp__aws_buf_puts(&x->body, "");
    x->resp.body = x->body.data ? x->body.data : "";
    x->resp.body_len = x->body.len;
    x->resp.transport_error = map_curl_error(x);
    if (x->nomem && x->resp.transport_error == BP__AWS_HTTP_OTHER) {
      x->resp.error_text = "out of memory";
    } else if (x->resp.transport_error != BP__AWS_HTTP_OK) {
      x->resp.error_text = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
    } else {
      long status = 0;
      curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
      x->resp.status = status;
      if (status >= 300) extract_error(x);
    }
    bp__aws_loop_ready(l, &x->work);
  }
}

static void xfer_free(bp__aws_xfer *x) {
  curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->headers);
  bp__aws_buf_free(&x->scratch);
  bp__aws_buf_free(&x->req_body);
  bp__aws_buf_free(&x->body);
  bp__aws_buf_free(&x->hdrs);
  bp__aws_buf_free(&x->errinfo);
  free(x);
}

void bp__aws_http_abandon(bp__aws_loop *l) {
  while (l->active) {
    bp__aws_xfer *x = l->active;
    curl_multi_remove_handle(l->multi, x->easy);
    active_remove(l, x);
    xfer_free(x);
  }
  l->transfers = 0;
  while (l->idle) {
    bp__aws_xfer *x = l->idle;
    l->idle = x->next;
    xfer_free(x);
  }
}

/* ---- starting ---- */

static int add_header(bp__aws_xfer *x, const char *name, const char *value) {
  bp__aws_buf_reset(&x->scratch);
  if (bp__aws_buf_printf(&x->scratch, "%s: %s", name, value) != 0) return BP_ERR_NOMEM;
  struct curl_slist *h = curl_slist_append(x->headers, x->scratch.data);
  if (!h) return BP_ERR_NOMEM;
  x->headers = h;
  return 0;
}

static int build_headers(bp__aws_xfer *x, const bp__aws_http_req *req) {
  const bp__aws_creds *cr = req->client->creds;
  const char *ctype = req->content_type ? req->content_type
                      : req->target     ? "application/x-amz-json-1.1"
                                        : "application/x-www-form-urlencoded";
  if (add_header(x, "Content-Type", ctype) != 0) return BP_ERR_NOMEM;
  if (req->target && add_header(x, "X-Amz-Target", req->target) != 0) return BP_ERR_NOMEM;
  if (cr->session_token && add_header(x, "X-Amz-Security-Token", cr->session_token) != 0)
    return BP_ERR_NOMEM;
  /* No "Expect: 100-continue" round trip before large bodies. */
  struct curl_slist *h = curl_slist_append(x->headers, "Expect:");
  if (!h) return BP_ERR_NOMEM;
  x->headers = h;
  for (const char *const *e = req->headers; e && *e; e++) {
    h = curl_slist_append(x->headers, *e);
    if (!h) return BP_ERR_NOMEM;
    x->headers = h;
  }
  return 0;
}

/* A string option from printf: curl copies it. */
#define SET_TEXT(x, opt, ...)                                                                    \
  (bp__aws_buf_reset(&(x)->scratch), bp__aws_buf_printf(&(x)->scratch, __VA_ARGS__) != 0         \
                                         ? CURLE_OUT_OF_MEMORY                                   \
                                         : curl_easy_setopt((x)->easy, opt, (x)->scratch.data))

static int configure(bp__aws_xfer *x, const bp__aws_http_req *req) {
  const bp__aws_client *c = req->client;
  CURL *e = x->easy;
  int64_t timeout = c->timeout_ms > 0 ? c->timeout_ms : DEFAULT_TIMEOUT_MS;
  int put = req->method && strcmp(req->method, "PUT") == 0;
  CURLcode r = CURLE_OK;
  if (r == CURLE_OK) r = SET_TEXT(x, CURLOPT_URL, "%s%s", c->endpoint, req->path ? req->path : "/");
  if (r == CURLE_OK) r = SET_TEXT(x, CURLOPT_AWS_SIGV4, "aws:amz:%s:%s", c->region, c->signing_name);
  if (r == CURLE_OK)
    r = SET_TEXT(x, CURLOPT_USERPWD, "%s:%s", c->creds->access_key_id, c->creds->secret_access_key);
  if (r == CURLE_OK && put) r = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
  if (r == CURLE_OK && !put) r = curl_easy_setopt(e, CURLOPT_POST, 1L);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req_body.data);
  if (r == CURLE_OK)
    r = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req_body.len);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  /* A Content-Length over the cap fails at once (CURLE_FILESIZE_EXCEEDED). */
  if (r == CURLE_OK)
    r = curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  if (r == CURLE_OK) r = curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
  if (r == CURLE_OUT_OF_MEMORY) return BP_ERR_NOMEM;
  return r == CURLE_OK ? 0 : BP_ERR_INVALID_ARGUMENT;
}

static bp__aws_xfer *xfer_get(bp__aws_loop *l) {
  bp__aws_xfer *x = l->idle;
  if (x) {
    l->idle = x->next;
    curl_easy_reset(x->easy);
  } else {
    x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->easy = curl_easy_init();
    if (!x->easy) {
      free(x);
      return NULL;
    }
    x->loop = l;
    x->work.finish = xfer_finish;
  }
  x->prev = x->next = NULL;
  bp__aws_buf_reset(&x->req_body);
  bp__aws_buf_reset(&x->body);
  bp__aws_buf_reset(&x->hdrs);
  bp__aws_buf_reset(&x->errinfo);
  x->too_large = x->nomem = 0;
  x->errbuf[0] = '\0';
  return x;
}

int bp__aws_http_start(bp__aws_loop *l, const bp__aws_http_req *req, bp__aws_http_done done,
                       void *ctx) {
  if (!l || !req || !done || !req->client || !req->client->creds || !req->client->endpoint ||
      (!req->body && req->body_len) ||
      (req->method && strcmp(req->method, "POST") != 0 && strcmp(req->method, "PUT") != 0))
    return BP_ERR_INVALID_ARGUMENT;
  bp__aws_xfer *x = xfer_get(l);
  if (!x) return BP_ERR_NOMEM;
  x->done = done;
  x->ctx = ctx;
  x->max_body = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
  int rc = bp__aws_buf_append(&x->req_body, req->body ? req->body : "", req->body_len);
  if (rc == 0) rc = build_headers(x, req);
  if (rc == 0) rc = configure(x, req);
  /* The secret went through scratch (CURLOPT_USERPWD): do not leave it in a reused buffer. */
  if (x->scratch.data) memset(x->scratch.data, 0, x->scratch.cap);
  if (rc == 0 && curl_multi_add_handle(l->multi, x->easy) != CURLM_OK) rc = BP_ERR_NOMEM;
  if (rc != 0) {
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    x->next = l->idle;
    l->idle = x;
    return rc;
  }
  x->next = l->active;
  if (l->active) l->active->prev = x;
  l->active = x;
  l->transfers++;
  return 0;
}
