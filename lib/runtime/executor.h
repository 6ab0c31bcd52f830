/* executor.h - the two ways to run the steps: sequentially (the reference)
 * and on worker threads.  Both produce the same logical record stream; each
 * returns 0 or the run's error. */
#ifndef BRAID_EXECUTOR_H
#define BRAID_EXECUTOR_H

#include "runtime/runtime.h"

int braid__run_sequential(braid_runtime *rt);
int braid__run_threaded(braid_runtime *rt);

#endif
