/* SPDX-License-Identifier: MIT */
/*
 * bpconsume: a ready consumer. It reads a Kinesis stream or a DynamoDB stream with Lambda's
 * event source mapping semantics (the mapping is a CreateEventSourceMapping body) and
 * invokes the function through the Lambda Invoke API, or a local command per batch.
 * Checkpoints go to a directory (a restart resumes); SIGINT/SIGTERM drain and exit 0.
 */
#define _DEFAULT_SOURCE /* strdup, mkdir with the POSIX macros below */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batchpoint.h"
#include "bpconsume.h"

#define MAX_MAPPING_BYTES (1u << 20)
#define LOOP_WAIT_MS 200
#define EXIT_USAGE 2

static volatile sig_atomic_t g_signals;

static void on_signal(int sig) {
  (void)sig;
  g_signals++;
}

static const char usage[] =
    "usage: bpconsume --mapping FILE [options]\n"
    "Read a Kinesis or DynamoDB stream with Lambda's event source mapping semantics and\n"
    "invoke the function (Lambda Invoke API, or a local command per batch).\n"
    "\n"
    "  --mapping FILE            a CreateEventSourceMapping request body (JSON)\n"
    "  --endpoint-url URL        the stream service's endpoint (e.g. a local kinesalite)\n"
    "  --lambda-endpoint-url URL the Lambda Invoke API (e.g. sam local start-lambda)\n"
    "  --exec CMD                run CMD per batch instead: the event on stdin, the\n"
    "                            response on stdout, non-zero exit = function error\n"
    "  --exec-timeout MS         the command's timeout (default 60000)\n"
    "  --checkpoint-dir DIR      checkpoints, resumed on restart (default ./bpconsume-state)\n"
    "  --failures-file FILE      on-failure records as NDJSON instead of DestinationConfig\n"
    "  --until-idle MS           exit 0 once reads came back empty (none failed) and\n"
    "                            nothing was invoked for MS\n"
    "  --role-arn ARN            invokeIdentityArn of the events (default: role/bpconsume\n"
    "                            in the stream's account)\n"
    "  --region REGION           default: AWS_REGION, AWS_DEFAULT_REGION, the stream ARN\n"
    "  --trace | --json          every engine event on stdout, for a person or as NDJSON\n"
    "  --help                    this text\n"
    "Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. Endpoints\n"
    "also from AWS_ENDPOINT_URL_<KINESIS|DYNAMODB_STREAMS|LAMBDA|SQS|SNS|S3>, AWS_ENDPOINT_URL.\n"
    "SIGINT/SIGTERM: finish what is in flight, store checkpoints, exit 0.\n"
    "Exit: 0 done, 1 runtime failure, 2 bad arguments or mapping.\n";

typedef struct args {
  const char *mapping, *endpoint, *lambda_endpoint, *exec, *checkpoint_dir, *failures_file;
  const char *role_arn, *region;
  int64_t until_idle_ms, exec_timeout_ms;
  int out_mode;
} args;

static int parse_ms(const char *flag, const char *v, int64_t *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end || x < 0) {
    fprintf(stderr, "bpconsume: %s wants milliseconds (a whole number >= 0), got '%s'\n", flag,
            v);
    return -1;
  }
  *out = x;
  return 0;
}

static int parse_args(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->until_idle_ms = -1;
  a->checkpoint_dir = "bpconsume-state";
  for (int i = 1; i < argc; i++) {
    const char *f = argv[i];
    if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
      fputs(usage, stdout);
      exit(0);
    }
    if (!strcmp(f, "--trace")) {
      a->out_mode = OUT_TRACE;
      continue;
    }
    if (!strcmp(f, "--json")) {
      a->out_mode = OUT_JSON;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "bpconsume: %s: unknown option or missing value (see --help)\n", f);
      return -1;
    }
    const char *v = argv[++i];
    if (!strcmp(f, "--mapping")) a->mapping = v;
    else if (!strcmp(f, "--endpoint-url")) a->endpoint = v;
    else if (!strcmp(f, "--lambda-endpoint-url")) a->lambda_endpoint = v;
    else if (!strcmp(f, "--exec")) a->exec = v;
    else if (!strcmp(f, "--checkpoint-dir")) a->checkpoint_dir = v;
    else if (!strcmp(f, "--failures-file")) a->failures_file = v;
    else if (!strcmp(f, "--role-arn")) a->role_arn = v;
    else if (!strcmp(f, "--region")) a->region = v;
    else if (!strcmp(f, "--until-idle")) {
      if (parse_ms(f, v, &a->until_idle_ms)) return -1;
    } else if (!strcmp(f, "--exec-timeout")) {
      if (parse_ms(f, v, &a->exec_timeout_ms)) return -1;
    } else {
      fprintf(stderr, "bpconsume: unknown option %s (see --help)\n", f);
      return -1;
    }
  }
  if (!a->mapping) {
    fprintf(stderr, "bpconsume: --mapping FILE is required (see --help)\n");
    return -1;
  }
  return 0;
}

