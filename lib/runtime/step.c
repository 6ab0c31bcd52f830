/* step.c - one step of one torus: the exchange-in of the previous
 * exchange, an epoch of events, the publication of its projection (see
 * runtime.h for the cut), and the scheduling perturbations of --chaos. */
#include <sched.h>
#include <time.h>
#include "runtime/checkpoint.h"
#include "runtime/exchange.h"
#include "runtime/runtime.h"
#include "runtime/step.h"

uint64_t braid__chaos_rand(const braid_runtime *rt, uint64_t a, uint64_t b)
{
  return braid__mix64((uint64_t)rt->cfg.v[BRAID_K_chaos] ^ braid__mix64(a * 0x9e3779b97f4a7c15ull + b));
}

/* Rungs: rung j of R (1..R) is taken after j*n/(R+1) of the epoch's n
 * events, so they cut the epoch into R+1 windows of nearly equal length.
 * Each is 7 bits of braid__torus_rung() (two rungs make a two-byte
 * varint); a rung the epoch does not reach (the queue ran dry) is taken at
 * its end. */
static uint64_t rung_at(uint64_t n, unsigned j, unsigned R)
{
  /* An epoch's n is an interval (32 bits) and what an exchange landed:
   * the product fits 64 bits, whose division is no call. */
  if (n <= UINT32_MAX) return n * j / (R + 1);
  return (uint64_t)(((unsigned __int128)n * j) / (R + 1));
}

static void take_rung(braid_torus *t, uint64_t *rungs, unsigned j)
{
  *rungs |= (uint64_t)(braid__torus_rung(t) & 0x7f) << (7 * (j - 1));
}

/* An epoch with per-event recording (trace_events=1): one event at a time
 * through the model's handle(), logging each event first. */
static uint64_t run_recording(braid_torus *t, uint64_t n, braid__buf *blk, unsigned R, uint64_t *rungs)
{
  uint64_t done = 0, time;
  unsigned j = 1;
  braid__qev ev;
  while (done < n) {
    for (; j <= R && rung_at(n, j, R) == done; j++) take_rung(t, rungs, j);
    if (!braid__queue_pop(&t->q, &time, &ev)) break;
    uint64_t f[5] = { t->id, time, ev.dst, ev.src, (uint64_t)(int64_t)ev.payload };
    braid__rec_put(blk, BRAID_REC_EVENT, 5, f);
    braid__process(t, time, &ev);
    done++;
  }
  for (; j <= R; j++) take_rung(t, rungs, j);
  return done;
}

void braid__chaos_pause(braid_runtime *rt, uint32_t r, uint64_t k, uint64_t salt)
{
  uint64_t x = braid__chaos_rand(rt, (uint64_t)r << 40 | salt, k);
  switch (x & 7) {
  case 0: sched_yield(); break;
  case 1: {
    struct timespec ts = { 0, (long)((x >> 8) % 200000) }; /* up to 200 us */
    nanosleep(&ts, NULL);
    break;
  }
  default: break;
  }
}

/* Runs one epoch.  Every sample_every-th event of the torus is run alone
 * between two clock reads; c->sample_left counts down to it across epochs
 * (intervals are usually shorter than the sampling period), and the events
 * between run in chunks, which also stop at the rungs, so neither costs
 * anything per event.  The rungs go to c->rungs. */
