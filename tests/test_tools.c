/* test_tools.c - the four tools as a user runs them: exit status, stdout and
 * stderr kept apart, bad input, signals, and the man pages. */
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
#ifdef BRAID_RR_PATH
#define RR BRAID_RR_PATH
#else
#define RR "rr"
#endif

/* ------------------------------------------------------------------ helpers */

typedef struct result {
  int status; /* exit status, or 128 + signal */
  char *out, *err;
  size_t outlen, errlen;
} result;

static void exec_prog(const char *prog, char **argv)
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

/* Starts prog (a tool from the build tree, or a program from PATH) in the
 * test directory with stdin from `in` (or /dev/null), stdout and stderr to
 * files named by `tag`.  Returns the pid. */
static pid_t start(const char *in, const char *tag, char **argv)
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
    exec_prog(argv[0], argv);
  }
  return pid;
}

static result finish(pid_t pid, const char *tag)
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

#define MAXARGS 64

static result vrun(const char *in, const char *prog, va_list ap)
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
static result run(const char *prog, ...)
{
  va_list ap;
  va_start(ap, prog);
  result r = vrun(NULL, prog, ap);
  va_end(ap);
  return r;
}

static result run_in(const char *in, const char *prog, ...)
{
  va_list ap;
  va_start(ap, prog);
  result r = vrun(in, prog, ap);
  va_end(ap);
  return r;
}

static void drop(result *r)
{
  free(r->out);
  free(r->err);
}

/* A failed check shows the run: SHOW(r) alone, or a format of its own with
 * its arguments first, then SHOW_FMT and SHOW_ARGS(r). */
#define SHOW_FMT "exit %d\n--- stdout:\n%.2000s\n--- stderr:\n%.2000s"
#define SHOW_ARGS(r) (r).status, (r).out, (r).err
#define SHOW(r) SHOW_FMT, SHOW_ARGS(r)

static void expect_ok(result r)
{
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
}

/* A threaded recording of 300 exchanges of 3 tori of 16^3 cells (with
 * extra "--sequential", the same run sequentially: a thread count would
 * conflict with it). */
static void record(const char *name, const char *extra)
{
  if (extra && !strcmp(extra, "--sequential")) expect_ok(run("braid-record", "-x", "300", "-d", "16", "-q", extra, "-o", name, NULL));
  else if (extra) expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", extra, "-o", name, NULL));
  else expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", "-o", name, NULL));
}

#define RACY_RUN "--model", "racy", "-n", "2", "-d", "8", "-i", "2000", "--interval-min", "2000", "-x", "1000", "-q"
#define RACY RACY_RUN, "-t", "2"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

/* ------------------------------------------------------- record and replay */

Test(tools, replay_of_a_threaded_recording_is_ok, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-replay", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

Test(tools, diff_of_threaded_and_sequential_runs_is_equal, .timeout = 60)
{
  record("run.btr", NULL);
  record("seq.btr", "--sequential");
  result r = run("braid-diff", "run.btr", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "equal"), SHOW(r));
  drop(&r);
}

Test(tools, replay_catches_the_racy_model, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  result r = run("braid-replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "DIVERGED at exchange"), SHOW(r));
  cr_assert(strstr(r.out, "torus"), SHOW(r));
  cr_assert(strstr(r.out, " matched before it; the parallel run differs from sequential execution\n"), SHOW(r));
  drop(&r);
}

/* A sequential recording has no parallel run to blame: its divergence (here
 * from a projection altered at exchange 5) says the replay differs. */
Test(tools, replay_divergence_of_a_sequential_recording_blames_no_parallel_run, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-replay", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(!strncmp(r.out, "DIVERGED at exchange 5, torus A (0): projection.vtime recorded ", 63), SHOW(r));
  cr_assert(strstr(r.out, "\n5 exchanges matched before it; the replay differs from the recording\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "parallel"), SHOW(r));
  drop(&r);
}

Test(tools, diff_catches_the_racy_model, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  expect_ok(run("braid-record", RACY_RUN, "--sequential", "-o", "racy-seq.btr", NULL));
  result r = run("braid-diff", "racy.btr", "racy-seq.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "first difference at exchange"), SHOW(r));
  drop(&r);
}

/* a.btr, and b.btr: the same run with one event injected into torus B at
 * exchange 10, which adds an injection record to torus B's part of it. */
static void record_with_and_without_an_injection(void)
{
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "--inject", "B@10:5=1000", "-o", "b.btr", NULL));
}

/* ck.btr with checkpoints after exchanges 49, 99, ..., and r.btr, the trace
 * of its replay from the one after 99: exchanges 100..299. */
static void record_and_replay_from_a_checkpoint(void)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_ok(run("braid-replay", "--from", "120", "-o", "r.btr", "ck.btr", NULL));
}

/* The replay's trace says exchanges=N (as many as were recorded) and
 * duration_ms=0: run length is not a setting braid-diff compares. */
Test(tools, diff_of_a_duration_recording_and_its_replay_is_equal, .timeout = 60)
{
  expect_ok(run("braid-record", "--duration", "0.3", "-d", "8", "-q", "-o", "dur.btr", NULL));
  expect_ok(run("braid-replay", "-q", "-o", "rep.btr", "dur.btr", NULL));
  result r = run("braid-diff", "dur.btr", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "equal: the logical streams are identical"), SHOW(r));
  cr_assert_not(strstr(r.out, "settings differ"), SHOW(r));
  drop(&r);
}

Test(tools, diff_names_the_settings_that_differ_with_both_values, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "20", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "30", "-d", "8", "--seed", "2", "-n", "4", "--sequential", "-q", "-o", "b.btr", NULL));
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "settings differ: seed 1 vs 2, tori 3 vs 4 (";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  drop(&r);
}

