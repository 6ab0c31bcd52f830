/* test_report.c - the run report: what it measures and that its numbers are
 * consistent with each other. */
#include <stdio.h>
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
