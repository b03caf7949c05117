/* SPDX-License-Identifier: MIT */
/*
 * Child processes on the loop: `/bin/sh -c command` started with posix_spawn, its stdin fed
 * and its stdout drained through non-blocking pipes that the loop polls, a deadline and an
 * output cap enforced with SIGKILL, and every child reaped with waitpid (no zombies).
 *
 * Each child leads its own process group, so a kill reaches what the shell started too
 * (`sh -c "sleep 10"` may run sleep as a grandchild that would otherwise keep the pipe open).
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bp_aws_loop_int.h"

extern char **environ;

#define DEFAULT_MAX_STDOUT ((size_t)64 << 20)
/* How often a child whose stdout is closed is checked for its exit (no SIGCHLD handler:
 * signals belong to the host). */
#define REAP_POLL_MS 10

struct bp__aws_child {
  bp__aws_work work; /* first: the loop's ready list links it */
  bp__aws_child *next;
  bp__aws_loop *loop;
  pid_t pid;   /* -1: spawn failed */
  int in_fd;   /* our end of its stdin, -1 once closed */
  int out_fd;  /* our end of its stdout, -1 once closed */
  char *in;
  size_t in_len, in_off;
  bp__aws_buf out;
  size_t max_out;
  int64_t deadline; /* monotonic ms, 0: none */
  int reaped;
  int status;       /* from waitpid */
  int status_known; /* 0 when the host reaps children itself (ECHILD) */
  int spawn_errno;
  int timed_out, too_large;
  bp__aws_child_done done;
  void *ctx;
};

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void child_free(bp__aws_child *c) {
  close_fd(&c->in_fd);
  close_fd(&c->out_fd);
  free(c->in);
  bp__aws_buf_free(&c->out);
  free(c);
}

static void child_finish(bp__aws_work *w) {
  bp__aws_child *c = (bp__aws_child *)w;
  bp__aws_child_result r;
  memset(&r, 0, sizeof r);
  r.out = c->out.data ? c->out.data : "";
  r.out_len = c->out.len;
  if (c->spawn_errno) {
    r.spawn_errno = c->spawn_errno;
    r.out = "";
    r.out_len = 0;
  } else {
    r.timed_out = c->timed_out;
    r.too_large = c->too_large;
    if (c->status_known && WIFEXITED(c->status)) {
      r.exited = 1;
      r.exit_code = WEXITSTATUS(c->status);
    } else if (c->status_known && WIFSIGNALED(c->status)) {
      r.term_signal = WTERMSIG(c->status);
    }
  }
  c->done(c->ctx, &r);
  child_free(c);
}

static void kill_group(bp__aws_child *c) {
  if (c->pid > 0) kill(-c->pid, SIGKILL);
}

/* The environment with @p extra added (an extra NAME=... replaces the inherited NAME). */
static char **merged_env(const char *const *extra) {
  size_t ne = 0, nx = 0;
  while (environ[ne]) ne++;
  while (extra[nx]) nx++;
  char **envp = malloc((ne + nx + 1) * sizeof *envp);
  if (!envp) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < ne; i++) {
    const char *eq = strchr(environ[i], '=');
    size_t name_len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
    int replaced = 0;
    for (size_t j = 0; j < nx && !replaced; j++) replaced = strncmp(extra[j], environ[i], name_len) == 0;
    if (!replaced) envp[k++] = environ[i];
  }
  for (size_t j = 0; j < nx; j++) envp[k++] = (char *)extra[j];
  envp[k] = NULL;
  return envp;
}