Test(tools, diff_partial_says_where_a_truncated_copy_ends, .timeout = 60)
{
  record("big.btr", NULL);
  size_t n;
  char *bytes = load(tpath("big.btr"), &n);
  save(tpath("trunc.btr"), bytes, n / 2);
  free(bytes);
  result r = run("braid-diff", "--partial", "big.btr", "trunc.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *p = strstr(r.out, "B ends after exchange ");
  unsigned long long last, more, lo, hi;
  cr_assert(p && sscanf(p, "B ends after exchange %llu (truncated): A has %llu more exchanges (%llu..%llu)", &last, &more, &lo, &hi) == 4, SHOW(r));
  cr_assert(lo == last + 1 && hi == 299 && more == 299 - last, SHOW(r));
  cr_assert(strstr(r.out, ", 0 differ\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "presence"), SHOW(r));
  cr_assert_not(strstr(r.out, "first difference"), SHOW(r));
  drop(&r);
}

Test(tools, diff_says_plainly_that_a_trace_from_a_checkpoint_starts_later, .timeout = 60)
{
  record_and_replay_from_a_checkpoint();
  result r = run("braid-diff", "ck.btr", "r.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "B starts at exchange 100, A at exchange 0: exchanges 0..99 are only in A\n";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  cr_assert(strstr(r.out, "the 200 exchanges both traces have are identical\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "first difference"), SHOW(r));
  drop(&r);
}

Test(tools, diff_names_an_extra_record_as_the_first_difference, .timeout = 60)
{
  record_with_and_without_an_injection();
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "first difference at exchange 10, torus B (1): injection only in B\n";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  cr_assert(strstr(r.out, "\n>  B injection torus=1 cell=5 payload=1000 seq=0\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n  injection          1 only in B\n"), SHOW(r));
  drop(&r);
}

/* Records of a type in braid-dump's text ("  projection torus=..."). */
static unsigned long long count_in_dump(const char *dump, const char *type)
{
  char needle[64];
  snprintf(needle, sizeof needle, "\n  %s ", type);
  unsigned long long n = 0;
  for (const char *p = strstr(dump, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Each per-type line of the summary ("  violation  42 differ, 553 only in A,
 * 599 only in B") counts no more records of that type than each trace has. */
static void expect_counts_within_each_type(const char *a, const char *b)
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

Test(tools, diff_counts_no_more_differing_records_of_a_type_than_there_are, .timeout = 60)
{
  record_with_and_without_an_injection();
  expect_counts_within_each_type("a.btr", "b.btr");
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  expect_ok(run("braid-record", RACY_RUN, "--sequential", "-o", "racy-seq.btr", NULL));
  expect_counts_within_each_type("racy.btr", "racy-seq.btr");
}

/* The event-conservation tolerance is never reached in this run, so the
 * streams are the same although a logical setting differs. */
Test(tools, diff_says_the_streams_are_identical_when_only_the_settings_differ, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "-q", "--set", "tolerance_events=2000000", "-o", "b.btr", NULL));
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "settings differ: tolerance_events 1000000 vs 2000000 ("), SHOW(r));
  cr_assert(strstr(r.out, ", 0 differ\nthe 50 exchanges both traces have are identical\n"), SHOW(r));
  drop(&r);
}

/* Throughput in M events/s from braid-dump's text: the events the
 * projections count after the first exchange of the trace, over the wall
 * time from the end of that exchange's epochs to the end of the last. */
static double throughput_from_dump(const char *trace)
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

/* r.btr's projections count the events from exchange 0. */
Test(tools, diff_timing_measures_a_trace_from_a_checkpoint_over_its_own_exchanges, .timeout = 60)
{
  record_and_replay_from_a_checkpoint();
  result r = run("braid-diff", "--timing", "ck.btr", "r.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *p = strstr(r.out, "throughput (M events/s)");
  double a, b;
  cr_assert(p && sscanf(p, "throughput (M events/s) %lf %lf", &a, &b) == 2, SHOW(r));
  double want = throughput_from_dump("r.btr");
  cr_assert(b > want - 0.006 && b < want + 0.006, "B: %.2f M events/s, want %.4f\n%s", b, want, r.out);
  want = throughput_from_dump("ck.btr");
  cr_assert(a > want - 0.006 && a < want + 0.006, "A: %.2f M events/s, want %.4f\n%s", a, want, r.out);
  drop(&r);
}

/* The first "digest=..." of a tool's output is written as braid-dump writes
 * it (16 hex digits), so searching the dump of `trace` for it finds it. */
static void expect_digest_as_in_dump(const char *out, const char *trace)
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

Test(tools, diff_prints_digests_as_braid_dump_does, .timeout = 60)
{
  record_with_and_without_an_injection();
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "  A projection"), SHOW(r));
  expect_digest_as_in_dump(strstr(r.out, "  A projection"), "a.btr");
  drop(&r);
}

Test(tools, replay_context_prints_digests_as_braid_dump_does, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  result r = run("braid-replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "  recorded projection"), SHOW(r));
  expect_digest_as_in_dump(strstr(r.out, "  recorded projection"), "racy.btr");
  drop(&r);
}

Test(tools, replay_stops_at_a_violation_and_shows_its_cells, .timeout = 60)
{
  record("tol.btr", "--tolerance=0");
  result r = run("braid-replay", "--violation", "1", "tol.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "violation 1: exchange"), SHOW(r));
  cr_assert(strstr(r.out, "expected") && strstr(r.out, "actual"), SHOW(r));
  /* At least one row: cell (x,y,z) expected actual correction. */
  int rows = 0;
  for (char *l = r.out; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned cell, x, y, z;
    long long e, a;
    int p;
    if (sscanf(l, " %u (%u,%u,%u) %lld %lld %d", &cell, &x, &y, &z, &e, &a, &p) == 7) {
      rows++;
      cr_assert_neq(e, a, "a violated cell shows different expected and actual values:\n%s", l);
    }
  }
  cr_assert_geq(rows, 1, SHOW(r));
  drop(&r);
}

/* Boundary checks that found violated cells, counted from braid-dump's text:
 * "  boundary torus=0 from=2 checked=256 violations=61 ...". */
static unsigned long long checks_with_violations(const char *trace)
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

Test(tools, replay_says_a_violation_that_is_not_reached, .timeout = 60)
{
  record("run.btr", NULL);
  char want[128];
  snprintf(want, sizeof want, "; violation 999999 not reached (the trace has %llu)\n", checks_with_violations("run.btr"));
  result r = run("braid-replay", "--violation", "999999", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(!strncmp(r.out, "OK: 300 exchanges", 17), SHOW(r));
  cr_assert(strstr(r.out, want), "want '%s'\n" SHOW_FMT, want, SHOW_ARGS(r));
  drop(&r);
}

Test(tools, replay_says_until_past_the_end, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-replay", "--until", "100000", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "--until 100000 is past the end (the trace ends at exchange 299)"), SHOW(r));
  drop(&r);
  r = run("braid-replay", "--until", "299", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_not(strstr(r.out, "past the end"), "--until at the last exchange is not past it\n" SHOW(r));
  drop(&r);
}

Test(tools, replay_of_one_exchange_says_exchange, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--until", "0", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 1 exchange, "), SHOW(r));
  drop(&r);
  r = run("braid-replay", "--from", "100", "--until", "100", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 1 exchange, ") && strstr(r.out, "(exchange 100, from a checkpoint)"), SHOW(r));
  drop(&r);
}

Test(tools, replay_from_a_checkpoint_compares_only_the_exchanges_after_it, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--from", "120", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  /* Checkpoints after exchanges 49, 99, 149, ...: the last at or before 120 is 99. */
  cr_assert(strstr(r.out, "OK: 200 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "exchanges 100..299, from a checkpoint"), SHOW(r));
  drop(&r);
}

/* The trace written by a replay --from starts with its checkpoint, so it
 * replays on its own; once it compared exchange 100 with exchange 0. */
Test(tools, replay_of_a_replay_from_a_checkpoint_starts_from_that_checkpoint, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "--checkpoint-every", "50", "-d", "8", "-q", "-o", "ck.btr", NULL));
  expect_ok(run("braid-replay", "--from", "120", "-q", "-o", "rep.btr", "ck.btr", NULL));
  result r = run("braid-replay", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out, "OK: 200 exchanges, replay == recording (a sequential run) (exchanges 100..299, from a checkpoint)\n", SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

/* Cut, that trace still starts at exchange 100: the note says where its
 * complete exchanges end, not a count that takes them from exchange 0. */
Test(tools, replay_of_a_cut_replay_trace_says_where_its_exchanges_end, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "--checkpoint-every", "50", "-d", "8", "-q", "-o", "ck.btr", NULL));
  expect_ok(run("braid-replay", "--from", "120", "-q", "-o", "rep.btr", "ck.btr", NULL));
  struct stat st;
  cr_assert_eq(stat(tpath("rep.btr"), &st), 0);
  cr_assert_eq(truncate(tpath("rep.btr"), st.st_size * 3 / 4), 0);
  result r = run("braid-replay", "--partial", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  unsigned long long n = 0, last = 0;
  const char *note = strstr(r.err, "; replaying from the checkpoint up to its last complete exchange, ");
  cr_assert(sscanf(r.out, "OK: %llu", &n) == 1 && n > 0, SHOW(r));
  cr_assert(note && sscanf(strchr(note, ',') + 1, "%llu", &last) == 1, SHOW(r));
  cr_assert_eq(last, 99 + n, "exchanges 100..%llu are %llu\n" SHOW_FMT, last, n, SHOW_ARGS(r));
  drop(&r);
}

Test(tools, replay_from_the_last_checkpoint_says_nothing_follows_it, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  /* The last checkpoint follows exchange 299, the last exchange. */
  result r = run("braid-replay", "--from", "299", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 0 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "checkpoint after exchange 299") && strstr(r.out, "nothing after it"), SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

Test(tools, replay_of_a_duration_recording_runs_every_recorded_exchange, .timeout = 60)
{
  expect_ok(run("braid-record", "--duration", "0.5", "-t", "2", "-d", "16", "-q", "-o", "dur.btr", NULL));
  result s = run("braid-dump", "--stats", "dur.btr", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  unsigned long long n = 0;
  const char *p = strstr(s.out, "\nexchanges");
  cr_assert(p && sscanf(p, " exchanges %llu", &n) == 1 && n > 0, SHOW(s));
  char want[64];
  snprintf(want, sizeof want, "OK: %llu exchanges", n);
  result r = run("braid-replay", "dur.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, want), "want '%s'\n" "%s", want, r.out);
  drop(&s);
  drop(&r);
}

/* --------------------------------------------------------------------- dump */

static void need_jq(void)
{
  if (!BRAID_JQ[0] || access(BRAID_JQ, X_OK)) cr_skip_test("jq not found by configure: cannot check the JSON output");
}

/* braid-dump --chrome TRACE into JSON (a file in the test directory). */
static void dump_chrome(const char *trace, const char *json)
{
  result d = run("braid-dump", "--chrome", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath(json), d.out, d.outlen);
  drop(&d);
}

/* jq -r FILTER over the JSON file; its output without the last newline. */
static result jq(const char *json, const char *filter)
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
static void expect_jq_file(const char *json, const char *name, const char *want)
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
static void expect_nested(const char *json)
{
  result r = jq(json, NESTED_JQ);
  cr_assert_str_eq(r.out, "nested", "%s: slices on one track overlap: %s", json, r.out);
  drop(&r);
  expect_jq_file(json, "chrome-apart", "apart");
  expect_jq_file(json, "chrome-flows", "forwards, bound");
}

/* The tracks (pid/tid) that hold X slices, e.g. "1/0 1/1 2/0 2/1 2/2". */
#define TRACKS_JQ "[.traceEvents[] | select(.ph == \"X\") | \"\\(.pid)/\\(.tid)\"] | unique | join(\" \")"

/* One exchange is "1 exchange" in every tool; --from without a checkpoint
 * before it says the replay went from the start. */
Test(tools, counts_of_one_and_from_without_a_checkpoint_are_said_plainly, .timeout = 60)
{
  result r = run("braid-record", "-x", "1", "-d", "8", "-o", "one.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, ", 1 exchange, "), SHOW(r));
  drop(&r);
  r = run("braid-dump", "one.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "# end: 1 exchange, "), SHOW(r));
  drop(&r);
  record("run.btr", NULL);
  r = run("braid-replay", "--from", "20", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges") && strstr(r.out, "no checkpoint at or before --from 20, so it replayed from the start"), SHOW(r));
  drop(&r);
}

Test(tools, dump_chrome_is_trace_event_json_with_slices_counters_and_flows, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  expect_ok(run_in(tpath("run.json"), BRAID_JQ, "-e", ".", NULL));
  result r = jq("run.json", ".traceEvents | [.[].ph] | unique | join(\" \")");
  const char *need[] = { "M", "X", "C", "s", "f" };
  for (unsigned i = 0; i < 5; i++) {
    char w[8];
    snprintf(w, sizeof w, " %s ", need[i]);
    char have[256];
    snprintf(have, sizeof have, " %.*s ", (int)strcspn(r.out, "\n"), r.out);
    cr_assert(strstr(have, w), "no ph \"%s\" event among: %s", need[i], r.out);
  }
  drop(&r);
}

Test(tools, dump_chrome_slices_nest_on_every_track_of_a_threaded_run, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  /* Both workers and all three tori have slices, so every kind of track is checked. */
  result t = jq("run.json", TRACKS_JQ);
  cr_assert_str_eq(t.out, "1/0 1/1 2/0 2/1 2/2", "tracks with slices: %s", t.out);
  drop(&t);
  expect_nested("run.json");
}

Test(tools, dump_chrome_slices_nest_on_every_track_of_a_chaos_run, .timeout = 60)
{
  need_jq();
  record("chaos.btr", "--chaos=3");
  dump_chrome("chaos.btr", "chaos.json");
  result t = jq("chaos.json", TRACKS_JQ);
  cr_assert_str_eq(t.out, "1/0 1/1 2/0 2/1 2/2", "tracks with slices: %s", t.out);
  drop(&t);
  expect_nested("chaos.json");
}

/* A checkpoint written inside an exchange makes that slice long: the
 * projection's flow must still leave before its successor's epoch starts. */
Test(tools, dump_chrome_flows_go_forwards_and_bind_in_a_run_with_checkpoints, .timeout = 60)
{
  need_jq();
  record("ck.btr", "--checkpoint-every=50");
  dump_chrome("ck.btr", "ck.json");
  expect_nested("ck.json");
  /* Every torus's step k > 0 gets its predecessor's projection. */
  result r = jq("ck.json", "[.traceEvents[] | select(.ph == \"f\")] | length");
  cr_assert_str_eq(r.out, "897", "flows in a 300-exchange run of 3 tori: %s", r.out);
  drop(&r);
}

/* Names are short for the viewers that show them whole (speedscope appends
 * the args to them): the exchange is in args, not in the name. */
Test(tools, dump_chrome_slice_names_are_short_with_the_exchange_in_args, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\") | \"\\(.pid) \\(.name)\"] | unique | join(\",\")");
  cr_assert_str_eq(r.out, "1 A epoch,1 A exchange,1 A wait,1 B epoch,1 B exchange,1 B wait,1 C epoch,1 C exchange,1 C wait,2 epoch,2 exchange,2 wait",
                   "slice names: %s", r.out);
  drop(&r);
  r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\" and (.args.exchange | type) != \"number\")] | length");
  cr_assert_str_eq(r.out, "0", "slices without their exchange in args: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_worker_tracks_show_epochs_barrier_waits_and_exchanges, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\" and .pid == 1)] | group_by(.tid)"
                            " | map(\"worker \\(.[0].tid): \\([.[].cat] | unique | join(\",\"))\") | join(\"; \")");
  cr_assert_str_eq(r.out, "worker 0: barrier,epoch,exchange; worker 1: barrier,epoch,exchange", "slice categories per worker track: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_has_interval_and_violation_rate_counters_per_torus, .timeout = 60)
{
  need_jq();
  /* A fixed interval never changes: its counter must still be there. */
  record("run.btr", "--adapt=off");
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"C\") | .name] | unique | join(\",\")");
  cr_assert_str_eq(r.out, "interval A,interval B,interval C,violation rate A,violation rate B,violation rate C", "counters: %s", r.out);
  drop(&r);
  result v = jq("run.json", "[.traceEvents[] | select(.ph == \"C\" and (.name | startswith(\"interval\"))) | .args.events] | unique | join(\",\")");
  cr_assert_str_eq(v.out, "1000", "a fixed interval of 1000 events shows as: %s", v.out);
  drop(&v);
}

Test(tools, dump_chrome_projection_flows_reach_every_torus, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"f\") | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0 1 2", "tori with an incoming projection flow: %s", r.out);
  drop(&r);
}

/* The sample traces: recorded by other builds, some with failures. */
typedef struct sample {
  char name[32];
} sample;

ParameterizedTestParameters(tools, dump_chrome_of_a_sample_trace_is_nested_json)
{
  static sample s[] = { { "uniform" }, { "skewed" }, { "bursty" }, { "phold" }, { "racy-sequential" }, { "failure" }, { "injection" }, { "chaos-checkpoints" } };
  return cr_make_param_array(sample, s, sizeof s / sizeof s[0]);
}

ParameterizedTest(sample *s, tools, dump_chrome_of_a_sample_trace_is_nested_json, .timeout = 60)
{
  need_jq();
  char trace[512];
  snprintf(trace, sizeof trace, BRAID_SRCDIR "/traces/%s.btr", s->name);
  dump_chrome(trace, "sample.json");
  expect_ok(run_in(tpath("sample.json"), BRAID_JQ, "-e", ".traceEvents | length > 0", NULL));
  expect_nested("sample.json");
}

Test(tools, dump_json_is_json_lines, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--json", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  size_t lines = 0;
  for (size_t i = 0; i < d.outlen; i++) lines += d.out[i] == '\n';
  cr_assert_gt(lines, 300);
  cr_assert_eq(d.out[d.outlen - 1], '\n');
  FILE *f = fopen(tpath("run.jsonl"), "w");
  cr_assert(f);
  fwrite(d.out, 1, d.outlen, f);
  fclose(f);
  drop(&d);
  /* Every line on its own: -R reads lines as strings, fromjson parses each. */
  result r = run_in(tpath("run.jsonl"), BRAID_JQ, "-e", "-R", "-c", "fromjson | .type", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  size_t parsed = 0;
  for (size_t i = 0; i < r.outlen; i++) parsed += r.out[i] == '\n';
  cr_assert_eq(parsed, lines, "%zu of %zu lines parse", parsed, lines);
  cr_assert(!strncmp(r.out, "\"header\"\n", 9), "%.200s", r.out);
  cr_assert(strstr(r.out, "\"footer\"\n"), "no footer object");
  drop(&r);
}

/* The first line of braid-dump --json TRACE into header.json. */
static void dump_json_header(const char *trace)
{
  result d = run("braid-dump", "--json", trace, NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  char *nl = strchr(d.out, '\n');
  cr_assert(nl, SHOW(d));
  save(tpath("header.json"), d.out, (size_t)(nl - d.out + 1));
  drop(&d);
}

static void header_says(const char *filter, const char *want)
{
  result r = jq("header.json", filter);
  cr_assert_str_eq(r.out, want, "jq '%s' over\n%s", filter, (char *)load(tpath("header.json"), NULL));
  drop(&r);
}

/* The start time in ns exceeds 2^53 (jq printed ...734300 for ...734207):
 * also a string and whole microseconds.  The settings are an object, not
 * a key=value blob. */
Test(tools, dump_json_header_has_an_exact_start_time_and_settings_as_an_object, .timeout = 60)
{
  need_jq();
  record("run.btr", "--seed=9007199254740993");
  dump_json_header("run.btr");
  header_says(".start_unix_ns_string | test(\"^[0-9]{19}$\")", "true");
  header_says("(.start_unix_us | tostring) == .start_unix_ns_string[0:16]", "true");
  header_says(".config | type", "object");
  header_says("[.config.model, .config.tori, .config.dim, .config.adapt, .config.fail] | tojson", "[\"uniform\",3,16,\"violations\",\"\"]");
  /* Above 2^53 a number would be rounded: it stays a string. */
  header_says(".config.seed", "9007199254740993");
  header_says(".config.seed | type", "string");
}

/* Build and host strings are copied from the trace: bytes that are not
 * UTF-8 became invalid JSON, and a string longer than 8 KiB was cut in the
 * middle of a character.  Now every bad byte is U+FFFD and nothing is cut,
 * in --json and --chrome alike. */
Test(tools, dump_json_and_chrome_escape_any_header_bytes_whole, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  static char build[30000];
  size_t n = 0;
  build[n++] = 'b';
  build[n++] = (char)0xff; /* never UTF-8 */
  build[n++] = (char)0xc3; /* a lead byte without its continuation */
  build[n++] = '-';
  while (n < sizeof build - 3) {
    build[n++] = (char)0xc3; /* U+00E9, two bytes, across the old 8 KiB cut */
    build[n++] = (char)0xa9;
  }
  build[n] = 0;
  size_t chars = 4 + (n - 4) / 2;
  char host[] = { 'h', (char)0xed, (char)0xa0, (char)0x80, 'x', 0 }; /* a UTF-16 surrogate: not UTF-8 */
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "strings", "run.btr", "odd.btr", build, host, NULL));
  dump_json_header("odd.btr");
  /* The bytes themselves, not only jq's (lenient) reading of them. */
  size_t hn;
  char *raw = load(tpath("header.json"), &hn);
  cr_assert_null(memchr(raw, 0xff, hn), "a 0xff byte in the JSON");
  cr_assert_null(strstr(raw, "\xed\xa0"), "a surrogate in the JSON");
  cr_assert_null(strstr(raw, "\xc3-"), "a lone lead byte in the JSON");
  free(raw);
  char want[64];
  snprintf(want, sizeof want, "%zu", chars);
  header_says(".build | length", want);
  header_says(".build[0:5] | explode | tojson", "[98,65533,65533,45,233]");
  header_says(".build[-1:] | explode | tojson", "[233]");
  header_says(".host | explode | tojson", "[104,65533,65533,65533,120]");
  dump_chrome("odd.btr", "odd.json");
  result r = jq("odd.json", ".otherData.build | length");
  cr_assert_str_eq(r.out, want);
  drop(&r);
}

Test(tools, dump_stats_prints_the_exchange_count, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-dump", "--stats", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      300\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nstatus         complete\n"), SHOW(r));
  drop(&r);
}

Test(tools, dump_stats_counts_checkpoints_by_their_compressed_size, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-dump", "--stats", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  double per = -1;
  unsigned long long size = 0, ck = 0;
  const char *p = strstr(r.out, "\nsize");
  cr_assert(p && sscanf(p, " size %llu bytes (%lf bytes per exchange per torus, checkpoints %llu bytes)", &size, &per, &ck) == 3, SHOW(r));
  cr_assert(ck > 0 && ck < size, SHOW(r));
  cr_assert(per > 0 && per < 1000, SHOW(r));
  drop(&r);
}

/* ------------------------------------------- dump: selection, stdin, html */

/* Occurrences of `w` in s. */
static size_t count_of(const char *s, const char *w)
{
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, w)); p += strlen(w)) n++;
  return n;
}

Test(tools, dump_text_of_a_selection_has_only_its_exchanges_and_torus, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-dump", "--exchanges", "10..12", "--torus", "B", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nexchange 10\n") && strstr(r.out, "\nexchange 12\n"), SHOW(r));
  cr_assert_eq(count_of(r.out, "\nexchange "), 3, SHOW(r));
  cr_assert_eq(count_of(r.out, " torus="), count_of(r.out, " torus=1 "), "a record of another torus:\n%s", r.out);
  cr_assert_gt(count_of(r.out, " torus=1 "), 8, SHOW(r));
  drop(&r);
  /* A single exchange, and an open end. */
  r = run("braid-dump", "--exchanges", "299", "run.btr", NULL);
  cr_assert(r.status == 0 && count_of(r.out, "\nexchange ") == 1 && strstr(r.out, "\nexchange 299\n"), SHOW(r));
  drop(&r);
  r = run("braid-dump", "--exchanges", "295..", "run.btr", NULL);
  cr_assert(r.status == 0 && count_of(r.out, "\nexchange ") == 5, SHOW(r));
  drop(&r);
}

Test(tools, dump_json_of_a_selection_keeps_header_footer_and_its_records, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--json", "--exchanges", "..4", "--torus", "A", "--torus", "C", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath("sel.jsonl"), d.out, d.outlen);
  drop(&d);
  result r = run_in(tpath("sel.jsonl"), BRAID_JQ, "-r", "-s",
                    "[.[0].type, .[-1].type, ([.[1:-1][] | .exchange] | unique | map(tostring) | join(\",\")),"
                    " ([.[1:-1][] | select(.torus != null) | .torus] | unique | map(tostring) | join(\",\"))] | join(\" \")", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out, "header footer 0,1,2,3,4 0,2\n", "type of the first and last lines, exchanges, tori: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_of_a_selection_draws_only_its_tori_and_exchanges, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--chrome", "--exchanges", "100..199", "--torus", "A", "--torus", "C", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath("sel.json"), d.out, d.outlen);
  drop(&d);
  result r = jq("sel.json", "[.traceEvents[] | select(.ph == \"X\" and .pid == 2) | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0 2", "torus tracks: %s", r.out);
  drop(&r);
  r = jq("sel.json", "[.traceEvents[] | select(.ph == \"X\") | .args.exchange] | [min, max] | map(tostring) | join(\" \")");
  cr_assert_str_eq(r.out, "100 199", "exchanges drawn: %s", r.out);
  drop(&r);
  /* Only C's projection reaches a selected torus: A (B's is not drawn). */
  r = jq("sel.json", "[.traceEvents[] | select(.ph == \"f\") | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0", "tori with incoming flows: %s", r.out);
  drop(&r);
  expect_nested("sel.json");
}

Test(tools, dump_stats_of_a_selection_counts_its_exchanges_and_events, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result r = run("braid-dump", "--stats", "--exchanges", "10..19", "--torus", "A", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nselection      exchanges 10..19, torus A\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      10\n"), SHOW(r));
  unsigned long long events = 0;
  const char *p = strstr(r.out, "\nevents");
  cr_assert(p && sscanf(p, " events %llu (the selection's", &events) == 1, SHOW(r));
  drop(&r);
  /* Torus A's count after exchange 19 less its count after exchange 9. */
  result d = run("braid-dump", "--json", "run.btr", NULL);
  save(tpath("run.jsonl"), d.out, d.outlen);
  drop(&d);
  result j = run_in(tpath("run.jsonl"), BRAID_JQ, "-s", "[.[] | select(.type == \"projection\" and .torus == 0 and (.exchange == 9 or .exchange == 19))"
                    " | .events] | .[1] - .[0]", NULL);
  cr_assert_eq(j.status, 0, SHOW(j));
  cr_assert_eq(events, strtoull(j.out, NULL, 10), "--stats says %llu events, the projections %s", events, j.out);
  drop(&j);
}

Test(tools, dump_reads_a_trace_from_standard_input, .timeout = 60)
{
  record("run.btr", NULL);
  result f = run("braid-dump", "--stats", "run.btr", NULL);
  result s = run_in(tpath("run.btr"), "braid-dump", "--stats", "-", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  cr_assert(!strncmp(s.out, "trace          standard input\n", 30), SHOW(s));
  /* The rest is the file's summary, its size included. */
  cr_assert_str_eq(strchr(s.out, '\n'), strchr(f.out, '\n'), "from stdin:\n%s\nfrom the file:\n%s", s.out, f.out);
  drop(&f);
  drop(&s);
  f = run("braid-dump", "--exchanges", "7..9", "run.btr", NULL);
  s = run_in(tpath("run.btr"), "braid-dump", "--exchanges", "7..9", "-", NULL);
  cr_assert(s.status == 0 && f.outlen == s.outlen && !memcmp(f.out, s.out, f.outlen), SHOW(s));
  drop(&f);
  drop(&s);
}

Test(tools, dump_stats_names_the_model_and_its_plugin, .timeout = 60)
{
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "-m", "phold", "-o", "p.btr", NULL));
  result r = run("braid-dump", "--stats", "p.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "\nmodel          phold\n"), SHOW(r));
  drop(&r);
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "--model-plugin", BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so", "-o", "r.btr", NULL));
  r = run("braid-dump", "--stats", "r.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "\nmodel          ripple (plugin ripple "), SHOW(r));
  drop(&r);
}

Test(tools, dump_names_the_sources_that_are_not_cells, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "--trace-events", "--inject", "A@3:5=100", "-o", "ev.btr", NULL));
  result r = run("braid-dump", "ev.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, " src=correction ") && strstr(r.out, " src=external "), "no named source in the dump");
  cr_assert(!strstr(r.out, "src=42949"), "a source printed as a number: %s", strstr(r.out, "src=42949"));
  drop(&r);
  result d = run("braid-dump", "--json", "ev.btr", NULL);
  save(tpath("ev.jsonl"), d.out, d.outlen);
  drop(&d);
  r = run_in(tpath("ev.jsonl"), BRAID_JQ, "-r", "-s", "[.[] | select(.type == \"event\" and (.src | type) == \"string\") | .src] | unique | join(\",\")", NULL);
  cr_assert_str_eq(r.out, "correction,external\n", "named sources in --json: %s", r.out);
  drop(&r);
}

/* The charts of a report, by id. */
static const char *const charts[] = { "throughput", "interval", "violations", "corrective", "waits", "event-latency", "exchange-latency", "wait-distribution" };

Test(tools, dump_html_is_one_self_contained_page_with_every_chart, .timeout = 60)
{
  record("run.btr", "--fail=B@150");
  result r = run("braid-dump", "--html", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(!strncmp(r.out, "<!DOCTYPE html>\n", 16) && r.outlen > 7 && !strcmp(r.out + r.outlen - 8, "</html>\n"), "not one whole page");
  cr_assert_eq(count_of(r.out, "<svg class=\"chart\""), 8, "charts: %zu", count_of(r.out, "<svg class=\"chart\""));
  for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
    char id[64];
    snprintf(id, sizeof id, "id=\"%s\"", charts[i]);
    cr_assert(strstr(r.out, id), "no chart %s", charts[i]);
  }
  /* Works offline: no script, nothing fetched. */
  cr_assert(!strstr(r.out, "<script") && !strstr(r.out, "http://") && !strstr(r.out, "https://") && !strstr(r.out, "src=\""), "the page refers outside itself");
  /* 3 tori on 4 charts, their longest waits, and the corrective events. */
  cr_assert_geq(count_of(r.out, "<polyline class=\"mark"), 16);
  cr_assert_gt(count_of(r.out, "<rect class=\"mark bar\""), 3);
  cr_assert_eq(count_of(r.out, "class=\"marker failure\""), 5, "a failure marker on each of the 5 charts over exchanges");
  cr_assert(strstr(r.out, "<th>model</th><td>uniform</td>") && strstr(r.out, "<b>fail</b> <code>1@150</code>"), "settings missing");
  cr_assert(strstr(r.out, "Not replayed"), "a verdict without a replay");
  drop(&r);
}

Test(tools, dump_html_replay_shows_the_verdict, .timeout = 90)
{
  record("run.btr", "--inject=A@50:3=7");
  result r = run("braid-dump", "--html", "--replay", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges, parallel == sequential"), "no verdict");
  cr_assert_eq(count_of(r.out, "class=\"marker injection\""), 5, "an injection marker on each chart over exchanges");
  drop(&r);
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  r = run("braid-dump", "--html", "--replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "DIVERGED at exchange "), "the racy run's divergence is not shown");
  drop(&r);
}

/* However long the run, a line has one point per bucket of exchanges (at
 * most 512), so the page stays small. */
Test(tools, dump_html_of_a_long_run_is_downsampled, .timeout = 90)
{
  expect_ok(run("braid-record", "-q", "-x", "3000", "-d", "8", "-i", "100", "-o", "long.btr", NULL));
  result r = run("braid-dump", "--html", "long.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "<th>charts</th><td>8 exchanges per point"), "no word of the downsampling");
  size_t most = 0;
  for (const char *p = r.out; (p = strstr(p, "points=\"")); p++) {
    size_t n = 1;
    for (const char *q = p + 8; *q != '"'; q++) n += *q == ' ';
    if (n > most) most = n;
  }
  cr_assert(most > 300 && most <= 512, "the longest line has %zu points", most);
  cr_assert_lt(r.outlen, 1000000, "%zu bytes", r.outlen);
  drop(&r);
}

Test(tools, dump_html_of_a_damaged_trace_with_partial_shows_the_good_part, .timeout = 60)
{
  result r = run("braid-dump", "--html", "--partial", BRAID_SRCDIR "/traces/broken-truncated.btr", NULL);
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(!strncmp(r.out, "<!DOCTYPE html>", 15) && strstr(r.out, "</html>"), "no page");
  cr_assert(strstr(r.err, "broken-truncated.btr") && strstr(r.err, "truncated"), SHOW(r));
  drop(&r);
}


/* A trace whose writer died between frames has no index and no footer, so
 * no event total: --stats adds up the tori's counts in their last
 * projections (or rebuilds) and says so.  Made here by cutting a finished
 * trace (torus B failing at its last exchange) at its index frame, whose
 * offset the footer gives at payload byte 160. */
Test(tools, dump_stats_counts_events_of_a_trace_without_footer, .timeout = 60)
{
  record("run.btr", "--fail=B@299");
  result c = run("braid-dump", "--stats", "run.btr", NULL);
  cr_assert_eq(c.status, 0, SHOW(c));
  unsigned long long total = 0, events = 0;
  const char *e = strstr(c.out, "\nevents ");
  cr_assert(e && sscanf(e, " events %llu", &total) == 1 && total > 0, SHOW(c));
  drop(&c);
  size_t n;
  uint8_t *b = load(tpath("run.btr"), &n);
  uint32_t size;
  uint64_t index;
  cr_assert(n > 200 && !memcmp(b + n - 4, "BRFT", 4));
  memcpy(&size, b + n - 8, 4);
  cr_assert(size >= 168 && size < n);
  memcpy(&index, b + n - size + 160, 8);
  cr_assert(index > 0 && index < n - size);
  save(tpath("cut.btr"), b, (size_t)index);
  free(b);
  result r = run("braid-dump", "--stats", "cut.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nstatus         unfinished\n"), SHOW(r));
  e = strstr(r.out, "\nevents ");
  cr_assert(e && sscanf(e, " events %llu", &events) == 1, SHOW(r));
  cr_assert_eq(events, total, "the finished trace had %llu events\n%s", total, r.out);
  cr_assert(strstr(e, " (no footer: the tori's last projections)\n"), SHOW(r));
  drop(&r);
}

/* A truncated trace: the events of its complete exchanges, and the size per
 * exchange says that it counts the cut frame. */
Test(tools, dump_stats_of_a_truncated_trace_counts_its_complete_exchanges, .timeout = 60)
{
  result r = run("braid-dump", "--stats", "--partial", BRAID_SRCDIR "/traces/broken-truncated.btr", NULL);
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      1\nevents         600 (no footer: the tori's last projections)\n"), SHOW(r));
  cr_assert(strstr(r.out, " bytes per exchange per torus, the cut frame included,"), SHOW(r));
  drop(&r);
}

/* ------------------------------------------------------------ the report */

/* braid-record's JSON report of a default-settings run (3 tori of 16^3 cells,
 * 300 exchanges, 2 threads), saved as report.json. */
static void json_report(void)
{
  result r = run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
}

/* jq's answer to FILTER over report.json is `want`. */
static void report_says(const char *filter, const char *want)
{
  result r = jq("report.json", filter);
  cr_assert_str_eq(r.out, want, "jq '%s' over\n%s", filter, (char *)load(tpath("report.json"), NULL));
  drop(&r);
}

Test(tools, record_json_report_times_events_at_default_settings, .timeout = 60)
{
  need_jq();
  json_report();
  report_says(".event_latency.samples > 0 and .event_latency.p50_ns <= .event_latency.p99_ns", "true");
}

Test(tools, record_json_report_labels_per_torus_rates_as_while_running, .timeout = 60)
{
  need_jq();
  json_report();
  report_says("[.per_torus[] | has(\"events_per_second_while_running\") and has(\"busy_seconds\") and (has(\"events_per_second\") | not)] | all",
              "true");
}

Test(tools, record_json_report_is_consistent, .timeout = 60)
{
  need_jq();
  json_report();
  report_says(".rss_kib.peak >= .rss_kib.end and .rss_kib.peak >= .rss_kib.start", "true");
  report_says(".interval.min <= .interval.final_min and .interval.final_max <= .interval.max", "true");
  report_says(".cpu_user_seconds + .cpu_sys_seconds - .cpu_seconds | fabs < 0.000002", "true");
  report_says("[.thread_cpu_user_seconds, .thread_cpu_sys_seconds, .thread_cpu_seconds] | map(length) | unique | length", "1");
  report_says(".convergence.rule | startswith(\"a torus has converged from the first exchange after its last perturbation\")", "true");
  report_says("(.convergence.per_torus | length) == .tori", "true");
  report_says(".convergence.from_exchange == ([.convergence.per_torus[] | .converged_exchange] | if any(. == null) then null else max end)",
              "true");
}

/* Convergence is judged over a torus's last 10 boundary checks since the
 * exchange it converged from, so the checks that stray above 1% in a steady
 * run do not hide it: a default run at D=32 has converged from the start.
 * 64 cells of torus B's boundary face perturbed by +1000 at exchange 100
 * (6% of the face) are corrected at the next exchange: B converges 2
 * exchanges after the injection, and the other tori were never perturbed
 * (the figures are deterministic: they come from the logical stream). */
Test(tools, record_report_convergence_of_a_steady_and_a_perturbed_run, .timeout = 60)
{
  need_jq();
  result r = run("braid-record", "-x", "400", "-q", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".convergence.from_exchange", "0");
  report_says("[.convergence.per_torus[] | .perturbation == null and .exchanges == 0] | all", "true");
  char inj[64][32];
  char *argv[2 * 64 + 8];
  int n = 0;
  argv[n++] = "braid-record";
  for (int i = 0; i < 64; i++) {
    snprintf(inj[i], sizeof inj[i], "--inject=B@100:%d=1000", 32 * 32 * 31 + i);
    argv[n++] = inj[i];
  }
  argv[n++] = "-x";
  argv[n++] = "400";
  argv[n++] = "-q";
  argv[n++] = "--json";
  argv[n] = NULL;
  r = finish(start(NULL, "run", argv), "run");
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".convergence.per_torus[1] | [.perturbation, .perturbed_exchange, .converged_exchange, .exchanges] | tojson", "[\"injection\",100,102,2]");
  report_says(".convergence.per_torus[0].perturbation == null and .convergence.per_torus[2].perturbation == null", "true");
  report_says(".convergence.from_exchange", "102");
}

/* With --trace-events and a trace no event is timed: the report said
 * "p50 0 ns (sampled 0)"; it says so in words, and null in JSON. */
Test(tools, record_report_of_unsampled_event_latency_says_so, .timeout = 60)
{
  result r = run("braid-record", "-d", "8", "-x", "20", "--trace-events", "-o", "t.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n  event latency      not sampled (--trace-events times no event)\n"), SHOW(r));
  cr_assert_null(strstr(r.out, "(sampled 0)"), SHOW(r));
  drop(&r);
  need_jq();
  r = run("braid-record", "-d", "8", "-x", "20", "--trace-events", "-o", "t.btr", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".event_latency | [.p50_ns, .p95_ns, .p99_ns, .max_ns, .samples] | tojson", "[null,null,null,null,0]");
}

/* The text report names what its figures are. */
Test(tools, record_text_report_labels_its_figures, .timeout = 60)
{
  result r = run("braid-record", "-x", "300", "-d", "16", "-t", "2", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n    torus A ") && strstr(r.out, " M events/s while running "), SHOW(r));
  const char *w = strstr(r.out, "\n  barrier wait ");
  cr_assert(w && strstr(w, " p95 ") && strstr(w, " p95 ") < strchr(w + 1, '\n'), SHOW(r));
  cr_assert(!strstr(r.out, "(sampled 0)"), SHOW(r));
  cr_assert(strstr(r.out, "\n  convergence        every torus from exchange 0 on (< 1% of the cells violated over up to 10 checks since, after the last perturbation)\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n    torus A          no perturbation: converged from exchange 0\n"), SHOW(r));
  cr_assert(strstr(r.out, " over the run") && strstr(r.out, " user, ") && strstr(r.out, " system"), SHOW(r));
  drop(&r);
}

/* The report of one braid-record run (quiet, JSON) into report.json;
 * returns jq's answer to FILTER over it. */
static unsigned long long record_json_says(const char *filter, char **argv)
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

/* -e N ends the run after the first exchange at which the events reach N:
 * one exchange less stays below N.  Threaded and sequential runs end at the
 * same exchange, and the trace replays.  (It was the starting interval times
 * the tori, 10x off once the interval adapted.) */
Test(tools, record_events_limit_ends_at_the_first_exchange_that_reaches_it, .timeout = 60)
{
  need_jq();
  static const char *models[] = { "bursty", "uniform" };
  for (int m = 0; m < 2; m++) {
    char *thr[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "-t", "2", "-e", "3000000", "-q", "--json", "-o", "t.btr", NULL };
    unsigned long long k = record_json_says(".exchanges", thr);
    cr_assert_geq(k, 2, "%s: %llu exchanges", models[m], k);
    result q = jq("report.json", ".events >= 3000000 and .events_limit.limit == 3000000 and .events_limit.reached");
    cr_assert_str_eq(q.out, "true", "%s: %s", models[m], (char *)load(tpath("report.json"), NULL));
    drop(&q);
    expect_ok(run("braid-replay", "-q", "t.btr", NULL));
    char *seq[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "--sequential", "-e", "3000000", "-q", "--json", NULL };
    cr_assert_eq(record_json_says(".exchanges", seq), k, "%s: the sequential run ended elsewhere", models[m]);
    char less[32];
    snprintf(less, sizeof less, "%llu", k - 1);
    char *shorter[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "--sequential", "-x", less, "-q", "--json", NULL };
    cr_assert_lt(record_json_says(".events", shorter), 3000000, "%s: %s exchanges already reach 3000000 events", models[m], less);
  }
  result r = run("braid-record", "-m", "bursty", "-d", "8", "-e", "3000000", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n  events limit       3000000: reached at exchange "), SHOW(r));
  drop(&r);
  /* The limit is run length, which braid-diff does not compare: the same
   * run cut by -x at the same exchange is equal. */
  char *by_events[] = { "braid-record", "-d", "8", "--sequential", "-e", "3000000", "-q", "--json", "-o", "e.btr", NULL };
  char x[32];
  snprintf(x, sizeof x, "%llu", record_json_says(".exchanges", by_events));
  expect_ok(run("braid-record", "-d", "8", "--sequential", "-x", x, "-q", "-o", "x.btr", NULL));
  r = run("braid-diff", "e.btr", "x.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_null(strstr(r.out, "settings differ"), SHOW(r));
  drop(&r);
}

/* ------------------------------------------------------------ progress line */

/* Runs a tool in the test directory with standard error on a pseudo-
 * terminal (standard output to a file): what it wrote on the terminal in
 * r.err, its wall time in *seconds.  The output must fit the terminal's
 * buffer, which is read once the tool has exited. */
static unsigned short tty_columns; /* the terminal's width for run_on_tty; 0: the pty's default */

static result run_on_tty(double *seconds, char **argv)
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

/* The progress thread slept 200 ms before it looked whether the run had
 * ended, and drew a line after the end.  A run of one exchange now draws
 * none on a terminal: the thread is woken by the end of the run, not by its
 * timer.  (The time saved is not asserted: wall time is no test here.) */
Test(tools, record_progress_line_is_not_drawn_after_a_short_run_ends, .timeout = 60)
{
  char *argv[] = { "braid-record", "-x", "1", "-d", "8", "-n", "2", NULL };
  for (int i = 0; i < 3; i++) {
    double t;
    result r = run_on_tty(&t, argv);
    cr_assert_eq(r.status, 0, SHOW(r));
    cr_assert_not(strstr(r.err, "exchange"), "a progress line after the run: " SHOW(r));
    drop(&r);
  }
}

/* A timed run's exchange count is a placeholder: the line shows the seconds. */
Test(tools, record_progress_line_of_a_timed_run_shows_seconds, .timeout = 60)
{
  char *argv[] = { "braid-record", "--duration", "0.7", "-d", "8", NULL };
  double t;
  result r = run_on_tty(&t, argv);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.err, "braid-record: exchange "), SHOW(r));
  cr_assert(strstr(r.err, "/0.7 s, "), SHOW(r));
  cr_assert_not(strstr(r.err, "1099511627776"), SHOW(r));
  /* The line is wiped at the end: the last thing on the terminal. */
  cr_assert(r.errlen > 2 && r.err[r.errlen - 1] == '\r' && r.err[r.errlen - 2] == ' ', SHOW(r));
  drop(&r);
}

/* In a terminal 30 columns wide the line wrapped, and every redraw left its
 * first row behind.  Every redraw now fits in 29 columns. */
Test(tools, record_progress_line_fits_a_narrow_terminal, .timeout = 60)
{
  char *argv[] = { "braid-record", "--duration", "0.7", "-d", "8", NULL };
  double t;
  tty_columns = 30;
  result r = run_on_tty(&t, argv);
  tty_columns = 0;
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.err, "\rbraid-record: exchange "), SHOW(r));
  int redraws = 0;
  for (char *p = r.err, *next; p && *p; p = next) {
    next = strchr(p + 1, '\r');
    size_t n = next ? (size_t)(next - p) : strlen(p);
    if (*p == '\r') p++, n--;
    cr_assert_leq(n, 29, "a redraw of %zu columns: '%.*s'", n, (int)n, p);
    cr_assert_null(memchr(p, '\n', n), "a new line in the progress output");
    redraws += n > 0;
  }
  cr_assert_geq(redraws, 1, SHOW(r));
  drop(&r);
}

/* ------------------------------------------------------------ signals, disk */

/* Starts a 30-second recording into t.btr and returns once the trace has
 * grown twice past its header: the first data frame is then complete. */
static pid_t recording_under_way(void)
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

static void interrupt_recording(int sig, int want)
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

/* kill -9 leaves no chance to finalise.  Killed between frames, the trace
 * is "unfinished" and reads as it is; killed inside a frame, it is
 * "truncated" and refused without --partial.  Either way its complete
 * exchanges replay exactly with --partial. */
Test(tools, kill_9_of_a_recording_leaves_a_trace_readable_to_its_last_frame, .timeout = 120)
{
  pid_t pid = recording_under_way();
  cr_assert_eq(kill(pid, SIGKILL), 0);
  result r = finish(pid, "rec");
  cr_assert_eq(r.status, 128 + SIGKILL, SHOW(r));
  drop(&r);
  result s = run("braid-dump", "--stats", "t.btr", NULL);
  if (s.status == 0) cr_assert(strstr(s.out, "\nstatus         unfinished\n"), SHOW(s));
  else cr_assert(s.status == 2 && strstr(s.err, "truncated") && strstr(s.err, "t.btr"), SHOW(s));
  drop(&s);
  result p = run("braid-replay", "--partial", "t.btr", NULL);
  cr_assert_eq(p.status, 0, SHOW(p));
  unsigned long long n = 0;
  const char *ok = strstr(p.out, "OK: ");
  cr_assert(ok && sscanf(ok, "OK: %llu", &n) == 1 && n > 0, "some complete exchanges replay: " SHOW(p));
  cr_assert(strstr(p.err, "truncated") || strstr(p.err, "unfinished"), SHOW(p));
  drop(&p);
}

/* Every trace the tools write, and every golden trace, passes zstd -t. */
Test(tools, every_trace_the_tools_write_passes_zstd_t, .timeout = 120)
{
  static const char *variants[][2] = {
    { "plain.btr", NULL },
    { "seq.btr", "--sequential" },
    { "ckpt.btr", "--checkpoint-every=50" },
    { "events.btr", "--trace-events" },
    { "chaos.btr", "--chaos=5" },
    { "fail.btr", "--fail=B@100" },
    { "inject.btr", "--inject=C@50:7=900" },
    { "rate.btr", "--adapt=rate" },
  };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    record(variants[i][0], variants[i][1]);
    result r = run("zstd", "-q", "-t", variants[i][0], NULL);
    cr_assert_eq(r.status, 0, "%s: " SHOW_FMT, variants[i][0], SHOW_ARGS(r));
    drop(&r);
  }
  walk w;
  walk_open(&w, "traces");
  int golden = 0;
  while (walk_next(&w)) {
    size_t len = strlen(w.name);
    if (len < 5 || strcmp(w.name + len - 4, ".btr") || !strncmp(w.name, "broken-", 7)) continue;
    result r = run("zstd", "-q", "-t", w.path, NULL);
    cr_assert_eq(r.status, 0, "%s: " SHOW_FMT, w.path, SHOW_ARGS(r));
    drop(&r);
    golden++;
  }
  cr_assert_geq(golden, 8, "the golden traces are there");
}

Test(tools, sigint_stops_the_recording_with_130_and_a_finalised_trace, .timeout = 120)
{
  interrupt_recording(SIGINT, 130);
}

Test(tools, sigterm_stops_the_recording_with_143_and_a_finalised_trace, .timeout = 120)
{
  interrupt_recording(SIGTERM, 143);
}

/* Exit 2, nothing on stdout, exactly one line on stderr containing each of
 * the given words. */
static void expect_trouble(result r, const char *w1, const char *w2)
{
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert_eq(r.outlen, 0, SHOW(r));
  cr_assert(r.errlen > 0 && r.err[r.errlen - 1] == '\n', SHOW(r));
  cr_assert_eq(strchr(r.err, '\n'), r.err + r.errlen - 1, "more than one line on stderr:\n%s", r.err);
  cr_assert(strstr(r.err, w1), "stderr does not say '%s':\n%s", w1, r.err);
  if (w2) cr_assert(strstr(r.err, w2), "stderr does not say '%s':\n%s", w2, r.err);
  drop(&r);
}

/* A truncated trace was "truncated after exchange 0" in braid-replay but
 * "ends inside the frame at offset 651" in braid-dump and braid-diff: every
 * tool now says one line with both facts. */
Test(tools, every_tool_words_a_truncation_alike, .timeout = 60)
{
  const char *t = BRAID_SRCDIR "/traces/broken-truncated.btr";
  result rs[] = {
    run("braid-replay", t, NULL), run("braid-dump", t, NULL), run("braid-dump", "--stats", t, NULL), run("braid-diff", t, t, NULL),
  };
  const char *progs[] = { "braid-replay", "braid-dump", "braid-dump", "braid-diff" };
  char first[512] = "";
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(rs[i].status, 2, SHOW(rs[i]));
    char want[600];
    snprintf(want, sizeof want, "%s: %s: truncated after exchange ", progs[i], t);
    cr_assert(!strncmp(rs[i].err, want, strlen(want)), SHOW(rs[i]));
    const char *fact = rs[i].err + strlen(progs[i]) + 2;
    unsigned long long k, off;
    cr_assert_eq(sscanf(fact + strlen(t) + 2, "truncated after exchange %llu: the file ends inside the frame at offset %llu", &k, &off), 2, SHOW(rs[i]));
    size_t n = strcspn(fact, ";\n");
    if (!first[0]) snprintf(first, sizeof first, "%.*s", (int)n, fact);
    else cr_assert(strlen(first) == n && !strncmp(first, fact, n), "'%.*s' is not '%s'", (int)n, fact, first);
    drop(&rs[i]);
  }
}

/* ------------------------------------------------- --json of replay and diff */

/* jq's answer to FILTER over the JSON a tool printed (saved as NAME). */
static void json_says(const result *r, const char *name, const char *filter, const char *want)
{
  save(tpath(name), r->out, r->outlen);
  result q = jq(name, filter);
  cr_assert_str_eq(q.out, want, "jq '%s' over\n%s", filter, r->out);
  drop(&q);
}

/* --json for CI: braid-replay's verdict, divergence and counts, one JSON
 * document on stdout with the exit status of the text output. */
Test(tools, replay_json_gives_the_verdict_and_the_divergence, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-replay", "--json", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "ok.json", "[.verdict, .exchanges_checked, .trace_exchanges, .recorded_threaded, .divergence, .from_checkpoint] | tojson",
            "[\"ok\",50,50,false,null,null]");
  drop(&r);
  r = run("braid-replay", "--json", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  json_says(&r, "div.json", "[.verdict, .exchanges_checked, .divergence.exchange, .divergence.torus, .divergence.record, .divergence.field] | tojson",
            "[\"diverged\",5,5,0,\"projection\",\"vtime\"]");
  json_says(&r, "div.json", ".divergence.recorded - .divergence.replayed", "1");
  json_says(&r, "div.json", ".divergence.context | test(\"projection\")", "true");
  drop(&r);
  r = run("braid-replay", "--json", "--violation", "1", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "viol.json", "[.verdict, .violation.n, (.violation.cells | length > 0)] | tojson", "[\"violation\",1,true]");
  drop(&r);
  /* Trouble stays one line on stderr, nothing on stdout. */
  expect_trouble(run("braid-replay", "--json", "nosuch.btr", NULL), "nosuch.btr", NULL);
}

/* braid-diff --json: verdict, first difference and counts; a file compared
 * with itself (by any path) is said to be one file, in words and in JSON. */
Test(tools, diff_json_and_diff_of_one_file_with_itself, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-diff", "--json", "seq.btr", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  json_says(&r, "d.json", "[.verdict, .same_file, .divergence.exchange, .divergence.torus, .divergence.record, .divergence.field, .records.differing] | tojson",
            "[\"differ\",false,5,0,\"projection\",\"vtime\",1]");
  json_says(&r, "d.json", ".divergence.b - .divergence.a", "1");
  json_says(&r, "d.json", "[.exchanges.a, .exchanges.common, .by_type[0].type, .by_type[0].differing] | tojson", "[50,50,\"projection\",1]");
  drop(&r);
  cr_assert_eq(symlink("seq.btr", tpath("link.btr")), 0);
  r = run("braid-diff", "seq.btr", "link.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "seq.btr and link.btr are the same file: it is compared with itself\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nequal: one file, compared with itself"), SHOW(r));
  drop(&r);
  r = run("braid-diff", "--json", "./seq.btr", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "s.json", "[.verdict, .same_file, .divergence] | tojson", "[\"equal\",true,null]");
  drop(&r);
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq2.btr", NULL));
  r = run("braid-diff", "seq.btr", "seq2.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_null(strstr(r.out, "same file"), SHOW(r));
  drop(&r);
}

/* --sequential -t 2 was accepted, the thread count silently ignored; -t 64
 * with 3 tori started 64 threads, 61 of them idle, and listed each. */
Test(tools, record_refuses_sequential_with_threads_and_starts_no_idle_thread, .timeout = 60)
{
  expect_trouble(run("braid-record", "--sequential", "-t", "2", "-x", "1", NULL), "--sequential and --threads 2 conflict", NULL);
  expect_trouble(run("braid-record", "-t", "3", "--set", "sequential=1", "-x", "1", NULL), "--set sequential and --threads 3 conflict", NULL);
  expect_ok(run("braid-record", "--sequential", "-t", "0", "-d", "8", "-x", "1", "-q", NULL));
  result r = run("braid-record", "-t", "64", "-n", "3", "-d", "8", "-x", "10", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.err, "braid-record: note: --threads 64 with 3 tori: a torus runs on one thread at a time, so 3 worker threads are started\n");
  cr_assert(strstr(r.out, "\n  threads            3\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n    thread 2 ") && !strstr(r.out, "\n    thread 3 "), SHOW(r));
  drop(&r);
  r = run("braid-record", "-t", "64", "-n", "3", "-d", "8", "-x", "10", "-q", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

/* /proc/PID/NAME, NUL-terminated ("" when it cannot be read). */
static char *proc_file(pid_t pid, const char *name)
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

/* The signal handlers came after the trace file was created: a SIGINT in
 * between killed braid-record and left a trace without a footer.  A FIFO
 * holds braid-record inside that window (its open waits for a reader): the
 * handlers must be in place there, and a SIGINT then still gives a whole,
 * finalised trace and exit 130. */
Test(tools, record_catches_signals_before_it_creates_the_trace, .timeout = 60)
{
  /* Whether the kernel names what a sleeping process waits in: a child
   * asleep in pause() must not read as "0". */
  pid_t sleeper = fork();
  cr_assert(sleeper >= 0);
  if (!sleeper) {
    pause();
    _exit(0);
  }
  char wchan[64];
  for (char state = 0; state != 'S';) {
    char *st = proc_file(sleeper, "stat");
    state = strrchr(st, ')') ? strrchr(st, ')')[2] : 0;
    free(st);
  }
  char *w = proc_file(sleeper, "wchan");
  snprintf(wchan, sizeof wchan, "%s", w);
  free(w);
  kill(sleeper, SIGKILL);
  waitpid(sleeper, NULL, 0);
  if (!strcmp(wchan, "0") || !wchan[0]) cr_skip_test("this kernel does not name the function a process waits in (/proc/PID/wchan)");
  cr_assert_eq(mkfifo(tpath("fifo"), 0644), 0, "mkfifo: %s", strerror(errno));
  char *argv[] = { "braid-record", "-d", "8", "-x", "100000", "-q", "-o", "fifo", NULL };
  pid_t pid = start(NULL, "rec", argv);
  for (;;) { /* until it waits in the FIFO's open (fifo_open's wait) */
    w = proc_file(pid, "wchan");
    int there = !strcmp(w, "wait_for_partner");
    free(w);
    if (there) break;
    int ws;
    cr_assert_eq(waitpid(pid, &ws, WNOHANG), 0, "braid-record ended before opening the FIFO");
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
  }
  char *status = proc_file(pid, "status"), *cgt = strstr(status, "\nSigCgt:");
  cr_assert(cgt, "%s", status);
  unsigned long long caught = strtoull(cgt + 8, NULL, 16);
  free(status);
  cr_assert((caught >> (SIGINT - 1)) & 1, "SIGINT is not caught while the trace is created (SigCgt %llx)", caught);
  cr_assert((caught >> (SIGTERM - 1)) & 1, "SIGTERM is not caught while the trace is created (SigCgt %llx)", caught);
  cr_assert_eq(kill(pid, SIGINT), 0);
  int in = open(tpath("fifo"), O_RDONLY), out = open(tpath("t.btr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert(in >= 0 && out >= 0);
  char buf[65536];
  for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;) cr_assert_eq(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  result r = finish(pid, "rec");
  cr_assert_eq(r.status, 130, SHOW(r));
  cr_assert_str_eq(r.err, "braid-record: interrupted by SIGINT after exchange 0; trace finalised\n");
  drop(&r);
  r = run("braid-dump", "--stats", "t.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "interrupted"), SHOW(r));
  drop(&r);
}

Test(tools, record_to_a_full_disk_is_trouble, .timeout = 60)
{
  expect_trouble(run("braid-record", "-x", "300", "-d", "16", "-o", "/dev/full", NULL), "/dev/full", "No space left on device");
}

/* A real small file system filling up in the middle of a recording: the run
 * ends with the reason, and what reached the disk is a readable trace whose
 * complete exchanges replay (--partial).  Needs a tmpfs mount (root in a
 * sandbox that allows it); elsewhere the test says why it skips. */
Test(tools, record_into_a_tiny_tmpfs_leaves_a_readable_partial_trace, .timeout = 60)
{
  char mnt[128], cmd[256];
  snprintf(mnt, sizeof mnt, "%s", tpath("tiny"));
  cr_assert_eq(mkdir(mnt, 0755), 0);
  snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=64k braid-test %s 2>/dev/null", mnt);
  if (system(cmd) != 0) {
    rmdir(mnt);
    cr_skip_test("cannot mount a tmpfs here (needs root and a sandbox that allows mounts)");
  }
  char trace[160];
  snprintf(trace, sizeof trace, "%s/t.btr", mnt);
  result r = run("braid-record", "-x", "5000", "-o", trace, NULL);
  int status = r.status;
  char err[512];
  snprintf(err, sizeof err, "%.*s", (int)r.errlen, r.err);
  drop(&r);
  result rp = run("braid-replay", "--partial", trace, NULL);
  snprintf(cmd, sizeof cmd, "umount %s", mnt);
  cr_assert_eq(system(cmd), 0);
  rmdir(mnt);
  cr_assert_eq(status, 2, "%s", err);
  cr_assert(strstr(err, "No space left on device") && strstr(err, "t.btr"), "%s", err);
  cr_assert_eq(rp.status, 0, SHOW(rp));
  cr_assert(strstr(rp.out, "OK: "), SHOW(rp));
  cr_assert(strstr(rp.err, "truncated"), "replay says the trace was cut: " SHOW(rp));
  drop(&rp);
}

/* ------------------------------------------------------------------------ rr */

Test(tools, replay_under_rr_runs_or_says_why_rr_cannot_record, .timeout = 120)
{
  record("run.btr", NULL);
  /* What this machine's rr says about recording at all. */
  result probe = run(RR, "record", "true", NULL);
  if (probe.status == 0) {
    drop(&probe);
    result r = run("braid-replay", "--rr", "run.btr", NULL);
    cr_assert_eq(r.status, 0, SHOW(r));
    cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
    drop(&r);
    return;
  }
  result r = run("braid-replay", "--rr", "run.btr", NULL);
  if (probe.status == 127) {
    expect_trouble(r, "--rr", "rr");
  } else {
    /* The reason is rr's first line, without a "[FATAL file:line] " prefix. */
    char why[256];
    snprintf(why, sizeof why, "%.*s", (int)strcspn(probe.err, "\n"), probe.err);
    const char *reason = why[0] == '[' && strstr(why, "] ") ? strstr(why, "] ") + 2 : why;
    expect_trouble(r, "rr cannot record", reason);
  }
  drop(&probe);
}

/* ---------------------------------------------------------------- bad input */

static void make_missing(const char *name) { (void)name; }

static void make_empty(const char *name)
{
  FILE *f = fopen(tpath(name), "w");
  cr_assert(f);
  fclose(f);
}

static void make_directory(const char *name) { cr_assert_eq(mkdir(tpath(name), 0755), 0); }

static void make_not_a_trace(const char *name)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp /etc/passwd '%s'", tpath(name));
  cr_assert_eq(system(cmd), 0);
}

static void make_truncated(const char *name)
{
  record(name, NULL);
  struct stat st;
  cr_assert_eq(stat(tpath(name), &st), 0);
  cr_assert_eq(truncate(tpath(name), st.st_size / 2), 0);
}

static void make_wrong_version(const char *name)
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

static const file_case missing = { make_missing, "No such file" }, empty = { make_empty, "empty" },
                       directory = { make_directory, "directory" }, not_a_trace = { make_not_a_trace, "not a braid trace" },
                       truncated = { make_truncated, "truncated" }, wrong_version = { make_wrong_version, "version 99" };

static void bad_file(const char *tool, const file_case *c)
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

Test(bad_input, record_refuses_an_unknown_flag) { expect_trouble(run("braid-record", "--bogus", NULL), "--bogus", NULL); }
Test(bad_input, record_refuses_a_negative_number) { expect_trouble(run("braid-record", "--tori", "-3", NULL), "--tori", "-3"); }
Test(bad_input, record_names_the_option_once)
{
  expect_trouble(run("braid-record", "--interval-min", "0", NULL), "braid-record: --interval-min: 0 is out of range 1..10000000\n", NULL);
}
Test(bad_input, record_set_names_the_setting)
{
  expect_trouble(run("braid-record", "--set", "tori=17", NULL), "--set: tori: 17 is out of range 2..16", NULL);
}
Test(bad_input, record_refuses_an_overflowing_number)
{
  expect_trouble(run("braid-record", "-x", "99999999999999999999999", NULL), "--exchanges", "99999999999999999999999");
}
Test(bad_input, record_refuses_an_overflowing_event_count)
{
  expect_trouble(run("braid-record", "--events", "99999999999999999999999", NULL), "--events", "too large");
}
Test(bad_input, record_refuses_a_number_with_garbage) { expect_trouble(run("braid-record", "--seed", "12x", NULL), "--seed", "12x"); }
Test(bad_input, record_refuses_a_bad_duration) { expect_trouble(run("braid-record", "--duration", "12x", NULL), "--duration", "12x"); }
/* Rounded to 0 ms, it would mean "no limit": with -x before it, this run
 * would never end. */
Test(bad_input, record_refuses_a_duration_below_a_millisecond)
{
  expect_trouble(run("braid-record", "-q", "-d", "8", "-x", "5", "--duration", "0.0001", NULL), "--duration", "below the 1 ms resolution");
}
Test(bad_input, record_refuses_a_hexadecimal_duration)
{
  expect_trouble(run("braid-record", "-q", "-d", "8", "--duration", "0x10", NULL), "--duration", "'0x10'");
}
Test(bad_input, record_accepts_a_duration_of_one_millisecond)
{
  result r = run("braid-record", "-q", "-d", "8", "--duration", "0.001", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}
Test(bad_input, record_refuses_a_missing_value) { expect_trouble(run("braid-record", "--tori", NULL), "--tori", "needs a value"); }
Test(bad_input, record_refuses_an_unknown_model) { expect_trouble(run("braid-record", "--model", "nosuch", NULL), "--model", "nosuch"); }
Test(bad_input, record_refuses_an_unknown_model_parameter)
{
  expect_trouble(run("braid-record", "-m", "phold", "-p", "nosuch=1", NULL), "--param", "nosuch");
}
Test(bad_input, record_names_the_range_of_a_model_parameter_that_is_too_large)
{
  expect_trouble(run("braid-record", "-p", "pop=99999999999999999999", NULL), "--param", "pop of uniform: 99999999999999999999 is out of range 1..16");
}
Test(bad_input, record_names_the_range_of_a_model_parameter_that_is_not_a_number)
{
  expect_trouble(run("braid-record", "-p", "pop=abc", NULL), "--param", "'abc' is not a whole number (range 1..16)");
}
Test(bad_input, record_lists_the_parameters_of_the_model)
{
  expect_trouble(run("braid-record", "-m", "phold", "-p", "foo=1", NULL), "--param", "(it takes pop, lookahead, mean)");
}
Test(bad_input, record_says_a_seed_is_too_large_rather_than_not_a_number)
{
  expect_trouble(run("braid-record", "--seed", "99999999999999999999", NULL), "--seed", "out of range 0..9223372036854775807");
}
Test(bad_input, record_refuses_an_unwritable_trace_path)
{
  expect_trouble(run("braid-record", "-x", "10", "-o", "no/such/dir/t.btr", NULL), "no/such/dir/t.btr", "No such file");
}
#define SMALL "-q", "-d", "8", "-x", "5"
Test(bad_input, record_refuses_an_injection_on_a_torus_that_is_not_a_letter_a_to_p)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "Z@1:5=77", NULL), "--inject: torus 'Z' in 'Z@1:5=77'", "A..P");
}
Test(bad_input, record_refuses_an_injection_on_a_two_letter_torus)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "AB@1:5=77", NULL), "--inject: torus 'AB'", "A..P");
}
Test(bad_input, record_refuses_an_injection_on_a_torus_that_does_not_exist)
{
  expect_trouble(run("braid-record", SMALL, "-n", "2", "--inject", "C@1:5=77", NULL), "--inject: torus C", "does not exist (tori A..B)");
}
/* 4294967301 is 5 modulo 2^32: it must not wrap onto cell 5. */
Test(bad_input, record_refuses_an_injection_into_a_cell_beyond_the_torus)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@1:4294967301=88", NULL), "--inject: cell 4294967301", "out of range 0..511");
}
Test(bad_input, record_refuses_an_injection_beyond_the_run)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@99999999999999999999:5=1", NULL), "--inject: exchange 99999999999999999999",
                 "beyond the run, whose last exchange is 4");
}
Test(bad_input, record_quotes_the_injected_payload_it_refuses)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@1:5=99999999999999999999", NULL), "--inject: payload 99999999999999999999",
                 "-2147483648..2147483647");
}
Test(bad_input, record_refuses_a_failure_of_a_torus_that_does_not_exist)
{
  expect_trouble(run("braid-record", SMALL, "-n", "2", "--fail", "C@2", NULL), "--fail: torus C in 'C@2' does not exist (tori A..B)", NULL);
}
Test(bad_input, record_refuses_an_empty_failure) { expect_trouble(run("braid-record", SMALL, "--fail", "", NULL), "--fail", "empty"); }
Test(bad_input, record_refuses_a_failure_beyond_the_run)
{
  expect_trouble(run("braid-record", SMALL, "--fail", "B@100", NULL), "--fail: 'B@100'", "beyond the run, whose last exchange is 4");
}
/* The boundary of the check above: exchange 4 is the last of -x 5. */
Test(bad_input, record_fails_a_torus_at_the_last_exchange)
{
  result r = run("braid-record", "-d", "8", "-x", "5", "--json", "--fail", "B@4", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\"failures\":1"), SHOW(r));
  drop(&r);
}
/* A timed run has no known last exchange, so a late failure is accepted. */
Test(bad_input, record_accepts_a_late_failure_in_a_timed_run)
{
  result r = run("braid-record", "-q", "-d", "8", "--duration", "0.01", "--fail", "B@100000", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}
#define RIPPLE_SO BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so"
/* --list-models ignored --model-plugin: the plugin's model and its
 * parameters are listed after the built-in ones, whichever option comes
 * first. */
Test(bad_input, record_lists_the_plugin_model_with_list_models)
{
  result r = run("braid-record", "--list-models", "--model-plugin", RIPPLE_SO, NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  char want[512];
  snprintf(want, sizeof want, "\nripple   version 1, from --model-plugin %s: ", RIPPLE_SO);
  const char *p = strstr(r.out, want);
  cr_assert(p && strstr(r.out, "\nphold ") < p, SHOW(r));
  cr_assert(strstr(p, "\n         -p delay=N  ") && strstr(p, "\n         -p pop=N  "), SHOW(r));
  result s = run("braid-record", "--model-plugin", RIPPLE_SO, "--list-models", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  cr_assert_str_eq(s.out, r.out);
  drop(&s);
  drop(&r);
  expect_trouble(run("braid-record", "--list-models", "--model-plugin", "nosuch.so", NULL), "--model-plugin: nosuch.so", NULL);
}
Test(bad_input, record_says_a_plugin_directory_is_a_directory)
{
  cr_assert_eq(mkdir(tpath("plugins"), 0755), 0);
  expect_trouble(run("braid-record", SMALL, "--model-plugin", "plugins", NULL), "--model-plugin: plugins: is a directory", NULL);
}
Test(bad_input, replay_says_a_plugin_directory_is_a_directory)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-replay", "--model-plugin", ".", "run.btr", NULL), "--model-plugin: .: is a directory", NULL);
}
Test(bad_input, record_refuses_a_plugin_with_an_empty_symbol)
{
  expect_trouble(run("braid-record", SMALL, "--model-plugin", RIPPLE_SO ":", NULL), "--model-plugin", "empty symbol name");
}
/* The plugin used to win silently over -m. */
Test(bad_input, record_refuses_a_model_and_a_plugin_together)
{
  expect_trouble(run("braid-record", SMALL, "-m", "uniform", "--model-plugin", RIPPLE_SO, NULL), "--model and --model-plugin both name the model",
                 NULL);
  expect_trouble(run("braid-record", SMALL, "--model-plugin", RIPPLE_SO, "--set", "model=phold", NULL),
                 "--set model and --model-plugin both name the model", NULL);
}
Test(bad_input, replay_refuses_an_unknown_flag) { expect_trouble(run("braid-replay", "--bogus", "x.btr", NULL), "--bogus", NULL); }
Test(bad_input, replay_refuses_a_number_with_garbage) { expect_trouble(run("braid-replay", "--until", "12x", "x.btr", NULL), "--until", "12x"); }
Test(bad_input, replay_refuses_a_negative_number) { expect_trouble(run("braid-replay", "--until", "-5", "x.btr", NULL), "--until", "-5"); }
Test(bad_input, replay_refuses_an_overflowing_number)
{
  expect_trouble(run("braid-replay", "--from", "99999999999999999999", "x.btr", NULL), "--from", "too large");
}
Test(bad_input, replay_refuses_from_beyond_the_trace)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-replay", "--from", "1000", "run.btr", NULL), "--from 1000", "299");
}
Test(bad_input, replay_refuses_from_beyond_a_trace_with_checkpoints)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_trouble(run("braid-replay", "--from", "300", "ck.btr", NULL), "--from 300", "the trace ends at exchange 299");
}
Test(bad_input, replay_refuses_until_before_from)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_trouble(run("braid-replay", "--from", "150", "--until", "100", "ck.btr", NULL), "--until 100", "--from 150");
}
/* --from 120 --until 110 was refused, although the checkpoint --from
 * picks (after exchange 99) lets exchanges 100..110 be replayed. */
