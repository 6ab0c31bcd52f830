/* test_shrink.c - braid-shrink, braid-record --repeat and the model-check
 * options of the tools, run as a user runs them: through a shell, with the
 * command line braid-shrink prints run as printed. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#define SCRATCH_PREFIX "/tmp/braid-shrink-"
#include "scratch.h"

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif
#ifndef BRAID_MANDOC
#define BRAID_MANDOC ""
#endif
#define RIPPLE BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so"

typedef struct result {
  int status;
  char *out, *err;
} result;

/* Runs a shell command line in the test directory with the build's tools
 * first in PATH (so that the printed "braid-record ..." runs as printed). */
static result sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static result sh(const char *fmt, ...)
{
  char cmd[8192], line[9000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(line, sizeof line, "cd '%s' && PATH='%s/tools':\"$PATH\" && export PATH && (%s) >.out 2>.err", dir, BRAID_BUILDDIR, cmd);
  int st = system(line);
  result r;
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  r.out = load(tpath(".out"), NULL);
  r.err = load(tpath(".err"), NULL);
  return r;
}

static void drop(result *r)
{
  free(r->out);
  free(r->err);
}

#define SHOW_FMT "exit %d\n--- stdout:\n%.3000s\n--- stderr:\n%.2000s"
#define SHOW(r) SHOW_FMT, (r).status, (r).out, (r).err

/* The number after "key": inside the object that follows `section` (e.g.
 * "\"after\":{"), or in the whole document for section NULL. */
static uint64_t json_u64(const char *doc, const char *section, const char *key)
{
  const char *p = section ? strstr(doc, section) : doc;
  cr_assert(p, "no %s in %s", section, doc);
  char want[64];
  snprintf(want, sizeof want, "\"%s\":", key);
  const char *k = strstr(p, want);
  cr_assert(k, "no %s in %s", key, p);
  return strtoull(k + strlen(want), NULL, 10);
}

/* The "command" string of braid-shrink --json, unescaped. */
static void json_command(const char *doc, char *out, size_t len)
{
  const char *p = strstr(doc, "\"command\":\"");
  cr_assert(p, "no command in %s", doc);
  p += 11;
  size_t o = 0;
  for (; *p && *p != '"' && o + 1 < len; p++) {
    if (*p == '\\') p++;
    out[o++] = *p;
  }
  out[o] = 0;
}

TestSuite(shrink, .init = make_dir, .fini = remove_dir, .timeout = 600);
TestSuite(shrink_input, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(hunt, .init = make_dir, .fini = remove_dir, .timeout = 300);
TestSuite(check_tools, .init = make_dir, .fini = remove_dir, .timeout = 120);

/* The acceptance runs: 4 tori, D=32, 3000 exchanges at a fixed interval,
 * two faults and five injections, of which only one matters (or none, for
 * the overflow). */
#define BIG "-n 4 -d 32 -x 3000 --adapt off --seed 3 --fail B@300 --fail D@1500 " \
            "--inject A@100:5000=3 --inject B@400:77=-4 --inject D@900:300=2 --inject A@1200:9=5"

/* Shrinks `trace` with `opts`, checks the reduction the issue asks for,
 * runs the printed command line and returns it in cmd. */
static void shrink_and_check(const char *opts, const char *trace, uint64_t max_after_injection, char *cmd, size_t cmdlen)
{
  result r = sh("braid-shrink %s --json %s -o small.btr", opts, trace);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\"shrank\":true"), SHOW(r));
  cr_assert_leq(json_u64(r.out, "\"after\":{", "tori"), 2, SHOW(r));
  cr_assert_leq(json_u64(r.out, "\"after\":{", "dim"), 16, SHOW(r));
  cr_assert_leq(json_u64(r.out, "\"after\":{", "injections"), 1, SHOW(r));
  cr_assert_eq(json_u64(r.out, "\"after\":{", "faults"), 0, SHOW(r));
  cr_assert_leq(json_u64(r.out, NULL, "runs"), 100, SHOW(r));
  cr_assert_eq(json_u64(r.out, "\"before\":{", "exchanges"), 3000, SHOW(r));
  cr_assert_eq(json_u64(r.out, "\"before\":{", "tori"), 4, SHOW(r));
  cr_assert_eq(json_u64(r.out, "\"before\":{", "injections"), 5, SHOW(r));
  cr_assert_eq(json_u64(r.out, "\"before\":{", "faults"), 2, SHOW(r));
  json_command(r.out, cmd, cmdlen);
  /* At most ~10 exchanges after the injection's exchange (when one is kept). */
  const char *inj = strstr(cmd, "--inject ");
  if (inj) {
    unsigned long long at = strtoull(strchr(inj, '@') + 1, NULL, 10);
    cr_assert_leq(json_u64(r.out, "\"after\":{", "exchanges"), at + max_after_injection, "%s\n%s", cmd, r.out);
  }
  cr_assert(strstr(cmd, "-o small.btr"), "%s", cmd);
  drop(&r);
  /* The printed command line, run as printed, makes the small run. */
  sh("rm -f small.btr");
  r = sh("%s", cmd);
  cr_assert(r.status == 0 || r.status == 1, "%s\n" SHOW_FMT, cmd, r.status, r.out, r.err);
  drop(&r);
}

