/* adapt.c - the adaptive interval, decided per torus from its own inputs so
 * that it is a pure function of logical data (the threaded executor never
 * waits for every torus before choosing an interval). */
#include "runtime/adapt.h"
#include "runtime/runtime.h"

void braid__adapt_init(braid__adapt *a, const braid_config *cfg)
{
  a->interval = (uint32_t)cfg->v[BRAID_K_interval];
  a->up = a->down = 0;
  a->epoch_ns = a->epoch_events = 0;
}

static uint32_t clampu(uint64_t v, int64_t lo, int64_t hi)
{
  return (uint32_t)(v < (uint64_t)lo ? (uint64_t)lo : v > (uint64_t)hi ? (uint64_t)hi : v);
}

static void change(braid_runtime *rt, braid__tctx *c, uint32_t nv, uint32_t reason, uint64_t ppm, braid__buf *blk)
{
  if (nv == c->adapt.interval) return;
  if (rt->recording) {
    uint64_t f[5] = { c->t.id, c->adapt.interval, nv, reason, ppm };
    braid__rec_put(blk, BRAID_REC_INTERVAL, 5, f);
  }
  c->adapt.interval = nv;
  c->rep.interval_changes++;
  if (nv < c->interval_lo) c->interval_lo = nv;
  if (nv > c->interval_hi) c->interval_hi = nv;
}

void braid__adapt_decide(braid_runtime *rt, braid__tctx *c, uint64_t k, uint64_t checked, uint64_t violations, braid__buf *blk)
{
  const braid_config *cfg = &rt->cfg;
  const int64_t lo = cfg->v[BRAID_K_interval_min], hi = cfg->v[BRAID_K_interval_max];
  uint64_t ppm = checked ? violations * 1000000 / checked : 0;
  braid__adapt *a = &c->adapt;
  switch (cfg->v[BRAID_K_adapt]) {
  case BRAID_ADAPT_VIOLATIONS: {
    const uint64_t thr = (uint64_t)cfg->v[BRAID_K_adapt_threshold_ppm];
    const uint32_t hyst = (uint32_t)cfg->v[BRAID_K_adapt_hysteresis];
    if (ppm > thr) {
      a->up++;
      a->down = 0;
    } else if (ppm < thr / 2) {
      a->down++;
      a->up = 0;
    } else {
      a->up = a->down = 0; /* inside the band: hold */
    }
    if (a->up >= hyst) {
      a->up = 0;
      change(rt, c, clampu((uint64_t)a->interval * 4 / 5, lo, hi), BRAID_INTERVAL_SHRINK, ppm, blk);
    } else if (a->down >= hyst) {
      a->down = 0;
      change(rt, c, clampu((uint64_t)a->interval * 6 / 5 + 1, lo, hi), BRAID_INTERVAL_GROW, ppm, blk);
    }
    break;
  }
  case BRAID_ADAPT_RATE: {
    /* Non-deterministic: sized so an epoch lasts about 200 us of wall time
     * to amortise the exchange.  Recorded; replay follows the record. */
    uint32_t nv = a->interval;
    if (a->epoch_ns > 0 && a->epoch_events > 0) {
      double per_ns = (double)a->epoch_events / (double)a->epoch_ns;
      uint32_t want = clampu((uint64_t)(per_ns * 200000.0), lo, hi);
      if (want > a->interval * 6 / 5 || want < a->interval * 4 / 5) nv = want;
    }
    change(rt, c, braid__decisions_rate_interval(rt->decisions, c->t.id, k, a->interval, nv), BRAID_INTERVAL_RATE, ppm, blk);
    break;
  }
  default:
    break;
  }
}
