/* queue.c - bucket queue slow paths: chunks, advancing, iteration. */
#include <stdlib.h>
#include "common/mem.h"
#include "kernel/queue.h"

/* Slabs double from 16 chunks (8 KiB) to 8192 (4 MiB): small queues stay
 * small, big ones need few slabs, and a slab's pages become resident only
 * as its chunks are carved, so RSS follows what is used. */
#define SLAB_MIN 16u
#define SLAB_MAX 8192u

int braid__queue_init(braid__queue *q, uint32_t horizon, uint64_t cap)
{
  uint32_t w = 64;
  memset(q, 0, sizeof *q);
  while (w < horizon) w <<= 1;
  q->b = braid__calloc_lines(w, sizeof *q->b);
  q->bits = braid__calloc_lines(w / 64, sizeof *q->bits);
  if (!q->b || !q->bits) {
    braid__queue_free(q);
    return BRAID_ENOMEM;
  }
  for (uint32_t i = 0; i < w; i++) q->b[i].tpos = BRAID_CHUNK_EVENTS;
  q->mask = w - 1;
  q->words = w / 64;
  q->cap = cap;
  return 0;
}

void braid__queue_free(braid__queue *q)
{
  for (uint32_t i = 0; i < q->nslabs; i++) free(q->slabs[i]);
  free(q->slabs);
  free(q->b);
  free(q->bits);
  memset(q, 0, sizeof *q);
}

static braid__chunk *take_chunk(braid__queue *q)
{
  braid__chunk *c = q->free;
  if (c) {
    q->free = c->next;
    return c;
  }
  if (!q->carve_left) {
    uint32_t n = q->nslabs < 10 ? SLAB_MIN << q->nslabs : SLAB_MAX;
    if (n > SLAB_MAX) n = SLAB_MAX;
    if (q->nslabs == q->capslabs) {
      uint32_t ncap = q->capslabs ? q->capslabs * 2 : 16;
      void **s = realloc(q->slabs, ncap * sizeof *s);
      if (!s) return NULL;
      q->slabs = s;
      q->capslabs = ncap;
    }
    braid__chunk *slab = braid__malloc_lines(n, sizeof *slab);
    if (!slab) return NULL;
    q->slabs[q->nslabs++] = slab;
    q->carve = slab;
    q->carve_left = n;
  }
  q->carve_left--;
  q->chunks++;
  return q->carve++;
}

static void give_chunk(braid__queue *q, braid__chunk *c)
{
  c->next = q->free;
  q->free = c;
}

/* Returns every chunk of b to the free list and empties it. */
static void release(braid__queue *q, braid__bucket *b)
{
  for (braid__chunk *c = b->head, *n; c; c = n) {
    n = c == b->tail ? NULL : c->next;
    give_chunk(q, c);
  }
  b->head = b->tail = NULL;
  b->hpos = 0;
  b->tpos = BRAID_CHUNK_EVENTS;
  b->count = 0;
}

void braid__queue_clear(braid__queue *q, uint64_t now)
{
  for (uint32_t i = 0; i <= q->mask; i++) release(q, &q->b[i]);
  memset(q->bits, 0, q->words * sizeof *q->bits);
  q->size = 0;
  q->pdigest = 0;
  q->now = now;
}

int braid__queue_extend(braid__queue *q, braid__bucket *b)
{
  braid__chunk *c = take_chunk(q);
  if (!c) {
    q->nomem++;
    return BRAID_ENOMEM;
  }
  c->next = NULL;
  if (b->tail) b->tail->next = c;
  else {
    b->head = c;
    b->hpos = 0;
  }
  b->tail = c;
  b->tpos = 0;
  return 0;
}

void braid__queue_next_chunk(braid__queue *q, braid__bucket *b)
{
  braid__chunk *c = b->head;
  b->head = c->next;
  b->hpos = 0;
  give_chunk(q, c);
}

uint64_t braid__queue_bytes(const braid__queue *q)
{
  return (uint64_t)(q->mask + 1) * sizeof *q->b + q->words * sizeof *q->bits + q->chunks * sizeof(braid__chunk);
}

void braid__queue_release_current(braid__queue *q)
{
  uint32_t cur = (uint32_t)q->now & q->mask;
  release(q, &q->b[cur]);
  q->bits[cur >> 6] &= ~(1ull << (cur & 63));
}

