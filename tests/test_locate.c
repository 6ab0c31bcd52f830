/* test_locate.c - what braid-replay says about a divergence (DESIGN 12),
 * on model plugins that each hide one kind of nondeterminism
 * (tests/plugin_faults.c): the exchange and torus of a wrong emission, the
 * torus to blame, a race in the last epoch, nondeterminism that is not the
 * parallel run's, verdicts from checkpoints, the gdb helper, and no false
 * alarm on the built-in models.  Drives the tools as a user does; reads
 * traces with the public reader. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <braid.h>
#define SCRATCH_PREFIX "/tmp/braid-locate-"
#include "scratch.h"

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif
#include "run.h"

#define TOOL(name) BRAID_BUILDDIR "/tools/" name
#define PLUGIN(name) BRAID_BUILDDIR "/tests/.libs/plugin_fault_" name ".so"
/* 3 tori of 16^3 cells, epochs of 1000 events, no adaptation. */
#define SHAPE "-n", "3", "-d", "16", "-i", "1000", "--adapt", "off"
#define EXCHANGES 60

/* run(env, argv..., NULL): argv in the scratch directory with `env`
 * (NAME=VALUE or NULL) added; waits. */
static result run(const char *env, ...)
{
  char *argv[64];
  int n = 0;
  va_list ap;
  va_start(ap, env);
  const char *a;
  while ((a = va_arg(ap, const char *)) && n < 63) argv[n++] = (char *)a;
  va_end(ap);
  argv[n] = NULL;
  return finish(start_with(NULL, "run", env, argv), "run");
}

#define SHOWF "status %d\n--- stdout:\n%s--- stderr:\n%s"
#define SHOWA(r) (r).status, (r).out, (r).err
#define SHOW(r) SHOWF, SHOWA(r)

static void ok(result r)
{
  cr_assert_eq(r.status, 0, SHOW(r));
  drop(&r);
}

/* "DIVERGED at exchange K, torus T (n)": K and n, or 0 when not diverged. */
static int diverged_at(const result *r, unsigned long long *k, int *torus)
{
  const char *p = strstr(r->out, "DIVERGED at exchange ");
  char t;
  int n;
  if (!p || sscanf(p, "DIVERGED at exchange %llu, torus %c (%d)", k, &t, &n) != 3) return 0;
  *torus = n;
  return 1;
}

/* The exchange of torus r's event number e in a trace: the first exchange
 * whose projection counts e events or more. */
static long long exchange_of(const char *trace, unsigned r, unsigned long long e)
{
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, trace, err, sizeof err), 0, "%s", err);
  braid_record rec;
  long long k = -1;
  while (braid_trace_next(t, &rec) == 0)
    if (rec.type == BRAID_REC_PROJECTION && rec.field[BRAID_F_PROJECTION_TORUS] == r && rec.field[BRAID_F_PROJECTION_EVENTS] >= e) {
      k = (long long)rec.exchange;
      break;
    }
  braid_trace_close(t);
  return k;
}

/* The counter plugin's log: per torus, the events that drew from the shared
 * counter (the same in every run: they are chosen by the torus's own random
 * stream) and the payload change each drew. */
#define MAXDRAWS 4096
typedef struct draws {
  unsigned n[3];
  unsigned long long ev[3][MAXDRAWS];
  int delta[3][MAXDRAWS];
} draws;

static void read_draws(const char *name, draws *d)
{
  memset(d, 0, sizeof *d);
  FILE *f = fopen(tpath(name), "r");
  cr_assert(f, "%s", name);
  unsigned r;
  unsigned long long e;
  int delta;
  while (fscanf(f, "%u %llu %d", &r, &e, &delta) == 3) {
    cr_assert_lt(r, 3);
    /* The log is in wall-clock order; each torus's draws come in event order. */
    if (d->n[r] < MAXDRAWS) {
      d->ev[r][d->n[r]] = e;
      d->delta[r][d->n[r]++] = delta;
    }
  }
  fclose(f);
}

TestSuite(locate, .init = make_dir, .fini = remove_dir);

/* The rare shared-counter race: under threads the tori draw from the
 * counter in another order than sequentially, and a torus that draws the
 * wrong number emits a wrong event with the longest delay (processed about
 * 7 exchanges later).  The ground truth is the sequential run's draws: the
 * first draw of each torus that differs is where it emitted a wrong event.
 * The report must name the exchange of the first such emission (+-1) and a
 * torus that emitted one there, and print the window.  Before the pending
 * digest, the report came when the event was processed. */
