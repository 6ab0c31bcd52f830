/* torus.h - one kernel: lattice, adaptive edges, event queue, digest.
 *
 * Cell id = (x*D + y)*D + z, so the x=0 face is cells [0, D*D) and the x=D-1
 * face is the last D*D cells: both contiguous, which keeps projections cheap.
 * The hot data lives in flat arrays (structure of arrays).
 */
#ifndef BRAID_TORUS_H
#define BRAID_TORUS_H

#include "kernel/queue.h"

#define BRAID_MAX_DEGREE 4
#define BRAID_MAX_PROCS_PER_CELL 8
#define BRAID_MAX_PROCS 64

typedef struct braid__proc {
  uint32_t pid;
  uint32_t cell;
  int64_t state;
} braid__proc;

typedef uint64_t (*braid__loop_fn)(braid_torus *t, uint64_t n);

/* A failed model check, staged until the runtime records it at the end of
 * the epoch (braid_torus_check). */
typedef struct braid__failed_check {
  uint64_t event;
  uint32_t cell, code;
  uint32_t len;
  char msg[BRAID_CHECK_MESSAGE_MAX];
} braid__failed_check;

struct braid_torus {
  /* Hot: touched by every event. */
  int64_t *state;
  uint64_t *activity;
  uint32_t *edge_target; /* [cell * degree + k] */
  uint8_t *edge_delay;
  braid__queue q;
  uint64_t events;
  uint64_t digest;
  /* Order-independent digest of the cell states and the edges: the sum of
   * braid__cell_weight(cell) * state and of braid__edge_weight(i) *
   * (target << 8 | delay), kept in O(1) per applied event and per edge
   * change, so that a wrong payload or delay shows at the exchange it was
   * made (with q.pdigest for the pending events). */
  uint64_t cdigest;
  uint64_t rng_key; /* mix of seed and torus id */
  /* The boundary faces' cells written since the exchange last looked, one
   * bit each (braid__touch): bit j of the first facelen is cell
   * corr_base + j of the x=D-1 face, bit facelen + j is cell j of the x=0
   * face.  The exchange checks and publishes only what changed. */
  uint64_t *face_dirty;
  uint32_t facelen, cellmask; /* D*D, and D^3 - 1 */
  uint32_t degree;
  uint32_t max_delay;
  void *mstate;
  const braid_model *model;
  braid__loop_fn loop; /* specialised epoch loop of a built-in, or the generic one */
  /* Cold. */
  uint32_t id, dim, shift, ncells;
  uint64_t seed;
  const int64_t *params; /* in the order of model->params */
  const struct braid_torus *peer; /* predecessor, read only by the racy model */
  int64_t *corr;      /* corrections in flight per x=D-1 face cell */
  uint32_t corr_base; /* first cell of the x=D-1 face */
  braid__qev *staged; /* what the current exchange adds, until braid__torus_land() */
  uint32_t nstaged, capstaged;
  uint32_t landed; /* events the last braid__torus_land() put first */
  braid__proc procs[BRAID_MAX_PROCS];
  uint32_t nprocs;
  uint8_t *proc_count; /* per cell, allocated on first spawn */
  int init_error;
  /* Failed model checks: staged ones (taken by the runtime after each
   * epoch, braid__torus_take_checks) and all of them, for the report. */
  braid__failed_check checks[BRAID_CHECKS_PER_EPOCH];
  uint32_t nchecks;
  uint64_t checks_failed;
};

typedef struct braid__torus_opts {
  uint32_t id, dim;
  uint64_t seed;
  uint64_t queue_cap;
  uint32_t procs; /* processes spawned by the kernel at init */
  const braid_model *model;
  const int64_t *params;
  braid__loop_fn loop; /* the model's specialised epoch loop (models.h), or NULL: the generic one */
} braid__torus_opts;

int braid__torus_init(braid_torus *t, const braid__torus_opts *o);
void braid__torus_free(braid_torus *t);
/* Re-initialises cells, edges, queue and model state (for rebuilds) with the
 * queue starting at `now`. */
int braid__torus_reset(braid_torus *t, uint64_t now);
/* Runs up to n events; returns how many were processed (fewer only when the
 * queue ran dry). */
static inline uint64_t braid__torus_run(braid_torus *t, uint64_t n) { return t->loop(t, n); }
/* XXH3 over cells, edges, processes and pending events. */
uint64_t braid__torus_state_hash(const braid_torus *t);
/* Recomputes t->cdigest from the cells and edges and t->q.pdigest from the
 * queue: after init, a rebuild or a checkpoint load wrote them wholesale. */
void braid__torus_rehash(braid_torus *t);
/* A 16-bit summary (the rungs keep 7 bits) of what the torus has done and holds: processed events,
 * pending events, cells and edges (the rungs of an epoch, runtime/step.c). */
