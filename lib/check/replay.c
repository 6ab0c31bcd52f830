/* replay.c - single-threaded replay of a trace: choose where to start,
 * check the header against this build and the model, configure a
 * sequential runtime that follows the recorded decisions, run it, and
 * compare each exchange it produces with the recording, then its final
 * state with the footer's.  After a divergence, a second pass tells a
 * model that is not deterministic even sequentially from a run that
 * differs from sequential execution, and a third re-runs the window of
 * the epoch the rungs point at event by event (check/locate.c). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "check/compare.h"
#include "check/locate.h"
#include "check/stream.h"
#include "kernel/plugin.h"
#include "runtime/checkpoint.h"
#include "runtime/footprint.h"
#include "runtime/runtime.h"
#include "runtime/trace_sink.h"

/* What one pass of the replay does besides comparing. */
typedef struct replay_pass {
  int perturb;            /* M_PERTURB byte, 0: none */
  uint64_t capture;       /* keep the replayed records of this exchange in `kept`, UINT64_MAX: none */
  braid__window_probe *probe; /* the window pass: the probe of the epoch in probe->w */
  int break_at_end;       /* braid_debug_break() once the run returns ... */
  int64_t break_torus;    /* ... about this torus (-1: none) */
  uint64_t final[16];     /* the replay's final state hashes (when it ran to its end) */
  int ran_to_end;
  braid_record *kept;     /* the replayed records of `capture` (or of the divergence) */
  size_t nkept;
  int kept_valid;
} replay_pass;

typedef struct replay_ctx {
  braid_runtime *rt;
  braid__stream rec; /* the recording */
  const braid_replay_opts *o;
  braid_replay_result *res;
  braid_record *mine;
  size_t nmine, capmine;
  braid__aligner al;
  unsigned rungs;
  replay_pass *pass;
} replay_ctx;

