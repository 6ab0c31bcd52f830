/* torus.c - one kernel: set-up, model services, hashing, rebuild. */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "common/mem.h"
#include "kernel/torus.h"

static uint64_t generic_loop(braid_torus *t, uint64_t n);

static int alloc_cells(braid_torus *t)
{
  size_t n = t->ncells;
  t->state = braid__calloc_lines(n, sizeof *t->state);
  t->activity = braid__calloc_lines(n, sizeof *t->activity);
  t->corr = braid__calloc_lines((size_t)t->dim * t->dim, sizeof *t->corr);
  t->corr_base = t->ncells - t->dim * t->dim;
  t->facelen = t->dim * t->dim;
  t->cellmask = t->ncells - 1;
  t->face_dirty = braid__calloc_lines(2 * (size_t)t->facelen / 64, sizeof *t->face_dirty);
  if (!t->state || !t->activity || !t->corr || !t->face_dirty) return BRAID_ENOMEM;
  braid__torus_touch_faces(t);
  return 0;
}

void braid__torus_touch_faces(braid_torus *t) { memset(t->face_dirty, 0xff, 2 * (size_t)t->facelen / 8); }

static int64_t param_or(const braid_torus *t, const char *name, int64_t def)
{
  if (t->model->params)
    for (unsigned i = 0; t->model->params[i].name; i++)
      if (!strcmp(t->model->params[i].name, name)) return t->params[i];
  return def;
}

static int model_init(braid_torus *t)
{
  uint64_t cap = t->model->max_delay ? t->model->max_delay : 255;
  t->max_delay = (uint32_t)param_or(t, "max_delay", (int64_t)cap);
  if (t->max_delay > cap) t->max_delay = (uint32_t)cap;
  if (t->max_delay < 1) t->max_delay = 1;
  t->mstate = NULL;
  t->init_error = 0;
  int rc = t->model->init(t, &t->mstate);
  if (rc < 0) return rc;
  if (t->init_error) return t->init_error;
  return 0;
}

static int spawn_procs(braid_torus *t, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++) {
    uint32_t cell = (uint32_t)(braid__rand(t, 0x70c, i) % t->ncells);
    BRAID_FORWARD(braid_torus_spawn(t, cell, t->id * 1000 + i, 0));
  }
  return 0;
}

int braid__torus_init(braid_torus *t, const braid__torus_opts *o)
{
  memset(t, 0, sizeof *t);
  BRAID_RETURN_IF(o->dim < 8 || o->dim > 128 || (o->dim & (o->dim - 1)), BRAID_ERANGE);
  BRAID_RETURN_IF(!o->model || !o->model->init, BRAID_EINVAL);
  t->id = o->id;
  t->dim = o->dim;
  t->shift = (uint32_t)__builtin_ctz(o->dim);
  t->ncells = o->dim * o->dim * o->dim;
  t->seed = o->seed;
  t->rng_key = braid__mix64(o->seed ^ braid__mix64(0xb4a1dull + o->id));
  t->model = o->model;
  t->params = o->params;
  t->loop = o->loop ? o->loop : generic_loop;
  /* The ring only needs to cover the delays the model can emit: a wider one
   * lets every bucket grow to the peak population of one time step as
   * virtual time sweeps around it (RSS crept up for the whole run). */
  uint32_t cap = o->model->max_delay ? o->model->max_delay : 255;
  uint32_t horizon = (uint32_t)param_or(t, "max_delay", cap);
  horizon = (horizon < 1 ? 1 : horizon > cap ? cap : horizon) + 2;
  int rc = alloc_cells(t);
  if (!rc) rc = braid__queue_init(&t->q, horizon, o->queue_cap);
  if (!rc) rc = spawn_procs(t, o->procs);
  if (!rc) rc = model_init(t);
  if (!rc) braid__torus_rehash(t);
  if (rc) braid__torus_free(t);
  return rc;
}

