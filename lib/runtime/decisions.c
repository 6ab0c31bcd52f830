/* decisions.c - the live and the recorded source of a run's decisions. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/decisions.h"

/* A recorded decision; `order` keeps the stream order among equal keys. */
typedef struct entry {
  uint64_t exchange;
  uint32_t torus;
  uint32_t value; /* interval */
  uint64_t order;
} entry;

typedef struct list {
  entry *v;
  size_t n, cap;
} list;

typedef struct scratch {
  braid__injection *v;
  size_t cap;
} scratch;

struct braid__decisions {
  int recorded;
  uint32_t ntori;
  /* Live: injections waiting for their exchange, under the lock. */
  pthread_mutex_t lock;
  braid__injection *queue;
  size_t nqueue, capqueue;
  _Atomic uint64_t pending, seq;
  scratch *taken; /* per torus: what the last call handed out */
  /* Recorded: indexed by (exchange, torus, stream order) once sealed. */
  braid__injection *inj;
  size_t ninj, capinj;
  list fail, rate;
  int sorted;
};

int braid__decisions_create(braid__decisions **out, int recorded, uint32_t ntori)
{
  braid__decisions *d = calloc(1, sizeof *d);
  if (!d || !(d->taken = calloc(ntori ? ntori : 1, sizeof *d->taken))) {
    free(d);
    return BRAID_ENOMEM;
  }
  d->recorded = recorded;
  d->ntori = ntori;
  pthread_mutex_init(&d->lock, NULL);
  *out = d;
  return 0;
}

void braid__decisions_destroy(braid__decisions *d)
{
  if (!d) return;
  for (uint32_t r = 0; r < d->ntori; r++) free(d->taken[r].v);
  free(d->taken);
  free(d->queue);
  free(d->inj);
  free(d->fail.v);
  free(d->rate.v);
  pthread_mutex_destroy(&d->lock);
  free(d);
}

/* Makes room for one more element of `size` bytes in *v (n used of *cap). */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 64;
  if (nc > BRAID_MAX_DECISIONS) return BRAID_ELIMIT;
  void *p = realloc(*v, nc * size);
  if (!p) return BRAID_ENOMEM;
  *v = p;
  *cap = nc;
  return 0;
}

int braid__decisions_inject(braid__decisions *d, uint32_t r, uint32_t cell, int32_t payload, uint64_t not_before)
{
  BRAID_RETURN_IF(d->recorded, BRAID_ESTATE);
  BRAID_RETURN_IF(r >= d->ntori, BRAID_ERANGE);
  pthread_mutex_lock(&d->lock);
  int rc = grow((void **)&d->queue, d->nqueue, &d->capqueue, sizeof *d->queue);
  if (!rc) {
    d->queue[d->nqueue++] = (braid__injection){ r, cell, payload, atomic_fetch_add(&d->seq, 1), not_before };
    atomic_fetch_add_explicit(&d->pending, 1, memory_order_release);
  }
  pthread_mutex_unlock(&d->lock);
  return rc;
}

int braid__decisions_add_injection(braid__decisions *d, uint32_t r, uint64_t k, uint32_t cell, int32_t payload, uint64_t seq)
{
  BRAID_RETURN_IF(r >= d->ntori, BRAID_ERANGE);
  BRAID_FORWARD(grow((void **)&d->inj, d->ninj, &d->capinj, sizeof *d->inj));
  /* seq is the recording's; the order among equal keys is the stream's. */
  d->inj[d->ninj] = (braid__injection){ r, cell, payload, seq, k };
  d->ninj++;
  d->sorted = 0;
  return 0;
}

static int add_entry(list *l, uint32_t r, uint64_t k, uint32_t value)
{
  BRAID_FORWARD(grow((void **)&l->v, l->n, &l->cap, sizeof *l->v));
  l->v[l->n] = (entry){ k, r, value, l->n };
  l->n++;
  return 0;
}

int braid__decisions_add_failure(braid__decisions *d, uint32_t r, uint64_t k)
{
  BRAID_RETURN_IF(r >= d->ntori, BRAID_ERANGE);
  d->sorted = 0;
  return add_entry(&d->fail, r, k, 0);
}

int braid__decisions_add_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t interval)
{
  BRAID_RETURN_IF(r >= d->ntori, BRAID_ERANGE);
  d->sorted = 0;
  return add_entry(&d->rate, r, k, interval);
}

static int key_cmp(uint64_t ka, uint32_t ra, uint64_t kb, uint32_t rb)
{
  if (ka != kb) return ka < kb ? -1 : 1;
  return ra < rb ? -1 : ra > rb;
}

