/* SPDX-License-Identifier: MIT */
/*
 * aws_consumer: the smallest complete consumer over libbatchpoint-aws — a mapping file, a
 * stream endpoint, a command as the function; checkpoints in ./aws-consumer-state. Ctrl-C
 * drains and exits. bpconsume is the full command; this is what it does, in one screen.
 *
 *   cc aws_consumer.c $(pkg-config --cflags --libs batchpoint-aws) -o aws_consumer
 *   ./aws_consumer mapping.json http://localhost:4567 'cat > /dev/null; echo {}'
 */
#include <batchpoint.h>
#include <batchpoint/bp_aws.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static volatile sig_atomic_t stop;
static void on_sigint(int sig) { (void)sig; stop = 1; }

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = f ? malloc(1 << 20) : NULL;
  *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
  if (f) fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MAPPING.json STREAM_ENDPOINT_URL COMMAND\n", argv[0]);
    return 2;
  }
  char err[512];
  size_t len;
  char *json = read_file(argv[1], &len);
  bp_config *cfg = NULL;
  if (!json || bp_config_new(&cfg, NULL) || bp_config_parse_json(cfg, json, len) ||
      bp_config_validate(cfg)) {
    fprintf(stderr, "%s: %s\n", argv[1], json ? bp_config_errmsg(cfg) : "cannot read");
    return 2;
  }
  free(json);
  mkdir("aws-consumer-state", 0755);
  bp_file_store *store = NULL;
  bp_aws *aws = NULL;
  bp_engine *e = NULL;
  bp_aws_opts ao = BP_AWS_OPTS_INIT;
  ao.endpoint_url = argv[2];
  ao.exec_command = argv[3];
  bp_engine_opts eo = BP_ENGINE_OPTS_INIT;
  eo.invoke_identity_arn = "arn:aws:iam::000000000000:role/aws-consumer";
  eo.mapping_uuid = "0b4c3e1a-0000-4000-8000-000000000001"; /* keep it stable: checkpoints */
  eo.store = bp_file_store_ops();
  if (bp_file_store_new(&store, "aws-consumer-state", NULL, err, sizeof err) ||
      bp_aws_new(&aws, cfg, &ao, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  eo.store_user_data = store;
  if (bp_engine_new(&e, cfg, &eo, bp_aws_transport(aws), aws, NULL, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  signal(SIGINT, on_sigint);
  bp_aws_attach(aws, e);
  int rc = 0;
  while (!stop && !rc) rc = bp_aws_run(aws, 200);
  if (!rc) rc = bp_engine_shutdown(e, bp_aws_now_ms()); /* finish what is in flight */
  while (!rc && !bp_engine_drained(e)) rc = bp_aws_run(aws, 200);
  if (rc) fprintf(stderr, "%s\n", bp_engine_errmsg(e));
  bp_engine_del(e);
  bp_aws_del(aws);
  bp_file_store_del(store);
  bp_config_del(cfg);
  return rc ? 1 : 0;
}