int braid__queue_push_first(braid__queue *q, const braid__qev *ev, uint32_t n)
{
  if (!n) return 0;
  if (q->size + n > q->cap) {
    q->overflows += n;
    return BRAID_EQUEUE;
  }
  uint32_t i = (uint32_t)q->now & q->mask;
  braid__bucket *b = &q->b[i];
  /* The batch fills the consumed slots in front of the head backwards,
   * then chunks put in front of it; take those first, so that a failure
   * leaves the queue as it was. */
  uint32_t room = b->head ? b->hpos : 0;
  uint64_t extra = n > room ? ((uint64_t)n - room + BRAID_CHUNK_EVENTS - 1) / BRAID_CHUNK_EVENTS : 0;
  braid__chunk *got = NULL;
  for (uint64_t k = 0; k < extra; k++) {
    braid__chunk *c = take_chunk(q);
    if (!c) {
      while (got) {
        braid__chunk *nx = got->next;
        give_chunk(q, got);
        got = nx;
      }
      q->nomem += n;
      return BRAID_ENOMEM;
    }
    c->next = got;
    got = c;
  }
  for (uint32_t need = n; need;) {
    if (!b->head || !b->hpos) {
      braid__chunk *c = got;
      got = c->next;
      c->next = b->head;
      if (!b->head) {
        b->tail = c;
        b->tpos = BRAID_CHUNK_EVENTS;
      }
      b->head = c;
      b->hpos = BRAID_CHUNK_EVENTS;
    }
    b->head->ev[--b->hpos] = ev[--need];
  }
  b->count += n;
  q->bits[i >> 6] |= 1ull << (i & 63);
  q->size += n;
  for (uint32_t j = 0; j < n; j++) q->pdigest += braid__qev_hash(q->now, ev[j].dst, ev[j].src, ev[j].payload);
  return 0;
}

/* Index of the first non-empty bucket at or after `from` (circularly). */
static uint32_t next_nonempty(const braid__queue *q, uint32_t from)
{
  uint32_t w = from >> 6;
  uint64_t word = q->bits[w] & (~0ull << (from & 63));
  for (uint32_t n = 0; n <= q->words; n++) {
    if (word) return (w << 6) + (uint32_t)__builtin_ctzll(word);
    w = (w + 1) % q->words;
    word = q->bits[w];
  }
  return from; /* unreachable while size > 0 */
}

/* The current bucket is exhausted and the queue is not empty: its chunks
 * go back to the free list (the next pushes reuse them while they are
 * still in cache) and `now` moves to the next non-empty bucket. */
void braid__queue_advance(braid__queue *q)
{
  uint32_t cur = (uint32_t)q->now & q->mask;
  release(q, &q->b[cur]);
  q->bits[cur >> 6] &= ~(1ull << (cur & 63));
  uint32_t nxt = next_nonempty(q, (cur + 1) & q->mask);
  q->now += ((nxt - cur) & q->mask) ? ((nxt - cur) & q->mask) : q->mask + 1;
}

uint32_t braid__queue_bucket_last(const braid__queue *q, uint32_t i, uint32_t n, braid__qev *out)
{
  const braid__bucket *b = &q->b[i];
  if (n > b->count) n = b->count;
  uint32_t skip = b->count - n, k = 0, j = b->hpos;
  const braid__chunk *c = b->head;
  for (uint32_t left = b->count; left; left--, j++) {
    if (j == BRAID_CHUNK_EVENTS) {
      c = c->next;
      j = 0;
    }
    if (skip) skip--;
    else out[k++] = c->ev[j];
  }
  return k;
}

void braid__queue_visit(const braid__queue *q, braid__queue_visit_fn fn, void *ud)
{
  for (uint32_t d = 0; d <= q->mask; d++) {
    uint64_t t = q->now + d;
    const braid__bucket *b = &q->b[t & q->mask];
    const braid__chunk *c = b->head;
    uint32_t i = b->hpos;
    for (uint32_t left = b->count; left; left--) {
      if (i == BRAID_CHUNK_EVENTS) {
        c = c->next;
        i = 0;
      }
      fn(ud, t, &c->ev[i++]);
    }
  }
}
