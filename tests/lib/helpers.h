/* helpers.h - Criterion-side test helpers over sink.h. */
#ifndef BRAID_TEST_HELPERS_H
#define BRAID_TEST_HELPERS_H

#include <criterion/criterion.h>
#include "sink.h"

static inline braid_config *settings(const char *kv)
{
  char err[512];
  braid_config *cfg = settings_or_null(kv, err, sizeof err);
  cr_assert(cfg, "%s", err);
  return cfg;
}

static inline braid_runtime *make_runtime(const char *kv, mem_sink *m)
{
  char err[512];
  braid_runtime *rt = runtime_or_null(kv, m, err, sizeof err);
  cr_assert(rt, "%s: %s", kv, err);
  return rt;
}

/* Runs to completion and returns the logical stream in *m. */
static inline void run_into(const char *kv, mem_sink *m)
{
  braid_runtime *rt = make_runtime(kv, m);
  int rc = braid_runtime_run(rt);
  cr_assert_eq(rc, 0, "%s: %s", kv, braid_runtime_error(rt));
  braid_runtime_destroy(rt);
}

#endif