void braid__torus_free(braid_torus *t)
{
  if (!t) return;
  if (t->model && t->model->fini && t->mstate) t->model->fini(t->mstate);
  t->mstate = NULL;
  free(t->state);
  free(t->activity);
  free(t->corr);
  t->corr = NULL;
  free(t->face_dirty);
  t->face_dirty = NULL;
  free(t->staged);
  t->staged = NULL;
  t->nstaged = t->capstaged = 0;
  free(t->edge_target);
  free(t->edge_delay);
  free(t->proc_count);
  braid__queue_free(&t->q);
  t->state = NULL;
  t->activity = NULL;
  t->edge_target = NULL;
  t->edge_delay = NULL;
  t->proc_count = NULL;
}

int braid__torus_reset(braid_torus *t, uint64_t now)
{
  if (t->model->fini && t->mstate) t->model->fini(t->mstate);
  t->mstate = NULL;
  memset(t->state, 0, t->ncells * sizeof *t->state);
  memset(t->activity, 0, t->ncells * sizeof *t->activity);
  memset(t->corr, 0, (size_t)t->dim * t->dim * sizeof *t->corr);
  braid__torus_touch_faces(t);
  t->nstaged = 0;
  braid__queue_clear(&t->q, now);
  /* The model re-seeds its population relative to q.now. */
  BRAID_FORWARD(model_init(t));
  braid__torus_rehash(t);
  return 0;
}

static int stage(braid_torus *t, uint32_t cell, uint32_t src, int32_t payload)
{
  if (t->q.size + t->nstaged >= t->q.cap) {
    t->q.overflows++;
    return BRAID_EQUEUE;
  }
  if (t->nstaged == t->capstaged) {
    uint32_t ncap = t->capstaged ? t->capstaged * 2 : t->dim * t->dim;
    BRAID_RETURN_IF(ncap <= t->capstaged, BRAID_ENOMEM);
    braid__qev *n = realloc(t->staged, (size_t)ncap * sizeof *n);
    if (!n) return BRAID_ENOMEM;
    t->staged = n;
    t->capstaged = ncap;
  }
  t->staged[t->nstaged++] = (braid__qev){ cell, src, payload };
  return 0;
}

int braid__torus_push_external(braid_torus *t, uint32_t cell, int32_t payload)
{
  if (cell >= t->ncells) return BRAID_ERANGE;
  return stage(t, cell, BRAID_SRC_EXTERNAL, payload);
}

int braid__torus_push_correction(braid_torus *t, uint32_t j, int32_t payload)
{
  BRAID_FORWARD(stage(t, t->corr_base + j, BRAID_SRC_CORRECTION, payload));
  t->corr[j] += payload;
  return 0;
}

int braid__torus_land(braid_torus *t)
{
  uint32_t n = t->nstaged;
  t->nstaged = 0;
  t->landed = 0;
  BRAID_FORWARD(braid__queue_push_first(&t->q, t->staged, n));
  t->landed = n;
  return 0;
}

void braid__torus_sample_procs(braid_torus *t)
{
  for (uint32_t i = 0; i < t->nprocs; i++) t->procs[i].state = t->state[t->procs[i].cell];
}

static void hash_event(void *ud, uint64_t time, const braid__qev *ev)
{
  uint64_t rec[3] = { time, (uint64_t)ev->dst << 32 | ev->src, (uint64_t)(uint32_t)ev->payload };
  XXH3_64bits_update((XXH3_state_t *)ud, rec, sizeof rec);
}

uint64_t braid__torus_state_hash(const braid_torus *t)
{
  XXH3_state_t *s = XXH3_createState();
  if (!s) return 0;
  XXH3_64bits_reset(s);
  XXH3_64bits_update(s, t->state, t->ncells * sizeof *t->state);
  XXH3_64bits_update(s, t->activity, t->ncells * sizeof *t->activity);
  if (t->degree) {
    XXH3_64bits_update(s, t->edge_target, (size_t)t->ncells * t->degree * sizeof *t->edge_target);
    XXH3_64bits_update(s, t->edge_delay, (size_t)t->ncells * t->degree);
  }
  XXH3_64bits_update(s, t->procs, t->nprocs * sizeof *t->procs);
  uint64_t hdr[3] = { t->q.now, t->q.size, t->events };
  XXH3_64bits_update(s, hdr, sizeof hdr);
  braid__queue_visit(&t->q, hash_event, s);
  uint64_t h = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return h;
}

