/* adapt.h - the adaptive interval (DESIGN 4), decided per torus from its own
 * inputs, so that it is a pure function of logical data; the rate mode's
 * wall-clock decision goes through the run's decisions (decisions.h). */
#ifndef BRAID_ADAPT_H
#define BRAID_ADAPT_H

#include "common/buf.h"
#include "runtime/settings.h"

typedef struct braid__adapt {
  uint32_t interval;
  uint32_t up, down; /* consecutive exchanges above / below the band */
  uint64_t epoch_ns; /* last epoch's wall time (rate mode) */
  uint64_t epoch_events;
} braid__adapt;

void braid__adapt_init(braid__adapt *a, const braid_config *cfg);
struct braid__tctx;
/* Chooses the interval of torus c's next epoch after exchange k, from the
 * boundary check's counts; records a change in blk. */
void braid__adapt_decide(braid_runtime *rt, struct braid__tctx *c, uint64_t k, uint64_t checked, uint64_t violations, braid__buf *blk);

#endif
