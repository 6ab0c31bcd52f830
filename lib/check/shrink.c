/* shrink.c - braid_shrink: from a trace that shows a failure to the smallest
 * run that still shows it (DESIGN 13).
 *
 * The failure is read from the trace; a candidate is the recorded run with
 * some of its parts reduced (exchanges, faults, injections, tori, lattice,
 * when injections and faults happen, interval, parameters, seed), run in
 * this process with a sink that watches its logical records for the same
 * failure and stops the run once it was seen.  Deterministic failures are
 * judged on one sequential run; a divergence (and a heartbeat failure,
 * which depends on timing too) on threaded runs under several chaos seeds,
 * the first of them compared with a sequential run exchange by exchange
 * through a hash of each exchange's logical records.  Lists (faults,
 * injections) are reduced by ddmin (Zeller and Hildebrandt, TSE 2002); the
 * rest by trying a few smaller values, smallest first. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include "kernel/plugin.h"
#include "runtime/runtime.h"

#define MAX_INJ 256

typedef struct inj {
  uint32_t torus, cell;
  int32_t payload;
  uint64_t exchange;
} inj;

typedef struct fault {
  uint32_t torus;
  uint64_t exchange;
} fault;

/* One run's settings, as far as the search changes them; the rest comes
 * from the trace header. */
typedef struct cand {
  uint32_t tori, dim, interval, interval_min;
  uint64_t exchanges, seed;
  int64_t params[BRAID_MAX_PARAMS];
  inj inj[MAX_INJ];
  unsigned ninj;
  fault fail[BRAID_MAX_FAILS];
  unsigned nfail;
} cand;

typedef struct outcome {
  int failed;
  uint64_t first;  /* exchange where it showed */
  uint64_t events; /* events run (up to the stop) */
  uint64_t chaos;  /* the chaos seed that showed it (timing-dependent kinds) */
} outcome;

typedef struct shrinker {
  const braid_shrink_opts *o;
  braid_shrink_result *res;
  const braid_model *model;
  int plugin;
  const char *text;      /* header settings */
  uint64_t header_chaos; /* the recording's chaos seed, tried first */
  int64_t heartbeat_ms;
  unsigned nparams;
  uint64_t t0;
  uint32_t code;       /* the check code, for BRAID_SHRINK_CHECK */
  cand best;
  outcome best_out;
  uint64_t limit_exchanges; /* the recorded run's length: candidates never run longer */
  char err[512];
  int trouble;
} shrinker;

/* The sink of a candidate run: watches for the failure, and for a
 * divergence hashes each exchange's logical records. */
typedef struct judge {
  shrinker *s;
  braid_runtime *rt;
  int stop_early;
  int found;
  uint64_t first;
  const uint64_t *ref; /* the sequential run's hashes, to compare with */
  uint64_t nref;
  uint64_t *hash; /* this run's, when collecting */
  size_t nhash, caphash;
  int collect;
} judge;

static int threaded_kind(braid_shrink_kind k) { return k == BRAID_SHRINK_DIVERGENCE || k == BRAID_SHRINK_FAILED; }

static int shows(const shrinker *s, const braid_record *r)
{
  switch (s->res->kind) {
  case BRAID_SHRINK_CHECK: return r->type == BRAID_REC_CHECK && r->field[BRAID_F_CHECK_CODE] == s->code;
  case BRAID_SHRINK_OVERFLOW:
    return r->type == BRAID_REC_OVERFLOW && (r->field[BRAID_F_OVERFLOW_OVERFLOWS] || r->field[BRAID_F_OVERFLOW_HORIZON_ERRORS]);
  case BRAID_SHRINK_FAILED: return r->type == BRAID_REC_FAILURE && r->field[BRAID_F_FAILURE_REASON] == BRAID_FAIL_HEARTBEAT;
  case BRAID_SHRINK_DEVIATION: return r->type == BRAID_REC_BOUNDARY && r->field[BRAID_F_BOUNDARY_MAX_DEV] > s->o->deviation;
  default: return 0;
  }
}

static int judge_exchange(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  judge *j = ud;
  const uint8_t *p = recs, *end = recs + len;
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  while (p < end) {
    const uint8_t *start = p;
    braid_record r;
    BRAID_FORWARD(braid__rec_decode(&p, end, &r, NULL));
    if (!BRAID_RECORD_IS_LOGICAL(r.type)) continue;
    XXH3_64bits_update(&st, start, (size_t)(p - start));
    if (!j->found && shows(j->s, &r)) {
      j->found = 1;
      j->first = k;
    }
  }
  uint64_t h = XXH3_64bits_digest(&st);
  if (j->collect) {
    uint64_t *nv = braid__grow(j->hash, &j->caphash, j->nhash, sizeof *nv, 1024);
    if (!nv) return BRAID_ENOMEM;
    j->hash = nv;
    j->hash[j->nhash++] = h;
  }
  if (j->ref && !j->found && k < j->nref && j->ref[k] != h) {
    j->found = 1;
    j->first = k;
  }
  if (j->found && j->stop_early) braid_runtime_stop(j->rt);
  return 0;
}

/* ------------------------------------------------------------ one run */

