/* converge.h - when a torus has converged again after its last
 * perturbation: the report's convergence figure.
 *
 * A boundary check compares a torus's x=D-1 face with its predecessor's
 * projection at one exchange; its rate is the share of the compared cells
 * that were violated.  A perturbation of a torus is an injection into it
 * (its events land after that exchange's check) or its rebuild after a
 * failure (before that exchange's check).  After its last perturbation at
 * exchange P (or from the start of the run when there was none) a torus has
 * converged from the first exchange C whose check comes after the
 * perturbation and has a rate below 1%, and after which the rate stays
 * below 1%: at every check from C on, the last BRAID_CONVERGENCE_WINDOW
 * checks, counting none before C, had fewer than 1% of the cells they
 * compared violated.  Judging a run of checks lets one noisy check in a
 * steady state not undo convergence; counting none before C keeps the
 * perturbation itself out, so a perturbation corrected at once shows as
 * converged at once.  The figure is C - P exchanges.
 *
 * The state is a pure function of the torus's checks and perturbations, so
 * it is the same in every executor and in replay; checkpoints carry it.
 */
#ifndef BRAID_CONVERGE_H
#define BRAID_CONVERGE_H

#include <stdint.h>

#define BRAID_CONVERGENCE_WINDOW 10

typedef struct braid__converge {
  /* The last checks, a ring: exchange, violated and compared cells. */
  uint64_t k[BRAID_CONVERGENCE_WINDOW], viol[BRAID_CONVERGENCE_WINDOW], checked[BRAID_CONVERGENCE_WINDOW];
  uint32_t n, at;    /* entries held; the next one to write */
  int64_t perturbed; /* exchange of the last perturbation; -1: none */
  uint32_t kind;     /* its BRAID_PERTURB_* */
  uint64_t first;    /* the first exchange whose check may be C */
  int64_t from;      /* C, -1: not (yet) converged */
} braid__converge;

enum { BRAID_PERTURB_NONE = 0, BRAID_PERTURB_INJECTION = 1, BRAID_PERTURB_REBUILD = 2 };

void braid__converge_init(braid__converge *cv);
/* A perturbation of kind BRAID_PERTURB_* at exchange k. */
void braid__converge_perturb(braid__converge *cv, uint64_t k, uint32_t kind);
/* The torus's boundary check at exchange k. */
void braid__converge_check(braid__converge *cv, uint64_t k, uint64_t checked, uint64_t violated);

#endif
