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

/* |actual - expected|, exact for any int64 values. */
static uint64_t deviation(int64_t actual, int64_t expected)
{
  return actual > expected ? (uint64_t)actual - (uint64_t)expected : (uint64_t)expected - (uint64_t)actual;
}

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

/* The mirror (runtime.h): brings c->mirror up to the predecessor's face
 * in pred and marks the cells it changed in c->cand; *all when every cell
 * is to be checked.  The delta is applied when it holds every change since
 * an exchange the mirror has reached (projection.h); a projection with the
 * whole face replaces the mirror instead.  The delta is checked before any
 * of it is applied: its cells in range and ascending, and the mirror it
 * makes adding up to the face the publisher holds.  Anything else is a
 * fault of the library, and ends the run with BRAID_EPROJECTION (the hash
 * has caught what a transport could do to a projection). */
static int mirror_update(braid__tctx *c, const braid__projection *pred, int keep, int *all, const int64_t **expected)
{
  const uint32_t n = pred->facelen;
  const uint64_t from = atomic_load_explicit(&c->mirror_from, memory_order_relaxed);
  int64_t *m = c->mirror;
  if (pred->delta == BRAID__DELTA_ALL || (pred->delta == BRAID__DELTA_SINCE && from != UINT64_MAX && pred->delta_from <= from)) {
    BRAID_RETURN_IF(pred->ndelta > n || (pred->delta == BRAID__DELTA_ALL && pred->ndelta != n), BRAID_EPROJECTION);
    uint64_t sum = c->mirror_sum;
    if (n >= BRAID_FACE_PREFETCH) /* as in boundary() */
      for (uint32_t i = 0; i < pred->ndelta; i++) __builtin_prefetch(&m[pred->delta_cell[i] & (n - 1)], 1);
    for (uint32_t i = 0; i < pred->ndelta; i++) {
      uint32_t j = pred->delta_cell[i];
      BRAID_RETURN_IF(j >= n || (i && j <= pred->delta_cell[i - 1]), BRAID_EPROJECTION);
      sum += braid__cell_weight(j) * ((uint64_t)pred->delta_value[i] - (uint64_t)m[j]);
    }
    BRAID_RETURN_IF(sum != pred->facesum, BRAID_EPROJECTION);
    /* A cell sent again with the value the mirror has (a delta since an
     * older base repeats the changes of the projections between) keeps
     * its verdict unless the receiver's own events wrote it. */
    for (uint32_t i = 0; i < pred->ndelta; i++) {
      uint32_t j = pred->delta_cell[i];
      c->cand[j >> 6] |= (uint64_t)(m[j] != pred->delta_value[i]) << (j & 63);
      m[j] = pred->delta_value[i];
    }
    c->mirror_sum = sum;
    *all = pred->delta == BRAID__DELTA_ALL;
  } else {
    BRAID_RETURN_IF(!pred->has_face, BRAID_EPROJECTION);
    *all = 1;
    if (!keep) {
      /* No delta ever comes (MPI): check against the face where it is. */
      *expected = pred->face;
      return 0;
    }
    memcpy(m, pred->face, n * sizeof *m);
    c->mirror_sum = pred->facesum;
  }
  *expected = m;
  atomic_store_explicit(&c->mirror_from, pred->exchange, memory_order_relaxed);
  return 0;
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
 * absorb a face perturbed by 1000.)
 *
 * Only the cells that can have changed their verdict are looked at: those
 * of the receiver's face written since the last check (t->face_dirty),
 * those the predecessor's delta changed, and those violated at the last
 * check (c->violating); any other cell is as it was, within the tolerance.
 * The verdicts, corrections and records are those of checking every cell,
 * in the same order. */
static void check_cell(braid_runtime *rt, braid__tctx *c, uint32_t j, int64_t expected, braid__buf *blk, uint64_t *viol, uint64_t *maxdev,
                       int64_t *sum)
{
  braid_torus *t = &c->t;
  const uint32_t base = t->ncells - t->facelen;
  int64_t actual = t->state[base + j];
  uint64_t dev = deviation(actual, expected);
  if (dev <= (uint64_t)rt->cfg.v[BRAID_K_tolerance]) return;
  c->violating[j >> 6] |= 1ull << (j & 63);
  if (dev > *maxdev) *maxdev = dev;
  int32_t payload = clamp32(expected - (actual + t->corr[j]));
  if ((*viol)++ < BRAID_VCELLS_PER_EXCHANGE && rt->recording) {
    uint64_t f[5] = { t->id, base + j, (uint64_t)expected, (uint64_t)actual, (uint64_t)(int64_t)payload };
    braid__rec_put(blk, BRAID_REC_VCELL, 5, f);
  }
  /* A refused correction is counted by the queue and reported as overflow. */
  if (payload && braid__torus_push_correction(t, j, payload) == 0) {
    *sum += payload;
    c->rep.corrective_events++;
  }
}

/* The test hook check_faces: the mirror is the face pred carries, and
 * checking every cell gives the verdicts the delta's cells gave. */
