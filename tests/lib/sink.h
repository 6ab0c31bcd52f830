/* sink.h - test helpers that need no test framework: an in-memory record
 * sink and runs described as "key=value ..." strings. */
#ifndef BRAID_TEST_SINK_H
#define BRAID_TEST_SINK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/runtime.h"

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
    int rc = braid__rec_decode(&p, end, &r, NULL);
    if (rc) return rc;
    if (BRAID_RECORD_IS_LOGICAL(r.type)) {
      braid__buf_put(&m->logical, start, (size_t)(p - start));
      m->counts[r.type]++;
    }
  }
  m->exchanges++;
  return m->logical.err;
}

static inline void mem_free(mem_sink *m) { braid__buf_free(&m->logical); }

static inline int same_stream(const mem_sink *a, const mem_sink *b)
{
  return a->logical.len == b->logical.len && (!a->logical.len || !memcmp(a->logical.p, b->logical.p, a->logical.len));
}

/* Settings from "key=value key=value ..." (p.name=value for model
 * parameters); NULL with a message in err on a bad one.  The heartbeat is
 * off unless kv sets it: it is the one decision a default run takes from
 * the wall clock, and on a loaded machine (a TSan build beside other jobs)
 * it can declare a slow torus failed, which would make a threaded stream
 * differ from the sequential one for a reason no test here is about. */
static inline braid_config *settings_or_null(const char *kv, char *err, size_t errlen)
{
  braid_config *cfg;
  if (braid_config_create(&cfg)) return NULL;
  if (!strstr(kv, "heartbeat_ms=")) braid_config_set(cfg, "heartbeat_ms", "0");
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", kv);
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    int rc = !eq ? BRAID_EINVAL : !strncmp(tok, "p.", 2) ? (*eq = 0, braid_config_set_param(cfg, tok + 2, eq + 1)) : (*eq = 0, braid_config_set(cfg, tok, eq + 1));
    if (rc) {
      snprintf(err, errlen, "%s: %s", tok, braid_config_error(cfg));
      braid_config_destroy(cfg);
      return NULL;
    }
  }
  return cfg;
}

/* A runtime for kv whose logical stream goes to m (if not NULL). */
static inline braid_runtime *runtime_or_null(const char *kv, mem_sink *m, char *err, size_t errlen)
{
  braid_config *cfg = settings_or_null(kv, err, errlen);
  braid_runtime *rt;
  if (!cfg) return NULL;
  int rc = braid_runtime_create(&rt, cfg, err, errlen);
  braid_config_destroy(cfg);
  if (rc) return NULL;
  if (m) {
    memset(m, 0, sizeof *m);
    braid__sink s = { mem_exchange, NULL, m };
    braid__add_sink(rt, &s);
  }
  return rt;
}

#endif
