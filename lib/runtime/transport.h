/* transport.h - the one place where a torus's step meets another torus
 * (DESIGN 5 and 14): publish my projection of exchange k, get my
 * predecessor's, hand my logical records to the writer.  The step calls
 * only these; an executor asks `ready` before it starts a step.
 *
 * transport_local.c implements it for tori in one process (the threaded
 * and the sequential executor): projection slots published lock-free with
 * acquire/release tags, record blocks assembled in exchange order by
 * whichever worker completes an exchange.  An MPI transport implements the
 * same operations across processes.
 */
#ifndef BRAID_TRANSPORT_H
#define BRAID_TRANSPORT_H

#include "runtime/projection.h"

typedef struct braid__transport {
  const char *name;
  /* Sets up a new runtime's tori: nothing published yet. */
  void (*init)(braid_runtime *rt);
  /* The slot torus r fills with its projection of exchange k, now claimed;
   * NULL when the executor declared r failed at k first (heartbeat). */
  braid__projection *(*claim)(braid_runtime *rt, uint32_t r, uint64_t k);
  /* Makes torus r's exchange k visible to its successor: the claimed slot
   * (failed == 0), or the news that r failed at k. */
  void (*publish)(braid_runtime *rt, uint32_t r, uint64_t k, int failed);
  /* The predecessor's projection of exchange k for torus r, once `ready`
   * said it arrived; NULL when the predecessor failed at k. */
  const braid__projection *(*predecessor)(braid_runtime *rt, uint32_t r, uint64_t k);
  /* Whether step k of torus r can run: the projection it reads arrived,
   * and the slot, record block and checkpoint buffer it writes are free. */
  int (*ready)(braid_runtime *rt, uint32_t r, uint64_t k);
  /* Declares torus r failed at exchange k unless it published k already;
   * 1 when it did (the heartbeat of the threaded executor). */
  int (*declare_failed)(braid_runtime *rt, uint32_t r, uint64_t k);
  /* Torus r's records of exchange k are complete: hand them to the writer. */
  void (*hand_over)(braid_runtime *rt, uint32_t r, uint64_t k);
  /* Writes every exchange that every torus handed over, in order; wait: 0
   * returns at once when another thread is writing.  Errors stop the run
   * (braid__set_error). */
  void (*drain)(braid_runtime *rt, int wait);
  /* The run resumes after exchange k from a checkpoint: torus r published
   * `own` at k (or failed there) and everything up to k is written. */
  void (*resume)(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *own);
  /* The base of torus r's next delta (projection.h): an exchange whose
   * projection of r its successor holds or has gone past, UINT64_MAX when
   * that is not known. */
  uint64_t (*delta_base)(braid_runtime *rt, uint32_t r);
  /* What a projection carries (BRAID__CARRY_*): a delta where the
   * publisher can know what its successor holds, else the whole face, from
   * which the successor can start over at any projection. */
  unsigned carry;
} braid__transport;

extern const braid__transport braid__transport_local;

#endif