Test(shrink, a_plugin_check_after_an_injection_shrinks_to_that_injection)
{
  result r = sh("braid-record --model-plugin " RIPPLE " " BIG " --inject C@700:1000=500000 -q -o big.btr");
  cr_assert_eq(r.status, 1, "the plugin's check fails: " SHOW_FMT, r.status, r.out, r.err);
  drop(&r);
  char cmd[4096];
  shrink_and_check("--model-plugin " RIPPLE, "big.btr", 11, cmd, sizeof cmd);
  cr_assert(strstr(cmd, "=500000"), "the one injection kept is the one that breaks the bound: %s", cmd);
  cr_assert(strstr(cmd, "--sequential"), "%s", cmd);
  r = sh("braid-replay --model-plugin " RIPPLE " --check 1 small.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "check 1: exchange ") && strstr(r.out, ": code 1: ripple: a cell's state left -bound..bound\n"), SHOW(r));
  drop(&r);
}

/* A queue overflow does not depend on an injection here: the external
 * events an exchange adds never get follow-ups (braid.h), so bursty
 * overflows a small queue with its own bursts, and none of the five
 * injections is kept. */
Test(shrink, a_queue_overflow_shrinks_the_same_way)
{
  result r = sh("braid-record --model bursty " BIG " --inject C@700:1000=5 --set queue_cap=300 -q -o over.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
  char cmd[4096];
  shrink_and_check("", "over.btr", 11, cmd, sizeof cmd);
  r = sh("braid-dump small.btr | grep -c 'overflow torus=[0-9]* overflows=[1-9]'");
  cr_assert_eq(r.status, 0, "the small run overflows: %s\n" SHOW_FMT, cmd, r.status, r.out, r.err);
  drop(&r);
  r = sh("braid-shrink over.btr");
  cr_assert(strstr(r.out, "failure: a queue overflow (events refused)"), SHOW(r));
  drop(&r);
}

/* An injection on torus A's x=0 face at exchange 700: torus B's boundary
 * check sees it at once. */
Test(shrink, a_deviation_above_a_bound_shrinks_the_same_way)
{
  result r = sh("braid-record --model uniform " BIG " --inject A@700:5=100000 -q -o dev.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
  char cmd[4096];
  shrink_and_check("--deviation 1000", "dev.btr", 11, cmd, sizeof cmd);
  cr_assert(strstr(cmd, "=100000"), "%s", cmd);
  r = sh("braid-dump small.btr | grep 'boundary torus=' | grep -v 'max_dev=[0-9] \\|max_dev=[0-9][0-9] \\|max_dev=[0-9][0-9][0-9] \\|max_dev=1000 '");
  cr_assert_eq(r.status, 0, "no boundary deviation above 1000 in the small run: %s\n" SHOW_FMT, cmd, r.status, r.out, r.err);
  drop(&r);
}

/* The racy model's divergence: hunted with --repeat, then shrunk on
 * threaded runs under chaos seeds; the printed command line diverges in at
 * least one of 64 runs (each is one short exchange).  A race is timing: under
 * ThreadSanitizer, whose instrumentation changes every thread's timing, the
 * small run was seen not to overlap its threads in 8 tries, so that build
 * leaves this test to the others. */
Test(shrink, the_racy_divergence_shrinks_and_its_command_diverges)
{
#ifdef BRAID_TSAN
  cr_skip_test("a race's timing under ThreadSanitizer is not the run's: the plain and ASan builds run this test");
#endif
  result r = sh("braid-record --model racy -n 4 -d 32 -x 300 --repeat 8 -o race.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "diverged from sequential execution at exchange"), SHOW(r));
  drop(&r);
  r = sh("braid-shrink --divergence --tries 8 --json race.btr -o small.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_leq(json_u64(r.out, "\"after\":{", "tori"), 2, SHOW(r));
  cr_assert_lt(json_u64(r.out, "\"after\":{", "dim"), 32, SHOW(r));
  cr_assert(strstr(r.out, "\"kind\":\"divergence\""), SHOW(r));
  cr_assert_geq(json_u64(r.out, NULL, "reproduced"), 1, SHOW(r));
  char cmd[4096];
  json_command(r.out, cmd, sizeof cmd);
  drop(&r);
  cr_assert(strstr(cmd, " --chaos ") && strstr(cmd, " -t "), "%s", cmd);
  int diverged = 0;
  for (int i = 0; i < 64 && !diverged; i++) {
    r = sh("%s -q && braid-replay -q small.btr", cmd);
    cr_assert(r.status == 0 || r.status == 1, "%s\n" SHOW_FMT, cmd, r.status, r.out, r.err);
    diverged = r.status == 1;
    drop(&r);
  }
  cr_assert(diverged, "none of 64 runs of '%s' diverged", cmd);
  /* The text form says how the divergence was judged. */
  r = sh("braid-shrink --divergence --max-runs 3 race.btr");
  cr_assert(strstr(r.out, "judged on threaded runs under chaos seeds"), SHOW(r));
  drop(&r);
}

/* The budget bounds the search: it stops and reports the best so far. */
Test(shrink, max_runs_ends_the_search_with_the_best_so_far)
{
  result r = sh("braid-record --model uniform -n 3 -d 16 -x 300 --adapt off --inject A@200:5=100000 -q -o dev.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
  r = sh("braid-shrink --deviation 1000 --max-runs 2 --json dev.btr");
  cr_assert_eq(json_u64(r.out, NULL, "runs"), 2, SHOW(r));
  cr_assert(strstr(r.out, "\"limit\":\"max_runs\""), SHOW(r));
  cr_assert_eq(r.status, 0, "the cut after the failure is already smaller: " SHOW_FMT, r.status, r.out, r.err);
  drop(&r);
}

/* -------------------------------------------------------------- bad input */

Test(shrink_input, a_trace_without_a_failure_has_nothing_to_shrink)
{
  result r = sh("braid-record --model uniform -d 8 -x 20 -q -o ok.btr && braid-shrink ok.btr -o small.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "ok.btr: nothing to shrink: "), SHOW(r));
  cr_assert_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "one line: " SHOW_FMT, r.status, r.out, r.err);
  drop(&r);
  r = sh("braid-shrink --deviation 1000000 ok.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "nothing to shrink: no boundary deviation above 1000000"), SHOW(r));
  drop(&r);
  r = sh("test ! -e small.btr");
  cr_assert_eq(r.status, 0, "nothing written");
  drop(&r);
}

static void one_line_trouble(result r, const char *needle)
{
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert_eq(r.out[0], 0, "nothing on stdout: " SHOW_FMT, r.status, r.out, r.err);
  cr_assert(strstr(r.err, needle), SHOW(r));
  cr_assert(strncmp(r.err, "braid-shrink: ", 14) == 0 && strchr(r.err, '\n') == r.err + strlen(r.err) - 1, SHOW(r));
  drop(&r);
}

Test(shrink_input, a_damaged_trace_is_trouble)
{
  one_line_trouble(sh("braid-shrink " BRAID_SRCDIR "/traces/broken-bitflip.btr"), "broken-bitflip.btr");
  one_line_trouble(sh("braid-shrink " BRAID_SRCDIR "/traces/broken-truncated.btr"), "truncated");
  one_line_trouble(sh("braid-shrink nosuch.btr"), "nosuch.btr");
}

Test(shrink_input, a_plugin_trace_needs_its_plugin)
{
  result r = sh("braid-record --model-plugin " RIPPLE " -d 8 -x 20 -q -o p.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
  one_line_trouble(sh("braid-shrink p.btr"), "give that plugin (--model-plugin)");
}

Test(shrink_input, bad_options_are_trouble)
{
  result r = sh("braid-record --model uniform -d 8 -x 20 -q -o ok.btr");
  drop(&r);
  one_line_trouble(sh("braid-shrink --deviation 5 --divergence ok.btr"), "--deviation and --divergence");
  one_line_trouble(sh("braid-shrink --tries 0 ok.btr"), "--tries");
  one_line_trouble(sh("braid-shrink --max-seconds soon ok.btr"), "--max-seconds");
  one_line_trouble(sh("braid-shrink ok.btr -o ok.btr"), "same file");
}

/* ----------------------------------------------------------- race hunting */

Test(hunt, a_deterministic_model_shows_no_divergence)
{
  result r = sh("braid-record --model uniform -n 3 -d 8 -x 50 -t 2 --repeat 3 -o h.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "no divergence in 3 runs (--chaos 1..3); h.btr holds the last"), SHOW(r));
  drop(&r);
  r = sh("braid-replay h.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
}

/* A plain threaded recording of the racy model may show nothing; the hunt
 * keeps the first chaos run that diverges, which braid-replay confirms. */
Test(hunt, the_first_diverging_run_is_kept)
{
  result r = sh("braid-record --model racy -n 2 -d 8 -x 200 --repeat 8 --json -o h.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "{\"hunt\":{\"runs\":") && strstr(r.out, "\"diverged\":true"), SHOW(r));
  uint64_t chaos = json_u64(r.out, NULL, "chaos");
  drop(&r);
  r = sh("braid-replay h.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  drop(&r);
  r = sh("braid-dump h.btr | grep -c '^#   chaos=%llu$'", (unsigned long long)chaos);
  cr_assert_eq(r.status, 0, "the trace kept is the run of chaos %llu: " SHOW_FMT, (unsigned long long)chaos, r.status, r.out, r.err);
  drop(&r);
}

Test(hunt, bad_uses_are_trouble)
{
  result r = sh("braid-record --model racy -d 8 -x 20 --repeat 3");
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(strstr(r.err, "--repeat: give -o TRACE"), SHOW(r));
  drop(&r);
  r = sh("braid-record --model racy -d 8 -x 20 --repeat 3 --sequential -o h.btr");
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(strstr(r.err, "hunting needs threads"), SHOW(r));
  drop(&r);
  r = sh("braid-record --model racy -d 8 -x 20 --repeat 0 -o h.btr");
  cr_assert_eq(r.status, 2, SHOW(r));
  drop(&r);
}

/* --------------------------------------------------- model checks in tools */

#define FAILING "braid-record --model-plugin " RIPPLE " -n 3 -d 8 -x 40 --adapt off --inject B@10:100=500000"

Test(check_tools, record_reports_a_failed_check_and_exits_1)
{
  result r = sh(FAILING " -o c.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "  model checks       ") && strstr(r.out, "failed; the first at exchange ") &&
              strstr(r.out, "torus B, event ") && strstr(r.out, ": code 1: ripple: a cell's state left -bound..bound\n"),
            SHOW(r));
  drop(&r);
  r = sh(FAILING " --json");
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "\"model_checks\":{\"failed\":") && strstr(r.out, "\"stopped_run\":false,\"first\":{\"exchange\":") &&
              strstr(r.out, "\"torus\":1,") && strstr(r.out, "\"code\":1,\"message\":\"ripple: a cell's state left -bound..bound\"}"),
            SHOW(r));
  drop(&r);
  r = sh("braid-record --model-plugin " RIPPLE " -n 3 -d 8 -x 40");
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "  model checks       none failed\n"), SHOW(r));
  drop(&r);
}

Test(check_tools, check_stop_ends_the_run_and_replay_reproduces_it)
{
  result r = sh(FAILING " --check-stop -q -o c.btr");
  cr_assert_eq(r.status, 1, SHOW(r));
  drop(&r);
  r = sh("braid-replay --model-plugin " RIPPLE " --check 1 c.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  unsigned long long at = 0;
  const char *p = strstr(r.out, "check 1: exchange ");
  cr_assert(p && sscanf(p, "check 1: exchange %llu", &at) == 1, SHOW(r));
  cr_assert(strstr(r.out, ", torus B, event ") && strstr(r.out, ": code 1: ripple: "), SHOW(r));
  drop(&r);
  /* 3 tori: the run ends at the failing exchange + 1. */
  r = sh("braid-dump --json c.btr | grep -c '\"type\":\"exchange\"'");
  cr_assert_eq(strtoull(r.out, NULL, 10), at + 2, SHOW(r));
  drop(&r);
  r = sh("braid-dump c.btr | grep -m1 '  check '");
  cr_assert(strstr(r.out, "  check torus=1 event=") && strstr(r.out, " code=1 message_len=41 message=\"ripple: a cell's state left -bound..bound\"\n"),
            SHOW(r));
  drop(&r);
  r = sh("braid-replay --model-plugin " RIPPLE " --check 1000 c.btr");
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "; check 1000 not reached (the trace has "), SHOW(r));
  drop(&r);
}

/* ------------------------------------------------------------- man page */

Test(check_tools, shrink_help_options_are_in_its_man_page)
{
  result h = sh("braid-shrink --help");
  cr_assert_eq(h.status, 0, SHOW(h));
  char *man = load(BRAID_SRCDIR "/man/braid-shrink.1", NULL);
  unsigned n = 0;
  for (const char *p = h.out; (p = strstr(p, "--"));) {
    p += 2;
    size_t len = 0;
    while (islower((unsigned char)p[len]) || p[len] == '-') len++;
    if (len < 2) continue;
    char want[80];
    snprintf(want, sizeof want, "\n.It Fl -%.*s", (int)len, p);
    char alt[80];
    snprintf(alt, sizeof alt, " Fl -%.*s", (int)len, p);
    cr_expect(strstr(man, want) || strstr(man, alt), "braid-shrink --help lists --%.*s, but braid-shrink.1 does not document it", (int)len, p);
    n++;
    p += len;
  }
  cr_assert_geq(n, 10);
  free(man);
  drop(&h);
}

Test(check_tools, shrink_man_page_is_lint_clean)
{
  if (!BRAID_MANDOC[0]) cr_skip_test("mandoc not found by configure: cannot lint the man page");
  result r = sh("%s -Tlint %s/man/braid-shrink.1 2>&1 | grep -v 'referenced manual not found: Xr braid-' | grep -v 'outdated mandoc.db' || true", BRAID_MANDOC,
                BRAID_SRCDIR);
  cr_assert_eq(r.out[0], 0, SHOW(r));
  drop(&r);
}
