/* decisions.h - what a run decides that is not a function of its settings:
 * external injections, heartbeat failures and rate-mode intervals.
 *
 * One object, two sources.  A live source takes injections from
 * braid_inject() and passes on what the executor observed (a heartbeat
 * that expired, an interval sized from the measured event rate).  A
 * recorded source is filled by a replay from a trace, indexed by exchange
 * and torus, and answers with what the recording decided, whatever was
 * observed.  The runtime asks the same questions of either, so it never
 * knows whether it is being replayed (DESIGN 2).
 */
#ifndef BRAID_DECISIONS_H
#define BRAID_DECISIONS_H

#include "common/common.h"

typedef struct braid__injection {
  uint32_t torus, cell;
  int32_t payload;
  uint64_t seq;
  uint64_t exchange; /* live: the earliest exchange; recorded: the one it landed on */
} braid__injection;

typedef struct braid__decisions braid__decisions;

/* A source for a runtime of ntori tori; the caller owns it. */
int braid__decisions_create(braid__decisions **out, int recorded, uint32_t ntori);
void braid__decisions_destroy(braid__decisions *d);

/* Live source: queues an injection for the exchange-in of torus r at
 * exchange not_before or later.  Thread-safe.  BRAID_ESTATE on a recorded
 * source (a replay follows the trace's injections only). */
int braid__decisions_inject(braid__decisions *d, uint32_t r, uint32_t cell, int32_t payload, uint64_t not_before);

/* Recorded source, filled in stream order before the run: an injection, a
 * heartbeat failure and a rate-mode interval change of torus r at exchange
 * k.  No fixed cap: memory grows with the decisions the trace holds.
 * BRAID_ERANGE for a torus the run does not have. */
int braid__decisions_add_injection(braid__decisions *d, uint32_t r, uint64_t k, uint32_t cell, int32_t payload, uint64_t seq);
int braid__decisions_add_failure(braid__decisions *d, uint32_t r, uint64_t k);
int braid__decisions_add_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t interval);
/* Indexes what was added (by exchange, torus, then stream order); call it
 * once after the last add and before the run.  A recorded source that was
 * not sealed refuses to answer (BRAID_ESTATE, nothing recorded). */
int braid__decisions_seal(braid__decisions *d);
/* Checks a recorded source against the run's settings before a replay
 * follows it (a trace is untrusted): every injected cell lies in the
 * lattice of ncells cells, every rate-mode interval within lo..hi (the
 * recording clamped it there).  0, or BRAID_ECORRUPT with the first bad
 * decision described in why. */
int braid__decisions_check(const braid__decisions *d, uint64_t ncells, uint32_t lo, uint32_t hi, char *why, size_t len);

/* Recorded decisions one source holds at most, per kind (an injection takes
 * 32 bytes, a failure or interval 24): a bound on what a trace can make a
 * replay allocate, documented in braid-trace(5). */
#define BRAID_MAX_DECISIONS ((size_t)1 << 22)

/* The injections torus r applies at its exchange-in of exchange k, in the
 * order they were made.  *out stays valid until the next call for r; only
 * the thread running torus r calls this for r. */
int braid__decisions_injections(braid__decisions *d, uint32_t r, uint64_t k, const braid__injection **out, size_t *n);
/* Whether torus r fails by heartbeat at exchange k: live, what the executor
 * observed; recorded, whether the recording says so. */
int braid__decisions_heartbeat(braid__decisions *d, uint32_t r, uint64_t k, int observed);
/* The rate-mode interval of torus r after exchange k: live, the proposal;
 * recorded, the recorded change, else the current interval. */
uint32_t braid__decisions_rate_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t current, uint32_t proposed);

#endif
