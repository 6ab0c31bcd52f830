/* settings.h - run settings: parsing, validation, canonical text. */
#ifndef BRAID_SETTINGS_H
#define BRAID_SETTINGS_H

#include "common/common.h"

/* name, min, max, default, logical (1: changes results), help */
#define BRAID_CONFIG_KEYS(XX)                                                                 \
  XX(seed, 0, INT64_MAX, 1, 1, "seed of every random choice")                                 \
  XX(tori, 2, 16, 3, 1, "number of tori in the ring")                                          \
  XX(dim, 8, 128, 32, 1, "lattice side D (a power of two); D*D*D cells per torus")            \
  XX(exchanges, 1, (1ll << 40), 1000, 1, "exchanges to run")                                   \
  XX(events, 0, INT64_MAX, 0, 1, "end after the first exchange at which the tori's events add up to this (0: no limit)") \
  XX(interval, 1, 10000000, 1000, 1, "events per torus per epoch at the start")               \
  XX(interval_min, 1, 10000000, 100, 1, "smallest adaptive interval")                          \
  XX(interval_max, 1, 10000000, 10000, 1, "largest adaptive interval")                         \
  XX(adapt, 0, 2, 1, 1, "interval adaptation: off, violations (deterministic), rate (recorded)") \
  XX(adapt_threshold_ppm, 1, 1000000, 10000, 1, "violation-rate threshold, ppm of checked cells (adaptation holds a quarter..half of it)") \
  XX(adapt_hysteresis, 1, 1000, 3, 1, "exchanges a trend must last before the interval changes") \
  XX(tolerance, 0, INT32_MAX, 8, 1, "boundary tolerance |actual - expected|")                 \
  XX(tolerance_events, 0, INT64_MAX, 1000000, 1, "event-conservation tolerance between neighbours") \
  XX(tolerance_time, 0, INT64_MAX, 1000000, 1, "virtual-time tolerance between neighbours")   \
  XX(queue_cap, 0, (1ll << 32), 0, 1, "event queue bound per torus (0: 64 per cell)")         \
  XX(procs, 0, 64, 16, 1, "process records per torus")                                         \
  XX(threads, 0, 64, 0, 0, "worker threads, at most one per torus (0: min(tori, CPUs))")                              \
  XX(sequential, 0, 1, 0, 0, "1: run the sequential reference executor")                      \
  XX(duration_ms, 0, (1ll << 40), 0, 0, "stop after this wall time (0: no limit)")            \
  XX(heartbeat_ms, 0, 3600000, 10000, 0, "declare a torus failed after this long without progress (0: never)") \
  XX(checkpoint_every, 0, (1ll << 40), 0, 0, "write a checkpoint every K exchanges (0: never)") \
  XX(trace_events, 0, 1, 0, 0, "1: record every event (large traces)")                        \
  XX(chaos, 0, INT64_MAX, 0, 0, "seed of scheduling perturbations (0: off)")                  \
  XX(sample_every, 1, (1 << 20), 4096, 0, "measure one event's latency every N events") \
  XX(check_stop, 0, 1, 0, 0, "1: end the run soon after the first failed model check (at the same exchange in every executor)") \
  XX(rungs, 0, 8, 2, 1, "intermediate digests per epoch (7 bits each in the projection) that locate a divergence inside an epoch") \
  XX(ranks, 0, 16, 0, 0, "MPI ranks the tori ran on, in contiguous blocks (0: one process; set by --mpi)")

enum {
#define XX(name, lo, hi, def, logical, help) BRAID_K_##name,
  BRAID_CONFIG_KEYS(XX)
#undef XX
  BRAID_K__COUNT
};

enum { BRAID_ADAPT_OFF = 0, BRAID_ADAPT_VIOLATIONS = 1, BRAID_ADAPT_RATE = 2 };

#define BRAID_MAX_PARAMS 32
#define BRAID_MAX_FAILS 64

typedef struct braid__fail {
  uint32_t torus;
  uint64_t exchange;
} braid__fail;

struct braid_config {
  int64_t v[BRAID_K__COUNT];
  char model_name[64];
  const braid_model *model;
  char *pname[BRAID_MAX_PARAMS];
  int64_t pval[BRAID_MAX_PARAMS];
  unsigned nparams;
  braid__fail fail[BRAID_MAX_FAILS];
  unsigned nfail;
  char err[256];
  char *text;
  char get[128];
};

/* Resolved model parameter values in the order of model->params; fills
 * `out` (BRAID_MAX_PARAMS entries).  Fails naming the bad parameter. */
int braid__config_params(braid_config *cfg, int64_t *out);
int braid__config_copy(braid_config *dst, const braid_config *src);
void braid__config_clear(braid_config *cfg);
/* Parses canonical text (as stored in a trace header). */
int braid__config_parse_text(braid_config *cfg, const char *text, size_t len);
uint64_t braid__config_logical_hash(braid_config *cfg);
/* Whether the setting named by key[0..len) can change results (1) or not
 * (0); -1 for a name this build does not know. */
int braid__setting_is_logical(const char *key, size_t len);

#endif
