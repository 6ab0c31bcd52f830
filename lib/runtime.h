/* runtime.h - internals of the braided runtime shared by the exchange, the
 * executors, checkpoints and replay.
 *
 * Work is cut into steps.  Step k of torus r is
 *   exchange-in(k-1)  (k > 0): constraints from the predecessor's projection
 *                     P[r-1](k-1), global checks, injections, interval choice;
 *   epoch k:          `interval` events;
 *   publish k:        projection P[r](k) (or a failure and a rebuild).
 * A step depends only on the torus's own state and P[r-1](k-1), so the
 * sequential executor (steps in the order k, r) and the threaded executor
 * (any order the dependencies allow) compute the same thing.  Records of
 * exchange k for torus r (publish k + exchange-in k) form its block k; the
 * stream is EXCHANGE(k) followed by the blocks of tori 0..N-1.
 */
#ifndef BRAID_RUNTIME_H
#define BRAID_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include "metrics.h"
#include "record.h"
#include "settings.h"
#include "torus.h"

#define BRAID_PROJ_SLOTS 4   /* how far a torus may run ahead of its successor */
#define BRAID_REC_SLOTS 256 /* how far a torus may run ahead of the trace writer */
#define BRAID_REC_SLOT_BYTES 1024 /* reserved per slot up front: blocks rarely exceed it */
#define BRAID_MAX_TORI 16
#define BRAID_MAX_THREADS 64
#define BRAID_VCELLS_PER_EXCHANGE 4 /* per torus: enough to show where; counts are always recorded */

typedef struct braid__projection {
  uint32_t torus;
  uint32_t alive;
  uint64_t exchange;
  uint64_t events, vtime, pending;
  uint64_t digest;
  uint32_t interval;
  uint32_t nprocs;
  braid__proc procs[BRAID_MAX_PROCS];
  uint32_t facelen;
  int64_t *face; /* x=0 face, facelen = D*D values */
  uint64_t hash; /* XXH3 of everything above */
} braid__projection;

enum { SLOT_EMPTY = 0, SLOT_CLAIMED = 1, SLOT_PUBLISHED = 2, SLOT_FAILED = 3 };

typedef struct braid__adapt {
  uint32_t interval;
  uint32_t up, down; /* consecutive exchanges above / below the band */
  uint64_t epoch_ns; /* last epoch's wall time (rate mode) */
  uint64_t epoch_events;
} braid__adapt;

/* A decision source: live (recording) or a trace (replay). */
typedef struct braid__injection {
  uint32_t torus, cell;
  int32_t payload;
  uint64_t seq;
  uint64_t not_before; /* live: earliest exchange; replay: the exchange it landed on */
} braid__injection;

typedef struct braid__decisions braid__decisions; /* replay.c */

/* Boundary checks a torus's convergence is judged over (see braid_report). */
#define BRAID_CONVERGENCE_WINDOW 10

typedef struct braid__tctx {
  braid_torus t;
  /* Owned by whoever runs the torus's current step. */
  uint64_t next_step;
  braid__adapt adapt;
  uint32_t interval_lo, interval_hi; /* over the run, for the report */
  braid__projection own;       /* last projection this torus published successfully */
  uint64_t last_overflows, last_horizon;
  /* Convergence, for the report: the violated cells of the torus's last
   * BRAID_CONVERGENCE_WINDOW boundary checks, and k+1 of the last exchange
   * where they came to >= 1% of the cells those checks compared (0: none). */
  uint64_t win_viol[BRAID_CONVERGENCE_WINDOW], win_sum;
  unsigned win_n, win_at;
  uint64_t last_bad_exchange;
  uint64_t seen_overflow;
  braid_torus_report rep;
  braid__hist event_lat;
  uint64_t sample_left; /* events to run before the next timed one */
  braid__hist exch_lat;
  braid__hist wait_lat;
  uint64_t wait_start;
  /* Serialised state for checkpoints, two buffers by the parity of the
   * exchange: exchange k is assembled only after step k+1 (its block closes
   * in that step's exchange-in), so a checkpoint at k+1 must not overwrite
   * the one at k.  ckpt_taken[b]: k+1 of the last checkpoint saved into
   * ckpt[b]; 0: none. */
  braid__buf ckpt[2];
  _Atomic uint64_t ckpt_taken[2];
  /* Shared with other threads. */
  braid__projection slot[BRAID_PROJ_SLOTS];
  _Atomic uint64_t tag[BRAID_PROJ_SLOTS] BRAID_ALIGNED; /* (exchange << 2) | SLOT_* */
  _Atomic uint64_t steps_done BRAID_ALIGNED; /* steps completed */
  _Atomic uint64_t blocks_done;              /* record blocks closed */
  _Atomic int owner;
  _Atomic int last_thread; /* worker that ran it last (cache affinity) */
  _Atomic uint64_t step_started_ns;
  _Atomic uint64_t events_live; /* for progress */
  /* t.events after the torus's last step, stored before steps_done: the
   * events limit's view of it (never decreases, see braid__rebuild). */
  _Atomic uint64_t events_done;
  braid__buf block[BRAID_REC_SLOTS];
} braid__tctx;

typedef struct braid__sink {
  int (*exchange)(void *ud, uint64_t k, const uint8_t *recs, size_t len);
  int (*checkpoint)(void *ud, uint64_t k, const uint8_t *blob, size_t len);
  void *ud;
} braid__sink;

