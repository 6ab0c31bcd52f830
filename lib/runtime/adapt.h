/* adapt.h - the adaptive interval as a pure function: from the rule (the
 * settings), a torus's adaptation state and what its exchange observed to
 * the next state and the decision.  Nothing here reads or writes anything
 * else, so the sequential and the threaded executor, replay and the unit
 * tests (tests/test_adapt.c) all get the same answer from the same inputs.
 *
 * The rule of the deterministic mode (adapt=violations), per torus, from
 * the rate of its own boundary check at each exchange:
 *   - above half the threshold for `hysteresis` checks in a row: the
 *     interval shrinks by a fifth (x4/5, rounded down);
 *   - below a quarter of the threshold as long: it grows by a fifth (x6/5,
 *     rounded down, +1 so that small intervals move);
 *   - in between, or when the trend is shorter: it stays (hysteresis);
 *   - always clamped to [interval_min, interval_max];
 *   - and never more than one growth step (x6/5 + 1, clamped) above the
 *     interval of the predecessor's last projection: a torus that wants
 *     more waits for its predecessor to grow too, and one that is further
 *     above (the predecessor shrank) comes down to that step at once
 *     (BRAID_INTERVAL_FOLLOW);
 *   - and, after a check below a quarter of the threshold, a torus whose
 *     predecessor runs at most one growth step longer takes that interval
 *     at once (clamped; BRAID_INTERVAL_FOLLOW too), its hysteresis count
 *     going on.  A predecessor further ahead is one the torus has just
 *     shrunk away from (a shrink, x4/5, is more than a growth step), and
 *     catching up with it would undo the shrink: the first version of the
 *     rule did, and the tori of a ring took turns shrinking and catching
 *     up, with three times the interval changes.
 * The last two rules keep the tori of a ring at nearly the same interval.
 * Each torus's step needs its predecessor's projection, so epochs of
 * unequal length leave the shorter torus's worker waiting: two tori
 * adapting alone settled at 6133 and 9601 events, which caps 2 threads at
 * 1.64x, and drift apart in virtual time, which the global check sees.
 * With the cap alone, two uniform tori at D=32 still ran unequal epochs at
 * 1391 of 2000 exchanges (a cap of 1.89x); catching up leaves 264
 * (1.98x), and 3 and 4 tori go from 2.73 and 3.50 to 2.80 and 3.64 on as
 * many cores.
 * Shrinking is never held back: a torus whose own check is bad shrinks at
 * once, and its successors follow one exchange later each.
 * The band sits under the threshold rather than around it because a
 * check's rate is noisy: a torus held between a quarter and a half of the
 * threshold keeps single checks below the threshold, which is what the
 * report's convergence asks of it.  A perturbation corrected within
 * `hysteresis` checks does not shrink the interval: corrections land at the
 * start of the next epoch whatever its length (see torus.h), so a shorter
 * epoch would only slow virtual time down, not the correction.
 *
 * The rate mode (adapt=rate) sizes an epoch to about 200 us of measured wall
 * time, moving only when the size it wants is more than a fifth away; that
 * depends on the machine, so the exchange records every change and a replay
 * passes the recorded interval in (braid__adapt_obs.recorded).
 */
#ifndef BRAID_ADAPT_H
#define BRAID_ADAPT_H

#include <stdint.h>
#include "runtime/settings.h"

/* A torus's adaptation state. */
typedef struct braid__adapt {
  uint32_t interval;
  uint32_t up, down; /* consecutive checks above / below the band */
} braid__adapt;

/* The rule, from the settings. */
typedef struct braid__adapt_rule {
  int mode; /* BRAID_ADAPT_* */
  uint32_t lo, hi;
  uint64_t threshold_ppm;
  uint32_t hysteresis;
} braid__adapt_rule;

/* What one exchange observed. */
typedef struct braid__adapt_obs {
  uint64_t checked, violations;    /* the torus's boundary check */
  uint64_t epoch_ns, epoch_events; /* its last epoch (rate mode) */
  int recorded;                    /* rate mode in replay: follow recorded_interval */
  uint32_t recorded_interval;
  uint32_t pred_interval; /* the predecessor's interval in its projection; 0: none */
} braid__adapt_obs;

typedef struct braid__adapt_decision {
  braid__adapt next; /* the state after this exchange */
  uint32_t reason;   /* 0: the interval stays; else BRAID_INTERVAL_* (braid.h) */
  uint64_t rate_ppm; /* the check's violation rate */
} braid__adapt_decision;

braid__adapt_rule braid__adapt_rule_of(const braid_config *cfg);
/* The state a torus starts with. */
braid__adapt braid__adapt_start(const braid_config *cfg);
/* The decision after one exchange; reason != 0 exactly when
 * next.interval != state.interval. */
braid__adapt_decision braid__adapt_next(const braid__adapt_rule *rule, braid__adapt state, const braid__adapt_obs *obs);

#endif
