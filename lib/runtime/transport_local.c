/* transport_local.c - the transport of tori that share one process.
 *
 * Each torus publishes into BRAID_PROJ_SLOTS slots; slot k % P carries a
 * tag (k << 2) | state, written with release after the slot's contents and
 * read with acquire before them, so no lock is taken.  A torus may run up
 * to P exchanges ahead of its successor.  Record blocks are kept per torus
 * in BRAID_REC_SLOTS buffers; whichever thread finds an exchange complete in
 * every torus assembles it (EXCHANGE(k), then the blocks of tori 0..N-1)
 * and hands it to the sinks, one thread at a time, so the stream does not
 * depend on the executor.
 */
#include <string.h>
#include "runtime/runtime.h"
#include "runtime/transport.h"

enum { SLOT_EMPTY = 0, SLOT_CLAIMED = 1, SLOT_PUBLISHED = 2, SLOT_FAILED = 3 };

static uint32_t pred_of(const braid_runtime *rt, uint32_t r) { return (r + rt->ntori - 1) % rt->ntori; }

static void local_init(braid_runtime *rt)
{
  /* "Exchange -1, published": nothing is pending in a fresh slot. */
  for (uint32_t r = 0; r < rt->ntori; r++)
    for (int s = 0; s < BRAID_PROJ_SLOTS; s++) atomic_store(&rt->tc[r].tag[s], (UINT64_MAX << 2) | SLOT_PUBLISHED);
}

static braid__projection *local_claim(braid_runtime *rt, uint32_t r, uint64_t k)
{
  braid__tctx *c = &rt->tc[r];
  unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
  uint64_t old = atomic_load_explicit(&c->tag[s], memory_order_acquire);
  for (;;) {
    if ((old >> 2) == k && (old & 3) == SLOT_FAILED) return NULL;
    if (atomic_compare_exchange_weak(&c->tag[s], &old, k << 2 | SLOT_CLAIMED)) return &c->slot[s];
  }
}

static void local_publish(braid_runtime *rt, uint32_t r, uint64_t k, int failed)
{
  unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
  atomic_store_explicit(&rt->tc[r].tag[s], k << 2 | (failed ? SLOT_FAILED : SLOT_PUBLISHED), memory_order_release);
}

static const braid__projection *local_predecessor(braid_runtime *rt, uint32_t r, uint64_t k)
{
  braid__tctx *p = &rt->tc[pred_of(rt, r)];
  unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
  uint64_t tag = atomic_load_explicit(&p->tag[s], memory_order_acquire);
  return (tag & 3) == SLOT_FAILED ? NULL : &p->slot[s];
}

static int local_ready(braid_runtime *rt, uint32_t r, uint64_t k)
{
  braid__tctx *c = &rt->tc[r];
  if (k > 0) {
    uint64_t tag = atomic_load_explicit(&rt->tc[pred_of(rt, r)].tag[(k - 1) % BRAID_PROJ_SLOTS], memory_order_acquire);
    if ((tag >> 2) != k - 1 || ((tag & 3) != SLOT_PUBLISHED && (tag & 3) != SLOT_FAILED)) return 0;
  }
  if (k > atomic_load(&rt->last_epoch)) return 1; /* the final exchange-in publishes nothing */
  uint32_t s = (r + 1) % rt->ntori;
  /* Slot k % P last held P(k-P); the successor reads it in its step k-P+1. */
  if (k + 1 >= BRAID_PROJ_SLOTS && atomic_load_explicit(&rt->tc[s].steps_done, memory_order_acquire) < k - BRAID_PROJ_SLOTS + 2) return 0;
  uint64_t written = atomic_load_explicit(&rt->written, memory_order_acquire);
  if (rt->recording && k >= BRAID_REC_SLOTS && written <= k - BRAID_REC_SLOTS) return 0;
  /* A checkpoint buffer is reused: the checkpoint it last held must be
   * written first (with one buffer and a checkpoint at every exchange,
   * step k waited for exchange k-1, which closes only in step k). */
  if (braid__checkpoint_due(rt, k) && written < atomic_load_explicit(&c->ckpt_taken[k & 1], memory_order_acquire)) return 0;
  return 1;
}

