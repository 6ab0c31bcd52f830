/* checkpoint.c - full state of a torus after exchange k, and restoring a
 * runtime from it so replay can start near exchange k instead of at 0.
 *
 * A torus blob is a sequence of varints (signed values zigzagged) followed by
 * the raw little-endian cell arrays; every read is bounds-checked because a
 * blob comes from a file.  Model state is rebuilt by calling the model's
 * init, which is exact for the built-in models (their state is a function of
 * the parameters), and then, for a model with save and load callbacks
 * (braid.h), restored from what it saved.
 */
#include <stdlib.h>
#include <string.h>
#include "kernel/plugin.h"
#include "runtime/checkpoint.h"

#define CKPT_MAGIC 0x43504b42u /* "BKPC" */

static int put_model(braid__buf *b, const braid_torus *t);

static void put(braid__buf *b, uint64_t v)
{
  uint8_t tmp[10];
  braid__buf_put(b, tmp, braid__varint_put(tmp, v));
}

/* A torus's last projection as it is resumed from (resume_form): with its
 * whole face and no delta.  The hash stored is of that form, so that a
 * blob whose face does not match its hash shows as a projection error at
 * the successor's next check. */
static void put_proj(braid__buf *b, const braid__projection *p)
{
  put(b, p->exchange);
  put(b, p->alive);
  put(b, p->events);
  put(b, p->vtime);
  put(b, p->pending);
  put(b, p->digest);
  put(b, p->interval);
  put(b, p->nprocs);
  for (uint32_t i = 0; i < p->nprocs; i++) {
    put(b, p->procs[i].pid);
    put(b, p->procs[i].cell);
    put(b, braid__zigzag(p->procs[i].state));
  }
  for (uint32_t i = 0; i < p->facelen; i++) put(b, braid__zigzag(p->face[i]));
  put(b, braid__projection_hash(p));
}

/* Makes *p (whose face is whole) the projection a successor can start over
 * from: the face and no delta. */
static void resume_form(braid__projection *p, uint64_t facesum)
{
  p->facesum = facesum;
  p->has_face = 1;
  p->delta = BRAID__DELTA_NONE;
  p->delta_from = UINT64_MAX;
  p->ndelta = 0;
}

/* Exchanges that may be -1 are stored plus one. */
static void put_converge(braid__buf *b, const braid__converge *cv)
{
  put(b, cv->n);
  put(b, cv->at);
  for (uint32_t i = 0; i < BRAID_CONVERGENCE_WINDOW; i++) {
    put(b, cv->k[i]);
    put(b, cv->viol[i]);
    put(b, cv->checked[i]);
  }
  put(b, (uint64_t)(cv->perturbed + 1));
  put(b, cv->kind);
  put(b, cv->first);
  put(b, (uint64_t)(cv->from + 1));
}

typedef struct ckpt_ctx {
  braid__buf *b;
  uint64_t now;
} ckpt_ctx;

static void put_event(void *ud, uint64_t time, const braid__qev *ev)
{
  ckpt_ctx *c = ud;
  put(c->b, time - c->now);
  put(c->b, ev->dst);
  put(c->b, ev->src);
  put(c->b, braid__zigzag(ev->payload));
}

