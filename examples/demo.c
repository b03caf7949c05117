/* SPDX-License-Identifier: MIT */
/*
 * demo: a stream consumer built on the batchpoint engine, over a stream kept in a file.
 *
 *   demo [--dir DIR] [--seed FILE] [--append N] [--batch-size N] [--parallelization N]
 *        [--fresh] [--quiet]
 *
 * The stream is DIR/stream.ndjson (default DIR: build/demo), copied from the seed file
 * (default examples/records.ndjson) on the first run; see that file for the line format.
 * Every run first appends N (default 3) new records to each open shard, with sequence
 * numbers continuing the shard, then consumes the stream like Lambda's event source mapping:
 *
 * - fetch reads the records of the file from where the engine asks (TRIM_HORIZON, LATEST,
 *   AT_TIMESTAMP, after a sequence number, or where the previous read ended) and reports
 *   SHARD_END for a closed shard;
 * - invoke runs a function in this process: a batch holding a record whose data contains
 *   "poison" fails (a function error); records whose data contains "fail-item" are reported
 *   in {"batchItemFailures":[...]}; anything else succeeds. It "takes" 50 ms plus 1 ms per
 *   100 kB of event, on a simulated clock: the demo never sleeps, it jumps to the engine's
 *   next deadline or the next completion;
 * - deliver appends each on-failure record to DIR/failures.ndjson (the SQS queue);
 * - checkpoints go through the file store in DIR/checkpoints, so the next run resumes after
 *   them and processes only what was appended since.
 *
 * The demo stops when the engine is idle and every shard has been read to its end, then
 * drains the engine with bp_engine_shutdown(). Exit status: 0, 1 on any engine or I/O
 * error, 2 on bad usage. --fresh deletes the stream, failures and checkpoints first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include <batchpoint.h>
#include <batchpoint/bp_engine.h>

#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/demo"
#define ROLE_ARN "arn:aws:iam::111111111111:role/demo-consumer-role"
#define FUNCTION_ARN "arn:aws:lambda:us-east-1:111111111111:function:demo-consumer"
#define QUEUE_ARN "arn:aws:sqs:us-east-1:111111111111:demo-consumer-failures"
/* Fixed, so that the checkpoint files of one run are found by the next. */
#define MAPPING_UUID "0d3e5f2a-7b41-4c8e-9a6d-2f1b3c4d5e6f"
#define SEQ_SHOWN 6 /* sequence numbers are printed by their last digits */

typedef struct rec {
  char *seq, *pk;
  uint8_t *data;
  size_t data_len;
  int64_t arrival_ms;
  uint32_t flags;
} rec;

typedef struct shard {
  char *id;
  char *parent;
  int closed;      /* ended: no appends; SHARD_END after its last record */
  rec *recs;
  size_t n, cap;
  bp_record *views; /* what fetch hands over, built once the file is loaded */
  size_t next;      /* the host's iterator: where a CONTINUE read goes on */
  size_t appended;  /* records this run added */
  int added;        /* given to the engine */
  int fetched;      /* at least one fetch completed */
} shard;

/* An invocation the function is still "running" (completed when the clock reaches due). */
typedef struct pending {
  uint64_t req_id;
  int64_t due_ms;
  bp_invoke_result res;
  char *body;
  char request_id[40];
  char why[96]; /* what the function did, for the outcome line */
} pending;

typedef struct demo {
  const char *dir;
  char stream_path[1024], failures_path[1024], ckpt_dir[1024];
  shard *shards;
  size_t nshards, total_records;
  bp_engine *e;
  bp_file_store *fs;
  int64_t now, t0;
  uint32_t batch_size;
  int parallelization;
  pending *pend;
  size_t npend, pend_cap;
  const pending *completing; /* the invocation being completed (for the outcome line) */
  bp_codec *codec;           /* record sizes, to explain a 6 MB cut */
  uint64_t invocations;
  size_t failures_written;
  int errors, quiet, draining;
} demo;

/* ---- small helpers ---------------------------------------------------------------- */

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "demo: out of memory\n");
    exit(1);
  }
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

/* "shardId-000000000002" prints as "shard 2"; other ids as they are. */
static const char *shard_name(const char *id, char *buf, size_t cap) {
  if (!strncmp(id, "shardId-", 8) && id[8]) {
    const char *p = id + 8;
    while (*p == '0' && p[1]) p++;
    snprintf(buf, cap, "shard %s", p);
  } else {
    snprintf(buf, cap, "%s", id);
  }
  return buf;
}

/* The last SEQ_SHOWN digits of a sequence number (not NUL-terminated on input). */
static const char *seq_short(const char *s, size_t len, char *buf, size_t cap) {
  if (!s || !len) snprintf(buf, cap, "-");
  else if (len <= SEQ_SHOWN) snprintf(buf, cap, "%.*s", (int)len, s);
  else snprintf(buf, cap, "%.*s", SEQ_SHOWN, s + len - SEQ_SHOWN);
  return buf;
}

/* One line of the trace: simulated time since the start, who, what. */
static void say(const demo *d, int64_t now, const char *shard_id, int lane, const char *fmt, ...) {
  if (d->quiet) return;
  char who[64] = "", name[48];
  if (shard_id && lane >= 0 && d->parallelization > 1)
    snprintf(who, sizeof who, "%s lane %d", shard_name(shard_id, name, sizeof name), lane);
  else if (shard_id)
    snprintf(who, sizeof who, "%s", shard_name(shard_id, name, sizeof name));
  printf("%+9.3fs  %-15s ", (double)(now - d->t0) / 1000.0, who);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

/* 1234567 -> "1,234,567" */
static const char *grouped(unsigned long long v, char *buf, size_t cap) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%llu", v);
  size_t w = 0;
  for (int i = 0; i < n && w + 2 < cap; i++) {
    if (i && (n - i) % 3 == 0) buf[w++] = ',';
    buf[w++] = tmp[i];
  }
  buf[w] = '\0';
  return buf;
}

