/* failure.h - failed tori and their rebuild (DESIGN 4, Failures). */
#ifndef BRAID_FAILURE_H
#define BRAID_FAILURE_H

#include "runtime/runtime.h"

/* Whether the settings kill torus r at exchange k (fail=B@600). */
int braid__failure_planned(const braid_runtime *rt, uint32_t r, uint64_t k);
/* Rebuilds torus c, failed at exchange k for `reason` (BRAID_FAIL_*), from
 * its last projection and records the failure and the rebuild in blk. */
int braid__rebuild(braid_runtime *rt, braid__tctx *c, uint64_t k, uint32_t reason, braid__buf *blk);

#endif