static int check_every_cell(braid_runtime *rt, braid__tctx *c, const braid__projection *pred, uint64_t k, uint64_t viol, uint64_t maxdev)
{
  const braid_torus *t = &c->t;
  const int64_t tol = rt->cfg.v[BRAID_K_tolerance];
  uint64_t v = 0, md = 0;
  for (uint32_t j = 0; j < pred->facelen; j++) {
    uint64_t dev = deviation(t->state[t->ncells - pred->facelen + j], pred->face[j]);
    if (dev <= (uint64_t)tol) continue;
    v++;
    if (dev > md) md = dev;
  }
  int mirror_ok = !(rt->transport->carry & BRAID__CARRY_DELTA) || !memcmp(c->mirror, pred->face, pred->facelen * sizeof *pred->face);
  if (mirror_ok && v == viol && md == maxdev) return 0;
  braid__set_error(rt, BRAID_EPROJECTION, "torus %u, exchange %llu: the delta's check saw %llu violations (max %llu), every cell %llu (max %llu)",
                   t->id, (unsigned long long)k, (unsigned long long)viol, (unsigned long long)maxdev, (unsigned long long)v,
                   (unsigned long long)md);
  return BRAID_EPROJECTION;
}

static int boundary(braid_runtime *rt, braid__tctx *c, uint32_t from, const braid__projection *pred, braid__buf *blk, uint64_t k, uint64_t *violp)
{
  braid_torus *t = &c->t;
  const int64_t tol = rt->cfg.v[BRAID_K_tolerance];
  const uint32_t n = pred->facelen, words = n / 64, base = t->ncells - n;
  BRAID_RETURN_IF(n != t->facelen, BRAID_EPROJECTION);
  int all = 0;
  const int64_t *own = t->state + base, *m = c->mirror;
  BRAID_FORWARD(mirror_update(c, pred, (rt->transport->carry & BRAID__CARRY_DELTA) != 0, &all, &m));
  uint64_t viol = 0, maxdev = 0;
  int64_t sum = 0;
  /* The cells to check, gathered into c->cand.  At a large face they are
   * scattered over lines the caches have long evicted: every miss starts
   * before the first check waits for one. */
  const int prefetch = !all && n >= BRAID_FACE_PREFETCH;
  for (uint32_t w = 0; w < words; w++) {
    c->cand[w] = all ? ~0ull : c->cand[w] | t->face_dirty[w] | c->violating[w];
    t->face_dirty[w] = 0;
    c->violating[w] = 0;
    for (uint64_t cand = prefetch ? c->cand[w] : 0; cand;) {
      uint32_t j = braid__take_bit(w, &cand);
      __builtin_prefetch(&own[j], 0);
      __builtin_prefetch(&m[j], 0);
    }
  }
  for (uint32_t w = 0; w < words; w++) {
    uint64_t cand = c->cand[w];
    c->cand[w] = 0;
    /* Most cells are within the tolerance: a whole word is screened at
     * once, and only one with a violation is walked cell by cell. */
    if (cand == ~0ull && !any_out_of_tolerance(own + w * 64, m + w * 64, (uint64_t)tol)) continue;
    while (cand) {
      uint32_t j = braid__take_bit(w, &cand);
      check_cell(rt, c, j, m[j], blk, &viol, &maxdev, &sum);
    }
  }
  if (BRAID_UNLIKELY(rt->hooks.check_faces) && pred->has_face) BRAID_FORWARD(check_every_cell(rt, c, pred, k, viol, maxdev));
  c->rep.boundary_violations += viol;
  braid__converge_check(&c->conv, k, n, viol);
  if (rt->recording) {
    uint64_t f[6] = { t->id, from, n, viol, maxdev, (uint64_t)sum };
    braid__rec_put(blk, BRAID_REC_BOUNDARY, 6, f);
  }
  *violp = viol;
  return 0;
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
    uint64_t viol = 0;
    BRAID_FORWARD(boundary(rt, c, from, pred, blk, k, &viol));
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
  /* The delta since what the successor holds (projection.h), which
   * brings own.face, the face of this torus's last projection, up to date. */
  braid__projection_publish(p, &c->t, c->adapt.interval, k, c->rungs, c->own.face, &c->facesum, &c->facelog, tr->delta_base(rt, r),
                            tr->carry | (rt->hooks.check_faces ? BRAID__CARRY_FACE : 0));
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
  braid__projection_copy_head(&c->own, p);
  const braid__test_hooks *h = &rt->hooks;
  if (h->projection_fault && h->fault_torus == r && h->fault_exchange == k) {
    /* Bit rot after the hash, in a face value the successor reads. */
    if (p->ndelta) p->delta_value[0] ^= 1;
    else if (p->has_face) p->face[0] ^= 1;
    else p->vtime ^= 1;
  }
  p->published_ns = rt->nthreads ? braid__now_ns() : 0; /* for the hand-over, threaded only */
  tr->publish(rt, r, k, 0);
  return blk->err;
}