Test(tools, replay_until_before_from_but_after_its_checkpoint_replays, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--from", "120", "--until", "110", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out, "OK: 11 exchanges, parallel == sequential (exchanges 100..110, from a checkpoint)\n");
  drop(&r);
}
/* Without the state before its first exchange, such a trace is refused. */
Test(bad_input, replay_refuses_a_trace_that_starts_without_the_state_before_it, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "-o", "run.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "run.btr", "late.btr", "100", "0", NULL));
  expect_trouble(run("braid-replay", "late.btr", NULL), "late.btr: starts at exchange 100 without the state before it", "replay the original");
}
/* -o naming the trace itself once truncated it under the reader: refused
 * before anything is written, whatever the path, link or symbolic link. */
Test(bad_input, replay_refuses_an_output_that_is_the_trace_itself, .timeout = 60)
{
  record("same.btr", NULL);
  size_t n0;
  char *before = load(tpath("same.btr"), &n0);
  cr_assert_eq(link(tpath("same.btr"), tpath("hard.btr")), 0);
  cr_assert_eq(symlink("same.btr", tpath("soft.btr")), 0);
  const char *outs[] = { "same.btr", "./same.btr", "hard.btr", "soft.btr" };
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "the output %s is the same file as the trace", outs[i]);
    expect_trouble(run("braid-replay", "-o", outs[i], "same.btr", NULL), "same.btr: ", want);
    size_t n;
    char *after = load(tpath("same.btr"), &n);
    cr_assert(n == n0 && !memcmp(before, after, n), "-o %s changed the trace: %zu bytes, were %zu", outs[i], n, n0);
    free(after);
  }
  free(before);
}
/* -o naming the model plugin that was loaded truncated the mapped code
 * under the run: a bus error, and the plugin replaced by a trace.  Refused
 * by braid-record and braid-replay, whatever the path, link or symbolic
 * link, and the plugin is left as it was. */
