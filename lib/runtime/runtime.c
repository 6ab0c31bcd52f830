/* runtime.c - the runtime handle: creation, sinks, injections, progress,
 * running it on an executor, and its report.  The step is in step.c, the
 * executors in sequential.c and threads.c, the meeting of tori in the
 * transport (transport.h). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/mem.h"
#include "kernel/models.h"
#include "runtime/footprint.h"
#include "runtime/executor.h"
#include "runtime/report.h"
#include "runtime/runtime.h"
#include "runtime/trace_sink.h"

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
  pthread_mutex_init(&rt->err_lock, NULL);
  pthread_mutex_init(&rt->asm_lock, NULL);
  pthread_mutex_init(&rt->lock, NULL);
  pthread_mutex_init(&rt->ev_lock, NULL);
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
  rt->cfg.v[BRAID_K_ranks] = 0; /* a run's own placement: braid_runtime_mpi() sets it */
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
  /* A torus runs on one thread at a time: threads beyond the tori would
   * only ever wait. */
  else if (v[BRAID_K_threads]) rt->nthreads = v[BRAID_K_threads] < rt->ntori ? (uint32_t)v[BRAID_K_threads] : rt->ntori;
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
    braid__torus_opts o = { r, rt->dim, (uint64_t)v[BRAID_K_seed], cap, (uint32_t)v[BRAID_K_procs], rt->model, rt->params, braid__builtin_loop(rt->model) };
    if ((rc = braid__torus_init(&c->t, &o))) {
      if (rc == BRAID_ENOMEM)
        braid__fmt(errbuf, errlen, "dim=%u: torus %u of %u (%u cells each) does not fit in memory: lower dim or tori", rt->dim, r, rt->ntori,
                   rt->dim * rt->dim * rt->dim);
      else braid__fmt(errbuf, errlen, "model %s: torus %u failed to initialise: %s", rt->model->name, r, braid_strerror(rc));
      goto fail;
    }
    c->adapt = braid__adapt_start(&rt->cfg);
    braid__converge_init(&c->conv);
    if ((rc = braid__projection_alloc(&c->own, rt->facelen))) goto fail;
    if ((rc = braid__facelog_init(&c->facelog, rt->facelen))) goto fail;
    c->mirror = braid__calloc_lines(rt->facelen, sizeof *c->mirror);
    c->violating = braid__calloc_lines(rt->facelen / 64, sizeof *c->violating);
    c->cand = braid__calloc_lines(rt->facelen / 64, sizeof *c->cand);
    if (!c->mirror || !c->violating || !c->cand) {
      rc = BRAID_ENOMEM;
      goto fail;
    }
    atomic_store(&c->mirror_from, UINT64_MAX);
    for (int s = 0; s < BRAID_PROJ_SLOTS; s++)
      if ((rc = braid__projection_alloc(&c->slot[s], rt->facelen))) goto fail;
    c->rep.interval = c->adapt.interval;
    c->sample_left = (uint64_t)v[BRAID_K_sample_every] - 1;
  }
  for (uint32_t r = 0; r < rt->ntori; r++) rt->tc[r].t.peer = &rt->tc[(r + rt->ntori - 1) % rt->ntori].t;
  if ((rc = braid__decisions_create(&rt->decisions, 0, rt->ntori))) goto fail;
  rt->own_decisions = 1;
  rt->transport = &braid__transport_local;
  rt->transport->init(rt);
  atomic_store(&rt->last_epoch, rt->exchanges - 1);
  *out = rt;
  return 0;
fail:
  if (errbuf && errlen && !errbuf[0]) braid__fmt(errbuf, errlen, "%s", braid_strerror(rc));
  braid_runtime_destroy(rt);
  return rc;
}

void braid_runtime_destroy(braid_runtime *rt)
{
  if (!rt) return;
  braid__trace_detach(rt);
  if (rt->executor_free) rt->executor_free(rt);
  free(rt->rank_reports);
  free(rt->torus_exchange_latency);
  if (rt->tc)
    for (uint32_t r = 0; r < rt->ntori; r++) {
      braid__tctx *c = &rt->tc[r];
      braid__torus_free(&c->t);
      braid__projection_free(&c->own);
      braid__facelog_free(&c->facelog);
      free(c->mirror);
      free(c->violating);
      free(c->cand);
      for (int s = 0; s < BRAID_PROJ_SLOTS; s++) braid__projection_free(&c->slot[s]);
      for (int b = 0; b < BRAID_REC_SLOTS; b++) braid__buf_free(&c->block[b]);
      for (int b = 0; b < 2; b++) braid__buf_free(&c->ckpt[b]);
    }
  free(rt->tc);
  if (rt->own_decisions) braid__decisions_destroy(rt->decisions);
  free(rt->torus_reports);
  free(rt->convergence);
  braid__buf_free(&rt->assembly);
  braid__config_clear(&rt->cfg);
  pthread_mutex_destroy(&rt->err_lock);
  pthread_mutex_destroy(&rt->asm_lock);
  pthread_mutex_destroy(&rt->lock);
  pthread_mutex_destroy(&rt->ev_lock);
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
  return braid__decisions_inject(rt->decisions, torus, cell, payload, not_before);
}

int braid__runtime_follow(braid_runtime *rt, braid__decisions *d)
{
  BRAID_RETURN_IF(!rt || !d, BRAID_EINVAL);
  BRAID_RETURN_IF(rt->ran, BRAID_ESTATE);
  if (rt->own_decisions) braid__decisions_destroy(rt->decisions);
  rt->decisions = d;
  rt->own_decisions = 0;
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
  for (uint32_t r = 0; r < rt->ntori; r++) {
    rt->tc[r].wait_start = rt->start_ns;
    atomic_store(&rt->tc[r].events_done, rt->tc[r].t.events);
  }
  int rc = rt->executor ? rt->executor(rt) : rt->nthreads ? braid__run_threaded(rt) : braid__run_sequential(rt);
  rt->end_ns = braid__now_ns();
  braid__report_build(rt);
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
