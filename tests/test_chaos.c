/* test_chaos.c - scheduling perturbations never change a correct run, and
 * never hide the racy model. */
#include "helpers.h"
#include <criterion/parameterized.h>
#include <stdio.h>

typedef struct chaos_case {
  char model[16];
  unsigned seed;
} chaos_case;

#define SEEDS 20

ParameterizedTestParameters(chaos, perturbed_run_equals_sequential)
{
  static chaos_case cases[3 * SEEDS];
  static const char *models[] = { "uniform", "phold", "bursty" };
  for (unsigned m = 0; m < 3; m++)
    for (unsigned s = 0; s < SEEDS; s++) {
      snprintf(cases[m * SEEDS + s].model, sizeof cases[0].model, "%s", models[m]);
      cases[m * SEEDS + s].seed = 1000 + s;
    }
  return cr_make_param_array(chaos_case, cases, 3 * SEEDS);
}

/* Random yields, sleeps of up to 200 us inside epochs and before steps, and a
 * random torus-to-thread choice per step, all drawn from the chaos seed:
 * the logical stream must still be the sequential one. */
ParameterizedTest(chaos_case *c, chaos, perturbed_run_equals_sequential, .timeout = 120)
{
  char base[256], kv[320];
  snprintf(base, sizeof base, "model=%s tori=3 dim=8 exchanges=200 interval=200 interval_min=50 interval_max=1000 seed=%u", c->model, c->seed);
  mem_sink seq, thr;
  snprintf(kv, sizeof kv, "%s sequential=1", base);
  run_into(kv, &seq);
  snprintf(kv, sizeof kv, "%s threads=3 chaos=%u", base, c->seed);
  run_into(kv, &thr);
  cr_assert(same_stream(&seq, &thr), "%s, chaos seed %u: threaded differs from sequential", c->model, c->seed);
  mem_free(&seq);
  mem_free(&thr);
}

/* The racy model under every chaos seed.  Certain, not lucky: torus A is
 * held for 200 ms at the start of its epoch 10 (heartbeat off), so torus B's
 * epoch 10, which only needs A's projection 9, runs on the other worker in
 * the meantime; A's epoch 10 then reads B's state one epoch later than
 * sequential execution does, and 2000 unsynchronised reads of 512 changed
 * cells cannot all agree.  The read itself is the model's genuine race. */
ParameterizedTestParameters(chaos, racy_is_caught_under_every_seed)
{
  static unsigned seeds[SEEDS];
  for (unsigned s = 0; s < SEEDS; s++) seeds[s] = 2000 + s;
  return cr_make_param_array(unsigned, seeds, SEEDS);
}

ParameterizedTest(unsigned *seed, chaos, racy_is_caught_under_every_seed, .timeout = 120)
{
  char kv[256];
  mem_sink seq, thr;
  snprintf(kv, sizeof kv, "model=racy tori=2 dim=8 exchanges=30 interval=2000 interval_min=2000 seed=%u sequential=1", *seed);
  run_into(kv, &seq);
  snprintf(kv, sizeof kv, "model=racy tori=2 dim=8 exchanges=30 interval=2000 interval_min=2000 seed=%u threads=2 heartbeat_ms=0 chaos=%u", *seed, *seed);
  braid_runtime *rt = make_runtime(kv, &thr);
  rt->hooks.stall = (braid__stall){ 0, 10, 200 };
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  cr_assert_not(same_stream(&seq, &thr), "chaos seed %u: the race went unnoticed", *seed);
  mem_free(&seq);
  mem_free(&thr);
}

/* The same forced interleaving on a correct model changes nothing. */
Test(chaos, forced_interleaving_leaves_uniform_alone, .timeout = 60)
{
  mem_sink seq, thr;
  run_into("model=uniform tori=2 dim=8 exchanges=30 interval=2000 interval_min=2000 seed=5 sequential=1", &seq);
  braid_runtime *rt = make_runtime("model=uniform tori=2 dim=8 exchanges=30 interval=2000 interval_min=2000 seed=5 threads=2 heartbeat_ms=0", &thr);
  rt->hooks.stall = (braid__stall){ 0, 10, 200 };
  cr_assert_eq(braid_runtime_run(rt), 0);
  braid_runtime_destroy(rt);
  cr_assert(same_stream(&seq, &thr));
  mem_free(&seq);
  mem_free(&thr);
}
