/* convergence.h - a whole boundary face perturbed at the default settings,
 * and what the braid made of it: shared by tests/test_convergence.c (the
 * acceptance test) and tests/bench.c (`make bench` prints the figures).
 * Needs no test framework.
 *
 * Torus B's x=D-1 face (every cell of it) gets one injected event per cell
 * at exchange CONV_PERTURBED: +1000, -1000, or +-1000 by a random sign per
 * cell.  The run goes on for CONV_AFTER exchanges more, so "stays below 1%"
 * is judged over that many. */
#ifndef BRAID_TEST_CONVERGENCE_H
#define BRAID_TEST_CONVERGENCE_H

#include "sink.h"

#define CONV_PERTURBED 100
#define CONV_AFTER 60
#define CONV_RECEIVER 1
#define CONV_GOAL 10 /* exchanges: converged in fewer */

typedef enum { CONV_PLUS, CONV_MINUS, CONV_RANDOM, CONV__SHAPES } conv_shape;
static const char *const conv_shape_name[CONV__SHAPES] = { "+1000", "-1000", "random +-1000" };
/* The built-in models whose threaded runs are deterministic (not racy). */
static const char *const conv_models[] = { "uniform", "skewed", "bursty", "phold" };
#define CONV_MODELS (sizeof conv_models / sizeof conv_models[0])

static inline int32_t conv_payload(conv_shape s, uint32_t j)
{
  return s == CONV_PLUS ? 1000 : s == CONV_MINUS ? -1000 : (braid__mix64(0xc0417 + j) & 1) ? 1000 : -1000;
}

typedef struct conv_outcome {
  int rc;
  char err[512];
  braid_convergence conv; /* the receiver's */
  int64_t all_from;       /* the report's: every torus converged from */
  double violation_rate;
  /* Sequential runs only: the most face cells that, at one check after the
   * perturbation, sat beyond the tolerance on the far side of the expected
   * value from where their perturbation pushed them (an overshoot). */
  uint32_t overshoot_cells, facelen;
  mem_sink stream;
} conv_outcome;

/* Watches the receiver's face in a sequential run.  The sequential executor
 * hands exchange k-1 to the sinks once every torus has published k, so the
 * face and the predecessor's projection are then what the check of
 * exchange k compares. */
typedef struct conv_watch {
  braid_runtime *rt;
  conv_shape shape;
  conv_outcome *out;
} conv_watch;

static int conv_watch_exchange(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  conv_watch *w = ud;
  (void)recs;
  (void)len;
  if (k + 1 <= CONV_PERTURBED) return 0;
  const braid__tctx *c = &w->rt->tc[CONV_RECEIVER];
  const braid__projection *pred = &w->rt->tc[CONV_RECEIVER - 1].own;
  const int64_t *face = w->rt->tc[CONV_RECEIVER - 1].own.face;
  const int64_t tol = w->rt->cfg.v[BRAID_K_tolerance];
  const uint32_t base = c->t.ncells - pred->facelen;
  uint32_t far = 0;
  for (uint32_t j = 0; j < pred->facelen; j++) {
    int64_t dev = c->t.state[base + j] - face[j];
    if (conv_payload(w->shape, j) > 0 ? dev < -tol : dev > tol) far++;
  }
  if (far > w->out->overshoot_cells) w->out->overshoot_cells = far;
  return 0;
}

/* Runs `model` at the default settings (sequential or threaded) with the
 * perturbation; 0 or a braid error with out->err set. */
static inline int conv_run(const char *model, conv_shape shape, int threaded, conv_outcome *out)
{
  char kv[256];
  memset(out, 0, sizeof *out);
  snprintf(kv, sizeof kv, "model=%s exchanges=%d %s", model, CONV_PERTURBED + CONV_AFTER, threaded ? "threads=2" : "sequential=1");
  braid_runtime *rt = runtime_or_null(kv, &out->stream, out->err, sizeof out->err);
  if (!rt) return out->rc = BRAID_EINVAL;
  conv_watch w = { rt, shape, out };
  if (!threaded) {
    braid__sink s = { conv_watch_exchange, NULL, &w };
    braid__add_sink(rt, &s);
  }
  out->facelen = rt->facelen;
  const uint32_t base = rt->dim * rt->dim * rt->dim - rt->facelen;
  for (uint32_t j = 0; j < rt->facelen && !out->rc; j++) out->rc = braid_inject(rt, CONV_RECEIVER, base + j, conv_payload(shape, j), CONV_PERTURBED);
  if (!out->rc) out->rc = braid_runtime_run(rt);
  braid_report rep;
  if (!out->rc) out->rc = braid_runtime_report(rt, &rep);
  if (out->rc) {
    snprintf(out->err, sizeof out->err, "%s: %s", kv, braid_runtime_error(rt));
  } else {
    out->conv = rep.convergence[CONV_RECEIVER];
    out->all_from = rep.convergence_exchange;
    out->violation_rate = rep.violation_rate;
  }
  braid_runtime_destroy(rt);
  return out->rc;
}

#endif