int braid__checkpoint_save(braid__tctx *c, uint64_t k, braid__buf *b)
{
  const braid_torus *t = &c->t;
  b->len = 0;
  put(b, CKPT_MAGIC);
  put(b, k);
  put(b, t->id);
  put(b, t->ncells);
  put(b, t->events);
  put(b, t->digest);
  put(b, t->q.now);
  put(b, t->q.size);
  put(b, t->q.overflows);
  put(b, t->q.horizon_errors);
  put(b, t->nprocs);
  for (uint32_t i = 0; i < t->nprocs; i++) {
    put(b, t->procs[i].pid);
    put(b, t->procs[i].cell);
    put(b, braid__zigzag(t->procs[i].state));
  }
  put(b, c->adapt.interval);
  put(b, c->adapt.up);
  put(b, c->adapt.down);
  put(b, c->last_overflows);
  put(b, c->last_horizon);
  put_converge(b, &c->conv);
  braid__projection whole = c->own; /* the storage is shared, and only read */
  resume_form(&whole, c->facesum);
  put_proj(b, &whole);
  put(b, t->degree);
  braid__buf_put(b, t->state, t->ncells * sizeof *t->state);
  braid__buf_put(b, t->activity, t->ncells * sizeof *t->activity);
  braid__buf_put(b, t->corr, (size_t)t->dim * t->dim * sizeof *t->corr);
  if (t->degree) {
    braid__buf_put(b, t->edge_target, (size_t)t->ncells * t->degree * sizeof *t->edge_target);
    braid__buf_put(b, t->edge_delay, (size_t)t->ncells * t->degree);
  }
  ckpt_ctx cc = { b, t->q.now };
  braid__queue_visit(&t->q, put_event, &cc);
  /* Appended in semantics 3: what the projection gained, then the model's
   * own state when it can save it. */
  put(b, c->own.pdigest);
  put(b, c->own.cdigest);
  put(b, c->own.rungs);
  return b->err ? b->err : put_model(b, t);
}

/* The model's private state, through its save callback (braid.h): 0 for
 * none, else 1, the length and the bytes. */
static int put_model(braid__buf *b, const braid_torus *t)
{
  const braid_model *m = t->model;
  if (!braid__model_can_save(m)) {
    put(b, 0);
    return b->err;
  }
  uint8_t small[256];
  size_t len = 0;
  int rc = m->save(t, t->mstate, small, sizeof small, &len);
  if (rc == BRAID_ERANGE && len > sizeof small) {
    uint8_t *big = malloc(len);
    size_t cap = len;
    if (!big) return BRAID_ENOMEM;
    rc = m->save(t, t->mstate, big, cap, &len);
    if (!rc && len <= cap) {
      put(b, 1);
      put(b, len);
      braid__buf_put(b, big, len);
    }
    free(big);
    if (!rc && len > cap) rc = BRAID_ERANGE;
    return rc ? rc : b->err;
  }
  if (rc) return rc;
  if (len > sizeof small) return BRAID_ERANGE;
  put(b, 1);
  put(b, len);
  braid__buf_put(b, small, len);
  return b->err;
}

typedef struct reader {
  const uint8_t *p, *end;
  int err;
} reader;

static uint64_t get(reader *r)
{
  uint64_t v = 0;
  size_t n = r->err ? 0 : braid__varint_get(r->p, r->end, &v);
  if (!n) {
    r->err = BRAID_ECORRUPT;
    return 0;
  }
  r->p += n;
  return v;
}

static uint64_t get_max(reader *r, uint64_t max)
{
  uint64_t v = get(r);
  if (v > max) r->err = BRAID_ECORRUPT;
  return r->err ? 0 : v;
}

static void get_raw(reader *r, void *dst, size_t n)
{
  if (r->err || (size_t)(r->end - r->p) < n) {
    r->err = BRAID_ECORRUPT;
    return;
  }
  memcpy(dst, r->p, n);
  r->p += n;
}

static void get_procs(reader *r, braid__proc *procs, uint32_t n, uint32_t ncells)
{
  for (uint32_t i = 0; i < n; i++) {
    procs[i].pid = (uint32_t)get_max(r, UINT32_MAX);
    procs[i].cell = (uint32_t)get_max(r, ncells - 1);
    procs[i].state = braid__unzigzag(get(r));
  }
}

static void get_proj(reader *r, braid__projection *p, uint32_t ncells)
{
  p->exchange = get(r);
  p->alive = (uint32_t)get_max(r, 1);
  p->events = get(r);
  p->vtime = get(r);
  p->pending = get(r);
  p->digest = get(r);
  p->interval = (uint32_t)get_max(r, UINT32_MAX);
  p->nprocs = (uint32_t)get_max(r, BRAID_MAX_PROCS);
  get_procs(r, p->procs, p->nprocs, ncells);
  for (uint32_t i = 0; i < p->facelen; i++) p->face[i] = braid__unzigzag(get(r));
  p->hash = get(r);
}

