/* dump_html.c - braid-dump --html: one self-contained page (no script, no
 * external resource) with the run's settings, the replay's verdict and SVG
 * charts over exchanges and of latency distributions.
 *
 * The page's size does not grow with the run: the exchanges are gathered
 * into at most NB buckets (when a new exchange does not fit, neighbouring
 * buckets are merged pairwise and each then covers twice as many), every
 * series has one point per bucket and markers are counted per bucket, and
 * the distributions are log-linear histograms of fixed size.  With 16 tori
 * the page stays under 1 MB whatever the number of exchanges. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "dump_html.h"


#define NB 512   /* buckets over the exchanges: points per series */
#define MAXT 16  /* tori */
#define NLIST 64 /* injections and failures listed one by one */

/* One torus in one bucket. */
typedef struct cell {
  uint64_t ev;             /* events of its epochs in the bucket */
  uint64_t t0, t1;         /* first epoch start, last epoch end (ns since the run start) */
  uint64_t steps;          /* barrier records: 0 means no timing in the bucket */
  uint64_t wait_sum, wait_max;
  uint64_t checked, viol;  /* boundary checks: cells compared and violated */
  uint32_t interval;       /* the interval of its last epoch in the bucket; 0: none seen */
} cell;

typedef struct bucket {
  cell c[MAXT];
  uint64_t inj, fail;
} bucket;

/* Log-linear histogram, 8 sub-buckets per power of two (12% wide). */
typedef struct hist {
  uint64_t n, b[512];
} hist;

typedef struct mark {
  uint64_t k, a, b;
  uint32_t torus;
} mark;

typedef struct run {
  bucket *b;
  uint64_t k0, width, klast;
  size_t used; /* buckets in use */
  int started;
  uint32_t tori;
  uint64_t exchanges;
  uint64_t events[MAXT];    /* each torus's count after its last projection (or rebuild) */
  int have_events[MAXT];
  uint64_t delta[MAXT], delta_k[MAXT]; /* events of the epoch of exchange delta_k */
  uint64_t end_ns;          /* the latest epoch end */
  uint32_t threads;         /* one more than the highest thread in the barrier records */
  hist ev_lat, ex_lat, wait;
  mark inj[NLIST], fail[NLIST];
  uint64_t ninj, nfail;
} run;

/* ------------------------------------------------------------ gathering */

static unsigned hist_index(uint64_t v)
{
  if (v < 8) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v);
  return (e - 2) * 8 + (unsigned)((v >> (e - 3)) & 7);
}

static double hist_low(unsigned i)
{
  if (i < 8) return i;
  unsigned e = i / 8 + 2, m = i % 8;
  return ldexp(8 + m, (int)e - 3);
}

static void hist_add(hist *h, uint64_t v)
{
  h->b[hist_index(v)]++;
  h->n++;
}

/* The value below which a fraction q of the samples lie (the bucket's low end). */
static double hist_quantile(const hist *h, double q)
{
  uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;
  if (!want) want = 1;
  for (unsigned i = 0; i < 512; i++) {
    seen += h->b[i];
    if (seen >= want) return hist_low(i);
  }
  return 0;
}

static void cell_merge(cell *d, const cell *a, const cell *b)
{
  cell r = *a;
  r.ev += b->ev;
  if (b->steps) {
    r.t0 = a->steps && a->t0 < b->t0 ? a->t0 : b->t0;
    r.t1 = a->t1 > b->t1 ? a->t1 : b->t1;
  }
  r.steps += b->steps;
  r.wait_sum += b->wait_sum;
  if (b->wait_max > r.wait_max) r.wait_max = b->wait_max;
  r.checked += b->checked;
  r.viol += b->viol;
  if (b->interval) r.interval = b->interval;
  *d = r;
}

/* The bucket of exchange k, merging pairs until it fits. */
static bucket *bucket_of(run *R, uint64_t k)
{
  if (!R->started) {
    R->started = 1;
    R->k0 = k;
    R->width = 1;
  }
  if (k < R->k0) k = R->k0; /* records are in exchange order; a damaged one lands in the first bucket */
  if (k > R->klast) R->klast = k;
  while ((k - R->k0) / R->width >= NB) {
    for (size_t i = 0; i < NB / 2; i++) {
      bucket m;
      for (unsigned t = 0; t < MAXT; t++) cell_merge(&m.c[t], &R->b[2 * i].c[t], &R->b[2 * i + 1].c[t]);
      m.inj = R->b[2 * i].inj + R->b[2 * i + 1].inj;
      m.fail = R->b[2 * i].fail + R->b[2 * i + 1].fail;
      R->b[i] = m;
    }
    memset(R->b + NB / 2, 0, NB / 2 * sizeof *R->b);
    R->width *= 2;
    R->used = (R->used + 1) / 2;
  }
  size_t i = (size_t)((k - R->k0) / R->width);
  if (i + 1 > R->used) R->used = i + 1;
  return &R->b[i];
}

