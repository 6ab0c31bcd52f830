/* test_queue.c - the bucket queue against a naive sorted-array reference. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "kernel/queue.h"

typedef struct ref_ev {
  uint64_t time, seq;
  uint32_t dst;
  int32_t payload;
} ref_ev;

static int ref_cmp(const void *a, const void *b)
{
  const ref_ev *x = a, *y = b;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Random pushes and pops; every pop must equal the reference's minimum by
 * (time, insertion sequence). */
static void run_random(uint64_t seed, uint32_t horizon, uint32_t maxdelay, int ops)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, horizon, 1u << 20), 0);
  ref_ev *ref = calloc((size_t)ops, sizeof *ref);
  size_t nref = 0;
  uint64_t seq = 0, now = 0, r = seed;
  for (int i = 0; i < ops; i++) {
    r = braid__mix64(r);
    if ((r & 3) != 0 || nref == 0) {
      uint64_t d = 1 + (r >> 8) % maxdelay; /* equal timestamps are frequent */
      uint32_t dst = (uint32_t)(r >> 32) & 1023;
      cr_assert_eq(braid__queue_push(&q, now + d, dst, 7, (int32_t)i), 0);
      ref[nref++] = (ref_ev){ now + d, seq++, dst, i };
    } else {
      qsort(ref, nref, sizeof *ref, ref_cmp);
      uint64_t t;
      braid__qev ev;
      cr_assert_eq(braid__queue_pop(&q, &t, &ev), 1);
      cr_assert_eq(t, ref[0].time, "op %d: time %llu, expected %llu", i, (unsigned long long)t, (unsigned long long)ref[0].time);
      cr_assert_eq(ev.dst, ref[0].dst);
      cr_assert_eq(ev.payload, ref[0].payload, "op %d: FIFO order among equal times broken", i);
      now = t;
      memmove(ref, ref + 1, (nref - 1) * sizeof *ref);
      nref--;
    }
    cr_assert_eq(q.size, nref);
  }
  free(ref);
  braid__queue_free(&q);
}

Test(queue, matches_sorted_reference_small_delays, .timeout = 30) { for (uint64_t s = 1; s <= 40; s++) run_random(s, 64, 3, 3000); }
Test(queue, matches_sorted_reference_wraps_ring, .timeout = 30)
{
  /* Delays up to the horizon make `now` wrap the 64-bucket ring many times. */
  for (uint64_t s = 100; s < 140; s++) run_random(s, 64, 62, 3000);
}
Test(queue, matches_sorted_reference_large_horizon, .timeout = 30) { for (uint64_t s = 200; s < 220; s++) run_random(s, 1024, 1000, 4000); }

Test(queue, overflow_is_reported_and_counted)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 64, 3), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(braid__queue_push(&q, 1, 0, 0, i), 0);
  cr_assert_eq(braid__queue_push(&q, 1, 0, 0, 9), BRAID_EQUEUE);
  cr_assert_eq(q.overflows, 1);
  cr_assert_eq(q.size, 3);
  braid__queue_free(&q);
}

Test(queue, beyond_horizon_is_refused)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 64, 100), 0);
  cr_assert_eq(braid__queue_push(&q, 63, 0, 0, 0), 0);
  cr_assert_eq(braid__queue_push(&q, 64, 0, 0, 0), BRAID_EHORIZON);
  cr_assert_eq(q.horizon_errors, 1);
  braid__queue_free(&q);
}

Test(queue, pop_on_empty_returns_zero)
{
  braid__queue q;
  uint64_t t;
  braid__qev ev;
  cr_assert_eq(braid__queue_init(&q, 64, 10), 0);
  cr_assert_eq(braid__queue_pop(&q, &t, &ev), 0);
  braid__queue_free(&q);
}

/* Pops every event; their payloads in pop order go to out (at most n). */
static unsigned drain_payloads(braid__queue *q, int32_t *out, unsigned n, uint64_t *times)
{
  unsigned got = 0;
  uint64_t t;
  braid__qev ev;
  while (got < n && braid__queue_pop(q, &t, &ev)) {
    if (times) times[got] = t;
    out[got++] = ev.payload;
  }
  return got;
}

/* push_first puts a batch at the current time before what is pending at it,
 * in the batch's order, and before every later time. */
Test(queue, push_first_goes_before_the_pending_events_of_now_in_order)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 1000), 0);
  for (int i = 0; i < 4; i++) cr_assert_eq(braid__queue_push(&q, 5, 0, 0, 10 + i), 0);
  cr_assert_eq(braid__queue_push(&q, 6, 0, 0, 20), 0);
  uint64_t t;
  braid__qev ev;
  cr_assert(braid__queue_pop(&q, &t, &ev) && t == 5 && ev.payload == 10); /* now = 5, three pending at it */
  braid__qev batch[3] = { { 1, 2, 1 }, { 1, 2, 2 }, { 1, 2, 3 } };
  cr_assert_eq(braid__queue_push_first(&q, batch, 3), 0);
  cr_assert_eq(q.size, 7);
  int32_t got[8];
  uint64_t times[8];
  cr_assert_eq(drain_payloads(&q, got, 8, times), 7);
  const int32_t want[7] = { 1, 2, 3, 11, 12, 13, 20 };
  for (int i = 0; i < 7; i++) cr_assert_eq(got[i], want[i], "pop %d: payload %d, want %d", i, got[i], want[i]);
  for (int i = 0; i < 6; i++) cr_assert_eq(times[i], 5, "the batch lands at the current time");
  braid__queue_free(&q);
}

