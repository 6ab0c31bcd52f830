/* scratch.h - a scratch directory for a Criterion suite, and whole-file
 * load and save.  Include once per test program; define SCRATCH_PREFIX
 * (e.g. "/tmp/braid-trace-") before including to name the directory. */
#ifndef BRAID_TEST_SCRATCH_H
#define BRAID_TEST_SCRATCH_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SCRATCH_PREFIX
#define SCRATCH_PREFIX "/tmp/braid-test-"
#endif

static char dir[64];

/* Suite .init: a fresh directory for each test. */
static void make_dir(void)
{
  snprintf(dir, sizeof dir, "%sXXXXXX", SCRATCH_PREFIX);
  cr_assert(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

/* Suite .fini: the directory goes with everything in it. */
static void remove_dir(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (dir[0]) cr_expect_eq(system(cmd), 0);
}

/* A path inside the scratch directory; the last four stay valid. */
static inline const char *tpath(const char *name)
{
  static char p[4][256];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
  return p[i];
}

/* The whole file, NUL-terminated (so text can be searched as a string);
 * its length in *n when n is not NULL. */
static inline void *load(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  cr_assert(f, "%s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *b = malloc(cap);
  cr_assert(b);
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap *= 2;
      b = realloc(b, cap);
      cr_assert(b);
    }
    size_t got = fread(b + len, 1, 4096, f);
    len += got;
    if (!got) break;
  }
  fclose(f);
  b[len] = 0;
  if (n) *n = len;
  return b;
}

static inline void save(const char *path, const void *p, size_t n)
{
  FILE *f = fopen(path, "wb");
  cr_assert(f, "%s: %s", path, strerror(errno));
  cr_assert_eq(fwrite(p, 1, n, f), n);
  cr_assert_eq(fclose(f), 0);
}

#endif
