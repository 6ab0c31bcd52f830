/* test_report.c - the run report: what it measures and that its numbers are
 * consistent with each other. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "helpers.h"

/* Runs kv to completion and returns its report; the runtime is left in *out
 * (its torus array lives there) for the caller to destroy. */
static braid_report report_of(const char *kv, braid_runtime **out)
{
  braid_runtime *rt = make_runtime(kv, NULL);
  cr_assert_eq(braid_runtime_run(rt), 0, "%s: %s", kv, braid_runtime_error(rt));
  braid_report rep;
  cr_assert_eq(braid_runtime_report(rt, &rep), 0);
  *out = rt;
  return rep;
}

TestSuite(report, .timeout = 60);

/* The default interval (1000) is shorter than the default sampling period
 * (4096 events): the countdown to the next timed event must carry over from
 * one epoch to the next, so that exactly every 4096th event of each torus is
 * timed. */
Test(report, default_settings_time_every_4096th_event_of_each_torus)
{
  braid_runtime *rt;
  braid_report rep = report_of("exchanges=300 dim=16", &rt);
  uint64_t want = 0;
  for (uint32_t r = 0; r < rep.tori; r++) want += rep.torus[r].events / 4096;
  cr_assert_gt(want, 100, "the run is too short to say anything (%llu events)", (unsigned long long)rep.events);
  cr_assert_eq(rep.event_latency.samples, want, "%llu events sampled, want %llu", (unsigned long long)rep.event_latency.samples,
               (unsigned long long)want);
  const braid_quantiles *q = &rep.event_latency;
  cr_assert(q->p50 <= q->p95 && q->p95 <= q->p99 && q->p99 <= q->max, "p50 %.0f p95 %.0f p99 %.0f max %.0f", q->p50, q->p95, q->p99, q->max);
  cr_assert_gt(q->max, 0);
  braid_runtime_destroy(rt);
}

/* sample_every=1 times every event: the sequential executor as well. */
Test(report, sample_every_one_times_every_event)
{
  braid_runtime *rt;
  braid_report rep = report_of("exchanges=20 dim=8 interval=100 sample_every=1 sequential=1", &rt);
  cr_assert_eq(rep.event_latency.samples, rep.events);
  braid_runtime_destroy(rt);
}

/* Start, peak and end come from one source: the peak is never below what
 * was resident at the start or at the end. */
Test(report, peak_rss_is_at_least_start_and_end_rss)
{
  braid_runtime *rt;
  braid_report rep = report_of("exchanges=300 dim=16", &rt);
  cr_assert_gt(rep.rss_start_kib, 0);
  cr_assert_gt(rep.rss_end_kib, 0);
  cr_assert_geq(rep.rss_peak_kib, rep.rss_end_kib, "peak %llu KiB < end %llu KiB", (unsigned long long)rep.rss_peak_kib,
                (unsigned long long)rep.rss_end_kib);
  cr_assert_geq(rep.rss_peak_kib, rep.rss_start_kib, "peak %llu KiB < start %llu KiB", (unsigned long long)rep.rss_peak_kib,
                (unsigned long long)rep.rss_start_kib);
  braid_runtime_destroy(rt);
}

/* The interval range is the smallest and largest interval any torus ran
 * with, from the starting one through every recorded change, not the range
 * of the final intervals. */
Test(report, interval_range_covers_the_whole_run)
{
  mem_sink m;
  braid_runtime *rt = make_runtime("exchanges=300 dim=16 sequential=1", &m);
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  braid_report rep;
  cr_assert_eq(braid_runtime_report(rt, &rep), 0);
  uint64_t lo = 1000, hi = 1000, changes = 0, final_lo = UINT64_MAX;
  const uint8_t *p = m.logical.p, *end = p + m.logical.len;
  while (p < end) {
    braid_record r;
    cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
    if (r.type != BRAID_REC_INTERVAL) continue;
    changes++;
    if (r.field[2] < lo) lo = r.field[2];
    if (r.field[2] > hi) hi = r.field[2];
  }
  for (uint32_t r = 0; r < rep.tori; r++)
    if (rep.torus[r].interval < final_lo) final_lo = rep.torus[r].interval;
  cr_assert_gt(changes, 0, "the interval never changed: nothing to check");
  cr_assert_lt(lo, final_lo, "no torus ended at the smallest interval of the run: choose another run");
  cr_assert_eq(rep.interval_min_seen, lo);
  cr_assert_eq(rep.interval_max_seen, hi);
  cr_assert_eq(rep.interval_changes, changes);
  braid_runtime_destroy(rt);
  mem_free(&m);
}

