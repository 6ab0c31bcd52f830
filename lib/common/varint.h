/* varint.h - LEB128 varints and zigzag signed values: the integer encoding
 * of records and checkpoints. */
#ifndef BRAID_VARINT_H
#define BRAID_VARINT_H

#include "common/common.h"

static inline size_t braid__varint_put(uint8_t *p, uint64_t v)
{
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Decodes one varint from [p, end); returns bytes used, 0 if malformed. */
static inline size_t braid__varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
  uint64_t r = 0;
  for (size_t n = 0; n < 10 && p + n < end; n++) {
    r |= (uint64_t)(p[n] & 0x7f) << (7 * n);
    if (!(p[n] & 0x80)) {
      if (n == 9 && p[n] > 1) return 0;
      *v = r;
      return n + 1;
    }
  }
  return 0;
}

static inline uint64_t braid__zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t braid__unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

#endif
