/* models.h - the built-in event models (uniform, skewed, bursty, phold,
 * racy).  They use the same braid_model interface as plugins (braid.h);
 * each also has an epoch loop with its handler inlined, which whoever
 * creates a torus passes in braid__torus_opts. */
#ifndef BRAID_MODELS_H
#define BRAID_MODELS_H

#include "kernel/torus.h"

/* The specialised epoch loop of a built-in model, or NULL for any other
 * model (plugins run the generic loop through the vtable). */
braid__loop_fn braid__builtin_loop(const braid_model *m);

#endif
