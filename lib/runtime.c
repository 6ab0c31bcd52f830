/* runtime.c - the runtime handle, the step, and both executors.
 *
 * Sequential: steps in the order (k, r): the reference semantics.
 * Threaded: K workers take any torus whose next step is ready (its
 * predecessor has published the projection the step needs, the slot it
 * will publish into has been read by its successor, and the trace writer has
 * taken the block it will reuse).  No global barrier: a torus waits only for
 * its predecessor, so 3 tori keep 2 cores busy.  Whichever worker completes
 * an exchange hands it to the sinks in order (one at a time, under a
 * try-lock), so the record stream is identical for both executors.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "footprint.h"
#include "runtime.h"

#define INF_EPOCH UINT64_MAX

static uint64_t chaos_rand(const braid_runtime *rt, uint64_t a, uint64_t b)
{
  return braid__mix64((uint64_t)rt->cfg.v[BRAID_K_chaos] ^ braid__mix64(a * 0x9e3779b97f4a7c15ull + b));
}

void braid__set_error(braid_runtime *rt, int rc, const char *fmt, ...)
{
  pthread_mutex_lock(&rt->err_lock);
  if (!atomic_load(&rt->error)) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->errmsg, sizeof rt->errmsg, fmt, ap);
    va_end(ap);
    atomic_store(&rt->error, rc);
  }
  pthread_mutex_unlock(&rt->err_lock);
  atomic_store(&rt->stop_requested, 1);
}

static int usable_cpus(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int braid_runtime_create(braid_runtime **out, braid_config *cfg, char *errbuf, size_t errlen)
{
  int rc;
  if (errbuf && errlen) errbuf[0] = 0;
  BRAID_RETURN_IF(!out || !cfg, BRAID_EINVAL);
  *out = NULL;
  braid_runtime *rt = calloc(1, sizeof *rt);
  if (!rt) return BRAID_ENOMEM;
  pthread_mutex_init(&rt->inj_lock, NULL);
  pthread_mutex_init(&rt->err_lock, NULL);
  pthread_mutex_init(&rt->asm_lock, NULL);
  pthread_mutex_init(&rt->lock, NULL);
  pthread_cond_init(&rt->cond, NULL);
  if ((rc = braid__config_copy(&rt->cfg, cfg))) goto fail;
  rt->model = cfg->model;
  if ((rc = braid__config_params(&rt->cfg, rt->params))) {
    braid__fmt(errbuf, errlen, "%s", rt->cfg.err);
    goto fail;
  }
  const int64_t *v = rt->cfg.v;
  if (v[BRAID_K_interval_min] > v[BRAID_K_interval_max] || v[BRAID_K_interval] < v[BRAID_K_interval_min] ||
      v[BRAID_K_interval] > v[BRAID_K_interval_max]) {
    braid__fmt(errbuf, errlen, "interval: %lld must lie within interval_min..interval_max (%lld..%lld)", (long long)v[BRAID_K_interval],
               (long long)v[BRAID_K_interval_min], (long long)v[BRAID_K_interval_max]);
    rc = BRAID_ERANGE;
    goto fail;
  }
  /* Settings no run here can hold (a hostile trace header) are refused
   * before anything is allocated for them. */
  if ((rc = braid__runtime_memory_check(&rt->cfg, rt->params, errbuf, errlen))) goto fail;
  rt->ntori = (uint32_t)v[BRAID_K_tori];
  rt->dim = (uint32_t)v[BRAID_K_dim];
  rt->facelen = rt->dim * rt->dim;
  rt->exchanges = (uint64_t)v[BRAID_K_exchanges];
  for (unsigned i = 0; i < rt->cfg.nfail; i++)
    if (rt->cfg.fail[i].torus >= rt->ntori) {
      braid__fmt(errbuf, errlen, "fail: torus %c does not exist (tori A..%c)", 'A' + (int)rt->cfg.fail[i].torus, 'A' + (int)rt->ntori - 1);
      rc = BRAID_ERANGE;
      goto fail;
    }
  if (v[BRAID_K_sequential]) rt->nthreads = 0;
  else if (v[BRAID_K_threads]) rt->nthreads = (uint32_t)v[BRAID_K_threads];
  else rt->nthreads = rt->ntori < (uint32_t)usable_cpus() ? rt->ntori : (uint32_t)usable_cpus();
  rt->spin = (int)rt->nthreads <= usable_cpus();
  uint64_t cap = v[BRAID_K_queue_cap] ? (uint64_t)v[BRAID_K_queue_cap] : (uint64_t)64 * rt->dim * rt->dim * rt->dim;
  rt->tc = aligned_alloc(BRAID_CACHELINE, ((sizeof *rt->tc * rt->ntori) + BRAID_CACHELINE - 1) / BRAID_CACHELINE * BRAID_CACHELINE);
  if (!rt->tc) {
    rc = BRAID_ENOMEM;
    goto fail;
  }
  memset(rt->tc, 0, sizeof *rt->tc * rt->ntori);
  for (uint32_t r = 0; r < rt->ntori; r++) {
    atomic_store(&rt->tc[r].owner, -1);
    atomic_store(&rt->tc[r].last_thread, -1);
  }
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    braid__torus_opts o = { r, rt->dim, (uint64_t)v[BRAID_K_seed], cap, (uint32_t)v[BRAID_K_procs], rt->model, rt->params };
    if ((rc = braid__torus_init(&c->t, &o))) {
      braid__fmt(errbuf, errlen, "model %s: torus %u failed to initialise: %s", rt->model->name, r, braid_strerror(rc));
      goto fail;
    }
    braid__adapt_init(&c->adapt, &rt->cfg);
    if ((rc = braid__projection_alloc(&c->own, rt->facelen))) goto fail;
    for (int s = 0; s < BRAID_PROJ_SLOTS; s++) {
      if ((rc = braid__projection_alloc(&c->slot[s], rt->facelen))) goto fail;
      /* "exchange -1, published": nothing is pending in a fresh slot. */
      atomic_store(&c->tag[s], (UINT64_MAX << 2) | SLOT_PUBLISHED);
    }
    c->rep.interval = c->adapt.interval;
    c->sample_left = (uint64_t)v[BRAID_K_sample_every] - 1;
  }
  for (uint32_t r = 0; r < rt->ntori; r++) rt->tc[r].t.peer = &rt->tc[(r + rt->ntori - 1) % rt->ntori].t;
  atomic_store(&rt->last_epoch, rt->exchanges - 1);
  *out = rt;
  return 0;