static int local_declare_failed(braid_runtime *rt, uint32_t r, uint64_t k)
{
  braid__tctx *c = &rt->tc[r];
  unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
  uint64_t old = atomic_load(&c->tag[s]);
  if ((old >> 2) == k) return 0; /* published or declared already */
  return atomic_compare_exchange_strong(&c->tag[s], &old, k << 2 | SLOT_FAILED);
}

static void local_hand_over(braid_runtime *rt, uint32_t r, uint64_t k)
{
  atomic_store_explicit(&rt->tc[r].blocks_done, k + 1, memory_order_release);
}

/* Hands exchange k (complete in every torus) to the sinks. */
static int assemble(braid_runtime *rt, uint64_t k)
{
  braid__buf *a = &rt->assembly;
  a->len = 0;
  uint64_t f[1] = { k };
  braid__rec_put(a, BRAID_REC_EXCHANGE, 1, f);
  for (uint32_t r = 0; r < rt->ntori; r++) {
    braid__buf *b = &rt->tc[r].block[k % BRAID_REC_SLOTS];
    braid__buf_put(a, b->p, b->len);
  }
  if (a->err) return a->err;
  for (unsigned i = 0; i < rt->nsinks; i++) BRAID_FORWARD(rt->sink[i].exchange(rt->sink[i].ud, k, a->p, a->len));
  if (braid__checkpoint_due(rt, k)) {
    /* Blob: varint tori, then per torus varint length + state. */
    a->len = 0;
    uint8_t v[10];
    braid__buf_put(a, v, braid__varint_put(v, rt->ntori));
    for (uint32_t r = 0; r < rt->ntori; r++) {
      braid__buf *cb = &rt->tc[r].ckpt[k & 1];
      braid__buf_put(a, v, braid__varint_put(v, cb->len));
      braid__buf_put(a, cb->p, cb->len);
    }
    if (a->err) return a->err;
    for (unsigned i = 0; i < rt->nsinks; i++)
      if (rt->sink[i].checkpoint) BRAID_FORWARD(rt->sink[i].checkpoint(rt->sink[i].ud, k, a->p, a->len));
  }
  return 0;
}

static void local_drain(braid_runtime *rt, int wait)
{
  if (!rt->recording) return;
  if (wait) pthread_mutex_lock(&rt->asm_lock);
  else if (pthread_mutex_trylock(&rt->asm_lock)) return;
  for (;;) {
    uint64_t k = rt->assembled, ready = UINT64_MAX;
    for (uint32_t r = 0; r < rt->ntori; r++) {
      uint64_t b = atomic_load_explicit(&rt->tc[r].blocks_done, memory_order_acquire);
      if (b < ready) ready = b;
    }
    if (k >= ready || atomic_load(&rt->error)) break;
    int rc = assemble(rt, k);
    if (rc) {
      pthread_mutex_unlock(&rt->asm_lock);
      braid__set_error(rt, rc, "writing exchange %llu: %s", (unsigned long long)k, braid_strerror(rc));
      return;
    }
    rt->assembled = k + 1;
    atomic_store_explicit(&rt->written, k + 1, memory_order_release);
  }
  pthread_mutex_unlock(&rt->asm_lock);
}

static void local_resume(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *own)
{
  braid__tctx *c = &rt->tc[r];
  unsigned s = (unsigned)(k % BRAID_PROJ_SLOTS);
  braid__projection_copy(&c->slot[s], own);
  local_publish(rt, r, k, own->exchange != k);
  local_hand_over(rt, r, k);
  rt->assembled = k + 1;
  atomic_store(&rt->written, k + 1);
}

/* The successor's mirror (exchange.c) holds r's projection of the exchange
 * it names or a later one: it only grows, and a stale read is older. */
static uint64_t local_delta_base(braid_runtime *rt, uint32_t r)
{
  return atomic_load_explicit(&rt->tc[(r + 1) % rt->ntori].mirror_from, memory_order_relaxed);
}

const braid__transport braid__transport_local = {
  "local",
  local_init,
  local_claim,
  local_publish,
  local_predecessor,
  local_ready,
  local_declare_failed,
  local_hand_over,
  local_drain,
  local_resume,
  local_delta_base,
  BRAID__CARRY_DELTA,
};
