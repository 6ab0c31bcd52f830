/* mpi_none.c - the MPI entry points of braid.h in libbraid, which is built
 * without MPI so that it never depends on it: they say so.  libbraid-mpi
 * has the real ones (transport_mpi.c). */
#include "braid.h"

int braid_mpi_available(void) { return 0; }

int braid_mpi_init(int *argc, char ***argv, int *rank, int *ranks)
{
  if (rank) *rank = 0;
  if (ranks) *ranks = 1;
  return BRAID_EUNSUPPORTED;
}

int braid_runtime_mpi(braid_runtime *rt, char *errbuf, size_t errlen)
{
  if (errbuf && errlen) {
    const char *m = "built without MPI support";
    size_t i = 0;
    for (; m[i] && i + 1 < errlen; i++) errbuf[i] = m[i];
    errbuf[i] = 0;
  }
  return BRAID_EUNSUPPORTED;
}

void braid_mpi_abort(int code) {}

int braid_mpi_finalize(void) { return BRAID_EUNSUPPORTED; }