Test(bad_input, record_and_replay_refuse_an_output_that_is_the_plugin, .timeout = 60)
{
  size_t n0;
  char *so = load(RIPPLE_SO, &n0);
  save(tpath("victim.so"), so, n0);
  cr_assert_eq(link(tpath("victim.so"), tpath("hard.so")), 0);
  cr_assert_eq(symlink("victim.so", tpath("soft.so")), 0);
  expect_ok(run("braid-record", "--model-plugin", "./victim.so", "-d", "8", "-x", "10", "-q", "-o", "t.btr", NULL));
  const char *outs[] = { "victim.so", "./victim.so", "hard.so", "soft.so" };
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "%s: is the model plugin ./victim.so", outs[i]);
    expect_trouble(run("braid-record", "--model-plugin", "./victim.so", "-d", "8", "-x", "10", "-q", "-o", outs[i], NULL), want, "another file");
    snprintf(want, sizeof want, "the output %s is the model plugin ./victim.so", outs[i]);
    expect_trouble(run("braid-replay", "--model-plugin", "./victim.so", "-o", outs[i], "t.btr", NULL), want, "another file");
    size_t n;
    char *after = load(tpath("victim.so"), &n);
    cr_assert(n == n0 && !memcmp(so, after, n), "-o %s changed the plugin: %zu bytes, were %zu", outs[i], n, n0);
    free(after);
  }
  free(so);
  expect_ok(run("braid-replay", "--model-plugin", "./victim.so", "-q", "t.btr", NULL));
}
/* Damage wins over the semantics check: the hostile fixtures' synthetic
 * header names build "test", which has no semantics version. */