static void gather(run *R, const braid_record *r)
{
  uint32_t tor = r->nfields ? (uint32_t)r->field[BRAID_F_TORUS] : 0;
  if (r->type == BRAID_REC_EXCHANGE) {
    R->exchanges++;
    bucket_of(R, r->exchange);
    return;
  }
  if (tor >= R->tori || tor >= MAXT) return;
  bucket *b = bucket_of(R, r->exchange);
  cell *c = &b->c[tor];
  switch (r->type) {
  case BRAID_REC_PROJECTION:
    if (r->nfields < 2) break;
    /* Its events are the torus's count after the epoch: the epoch's own are
     * the difference to the count before (unknown for the first one of a
     * selection that starts after exchange 0). */
    if (R->have_events[tor] || r->exchange == 0) {
      uint64_t before = R->have_events[tor] ? R->events[tor] : 0;
      uint64_t d = r->field[BRAID_F_PROJECTION_EVENTS] > before ? r->field[BRAID_F_PROJECTION_EVENTS] - before : 0;
      c->ev += d;
      R->delta[tor] = d;
      R->delta_k[tor] = r->exchange;
    }
    R->events[tor] = r->field[BRAID_F_PROJECTION_EVENTS];
    R->have_events[tor] = 1;
    if (r->nfields > BRAID_F_PROJECTION_INTERVAL && r->field[BRAID_F_PROJECTION_INTERVAL] <= UINT32_MAX)
      c->interval = (uint32_t)r->field[BRAID_F_PROJECTION_INTERVAL];
    break;
  case BRAID_REC_REBUILD:
    if (r->nfields < 2) break;
    R->events[tor] = r->field[BRAID_F_REBUILD_EVENTS];
    R->have_events[tor] = 1;
    break;
  case BRAID_REC_BARRIER: {
    if (r->nfields < 6) break;
    uint64_t start = r->field[BRAID_F_BARRIER_EPOCH_START_NS], dur = r->field[BRAID_F_BARRIER_EPOCH_NS];
    uint64_t wait = r->field[BRAID_F_BARRIER_WAIT_NS], exch = r->field[BRAID_F_BARRIER_EXCHANGE_NS];
    uint64_t end = start + dur < start ? UINT64_MAX : start + dur;
    if (!c->steps || start < c->t0) c->t0 = start;
    if (end > c->t1) c->t1 = end;
    if (end > R->end_ns && end != UINT64_MAX) R->end_ns = end;
    c->steps++;
    uint64_t thread = r->field[BRAID_F_BARRIER_THREAD];
    if (thread < 64 && thread + 1 > R->threads) R->threads = (uint32_t)thread + 1;
    c->wait_sum += wait;
    if (wait > c->wait_max) c->wait_max = wait;
    hist_add(&R->wait, wait);
    hist_add(&R->ex_lat, exch);
    /* An event's latency is not in the trace; its mean over the epoch is:
     * the epoch's wall time over its events. */
    if (R->delta_k[tor] == r->exchange && R->delta[tor]) hist_add(&R->ev_lat, dur / R->delta[tor]);
    break;
  }
  case BRAID_REC_BOUNDARY:
    if (r->nfields < 4) break;
    c->checked += r->field[BRAID_F_BOUNDARY_CHECKED];
    c->viol += r->field[BRAID_F_BOUNDARY_VIOLATIONS];
    break;
  case BRAID_REC_INTERVAL:
    if (r->nfields > BRAID_F_INTERVAL_NEW && r->field[BRAID_F_INTERVAL_NEW] <= UINT32_MAX) c->interval = (uint32_t)r->field[BRAID_F_INTERVAL_NEW];
    break;
  case BRAID_REC_INJECTION:
    b->inj++;
    if (R->ninj < NLIST) R->inj[R->ninj] = (mark){ r->exchange, r->nfields > 1 ? r->field[BRAID_F_INJECTION_CELL] : 0,
                                            r->nfields > 2 ? r->field[BRAID_F_INJECTION_PAYLOAD] : 0, tor };
    R->ninj++;
    break;
  case BRAID_REC_FAILURE:
    b->fail++;
    if (R->nfail < NLIST) R->fail[R->nfail] = (mark){ r->exchange, r->nfields > 1 ? r->field[BRAID_F_FAILURE_REASON] : 0,
                                              r->nfields > 2 ? r->field[BRAID_F_FAILURE_LOST_EVENTS] : 0, tor };
    R->nfail++;
    break;
  default: break;
  }
}

