/* plugin.c - user event models loaded from shared objects.
 *
 * A plugin exports `const braid_model SYMBOL` (default braid_model_entry).
 * Loaded plugins are remembered with the XXH3 of their file so the trace
 * header can name exactly which code produced a run.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "runtime.h"

typedef struct loaded {
  const braid_model *model;
  char id[512];
} loaded;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static loaded table[32];
static unsigned nloaded;

static int hash_file(const char *path, uint64_t *out)
{
  FILE *f = fopen(path, "rb");
  if (!f) return BRAID_ENOENT;
  XXH3_state_t *s = XXH3_createState();
  if (!s) {
    fclose(f);
    return BRAID_ENOMEM;
  }
  XXH3_64bits_reset(s);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) XXH3_64bits_update(s, buf, n);
  int bad = ferror(f);
  fclose(f);
  *out = XXH3_64bits_digest(s);
  XXH3_freeState(s);
  return bad ? BRAID_EIO : 0;
}

int braid_model_load(const char *spec, const braid_model **out, char *err, size_t errlen)
{
  BRAID_RETURN_IF(!spec || !out, BRAID_EINVAL);
  *out = NULL;
  char path[1024];
  const char *sym = "braid_model_entry";
  snprintf(path, sizeof path, "%s", spec);
  char *colon = strrchr(path, ':');
  if (colon && colon[1] && !strchr(colon, '/')) {
    *colon = 0;
    sym = spec + (colon - path) + 1;
  }
  uint64_t h;
  int rc = hash_file(path, &h);
  if (rc) {
    braid__fmt(err, errlen, "%s: cannot read the plugin (%s)", path, braid_strerror(rc));
    return rc == BRAID_ENOENT ? BRAID_ENOENT : BRAID_EPLUGIN;
  }
  void *dl = dlopen(strchr(path, '/') ? path : spec, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    braid__fmt(err, errlen, "%s: cannot load the plugin: %s", path, dlerror());
    return BRAID_EPLUGIN;
  }
  const braid_model *m = dlsym(dl, sym);
  if (!m) {
    braid__fmt(err, errlen, "%s: no symbol '%s' in the plugin", path, sym);
    dlclose(dl);
    return BRAID_EPLUGIN;
  }
  if (m->abi != BRAID_MODEL_ABI || !m->name || !m->init || !m->handle) {
    braid__fmt(err, errlen, "%s: '%s' is not a braid model of ABI %d", path, sym, BRAID_MODEL_ABI);
    dlclose(dl);
    return BRAID_EPLUGIN;
  }
  pthread_mutex_lock(&lock);
  if (nloaded < sizeof table / sizeof table[0]) {
    table[nloaded].model = m;
    snprintf(table[nloaded].id, sizeof table[nloaded].id, "%s %u %016llx", m->name, m->version, (unsigned long long)h);
    nloaded++;
  }
  pthread_mutex_unlock(&lock);
  *out = m; /* the library stays loaded for the life of the process */
  return 0;
}

const char *braid__plugin_id(const braid_runtime *rt)
{
  const char *id = "";
  pthread_mutex_lock(&lock);
  for (unsigned i = 0; i < nloaded; i++)
    if (table[i].model == rt->model) id = table[i].id;
  pthread_mutex_unlock(&lock);
  return id;
}