static int has_word(const uint8_t *p, size_t n, const char *w) {
  size_t k = strlen(w);
  for (size_t i = 0; i + k <= n; i++)
    if (p[i] == (uint8_t)w[0] && !memcmp(p + i, w, k)) return 1;
  return 0;
}

/* A decimal string plus a small number (sequence numbers are too long for any integer). */
static char *seq_add(const char *seq, unsigned add) {
  size_t n = strlen(seq);
  char *out = xmalloc(n + 2);
  memcpy(out + 1, seq, n + 1);
  unsigned carry = add;
  for (size_t k = n; k-- > 0 && carry;) {
    unsigned v = (unsigned)(out[1 + k] - '0') + carry % 10;
    carry /= 10;
    if (v >= 10) {
      v -= 10;
      carry++;
    }
    out[1 + k] = (char)('0' + v);
  }
  if (carry) { /* 99...9 + 10: one digit more */
    out[0] = (char)('0' + carry);
    return out;
  }
  memmove(out, out + 1, n + 1);
  return out;
}

static int mkdir_p(const char *path) {
  char buf[1024];
  size_t n = strlen(path);
  if (n >= sizeof buf) return -1;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) && errno != EEXIST) return -1;
    buf[i] = c;
  }
  return 0;
}

/* ---- the stream file ---------------------------------------------------------------- */

static shard *find_shard(demo *d, const char *id) {
  for (size_t i = 0; i < d->nshards; i++)
    if (!strcmp(d->shards[i].id, id)) return &d->shards[i];
  return NULL;
}

static shard *get_shard(demo *d, const char *id) {
  shard *s = find_shard(d, id);
  if (s) return s;
  d->shards = realloc(d->shards, (d->nshards + 1) * sizeof *d->shards);
  if (!d->shards) {
    fprintf(stderr, "demo: out of memory\n");
    exit(1);
  }
  s = &d->shards[d->nshards++];
  memset(s, 0, sizeof *s);
  s->id = xstrdup(id);
  return s;
}

static void push_record(demo *d, shard *s, rec r) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 16;
    s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
    if (!s->recs) {
      fprintf(stderr, "demo: out of memory\n");
      exit(1);
    }
  }
  s->recs[s->n++] = r;
  d->total_records++;
}

