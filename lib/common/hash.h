/* hash.h - XXH3 (64 bits) over several pieces of memory, taken as one
 * input: the same value as libxxhash's XXH3_64bits over their
 * concatenation.  On an x86-64 CPU with AVX2 (and a gcc build) it runs
 * xxhash's AVX2 code, inlined, about 3.5 times faster than the
 * distribution's libxxhash, which is built for SSE2: a projection's face is
 * 8 KiB at D=32 and is hashed twice per exchange step (by its publisher and
 * by its receiver), which was most of the step. */
#ifndef BRAID_HASH_H
#define BRAID_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct braid__span {
  const void *p;
  size_t n;
} braid__span;

uint64_t braid__xxh3_spans(const braid__span *s, unsigned n);

/* Spans of at most BRAID_XXH3_SMALL bytes in all (a projection at a short
 * interval: its head and a few cells) are gathered and hashed at once: the
 * streaming state's reset, updates and digest cost more than the hash of
 * so little.  The value is the same either way.  Returns the total length,
 * having copied the spans into buf only when it is at most cap. */
#define BRAID_XXH3_SMALL 1024
static inline size_t braid__spans_gather(const braid__span *s, unsigned n, unsigned char *buf, size_t cap)
{
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) total += s[i].n;
  if (total > cap) return total;
  for (size_t i = 0, at = 0; i < n; at += s[i].n, i++)
    if (s[i].n) memcpy(buf + at, s[i].p, s[i].n);
  return total;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BRAID_HAVE_XXH3_AVX2 1
/* The AVX2 variant (hash_avx2.c): call it only where the CPU has AVX2. */
uint64_t braid__xxh3_spans_avx2(const braid__span *s, unsigned n);
#endif

#endif
