/* replay.c - single-threaded replay of a trace and comparison of logical
 * record streams (replay against recording, and trace against trace). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "footprint.h"
#include "runtime.h"

/* ------------------------------------------------------------- decisions */

typedef struct decision {
  uint32_t kind; /* 1 injection, 2 heartbeat failure, 3 rate interval */
  uint32_t torus; /* UINT32_MAX for any torus number beyond it (refused) */
  uint64_t exchange;
  uint64_t a, b, c; /* injection: cell payload seq; interval: new */
} decision;

/* Recorded decisions a replay holds (40 bytes each: 160 MiB), documented in
 * braid-trace(5). */
#define BRAID_MAX_DECISIONS ((size_t)1 << 22)

struct braid__decisions {
  decision *v;
  size_t n, cap;
  braid__injection scratch[256];
};

static int add_decision(braid__decisions *d, decision x)
{
  if (d->n == d->cap) {
    size_t nc = d->cap ? d->cap * 2 : 64;
    if (nc > BRAID_MAX_DECISIONS) return BRAID_ELIMIT;
    decision *n = realloc(d->v, nc * sizeof *n);
    if (!n) return BRAID_ENOMEM;
    d->v = n;
    d->cap = nc;
  }
  d->v[d->n++] = x;
  return 0;
}

/* The first decision of torus r at exchange k or after: the list is in
 * (exchange, torus) order (check_decisions), so every lookup bisects
 * rather than walking decisions of the whole run at every exchange. */
