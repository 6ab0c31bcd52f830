/* projection.h - what a torus publishes at the end of an epoch: a
 * constant-size summary (counters, virtual time, its x=0 face, processes,
 * digest) that its successor in the ring checks its own x=D-1 face against,
 * with an XXH3 over all of it for integrity. */
#ifndef BRAID_PROJECTION_H
#define BRAID_PROJECTION_H

#include "kernel/torus.h"

typedef struct braid__projection {
  uint32_t torus;
  uint32_t alive;
  uint64_t exchange; /* UINT64_MAX: never published */
  uint64_t events, vtime, pending;
  uint64_t digest;
  uint64_t pdigest, cdigest; /* pending events, cells and edges (kernel/torus.h) */
  uint64_t rungs;            /* the epoch's rungs, 7 bits each, the first in the low bits (runtime/step.c) */
  uint32_t interval;
  uint32_t nprocs;
  braid__proc procs[BRAID_MAX_PROCS];
  uint32_t facelen;
  int64_t *face; /* x=0 face, facelen = D*D values */
  uint64_t hash; /* XXH3 of everything above */
  /* Timing, not hashed and not logical: when the publisher made it
   * visible (braid__now_ns), for the hand-over latency of its successor. */
  uint64_t published_ns;
} braid__projection;

int braid__projection_alloc(braid__projection *p, uint32_t facelen);
void braid__projection_free(braid__projection *p);
/* Copies src into dst (both of the same face length), keeping dst's face. */
void braid__projection_copy(braid__projection *dst, const braid__projection *src);
/* The same without the face's values: dst->face keeps what it held. */
void braid__projection_copy_head(braid__projection *dst, const braid__projection *src);
/* Fills p with torus t's projection of exchange k (epochs of `interval`
 * events, whose rungs were `rungs`), hash included. */
void braid__projection_extract(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs);
uint64_t braid__projection_hash(const braid__projection *p);

#endif
