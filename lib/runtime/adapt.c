/* adapt.c - the adaptive interval, a pure function of a torus's own logical
 * inputs (the rule is in adapt.h): the threaded executor never waits for
 * every torus before choosing an interval. */
#include "runtime/adapt.h"

braid__adapt_rule braid__adapt_rule_of(const braid_config *cfg)
{
  braid__adapt_rule r = {
    (int)cfg->v[BRAID_K_adapt],
    (uint32_t)cfg->v[BRAID_K_interval_min],
    (uint32_t)cfg->v[BRAID_K_interval_max],
    (uint64_t)cfg->v[BRAID_K_adapt_threshold_ppm],
    (uint32_t)cfg->v[BRAID_K_adapt_hysteresis],
  };
  return r;
}

braid__adapt braid__adapt_start(const braid_config *cfg)
{
  braid__adapt a = { (uint32_t)cfg->v[BRAID_K_interval], 0, 0 };
  return a;
}

static uint32_t clampu(uint64_t v, uint32_t lo, uint32_t hi) { return (uint32_t)(v < lo ? lo : v > hi ? hi : v); }

/* One growth step above an interval (adapt.h), unclamped. */
static uint64_t grown(uint32_t interval) { return (uint64_t)interval * 6 / 5 + 1; }

braid__adapt_decision braid__adapt_next(const braid__adapt_rule *rule, braid__adapt state, const braid__adapt_obs *obs)
{
  braid__adapt_decision d = { state, 0, obs->checked ? obs->violations * 1000000 / obs->checked : 0 };
  braid__adapt *a = &d.next;
  uint32_t nv = a->interval, reason = 0;
  switch (rule->mode) {
  case BRAID_ADAPT_VIOLATIONS: {
    const int quiet = d.rate_ppm * 4 < rule->threshold_ppm; /* below a quarter of the threshold */
    if (d.rate_ppm * 2 > rule->threshold_ppm) {
      a->up++;
      a->down = 0;
    } else if (quiet) {
      a->down++;
      a->up = 0;
    } else {
      a->up = a->down = 0; /* inside the band: hold */
    }
    if (a->up >= rule->hysteresis) {
      a->up = 0;
      nv = clampu((uint64_t)a->interval * 4 / 5, rule->lo, rule->hi);
      reason = BRAID_INTERVAL_SHRINK;
    } else if (a->down >= rule->hysteresis) {
      a->down = 0;
      nv = clampu(grown(a->interval), rule->lo, rule->hi);
      reason = BRAID_INTERVAL_GROW;
    }
    if (obs->pred_interval) {
      /* Stay within one growth step of the predecessor (see adapt.h). */
      uint32_t cap = clampu(grown(obs->pred_interval), rule->lo, rule->hi);
      if (nv > cap) {
        if (cap < a->interval) reason = BRAID_INTERVAL_FOLLOW;
        nv = cap;
      } else if (quiet && obs->pred_interval > nv && obs->pred_interval <= grown(a->interval)) {
        /* A quiet check: catch up at once with a predecessor at most one
         * growth step ahead (further ahead is one this torus shrank away
         * from, and a shrink is not undone). */
        nv = clampu(obs->pred_interval, rule->lo, rule->hi);
        reason = BRAID_INTERVAL_FOLLOW;
      }
    }
    break;
  }
  case BRAID_ADAPT_RATE:
    reason = BRAID_INTERVAL_RATE;
    if (obs->recorded) {
      nv = obs->recorded_interval;
    } else if (obs->epoch_ns > 0 && obs->epoch_events > 0) {
      double per_ns = (double)obs->epoch_events / (double)obs->epoch_ns;
      uint32_t want = clampu((uint64_t)(per_ns * 200000.0), rule->lo, rule->hi);
      if (want > (uint64_t)a->interval * 6 / 5 || want < (uint64_t)a->interval * 4 / 5) nv = want;
    }
    break;
  default:
    break;
  }
  if (nv != a->interval) {
    a->interval = nv;
    d.reason = reason;
  }
  return d;
}