/* ------------------------------------------------------------- printing */

/* Text for HTML: markup characters escaped, control characters and bytes
 * that are not UTF-8 shown as U+FFFD, so that the page is always valid. */
static void put_text(const char *s)
{
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    unsigned c = *p, n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
    int ok = n < 9 && !(n == 1 && c < 0xc2);
    for (unsigned i = 1; ok && i <= n; i++) ok = (p[i] & 0xc0) == 0x80;
    if (!ok) {
      fputs("\xef\xbf\xbd", stdout);
      p++;
      continue;
    }
    if (n) {
      fwrite(p, 1, n + 1, stdout);
      p += n + 1;
      continue;
    }
    if (c == '<') fputs("&lt;", stdout);
    else if (c == '>') fputs("&gt;", stdout);
    else if (c == '&') fputs("&amp;", stdout);
    else if (c == '"') fputs("&quot;", stdout);
    else if (c == '\n' || c == '\t') putchar((int)c);
    else if (c < 0x20 || c == 0x7f) fputs("\xef\xbf\xbd", stdout);
    else putchar((int)c);
    p++;
  }
}

/* A number with an SI prefix, 3 significant digits ("12.3 k"). */
static const char *si(double v)
{
  static char buf[8][32];
  static unsigned n;
  char *s = buf[n++ % 8];
  const char *pre[] = { "", " k", " M", " G", " T" };
  unsigned i = 0;
  while (fabs(v) >= 1000 && i < 4) {
    v /= 1000;
    i++;
  }
  snprintf(s, 32, "%.3g%s", v, pre[i]);
  return s;
}

/* Nanoseconds as text with a unit ("12.3 µs"). */
static const char *dur_text(double ns)
{
  static char buf[8][32];
  static unsigned n;
  char *s = buf[n++ % 8];
  if (ns < 1e3) snprintf(s, 32, "%.3g ns", ns);
  else if (ns < 1e6) snprintf(s, 32, "%.3g \xc2\xb5s", ns / 1e3);
  else if (ns < 1e9) snprintf(s, 32, "%.3g ms", ns / 1e6);
  else snprintf(s, 32, "%.3g s", ns / 1e9);
  return s;
}

static const char *const colour[MAXT] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                          "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd" };