fail:
  if (errbuf && errlen && !errbuf[0]) braid__fmt(errbuf, errlen, "%s", braid_strerror(rc));
  braid_runtime_destroy(rt);
  return rc;
}

void braid__trace_detach(braid_runtime *rt); /* record_file.c */

void braid_runtime_destroy(braid_runtime *rt)
{
  if (!rt) return;
  braid__trace_detach(rt);
  if (rt->tc)
    for (uint32_t r = 0; r < rt->ntori; r++) {
      braid__tctx *c = &rt->tc[r];
      braid__torus_free(&c->t);
      braid__projection_free(&c->own);
      for (int s = 0; s < BRAID_PROJ_SLOTS; s++) braid__projection_free(&c->slot[s]);
      for (int b = 0; b < BRAID_REC_SLOTS; b++) braid__buf_free(&c->block[b]);
      for (int b = 0; b < 2; b++) braid__buf_free(&c->ckpt[b]);
    }
  free(rt->tc);
  free(rt->inj);
  free(rt->torus_reports);
  braid__buf_free(&rt->assembly);
  braid__config_clear(&rt->cfg);
  pthread_mutex_destroy(&rt->inj_lock);
  pthread_mutex_destroy(&rt->err_lock);
  pthread_mutex_destroy(&rt->asm_lock);
  pthread_mutex_destroy(&rt->lock);
  pthread_cond_destroy(&rt->cond);
  free(rt);
}

int braid__add_sink(braid_runtime *rt, const braid__sink *s)
{
  BRAID_RETURN_IF(rt->nsinks >= 3, BRAID_ELIMIT);
  BRAID_RETURN_IF(rt->ran, BRAID_ESTATE);
  /* Reserve the record blocks now, on this thread, rather than lazily on
   * whichever worker first writes one: memory stays flat during the run. */
  if (!rt->recording)
    for (uint32_t r = 0; r < rt->ntori; r++)
      for (int b = 0; b < BRAID_REC_SLOTS; b++) BRAID_FORWARD(braid__buf_reserve(&rt->tc[r].block[b], BRAID_REC_SLOT_BYTES));
  rt->sink[rt->nsinks++] = *s;
  rt->recording = 1;
  return 0;
}

const char *braid_runtime_error(const braid_runtime *rt) { return rt ? rt->errmsg : "no runtime"; }

