/* footprint.c - memory bounds of a run's settings, checked before allocating. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "runtime/footprint.h"
#include "runtime/runtime.h"

/* Per torus and exchange, the logical records a run writes at most:
 * projection, overflow, failure, rebuild, boundary, projection error, 4
 * violated cells, 2 global checks, an interval change and the 256
 * injections a replay applies (269), rounded up for record types newer
 * writers may add. */
#define RECORDS_PER_TORUS 512

/* The value of `key` in settings text, or `def` when it is missing; `bad`
 * when it is not a whole number within lo..hi. */
static int64_t setting(const char *text, const char *key, int64_t lo, int64_t hi, int64_t def, int64_t bad)
{
  size_t klen = strlen(key);
  for (const char *p = text; p && *p;) {
    size_t n = strcspn(p, "\n");
    if (n > klen && p[klen] == '=' && !memcmp(p, key, klen)) {
      char num[32];
      size_t vn = n - klen - 1;
      if (vn == 0 || vn >= sizeof num) return bad;
      memcpy(num, p + klen + 1, vn);
      num[vn] = 0;
      char *end;
      long long v = strtoll(num, &end, 10);
      return *end || v < lo || v > hi ? bad : v;
    }
    p += n + (p[n] == '\n');
  }
  return def;
}

uint64_t braid__exchange_records_max(const char *text)
{
  uint64_t tori = (uint64_t)setting(text, "tori", 1, BRAID_MAX_TORI, 3, BRAID_MAX_TORI);
  /* Anything but trace_events=0 (or none) counts as recording events. */
  int64_t events = setting(text, "trace_events", 0, 0, 0, 1);
  uint64_t per_epoch = 0;
  if (events) {
    /* An epoch runs `interval` events; adaptation keeps it up to interval_max. */
    const char *adapt = text ? strstr(text, "\nadapt=off\n") : NULL;
    per_epoch = adapt ? (uint64_t)setting(text, "interval", 1, 10000000, 1000, 10000000)
                      : (uint64_t)setting(text, "interval_max", 1, 10000000, 10000, 10000000);
  }
  return 1 + tori * (RECORDS_PER_TORUS + per_epoch);
}

/* Bytes mapped by this process now (the first field of /proc/self/statm). */
static uint64_t mapped_now(void)
{
  unsigned long long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%llu", &pages) != 1) pages = 0;
    fclose(f);
  }
  return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t braid__memory_available(const char **limit)
{
  uint64_t best = UINT64_MAX;
  *limit = "unlimited";
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && size > 0) {
    best = (uint64_t)pages * (uint64_t)size;
    *limit = "physical memory";
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    uint64_t used = mapped_now(), left = (uint64_t)rl.rlim_cur > used ? (uint64_t)rl.rlim_cur - used : 0;
    if (left < best) {
      best = left;
      *limit = "RLIMIT_AS";
    }
  }
  if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur < best) {
    best = (uint64_t)rl.rlim_cur;
    *limit = "RLIMIT_DATA";
  }
  /* BRAID_MEMORY_LIMIT=N[K|M|G] lowers the bound: a replay on a shared
   * machine, or under a sanitizer, where rlimits cannot bound the heap. */
  const char *env = getenv("BRAID_MEMORY_LIMIT");
  if (env && *env) {
    char *end;
    unsigned long long v = strtoull(env, &end, 10);
    int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
    if (end != env && (!*end || (shift && !end[1])) && v < (1ull << (64 - 30)) && (v << shift) < best) {
      best = v << shift;
      *limit = "BRAID_MEMORY_LIMIT";
    }
  }
  return best;
}

/* Initial events per torus of a built-in model (0 for plugins: unknown). */
static uint64_t initial_events(const braid_config *cfg, const int64_t *params, uint32_t torus, uint64_t ncells)
{
  const braid_model *m = cfg->model;
  if (!m || m != braid_find_model(m->name)) return 0;
  if (!strcmp(m->name, "bursty")) return (uint64_t)params[1];
  uint64_t pop = (uint64_t)params[0];
  if (!strcmp(m->name, "skewed")) pop *= 1 + torus % 4;
  return pop * ncells;
}

/* Edges per cell the built-in model's init sets (0 for plugins). */
static unsigned model_degree(const braid_model *m)
{
  if (!m || m != braid_find_model(m->name)) return 0;
  return !strcmp(m->name, "skewed") ? 2 : !strcmp(m->name, "phold") ? 0 : 1;
}

uint64_t braid__runtime_footprint(const braid_config *cfg, const int64_t *params)
{
  uint64_t dim = (uint64_t)cfg->v[BRAID_K_dim], ncells = dim * dim * dim, face = dim * dim;
  uint64_t tori = (uint64_t)cfg->v[BRAID_K_tori], total = 0;
  unsigned degree = model_degree(cfg->model);
  for (uint32_t r = 0; r < tori; r++) {
    uint64_t b = ncells * (sizeof(int64_t) + sizeof(uint64_t));          /* state, activity */
    b += ncells * degree * (sizeof(uint32_t) + 1);                        /* edges */
    b += face * sizeof(int64_t) * (1 + 1 + BRAID_PROJ_SLOTS);            /* corrections, projections */
    b += (uint64_t)BRAID_REC_SLOTS * BRAID_REC_SLOT_BYTES;               /* record blocks */
    b += initial_events(cfg, params, r, ncells) * sizeof(braid__qev);    /* the queue */
    total += b;
  }
  return total;
}

static void human(char *buf, size_t len, uint64_t v)
{
  if (v >= (10ull << 30)) snprintf(buf, len, "%.0f GiB", (double)v / (1u << 30));
  else if (v >= (1ull << 30)) snprintf(buf, len, "%.1f GiB", (double)v / (1u << 30));
  else snprintf(buf, len, "%.0f MiB", (double)v / (1u << 20) + 0.5);
}

int braid__check_memory(uint64_t need, const char *what, char *err, size_t errlen)
{
  const char *limit;
  uint64_t avail = braid__memory_available(&limit);
  if (need <= avail) return 0;
  char a[32], b[32];
  human(a, sizeof a, need);
  human(b, sizeof b, avail);
  braid__fmt(err, errlen, "%s need at least %s; this process may allocate %s (%s)", what, a, b, limit);
  return BRAID_ELIMIT;
}

int braid__runtime_memory_check(const braid_config *cfg, const int64_t *params, char *err, size_t errlen)
{
  char what[160];
  int n = snprintf(what, sizeof what, "model %s with dim=%lld, tori=%lld", cfg->model_name, (long long)cfg->v[BRAID_K_dim],
                   (long long)cfg->v[BRAID_K_tori]);
  /* The parameter that sets the initial population, where there is one. */
  const braid_param_spec *ps = cfg->model ? cfg->model->params : NULL;
  for (unsigned i = 0; ps && ps[i].name && n > 0 && (size_t)n < sizeof what; i++)
    if (initial_events(cfg, params, 0, 1) && (!strcmp(ps[i].name, "pop") || !strcmp(ps[i].name, "burst")))
      n += snprintf(what + n, sizeof what - (size_t)n, ", p.%s=%lld", ps[i].name, (long long)params[i]);
  if (n > 0 && (size_t)n < sizeof what) snprintf(what + n, sizeof what - (size_t)n, " (lattice, edges and initial events of every torus)");
  return braid__check_memory(braid__runtime_footprint(cfg, params), what, err, errlen);
}