/* The mapping file, parsed and validated with AWS's messages. */
static bp_config *load_mapping(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bpconsume: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  char *text = malloc(MAX_MAPPING_BYTES + 1);
  size_t n = text ? fread(text, 1, MAX_MAPPING_BYTES + 1, f) : 0;
  int read_err = ferror(f);
  fclose(f);
  if (!text || read_err || n > MAX_MAPPING_BYTES) {
    fprintf(stderr, "bpconsume: %s: %s\n", path,
            !text ? "out of memory" : read_err ? "read error" : "larger than 1 MiB");
    free(text);
    return NULL;
  }
  bp_config *cfg = NULL;
  if (bp_config_new(&cfg, NULL) != 0) {
    free(text);
    fprintf(stderr, "bpconsume: out of memory\n");
    return NULL;
  }
  int rc = bp_config_parse_json(cfg, text, n);
  if (!rc) rc = bp_config_validate(cfg);
  free(text);
  if (rc) {
    const char *type = bp_config_error_type(cfg);
    fprintf(stderr, "bpconsume: %s: %s%s%s\n", path, type ? type : "", type ? ": " : "",
            bp_config_errmsg(cfg));
    bp_config_del(cfg);
    return NULL;
  }
  return cfg;
}

/* The mapping's UUID: made once (random, version 4) and kept in the checkpoint directory,
   so checkpoints and S3 keys of a restart belong to the same mapping. */