static size_t first_decision(const braid__decisions *d, uint32_t r, uint64_t k)
{
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const decision *x = &d->v[mid];
    if (x->exchange < k || (x->exchange == k && x->torus < r)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int braid__decisions_injections(braid__decisions *d, uint32_t r, uint64_t k, braid__injection **out, size_t *n)
{
  size_t m = 0;
  for (size_t i = first_decision(d, r, k); i < d->n && d->v[i].exchange == k && d->v[i].torus == r && m < 256; i++)
    if (d->v[i].kind == 1) d->scratch[m++] = (braid__injection){ r, (uint32_t)d->v[i].a, (int32_t)(int64_t)d->v[i].b, d->v[i].c, k };
  *out = d->scratch;
  *n = m;
  return 0;
}

int braid__decisions_failure(braid__decisions *d, uint32_t r, uint64_t k)
{
  for (size_t i = first_decision(d, r, k); i < d->n && d->v[i].exchange == k && d->v[i].torus == r; i++)
    if (d->v[i].kind == 2) return BRAID_FAIL_HEARTBEAT;
  return 0;
}

int braid__decisions_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t *interval)
{
  for (size_t i = first_decision(d, r, k); i < d->n && d->v[i].exchange == k && d->v[i].torus == r; i++)
    if (d->v[i].kind == 3) *interval = (uint32_t)d->v[i].a;
  return 0;
}

/* Every recorded decision is checked against the settings before the
 * replay follows one: the torus exists, an injected cell is in the lattice
 * with a 32-bit payload, a rate interval lies within interval_min..max (a
 * recording clamps it there), at most 256 injections per torus and exchange
 * (what the replay applies), and the list is in stream order, as a
 * recording writes it (exchanges ascending, tori ascending within one). */
static int check_decisions(const braid__decisions *d, const braid_config *cfg, const char *path, char *err, size_t errlen)
{
  static const char *what[] = { "", "injection", "failure", "interval" };
  const int64_t *v = cfg->v;
  uint64_t ncells = (uint64_t)v[BRAID_K_dim] * (uint64_t)v[BRAID_K_dim] * (uint64_t)v[BRAID_K_dim];
  size_t run = 0;
  for (size_t i = 0; i < d->n; i++) {
    const decision *x = &d->v[i], *prev = i ? &d->v[i - 1] : NULL;
    const char *bad = NULL;
    if (x->torus >= (uint64_t)v[BRAID_K_tori]) bad = "names a torus the run does not have";
    else if (prev && (x->exchange < prev->exchange || (x->exchange == prev->exchange && x->torus < prev->torus))) bad = "is out of stream order";
    else if (x->kind == 1 && x->a >= ncells) bad = "names a cell outside the lattice";
    else if (x->kind == 1 && ((int64_t)x->b < INT32_MIN || (int64_t)x->b > INT32_MAX)) bad = "carries a payload beyond 32 bits";
    else if (x->kind == 3 && ((int64_t)x->a < v[BRAID_K_interval_min] || (int64_t)x->a > v[BRAID_K_interval_max])) bad = "lies outside interval_min..interval_max";
    run = x->kind == 1 && prev && prev->kind == 1 && prev->exchange == x->exchange && prev->torus == x->torus ? run + 1 : x->kind == 1;
    if (!bad && run > 256) bad = "is one of more than 256 injections of one torus at one exchange";
    if (bad) {
      braid__fmt(err, errlen, "%s: the recorded %s of torus %llu at exchange %llu (value %llu) %s", path, what[x->kind],
                 (unsigned long long)x->torus, (unsigned long long)x->exchange, (unsigned long long)x->a, bad);
      return BRAID_ECORRUPT;
    }
  }
  return 0;
}

/* ---------------------------------------------------------- comparison */

/* Digests and hashes print in hex, as braid-dump prints them, so that a
 * value seen in one can be searched for in the other. */
static int field_is_hex(const char *f) { return f && (!strcmp(f, "digest") || !strcmp(f, "hash")); }

static void fmt_record(char *buf, size_t len, const char *side, const braid_record *r)
{
  const char *name = braid_record_type_name(r->type);
  size_t off = (size_t)snprintf(buf, len, "  %s %s", side, name ? name : "type");
  if (!name && off < len) off += (size_t)snprintf(buf + off, len - off, "%u", r->type);
  for (unsigned i = 0; i < r->nfields && off < len; i++) {
    int sg = 0;
    const char *f = braid_record_field_name(r->type, i, &sg);
    if (field_is_hex(f)) off += (size_t)snprintf(buf + off, len - off, " %s=%016llx", f, (unsigned long long)r->field[i]);
    else if (sg) off += (size_t)snprintf(buf + off, len - off, " %s=%lld", f ? f : "?", (long long)r->sfield[i]);
    else off += (size_t)snprintf(buf + off, len - off, " %s=%llu", f ? f : "?", (unsigned long long)r->field[i]);
  }
  if (off < len) snprintf(buf + off, len - off, "\n");
}

static int same_record(const braid_record *a, const braid_record *b)
{
  return a && b && a->type == b->type && a->nfields == b->nfields && !memcmp(a->field, b->field, a->nfields * sizeof a->field[0]);
}

/* Fills d for the first difference between a and b (same position), or
 * returns 0 if they are equal. */
static int compare_records(const braid_record *a, const braid_record *b, uint64_t k, braid_divergence *d)
{
  memset(d, 0, sizeof *d);
  d->exchange = k;
  if (same_record(a, b)) return 0;
  const braid_record *any = a ? a : b;
  const char *name = braid_record_type_name(any->type);
  snprintf(d->record, sizeof d->record, "%s", name ? name : "unknown");
  d->torus = any->type != BRAID_REC_EXCHANGE && any->nfields > 0 ? (int64_t)any->field[0] : -1;
  if (!a || !b || a->type != b->type) {
    snprintf(d->field, sizeof d->field, "%s", !a || !b ? "presence" : "type");
    d->expected = a ? a->type : 0;
    d->actual = b ? b->type : 0;
    return 1;
  }
  unsigned n = a->nfields > b->nfields ? a->nfields : b->nfields;
  for (unsigned i = 0; i < n; i++) {
    uint64_t x = i < a->nfields ? a->field[i] : 0, y = i < b->nfields ? b->field[i] : 0;
    if (x == y && i < a->nfields && i < b->nfields) continue;
    const char *f = braid_record_field_name(a->type, i, &d->field_signed);
    snprintf(d->field, sizeof d->field, "%s", f ? f : "field");
    d->field_hex = field_is_hex(f);
    d->expected = x;
    d->actual = y;
    return 1;
  }
  return 1;
}

typedef struct window {
  braid_record r[64];
  size_t n;
} window;

/* Reads the logical records of the next exchange from a trace, given that
 * the EXCHANGE record opening it was already read into *open.  Leaves the
 * next EXCHANGE in *open.  Returns 0, or BRAID_EEOF after the last exchange,
 * or a negative error. */
typedef struct stream {
  braid_trace *t;
  braid_record open;
  int have_open;
  int end;      /* 0 running; else the code that ended it (EEOF/ETRUNCATED/...) */
  braid_record *v;
  size_t n, cap;
  uint64_t max_records; /* per exchange, from the header's settings (footprint.h) */
  char why[256];        /* what ended it, when the trace's message does not say */
  /* Timing, from barrier records (braid-diff --timing).  events: the
   * projections' cumulative counts; events0 and end0_ns as they were after
   * the first exchange read, which need not be exchange 0. */
  double epoch_ns, wait_ns, exchange_ns;
  uint64_t barriers, end_ns, events[16];
  uint64_t nread, end0_ns, events0[16];
} stream;

static int stream_next_exchange(stream *s, uint64_t *k)
{
  s->n = 0;
  while (!s->have_open && !s->end) {
    int rc = braid_trace_next(s->t, &s->open);
    if (rc) {
      s->end = rc;
      break;
    }
    if (s->open.type == BRAID_REC_EXCHANGE) s->have_open = 1;
  }
  if (!s->have_open) return s->end ? s->end : BRAID_EEOF;
  *k = s->open.field[0];
  s->have_open = 0;
  if (s->cap == 0) {
    s->cap = 256;
    s->v = malloc(s->cap * sizeof *s->v);
    if (!s->v) return BRAID_ENOMEM;
  }
  s->v[s->n++] = s->open;
  for (;;) {
    braid_record r;
    int rc = braid_trace_next(s->t, &r);
    if (rc) {
      s->end = rc;
      break;
    }
    if (r.type == BRAID_REC_EXCHANGE) {
      s->open = r;
      s->have_open = 1;
      break;
    }
    if (r.type == BRAID_REC_BARRIER && r.nfields >= 6) {
      s->epoch_ns += (double)r.field[3];
      s->wait_ns += (double)r.field[4];
      s->exchange_ns += (double)r.field[5];
      s->barriers++;
      if (r.field[2] + r.field[3] > s->end_ns) s->end_ns = r.field[2] + r.field[3];
    }
    if (r.type == BRAID_REC_PROJECTION && r.field[0] < 16) s->events[r.field[0]] = r.field[1];
    if (!BRAID_RECORD_IS_LOGICAL(r.type)) continue;
    if (s->n >= s->max_records) {
      braid__fmt(s->why, sizeof s->why, "exchange %llu holds more than %llu records, the most the header's settings can produce", (unsigned long long)*k,
                 (unsigned long long)s->max_records);
      return BRAID_ELIMIT;
    }
    if (s->n == s->cap) {
      braid_record *nv = realloc(s->v, s->cap * 2 * sizeof *nv);
      if (!nv) {
        braid__fmt(s->why, sizeof s->why, "out of memory reading exchange %llu", (unsigned long long)*k);
        return BRAID_ENOMEM;
      }
      s->v = nv;
      s->cap *= 2;
    }
    s->v[s->n++] = r;
  }
  if (!s->nread++) {
    memcpy(s->events0, s->events, sizeof s->events);
    s->end0_ns = s->end_ns;
  }
  return 0;
}

/* Appends one record to d->context, ">" marking the difference. */
static void context_line(braid_divergence *d, size_t *off, int mark, const char *side, const braid_record *r)
{
  char line[512];
  if (*off >= sizeof d->context) return;
  fmt_record(line, sizeof line, side, r);
  *off += (size_t)snprintf(d->context + *off, sizeof d->context - *off, "%s%s", mark ? ">" : " ", line);
}

static void add_context(braid_divergence *d, const braid_record *a, size_t na, const braid_record *b, size_t nb, size_t at,
                        const char *la, const char *lb)
{
  size_t off = strlen(d->context);
  size_t lo = at > 3 ? at - 3 : 0;
  for (size_t i = lo; i < at + 4; i++) {
    if (i < na) context_line(d, &off, i == at, la, &a[i]);
    if (i < nb && (i >= na || !same_record(&a[i], &b[i]))) context_line(d, &off, i == at, lb, &b[i]);
  }
}

/* ------------------------------------------------------------------ replay */

typedef struct replay_ctx {
  braid_runtime *rt;
  stream rec; /* the recording */
  const braid_replay_opts *o;
  braid_replay_result *res;
  braid_record *mine;
  size_t nmine, capmine;
} replay_ctx;

static int decode_block(replay_ctx *x, const uint8_t *p, size_t len)
{
  const uint8_t *end = p + len;
  x->nmine = 0;
  while (p < end) {
    braid_record r;
    BRAID_FORWARD(braid__rec_decode(&p, end, &r));
    if (!BRAID_RECORD_IS_LOGICAL(r.type)) continue;
    if (x->nmine == x->capmine) {
      size_t nc = x->capmine ? x->capmine * 2 : 256;
      braid_record *nv = realloc(x->mine, nc * sizeof *nv);
      if (!nv) return BRAID_ENOMEM;
      x->mine = nv;
      x->capmine = nc;
    }
    x->mine[x->nmine++] = r;
  }
  return 0;
}

static void note_violation(replay_ctx *x, uint64_t k, size_t at)
{
  braid_violation_info *v = &x->res->viol;
  const braid_record *b = &x->mine[at];
  memset(v, 0, sizeof *v);
  v->exchange = k;
  v->torus = (uint32_t)b->field[0];
  v->from = (uint32_t)b->field[1];
  v->checked = b->field[2];
  v->violations = b->field[3];
  v->max_dev = b->field[4];
  v->corrective_sum = b->sfield[5];
  uint32_t d = x->rt->dim, m = d - 1, s = (uint32_t)__builtin_ctz(d);
  for (size_t i = 0; i < x->nmine && v->ncells < BRAID_VIOLATION_MAX_CELLS; i++) {
    const braid_record *c = &x->mine[i];
    if (c->type != BRAID_REC_VCELL || c->field[0] != v->torus) continue;
    braid_violation_cell *vc = &v->cells[v->ncells++];
    vc->cell = (uint32_t)c->field[1];
    vc->x = vc->cell >> (2 * s);
    vc->y = (vc->cell >> s) & m;
    vc->z = vc->cell & m;
    vc->expected = c->sfield[2];
    vc->actual = c->sfield[3];
    vc->payload = (int32_t)c->sfield[4];
  }
  x->res->stopped_at_violation = 1;
}

static int replay_sink(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  replay_ctx *x = ud;
  uint64_t rk;
  int rc = decode_block(x, recs, len);
  if (rc) return rc;
  /* Skip recorded exchanges before this one (after a checkpoint). */
  do {
    rc = stream_next_exchange(&x->rec, &rk);
    if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) {
      braid__set_error(x->rt, BRAID_EINTR, "the recording ends before exchange %llu", (unsigned long long)k);
      return BRAID_EINTR;
    }
    if (rc) {
      braid__set_error(x->rt, rc, "%s", x->rec.why[0] ? x->rec.why : braid_trace_error(x->rec.t));
      return rc;
    }
  } while (rk < k);
  size_t n = x->nmine > x->rec.n ? x->nmine : x->rec.n;
  for (size_t i = 0; i < n; i++) {
    braid_divergence *d = &x->res->div;
    const braid_record *a = i < x->rec.n ? &x->rec.v[i] : NULL, *b = i < x->nmine ? &x->mine[i] : NULL;
    if (rk != k || compare_records(a, b, k, d)) {
      if (rk != k) {
        memset(d, 0, sizeof *d);
        d->exchange = k;
        d->torus = -1;
        snprintf(d->record, sizeof d->record, "exchange");
        snprintf(d->field, sizeof d->field, "k");
        d->expected = rk;
        d->actual = k;
      }
      add_context(d, x->rec.v, x->rec.n, x->mine, x->nmine, i, "recorded", "replayed");
      x->res->diverged = 1;
      braid__set_error(x->rt, BRAID_EDIVERGED, "diverged at exchange %llu", (unsigned long long)k);
      return BRAID_EDIVERGED;
    }
  }
  x->res->exchanges_checked++;
  /* Counted also without opts->violation (0 is never reached). */
  for (size_t i = 0; i < x->nmine; i++)
    if (x->mine[i].type == BRAID_REC_BOUNDARY && x->mine[i].field[3] > 0 && ++x->res->violations == x->o->violation) {
      note_violation(x, k, i);
      braid__set_error(x->rt, BRAID_EINTR, "stopped at violation %llu", (unsigned long long)x->o->violation);
      return BRAID_EINTR;
    }
  return 0;
}