static uint64_t run_epoch(braid_runtime *rt, braid__tctx *c, uint64_t k, braid__buf *blk, uint64_t overhead)
{
  braid_torus *t = &c->t;
  /* What the exchange landed comes first and does not count against the
   * interval: corrections never cost the model its events (see torus.h). */
  const uint64_t n = (uint64_t)c->adapt.interval + t->landed, every = (uint64_t)rt->cfg.v[BRAID_K_sample_every];
  const unsigned R = (unsigned)rt->cfg.v[BRAID_K_rungs];
  const int chaos = rt->cfg.v[BRAID_K_chaos] != 0;
  uint64_t done = 0;
  unsigned j = 1;
  c->rungs = 0;
  if (BRAID_UNLIKELY(rt->probe.run != NULL) && rt->probe.torus == t->id && rt->probe.exchange == k) return rt->probe.run(rt->probe.ud, rt, t, n);
  if (rt->cfg.v[BRAID_K_trace_events] && rt->recording) return run_recording(t, n, blk, R, &c->rungs);
  if (BRAID_UNLIKELY(rt->hooks.stall.ms && rt->hooks.stall.torus == t->id && rt->hooks.stall.exchange == k)) {
    struct timespec ts = { (time_t)(rt->hooks.stall.ms / 1000), (long)(rt->hooks.stall.ms % 1000) * 1000000L };
    nanosleep(&ts, NULL); /* test hook: a stalled worker */
  }
  while (done < n) {
    for (; j <= R && rung_at(n, j, R) == done; j++) take_rung(t, &c->rungs, j);
    if (c->sample_left == 0) {
      /* This is the event to time. */
      uint64_t a = braid__now_ns();
      uint64_t got = braid__torus_run(t, 1);
      uint64_t b = braid__now_ns();
      if (!got) break;
      done++;
      c->sample_left = every - 1;
      braid__hist_add(&c->event_lat, b - a > overhead ? b - a - overhead : 0);
      continue;
    }
    uint64_t stop = j <= R ? rung_at(n, j, R) : n;
    uint64_t chunk = c->sample_left < stop - done ? c->sample_left : stop - done;
    if (chaos && chunk > 1) {
      uint64_t half = chunk / 2, got = braid__torus_run(t, half);
      done += got;
      c->sample_left -= got;
      if (got < half) break;
      braid__chaos_pause(rt, t->id, k, done);
      chunk -= half;
    }
    uint64_t got = braid__torus_run(t, chunk);
    done += got;
    c->sample_left -= got;
    if (got < chunk) break;
  }
  for (; j <= R; j++) take_rung(t, &c->rungs, j);
  return done;
}

int braid__checkpoint_due(const braid_runtime *rt, uint64_t k)
{
  int64_t every = rt->cfg.v[BRAID_K_checkpoint_every];
  return rt->recording && every > 0 && (k + 1) % (uint64_t)every == 0;
}

/* Records the model checks that failed in epoch k (and in the init of a
 * rebuild at k-1) and, with check_stop, ends the run soon after.  "Soon"
 * must be the same exchange in both executors, whatever the threads did:
 * until torus r publishes its projection of k, torus r+j can at most be in
 * its step k+j-1 (each step needs its predecessor's projection of the
 * exchange before), so none has started an epoch after k+N-2, and every
 * torus can still stop there.  The earliest failing epoch e thus ends every
 * run after epoch e+N-2 (e itself for 2 tori). */
static void record_checks(braid_runtime *rt, braid__tctx *c, uint64_t k, braid__buf *blk)
{
  uint32_t n;
  const braid__failed_check *v = braid__torus_take_checks(&c->t, &n);
  for (uint32_t i = 0; i < n && rt->recording; i++) {
    uint64_t f[5] = { c->t.id, v[i].event, v[i].cell, v[i].code, v[i].len };
    braid__rec_put_tail(blk, BRAID_REC_CHECK, 5, f, v[i].msg, v[i].len);
  }
  if (n && !c->first_check_at) {
    c->first_check = v[0];
    c->first_check_at = k + 1;
  }
  if (!n || !rt->cfg.v[BRAID_K_check_stop]) return;
  uint64_t stop = k + rt->ntori - 2, last = atomic_load(&rt->last_epoch);
  while (stop < last)
    if (atomic_compare_exchange_weak(&rt->last_epoch, &last, stop)) {
      atomic_store(&rt->check_stopped, 1);
      break;
    }
}

/* The end of a step, whichever half it ended in. */
static int step_end(braid_runtime *rt, braid__tctx *c, uint32_t r, uint64_t k, int rc, uint64_t t_end)
{
  atomic_store_explicit(&c->events_done, c->t.events, memory_order_relaxed);
  c->wait_start = t_end ? t_end : braid__now_ns();
  atomic_store_explicit(&c->steps_done, k + 1, memory_order_release);
  if (rc) braid__set_error(rt, rc, "torus %u, exchange %llu: %s", r, (unsigned long long)k, braid_strerror(rc));
  return rc;
}

