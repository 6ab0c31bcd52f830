/* metrics.c - histogram quantiles, memory and CPU usage. */
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>
#include "common/metrics.h"

void braid__hist_merge(braid__hist *dst, const braid__hist *src)
{
  for (unsigned i = 0; i < 512; i++) dst->b[i] += src->b[i];
  dst->n += src->n;
  if (src->max > dst->max) dst->max = src->max;
}

/* Lower bound of bucket i (inverse of braid__hist_index). */
static double bucket_value(unsigned i)
{
  if (i < 8) return i;
  unsigned e = i / 8 + 2, sub = i % 8;
  double lo = (double)(1ull << e) + (double)sub * (double)(1ull << (e - 3));
  return lo + (double)(1ull << (e - 3)) / 2; /* midpoint */
}

static double quantile(const braid__hist *h, double q)
{
  if (!h->n) return 0;
  uint64_t want = (uint64_t)(q * (double)(h->n - 1)) + 1, seen = 0;
  for (unsigned i = 0; i < 512; i++) {
    seen += h->b[i];
    if (seen >= want) {
      double v = bucket_value(i);
      return v > (double)h->max ? (double)h->max : v;
    }
  }
  return (double)h->max;
}

braid_quantiles braid__hist_quantiles(const braid__hist *h)
{
  braid_quantiles q = { quantile(h, 0.50), quantile(h, 0.95), quantile(h, 0.99), (double)h->max, h->n };
  return q;
}

void braid__rss_read(uint64_t *now_kib, uint64_t *peak_kib)
{
  struct rusage ru;
  char line[128];
  int got = 0;
  *now_kib = *peak_kib = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    while (got != 3 && fgets(line, sizeof line, f)) {
      unsigned long long v;
      if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
        *now_kib = v;
        got |= 1;
      } else if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
        *peak_kib = v;
        got |= 2;
      }
    }
    fclose(f);
  }
  if (!(got & 2) && !getrusage(RUSAGE_SELF, &ru)) *peak_kib = (uint64_t)ru.ru_maxrss;
  if (*peak_kib < *now_kib) *peak_kib = *now_kib;
}

uint64_t braid__rss_kib(void)
{
  uint64_t now, peak;
  braid__rss_read(&now, &peak);
  return now;
}

static void split(const struct rusage *ru, braid__cpu *out)
{
  out->user = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
  out->sys = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

void braid__process_cpu(braid__cpu *out)
{
  struct rusage ru;
  out->user = out->sys = 0;
  if (!getrusage(RUSAGE_SELF, &ru)) split(&ru, out);
}

void braid__thread_cpu(braid__cpu *out)
{
  out->user = out->sys = 0;
#ifdef RUSAGE_THREAD
  struct rusage ru;
  if (!getrusage(RUSAGE_THREAD, &ru)) {
    split(&ru, out);
    return;
  }
#endif
  out->user = braid__thread_cpu_seconds(); /* no split: all of it as user time */
}

double braid__thread_cpu_seconds(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t braid__clock_overhead_ns(void)
{
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 64; i++) {
    uint64_t a = braid__now_ns(), b = braid__now_ns();
    if (b - a < best) best = b - a;
  }
  return best;
}