Test(bad_input, replay_reports_the_damage_of_a_trace_from_another_build)
{
  expect_trouble(run("braid-replay", BRAID_SRCDIR "/traces/broken-huge-window.btr", NULL), "broken-huge-window.btr",
                 "needs a 2147483648-byte window");
  walk w;
  walk_open(&w, "tests/trace-fixtures");
  int count = 0;
  while (walk_next(&w)) {
    result r = run("braid-replay", w.path, NULL);
    cr_assert_not(strstr(r.err, "semantics"), "%s: the damage, not the build, is the problem\n" SHOW_FMT, w.name, SHOW_ARGS(r));
    expect_trouble(r, w.name, "offset");
    count++;
  }
  cr_assert_geq(count, 4);
}
Test(bad_input, replay_refuses_an_intact_trace_from_another_semantics_version)
{
  result g = run(BRAID_BUILDDIR "/tests/trace_child", "seed", "seed.btr", "8", "0", "1", NULL);
  cr_assert_eq(g.status, 0, SHOW(g));
  drop(&g);
  expect_trouble(run("braid-replay", "seed.btr", NULL), "another semantics version", "--force");
}
Test(bad_input, dump_refuses_an_unknown_flag) { expect_trouble(run("braid-dump", "--bogus", "x.btr", NULL), "--bogus", NULL); }
Test(bad_input, dump_names_standard_input_in_its_errors)
{
  expect_trouble(run_in(BRAID_SRCDIR "/traces/broken-truncated.btr", "braid-dump", "-", NULL), "standard input: truncated", NULL);
  expect_trouble(run_in("/dev/null", "braid-dump", "--json", "-", NULL), "standard input: not a braid trace", NULL);
}

