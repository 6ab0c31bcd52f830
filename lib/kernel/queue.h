/* queue.h - the bounded bucket (calendar) event queue of one torus.
 *
 * Event times are integers and every delay is below the horizon W (a power of
 * two), so bucket (time mod W) holds exactly one timestamp at any moment and
 * the event's time need not be stored.  Order: by time, then FIFO in the order
 * of insertion (a deterministic sequence within one torus); the one exception
 * is braid__queue_push_first(), which puts events before the pending events
 * of the current time (what an exchange adds lands ahead of the epoch's
 * events, see torus.h).  Total size is
 * bounded by `cap`; a push past it, or beyond the horizon, fails and is
 * counted, never dropped silently.
 */
#ifndef BRAID_QUEUE_H
#define BRAID_QUEUE_H

#include <string.h>
#include "common/common.h"

typedef struct braid__qev {
  uint32_t dst;
  uint32_t src;
  int32_t payload;
} braid__qev;

typedef struct braid__bucket {
  braid__qev *ev;
  uint32_t head, count, cap;
} braid__bucket;

typedef struct braid__queue {
  braid__bucket *b;
  uint64_t *bits;   /* one bit per non-empty bucket */
  uint32_t mask;    /* W - 1 */
  uint32_t words;   /* W / 64 */
  uint64_t now;     /* time of the bucket being consumed */
  uint64_t size;
  uint64_t cap;
  uint64_t overflows; /* pushes refused: full queue */
  uint64_t horizon_errors; /* pushes refused: beyond the horizon or in the past */
  /* Order-independent digest of the pending events: the sum of
   * braid__qev_hash() over them, kept in O(1) per push and pop, so that an
   * event emitted wrongly shows at once, long before it is processed. */
  uint64_t pdigest;
} braid__queue;

/* One pending event's share of braid__queue.pdigest.  Two multiplies: the
 * sum needs each event to look random, not a cryptographic hash. */
static inline uint64_t braid__qev_hash(uint64_t time, uint32_t dst, uint32_t src, int32_t payload)
{
  uint64_t v = (time * 0x9e3779b97f4a7c15ull + dst) ^ ((uint64_t)src << 32 | (uint32_t)payload);
  v *= 0xff51afd7ed558ccdull;
  v ^= v >> 31;
  return v * 0xc4ceb9fe1a85ec53ull;
}

int braid__queue_init(braid__queue *q, uint32_t horizon, uint64_t cap);
void braid__queue_free(braid__queue *q);
void braid__queue_clear(braid__queue *q, uint64_t now);
int braid__queue_grow(braid__bucket *b);
/* Reserves every bucket for twice the largest bucket's load, so buckets do
 * not grow one by one during a run (each growth leaves the old array in the
 * heap and RSS creeps up).  Reserved memory is not touched until used. */
int braid__queue_presize(braid__queue *q);

/* Pushes an event at `time` (now <= time < now + W). */
static inline int braid__queue_push(braid__queue *q, uint64_t time, uint32_t dst, uint32_t src, int32_t payload)
{
  if (BRAID_UNLIKELY(time - q->now > q->mask || time < q->now)) {
    q->horizon_errors++;
    return BRAID_EHORIZON;
  }
  if (BRAID_UNLIKELY(q->size >= q->cap)) {
    q->overflows++;
    return BRAID_EQUEUE;
  }
  uint32_t i = (uint32_t)time & q->mask;
  braid__bucket *b = &q->b[i];
  if (BRAID_UNLIKELY(b->count == b->cap)) {
    int rc = braid__queue_grow(b);
    if (rc) return rc;
  }
  braid__qev *e = &b->ev[b->count++];
  e->dst = dst;
  e->src = src;
  e->payload = payload;
  q->bits[i >> 6] |= 1ull << (i & 63);
  q->size++;
  q->pdigest += braid__qev_hash(time, dst, src, payload);
  return 0;
}

/* Puts n events at the current time before every event pending at it, in
 * the order given, so that they are the next n events popped.  The same
 * bounds as braid__queue_push(): the whole batch is refused (and counted as
 * n overflows) if it does not fit. */
int braid__queue_push_first(braid__queue *q, const braid__qev *ev, uint32_t n);

void braid__queue_advance(braid__queue *q);

/* Pops the next event; returns 0 when the queue is empty. */
static inline int braid__queue_pop(braid__queue *q, uint64_t *time, braid__qev *out)
{
  braid__bucket *b = &q->b[q->now & q->mask];
  if (BRAID_UNLIKELY(b->head == b->count)) {
    if (!q->size) return 0;
    braid__queue_advance(q);
    b = &q->b[q->now & q->mask];
  }
  *out = b->ev[b->head++];
  q->size--;
  *time = q->now;
  q->pdigest -= braid__qev_hash(q->now, out->dst, out->src, out->payload);
  return 1;
}

/* Calls fn for every pending event in pop order. */
typedef void (*braid__queue_visit_fn)(void *ud, uint64_t time, const braid__qev *ev);
void braid__queue_visit(const braid__queue *q, braid__queue_visit_fn fn, void *ud);

#endif
