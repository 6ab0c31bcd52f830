/* buf.h - a growable byte buffer: records, blocks and checkpoints are
 * assembled in one.  A failed allocation sticks in `err`, so a sequence of
 * appends is checked once at its end.  Also the growth of any array that
 * is appended to one element at a time. */
#ifndef BRAID_BUF_H
#define BRAID_BUF_H

#include "common/common.h"

/* Appends to a growable byte buffer; on ENOMEM the buffer keeps `err`. */
typedef struct braid__buf {
  uint8_t *p;
  size_t len, cap;
  int err;
} braid__buf;

int braid__buf_reserve(braid__buf *b, size_t more);
void braid__buf_free(braid__buf *b);
void braid__buf_put(braid__buf *b, const void *src, size_t n);

/* Room for element n of the array p of *cap elements of `elem` bytes:
 * returns p when there is, else p reallocated to twice its capacity (to
 * `first` elements when it has none) with *cap updated; NULL when out of
 * memory or when the size would overflow, and then p and *cap are as they
 * were. */
void *braid__grow(void *p, size_t *cap, size_t n, size_t elem, size_t first);

#endif