typedef struct braid__stall {
  uint32_t torus;
  uint64_t exchange;
  uint64_t ms;
} braid__stall;

struct braid_runtime {
  braid_config cfg;
  const braid_model *model;
  int64_t params[BRAID_MAX_PARAMS];
  uint32_t ntori, dim, facelen;
  uint32_t nthreads; /* 0: sequential */
  uint64_t exchanges; /* configured */
  braid__tctx *tc;    /* ntori, cache-line aligned */

  /* Sinks: the trace writer, test sinks, the replay comparator. */
  braid__sink sink[3];
  unsigned nsinks;
  int recording;
  struct braid__trace_writer *tw;
  char *trace_path;
  char plugin_id[512]; /* the trace header's model identity (plugin.c) */
  braid__buf assembly;
  uint64_t assembled; /* exchanges handed to the sinks */
  uint64_t last_flush;
  _Atomic uint64_t written; /* same, published for the tori */

  /* Decisions. */
  braid__decisions *replay; /* non-NULL: follow a trace */
  pthread_mutex_t inj_lock;
  braid__injection *inj;
  size_t ninj, capinj;
  _Atomic uint64_t inj_pending;
  _Atomic uint64_t inj_seq;

  /* Stop protocol. */
  _Atomic uint64_t last_epoch;   /* run epochs 0..last_epoch */
  _Atomic int stop_requested;
  _Atomic int stop_final;
  _Atomic int deciding;
  /* The events setting: T(j) < limit is proven for every exchange j below
   * events_ok (T(j): the tori's events after step j); one prover at a time. */
  _Atomic uint64_t events_ok;
  pthread_mutex_t ev_lock;
  uint64_t clock_overhead;
  _Atomic int error;
  _Atomic int interrupted;
  char errmsg[256];
  pthread_mutex_t err_lock;
  pthread_mutex_t asm_lock; /* one assembler at a time, exchanges in order */

  /* Threaded scheduling. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  _Atomic uint64_t gen;
  _Atomic int sleepers;
  int spin; /* 0 when threads outnumber usable CPUs */
  _Atomic int done_tori;
  braid__stall stall; /* test hook */
  int projection_fault; /* test hook: corrupt P[torus](exchange) once */
  uint32_t fault_torus;
  uint64_t fault_exchange;

  /* Report. */
  uint64_t start_ns, end_ns, start_unix_ns;
  braid_report report;
  braid_torus_report *torus_reports;
  double thread_cpu[BRAID_MAX_THREADS];
  braid__cpu thread_split[BRAID_MAX_THREADS];
  braid__cpu cpu_start;        /* the process's, at the start of the run */
  braid__cpu caller_cpu_start; /* the calling thread's: the sequential executor's */
  double caller_cpu_seconds_start;
  uint64_t rss_start;
  int ran;
};

/* exchange.c */
int braid__projection_alloc(braid__projection *p, uint32_t facelen);
void braid__projection_free(braid__projection *p);
void braid__projection_copy(braid__projection *dst, const braid__projection *src);
void braid__projection_extract(braid__projection *p, braid__tctx *c, uint64_t k);
uint64_t braid__projection_hash(const braid__projection *p);
int braid__exchange_in(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *pred, int pred_failed);
int braid__publish(braid_runtime *rt, uint32_t r, uint64_t k, braid__buf *blk);
int braid__rebuild(braid_runtime *rt, braid__tctx *c, uint64_t k, uint32_t reason, braid__buf *blk);

/* adapt.c */
void braid__adapt_init(braid__adapt *a, const braid_config *cfg);
/* Chooses the interval of the next epoch after exchange k; records a change. */
void braid__adapt_decide(braid_runtime *rt, braid__tctx *c, uint64_t k, uint64_t checked, uint64_t violations, braid__buf *blk);

/* runtime.c */
void braid__set_error(braid_runtime *rt, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int braid__add_sink(braid_runtime *rt, const braid__sink *s);
int braid__run_step(braid_runtime *rt, uint32_t r, uint64_t k, int thread);
int braid__assemble(braid_runtime *rt, uint64_t k);

/* checkpoint.c */
int braid__checkpoint_save(braid__tctx *c, uint64_t k, braid__buf *out);
int braid__checkpoint_load(braid_runtime *rt, const uint8_t *blob, size_t len, uint64_t *k);

/* replay.c: decisions recorded in a trace */
int braid__decisions_injections(braid__decisions *d, uint32_t r, uint64_t k, braid__injection **out, size_t *n);
int braid__decisions_failure(braid__decisions *d, uint32_t r, uint64_t k);
int braid__decisions_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t *interval);

/* plugin.c: the identity of a model as a trace header names it ("" for a
 * built-in model); braid__plugin_id() stores the runtime's in rt->plugin_id. */
void braid__model_id(const braid_model *m, char *buf, size_t len);
const char *braid__plugin_id(braid_runtime *rt);
/* Whether `path` names (by any name or link) the file of a plugin loaded in
 * this process: writing it would truncate code that is mapped and running.
 * The plugin's path as it was loaded goes into buf. */
int braid__is_loaded_plugin(const char *path, char *buf, size_t len);

#endif