Test(locate, counter_race_is_reported_where_the_wrong_event_was_emitted, .timeout = 300)
{
  char x[16];
  snprintf(x, sizeof x, "%d", EXCHANGES);
  ok(run("BRAID_FAULT_LOG=seq.log", TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("counter"), "-p", "delay=8", SHAPE, "-x", x, "--sequential",
         "-o", "seq.btr", NULL));
  draws seq, thr;
  read_draws("seq.log", &seq);
  int seen = 0;
  for (unsigned chaos = 1; chaos <= 10; chaos++) {
    char c[16];
    snprintf(c, sizeof c, "%u", chaos);
    ok(run("BRAID_FAULT_LOG=thr.log", TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("counter"), "-p", "delay=8", SHAPE, "-x", x, "-t", "2",
           "--chaos", c, "-o", "thr.btr", NULL));
    read_draws("thr.log", &thr);
    long long first[3] = { -1, -1, -1 }, earliest = -1;
    for (unsigned r = 0; r < 3; r++) {
      cr_assert_eq(thr.n[r], seq.n[r], "chaos %u: torus %u drew %u times, sequentially %u", chaos, r, thr.n[r], seq.n[r]);
      for (unsigned i = 0; i < thr.n[r]; i++) {
        cr_assert_eq(thr.ev[r][i], seq.ev[r][i]);
        if (thr.delta[r][i] != seq.delta[r][i]) {
          first[r] = exchange_of(tpath("thr.btr"), r, thr.ev[r][i]);
          break;
        }
      }
      if (first[r] >= 0 && (earliest < 0 || first[r] < earliest)) earliest = first[r];
    }
    result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("counter"), "thr.btr", NULL);
    if (earliest < 0) {
      /* Every draw agreed: nothing went wrong, and nothing may be reported. */
      cr_assert_eq(rp.status, 0, "chaos %u: no wrong draw, yet\n" SHOWF, chaos, SHOWA(rp));
      drop(&rp);
      continue;
    }
    seen++;
    unsigned long long k;
    int torus;
    cr_assert_eq(rp.status, 1, "chaos %u: wrong draws from exchange %lld on\n" SHOWF, chaos, earliest, SHOWA(rp));
    cr_assert(diverged_at(&rp, &k, &torus), SHOW(rp));
    cr_assert(torus >= 0 && torus < 3 && first[torus] >= 0, "chaos %u: blamed torus %d, which emitted nothing wrong (first wrong: %lld %lld %lld)\n" SHOWF,
              chaos, torus, first[0], first[1], first[2], SHOWA(rp));
    cr_assert(first[torus] <= earliest + 1, "chaos %u: torus %d first went wrong at %lld, the earliest was %lld\n" SHOWF, chaos, torus,
              first[torus], earliest, SHOWA(rp));
    cr_assert(llabs((long long)k - first[torus]) <= 1, "chaos %u: reported exchange %llu, torus %d emitted a wrong event at %lld\n" SHOWF, chaos,
              k, torus, first[torus], SHOWA(rp));
    cr_assert(strstr(rp.out, "\nwindow: torus ") && strstr(rp.out, "  event    time       cell     (x,y,z)"), "the window is printed\n" SHOW(rp));
    cr_assert(strstr(rp.out, "the parallel run differs from sequential execution\n"), SHOW(rp));
    drop(&rp);
  }
  cr_assert_geq(seen, 1, "no chaos seed made a wrong draw: the test proves nothing");
}

/* Only torus C's x=0 face is affected: torus A's check of C's face comes
 * first in the stream and differs too, but the blame goes to C. */
Test(locate, face_race_is_blamed_on_the_torus_whose_face_it_is, .timeout = 300)
{
  int seen = 0;
  for (unsigned chaos = 0; chaos < 5; chaos++) {
    char c[16];
    snprintf(c, sizeof c, "%u", chaos);
    ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("face"), SHAPE, "-x", "30", "-t", "2", "--chaos", c, "-o", "face.btr", NULL));
    result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("face"), "face.btr", NULL);
    unsigned long long k;
    int torus;
    if (rp.status == 1) {
      seen++;
      cr_assert(diverged_at(&rp, &k, &torus), SHOW(rp));
      cr_assert_eq(torus, 2, "chaos %u: the face race of torus C was blamed on %d\n" SHOWF, chaos, torus, SHOWA(rp));
    } else {
      cr_assert_eq(rp.status, 0, SHOW(rp));
    }
    drop(&rp);
  }
  cr_assert_geq(seen, 1, "the face race never showed: the test proves nothing");
}

