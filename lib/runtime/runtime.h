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
#include "common/metrics.h"
#include "format/record.h"
#include "kernel/torus.h"
#include "runtime/adapt.h"
#include "runtime/converge.h"
#include "runtime/decisions.h"
#include "runtime/projection.h"
#include "runtime/settings.h"
#include "runtime/transport.h"

#define BRAID_PROJ_SLOTS 4   /* how far a torus may run ahead of its successor */
#define BRAID_REC_SLOTS 256 /* how far a torus may run ahead of the trace writer */
#define BRAID_REC_SLOT_BYTES 1024 /* reserved per slot up front: blocks rarely exceed it */
#define BRAID_MAX_TORI 16
#define BRAID_MAX_THREADS 64
#define BRAID_VCELLS_PER_EXCHANGE 4 /* per torus: enough to show where; counts are always recorded */

typedef struct braid__tctx {
  braid_torus t;
  /* Owned by whoever runs the torus's current step. */
  braid__adapt adapt;
  uint64_t epoch_ns, epoch_events;   /* the last epoch's wall time and events: the rate mode's inputs */
  uint32_t interval_lo, interval_hi; /* over the run, for the report */
  /* The last projection this torus published successfully; own.face is
   * its whole face (the slots carry only deltas, projection.h), facesum
   * that face's sum, and facelog what the last projections changed. */
  braid__projection own;
  uint64_t facesum;
  braid__facelog facelog;
  /* The receiver's side: the predecessor's face as of its projection of
   * exchange mirror_from (UINT64_MAX: none yet), and that face's sum; the
   * cells violated at the last check; scratch for the cells to check. */
  int64_t *mirror;
  uint64_t mirror_sum;
  uint64_t *violating, *cand;
  uint64_t last_overflows, last_horizon;
  braid__converge conv; /* for the report */
  braid__failed_check first_check; /* the first failed model check, for the report */
  uint64_t first_check_at;  /* its exchange + 1; 0: none yet */
  uint64_t seen_overflow;
  braid_torus_report rep;
  braid__hist event_lat;
  uint64_t sample_left; /* events to run before the next timed one */
  braid__hist exch_lat;
  braid__hist wait_lat;
  braid__hist handover_lat; /* predecessor published -> this step started, when it waited for it */
  uint64_t wait_start;
  /* Between the halves of a step (step.h): how long it waited before its
   * exchange-in, and how long that took. */
  uint64_t step_wait, step_exch;
  uint64_t rungs; /* the last epoch's rungs (step.c), for its projection */
  /* Serialised state for checkpoints, two buffers by the parity of the
   * exchange: exchange k is assembled only after step k+1 (its block closes
   * in that step's exchange-in), so a checkpoint at k+1 must not overwrite
   * the one at k.  ckpt_taken[b]: k+1 of the last checkpoint saved into
   * ckpt[b]; 0: none. */
  braid__buf ckpt[2];
  _Atomic uint64_t ckpt_taken[2];
  /* Run by another MPI rank (transport_mpi.c): its report fields, counters
   * and histograms are that rank's, gathered at the end of the run. */
  int remote;
  /* Shared with other threads.  The slots belong to the in-process
   * transport (transport_local.c); nothing else touches them. */
  braid__projection slot[BRAID_PROJ_SLOTS];
  _Atomic uint64_t tag[BRAID_PROJ_SLOTS] BRAID_ALIGNED; /* (exchange << 2) | SLOT_* */
  /* Read by the predecessor's publisher as the base of its delta: it only
   * grows while the run goes (a checkpoint load resets it before). */
  _Atomic uint64_t mirror_from BRAID_ALIGNED;
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

/* Test hooks: a worker that stalls (to trip the heartbeat) and a projection
 * that rots after it was hashed.  Zero in every real run. */
typedef struct braid__stall {
  uint32_t torus;
  uint64_t exchange;
  uint64_t ms;
} braid__stall;

typedef struct braid__test_hooks {
  braid__stall stall;
  int projection_fault; /* corrupt P[fault_torus](fault_exchange) once */
  uint32_t fault_torus;
  uint64_t fault_exchange;
  /* Every projection carries its whole face too, and every boundary check
   * compares the mirror with it and checks every cell as well: a check
   * that saw other verdicts than the delta's ends the run with
   * BRAID_EPROJECTION (exchange.c). */
  int check_faces;
} braid__test_hooks;

/* An observer that runs one epoch itself (check/locate.c re-runs the
 * epoch a divergence was found in, event by event): run(ud, rt, t, n) must
 * process up to n events of torus t and return how many it did.  Unset
 * (run NULL) in every other run; the step does not know what it is for. */
typedef struct braid__probe {
  uint64_t (*run)(void *ud, braid_runtime *rt, braid_torus *t, uint64_t n);
  void *ud;
  uint32_t torus;
  uint64_t exchange;
} braid__probe;

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

  /* Decisions: live, or recorded when a replay handed its own in. */
  braid__decisions *decisions;
  int own_decisions;
  const braid__transport *transport;

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
  _Atomic int check_stopped; /* check_stop ended the run early */
  char errmsg[256];
  pthread_mutex_t err_lock;
  pthread_mutex_t asm_lock; /* one assembler at a time, exchanges in order */

  /* Threaded scheduling. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  _Atomic uint64_t gen;
  _Atomic int sleepers;
  int spin; /* 0 when threads outnumber usable CPUs */
  braid__test_hooks hooks;
  braid__probe probe;

  /* Report. */
  uint64_t start_ns, end_ns, start_unix_ns;
  braid_report report;
  braid_torus_report *torus_reports;
  braid_convergence *convergence;
  double thread_cpu[BRAID_MAX_THREADS];
  braid__cpu thread_split[BRAID_MAX_THREADS];
  braid__cpu cpu_start;        /* the process's, at the start of the run */
  braid__cpu caller_cpu_start; /* the calling thread's: the sequential executor's */
  braid_quantiles *torus_exchange_latency; /* report, per torus */
  /* A run spread over MPI ranks (transport_mpi.c, braid_runtime_mpi):
   * the executor that replaces the sequential and the threaded one, a
   * destructor for its state, and the rank reports gathered by rank 0. */
  int (*executor)(braid_runtime *rt);
  void (*executor_free)(braid_runtime *rt);
  void *mpi;
  uint32_t nranks;
  struct braid_rank_report *rank_reports;
  double caller_cpu_seconds_start;
  uint64_t rss_start;
  int ran;
};

/* runtime.c */
void braid__set_error(braid_runtime *rt, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int braid__add_sink(braid_runtime *rt, const braid__sink *s);
/* Makes the runtime follow `d` (a recorded source that a replay filled)
 * instead of its live one; before braid_runtime_run(), which takes it over. */
int braid__runtime_follow(braid_runtime *rt, braid__decisions *d);
/* Whether exchange k writes a checkpoint. */
int braid__checkpoint_due(const braid_runtime *rt, uint64_t k);

#endif
