/* plugin.c - user event models loaded from shared objects.
 *
 * A plugin exports `const braid_model SYMBOL` (default braid_model_entry).
 * Loaded plugins are remembered with the XXH3 of their file so the trace
 * header can name exactly which code produced a run, and a replay can refuse
 * a plugin that is not the one recorded.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>
#include "kernel/plugin.h"

typedef struct loaded {
  const braid_model *model;
  char id[512];
  char path[1024]; /* as loaded */
  dev_t dev;       /* the file as it was loaded */
  ino_t ino;
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
  if (colon && !strchr(colon, '/')) {
    /* "PATH:" is a symbol left out, not a file whose name ends in ':'. */
    *colon = 0;
    if (!colon[1]) {
      braid__fmt(err, errlen, "'%s': empty symbol name after ':'", spec);
      return BRAID_EINVAL;
    }
    sym = spec + (colon - path) + 1;
  }
  /* A directory opens and then fails to read, which says nothing useful. */
  struct stat st;
  memset(&st, 0, sizeof st);
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    braid__fmt(err, errlen, "%s: is a directory, not a plugin", path);
    return BRAID_EPLUGIN;
  }
  uint64_t h;
  int rc = hash_file(path, &h);
  if (rc) {
    braid__fmt(err, errlen, "%s: cannot read the plugin (%s)", path, braid_strerror(rc));
    return rc == BRAID_ENOENT ? BRAID_ENOENT : BRAID_EPLUGIN;
  }
  /* Load the very file that was hashed: a bare name would make dlopen search
   * the library path (and the spec may still carry its :SYMBOL). */
  char file[1040];
  snprintf(file, sizeof file, "%s%s", strchr(path, '/') ? "" : "./", path);
  void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
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
  if (m->abi < BRAID_MODEL_ABI_MIN || m->abi > BRAID_MODEL_ABI || !m->name || !m->init || !m->handle) {
    braid__fmt(err, errlen, "%s: '%s' is not a braid model of ABI %d..%d", path, sym, BRAID_MODEL_ABI_MIN, BRAID_MODEL_ABI);
    dlclose(dl);
    return BRAID_EPLUGIN;
  }
  /* Loading an object again yields the code already mapped, so its first
   * identity stays the true one. */
  rc = 0;
  pthread_mutex_lock(&lock);
  unsigned i = 0;
  while (i < nloaded && table[i].model != m) i++;
  if (i == nloaded && nloaded < sizeof table / sizeof table[0]) {
    table[nloaded].model = m;
    snprintf(table[nloaded].id, sizeof table[nloaded].id, "%s %u %016llx", m->name, m->version, (unsigned long long)h);
    snprintf(table[nloaded].path, sizeof table[nloaded].path, "%s", path);
    table[nloaded].dev = st.st_dev;
    table[nloaded].ino = st.st_ino;
    nloaded++;
  } else if (i == nloaded) {
    rc = BRAID_ELIMIT;
  }
  pthread_mutex_unlock(&lock);
  if (rc) {
    braid__fmt(err, errlen, "%s: more than %u model plugins loaded", path, (unsigned)(sizeof table / sizeof table[0]));
    return rc; /* the object stays mapped: dlclose could unmap a model in use */
  }
  *out = m; /* the library stays loaded for the life of the process */
  return 0;
}

void braid__model_id(const braid_model *m, char *buf, size_t len)
{
  if (len) buf[0] = 0;
  if (!m || braid_find_model(m->name) == m) return;
  const char *id = NULL;
  pthread_mutex_lock(&lock);
  for (unsigned i = 0; i < nloaded; i++)
    if (table[i].model == m) id = table[i].id;
  if (id) snprintf(buf, len, "%s", id);
  pthread_mutex_unlock(&lock);
  if (!id) snprintf(buf, len, "%s %u -", m->name, m->version);
}

int braid__is_loaded_plugin(const char *path, char *buf, size_t len)
{
  struct stat st;
  int hit = 0;
  if (len) buf[0] = 0;
  if (!path || stat(path, &st)) return 0;
  pthread_mutex_lock(&lock);
  for (unsigned i = 0; i < nloaded && !hit; i++)
    if (table[i].ino == st.st_ino && table[i].dev == st.st_dev && table[i].ino) {
      snprintf(buf, len, "%s", table[i].path);
      hit = 1;
    }
  pthread_mutex_unlock(&lock);
  return hit;
}

int braid__model_can_save(const braid_model *m)
{
  return m && m->abi >= 2 && m->save && m->load;
}