/* The slow path: a bucket with no consumed slots in front (fresh, or a
 * batch bigger than what was consumed) moves its pending events up. */
Test(queue, push_first_into_a_bucket_without_room_in_front)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 10000), 0);
  for (int i = 0; i < 300; i++) cr_assert_eq(braid__queue_push(&q, 0, 0, 0, 1000 + i), 0);
  braid__qev batch[600];
  for (int i = 0; i < 600; i++) batch[i] = (braid__qev){ 0, 0, i };
  cr_assert_eq(braid__queue_push_first(&q, batch, 600), 0);
  int32_t got[900];
  cr_assert_eq(drain_payloads(&q, got, 900, NULL), 900);
  for (int i = 0; i < 600; i++) cr_assert_eq(got[i], i);
  for (int i = 0; i < 300; i++) cr_assert_eq(got[600 + i], 1000 + i);
  braid__queue_free(&q);
}

/* Into an exhausted bucket (everything at `now` consumed) and an empty queue. */
Test(queue, push_first_after_the_current_time_was_consumed)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 100), 0);
  cr_assert_eq(braid__queue_push(&q, 3, 0, 0, 7), 0);
  uint64_t t;
  braid__qev ev;
  cr_assert(braid__queue_pop(&q, &t, &ev) && t == 3);
  braid__qev one = { 0, 0, 8 };
  cr_assert_eq(braid__queue_push_first(&q, &one, 1), 0);
  cr_assert(braid__queue_pop(&q, &t, &ev) && t == 3 && ev.payload == 8);
  cr_assert_eq(braid__queue_pop(&q, &t, &ev), 0);
  braid__queue_free(&q);
}

/* A batch that does not fit is refused whole and counted. */
Test(queue, push_first_past_the_bound_is_refused_and_counted)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 4), 0);
  cr_assert_eq(braid__queue_push(&q, 1, 0, 0, 1), 0);
  braid__qev batch[4] = { { 0 } };
  cr_assert_eq(braid__queue_push_first(&q, batch, 4), BRAID_EQUEUE);
  cr_assert_eq(q.overflows, 4);
  cr_assert_eq(q.size, 1);
  cr_assert_eq(braid__queue_push_first(&q, batch, 3), 0);
  cr_assert_eq(q.size, 4);
  braid__queue_free(&q);
}

/* braid__queue_peek(q, a) is the event popped a pops after the next one,
 * across chunk boundaries and after push_first, and NULL once that event
 * would be in a later bucket (the loops prefetch its cell). */
Test(queue, peek_names_the_event_that_pops_later_within_the_bucket)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 1u << 20), 0);
  const uint32_t n = 3 * BRAID_CHUNK_EVENTS + 5;
  for (uint32_t i = 0; i < n; i++) cr_assert_eq(braid__queue_push(&q, 1, i, 0, 0), 0);
  for (uint32_t i = 0; i < 10; i++) cr_assert_eq(braid__queue_push(&q, 2, 1000 + i, 0, 0), 0);
  braid__qev first[3] = { { 900, 0, 0 }, { 901, 0, 0 }, { 902, 0, 0 } };
  uint64_t t;
  braid__qev ev;
  cr_assert_eq(braid__queue_pop(&q, &t, &ev), 1); /* time 1 becomes current */
  cr_assert_eq(braid__queue_push_first(&q, first, 3), 0);
  /* Pop order at time 1: 900, 901, 902, then 1 .. n-1. */
  uint32_t order[3 * BRAID_CHUNK_EVENTS + 8], m = 0;
  for (uint32_t i = 0; i < 3; i++) order[m++] = 900 + i;
  for (uint32_t i = 1; i < n; i++) order[m++] = i;
  for (uint32_t popped = 0; popped < m; popped++) {
    for (uint32_t a = 0; a < BRAID_CHUNK_EVENTS; a++) {
      const braid__qev *p = braid__queue_peek(&q, a);
      if (popped + a < m) {
        cr_assert(p, "popped %u, ahead %u", popped, a);
        cr_assert_eq(p->dst, order[popped + a], "popped %u, ahead %u: %u", popped, a, p->dst);
      } else {
        cr_assert_null(p, "popped %u, ahead %u: past the bucket", popped, a);
      }
    }
    cr_assert_eq(braid__queue_pop(&q, &t, &ev), 1);
    cr_assert_eq(ev.dst, order[popped]);
  }
  braid__queue_free(&q);
}

/* What a torus writes on every event sits on cache lines of its own (a
 * bitmap word shared with another torus's made threaded runs 1.6x slower
 * per event, depending on the heap). */
Test(queue, hot_arrays_are_on_cache_lines_of_their_own)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 16, 1u << 20), 0);
  cr_assert_eq(braid__queue_push(&q, 1, 5, 0, 0), 0);
  cr_assert_eq((uintptr_t)q.bits % BRAID_CACHELINE, 0);
  cr_assert_eq((uintptr_t)q.b % BRAID_CACHELINE, 0);
  cr_assert_eq((uintptr_t)q.slabs[0] % BRAID_CACHELINE, 0);
  braid__queue_free(&q);
}
