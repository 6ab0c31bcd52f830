/* bench.c - `make bench`: throughput ratios measured in one run.
 *
 * Timings on a shared 2-core machine are noisy, so every figure is a median
 * over alternating repetitions (A B A B ...) and goals are stated as ratios
 * or as medians, never gated as tests.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_shrink.h"
#include "convergence.h"
#include "kernel/models.h"
#include "runtime/runtime.h"
#include "runtime/settings.h"

#define REPS 5

#ifndef BENCH_HANDOVER
#define BENCH_HANDOVER(r) (r).handover
#endif

static int64_t params[BRAID_MAX_PARAMS];

static int make(braid_torus *t, const char *model, uint32_t dim)
{
  braid_config *cfg;
  if (braid_config_create(&cfg) || braid_config_set(cfg, "model", model) || braid__config_params(cfg, params)) return -1;
  braid__torus_opts o = { .id = 0, .dim = dim, .seed = 1, .queue_cap = 1u << 24, .procs = 0, .model = cfg->model, .params = params, .loop = braid__builtin_loop(cfg->model) };
  int rc = braid__torus_init(t, &o);
  braid_config_destroy(cfg);
  return rc;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* ---- the same kernel on a binary heap, for comparison ----
 * The model's handler still emits into the torus's bucket queue; the heap
 * driver moves each emitted event into the heap at once, so the bucket queue
 * is only a one-slot mailbox.  That costs the heap side a few ns per event,
 * stated in the output. */
typedef struct hev {
  uint64_t key; /* time << 24 | low bits of the sequence, for FIFO ties */
  uint64_t seq;
  braid__qev ev;
} hev;

typedef struct heap {
  hev *a;
  size_t n, cap;
  uint64_t seq;
} heap;

static int hless(const hev *x, const hev *y) { return x->key < y->key || (x->key == y->key && x->seq < y->seq); }

static void hpush(heap *h, uint64_t time, const braid__qev *ev)
{
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 1024;
    h->a = realloc(h->a, h->cap * sizeof *h->a);
  }
  size_t i = h->n++;
  hev e = { time, h->seq++, *ev };
  while (i && hless(&e, &h->a[(i - 1) / 2])) {
    h->a[i] = h->a[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->a[i] = e;
}

static hev hpop(heap *h)
{
  hev top = h->a[0], last = h->a[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && hless(&h->a[c + 1], &h->a[c])) c++;
    if (!hless(&h->a[c], &last)) break;
    h->a[i] = h->a[c];
    i = c;
  }
  h->a[i] = last;
  return top;
}

static void drain_into(heap *h, braid_torus *t)
{
  uint64_t time;
  braid__qev ev;
  while (braid__queue_pop(&t->q, &time, &ev)) hpush(h, time, &ev);
  /* Leave the mailbox's current bucket reset so `now` can be moved. */
  braid__queue_release_current(&t->q);
}

static double run_heap(const char *model, uint64_t n)
{
  braid_torus t;
  heap h = { 0 };
  if (make(&t, model, 32)) return 0;
  drain_into(&h, &t);
  uint64_t t0 = braid__now_ns();
  braid_event pub;
  for (uint64_t i = 0; i < n && h.n; i++) {
    hev e = hpop(&h);
    t.q.now = e.key; /* the mailbox queue follows the heap's time */
    t.state[e.ev.dst] += e.ev.payload;
    t.activity[e.ev.dst]++;
    t.digest = braid__digest_step(t.digest, e.key, e.ev.dst, e.ev.src, e.ev.payload);
    t.events++;
    pub = (braid_event){ e.key, e.ev.dst, e.ev.src, e.ev.payload };
    t.model->handle(&t, t.mstate, &pub);
    drain_into(&h, &t);
  }
  double s = (double)(braid__now_ns() - t0) / 1e9;
  free(h.a);
  braid__torus_free(&t);
  return (double)n / s;
}

