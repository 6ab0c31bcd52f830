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

/* A threaded recording of 300 exchanges of 3 tori of 16^3 cells. */
static void record(const char *name, const char *extra)
{
  if (extra) expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", extra, "-o", name, NULL));
  else expect_ok(run("braid-record", "-x", "300", "-d", "16", "-t", "2", "-q", "-o", name, NULL));
}

#define RACY "--model", "racy", "-n", "2", "-t", "2", "-d", "8", "-i", "2000", "--interval-min", "2000", "-x", "1000", "-q"

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
  expect_ok(run("braid-record", RACY, "--sequential", "-o", "racy-seq.btr", NULL));
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
  expect_ok(run("braid-record", RACY, "--sequential", "-o", "racy-seq.btr", NULL));
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
  cr_assert(strstr(r.out, "OK: 1 exchange, ") && strstr(r.out, "(exchange 100, from a checkpoint, which was trusted, not verified)"), SHOW(r));
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
  cr_assert_str_eq(r.out,
                   "OK: 200 exchanges, consistent from the checkpoint of exchange 99 (exchanges 100..299, from a checkpoint, which was "
                   "trusted, not verified); final state == footer\n",
                   SHOW(r));
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

static void expect_nested(const char *json)
{
  result r = jq(json, NESTED_JQ);
  cr_assert_str_eq(r.out, "nested", "%s: slices on one track overlap: %s", json, r.out);
  drop(&r);
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

/* ------------------------------------------------------------ progress line */

/* Runs a tool in the test directory with standard error on a pseudo-
 * terminal (standard output to a file): what it wrote on the terminal in
 * r.err, its wall time in *seconds.  The output must fit the terminal's
 * buffer, which is read once the tool has exited. */
static result run_on_tty(double *seconds, char **argv)
{
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  cr_assert(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "no pseudo-terminal: %s", strerror(errno));
  int slave = open(ptsname(m), O_RDWR | O_NOCTTY); /* held, so the master never reads a hang-up */
  cr_assert(slave >= 0, "%s: %s", ptsname(m), strerror(errno));
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
      int machine = memmem(l, len, "referenced manual not found: Xr braid-", 38) || memmem(l, len, "outdated mandoc.db", 18);
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
