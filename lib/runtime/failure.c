/* failure.c - failed tori: the planned ones (--fail) and the best-effort
 * rebuild of any failed torus from its last projection. */
#include <string.h>
#include "runtime/failure.h"

int braid__failure_planned(const braid_runtime *rt, uint32_t r, uint64_t k)
{
  for (unsigned i = 0; i < rt->cfg.nfail; i++)
    if (rt->cfg.fail[i].torus == r && rt->cfg.fail[i].exchange == k) return 1;
  return 0;
}

/* Best-effort reconstruction of a failed torus from its last projection:
 * a fresh lattice and population from the model, the x=0 face, counters,
 * virtual time and processes restored; pending events are lost (counted). */
int braid__rebuild(braid_runtime *rt, braid__tctx *c, uint64_t k, uint32_t reason, braid__buf *blk)
{
  braid_torus *t = &c->t;
  const braid__projection *p = &c->own;
  uint64_t lost = t->q.size;
  uint64_t vtime = p->exchange == UINT64_MAX ? 0 : p->vtime;
  int rc = braid__torus_reset(t, vtime);
  if (p->exchange != UINT64_MAX) {
    memcpy(t->state, p->face, p->facelen * sizeof *p->face);
    t->events = p->events;
    t->digest = p->digest;
    t->nprocs = p->nprocs;
    memcpy(t->procs, p->procs, p->nprocs * sizeof *p->procs);
    braid__torus_rehash(t);
  } else {
    t->events = 0;
    t->digest = 0;
  }
  c->rep.failures++;
  c->rep.lost_events += lost;
  braid__converge_perturb(&c->conv, k, BRAID_PERTURB_REBUILD);
  if (rt->recording) {
    uint64_t f[3] = { t->id, reason, lost };
    braid__rec_put(blk, BRAID_REC_FAILURE, 3, f);
    uint64_t g[4] = { t->id, t->events, t->q.now, t->nprocs };
    braid__rec_put(blk, BRAID_REC_REBUILD, 4, g);
  }
  return rc;
}