/* A model whose events spend their time in the kernel: each one reads
 * 128 KiB of /dev/zero. */
typedef struct kernel_state {
  int fd;
  char buf[128 * 1024];
} kernel_state;

static int kernel_init(braid_torus *t, void **state)
{
  kernel_state *s = malloc(sizeof *s);
  if (!s) return BRAID_ENOMEM;
  s->fd = open("/dev/zero", O_RDONLY);
  *state = s;
  if (s->fd < 0) return BRAID_EIO;
  for (uint32_t c = 0; c < braid_torus_ncells(t); c++)
    if (braid_torus_emit(t, c, c, 1 + c % 3, 1)) return BRAID_EQUEUE;
  return 0;
}

static void kernel_handle(braid_torus *t, void *state, const braid_event *ev)
{
  kernel_state *s = state;
  if (read(s->fd, s->buf, sizeof s->buf) < 0) abort();
  braid_torus_emit(t, ev->dst, ev->dst, 3, 0);
}

static void kernel_fini(void *state)
{
  kernel_state *s = state;
  if (s && s->fd >= 0) close(s->fd);
  free(s);
}

static const braid_model kernel_model = { BRAID_MODEL_ABI, "kernel", 1, "events spend their time in read(2)", NULL, kernel_init, kernel_handle, kernel_fini, 4, NULL, NULL };

/* User and system CPU time are told apart, for the process and for every
 * thread, and each thread's parts add up to its total. */
/* Share of the CPU time the kernel model spends in the system.  TSan's
 * instrumentation multiplies the user side, so there it need only show. */
#ifdef BRAID_TSAN
#define SYS_SHARE 0.01
#else
#define SYS_SHARE 0.3
#endif

static void cpu_split(const char *kv)
{
  braid_config *cfg = settings(kv);
  cr_assert_eq(braid_config_set_model(cfg, &kernel_model), 0);
  braid_runtime *rt;
  char err[512];
  cr_assert_eq(braid_runtime_create(&rt, cfg, err, sizeof err), 0, "%s", err);
  braid_config_destroy(cfg);
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  braid_report rep;
  cr_assert_eq(braid_runtime_report(rt, &rep), 0);
  double cpu = rep.cpu_user_seconds + rep.cpu_sys_seconds, tuser = 0, tsys = 0;
  cr_assert_gt(cpu, 0.02, "%.3f s of CPU: too little to tell", cpu);
  cr_assert_gt(rep.cpu_sys_seconds, SYS_SHARE * cpu, "process: %.3f s user, %.3f s system", rep.cpu_user_seconds, rep.cpu_sys_seconds);
  for (uint32_t i = 0; i < (rep.threads ? rep.threads : 1); i++) {
    double u = rep.thread_cpu_user_seconds[i], s = rep.thread_cpu_sys_seconds[i], all = rep.thread_cpu_seconds[i];
    cr_assert(u >= 0 && s >= 0 && fabs(u + s - all) <= 0.002 + 0.05 * all, "thread %u: %.4f user + %.4f system != %.4f", i, u, s, all);
    tuser += u;
    tsys += s;
  }
  cr_assert_gt(tsys, SYS_SHARE * (tuser + tsys), "threads: %.3f s user, %.3f s system", tuser, tsys);
  /* The process counts every thread, and the run's CPU fits in its wall time. */
  cr_assert_geq(cpu + 0.002, tuser + tsys, "process %.4f s < threads %.4f s", cpu, tuser + tsys);
  cr_assert_leq(cpu, rep.wall_seconds * ((rep.threads ? rep.threads : 1) + 1) + 0.01, "%.3f s of CPU in %.3f s", cpu, rep.wall_seconds);
  braid_runtime_destroy(rt);
}

Test(report, cpu_time_is_split_into_user_and_system_sequential) { cpu_split("tori=2 dim=8 exchanges=100 interval=100 adapt=off sequential=1"); }
Test(report, cpu_time_is_split_into_user_and_system_threaded) { cpu_split("tori=2 dim=8 exchanges=100 interval=100 adapt=off threads=2"); }
