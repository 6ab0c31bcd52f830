/* stop.c - the last epoch and the events limit. */
#include "runtime/stop.h"

void braid__lower_last_epoch(braid_runtime *rt, uint64_t k)
{
  uint64_t last = atomic_load(&rt->last_epoch);
  while (k < last && !atomic_compare_exchange_weak(&rt->last_epoch, &last, k)) {}
}

/* The events setting ends the run after the first exchange j at which the
 * tori's events add up to the limit, T(j) >= limit.  T(j) is logical (each
 * torus's count is in its projection), so every executor and a replay stop
 * at the same exchange. */
uint64_t braid__total_events(const braid_runtime *rt)
{
  uint64_t sum = 0;
  for (uint32_t r = 0; r < rt->ntori; r++) sum += rt->tc[r].t.events;
  return sum;
}

/* No torus starts an epoch before this has said yes for the exchange before
 * it, so while T(j) is unproven no torus is past step j and each one's
 * events_done is its count after step j or an earlier one.  A torus that
 * has not done step j yet adds at most interval_max events per missing
 * epoch (a rebuild never adds any), which bounds T(j) from above: the gate
 * holds a torus back only near the end. */
int braid__events_below(braid_runtime *rt, uint64_t j)
{
  if (atomic_load_explicit(&rt->events_ok, memory_order_acquire) > j) return 1;
  const uint64_t limit = (uint64_t)rt->cfg.v[BRAID_K_events], imax = (uint64_t)rt->cfg.v[BRAID_K_interval_max];
  int res = 0;
  pthread_mutex_lock(&rt->ev_lock);
  if (atomic_load(&rt->events_ok) > j) {
    res = 1;
  } else if (atomic_load(&rt->last_epoch) <= j) {
    res = -1;
  } else {
    uint64_t bound = 0;
    int exact = 1;
    for (uint32_t r = 0; r < rt->ntori; r++) {
      uint64_t d = atomic_load_explicit(&rt->tc[r].steps_done, memory_order_acquire);
      uint64_t v = atomic_load_explicit(&rt->tc[r].events_done, memory_order_relaxed);
      if (d < j + 1) {
        exact = 0;
        v += (j + 1 - d) * imax;
      }
      bound = bound + v < bound ? UINT64_MAX : bound + v;
    }
    if (bound < limit) {
      atomic_store_explicit(&rt->events_ok, j + 1, memory_order_release);
      res = 1;
    } else if (exact) {
      braid__lower_last_epoch(rt, j);
      res = -1;
    }
  }
  pthread_mutex_unlock(&rt->ev_lock);
  return res;
}