static inline uint32_t braid__torus_rung(const braid_torus *t)
{
  return (uint32_t)(braid__mix64(t->digest ^ braid__rotl(t->q.pdigest, 21) ^ braid__rotl(t->cdigest, 42)) >> 48);
}
/* What an exchange adds to a torus (injected and corrective events) lands
 * at the torus's current virtual time, ahead of the events already pending
 * at that time, in the order the exchange added them: the next epoch starts
 * with them.  An exchange stages its events with the two calls below, which
 * refuse (and count as a queue overflow) what the queue could not hold, and
 * then lands them all with braid__torus_land(). */
/* Stages an injected event for `cell`. */
int braid__torus_push_external(braid_torus *t, uint32_t cell, int32_t payload);
/* Stages a corrective event for x=D-1 face cell `j` and counts it in flight
 * until it is applied. */
int braid__torus_push_correction(braid_torus *t, uint32_t j, int32_t payload);
/* Puts the staged events at the front of the current time and counts them
 * in t->landed. */
int braid__torus_land(braid_torus *t);
/* The failed checks staged since the last call (at most
 * BRAID_CHECKS_PER_EPOCH): *n of them at the returned array, which stays
 * valid until the torus runs again; the stage is empty afterwards. */
const braid__failed_check *braid__torus_take_checks(braid_torus *t, uint32_t *n);
/* The failure path of braid_torus_check (out of line). */
void braid__check_failed(braid_torus *t, uint32_t cell, uint32_t code, const char *message);
/* braid_torus_check for the built-in models' inlined loops: one branch
 * when the check holds. */
static inline int braid__check(braid_torus *t, int ok, uint32_t cell, uint32_t code, const char *message)
{
  if (BRAID_LIKELY(ok)) return 1;
  braid__check_failed(t, cell, code, message);
  return 0;
}
/* Samples process state from their cells (called at each exchange). */
void braid__torus_sample_procs(braid_torus *t);

/* Weights of the cell digest: nonlinear in the index, so that no regular
 * pattern of differences cancels out, and odd, so that every change of a
 * single value shows. */
static inline uint64_t braid__cell_weight(uint32_t cell)
{
  uint64_t x = ((uint64_t)cell + 1) * 0x9e3779b97f4a7c15ull;
  return (x ^ (x >> 29)) | 1;
}
static inline uint64_t braid__edge_weight(size_t i)
{
  uint64_t x = ((uint64_t)i + 0x100000000ull) * 0xd6e8feb86659fd93ull;
  return (x ^ (x >> 29)) | 1;
}

/* Applying one event: shared by every loop. */
static inline uint64_t braid__digest_step(uint64_t d, uint64_t time, uint32_t dst, uint32_t src, int32_t payload)
{
  uint64_t v = time * 0x9e3779b97f4a7c15ull ^ ((uint64_t)dst << 32 | src) ^ ((uint64_t)(uint32_t)payload << 17);
  return (braid__rotl(d, 23) ^ v) * 0xff51afd7ed558ccdull;
}

/* The delay rule (DESIGN 3), the one copy of it: an edge used with a
 * positive payload gets one shorter (down to 1), any other use one longer
 * (up to max_delay).  Returns the edge's next delay. */
static inline uint8_t braid__next_delay(const braid_torus *t, uint32_t d, int shorten)
{
  return (uint8_t)(shorten ? (d > 1 ? d - 1 : 1) : (d < t->max_delay ? d + 1 : t->max_delay));
}

/* Uses edge i (cell * degree + k): returns its delay and applies the delay
 * rule, keeping the cell digest.  Every change of an edge goes through here
 * or braid_torus_set_edge(). */
static inline uint32_t braid__use_delay(braid_torus *t, size_t i, int shorten)
{
  uint32_t d = t->edge_delay[i];
  uint8_t nd = braid__next_delay(t, d, shorten);
  t->edge_delay[i] = nd;
  t->cdigest += braid__edge_weight(i) * (uint64_t)((int64_t)nd - (int64_t)d);
  return d;
}

static inline int braid__emit(braid_torus *t, uint32_t dst, uint32_t src, uint64_t delay, int32_t payload)
{
  return braid__queue_push(&t->q, t->q.now + delay, dst, src, payload);
}

static inline uint64_t braid__rand(const braid_torus *t, uint64_t stream, uint64_t counter)
{
  return braid__mix64(t->rng_key ^ braid__mix64(stream * 0xd1b54a32d192ed03ull + counter));
}

