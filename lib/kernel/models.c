/* models.c - the built-in workloads: uniform, skewed, bursty, phold, racy.
 *
 * Every model is a braid_model (the plugin interface) plus, because the event
 * loop is the hot path, a specialised loop with the handler inlined.  The
 * random streams used below are numbered so that no two uses share one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "common/mem.h"
#include "kernel/models.h"

enum { S_EDGE_DIR = 1, S_EDGE_DELAY, S_INIT_DELAY, S_INIT_PAYLOAD, S_PAYLOAD, S_HOT, S_PICK, S_BURST, S_PHOLD };

/* Model check codes (braid_torus_check), the same in every built-in model
 * that states the invariant.  POPULATION: uniform, skewed, phold and racy
 * keep their event population constant (each handled event emits exactly
 * one follow-up, after its own event left the queue), so a follow-up the
 * queue refused means that the kernel lost an event.  HOP_BUDGET: bursty's
 * hop budget bounds the events in flight (see bursty_bound); more would
 * mean that hops are not spent.  Both hold in a correct kernel: they are
 * the models' assertions, not their expected outcome. */
enum { CHECK_POPULATION = 1, CHECK_HOP_BUDGET = 2 };
#define POPULATION_MSG(model) model ": event population shrank: the queue refused a follow-up event"

/* ---------------------------------------------------------------- uniform */

static const braid_param_spec uniform_params[] = {
  { "pop", 1, 1, 16, "initial events per cell (the population stays constant)" },
  { "max_delay", 16, 2, 255, "largest edge delay" },
  { NULL, 0, 0, 0, NULL },
};

static int32_t walk_payload(uint64_t r) { return (int32_t)(r % 3) - 1; }

static int seed_edges_and_events(braid_torus *t, unsigned degree, uint32_t pop)
{
  int rc = braid_torus_set_degree(t, degree);
  if (rc) return rc;
  uint64_t base = t->q.now;
  for (uint32_t c = 0; c < t->ncells; c++) {
    uint32_t dir = (uint32_t)(braid__rand(t, S_EDGE_DIR, c) % 6);
    uint32_t d = 1 + (uint32_t)(braid__rand(t, S_EDGE_DELAY, c) % t->max_delay);
    if (degree) braid_torus_set_edge(t, c, 0, braid_torus_neighbour(t, c, dir), d);
    for (uint32_t p = 0; p < pop; p++) {
      uint64_t k = (uint64_t)c * 16 + p;
      uint64_t delay = 1 + braid__rand(t, S_INIT_DELAY, k) % t->max_delay;
      rc = braid__queue_push(&t->q, base + delay, c, c, walk_payload(braid__rand(t, S_INIT_PAYLOAD, k)));
      if (rc) return rc;
    }
  }
  return 0;
}

static int uniform_init(braid_torus *t, void **state)
{
  (void)state;
  return seed_edges_and_events(t, 1, (uint32_t)braid_torus_param(t, "pop"));
}

static inline void uniform_step(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  (void)time;
  int32_t p = walk_payload(braid__rand(t, S_PAYLOAD, t->events));
  uint32_t d = braid__use_delay(t, ev->dst, p > 0);
  braid__check(t, braid__emit(t, t->edge_target[ev->dst], ev->dst, d, p) == 0, ev->dst, CHECK_POPULATION, POPULATION_MSG("uniform"));
}

static void uniform_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid__qev q = { ev->dst, ev->src, ev->payload };
  uniform_step(t, ev->time, &q);
}

BRAID__DEFINE_LOOP(uniform_loop, uniform_step)

/* ----------------------------------------------------------------- skewed */

static const braid_param_spec skewed_params[] = {
  { "pop", 1, 1, 8, "initial events per cell; torus i holds pop*(1 + i%4) per cell" },
  { "max_delay", 16, 2, 255, "largest edge delay" },
  { "hot", 64, 1, 4096, "number of hot-spot cells (Zipf-like popularity)" },
  { "hot_permille", 300, 0, 1000, "share of events sent to a hot spot" },
  { NULL, 0, 0, 0, NULL },
};

static int skewed_init(braid_torus *t, void **state)
{
  (void)state;
  uint32_t pop = (uint32_t)braid_torus_param(t, "pop") * (1 + t->id % 4);
  int rc = seed_edges_and_events(t, 2, pop);
  if (rc) return rc;
  double hot = (double)braid_torus_param(t, "hot");
  for (uint32_t c = 0; c < t->ncells; c++) {
    /* Zipf(1)-like rank: floor(hot^u) - 1 for u uniform in [0,1). */
    double u = (double)(braid__rand(t, S_HOT, c) >> 11) * 0x1.0p-53;
    uint64_t rank = (uint64_t)pow(hot, u) - 1;
    uint32_t target = (uint32_t)(braid__mix64(rank + 0x5eed) % t->ncells);
    braid_torus_set_edge(t, c, 1, target, 1 + (uint32_t)(braid__rand(t, S_EDGE_DELAY, c + t->ncells) % t->max_delay));
  }
  return 0;
}

