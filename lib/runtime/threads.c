/* threads.c - the threaded executor.  K workers take any torus whose next
 * step is ready (transport->ready: its predecessor has published the
 * projection the step needs, and what the step writes has room).  No global
 * barrier: a torus waits only for its predecessor, so 3 tori keep 2 cores
 * busy.  A worker with nothing ready first writes what the tori handed
 * over (so compression stays off the critical path), then, when it has a
 * CPU of its own, spins for about two of its epochs, then blocks on a
 * condition variable; every 20 ms of blocking it checks the heartbeat. */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include "runtime/executor.h"
#include "runtime/step.h"
#include "runtime/stop.h"

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
  braid__lower_last_epoch(rt, m);
  atomic_store(&rt->stop_final, 1);
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
  if (!hb) return;
  uint64_t now = braid__now_ns(), last = atomic_load(&rt->last_epoch);
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    if (atomic_load(&c->owner) < 0) continue;
    uint64_t k = atomic_load(&c->steps_done);
    if (k > last || now - atomic_load(&c->step_started_ns) < hb) continue;
    if (rt->transport->declare_failed(rt, r, k)) wake_all(rt);
  }
}

static int all_finished(braid_runtime *rt)
{
  uint64_t last = atomic_load(&rt->last_epoch);
  for (uint32_t r = 0; r < rt->ntori; r++)
    if (atomic_load(&rt->tc[r].steps_done) <= last + 1) return 0;
  return 1;
}

/* Step the torus would run next, or UINT64_MAX if it is not ready. */
static uint64_t ready_step(braid_runtime *rt, uint32_t r)
{
  uint64_t k = atomic_load_explicit(&rt->tc[r].steps_done, memory_order_acquire);
  uint64_t last = atomic_load(&rt->last_epoch);
  if (k > last + 1) return UINT64_MAX; /* finished */
  if (atomic_load(&rt->stop_requested) && !atomic_load(&rt->stop_final)) return UINT64_MAX;
  if (!rt->transport->ready(rt, r, k)) return UINT64_MAX;
  if (k > 0 && k <= last && rt->cfg.v[BRAID_K_events]) {
    int below = braid__events_below(rt, k - 1);
    if (!below) return UINT64_MAX;
    /* The limit was reached at exchange k-1: this step is the last one, its
     * exchange-in only (unless a stop lowered the end further still). */
    if (below < 0 && k > atomic_load(&rt->last_epoch) + 1) return UINT64_MAX;
  }
  return k;
}

/* Picks the torus for braid__worker w to run next, or UINT32_MAX: the ready torus
 * furthest behind among those w ran last (their state is in its cache: a
 * move to the other core costs most of an epoch here), else the one
 * furthest behind of the others.  Preferring the furthest behind keeps the
 * tori in a wavefront; running one torus ahead for several steps collapses
 * them into a convoy where only one is ever ready. */
static uint32_t choose_torus(braid_runtime *rt, const braid__worker *w, uint32_t pref, int chaos)
{
  const uint32_t n = rt->ntori;
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
  return best != UINT32_MAX ? best : steal;
}

/* Runs the next step of torus r if braid__worker w can take it; 1 when it
 * ran, with the wall time of its epoch in *epoch_ns (read while w owns r). */
static int take_step(braid_runtime *rt, braid__worker *w, uint32_t r, int chaos, uint64_t idle_since, uint64_t *epoch_ns)
{
  int expect = -1, ran = 0;
  if (!atomic_compare_exchange_strong(&rt->tc[r].owner, &expect, w->id)) return 0;
  uint64_t k = ready_step(rt, r); /* stable now that we own it */
  if (k != UINT64_MAX) {
    if (chaos) braid__chaos_pause(rt, r, k, 0xba77);
    braid__run_step(rt, r, k, w->id, idle_since);
    *epoch_ns = rt->tc[r].epoch_ns;
    atomic_store_explicit(&rt->tc[r].last_thread, w->id, memory_order_relaxed);
    ran = 1;
  }
  atomic_store(&rt->tc[r].owner, -1);
  return ran;
}

