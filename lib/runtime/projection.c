/* projection.c - building, copying and hashing projections. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "common/hash.h"
#include "runtime/projection.h"

int braid__projection_alloc(braid__projection *p, uint32_t facelen)
{
  memset(p, 0, sizeof *p);
  p->exchange = UINT64_MAX;
  p->facelen = facelen;
  p->face = calloc(facelen, sizeof *p->face);
  return p->face ? 0 : BRAID_ENOMEM;
}

void braid__projection_free(braid__projection *p)
{
  free(p->face);
  p->face = NULL;
}

void braid__projection_copy_head(braid__projection *dst, const braid__projection *src)
{
  /* The fields up to the processes, the processes in use (most of the
   * struct is the room for 64 of them), then the fields after. */
  memcpy(dst, src, offsetof(braid__projection, procs));
  memcpy(dst->procs, src->procs, src->nprocs * sizeof *src->procs);
  dst->facelen = src->facelen;
  dst->hash = src->hash;
  dst->published_ns = src->published_ns;
}

void braid__projection_copy(braid__projection *dst, const braid__projection *src)
{
  braid__projection_copy_head(dst, src);
  memcpy(dst->face, src->face, src->facelen * sizeof *dst->face);
}

uint64_t braid__projection_hash(const braid__projection *p)
{
  uint64_t head[11] = { p->torus, p->alive, p->exchange, p->events, p->vtime, p->pending, p->digest, p->interval, p->pdigest, p->cdigest, p->rungs };
  const braid__span s[4] = {
    { head, sizeof head },
    { &p->nprocs, sizeof p->nprocs },
    { p->procs, p->nprocs * sizeof *p->procs },
    { p->face, p->facelen * sizeof *p->face },
  };
  return braid__xxh3_spans(s, 4);
}

void braid__projection_extract(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs)
{
  braid__torus_sample_procs(t);
  p->torus = t->id;
  p->alive = 1;
  p->exchange = k;
  p->events = t->events;
  p->vtime = t->q.now;
  p->pending = t->q.size;
  p->digest = t->digest;
  p->pdigest = t->q.pdigest;
  p->cdigest = t->cdigest;
  p->rungs = rungs;
  p->interval = interval;
  p->nprocs = t->nprocs;
  memcpy(p->procs, t->procs, t->nprocs * sizeof *t->procs);
  memcpy(p->face, t->state, p->facelen * sizeof *p->face); /* x=0 face: the first D*D cells */
  p->hash = braid__projection_hash(p);
}
