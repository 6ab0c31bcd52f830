/* test_convergence.c - how fast the braid absorbs a perturbation: the rule
 * of the report's convergence figure (lib/converge.h) on given checks, and
 * the acceptance test of issue 19 on real runs (tests/convergence.h): a
 * whole boundary face perturbed by +1000, -1000 or a random +-1000 per cell,
 * for every built-in deterministic model at the default settings, converges
 * in fewer than 10 exchanges, sequentially and threaded, without overshoot.
 * Nothing here depends on timing: the figures come from the logical data. */
#include <criterion/criterion.h>
#include "convergence.h"
#include "runtime/converge.h"

/* ------------------------------------------------------------ the rule */

/* Checks of 1000 cells, one per exchange from 0, with `viol` violated; a
 * perturbation before the check of exchange `at` (rebuild) or after it
 * (injection); -1: none. */
typedef struct conv_case {
  const char *name;
  int64_t at;
  uint32_t kind;
  unsigned n;
  uint32_t viol[24];
  int64_t want_from;
} conv_case;

static const conv_case cases[] = {
  { "steady from the start", -1, 0, 6, { 0, 3, 9, 0, 2, 5 }, 0 },
  { "off at the start", -1, 0, 5, { 500, 40, 3, 2, 1 }, 2 },
  { "an injection corrected at once", 3, BRAID_PERTURB_INJECTION, 8, { 0, 0, 0, 0, 1000, 0, 1, 0 }, 5 },
  { "no effect: converged at the next check", 3, BRAID_PERTURB_INJECTION, 6, { 0, 0, 0, 0, 2, 0 }, 4 },
  { "the check of the injection's exchange does not count", 3, BRAID_PERTURB_INJECTION, 6, { 0, 0, 0, 900, 0, 0 }, 4 },
  { "a rebuild's own check counts", 3, BRAID_PERTURB_REBUILD, 6, { 0, 0, 0, 0, 0, 0 }, 3 },
  { "a rebuild off at its check", 3, BRAID_PERTURB_REBUILD, 6, { 0, 0, 0, 700, 5, 0 }, 4 },
  /* One noisy check among quiet ones: 15 over 3 checks is 0.5%. */
  { "one noisy check does not undo it", -1, 0, 8, { 0, 0, 0, 0, 0, 15, 0, 0 }, 0 },
  /* 15 on the check right after C: 15/2000 is 0.75%, still below. */
  { "a noisy second check", 0, BRAID_PERTURB_INJECTION, 5, { 0, 0, 15, 0, 0 }, 1 },
  /* 25 right after C (25/2000) undoes C; the next candidate is the check after the run that failed. */
  { "a run from C at 1% undoes it", 0, BRAID_PERTURB_INJECTION, 6, { 0, 0, 25, 0, 0, 0 }, 3 },
  /* A torus slowly getting worse: 10 checks of 12 each are 1.2%. */
  { "a steady rate above 1% is never converged", -1, 0, 14, { 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12 }, -1 },
  { "a run of 10 above 1% undoes an old C", -1, 0, 16, { 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20 }, -1 },
  /* After a bad stretch, C is the first check below 1% again. */
  { "recovery after a bad stretch", -1, 0, 14, { 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0, 0 }, 12 },
  { "the last perturbation counts", 8, BRAID_PERTURB_INJECTION, 12, { 0, 800, 0, 0, 0, 0, 0, 0, 0, 900, 900, 0 }, 11 },
};

Test(converge, the_rule_on_given_checks)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const conv_case *c = &cases[i];
    braid__converge cv;
    braid__converge_init(&cv);
    for (unsigned k = 0; k < c->n; k++) {
      if (c->at == (int64_t)k && c->kind == BRAID_PERTURB_REBUILD) braid__converge_perturb(&cv, k, c->kind);
      braid__converge_check(&cv, k, 1000, c->viol[k]);
      if (c->at == (int64_t)k && c->kind == BRAID_PERTURB_INJECTION) braid__converge_perturb(&cv, k, c->kind);
    }
    cr_expect_eq(cv.from, c->want_from, "%s: converged from %lld, want %lld", c->name, (long long)cv.from, (long long)c->want_from);
    cr_expect_eq(cv.perturbed, c->at, "%s: perturbed at %lld", c->name, (long long)cv.perturbed);
  }
}