static double run_bucket(const char *model, uint64_t n)
{
  braid_torus t;
  if (make(&t, model, 32)) return 0;
  uint64_t t0 = braid__now_ns();
  uint64_t done = braid__torus_run(&t, n);
  double s = (double)(braid__now_ns() - t0) / 1e9;
  braid__torus_free(&t);
  return (double)done / s;
}

static void bench_kernel(void)
{
  static const char *models[] = { "uniform", "skewed", "bursty", "phold" };
  printf("== kernel: one torus, D=32, one thread (median of %d, alternating) ==\n", REPS);
  printf("%-8s %14s %14s %8s\n", "model", "bucket ev/s", "heap ev/s", "ratio");
  for (unsigned m = 0; m < 4; m++) {
    double b[REPS], h[REPS];
    for (int r = 0; r < REPS; r++) {
      b[r] = run_bucket(models[m], 20000000);
      h[r] = run_heap(models[m], 5000000);
    }
    double mb = median(b, REPS), mh = median(h, REPS);
    printf("%-8s %14.1fM %13.1fM %7.2fx%s\n", models[m], mb / 1e6, mh / 1e6, mb / mh,
           m == 0 ? (mb >= 50e6 ? "  (goal >= 50M: met)" : "  (goal >= 50M: MISSED)") : "");
  }
  printf("(heap side: the model's emission passes through a one-slot mailbox, a few ns per event)\n\n");
}

static int run_config(const char *kv, const char *trace, braid_report *rep)
{
  braid_config *cfg;
  braid_runtime *rt;
  char buf[512], err[256];
  if (braid_config_create(&cfg)) return -1;
  snprintf(buf, sizeof buf, "%s", kv);
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    *eq = 0;
    if ((!strncmp(tok, "p.", 2) ? braid_config_set_param(cfg, tok + 2, eq + 1) : braid_config_set(cfg, tok, eq + 1))) {
      fprintf(stderr, "bench: %s\n", braid_config_error(cfg));
      return -1;
    }
  }
  if (braid_runtime_create(&rt, cfg, err, sizeof err)) {
    fprintf(stderr, "bench: %s\n", err);
    return -1;
  }
  braid_config_destroy(cfg);
  if (trace && braid_runtime_record(rt, trace)) {
    fprintf(stderr, "bench: %s\n", braid_runtime_error(rt));
    return -1;
  }
  int rc = braid_runtime_run(rt);
  if (rc) fprintf(stderr, "bench: %s\n", braid_runtime_error(rt));
  braid_runtime_report(rt, rep);
  braid_runtime_destroy(rt);
  return rc;
}

#define RUNTIME_KV "model=uniform tori=3 dim=32 exchanges=3000 seed=1"

static void bench_runtime(void)
{
  double seq[REPS], thr[REPS], ratio[REPS], ex99[REPS], ev95[REPS], evp50[REPS], evn[REPS];
  braid_report rep;
  printf("== runtime: uniform, 3 tori, D=32, 3000 exchanges (median of %d, alternating) ==\n", REPS);
  for (int r = 0; r < REPS; r++) {
    if (run_config(RUNTIME_KV " sequential=1", NULL, &rep)) return;
    seq[r] = rep.events_per_second;
    if (run_config(RUNTIME_KV " threads=2", NULL, &rep)) return;
    thr[r] = rep.events_per_second;
    ratio[r] = thr[r] / seq[r];
    ex99[r] = rep.exchange_latency.p99;
    ev95[r] = rep.event_latency.p95;
    evp50[r] = rep.event_latency.p50;
    evn[r] = (double)rep.event_latency.samples;
  }
  double mr = median(ratio, REPS), mx = median(ex99, REPS), me = median(ev95, REPS);
  printf("sequential            %8.1fM ev/s\n", median(seq, REPS) / 1e6);
  printf("threaded (2 threads)  %8.1fM ev/s\n", median(thr, REPS) / 1e6);
  printf("threaded / sequential %8.2fx   (goal >= 1.8x: %s)\n", mr, mr >= 1.8 ? "met" : "MISSED");
  printf("exchange latency p99  %8.2f us  (goal <= 10 us: %s)\n", mx / 1e3, mx <= 10000 ? "met" : "MISSED");
  /* The report's own sampling (every sample_every-th event): no samples
   * would make the goal vacuous. */
  double mn = median(evn, REPS);
  printf("event latency p50/p95 %5.0f / %.0f ns (goal p95 < 100 ns: %s; %.0f events sampled)\n", median(evp50, REPS), me,
         mn > 0 && me < 100 ? "met" : "MISSED", mn);
  printf("barrier wait p50/p99  %8.2f / %.2f us (last run)\n", rep.barrier_wait.p50 / 1e3, rep.barrier_wait.p99 / 1e3);
  printf("intervals seen        %u..%u, %llu changes; violation rate %.4f%%\n\n", rep.interval_min_seen, rep.interval_max_seen,
         (unsigned long long)rep.interval_changes, rep.violation_rate * 100);
}

