/* record_file.c - connects a runtime to the trace writer: header (settings,
 * build, host), exchange and checkpoint sink, footer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/plugin.h"
#include "runtime/runtime.h"
#include "runtime/trace_sink.h"
#include "trace/writer.h"

#ifndef BRAID_CFLAGS
#define BRAID_CFLAGS "unknown"
#endif

/* Bumped whenever a change alters what a run computes (the kernel, a model,
 * the exchange, adaptation): replay refuses traces of another semantics
 * version unless forced.  Compiler and flags are recorded and only warned
 * about (the logical path is integer arithmetic; skewed and phold use libm's
 * pow/log once at set-up).  3: model checks add CHECK records, and a
 * rebuilt bursty torus no longer fails over overflows from before.  4: the
 * projection's pending and cell digests and rungs, the hash field written
 * as 0, checkpoints holding a model's saved state.  5: a torus's
 * interval stays within one growth step of its predecessor's (adapt.h).
 * 6: the projection hash covers the face delta (projection.h), which
 * changes the hash a checkpoint stores.  7: after a quiet check a torus
 * takes a longer predecessor's interval (adapt.h).  8: only from at most
 * one growth step below it (7 undid the torus's own shrinks). */
#define BRAID_SEMANTICS_VERSION 8
#define BRAID_STR_(x) #x
#define BRAID_STR(x) BRAID_STR_(x)

const char *braid__build_id(void)
{
  static const char id[] = "braid " BRAID_VERSION_STRING " semantics " BRAID_STR(BRAID_SEMANTICS_VERSION) " cc " __VERSION__ " flags " BRAID_CFLAGS;
  return id;
}

int braid__semantics_of(const char *build_id)
{
  const char *p = build_id ? strstr(build_id, " semantics ") : NULL;
  return p ? atoi(p + 11) : -1;
}

int braid__semantics_version(void) { return BRAID_SEMANTICS_VERSION; }

static int sink_exchange(void *ud, uint64_t k, const uint8_t *recs, size_t len)
{
  braid_runtime *rt = ud;
  int rc = braid__tw_exchange(rt->tw, k, recs, len);
  /* Bound what a kill -9 can lose to ~100 ms of records. */
  uint64_t now = braid__now_ns();
  if (!rc && now - rt->last_flush > 100000000ull) { /* callers hold the assembly lock */
    rc = braid__tw_flush(rt->tw);
    rt->last_flush = now;
  }
  if (rc) braid__set_error(rt, rc, "%s", braid__tw_error(rt->tw));
  return rc;
}

static int sink_checkpoint(void *ud, uint64_t k, const uint8_t *blob, size_t len)
{
  braid_runtime *rt = ud;
  int rc = braid__tw_checkpoint(rt->tw, k, blob, len);
  if (rc) braid__set_error(rt, rc, "%s", braid__tw_error(rt->tw));
  return rc;
}

int braid_runtime_record(braid_runtime *rt, const char *path)
{
  BRAID_RETURN_IF(!rt || !path, BRAID_EINVAL);
  BRAID_RETURN_IF(rt->ran || rt->tw, BRAID_ESTATE);
  char plugin[1024];
  if (braid__is_loaded_plugin(path, plugin, sizeof plugin)) {
    braid__fmt(rt->errmsg, sizeof rt->errmsg, "%s: is the model plugin %s, loaded by this process; write the trace to another file", path, plugin);
    return BRAID_EINVAL;
  }
  char host[256] = "";
  braid__model_id(rt->model, rt->plugin_id, sizeof rt->plugin_id);
  gethostname(host, sizeof host - 1);
  braid__trace_header h = {
    braid_config_text(&rt->cfg), braid__config_logical_hash(&rt->cfg), BRAID_VERSION_STRING, braid__build_id(), host, braid__wall_ns(),
    rt->plugin_id,
  };
  if (!h.config_text) return BRAID_ENOMEM;
  int rc = braid__tw_open(&rt->tw, path, &h, rt->errmsg, sizeof rt->errmsg);
  if (rc) return rc;
  braid__sink s = { sink_exchange, sink_checkpoint, rt };
  return braid__add_sink(rt, &s);
}

/* A checkpoint written before the run: a replay from a checkpoint starts its
 * own trace with the state it loaded.  0 when the run is not recorded. */
int braid__trace_checkpoint(braid_runtime *rt, uint64_t k, const uint8_t *blob, size_t len)
{
  return rt->tw ? sink_checkpoint(rt, k, blob, len) : 0;
}

int braid__trace_finish(braid_runtime *rt, int rc)
{
  if (!rt->tw) return rc;
  braid__trace_footer f;
  memset(&f, 0, sizeof f);
  f.status = rc && rc != BRAID_EINTR ? BRAID_TRACE_FAILED : atomic_load(&rt->interrupted) ? BRAID_TRACE_INTERRUPTED : BRAID_TRACE_COMPLETE;
  f.exchanges = braid__tw_exchanges(rt->tw); /* from a checkpoint, fewer than rt->assembled */
  f.total_events = rt->report.events;
  f.tori = rt->ntori;
  for (uint32_t r = 0; r < rt->ntori && r < 16; r++) f.final_state_hash[r] = rt->report.torus ? rt->report.torus[r].state_hash : 0;
  int frc = braid__tw_finish(rt->tw, &f);
  if (frc && !rc) {
    braid__set_error(rt, frc, "%s", braid__tw_error(rt->tw));
    rc = frc;
  }
  return rc;
}

void braid__trace_detach(braid_runtime *rt)
{
  if (rt->tw) braid__tw_close(rt->tw);
  rt->tw = NULL;
}

uint64_t braid__trace_bytes(const braid_runtime *rt) { return rt->tw ? braid__tw_bytes(rt->tw) : 0; }
