/* hash.c - XXH3 over several spans (see hash.h): libxxhash, or the AVX2
 * variant when the CPU has it. */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include "common/hash.h"

uint64_t braid__xxh3_spans(const braid__span *s, unsigned n)
{
#ifdef BRAID_HAVE_XXH3_AVX2
  if (__builtin_cpu_supports("avx2")) return braid__xxh3_spans_avx2(s, n);
#endif
  unsigned char small[BRAID_XXH3_SMALL];
  size_t len = braid__spans_gather(s, n, small, sizeof small);
  if (len <= sizeof small) return XXH3_64bits(small, len);
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (unsigned i = 0; i < n; i++) XXH3_64bits_update(&st, s[i].p, s[i].n);
  return XXH3_64bits_digest(&st);
}
