/* stop.h - where a run ends: the last epoch, lowered by a stop request or by
 * the events limit (events=N), so that every executor and a replay end at
 * the same exchange when the reason is logical. */
#ifndef BRAID_STOP_H
#define BRAID_STOP_H

#include "runtime/runtime.h"

/* Lowers the last epoch to k unless it is lower already: a signal's stop and
 * the events limit may both decide one. */
void braid__lower_last_epoch(braid_runtime *rt, uint64_t k);
/* The tori's events added up (the sequential executor, between steps). */
uint64_t braid__total_events(const braid_runtime *rt);
/* Threaded: may a torus start epoch j + 1, that is, is the tori's total
 * after exchange j below the events limit?  1 yes, 0 not known yet, -1 no:
 * the run ends with exchange j (the last epoch is lowered to it). */
int braid__events_below(braid_runtime *rt, uint64_t j);

#endif