void braid_runtime_stop(braid_runtime *rt)
{
  if (!rt) return;
  atomic_store(&rt->interrupted, 1);
  atomic_store(&rt->stop_requested, 1);
}

int braid_inject(braid_runtime *rt, uint32_t torus, uint32_t cell, int32_t payload, uint64_t not_before)
{
  BRAID_RETURN_IF(!rt, BRAID_EINVAL);
  BRAID_RETURN_IF(torus >= rt->ntori || cell >= rt->dim * rt->dim * rt->dim, BRAID_ERANGE);
  BRAID_RETURN_IF(rt->replay, BRAID_ESTATE);
  pthread_mutex_lock(&rt->inj_lock);
  if (rt->ninj == rt->capinj) {
    size_t nc = rt->capinj ? rt->capinj * 2 : 64;
    braid__injection *n = realloc(rt->inj, nc * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&rt->inj_lock);
      return BRAID_ENOMEM;
    }
    rt->inj = n;
    rt->capinj = nc;
  }
  rt->inj[rt->ninj++] = (braid__injection){ torus, cell, payload, atomic_fetch_add(&rt->inj_seq, 1), not_before };
  atomic_fetch_add_explicit(&rt->inj_pending, 1, memory_order_release);
  pthread_mutex_unlock(&rt->inj_lock);
  return 0;
}

void braid_runtime_progress(const braid_runtime *rt, braid_progress *out)
{
  memset(out, 0, sizeof *out);
  if (!rt) return;
  uint64_t minsteps = UINT64_MAX;
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    uint64_t s = atomic_load_explicit(&c->steps_done, memory_order_relaxed);
    if (s < minsteps) minsteps = s;
    out->events += atomic_load_explicit(&c->events_live, memory_order_relaxed);
  }
  out->exchanges = minsteps ? minsteps - 1 : 0;
}

/* ---------------------------------------------------------------- the step */

/* An epoch with per-event recording (trace_events=1): one event at a time
 * through the model's handle(), logging each event first. */
static uint64_t run_recording(braid_torus *t, uint64_t n, braid__buf *blk)
{
  uint64_t done = 0, time;
  braid__qev ev;
  while (done < n && braid__queue_pop(&t->q, &time, &ev)) {
    uint64_t f[5] = { t->id, time, ev.dst, ev.src, (uint64_t)(int64_t)ev.payload };
    braid__rec_put(blk, BRAID_REC_EVENT, 5, f);
    braid__process(t, time, &ev);
    done++;
  }
  return done;
}