static void sum_pending(void *ud, uint64_t time, const braid__qev *ev)
{
  *(uint64_t *)ud += braid__qev_hash(time, ev->dst, ev->src, ev->payload);
}

void braid__torus_rehash(braid_torus *t)
{
  uint64_t c = 0, p = 0;
  for (uint32_t i = 0; i < t->ncells; i++) c += braid__cell_weight(i) * (uint64_t)t->state[i];
  for (size_t i = 0; t->edge_target && i < (size_t)t->ncells * t->degree; i++)
    c += braid__edge_weight(i) * ((uint64_t)t->edge_target[i] << 8 | t->edge_delay[i]);
  braid__queue_visit(&t->q, sum_pending, &p);
  t->cdigest = c;
  t->q.pdigest = p;
}

static uint64_t generic_loop(braid_torus *t, uint64_t n)
{
  uint64_t done = 0, time;
  braid__qev ev;
  while (done < n && braid__queue_pop(&t->q, &time, &ev)) {
    braid__process(t, time, &ev);
    done++;
  }
  return done;
}

/* ---- services for models (public API) ---- */

uint32_t braid_torus_id(const braid_torus *t) { return t->id; }
uint32_t braid_torus_dim(const braid_torus *t) { return t->dim; }
uint32_t braid_torus_ncells(const braid_torus *t) { return t->ncells; }
uint64_t braid_torus_now(const braid_torus *t) { return t->q.now; }
uint64_t braid_torus_events(const braid_torus *t) { return t->events; }
int64_t braid_torus_param(const braid_torus *t, const char *name) { return param_or(t, name, 0); }
uint64_t braid_torus_rand(const braid_torus *t, uint64_t stream, uint64_t counter) { return braid__rand(t, stream, counter); }

uint32_t braid_torus_cell(const braid_torus *t, int64_t x, int64_t y, int64_t z)
{
  uint32_t m = t->dim - 1;
  return ((((uint32_t)x & m) << t->shift | ((uint32_t)y & m)) << t->shift) | ((uint32_t)z & m);
}

uint32_t braid_torus_neighbour(const braid_torus *t, uint32_t cell, unsigned dir)
{
  uint32_t m = t->dim - 1, s = t->shift;
  int64_t x = cell >> (2 * s), y = (cell >> s) & m, z = cell & m;
  switch (dir % 6) {
  case 0: x++; break;
  case 1: x--; break;
  case 2: y++; break;
  case 3: y--; break;
  case 4: z++; break;
  default: z--; break;
  }
  return braid_torus_cell(t, x, y, z);
}

int64_t braid_torus_cell_state(const braid_torus *t, uint32_t cell) { return cell < t->ncells ? t->state[cell] : 0; }

int braid_torus_set_degree(braid_torus *t, unsigned degree)
{
  BRAID_RETURN_IF(degree > BRAID_MAX_DEGREE, BRAID_ERANGE);
  if (degree == t->degree && t->edge_target) return 0;
  free(t->edge_target);
  free(t->edge_delay);
  t->edge_target = NULL;
  t->edge_delay = NULL;
  t->degree = degree;
  if (!degree) return 0;
  t->edge_target = braid__calloc_lines((size_t)t->ncells * degree, sizeof *t->edge_target);
  t->edge_delay = braid__calloc_lines((size_t)t->ncells * degree, 1);
  if (!t->edge_target || !t->edge_delay) {
    t->init_error = BRAID_ENOMEM;
    return BRAID_ENOMEM;
  }
  return 0;
}

