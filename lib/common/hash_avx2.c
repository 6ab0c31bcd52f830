/* hash_avx2.c - the AVX2 variant of braid__xxh3_spans (hash.h): xxhash's
 * own AVX2 code, inlined here and compiled for AVX2 whatever the build's
 * flags, so that the rest of the library stays baseline x86-64.  XXH3
 * gives the same value whichever vector code computes it. */
#include "common/hash.h"

#ifdef BRAID_HAVE_XXH3_AVX2
#pragma GCC push_options
#pragma GCC target("avx2")
#define XXH_INLINE_ALL
#define XXH_STATIC_LINKING_ONLY
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

uint64_t braid__xxh3_spans_avx2(const braid__span *s, unsigned n)
{
  if (n == 1) return XXH3_64bits(s[0].p, s[0].n);
  unsigned char small[BRAID_XXH3_SMALL];
  size_t len = braid__spans_gather(s, n, small, sizeof small);
  if (len <= sizeof small) return XXH3_64bits(small, len);
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (unsigned i = 0; i < n; i++) XXH3_64bits_update(&st, s[i].p, s[i].n);
  return XXH3_64bits_digest(&st);
}
#pragma GCC pop_options
#else
typedef int braid__no_avx2_variant; /* ISO C wants something in a file */
#endif
