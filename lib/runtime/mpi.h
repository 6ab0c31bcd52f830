/* mpi.h - the MPI transport and its executor (transport_mpi.c, built only
 * into libbraid-mpi, which links MPI).  The public entry points are in
 * braid.h (braid_mpi_init, braid_runtime_mpi, ...); this is what the rest
 * of the library may know of them: nothing but the transport, so that
 * nothing outside transport_mpi.c includes <mpi.h>.
 *
 * How a run spreads over ranks (DESIGN 14):
 *   - rank i runs the contiguous block of tori braid_rank_first_torus(i) ..
 *     braid_rank_first_torus(i+1)-1 on its own workers; every rank holds
 *     a runtime of all N tori, but only its own and the predecessor of its
 *     first one (the racy model reads it) keep their lattices;
 *   - the first torus of a block gets its predecessor's projections from
 *     the previous rank, the last one sends its own to the next rank:
 *     fixed source, tag = the destination torus, nonblocking, in exchange
 *     order, BRAID_PROJ_SLOTS receives posted ahead;
 *   - every rank but 0 sends rank 0 its record blocks (and checkpoint
 *     states) exchange by exchange; rank 0 assembles the one stream in the
 *     order of the in-process transport, so the trace does not depend on
 *     the placement;
 *   - rank 0 decides the stop: on a signal, a request from another rank or
 *     --duration it freezes every rank (no step starts), takes the highest
 *     step any torus reached, and sends that as the last epoch; an error on
 *     any rank reaches rank 0, which finishes the trace as failed and ends
 *     the job;
 *   - waits are braid's own loop: MPI_Test, then sched_yield().
 */
#ifndef BRAID_MPI_H
#define BRAID_MPI_H

#include "runtime/transport.h"

extern const braid__transport braid__transport_mpi;

#endif
