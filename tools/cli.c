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

const char *cli_one_trace(int argc, char **argv)
{
  if (optind != argc - 1) cli_die(optind == argc ? "no trace given (see --help)" : "more than one trace given (see --help)");
  return argv[optind];
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

/* Appends n bytes to a growing buffer; out of memory is trouble. */
static void grow_put(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
  if (*len + n + 1 > *cap) {
    size_t nc = *cap ? *cap : 256;
    while (*len + n + 1 > nc) nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb) cli_die("out of memory");
    *buf = nb;
    *cap = nc;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = 0;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
  if (p[0] < 0x80) return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) return (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (p[0] >= 0xe0 && p[0] <= 0xef) {
    unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
    return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
    return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

/* The escaped string into a buffer that grows as needed (so no string is
 * cut); each byte that is not part of well-formed UTF-8 becomes U+FFFD, so
 * the output is valid JSON whatever a trace's strings hold. */
static void json_into(char **buf, size_t *len, size_t *cap, const char *s)
{
  char esc[8];
  grow_put(buf, len, cap, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
    size_t n = utf8_len(p);
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      grow_put(buf, len, cap, esc, 2);
    } else if (*p == '\n') {
      grow_put(buf, len, cap, "\\n", 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      grow_put(buf, len, cap, esc, 6);
    } else if (!n) {
      grow_put(buf, len, cap, "\\ufffd", 6);
      n = 1;
    } else {
      grow_put(buf, len, cap, (const char *)p, n);
    }
    p += n ? n : 1;
  }
  grow_put(buf, len, cap, "\"", 1);
}

const char *cli_json(const char *s)
{
  static char *buf;
  static size_t cap;
  size_t len = 0;
  json_into(&buf, &len, &cap, s);
  return buf;
}

/* A value that JSON numbers hold exactly in every parser: a decimal whole
 * number of magnitude below 2^53, without leading zeros. */
static int exact_number(const char *v, size_t n)
{
  size_t i = v[0] == '-';
  if (i == n || n - i > 16 || (v[i] == '0' && n - i > 1)) return 0;
  for (size_t j = i; j < n; j++)
    if (v[j] < '0' || v[j] > '9') return 0;
  char tmp[24];
  memcpy(tmp, v + i, n - i);
  tmp[n - i] = 0;
  return strtoull(tmp, NULL, 10) < (1ull << 53);
}

const char *cli_json_settings(const char *text)
{
  static char *buf;
  static size_t cap;
  size_t len = 0;
  char *key = NULL, *val = NULL;
  grow_put(&buf, &len, &cap, "{", 1);
  for (const char *p = text ? text : ""; *p;) {
    size_t n = strcspn(p, "\n"), k = strcspn(p, "=\n");
    if (k < n) {
      if (len > 1) grow_put(&buf, &len, &cap, ",", 1);
      free(key);
      free(val);
      key = strndup(p, k);
      val = strndup(p + k + 1, n - k - 1);
      if (!key || !val) cli_die("out of memory");
      json_into(&buf, &len, &cap, key);
      grow_put(&buf, &len, &cap, ":", 1);
      if (exact_number(val, n - k - 1)) grow_put(&buf, &len, &cap, val, n - k - 1);
      else json_into(&buf, &len, &cap, val);
    }
    p += n + (p[n] == '\n');
  }
  free(key);
  free(val);
  grow_put(&buf, &len, &cap, "}", 1);
  return buf;
}

int cli_same_file(const char *a, const char *b)
{
  struct stat sa, sb;
  return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

const char *cli_torus(int64_t torus, char *buf)
{
  if (torus >= 0 && torus < 16) snprintf(buf, 32, "%c", (char)('A' + torus));
  else snprintf(buf, 32, "%lld", (long long)torus);
  return buf;
}

const char *cli_exchanges(uint64_t n) { return n == 1 ? "exchange" : "exchanges"; }
