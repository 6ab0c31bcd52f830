/* projection.h - what a torus publishes at the end of an epoch: a
 * constant-size summary (counters, virtual time, processes, digest) and its
 * x=0 face, which its successor in the ring checks its own x=D-1 face
 * against, with an XXH3 over all of it for integrity.
 *
 * The face travels as a delta.  In an epoch of n events at D=32 only about
 * n/D of the face's D*D cells change, so a projection carries the cells
 * that changed since an earlier projection of the same torus (the one its
 * successor last applied, or any older one), and the successor keeps a
 * mirror of the face it updates with them (exchange.c).  Copying, hashing
 * and comparing the whole face at every exchange cost more than the rest
 * of the step together.  A projection may carry the whole face instead
 * (has_face), from which a successor can start over: after a checkpoint
 * load, and always across MPI ranks, where the publisher cannot know what
 * its successor holds (transport.h: carry).
 */
#ifndef BRAID_PROJECTION_H
#define BRAID_PROJECTION_H

#include "kernel/torus.h"

/* What the delta of a projection holds. */
enum {
  BRAID__DELTA_NONE = 0,  /* nothing: the face is in face[] (has_face) */
  BRAID__DELTA_SINCE = 1, /* every cell that changed since the projection of exchange delta_from */
  BRAID__DELTA_ALL = 2,   /* every cell */
};

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
  /* The face: the sum of braid__cell_weight(j) * face[j] over all of it,
   * and the delta (above); hashed with the rest. */
  uint64_t facesum;
  uint64_t delta_from;
  uint32_t delta, ndelta;
  uint32_t has_face;
  uint32_t facelen;
  braid__proc procs[BRAID_MAX_PROCS];
  /* Storage, facelen entries each: the delta's cells (ascending) and
   * values, and the whole x=0 face when has_face. */
  uint32_t *delta_cell;
  int64_t *delta_value;
  int64_t *face;
  uint64_t hash; /* XXH3 of everything above */
  /* Timing, not hashed and not logical: when the publisher made it
   * visible (braid__now_ns), for the hand-over latency of its successor. */
  uint64_t published_ns;
} braid__projection;

/* A publisher's record of which face cells each of its last
 * BRAID_FACELOG projections changed, to build a delta since any of them. */
#define BRAID_FACELOG 8
/* From this many cells on (D=64: a face of 32 KiB, a lattice of 9 MB) the
 * face cells a step reads are cache misses, and the step prefetches them
 * all before it reads the first; a smaller face stays in the caches, where
 * the extra pass only costs. */
#define BRAID_FACE_PREFETCH 4096
typedef struct braid__facelog {
  uint64_t *bits;   /* BRAID_FACELOG bitmaps of facelen bits */
  uint64_t tag[BRAID_FACELOG];
  unsigned n, next; /* entries held; the one to fill next */
  uint64_t evicted; /* the newest exchange no longer held (UINT64_MAX: none) */
  uint32_t words;   /* per bitmap */
} braid__facelog;

int braid__projection_alloc(braid__projection *p, uint32_t facelen);
void braid__projection_free(braid__projection *p);
/* Copies src into dst (both of the same face length), keeping dst's storage. */
void braid__projection_copy(braid__projection *dst, const braid__projection *src);
/* The same without the face and the delta's values. */
void braid__projection_copy_head(braid__projection *dst, const braid__projection *src);
uint64_t braid__projection_hash(const braid__projection *p);
/* The sum of braid__cell_weight(j) * face[j] over n cells. */
uint64_t braid__face_sum(const int64_t *face, uint32_t n);

/* Fills p with torus t's projection of exchange k (epochs of `interval`
 * events, whose rungs were `rungs`), with the whole face and no delta, hash
 * included. */
void braid__projection_extract(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs);

int braid__facelog_init(braid__facelog *l, uint32_t facelen);
void braid__facelog_free(braid__facelog *l);
/* Forgets every entry: what was published before is unknown (a checkpoint
 * load); `k` is the newest exchange that counts as published. */
void braid__facelog_forget(braid__facelog *l, uint64_t k);

/* The publisher's side of a projection of exchange k, delta and all:
 *   face, *facesum: the face of the torus's last projection and its sum,
 *     brought up to date with the x=0 cells t marked since (which it
 *     clears);
 *   carry: BRAID__CARRY_DELTA, BRAID__CARRY_FACE or both;
 *   base (with a delta): an exchange whose projection of this torus the
 *     successor holds or has gone past (UINT64_MAX: unknown); the delta
 *     holds the changes since then when the log still has them, every
 *     cell otherwise. */
enum { BRAID__CARRY_DELTA = 1, BRAID__CARRY_FACE = 2 };
void braid__projection_publish(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs, int64_t *face,
                               uint64_t *facesum, braid__facelog *log, uint64_t base, unsigned carry);

#endif