int braid__step_in(braid_runtime *rt, uint32_t r, uint64_t k, uint64_t idle_since, uint64_t *now)
{
  braid__tctx *c = &rt->tc[r];
  uint64_t t0 = *now ? *now : braid__now_ns();
  c->step_wait = c->wait_start ? t0 - c->wait_start : 0;
  int rc = 0;
  atomic_store_explicit(&c->step_started_ns, t0, memory_order_relaxed);
  if (k > 0) {
    const braid__projection *pred = rt->transport->predecessor(rt, r, k - 1);
    /* A hand-over: this torus finished its last step before its
     * predecessor published what this one needed, and this worker was
     * waiting for work when it did. */
    if (rt->nthreads && pred && c->wait_start && pred->published_ns > c->wait_start && idle_since && idle_since <= pred->published_ns &&
        t0 > pred->published_ns)
      braid__hist_add(&c->handover_lat, t0 - pred->published_ns);
    rc = braid__exchange_in(rt, r, k - 1, pred);
    rt->transport->hand_over(rt, r, k - 1);
  }
  *now = braid__now_ns();
  c->step_exch = *now - t0;
  return rc ? step_end(rt, c, r, k, rc, *now) : 0;
}

int braid__step_out(braid_runtime *rt, uint32_t r, uint64_t k, int thread, uint64_t *now)
{
  const uint64_t overhead = rt->clock_overhead;
  braid__tctx *c = &rt->tc[r];
  uint64_t t_end = 0;
  int rc = 0;
  if (k <= atomic_load(&rt->last_epoch)) {
    uint64_t t1 = *now ? *now : braid__now_ns(), exch = c->step_exch;
    braid__buf *blk = &c->block[k % BRAID_REC_SLOTS];
    blk->len = 0;
    uint64_t n = run_epoch(rt, c, k, blk, overhead);
    uint64_t t2 = braid__now_ns();
    c->epoch_ns = t2 - t1;
    c->epoch_events = n;
    c->rep.busy_seconds += (double)(t2 - t1) / 1e9;
    if (BRAID_UNLIKELY(c->t.q.nomem)) {
      /* The queue could not get memory for more events: the run cannot go
       * on deterministically, so it stops, naming the bound to lower. */
      braid__set_error(rt, BRAID_ENOMEM,
                       "torus %u, exchange %llu: out of memory for the event queue at %llu events (%llu MiB); "
                       "queue_cap=%llu allows more than fits: lower queue_cap or the model's population",
                       r, (unsigned long long)k, (unsigned long long)c->t.q.size, (unsigned long long)(braid__queue_bytes(&c->t.q) >> 20),
                       (unsigned long long)c->t.q.cap);
      rc = BRAID_ENOMEM;
    }
    record_checks(rt, c, k, blk); /* before publish: see there */
    if (!rc) rc = braid__publish(rt, r, k, blk);
    if (!rc && braid__checkpoint_due(rt, k)) {
      rc = braid__checkpoint_save(c, k, &c->ckpt[k & 1]);
      atomic_store_explicit(&c->ckpt_taken[k & 1], k + 1, memory_order_release);
    }
    uint64_t t3 = braid__now_ns();
    exch += t3 - t2;
    t_end = t3;
    if (rt->recording) {
      uint64_t f[6] = { r, (uint64_t)thread, t1 - rt->start_ns, t2 - t1, c->step_wait, exch };
      braid__rec_put(blk, BRAID_REC_BARRIER, 6, f);
      if (blk->err) rc = blk->err;
    }
    atomic_store_explicit(&c->events_live, c->t.events, memory_order_relaxed);
    braid__hist_add(&c->exch_lat, exch);
    if (k > 0) braid__hist_add(&c->wait_lat, c->step_wait);
  }
  *now = t_end;
  return step_end(rt, c, r, k, rc, t_end);
}

int braid__run_step(braid_runtime *rt, uint32_t r, uint64_t k, int thread, uint64_t idle_since)
{
  uint64_t now = 0;
  int rc = braid__step_in(rt, r, k, idle_since, &now);
  return rc ? rc : braid__step_out(rt, r, k, thread, &now);
}
