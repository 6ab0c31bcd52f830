/* exchange.c - the braid exchange: the exchange-in (boundary and global
 * constraints, corrective events, injections) and the publication of a
 * torus's projection. */
#include <stdlib.h>
#include <string.h>
#include "runtime/adapt.h"
#include "runtime/exchange.h"
#include "runtime/failure.h"
#include "runtime/runtime.h"

static int32_t clamp32(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }

static uint64_t absdiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

/* Whether any of the 64 cells a[i] is off e[i] by more than tol, exact for
 * any int64 values: the difference is taken modulo 2^64 (in range iff
 * d + tol <= 2 tol, unsigned) and an overflowing subtraction (a and e of
 * different signs, the result of neither's) is always out.  Written
 * without branches so that the compiler vectorises it; the clones let a
 * CPU with AVX2 compare four cells at once in a baseline x86-64 build. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static int any_out_of_tolerance(const int64_t *a, const int64_t *e, uint64_t tol)
{
  /* x > y unsigned is (x ^ 2^63) > (y ^ 2^63) signed, which the vector
   * units compare directly; the overflow bits are gathered apart and
   * looked at once. */
  const uint64_t sign = 1ull << 63;
  const int64_t lim = (int64_t)((2 * tol) ^ sign);
  uint64_t out = 0, ovf = 0;
  for (unsigned i = 0; i < 64; i++) {
    uint64_t d = (uint64_t)a[i] - (uint64_t)e[i];
    ovf |= ((uint64_t)a[i] ^ (uint64_t)e[i]) & ((uint64_t)a[i] ^ d);
    out |= (uint64_t)((int64_t)((d + tol) ^ sign) > lim);
  }
  return (out | (ovf >> 63)) != 0;
}

/* Boundary constraint: the receiver's x=D-1 face follows the sender's x=0
 * face; each cell off by more than the tolerance is a violation and gets a
 * corrective event.  The correction is the deviation that remains once the
 * corrections still in flight for the cell have been applied: the
 * deviation is measured exactly, and counting what is in flight means that
 * a deviation is never corrected twice, so the corrections never carry a
 * cell past the expected value (no overshoot) and need no damping.  It
 * lands at the torus's current time ahead of the next epoch's events
 * (torus.h), so the next check sees it applied; what is still in flight at
 * a check is only what a full queue refused or a short last epoch left.
 * (Before semantics version 2 the correction was half the remaining
 * deviation landing at now+1, and took 7 halvings of ~3 exchanges each to
 * absorb a face perturbed by 1000.) */
static uint64_t boundary(braid_runtime *rt, braid__tctx *c, uint32_t from, const braid__projection *pred, braid__buf *blk, uint64_t k)
{
  braid_torus *t = &c->t;
  const int64_t tol = rt->cfg.v[BRAID_K_tolerance];
  const uint32_t base = t->ncells - pred->facelen;
  const int64_t *own = t->state + base;
  uint64_t viol = 0, maxdev = 0, vcells = 0;
  int64_t sum = 0;
  for (uint32_t j = 0; j < pred->facelen; j++) {
    /* Most cells are within the tolerance: blocks of 64 are screened
     * at once, and only a block with a violation is walked cell by cell. */
    if ((j & 63) == 0 && j + 64 <= pred->facelen && !any_out_of_tolerance(own + j, pred->face + j, (uint64_t)tol)) {
      j += 63;
      continue;
    }
    int64_t actual = t->state[base + j], expected = pred->face[j];
    uint64_t dev = actual > expected ? (uint64_t)actual - (uint64_t)expected : (uint64_t)expected - (uint64_t)actual;
    if (dev <= (uint64_t)tol) continue;
    viol++;
    if (dev > maxdev) maxdev = dev;
    int32_t payload = clamp32(expected - (actual + t->corr[j]));
    /* A refused correction is counted by the queue and reported as overflow. */
    if (payload && braid__torus_push_correction(t, j, payload) == 0) {
      sum += payload;
      c->rep.corrective_events++;
    }
    if (vcells++ < BRAID_VCELLS_PER_EXCHANGE && rt->recording) {
      uint64_t f[5] = { t->id, base + j, (uint64_t)expected, (uint64_t)actual, (uint64_t)(int64_t)payload };
      braid__rec_put(blk, BRAID_REC_VCELL, 5, f);
    }
  }
  c->rep.boundary_violations += viol;
  braid__converge_check(&c->conv, k, pred->facelen, viol);
  if (rt->recording) {
    uint64_t f[6] = { t->id, from, pred->facelen, viol, maxdev, (uint64_t)sum };
    braid__rec_put(blk, BRAID_REC_BOUNDARY, 6, f);
  }
  return viol;
}

