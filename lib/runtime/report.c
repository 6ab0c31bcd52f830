/* report.c - the run's report (braid_report in braid.h): throughput,
 * latencies, violations and convergence, intervals, CPU and memory. */
#include <stdlib.h>
#include <string.h>
#include "runtime/report.h"

void braid__report_build(braid_runtime *rt)
{
  braid_report *rep = &rt->report;
  braid__hist ev = { 0 }, ex = { 0 }, wt = { 0 }, ho = { 0 };
  memset(rep, 0, sizeof *rep);
  free(rt->torus_reports);
  rt->torus_reports = calloc(rt->ntori, sizeof *rt->torus_reports);
  free(rt->convergence);
  rt->convergence = calloc(rt->ntori, sizeof *rt->convergence);
  free(rt->torus_exchange_latency);
  rt->torus_exchange_latency = calloc(rt->ntori, sizeof *rt->torus_exchange_latency);
  rep->tori = rt->ntori;
  rep->threads = rt->nthreads;
  rep->wall_seconds = (double)(rt->end_ns - rt->start_ns) / 1e9;
  rep->interval_min_seen = UINT32_MAX;
  rep->interval_max_seen = 0;
  int64_t conv = 0;
  rep->first_check_exchange = -1;
  uint64_t steps = UINT64_MAX;
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__tctx *c = &rt->tc[r];
    braid_torus_report *tr = &c->rep;
    if (!c->remote) { /* a remote torus's rank filled these in */
      tr->events = c->t.events;
      tr->virtual_time = c->t.q.now;
      tr->pending = c->t.q.size;
      tr->queue_overflows = c->t.q.overflows + c->t.q.horizon_errors;
      tr->interval = c->adapt.interval;
      tr->digest = c->t.digest;
      tr->state_hash = braid__torus_state_hash(&c->t);
    }
    if (rt->torus_reports) rt->torus_reports[r] = *tr;
    rep->events += tr->events;
    rep->boundary_violations += tr->boundary_violations;
    rep->interval_changes += tr->interval_changes;
    if (c->interval_lo < rep->interval_min_seen) rep->interval_min_seen = c->interval_lo;
    if (c->interval_hi > rep->interval_max_seen) rep->interval_max_seen = c->interval_hi;
    rep->check_failures += c->t.checks_failed;
    /* The first in stream order: the earliest exchange, then the lowest torus. */
    if (c->first_check_at && (rep->first_check_exchange < 0 || c->first_check_at - 1 < (uint64_t)rep->first_check_exchange)) {
      rep->first_check_exchange = (int64_t)(c->first_check_at - 1);
      rep->first_check_torus = r;
      rep->first_check_cell = c->first_check.cell;
      rep->first_check_code = c->first_check.code;
      rep->first_check_event = c->first_check.event;
      memcpy(rep->first_check_message, c->first_check.msg, sizeof rep->first_check_message);
    }
    if (conv >= 0) conv = c->conv.from < 0 ? -1 : c->conv.from > conv ? c->conv.from : conv;
    if (rt->convergence) {
      braid_convergence *cv = &rt->convergence[r];
      cv->perturbed_exchange = c->conv.perturbed;
      cv->perturbation = c->conv.kind;
      cv->converged_exchange = c->conv.from;
      cv->exchanges = c->conv.from < 0 ? -1 : c->conv.from - (c->conv.perturbed < 0 ? 0 : c->conv.perturbed);
    }
    braid__hist_merge(&ev, &c->event_lat);
    braid__hist_merge(&ex, &c->exch_lat);
    if (rt->torus_exchange_latency) rt->torus_exchange_latency[r] = braid__hist_quantiles(&c->exch_lat);
    braid__hist_merge(&wt, &c->wait_lat);
    braid__hist_merge(&ho, &c->handover_lat);
    uint64_t s = atomic_load(&c->steps_done);
    if (s < steps) steps = s;
  }
  rep->exchanges = steps ? steps - 1 : 0;
  rep->checked_cells = rep->exchanges * rt->ntori * rt->facelen;
  rep->violation_rate = rep->checked_cells ? (double)rep->boundary_violations / (double)rep->checked_cells : 0;
  rep->convergence_exchange = conv;
  rep->events_per_second = rep->wall_seconds > 0 ? (double)rep->events / rep->wall_seconds : 0;
  rep->event_latency = braid__hist_quantiles(&ev);
  rep->exchange_latency = braid__hist_quantiles(&ex);
  rep->barrier_wait = braid__hist_quantiles(&wt);
  rep->handover = braid__hist_quantiles(&ho);
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
  rep->check_stopped = atomic_load(&rt->check_stopped);
  rep->torus = rt->torus_reports;
  rep->convergence = rt->convergence;
  rep->torus_exchange_latency = rt->torus_exchange_latency;
  rep->ranks = rt->rank_reports ? rt->nranks : 0;
  rep->rank = rt->rank_reports;
}