typedef struct sampler {
  braid_runtime *rt;
  uint64_t at, at2;       /* exchanges of the two samples */
  uint64_t rss_at, rss_at2; /* KiB */
  volatile int done;
} sampler;

static void *sample_main(void *arg)
{
  sampler *s = arg;
  braid_progress p;
  while (!s->done) {
    braid_runtime_progress(s->rt, &p);
    if (!s->rss_at && p.exchanges >= s->at) s->rss_at = braid__rss_kib();
    if (!s->rss_at2 && p.exchanges >= s->at2) s->rss_at2 = braid__rss_kib();
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* One recorded run of `model`: RSS after warm-up (exchange 2000) against
 * RSS near the end of the 10x longer run (exchange 19900), both sampled
 * while it runs.  Returns the growth, or a negative number on trouble.
 * The warm-up covers the trace writer's data index, which grows to its
 * bound of 4096 entries (64 KiB, writer.c) over the first few thousand
 * frames: 0.8% of a uniform run's 8 MiB. */
static double memory_once(const char *model, uint64_t *warm, uint64_t *late)
{
  braid_config *cfg;
  braid_runtime *rt;
  char err[256];
  const char *trace = "/tmp/braid-bench-mem.btr";
  braid_config_create(&cfg);
  braid_config_set(cfg, "model", model);
  braid_config_set(cfg, "exchanges", "20000");
  braid_config_set(cfg, "adapt", "off");
  braid_config_set(cfg, "threads", "2");
  if (braid_runtime_create(&rt, cfg, err, sizeof err) || braid_runtime_record(rt, trace)) return -1;
  sampler s = { rt, 2000, 19900, 0, 0, 0 };
  pthread_t th;
  pthread_create(&th, NULL, sample_main, &s);
  braid_runtime_run(rt);
  s.done = 1;
  pthread_join(th, NULL);
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);
  unlink(trace);
  *warm = s.rss_at;
  *late = s.rss_at2;
  return s.rss_at && s.rss_at2 ? (double)s.rss_at2 / (double)s.rss_at - 1 : -1;
}

static void bench_memory(void)
{
  static const char *models[] = { "uniform", "skewed", "bursty", "phold", "racy" };
  printf("== memory flatness: 3 tori, D=32, interval 1000, 2 threads, recording, 20000 exchanges (median of 3) ==\n");
  printf("%-8s %9s %12s %12s  %s\n", "model", "growth", "RSS@2000", "RSS@19900", "goal < 1%");
  for (unsigned m = 0; m < sizeof models / sizeof *models; m++) {
    double g[3];
    uint64_t warm = 0, late = 0;
    for (int i = 0; i < 3; i++) g[i] = memory_once(models[m], &warm, &late);
    double med = median(g, 3);
    printf("%-8s %8.2f%% %9llu KiB %9llu KiB  %s\n", models[m], med * 100, (unsigned long long)warm, (unsigned long long)late,
           med >= 0 && med < 0.01 ? "met" : "MISSED");
  }
  printf("\n");
}

static double file_size(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  double n = (double)ftell(f);
  fclose(f);
  return n;
}

static double replay_seconds(const char *path, uint64_t from, uint64_t *checked)
{
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.from = from;
  braid_replay_result res;
  char err[512];
  uint64_t t0 = braid__now_ns();
  if (braid_replay(path, &o, &res, err, sizeof err) || res.diverged) {
    fprintf(stderr, "bench: replay: %s%s\n", err, res.diverged ? " (diverged)" : "");
    return 0;
  }
  if (checked) *checked = res.exchanges_checked;
  return (double)(braid__now_ns() - t0) / 1e9;
}

/* Recording on / off (threaded), replay / sequential recording, trace size
 * per exchange per torus, checkpoint size. */
static void bench_recording(void)
{
  const char *trace = "/tmp/braid-bench.btr";
  double on[REPS], off[REPS], ratio[REPS], rep[REPS], seqrec[REPS], rratio[REPS];
  braid_report r;
  printf("== recording: uniform, 3 tori, D=32, 3000 exchanges (median of %d, alternating) ==\n", REPS);
  for (int i = 0; i < REPS; i++) {
    if (run_config(RUNTIME_KV " threads=2", NULL, &r)) return;
    off[i] = r.events_per_second;
    if (run_config(RUNTIME_KV " threads=2", trace, &r)) return;
    on[i] = r.events_per_second;
    ratio[i] = on[i] / off[i];
    if (run_config(RUNTIME_KV " sequential=1", trace, &r)) return;
    seqrec[i] = r.wall_seconds;
    rep[i] = replay_seconds(trace, UINT64_MAX, NULL);
    rratio[i] = rep[i] > 0 ? seqrec[i] / rep[i] : 0;
  }
  double mr = median(ratio, REPS), rr = median(rratio, REPS);
  double bytes = file_size(trace) / (double)r.exchanges / r.tori;
  printf("recording on / off (threaded)   %6.3f   (goal >= 0.97: %s)  [%.1fM vs %.1fM ev/s]\n", mr, mr >= 0.97 ? "met" : "MISSED",
         median(on, REPS) / 1e6, median(off, REPS) / 1e6);
  printf("replay / sequential recording   %6.3f   (goal >= 0.95: %s)  [replay %.3f s, record %.3f s]\n", rr, rr >= 0.95 ? "met" : "MISSED",
         median(rep, REPS), median(seqrec, REPS));
  printf("trace bytes / exchange / torus  %6.1f   (goal <= 64: %s)\n", bytes, bytes <= 64 ? "met" : "MISSED");
  if (!run_config("model=uniform tori=3 dim=32 exchanges=100 checkpoint_every=50 sequential=1 seed=1", trace, &r)) {
    double with = file_size(trace);
    run_config("model=uniform tori=3 dim=32 exchanges=100 sequential=1 seed=1", trace, &r);
    printf("checkpoint size (3 tori, D=32)  %6.0f KiB compressed, %.0f KiB of state\n\n", (with - file_size(trace)) / 2 / 1024,
           3.0 * (32 * 32 * 32 * (8 + 8 + 5) + 32768 * 12) / 1024);
  }
  unlink(trace);
}

/* braid-replay --from K near the end of a 10,000-exchange trace against a
 * full replay. */
static void bench_from(void)
{
  const char *trace = "/tmp/braid-bench-from.btr";
  braid_report r;
  printf("== replay --from: uniform, 3 tori, D=16, 10000 exchanges, checkpoint every 100 ==\n");
  if (run_config("model=uniform tori=3 dim=16 exchanges=10000 interval=1000 adapt=off threads=2 checkpoint_every=100 seed=1", trace, &r)) return;
  double full[3], part[3];
  uint64_t nfull = 0, npart = 0;
  for (int i = 0; i < 3; i++) {
    full[i] = replay_seconds(trace, UINT64_MAX, &nfull);
    part[i] = replay_seconds(trace, 9990, &npart);
  }
  double f = median(full, 3), p = median(part, 3);
  printf("full replay %.3f s (%llu exchanges); --from 9990 %.3f s (%llu exchanges): %.1f%% (goal < 10%%: %s)\n\n", f,
         (unsigned long long)nfull, p, (unsigned long long)npart, 100 * p / f, p < 0.1 * f ? "met" : "MISSED");
  unlink(trace);
}

/* Convergence after a whole face is perturbed (tests/convergence.h), per
 * model and perturbation, sequential and threaded: deterministic figures,
 * the same on every machine; the acceptance test holds the goal too. */
static void bench_convergence(void)
{
  printf("convergence: torus B's whole x=D-1 face perturbed at exchange %d, default settings (D=32, interval 1000, adapt=violations)\n",
         CONV_PERTURBED);
  printf("  %-8s %-14s %10s %10s %10s  %s\n", "model", "perturbation", "sequential", "threaded", "overshoot", "goal < 10 exchanges");
  for (unsigned m = 0; m < CONV_MODELS; m++)
    for (int shape = 0; shape < CONV__SHAPES; shape++) {
      conv_outcome seq, thr;
      if (conv_run(conv_models[m], (conv_shape)shape, 0, &seq) || conv_run(conv_models[m], (conv_shape)shape, 1, &thr)) {
        printf("  %-8s %-14s error: %s%s\n", conv_models[m], conv_shape_name[shape], seq.err, thr.err);
        continue;
      }
      int met = seq.conv.exchanges >= 0 && seq.conv.exchanges < CONV_GOAL && thr.conv.exchanges >= 0 && thr.conv.exchanges < CONV_GOAL &&
                seq.overshoot_cells * 100 < seq.facelen && same_stream(&seq.stream, &thr.stream);
      printf("  %-8s %-14s %10lld %10lld %5u/%-4u  %s\n", conv_models[m], conv_shape_name[shape], (long long)seq.conv.exchanges,
             (long long)thr.conv.exchanges, seq.overshoot_cells, seq.facelen, met ? "met" : "MISSED");
      mem_free(&seq.stream);
      mem_free(&thr.stream);
    }
  printf("  (exchanges from the injection to the exchange from which on the rate stays below 1%%, -1: never; overshoot: the most\n"
         "   cells at one check beyond the tolerance on the far side of their perturbation, steady noise included)\n\n");
}

/* Threaded / sequential at fixed intervals (adapt=off) and with the
 * adaptive default: each row alternates sequential and threaded runs of the
 * same configuration and takes the median of the per-pair ratios.  Every run
 * does about the same number of events, whatever the interval. */
#define SCALE_EVENTS 12000000ull

static double cpu_of(const braid_report *r) { return r->cpu_user_seconds + r->cpu_sys_seconds; }

static int scale_pair(uint32_t tori, uint32_t interval, double *seq, double *thr, double *ratio, double *eff, braid_report *last)
{
  char kv[256];
  braid_report rep;
  for (int r = 0; r < REPS; r++) {
    uint64_t x = interval ? SCALE_EVENTS / ((uint64_t)tori * interval) : 2000;
    if (interval)
      snprintf(kv, sizeof kv, "model=uniform dim=32 seed=1 tori=%u interval=%u adapt=off exchanges=%llu", tori, interval, (unsigned long long)x);
    else
      snprintf(kv, sizeof kv, "model=uniform dim=32 seed=1 tori=%u exchanges=%llu", tori, (unsigned long long)x);
    char k2[300];
    snprintf(k2, sizeof k2, "%s sequential=1", kv);
    if (run_config(k2, NULL, &rep)) return -1;
    seq[r] = rep.events_per_second;
    double seq_per_cpu = (double)rep.events / cpu_of(&rep);
    snprintf(k2, sizeof k2, "%s threads=2", kv);
    if (run_config(k2, NULL, &rep)) return -1;
    thr[r] = rep.events_per_second;
    ratio[r] = thr[r] / seq[r];
    eff[r] = (double)rep.events / cpu_of(&rep) / seq_per_cpu;
  }
  *last = rep;
  return 0;
}

static void bench_scaling(void)
{
  /* BENCH_TORI=N: only the rows of N tori. */
  const char *only_tori = getenv("BENCH_TORI");
  static const uint32_t intervals[] = { 100, 1000, 3000, 10000 };
  printf("== scaling: uniform, D=32, 2 threads vs sequential (median of %d alternating pairs, ~%lluM events per run) ==\n", REPS,
         SCALE_EVENTS / 1000000);
  /* On a loaded machine the ratio says more about the other processes than
   * about the executor; the CPU efficiency (events per CPU second,
   * threaded over sequential, spinning included) shows what the threaded
   * executor costs whatever the load: 2 x efficiency is its ratio on two
   * idle cores. */
  printf("%5s %9s %12s %12s %8s %8s  %-7s %6s  %s\n", "tori", "interval", "seq M ev/s", "thr M ev/s", "ratio", "goal", "verdict", "cpu-eff",
         "wait p50/p95 us (last threaded run)");
  for (uint32_t tori = 2; tori <= 4; tori++)
    for (unsigned i = only_tori && (uint32_t)atoi(only_tori) != tori ? 5 : 0; i <= sizeof intervals / sizeof *intervals; i++) {
      uint32_t iv = i < 4 ? intervals[i] : 0;
      double seq[REPS], thr[REPS], ratio[REPS], eff[REPS];
      braid_report last;
      if (scale_pair(tori, iv, seq, thr, ratio, eff, &last)) return;
      double goal = iv == 0 ? 1.9 : iv == 100 ? 1.5 : 1.8, mr = median(ratio, REPS);
      char ivs[16];
      if (iv) snprintf(ivs, sizeof ivs, "%u", iv);
      else snprintf(ivs, sizeof ivs, "adaptive");
      printf("%5u %9s %12.1f %12.1f %7.2fx %7.2fx  %-7s %6.2f  %.2f / %.2f\n", tori, ivs, median(seq, REPS) / 1e6, median(thr, REPS) / 1e6, mr,
             goal, mr >= goal ? "met" : "MISSED", median(eff, REPS), last.barrier_wait.p50 / 1e3, last.barrier_wait.p95 / 1e3);
    }
  printf("(load average now: see uptime; the machine is shared)\n\n");
}

/* One torus's exchange step (exchange-in + publish + records, recording
 * on), sequentially, and the hand-over: from a predecessor's publication to
 * the start of its waiting successor's step on a waiting worker, threaded,
 * recording on, with 3 tori (the hand-overs are the moments a worker ran
 * out of work) and with 2 (each torus has a worker: every step is one). */
static void bench_step(void)
{
  const char *trace = "/tmp/braid-bench-step.btr";
  double st[REPS], st100[REPS], ho[2][REPS], hon[2][REPS];
  braid_report r;
  printf("== exchange step and hand-over: uniform, D=32, interval 1000, adapt=off, recording (median of %d) ==\n", REPS);
  for (int i = 0; i < REPS; i++) {
    if (run_config("model=uniform tori=3 dim=32 interval=1000 adapt=off exchanges=3000 seed=1 sequential=1", trace, &r)) return;
    st[i] = r.exchange_latency.p50;
    if (run_config("model=uniform tori=3 dim=32 interval=100 adapt=off exchanges=20000 seed=1 sequential=1", trace, &r)) return;
    st100[i] = r.exchange_latency.p50;
    for (int t = 0; t < 2; t++) {
      if (run_config(t ? "model=uniform tori=2 dim=32 interval=1000 adapt=off exchanges=4500 seed=1 threads=2"
                       : "model=uniform tori=3 dim=32 interval=1000 adapt=off exchanges=3000 seed=1 threads=2",
                     trace, &r))
        return;
      ho[t][i] = BENCH_HANDOVER(r).p50;
      hon[t][i] = (double)BENCH_HANDOVER(r).samples;
    }
  }
  unlink(trace);
  double ms = median(st, REPS);
  printf("exchange step p50 (3 tori, sequential)  %6.2f us  (goal <= 0.5 us: %s)\n", ms / 1e3, ms <= 500 ? "met" : "MISSED");
  /* Shorter epochs change fewer face cells, so the delta is smaller. */
  double ms100 = median(st100, REPS);
  printf("  the same at interval 100                %6.2f us  (goal <= 0.5 us: %s)\n", ms100 / 1e3, ms100 <= 500 ? "met" : "MISSED");
  for (int t = 0; t < 2; t++) {
    double mh = median(ho[t], REPS), mn = median(hon[t], REPS);
    printf("hand-over p50 (%d tori, 2 threads)       %6.2f us  (goal <= 1 us: %s; %.0f hand-overs)\n", 3 - t, mh / 1e3,
           mn > 0 && mh <= 1000 ? "met" : "MISSED", mn);
  }
  printf("\n");
}

/* A big lattice: D=128, 3 tori.  Throughput per core, sequential and
 * threaded, and resident memory per cell (the RSS the runtime adds). */
static void bench_large(void)
{
  double seq[3], thr[3], bpc[3], step[3];
  braid_report r;
  printf("== large lattice: uniform, 3 tori, D=128, interval 10000, adapt=off (median of 3) ==\n");
  for (int i = 0; i < 3; i++) {
    /* Give the heap that earlier runs freed back to the system first: the
     * cell arrays (aligned, common/mem.h) come from the heap once glibc
     * has raised its mmap threshold, and memory still resident from a
     * previous run would not count. */
    malloc_trim(0);
    uint64_t before = braid__rss_kib();
    if (run_config("model=uniform tori=3 dim=128 interval=10000 adapt=off exchanges=400 seed=1 sequential=1", NULL, &r)) return;
    seq[i] = r.events_per_second;
    step[i] = r.exchange_latency.p50;
    bpc[i] = ((double)r.rss_peak_kib - (double)before) * 1024.0 / (3.0 * 128 * 128 * 128);
    if (run_config("model=uniform tori=3 dim=128 interval=10000 adapt=off exchanges=400 seed=1 threads=2", NULL, &r)) return;
    thr[i] = r.events_per_second / 2;
  }
  double ms = median(seq, 3), mt = median(thr, 3), mb = median(bpc, 3);
  printf("sequential          %6.1fM ev/s per core  (goal >= 30M: %s)\n", ms / 1e6, ms >= 30e6 ? "met" : "MISSED");
  printf("threaded, 2 threads %6.1fM ev/s per core  (goal >= 30M: %s)\n", mt / 1e6, mt >= 30e6 ? "met" : "MISSED");
  printf("resident memory     %6.1f bytes per cell (goal <= 48: %s)\n", mb, mb <= 48 ? "met" : "MISSED");
  printf("exchange step p50   %6.2f us, sequential (a face of 16384 cells)\n\n", median(step, 3) / 1e3);
}

int main(int argc, char **argv)
{
  const char *only = argc > 1 ? argv[1] : NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!only || !strcmp(only, "kernel")) bench_kernel();
  if (!only || !strcmp(only, "scaling")) bench_scaling();
  if (!only || !strcmp(only, "step")) bench_step();
  if (!only || !strcmp(only, "large")) bench_large();
  if (!only || !strcmp(only, "runtime")) bench_runtime();
  if (!only || !strcmp(only, "memory")) bench_memory();
  if (!only || !strcmp(only, "recording")) bench_recording();
  if (!only || !strcmp(only, "from")) bench_from();
  if (!only || !strcmp(only, "convergence")) bench_convergence();
  if (!only || !strcmp(only, "shrink")) bench_shrink();
  return 0;
}