static const char *str_at(yajl_val obj, const char *k1, const char *k2) {
  const char *path[] = {k1, k2, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

/* One line of the stream file: a shard declaration or a record. 0, or -1 after a message. */
static int load_line(demo *d, const char *line, int lineno) {
  char err[256];
  yajl_val v = yajl_tree_parse(line, err, sizeof err);
  const char *shard_id = v && YAJL_IS_OBJECT(v) ? str_at(v, "shard", NULL) : NULL;
  int rc = -1;
  if (!shard_id) {
    fprintf(stderr, "%s:%d: not a JSON object with a \"shard\" string%s%s\n", d->stream_path,
            lineno, v ? "" : ": ", v ? "" : err);
    goto done;
  }
  shard *s = get_shard(d, shard_id);
  const char *seq = str_at(v, "seq", NULL);
  if (!seq) { /* a shard declaration */
    const char *parent = str_at(v, "parentShardId", NULL);
    const char *closed_path[] = {"closed", NULL};
    yajl_val closed = yajl_tree_get(v, closed_path, yajl_t_true);
    if (parent && !s->parent) s->parent = xstrdup(parent);
    if (closed) s->closed = 1;
    rc = 0;
    goto done;
  }
  const char *pk = str_at(v, "partitionKey", NULL);
  const char *arrival_path[] = {"arrival_ms", NULL};
  yajl_val arrival = yajl_tree_get(v, arrival_path, yajl_t_number);
  if (!pk || !arrival || !YAJL_IS_INTEGER(arrival) || bp_seqnum_validate(seq, strlen(seq))) {
    fprintf(stderr, "%s:%d: a record needs seq (digits), partitionKey and arrival_ms\n",
            d->stream_path, lineno);
    goto done;
  }
  if (s->n) {
    int cmp = 0;
    bp_seqnum_compare(seq, strlen(seq), s->recs[s->n - 1].seq, strlen(s->recs[s->n - 1].seq),
                      &cmp);
    if (cmp <= 0) {
      fprintf(stderr, "%s:%d: sequence numbers of %s must ascend\n", d->stream_path, lineno,
              shard_id);
      goto done;
    }
  }
  rec r = {0};
  r.arrival_ms = YAJL_GET_INTEGER(arrival);
  const char *data = str_at(v, "data", NULL), *b64 = str_at(v, "data_b64", NULL);
  const char *fill = str_at(v, "data_fill", "char");
  const char *fill_len_path[] = {"data_fill", "length", NULL};
  yajl_val fill_len = yajl_tree_get(v, fill_len_path, yajl_t_number);
  if (data || b64) {
    r.data_len = strlen(data ? data : b64);
    r.data = (uint8_t *)xstrdup(data ? data : b64);
    if (b64) r.flags = BP_RECORD_DATA_BASE64;
  } else if (fill && fill[0] && !fill[1] && fill_len && YAJL_IS_INTEGER(fill_len) &&
             YAJL_GET_INTEGER(fill_len) >= 0 && YAJL_GET_INTEGER(fill_len) <= (64 << 20)) {
    r.data_len = (size_t)YAJL_GET_INTEGER(fill_len);
    r.data = xmalloc(r.data_len);
    memset(r.data, fill[0], r.data_len);
  } else {
    fprintf(stderr, "%s:%d: a record needs data, data_b64 or data_fill {char, length}\n",
            d->stream_path, lineno);
    goto done;
  }
  r.seq = xstrdup(seq);
  r.pk = xstrdup(pk);
  push_record(d, s, r);
  rc = 0;
done:
  yajl_tree_free(v);
  return rc;
}

static int load_stream(demo *d) {
  FILE *f = fopen(d->stream_path, "r");
  if (!f) {
    fprintf(stderr, "demo: %s: %s\n", d->stream_path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int lineno = 0, rc = 0;
  while (!rc && (len = getline(&line, &cap, f)) > 0) {
    lineno++;
    if (line[len - 1] != '\n') { /* only the last line can lack one */
      fprintf(stderr,
              "%s:%d: the last line is incomplete (no newline at its end): an append cut "
              "short, e.g. by a full disk, under an older demo. Remove that line, or start "
              "over with --fresh.\n",
              d->stream_path, lineno);
      rc = -1;
      break;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (!len || line[0] == '#') continue;
    rc = load_line(d, line, lineno);
  }
  free(line);
  fclose(f);
  return rc;
}

/* Through `<to>.tmp` and a rename: a copy cut short never looks like a stream. */
static int copy_file(const char *from, const char *to) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", to);
  FILE *in = fopen(from, "rb"), *out = in ? fopen(tmp, "wb") : NULL;
  char buf[65536];
  size_t n;
  int rc = in && out ? 0 : -1;
  while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) rc = -1;
  if (in && ferror(in)) rc = -1;
  if (out && fclose(out)) rc = -1;
  if (in) fclose(in);
  if (!rc && rename(tmp, to)) rc = -1;
  if (rc && out) unlink(tmp);
  return rc;
}

/* @p s as a JSON string at @p out, which has room for 6 bytes per byte of @p s plus 3. */
static size_t put_json_string(char *out, const char *s) {
  size_t w = 0;
  out[w++] = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') out[w++] = '\\';
    if (c < 0x20) w += (size_t)snprintf(out + w, 7, "\\u%04x", c);
    else out[w++] = (char)c;
  }
  out[w++] = '"';
  out[w] = '\0';
  return w;
}

/* All of @p len bytes at the end of @p fd (O_APPEND). 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!n) errno = EIO;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* New records for every open shard: the next sequence numbers of the shard, a minute after
 * the newest record of the stream; every 13th record is poison, every 7th a failing item. */
static int append_records(demo *d, unsigned per_shard) {
  if (!per_shard) return 0;
  /* Each line is built whole and written at once; if a write fails (a full disk, a file
   * size limit), the file is truncated back to its length before this append, so it never
   * keeps a partial line that would stop every later run. */
  struct stat st;
  int fd = open(d->stream_path, O_WRONLY | O_APPEND);
  if (fd < 0 || fstat(fd, &st)) {
    fprintf(stderr, "demo: %s: %s\n", d->stream_path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  off_t before = st.st_size;
  int64_t newest = 0;
  for (size_t i = 0; i < d->nshards; i++)
    for (size_t j = 0; j < d->shards[i].n; j++)
      if (d->shards[i].recs[j].arrival_ms > newest) newest = d->shards[i].recs[j].arrival_ms;
  int64_t arrival = newest + 60000;
  size_t id = d->total_records;
  for (unsigned k = 0; k < per_shard; k++) {
    for (size_t i = 0; i < d->nshards; i++) {
      shard *s = &d->shards[i];
      if (s->closed) continue;
      char *seq = s->n ? seq_add(s->recs[s->n - 1].seq, 10)
                       : xstrdup("49651234567890123456789012345678901234567890123456700010");
      char pk[32], data[96];
      id++;
      snprintf(pk, sizeof pk, "user-%zu", id % 5);
      snprintf(data, sizeof data, "{\"id\":%zu,\"action\":\"%s\",\"page\":\"/p/%zu\"}", id,
               id % 13 == 0 ? "poison" : id % 7 == 0 ? "fail-item" : "click", id);
      size_t cap = 6 * (strlen(s->id) + strlen(data)) + strlen(seq) + 160, w;
      char *line = xmalloc(cap);
      w = (size_t)snprintf(line, cap, "{\"shard\":");
      w += put_json_string(line + w, s->id);
      w += (size_t)snprintf(line + w, cap - w,
                            ",\"seq\":\"%s\",\"partitionKey\":\"%s\",\"arrival_ms\":%lld,\"data\":",
                            seq, pk, (long long)arrival);
      w += put_json_string(line + w, data);
      w += (size_t)snprintf(line + w, cap - w, "}\n");
      int failed = write_all(fd, line, w);
      free(line);
      if (failed) {
        int err = errno;
        int undone = ftruncate(fd, before) == 0;
        fprintf(stderr, "demo: %s: appending records: %s; %s\n", d->stream_path, strerror(err),
                undone ? "the file is back as it was before this run"
                       : "and truncating it back failed: remove its incomplete last line");
        free(seq);
        close(fd);
        return -1;
      }
      rec r = {seq, xstrdup(pk), (uint8_t *)xstrdup(data), strlen(data), arrival, 0};
      push_record(d, s, r);
      s->appended++;
      arrival += 250;
    }
  }
  if (close(fd)) {
    fprintf(stderr, "demo: %s: %s\n", d->stream_path, strerror(errno));
    return -1;
  }
  return 0;
}

static void build_views(demo *d) {
  for (size_t i = 0; i < d->nshards; i++) {
    shard *s = &d->shards[i];
    s->views = calloc(s->n ? s->n : 1, sizeof *s->views);
    if (!s->views) {
      fprintf(stderr, "demo: out of memory\n");
      exit(1);
    }
    for (size_t j = 0; j < s->n; j++) {
      bp_record *v = &s->views[j];
      bp_record_init(v, sizeof *v);
      v->seq = s->recs[j].seq;
      v->seq_len = strlen(s->recs[j].seq);
      v->arrival_ms = s->recs[j].arrival_ms;
      v->partition_key = s->recs[j].pk;
      v->partition_key_len = strlen(s->recs[j].pk);
      v->data = s->recs[j].data;
      v->data_len = s->recs[j].data_len;
      v->flags = s->recs[j].flags;
    }
  }
}

/* ---- the transport: fetch ------------------------------------------------------------ */

static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  demo *d = ud;
  shard *s = find_shard(d, q->shard_id);
  if (!s) return BP_ERR_CALLBACK_FAILURE;
  size_t from = 0;
  switch (q->from) {
  case BP_POSITION_TRIM_HORIZON:
    from = 0;
    break;
  case BP_POSITION_LATEST:
    from = s->n;
    break;
  case BP_POSITION_AT_TIMESTAMP:
    while (from < s->n && s->recs[from].arrival_ms < q->timestamp_ms) from++;
    break;
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    for (from = 0; from < s->n; from++) {
      int cmp = 0;
      if (bp_seqnum_compare(s->views[from].seq, s->views[from].seq_len, q->after_seq,
                            q->after_seq_len, &cmp))
        return BP_ERR_CALLBACK_FAILURE;
      if (cmp > 0) break;
    }
    break;
  case BP_POSITION_CONTINUE:
    from = s->next;
    break;
  default:
    return BP_ERR_CALLBACK_FAILURE;
  }
  /* At most max_records; keep to the advisory byte budget, but always hand one over. */
  size_t k = 0;
  uint64_t bytes = 0;
  while (from + k < s->n && k < q->max_records) {
    uint64_t size = s->views[from + k].data_len + s->views[from + k].seq_len + 64;
    if (k && bytes + size > q->max_bytes) break;
    bytes += size;
    k++;
  }
  uint32_t flags = s->closed && from + k == s->n ? BP_FETCH_SHARD_END : 0;
  s->next = from + k;
  s->fetched = 1;
  int rc = bp_engine_complete_fetch(e, q->req_id, d->now, 0, s->views + from, k, flags);
  if (rc) {
    fprintf(stderr, "demo: complete_fetch(%s): %s: %s\n", s->id, bp_err_name(rc),
            bp_engine_errmsg(e));
    d->errors++;
  }
  return 0;
}

/* ---- the transport: invoke (the function) -------------------------------------------- */

/* The function: "poison" anywhere fails the batch; "fail-item" records are reported. */
static void run_function(const bp_invoke_req *q, pending *p) {
  size_t failed = 0, cap = 64;
  char sbuf[16];
  for (size_t i = 0; i < q->count; i++) {
    const bp_record *r = BP_RECORD_AT(q->records, q->record_stride, i);
    const uint8_t *data = r->data;
    size_t len = r->data_len;
    uint8_t *decoded = NULL;
    if (r->flags & BP_RECORD_DATA_BASE64) {
      decoded = xmalloc(len);
      if (bp_base64_decode((const char *)r->data, len, decoded, len, &len)) len = 0;
      data = decoded;
    }
    int poison = has_word(data, len, "poison"), fail = has_word(data, len, "fail-item");
    free(decoded);
    if (poison) {
      p->res.kind = BP_INVOKE_RESULT_ERROR;
      p->res.function_error = "Unhandled";
      p->res.function_error_len = strlen("Unhandled");
      snprintf(p->why, sizeof p->why, "poison in %s",
               seq_short(r->seq, r->seq_len, sbuf, sizeof sbuf));
      free(p->body);
      p->body = NULL;
      p->res.body = NULL;
      p->res.body_len = 0;
      return;
    }
    if (fail) {
      if (!p->body) {
        for (size_t j = 0; j < q->count; j++)
          cap += BP_RECORD_AT(q->records, q->record_stride, j)->seq_len + 24;
        p->body = xmalloc(cap);
        strcpy(p->body, "{\"batchItemFailures\":[");
        snprintf(p->why, sizeof p->why, "reports %s",
                 seq_short(r->seq, r->seq_len, sbuf, sizeof sbuf));
      } else {
        size_t w = strlen(p->why);
        snprintf(p->why + w, sizeof p->why - w, ",%s",
                 seq_short(r->seq, r->seq_len, sbuf, sizeof sbuf));
      }
      size_t w = strlen(p->body);
      snprintf(p->body + w, cap - w, "%s{\"itemIdentifier\":\"%.*s\"}", failed ? "," : "",
               (int)r->seq_len, r->seq);
      failed++;
    }
  }
  if (p->body) {
    strcat(p->body, "]}");
    p->res.body = p->body;
    p->res.body_len = strlen(p->body);
  }
}

static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  demo *d = ud;
  (void)e;
  if (d->npend == d->pend_cap) {
    d->pend_cap = d->pend_cap ? 2 * d->pend_cap : 16;
    d->pend = realloc(d->pend, d->pend_cap * sizeof *d->pend);
    if (!d->pend) return BP_ERR_CALLBACK_FAILURE;
  }
  pending *p = &d->pend[d->npend++];
  memset(p, 0, sizeof *p);
  bp_invoke_result_init(&p->res, sizeof p->res);
  p->req_id = q->req_id;
  p->due_ms = d->now + 50 + (int64_t)(q->payload_len / 100000);
  d->invocations++;
  /* A request id per invocation, distinct across runs (the stream only grows). */
  snprintf(p->request_id, sizeof p->request_id, "%08zx-0000-4000-8000-%012llx",
           d->total_records, (unsigned long long)d->invocations);
  p->res.request_id = p->request_id;
  p->res.request_id_len = strlen(p->request_id);
  run_function(q, p);
  return 0;
}

/* The pending invocation due first (ties: the older request), or NULL. */
static pending *next_pending(demo *d) {
  pending *best = NULL;
  for (size_t i = 0; i < d->npend; i++)
    if (!best || d->pend[i].due_ms < best->due_ms ||
        (d->pend[i].due_ms == best->due_ms && d->pend[i].req_id < best->req_id))
      best = &d->pend[i];
  return best;
}

static int complete_due(demo *d) {
  pending *p;
  while ((p = next_pending(d)) && p->due_ms <= d->now) {
    pending done = *p;
    *p = d->pend[--d->npend];
    done.res.request_id = done.request_id; /* the copy's own buffer */
    d->completing = &done;
    int rc = bp_engine_complete_invoke(d->e, done.req_id, d->now, &done.res);
    d->completing = NULL;
    free(done.body);
    if (rc) {
      fprintf(stderr, "demo: complete_invoke: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(d->e));
      return -1;
    }
  }
  return 0;
}

/* ---- the transport: deliver (the SQS queue is a file) --------------------------------- */

static int on_deliver(bp_engine *e, const bp_delivery_req *q, void *ud) {
  demo *d = ud;
  int status = 0;
  FILE *f = fopen(d->failures_path, "a");
  if (!f || fwrite(q->record_json, 1, q->record_json_len, f) != q->record_json_len ||
      fputc('\n', f) == EOF)
    status = -1;
  if (f && fclose(f)) status = -1;
  if (status) fprintf(stderr, "demo: %s: %s\n", d->failures_path, strerror(errno));
  else d->failures_written++;
  /* What a person wants to see of the record: the ids and the verdict. */
  char err[128], first[16], last[16];
  const bp_record *r0 = BP_RECORD_AT(q->records, q->record_stride, 0);
  const bp_record *rn = BP_RECORD_AT(q->records, q->record_stride, q->count - 1);
  yajl_val v = yajl_tree_parse(q->record_json, err, sizeof err);
  const char *rid = v ? str_at(v, "requestContext", "requestId") : NULL;
  const char *fe_path[] = {"responseContext", "functionError", NULL};
  yajl_val fe = v ? yajl_tree_get(v, fe_path, yajl_t_any) : NULL;
  const char *ferr = fe && YAJL_IS_STRING(fe) ? YAJL_GET_STRING(fe) : fe ? "null" : "(none)";
  say(d, d->now, q->shard_id, (int)q->lane,
      "  on-failure record -> %s: %s, batchSize %zu (%s..%s), approximateInvokeCount %u, "
      "functionError %s, requestId %s",
      status ? "NOT delivered" : "failures.ndjson",
      q->condition == BP_CONDITION_RECORD_AGE_EXCEEDED ? "RecordAgeExceeded"
                                                       : "RetryAttemptsExhausted",
      q->count, seq_short(r0->seq, r0->seq_len, first, sizeof first),
      seq_short(rn->seq, rn->seq_len, last, sizeof last),
      q->approximate_invoke_count, ferr, rid ? rid : "?");
  yajl_tree_free(v);
  int rc = bp_engine_complete_delivery(e, q->req_id, d->now, status);
  if (rc) {
    fprintf(stderr, "demo: complete_delivery: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(e));
    d->errors++;
  }
  return 0;
}

/* ---- events: the trace ----------------------------------------------------------------- */

static const char *from_name(int64_t from) {
  switch (from) {
  case BP_POSITION_TRIM_HORIZON: return "TRIM_HORIZON";
  case BP_POSITION_LATEST: return "LATEST";
  case BP_POSITION_AT_TIMESTAMP: return "AT_TIMESTAMP";
  case BP_POSITION_AFTER_SEQUENCE_NUMBER: return "after its checkpoint";
  case BP_POSITION_CONTINUE: return "where it left off";
  default: return "?";
  }
}

/* A batch shorter than BatchSize whose lane's next buffered record would have pushed the
 * event past 6 MB was cut by the payload limit: say so, with the size it would have had. */
static void cut_note(demo *d, const bp_engine_event *ev, char *note, size_t cap) {
  shard *s = ev->shard_id ? find_shard(d, ev->shard_id) : NULL;
  if (!s || !d->codec || ev->count >= d->batch_size || !ev->last_seq) return;
  size_t i = 0;
  while (i < s->n && (s->views[i].seq_len != ev->last_seq_len ||
                      memcmp(s->views[i].seq, ev->last_seq, ev->last_seq_len)))
    i++;
  for (i++; i < s->next; i++) {
    if (bp_lane_of(s->views[i].partition_key, s->views[i].partition_key_len,
                   d->parallelization) != (int)ev->lane)
      continue;
    size_t size;
    char with[32];
    if (!bp_codec_record_size(d->codec, s->id, &s->views[i], &size) &&
        (uint64_t)ev->value + 1 + size > BP_MAX_EVENT_BYTES)
      snprintf(note, cap, "  (6 MB cut: with the next record, %s bytes)",
               grouped((unsigned long long)ev->value + 1 + size, with, sizeof with));
    return;
  }
}

static int on_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  demo *d = ud;
  (void)e;
  char a[16], b[16];
  const char *sid = ev->shard_id;
  int lane = (int)ev->lane;
  switch (ev->type) {
  case BP_EVENT_SHARD_STARTED:
    say(d, ev->now_ms, sid, -1, "started, reading from %s", from_name(ev->value));
    break;
  case BP_EVENT_FETCH:
    if (ev->value) say(d, ev->now_ms, sid, -1, "fetch failed: %s", bp_err_name((int)ev->value));
    else if (ev->count) say(d, ev->now_ms, sid, -1, "fetched %llu records", (unsigned long long)ev->count);
    break;
  case BP_EVENT_INVOKE: {
    char bytes[32], note[96] = "";
    cut_note(d, ev, note, sizeof note);
    say(d, ev->now_ms, sid, lane, "invoke   %s..%s  %3llu record%s  attempt %lld  %s bytes%s",
        seq_short(ev->first_seq, ev->first_seq_len, a, sizeof a),
        seq_short(ev->last_seq, ev->last_seq_len, b, sizeof b), (unsigned long long)ev->count,
        ev->count == 1 ? " " : "s", (long long)ev->detail,
        grouped((unsigned long long)ev->value, bytes, sizeof bytes), note);
    break;
  }
  case BP_EVENT_OUTCOME: {
    const char *why = d->completing && d->completing->why[0] ? d->completing->why : "";
    switch (ev->detail) {
    case BP_ATTEMPT_SUCCESS:
      say(d, ev->now_ms, sid, lane, "  success");
      break;
    case BP_ATTEMPT_PARTIAL:
      if (ev->value)
        say(d, ev->now_ms, sid, lane,
            "  partial failure at record %lld of %llu (%s): the %lld before it are done, "
            "the rest is retried",
            (long long)ev->value + 1, (unsigned long long)ev->count, why, (long long)ev->value);
      else
        say(d, ev->now_ms, sid, lane,
            "  partial failure at its first record (%s): no progress, a failed attempt", why);
      break;
    case BP_ATTEMPT_RETURNED_FAILED:
      say(d, ev->now_ms, sid, lane, "  returned, but the response fails the whole batch (%s)", why);
      break;
    case BP_ATTEMPT_FUNCTION_ERROR:
      say(d, ev->now_ms, sid, lane, "  function error: Unhandled (%s)", why);
      break;
    case BP_ATTEMPT_NOT_REACHED:
      say(d, ev->now_ms, sid, lane, "  throttled");
      break;
    default:
      say(d, ev->now_ms, sid, lane, "  outcome %d", (int)ev->detail);
    }
    break;
  }
  case BP_EVENT_BACKOFF:
    say(d, ev->now_ms, sid, lane, "  backoff: next attempt at %+.3fs",
        (double)(ev->value - d->t0) / 1000.0);
    break;
  case BP_EVENT_SPLIT:
    say(d, ev->now_ms, sid, lane, "  bisect: the older half %s..%s (%llu record%s) goes first",
        seq_short(ev->first_seq, ev->first_seq_len, a, sizeof a),
        seq_short(ev->last_seq, ev->last_seq_len, b, sizeof b), (unsigned long long)ev->count,
        ev->count == 1 ? "" : "s");
    break;
  case BP_EVENT_DISCARD:
    say(d, ev->now_ms, sid, lane, "DISCARD  %s..%s  %3llu record%s  after %lld invocation%s (%s)",
        seq_short(ev->first_seq, ev->first_seq_len, a, sizeof a),
        seq_short(ev->last_seq, ev->last_seq_len, b, sizeof b), (unsigned long long)ev->count,
        ev->count == 1 ? " " : "s", (long long)ev->value, ev->value == 1 ? "" : "s",
        ev->detail == BP_CONDITION_RECORD_AGE_EXCEEDED ? "RecordAgeExceeded"
                                                       : "RetryAttemptsExhausted");
    break;
  case BP_EVENT_CHECKPOINT:
    say(d, ev->now_ms, sid, -1, "checkpoint -> %s",
        seq_short(ev->first_seq, ev->first_seq_len, a, sizeof a));
    break;
  case BP_EVENT_CHECKPOINT_STORED:
    if (ev->value) say(d, ev->now_ms, sid, -1, "checkpoint NOT stored: %s", bp_err_name((int)ev->value));
    break;
  case BP_EVENT_DELIVERY:
    if (ev->value) say(d, ev->now_ms, sid, lane, "  delivery failed: %s", bp_err_name((int)ev->value));
    break;
  case BP_EVENT_SHARD_ENDED:
    say(d, ev->now_ms, sid, -1, "ended: read to SHARD_END, every record resolved, last checkpoint stored");
    break;
  case BP_EVENT_ERROR:
    fprintf(stderr, "demo: engine error%s%s: %s (%s)\n", sid ? " on " : "", sid ? sid : "",
            ev->message ? ev->message : "?", bp_err_name((int)ev->value));
    d->errors++;
    break;
  case BP_EVENT_DRAINED:
    say(d, ev->now_ms, NULL, -1, "drained: nothing in flight, every checkpoint stored");
    break;
  default: /* metrics: the totals are printed at the end */
    break;
  }
  return 0;
}

/* ---- the run --------------------------------------------------------------------------- */

/* Every shard read to its end (closed ones ended) and nothing left to do. */
static int stream_done(demo *d) {
  if (d->npend || !bp_engine_idle(d->e)) return 0;
  for (size_t i = 0; i < d->nshards; i++) {
    shard *s = &d->shards[i];
    if (!s->added) continue;
    int st = bp_engine_get_shard_state(d->e, s->id);
    if (st == BP_SHARD_ENDED) continue;
    if (st != BP_SHARD_ACTIVE || s->closed || !s->fetched || s->next != s->n) return 0;
  }
  return 1;
}

static int run(demo *d) {
  for (unsigned long iter = 0;; iter++) {
    if (iter > 1000000 || d->now - d->t0 > 24 * 3600 * 1000LL) {
      fprintf(stderr, "demo: the engine did not settle\n");
      return -1;
    }
    if (complete_due(d)) return -1;
    int rc = bp_engine_tick(d->e, d->now);
    if (rc) {
      fprintf(stderr, "demo: tick: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(d->e));
      return -1;
    }
    if (d->errors) return -1;
    if (!d->draining && stream_done(d)) {
      say(d, d->now, NULL, -1, "every shard read to its end and nothing in flight: shutting down");
      d->draining = 1;
      if ((rc = bp_engine_shutdown(d->e, d->now))) {
        fprintf(stderr, "demo: shutdown: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(d->e));
        return -1;
      }
    }
    if (d->draining && bp_engine_drained(d->e)) return d->errors ? -1 : 0;
    int64_t next = bp_engine_next_deadline(d->e);
    pending *p = next_pending(d);
    if (p && p->due_ms < next) next = p->due_ms;
    if (next == BP_NO_DEADLINE) {
      fprintf(stderr, "demo: the engine waits for nothing, yet is not done\n");
      return -1;
    }
    if (next > d->now) d->now = next;
  }
}

static void print_summary(demo *d) {
  char name[48], seq[BP_STORE_SEQ_CAP], err[256];
  printf("\nstored checkpoints (the file store in %s):\n", d->ckpt_dir);
  for (size_t i = 0; i < d->nshards; i++) {
    size_t len;
    int rc = bp_store_load(bp_file_store_ops(), d->fs, MAPPING_UUID, d->shards[i].id, seq,
                           sizeof seq, &len, err, sizeof err);
    printf("  %-9s %s\n", shard_name(d->shards[i].id, name, sizeof name),
           rc == 0 ? seq : rc == BP_STORE_NOT_FOUND ? "(none)" : err);
  }
  printf("\non-failure records: %s (%zu appended by this run)\n", d->failures_path,
         d->failures_written);
  bp_engine_metrics m = BP_ENGINE_METRICS_INIT;
  if (!bp_engine_get_metrics(d->e, NULL, &m)) {
    printf("\ntotals (bp_engine_get_metrics):\n"
           "  PolledEventCount %llu, InvokedEventCount %llu, FailedInvokeEventCount %llu,\n"
           "  OnFailureDestinationDeliveredEventCount %llu, DroppedEventCount %llu, "
           "DestinationDeliveryFailures %llu,\n"
           "  invocations %llu, throttled %llu, fetches %llu, checkpoints stored %llu, "
           "IteratorAge %lld ms\n",
           (unsigned long long)m.polled_event_count, (unsigned long long)m.invoked_event_count,
           (unsigned long long)m.failed_invoke_event_count,
           (unsigned long long)m.on_failure_destination_delivered_event_count,
           (unsigned long long)m.dropped_event_count,
           (unsigned long long)m.destination_delivery_failures,
           (unsigned long long)m.invocations, (unsigned long long)m.throttled_attempts,
           (unsigned long long)m.fetches, (unsigned long long)m.checkpoints_stored,
           (long long)m.iterator_age_ms);
  }
}

/* Delete what earlier runs left (the stream, the failures, the checkpoint files). */
static void fresh(demo *d) {
  unlink(d->stream_path);
  unlink(d->failures_path);
  DIR *dir = opendir(d->ckpt_dir);
  if (!dir) return;
  struct dirent *de;
  char path[1400];
  while ((de = readdir(dir)))
    if (!strncmp(de->d_name, "bp.", 3)) {
      snprintf(path, sizeof path, "%s/%s", d->ckpt_dir, de->d_name);
      unlink(path);
    }
  closedir(dir);
}

static void free_demo(demo *d) {
  for (size_t i = 0; i < d->nshards; i++) {
    shard *s = &d->shards[i];
    for (size_t j = 0; j < s->n; j++) {
      free(s->recs[j].seq);
      free(s->recs[j].pk);
      free(s->recs[j].data);
    }
    free(s->recs);
    free(s->views);
    free(s->id);
    free(s->parent);
  }
  free(d->shards);
  for (size_t i = 0; i < d->npend; i++) free(d->pend[i].body);
  free(d->pend);
}

static int usage(void) {
  fprintf(stderr, "usage: demo [--dir DIR] [--seed FILE.ndjson] [--append N] [--batch-size 1..10000]\n"
                  "            [--parallelization 1..10] [--fresh] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  demo d;
  memset(&d, 0, sizeof d);
  d.dir = "build/demo";
  d.batch_size = 4;
  d.parallelization = 2;
  const char *seed = "examples/records.ndjson";
  long append = 3;
  int wipe = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--fresh")) wipe = 1;
    else if (!strcmp(a, "--quiet")) d.quiet = 1;
    else if (!val) return usage();
    else if (!strcmp(a, "--dir")) d.dir = val, i++;
    else if (!strcmp(a, "--seed")) seed = val, i++;
    else if (!strcmp(a, "--append")) append = atol(val), i++;
    else if (!strcmp(a, "--batch-size")) d.batch_size = (uint32_t)atol(val), i++;
    else if (!strcmp(a, "--parallelization")) d.parallelization = atoi(val), i++;
    else return usage();
  }
  if (append < 0 || append > 1000 || d.batch_size < 1 || d.batch_size > 10000 ||
      d.parallelization < 1 || d.parallelization > 10 || strlen(d.dir) > 900)
    return usage();
  snprintf(d.stream_path, sizeof d.stream_path, "%s/stream.ndjson", d.dir);
  snprintf(d.failures_path, sizeof d.failures_path, "%s/failures.ndjson", d.dir);
  snprintf(d.ckpt_dir, sizeof d.ckpt_dir, "%s/checkpoints", d.dir);
  if (mkdir_p(d.ckpt_dir)) {
    fprintf(stderr, "demo: cannot create %s: %s\n", d.ckpt_dir, strerror(errno));
    return 1;
  }
  if (wipe) fresh(&d);

  /* The stream: seeded on the first run, then a few new records per open shard. */
  int first_run = access(d.stream_path, F_OK) != 0;
  if (first_run && copy_file(seed, d.stream_path)) {
    fprintf(stderr, "demo: cannot copy %s to %s: %s\n", seed, d.stream_path, strerror(errno));
    return 1;
  }
  if (load_stream(&d) || append_records(&d, (unsigned)append)) {
    free_demo(&d);
    return 1;
  }
  build_views(&d);

  /* The clock starts a second after the newest record arrived, before the first engine call. */
  for (size_t i = 0; i < d.nshards; i++)
    for (size_t j = 0; j < d.shards[i].n; j++)
      if (d.shards[i].recs[j].arrival_ms > d.t0) d.t0 = d.shards[i].recs[j].arrival_ms;
  d.t0 += 1000;
  d.now = d.t0;

  /* The mapping, as a CreateEventSourceMapping request. */
  char json[1024];
  snprintf(json, sizeof json,
           "{\"EventSourceArn\": \"" STREAM_ARN "\",\n"
           " \"FunctionName\": \"" FUNCTION_ARN "\",\n"
           " \"StartingPosition\": \"TRIM_HORIZON\", \"BatchSize\": %u, "
           "\"ParallelizationFactor\": %d,\n"
           " \"MaximumRetryAttempts\": 1, \"BisectBatchOnFunctionError\": true,\n"
           " \"FunctionResponseTypes\": [\"ReportBatchItemFailures\"],\n"
           " \"DestinationConfig\": {\"OnFailure\": {\"Destination\": \"" QUEUE_ARN "\"}}}",
           d.batch_size, d.parallelization);
  bp_config *cfg = NULL;
  char err[512];
  if (bp_config_new(&cfg, NULL) || bp_config_parse_json(cfg, json, strlen(json))) {
    fprintf(stderr, "demo: configuration: %s\n", bp_config_errmsg(cfg));
    bp_config_del(cfg);
    free_demo(&d);
    return 1;
  }
  if (bp_file_store_new(&d.fs, d.ckpt_dir, NULL, err, sizeof err)) {
    fprintf(stderr, "demo: file store: %s\n", err);
    bp_config_del(cfg);
    free_demo(&d);
    return 1;
  }
  bp_codec_opts copts = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, STREAM_ARN, NULL, ROLE_ARN, FUNCTION_ARN};
  if (bp_codec_new(&d.codec, &copts, NULL)) d.codec = NULL; /* only the 6 MB note needs it */
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = ROLE_ARN;
  opts.mapping_uuid = MAPPING_UUID;
  opts.seed = 2024;
  opts.store = bp_file_store_ops();
  opts.store_user_data = d.fs;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = on_fetch;
  tr.invoke = on_invoke;
  tr.deliver = on_deliver;
  tr.on_event = on_event; /* store_checkpoint NULL: the engine saves through opts.store */
  int rc = bp_engine_new(&d.e, cfg, &opts, &tr, &d, NULL, err, sizeof err);
  bp_config_del(cfg);
  /* The engine learns the time from driving calls; bp_engine_add_shard() takes none, so a
   * first tick (nothing to do yet) sets it, and the shards start at t0, not at time 0. */
  if (!rc && (rc = bp_engine_tick(d.e, d.now)))
    snprintf(err, sizeof err, "%s", bp_engine_errmsg(d.e));
  if (rc) {
    fprintf(stderr, "demo: engine: %s: %s\n", bp_err_name(rc), err);
    bp_file_store_del(d.fs);
    free_demo(&d);
    return 1;
  }

  printf("batchpoint %s demo: %s run over %s (%zu records in %zu shards, %s)\n",
         bp_version_string(), first_run ? "first" : "another", d.stream_path, d.total_records,
         d.nshards, append ? "new ones appended" : "nothing appended");
  printf("mapping:\n%s\n", json);
  printf("sequence numbers are shown by their last %d digits; times are simulated, from %lld ms\n\n",
         SEQ_SHOWN, (long long)d.t0);

  /* Shards, parents first. A parent whose checkpoint is gone while a child has one was
   * finished earlier (as if aged out of the stream): it is not read again. */
  rc = 0;
  for (size_t added = 0, pass = 0; !rc && added < d.nshards && pass <= d.nshards; pass++) {
    for (size_t i = 0; !rc && i < d.nshards; i++) {
      shard *s = &d.shards[i];
      shard *parent = s->parent ? find_shard(&d, s->parent) : NULL;
      if (s->added || (parent && !parent->added)) continue;
      char seq[BP_STORE_SEQ_CAP], name[48], pname[48], a[16];
      size_t len = 0;
      int found = bp_store_load(bp_file_store_ops(), d.fs, MAPPING_UUID, s->id, seq, sizeof seq,
                                &len, err, sizeof err);
      if (found < 0) {
        fprintf(stderr, "demo: checkpoint of %s: %s\n", s->id, err);
        rc = -1;
        break;
      }
      int child_has_one = 0;
      for (size_t j = 0; j < d.nshards; j++) {
        char tmp[BP_STORE_SEQ_CAP];
        size_t tl;
        if (d.shards[j].parent && !strcmp(d.shards[j].parent, s->id) &&
            bp_store_load(bp_file_store_ops(), d.fs, MAPPING_UUID, d.shards[j].id, tmp,
                          sizeof tmp, &tl, NULL, 0) == 0)
          child_has_one = 1;
      }
      s->added = 1; /* also when skipped: it no longer holds up its children */
      added++;
      if (found == BP_STORE_NOT_FOUND && child_has_one) {
        say(&d, d.now, s->id, -1, "finished on an earlier run (its children have checkpoints)");
        continue;
      }
      if (found == 0 && s->closed)
        printf("%s: resuming after %s (closed: only its end remains to be seen)\n",
               shard_name(s->id, name, sizeof name), seq_short(seq, len, a, sizeof a));
      else if (found == 0)
        printf("%s: resuming after %s (%zu new record%s since)\n",
               shard_name(s->id, name, sizeof name), seq_short(seq, len, a, sizeof a),
               s->appended, s->appended == 1 ? "" : "s");
      else
        printf("%s: no checkpoint yet, starting at TRIM_HORIZON%s%s\n",
               shard_name(s->id, name, sizeof name), parent ? " after its parent " : "",
               parent ? shard_name(parent->id, pname, sizeof pname) : "");
      int arc = bp_engine_add_shard(d.e, s->id, s->parent, NULL, NULL, 0);
      if (arc) {
        fprintf(stderr, "demo: add_shard(%s): %s: %s\n", s->id, bp_err_name(arc),
                bp_engine_errmsg(d.e));
        rc = -1;
      }
    }
  }
  for (size_t i = 0; !rc && i < d.nshards; i++)
    if (!d.shards[i].added) { /* its parent is not a shard of the file: start it anyway */
      d.shards[i].added = 1;
      rc = bp_engine_add_shard(d.e, d.shards[i].id, d.shards[i].parent, NULL, NULL, 0) ? -1 : 0;
    }
  putchar('\n');
  if (!rc) rc = run(&d);
  if (!rc) print_summary(&d);
  bp_engine_del(d.e);
  bp_file_store_del(d.fs);
  bp_codec_del(d.codec);
  free_demo(&d);
  if (rc) fprintf(stderr, "demo: failed\n");
  return rc ? 1 : 0;
}