static void chaos_pause(braid_runtime *rt, uint32_t r, uint64_t k, uint64_t salt)
{
  uint64_t x = chaos_rand(rt, (uint64_t)r << 40 | salt, k);
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
 * between run in chunks, so sampling costs nothing per event. */
static uint64_t run_epoch(braid_runtime *rt, braid__tctx *c, uint64_t k, braid__buf *blk, uint64_t overhead)
{
  braid_torus *t = &c->t;
  const uint64_t n = c->adapt.interval, every = (uint64_t)rt->cfg.v[BRAID_K_sample_every];
  const int chaos = rt->cfg.v[BRAID_K_chaos] != 0;
  uint64_t done = 0;
  if (rt->cfg.v[BRAID_K_trace_events] && rt->recording) return run_recording(t, n, blk);
  while (done < n) {
    uint64_t chunk = c->sample_left < n - done ? c->sample_left : n - done;
    if (chaos && chunk > 1) {
      uint64_t half = chunk / 2, got = braid__torus_run(t, half);
      done += got;
      c->sample_left -= got;
      if (got < half) break;
      chaos_pause(rt, t->id, k, done);
      chunk -= half;
    }
    if (BRAID_UNLIKELY(rt->stall.ms && rt->stall.torus == t->id && rt->stall.exchange == k && done == 0)) {
      struct timespec ts = { (time_t)(rt->stall.ms / 1000), (long)(rt->stall.ms % 1000) * 1000000L };
      nanosleep(&ts, NULL); /* test hook: a stalled worker */
    }
    uint64_t got = braid__torus_run(t, chunk);
    done += got;
    c->sample_left -= got;
    if (got < chunk || done >= n) break;
    /* sample_left is 0: this is the event to time. */
    uint64_t a = braid__now_ns();
    got = braid__torus_run(t, 1);
    uint64_t b = braid__now_ns();
    if (!got) break;
    done++;
    c->sample_left = every - 1;
    braid__hist_add(&c->event_lat, b - a > overhead ? b - a - overhead : 0);
  }
  return done;
}

static int checkpoint_due(const braid_runtime *rt, uint64_t k)
{
  int64_t every = rt->cfg.v[BRAID_K_checkpoint_every];
  return rt->recording && every > 0 && (k + 1) % (uint64_t)every == 0;
}

int braid__run_step(braid_runtime *rt, uint32_t r, uint64_t k, int thread)
{
  const uint64_t overhead = rt->clock_overhead;
  braid__tctx *c = &rt->tc[r];
  uint64_t t0 = braid__now_ns(), exch = 0;
  uint64_t wait = c->wait_start ? t0 - c->wait_start : 0;
  int rc = 0;
  atomic_store_explicit(&c->step_started_ns, t0, memory_order_relaxed);
  if (k > 0) {
    uint32_t p = (r + rt->ntori - 1) % rt->ntori;
    unsigned s = (unsigned)((k - 1) % BRAID_PROJ_SLOTS);
    uint64_t tag = atomic_load_explicit(&rt->tc[p].tag[s], memory_order_acquire);
    rc = braid__exchange_in(rt, r, k - 1, &rt->tc[p].slot[s], (tag & 3) == SLOT_FAILED);
    atomic_store_explicit(&c->blocks_done, k, memory_order_release);
  }
  uint64_t t1 = braid__now_ns();
  exch += t1 - t0;
  if (!rc && k <= atomic_load(&rt->last_epoch)) {
    braid__buf *blk = &c->block[k % BRAID_REC_SLOTS];
    blk->len = 0;
    uint64_t n = run_epoch(rt, c, k, blk, overhead);
    uint64_t t2 = braid__now_ns();
    c->adapt.epoch_ns = t2 - t1;
    c->adapt.epoch_events = n;
    c->rep.busy_seconds += (double)(t2 - t1) / 1e9;
    rc = braid__publish(rt, r, k, blk);
    if (!rc && checkpoint_due(rt, k)) {
      rc = braid__checkpoint_save(c, k, &c->ckpt[k & 1]);
      atomic_store_explicit(&c->ckpt_taken[k & 1], k + 1, memory_order_release);
    }
    uint64_t t3 = braid__now_ns();
    exch += t3 - t2;
    if (rt->recording) {
      uint64_t f[6] = { r, (uint64_t)thread, t1 - rt->start_ns, t2 - t1, wait, exch };
      braid__rec_put(blk, BRAID_REC_BARRIER, 6, f);
      if (blk->err) rc = blk->err;
    }
    atomic_store_explicit(&c->events_live, c->t.events, memory_order_relaxed);
    braid__hist_add(&c->exch_lat, exch);
    if (k > 0) braid__hist_add(&c->wait_lat, wait);
  }
  c->wait_start = braid__now_ns();
  atomic_store_explicit(&c->steps_done, k + 1, memory_order_release);
  if (rc) braid__set_error(rt, rc, "torus %u, exchange %llu: %s", r, (unsigned long long)k, braid_strerror(rc));
  return rc;
}

/* Hands exchange k (complete in every torus) to the sinks. */
int braid__assemble(braid_runtime *rt, uint64_t k)
{
  braid__buf *a = &rt->assembly;
  a->len = 0;
  uint64_t f[1] = { k };
  braid__rec_put(a, BRAID_REC_EXCHANGE, 1, f);
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__buf *b = &rt->tc[r].block[k % BRAID_REC_SLOTS];
    braid__buf_put(a, b->p, b->len);
  }
  if (a->err) return a->err;
  for (unsigned i = 0; i < rt->nsinks; i++) BRAID_FORWARD(rt->sink[i].exchange(rt->sink[i].ud, k, a->p, a->len));
  if (checkpoint_due(rt, k)) {
    /* Blob: varint tori, then per torus varint length + state. */
    a->len = 0;
    uint8_t v[10];
    braid__buf_put(a, v, braid__varint_put(v, rt->ntori));
    for (uint32_t r = 0; r < rt->ntori; r++) {
      braid__buf *cb = &rt->tc[r].ckpt[k & 1];
      braid__buf_put(a, v, braid__varint_put(v, cb->len));
      braid__buf_put(a, cb->p, cb->len);
    }
    if (a->err) return a->err;
    for (unsigned i = 0; i < rt->nsinks; i++)
      if (rt->sink[i].checkpoint) BRAID_FORWARD(rt->sink[i].checkpoint(rt->sink[i].ud, k, a->p, a->len));
  }
  return 0;
}

