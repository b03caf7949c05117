/* SPDX-License-Identifier: MIT */
/*
 * async_host: a batchpoint host whose work is done by another thread. The engine's callbacks
 * only copy the request into a job queue and return; a worker thread does the "I/O" (reads
 * the in-memory shard, runs the function) and posts each answer to a completion queue the
 * host owns; the main loop sleeps until the engine's next deadline or an answer arrives,
 * whichever comes first, on the real clock, then makes the completions and ticks.
 *
 * Why completions are made by the loop thread and never by the worker: an engine is used by
 * one thread at a time (bp_engine.h), so only the thread that ticks may touch it. The
 * worker never sees the engine; queues and one mutex are all it shares with the loop.
 *
 * A dozen records on one shard over two lanes (ParallelizationFactor 2); the function
 * reports one record in batchItemFailures the first time it sees it. Exits 0 only if the
 * final checkpoint is the shard's last record.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <batchpoint.h>
#include <batchpoint/bp_engine.h>

#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/clicks"
#define FUNCTION_ARN "arn:aws:lambda:us-east-1:111111111111:function:clicks"
#define SHARD "shardId-000000000000"
#define NREC 12
#define FLAKY 4 /* the record the function fails once */
#define QCAP 8  /* per queue; the engine has at most a fetch and two invocations in flight */
#define MAX_BATCH 4

enum { JOB_FETCH, JOB_INVOKE };

/* A request copied out of its callback (the engine's pointers die when it returns), and
 * later the worker's answer to it. */
typedef struct job {
  int kind;
  uint64_t req_id;
  uint32_t lane, attempt;
  int32_t from;              /* fetch: BP_POSITION_* (TRIM_HORIZON, AFTER_SEQ, CONTINUE) */
  char after[32];            /* fetch: after_seq */
  size_t first, n;           /* fetch answer: records [first, first + n) */
  size_t count;              /* invoke: the batch */
  char seq[MAX_BATCH][32];
  char body[256];            /* invoke answer: the function's response */
} job;

typedef struct queue {
  job jobs[QCAP];
  size_t head, len;
} queue;

typedef struct host {
  char seq[NREC][32], data[NREC][32];
  bp_record recs[NREC];  /* the stream; read-only once the threads run */
  pthread_mutex_t mu;    /* guards both queues and stop */
  pthread_cond_t to_worker, to_loop;
  queue work, done;
  int stop;
  size_t next;           /* worker only: where a CONTINUE read goes on */
  int flaky_failed;      /* worker only */
  int64_t t0;
} host;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts); /* the engine's time is epoch ms */
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int push(queue *q, const job *j) {
  if (q->len == QCAP) return -1;
  q->jobs[(q->head + q->len++) % QCAP] = *j;
  return 0;
}

static int pop(queue *q, job *out) {
  if (!q->len) return 0;
  *out = q->jobs[q->head];
  q->head = (q->head + 1) % QCAP;
  q->len--;
  return 1;
}

/* Callbacks (loop thread): copy the request, hand it to the worker, return at once. */
static int enqueue(host *h, const job *j) {
  pthread_mutex_lock(&h->mu);
  int full = push(&h->work, j);
  pthread_cond_signal(&h->to_worker);
  pthread_mutex_unlock(&h->mu);
  return full ? BP_ERR_WOULDBLOCK : 0; /* full: the engine asks again a little later */
}

static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  (void)e;
  job j = {.kind = JOB_FETCH, .req_id = q->req_id, .from = q->from, .n = q->max_records};
  if (q->after_seq) snprintf(j.after, sizeof j.after, "%.*s", (int)q->after_seq_len, q->after_seq);
  return enqueue(ud, &j);
}

static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  (void)e;
  job j = {.kind = JOB_INVOKE, .req_id = q->req_id, .lane = q->lane, .attempt = q->attempt};
  for (size_t i = 0; i < q->count && i < MAX_BATCH; i++, j.count++) {
    const bp_record *r = BP_RECORD_AT(q->records, q->record_stride, i);
    snprintf(j.seq[i], sizeof j.seq[i], "%.*s", (int)r->seq_len, r->seq);
  }
  return enqueue(ud, &j);
}

/* Worker thread: the slow part. Reads the shard or runs the function, posts the answer. */
static void work(host *h, job *j) {
  struct timespec io = {0, 5 * 1000000}; /* 5 ms of "network" */
  nanosleep(&io, NULL);
  if (j->kind == JOB_FETCH) {
    int cmp = 0;
    j->first = j->from == BP_POSITION_CONTINUE ? h->next : 0;
    while (j->from == BP_POSITION_AFTER_SEQUENCE_NUMBER && j->first < NREC &&
           !bp_seqnum_compare(h->seq[j->first], strlen(h->seq[j->first]), j->after,
                              strlen(j->after), &cmp) && cmp <= 0)
      j->first++;
    if (j->n > NREC - j->first) j->n = NREC - j->first;
    h->next = j->first + j->n;
    return;
  }
  strcpy(j->body, "{\"batchItemFailures\":[]}");
  for (size_t i = 0; i < j->count; i++)
    if (!h->flaky_failed && !strcmp(j->seq[i], h->seq[FLAKY])) {
      h->flaky_failed = 1;
      snprintf(j->body, sizeof j->body,
               "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", j->seq[i]);
    }
}

