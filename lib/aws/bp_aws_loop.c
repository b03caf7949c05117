/* SPDX-License-Identifier: MIT */
/*
 * The add-on's single-threaded event loop: libcurl's multi interface, with the children's
 * pipes passed to curl_multi_poll() as extra descriptors. Finished work is collected first
 * and its callbacks run afterwards, so a callback may start new requests or children.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bp_aws_loop_int.h"

int64_t bp__aws_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bp__aws_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A child that exits without reading its stdin, or a peer that closes a socket, makes the
 * next write raise SIGPIPE, whose default action kills the whole process. The loop therefore
 * ignores SIGPIPE process-wide (writes then fail with EPIPE, which the loop handles) unless
 * the host already installed a handler of its own. Children get the default back.
 */
static void ignore_sigpipe(void) {
  struct sigaction old;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
  }
}

int bp__aws_loop_new(bp__aws_loop **out, char *err, size_t errlen) {
  *out = NULL;
  /* Reference-counted by libcurl: balanced by curl_global_cleanup() in bp__aws_loop_del(). */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(err, errlen, "libcurl: global initialization failed");
    return BP_ERR_IO;
  }
  bp__aws_loop *l = calloc(1, sizeof *l);
  if (l) l->multi = curl_multi_init();
  if (!l || !l->multi) {
    free(l);
    curl_global_cleanup();
    snprintf(err, errlen, "libcurl: out of memory");
    return BP_ERR_NOMEM;
  }
  l->ready_tail = &l->ready;
  ignore_sigpipe();
  *out = l;
  return 0;
}

/* Not from inside a callback of this loop (run_once still walks its ready list). */
void bp__aws_loop_del(bp__aws_loop *l) {
  if (!l) return;
  bp__aws_http_abandon(l);
  bp__aws_children_abandon(l);
  curl_multi_cleanup(l->multi);
  free(l->waitfds);
  free(l);
  curl_global_cleanup();
}

size_t bp__aws_loop_pending(const bp__aws_loop *l) {
  return l->transfers + l->nchildren;
}

void bp__aws_loop_ready(bp__aws_loop *l, bp__aws_work *w) {
  w->next = NULL;
  *l->ready_tail = w;
  l->ready_tail = &w->next;
}

int bp__aws_loop_run_once(bp__aws_loop *l, int64_t timeout_ms, char *err, size_t errlen) {
  if (timeout_ms < 0) timeout_ms = 0;
  unsigned nfds = 0;
  int rc = bp__aws_children_waitfds(l, &nfds, &timeout_ms);
  if (rc != 0) {
    snprintf(err, errlen, "event loop: out of memory");
    return rc;
  }
  /* curl_multi_poll() also wakes for curl's own timers and sockets. */
  int wait = timeout_ms > 3600000 ? 3600000 : (int)timeout_ms;
  CURLMcode mc = curl_multi_poll(l->multi, nfds ? l->waitfds : NULL, nfds, wait, NULL);
  int running = 0;
  if (mc == CURLM_OK) mc = curl_multi_perform(l->multi, &running);
  if (mc != CURLM_OK) {
    snprintf(err, errlen, "libcurl: %s", curl_multi_strerror(mc));
    return BP_ERR_IO;
  }
  bp__aws_http_collect(l);
  bp__aws_children_service(l);

  /* Detach the list first: callbacks may queue nothing here (new work finishes in a later
   * call), but they may start work, which touches only the multi handle and the children. */
  bp__aws_work *w = l->ready;
  l->ready = NULL;
  l->ready_tail = &l->ready;
  int ran = 0;
  while (w) {
    bp__aws_work *next = w->next;
    w->finish(w);
    ran++;
    w = next;
  }
  return ran;
}
