/* tools.h - running the built tools as a user runs them (exit status, stdout
 * and stderr kept apart) and the helpers the tool tests share.  Include once
 * per test program (tests/tools/test_*.c). */
#ifndef BRAID_TEST_TOOLS_H
#define BRAID_TEST_TOOLS_H
#include <config.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#define SCRATCH_PREFIX "/tmp/braid-tools-"
#include "scratch.h"
#include "walk.h"

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif
#ifndef BRAID_JQ
#define BRAID_JQ ""
#endif
#ifndef BRAID_MANDOC
#define BRAID_MANDOC ""
#endif
#include "run.h"

#ifdef BRAID_RR_PATH
#define RR BRAID_RR_PATH
#else
#define RR "rr"
#endif

/* ------------------------------------------------------------------ helpers */

#define MAXARGS 64

static inline result vrun(const char *in, const char *prog, va_list ap)
{
  char *argv[MAXARGS];
  int n = 0;
  argv[n++] = (char *)prog;
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < MAXARGS - 1) argv[n++] = (char *)a;
  argv[n] = NULL;
  return finish(start(in, "run", argv), "run");
}

/* run("braid-replay", "x.btr", NULL): runs and waits. */
static inline result run(const char *prog, ...)
{
  va_list ap;
  va_start(ap, prog);
  result r = vrun(NULL, prog, ap);
  va_end(ap);
  return r;
}

static inline result run_in(const char *in, const char *prog, ...)
{
  va_list ap;
  va_start(ap, prog);
  result r = vrun(in, prog, ap);
  va_end(ap);
  return r;
}

/* A failed check shows the run: SHOW(r) alone, or a format of its own with
 * its arguments first, then SHOW_FMT and SHOW_ARGS(r). */
#define SHOW_FMT "exit %d\n--- stdout:\n%.2000s\n--- stderr:\n%.2000s"
#define SHOW_ARGS(r) (r).status, (r).out, (r).err
#define SHOW(r) SHOW_FMT, SHOW_ARGS(r)

static inline void expect_ok(result r)
{
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
}

/* A threaded recording of 300 exchanges of 3 tori of 16^3 cells (with
 * extra "--sequential", the same run sequentially: a thread count would
 * conflict with it). */
static inline void record(const char *name, const char *extra)
{
  if (extra && !strcmp(extra, "--sequential")) expect_ok(run("braid-record", "-x", "300", "-d", "16", "-q", extra, "-o", name, NULL));
  else if (extra) expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", extra, "-o", name, NULL));
  else expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", "-o", name, NULL));
}

#define RACY_RUN "--model", "racy", "-n", "2", "-d", "8", "-i", "2000", "--interval-min", "2000", "-x", "1000", "-q"
#define RACY RACY_RUN, "-t", "2"

/* ------------------------------------------------------- record and replay */

/* a.btr, and b.btr: the same run with one event injected into torus B at
 * exchange 10, which adds an injection record to torus B's part of it. */
static inline void record_with_and_without_an_injection(void)
{
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "--inject", "B@10:5=1000", "-o", "b.btr", NULL));
}

/* ck.btr with checkpoints after exchanges 49, 99, ..., and r.btr, the trace
 * of its replay from the one after 99: exchanges 100..299. */
static inline void record_and_replay_from_a_checkpoint(void)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_ok(run("braid-replay", "--from", "120", "-o", "r.btr", "ck.btr", NULL));
}

