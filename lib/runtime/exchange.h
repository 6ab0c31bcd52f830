/* exchange.h - the two halves of a torus's part in an exchange. */
#ifndef BRAID_EXCHANGE_H
#define BRAID_EXCHANGE_H

#include "runtime/runtime.h"

/* The exchange-in of torus r after exchange k: checks its x=D-1 face
 * against pred (its predecessor's projection of k; NULL when the
 * predecessor failed at k), injects corrections, applies the injections
 * decided for (r, k) and chooses the next interval.  Records go to the
 * torus's block of exchange k. */
int braid__exchange_in(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *pred);
/* Publishes torus r's projection of exchange k through the transport, or,
 * when r fails at k, the failure and its rebuild. */
int braid__publish(braid_runtime *rt, uint32_t r, uint64_t k, braid__buf *blk);

#endif
