/* executor.h - the two ways to run the steps: sequentially (the reference)
 * and on worker threads.  Both produce the same logical record stream; each
 * returns 0 or the run's error. */
#ifndef BRAID_EXECUTOR_H
#define BRAID_EXECUTOR_H

#include "runtime/runtime.h"

/* A worker thread of the threaded executor (and of the MPI one, which runs
 * a rank's tori the same way): its runtime, its number, and the CPU time
 * it used, read when it ends. */
typedef struct braid__worker {
  braid_runtime *rt;
  int id;
  pthread_t th;
  double cpu;
  braid__cpu split;
} braid__worker;

int braid__run_sequential(braid_runtime *rt);
int braid__run_threaded(braid_runtime *rt);

#endif
