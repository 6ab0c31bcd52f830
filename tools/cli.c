/* cli.c - shared argument parsing and error output for the tools. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
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

/* For a short option, argv[optind - 1] is not the culprit while getopt is
 * inside a cluster ("-Zq"): optopt is.  A long option's element has been
 * consumed, and optopt is 0 when it is unknown or ambiguous, or its val when
 * it was given a value it does not take. */
void cli_bad_option(int c, char **argv, const struct option *opts)
{
  const char *arg = argv[optind - 1];
  int is_long = !strncmp(arg, "--", 2) && arg[2];
  const char *name = arg + 2;
  size_t len = is_long ? strcspn(name, "=") : 0;
  const struct option *hit = NULL;
  unsigned n = 0;
  char cand[512] = "";
  for (const struct option *o = opts; is_long && o->name; o++) {
    if (strncmp(o->name, name, len)) continue;
    if (!o->name[len]) { /* an exact match is never ambiguous */
      hit = o;
      n = 1;
      break;
    }
    hit = o;
    n++;
    size_t used = strlen(cand);
    snprintf(cand + used, sizeof cand - used, "%s--%s", used ? ", " : "", o->name);
  }
  int valued = is_long && name[len] == '=';
  if (c == ':' && is_long) cli_die("option '--%s' needs a value (see --help)", n == 1 ? hit->name : name);
  if (c == ':') cli_die("option '-%c' needs a value (see --help)", optopt);
  if (is_long && n == 1 && valued && !hit->has_arg && hit->val == optopt)
    cli_die("option '--%s' takes no value (see --help)", hit->name);
  if (is_long && !optopt && n > 1) cli_die("option '--%.*s' is ambiguous: %s (see --help)", (int)len, name, cand);
  if (is_long && !optopt) cli_die("unknown option '--%.*s' (see --help)", (int)len, name);
  if (isgraph(optopt)) cli_die("unknown option '-%c' (see --help)", optopt);
  cli_die("unknown option character 0x%02x (see --help)", (unsigned)optopt & 0xff);
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

const char *cli_status_name(braid_trace_status s)
{
  static const char *n[] = { "complete", "interrupted", "failed", "unfinished" };
  return (unsigned)s < 4 ? n[s] : "unknown";
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

const char *cli_torus(int64_t torus, char *buf)
{
  if (torus >= 0 && torus < 16) snprintf(buf, 32, "%c", (char)('A' + torus));
  else snprintf(buf, 32, "%lld", (long long)torus);
  return buf;
}

const char *cli_exchanges(uint64_t n) { return n == 1 ? "exchange" : "exchanges"; }
