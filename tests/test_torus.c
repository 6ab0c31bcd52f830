/* test_torus.c - one kernel: determinism, wrap, edge rule, populations. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "runtime/settings.h"
#include "kernel/models.h"

static int64_t params[BRAID_MAX_PARAMS];

/* Criterion re-executes each test: parameters hold text, not pointers. */
typedef struct model_name {
  char name[16];
} model_name;

static void make(braid_torus *t, const char *model, uint32_t dim, uint64_t seed, uint32_t id)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set(cfg, "model", model), 0);
  cr_assert_eq(braid__config_params(cfg, params), 0);
  braid__torus_opts o = { .id = id, .dim = dim, .seed = seed, .queue_cap = 1u << 22, .procs = 4, .model = cfg->model, .params = params, .loop = braid__builtin_loop(cfg->model) };
  cr_assert_eq(braid__torus_init(t, &o), 0);
  braid_config_destroy(cfg);
}

typedef struct run_result {
  uint64_t digest, hash, events;
} run_result;

static run_result run(const char *model, uint64_t seed, uint32_t id, uint64_t n)
{
  braid_torus t;
  make(&t, model, 16, seed, id);
  run_result r;
  r.events = braid__torus_run(&t, n);
  r.digest = t.digest;
  r.hash = braid__torus_state_hash(&t);
  braid__torus_free(&t);
  return r;
}

ParameterizedTestParameters(torus, same_seed_same_run)
{
  static model_name models[] = { { "uniform" }, { "skewed" }, { "bursty" }, { "phold" } };
  return cr_make_param_array(model_name, models, 4);
}

ParameterizedTest(model_name *model, torus, same_seed_same_run, .timeout = 30)
{
  run_result a = run(model->name, 42, 1, 200000), b = run(model->name, 42, 1, 200000);
  cr_assert_eq(a.events, 200000);
  cr_assert_eq(a.digest, b.digest);
  cr_assert_eq(a.hash, b.hash);
  run_result c = run(model->name, 43, 1, 200000);
  cr_assert_neq(a.digest, c.digest, "seed must change the run");
  cr_assert_neq(a.hash, c.hash);
  run_result d = run(model->name, 42, 2, 200000);
  cr_assert_neq(a.hash, d.hash, "torus id must change the run");
}

Test(torus, result_independent_of_chunking, .timeout = 30)
{
  /* Running 100000 events at once or in odd-sized chunks gives one state. */
  braid_torus a, b;
  make(&a, "phold", 16, 7, 0);
  make(&b, "phold", 16, 7, 0);
  braid__torus_run(&a, 100000);
  for (uint64_t done = 0, k = 1; done < 100000; k = k * 3 % 997 + 1) done += braid__torus_run(&b, done + k > 100000 ? 100000 - done : k);
  cr_assert_eq(a.digest, b.digest);
  cr_assert_eq(braid__torus_state_hash(&a), braid__torus_state_hash(&b));
  braid__torus_free(&a);
  braid__torus_free(&b);
}

Test(torus, lattice_wraps_at_every_face)
{
  braid_torus t;
  make(&t, "uniform", 8, 1, 0);
  cr_assert_eq(braid_torus_cell(&t, 0, 0, 0), 0);
  cr_assert_eq(braid_torus_cell(&t, 1, 2, 3), (1 * 8 + 2) * 8 + 3);
  cr_assert_eq(braid_torus_cell(&t, 8, 0, 0), 0);
  cr_assert_eq(braid_torus_cell(&t, -1, -1, -1), 511);
  for (uint32_t c = 0; c < t.ncells; c++) {
    uint32_t x = c >> 6, y = (c >> 3) & 7, z = c & 7;
    cr_assert_eq(braid_torus_neighbour(&t, c, 0), braid_torus_cell(&t, (x + 1) % 8, y, z));
    cr_assert_eq(braid_torus_neighbour(&t, c, 1), braid_torus_cell(&t, (x + 7) % 8, y, z));
    cr_assert_eq(braid_torus_neighbour(&t, c, 2), braid_torus_cell(&t, x, (y + 1) % 8, z));
    cr_assert_eq(braid_torus_neighbour(&t, c, 3), braid_torus_cell(&t, x, (y + 7) % 8, z));
    cr_assert_eq(braid_torus_neighbour(&t, c, 4), braid_torus_cell(&t, x, y, (z + 1) % 8));
    cr_assert_eq(braid_torus_neighbour(&t, c, 5), braid_torus_cell(&t, x, y, (z + 7) % 8));
    for (unsigned d = 0; d < 6; d++) /* going and coming back is the identity */
      cr_assert_eq(braid_torus_neighbour(&t, braid_torus_neighbour(&t, c, d), d ^ 1), c);
  }
  braid__torus_free(&t);
}

Test(torus, edge_delay_rule_at_its_bounds)
{
  braid_torus t;
  make(&t, "uniform", 8, 1, 0); /* max_delay 16 */
  uint32_t d;
  cr_assert_eq(braid_torus_set_edge(&t, 5, 0, 9, 1), 0);
  cr_assert_eq(braid_torus_use_edge(&t, 5, 0, 1, &d), 9);
  cr_assert_eq(d, 1);
  braid_torus_use_edge(&t, 5, 0, 1, &d);
  cr_assert_eq(d, 1, "positive payload never takes the delay below 1");
  braid_torus_use_edge(&t, 5, 0, 0, &d);
  cr_assert_eq(d, 1);
  braid_torus_use_edge(&t, 5, 0, -1, &d);
  cr_assert_eq(d, 2, "zero payload adds one");
  cr_assert_eq(braid_torus_set_edge(&t, 5, 0, 9, 16), 0);
  braid_torus_use_edge(&t, 5, 0, 0, &d);
  braid_torus_use_edge(&t, 5, 0, 0, &d);
  cr_assert_eq(d, 16, "non-positive payload never exceeds max_delay");
  cr_assert_eq(braid_torus_set_edge(&t, 5, 0, 9, 300), 0);
  braid_torus_use_edge(&t, 5, 0, 0, &d);
  cr_assert_eq(d, 16, "set_edge clamps to max_delay");
  cr_assert_eq(braid_torus_set_edge(&t, 512, 0, 0, 1), BRAID_ERANGE);
  cr_assert_eq(braid_torus_set_edge(&t, 0, 1, 0, 1), BRAID_ERANGE);
  braid__torus_free(&t);
}

