/* step.h - one step of one torus, the unit both executors schedule. */
#ifndef BRAID_STEP_H
#define BRAID_STEP_H

#include "runtime/runtime.h"

/* Runs step k of torus r on worker `thread` (0 for the sequential
 * executor): exchange-in(k-1) when k > 0, then, unless k is past the last
 * epoch, epoch k and the publication of P[r](k).  The caller made sure the
 * step is ready (transport->ready) and owns the torus.  `idle_since` is
 * when the worker began to wait for work, 0 if it comes straight from
 * another step: a step that a worker already waiting picked up as soon as
 * the predecessor published is a hand-over, and its latency is measured
 * (the time a ready torus waits for a busy worker is not a hand-over).
 * Errors stop the run (braid__set_error) and are returned. */
int braid__run_step(braid_runtime *rt, uint32_t r, uint64_t k, int thread, uint64_t idle_since);
/* The two halves of braid__run_step, for an executor that runs them apart:
 * the exchange-in, and the epoch with its publication.  Step k's
 * exchange-in reads only the predecessor's projection of k-1 and writes
 * only its own torus, so any order of the halves that keeps each torus's
 * in before its out, and every P(k-1) before the exchange-ins that read
 * it, computes the same.  A half that fails ends the step (the out half
 * must not follow).  *now is the clock (braid__now_ns) when the half
 * starts, 0 for one to be read; each half leaves it at its end (0 when it
 * read none), so that halves run back to back share their clock reads. */
int braid__step_in(braid_runtime *rt, uint32_t r, uint64_t k, uint64_t idle_since, uint64_t *now);
int braid__step_out(braid_runtime *rt, uint32_t r, uint64_t k, int thread, uint64_t *now);

/* The --chaos perturbations, drawn from the chaos seed: a pseudo-random
 * value for (a, b), and a pause (yield, short sleep or nothing) before
 * torus r's work at exchange k. */
uint64_t braid__chaos_rand(const braid_runtime *rt, uint64_t a, uint64_t b);
void braid__chaos_pause(braid_runtime *rt, uint32_t r, uint64_t k, uint64_t salt);

#endif
