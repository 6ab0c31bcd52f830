/* locate.h - narrowing a divergence down: which torus to blame inside an
 * exchange, which window of its epoch the rungs point at, and re-running
 * that window event by event (braid_replay in braid.h drives these). */
#ifndef BRAID_LOCATE_H
#define BRAID_LOCATE_H

#include "check/compare.h"
#include "runtime/runtime.h"

/* What gdb reads (tools/braid-gdb.py): the runtime and torus of the last
 * braid_debug_break() call, set before it is called. */
extern const braid_runtime *volatile braid__debug_runtime;
extern const braid_torus *volatile braid__debug_torus;

/* Chooses the pair of al (one exchange, recorded as a, replayed as b) to
 * report and sets *tori to the set of tori (bit r) whose records differ.
 * The torus to blame is the one whose own projection differs: a torus's
 * boundary check reads its predecessor's projection and comes first in the
 * stream, so the first difference in stream order names the victim, not
 * the cause.  Among differing projections, the one whose first differing
 * rung comes earliest in its epoch wins, then the lowest torus.  Returns
 * the index into al->m, or al->n when every pair is equal. */
size_t braid__blame(const braid__aligner *al, unsigned rungs, uint32_t *tori);

/* The window of the epoch that a differing projection pair points at:
 * the first rung (1..rungs) whose recorded and replayed values differ, or
 * rungs + 1 (the last window) when they all agree.  Fills w->rung, rungs,
 * exchange, torus and w->differs (what differs at the end of the epoch). */
void braid__window_of(const braid_record *rec, const braid_record *rep, unsigned rungs, uint64_t k, braid_window *w);

/* The probe of a window pass (runtime.h): runs epoch w->exchange of torus
 * w->torus, the events before the window in one go, then (after
 * braid_debug_break() when do_break) the window one event at a time,
 * keeping each with its follow-ups in *w, then the rest. */
typedef struct braid__window_probe {
  braid_window *w;
  int do_break;
} braid__window_probe;
uint64_t braid__window_run(void *ud, braid_runtime *rt, braid_torus *t, uint64_t n);

/* Sets the gdb globals and calls braid_debug_break(). */
void braid__debug_stop(const braid_runtime *rt, const braid_torus *t);

#endif
