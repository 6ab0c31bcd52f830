/* bench_shrink.h - make bench: braid-shrink's runs and seconds on the
 * issue's cases (a plugin check after an injection, a queue overflow, a
 * deviation above a bound: 4 tori, D=32, 3000 exchanges, five injections
 * and two faults; and the racy model's divergence).  Included by bench.c. */
#ifndef BRAID_BENCH_SHRINK_H
#define BRAID_BENCH_SHRINK_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "braid.h"

/* Records `kv` ("key=value ...") with the injections of the cases into
 * `path`; 0 or the error. */
static int shrink_record(const braid_model *m, const char *kv, const char *extra_inj, const char *path)
{
  braid_config *cfg;
  braid_runtime *rt;
  char err[512], buf[1024];
  if (braid_config_create(&cfg)) return BRAID_ENOMEM;
  if (m) braid_config_set_model(cfg, m);
  snprintf(buf, sizeof buf, "%s", kv);
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    *eq = 0;
    int rc = !strncmp(tok, "p.", 2) ? braid_config_set_param(cfg, tok + 2, eq + 1) : braid_config_set(cfg, tok, eq + 1);
    if (rc) {
      fprintf(stderr, "bench shrink: %s: %s\n", tok, braid_config_error(cfg));
      braid_config_destroy(cfg);
      return rc;
    }
  }
  int rc = braid_runtime_create(&rt, cfg, err, sizeof err);
  braid_config_destroy(cfg);
  if (rc) {
    fprintf(stderr, "bench shrink: %s\n", err);
    return rc;
  }
  static const struct { uint32_t torus, cell; int32_t payload; uint64_t k; } inj[] = {
    { 0, 5000, 3, 100 }, { 1, 77, -4, 400 }, { 3, 300, 2, 900 }, { 0, 9, 5, 1200 },
  };
  for (unsigned i = 0; i < 4; i++) braid_inject(rt, inj[i].torus, inj[i].cell, inj[i].payload, inj[i].k);
  unsigned t, c, k;
  int p;
  if (extra_inj && sscanf(extra_inj, "%u@%u:%u=%d", &t, &k, &c, &p) == 4) braid_inject(rt, t, c, p, k);
  if (!(rc = braid_runtime_record(rt, path))) rc = braid_runtime_run(rt);
  braid_runtime_destroy(rt);
  return rc;
}

static void shrink_case(const char *name, const braid_model *m, const char *kv, const char *extra_inj, uint64_t deviation, int divergence)
{
  char path[64];
  snprintf(path, sizeof path, "/tmp/braid-bench-shrink-%d.btr", (int)getpid());
  if (shrink_record(m, kv, extra_inj, path)) {
    printf("  %-34s recording failed\n", name);
    return;
  }
  braid_shrink_opts o;
  braid_shrink_opts_init(&o);
  o.model = m;
  o.model_spec = m ? "plugin_ripple.so" : NULL;
  o.deviation = deviation;
  o.divergence = divergence;
  braid_shrink_result r;
  char err[512];
  int rc = braid_shrink(path, &o, &r, err, sizeof err);
  unlink(path);
  if (rc) {
    printf("  %-34s error: %s\n", name, err);
    return;
  }
  printf("  %-34s %4llu runs %7.2f s  tori %u->%u  D %u->%u  inj %u->%u  faults %u->%u  exchanges %llu->%llu%s  (goal <= 100 runs: %s)\n", name,
         (unsigned long long)r.runs, r.seconds, r.before.tori, r.after.tori, r.before.dim, r.after.dim, r.before.injections, r.after.injections,
         r.before.faults, r.after.faults, (unsigned long long)r.before.exchanges, (unsigned long long)r.after.exchanges,
         divergence ? "  (threaded, chaos)" : "", r.shrank && r.runs <= 100 ? "met" : "MISSED");
}

static void bench_shrink(void)
{
  printf("== braid-shrink: 4 tori, D=32, 3000 exchanges, interval 1000 (adapt off), 5 injections, 2 faults ==\n");
  const char *big = "tori=4 dim=32 exchanges=3000 adapt=off seed=3 fail=B@300,D@1500";
  const braid_model *ripple = NULL;
  char err[512];
  if (braid_model_load("tests/.libs/plugin_ripple.so", &ripple, err, sizeof err) == 0) {
    char kv[256];
    snprintf(kv, sizeof kv, "%s", big);
    shrink_case("plugin check after injection 700", ripple, kv, "2@700:1000=500000", 0, 0);
  } else {
    printf("  %-34s skipped: %s (run make check first to build the example plugin)\n", "plugin check after injection 700", err);
  }
  char kv[256];
  snprintf(kv, sizeof kv, "model=bursty queue_cap=300 %s", big);
  shrink_case("queue overflow (bursty)", NULL, kv, "2@700:1000=5", 0, 0);
  snprintf(kv, sizeof kv, "model=uniform %s", big);
  shrink_case("deviation > 1000 (uniform)", NULL, kv, "0@700:5=100000", 1000, 0);
  shrink_case("racy divergence (4 tori, 300 exch.)", NULL, "model=racy tori=4 dim=32 exchanges=300 threads=2 chaos=1", NULL, 0, 1);
  printf("\n");
}

#endif