/* Assembles every exchange that all tori have closed; one thread at a time. */
static void drain(braid_runtime *rt, int wait)
{
  if (!rt->recording) return;
  if (wait) pthread_mutex_lock(&rt->asm_lock);
  else if (pthread_mutex_trylock(&rt->asm_lock)) return;
  for (;;) {
    uint64_t k = rt->assembled, ready = UINT64_MAX;
    for (uint32_t r = 0; r < rt->ntori; r++) {
      uint64_t b = atomic_load_explicit(&rt->tc[r].blocks_done, memory_order_acquire);
      if (b < ready) ready = b;
    }
    if (k >= ready || atomic_load(&rt->error)) break;
    int rc = braid__assemble(rt, k);
    if (rc) {
      pthread_mutex_unlock(&rt->asm_lock);
      braid__set_error(rt, rc, "writing exchange %llu: %s", (unsigned long long)k, braid_strerror(rc));
      return;
    }
    rt->assembled = k + 1;
    atomic_store_explicit(&rt->written, k + 1, memory_order_release);
  }
  pthread_mutex_unlock(&rt->asm_lock);
}

/* ------------------------------------------------------------ stop protocol */

/* Chooses the last epoch after a stop request.  From the request on no
 * step starts (ready_step) until the decision is final, and a torus can only
 * ever be running epoch steps_done, so the highest steps_done is the highest
 * epoch anybody may have started: every torus runs up to it, then its final
 * exchange-in. */
static void decide_stop(braid_runtime *rt)
{
  uint64_t m = 0;
  for (uint32_t r = 0; r < rt->ntori; r++) {
    uint64_t d = atomic_load(&rt->tc[r].steps_done);
    if (d > m) m = d;
  }
  if (m < atomic_load(&rt->last_epoch)) atomic_store(&rt->last_epoch, m);
  atomic_store(&rt->stop_final, 1);
}

/* ------------------------------------------------------------- sequential */

static int run_sequential(braid_runtime *rt)
{
  /* After a checkpoint was loaded every torus starts at the step after it. */
  for (uint64_t k = atomic_load(&rt->tc[0].steps_done);; k++) {
    uint64_t last = atomic_load(&rt->last_epoch);
    for (uint32_t r = 0; r < rt->ntori; r++)
      if (braid__run_step(rt, r, k, 0)) return atomic_load(&rt->error);
    if (k > 0) drain(rt, 1);
    if (atomic_load(&rt->error)) return atomic_load(&rt->error);
    if (k == last + 1) break;
    if (atomic_load(&rt->stop_requested) && k < last) atomic_store(&rt->last_epoch, k);
    if (rt->cfg.v[BRAID_K_duration_ms] && braid__now_ns() - rt->start_ns >= (uint64_t)rt->cfg.v[BRAID_K_duration_ms] * 1000000ull &&
        k < last)
      atomic_store(&rt->last_epoch, k);
  }
  return 0;
}

/* --------------------------------------------------------------- threaded */

typedef struct worker {
  braid_runtime *rt;
  int id;
  pthread_t th;
  double cpu;
  braid__cpu split;
} worker;

/* Step the torus would run next, or UINT64_MAX if it is not ready. */
static uint64_t ready_step(braid_runtime *rt, uint32_t r)
{
  braid__tctx *c = &rt->tc[r];
  uint64_t k = atomic_load_explicit(&c->steps_done, memory_order_acquire);
  uint64_t last = atomic_load(&rt->last_epoch);
  if (k > last + 1) return UINT64_MAX; /* finished */
  if (atomic_load(&rt->stop_requested) && !atomic_load(&rt->stop_final)) return UINT64_MAX;
  if (k > 0) {
    uint32_t p = (r + rt->ntori - 1) % rt->ntori;
    uint64_t tag = atomic_load_explicit(&rt->tc[p].tag[(k - 1) % BRAID_PROJ_SLOTS], memory_order_acquire);
    if ((tag >> 2) != k - 1 || ((tag & 3) != SLOT_PUBLISHED && (tag & 3) != SLOT_FAILED)) return UINT64_MAX;
  }
  if (k <= last) {
    uint32_t s = (r + 1) % rt->ntori;
    /* Slot k % P last held P(k-P); the successor reads it in its step k-P+1. */
    if (k + 1 >= BRAID_PROJ_SLOTS && atomic_load_explicit(&rt->tc[s].steps_done, memory_order_acquire) < k - BRAID_PROJ_SLOTS + 2) return UINT64_MAX;
    if (rt->recording && k >= BRAID_REC_SLOTS && atomic_load_explicit(&rt->written, memory_order_acquire) <= k - BRAID_REC_SLOTS) return UINT64_MAX;
    /* A checkpoint buffer is reused: the checkpoint it last held must be
     * written first (with one buffer and a checkpoint at every exchange,
     * step k waited for exchange k-1, which closes only in step k). */
    if (checkpoint_due(rt, k) &&
        atomic_load_explicit(&rt->written, memory_order_acquire) < atomic_load_explicit(&c->ckpt_taken[k & 1], memory_order_acquire))
      return UINT64_MAX;
  }
  return k;
}

