/* queue.h - the bounded bucket (calendar) event queue of one torus.
 *
 * Event times are integers and every delay is below the horizon W (a power of
 * two), so bucket (time mod W) holds exactly one timestamp at any moment and
 * the event's time need not be stored.  Order: by time, then FIFO in the order
 * of insertion (a deterministic sequence within one torus); the one exception
 * is braid__queue_push_first(), which puts events before the pending events
 * of the current time (what an exchange adds lands ahead of the epoch's
 * events, see torus.h).  Total size is bounded by `cap`; a push past it, or
 * beyond the horizon, fails and is counted, never dropped silently.
 *
 * Memory.  A bucket is a chain of fixed-size chunks taken from one free
 * list per queue; a bucket's chunks go back to the list as soon as virtual
 * time leaves it.  So the queue holds what is pending (plus at most two
 * partly used chunks per non-empty bucket), whatever the distribution of
 * delays: with one growable array per bucket every bucket kept the peak
 * load it ever had, and a model with long delays (phold: 2048 buckets)
 * grew for the whole run as virtual time swept the ring.  Chunks are carved
 * on demand from slabs that are never returned before braid__queue_free(),
 * so `chunks` (the chunks ever carved) is the queue's high-water mark.
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

/* 8 + 42 * 12 = 512 bytes: eight cache lines. */
#define BRAID_CHUNK_EVENTS 42

typedef struct braid__chunk {
  struct braid__chunk *next;
  braid__qev ev[BRAID_CHUNK_EVENTS];
} braid__chunk;

typedef struct braid__bucket {
  braid__chunk *head, *tail; /* NULL when the bucket holds no chunk */
  uint32_t hpos;             /* next event to pop in head */
  uint32_t tpos;             /* next free slot in tail; BRAID_CHUNK_EVENTS: none */
  uint32_t count;            /* pending events */
  uint32_t unused;
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
  uint64_t nomem;   /* pushes refused: no memory for another chunk */
  braid__chunk *free; /* chunks in no bucket */
  uint64_t chunks;  /* chunks carved so far: the high-water mark */
  /* Slabs the chunks are carved from. */
  braid__chunk *carve; /* next uncarved chunk of the newest slab */
  uint32_t carve_left;
  uint32_t nslabs, capslabs;
  void **slabs;
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
/* Empties the queue (its chunks stay for reuse) with `now` as its time. */
void braid__queue_clear(braid__queue *q, uint64_t now);
/* Gives bucket b a fresh tail chunk; BRAID_ENOMEM (counted in nomem) when
 * there is no memory for one. */
int braid__queue_extend(braid__queue *q, braid__bucket *b);
/* The head chunk of b is consumed: it goes back to the free list. */
void braid__queue_next_chunk(braid__queue *q, braid__bucket *b);
/* Bytes the queue holds (buckets and every chunk carved). */
uint64_t braid__queue_bytes(const braid__queue *q);

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
  if (BRAID_UNLIKELY(b->tpos == BRAID_CHUNK_EVENTS)) {
    int rc = braid__queue_extend(q, b);
    if (rc) return rc;
  }
  braid__qev *e = &b->tail->ev[b->tpos++];
  e->dst = dst;
  e->src = src;
  e->payload = payload;
  b->count++;
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
  if (BRAID_UNLIKELY(!b->count)) {
    if (!q->size) return 0;
    braid__queue_advance(q);
    b = &q->b[q->now & q->mask];
  }
  if (BRAID_UNLIKELY(b->hpos == BRAID_CHUNK_EVENTS)) braid__queue_next_chunk(q, b);
  *out = b->head->ev[b->hpos++];
  b->count--;
  q->size--;
  *time = q->now;
  q->pdigest -= braid__qev_hash(q->now, out->dst, out->src, out->payload);
  return 1;
}

/* The event that will be popped `ahead` pops after the next one, if it is
 * in the current bucket (and ahead < BRAID_CHUNK_EVENTS); else NULL.  For
 * prefetching. */
static inline const braid__qev *braid__queue_peek(const braid__queue *q, uint32_t ahead)
{
  const braid__bucket *b = &q->b[q->now & q->mask];
  if (ahead >= b->count) return NULL;
  uint32_t i = b->hpos + ahead;
  const braid__chunk *c = b->head;
  /* The bucket holds the event, so when it lies past the head chunk there
   * is a next one. */
  if (i >= BRAID_CHUNK_EVENTS) {
    c = c->next;
    i -= BRAID_CHUNK_EVENTS;
  }
  return &c->ev[i];
}

/* The queue is empty: lets its time be set freely (the bench's heap driver
 * moves `now` by hand). */
void braid__queue_release_current(braid__queue *q);

/* Pending events in bucket i (the time that is i modulo the horizon). */
static inline uint32_t braid__queue_bucket_count(const braid__queue *q, uint32_t i) { return q->b[i].count; }
/* Copies the last n events of bucket i (the latest pushed; at most its
 * count), oldest first, into out; returns how many it copied. */
uint32_t braid__queue_bucket_last(const braid__queue *q, uint32_t i, uint32_t n, braid__qev *out);

/* Calls fn for every pending event in pop order. */
typedef void (*braid__queue_visit_fn)(void *ud, uint64_t time, const braid__qev *ev);
void braid__queue_visit(const braid__queue *q, braid__queue_visit_fn fn, void *ud);

#endif
