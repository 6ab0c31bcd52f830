/* run.h - running a program as a user runs it: in the test directory,
 * exit status, stdout and stderr kept apart.  Needs scratch.h (dir, load)
 * and BRAID_BUILDDIR first. */
#ifndef BRAID_TEST_RUN_H
#define BRAID_TEST_RUN_H
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct result {
  int status; /* exit status, or 128 + signal */
  char *out, *err;
  size_t outlen, errlen;
} result;

static inline void exec_prog(const char *prog, char **argv)
{
  if (!strncmp(prog, "braid-", 6)) {
    char path[512];
    snprintf(path, sizeof path, "%s/tools/%s", BRAID_BUILDDIR, prog);
    execv(path, argv);
  } else {
    execvp(prog, argv);
  }
  _exit(127);
}

/* Starts argv[0] (a tool from the build tree, or a program by path or from
 * PATH) in the test directory with `env` (NAME=VALUE, or NULL) added, stdin
 * from `in` (or /dev/null), stdout and stderr to files named by `tag`.
 * Returns the pid. */
static inline pid_t start_with(const char *in, const char *tag, const char *env, char **argv)
{
  char out[256], err[256];
  snprintf(out, sizeof out, "%s/.%s.out", dir, tag);
  snprintf(err, sizeof err, "%s/.%s.err", dir, tag);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    if (chdir(dir)) _exit(127);
    int i = open(in ? in : "/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (i < 0 || o < 0 || e < 0) _exit(127);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    if (env) putenv((char *)env);
    exec_prog(argv[0], argv);
  }
  return pid;
}

static inline pid_t start(const char *in, const char *tag, char **argv) { return start_with(in, tag, NULL, argv); }

static inline result finish(pid_t pid, const char *tag)
{
  int st;
  while (waitpid(pid, &st, 0) < 0) cr_assert_eq(errno, EINTR);
  result r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  char p[256];
  snprintf(p, sizeof p, "%s/.%s.out", dir, tag);
  r.out = load(p, &r.outlen);
  snprintf(p, sizeof p, "%s/.%s.err", dir, tag);
  r.err = load(p, &r.errlen);
  return r;
}

static inline void drop(result *r)
{
  free(r->out);
  free(r->err);
}

#endif