static void wake_all(braid_runtime *rt)
{
  atomic_fetch_add(&rt->gen, 1);
  if (atomic_load(&rt->sleepers)) {
    pthread_mutex_lock(&rt->lock);
    pthread_cond_broadcast(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
  }
}

/* Declares failed every torus that has been inside one step for longer than
 * the heartbeat: its projection slot for that exchange becomes FAILED, so its
 * successor can go on; the torus itself rebuilds when it reaches publish. */
static void heartbeat(braid_runtime *rt)
{
  uint64_t hb = (uint64_t)rt->cfg.v[BRAID_K_heartbeat_ms] * 1000000ull;
  if (!hb || rt->replay) return;
  uint64_t now = braid__now_ns(), last = atomic_load(&rt->last_epoch);
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    if (atomic_load(&c->owner) < 0) continue;
    uint64_t k = atomic_load(&c->steps_done);
    if (k > last || now - atomic_load(&c->step_started_ns) < hb) continue;
    unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
    uint64_t old = atomic_load(&c->tag[s]);
    if ((old >> 2) == k) continue; /* published or declared already */
    if (atomic_compare_exchange_strong(&c->tag[s], &old, k << 2 | SLOT_FAILED)) wake_all(rt);
  }
}

static int all_finished(braid_runtime *rt)
{
  uint64_t last = atomic_load(&rt->last_epoch);
  for (uint32_t r = 0; r < rt->ntori; r++)
    if (atomic_load(&rt->tc[r].steps_done) <= last + 1) return 0;
  return 1;
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  braid_runtime *rt = w->rt;
  const uint32_t n = rt->ntori;
  const int chaos = rt->cfg.v[BRAID_K_chaos] != 0;
  uint32_t pref = (uint32_t)w->id % n;
  uint64_t picks = 0;
  while (!atomic_load(&rt->error)) {
    if (atomic_load(&rt->stop_requested) && !atomic_load(&rt->stop_final)) {
      int expect = 0;
      if (atomic_compare_exchange_strong(&rt->deciding, &expect, 1)) {
        decide_stop(rt);
        wake_all(rt);
      }
    }
    if (all_finished(rt)) break;
    uint64_t g = atomic_load(&rt->gen);
    int ran = 0;
    if (chaos) pref = (uint32_t)(chaos_rand(rt, 0xc4a05ull + (uint64_t)w->id, picks++) % n);
    /* Take the ready torus that is furthest behind among those this worker
     * ran last (their state is in its cache: a move to the other core costs
     * most of an epoch here), else steal the one furthest behind.  Preferring
     * the furthest behind keeps the tori in a wavefront; running one torus
     * ahead for several steps collapses them into a convoy where only one is
     * ever ready. */
    uint32_t best = UINT32_MAX, steal = UINT32_MAX;
    uint64_t bestk = UINT64_MAX, stealk = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t r = (pref + i) % n;
      if (atomic_load_explicit(&rt->tc[r].owner, memory_order_relaxed) != -1) continue;
      uint64_t k = ready_step(rt, r);
      if (k == UINT64_MAX) continue;
      int mine = chaos ? 1 : atomic_load_explicit(&rt->tc[r].last_thread, memory_order_relaxed) == w->id;
      if (mine && k < bestk) {
        bestk = k;
        best = r;
      } else if (!mine && k < stealk) {
        stealk = k;
        steal = r;
      }
    }
    if (best == UINT32_MAX) best = steal;
    int expect = -1;
    if (best != UINT32_MAX && atomic_compare_exchange_strong(&rt->tc[best].owner, &expect, w->id)) {
      uint64_t k = ready_step(rt, best); /* stable now that we own it */
      if (k != UINT64_MAX) {
        if (chaos) chaos_pause(rt, best, k, 0xba77);
        braid__run_step(rt, best, k, w->id);
        atomic_store_explicit(&rt->tc[best].last_thread, w->id, memory_order_relaxed);
        ran = 1;
        pref = best;
      }
      atomic_store(&rt->tc[best].owner, -1);
      if (ran) {
        wake_all(rt);
        drain(rt, 0);
        if (rt->cfg.v[BRAID_K_duration_ms] && !atomic_load(&rt->stop_requested) &&
            braid__now_ns() - rt->start_ns >= (uint64_t)rt->cfg.v[BRAID_K_duration_ms] * 1000000ull)
          atomic_store(&rt->stop_requested, 1);
      }
    }
    if (ran) continue;
    /* Nothing ready: spin a little if we have a CPU of our own, then block. */
    if (rt->spin)
      for (int i = 0; i < 2000 && atomic_load(&rt->gen) == g; i++) braid__cpu_relax();
    if (atomic_load(&rt->gen) != g) continue;
    pthread_mutex_lock(&rt->lock);
    atomic_fetch_add(&rt->sleepers, 1);
    if (atomic_load(&rt->gen) == g && !all_finished(rt) && !atomic_load(&rt->error)) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 20 * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      int trc = pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
      atomic_fetch_sub(&rt->sleepers, 1);
      pthread_mutex_unlock(&rt->lock);
      if (trc == ETIMEDOUT) {
        heartbeat(rt);
        drain(rt, 0);
      }
    } else {
      atomic_fetch_sub(&rt->sleepers, 1);
      pthread_mutex_unlock(&rt->lock);
    }
  }
  w->cpu = braid__thread_cpu_seconds();
  braid__thread_cpu(&w->split);
  wake_all(rt);
  return NULL;
}