typedef struct watchdog {
  braid_runtime *rt;
  double seconds;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done, fired;
} watchdog;

static void *watch(void *arg)
{
  watchdog *w = arg;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  double whole = (double)(time_t)w->seconds;
  until.tv_sec += (time_t)w->seconds;
  until.tv_nsec += (long)((w->seconds - whole) * 1e9);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->lock);
  while (!w->done)
    if (pthread_cond_timedwait(&w->cond, &w->lock, &until)) {
      if (!w->done) {
        w->fired = 1;
        braid_runtime_stop(w->rt);
      }
      break;
    }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static void fails_text(const cand *c, char *buf, size_t len)
{
  size_t off = 0;
  buf[0] = 0;
  for (unsigned i = 0; i < c->nfail && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%u@%llu", i ? "," : "", c->fail[i].torus, (unsigned long long)c->fail[i].exchange);
}

static int configure(shrinker *s, const cand *c, int threaded, uint64_t chaos, braid_config **out)
{
  braid_config *cfg;
  char num[64], fails[2048];
  int rc;
  *out = NULL;
  if ((rc = braid_config_create(&cfg))) return rc;
  if (s->plugin && (rc = braid_config_set_model(cfg, s->model))) goto fail;
  if ((rc = braid__config_parse_text(cfg, s->text, strlen(s->text)))) goto fail;
#define SETN(key, v)                                                                                                                  \
  do {                                                                                                                               \
    snprintf(num, sizeof num, "%llu", (unsigned long long)(v));                                                                     \
    if ((rc = braid_config_set(cfg, key, num))) goto fail;                                                                          \
  } while (0)
  SETN("tori", c->tori);
  SETN("dim", c->dim);
  SETN("exchanges", c->exchanges);
  SETN("interval_min", c->interval_min);
  SETN("interval", c->interval);
  SETN("seed", c->seed);
  SETN("chaos", threaded ? chaos : 0);
  SETN("sequential", threaded ? 0 : 1);
  SETN("threads", threaded ? (s->o->threads < c->tori ? s->o->threads : c->tori) : 0);
  SETN("heartbeat_ms", s->res->kind == BRAID_SHRINK_FAILED ? (uint64_t)s->heartbeat_ms : 0);
#undef SETN
  braid_config_set(cfg, "duration_ms", "0");
  braid_config_set(cfg, "checkpoint_every", "0");
  braid_config_set(cfg, "trace_events", "0");
  braid_config_set(cfg, "check_stop", "0");
  fails_text(c, fails, sizeof fails);
  if ((rc = braid_config_set(cfg, "fail", fails))) goto fail;
  for (unsigned i = 0; i < s->nparams; i++) {
    snprintf(num, sizeof num, "%lld", (long long)c->params[i]);
    if ((rc = braid_config_set_param(cfg, s->model->params[i].name, num))) goto fail;
  }
  *out = cfg;
  return 0;
fail:
  braid__fmt(s->err, sizeof s->err, "%s", braid_config_error(cfg));
  braid_config_destroy(cfg);
  return rc;
}

/* Runs c once.  A run that cannot be set up (say, a model whose init
 * refuses the smaller lattice) does not fail the same way: *o says not
 * failed.  Returns an error only for trouble writing `record`. */
static int run_one(shrinker *s, const cand *c, int threaded, uint64_t chaos, judge *j, const char *record, outcome *o)
{
  braid_config *cfg;
  braid_runtime *rt = NULL;
  memset(o, 0, sizeof *o);
  o->chaos = chaos;
  j->found = 0;
  j->nhash = 0;
  if (configure(s, c, threaded, chaos, &cfg)) return 0;
  char err[256];
  int rc = braid_runtime_create(&rt, cfg, err, sizeof err);
  braid_config_destroy(cfg);
  if (rc) return 0;
  if (record && (rc = braid_runtime_record(rt, record))) {
    braid__fmt(s->err, sizeof s->err, "%s", braid_runtime_error(rt));
    braid_runtime_destroy(rt);
    return rc;
  }
  j->rt = rt;
  braid__sink sink = { judge_exchange, NULL, j };
  for (unsigned i = 0; i < c->ninj && !rc; i++) rc = braid_inject(rt, c->inj[i].torus, c->inj[i].cell, c->inj[i].payload, c->inj[i].exchange);
  if (!rc) rc = braid__add_sink(rt, &sink);
  if (rc) {
    braid_runtime_destroy(rt);
    return 0;
  }
  watchdog w = { rt, s->o->run_seconds, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
  pthread_t th;
  int watching = pthread_create(&th, NULL, watch, &w) == 0;
  rc = braid_runtime_run(rt);
  if (watching) {
    pthread_mutex_lock(&w.lock);
    w.done = 1;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.lock);
    pthread_join(th, NULL);
  }
  braid_report rep;
  braid_runtime_report(rt, &rep);
  if (w.fired) s->res->timeouts++;
  if (record && rc && rc != BRAID_EINTR) {
    braid__fmt(s->err, sizeof s->err, "%s", braid_runtime_error(rt));
    braid_runtime_destroy(rt);
    return rc;
  }
  o->failed = j->found && (!rc || rc == BRAID_EINTR);
  o->first = j->first;
  o->events = rep.events;
  braid_runtime_destroy(rt);
  return 0;
}

/* ----------------------------------------------------------- judging */

static double elapsed(const shrinker *s) { return (double)(braid__now_ns() - s->t0) / 1e9; }

static int over_budget(shrinker *s)
{
  if (s->res->runs >= s->o->max_runs) s->res->limit = 1;
  else if (elapsed(s) >= s->o->max_seconds) s->res->limit = 2;
  return s->res->limit != 0;
}

static uint64_t chaos_seed(const shrinker *s, unsigned i)
{
  if (s->header_chaos) return i == 0 ? s->header_chaos : i;
  return i + 1;
}

/* Whether c shows the failure: one sequential run, or for a
 * timing-dependent failure up to `tries` threaded ones (after a sequential
 * run to compare with, for a divergence). */
static int judge_cand(shrinker *s, const cand *c, const char *trying, outcome *o)
{
  judge j = { .s = s, .stop_early = 1 };
  memset(o, 0, sizeof *o);
  if (s->trouble || over_budget(s)) return 0;
  if (!threaded_kind(s->res->kind)) {
    s->res->runs++;
    run_one(s, c, 0, 0, &j, NULL, o);
  } else {
    judge ref = { .s = s, .collect = 1 };
    if (s->res->kind == BRAID_SHRINK_DIVERGENCE) {
      s->res->runs++;
      run_one(s, c, 0, 0, &ref, NULL, o);
      j.ref = ref.hash;
      j.nref = ref.nhash;
    }
    for (unsigned i = 0; i < s->o->tries && !o->failed && !over_budget(s); i++) {
      s->res->runs++;
      run_one(s, c, 1, chaos_seed(s, i), &j, NULL, o);
    }
    free(ref.hash);
  }
  free(j.hash);
  s->res->seconds = elapsed(s);
  if (s->o->progress) s->o->progress(s->o->ud, trying, s->res);
  return o->failed;
}

static void shape_of(const cand *c, const outcome *o, braid_shrink_shape *sh)
{
  sh->exchanges = c->exchanges;
  sh->tori = c->tori;
  sh->dim = c->dim;
  sh->interval = c->interval;
  sh->interval_min = c->interval_min;
  sh->injections = c->ninj;
  sh->faults = c->nfail;
  sh->seed = c->seed;
  sh->events = o->events;
  sh->failure_exchange = o->first;
}

/* Injections and faults after the last exchange can no longer happen; the
 * command line would refuse them. */
static void drop_late(cand *c)
{
  unsigned n = 0;
  for (unsigned i = 0; i < c->ninj; i++)
    if (c->inj[i].exchange < c->exchanges) c->inj[n++] = c->inj[i];
  c->ninj = n;
  n = 0;
  for (unsigned i = 0; i < c->nfail; i++)
    if (c->fail[i].exchange < c->exchanges) c->fail[n++] = c->fail[i];
  c->nfail = n;
}

/* The exchanges a candidate gets: room for the failure to show a little
 * later than in the best run, never more than the recording had. */
static uint64_t room(const shrinker *s)
{
  uint64_t e = s->best.exchanges * 2 + 10;
  return e < s->limit_exchanges ? e : s->limit_exchanges;
}

static void accept(shrinker *s, const cand *c, const outcome *o)
{
  s->best = *c;
  s->best_out = *o;
  /* Deterministic: the failure shows at o->first in every run of these
   * settings, so the run can stop right after it.  A divergence may show
   * later under other timing: the cut is tried as a candidate (try_cut). */
  if (!threaded_kind(s->res->kind)) s->best.exchanges = o->first + 1;
  drop_late(&s->best);
  s->res->shrank = 1;
}

/* Tries c (a reduction of the best run) and keeps it when it fails. */
static int attempt(shrinker *s, cand *c, const char *trying)
{
  outcome o;
  if (!judge_cand(s, c, trying, &o)) return 0;
  accept(s, c, &o);
  return 1;
}

/* ------------------------------------------------------------- steps */

/* For a timing-dependent failure: stop just after it, when that still
 * shows it (twice the exchanges up to it, else). */
static int try_cut(shrinker *s)
{
  if (!threaded_kind(s->res->kind)) return 0;
  uint64_t at = s->best_out.first + 1;
  uint64_t lens[2] = { at, at * 2 };
  for (int i = 0; i < 2; i++) {
    if (lens[i] >= s->best.exchanges) continue;
    cand c = s->best;
    c.exchanges = lens[i];
    drop_late(&c);
    char what[96];
    snprintf(what, sizeof what, "stop after exchange %llu", (unsigned long long)lens[i] - 1);
    if (attempt(s, &c, what)) return 1;
  }
  return 0;
}

/* ddmin over the faults (which = 0) or the injections (1) of the best run:
 * the empty list first, then halves, then complements, with finer chunks
 * until single items cannot be removed. */
static int ddmin(shrinker *s, int which)
{
  const char *what = which ? "injections" : "faults";
  int changed = 0;
  unsigned n = 2;
  for (;;) {
    unsigned len = which ? s->best.ninj : s->best.nfail;
    if (!len || s->res->limit || s->trouble) return changed;
    cand c = s->best;
    char trying[96];
    if (which) c.ninj = 0;
    else c.nfail = 0;
    snprintf(trying, sizeof trying, "no %s (of %u)", what, len);
    c.exchanges = room(s);
    if (attempt(s, &c, trying)) return 1;
    if (len < 2) return changed;
    if (n > len) n = len;
    int reduced = 0;
    /* Chunk i of n: [i*len/n, (i+1)*len/n).  Keep it alone, then drop it. */
    for (int complement = 0; complement < 2 && !reduced; complement++)
      for (unsigned i = 0; i < n && !reduced; i++) {
        unsigned lo = i * len / n, hi = (i + 1) * len / n, m = 0;
        c = s->best;
        c.exchanges = room(s);
        for (unsigned k = 0; k < len; k++) {
          int in = k >= lo && k < hi;
          if (in == complement) continue;
          if (which) c.inj[m++] = s->best.inj[k];
          else c.fail[m++] = s->best.fail[k];
        }
        if (which) c.ninj = m;
        else c.nfail = m;
        if (m == 0 || m == len) continue;
        snprintf(trying, sizeof trying, "%u of %u %s", m, len, what);
        if (attempt(s, &c, trying)) {
          reduced = 1;
          n = complement ? (n > 2 ? n - 1 : 2) : 2;
        }
      }
    if (reduced) {
      changed = 1;
      continue;
    }
    if (n >= len) return changed;
    n = n * 2 < len ? n * 2 : len;
  }
}

/* The lattice coordinate x of D scaled to D2: faces stay faces. */
static uint32_t rescale_cell(uint32_t cell, uint32_t d, uint32_t d2)
{
  uint32_t s = (uint32_t)__builtin_ctz(d), m = d - 1;
  uint32_t x = cell >> (2 * s), y = (cell >> s) & m, z = cell & m;
  x = x * d2 / d;
  y = y * d2 / d;
  z = z * d2 / d;
  return (x * d2 + y) * d2 + z;
}

static void dedupe_faults(cand *c)
{
  unsigned n = 0;
  for (unsigned i = 0; i < c->nfail; i++) {
    int dup = 0;
    for (unsigned k = 0; k < n; k++) dup |= c->fail[k].torus == c->fail[i].torus && c->fail[k].exchange == c->fail[i].exchange;
    if (!dup) c->fail[n++] = c->fail[i];
  }
  c->nfail = n;
}

/* Fewer tori: 2, half, one less, smallest first.  Injections and faults of
 * a torus that goes move to torus (t mod N). */
static int fewer_tori(shrinker *s)
{
  uint32_t n = s->best.tori, opts[3] = { 2, n / 2, n - 1 };
  for (int i = 0; i < 3; i++) {
    uint32_t t = opts[i];
    if (t < 2 || t >= n || (i > 0 && t <= opts[i - 1])) continue;
    cand c = s->best;
    c.tori = t;
    c.exchanges = room(s);
    for (unsigned k = 0; k < c.ninj; k++) c.inj[k].torus %= t;
    for (unsigned k = 0; k < c.nfail; k++) c.fail[k].torus %= t;
    dedupe_faults(&c);
    char trying[64];
    snprintf(trying, sizeof trying, "%u tori", t);
    if (attempt(s, &c, trying)) return 1;
  }
  return 0;
}

/* A smaller lattice: D = 8, 16, ... below the current one, smallest first;
 * injected cells keep their place relative to the faces. */
static int smaller_lattice(shrinker *s)
{
  for (uint32_t d = 8; d < s->best.dim; d *= 2) {
    cand c = s->best;
    c.dim = d;
    c.exchanges = room(s);
    for (unsigned k = 0; k < c.ninj; k++) c.inj[k].cell = rescale_cell(c.inj[k].cell, s->best.dim, d);
    char trying[64];
    snprintf(trying, sizeof trying, "D=%u", d);
    if (attempt(s, &c, trying)) return 1;
  }
  return 0;
}

/* Fewer exchanges before the failure: every injection and fault earlier by
 * the same amount (faults not before exchange 1), by all of it first. */
static int earlier(shrinker *s)
{
  uint64_t m = UINT64_MAX;
  for (unsigned k = 0; k < s->best.ninj; k++)
    if (s->best.inj[k].exchange + 1 < m) m = s->best.inj[k].exchange + 1;
  for (unsigned k = 0; k < s->best.nfail; k++)
    if (s->best.fail[k].exchange < m) m = s->best.fail[k].exchange;
  if (m == UINT64_MAX || m <= 1) return 0;
  uint64_t shifts[2] = { m - 1, (m - 1) / 2 };
  for (int i = 0; i < 2; i++) {
    if (!shifts[i] || (i && shifts[i] == shifts[0])) continue;
    cand c = s->best;
    c.exchanges = room(s);
    for (unsigned k = 0; k < c.ninj; k++) c.inj[k].exchange -= shifts[i];
    for (unsigned k = 0; k < c.nfail; k++) c.fail[k].exchange -= shifts[i];
    char trying[96];
    snprintf(trying, sizeof trying, "injections and faults %llu exchanges earlier", (unsigned long long)shifts[i]);
    outcome o;
    if (judge_cand(s, &c, trying, &o) && o.first < s->best_out.first) {
      accept(s, &c, &o);
      return 1;
    }
  }
  return 0;
}

/* A smaller interval: kept only when the run up to the failure then
 * processes fewer events without the failure showing later (fewer events
 * per epoch would otherwise stretch the run over more exchanges). */
static int smaller_interval(shrinker *s)
{
  uint32_t cur = s->best.interval, opts[2] = { cur / 10, cur / 2 };
  for (int i = 0; i < 2; i++) {
    uint32_t v = opts[i];
    if (v < 1 || v >= cur) continue;
    cand c = s->best;
    c.interval = v;
    if (c.interval_min > v) c.interval_min = v;
    c.exchanges = room(s);
    char trying[64];
    snprintf(trying, sizeof trying, "interval %u", v);
    outcome o;
    if (judge_cand(s, &c, trying, &o) && o.events < s->best_out.events && o.first <= s->best_out.first) {
      accept(s, &c, &o);
      return 1;
    }
  }
  return 0;
}

/* Model parameters at their defaults, one at a time. */
static int default_params(shrinker *s)
{
  int changed = 0;
  for (unsigned i = 0; i < s->nparams; i++) {
    const braid_param_spec *p = &s->model->params[i];
    if (s->best.params[i] == p->def) continue;
    cand c = s->best;
    c.params[i] = p->def;
    c.exchanges = room(s);
    char trying[96];
    snprintf(trying, sizeof trying, "-p %s=%lld (its default)", p->name, (long long)p->def);
    changed |= attempt(s, &c, trying);
  }
  return changed;
}

/* Other seeds (opts->seeds): kept when the failure shows earlier. */
static int other_seeds(shrinker *s)
{
  for (uint64_t seed = 1; seed <= 4; seed++) {
    if (seed == s->best.seed) continue;
    cand c = s->best;
    c.seed = seed;
    c.exchanges = room(s);
    char trying[64];
    snprintf(trying, sizeof trying, "seed %llu", (unsigned long long)seed);
    outcome o;
    if (judge_cand(s, &c, trying, &o) && o.first < s->best_out.first) {
      accept(s, &c, &o);
      return 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------- the trace */

/* Reads the recorded run: settings, injections, faults, and the failure. */
static int read_trace(shrinker *s, braid_trace *t, cand *c, char *err, size_t errlen)
{
  const braid_trace_info *info = braid_trace_get_info(t);
  braid_config *cfg;
  int rc;
  if ((rc = braid_config_create(&cfg))) return rc;
  if (s->plugin && (rc = braid_config_set_model(cfg, s->model))) {
    braid__fmt(err, errlen, "%s", braid_config_error(cfg));
    braid_config_destroy(cfg);
    return rc;
  }
  if ((rc = braid__config_parse_text(cfg, info->config_text, strlen(info->config_text)))) {
    braid__fmt(err, errlen, "bad settings in the header: %s", braid_config_error(cfg));
    braid_config_destroy(cfg);
    return rc;
  }
  memset(c, 0, sizeof *c);
  const int64_t *v = cfg->v;
  c->tori = (uint32_t)v[BRAID_K_tori];
  c->dim = (uint32_t)v[BRAID_K_dim];
  c->interval = (uint32_t)v[BRAID_K_interval];
  c->interval_min = (uint32_t)v[BRAID_K_interval_min];
  c->seed = (uint64_t)v[BRAID_K_seed];
  s->header_chaos = (uint64_t)v[BRAID_K_chaos];
  s->heartbeat_ms = v[BRAID_K_heartbeat_ms];
  for (unsigned i = 0; i < cfg->nfail; i++) c->fail[c->nfail++] = (fault){ cfg->fail[i].torus, cfg->fail[i].exchange };
  int64_t params[BRAID_MAX_PARAMS];
  if ((rc = braid__config_params(cfg, params))) {
    braid__fmt(err, errlen, "bad parameters in the header: %s", braid_config_error(cfg));
    braid_config_destroy(cfg);
    return rc;
  }
  s->nparams = 0;
  for (const braid_param_spec *p = s->model->params; p && p->name && s->nparams < BRAID_MAX_PARAMS; p++) {
    c->params[s->nparams] = params[s->nparams];
    s->nparams++;
  }
  braid_config_destroy(cfg);

  /* The failure: the first of each kind, in stream order. */
  braid_record r;
  uint64_t exchanges = 0, first_check = UINT64_MAX, first_over = UINT64_MAX, first_hb = UINT64_MAX, first_dev = UINT64_MAX;
  uint32_t code = 0;
  char msg[BRAID_CHECK_MESSAGE_MAX] = "";
  uint64_t maxdev = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    switch (r.type) {
    case BRAID_REC_EXCHANGE: exchanges = r.field[BRAID_F_EXCHANGE_K] + 1; break;
    case BRAID_REC_INJECTION:
      if (c->ninj >= MAX_INJ) {
        braid__fmt(err, errlen, "more than %d injections: cannot shrink this trace", MAX_INJ);
        return BRAID_ELIMIT;
      }
      if (r.field[BRAID_F_INJECTION_TORUS] >= 16 || r.field[BRAID_F_INJECTION_CELL] > UINT32_MAX) {
        braid__fmt(err, errlen, "an injection names torus %llu, cell %llu: the trace is corrupt", (unsigned long long)r.field[0], (unsigned long long)r.field[1]);
        return BRAID_ECORRUPT;
      }
      c->inj[c->ninj++] = (inj){ (uint32_t)r.field[BRAID_F_INJECTION_TORUS], (uint32_t)r.field[BRAID_F_INJECTION_CELL],
                                 (int32_t)r.sfield[BRAID_F_INJECTION_PAYLOAD], r.exchange };
      break;
    case BRAID_REC_CHECK:
      if (first_check == UINT64_MAX) {
        first_check = r.exchange;
        code = (uint32_t)r.field[BRAID_F_CHECK_CODE];
        size_t n = r.bloblen < sizeof msg - 1 ? r.bloblen : sizeof msg - 1;
        for (size_t i = 0; i < n; i++) msg[i] = r.blob[i] >= 0x20 && r.blob[i] < 0x7f ? (char)r.blob[i] : '?';
        msg[n] = 0;
      }
      break;
    case BRAID_REC_OVERFLOW:
      if (first_over == UINT64_MAX && (r.field[BRAID_F_OVERFLOW_OVERFLOWS] || r.field[BRAID_F_OVERFLOW_HORIZON_ERRORS])) first_over = r.exchange;
      break;
    case BRAID_REC_FAILURE:
      if (first_hb == UINT64_MAX && r.field[BRAID_F_FAILURE_REASON] == BRAID_FAIL_HEARTBEAT) first_hb = r.exchange;
      break;
    case BRAID_REC_BOUNDARY:
      if (r.field[BRAID_F_BOUNDARY_MAX_DEV] > maxdev) maxdev = r.field[BRAID_F_BOUNDARY_MAX_DEV];
      if (first_dev == UINT64_MAX && s->o->deviation && r.field[BRAID_F_BOUNDARY_MAX_DEV] > s->o->deviation) first_dev = r.exchange;
      break;
    default: break;
    }
  }
  if (rc != BRAID_EEOF || info->truncated) {
    braid__fmt(err, errlen, "%s", braid_trace_error(t)[0] ? braid_trace_error(t) : "the trace is truncated");
    return rc == BRAID_EEOF ? BRAID_ETRUNCATED : rc;
  }
  if (!exchanges) {
    braid__fmt(err, errlen, "no complete exchange in the trace");
    return BRAID_ETRUNCATED;
  }
  c->exchanges = exchanges;
  s->limit_exchanges = exchanges;
  braid_shrink_result *res = s->res;
  res->before.failure_exchange = 0;
  if (s->o->divergence) {
    res->kind = BRAID_SHRINK_DIVERGENCE;
    braid__fmt(res->failure, sizeof res->failure, "a divergence between the threaded run and sequential execution");
  } else if (s->o->deviation) {
    if (first_dev != UINT64_MAX) {
      res->kind = BRAID_SHRINK_DEVIATION;
      res->before.failure_exchange = first_dev;
      braid__fmt(res->failure, sizeof res->failure, "a boundary deviation above %llu (first at exchange %llu)", (unsigned long long)s->o->deviation,
                 (unsigned long long)first_dev);
    } else {
      braid__fmt(res->note, sizeof res->note, "nothing to shrink: no boundary deviation above %llu in the trace (the largest is %llu)",
                 (unsigned long long)s->o->deviation, (unsigned long long)maxdev);
    }
  } else if (first_check != UINT64_MAX) {
    res->kind = BRAID_SHRINK_CHECK;
    s->code = code;
    res->before.failure_exchange = first_check;
    braid__fmt(res->failure, sizeof res->failure, "model check code %u (%s), first at exchange %llu", code, msg[0] ? msg : "no message",
               (unsigned long long)first_check);
  } else if (first_over != UINT64_MAX) {
    res->kind = BRAID_SHRINK_OVERFLOW;
    res->before.failure_exchange = first_over;
    braid__fmt(res->failure, sizeof res->failure, "a queue overflow (events refused), first at exchange %llu", (unsigned long long)first_over);
  } else if (first_hb != UINT64_MAX) {
    res->kind = BRAID_SHRINK_FAILED;
    res->before.failure_exchange = first_hb;
    braid__fmt(res->failure, sizeof res->failure, "a torus failed by the heartbeat, first at exchange %llu", (unsigned long long)first_hb);
  } else {
    braid__fmt(res->note, sizeof res->note,
               "nothing to shrink: the trace shows no failed model check, queue overflow or failed torus (see --deviation and --divergence)");
  }
  return 0;
}

/* ------------------------------------------------------ command line */

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
  size_t off = strlen(buf);
  if (off >= len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + off, len - off, fmt, ap);
  va_end(ap);
}

/* A word for the shell: as it is when it is plain, else in single quotes. */
static const char *shell_word(const char *w, char *buf, size_t len)
{
  if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@,+-%") == strlen(w)) return w;
  size_t o = 0;
  buf[o++] = '\'';
  for (; *w && o + 5 < len; w++) {
    if (*w == '\'') {
      memcpy(buf + o, "'\\''", 4);
      o += 4;
    } else buf[o++] = *w;
  }
  buf[o++] = '\'';
  buf[o] = 0;
  return buf;
}

static const char *const own_option[] = { "model", "seed", "tori", "dim", "exchanges", "interval", "interval_min", "fail" };

static void command_line(shrinker *s, const cand *c, uint64_t chaos, char *out, size_t len)
{
  char q[1024];
  braid_config *def = NULL;
  out[0] = 0;
  append(out, len, "braid-record");
  if (s->plugin) append(out, len, " --model-plugin %s", shell_word(s->o->model_spec ? s->o->model_spec : s->model->name, q, sizeof q));
  else append(out, len, " --model %s", s->model->name);
  for (unsigned i = 0; i < s->nparams; i++)
    if (c->params[i] != s->model->params[i].def) append(out, len, " -p %s=%lld", s->model->params[i].name, (long long)c->params[i]);
  append(out, len, " --seed %llu -n %u -d %u -x %llu -i %u", (unsigned long long)c->seed, c->tori, c->dim, (unsigned long long)c->exchanges, c->interval);
  /* Every other logical setting the recording changed. */
  if (braid_config_create(&def) == 0) {
    char defi[32];
    snprintf(defi, sizeof defi, "%s", braid_config_get(def, "interval_min"));
    if (strtoull(defi, NULL, 10) != c->interval_min) append(out, len, " --interval-min %u", c->interval_min);
    for (const char *p = s->text; *p;) {
      const char *eol = strchr(p, '\n');
      size_t n = eol ? (size_t)(eol - p) : strlen(p);
      char line[256];
      snprintf(line, sizeof line, "%.*s", (int)n, p);
      p += n + (eol ? 1 : 0);
      char *eq = strchr(line, '=');
      if (!eq || !strncmp(line, "p.", 2)) continue;
      *eq = 0;
      int own = 0;
      for (size_t i = 0; i < sizeof own_option / sizeof own_option[0]; i++) own |= !strcmp(line, own_option[i]);
      const char *dv = braid_config_get(def, line);
      if (own || braid__setting_is_logical(line, strlen(line)) != 1 || !dv || !strcmp(dv, eq + 1)) continue;
      append(out, len, " --set %s=%s", line, eq + 1);
    }
    braid_config_destroy(def);
  }
  for (unsigned i = 0; i < c->nfail; i++) append(out, len, " --fail %c@%llu", 'A' + (int)c->fail[i].torus, (unsigned long long)c->fail[i].exchange);
  for (unsigned i = 0; i < c->ninj; i++)
    append(out, len, " --inject %c@%llu:%u=%d", 'A' + (int)c->inj[i].torus, (unsigned long long)c->inj[i].exchange, c->inj[i].cell, c->inj[i].payload);
  if (threaded_kind(s->res->kind)) {
    append(out, len, " -t %u --chaos %llu", s->o->threads < c->tori ? s->o->threads : c->tori, (unsigned long long)chaos);
    if (s->res->kind == BRAID_SHRINK_FAILED) append(out, len, " --heartbeat-ms %lld", (long long)s->heartbeat_ms);
  } else {
    append(out, len, " --sequential");
  }
  const char *o = s->o->out_name ? s->o->out_name : s->o->out;
  if (o) append(out, len, " -o %s", shell_word(o, q, sizeof q));
}

/* ----------------------------------------------------------- search */

/* The small run, once more: its trace (opts->out) and, for a timing-
 * dependent failure, how many of `tries` runs with the chosen chaos seed
 * show it (the first that does is the trace kept). */
static int final_run(shrinker *s)
{
  braid_shrink_result *res = s->res;
  const cand *c = &s->best;
  outcome o;
  int rc = 0;
  if (!threaded_kind(res->kind)) {
    judge j = { .s = s };
    if (s->o->out && (rc = run_one(s, c, 0, 0, &j, s->o->out, &o))) return rc;
    if (!s->o->out) o = s->best_out;
    shape_of(c, &o, &res->after);
    if (!o.failed) braid__fmt(res->note, sizeof res->note, "the small run did not show the failure again");
    return 0;
  }
  judge ref = { .s = s, .collect = 1 };
  if (res->kind == BRAID_SHRINK_DIVERGENCE) run_one(s, c, 0, 0, &ref, NULL, &o);
  res->chaos = s->best_out.chaos;
  res->tries = s->o->tries;
  int kept = 0;
  uint64_t events = 0;
  for (unsigned i = 0; i < s->o->tries; i++) {
    judge j = { .s = s, .ref = ref.hash, .nref = ref.nhash };
    const char *rec = s->o->out && !kept ? s->o->out : NULL;
    if ((rc = run_one(s, c, 1, res->chaos, &j, rec, &o))) break;
    if (o.failed) {
      res->reproduced++;
      if (rec) kept = 1;
    }
    if (rec || !events) events = o.events;
  }
  free(ref.hash);
  o.events = events;
  o.first = s->best_out.first;
  shape_of(c, &o, &res->after);
  if (!rc && s->o->out && !kept)
    braid__fmt(res->note, sizeof res->note, "none of %u runs of the small settings with chaos %llu showed the divergence again; %s holds the last",
               s->o->tries, (unsigned long long)res->chaos, s->o->out);
  return rc;
}

void braid_shrink_opts_init(braid_shrink_opts *o)
{
  memset(o, 0, sizeof *o);
  o->tries = 8;
  o->threads = 2;
  o->max_runs = 200;
  o->max_seconds = 600;
  o->run_seconds = 60;
}

int braid_shrink(const char *path, const braid_shrink_opts *opts, braid_shrink_result *res, char *err, size_t errlen)
{
  braid_shrink_opts defaults;
  shrinker s;
  braid_trace *t = NULL;
  int rc;
  if (err && errlen) err[0] = 0;
  BRAID_RETURN_IF(!path || !res, BRAID_EINVAL);
  if (!opts) {
    braid_shrink_opts_init(&defaults);
    opts = &defaults;
  }
  memset(res, 0, sizeof *res);
  if (!opts->tries || !opts->threads || !opts->max_runs || !(opts->max_seconds > 0) || !(opts->run_seconds > 0)) {
    braid__fmt(err, errlen, "tries, threads, max_runs, max_seconds and run_seconds must be positive");
    return BRAID_EINVAL;
  }
  memset(&s, 0, sizeof s);
  s.o = opts;
  s.res = res;
  s.t0 = braid__now_ns();
  if ((rc = braid_trace_open(&t, path, err, errlen))) return rc;
  const braid_trace_info *info = braid_trace_get_info(t);
  s.text = info->config_text;
  /* The model, as braid_replay() checks it. */
  const char *recorded = info->plugin ? info->plugin : "";
  if (recorded[0]) {
    char given[512];
    if (!opts->model) {
      braid__fmt(err, errlen, "%s: recorded with the model plugin '%s'; give that plugin (--model-plugin) to shrink it", path, recorded);
      rc = BRAID_EMISMATCH;
      goto out;
    }
    braid__model_id(opts->model, given, sizeof given);
    if (strcmp(given, recorded)) {
      braid__fmt(err, errlen, "%s: plugin mismatch: recorded with '%s', given '%s' (name, version, xxh3 of the file)", path, recorded, given);
      rc = BRAID_EMISMATCH;
      goto out;
    }
    s.model = opts->model;
    s.plugin = 1;
  } else {
    if (opts->model) {
      braid__fmt(err, errlen, "%s: recorded with a built-in model, not a model plugin; shrink it without one", path);
      rc = BRAID_EMISMATCH;
      goto out;
    }
    s.model = braid_find_model(info->model);
    if (!s.model) {
      braid__fmt(err, errlen, "%s: the header names the model '%s', which this build does not have", path, info->model ? info->model : "");
      rc = BRAID_EMISMATCH;
      goto out;
    }
  }
  cand base;
  char why[512] = "";
  if ((rc = read_trace(&s, t, &base, why, sizeof why))) {
    braid__fmt(err, errlen, "%s: %s", path, why);
    goto out;
  }
  res->before = (braid_shrink_shape){ base.exchanges, base.tori, base.dim, base.interval, base.interval_min, base.ninj, base.nfail,
                                      info->total_events, base.seed, res->before.failure_exchange };
  if (res->kind == BRAID_SHRINK_NONE) goto out;

  /* The recorded settings must show the failure again before anything is
   * reduced; the cut to just after it comes with that run. */
  s.best = base;
  outcome o;
  if (!judge_cand(&s, &base, "the recorded settings", &o)) {
    if (!s.trouble)
      braid__fmt(res->note, sizeof res->note, "%s",
                 threaded_kind(res->kind) ? "the recorded settings showed no such failure under any of the chaos seeds tried"
                 : res->limit ? "the budget ran out before the recorded settings were judged"
                              : "the recorded settings do not show the failure on a sequential run (a timing-dependent failure? try --divergence)");
    shape_of(&base, &o, &res->after);
    goto out;
  }
  accept(&s, &base, &o);
  res->shrank = base.exchanges > s.best.exchanges;
  res->before.failure_exchange = o.first;
  /* Passes until nothing more goes (or the budget is spent). */
  for (int pass = 0; pass < 4 && !res->limit; pass++) {
    int changed = try_cut(&s);
    changed |= ddmin(&s, 0);
    changed |= ddmin(&s, 1);
    changed |= fewer_tori(&s);
    changed |= smaller_lattice(&s);
    changed |= earlier(&s);
    changed |= try_cut(&s);
    changed |= smaller_interval(&s);
    changed |= default_params(&s);
    if (opts->seeds) changed |= other_seeds(&s);
    if (!changed) break;
  }
  if ((rc = final_run(&s))) {
    braid__fmt(err, errlen, "%s", s.err);
    goto out;
  }
  command_line(&s, &s.best, res->chaos, res->command, sizeof res->command);
  if (res->shrank && s.best.tori > 2 && !res->note[0])
    braid__fmt(res->note, sizeof res->note, "no run with fewer than %u tori showed the failure", s.best.tori);
out:
  res->seconds = elapsed(&s);
  braid_trace_close(t);
  return rc;
}