void braid_replay_opts_init(braid_replay_opts *o)
{
  memset(o, 0, sizeof *o);
  o->until = UINT64_MAX;
  o->from = UINT64_MAX;
}

int braid__semantics_of(const char *build_id);
int braid__semantics_version(void);
const char *braid__build_id(void);
int braid__trace_checkpoint(braid_runtime *rt, uint64_t k, const uint8_t *blob, size_t len); /* record_file.c */

/* Reads up to the first EXCHANGE record: its k in *k and 1, or 0 when the
 * stream ends or fails first (the scan that follows meets the same end). */
static int first_exchange(braid_trace *t, uint64_t *k)
{
  braid_record r;
  *k = 0;
  while (braid_trace_next(t, &r) == 0)
    if (r.type == BRAID_REC_EXCHANGE) {
      *k = r.field[0];
      return 1;
    }
  return 0;
}

/* Collects recorded decisions and finds the end of the complete exchanges
 * (one past the last).  k: the exchange whose EXCHANGE record was read just
 * before, or UINT64_MAX. */
static int scan_decisions(braid_trace *t, const char *path, uint64_t k, braid__decisions *d, uint64_t *exchanges, char *err, size_t errlen)
{
  braid_record r;
  int rc;
  uint64_t seen = k == UINT64_MAX ? 0 : k + 1;
  if (k == UINT64_MAX) k = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    decision x = { 0 };
    switch (r.type) {
    case BRAID_REC_EXCHANGE:
      k = r.field[0];
      seen = k + 1;
      continue;
    case BRAID_REC_INJECTION:
      x = (decision){ 1, 0, k, r.field[1], r.field[2], r.field[3] };
      break;
    case BRAID_REC_FAILURE:
      if (r.field[1] != BRAID_FAIL_HEARTBEAT) continue;
      x = (decision){ 2, 0, k, 0, 0, 0 };
      break;
    case BRAID_REC_INTERVAL:
      if (r.field[3] != BRAID_INTERVAL_RATE) continue;
      x = (decision){ 3, 0, k, r.field[2], 0, 0 };
      break;
    default:
      continue;
    }
    x.torus = r.field[0] < UINT32_MAX ? (uint32_t)r.field[0] : UINT32_MAX;
    if ((rc = add_decision(d, x))) {
      braid__fmt(err, errlen, "%s: %s holding the recorded decisions (injections, failures, rate intervals; the limit is %zu) at exchange %llu", path,
                 rc == BRAID_ELIMIT ? "too many" : "out of memory", BRAID_MAX_DECISIONS, (unsigned long long)k);
      return rc;
    }
  }
  *exchanges = seen;
  if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) return 0;
  braid__fmt(err, errlen, "%s", braid_trace_error(t));
  return rc;
}