/* Every torus draws from the shared counter in the last epoch only: the
 * wrong events are still pending when the run ends.  Whenever the threaded
 * run's final state differs from the sequential run's (the footers say),
 * replay and diff must report it. */
Test(locate, race_in_the_last_epoch_is_reported, .timeout = 300)
{
  char x[16], after[32];
  snprintf(x, sizeof x, "%d", EXCHANGES);
  /* Epoch k ends after 1000 (k+1) events and the corrections it applied
   * (a few dozen here): event 59200 is in the last epoch. */
  snprintf(after, sizeof after, "after=%d", (EXCHANGES - 1) * 1000 + 200);
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("last"), "-p", after, SHAPE, "-x", x, "--sequential", "-o", "seq.btr", NULL));
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, tpath("seq.btr"), err, sizeof err), 0, "%s", err);
  uint64_t want[3];
  memcpy(want, braid_trace_get_info(t)->final_state_hash, sizeof want);
  braid_trace_close(t);
  int seen = 0;
  for (unsigned chaos = 1; chaos <= 10; chaos++) {
    char c[16];
    snprintf(c, sizeof c, "%u", chaos);
    ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("last"), "-p", after, SHAPE, "-x", x, "-t", "2", "--chaos", c, "-o", "thr.btr",
           NULL));
    cr_assert_eq(braid_trace_open(&t, tpath("thr.btr"), err, sizeof err), 0, "%s", err);
    int differs = memcmp(want, braid_trace_get_info(t)->final_state_hash, sizeof want) != 0;
    braid_trace_close(t);
    result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("last"), "thr.btr", NULL);
    result df = run(NULL, TOOL("braid-diff"), "seq.btr", "thr.btr", NULL);
    if (differs) {
      seen++;
      unsigned long long k;
      int torus;
      cr_assert_eq(rp.status, 1, "chaos %u: the final states differ\n" SHOWF, chaos, SHOWA(rp));
      cr_assert(diverged_at(&rp, &k, &torus) && k == EXCHANGES - 1, SHOW(rp));
      cr_assert_eq(df.status, 1, SHOW(df));
      cr_assert_not(strstr(df.out, "equal:"), SHOW(df));
    } else {
      cr_assert_eq(rp.status, 0, SHOW(rp));
      cr_assert(strstr(rp.out, "final state == footer"), SHOW(rp));
    }
    drop(&rp);
    drop(&df);
  }
  cr_assert_geq(seen, 1, "no chaos seed raced in the last epoch: the test proves nothing");
}

/* A model that reads the clock diverges on the replay of a sequential
 * recording as much as on a threaded one: both verdicts must say the model
 * is not deterministic, never blame the parallel run. */
Test(locate, clock_model_is_diagnosed_as_nondeterministic_sequentially, .timeout = 120)
{
  static const char *how[] = { "--sequential", "-t2" };
  for (int i = 0; i < 2; i++) {
    ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("clock"), SHAPE, "-x", "10", how[i], "-o", "clock.btr", NULL));
    result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("clock"), "clock.btr", NULL);
    cr_assert_eq(rp.status, 1, SHOW(rp));
    cr_assert(strstr(rp.out, "the model is not deterministic even sequentially"), "%s\n" SHOWF, how[i], SHOWA(rp));
    cr_assert_not(strstr(rp.out, "the parallel run differs"), SHOW(rp));
    drop(&rp);
  }
}

/* A model that reads heap memory init() never initialised: under
 * --perturb-malloc fresh memory holds a pattern, so the replay diverges,
 * and the second replay (another pattern) tells it is the model. */
Test(locate, uninitialised_memory_is_caught_under_perturb_malloc, .timeout = 120)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(BRAID_TSAN)
  cr_skip_test("a sanitizer's allocator ignores mallopt(M_PERTURB): --perturb-malloc has no effect in this build");
#endif
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("uninit"), SHAPE, "-x", "10", "-t", "2", "-o", "uninit.btr", NULL));
  result rp = run(NULL, TOOL("braid-replay"), "--perturb-malloc", "--model-plugin", PLUGIN("uninit"), "uninit.btr", NULL);
  cr_assert_eq(rp.status, 1, SHOW(rp));
  cr_assert(strstr(rp.out, "the model is not deterministic even sequentially"), SHOW(rp));
  drop(&rp);
  /* The same mode on a correct model is no false alarm. */
  ok(run(NULL, TOOL("braid-record"), "-q", "-m", "phold", SHAPE, "-x", "20", "-t", "2", "--checkpoint-every", "5", "-o", "phold.btr", NULL));
  ok(run(NULL, TOOL("braid-replay"), "--perturb-malloc", "phold.btr", NULL));
  ok(run(NULL, TOOL("braid-replay"), "--perturb-malloc=1", "--from", "12", "phold.btr", NULL));
}

