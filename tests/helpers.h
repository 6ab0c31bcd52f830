/* helpers.h - shared test helpers: in-memory record sink, runs by settings. */
#ifndef BRAID_TEST_HELPERS_H
#define BRAID_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime.h"

/* Collects the logical records of every exchange (timing records dropped). */
typedef struct mem_sink {
  braid__buf logical;
  uint64_t exchanges;
  uint64_t counts[64]; /* records by logical type */
} mem_sink;

static int mem_exchange(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  mem_sink *m = ud;
  const uint8_t *p = recs, *end = recs + len;
  (void)k;
  while (p < end) {
    const uint8_t *start = p;
    braid_record r;
    int rc = braid__rec_decode(&p, end, &r);
    if (rc) return rc;
    if (BRAID_RECORD_IS_LOGICAL(r.type)) {
      braid__buf_put(&m->logical, start, (size_t)(p - start));
      m->counts[r.type]++;
    }
  }
  m->exchanges++;
  return m->logical.err;
}

static void mem_free(mem_sink *m) { braid__buf_free(&m->logical); }

/* Settings as "key=value key=value ..." (p.name=value for model parameters). */
static braid_config *settings(const char *kv)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", kv);
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    cr_assert(eq, "bad setting %s", tok);
    *eq = 0;
    int rc = !strncmp(tok, "p.", 2) ? braid_config_set_param(cfg, tok + 2, eq + 1) : braid_config_set(cfg, tok, eq + 1);
    cr_assert_eq(rc, 0, "%s=%s: %s", tok, eq + 1, braid_config_error(cfg));
  }
  return cfg;
}

static braid_runtime *make_runtime(const char *kv, mem_sink *m)
{
  braid_config *cfg = settings(kv);
  braid_runtime *rt;
  char err[256];
  int rc = braid_runtime_create(&rt, cfg, err, sizeof err);
  cr_assert_eq(rc, 0, "%s: %s", kv, err);
  braid_config_destroy(cfg);
  if (m) {
    memset(m, 0, sizeof *m);
    braid__sink s = { mem_exchange, NULL, m };
    cr_assert_eq(braid__add_sink(rt, &s), 0);
  }
  return rt;
}

/* Runs to completion and returns the logical stream in *m. */
static void run_into(const char *kv, mem_sink *m)
{
  braid_runtime *rt = make_runtime(kv, m);
  int rc = braid_runtime_run(rt);
  cr_assert_eq(rc, 0, "%s: %s", kv, braid_runtime_error(rt));
  braid_runtime_destroy(rt);
}

static int same_stream(const mem_sink *a, const mem_sink *b)
{
  return a->logical.len == b->logical.len && !memcmp(a->logical.p, b->logical.p, a->logical.len);
}

#endif
