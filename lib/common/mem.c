/* mem.c - memory on cache lines of its own (see mem.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/common.h"
#include "common/mem.h"

void *braid__malloc_lines(size_t n, size_t size)
{
  if (size && n > (SIZE_MAX - BRAID_CACHELINE) / size) return NULL;
  size_t bytes = n * size;
  bytes = bytes ? (bytes + BRAID_CACHELINE - 1) / BRAID_CACHELINE * BRAID_CACHELINE : BRAID_CACHELINE;
  return aligned_alloc(BRAID_CACHELINE, bytes);
}

void *braid__calloc_lines(size_t n, size_t size)
{
  void *p = braid__malloc_lines(n, size);
  if (p) memset(p, 0, n * size);
  return p;
}