/* A tick step of 1, 2 or 5 times a power of ten giving about n ticks. */
static double nice_step(double range, int n)
{
  if (!(range > 0)) return 1;
  double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Geometry of a chart's plot area. */
enum { W = 900, H = 230, ML = 70, MR = 20, MT = 28, MB = 36 };

typedef struct frame {
  double x0, x1, y0, y1; /* data ranges */
  int logx;
} frame;

static double px(const frame *f, double x)
{
  double a = f->logx ? log(x) : x, lo = f->logx ? log(f->x0) : f->x0, hi = f->logx ? log(f->x1) : f->x1;
  return ML + (hi > lo ? (a - lo) / (hi - lo) : 0.5) * (W - ML - MR);
}
static double py(const frame *f, double y) { return MT + (1 - (f->y1 > f->y0 ? (y - f->y0) / (f->y1 - f->y0) : 0)) * (H - MT - MB); }

/* Opens an svg with its title, the axes, the grid and tick labels; y
 * labels through `ylabel`. */
static void chart_open(const char *id, const char *title, const frame *f, const char *(*ylabel)(double), const char *(*xlabel)(double))
{
  printf("<figure><svg class=\"chart\" id=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", id, W, H, W, H);
  put_text(title);
  printf("\">\n<text class=\"title\" x=\"%d\" y=\"16\">", ML);
  put_text(title);
  printf("</text>\n");
  double ys = nice_step(f->y1 - f->y0, 4);
  for (double y = ceil(f->y0 / ys) * ys; y <= f->y1 + ys * 1e-9; y += ys)
    printf("<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/><text class=\"yl\" x=\"%d\" y=\"%.1f\">%s</text>\n", ML, W - MR, py(f, y), py(f, y),
           ML - 6, py(f, y) + 4, ylabel(y));
  if (f->logx) {
    for (double x = pow(10, ceil(log10(f->x0))); x <= f->x1 * (1 + 1e-9); x *= 10)
      printf("<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/><text class=\"xl\" x=\"%.1f\" y=\"%d\">%s</text>\n", px(f, x), px(f, x), H - MB,
             H - MB + 5, px(f, x), H - MB + 18, xlabel(x));
  } else {
    double xs = nice_step(f->x1 - f->x0, 8);
    if (xs < 1) xs = 1;
    for (double x = ceil(f->x0 / xs) * xs; x <= f->x1 + xs * 1e-9; x += xs)
      printf("<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/><text class=\"xl\" x=\"%.1f\" y=\"%d\">%s</text>\n", px(f, x), px(f, x), H - MB,
             H - MB + 5, px(f, x), H - MB + 18, xlabel(x));
  }
  printf("<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/><line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", ML, W - MR, H - MB, H - MB,
         ML, ML, MT, H - MB);
}

static const char *label_si(double v) { return si(v); }
static const char *label_ns(double v) { return dur_text(v); }
static const char *label_pct(double v)
{
  static char buf[4][32];
  static unsigned n;
  char *s = buf[n++ % 4];
  snprintf(s, 32, "%.3g%%", v);
  return s;
}
static const char *label_k(double v)
{
  static char buf[4][32];
  static unsigned n;
  char *s = buf[n++ % 4];
  snprintf(s, 32, "%.0f", v);
  return s;
}

/* A series' value in bucket i for torus t (NAN: none). */
typedef double (*series_fn)(const run *R, size_t i, uint32_t t);

static double throughput(const run *R, size_t i, uint32_t t)
{
  const cell *c = &R->b[i].c[t];
  if (!c->steps) return NAN;
  /* Events over the wall time to the next bucket's first epoch (the last
   * bucket: to its last epoch's end), so that a bucket of one exchange
   * gives the torus's rate over its whole step, waits included. */
  uint64_t end = i + 1 < R->used && R->b[i + 1].c[t].steps ? R->b[i + 1].c[t].t0 : c->t1;
  return end > c->t0 ? (double)c->ev * 1e9 / (double)(end - c->t0) : NAN;
}
static double interval(const run *R, size_t i, uint32_t t) { return R->b[i].c[t].interval ? R->b[i].c[t].interval : NAN; }
static double viol_rate(const run *R, size_t i, uint32_t t)
{
  const cell *c = &R->b[i].c[t];
  return c->checked ? 100.0 * (double)c->viol / (double)c->checked : NAN;
}
static double wait_mean(const run *R, size_t i, uint32_t t)
{
  const cell *c = &R->b[i].c[t];
  return c->steps ? (double)c->wait_sum / (double)c->steps : NAN;
}
static double wait_max(const run *R, size_t i, uint32_t t) { return R->b[i].c[t].steps ? (double)R->b[i].c[t].wait_max : NAN; }
/* Corrective events (one per violated cell) per exchange, every torus. */
static double corrective(const run *R, size_t i, uint32_t t)
{
  uint64_t v = 0;
  int any = 0;
  for (uint32_t j = 0; j < R->tori; j++) {
    v += R->b[i].c[j].viol;
    any |= R->b[i].c[j].checked > 0;
  }
  uint64_t lo = R->k0 + i * R->width, hi = lo + R->width - 1 > R->klast ? R->klast : lo + R->width - 1;
  return any ? (double)v / (double)(hi - lo + 1) : NAN;
}

/* The middle exchange of bucket i. */
static double bucket_x(const run *R, size_t i)
{
  uint64_t lo = R->k0 + i * R->width, hi = lo + R->width - 1 > R->klast ? R->klast : lo + R->width - 1;
  return (double)lo + (double)(hi - lo) / 2;
}

/* Vertical markers at the buckets with injections and failures. */
static void markers(const run *R, const frame *f)
{
  for (size_t i = 0; i < R->used; i++) {
    const bucket *b = &R->b[i];
    uint64_t lo = R->k0 + i * R->width, hi = lo + R->width - 1 > R->klast ? R->klast : lo + R->width - 1;
    double x = px(f, bucket_x(R, i));
    if (b->inj)
      printf("<line class=\"marker injection\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"><title>%llu injection%s in exchange%s %llu..%llu</title></line>\n", x, x,
             MT, H - MB, (unsigned long long)b->inj, b->inj == 1 ? "" : "s", hi > lo ? "s" : "", (unsigned long long)lo, (unsigned long long)hi);
    if (b->fail)
      printf("<line class=\"marker failure\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"><title>%llu failure%s in exchange%s %llu..%llu</title></line>\n", x, x, MT,
             H - MB, (unsigned long long)b->fail, b->fail == 1 ? "" : "s", hi > lo ? "s" : "", (unsigned long long)lo, (unsigned long long)hi);
  }
}

/* Polylines of one series, broken where it has no value; a lone point is
 * a dot.  Every drawn element has class "mark". */
static void polyline(const run *R, const frame *f, series_fn fn, uint32_t t, const char *col, const char *cls)
{
  size_t n = 0;
  double fx = 0, fy = 0;
  for (size_t i = 0; i <= R->used; i++) {
    double v = i < R->used ? fn(R, i, t) : NAN;
    if (isfinite(v)) {
      if (v > f->y1) v = f->y1;
      double x = px(f, bucket_x(R, i)), y = py(f, v);
      if (!n) {
        fx = x;
        fy = y;
        printf("<polyline class=\"mark %s\" stroke=\"%s\" points=\"%.1f,%.1f", cls, col, x, y);
      } else {
        printf(" %.1f,%.1f", x, y);
      }
      n++;
      continue;
    }
    if (n == 1) printf("\"/><circle class=\"mark %s\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", cls, col, fx, fy);
    else if (n) printf("\"/>\n");
    n = 0;
  }
}

static void legend(const run *R, int per_torus)
{
  printf("<figcaption>");
  if (per_torus)
    for (uint32_t t = 0; t < R->tori; t++) printf("<span class=\"key\"><i style=\"background:%s\"></i>torus %c</span>", colour[t], 'A' + t);
  printf("<span class=\"key\"><i class=\"inj\"></i>injection</span><span class=\"key\"><i class=\"fail\"></i>failure</span></figcaption></figure>\n");
}

/* A chart over the exchanges: one line per torus (or one for all), with a
 * lighter line of `upper` (a maximum) when given, and the markers. */
static void line_chart(const run *R, const char *id, const char *title, series_fn fn, series_fn upper, int per_torus, const char *(*ylabel)(double))
{
  frame f = { (double)R->k0, (double)R->klast, 0, 0, 0 };
  if (f.x1 <= f.x0) f.x1 = f.x0 + 1;
  for (size_t i = 0; i < R->used; i++)
    for (uint32_t t = 0; t < (per_torus ? R->tori : 1); t++) {
      double v = fn(R, i, t), u = upper ? upper(R, i, t) : NAN;
      if (isfinite(v) && v > f.y1) f.y1 = v;
      if (isfinite(u) && u > f.y1) f.y1 = u;
    }
  if (!(f.y1 > 0)) f.y1 = 1;
  double step = nice_step(f.y1, 4);
  f.y1 = ceil(f.y1 / step * (1 - 1e-12)) * step;
  chart_open(id, title, &f, ylabel, label_k);
  for (uint32_t t = 0; t < (per_torus ? R->tori : 1); t++) {
    const char *col = per_torus ? colour[t] : "#555";
    if (upper) polyline(R, &f, upper, t, col, "upper");
    polyline(R, &f, fn, t, col, "line");
  }
  markers(R, &f);
  printf("<text class=\"xl end\" x=\"%d\" y=\"%d\">exchange</text></svg>\n", W - MR, H - 4);
  legend(R, per_torus);
}

/* A histogram with a logarithmic x axis, and its quantiles. */
static void hist_chart(const hist *h, const char *id, const char *title)
{
  unsigned lo = 512, hi = 0;
  uint64_t top = 0;
  for (unsigned i = 0; i < 512; i++)
    if (h->b[i]) {
      if (i < lo) lo = i;
      hi = i;
      if (h->b[i] > top) top = h->b[i];
    }
  if (!h->n) {
    lo = 8;
    hi = 8;
  }
  if (lo < 1) lo = 1; /* a log axis starts above 0: a sample of 0 ns is drawn in the first bar */
  frame f = { hist_low(lo), hist_low(hi + 1), 0, top ? (double)top : 1, 1 };
  double step = nice_step(f.y1, 4);
  f.y1 = ceil(f.y1 / step * (1 - 1e-12)) * step;
  chart_open(id, title, &f, label_si, label_ns);
  for (unsigned i = lo; i <= hi; i++) {
    uint64_t n = h->b[i] + (i == lo && lo == 1 ? h->b[0] : 0);
    if (!n) continue;
    double x0 = px(&f, hist_low(i)), x1 = px(&f, hist_low(i + 1)), y = py(&f, (double)n);
    printf("<rect class=\"mark bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s..%s: %llu</title></rect>\n", x0, y,
           x1 - x0 > 1.2 ? x1 - x0 - 0.6 : 0.6, H - MB - y, dur_text(hist_low(i)), dur_text(hist_low(i + 1)), (unsigned long long)n);
  }
  if (h->n) {
    const char *qn[] = { "p50", "p99" };
    double qv[] = { 0.5, 0.99 };
    for (unsigned q = 0; q < 2; q++) {
      double v = hist_quantile(h, qv[q]), x = px(&f, v < f.x0 ? f.x0 : v);
      printf("<line class=\"quantile\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/><text class=\"ql\" x=\"%.1f\" y=\"%d\">%s %s</text>\n", x, x, MT, H - MB, x + 3,
             MT + 10 + 12 * q, qn[q], dur_text(v));
    }
  }
  printf("</svg><figcaption>%llu samples; p50 %s, p95 %s, p99 %s (bars 12%% wide: the quantiles are their lower ends)</figcaption></figure>\n",
         (unsigned long long)h->n, dur_text(hist_quantile(h, 0.5)), dur_text(hist_quantile(h, 0.95)), dur_text(hist_quantile(h, 0.99)));
}

/* msg with every `path` in it shown as `shown`. */
static void put_named(const char *msg, const char *path, const char *shown)
{
  const char *p;
  while (path && *path && (p = strstr(msg, path))) {
    char part[1024];
    snprintf(part, sizeof part, "%.*s", (int)(p - msg), msg);
    put_text(part);
    put_text(shown);
    msg = p + strlen(path);
  }
  put_text(msg);
}

static void verdict(const braid_trace_info *in, const dump_html_opts *o)
{
  printf("<h2>Verdict</h2>\n");
  if (!o->replay) {
    printf("<p class=\"none\">Not replayed: <code>braid-dump --html --replay</code> adds the verdict of a replay, <code>braid-replay</code> gives it with "
           "more detail.</p>\n");
    return;
  }
  braid_replay_opts ro;
  braid_replay_opts_init(&ro);
  ro.partial = in->truncated;
  braid_replay_result res;
  char err[1024] = "";
  memset(&res, 0, sizeof res);
  int rc = braid_replay(o->path, &ro, &res, err, sizeof err);
  if (rc) {
    printf("<p class=\"bad\">The replay could not run: ");
    put_named(err, o->path, o->shown);
    printf("</p>\n");
    return;
  }
  if (res.diverged) {
    printf("<p class=\"bad\">DIVERGED at exchange %llu", (unsigned long long)res.div.exchange);
    if (res.div.torus >= 0) printf(", torus %c", 'A' + (int)(res.div.torus % 26));
    printf(": %s ", res.div.record);
    put_text(res.div.field);
    if (res.div.field_hex) printf(" recorded %016llx, replayed %016llx", (unsigned long long)res.div.expected, (unsigned long long)res.div.actual);
    else if (res.div.field_signed) printf(" recorded %lld, replayed %lld", (long long)res.div.expected, (long long)res.div.actual);
    else printf(" recorded %llu, replayed %llu", (unsigned long long)res.div.expected, (unsigned long long)res.div.actual);
    printf(" (%llu exchanges matched before it)</p>\n<pre>", (unsigned long long)res.exchanges_checked);
    put_text(res.div.context);
    printf("</pre>\n");
  } else {
    /* The words of braid-replay(1). */
    printf("<p class=\"good\">OK: %llu %s, %s%s (replayed in %.2f s; %llu boundary checks with violations, reproduced)</p>\n",
           (unsigned long long)res.exchanges_checked, cli_exchanges(res.exchanges_checked),
           res.recorded_threaded ? "parallel == sequential" : "replay == recording (a sequential run)", res.truncated ? ", up to where the trace is cut" : "",
           res.seconds, (unsigned long long)res.violations);
  }
  if (res.warning[0]) {
    printf("<p class=\"warn\">");
    put_text(res.warning);
    printf("</p>\n");
  }
}

static void row(const char *k, const char *v)
{
  printf("<tr><th>%s</th><td>", k);
  put_text(v);
  printf("</td></tr>\n");
}

static void summary(const run *R, const braid_trace_info *in, const dump_html_opts *o)
{
  char buf[512];
  printf("<table class=\"facts\">\n");
  row("trace", o->shown);
  snprintf(buf, sizeof buf, "%s%s", cli_status_name(in->status), in->truncated ? " (truncated)" : "");
  row("status", buf);
  const char *model = NULL, *threads = NULL, *seq = NULL;
  static char mbuf[256], tbuf[64], sbuf[8];
  for (const char *p = in->config_text; p && *p;) {
    size_t len = strcspn(p, "\n");
    if (!strncmp(p, "model=", 6)) snprintf(mbuf, sizeof mbuf, "%.*s", (int)(len - 6), p + 6), model = mbuf;
    if (!strncmp(p, "threads=", 8)) snprintf(tbuf, sizeof tbuf, "%.*s", (int)(len - 8), p + 8), threads = tbuf;
    if (!strncmp(p, "sequential=", 11)) snprintf(sbuf, sizeof sbuf, "%.*s", (int)(len - 11), p + 11), seq = sbuf;
    p += len + (p[len] ? 1 : 0);
  }
  snprintf(buf, sizeof buf, "%s%s%s%s", model ? model : "(unknown)", in->plugin && in->plugin[0] ? " (plugin " : "", in->plugin && in->plugin[0] ? in->plugin : "",
           in->plugin && in->plugin[0] ? ")" : "");
  row("model", buf);
  if (seq && !strcmp(seq, "1")) snprintf(buf, sizeof buf, "%u on the sequential executor", R->tori);
  else if (R->threads) snprintf(buf, sizeof buf, "%u on %u worker thread%s (threads=%s)", R->tori, R->threads, R->threads == 1 ? "" : "s", threads ? threads : "?");
  else snprintf(buf, sizeof buf, "%u (threads=%s)", R->tori, threads ? threads : "?");
  row("tori", buf);
  snprintf(buf, sizeof buf, "%llu in the trace (%llu shown)", (unsigned long long)in->exchanges, (unsigned long long)R->exchanges);
  row("exchanges", buf);
  if (in->status != BRAID_TRACE_UNFINISHED) {
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)in->total_events);
    row("events", buf);
  }
  snprintf(buf, sizeof buf, "%s (the last epoch's end)", dur_text((double)R->end_ns));
  row("wall time", buf);
  if (in->start_unix_ns) {
    time_t sec = (time_t)(in->start_unix_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&sec, &tm)) {
      strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
      row("started", buf);
    }
  }
  row("build", in->build_id);
  row("host", in->host);
  if (o->tori) {
    if (o->to == UINT64_MAX) snprintf(buf, sizeof buf, "exchanges %llu.., tori %s", (unsigned long long)o->from, o->tori);
    else snprintf(buf, sizeof buf, "exchanges %llu..%llu, tori %s", (unsigned long long)o->from, (unsigned long long)o->to, o->tori);
    row("selection", buf);
  }
  if (R->width > 1) {
    snprintf(buf, sizeof buf, "%llu exchanges per point (the run is drawn in at most %d points per line)", (unsigned long long)R->width, NB);
    row("charts", buf);
  }
  printf("</table>\n");
}