static int decode_block(replay_ctx *x, const uint8_t *p, size_t len)
{
  const uint8_t *end = p + len;
  x->nmine = 0;
  while (p < end) {
    braid_record r;
    BRAID_FORWARD(braid__rec_decode(&p, end, &r, NULL));
    if (!BRAID_RECORD_IS_LOGICAL(r.type)) continue;
    braid_record *nv = braid__grow(x->mine, &x->capmine, x->nmine, sizeof *nv, 256);
    if (!nv) return BRAID_ENOMEM;
    x->mine = nv;
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

/* The check record at x->mine[at], for opts->check. */
static void note_check(replay_ctx *x, uint64_t k, size_t at)
{
  braid_check_info *c = &x->res->check;
  const braid_record *r = &x->mine[at];
  uint32_t d = x->rt->dim, m = d - 1, s = (uint32_t)__builtin_ctz(d);
  memset(c, 0, sizeof *c);
  c->exchange = k;
  c->torus = (uint32_t)r->field[BRAID_F_CHECK_TORUS];
  c->event = r->field[BRAID_F_CHECK_EVENT];
  c->cell = (uint32_t)r->field[BRAID_F_CHECK_CELL];
  c->x = c->cell >> (2 * s);
  c->y = (c->cell >> s) & m;
  c->z = c->cell & m;
  c->code = (uint32_t)r->field[BRAID_F_CHECK_CODE];
  size_t n = r->bloblen < sizeof c->message - 1 ? r->bloblen : sizeof c->message - 1;
  for (size_t i = 0; i < n; i++) /* untrusted: printable ASCII only, as the kernel writes it */
    c->message[i] = r->blob[i] >= 0x20 && r->blob[i] < 0x7f ? (char)r->blob[i] : '?';
  x->res->stopped_at_check = 1;
}

/* Keeps a copy of this exchange's replayed records in the pass. */
static int keep_mine(replay_ctx *x)
{
  replay_pass *p = x->pass;
  braid_record *v = realloc(p->kept, (x->nmine ? x->nmine : 1) * sizeof *v);
  if (!v) return BRAID_ENOMEM;
  memcpy(v, x->mine, x->nmine * sizeof *v);
  p->kept = v;
  p->nkept = x->nmine;
  p->kept_valid = 1;
  return 0;
}

static int replay_sink(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  replay_ctx *x = ud;
  uint64_t rk;
  int rc = decode_block(x, recs, len);
  if (rc) return rc;
  /* Skip recorded exchanges before this one (after a checkpoint). */
  do {
    rc = braid__stream_next_exchange(&x->rec, &rk);
    if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) {
      braid__set_error(x->rt, BRAID_EINTR, "the recording ends before exchange %llu", (unsigned long long)k);
      return BRAID_EINTR;
    }
    if (rc) {
      braid__set_error(x->rt, rc, "%s", x->rec.why[0] ? x->rec.why : braid_trace_error(x->rec.t));
      return rc;
    }
  } while (rk < k);
  braid_divergence *d = &x->res->div;
  if (k == x->pass->capture && (rc = keep_mine(x))) return rc;
  if (rk != k) {
    memset(d, 0, sizeof *d);
    d->exchange = k;
    d->torus = -1;
    snprintf(d->record, sizeof d->record, "exchange");
    snprintf(d->field, sizeof d->field, "k");
    d->expected = rk;
    d->actual = k;
    braid__add_context(d, x->rec.v, x->rec.n, x->mine, x->nmine, 0, "recorded", "replayed");
    x->res->diverged = 1;
    braid__set_error(x->rt, BRAID_EDIVERGED, "diverged at exchange %llu", (unsigned long long)k);
    return BRAID_EDIVERGED;
  }
  /* Records are matched by torus and type (as braid-diff does), so one
   * record more or less shifts nothing, and the torus blamed is the one
   * whose own projection differs (check/locate.h). */
  if ((rc = braid__align(&x->al, x->rec.v, x->rec.n, x->mine, x->nmine))) return rc;
  uint32_t tori = 0;
  size_t at = braid__blame(&x->al, x->rungs, &tori);
  if (at < x->al.n) {
    const braid__matched *m = &x->al.m[at];
    braid__compare_records(m->a, m->b, k, d);
    braid__aligned_context(d, &x->al, at, "recorded", "replayed");
    x->res->differing_tori = tori;
    if (m->a && m->b && m->a->type == BRAID_REC_PROJECTION) braid__window_of(m->a, m->b, x->rungs, k, &x->res->window);
    if (x->pass->capture == UINT64_MAX && (rc = keep_mine(x))) return rc;
    x->res->diverged = 1;
    braid__set_error(x->rt, BRAID_EDIVERGED, "diverged at exchange %llu", (unsigned long long)k);
    return BRAID_EDIVERGED;
  }
  x->res->exchanges_checked++;
  /* Counted also without opts->violation (0 is never reached). */
  for (size_t i = 0; i < x->nmine; i++)
    if (x->mine[i].type == BRAID_REC_BOUNDARY && x->mine[i].field[3] > 0 && ++x->res->violations == x->o->violation) {
      note_violation(x, k, i);
      braid__set_error(x->rt, BRAID_EINTR, "stopped at violation %llu", (unsigned long long)x->o->violation);
      return BRAID_EINTR;
    }
  for (size_t i = 0; i < x->nmine; i++)
    if (x->mine[i].type == BRAID_REC_CHECK && ++x->res->checks == x->o->check) {
      note_check(x, k, i);
      braid__set_error(x->rt, BRAID_EINTR, "stopped at check %llu", (unsigned long long)x->o->check);
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
    uint32_t torus = r.nfields && r.field[0] <= UINT32_MAX ? (uint32_t)r.field[0] : UINT32_MAX;
    switch (r.type) {
    case BRAID_REC_EXCHANGE:
      k = r.field[BRAID_F_EXCHANGE_K];
      seen = k + 1;
      continue;
    case BRAID_REC_INJECTION: {
      int64_t payload = r.sfield[BRAID_F_INJECTION_PAYLOAD];
      uint64_t cell = r.field[BRAID_F_INJECTION_CELL];
      if (payload < INT32_MIN || payload > INT32_MAX || cell > UINT32_MAX) {
        braid__fmt(err, errlen, "%s: the recorded injection into torus %llu at exchange %llu carries cell %llu, payload %lld: beyond 32 bits", path,
                   (unsigned long long)r.field[0], (unsigned long long)k, (unsigned long long)cell, (long long)payload);
        return BRAID_ECORRUPT;
      }
      rc = braid__decisions_add_injection(d, torus, k, (uint32_t)cell, (int32_t)payload, r.field[BRAID_F_INJECTION_SEQ]);
      break;
    }
    case BRAID_REC_FAILURE:
      if (r.field[BRAID_F_FAILURE_REASON] != BRAID_FAIL_HEARTBEAT) continue;
      rc = braid__decisions_add_failure(d, torus, k);
      break;
    case BRAID_REC_INTERVAL:
      if (r.field[BRAID_F_INTERVAL_REASON] != BRAID_INTERVAL_RATE) continue;
      rc = braid__decisions_add_interval(d, torus, k, (uint32_t)r.field[BRAID_F_INTERVAL_NEW]);
      break;
    default:
      continue;
    }
    /* A decision for a torus the run does not have cannot come from it. */
    if (rc == BRAID_ERANGE) {
      braid__fmt(err, errlen, "%s: the recorded %s at exchange %llu names torus %llu, which the run does not have", path, braid_record_type_name(r.type),
                 (unsigned long long)k, (unsigned long long)r.field[0]);
      return BRAID_ECORRUPT;
    }
    if (rc) {
      braid__fmt(err, errlen, "%s: %s holding the recorded decisions (injections, failures, rate intervals; at most %zu of each) at exchange %llu", path,
                 rc == BRAID_ELIMIT ? "too many" : "out of memory", BRAID_MAX_DECISIONS, (unsigned long long)k);
      return rc;
    }
  }
  *exchanges = seen;
  if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) return braid__decisions_seal(d);
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
  for (const char *q = text; (q = strstr(q, "model=")); q++) lines++;
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

/* Where a replay starts and what the trace holds, found by the first
 * read through it. */
typedef struct replay_plan {
  uint64_t first;   /* the trace's first exchange */
  uint64_t at;      /* the checkpoint replayed from, or UINT64_MAX */
  uint64_t scanned; /* the EXCHANGE record just read, or UINT64_MAX */
  uint64_t nexch;   /* one past the last complete exchange */
  int late;         /* `at` is the state the trace begins with */
  int stateless;    /* the trace starts late without that state */
} replay_plan;

/* Step 1: choose the start.  A trace that starts after exchange 0 (a
 * replay from a checkpoint writes one) holds the state before its first
 * exchange as a checkpoint; --from picks the last checkpoint at or before
 * it.  Leaves `scan` where the decisions to collect begin. */
static int choose_start(braid_trace *scan, const braid_replay_opts *opts, replay_plan *pl, char *err, size_t errlen)
{
  const uint8_t *blob;
  size_t len;
  int rc = 0;
  *pl = (replay_plan){ 0, UINT64_MAX, UINT64_MAX, 0, 0, 0 };
  if (first_exchange(scan, &pl->first)) pl->scanned = pl->first;
  if (pl->first > 0) {
    rc = braid_trace_checkpoint(scan, pl->first - 1, &pl->at, &blob, &len);
    if (rc == 0 && pl->at == pl->first - 1) {
      pl->late = 1;
    } else if (rc == 0 || rc == BRAID_ERANGE) {
      pl->at = UINT64_MAX;
      pl->stateless = 1; /* refused once the trace was read through */
      rc = 0;
    }
  }
  /* Starting from a checkpoint, only the decisions after it matter.  The scan
   * starts at the checkpoint's own exchange, which is in the trace also when
   * it is the last one (nothing follows it). */
  if (!rc && opts->from != UINT64_MAX && opts->from > 0 && opts->from >= pl->first && !pl->stateless) {
    uint64_t ck;
    rc = braid_trace_checkpoint(scan, opts->from, &ck, &blob, &len);
    if (rc == 0 && ck >= pl->first) {
      pl->at = ck;
      pl->late = 0;
      pl->scanned = UINT64_MAX;
      rc = braid_trace_seek(scan, pl->at);
    } else if (rc == 0 || rc == BRAID_ERANGE) {
      rc = 0; /* none in the trace at or before it: from its start */
    }
  }
  if (rc) braid__fmt(err, errlen, "%s", braid_trace_error(scan));
  return rc;
}

/* Step 2: check the header against what the file holds, this build and
 * the model given.  What the file holds is judged first: a damaged trace is
 * reported as such, also when its header names another build (the broken
 * fixtures' header is a synthetic one whose build id has no semantics
 * version). */
static int check_header(const char *path, braid_trace *scan, const braid_trace_info *info, const braid_replay_opts *opts, const replay_plan *pl,
                        braid_replay_result *res, char *err, size_t errlen)
{
  if (info->truncated && !opts->partial) {
    /* The reader's line (the last complete exchange and the frame's
     * offset), as braid-dump and braid-diff print it. */
    braid__fmt(err, errlen, "%s; --partial replays the complete exchanges", braid_trace_error(scan));
    return BRAID_ETRUNCATED;
  }
  if (!pl->nexch) {
    braid__fmt(err, errlen, "%s: no complete exchange in the trace", path);
    return BRAID_ETRUNCATED;
  }
  if (braid__semantics_of(info->build_id) != braid__semantics_version() && !opts->force) {
    braid__fmt(err, errlen, "%s: recorded by a build of another semantics version (%s; this build: %s); use --force to replay anyway", path,
               info->build_id, braid__build_id());
    return BRAID_EMISMATCH;
  }
  if (pl->stateless) {
    braid__fmt(err, errlen, "%s: starts at exchange %llu without the state before it (a replay --from's trace); replay the original", path,
               (unsigned long long)pl->first);
    return BRAID_EINVAL;
  }
  if (strcmp(info->build_id, braid__build_id()))
    braid__fmt(res->warning, sizeof res->warning, "recorded by '%s', replayed by '%s'", info->build_id, braid__build_id());
  return check_model(path, info, opts, res, err, errlen);
}

/* Step 3: the settings of the replay: the header's, with the model given
 * for a plugin trace, run sequentially over the recorded exchanges (up to
 * --until) without chaos, clock limits, checkpoints or heartbeats. */
static int configure(const char *path, const braid_trace_info *info, const braid_replay_opts *opts, const replay_plan *pl, braid_config *cfg,
                     char *err, size_t errlen)
{
  int rc;
  char *text = NULL;
  if (info->plugin && info->plugin[0]) {
    if ((rc = braid_config_set_model(cfg, opts->model))) {
      braid__fmt(err, errlen, "%s: %s", path, braid_config_error(cfg));
      return rc;
    }
    if (!(text = model_renamed(info->config_text, opts->model->name))) return BRAID_ENOMEM;
  }
  const char *t = text ? text : info->config_text;
  rc = braid__config_parse_text(cfg, t, strlen(t));
  free(text);
  if (rc) {
    braid__fmt(err, errlen, "%s: bad settings in the header: %s", path, braid_config_error(cfg));
    return rc;
  }
  if (opts->from != UINT64_MAX && opts->from >= pl->nexch) {
    braid__fmt(err, errlen, "%s: --from %llu: the trace ends at exchange %llu", path, (unsigned long long)opts->from,
               (unsigned long long)(pl->nexch - 1));
    return BRAID_ERANGE;
  }
  /* The replay compares the exchanges after the checkpoint; an earlier stop
   * would run the loaded state past the configured end. */
  if (pl->at != UINT64_MAX && opts->until <= pl->at) {
    if (pl->late)
      braid__fmt(err, errlen, "%s: --until %llu: the trace starts at exchange %llu (after the checkpoint it begins with), so nothing up to --until is replayed",
                 path, (unsigned long long)opts->until, (unsigned long long)pl->first);
    else
      braid__fmt(err, errlen, "%s: --until %llu: the last checkpoint at or before --from %llu follows exchange %llu, so nothing up to --until is replayed",
                 path, (unsigned long long)opts->until, (unsigned long long)opts->from, (unsigned long long)pl->at);
    return BRAID_EINVAL;
  }
  uint64_t last = pl->nexch - 1;
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
  braid_config_set(cfg, "heartbeat_ms", "0"); /* failures come from the record */
  return 0;
}

/* Step 4: position the recording and the runtime at the start: load the
 * checkpoint, and begin the replay's own trace (-o) with the state it
 * starts from, so that it replays on its own. */
static int start_at(replay_ctx *x, const char *path, const braid_replay_opts *opts, const replay_plan *pl, char *err, size_t errlen)
{
  int rc;
  if ((rc = braid_trace_open(&x->rec.t, path, err, errlen))) return rc;
  if (pl->at == UINT64_MAX) {
    if (opts->out && (rc = braid_runtime_record(x->rt, opts->out))) braid__fmt(err, errlen, "%s", braid_runtime_error(x->rt));
    return rc;
  }
  uint64_t loaded;
  const uint8_t *blob;
  size_t len;
  if ((rc = braid_trace_checkpoint(x->rec.t, pl->at, &loaded, &blob, &len))) {
    braid__fmt(err, errlen, "%s", braid_trace_error(x->rec.t));
    return rc;
  }
  if ((rc = braid__checkpoint_load(x->rt, blob, len, &loaded))) {
    if (rc == BRAID_EMISMATCH)
      braid__fmt(err, errlen, "%s: checkpoint at exchange %llu does not fit the header's settings: its lattice or edge degree is not what model %s with dim=%u makes",
                 path, (unsigned long long)pl->at, x->rt->cfg.model_name, x->rt->dim);
    else
      braid__fmt(err, errlen, "%s: checkpoint at exchange %llu is unusable: %s", path, (unsigned long long)pl->at, braid_strerror(rc));
    return rc;
  }
  /* The blob is valid until the seek. */
  if (opts->out && ((rc = braid_runtime_record(x->rt, opts->out)) || (rc = braid__trace_checkpoint(x->rt, pl->at, blob, len)))) {
    braid__fmt(err, errlen, "%s", braid_runtime_error(x->rt));
    return rc;
  }
  /* A checkpoint before the trace's first exchange is followed by it. */
  if (pl->at >= pl->first && (rc = braid_trace_seek(x->rec.t, pl->at))) {
    braid__fmt(err, errlen, "%s", braid_trace_error(x->rec.t));
    return rc;
  }
  /* The runtime goes on after the exchange the blob holds; the sink skips
   * the recording up to it. */
  x->res->first_exchange = loaded + 1;
  return 0;
}

/* A model whose private state a checkpoint cannot hold: a plugin (or a
 * model compiled into the program) without save and load whose init() set
 * a state.  The built-in models' state is a function of their parameters. */
static int state_unsaved(const braid_runtime *rt)
{
  if (braid_find_model(rt->model->name) == rt->model || braid__model_can_save(rt->model)) return 0;
  for (uint32_t r = 0; r < rt->ntori; r++)
    if (rt->tc[r].t.mstate) return 1;
  return 0;
}

/* Compares the replay's final state with the footer's, when the replay ran
 * through the last exchange of a complete trace. */
static void compare_final(replay_ctx *x, const braid_trace_info *info, const replay_plan *pl)
{
  braid_report rep;
  braid_replay_result *res = x->res;
  if (braid_runtime_report(x->rt, &rep)) return;
  for (uint32_t r = 0; r < rep.tori && r < 16; r++) x->pass->final[r] = rep.torus[r].state_hash;
  x->pass->ran_to_end = 1;
  if (info->status != BRAID_TRACE_COMPLETE || info->truncated || info->tori != rep.tori || info->exchanges != pl->nexch - pl->first ||
      x->o->until < pl->nexch - 1)
    return;
  res->final_compared = 1;
  braid_divergence *d = &res->div;
  size_t off = 0;
  for (uint32_t r = 0; r < rep.tori && r < 16; r++) {
    if (info->final_state_hash[r] == rep.torus[r].state_hash) continue;
    if (!res->diverged) {
      memset(d, 0, sizeof *d);
      d->exchange = pl->nexch - 1;
      d->torus = r;
      snprintf(d->record, sizeof d->record, "footer");
      snprintf(d->field, sizeof d->field, "final_state_hash");
      d->field_hex = 1;
      d->expected = info->final_state_hash[r];
      d->actual = rep.torus[r].state_hash;
      res->diverged = 1;
    }
    res->differing_tori |= 1u << r;
    if (off < sizeof d->context)
      off += (size_t)snprintf(d->context + off, sizeof d->context - off, "%s  recorded footer torus=%u final_state_hash=%016llx\n   replayed footer torus=%u final_state_hash=%016llx\n",
                              d->torus == (int64_t)r ? ">" : " ", r, (unsigned long long)info->final_state_hash[r], r, (unsigned long long)rep.torus[r].state_hash);
  }
}

/* The replay's own trace is created while the recording is still read:
 * the same file, under any name, hard link or symbolic link, would be
 * truncated under the reader and lost; a plugin is mapped while it runs,
 * and truncating it crashes the replay. */
static int check_output(const char *path, const braid_replay_opts *opts, char *err, size_t errlen)
{
  struct stat sin, sout;
  if (opts->out && stat(opts->out, &sout) == 0 && stat(path, &sin) == 0 && sin.st_dev == sout.st_dev && sin.st_ino == sout.st_ino) {
    braid__fmt(err, errlen, "%s: the output %s is the same file as the trace; write the replay's trace to another file", path, opts->out);
    return BRAID_EINVAL;
  }
  char plugin[1024];
  if (opts->out && braid__is_loaded_plugin(opts->out, plugin, sizeof plugin)) {
    braid__fmt(err, errlen, "%s: the output %s is the model plugin %s; write the replay's trace to another file", path, opts->out, plugin);
    return BRAID_EINVAL;
  }
  return 0;
}

/* Every recorded decision is checked against the settings before the
 * replay follows one (an interval of 4294967295 ran for minutes), and the
 * records of one exchange, recorded and replayed, must fit in memory. */
static int check_bounds(const char *path, const braid_trace_info *info, const braid_config *cfg, const braid__decisions *dec, braid__stream *rec,
                        char *err, size_t errlen)
{
  char why[512];
  const int64_t *v = cfg->v;
  uint64_t ncells = (uint64_t)v[BRAID_K_dim] * (uint64_t)v[BRAID_K_dim] * (uint64_t)v[BRAID_K_dim];
  int rc = braid__decisions_check(dec, ncells, (uint32_t)v[BRAID_K_interval_min], (uint32_t)v[BRAID_K_interval_max], why, sizeof why);
  rec->max_records = braid__exchange_records_max(info->config_text);
  if (!rc)
    rc = braid__check_memory(rec->max_records * 2 * sizeof(braid_record), "the records of one exchange under the header's tori, trace_events and interval settings",
                             why, sizeof why);
  if (rc) braid__fmt(err, errlen, "%s: %s", path, why);
  return rc;
}

/* From a checkpoint, a model whose private state the checkpoint cannot
 * hold is refused unless forced (then the result says so). */
static int check_model_state(const char *path, const braid_runtime *rt, const braid_replay_opts *opts, uint64_t at, braid_replay_result *res, char *err,
                             size_t errlen)
{
  if (!state_unsaved(rt)) return 0;
  if (!opts->force) {
    braid__fmt(err, errlen,
               "%s: the model '%s' keeps a private state (its init() set one) that a checkpoint cannot hold (it has no save and load "
               "callbacks), so a replay from the checkpoint of exchange %llu could diverge where the run did not; replay from the start, "
               "or use --force",
               path, rt->model->name, (unsigned long long)at);
    return BRAID_EUNSUPPORTED;
  }
  res->model_state_unsaved = 1;
  size_t off = strlen(res->warning);
  if (off + 2 < sizeof res->warning)
    braid__fmt(res->warning + off, sizeof res->warning - off, "%sthe model's private state was rebuilt by init(), not restored: a divergence may be the checkpoint's", off ? "; " : "");
  return 0;
}

/* One pass of the replay: plan, check, configure, run and compare. */
static int replay_once(const char *path, const braid_replay_opts *opts, braid_replay_result *res, replay_pass *pass, char *err, size_t errlen)
{
  braid_trace *scan = NULL;
  braid_config *cfg = NULL;
  braid__decisions *dec = NULL;
  replay_ctx x = { 0 };
  replay_plan pl;
  int rc;
  memset(res, 0, sizeof *res);
  if ((rc = check_output(path, opts, err, errlen))) return rc;
  uint64_t t0 = braid__now_ns();
  if ((rc = braid_trace_open(&scan, path, err, errlen))) return rc;
  const braid_trace_info *info = braid_trace_get_info(scan);
  res->status = info->status;
  res->truncated = info->truncated;
  if ((rc = choose_start(scan, opts, &pl, err, errlen))) goto out;
  if ((rc = braid__decisions_create(&dec, 1, info->config_tori))) goto out;
  if ((rc = scan_decisions(scan, path, pl.scanned, dec, &pl.nexch, err, errlen))) goto out;
  res->trace_exchanges = pl.nexch;
  res->truncated = info->truncated;
  res->status = info->status;
  res->recorded_threaded = !info->sequential;
  if ((rc = check_header(path, scan, info, opts, &pl, res, err, errlen))) goto out;
  if ((rc = braid_config_create(&cfg))) goto out;
  if ((rc = configure(path, info, opts, &pl, cfg, err, errlen))) goto out;
  if ((rc = check_bounds(path, info, cfg, dec, &x.rec, err, errlen))) goto out;
  char why[512];
#ifdef M_PERTURB
  /* Model state is allocated by init(), in braid_runtime_create(). */
  if (pass->perturb) mallopt(M_PERTURB, pass->perturb);
#endif
  if ((rc = braid_runtime_create(&x.rt, cfg, why, sizeof why))) {
    braid__fmt(err, errlen, "%s: %s", path, why);
    goto out;
  }
  if (pl.at != UINT64_MAX && (rc = check_model_state(path, x.rt, opts, pl.at, res, err, errlen))) goto out;
  braid__runtime_follow(x.rt, dec);
  x.o = opts;
  x.res = res;
  x.pass = pass;
  x.rungs = (unsigned)x.rt->cfg.v[BRAID_K_rungs];
  if (pass->probe) x.rt->probe = (braid__probe){ braid__window_run, pass->probe, pass->probe->w->torus, pass->probe->w->exchange };
  if ((rc = start_at(&x, path, opts, &pl, err, errlen))) goto out;
  /* Step 5: run; the sink compares every exchange with the recording. */
  braid__sink s = { replay_sink, NULL, &x };
  braid__add_sink(x.rt, &s);
  rc = braid_runtime_run(x.rt);
  if (rc == 0) compare_final(&x, info, &pl);
  if (rc == BRAID_EDIVERGED || rc == BRAID_EINTR) rc = 0;
  else if (rc) braid__fmt(err, errlen, "%s: replay failed: %s", path, braid_runtime_error(x.rt));
  if (!rc && (pass->break_at_end == 2 || (pass->break_at_end && !res->diverged && !res->stopped_at_violation)))
    braid__debug_stop(x.rt, pass->break_torus >= 0 && pass->break_torus < x.rt->ntori ? &x.rt->tc[pass->break_torus].t : NULL);
out:
  res->seconds = (double)(braid__now_ns() - t0) / 1e9;
  braid_runtime_destroy(x.rt);
#ifdef M_PERTURB
  if (pass->perturb) mallopt(M_PERTURB, 0);
#endif
  braid_trace_close(x.rec.t);
  braid__stream_free(&x.rec);
  braid__aligner_free(&x.al);
  free(x.mine);
  braid_trace_close(scan);
  braid_config_destroy(cfg);
  braid__decisions_destroy(dec);
  return rc;
}

static void pass_free(replay_pass *p) { free(p->kept); }

static int same_records(const braid_record *a, size_t na, const braid_record *b, size_t nb)
{
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (!braid__same_record(&a[i], &b[i])) return 0;
  return 1;
}

/* The second pass: the same replay again (with another fill pattern under
 * opts->perturb_malloc).  A model that is deterministic repeats the first
 * pass exactly: then the recorded run is what differs.  One that is not
 * (a clock, uninitialised memory, state that outlives a run) differs from
 * the first pass at some exchange, at the latest at the divergence. */
static void diagnose(const char *path, const braid_replay_opts *opts, braid_replay_result *res, const replay_pass *first)
{
  braid_replay_opts o = *opts;
  braid_replay_result *r2 = malloc(sizeof *r2);
  replay_pass p = { 0 };
  char err[256];
  if (!r2) return;
  const int footer = !strcmp(res->div.record, "footer");
  uint64_t k = res->div.exchange;
  o.out = NULL;
  o.do_break = 0;
  o.violation = 0;
  if (!footer) o.until = k;
  p.perturb = opts->perturb_malloc ? (opts->perturb_malloc ^ 0xff) : 0;
  p.capture = footer ? UINT64_MAX : k;
  p.break_torus = -1;
  if (replay_once(path, &o, r2, &p, err, sizeof err) == 0) {
    res->diagnosis = BRAID_DIAG_DETERMINISTIC;
    res->diagnosis_exchange = k;
    if (r2->diverged && r2->div.exchange < k) {
      res->diagnosis = BRAID_DIAG_NONDETERMINISTIC;
      res->diagnosis_exchange = r2->div.exchange;
    } else if (footer) {
      if (!p.ran_to_end || memcmp(p.final, first->final, sizeof p.final)) res->diagnosis = BRAID_DIAG_NONDETERMINISTIC;
    } else if (!p.kept_valid || !first->kept_valid || !same_records(p.kept, p.nkept, first->kept, first->nkept)) {
      res->diagnosis = BRAID_DIAG_NONDETERMINISTIC;
    }
  }
  pass_free(&p);
  free(r2);
}

/* The third pass: to the epoch of the divergence, whose window the probe
 * re-runs event by event (and stops in before it, for --break). */
static void locate(const char *path, const braid_replay_opts *opts, braid_replay_result *res)
{
  braid_replay_opts o = *opts;
  braid_replay_result *r3 = malloc(sizeof *r3);
  replay_pass p = { 0 };
  char err[256];
  if (!r3) return;
  braid__window_probe probe = { &r3->window, opts->do_break };
  o.out = NULL;
  o.violation = 0;
  o.until = res->window.exchange;
  p.perturb = opts->perturb_malloc;
  p.capture = UINT64_MAX;
  p.break_torus = -1;
  p.probe = &probe;
  /* replay_once clears the result it fills: the window is set up in it
   * once it has begun, so give it its own and copy the located one back. */
  braid_window want = res->window;
  probe.w = &want;
  if (replay_once(path, &o, r3, &p, err, sizeof err) == 0 && want.found) res->window = want;
  pass_free(&p);
  free(r3);
}

/* --break where no window can be stopped in: a pass up to `until` that
 * stops at its end, about torus `torus`. */
static void break_after(const char *path, const braid_replay_opts *opts, uint64_t until, int64_t torus)
{
  braid_replay_opts o = *opts;
  braid_replay_result *r = malloc(sizeof *r);
  replay_pass p = { 0 };
  char err[256];
  if (!r) return;
  o.out = NULL;
  o.violation = 0;
  o.until = until;
  p.perturb = opts->perturb_malloc;
  p.capture = UINT64_MAX;
  p.break_at_end = 2;
  p.break_torus = torus;
  (void)replay_once(path, &o, r, &p, err, sizeof err);
  pass_free(&p);
  free(r);
}

int braid_replay(const char *path, const braid_replay_opts *opts, braid_replay_result *res, char *err, size_t errlen)
{
  braid_replay_opts defaults;
  BRAID_RETURN_IF(!path || !res, BRAID_EINVAL);
  if (!opts) {
    braid_replay_opts_init(&defaults);
    opts = &defaults;
  }
  BRAID_RETURN_IF(opts->perturb_malloc < 0 || opts->perturb_malloc > 255, BRAID_EINVAL);
  replay_pass first = { 0 };
  first.perturb = opts->perturb_malloc;
  first.capture = UINT64_MAX;
  first.break_at_end = opts->do_break;
  first.break_torus = -1;
  uint64_t t0 = braid__now_ns();
  int rc = replay_once(path, opts, res, &first, err, errlen);
  if (rc == 0 && res->diverged && !opts->no_locate) {
    diagnose(path, opts, res, &first);
    /* A window exists when both sides had the projection (braid__window_of
     * set its rung); a projection present in one side only, or naming a
     * torus the run does not have, has none to re-run. */
    if (!strcmp(res->div.record, "projection") && res->window.rung && res->window.torus < BRAID_MAX_TORI) {
      res->window.found = 0;
      locate(path, opts, res);
    }
  }
  if (rc == 0 && opts->do_break) {
    /* The first pass has run past the point to stop at. */
    if (res->diverged && !res->window.found) {
      const int footer = !strcmp(res->div.record, "footer");
      uint64_t k = res->div.exchange;
      if (footer || k > 0) break_after(path, opts, footer ? k : k - 1, res->div.torus);
    } else if (res->diverged && opts->no_locate && res->window.rung && res->window.torus < BRAID_MAX_TORI) {
      locate(path, opts, res);
    } else if (res->stopped_at_violation) {
      break_after(path, opts, res->viol.exchange, res->viol.torus);
    }
  }
  res->seconds = (double)(braid__now_ns() - t0) / 1e9;
  pass_free(&first);
  return rc;
}