/* Checks the model given for the replay against the one the trace names:
 * a plugin's identity includes the hash of its file, so a rebuilt or another
 * plugin is refused (BRAID_EMISMATCH) unless opts->force, which turns the
 * refusal into a warning. */
static int check_model(const char *path, const braid_trace_info *info, const braid_replay_opts *opts, braid_replay_result *res, char *err,
                       size_t errlen)
{
  const char *rec = info->plugin ? info->plugin : "";
  char given[512];
  braid__model_id(opts->model, given, sizeof given);
  if (rec[0] && !opts->model) {
    braid__fmt(err, errlen, "%s: recorded with the model plugin '%s'; give that plugin (--model-plugin) to replay it", path, rec);
    return BRAID_EMISMATCH;
  }
  if (!strcmp(rec, given)) return 0;
  if (!rec[0]) {
    /* A built-in model's trace: the given model would be ignored. */
    if (opts->force) {
      size_t off = strlen(res->warning);
      if (off + 2 < sizeof res->warning)
        braid__fmt(res->warning + off, sizeof res->warning - off, "%sthe trace uses a built-in model; ignoring the plugin '%s'", off ? "; " : "",
                   given);
      return 0;
    }
    braid__fmt(err, errlen, "%s: recorded with a built-in model, not the model plugin '%s'; replay it without a plugin", path, given);
    return BRAID_EMISMATCH;
  }
  if (!opts->force) {
    braid__fmt(err, errlen, "%s: plugin mismatch: recorded with '%s', replaying with '%s' (name, version, xxh3 of the file); use --force to replay anyway",
               path, rec, given);
    return BRAID_EMISMATCH;
  }
  size_t off = strlen(res->warning);
  if (off + 2 < sizeof res->warning)
    braid__fmt(res->warning + off, sizeof res->warning - off, "%splugin mismatch forced: recorded with '%s', replaying with '%s'", off ? "; " : "",
               rec, given);
  return 0;
}

/* The header's settings with the model line naming `name`, so that a forced
 * replay with a differently named plugin parses; NULL when out of memory. */
static char *model_renamed(const char *text, const char *name)
{
  size_t len = strlen(text), nlen = strlen(name), lines = 1;
  /* Room for every model line: a hostile header may repeat it. */
  for (const char *p = text; (p = strstr(p, "model=")); p++) lines++;
  char *out = malloc(len + lines * (nlen + 8)), *o = out;
  if (!out) return NULL;
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
    if (!strncmp(p, "model=", 6)) o += sprintf(o, "model=%s\n", name);
    else {
      memcpy(o, p, n);
      o += n;
    }
    p += n;
  }
  *o = 0;
  return out;
}