Test(bad_input, dump_refuses_a_bad_exchange_range)
{
  expect_trouble(run("braid-dump", "--exchanges", "5..3", "x.btr", NULL), "--exchanges", "5..3 is empty");
  expect_trouble(run("braid-dump", "--exchanges", "..", "x.btr", NULL), "--exchanges", "names no exchange");
  expect_trouble(run("braid-dump", "--exchanges", "a..3", "x.btr", NULL), "--exchanges", "'a'");
  expect_trouble(run("braid-dump", "--exchanges", "1..2..3", "x.btr", NULL), "--exchanges", "'2..3'");
}
Test(bad_input, dump_refuses_a_selection_the_trace_does_not_have)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-dump", "--torus", "D", "run.btr", NULL), "--torus", "run.btr has 3 tori (A..C)");
  expect_trouble(run("braid-dump", "--torus", "Q", "run.btr", NULL), "--torus", "'Q' is not a torus");
  expect_trouble(run("braid-dump", "--chrome", "--exchanges", "300..400", "run.btr", NULL), "--exchanges", "run.btr has exchanges 0..299");
}
Test(bad_input, dump_refuses_replay_without_html) { expect_trouble(run("braid-dump", "--replay", "x.btr", NULL), "--replay", "--html"); }
Test(bad_input, dump_refuses_two_formats) { expect_trouble(run("braid-dump", "--json", "--chrome", "x.btr", NULL), "--json", "--chrome"); }
Test(bad_input, diff_refuses_an_unknown_flag) { expect_trouble(run("braid-diff", "--bogus", "a.btr", "b.btr", NULL), "--bogus", NULL); }
Test(bad_input, diff_refuses_one_trace) { expect_trouble(run("braid-diff", "a.btr", NULL), "two traces", NULL); }
/* getopt is still inside "-Zq" when it rejects Z, so the previous argument
 * (here the program path, or a long option) is not the one to blame. */