static inline void skewed_step(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  (void)time;
  uint64_t r = braid__rand(t, S_PAYLOAD, t->events);
  int32_t p = walk_payload(r);
  unsigned k = (uint32_t)(r >> 32) % 1000 < (uint32_t)t->params[3] ? 1 : 0;
  size_t i = (size_t)ev->dst * 2 + k;
  uint32_t d = braid__use_delay(t, i, p > 0);
  braid__check(t, braid__emit(t, t->edge_target[i], ev->dst, d, p) == 0, ev->dst, CHECK_POPULATION, POPULATION_MSG("skewed"));
}

static void skewed_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid__qev q = { ev->dst, ev->src, ev->payload };
  skewed_step(t, ev->time, &q);
}

BRAID__DEFINE_LOOP(skewed_loop, skewed_step)

/* ----------------------------------------------------------------- bursty */

static const braid_param_spec bursty_params[] = {
  { "period", 64, 2, 200, "virtual time between bursts" },
  { "burst", 256, 1, 65536, "events per burst" },
  { "hops", 8, 1, 64, "hop budget of a burst event (the population stays bounded)" },
  { "max_delay", 16, 2, 255, "largest edge delay" },
  { NULL, 0, 0, 0, NULL },
};

/* The most events a bursty torus can hold: a burst event hops at most
 * `hops` times, each hop at most max_delay later, so the bursts of the last
 * hops * max_delay time units are the only ones alive, each with at most
 * `burst` events pending; plus the timer, and the corrections and
 * injections an exchange may land (at most one per face cell, with room for
 * as many injections). */
static uint64_t bursty_bound(const braid_torus *t)
{
  uint64_t period = (uint64_t)t->params[0], n = (uint64_t)t->params[1], hops = (uint64_t)t->params[2];
  return n * (hops * t->max_delay / period + 2) + 1 + 2 * (uint64_t)t->dim * t->dim;
}

static void burst(braid_torus *t)
{
  uint32_t n = (uint32_t)t->params[1];
  int32_t hops = (int32_t)t->params[2];
  for (uint32_t i = 0; i < n; i++) {
    uint64_t r = braid__rand(t, S_BURST, t->events * 65536 + i);
    uint32_t cell = (uint32_t)(r % t->ncells);
    /* A burst the queue cannot hold is a run error, counted and traced
     * as an overflow (DESIGN 3), not a broken model. */
    braid__emit(t, cell, cell, 1 + (r >> 40) % t->max_delay, hops);
  }
  braid__emit(t, 0, BRAID_SRC_TIMER, (uint64_t)t->params[0], 0);
}

static int bursty_init(braid_torus *t, void **state)
{
  (void)state;
  /* The burst timer is set `period` ahead, which may exceed max_delay. */
  uint32_t period = (uint32_t)t->params[0];
  int rc = braid_torus_set_horizon(t, period > t->max_delay ? period : t->max_delay);
  if (rc) return rc;
  rc = seed_edges_and_events(t, 1, 0);
  if (rc) return rc;
  /* Only this burst counts: a rebuilt torus keeps the counts of the
   * overflows before its failure (they were reported then). */
  uint64_t refused = t->q.overflows + t->q.horizon_errors;
  burst(t);
  return t->q.overflows + t->q.horizon_errors != refused ? BRAID_EQUEUE : 0;
}

static inline void bursty_step(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  (void)time;
  if (ev->src == BRAID_SRC_TIMER) {
    braid__check(t, t->q.size <= bursty_bound(t), ev->dst, CHECK_HOP_BUDGET, "bursty: more events in flight than the hop budget allows");
    burst(t);
    return;
  }
  if (ev->payload <= 1) return; /* hop budget spent */
  /* Payloads are positive here, so alternate the rule's direction by parity to
   * keep delays spread rather than collapsing to 1. */
  int up = (braid__rand(t, S_PAYLOAD, t->events) & 1);
  uint32_t d = braid__use_delay(t, ev->dst, !up);
  braid__emit(t, t->edge_target[ev->dst], ev->dst, d, ev->payload - 1);
}

static void bursty_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid__qev q = { ev->dst, ev->src, ev->payload };
  bursty_step(t, ev->time, &q);
}

BRAID__DEFINE_LOOP(bursty_loop, bursty_step)

/* ------------------------------------------------------------------ phold */

static const braid_param_spec phold_params[] = {
  { "pop", 1, 1, 16, "initial events per cell (the population stays constant)" },
  { "lookahead", 1, 1, 64, "minimum delay of every event" },
  { "mean", 8, 0, 128, "mean of the exponential part of the delay" },
  { NULL, 0, 0, 0, NULL },
};

typedef struct phold_state {
  uint16_t delay[256]; /* lookahead + quantised exponential, by 8 random bits */
} phold_state;

#define PHOLD_MAX_DELAY 1023

