/* cli.c - shared argument parsing and error output for the tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

const char *cli_prog = "braid";

void cli_die(const char *fmt, ...)
{
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", cli_prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(EXIT_TROUBLE);
}

uint64_t cli_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
  if (!s || !*s) cli_die("%s: missing value", opt);
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') cli_die("%s: '%s' is not a non-negative whole number", opt, s);
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE) cli_die("%s: '%s' is too large (at most %llu)", opt, s, (unsigned long long)hi);
  if (v < lo || v > hi) cli_die("%s: %s is out of range %llu..%llu", opt, s, (unsigned long long)lo, (unsigned long long)hi);
  return v;
}

void cli_version(void)
{
  printf("%s (braid) %s\n", cli_prog, braid_version());
  exit(0);
}

void cli_need_file(const char *path)
{
  struct stat st;
  if (stat(path, &st)) cli_die("%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) cli_die("%s: is a directory, not a trace", path);
  if (!S_ISREG(st.st_mode)) cli_die("%s: not a regular file", path);
}

void cli_need_whole_trace(const char *path)
{
  braid_trace *t;
  braid_record r;
  char err[1024];
  int rc;
  if (braid_trace_open(&t, path, err, sizeof err)) cli_die("%s", err);
  while ((rc = braid_trace_next(t, &r)) == 0) {}
  if (rc != BRAID_EEOF) cli_die("%s", braid_trace_error(t));
  braid_trace_close(t);
}

const char *cli_json(const char *s)
{
  static char buf[8192];
  size_t o = 0;
  buf[o++] = '"';
  for (; s && *s && o < sizeof buf - 8; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else if (c < 0x20) {
      o += (size_t)snprintf(buf + o, sizeof buf - o, "\\u%04x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  buf[o] = 0;
  return buf;
}
