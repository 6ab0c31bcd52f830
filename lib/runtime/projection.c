/* projection.c - building, copying and hashing projections, and the
 * deltas of their faces. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "common/hash.h"
#include "common/mem.h"
#include "runtime/projection.h"

int braid__projection_alloc(braid__projection *p, uint32_t facelen)
{
  memset(p, 0, sizeof *p);
  p->exchange = UINT64_MAX;
  p->facelen = facelen;
  p->face = calloc(facelen, sizeof *p->face);
  p->delta_value = calloc(facelen, sizeof *p->delta_value);
  p->delta_cell = calloc(facelen, sizeof *p->delta_cell);
  return p->face && p->delta_value && p->delta_cell ? 0 : BRAID_ENOMEM;
}

void braid__projection_free(braid__projection *p)
{
  free(p->face);
  free(p->delta_value);
  free(p->delta_cell);
  p->face = p->delta_value = NULL;
  p->delta_cell = NULL;
}

void braid__projection_copy_head(braid__projection *dst, const braid__projection *src)
{
  /* The fields up to the processes, the processes in use (most of the
   * struct is the room for 64 of them), then the fields after. */
  memcpy(dst, src, offsetof(braid__projection, procs));
  memcpy(dst->procs, src->procs, src->nprocs * sizeof *src->procs);
  dst->hash = src->hash;
  dst->published_ns = src->published_ns;
}

void braid__projection_copy(braid__projection *dst, const braid__projection *src)
{
  braid__projection_copy_head(dst, src);
  memcpy(dst->delta_cell, src->delta_cell, src->ndelta * sizeof *dst->delta_cell);
  memcpy(dst->delta_value, src->delta_value, src->ndelta * sizeof *dst->delta_value);
  if (src->has_face) memcpy(dst->face, src->face, src->facelen * sizeof *dst->face);
}

uint64_t braid__projection_hash(const braid__projection *p)
{
  uint64_t head[16] = { p->torus,   p->alive,   p->exchange, p->events,     p->vtime, p->pending, p->digest,                       p->interval,
                        p->pdigest, p->cdigest, p->rungs,    p->facesum,    p->delta_from, (uint64_t)p->delta << 32 | p->ndelta,
                        p->has_face, p->nprocs };
  const braid__span s[5] = {
    { head, sizeof head },
    { p->procs, p->nprocs * sizeof *p->procs },
    { p->delta_cell, p->ndelta * sizeof *p->delta_cell },
    { p->delta_value, p->ndelta * sizeof *p->delta_value },
    { p->face, p->has_face ? p->facelen * sizeof *p->face : 0 },
  };
  return braid__xxh3_spans(s, 5);
}

uint64_t braid__face_sum(const int64_t *face, uint32_t n)
{
  uint64_t s = 0;
  for (uint32_t j = 0; j < n; j++) s += braid__cell_weight(j) * (uint64_t)face[j];
  return s;
}

/* Everything but the face and the hash. */
static void fill_head(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs)
{
  braid__torus_sample_procs(t);
  p->torus = t->id;
  p->alive = 1;
  p->exchange = k;
  p->events = t->events;
  p->vtime = t->q.now;
  p->pending = t->q.size;
  p->digest = t->digest;
  p->pdigest = t->q.pdigest;
  p->cdigest = t->cdigest;
  p->rungs = rungs;
  p->interval = interval;
  p->nprocs = t->nprocs;
  memcpy(p->procs, t->procs, t->nprocs * sizeof *t->procs);
}

void braid__projection_extract(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs)
{
  fill_head(p, t, interval, k, rungs);
  memcpy(p->face, t->state, p->facelen * sizeof *p->face); /* x=0 face: the first D*D cells */
  p->facesum = braid__face_sum(p->face, p->facelen);
  p->has_face = 1;
  p->delta = BRAID__DELTA_NONE;
  p->delta_from = UINT64_MAX;
  p->ndelta = 0;
  p->hash = braid__projection_hash(p);
}

int braid__facelog_init(braid__facelog *l, uint32_t facelen)
{
  memset(l, 0, sizeof *l);
  l->words = facelen / 64;
  l->evicted = UINT64_MAX;
  l->bits = braid__calloc_lines((size_t)BRAID_FACELOG * l->words, sizeof *l->bits);
  return l->bits ? 0 : BRAID_ENOMEM;
}

