/* buf.h - a growable byte buffer: records, blocks and checkpoints are
 * assembled in one.  A failed allocation sticks in `err`, so a sequence of
 * appends is checked once at its end. */
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

#endif