int braid_replay(const char *path, const braid_replay_opts *opts, braid_replay_result *res, char *err, size_t errlen)
{
  braid_replay_opts defaults;
  braid_trace *scan = NULL;
  braid_config *cfg = NULL;
  braid__decisions dec = { 0 };
  replay_ctx x = { 0 };
  char *text = NULL;
  int rc;
  BRAID_RETURN_IF(!path || !res, BRAID_EINVAL);
  if (!opts) {
    braid_replay_opts_init(&defaults);
    opts = &defaults;
  }
  memset(res, 0, sizeof *res);
  /* The replay's own trace is created while the recording is still read:
   * the same file, under any name, hard link or symbolic link, would be
   * truncated under the reader and lost. */
  struct stat sin, sout;
  if (opts->out && stat(opts->out, &sout) == 0 && stat(path, &sin) == 0 && sin.st_dev == sout.st_dev && sin.st_ino == sout.st_ino) {
    braid__fmt(err, errlen, "%s: the output %s is the same file as the trace; write the replay's trace to another file", path, opts->out);
    return BRAID_EINVAL;
  }
  uint64_t t0 = braid__now_ns();
  if ((rc = braid_trace_open(&scan, path, err, errlen))) return rc;
  const braid_trace_info *info = braid_trace_get_info(scan);
  res->status = info->status;
  res->truncated = info->truncated;
  /* What the file holds is read first: a damaged trace is reported as such,
   * also when its header names another build (the broken fixtures' header
   * is a synthetic one whose build id has no semantics version). */
  uint64_t nexch = 0, at = UINT64_MAX; /* at: the checkpoint replayed from, if any */
  /* A trace that starts after exchange 0 (a replay from a checkpoint writes
   * one) holds the state before its first exchange as a checkpoint. */
  uint64_t first, scanned = UINT64_MAX; /* scanned: the EXCHANGE just read */
  int late = 0, stateless = 0;           /* late: `at` comes from the trace's start */
  if (first_exchange(scan, &first)) scanned = first;
  if (first > 0) {
    const uint8_t *blob;
    size_t len;
    rc = braid_trace_checkpoint(scan, first - 1, &at, &blob, &len);
    if (rc == 0 && at == first - 1) {
      late = 1;
    } else if (rc == 0 || rc == BRAID_ERANGE) {
      at = UINT64_MAX;
      stateless = 1; /* refused once the trace was read through */
      rc = 0;
    } else {
      braid__fmt(err, errlen, "%s", braid_trace_error(scan));
      goto out;
    }
  }
  /* Starting from a checkpoint, only the decisions after it matter.  The scan
   * starts at the checkpoint's own exchange, which is in the trace also when
   * it is the last one (nothing follows it). */
  if (opts->from != UINT64_MAX && opts->from > 0 && opts->from >= first && !stateless) {
    uint64_t ck;
    const uint8_t *blob;
    size_t len;
    rc = braid_trace_checkpoint(scan, opts->from, &ck, &blob, &len);
    if (rc == 0 && ck >= first) {
      at = ck;
      late = 0;
      scanned = UINT64_MAX;
      rc = braid_trace_seek(scan, at);
    } else if (rc == 0 || rc == BRAID_ERANGE) {
      rc = 0; /* none in the trace at or before it: from its start */
    }
    if (rc) {
      braid__fmt(err, errlen, "%s", braid_trace_error(scan));
      goto out;
    }
  }
  if ((rc = scan_decisions(scan, path, scanned, &dec, &nexch, err, errlen))) goto out;
  res->trace_exchanges = nexch;
  res->truncated = info->truncated;
  res->status = info->status;
  if (info->truncated && !opts->partial) {
    braid__fmt(err, errlen, "%s: truncated after exchange %llu (the file ends inside a frame); --partial replays the complete exchanges",
               path, (unsigned long long)(nexch ? nexch - 1 : 0));
    rc = BRAID_ETRUNCATED;
    goto out;
  }
  if (!nexch) {
    braid__fmt(err, errlen, "%s: no complete exchange in the trace", path);
    rc = BRAID_ETRUNCATED;
    goto out;
  }
  if (braid__semantics_of(info->build_id) != braid__semantics_version() && !opts->force) {
    braid__fmt(err, errlen, "%s: recorded by a build of another semantics version (%s; this build: %s); use --force to replay anyway", path,
               info->build_id, braid__build_id());
    rc = BRAID_EMISMATCH;
    goto out;
  }
  if (stateless) {
    braid__fmt(err, errlen, "%s: starts at exchange %llu without the state before it (a replay --from's trace); replay the original", path,
               (unsigned long long)first);
    rc = BRAID_EINVAL;
    goto out;
  }
  if (strcmp(info->build_id, braid__build_id()))
    braid__fmt(res->warning, sizeof res->warning, "recorded by '%s', replayed by '%s'", info->build_id, braid__build_id());
  if ((rc = braid_config_create(&cfg))) goto out;
  if ((rc = check_model(path, info, opts, res, err, errlen))) goto out;
  if (info->plugin && info->plugin[0]) {
    if ((rc = braid_config_set_model(cfg, opts->model))) {
      braid__fmt(err, errlen, "%s: %s", path, braid_config_error(cfg));
      goto out;
    }
    if (!(text = model_renamed(info->config_text, opts->model->name))) {
      rc = BRAID_ENOMEM;
      goto out;
    }
  }
  if ((rc = braid__config_parse_text(cfg, text ? text : info->config_text, strlen(text ? text : info->config_text)))) {
    braid__fmt(err, errlen, "%s: bad settings in the header: %s", path, braid_config_error(cfg));
    goto out;
  }
  if ((rc = check_decisions(&dec, cfg, path, err, errlen))) goto out;
  const char *seq = strstr(info->config_text, "\nsequential=");
  res->recorded_threaded = !(seq && seq[12] == '1');
  if (opts->from != UINT64_MAX && opts->from >= nexch) {
    braid__fmt(err, errlen, "%s: --from %llu: the trace ends at exchange %llu", path, (unsigned long long)opts->from, (unsigned long long)(nexch - 1));
    rc = BRAID_ERANGE;
    goto out;
  }
  /* The replay compares the exchanges after the checkpoint; an earlier stop
   * would run the loaded state past the configured end. */
  if (at != UINT64_MAX && opts->until <= at) {
    if (late)
      braid__fmt(err, errlen, "%s: --until %llu: the trace starts at exchange %llu (after the checkpoint it begins with), so nothing up to --until is replayed",
                 path, (unsigned long long)opts->until, (unsigned long long)first);
    else
      braid__fmt(err, errlen, "%s: --until %llu: the last checkpoint at or before --from %llu follows exchange %llu, so nothing up to --until is replayed",
                 path, (unsigned long long)opts->until, (unsigned long long)opts->from, (unsigned long long)at);
    rc = BRAID_EINVAL;
    goto out;
  }
  uint64_t last = nexch - 1;
  if (opts->until < last) last = opts->until;
  char num[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)(last + 1));
  braid_config_set(cfg, "exchanges", num);
  braid_config_set(cfg, "sequential", "1");
  braid_config_set(cfg, "chaos", "0");
  /* A --duration recording ran until the clock said stop; the replay runs the
   * exchanges that were recorded, however long that takes. */
  braid_config_set(cfg, "duration_ms", "0");
  braid_config_set(cfg, "checkpoint_every", "0");
  /* One exchange's recorded and replayed records are held at once. */
  char why[512];
  x.rec.max_records = braid__exchange_records_max(info->config_text);
  rc = braid__check_memory(x.rec.max_records * 2 * sizeof(braid_record), "the records of one exchange under the header's tori, trace_events and interval settings",
                           why, sizeof why);
  if (!rc) rc = braid_runtime_create(&x.rt, cfg, why, sizeof why);
  if (rc) {
    braid__fmt(err, errlen, "%s: %s", path, why);
    goto out;
  }
  x.rt->replay = &dec;
  x.o = opts;
  x.res = res;
  if ((rc = braid_trace_open(&x.rec.t, path, err, errlen))) goto out;
  if (at != UINT64_MAX) {
    uint64_t loaded;
    const uint8_t *blob;
    size_t len;
    if ((rc = braid_trace_checkpoint(x.rec.t, at, &loaded, &blob, &len))) {
      braid__fmt(err, errlen, "%s", braid_trace_error(x.rec.t));
      goto out;
    }
    if ((rc = braid__checkpoint_load(x.rt, blob, len, &loaded))) {
      if (rc == BRAID_EMISMATCH)
        braid__fmt(err, errlen, "%s: checkpoint at exchange %llu does not fit the header's settings: its lattice or edge degree is not what model %s with dim=%u makes",
                   path, (unsigned long long)at, x.rt->cfg.model_name, x.rt->dim);
      else
        braid__fmt(err, errlen, "%s: checkpoint at exchange %llu is unusable: %s", path, (unsigned long long)at, braid_strerror(rc));
      goto out;
    }
    /* The replay's own trace begins with the state it starts from, so that
     * it can be replayed on its own (the blob is valid until the seek). */
    if (opts->out && ((rc = braid_runtime_record(x.rt, opts->out)) || (rc = braid__trace_checkpoint(x.rt, at, blob, len)))) {
      braid__fmt(err, errlen, "%s", braid_runtime_error(x.rt));
      goto out;
    }
    /* A checkpoint before the trace's first exchange is followed by it. */
    if (at >= first && (rc = braid_trace_seek(x.rec.t, at))) {
      braid__fmt(err, errlen, "%s", braid_trace_error(x.rec.t));
      goto out;
    }
    /* The runtime goes on after the exchange the blob holds; the sink skips
     * the recording up to it. */
    res->first_exchange = loaded + 1;
  } else if (opts->out && (rc = braid_runtime_record(x.rt, opts->out))) {
    braid__fmt(err, errlen, "%s", braid_runtime_error(x.rt));
    goto out;
  }
  braid__sink s = { replay_sink, NULL, &x };
  braid__add_sink(x.rt, &s);
  rc = braid_runtime_run(x.rt);
  if (rc == BRAID_EDIVERGED || rc == BRAID_EINTR) rc = 0;
  else if (rc) braid__fmt(err, errlen, "%s: replay failed: %s", path, braid_runtime_error(x.rt));
  if (opts->do_break) braid_debug_break();