/* Records of a type in braid-dump's text ("  projection torus=..."). */
static inline unsigned long long count_in_dump(const char *dump, const char *type)
{
  char needle[64];
  snprintf(needle, sizeof needle, "\n  %s ", type);
  unsigned long long n = 0;
  for (const char *p = strstr(dump, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Each per-type line of the summary ("  violation  42 differ, 553 only in A,
 * 599 only in B") counts no more records of that type than each trace has. */
static inline void expect_counts_within_each_type(const char *a, const char *b)
{
  result r = run("braid-diff", a, b, NULL), da = run("braid-dump", a, NULL), db = run("braid-dump", b, NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *p = strstr(r.out, "\nsummary: ");
  cr_assert(p, SHOW(r));
  int lines = 0;
  for (p = strchr(p + 1, '\n'); p && !strncmp(p, "\n  ", 3); p = strchr(p + 1, '\n')) {
    char type[32];
    unsigned long long differ = 0, only_a = 0, only_b = 0, n;
    cr_assert_eq(sscanf(p, " %31s", type), 1);
    const char *q = p + 3 + strlen(type), *eol = strchr(p + 1, '\n');
    for (; q && q < eol; q = strchr(q, ',') ? strchr(q, ',') + 1 : NULL) {
      char which;
      if (sscanf(q, " %llu only in %c", &n, &which) == 2) *(which == 'A' ? &only_a : &only_b) = n;
      else if (sscanf(q, " %llu differ", &n) == 1) differ = n;
    }
    cr_assert_leq(differ + only_a, count_in_dump(da.out, type), "more than A's %s records\n%s", type, r.out);
    cr_assert_leq(differ + only_b, count_in_dump(db.out, type), "more than B's %s records\n%s", type, r.out);
    lines++;
  }
  cr_assert_gt(lines, 0, SHOW(r));
  drop(&r);
  drop(&da);
  drop(&db);
}

/* Throughput in M events/s from braid-dump's text: the events the
 * projections count after the first exchange of the trace, over the wall
 * time from the end of that exchange's epochs to the end of the last. */
static inline double throughput_from_dump(const char *trace)
{
  result d = run("braid-dump", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  unsigned long long ev[16] = { 0 }, end = 0, ev0 = 0, end0 = 0;
  int exchanges = 0;
  for (char *l = d.out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned t;
    unsigned long long a, b;
    if (!strncmp(l, "exchange ", 9) && ++exchanges == 2) {
      for (int i = 0; i < 16; i++) ev0 += ev[i];
      end0 = end;
    } else if (sscanf(l, "  projection torus=%u events=%llu", &t, &a) == 2 && t < 16) {
      ev[t] = a;
    } else if (!strncmp(l, "  barrier ", 10)) {
      const char *s = strstr(l, " epoch_start_ns=");
      cr_assert(s && sscanf(s, " epoch_start_ns=%llu epoch_ns=%llu", &a, &b) == 2, "%.200s", l);
      if (a + b > end) end = a + b;
    }
  }
  drop(&d);
  unsigned long long evn = 0;
  for (int i = 0; i < 16; i++) evn += ev[i];
  cr_assert_gt(end, end0, "%s: no time after the first exchange", trace);
  return (double)(evn - ev0) / ((double)(end - end0) / 1e9) / 1e6;
}

/* The first "digest=..." of a tool's output is written as braid-dump writes
 * it (16 hex digits), so searching the dump of `trace` for it finds it. */
static inline void expect_digest_as_in_dump(const char *out, const char *trace)
{
  const char *p = strstr(out, " digest=");
  cr_assert(p, "no digest in\n%s", out);
  char token[64];
  size_t n = strcspn(p + 1, " \n");
  cr_assert_lt(n, sizeof token, "%s", out);
  memcpy(token, p + 1, n);
  token[n] = 0;
  cr_assert_eq(strspn(token + 7, "0123456789abcdef"), 16, "'%s' is not 16 hex digits", token);
  cr_assert_eq(strlen(token), 7 + 16, "'%s' is not 16 hex digits", token);
  result d = run("braid-dump", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  cr_assert(strstr(d.out, token), "'%s' is not in braid-dump %s", token, trace);
  drop(&d);
}

/* Boundary checks that found violated cells, counted from braid-dump's text:
 * "  boundary torus=0 from=2 checked=256 violations=61 ...". */
static inline unsigned long long checks_with_violations(const char *trace)
{
  result d = run("braid-dump", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  unsigned long long n = 0;
  for (const char *l = strstr(d.out, "\n  boundary "); l; l = strstr(l + 1, "\n  boundary ")) {
    const char *v = strstr(l, " violations=");
    cr_assert(v, "%.200s", l);
    if (strtoull(v + 12, NULL, 10) > 0) n++;
  }
  drop(&d);
  return n;
}

/* --------------------------------------------------------------------- dump */

static inline void need_jq(void)
{
  if (!BRAID_JQ[0] || access(BRAID_JQ, X_OK)) cr_skip_test("jq not found by configure: cannot check the JSON output");
}

/* braid-dump --chrome TRACE into JSON (a file in the test directory). */
static inline void dump_chrome(const char *trace, const char *json)
{
  result d = run("braid-dump", "--chrome", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath(json), d.out, d.outlen);
  drop(&d);
}

/* jq -r FILTER over the JSON file; its output without the last newline. */
static inline result jq(const char *json, const char *filter)
{
  result r = run_in(tpath(json), BRAID_JQ, "-r", filter, NULL);
  cr_assert_eq(r.status, 0, "jq '%s'\n" SHOW_FMT, filter, SHOW_ARGS(r));
  if (r.outlen && r.out[r.outlen - 1] == '\n') r.out[--r.outlen] = 0;
  return r;
}

/* Perfetto and chrome://tracing need the X slices of one track (pid, tid)
 * strictly nested: sorted by start (the longer first on a tie), each slice
 * either begins when or after the open ones end or lies wholly inside the
 * innermost.  Times in whole nanoseconds, so that rounding cannot hide an
 * overlap or invent one.  Prints "nested" or the count and the first pair. */
#define NESTED_JQ \
  "[.traceEvents[] | select(.ph == \"X\")" \
  " | {t: \"\\(.pid)/\\(.tid)\", b: (.ts * 1000 | round), e: ((.ts * 1000 | round) + (.dur * 1000 | round)), n: .name}]" \
  " | group_by(.t) | map(sort_by(.b, -.e) | reduce .[] as $s ({open: [], bad: []};" \
  "     .open |= map(select(.e > $s.b))" \
  "     | if $s.e < $s.b or ((.open | length) > 0 and .open[-1].e < $s.e) then .bad += [[.open[-1], $s]] else . end" \
  "     | .open += [$s]) | .bad[])" \
  " | if length == 0 then \"nested\" else \"\\(length) overlaps, the first: \\(.[0] | tojson)\" end"

/* jq -r -f tests/NAME.jq over the JSON file is `want`. */
static inline void expect_jq_file(const char *json, const char *name, const char *want)
{
  char prog[512];
  snprintf(prog, sizeof prog, BRAID_SRCDIR "/tests/%s.jq", name);
  result r = run_in(tpath(json), BRAID_JQ, "-r", "-f", prog, NULL);
  cr_assert_eq(r.status, 0, "jq -f %s\n" SHOW_FMT, prog, SHOW_ARGS(r));
  if (r.outlen && r.out[r.outlen - 1] == '\n') r.out[--r.outlen] = 0;
  cr_assert_str_eq(r.out, want, "%s: %s", json, r.out);
  drop(&r);
}

/* The slices nest (Perfetto), no two on a track touch (speedscope), and
 * every flow goes forwards and binds to one slice at each end. */
static inline void expect_nested(const char *json)
{
  result r = jq(json, NESTED_JQ);
  cr_assert_str_eq(r.out, "nested", "%s: slices on one track overlap: %s", json, r.out);
  drop(&r);
  expect_jq_file(json, "chrome-apart", "apart");
  expect_jq_file(json, "chrome-flows", "forwards, bound");
}

/* The tracks (pid/tid) that hold X slices, e.g. "1/0 1/1 2/0 2/1 2/2". */
#define TRACKS_JQ "[.traceEvents[] | select(.ph == \"X\") | \"\\(.pid)/\\(.tid)\"] | unique | join(\" \")"

/* The sample traces: recorded by other builds, some with failures. */
typedef struct sample {
  char name[32];
} sample;

/* The first line of braid-dump --json TRACE into header.json. */
static inline void dump_json_header(const char *trace)
{
  result d = run("braid-dump", "--json", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  char *nl = strchr(d.out, '\n');
  cr_assert(nl, SHOW(d));
  save(tpath("header.json"), d.out, (size_t)(nl - d.out + 1));
  drop(&d);
}

static inline void header_says(const char *filter, const char *want)
{
  result r = jq("header.json", filter);
  cr_assert_str_eq(r.out, want, "jq '%s' over\n%s", filter, (char *)load(tpath("header.json"), NULL));
  drop(&r);
}

/* ------------------------------------------- dump: selection, stdin, html */

/* Occurrences of `w` in s. */
static inline size_t count_of(const char *s, const char *w)
{
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, w)); p += strlen(w)) n++;
  return n;
}

/* The charts of a report, by id. */
static __attribute__((unused)) const char *const charts[] = { "throughput", "interval", "violations", "corrective", "waits", "event-latency", "exchange-latency", "wait-distribution" };

/* ------------------------------------------------------------ the report */

/* braid-record's JSON report of a default-settings run (3 tori of 16^3 cells,
 * 300 exchanges, 2 threads), saved as report.json. */
static inline void json_report(void)
{
  result r = run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
}

/* jq's answer to FILTER over report.json is `want`. */
static inline void report_says(const char *filter, const char *want)
{
  result r = jq("report.json", filter);
  cr_assert_str_eq(r.out, want, "jq '%s' over\n%s", filter, (char *)load(tpath("report.json"), NULL));
  drop(&r);
}

/* The report of one braid-record run (quiet, JSON) into report.json;
 * returns jq's answer to FILTER over it. */
static inline unsigned long long record_json_says(const char *filter, char **argv)
{
  result r = finish(start(NULL, "run", argv), "run");
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  result q = jq("report.json", filter);
  unsigned long long v = strtoull(q.out, NULL, 10);
  drop(&q);
  return v;
}

/* ------------------------------------------------------------ progress line */

/* Runs a tool in the test directory with standard error on a pseudo-
 * terminal (standard output to a file): what it wrote on the terminal in
 * r.err, its wall time in *seconds.  The output must fit the terminal's
 * buffer, which is read once the tool has exited. */
static __attribute__((unused)) unsigned short tty_columns; /* the terminal's width for run_on_tty; 0: the pty's default */

static inline result run_on_tty(double *seconds, char **argv)
{
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  cr_assert(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "no pseudo-terminal: %s", strerror(errno));
  int slave = open(ptsname(m), O_RDWR | O_NOCTTY); /* held, so the master never reads a hang-up */
  cr_assert(slave >= 0, "%s: %s", ptsname(m), strerror(errno));
  if (tty_columns) {
    struct winsize ws = { .ws_row = 24, .ws_col = tty_columns };
    cr_assert_eq(ioctl(slave, TIOCSWINSZ, &ws), 0, "TIOCSWINSZ: %s", strerror(errno));
  }
  char out[256];
  snprintf(out, sizeof out, "%s/.tty.out", dir);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int i = open("/dev/null", O_RDONLY), o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (chdir(dir) || i < 0 || o < 0) _exit(127);
    dup2(i, 0);
    dup2(o, 1);
    dup2(slave, 2);
    close(m);
    exec_prog(argv[0], argv);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0) cr_assert_eq(errno, EINTR);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  result r = { WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), NULL, NULL, 0, 0 };
  r.out = load(out, &r.outlen);
  r.err = calloc(1, 65536);
  cr_assert(r.err);
  fcntl(m, F_SETFL, O_NONBLOCK);
  for (ssize_t n; r.errlen < 65535 && (n = read(m, r.err + r.errlen, 65535 - r.errlen)) > 0;) r.errlen += (size_t)n;
  close(slave);
  close(m);
  return r;
}

/* ------------------------------------------------------------ signals, disk */

/* Starts a 30-second recording into t.btr and returns once the trace has
 * grown twice past its header: the first data frame is then complete. */
static inline pid_t recording_under_way(void)
{
  char *argv[] = { "braid-record", "--duration", "30", "-d", "16", "-q", "-o", "t.btr", NULL };
  pid_t pid = start(NULL, "rec", argv);
  struct stat st;
  off_t seen[3] = { -1, -1, -1 };
  int sizes = 0;
  while (sizes < 3) {
    if (stat(tpath("t.btr"), &st) == 0 && (!sizes || st.st_size > seen[sizes - 1])) seen[sizes++] = st.st_size;
    int ws;
    cr_assert_eq(waitpid(pid, &ws, WNOHANG), 0, "braid-record ended before the signal");
    struct timespec ts = { 0, 5000000 };
    nanosleep(&ts, NULL);
  }
  return pid;
}

static inline void interrupt_recording(int sig, int want)
{
  pid_t pid = recording_under_way();
  cr_assert_eq(kill(pid, sig), 0);
  result r = finish(pid, "rec");
  cr_assert_eq(r.status, want, SHOW(r));
  char line[64];
  unsigned long long last = 0, n = 0;
  snprintf(line, sizeof line, "braid-record: interrupted by %s after exchange ", sig == SIGINT ? "SIGINT" : "SIGTERM");
  cr_assert(!strncmp(r.err, line, strlen(line)) && sscanf(r.err + strlen(line), "%llu", &last) == 1, SHOW(r));
  cr_assert(strstr(r.err, "; trace finalised\n"), SHOW(r));
  drop(&r);
  /* The exchange it names is the last one in the trace. */
  result s = run("braid-dump", "--stats", "t.btr", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  cr_assert(strstr(s.out, "\nstatus         interrupted\n"), SHOW(s));
  const char *x = strstr(s.out, "\nexchanges");
  cr_assert(x && sscanf(x, " exchanges %llu", &n) == 1, SHOW(s));
  cr_assert_eq(last, n - 1, "the message names exchange %llu, the trace's last is %llu", last, n - 1);
  drop(&s);
  result p = run("braid-replay", "t.btr", NULL);
  cr_assert_eq(p.status, 0, SHOW(p));
  snprintf(line, sizeof line, "OK: %llu exchanges", last + 1);
  cr_assert(!strncmp(p.out, line, strlen(line)), SHOW(p));
  drop(&p);
}

/* Exit 2, nothing on stdout, exactly one line on stderr containing each of
 * the given words. */
static inline void expect_trouble(result r, const char *w1, const char *w2)
{
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert_eq(r.outlen, 0, SHOW(r));
  cr_assert(r.errlen > 0 && r.err[r.errlen - 1] == '\n', SHOW(r));
  cr_assert_eq(strchr(r.err, '\n'), r.err + r.errlen - 1, "more than one line on stderr:\n%s", r.err);
  cr_assert(strstr(r.err, w1), "stderr does not say '%s':\n%s", w1, r.err);
  if (w2) cr_assert(strstr(r.err, w2), "stderr does not say '%s':\n%s", w2, r.err);
  drop(&r);
}

/* ------------------------------------------------- --json of replay and diff */

/* jq's answer to FILTER over the JSON a tool printed (saved as NAME). */
static inline void json_says(const result *r, const char *name, const char *filter, const char *want)
{
  save(tpath(name), r->out, r->outlen);
  result q = jq(name, filter);
  cr_assert_str_eq(q.out, want, "jq '%s' over\n%s", filter, r->out);
  drop(&q);
}

/* /proc/PID/NAME, NUL-terminated ("" when it cannot be read). */
static inline char *proc_file(pid_t pid, const char *name)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  char *b = calloc(1, 4096);
  cr_assert(b);
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(b, 1, 4095, f) : 0;
  if (f) fclose(f);
  b[n] = 0;
  return b;
}

/* ------------------------------------------------------------------------ rr */

/* ---------------------------------------------------------------- bad input */

static inline void make_missing(const char *name) { (void)name; }

static inline void make_empty(const char *name)
{
  FILE *f = fopen(tpath(name), "w");
  cr_assert(f);
  fclose(f);
}

static inline void make_directory(const char *name) { cr_assert_eq(mkdir(tpath(name), 0755), 0); }

static inline void make_not_a_trace(const char *name)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp /etc/passwd '%s'", tpath(name));
  cr_assert_eq(system(cmd), 0);
}

static inline void make_truncated(const char *name)
{
  record(name, NULL);
  struct stat st;
  cr_assert_eq(stat(tpath(name), &st), 0);
  cr_assert_eq(truncate(tpath(name), st.st_size / 2), 0);
}

static inline void make_wrong_version(const char *name)
{
  record(name, NULL);
  int fd = open(tpath(name), O_WRONLY);
  cr_assert(fd >= 0);
  const unsigned char v[4] = { 99, 0, 0, 0 }; /* u32 little-endian at byte 16 */
  cr_assert_eq(pwrite(fd, v, 4, 16), 4);
  close(fd);
}

typedef struct file_case {
  void (*make)(const char *name);
  const char *reason;
} file_case;

static __attribute__((unused)) const file_case missing = { make_missing, "No such file" }, empty = { make_empty, "empty" },
                       directory = { make_directory, "directory" }, not_a_trace = { make_not_a_trace, "not a braid trace" },
                       truncated = { make_truncated, "truncated" }, wrong_version = { make_wrong_version, "version 99" };

static inline void bad_file(const char *tool, const file_case *c)
{
  const char *name = "bad.btr";
  c->make(name);
  result r;
  if (!strcmp(tool, "braid-diff")) {
    record("good.btr", NULL);
    r = run(tool, "good.btr", name, NULL);
  } else {
    r = run(tool, name, NULL);
  }
  expect_trouble(r, name, c->reason);
}

#define FILE_CASE(tool, kind)                                                                                                              \
  Test(bad_input, tool##_refuses_##kind, .timeout = 60) { bad_file("braid-" #tool, &kind); }

FILE_CASE(replay, missing)
FILE_CASE(replay, empty)
FILE_CASE(replay, directory)
FILE_CASE(replay, not_a_trace)
FILE_CASE(replay, truncated)
FILE_CASE(replay, wrong_version)
FILE_CASE(dump, missing)
FILE_CASE(dump, empty)
FILE_CASE(dump, directory)
FILE_CASE(dump, not_a_trace)
FILE_CASE(dump, truncated)
FILE_CASE(dump, wrong_version)
FILE_CASE(diff, missing)
FILE_CASE(diff, empty)
FILE_CASE(diff, directory)
FILE_CASE(diff, not_a_trace)
FILE_CASE(diff, truncated)
FILE_CASE(diff, wrong_version)

/* ---------------------------------------------------------- help, version */

static inline void help_and_version(const char *tool)
{
  result h = run(tool, "--help", NULL);
  cr_assert_eq(h.status, 0, SHOW(h));
  cr_assert(strstr(h.out, "usage: ") && strstr(h.out, tool), SHOW(h));
  cr_assert(strstr(h.out, "Exit status"), SHOW(h));
  drop(&h);
  result v = run(tool, "--version", NULL);
  cr_assert_eq(v.status, 0, SHOW(v));
  char want[64];
  snprintf(want, sizeof want, "%s (braid) ", tool);
  cr_assert(!strncmp(v.out, want, strlen(want)), SHOW(v));
  drop(&v);
}

/* Every --long-option in the help text has an `.It ... Fl -name` entry in
 * the tool's man page. */
static inline void help_options_in_man_page(const char *tool)
{
  result h = run(tool, "--help", NULL);
  cr_assert_eq(h.status, 0, SHOW(h));
  char path[512];
  snprintf(path, sizeof path, "%s/man/%s.1", BRAID_SRCDIR, tool);
  char *man = load(path, NULL);
  unsigned n = 0;
  for (const char *p = h.out; (p = strstr(p, "--")); ) {
    p += 2;
    size_t len = 0;
    while (islower((unsigned char)p[len]) || isdigit((unsigned char)p[len]) || p[len] == '-') len++;
    if (len < 2) continue;
    char want[80];
    snprintf(want, sizeof want, "Fl -%.*s", (int)len, p);
    int found = 0;
    for (const char *m = man; (m = strstr(m, want)); m++) {
      char after = m[strlen(want)];
      const char *bol = m;
      while (bol > man && bol[-1] != '\n') bol--;
      /* On an .It line of the OPTIONS list, not just in passing. */
      if (!strncmp(bol, ".It ", 4) && !islower((unsigned char)after) && !isdigit((unsigned char)after) && after != '-') {
        found = 1;
        break;
      }
    }
    cr_expect(found, "%s --help lists --%.*s, but %s does not document it", tool, (int)len, p, path);
    n++;
    p += len;
  }
  cr_assert_geq(n, 3, "found only %u long options in the help of %s", n, tool);
  free(man);
  drop(&h);
}

/* ------------------------------------------------------------------ man lint */

/* mandoc -Tlint prints nothing for a clean page, except two notes about the
 * machine rather than the page: Xr references to the other braid pages are
 * "not found" until they are installed (mandoc only searches the base system),
 * and an outdated system mandoc.db is reported. */
static inline void lint(const char *page)
{
  if (!BRAID_MANDOC[0]) cr_skip_test("mandoc not found by configure: cannot lint the man pages");
  char path[512];
  snprintf(path, sizeof path, "%s/man/%s", BRAID_SRCDIR, page);
  result r = run(BRAID_MANDOC, "-Tlint", path, NULL);
  size_t bad = 0;
  /* mandoc prints its lint messages on stdout, its own notes on stderr. */
  char *streams[2] = { r.out, r.err };
  for (int i = 0; i < 2; i++) {
    for (char *l = streams[i]; *l;) {
      char *nl = strchr(l, '\n');
      size_t len = nl ? (size_t)(nl - l) : strlen(l);
      int machine = memmem(l, len, "referenced manual not found: Xr braid-", 38) || memmem(l, len, "referenced manual not found: Xr libbraid 3", 42) ||
                    memmem(l, len, "outdated mandoc.db", 18);
      if (!machine) bad++;
      l += len + (nl ? 1 : 0);
    }
  }
  cr_assert_eq(bad, 0, "mandoc -Tlint %s:\n%s%s", page, r.out, r.err);
  drop(&r);
}

#endif