/* A replay from a checkpoint of a faulty run trusts that checkpoint: what
 * it shows is consistency from there, never "parallel == sequential". */
Test(locate, replay_from_past_a_fault_does_not_claim_parallel_equals_sequential, .timeout = 120)
{
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("face"), SHAPE, "-x", "40", "-t", "2", "--checkpoint-every", "10", "--chaos", "3",
         "-o", "face.btr", NULL));
  result full = run(NULL, TOOL("braid-replay"), "--no-locate", "--model-plugin", PLUGIN("face"), "face.btr", NULL);
  cr_assert_eq(full.status, 1, "the fault shows from the start\n" SHOW(full));
  drop(&full);
  result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("face"), "--from", "35", "face.btr", NULL);
  cr_assert_not(strstr(rp.out, "parallel == sequential"), SHOW(rp));
  if (rp.status == 0) cr_assert(strstr(rp.out, "consistent from the checkpoint of exchange 29"), SHOW(rp));
  drop(&rp);
}

/* A plugin that keeps a counter in its private state replays from a
 * checkpoint when it saves that state; without save and load, --from is
 * refused (it would diverge where the run did not), and --force says why a
 * divergence may follow. */
Test(locate, saved_private_state_replays_from_a_checkpoint, .timeout = 120)
{
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("state"), SHAPE, "-x", "30", "-t", "2", "--checkpoint-every", "10", "-o",
         "state.btr", NULL));
  result rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("state"), "--from", "25", "state.btr", NULL);
  cr_assert_eq(rp.status, 0, SHOW(rp));
  cr_assert(strstr(rp.out, "OK: 10 exchanges, consistent from the checkpoint of exchange 19"), SHOW(rp));
  drop(&rp);
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", PLUGIN("state_nosave"), SHAPE, "-x", "30", "-t", "2", "--checkpoint-every", "10", "-o",
         "nosave.btr", NULL));
  ok(run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("state_nosave"), "nosave.btr", NULL));
  rp = run(NULL, TOOL("braid-replay"), "--model-plugin", PLUGIN("state_nosave"), "--from", "25", "nosave.btr", NULL);
  cr_assert_eq(rp.status, 2, SHOW(rp));
  cr_assert_eq(rp.out[0], 0, "nothing on stdout\n" SHOW(rp));
  cr_assert(strstr(rp.err, "keeps a private state") && strstr(rp.err, "no save and load"), SHOW(rp));
  drop(&rp);
  rp = run(NULL, TOOL("braid-replay"), "--force", "--model-plugin", PLUGIN("state_nosave"), "--from", "25", "nosave.btr", NULL);
  cr_assert(strstr(rp.err, "rebuilt by init(), not restored"), SHOW(rp));
  if (rp.status == 1) cr_assert(strstr(rp.out, "note: the model's private state was rebuilt by init()"), SHOW(rp));
  drop(&rp);
}

/* braid-diff names two builds of a plugin (same name and version, other
 * file) as a settings difference. */
Test(locate, diff_names_a_plugin_mismatch_as_a_settings_difference, .timeout = 60)
{
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so", "-n", "2", "-d", "8", "-x", "10", "-o",
         "a.btr", NULL));
  ok(run(NULL, TOOL("braid-record"), "-q", "--model-plugin", BRAID_BUILDDIR "/tests/.libs/plugin_ripple_rebuilt.so", "-n", "2", "-d", "8", "-x", "10",
         "-o", "b.btr", NULL));
  result df = run(NULL, TOOL("braid-diff"), "a.btr", "b.btr", NULL);
  cr_assert_eq(df.status, 1, SHOW(df));
  cr_assert(strstr(df.out, "settings differ: plugin 'ripple 1 "), SHOW(df));
  drop(&df);
}

/* --break stops before the window, with the torus handed to
 * braid_debug_break(), and the gdb commands of braid-gdb.py print it: the
 * example of braid-replay(1), run by real gdb in batch mode. */