static void settings(const braid_trace_info *in)
{
  printf("<details open><summary>Settings (hash %016llx)</summary><div class=\"settings\">\n", (unsigned long long)in->config_hash);
  for (const char *p = in->config_text; p && *p;) {
    size_t len = strcspn(p, "\n"), eq = strcspn(p, "=");
    char k[128], v[512];
    if (eq > len) eq = len;
    snprintf(k, sizeof k, "%.*s", (int)eq, p);
    snprintf(v, sizeof v, "%.*s", (int)(len > eq ? len - eq - 1 : 0), p + eq + 1);
    printf("<div><b>");
    put_text(k);
    printf("</b> <code>");
    put_text(v);
    printf("</code></div>\n");
    p += len + (p[len] ? 1 : 0);
  }
  printf("</div></details>\n");
}

static void events_list(const char *what, const mark *m, uint64_t n, const char *a, const char *b)
{
  if (!n) return;
  printf("<details><summary>%llu %s%s%s</summary><table class=\"list\"><tr><th>exchange</th><th>torus</th><th>%s</th><th>%s</th></tr>\n", (unsigned long long)n,
         what, n == 1 ? "" : "s", n > NLIST ? " (the first 64 listed)" : "", a, b);
  for (uint64_t i = 0; i < n && i < NLIST; i++)
    printf("<tr><td>%llu</td><td>%c</td><td>%llu</td><td>%lld</td></tr>\n", (unsigned long long)m[i].k, 'A' + (int)(m[i].torus % 26), (unsigned long long)m[i].a,
           (long long)m[i].b);
  printf("</table></details>\n");
}