Test(bad_input, replay_names_an_unknown_short_option_in_a_cluster)
{
  expect_trouble(run("braid-replay", "-Zq", "x.btr", NULL), "unknown option '-Z'", NULL);
}
Test(bad_input, replay_names_an_unknown_short_option_after_a_long_one)
{
  expect_trouble(run("braid-replay", "--quiet", "-Zq", "x.btr", NULL), "unknown option '-Z'", NULL);
}
Test(bad_input, record_names_the_short_option_missing_its_value)
{
  expect_trouble(run("braid-record", "-qn", NULL), "option '-n' needs a value", NULL);
}
Test(bad_input, record_says_an_abbreviation_is_ambiguous)
{
  expect_trouble(run("braid-record", "--se", "3", NULL), "'--se' is ambiguous", "--seed, --sequential, --set");
}
Test(bad_input, dump_says_a_flag_takes_no_value)
{
  expect_trouble(run("braid-dump", "--json=1", "x.btr", NULL), "option '--json' takes no value", NULL);
}

/* ---------------------------------------------------------- help, version */

static void help_and_version(const char *tool)
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

Test(cli, record_has_help_and_version) { help_and_version("braid-record"); }
Test(cli, replay_has_help_and_version) { help_and_version("braid-replay"); }
Test(cli, diff_has_help_and_version) { help_and_version("braid-diff"); }
Test(cli, dump_has_help_and_version) { help_and_version("braid-dump"); }