static void *worker(void *arg) {
  host *h = arg;
  job j;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->stop && !pop(&h->work, &j)) pthread_cond_wait(&h->to_worker, &h->mu);
    if (h->stop) break;
    pthread_mutex_unlock(&h->mu);
    work(h, &j);
    pthread_mutex_lock(&h->mu);
    push(&h->done, &j); /* never full: each done job was a work job, both QCAP deep */
    pthread_cond_signal(&h->to_loop);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* Loop thread: wait until @p deadline (epoch ms) or until an answer is posted. */
static int wait_answer(host *h, int64_t deadline, job *out) {
  if (deadline > now_ms() + 1000) deadline = now_ms() + 1000; /* also BP_NO_DEADLINE */
  struct timespec until = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000};
  pthread_mutex_lock(&h->mu);
  int got;
  /* The condvar's default clock is CLOCK_REALTIME, the same as now_ms(). */
  while (!(got = pop(&h->done, out)) &&
         pthread_cond_timedwait(&h->to_loop, &h->mu, &until) == 0) {
  }
  pthread_mutex_unlock(&h->mu);
  return got;
}

/* Loop thread: make the completion. Outside any callback, the engine acts on it at once. */
static int complete(bp_engine *e, host *h, const job *j) {
  int64_t now = now_ms();
  if (j->kind == JOB_FETCH) return bp_engine_complete_fetch(e, j->req_id, now, 0,
                                                            h->recs + j->first, j->n, 0);
  printf("%+6lldms  lane %u  invoke %s..%s (%zu)  attempt %u  -> %s\n",
         (long long)(now - h->t0), j->lane, j->seq[0], j->seq[j->count - 1], j->count,
         j->attempt, j->body);
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  res.kind = BP_INVOKE_RESULT_RETURNED;
  res.body = j->body;
  res.body_len = strlen(j->body);
  return bp_engine_complete_invoke(e, j->req_id, now, &res);
}

int main(void) {
  static host h; /* static: large, and zeroed */
  h.t0 = now_ms();
  for (int i = 0; i < NREC; i++) {
    snprintf(h.seq[i], sizeof h.seq[i], "4970000000000000000000%04d", 10 * (i + 1));
    snprintf(h.data[i], sizeof h.data[i], "{\"click\":%d}", i);
    bp_record *r = &h.recs[i];
    bp_record_init(r, sizeof *r);
    r->seq = h.seq[i];
    r->seq_len = strlen(h.seq[i]);
    r->arrival_ms = h.t0 - 1000;
    r->partition_key = i % 3 ? "visitor-a" : "visitor-b"; /* two keys: both lanes busy */
    r->partition_key_len = strlen(r->partition_key);
    r->data = (const uint8_t *)h.data[i];
    r->data_len = strlen(h.data[i]);
  }
  bp_config *cfg = NULL;
  if (bp_config_new(&cfg, NULL) ||
      bp_config_set_event_source_arn(cfg, STREAM_ARN, strlen(STREAM_ARN)) ||
      bp_config_set_function_name(cfg, FUNCTION_ARN, strlen(FUNCTION_ARN)) ||
      bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON) ||
      bp_config_set_batch_size(cfg, MAX_BATCH) || bp_config_set_parallelization_factor(cfg, 2) ||
      bp_config_set_report_batch_item_failures(cfg, 1)) {
    fprintf(stderr, "async_host: config: %s\n", bp_config_errmsg(cfg));
    return 1;
  }
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = "arn:aws:iam::111111111111:role/clicks-role";
  opts.poll_interval_ms = 50; /* short waits (empty reads, retries): the example is quick */
  opts.backoff_base_ms = 100;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = on_fetch;
  tr.invoke = on_invoke;
  bp_engine *e = NULL;
  char err[256], ckpt[BP_STORE_SEQ_CAP] = "";
  int rc = bp_engine_new(&e, cfg, &opts, &tr, &h, NULL, err, sizeof err);
  bp_config_del(cfg);
  if (rc) return fprintf(stderr, "async_host: %s: %s\n", bp_err_name(rc), err), 1;

  pthread_t tid;
  pthread_mutex_init(&h.mu, NULL);
  pthread_cond_init(&h.to_worker, NULL);
  pthread_cond_init(&h.to_loop, NULL);
  if (pthread_create(&tid, NULL, worker, &h)) return fprintf(stderr, "no thread\n"), 1;

  rc = bp_engine_add_shard(e, SHARD, NULL, NULL, NULL, 0);
  size_t len;
  while (!rc && now_ms() - h.t0 < 10000) {
    if (bp_engine_idle(e) && !bp_engine_get_checkpoint(e, SHARD, ckpt, sizeof ckpt, &len) &&
        !strcmp(ckpt, h.seq[NREC - 1]))
      break; /* every record passed and nothing is in flight */
    if ((rc = bp_engine_tick(e, now_ms()))) break;
    job j;
    while (!rc && wait_answer(&h, bp_engine_next_deadline(e), &j)) rc = complete(e, &h, &j);
  }
  if (rc) fprintf(stderr, "async_host: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(e));

  pthread_mutex_lock(&h.mu);
  h.stop = 1;
  pthread_cond_signal(&h.to_worker);
  pthread_mutex_unlock(&h.mu);
  pthread_join(tid, NULL);
  bp_engine_del(e);
  printf("final checkpoint %s\n", ckpt);
  return rc || strcmp(ckpt, h.seq[NREC - 1]) ? 1 : 0;
}