/* posix_spawn of sh -c with the pipes on 0 and 1; returns 0 or an errno. */
static int spawn(bp__aws_child *c, const char *command, const char *const *env, int in_rd,
                 int out_wr) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, pipe_set;
  sigemptyset(&none);
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE); /* the loop ignores SIGPIPE; the command gets the default */
  char **envp = env ? merged_env(env) : environ;
  if (!envp) return ENOMEM;
  int e = posix_spawn_file_actions_init(&fa);
  if (e == 0) {
    e = posix_spawnattr_init(&at);
    if (e == 0) {
      if (e == 0) e = posix_spawn_file_actions_adddup2(&fa, in_rd, 0);
      if (e == 0) e = posix_spawn_file_actions_adddup2(&fa, out_wr, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
      /* Nothing but 0, 1 and 2 reaches the command: not curl's sockets (its multi handle's
       * wake-up pair is not close-on-exec), not the host's files. */
      if (e == 0) e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
      if (e == 0)
        e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETPGROUP);
      if (e == 0) e = posix_spawnattr_setsigdefault(&at, &pipe_set);
      if (e == 0) e = posix_spawnattr_setsigmask(&at, &none);
      if (e == 0) e = posix_spawnattr_setpgroup(&at, 0);
      char *argv[] = {"sh", "-c", (char *)command, NULL};
      if (e == 0) e = posix_spawn(&c->pid, "/bin/sh", &fa, &at, argv, envp);
      posix_spawnattr_destroy(&at);
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  if (envp != environ) free(envp);
  return e;
}

int bp__aws_child_start(bp__aws_loop *l, const char *command, const char *const *env,
                        const char *in, size_t in_len, int64_t timeout_ms, size_t max_stdout,
                        bp__aws_child_done done, void *ctx) {
  if (!l || !command || !done || (!in && in_len)) return BP_ERR_INVALID_ARGUMENT;
  bp__aws_child *c = calloc(1, sizeof *c);
  if (!c) return BP_ERR_NOMEM;
  c->loop = l;
  c->work.finish = child_finish;
  c->pid = -1;
  c->in_fd = c->out_fd = -1;
  c->in_len = in_len;
  c->max_out = max_stdout ? max_stdout : DEFAULT_MAX_STDOUT;
  c->done = done;
  c->ctx = ctx;
  if (in_len) {
    c->in = malloc(in_len);
    if (!c->in) {
      free(c);
      return BP_ERR_NOMEM;
    }
    memcpy(c->in, in, in_len);
  }
  int in_p[2], out_p[2];
  int e = 0;
  if (pipe2(in_p, O_CLOEXEC) != 0) {
    e = errno;
  } else if (pipe2(out_p, O_CLOEXEC) != 0) {
    e = errno;
    close(in_p[0]);
    close(in_p[1]);
  } else {
    e = spawn(c, command, env, in_p[0], out_p[1]);
    close(in_p[0]);
    close(out_p[1]);
    c->in_fd = in_p[1];
    c->out_fd = out_p[0];
    if (e != 0) {
      close_fd(&c->in_fd);
      close_fd(&c->out_fd);
      c->pid = -1;
    } else {
      fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
      fcntl(c->out_fd, F_SETFL, fcntl(c->out_fd, F_GETFL) | O_NONBLOCK);
      if (!in_len) close_fd(&c->in_fd);
      if (timeout_ms > 0) c->deadline = bp__aws_mono_ms() + timeout_ms;
    }
  }
  if (e == ENOMEM) {
    child_free(c);
    return BP_ERR_NOMEM;
  }
  /* A failed start is reported through the callback, like any other outcome. */
  c->spawn_errno = e;
  c->reaped = e != 0;
  c->next = l->children;
  l->children = c;
  l->nchildren++;
  return 0;
}

int bp__aws_children_waitfds(bp__aws_loop *l, unsigned *n, int64_t *timeout_ms) {
  size_t need = 2 * l->nchildren;
  if (need > l->waitfds_cap) {
    struct curl_waitfd *p = realloc(l->waitfds, need * sizeof *p);
    if (!p) return BP_ERR_NOMEM;
    l->waitfds = p;
    l->waitfds_cap = need;
  }
  unsigned k = 0;
  int64_t now = l->children ? bp__aws_mono_ms() : 0;
  for (bp__aws_child *c = l->children; c; c = c->next) {
    if (c->in_fd >= 0) {
      l->waitfds[k].fd = c->in_fd;
      l->waitfds[k].events = CURL_WAIT_POLLOUT;
      l->waitfds[k++].revents = 0;
    }
    if (c->out_fd >= 0) {
      l->waitfds[k].fd = c->out_fd;
      l->waitfds[k].events = CURL_WAIT_POLLIN;
      l->waitfds[k++].revents = 0;
    }
    int64_t t = *timeout_ms;
    if (c->reaped && c->out_fd < 0) t = 0;
    else if (c->out_fd < 0 && t > REAP_POLL_MS) t = REAP_POLL_MS;
    if (c->deadline && !(c->reaped && c->out_fd < 0))
      t = c->deadline > now ? (t < c->deadline - now ? t : c->deadline - now) : 0;
    if (t < *timeout_ms) *timeout_ms = t;
  }
  *n = k;
  return 0;
}

/* Feed stdin until the pipe is full; a child that stopped reading (EPIPE) gets no more. */
static void feed(bp__aws_child *c) {
  while (c->in_fd >= 0 && c->in_off < c->in_len) {
    ssize_t w = write(c->in_fd, c->in + c->in_off, c->in_len - c->in_off);
    if (w > 0) c->in_off += (size_t)w;
    else if (w < 0 && errno == EINTR) continue;
    else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    else break;
  }
  close_fd(&c->in_fd); /* all written, or the child is gone: it sees EOF */
}

static void drain(bp__aws_child *c) {
  char chunk[16384];
  while (c->out_fd >= 0) {
    ssize_t r = read(c->out_fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) {
      close_fd(&c->out_fd); /* EOF (or a broken pipe) */
      return;
    }
    if ((size_t)r > c->max_out - c->out.len) {
      c->too_large = 1;
      kill_group(c);
      close_fd(&c->out_fd);
      return;
    }
    if (bp__aws_buf_append(&c->out, chunk, (size_t)r) != 0) {
      c->too_large = 1; /* the memory for it ran out: the same outcome as the cap */
      kill_group(c);
      close_fd(&c->out_fd);
      return;
    }
  }
}

static void reap(bp__aws_child *c) {
  if (c->reaped) return;
  int st;
  pid_t r;
  do r = waitpid(c->pid, &st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == c->pid) {
    c->reaped = 1;
    c->status = st;
    c->status_known = 1;
  } else if (r < 0) {
    c->reaped = 1; /* ECHILD: the host reaps its children itself (SIGCHLD ignored) */
  }
}

void bp__aws_children_service(bp__aws_loop *l) {
  int64_t now = l->children ? bp__aws_mono_ms() : 0;
  bp__aws_child **pp = &l->children;
  while (*pp) {
    bp__aws_child *c = *pp;
    feed(c);
    drain(c);
    reap(c);
    /* Past the deadline, whatever still runs or holds its stdout open is killed. */
    if (c->deadline && now >= c->deadline && !(c->reaped && c->out_fd < 0)) {
      c->timed_out = 1;
      kill_group(c);
      close_fd(&c->in_fd);
      close_fd(&c->out_fd);
      reap(c);
    }
    if (c->reaped && c->out_fd < 0) {
      close_fd(&c->in_fd);
      *pp = c->next;
      l->nchildren--;
      bp__aws_loop_ready(l, &c->work);
    } else {
      pp = &c->next;
    }
  }
}

void bp__aws_children_abandon(bp__aws_loop *l) {
  while (l->children) {
    bp__aws_child *c = l->children;
    l->children = c->next;
    if (!c->reaped) {
      kill_group(c);
      while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
      }
    }
    child_free(c);
  }
  l->nchildren = 0;
}