/* The interval of the next epoch, from the pure rule of adapt.h; a change is
 * recorded. */
static void adapt(braid_runtime *rt, braid__tctx *c, uint64_t k, const braid__projection *pred, uint64_t violations, braid__buf *blk)
{
  const braid__adapt_rule rule = braid__adapt_rule_of(&rt->cfg);
  braid__adapt_obs obs = { pred->facelen, violations, c->epoch_ns, c->epoch_events, 0, c->adapt.interval, pred->interval };
  braid__adapt_decision d = braid__adapt_next(&rule, c->adapt, &obs);
  if (rule.mode == BRAID_ADAPT_RATE) {
    /* The rate mode's proposal depends on the clock: it goes through the
     * run's decisions, which a replay fills with what was recorded. */
    obs.recorded = 1;
    obs.recorded_interval = braid__decisions_rate_interval(rt->decisions, c->t.id, k, c->adapt.interval, d.next.interval);
    d = braid__adapt_next(&rule, c->adapt, &obs);
  }
  if (d.reason) {
    if (rt->recording) {
      uint64_t f[5] = { c->t.id, c->adapt.interval, d.next.interval, d.reason, d.rate_ppm };
      braid__rec_put(blk, BRAID_REC_INTERVAL, 5, f);
    }
    c->rep.interval_changes++;
    if (d.next.interval < c->interval_lo) c->interval_lo = d.next.interval;
    if (d.next.interval > c->interval_hi) c->interval_hi = d.next.interval;
  }
  c->adapt = d.next;
}

static void global_checks(braid_runtime *rt, braid__tctx *c, uint32_t from, const braid__projection *pred, uint64_t k, braid__buf *blk)
{
  const braid__projection *own = &c->own;
  if (own->exchange != k || !own->alive) return; /* this torus failed at k: nothing to compare */
  uint64_t checks[2][2] = { { pred->pending, own->pending }, { pred->vtime, own->vtime } };
  const int64_t tol[2] = { rt->cfg.v[BRAID_K_tolerance_events], rt->cfg.v[BRAID_K_tolerance_time] };
  for (unsigned kind = 0; kind < 2; kind++) {
    if (absdiff(checks[kind][0], checks[kind][1]) <= (uint64_t)tol[kind]) continue;
    c->rep.global_violations++;
    if (rt->recording) {
      uint64_t f[5] = { c->t.id, from, kind, checks[kind][0], checks[kind][1] };
      braid__rec_put(blk, BRAID_REC_GLOBAL, 5, f);
    }
  }
}

static int injections(braid_runtime *rt, braid__tctx *c, uint64_t k, braid__buf *blk)
{
  const braid__injection *v;
  size_t n;
  BRAID_FORWARD(braid__decisions_injections(rt->decisions, c->t.id, k, &v, &n));
  for (size_t i = 0; i < n; i++) {
    /* Cells out of range were refused by braid_inject(); a trace may still carry one. */
    if (braid__torus_push_external(&c->t, v[i].cell, v[i].payload) == 0) c->rep.injections++;
    if (rt->recording) {
      uint64_t f[4] = { c->t.id, v[i].cell, (uint64_t)(int64_t)v[i].payload, v[i].seq };
      braid__rec_put(blk, BRAID_REC_INJECTION, 4, f);
    }
  }
  if (n) braid__converge_perturb(&c->conv, k, BRAID_PERTURB_INJECTION);
  return 0;
}