static int entry_cmp(const void *x, const void *y)
{
  const entry *a = x, *b = y;
  int c = key_cmp(a->exchange, a->torus, b->exchange, b->torus);
  return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

/* Injections sort by key, then by their position in the stream: a trace is
 * untrusted and may carry exchanges in any order, and equal keys must keep
 * the order the recording applied them in. */
typedef struct keyed_inj {
  braid__injection inj;
  size_t order;
} keyed_inj;

static int keyed_cmp(const void *x, const void *y)
{
  const keyed_inj *a = x, *b = y;
  int c = key_cmp(a->inj.exchange, a->inj.torus, b->inj.exchange, b->inj.torus);
  return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

int braid__decisions_check(const braid__decisions *d, uint64_t ncells, uint32_t lo, uint32_t hi, char *why, size_t len)
{
  for (size_t i = 0; i < d->ninj; i++)
    if (d->inj[i].cell >= ncells) {
      braid__fmt(why, len, "the recorded injection into torus %u at exchange %llu names cell %u, outside the lattice of %llu cells", d->inj[i].torus,
                 (unsigned long long)d->inj[i].exchange, d->inj[i].cell, (unsigned long long)ncells);
      return BRAID_ECORRUPT;
    }
  for (size_t i = 0; i < d->rate.n; i++)
    if (d->rate.v[i].value < lo || d->rate.v[i].value > hi) {
      braid__fmt(why, len, "the recorded interval of torus %u at exchange %llu (value %u) lies outside interval_min..interval_max (%u..%u)", d->rate.v[i].torus,
                 (unsigned long long)d->rate.v[i].exchange, d->rate.v[i].value, lo, hi);
      return BRAID_ECORRUPT;
    }
  return 0;
}

int braid__decisions_seal(braid__decisions *d)
{
  if (d->sorted) return 0;
  if (d->ninj) {
    keyed_inj *k = malloc(d->ninj * sizeof *k);
    if (!k) return BRAID_ENOMEM;
    for (size_t i = 0; i < d->ninj; i++) k[i] = (keyed_inj){ d->inj[i], i };
    qsort(k, d->ninj, sizeof *k, keyed_cmp);
    for (size_t i = 0; i < d->ninj; i++) d->inj[i] = k[i].inj;
    free(k);
  }
  /* qsort's array must not be NULL even when empty (UBSan says so). */
  if (d->fail.n) qsort(d->fail.v, d->fail.n, sizeof *d->fail.v, entry_cmp);
  if (d->rate.n) qsort(d->rate.v, d->rate.n, sizeof *d->rate.v, entry_cmp);
  d->sorted = 1;
  return 0;
}

/* First entry of l with key >= (k, r). */
static size_t lower_bound(const list *l, uint64_t k, uint32_t r)
{
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (key_cmp(l->v[mid].exchange, l->v[mid].torus, k, r) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int take_live(braid__decisions *d, uint32_t r, uint64_t k, const braid__injection **out, size_t *n)
{
  if (!atomic_load_explicit(&d->pending, memory_order_acquire)) return 0;
  scratch *s = &d->taken[r];
  int rc = 0;
  pthread_mutex_lock(&d->lock);
  size_t m = 0, w = 0;
  for (size_t i = 0; i < d->nqueue; i++)
    if (d->queue[i].torus == r && d->queue[i].exchange <= k) m++;
  if (m > s->cap) {
    braid__injection *v = realloc(s->v, m * sizeof *v);
    if (!v) rc = BRAID_ENOMEM;
    else {
      s->v = v;
      s->cap = m;
    }
  }
  if (m && !rc) {
    size_t j = 0;
    for (size_t i = 0; i < d->nqueue; i++) {
      if (d->queue[i].torus == r && d->queue[i].exchange <= k) s->v[j++] = d->queue[i];
      else d->queue[w++] = d->queue[i];
    }
    d->nqueue = w;
    atomic_fetch_sub(&d->pending, m);
    *out = s->v;
    *n = m;
  }
  pthread_mutex_unlock(&d->lock);
  return rc;
}

int braid__decisions_injections(braid__decisions *d, uint32_t r, uint64_t k, const braid__injection **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  if (!d->recorded) return take_live(d, r, k, out, n);
  BRAID_RETURN_IF(!d->sorted, BRAID_ESTATE);
  size_t lo = 0, hi = d->ninj;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (key_cmp(d->inj[mid].exchange, d->inj[mid].torus, k, r) < 0) lo = mid + 1;
    else hi = mid;
  }
  size_t end = lo;
  while (end < d->ninj && d->inj[end].exchange == k && d->inj[end].torus == r) end++;
  if (end > lo) { /* d->inj is NULL when the trace recorded none */
    *out = d->inj + lo;
    *n = end - lo;
  }
  return 0;
}

int braid__decisions_heartbeat(braid__decisions *d, uint32_t r, uint64_t k, int observed)
{
  if (!d->recorded || !d->sorted) return observed;
  size_t i = lower_bound(&d->fail, k, r);
  return i < d->fail.n && d->fail.v[i].exchange == k && d->fail.v[i].torus == r;
}

uint32_t braid__decisions_rate_interval(braid__decisions *d, uint32_t r, uint64_t k, uint32_t current, uint32_t proposed)
{
  if (!d->recorded) return proposed;
  if (!d->sorted) return current;
  /* The last change recorded for (k, r) wins, as it did in the recording. */
  size_t i = lower_bound(&d->rate, k, r), last = SIZE_MAX;
  for (; i < d->rate.n && d->rate.v[i].exchange == k && d->rate.v[i].torus == r; i++) last = i;
  return last == SIZE_MAX ? current : d->rate.v[last].value;
}
