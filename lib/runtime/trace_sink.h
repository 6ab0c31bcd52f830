/* trace_sink.h - the runtime's one way into the trace: the writer as a
 * record sink (header, exchanges, checkpoints, footer) and the build
 * identity a trace records.  braid_runtime_record() (braid.h) attaches it. */
#ifndef BRAID_TRACE_SINK_H
#define BRAID_TRACE_SINK_H

#include "common/common.h"

/* "braid VERSION semantics N cc COMPILER flags CFLAGS": what built this
 * library, as a trace header records it.  Static storage. */
const char *braid__build_id(void);
/* The semantics version inside a build id, or -1 when it names none. */
int braid__semantics_of(const char *build_id);
/* This build's semantics version (bumped when what a run computes changes). */
int braid__semantics_version(void);
/* Writes a checkpoint before the run (a replay from a checkpoint starts its
 * own trace with the state it loaded); 0 when the run is not recorded. */
int braid__trace_checkpoint(braid_runtime *rt, uint64_t k, const uint8_t *blob, size_t len);
/* Writes the footer (status from rc) and closes the file; returns rc, or
 * the writer's error when rc was 0. */
int braid__trace_finish(braid_runtime *rt, int rc);
/* Closes the writer without a footer (the runtime is destroyed). */
void braid__trace_detach(braid_runtime *rt);
/* Bytes written to the trace so far; 0 when not recorded. */
uint64_t braid__trace_bytes(const braid_runtime *rt);

#endif