static const char style[] =
  "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:940px;color:#222;background:#fff}"
  "h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 8px}"
  "table{border-collapse:collapse}th,td{text-align:left;padding:2px 12px 2px 0;vertical-align:top}th{font-weight:600;color:#444}"
  "table.list td{font-family:ui-monospace,monospace}div.settings{columns:3;column-gap:24px;margin:6px 0}div.settings b{font-weight:600;color:#444}"
  ".good{color:#176e2a;font-weight:600}.bad{color:#b00020;font-weight:600}.warn{color:#8a5a00}.none{color:#555}"
  "pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}"
  "figure{margin:12px 0}figcaption{font-size:12px;color:#444;margin-left:70px}"
  "svg.chart{display:block;max-width:100%;height:auto}"
  "svg text{font-size:11px;fill:#333}svg text.title{font-size:13px;font-weight:600}svg text.yl{text-anchor:end}svg text.xl{text-anchor:middle}svg text.end{text-anchor:end}"
  "svg text.ql{font-size:10px;fill:#555}"
  ".grid{stroke:#e4e4e4}.axis,.tick{stroke:#888}"
  "polyline.mark{fill:none;stroke-width:1.5}polyline.upper{stroke-width:1;stroke-opacity:.35}"
  "rect.bar{fill:#4a78b5}.quantile{stroke:#555;stroke-dasharray:3 3}"
  ".marker{stroke-width:1.2}.marker.injection{stroke:#1565c0;stroke-dasharray:4 3}.marker.failure{stroke:#c62828;stroke-width:2}"
  ".key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}"
  ".key i.inj{border-top:2px dashed #1565c0;height:0}.key i.fail{background:#c62828}";

