/* mem.h - memory on cache lines of its own.
 *
 * Two tori running on two threads write their queues and cells on every
 * event.  malloc packs small blocks next to each other: the one-word
 * bitmap of non-empty buckets of torus 0 shared a cache line with torus
 * 1's, so every event of one torus took the line from the other core, and
 * whether it did depended on what else the process had allocated (a
 * threaded run was at 1.8x sequential in a fresh process and at 1.1x after
 * a few runs in the same one).  What a torus writes while other threads
 * run comes from here: aligned to a cache line and rounded up to whole
 * lines, so that no other allocation shares one. */
#ifndef BRAID_MEM_H
#define BRAID_MEM_H

#include <stddef.h>

/* n elements of `size` bytes, zeroed, on whole cache lines; NULL when out
 * of memory or when n * size overflows.  Free with free(). */
void *braid__calloc_lines(size_t n, size_t size);
/* The same, not zeroed. */
void *braid__malloc_lines(size_t n, size_t size);

#endif
