/* checkpoint.h - the full state of a torus after exchange k, so that a
 * replay can start near k instead of at 0.  A blob comes from a file: the
 * loader checks every field against what the runtime will do with it. */
#ifndef BRAID_CHECKPOINT_H
#define BRAID_CHECKPOINT_H

#include "runtime/runtime.h"

/* Serialises torus c's state after exchange k into out (replacing it). */
int braid__checkpoint_save(braid__tctx *c, uint64_t k, braid__buf *out);
/* Restores every torus from a blob of a CHECKPOINT record; *k: its
 * exchange.  BRAID_ECORRUPT or BRAID_EMISMATCH for a blob this runtime
 * cannot continue from. */
int braid__checkpoint_load(braid_runtime *rt, const uint8_t *blob, size_t len, uint64_t *k);

#endif
