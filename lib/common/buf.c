/* buf.c - the growable byte buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/buf.h"

int braid__buf_reserve(braid__buf *b, size_t more)
{
  if (b->err) return b->err;
  if (b->len + more <= b->cap) return 0;
  size_t nc = b->cap ? b->cap : 256;
  while (nc < b->len + more) nc *= 2;
  uint8_t *n = realloc(b->p, nc);
  if (!n) return b->err = BRAID_ENOMEM;
  b->p = n;
  b->cap = nc;
  return 0;
}

void *braid__grow(void *p, size_t *cap, size_t n, size_t elem, size_t first)
{
  if (n < *cap) return p;
  size_t nc = *cap ? *cap : first;
  while (nc <= n) {
    if (nc > SIZE_MAX / 2) return NULL;
    nc *= 2;
  }
  if (elem && nc > SIZE_MAX / elem) return NULL;
  void *v = realloc(p, nc * elem);
  if (v) *cap = nc;
  return v;
}

void braid__buf_free(braid__buf *b)
{
  free(b->p);
  memset(b, 0, sizeof *b);
}

void braid__buf_put(braid__buf *b, const void *src, size_t n)
{
  if (!n || braid__buf_reserve(b, n)) return; /* an empty buffer has no storage to copy into */
  memcpy(b->p + b->len, src, n);
  b->len += n;
}