static int mapping_uuid(const char *dir, char *out, size_t cap) {
  char path[4096];
  snprintf(path, sizeof path, "%s/mapping-uuid", dir);
  FILE *f = fopen(path, "r");
  if (f) {
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
    if (ok && strlen(out) == 36) return 0;
    fprintf(stderr, "bpconsume: %s: not a UUID\n", path);
    return -1;
  }
  unsigned char b[16];
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
    fprintf(stderr, "bpconsume: /dev/urandom: %s\n", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, cap,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f || fprintf(f, "%s\n", out) < 0 || fflush(f) || fsync(fileno(f)) || fclose(f) ||
      rename(tmp, path)) {
    fprintf(stderr, "bpconsume: %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The default invokeIdentityArn: a role in the stream's account. */
static void default_role(const char *stream_arn, char *out, size_t cap) {
  const char *p = stream_arn;
  for (int i = 0; i < 4 && p; i++) {
    p = strchr(p, ':');
    if (p) p++;
  }
  size_t n = p ? strcspn(p, ":") : 0;
  snprintf(out, cap, "arn:aws:iam::%.*s:role/bpconsume", (int)n, p ? p : "");
}

typedef struct consumer {
  bp_config *cfg;
  bp_file_store *store;
  bp_aws *aws;
  bp_engine *engine;
  bpc_out *out;
} consumer;

static void consumer_free(consumer *c) {
  if (c->engine) bp_engine_del(c->engine);
  bp_aws_del(c->aws);
  bp_file_store_del(c->store);
  bpc_out_del(c->out);
  bp_config_del(c->cfg);
}

static int setup(consumer *c, const args *a) {
  char err[512];
  if (!(c->cfg = load_mapping(a->mapping))) return EXIT_USAGE;
  if (mkdir(a->checkpoint_dir, 0755) && errno != EEXIST) {
    fprintf(stderr, "bpconsume: %s: %s\n", a->checkpoint_dir, strerror(errno));
    return 1;
  }
  char uuid[64];
  if (mapping_uuid(a->checkpoint_dir, uuid, sizeof uuid)) return 1;
  if (bp_file_store_new(&c->store, a->checkpoint_dir, NULL, err, sizeof err)) {
    fprintf(stderr, "bpconsume: checkpoint store %s: %s\n", a->checkpoint_dir, err);
    return 1;
  }
  int64_t start = bp_aws_now_ms();
  c->out = bpc_out_new(stdout, a->out_mode, isatty(STDERR_FILENO) && a->out_mode == OUT_QUIET,
                       start);
  if (!c->out) {
    fprintf(stderr, "bpconsume: out of memory\n");
    return 1;
  }
  bp_aws_opts ao = BP_AWS_OPTS_INIT;
  ao.region = a->region;
  ao.endpoint_url = a->endpoint;
  ao.lambda_endpoint_url = a->lambda_endpoint;
  ao.exec_command = a->exec;
  ao.exec_timeout_ms = a->exec_timeout_ms;
  ao.failures_file = a->failures_file;
  ao.on_event = bpc_out_event;
  ao.on_event_user_data = c->out;
  int rc = bp_aws_new(&c->aws, c->cfg, &ao, err, sizeof err);
  if (rc) {
    fprintf(stderr, "bpconsume: %s\n", err);
    return rc == BP_ERR_NOMEM || rc == BP_ERR_IO ? 1 : EXIT_USAGE;
  }
  if (a->failures_file && !bp_config_get_on_failure_destination(c->cfg))
    fprintf(stderr, "bpconsume: note: the mapping has no DestinationConfig.OnFailure, so "
                    "discarded records are dropped (as Lambda does) and --failures-file "
                    "stays empty\n");
  char role[512];
  if (a->role_arn) snprintf(role, sizeof role, "%s", a->role_arn);
  else default_role(bp_config_get_event_source_arn(c->cfg), role, sizeof role);
  bp_engine_opts eo = BP_ENGINE_OPTS_INIT;
  eo.invoke_identity_arn = role;
  eo.mapping_uuid = uuid;
  eo.seed = (uint64_t)start ^ ((uint64_t)getpid() << 32);
  eo.store = bp_file_store_ops();
  eo.store_user_data = c->store;
  rc = bp_engine_new(&c->engine, c->cfg, &eo, bp_aws_transport(c->aws), c->aws, NULL, err,
                     sizeof err);
  if (rc) {
    fprintf(stderr, "bpconsume: %s\n", err);
    return EXIT_USAGE;
  }
  bp_aws_attach(c->aws, c->engine);
  return 0;
}

/* Idle for --until-idle: nothing in flight or buffered, no listing, nothing read lately. */
static int idle_for(const consumer *c, int64_t ms, int64_t now) {
  return bp_engine_idle(c->engine) && !bp_aws_discovering(c->aws) &&
         now - bpc_out_last_activity(c->out) >= ms;
}

/* The host's own trouble (a listing that failed: an unreachable endpoint, bad credentials)
   is no engine event: say it once each time it changes. */
static void report_host_error(const consumer *c, char *last, size_t cap) {
  const char *msg = bp_aws_errmsg(c->aws);
  if (!strcmp(msg, last)) return;
  if (*msg) fprintf(stderr, "bpconsume: %s\n", msg);
  snprintf(last, cap, "%s", msg);
}

static int run(consumer *c, const args *a) {
  int draining = 0;
  char last_error[512] = "";
  for (;;) {
    int64_t now = bp_aws_now_ms();
    if (!draining && (g_signals || (a->until_idle_ms >= 0 && idle_for(c, a->until_idle_ms, now)))) {
      draining = 1;
      int rc = bp_engine_shutdown(c->engine, now);
      if (rc && bp_err_is_fatal(rc)) {
        fprintf(stderr, "bpconsume: %s\n", bp_engine_errmsg(c->engine));
        return 1;
      }
    }
    if (draining && bp_engine_drained(c->engine)) return 0;
    if (g_signals > 1) {
      fprintf(stderr, "bpconsume: second signal: stopping without draining\n");
      return 1;
    }
    int rc = bp_aws_run(c->aws, LOOP_WAIT_MS);
    if (rc) {
      fprintf(stderr, "bpconsume: %s\n",
              rc == BP_ERR_IO ? bp_aws_errmsg(c->aws) : bp_engine_errmsg(c->engine));
      return 1;
    }
    report_host_error(c, last_error, sizeof last_error);
    bpc_out_status(c->out, c->engine, bp_aws_now_ms(), 0);
  }
}

int main(int argc, char **argv) {
  args a;
  if (parse_args(argc, argv, &a)) return EXIT_USAGE;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  /* events are read as they come (a pipe, a file being followed): a line at a time */
  if (a.out_mode != OUT_QUIET) setvbuf(stdout, NULL, _IOLBF, 0);
  consumer c;
  memset(&c, 0, sizeof c);
  int rc = setup(&c, &a);
  if (!rc) {
    rc = run(&c, &a);
    int64_t now = bp_aws_now_ms();
    bpc_out_status(c.out, c.engine, now, 1);
    bpc_out_summary(c.out, c.engine, c.aws, now);
  }
  consumer_free(&c);
  return rc;
}
