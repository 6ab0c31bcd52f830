/* metrics.h - latency histograms (log-linear, 8 sub-buckets per power of
 * two: about 12% resolution) and resource usage. */
#ifndef BRAID_METRICS_H
#define BRAID_METRICS_H

#include "common/common.h"

typedef struct braid__hist {
  uint64_t n, max;
  uint64_t b[512];
} braid__hist;

static inline unsigned braid__hist_index(uint64_t v)
{
  if (v < 8) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v);
  return (e - 2) * 8 + (unsigned)((v >> (e - 3)) & 7);
}

static inline void braid__hist_add(braid__hist *h, uint64_t v)
{
  h->b[braid__hist_index(v)]++;
  h->n++;
  if (v > h->max) h->max = v;
}

void braid__hist_merge(braid__hist *dst, const braid__hist *src);
braid_quantiles braid__hist_quantiles(const braid__hist *h);
/* Resident set size now and the process's high-water mark, in KiB, from one
 * read of /proc/self/status (VmRSS, VmHWM): statm and getrusage count pages
 * differently, so mixing them put the peak below the current value.  Without
 * procfs the current size is 0 (unknown) and the peak is ru_maxrss.  The
 * peak is never below the current size. */
void braid__rss_read(uint64_t *now_kib, uint64_t *peak_kib);
uint64_t braid__rss_kib(void);
/* CPU time used by the calling thread (CLOCK_THREAD_CPUTIME_ID), seconds. */
double braid__thread_cpu_seconds(void);
/* User and system CPU time of the whole process (every thread, finished
 * ones included), and of the calling thread (getrusage RUSAGE_THREAD, which
 * only the thread itself can ask; where it is missing, the thread's total
 * counts as user time). */
typedef struct braid__cpu {
  double user, sys;
} braid__cpu;
void braid__process_cpu(braid__cpu *out);
void braid__thread_cpu(braid__cpu *out);
/* Cost of one braid__now_ns() pair, subtracted from sampled latencies. */
uint64_t braid__clock_overhead_ns(void);

#endif
