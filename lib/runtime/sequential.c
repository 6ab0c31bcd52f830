/* sequential.c - the reference executor: one thread runs the steps in the
 * order (k, r), so every torus sees its predecessor's projection of the
 * previous exchange before its own epoch.  Each exchange runs every
 * torus's exchange-in first and then every epoch (step.h: the halves), so
 * that when a torus publishes P(k) its successor has applied P(k-1), as in
 * a threaded run, and the delta of P(k) holds one epoch's changes
 * (projection.h), not two. */
#include "runtime/executor.h"
#include "runtime/step.h"
#include "runtime/stop.h"

int braid__run_sequential(braid_runtime *rt)
{
  /* After a checkpoint was loaded every torus starts at the step after it. */
  for (uint64_t k = atomic_load(&rt->tc[0].steps_done);; k++) {
    uint64_t last = atomic_load(&rt->last_epoch);
    uint64_t now = 0;
    for (uint32_t r = 0; r < rt->ntori; r++)
      if (braid__step_in(rt, r, k, 0, &now)) return atomic_load(&rt->error);
    for (uint32_t r = 0; r < rt->ntori; r++)
      if (braid__step_out(rt, r, k, 0, &now)) return atomic_load(&rt->error);
    if (k > 0) rt->transport->drain(rt, 1);
    if (atomic_load(&rt->error)) return atomic_load(&rt->error);
    if (k == last + 1) break;
    if (atomic_load(&rt->stop_requested) && k < last) atomic_store(&rt->last_epoch, k);
    if (rt->cfg.v[BRAID_K_events] && k < last && braid__total_events(rt) >= (uint64_t)rt->cfg.v[BRAID_K_events]) atomic_store(&rt->last_epoch, k);
    if (rt->cfg.v[BRAID_K_duration_ms] && braid__now_ns() - rt->start_ns >= (uint64_t)rt->cfg.v[BRAID_K_duration_ms] * 1000000ull &&
        k < last)
      atomic_store(&rt->last_epoch, k);
  }
  return 0;
}