/* How long a worker with a CPU of its own spins before it blocks: twice
 * the epoch it ran last, within [SPIN_MIN_NS, SPIN_MAX_NS].  What it waits
 * for is its torus's predecessor finishing an epoch of about that length;
 * a condition-variable wake-up costs tens of microseconds here and, worse,
 * while the sleeper wakes the other worker takes the ready torus itself, and
 * the tori fall into a convoy on one worker.  A fixed 100 us was shorter
 * than an epoch at interval 10000 (about 250 us).  Time-bounded: the clock
 * is read every 64 turns. */
#define SPIN_MIN_NS 100000u
#define SPIN_MAX_NS 2000000u

static uint64_t spin_budget(uint64_t epoch_ns)
{
  uint64_t b = 2 * epoch_ns;
  return b < SPIN_MIN_NS ? SPIN_MIN_NS : b > SPIN_MAX_NS ? SPIN_MAX_NS : b;
}

/* Waits until generation g passes: spins on the one cache line that
 * changes (gen) for up to `spin_ns` when the worker has a CPU of its own,
 * then blocks for up to 20 ms, after which it looks at the heartbeat and
 * the writer. */
static void wait_for_work(braid_runtime *rt, uint64_t g, uint64_t spin_ns)
{
  if (rt->spin) {
    uint64_t until = 0;
    for (unsigned i = 1; atomic_load_explicit(&rt->gen, memory_order_acquire) == g; i++) {
      braid__cpu_relax();
      if (i % 64 == 0) {
        uint64_t now = braid__now_ns();
        if (!until) until = now + spin_ns;
        else if (now >= until) break;
      }
    }
  }
  if (atomic_load(&rt->gen) != g) return;
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
      rt->transport->drain(rt, 0);
    }
  } else {
    atomic_fetch_sub(&rt->sleepers, 1);
    pthread_mutex_unlock(&rt->lock);
  }
}

static void *worker_main(void *arg)
{
  braid__worker *w = arg;
  braid_runtime *rt = w->rt;
  const int chaos = rt->cfg.v[BRAID_K_chaos] != 0;
  const uint64_t duration = (uint64_t)rt->cfg.v[BRAID_K_duration_ms] * 1000000ull;
  uint32_t pref = (uint32_t)w->id % rt->ntori;
  uint64_t picks = 0, spin_ns = SPIN_MIN_NS, idle_since = 0;
  int drained = 0;
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
    if (chaos) pref = (uint32_t)(braid__chaos_rand(rt, 0xc4a05ull + (uint64_t)w->id, picks++) % rt->ntori);
    uint32_t r = choose_torus(rt, w, pref, chaos);
    uint64_t epoch_ns = 0;
    if (r != UINT32_MAX && take_step(rt, w, r, chaos, idle_since, &epoch_ns)) {
      idle_since = 0;
      pref = r;
      spin_ns = spin_budget(epoch_ns);
      wake_all(rt);
      drained = 0;
      if (duration && !atomic_load(&rt->stop_requested) && braid__now_ns() - rt->start_ns >= duration) atomic_store(&rt->stop_requested, 1);
      continue;
    }
    if (!idle_since) idle_since = braid__now_ns();
    /* Nothing to run: the trace is assembled, compressed and written now,
     * off the steps' critical path (a torus whose record slots are full
     * waits for it, and then this is where it gets them back).  Then look
     * again before waiting: writing may have made a step ready. */
    if (!drained) {
      drained = 1;
      rt->transport->drain(rt, 0);
      continue;
    }
    drained = 0;
    wait_for_work(rt, g, spin_ns);
  }
  w->cpu = braid__thread_cpu_seconds();
  braid__thread_cpu(&w->split);
  wake_all(rt);
  return NULL;
}

int braid__run_threaded(braid_runtime *rt)
{
  braid__worker ws[BRAID_MAX_THREADS];
  uint32_t n = rt->nthreads;
  uint32_t started = 0;
  for (; started < n; started++) {
    ws[started] = (braid__worker){ rt, (int)started, 0, 0, { 0, 0 } };
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
  rt->transport->drain(rt, 1);
  return atomic_load(&rt->error);
}