static int run_threaded(braid_runtime *rt)
{
  worker ws[BRAID_MAX_THREADS];
  uint32_t n = rt->nthreads;
  uint32_t started = 0;
  for (; started < n; started++) {
    ws[started] = (worker){ rt, (int)started, 0, 0, { 0, 0 } };
    if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started])) {
      braid__set_error(rt, BRAID_ENOMEM, "cannot start worker thread %u", started);
      break;
    }
  }
  for (uint32_t i = 0; i < started; i++) {
    pthread_join(ws[i].th, NULL);
    if (i < BRAID_MAX_THREADS) {
      rt->thread_cpu[i] = ws[i].cpu;
      rt->thread_split[i] = ws[i].split;
    }
  }
  drain(rt, 1);
  return atomic_load(&rt->error);
}

/* ---------------------------------------------------------------- report */

static void build_report(braid_runtime *rt)
{
  braid_report *rep = &rt->report;
  braid__hist ev = { 0 }, ex = { 0 }, wt = { 0 };
  memset(rep, 0, sizeof *rep);
  free(rt->torus_reports);
  rt->torus_reports = calloc(rt->ntori, sizeof *rt->torus_reports);
  rep->tori = rt->ntori;
  rep->threads = rt->nthreads;
  rep->wall_seconds = (double)(rt->end_ns - rt->start_ns) / 1e9;
  rep->interval_min_seen = UINT32_MAX;
  rep->interval_max_seen = 0;
  int64_t conv = 0;
  uint64_t steps = UINT64_MAX;
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    braid_torus_report *tr = &c->rep;
    tr->events = c->t.events;
    tr->virtual_time = c->t.q.now;
    tr->pending = c->t.q.size;
    tr->queue_overflows = c->t.q.overflows + c->t.q.horizon_errors;
    tr->interval = c->adapt.interval;
    tr->digest = c->t.digest;
    tr->state_hash = braid__torus_state_hash(&c->t);
    if (rt->torus_reports) rt->torus_reports[r] = *tr;
    rep->events += tr->events;
    rep->boundary_violations += tr->boundary_violations;
    rep->interval_changes += tr->interval_changes;
    if (c->interval_lo < rep->interval_min_seen) rep->interval_min_seen = c->interval_lo;
    if (c->interval_hi > rep->interval_max_seen) rep->interval_max_seen = c->interval_hi;
    if ((int64_t)c->last_bad_exchange > conv) conv = (int64_t)c->last_bad_exchange;
    braid__hist_merge(&ev, &c->event_lat);
    braid__hist_merge(&ex, &c->exch_lat);
    braid__hist_merge(&wt, &c->wait_lat);
    uint64_t s = atomic_load(&c->steps_done);
    if (s < steps) steps = s;
  }
  rep->exchanges = steps ? steps - 1 : 0;
  rep->checked_cells = rep->exchanges * rt->ntori * rt->facelen;
  rep->violation_rate = rep->checked_cells ? (double)rep->boundary_violations / (double)rep->checked_cells : 0;
  rep->convergence_exchange = conv >= (int64_t)rep->exchanges ? -1 : conv;
  rep->events_per_second = rep->wall_seconds > 0 ? (double)rep->events / rep->wall_seconds : 0;
  rep->event_latency = braid__hist_quantiles(&ev);
  rep->exchange_latency = braid__hist_quantiles(&ex);
  rep->barrier_wait = braid__hist_quantiles(&wt);
  /* CPU time of the run: the process's since the start of the run, the
   * workers' whole lives, or the calling thread's since the start. */
  braid__cpu now;
  braid__process_cpu(&now);
  rep->cpu_user_seconds = now.user - rt->cpu_start.user;
  rep->cpu_sys_seconds = now.sys - rt->cpu_start.sys;
  memcpy(rep->thread_cpu_seconds, rt->thread_cpu, sizeof rep->thread_cpu_seconds);
  for (uint32_t i = 0; i < rt->nthreads && i < BRAID_MAX_THREADS; i++) {
    rep->thread_cpu_user_seconds[i] = rt->thread_split[i].user;
    rep->thread_cpu_sys_seconds[i] = rt->thread_split[i].sys;
  }
  if (!rt->nthreads) {
    braid__thread_cpu(&now);
    rep->thread_cpu_seconds[0] = braid__thread_cpu_seconds() - rt->caller_cpu_seconds_start;
    rep->thread_cpu_user_seconds[0] = now.user - rt->caller_cpu_start.user;
    rep->thread_cpu_sys_seconds[0] = now.sys - rt->caller_cpu_start.sys;
  }
  /* The high-water mark covers the start as well; the max only guards
   * against the kernel's page counts drifting between two reads. */
  braid__rss_read(&rep->rss_end_kib, &rep->rss_peak_kib);
  rep->rss_start_kib = rt->rss_start;
  if (rep->rss_peak_kib < rep->rss_start_kib) rep->rss_peak_kib = rep->rss_start_kib;
  rep->torus = rt->torus_reports;
}