int dump_html(braid_trace *t, const braid_trace_info *in, const dump_html_opts *o)
{
  run *R = calloc(1, sizeof *R);
  if (R) R->b = calloc(NB, sizeof *R->b);
  if (!R || !R->b) cli_die("out of memory");
  R->tori = 16;
  for (const char *p = in->config_text; p && *p;) {
    if (!strncmp(p, "tori=", 5)) {
      long n = atol(p + 5);
      if (n >= 1 && n <= MAXT) R->tori = (uint32_t)n;
    }
    p += strcspn(p, "\n");
    if (*p) p++;
  }
  braid_record r;
  int rc = o->seek(t);
  while (!rc && (rc = o->next(t, &r)) == 0) gather(R, &r);
  if (!R->started) bucket_of(R, o->from == UINT64_MAX ? 0 : o->from);

  printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\n<title>braid run: ");
  put_text(o->shown);
  printf("</title>\n<style>%s</style></head><body>\n<h1>braid run: ", style);
  put_text(o->shown);
  printf("</h1>\n");
  summary(R, in, o);
  verdict(in, o);
  settings(in);
  events_list("injection", R->inj, R->ninj, "cell", "payload");
  events_list("failure", R->fail, R->nfail, "reason", "lost events");
  printf("<h2>Over the exchanges</h2>\n");
  line_chart(R, "throughput", "Throughput per torus (events/s)", throughput, NULL, 1, label_si);
  line_chart(R, "interval", "Interval per torus (events per epoch)", interval, NULL, 1, label_si);
  line_chart(R, "violations", "Boundary violation rate per torus (% of the checked cells)", viol_rate, NULL, 1, label_pct);
  line_chart(R, "corrective", "Corrective events per exchange (every torus)", corrective, NULL, 0, label_si);
  line_chart(R, "waits", "Barrier wait per torus (mean per exchange; the light line: the longest)", wait_mean, wait_max, 1, label_ns);
  printf("<h2>Distributions</h2>\n");
  hist_chart(&R->ev_lat, "event-latency", "Event latency (an epoch's wall time over its events, one sample per epoch)");
  hist_chart(&R->ex_lat, "exchange-latency", "Exchange latency (the exchange work of one torus's step)");
  hist_chart(&R->wait, "wait-distribution", "Barrier wait (one torus's wait for its predecessor's projection)");
  printf("<p class=\"none\">Made by braid-dump --html from the trace's records: throughput, waits and latencies from the barrier records (wall "
         "clock), the rest from the logical records.</p>\n</body></html>\n");
  free(R->b);
  free(R);
  return rc;
}