int braid__exchange_in(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *pred)
{
  braid__tctx *c = &rt->tc[r];
  braid__buf *blk = &c->block[k % BRAID_REC_SLOTS];
  uint32_t from = (r + rt->ntori - 1) % rt->ntori;
  if (!pred) {
    if (rt->recording) {
      uint64_t f[6] = { r, from, 0, 0, 0, 0 };
      braid__rec_put(blk, BRAID_REC_BOUNDARY, 6, f);
    }
  } else if (pred->exchange != k || braid__projection_hash(pred) != pred->hash) {
    c->rep.projection_errors++;
    if (rt->recording) {
      uint64_t f[3] = { r, from, pred->exchange != k ? 2u : 1u };
      braid__rec_put(blk, BRAID_REC_PROJ_ERROR, 3, f);
    }
  } else {
    uint64_t viol = boundary(rt, c, from, pred, blk, k);
    adapt(rt, c, k, pred, viol, blk);
    global_checks(rt, c, from, pred, k, blk);
  }
  BRAID_FORWARD(injections(rt, c, k, blk));
  BRAID_FORWARD(braid__torus_land(&c->t));
  return blk->err;
}

int braid__publish(braid_runtime *rt, uint32_t r, uint64_t k, braid__buf *blk)
{
  braid__tctx *c = &rt->tc[r];
  const braid__transport *tr = rt->transport;
  uint32_t reason = braid__failure_planned(rt, r, k) ? BRAID_FAIL_INJECTED : 0;
  braid__projection *p = reason ? NULL : tr->claim(rt, r, k);
  /* Claimed unless the heartbeat declared this torus failed at k first. */
  if (!reason && braid__decisions_heartbeat(rt->decisions, r, k, p == NULL)) reason = BRAID_FAIL_HEARTBEAT;
  if (reason) {
    tr->publish(rt, r, k, 1);
    return braid__rebuild(rt, c, k, reason, blk);
  }
  braid__projection_extract(p, &c->t, c->adapt.interval, k, c->rungs);
  if (rt->recording) {
    /* The digest pins the processed events, the pending and cell digests
     * what the torus holds (what the hash covers besides is a function of
     * the cells), so the hash field is written as 0 to pay for them and the
     * rungs within the trace-size goal: 14 bits of each digest (the top
     * bits, which depend on every bit below; two bytes as varints) catch a
     * wrong emission or edge at the exchange it was made but for a chance
     * of 2^-14, and the digest still catches it when it is processed. */
    uint64_t f[11] = { r, p->events, p->vtime, p->pending, p->digest, 0, p->interval, p->pdigest >> 50, p->cdigest >> 50, p->rungs,
                       (uint64_t)rt->cfg.v[BRAID_K_rungs] };
    braid__rec_put(blk, BRAID_REC_PROJECTION, 11, f);
    if (c->t.q.overflows != c->last_overflows || c->t.q.horizon_errors != c->last_horizon) {
      uint64_t g[3] = { r, c->t.q.overflows, c->t.q.horizon_errors };
      braid__rec_put(blk, BRAID_REC_OVERFLOW, 3, g);
    }
  }
  c->last_overflows = c->t.q.overflows;
  c->last_horizon = c->t.q.horizon_errors;
  /* The face stays in the slot (runtime.h: own_face), which saves copying
   * D*D values per step; but the test hook's bit rot must not reach own. */
  braid__projection_copy_head(&c->own, p);
  c->own_face = p->face;
  const braid__test_hooks *h = &rt->hooks;
  if (h->projection_fault && h->fault_torus == r && h->fault_exchange == k) {
    braid__projection_copy(&c->own, p);
    c->own_face = c->own.face;
    p->face[0] ^= 1; /* bit rot after the hash */
  }
  p->published_ns = rt->nthreads ? braid__now_ns() : 0; /* for the hand-over, threaded only */
  tr->publish(rt, r, k, 0);
  return blk->err;
}
