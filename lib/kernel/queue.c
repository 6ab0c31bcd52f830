/* queue.c - bucket queue slow paths: growth, advancing, iteration. */
#include <stdlib.h>
#include "kernel/queue.h"

int braid__queue_init(braid__queue *q, uint32_t horizon, uint64_t cap)
{
  uint32_t w = 64;
  memset(q, 0, sizeof *q);
  while (w < horizon) w <<= 1;
  q->b = calloc(w, sizeof *q->b);
  q->bits = calloc(w / 64, sizeof *q->bits);
  if (!q->b || !q->bits) {
    braid__queue_free(q);
    return BRAID_ENOMEM;
  }
  q->mask = w - 1;
  q->words = w / 64;
  q->cap = cap;
  return 0;
}

void braid__queue_free(braid__queue *q)
{
  if (q->b)
    for (uint32_t i = 0; i <= q->mask; i++) free(q->b[i].ev);
  free(q->b);
  free(q->bits);
  memset(q, 0, sizeof *q);
}

void braid__queue_clear(braid__queue *q, uint64_t now)
{
  for (uint32_t i = 0; i <= q->mask; i++) q->b[i].head = q->b[i].count = 0;
  memset(q->bits, 0, q->words * sizeof *q->bits);
  q->size = 0;
  q->pdigest = 0;
  q->now = now;
}

int braid__queue_grow(braid__bucket *b)
{
  uint32_t ncap = b->cap ? b->cap * 2 : 256;
  if (ncap < b->cap) return BRAID_ENOMEM;
  /* Compact first: consumed slots at the front are reusable. */
  if (b->head > 0 && b->head >= b->count / 2) {
    memmove(b->ev, b->ev + b->head, (b->count - b->head) * sizeof *b->ev);
    b->count -= b->head;
    b->head = 0;
    return 0;
  }
  braid__qev *n = realloc(b->ev, (size_t)ncap * sizeof *n);
  if (!n) return BRAID_ENOMEM;
  b->ev = n;
  b->cap = ncap;
  return 0;
}

int braid__queue_presize(braid__queue *q)
{
  uint32_t most = 0;
  for (uint32_t i = 0; i <= q->mask; i++)
    if (q->b[i].count - q->b[i].head > most) most = q->b[i].count - q->b[i].head;
  uint32_t want = 256;
  while (want < 2 * most && want < (1u << 30)) want <<= 1;
  for (uint32_t i = 0; i <= q->mask; i++) {
    braid__bucket *b = &q->b[i];
    if (b->cap >= want) continue;
    braid__qev *n = realloc(b->ev, (size_t)want * sizeof *n);
    if (!n) return BRAID_ENOMEM;
    b->ev = n;
    b->cap = want;
  }
  return 0;
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
  if (b->head < n) {
    /* Not enough consumed slots in front of the pending events: move them up
     * by n (rare: the bucket was just started, or the batch is large). */
    uint32_t pending = b->count - b->head;
    BRAID_RETURN_IF((uint64_t)pending + n > UINT32_MAX / 2, BRAID_ENOMEM);
    if (pending + n > b->cap) {
      uint32_t ncap = b->cap ? b->cap : 256;
      while (ncap < pending + n) ncap *= 2;
      braid__qev *nv = realloc(b->ev, (size_t)ncap * sizeof *nv);
      if (!nv) return BRAID_ENOMEM;
      b->ev = nv;
      b->cap = ncap;
    }
    memmove(b->ev + n, b->ev + b->head, (size_t)pending * sizeof *b->ev);
    b->head = n;
    b->count = n + pending;
  }
  b->head -= n;
  memcpy(b->ev + b->head, ev, (size_t)n * sizeof *ev);
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

/* The current bucket is exhausted and the queue is not empty: move `now` to
 * the next non-empty bucket. */
void braid__queue_advance(braid__queue *q)
{
  uint32_t cur = (uint32_t)q->now & q->mask;
  q->b[cur].head = q->b[cur].count = 0;
  q->bits[cur >> 6] &= ~(1ull << (cur & 63));
  uint32_t nxt = next_nonempty(q, (cur + 1) & q->mask);
  q->now += ((nxt - cur) & q->mask) ? ((nxt - cur) & q->mask) : q->mask + 1;
}

void braid__queue_visit(const braid__queue *q, braid__queue_visit_fn fn, void *ud)
{
  for (uint32_t d = 0; d <= q->mask; d++) {
    uint64_t t = q->now + d;
    const braid__bucket *b = &q->b[t & q->mask];
    for (uint32_t i = b->head; i < b->count; i++) fn(ud, t, &b->ev[i]);
  }
}