uint64_t braid__trace_bytes(const braid_runtime *rt); /* record_file.c */
int braid__trace_finish(braid_runtime *rt, int rc);  /* record_file.c */

int braid_runtime_run(braid_runtime *rt)
{
  BRAID_RETURN_IF(!rt, BRAID_EINVAL);
  BRAID_RETURN_IF(rt->ran, BRAID_ESTATE);
  rt->ran = 1;
  rt->rss_start = braid__rss_kib();
  for (uint32_t r = 0; r < rt->ntori; r++) rt->tc[r].interval_lo = rt->tc[r].interval_hi = rt->tc[r].adapt.interval;
  braid__process_cpu(&rt->cpu_start);
  braid__thread_cpu(&rt->caller_cpu_start);
  rt->caller_cpu_seconds_start = braid__thread_cpu_seconds();
  rt->start_unix_ns = braid__wall_ns();
  rt->clock_overhead = braid__clock_overhead_ns();
  rt->start_ns = braid__now_ns();
  for (uint32_t r = 0; r < rt->ntori; r++) rt->tc[r].wait_start = rt->start_ns;
  int rc = rt->nthreads ? run_threaded(rt) : run_sequential(rt);
  rt->end_ns = braid__now_ns();
  build_report(rt);
  rc = braid__trace_finish(rt, rc);
  rt->report.trace_bytes = braid__trace_bytes(rt);
  if (!rc && atomic_load(&rt->interrupted)) rc = BRAID_EINTR;
  return rc;
}

int braid_runtime_report(const braid_runtime *rt, braid_report *out)
{
  BRAID_RETURN_IF(!rt || !out, BRAID_EINVAL);
  BRAID_RETURN_IF(!rt->ran, BRAID_ESTATE);
  *out = rt->report;
  return 0;
}