int braid_torus_set_edge(braid_torus *t, uint32_t cell, unsigned k, uint32_t target, uint32_t delay)
{
  BRAID_RETURN_IF(cell >= t->ncells || target >= t->ncells || k >= t->degree, BRAID_ERANGE);
  if (delay < 1) delay = 1;
  if (delay > t->max_delay) delay = t->max_delay;
  size_t i = (size_t)cell * t->degree + k;
  uint64_t was = (uint64_t)t->edge_target[i] << 8 | t->edge_delay[i];
  t->edge_target[i] = target;
  t->edge_delay[i] = (uint8_t)delay;
  t->cdigest += braid__edge_weight(i) * (((uint64_t)target << 8 | delay) - was);
  return 0;
}

uint32_t braid_torus_use_edge(braid_torus *t, uint32_t cell, unsigned k, int32_t payload, uint32_t *delay)
{
  size_t i = (size_t)cell * t->degree + k;
  *delay = braid__use_delay(t, i, payload > 0);
  return t->edge_target[i];
}

int braid_torus_emit(braid_torus *t, uint32_t dst, uint32_t src, uint64_t delay, int32_t payload)
{
  BRAID_RETURN_IF(dst >= t->ncells, BRAID_ERANGE);
  if (delay < 1) delay = 1;
  return braid__emit(t, dst, src, delay, payload);
}

int braid_torus_set_horizon(braid_torus *t, uint32_t max_delay)
{
  uint32_t cap = t->model->max_delay ? t->model->max_delay : 255;
  BRAID_RETURN_IF(max_delay > cap, BRAID_ERANGE);
  BRAID_RETURN_IF(t->q.size, BRAID_ESTATE);
  if (max_delay + 2 <= t->q.mask + 1) return 0;
  uint64_t cap_events = t->q.cap, now = t->q.now;
  braid__queue_free(&t->q);
  BRAID_FORWARD(braid__queue_init(&t->q, max_delay + 2, cap_events));
  t->q.now = now;
  return 0;
}

/* The failure path is kept out of line so that a passing check costs the
 * caller one branch. */
__attribute__((noinline, cold)) void braid__check_failed(braid_torus *t, uint32_t cell, uint32_t code, const char *message)
{
  t->checks_failed++;
  if (t->nchecks >= BRAID_CHECKS_PER_EPOCH) return;
  braid__failed_check *c = &t->checks[t->nchecks++];
  c->event = t->events;
  c->cell = cell;
  c->code = code;
  c->len = 0;
  if (message)
    while (c->len < BRAID_CHECK_MESSAGE_MAX - 1 && message[c->len]) {
      /* Printable ASCII only, so that every tool can show it as it is. */
      unsigned char ch = (unsigned char)message[c->len];
      c->msg[c->len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
  c->msg[c->len] = 0;
}

int braid_torus_check(braid_torus *t, int ok, uint32_t cell, uint32_t code, const char *message)
{
  return braid__check(t, ok, cell, code, message);
}

const braid__failed_check *braid__torus_take_checks(braid_torus *t, uint32_t *n)
{
  *n = t->nchecks;
  t->nchecks = 0;
  return t->checks;
}

int braid_torus_spawn(braid_torus *t, uint32_t cell, uint32_t pid, int64_t state)
{
  BRAID_RETURN_IF(cell >= t->ncells, BRAID_ERANGE);
  BRAID_RETURN_IF(t->nprocs >= BRAID_MAX_PROCS, BRAID_ELIMIT);
  if (!t->proc_count) {
    t->proc_count = braid__calloc_lines(t->ncells, 1);
    if (!t->proc_count) return BRAID_ENOMEM;
  }
  BRAID_RETURN_IF(t->proc_count[cell] >= BRAID_MAX_PROCS_PER_CELL, BRAID_ELIMIT);
  t->proc_count[cell]++;
  t->procs[t->nprocs++] = (braid__proc){ pid, cell, state };
  return 0;
}