/* The ring holds only the last 10 checks; a long run exercises its wrap. */
Test(converge, a_long_steady_run_stays_converged)
{
  braid__converge cv;
  braid__converge_init(&cv);
  for (unsigned k = 0; k < 1000; k++) braid__converge_check(&cv, k, 1024, (k % 7 == 3) ? 14 : 2);
  cr_assert_eq(cv.from, 0);
  braid__converge_check(&cv, 1000, 1024, 1024);
  cr_assert_eq(cv.from, -1, "a whole face off undoes convergence");
  for (unsigned k = 1001; k < 1004; k++) braid__converge_check(&cv, k, 1024, 0);
  cr_assert_eq(cv.from, 1001);
}

/* ------------------------------------------------- perturbed real runs */

static void converges(const char *model, conv_shape shape)
{
  conv_outcome seq, thr;
  cr_assert_eq(conv_run(model, shape, 0, &seq), 0, "%s", seq.err);
  cr_assert_eq(conv_run(model, shape, 1, &thr), 0, "%s", thr.err);
  const char *what = conv_shape_name[shape];
  cr_expect(same_stream(&seq.stream, &thr.stream), "%s, %s: the threaded run differs from the sequential one", model, what);
  for (int i = 0; i < 2; i++) {
    const conv_outcome *o = i ? &thr : &seq;
    const char *ex = i ? "threaded" : "sequential";
    cr_expect_eq(o->conv.perturbation, BRAID_PERTURB_INJECTION, "%s, %s, %s", model, what, ex);
    cr_expect_eq(o->conv.perturbed_exchange, CONV_PERTURBED, "%s, %s, %s", model, what, ex);
    cr_expect(o->conv.exchanges >= 1 && o->conv.exchanges < CONV_GOAL, "%s, %s, %s: converged %lld exchanges after the perturbation", model,
              what, ex, (long long)o->conv.exchanges);
    cr_expect(o->all_from >= 0 && o->all_from < CONV_PERTURBED + CONV_GOAL, "%s, %s, %s: every torus converged from %lld", model, what, ex,
              (long long)o->all_from);
    cr_expect_leq(o->violation_rate, 0.01, "%s, %s, %s: violation rate %.4f%%", model, what, ex, o->violation_rate * 100);
  }
  /* Steady noise puts a few cells beyond the tolerance on either side; an
   * overshoot would put most of the face there. */
  cr_expect_lt(seq.overshoot_cells * 100, seq.facelen, "%s, %s: %u of %u cells overshot at one check", model, what, seq.overshoot_cells,
               seq.facelen);
  mem_free(&seq.stream);
  mem_free(&thr.stream);
}

#define CONVERGES(model, shape, tag) \
  Test(convergence, model##_##tag##_converges_within_10_exchanges, .timeout = 120) { converges(#model, shape); }

CONVERGES(uniform, CONV_PLUS, plus_1000)
CONVERGES(uniform, CONV_MINUS, minus_1000)
CONVERGES(uniform, CONV_RANDOM, random_1000)
CONVERGES(skewed, CONV_PLUS, plus_1000)
CONVERGES(skewed, CONV_MINUS, minus_1000)
CONVERGES(skewed, CONV_RANDOM, random_1000)
CONVERGES(bursty, CONV_PLUS, plus_1000)
CONVERGES(bursty, CONV_MINUS, minus_1000)
CONVERGES(bursty, CONV_RANDOM, random_1000)
CONVERGES(phold, CONV_PLUS, plus_1000)
CONVERGES(phold, CONV_MINUS, minus_1000)
CONVERGES(phold, CONV_RANDOM, random_1000)

/* The list above is every deterministic built-in model. */
Test(convergence, covers_every_deterministic_builtin_model)
{
  unsigned n = 0;
  for (unsigned i = 0; braid_builtin_model(i); i++)
    if (strcmp(braid_builtin_model(i)->name, "racy")) {
      int found = 0;
      for (unsigned m = 0; m < CONV_MODELS; m++) found |= !strcmp(conv_models[m], braid_builtin_model(i)->name);
      cr_expect(found, "model %s has no convergence test", braid_builtin_model(i)->name);
      n++;
    }
  cr_assert_eq(n, CONV_MODELS);
}