void braid__facelog_free(braid__facelog *l)
{
  free(l->bits);
  l->bits = NULL;
}

void braid__facelog_forget(braid__facelog *l, uint64_t k)
{
  l->n = 0;
  l->evicted = k;
}

/* Appends exchange k's changed cells (the x=0 half of t's face_dirty,
 * which it clears) and brings face and *facesum up to date with them. */
static void log_append(braid__facelog *l, braid_torus *t, uint64_t k, int64_t *face, uint64_t *facesum)
{
  unsigned at = l->next;
  if (l->n == BRAID_FACELOG) l->evicted = l->tag[at];
  else l->n++;
  l->next = (at + 1) % BRAID_FACELOG;
  l->tag[at] = k;
  uint64_t *bits = l->bits + (size_t)at * l->words, *dirty = t->face_dirty + l->words;
  uint64_t sum = *facesum;
  /* Scattered cells of a face the caches have long evicted: start every
   * miss first (projection.h: BRAID_FACE_PREFETCH). */
  if (l->words * 64 >= BRAID_FACE_PREFETCH)
    for (uint32_t w = 0; w < l->words; w++)
      for (uint64_t m = dirty[w]; m;) {
        uint32_t j = braid__take_bit(w, &m);
        __builtin_prefetch(&t->state[j], 0);
        __builtin_prefetch(&face[j], 1);
      }
  for (uint32_t w = 0; w < l->words; w++) {
    uint64_t m = dirty[w];
    bits[w] = m;
    dirty[w] = 0;
    while (m) {
      uint32_t j = braid__take_bit(w, &m);
      int64_t v = t->state[j];
      sum += braid__cell_weight(j) * ((uint64_t)v - (uint64_t)face[j]);
      face[j] = v;
    }
  }
  *facesum = sum;
}

/* Whether the log holds every projection after `base`. */
static int log_covers(const braid__facelog *l, uint64_t base) { return base != UINT64_MAX && (l->evicted == UINT64_MAX || l->evicted <= base); }

/* Word w of the cells that changed after `base`: the newest entry's and
 * every older one's after base (usually one or two). */
static uint64_t log_since(const braid__facelog *l, uint64_t base, uint32_t w)
{
  unsigned last = (l->next + BRAID_FACELOG - 1) % BRAID_FACELOG;
  uint64_t m = l->bits[(size_t)last * l->words + w];
  for (unsigned i = 1; i < l->n; i++) {
    unsigned e = (last + BRAID_FACELOG - i) % BRAID_FACELOG;
    if (l->tag[e] <= base) break;
    m |= l->bits[(size_t)e * l->words + w];
  }
  return m;
}

void braid__projection_publish(braid__projection *p, braid_torus *t, uint32_t interval, uint64_t k, uint64_t rungs, int64_t *face,
                               uint64_t *facesum, braid__facelog *l, uint64_t base, unsigned carry)
{
  fill_head(p, t, interval, k, rungs);
  log_append(l, t, k, face, facesum);
  uint32_t n = 0;
  if (!(carry & BRAID__CARRY_DELTA)) {
    p->delta = BRAID__DELTA_NONE;
    p->delta_from = UINT64_MAX;
  } else if (log_covers(l, base)) {
    p->delta = BRAID__DELTA_SINCE;
    p->delta_from = base;
    if (l->words * 64 >= BRAID_FACE_PREFETCH)
      for (uint32_t w = 0; w < l->words; w++)
        for (uint64_t m = log_since(l, base, w); m;) __builtin_prefetch(&face[braid__take_bit(w, &m)], 0);
    for (uint32_t w = 0; w < l->words; w++)
      for (uint64_t m = log_since(l, base, w); m;) {
        uint32_t j = braid__take_bit(w, &m);
        p->delta_cell[n] = j;
        p->delta_value[n++] = face[j];
      }
  } else {
    p->delta = BRAID__DELTA_ALL;
    p->delta_from = UINT64_MAX;
    for (uint32_t j = 0; j < p->facelen; j++) {
      p->delta_cell[j] = j;
      p->delta_value[j] = face[j];
    }
    n = p->facelen;
  }
  p->ndelta = n;
  p->facesum = *facesum;
  p->has_face = (carry & BRAID__CARRY_FACE) != 0;
  if (p->has_face) memcpy(p->face, face, p->facelen * sizeof *p->face);
  p->hash = braid__projection_hash(p);
}