out:
  res->seconds = (double)(braid__now_ns() - t0) / 1e9;
  braid_runtime_destroy(x.rt);
  braid_trace_close(x.rec.t);
  free(x.rec.v);
  free(x.mine);
  braid_trace_close(scan);
  braid_config_destroy(cfg);
  free(dec.v);
  free(text);
  return rc;
}

/* -------------------------------------------------------------------- diff */

/* Whether braid-diff compares a setting of the header.  Run length
 * (exchanges, duration_ms) is not compared: runs that differ only in length
 * have the same stream over the exchanges both have, and where one stops
 * earlier is reported by itself.  Neither are settings that cannot change
 * results.  Model, fail, model parameters and keys this build does not know
 * are compared. */
static int setting_is_compared(const char *key, size_t len)
{
  if (len == 9 && !memcmp(key, "exchanges", 9)) return 0;
  return braid__setting_is_logical(key, len) != 0;
}

/* The value of `key` in canonical settings text, or NULL. */
static const char *setting_value(const char *text, const char *key, size_t klen, size_t *vlen)
{
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    if (n > klen && p[klen] == '=' && !memcmp(p, key, klen)) {
      *vlen = n - klen - 1;
      return p + klen + 1;
    }
    p += n + (p[n] == '\n');
  }
  return NULL;
}

static void append_value(char *out, size_t len, size_t *off, const char *v, size_t n)
{
  if (!v) *off += (size_t)snprintf(out + *off, len - *off, "(unset)");
  else if (!n) *off += (size_t)snprintf(out + *off, len - *off, "(none)");
  else *off += (size_t)snprintf(out + *off, len - *off, "%.*s", (int)n, v);
}

