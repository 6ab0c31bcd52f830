/* test_memory.c - memory stays flat for every built-in model, measured
 * without a clock: the high-water marks of what the runtime allocates (the
 * event queue's chunks, the record blocks) after N exchanges against 10N.
 * (RSS over time is the bench's measure; it depends on the allocator and
 * on timing, these counts do not.) */
#include <stdio.h>
#include "helpers.h"
#include "kernel/queue.h"
#include "runtime/runtime.h"

typedef struct marks {
  uint64_t chunks;      /* queue chunks carved, every torus */
  uint64_t block_bytes; /* record blocks' capacity, every torus */
} marks;

static marks run_marks(const char *model, uint64_t exchanges)
{
  char kv[256];
  snprintf(kv, sizeof kv, "model=%s tori=2 dim=16 interval=1000 adapt=off sequential=1 seed=5 exchanges=%llu", model,
           (unsigned long long)exchanges);
  mem_sink m;
  braid_runtime *rt = make_runtime(kv, &m);
  cr_assert_eq(braid_runtime_run(rt), 0, "%s: %s", kv, braid_runtime_error(rt));
  marks k = { 0, 0 };
  for (uint32_t r = 0; r < rt->ntori; r++) {
    k.chunks += rt->tc[r].t.q.chunks;
    for (int b = 0; b < BRAID_REC_SLOTS; b++) k.block_bytes += rt->tc[r].block[b].cap;
  }
  braid_runtime_destroy(rt);
  mem_free(&m);
  return k;
}

static void flat(const char *model)
{
  marks a = run_marks(model, 100), b = run_marks(model, 1000);
  cr_assert_gt(a.chunks, 0);
  /* Less than 1% growth over a 10x longer run. */
  cr_assert(b.chunks * 100 < a.chunks * 101, "%s: queue chunks %llu after 100 exchanges, %llu after 1000", model,
            (unsigned long long)a.chunks, (unsigned long long)b.chunks);
  cr_assert(b.block_bytes * 100 < a.block_bytes * 101, "%s: record blocks %llu bytes after 100 exchanges, %llu after 1000", model,
            (unsigned long long)a.block_bytes, (unsigned long long)b.block_bytes);
}

Test(memory, uniform_is_flat, .timeout = 60) { flat("uniform"); }
Test(memory, skewed_is_flat, .timeout = 60) { flat("skewed"); }
Test(memory, bursty_is_flat, .timeout = 60) { flat("bursty"); }
Test(memory, phold_is_flat, .timeout = 60) { flat("phold"); }
Test(memory, racy_is_flat, .timeout = 60) { flat("racy"); }

/* The queue alone, as phold uses it: a constant population with delays
 * spread over a 2048-bucket ring.  With a growable array per bucket every
 * bucket kept the peak load it ever saw as time swept the ring; chunks go
 * back to a free list when time leaves their bucket, so what the queue
 * holds follows what is pending. */
Test(memory, queue_follows_the_population_not_the_ring, .timeout = 30)
{
  braid__queue q;
  cr_assert_eq(braid__queue_init(&q, 1025, 1u << 20), 0);
  uint64_t r = 42, after_warmup = 0;
  const uint32_t pop = 20000;
  for (uint32_t i = 0; i < pop; i++) {
    r = braid__mix64(r);
    cr_assert_eq(braid__queue_push(&q, 1 + r % 1000, i, 0, 1), 0);
  }
  for (uint64_t n = 0; n < 5000000; n++) {
    uint64_t t;
    braid__qev ev;
    cr_assert(braid__queue_pop(&q, &t, &ev));
    r = braid__mix64(r);
    cr_assert_eq(braid__queue_push(&q, t + 1 + r % 1000, ev.dst, 0, 1), 0);
    if (n == 500000) after_warmup = q.chunks;
  }
  cr_assert_eq(q.size, pop);
  /* Ten times longer, and the ring swept thousands of times: no growth. */
  cr_assert(q.chunks * 100 < after_warmup * 101, "chunks %llu after warm-up, %llu at the end", (unsigned long long)after_warmup,
            (unsigned long long)q.chunks);
  /* What it holds is bounded by the population: one chunk per 42 events
   * plus at most two partly used chunks per non-empty bucket. */
  cr_assert_leq(q.chunks, pop / BRAID_CHUNK_EVENTS + 2 * 1001 + 1, "chunks %llu", (unsigned long long)q.chunks);
  braid__queue_free(&q);
}
