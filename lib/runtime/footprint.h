/* footprint.h - what a run's settings can make the runtime and a replay
 * allocate, so that settings no run can use (a hostile trace header) are
 * refused before anything is allocated.  The figures are documented in
 * braid-trace(5), MEMORY BOUNDS. */
#ifndef BRAID_FOOTPRINT_H
#define BRAID_FOOTPRINT_H

#include "runtime/settings.h"

/* Logical records (the EXCHANGE record included) that one exchange of a run
 * with the settings in `text` (a trace header's canonical settings) can
 * hold.  Lenient: a setting that is missing counts at its default, one that
 * does not parse at the largest value it may have, so that the bound holds
 * for any header. */
uint64_t braid__exchange_records_max(const char *text);

/* Bytes this process may still allocate: the least of the address space
 * left under RLIMIT_AS, RLIMIT_DATA, the machine's physical memory and the
 * environment's BRAID_MEMORY_LIMIT (bytes, or with a K, M or G suffix).
 * *limit names which one ("RLIMIT_AS", ...). */
uint64_t braid__memory_available(const char **limit);

/* The least a runtime with these settings allocates when it is created:
 * every torus's lattice, edges, corrections, projections, record buffers
 * and (for the built-in models) initial events.  A lower bound: a run needs
 * at least this much, usually more. */
uint64_t braid__runtime_footprint(const braid_config *cfg, const int64_t *params);

/* 0, or BRAID_ELIMIT with the message "WHAT need at least N; this process
 * may allocate M (LIMIT)" when `need` bytes exceed what the process may
 * allocate. */
int braid__check_memory(uint64_t need, const char *what, char *err, size_t errlen);

/* braid__check_memory() of the runtime footprint, the message naming the
 * model, dim, tori and the parameter that sets the population.  params:
 * resolved as by braid__config_params(). */
int braid__runtime_memory_check(const braid_config *cfg, const int64_t *params, char *err, size_t errlen);

#endif