/* Lists the compared settings whose values differ, A's order first, then
 * those only B has: "seed 1 vs 2, tori 3 vs 4"; ", ..." ends a list that
 * does not fit. */
static void settings_differ(const char *ta, const char *tb, char *out, size_t len)
{
  size_t off = 0;
  out[0] = 0;
  for (int side = 0; side < 2; side++) {
    const char *t = side ? tb : ta, *other = side ? ta : tb;
    for (const char *p = t, *next; *p; p = next) {
      size_t n = strcspn(p, "\n"), klen = strcspn(p, "=\n"), on = 0;
      next = p + n + (p[n] == '\n');
      if (klen == n || !setting_is_compared(p, klen)) continue;
      const char *v = p + klen + 1, *ov = setting_value(other, p, klen, &on);
      size_t vn = n - klen - 1;
      if (side ? ov != NULL : ov && on == vn && !memcmp(v, ov, vn)) continue;
      if (off + klen + vn + on + 32 >= len) {
        if (off + 6 < len) snprintf(out + off, len - off, ", ...");
        return;
      }
      off += (size_t)snprintf(out + off, len - off, "%s%.*s ", off ? ", " : "", (int)klen, p);
      append_value(out, len, &off, side ? ov : v, side ? on : vn);
      off += (size_t)snprintf(out + off, len - off, " vs ");
      append_value(out, len, &off, side ? v : ov, side ? vn : on);
    }
  }
}

/* Throughput is measured from the end of the first exchange in the trace to
 * the end of the last: the projections count events from exchange 0, and a
 * trace that starts later (a replay from a checkpoint) holds neither those
 * exchanges nor their time. */
static void timing_stats(const stream *s, braid_diff_result *res, int side)
{
  double n = s->barriers ? (double)s->barriers : 1, ev = 0;
  for (int i = 0; i < 16; i++) ev += (double)s->events[i] - (double)s->events0[i];
  res->mean_epoch_ns[side] = s->epoch_ns / n;
  res->mean_wait_ns[side] = s->wait_ns / n;
  res->mean_exchange_ns[side] = s->exchange_ns / n;
  res->events_per_s[side] = s->end_ns > s->end0_ns ? ev / ((double)(s->end_ns - s->end0_ns) / 1e9) : 0;
}

/* Reads the next exchange of one trace into s: 1, or 0 after its last
 * complete exchange, or an error with its message. */
static int diff_next(stream *s, const char *path, uint64_t *k, braid_diff_result *res, int side, char *err, size_t errlen)
{
  int rc = stream_next_exchange(s, k);
  if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) return 0;
  if (rc && s->why[0]) braid__fmt(err, errlen, "%s: %s", path, s->why);
  else if (rc) braid__fmt(err, errlen, "%s", braid_trace_error(s->t));
  if (rc) return rc;
  if (!res->exchanges[side]++) res->first_exchange[side] = *k;
  res->last_exchange[side] = *k;
  *(side ? &res->records_b : &res->records_a) += s->n;
  return 1;
}

/* The records of one exchange of both traces, matched.  A record's key is
 * its torus, its type and, for a violation, its cell; the n-th record of a
 * key in A matches the n-th of that key in B.  The runtime writes each
 * torus's records in a fixed order, so one record more or less (an
 * injection, a violated cell) leaves the others matched rather than
 * shifting everything after it. */
typedef struct keyed {
  uint64_t torus, sub;
  uint32_t type;
  uint32_t idx;
} keyed;

typedef struct matched {
  const braid_record *a, *b; /* NULL: only in the other trace */
} matched;

typedef struct aligner {
  keyed *ka, *kb; /* ka owns the block of all five */
  size_t *pa, *pb; /* index of the match in the other trace, or UNMATCHED / MATCH_TAKEN */
  matched *m;
  size_t cap, n;
} aligner;

#define UNMATCHED SIZE_MAX
#define MATCH_TAKEN (SIZE_MAX - 1)

static int key_cmp(const void *x, const void *y)
{
  const keyed *a = x, *b = y;
  if (a->torus != b->torus) return a->torus < b->torus ? -1 : 1;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  if (a->sub != b->sub) return a->sub < b->sub ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void keys_of(const stream *s, keyed *k)
{
  for (size_t i = 0; i < s->n; i++) {
    const braid_record *r = &s->v[i];
    int has_torus = r->type != BRAID_REC_EXCHANGE && r->nfields > 0;
    k[i] = (keyed){ has_torus ? r->field[0] : 0, r->type == BRAID_REC_VCELL && r->nfields > 1 ? r->field[1] : 0, r->type, (uint32_t)i };
  }
  qsort(k, s->n, sizeof *k, key_cmp);
}

static int align(aligner *al, const stream *a, const stream *b)
{
  size_t need = a->n + b->n;
  if (need > al->cap) {
    /* One block for the five arrays, all of 8-byte aligned elements. */
    size_t nc = need * 2;
    keyed *k = malloc(nc * (2 * sizeof(keyed) + 2 * sizeof(size_t) + sizeof(matched)));
    if (!k) return BRAID_ENOMEM;
    free(al->ka);
    al->ka = k;
    al->kb = k + nc;
    al->pa = (size_t *)(al->kb + nc);
    al->pb = al->pa + nc;
    al->m = (matched *)(al->pb + nc);
    al->cap = nc;
  }
  keys_of(a, al->ka);
  keys_of(b, al->kb);
  for (size_t i = 0; i < a->n; i++) al->pa[i] = UNMATCHED;
  for (size_t j = 0; j < b->n; j++) al->pb[j] = UNMATCHED;
  /* Walk both sorted key lists: equal keys pair up in stream order. */
  for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
    keyed x = al->ka[i], y = al->kb[j];
    x.idx = y.idx = 0;
    int c = key_cmp(&x, &y);
    if (c < 0) i++;
    else if (c > 0) j++;
    else {
      al->pa[al->ka[i].idx] = al->kb[j].idx;
      al->pb[al->kb[j].idx] = al->ka[i].idx;
      i++;
      j++;
    }
  }
  /* Merge into stream order: a record without a match goes before the next
   * matched pair, A's first. */
  al->n = 0;
  for (size_t i = 0, j = 0; i < a->n || j < b->n;) {
    while (j < b->n && al->pb[j] == MATCH_TAKEN) j++;
    if (i < a->n && al->pa[i] == UNMATCHED) al->m[al->n++] = (matched){ &a->v[i++], NULL };
    else if (j < b->n && al->pb[j] == UNMATCHED) al->m[al->n++] = (matched){ NULL, &b->v[j++] };
    else if (i < a->n) {
      al->m[al->n++] = (matched){ &a->v[i], &b->v[al->pa[i]] };
      al->pb[al->pa[i++]] = MATCH_TAKEN;
    } else {
      break; /* not reached: every match of B's was taken with A's */
    }
  }
  return 0;
}

