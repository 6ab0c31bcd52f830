/* trace_gen.h - synthetic record streams shaped like a real run, for the trace tests. */
#ifndef BRAID_TRACE_GEN_H
#define BRAID_TRACE_GEN_H

#include "format/record.h"

/* Records of exchange k for `tori` tori: what the runtime emits per exchange,
 * with values that vary enough to exercise every varint width and sign. */
static inline void gen_exchange(braid__buf *b, uint64_t k, unsigned tori)
{
  uint64_t f[BRAID_REC_MAX_FIELDS];
  f[0] = k;
  braid__rec_put(b, BRAID_REC_EXCHANGE, 1, f);
  for (unsigned t = 0; t < tori; t++) {
    uint64_t r = braid__mix64(k * 131 + t);
    uint64_t proj[7] = { t, k * 1000 + r % 100, k * 64 + t, 500 + r % 50, r, braid__mix64(r), 64 };
    braid__rec_put(b, BRAID_REC_PROJECTION, 7, proj);
    uint64_t bd[6] = { t, (t + 1) % tori, 32, r % 3, r % 7, (uint64_t)((int64_t)(r % 11) - 5) };
    braid__rec_put(b, BRAID_REC_BOUNDARY, 6, bd);
    if (r % 5 == 0) {
      uint64_t vc[5] = { t, r % 4096, (uint64_t)(int64_t)-(int64_t)(r % 1000), r % 1000, (uint64_t)(int64_t)-3 };
      braid__rec_put(b, BRAID_REC_VCELL, 5, vc);
    }
    uint64_t bar[6] = { t, t, k * 1000000, 900000 + r % 1000, r % 5000, r % 2000 };
    braid__rec_put(b, BRAID_REC_BARRIER, 6, bar);
  }
  if (k % 7 == 0) {
    uint64_t iv[5] = { k % tori, 64, 48, BRAID_INTERVAL_SHRINK, 0 };
    braid__rec_put(b, BRAID_REC_INTERVAL, 5, iv);
  }
}

/* A checkpoint blob as the runtime hands it to the writer: varint tori, then
 * state bytes (here a pure function of k). */
static inline void gen_checkpoint(braid__buf *b, uint64_t k, unsigned tori, size_t n)
{
  uint8_t v[10];
  braid__buf_put(b, v, braid__varint_put(v, tori));
  for (size_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)(braid__mix64(k * 7919 + i / 16) >> (8 * (i % 8)));
    braid__buf_put(b, &c, 1);
  }
}

#endif