/* Cell `dst` was written: marks it in face_dirty when it is on a boundary
 * face.  (dst + D*D) mod D^3 puts the x=D-1 face at [0, D*D) and the x=0
 * face at [D*D, 2*D*D) and every other cell above (D >= 8).  Without a
 * branch: a cell off the faces ORs 0 into a word of the bitmap (2*D*D/64
 * words, a power of two), which an event on a face at random would
 * otherwise mispredict one time in D/2. */
static inline void braid__touch(braid_torus *t, uint32_t dst)
{
  uint32_t f = (dst + t->facelen) & t->cellmask;
  t->face_dirty[(f >> 6) & (t->facelen / 32 - 1)] |= (uint64_t)(f < 2 * t->facelen) << (f & 63);
}
/* Marks both faces whole: after the cells were written wholesale (init,
 * rebuild, checkpoint load). */
void braid__torus_touch_faces(braid_torus *t);

/* An external event was applied: a correction is no longer in flight. */
static inline void braid__external_done(braid_torus *t, const braid__qev *ev)
{
  if (ev->src == BRAID_SRC_CORRECTION) t->corr[ev->dst - t->corr_base] -= ev->payload;
}

/* Applies one event and hands it to the model through the vtable: the
 * generic path (plugins, per-event recording).  The built-in models' loops
 * below do the same with the handler inlined. */
static inline void braid__process(braid_torus *t, uint64_t time, const braid__qev *ev)
{
  t->state[ev->dst] += ev->payload;
  braid__touch(t, ev->dst);
  t->activity[ev->dst]++;
  t->cdigest += braid__cell_weight(ev->dst) * (uint64_t)(int64_t)ev->payload;
  t->digest = braid__digest_step(t->digest, time, ev->dst, ev->src, ev->payload);
  t->events++;
  if (ev->src >= BRAID_SRC_CORRECTION) {
    braid__external_done(t, ev);
  } else {
    braid_event pub = { time, ev->dst, ev->src, ev->payload };
    t->model->handle(t, t->mstate, &pub);
  }
}

/* How many events ahead the loops fetch the cells: a cache miss costs
 * about as much as 8-16 events that hit. */
#define BRAID_PREFETCH_AHEAD 24
_Static_assert(BRAID_PREFETCH_AHEAD < BRAID_CHUNK_EVENTS, "braid__queue_peek looks at most one chunk ahead");

/* Starts loading what processing the event at `e` will touch (its cell's
 * state, activity and first edge), so that the misses of several events
 * overlap; nothing when e is NULL.  The edge addresses are computed as
 * integers (a model without edges has none, and a prefetch never faults).
 * A macro, not an inline function: gcc 12 finds such a function free of
 * side effects and deletes its calls, prefetches and all. */
#define BRAID__PREFETCH_CELL(t, e)                                                                     \
  do {                                                                                                 \
    const braid__qev *pf_e_ = (e);                                                                     \
    if (pf_e_) {                                                                                       \
      uintptr_t pf_c_ = pf_e_->dst, pf_k_ = pf_c_ * (t)->degree;                                       \
      __builtin_prefetch(&(t)->state[pf_c_], 1);                                                       \
      __builtin_prefetch(&(t)->activity[pf_c_], 1);                                                    \
      __builtin_prefetch((const void *)((uintptr_t)(t)->edge_target + pf_k_ * sizeof *(t)->edge_target), 0); \
      __builtin_prefetch((const void *)((uintptr_t)(t)->edge_delay + pf_k_), 1);                      \
    }                                                                                                  \
  } while (0)

/* Generates a specialised epoch loop with HANDLE inlined. */
#define BRAID__DEFINE_LOOP(fname, HANDLE)                                      \
  static uint64_t fname(braid_torus *t, uint64_t n)                           \
  {                                                                            \
    uint64_t done = 0, time;                                                   \
    braid__qev ev;                                                             \
    uint64_t digest = t->digest;                                               \
    while (done < n && braid__queue_pop(&t->q, &time, &ev)) {                  \
      BRAID__PREFETCH_CELL(t, braid__queue_peek(&t->q, BRAID_PREFETCH_AHEAD)); \
      t->state[ev.dst] += ev.payload;                                          \
      braid__touch(t, ev.dst);                                                 \
      t->activity[ev.dst]++;                                                   \
      t->cdigest += braid__cell_weight(ev.dst) * (uint64_t)(int64_t)ev.payload; \
      digest = braid__digest_step(digest, time, ev.dst, ev.src, ev.payload);  \
      t->events++;                                                             \
      done++;                                                                  \
      if (BRAID_LIKELY(ev.src < BRAID_SRC_CORRECTION)) HANDLE(t, time, &ev);  \
      else braid__external_done(t, &ev);                                       \
    }                                                                          \
    t->digest = digest;                                                        \
    return done;                                                               \
  }

#endif