Test(locate, gdb_helper_prints_the_torus_before_the_window, .timeout = 180)
{
  if (system("gdb --version > /dev/null 2>&1")) cr_skip_test("gdb is not installed");
  ok(run(NULL, TOOL("braid-record"), "-m", "racy", "-n", "2", "-t", "2", "-d", "8", "-i", "2000", "--interval-min", "2000", "-x", "200", "-o", "racy.btr",
         "-q", NULL));
  result rp = run(NULL, TOOL("braid-replay"), "racy.btr", NULL);
  unsigned long long k, first = 0;
  int torus;
  cr_assert(diverged_at(&rp, &k, &torus), SHOW(rp));
  const char *w = strstr(rp.out, "\nwindow: torus ");
  cr_assert(w && sscanf(strstr(w, "events "), "events %llu", &first) == 1, SHOW(rp));
  drop(&rp);
  char libtool[512], replay[512], helper[512];
  snprintf(libtool, sizeof libtool, "%s/libtool", BRAID_BUILDDIR);
  snprintf(replay, sizeof replay, "%s", TOOL("braid-replay"));
  snprintf(helper, sizeof helper, "source %s/tools/braid-gdb.py", BRAID_SRCDIR);
  result g = run(NULL, libtool, "--mode=execute", "gdb", "-batch", "-nx", "-ex", "set breakpoint pending on", "-ex", "break braid_debug_break", "-ex", "run",
              "-ex", helper, "-ex", "braid-torus", "-ex", "braid-cell 12", "-ex", "braid-pending 3", "--args", replay, "--break", "racy.btr", NULL);
  char want[128];
  /* Stopped before the window: the torus has processed the events before it. */
  snprintf(want, sizeof want, "torus %d: D=8 (512 cells), events %llu, time ", torus, first - 1);
  cr_assert(strstr(g.out, want), "want '%s'\n" SHOWF, want, SHOWA(g));
  cr_assert(strstr(g.out, "cell 12 (0,1,4): state "), SHOW(g));
  cr_assert(strstr(g.out, "  edge 0 -> cell "), SHOW(g));
  cr_assert(strstr(g.out, " pending events, the first 3:\n  t="), SHOW(g));
  drop(&g);
  /* The man page shows the same commands. */
  char *man = load(BRAID_SRCDIR "/man/braid-replay.1", NULL);
  cr_assert(strstr(man, "-ex 'set breakpoint pending on'") && strstr(man, "-ex braid-torus -ex 'braid-cell 12' -ex 'braid-pending 3'"));
  free(man);
}

/* No false alarm: every built-in model that should be deterministic, in two
 * shapes, under 10 chaos seeds, with a failure and checkpoints, replays OK
 * from the start and from a checkpoint, and with its final state. */
typedef struct quiet_case {
  char model[16];
  int shape;
  unsigned seed;
} quiet_case;

ParameterizedTestParameters(locate, no_false_alarm)
{
  static quiet_case cases[4 * 2 * 10];
  static const char *models[] = { "uniform", "skewed", "bursty", "phold" };
  size_t n = 0;
  for (unsigned m = 0; m < 4; m++)
    for (int shape = 0; shape < 2; shape++)
      for (unsigned s = 0; s < 10; s++) {
        snprintf(cases[n].model, sizeof cases[n].model, "%s", models[m]);
        cases[n].shape = shape;
        cases[n++].seed = 100 + s;
      }
  return cr_make_param_array(quiet_case, cases, n);
}

ParameterizedTest(quiet_case *c, locate, no_false_alarm, .timeout = 120, .init = make_dir, .fini = remove_dir)
{
  char seed[16];
  snprintf(seed, sizeof seed, "%u", c->seed);
  const char *n = c->shape ? "2" : "3", *d = c->shape ? "16" : "8", *fail = c->shape ? "A@17" : "B@12";
  ok(run(NULL, TOOL("braid-record"), "-q", "-m", c->model, "-n", n, "-d", d, "-x", "30", "-i", "300", "--interval-min", "50", "-t", "2", "--chaos", seed,
         "--seed", seed, "--fail", fail, "--checkpoint-every", "8", "-o", "run.btr", NULL));
  result rp = run(NULL, TOOL("braid-replay"), "run.btr", NULL);
  cr_assert_eq(rp.status, 0, "%s shape %d seed %u\n" SHOWF, c->model, c->shape, c->seed, SHOWA(rp));
  cr_assert(strstr(rp.out, "parallel == sequential; final state == footer"), SHOW(rp));
  drop(&rp);
  rp = run(NULL, TOOL("braid-replay"), "--from", "20", "run.btr", NULL);
  cr_assert_eq(rp.status, 0, "%s shape %d seed %u --from 20\n" SHOWF, c->model, c->shape, c->seed, SHOWA(rp));
  cr_assert(strstr(rp.out, "consistent from the checkpoint of exchange 15"), SHOW(rp));
  drop(&rp);
}