ParameterizedTestParameters(torus, population_constant)
{
  static model_name models[] = { { "uniform" }, { "phold" } };
  return cr_make_param_array(model_name, models, 2);
}

ParameterizedTest(model_name *model, torus, population_constant, .timeout = 60)
{
  braid_torus t;
  make(&t, model->name, 32, 3, 0);
  uint64_t pop = t.q.size;
  cr_assert_eq(pop, 32768);
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(braid__torus_run(&t, 100000), 100000);
    cr_assert_eq(t.q.size, pop, "population changed after %d00000 events", i + 1);
  }
  cr_assert_eq(t.q.overflows + t.q.horizon_errors, 0);
  braid__torus_free(&t);
}

Test(torus, bursty_stays_bounded, .timeout = 60)
{
  braid_torus t;
  make(&t, "bursty", 32, 3, 0);
  uint64_t peak = 0;
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(braid__torus_run(&t, 10000), 10000, "bursty must never run dry");
    if (t.q.size > peak) peak = t.q.size;
  }
  /* burst * hops events per burst, at most (hops * max_delay / period + 2) bursts alive. */
  cr_assert_leq(peak, 256 * 8 * (8 * 16 / 64 + 2), "peak population %llu", (unsigned long long)peak);
  cr_assert_gt(peak, 256);
  braid__torus_free(&t);
}

Test(torus, external_events_change_state_but_not_population)
{
  braid_torus t;
  make(&t, "uniform", 8, 1, 0);
  uint64_t pop = t.q.size;
  cr_assert_eq(braid__torus_push_external(&t, 3, 1000), 0);
  cr_assert_eq(braid__torus_push_external(&t, 512, 1), BRAID_ERANGE);
  braid__torus_run(&t, 5000);
  cr_assert_eq(t.q.size, pop);
  braid__torus_free(&t);
}

Test(torus, queue_overflow_is_counted_not_dropped)
{
  braid_config *cfg;
  braid_torus t;
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid__config_params(cfg, params), 0);
  braid__torus_opts o = { .id = 0, .dim = 8, .seed = 1, .queue_cap = 100, .procs = 0, .model = cfg->model, .params = params, .loop = braid__builtin_loop(cfg->model) };
  cr_assert_eq(braid__torus_init(&t, &o), BRAID_EQUEUE, "512 initial events cannot fit in 100");
  braid_config_destroy(cfg);
}

Test(torus, processes_at_most_eight_per_cell)
{
  braid_torus t;
  make(&t, "uniform", 8, 1, 0);
  t.nprocs = 0;
  memset(t.proc_count, 0, t.ncells);
  for (int i = 0; i < 8; i++) cr_assert_eq(braid_torus_spawn(&t, 7, (uint32_t)i, 0), 0);
  cr_assert_eq(braid_torus_spawn(&t, 7, 99, 0), BRAID_ELIMIT);
  braid__torus_free(&t);
}

Test(torus, horizon_can_widen_only_before_the_first_event)
{
  braid_torus t;
  make(&t, "uniform", 8, 1, 0);
  cr_assert_eq(t.q.mask + 1, 64, "the ring covers max_delay 16 (64 buckets at least), not the model's cap of 255");
  cr_assert_eq(braid_torus_set_horizon(&t, 100), BRAID_ESTATE, "events are queued already");
  braid__queue_clear(&t.q, 0);
  cr_assert_eq(braid_torus_set_horizon(&t, 300), BRAID_ERANGE);
  cr_assert_eq(braid_torus_set_horizon(&t, 100), 0);
  cr_assert_eq(t.q.mask + 1, 128);
  cr_assert_eq(braid_torus_emit(&t, 0, 0, 100, 1), 0);
  cr_assert_eq(braid_torus_emit(&t, 0, 0, 200, 1), BRAID_EHORIZON);
  braid__torus_free(&t);
}

/* The arrays every event writes start on cache lines of their own, for
 * each model (see common/mem.h: another torus's data on the same line made
 * threaded runs slow, depending on the heap). */
Test(torus, per_cell_arrays_are_on_cache_lines_of_their_own)
{
  static const char *models[] = { "uniform", "skewed", "bursty", "phold", "racy" };
  for (unsigned m = 0; m < sizeof models / sizeof *models; m++) {
    braid_torus t;
    make(&t, models[m], 8, 1, 0);
    cr_assert_eq((uintptr_t)t.state % 64, 0, "%s", models[m]);
    cr_assert_eq((uintptr_t)t.activity % 64, 0, "%s", models[m]);
    cr_assert_eq((uintptr_t)t.corr % 64, 0, "%s", models[m]);
    if (t.degree) {
      cr_assert_eq((uintptr_t)t.edge_target % 64, 0, "%s", models[m]);
      cr_assert_eq((uintptr_t)t.edge_delay % 64, 0, "%s", models[m]);
    }
    if (t.proc_count) cr_assert_eq((uintptr_t)t.proc_count % 64, 0, "%s", models[m]);
    braid__torus_free(&t);
  }
}