static void get_converge(reader *r, braid__converge *cv)
{
  cv->n = (uint32_t)get_max(r, BRAID_CONVERGENCE_WINDOW);
  cv->at = (uint32_t)get_max(r, BRAID_CONVERGENCE_WINDOW - 1);
  for (uint32_t i = 0; i < BRAID_CONVERGENCE_WINDOW; i++) {
    cv->k[i] = get(r);
    cv->viol[i] = get_max(r, UINT32_MAX);
    cv->checked[i] = get_max(r, UINT32_MAX);
  }
  cv->perturbed = (int64_t)get_max(r, INT64_MAX) - 1;
  cv->kind = (uint32_t)get_max(r, BRAID_PERTURB_REBUILD);
  cv->first = get(r);
  cv->from = (int64_t)get_max(r, INT64_MAX) - 1;
}

/* |v| < 2^61: what a loaded cell value may be. */
static int value_ok(int64_t v) { return v > -((int64_t)1 << 61) && v < ((int64_t)1 << 61); }

static int load_torus(braid_runtime *rt, reader *r, uint64_t *kout)
{
  uint64_t magic = get(r), k = get(r), id = get_max(r, rt->ntori - 1), ncells = get(r);
  BRAID_RETURN_IF(r->err || magic != CKPT_MAGIC, BRAID_ECORRUPT);
  braid__tctx *c = &rt->tc[id];
  braid_torus *t = &c->t;
  BRAID_RETURN_IF(ncells != t->ncells, BRAID_EMISMATCH);
  t->events = get(r);
  t->digest = get(r);
  uint64_t now = get(r), size = get_max(r, t->q.cap);
  uint64_t overflows = get(r), horizon = get(r);
  t->nprocs = (uint32_t)get_max(r, BRAID_MAX_PROCS);
  get_procs(r, t->procs, t->nprocs, t->ncells);
  /* The next epoch runs `interval` events: a run keeps it within the
   * settings' bounds, and so must a blob. */
  uint64_t interval = get_max(r, UINT32_MAX);
  if (!r->err && (interval < (uint64_t)rt->cfg.v[BRAID_K_interval_min] || interval > (uint64_t)rt->cfg.v[BRAID_K_interval_max])) r->err = BRAID_ECORRUPT;
  c->adapt.interval = (uint32_t)interval;
  c->adapt.up = (uint32_t)get_max(r, UINT32_MAX);
  c->adapt.down = (uint32_t)get_max(r, UINT32_MAX);
  c->last_overflows = get(r);
  c->last_horizon = get(r);
  get_converge(r, &c->conv);
  get_proj(r, &c->own, t->ncells);
  c->own.torus = (uint32_t)id; /* not stored: it is the blob's own torus, and the hash covers it */
  /* The model's init, run when the runtime was created, gave the torus the
   * degree its loop assumes (models set it only there): a blob with another
   * one would make the loop read edges that are not there. */
  uint64_t degree = get(r);
  BRAID_RETURN_IF(r->err, r->err);
  BRAID_RETURN_IF(degree != t->degree, BRAID_EMISMATCH);
  get_raw(r, t->state, t->ncells * sizeof *t->state);
  get_raw(r, t->activity, t->ncells * sizeof *t->activity);
  get_raw(r, t->corr, (size_t)t->dim * t->dim * sizeof *t->corr);
  if (t->degree) {
    get_raw(r, t->edge_target, (size_t)t->ncells * t->degree * sizeof *t->edge_target);
    get_raw(r, t->edge_delay, (size_t)t->ncells * t->degree);
  }
  BRAID_RETURN_IF(r->err, r->err);
  /* A run's cell values are sums of 32-bit payloads and stay far below this;
   * a blob's must too, so that the exchange's arithmetic cannot overflow. */
  for (uint32_t i = 0; i < t->ncells; i++) BRAID_RETURN_IF(!value_ok(t->state[i]), BRAID_ECORRUPT);
  for (uint32_t i = 0; i < t->dim * t->dim; i++) BRAID_RETURN_IF(!value_ok(t->corr[i]), BRAID_ECORRUPT);
  for (uint32_t i = 0; i < c->own.facelen; i++) BRAID_RETURN_IF(!value_ok(c->own.face[i]), BRAID_ECORRUPT);
  braid__queue_clear(&t->q, now);
  for (uint64_t i = 0; i < size; i++) {
    uint64_t dt = get_max(r, t->q.mask), dst = get_max(r, t->ncells - 1), src = get_max(r, UINT32_MAX);
    int64_t payload = braid__unzigzag(get(r));
    BRAID_RETURN_IF(r->err || payload < INT32_MIN || payload > INT32_MAX, BRAID_ECORRUPT);
    /* A correction is applied to the x=D-1 face cell it names (corr[dst - corr_base]). */
    BRAID_RETURN_IF(src == BRAID_SRC_CORRECTION && dst < t->corr_base, BRAID_ECORRUPT);
    BRAID_FORWARD(braid__queue_push(&t->q, now + dt, (uint32_t)dst, (uint32_t)src, (int32_t)payload));
  }
  t->q.overflows = overflows;
  t->q.horizon_errors = horizon;
  c->own.pdigest = get(r);
  c->own.cdigest = get(r);
  c->own.rungs = get(r);
  BRAID_RETURN_IF(r->err, r->err);
  braid__torus_rehash(t);
  /* The exchange's state around the torus: its cells were written
   * wholesale, what it published before is unknown beyond its last
   * projection, and its mirror of its predecessor is gone (the
   * predecessor's resumed projection carries the whole face). */
  braid__torus_touch_faces(t);
  c->facesum = braid__face_sum(c->own.face, c->own.facelen);
  resume_form(&c->own, c->facesum);
  braid__facelog_forget(&c->facelog, k);
  atomic_store(&c->mirror_from, UINT64_MAX);
  memset(c->violating, 0, c->own.facelen / 8);
  memset(c->cand, 0, c->own.facelen / 8);
  if (get_max(r, 1)) {
    uint64_t mlen = get_max(r, (uint64_t)(r->end - r->p));
    BRAID_RETURN_IF(r->err, r->err);
    /* Saved by a model that can load it (the identity of the plugin was
     * checked against the trace before). */
    if (braid__model_can_save(t->model)) BRAID_FORWARD(t->model->load(t, t->mstate, r->p, (size_t)mlen));
    r->p += mlen;
  }
  BRAID_RETURN_IF(r->err, r->err);
  /* Every edge must lead into the lattice with a delay the queue holds: the
   * models follow them without looking. */
  for (size_t i = 0; t->edge_target && i < (size_t)t->ncells * t->degree; i++)
    BRAID_RETURN_IF(t->edge_target[i] >= t->ncells || t->edge_delay[i] < 1 || t->edge_delay[i] > t->max_delay, BRAID_ECORRUPT);
  /* The projection the successor reads at exchange-in(k). */
  rt->transport->resume(rt, (uint32_t)id, k, &c->own);
  atomic_store(&c->steps_done, k + 1);
  *kout = k;
  return 0;
}

int braid__checkpoint_load(braid_runtime *rt, const uint8_t *blob, size_t len, uint64_t *k)
{
  reader r = { blob, blob + len, 0 };
  uint64_t n = get(&r);
  BRAID_RETURN_IF(r.err || n != rt->ntori, BRAID_ECORRUPT);
  uint64_t first = UINT64_MAX;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t sz = get(&r);
    BRAID_RETURN_IF(r.err || sz > (uint64_t)(r.end - r.p), BRAID_ECORRUPT);
    reader tr = { r.p, r.p + sz, 0 };
    uint64_t kk = 0;
    BRAID_FORWARD(load_torus(rt, &tr, &kk));
    if (first == UINT64_MAX) first = kk;
    BRAID_RETURN_IF(kk != first, BRAID_ECORRUPT);
    r.p += sz;
  }
  *k = first;
  return 0;
}
