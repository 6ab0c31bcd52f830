/* fuzz_checkpoint.c - libFuzzer harness: a checkpoint blob from a hostile
 * trace, loaded into a runtime (what `braid-replay --from` does) and, when
 * it loads, run on for a few exchanges, so that state the loader let through
 * is also used.  Frame checksums guard against accidents, not against a
 * crafted file: the loader alone must keep bad state out.
 *
 * Seeds: with BRAID_FUZZ_SEED_DIR set, LLVMFuzzerInitialize first writes the
 * real checkpoints of the harness's own run there (make fuzz-checkpoint does
 * this). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* skewed: several edges per cell, so edge tables are in every blob. */
#define CONFIG "model=skewed tori=2 dim=8 exchanges=8 sequential=1 seed=1"
#define RUN_ON_BEFORE 6 /* run on from a loaded exchange below this */

static braid_runtime *runtime(const char *extra)
{
  char kv[256];
  snprintf(kv, sizeof kv, "%s %s", CONFIG, extra);
  braid_config *cfg;
  braid_runtime *rt = NULL;
  if (braid_config_create(&cfg)) return NULL;
  for (char *save = NULL, *tok = strtok_r(kv, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = 0;
    if (braid_config_set(cfg, tok, eq + 1)) goto out;
  }
  braid_runtime_create(&rt, cfg, NULL, 0);
out:
  braid_config_destroy(cfg);
  return rt;
}

static const char *seed_dir;

static int ignore_exchange(void *ud, uint64_t k, const uint8_t *recs, size_t len) { return 0; }

static int save_seed(void *ud, uint64_t k, const uint8_t *blob, size_t len)
{
  char path[512];
  snprintf(path, sizeof path, "%s/checkpoint-%llu", seed_dir, (unsigned long long)k);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(blob, 1, len, f);
  fclose(f);
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  seed_dir = getenv("BRAID_FUZZ_SEED_DIR");
  if (!seed_dir) return 0;
  braid_runtime *rt = runtime("checkpoint_every=1");
  if (!rt) return 0;
  braid__sink s = { ignore_exchange, save_seed, NULL };
  braid__add_sink(rt, &s);
  braid_runtime_run(rt);
  braid_runtime_destroy(rt);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  braid_runtime *rt = runtime("");
  if (!rt) return 0;
  uint64_t k;
  if (braid__checkpoint_load(rt, data, size, &k) == 0 && k < RUN_ON_BEFORE) braid_runtime_run(rt);
  braid_runtime_destroy(rt);
  return 0;
}