static void diff_context(braid_divergence *d, const aligner *al, size_t at)
{
  size_t off = strlen(d->context);
  for (size_t i = at > 3 ? at - 3 : 0; i < al->n && i < at + 4; i++) {
    const matched *m = &al->m[i];
    if (m->a) context_line(d, &off, i == at, "A", m->a);
    if (m->b && !same_record(m->a, m->b)) context_line(d, &off, i == at, "B", m->b);
  }
}

/* Compares exchange k, which both traces have. */
static int diff_exchange(braid_diff_result *res, aligner *al, const stream *a, const stream *b, uint64_t k)
{
  BRAID_FORWARD(align(al, a, b));
  for (size_t i = 0; i < al->n; i++) {
    const matched *m = &al->m[i];
    const braid_record *any = m->a ? m->a : m->b;
    unsigned type = any->type < 64 ? any->type : 0;
    int first = !res->differing && !res->only[0] && !res->only[1];
    if (m->a && m->b) {
      res->compared++;
      if (same_record(m->a, m->b)) continue;
      res->differing++;
      res->differing_by_type[type]++;
    } else {
      int side = m->b != NULL;
      res->only[side]++;
      res->only_by_type[side][type]++;
    }
    if (first) {
      compare_records(m->a, m->b, k, &res->div);
      diff_context(&res->div, al, i);
    }
  }
  return 0;
}

int braid_diff(const char *pa, const char *pb, braid_diff_result *res, char *err, size_t errlen)
{
  stream a = { 0 }, b = { 0 };
  aligner al = { 0 };
  int rc;
  BRAID_RETURN_IF(!pa || !pb || !res, BRAID_EINVAL);
  memset(res, 0, sizeof *res);
  if ((rc = braid_trace_open(&a.t, pa, err, errlen))) return rc;
  if ((rc = braid_trace_open(&b.t, pb, err, errlen))) {
    braid_trace_close(a.t);
    return rc;
  }
  a.max_records = braid__exchange_records_max(braid_trace_get_info(a.t)->config_text);
  b.max_records = braid__exchange_records_max(braid_trace_get_info(b.t)->config_text);
  /* Both traces' records of one exchange, and their alignment (five arrays
   * of twice the records, 80 bytes a record), are held at once. */
  char why[512];
  if ((rc = braid__check_memory((a.max_records + b.max_records) * (sizeof(braid_record) + 2 * 80), "the records of one exchange under the headers' tori, trace_events and interval settings", why, sizeof why))) {
    braid__fmt(err, errlen, "%s, %s: %s", pa, pb, why);
    braid_trace_close(a.t);
    braid_trace_close(b.t);
    return rc;
  }
  settings_differ(braid_trace_get_info(a.t)->config_text, braid_trace_get_info(b.t)->config_text, res->settings, sizeof res->settings);
  res->config_differs = res->settings[0] != 0;
  uint64_t ka = 0, kb = 0;
  int ha = diff_next(&a, pa, &ka, res, 0, err, errlen), hb = ha < 0 ? 0 : diff_next(&b, pb, &kb, res, 1, err, errlen);
  /* Exchanges go forward in a trace: the lower number is the one the other
   * trace lacks. */
  while ((ha > 0 || hb > 0) && ha >= 0 && hb >= 0) {
    if (ha > 0 && (!hb || ka < kb)) {
      ha = diff_next(&a, pa, &ka, res, 0, err, errlen);
    } else if (hb > 0 && (!ha || kb < ka)) {
      hb = diff_next(&b, pb, &kb, res, 1, err, errlen);
    } else {
      res->common_exchanges++;
      if ((rc = diff_exchange(res, &al, &a, &b, ka))) {
        braid__fmt(err, errlen, "%s", braid_strerror(rc));
        break;
      }
      ha = diff_next(&a, pa, &ka, res, 0, err, errlen);
      hb = ha < 0 ? 0 : diff_next(&b, pb, &kb, res, 1, err, errlen);
    }
  }
  if (!rc) rc = ha < 0 ? ha : hb < 0 ? hb : 0;
  timing_stats(&a, res, 0);
  timing_stats(&b, res, 1);
  for (int side = 0; side < 2; side++) {
    const braid_trace_info *info = braid_trace_get_info(side ? b.t : a.t);
    res->truncated[side] = info->truncated;
    res->status[side] = info->status;
  }
  res->differ = res->differing || res->only[0] || res->only[1] || res->config_differs || res->common_exchanges != res->exchanges[0] || res->common_exchanges != res->exchanges[1];
  braid_trace_close(a.t);
  braid_trace_close(b.t);
  free(a.v);
  free(b.v);
  free(al.ka);
  return rc;
}
