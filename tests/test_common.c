/* test_common.c - lib/common's helpers: braid__xxh3_spans is XXH3 of the
 * concatenation, whatever the cut and whichever variant the CPU runs (the
 * projection hash must not depend on the machine), memory on lines of its
 * own is aligned, zeroed and whole lines long, and arrays grow by doubling
 * and refuse sizes that overflow. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "common/buf.h"
#include "common/common.h"
#include "common/hash.h"
#include "common/mem.h"

static uint8_t *pattern(size_t n, uint64_t seed)
{
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    p[i] = (uint8_t)(seed >> 56);
  }
  return p;
}

Test(hash, spans_hash_as_their_concatenation_at_every_size_and_cut)
{
  static const size_t sizes[] = { 0, 1, 3, 16, 17, 128, 129, 240, 241, 1024, 8192, 8199, 100003 };
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t n = sizes[si];
    uint8_t *p = pattern(n, n + 1);
    uint64_t want = XXH3_64bits(p, n);
    cr_assert_eq(braid__xxh3_spans(&(braid__span){ p, n }, 1), want, "size %zu", n);
    /* Every cut into two for small inputs, a few for big ones; and four
     * uneven spans like a projection's head, count, processes and face. */
    for (size_t cut = 0; cut <= n; cut += n < 300 ? 1 : 997) {
      braid__span two[2] = { { p, cut }, { p + cut, n - cut } };
      cr_assert_eq(braid__xxh3_spans(two, 2), want, "size %zu cut %zu", n, cut);
    }
    if (n >= 100) {
      braid__span four[4] = { { p, 88 }, { p + 88, 4 }, { p + 92, 0 }, { p + 92, n - 92 } };
      cr_assert_eq(braid__xxh3_spans(four, 4), want, "size %zu in four", n);
    }
#ifdef BRAID_HAVE_XXH3_AVX2
    if (__builtin_cpu_supports("avx2")) {
      braid__span two[2] = { { p, n / 3 }, { p + n / 3, n - n / 3 } };
      cr_assert_eq(braid__xxh3_spans_avx2(&(braid__span){ p, n }, 1), want, "avx2, size %zu", n);
      cr_assert_eq(braid__xxh3_spans_avx2(two, 2), want, "avx2, size %zu in two", n);
    }
#endif
    free(p);
  }
}

Test(mem, small_blocks_get_cache_lines_of_their_own)
{
  /* Eight one-word blocks, as the queues of eight tori ask for their
   * bitmaps: none may share a cache line with another. */
  uint64_t *w[8];
  for (int i = 0; i < 8; i++) {
    w[i] = braid__calloc_lines(1, sizeof *w[i]);
    cr_assert(w[i]);
    cr_assert_eq((uintptr_t)w[i] % BRAID_CACHELINE, 0, "block %d at %p", i, (void *)w[i]);
    cr_assert_eq(*w[i], 0);
    *w[i] = ~0ull;
  }
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < i; j++) cr_assert_neq((uintptr_t)w[i] / BRAID_CACHELINE, (uintptr_t)w[j] / BRAID_CACHELINE, "blocks %d and %d", i, j);
  for (int i = 0; i < 8; i++) free(w[i]);
  uint8_t *b = braid__calloc_lines(1000, 3);
  cr_assert(b);
  for (int i = 0; i < 3000; i++) cr_assert_eq(b[i], 0, "[%d]", i);
  free(b);
  cr_assert_null(braid__calloc_lines(SIZE_MAX / 4, 8), "n * size overflows");
}

Test(buf, grow_doubles_from_first_and_refuses_overflow)
{
  size_t cap = 0;
  uint32_t *v = NULL;
  for (size_t n = 0; n < 1000; n++) {
    uint32_t *nv = braid__grow(v, &cap, n, sizeof *v, 4);
    cr_assert(nv, "element %zu", n);
    cr_assert_gt(cap, n);
    if (n < 4) cr_assert_eq(cap, 4);
    v = nv;
    v[n] = (uint32_t)n;
  }
  cr_assert_eq(cap, 1024);
  for (size_t n = 0; n < 1000; n++) cr_assert_eq(v[n], n, "[%zu] kept", n);
  cr_assert_eq(braid__grow(v, &cap, 1023, sizeof *v, 4), v, "room left: the same array");
  size_t big = SIZE_MAX / 2 + 1;
  cr_assert_null(braid__grow(v, &big, big, 1, 4), "twice the capacity overflows");
  cr_assert_eq(big, SIZE_MAX / 2 + 1, "the capacity is kept on failure");
  size_t c2 = (SIZE_MAX / 8) / 2 + 1;
  cr_assert_null(braid__grow(v, &c2, c2, 8, 4), "the size in bytes overflows");
  free(v);
}
