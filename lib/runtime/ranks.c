/* ranks.c - where the tori of a run spread over MPI ranks live: contiguous
 * blocks, rank i running floor(i*N/R) .. floor((i+1)*N/R)-1.  A pure
 * function of the tori and the rank count, so that the MPI transport, a
 * trace's reader (braid-dump --chrome draws a process per rank) and the
 * tests agree without recording more than the rank count.  In every build:
 * it needs no MPI. */
#include "braid.h"

uint32_t braid_rank_first_torus(uint32_t tori, uint32_t ranks, uint32_t rank)
{
  if (!ranks) return 0;
  if (rank >= ranks) return tori;
  return (uint32_t)((uint64_t)rank * tori / ranks);
}

uint32_t braid_torus_rank(uint32_t tori, uint32_t ranks, uint32_t torus)
{
  uint32_t r = 0;
  while (r + 1 < ranks && braid_rank_first_torus(tori, ranks, r + 1) <= torus) r++;
  return r;
}