/* Every --long-option in the help text has an `.It ... Fl -name` entry in
 * the tool's man page. */
static void help_options_in_man_page(const char *tool)
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

Test(cli, record_help_options_are_in_its_man_page) { help_options_in_man_page("braid-record"); }
Test(cli, replay_help_options_are_in_its_man_page) { help_options_in_man_page("braid-replay"); }
Test(cli, diff_help_options_are_in_its_man_page) { help_options_in_man_page("braid-diff"); }
Test(cli, dump_help_options_are_in_its_man_page) { help_options_in_man_page("braid-dump"); }

/* braid-replay(1) gives the number of violated cells the trace keeps per
 * boundary check: the one braid-replay --violation prints. */
Test(tools, man_replay_gives_the_violated_cells_the_trace_keeps, .timeout = 60)
{
  record("tol.btr", "--tolerance=0");
  unsigned kept = 0;
  for (int v = 1; v <= 20 && !kept; v++) {
    char n[8];
    snprintf(n, sizeof n, "%d", v);
    result r = run("braid-replay", "--violation", n, "tol.btr", NULL);
    cr_assert_eq(r.status, 0, SHOW(r));
    const char *k = strstr(r.out, "(the trace keeps the first ");
    if (k) cr_assert_eq(sscanf(k, "(the trace keeps the first %u)", &kept), 1, SHOW(r));
    drop(&r);
  }
  cr_assert_gt(kept, 0, "no boundary check among the first 20 had more violated cells than the trace keeps");
  char *man = load(BRAID_SRCDIR "/man/braid-replay.1", NULL), want[64];
  snprintf(want, sizeof want, "(at most %u per check)", kept);
  cr_assert(strstr(man, want), "braid-replay.1 does not say '%s'", want);
  free(man);
}

/* --force also replays with another plugin file (the mismatch error says
 * "use --force"): the help and the man page say so. */
Test(cli, replay_force_is_documented_for_plugins_too)
{
  result h = run("braid-replay", "--help", NULL);
  cr_assert_eq(h.status, 0, SHOW(h));
  const char *f = strstr(h.out, "--force");
  cr_assert(f, SHOW(h));
  char line[256];
  snprintf(line, sizeof line, "%.*s", (int)strcspn(f, "\n"), f);
  cr_assert(strstr(line, "semantics version") && strstr(line, "plugin"), "--help: %s", line);
  drop(&h);
  char *man = load(BRAID_SRCDIR "/man/braid-replay.1", NULL);
  char *item = strstr(man, "\n.It Fl -force\n");
  cr_assert(item, "no --force entry in braid-replay.1");
  char *end = strstr(item + 1, "\n.It ");
  cr_assert(end);
  *end = 0;
  cr_assert(strstr(item, "semantics") && strstr(item, "plugin"), "braid-replay.1 --force:%s", item);
  free(man);
}

/* ------------------------------------------------------------------ man lint */

/* mandoc -Tlint prints nothing for a clean page, except two notes about the
 * machine rather than the page: Xr references to the other braid pages are
 * "not found" until they are installed (mandoc only searches the base system),
 * and an outdated system mandoc.db is reported. */
static void lint(const char *page)
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

Test(cli, man_braid_record_is_lint_clean) { lint("braid-record.1"); }
Test(cli, man_braid_replay_is_lint_clean) { lint("braid-replay.1"); }
Test(cli, man_braid_diff_is_lint_clean) { lint("braid-diff.1"); }
Test(cli, man_braid_dump_is_lint_clean) { lint("braid-dump.1"); }
Test(cli, man_braid_trace_is_lint_clean) { lint("braid-trace.5"); }

/* braid-record(1)'s racy example printed the digests in decimal; the tool
 * prints digests and hashes in hex, as braid-dump does.  Every DIVERGED line
 * of the man pages shows a digest or hash as 16 hex digits. */
Test(cli, man_examples_print_digests_in_hex)
{
  const char *pages[] = { "braid-record.1", "braid-replay.1", "braid-diff.1" };
  int seen = 0;
  for (int i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/man/%s", BRAID_SRCDIR, pages[i]);
    char *text = load(path, NULL);
    for (char *p = strstr(text, "DIVERGED at exchange "); p; p = strstr(p + 1, "DIVERGED at exchange ")) {
      char field[64], rec[64], rep[64];
      const char *colon = strstr(p, "): ");
      if (!colon || sscanf(colon + 3, "%63s recorded %63[^,], replayed %63s", field, rec, rep) != 3) continue;
      if (!strstr(field, "digest") && !strstr(field, "hash")) continue;
      seen++;
      cr_assert(strlen(rec) == 16 && strspn(rec, "0123456789abcdef") == 16, "%s: %s recorded %s is not hex as braid-replay prints it", pages[i], field, rec);
      cr_assert(strlen(rep) == 16 && strspn(rep, "0123456789abcdef") == 16, "%s: %s replayed %s is not hex as braid-replay prints it", pages[i], field, rep);
    }
    free(text);
  }
  cr_assert_gt(seen, 0, "no digest in a DIVERGED example");
}

/* The README's Install section said twice that libbraid(3) is the API
 * overview with a complete example. */
Test(cli, readme_install_names_libbraid_3_once)
{
  char *text = load(BRAID_SRCDIR "/README.md", NULL);
  char *install = strstr(text, "\n## Install\n");
  cr_assert(install);
  char *end = strstr(install + 1, "\n## ");
  if (end) *end = 0;
  int n = 0;
  for (char *p = strstr(install, "man 3 libbraid"); p; p = strstr(p + 1, "man 3 libbraid")) n++;
  cr_assert_eq(n, 1, "the Install section names man 3 libbraid %d times", n);
  free(text);
}