static int phold_init(braid_torus *t, void **state)
{
  phold_state *s = braid__malloc_lines(1, sizeof *s);
  if (!s) return BRAID_ENOMEM;
  *state = s;
  int64_t la = braid_torus_param(t, "lookahead"), mean = braid_torus_param(t, "mean");
  for (int i = 0; i < 256; i++) {
    double e = -(double)mean * log((i + 0.5) / 256.0);
    int64_t d = la + (int64_t)e;
    s->delay[i] = (uint16_t)(d > PHOLD_MAX_DELAY ? PHOLD_MAX_DELAY : d);
  }
  uint32_t pop = (uint32_t)braid_torus_param(t, "pop");
  for (uint32_t c = 0; c < t->ncells; c++)
    for (uint32_t p = 0; p < pop; p++) {
      uint64_t r = braid__rand(t, S_INIT_DELAY, (uint64_t)c * 16 + p);
      int rc = braid__queue_push(&t->q, t->q.now + s->delay[r & 255], (uint32_t)((r >> 16) % t->ncells), c, 1);
      if (rc) return rc;
    }
  return 0;
}

static inline void phold_step(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  (void)time;
  const phold_state *s = t->mstate;
  uint64_t r = braid__rand(t, S_PHOLD, t->events);
  int rc = braid__emit(t, (uint32_t)((r >> 16) % t->ncells), ev->dst, s->delay[r & 255], (int32_t)((r >> 8) & 1) * 2 - 1);
  braid__check(t, rc == 0, ev->dst, CHECK_POPULATION, POPULATION_MSG("phold"));
}

static void phold_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid__qev q = { ev->dst, ev->src, ev->payload };
  phold_step(t, ev->time, &q);
}

static void free_state(void *state) { free(state); }

BRAID__DEFINE_LOOP(phold_loop, phold_step)

/* ------------------------------------------------------------------- racy */

static const braid_param_spec racy_params[] = {
  { "pop", 1, 1, 16, "initial events per cell" },
  { "max_delay", 16, 2, 255, "largest edge delay" },
  { NULL, 0, 0, 0, NULL },
};

/* Deliberately wrong: reads the predecessor torus's live cell state without
 * any synchronisation, so that a threaded run depends on thread timing.  It
 * exists to prove that braid-replay and braid-diff catch a real race.  The
 * ThreadSanitizer suppression file names this function. */
__attribute__((noinline)) static int64_t racy_peek(const braid_torus *peer, uint32_t cell)
{
  return peer ? ((const volatile int64_t *)peer->state)[cell & (peer->ncells - 1)] : 0;
}

static inline void racy_step(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  (void)time;
  int32_t p = walk_payload(braid__rand(t, S_PAYLOAD, t->events)) + (int32_t)(racy_peek(t->peer, ev->dst) & 1);
  uint32_t d = braid__use_delay(t, ev->dst, p > 0);
  braid__check(t, braid__emit(t, t->edge_target[ev->dst], ev->dst, d, p) == 0, ev->dst, CHECK_POPULATION, POPULATION_MSG("racy"));
}

static void racy_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid__qev q = { ev->dst, ev->src, ev->payload };
  racy_step(t, ev->time, &q);
}

BRAID__DEFINE_LOOP(racy_loop, racy_step)

/* ------------------------------------------------------------------ table */

static const braid_model builtins[] = {
  { BRAID_MODEL_ABI, "uniform", 1, "one out-edge per cell to a random face neighbour; constant population",
    uniform_params, uniform_init, uniform_handle, NULL, 255, NULL, NULL },
  { BRAID_MODEL_ABI, "skewed", 1, "Zipf-like hot spots and uneven load between tori",
    skewed_params, skewed_init, skewed_handle, NULL, 255, NULL, NULL },
  { BRAID_MODEL_ABI, "bursty", 1, "periodic bursts of events with a hop budget",
    bursty_params, bursty_init, bursty_handle, NULL, 255, NULL, NULL },
  { BRAID_MODEL_ABI, "phold", 1, "PHOLD: each event schedules one event to a random cell after lookahead + exponential delay",
    phold_params, phold_init, phold_handle, free_state, PHOLD_MAX_DELAY, NULL, NULL },
  { BRAID_MODEL_ABI, "racy", 1, "uniform, but reads the predecessor torus's live state without synchronisation (a deliberate race)",
    racy_params, uniform_init, racy_handle, NULL, 255, NULL, NULL },
};

static const braid__loop_fn builtin_loops[] = { uniform_loop, skewed_loop, bursty_loop, phold_loop, racy_loop };

const braid_model *braid_builtin_model(unsigned i)
{
  return i < sizeof builtins / sizeof builtins[0] ? &builtins[i] : NULL;
}

const braid_model *braid_find_model(const char *name)
{
  for (unsigned i = 0; name && i < sizeof builtins / sizeof builtins[0]; i++)
    if (!strcmp(builtins[i].name, name)) return &builtins[i];
  return NULL;
}

braid__loop_fn braid__builtin_loop(const braid_model *m)
{
  for (unsigned i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (m == &builtins[i]) return builtin_loops[i];
  return NULL;
}
