/* transport_mpi.c - the transport and the executor of a run spread over MPI
 * ranks (see mpi.h for the protocol), and the braid_mpi_* entry points of
 * braid.h.  Only libbraid-mpi has this file; libbraid has mpi_none.c.
 *
 * Inside a rank the tori meet as in transport_local.c: projection slots
 * with an (exchange << 2) | state tag, written with release after the
 * slot and read with acquire before it.  The slots are this file's own
 * (the in-process transport's are its own business), and the slots of the
 * remote predecessor of the rank's first torus are filled by the receiving
 * side of the ring, so that a step reads a remote projection exactly as a
 * local one.
 *
 * Every MPI call is made under one mutex (MPI_THREAD_SERIALIZED); polls
 * take it with trylock, so a worker with a step to run never waits for
 * another one's poll.
 */
#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/varint.h"
#include "runtime/executor.h"
#include "runtime/mpi.h"
#include "runtime/report.h"
#include "runtime/runtime.h"
#include "runtime/step.h"

#define P BRAID_PROJ_SLOTS
#define SENDQ 64 /* record packets a rank may have in flight to rank 0 */
/* A packet carries the records of up to BATCH exchanges (or BATCH_BYTES),
 * and leaves at the latest BATCH_NS after its first exchange: one message
 * per exchange cost rank 0 a probe, a receive and an allocation each. */
#define BATCH 32
#define BATCH_BYTES 16384
#define BATCH_NS 2000000ull
/* A worker with a CPU of its own polls this long before it yields. */
#define SPIN_NS 50000ull
#define CTRLQ 16 /* control messages in flight */

enum { SLOT_EMPTY = 0, SLOT_CLAIMED = 1, SLOT_PUBLISHED = 2, SLOT_FAILED = 3 };

/* Tags: a projection travels with the number of the torus it is for
 * (0..15; the guaranteed tag limit is 32767, so never the exchange). */
enum { TAG_RECORDS = 100, TAG_CTRL = 101, TAG_REPORT = 102 };

/* Control messages: rank i -> 0 STOP, STEPS, DONE; rank 0 -> i FREEZE,
 * FINAL, BYE. */
enum { C_STOP = 1, C_STEPS, C_DONE, C_FREEZE, C_FINAL, C_BYE };

typedef struct ctrl {
  int32_t type;
  int32_t code;   /* STOP, BYE: an error code (0: none) */
  uint64_t value; /* STOP: interrupted; STEPS: highest steps_done; FINAL: last epoch */
  char text[240]; /* STOP with an error: the message */
} ctrl;

/* A projection on the wire: this head, nprocs processes, facelen values. */
typedef struct wire_head {
  uint64_t exchange, events, vtime, pending, digest, hash;
  uint64_t pdigest, cdigest, rungs;
  uint64_t facesum, delta_from;
  uint64_t sent_ns; /* timing only: the hand-over histogram */
  uint32_t torus, alive, interval, nprocs, facelen, failed;
  uint32_t delta, ndelta, has_face, pad;
} wire_head;

/* The bytes of a projection after its head: processes, face, delta. */
static size_t wire_body(uint32_t nprocs, uint32_t facelen, uint32_t ndelta)
{
  return nprocs * sizeof(braid__proc) + (size_t)facelen * sizeof(int64_t) + (size_t)ndelta * (sizeof(uint32_t) + sizeof(int64_t));
}

/* A torus's end-of-run report, from its rank to rank 0. */
typedef struct wire_torus {
  braid_torus_report rep;
  uint32_t interval_lo, interval_hi;
  uint64_t steps_done;
  braid__converge conv;
  braid__hist event_lat, exch_lat, wait_lat;
} wire_torus;

typedef struct slots {
  braid__projection p[P];
  _Atomic uint64_t tag[P];
} slots;

/* A record packet rank 0 received and has not assembled yet: sections of
 * consecutive exchanges, `pos` at the first one not assembled, whose
 * exchange is k. */
typedef struct packet {
  struct packet *next;
  uint64_t k;
  size_t len, pos;
  uint8_t data[];
} packet;

typedef struct sendbuf {
  MPI_Request req;
  int busy;
  uint8_t *p;
  size_t cap;
} sendbuf;

typedef struct mpi_ctx {
  int rank, ranks;
  uint32_t lo, hi;         /* this rank's tori */
  int in_rank, out_rank;   /* ranks of pred(lo) and succ(hi-1); -1 when this one */
  uint32_t in_torus;       /* pred(lo) */
  uint32_t nthreads;
  slots *sl;               /* ntori; allocated for the local tori and in_torus */
  size_t wire_max;
  pthread_mutex_t lock;    /* every MPI call */
  /* The ring, receiving: P receives posted for exchanges in_next.. */
  MPI_Request in_req[P];
  uint8_t *in_buf[P];
  uint64_t in_next;
  /* The ring, sending: the packed projection of exchange k in out_buf[k % P]. */
  MPI_Request out_req[P];
  uint8_t *out_buf[P];
  uint64_t out_sent;         /* exchanges sent (the next to send) */
  _Atomic uint64_t out_done; /* sends completed, in order */
  /* Records: rank 0 queues what the others send; they pack and send. */
  pthread_mutex_t qlock;
  packet **qhead, **qtail; /* per rank */
  uint64_t rec_next;       /* ranks > 0: the next exchange to pack */
  sendbuf rec[SENDQ];
  unsigned rec_at;         /* the packet being filled */
  size_t open_len;         /* its bytes, */
  unsigned open_n;         /* its exchanges, */
  uint64_t open_ns;        /* when its first one was packed */
  int spin;                /* workers have CPUs of their own: poll before yielding */
  /* Control. */
  MPI_Request ctrl_req[16]; /* rank 0: one per other rank; others: [0] from rank 0 */
  ctrl ctrl_in[16];
  sendbuf cq[CTRLQ];
  ctrl cbuf[CTRLQ];
  int stop_sent;           /* ranks > 0: STOP sent */
  _Atomic int frozen;      /* no step starts */
  int round;               /* rank 0: 1 freeze sent, 2 final sent */
  int replies;
  uint64_t reply_max;
  int stop_asked;          /* rank 0: a rank asked to stop */
  int done[16];            /* rank 0: DONE received from rank i */
  _Atomic int bye;         /* ranks > 0: BYE received */
  int bye_code;
  /* Timing. */
  _Atomic uint64_t wait_ns; /* in the wait loop, all workers */
  braid__hist handover;
  braid_rank_report *rr;    /* rank 0: every rank's, gathered */
  char host[64];
} mpi_ctx;

static int g_inited;

static mpi_ctx *ctx_of(braid_runtime *rt) { return rt->mpi; }
static uint32_t pred_of(const braid_runtime *rt, uint32_t r) { return (r + rt->ntori - 1) % rt->ntori; }
static int is_local(const mpi_ctx *m, uint32_t r) { return r >= m->lo && r < m->hi; }

/* ------------------------------------------------------------ the ring */

static size_t pack_projection(const mpi_ctx *m, uint8_t *out, const braid__projection *p, uint32_t torus, uint64_t k, int failed)
{
  wire_head h;
  memset(&h, 0, sizeof h);
  h.exchange = k;
  h.torus = torus;
  h.failed = (uint32_t)failed;
  h.sent_ns = braid__now_ns();
  size_t n = sizeof h;
  if (!failed) {
    h.events = p->events;
    h.vtime = p->vtime;
    h.pending = p->pending;
    h.digest = p->digest;
    h.pdigest = p->pdigest;
    h.cdigest = p->cdigest;
    h.rungs = p->rungs;
    h.hash = p->hash;
    h.alive = p->alive;
    h.interval = p->interval;
    h.nprocs = p->nprocs <= BRAID_MAX_PROCS ? p->nprocs : BRAID_MAX_PROCS;
    h.facelen = p->facelen;
    h.facesum = p->facesum;
    h.delta_from = p->delta_from;
    h.delta = p->delta;
    h.ndelta = p->ndelta <= p->facelen ? p->ndelta : p->facelen;
    h.has_face = p->has_face;
    memcpy(out + n, p->procs, h.nprocs * sizeof *p->procs);
    n += h.nprocs * sizeof *p->procs;
    memcpy(out + n, p->face, h.facelen * sizeof *p->face);
    n += h.facelen * sizeof *p->face;
    memcpy(out + n, p->delta_cell, h.ndelta * sizeof *p->delta_cell);
    n += h.ndelta * sizeof *p->delta_cell;
    memcpy(out + n, p->delta_value, h.ndelta * sizeof *p->delta_value);
    n += h.ndelta * sizeof *p->delta_value;
  }
  memcpy(out, &h, sizeof h);
  (void)m;
  return n;
}

/* Unpacks a received projection into q; 1 when it says the torus failed,
 * -1 when it is malformed (then it counts as failed too: the receiver's
 * exchange-in records the missing projection). */
static int unpack_projection(braid__projection *q, const uint8_t *in, size_t len, uint64_t k, uint64_t *sent_ns)
{
  wire_head h;
  if (len < sizeof h) return -1;
  memcpy(&h, in, sizeof h);
  *sent_ns = h.sent_ns;
  if (h.failed) return 1;
  if (h.nprocs > BRAID_MAX_PROCS || h.facelen != q->facelen || h.ndelta > h.facelen || len != sizeof h + wire_body(h.nprocs, h.facelen, h.ndelta))
    return -1;
  q->torus = h.torus;
  q->alive = h.alive;
  q->exchange = h.exchange;
  q->events = h.events;
  q->vtime = h.vtime;
  q->pending = h.pending;
  q->digest = h.digest;
  q->pdigest = h.pdigest;
  q->cdigest = h.cdigest;
  q->rungs = h.rungs;
  q->published_ns = 0; /* another process's clock: the hand-over is measured from sent_ns */
  q->interval = h.interval;
  q->nprocs = h.nprocs;
  q->hash = h.hash;
  memcpy(q->procs, in + sizeof h, h.nprocs * sizeof(braid__proc));
  q->facesum = h.facesum;
  q->delta_from = h.delta_from;
  q->delta = h.delta;
  q->ndelta = h.ndelta;
  q->has_face = h.has_face;
  const uint8_t *at = in + sizeof h + h.nprocs * sizeof(braid__proc);
  memcpy(q->face, at, (size_t)h.facelen * sizeof(int64_t));
  at += (size_t)h.facelen * sizeof(int64_t);
  memcpy(q->delta_cell, at, (size_t)h.ndelta * sizeof(uint32_t));
  at += (size_t)h.ndelta * sizeof(uint32_t);
  memcpy(q->delta_value, at, (size_t)h.ndelta * sizeof(int64_t));
  (void)k;
  return 0;
}

/* Sends torus hi-1's projection (or failure) of exchange k to the next
 * rank, once; the caller holds the lock.  ready() made sure the buffer's
 * previous send completed. */
static void send_projection(braid_runtime *rt, mpi_ctx *m, uint64_t k, int failed)
{
  if (m->out_rank < 0 || k != m->out_sent) return;
  uint32_t r = m->hi - 1, s = (r + 1) % rt->ntori;
  unsigned b = (unsigned)(k % P);
  size_t n = pack_projection(m, m->out_buf[b], failed ? NULL : &m->sl[r].p[b], r, k, failed);
  MPI_Isend(m->out_buf[b], (int)n, MPI_BYTE, m->out_rank, (int)s, MPI_COMM_WORLD, &m->out_req[b]);
  m->out_sent = k + 1;
}

static void post_in(mpi_ctx *m, uint64_t k)
{
  unsigned b = (unsigned)(k % P);
  MPI_Irecv(m->in_buf[b], (int)m->wire_max, MPI_BYTE, m->in_rank, (int)m->lo, MPI_COMM_WORLD, &m->in_req[b]);
}

/* Moves arrived projections of the remote predecessor into its slots, in
 * exchange order; a slot is refilled only once torus lo has read it. */
static void poll_ring(braid_runtime *rt, mpi_ctx *m)
{
  if (m->in_rank >= 0)
    for (;;) {
      uint64_t j = m->in_next;
      unsigned b = (unsigned)(j % P);
      if (j >= P && atomic_load_explicit(&rt->tc[m->lo].steps_done, memory_order_acquire) < j - P + 2) break;
      int flag = 0;
      MPI_Status st;
      MPI_Test(&m->in_req[b], &flag, &st);
      if (!flag) break;
      int len = 0;
      MPI_Get_count(&st, MPI_BYTE, &len);
      slots *s = &m->sl[m->in_torus];
      uint64_t sent = 0;
      int rc = unpack_projection(&s->p[b], m->in_buf[b], (size_t)len, j, &sent);
      /* The hand-over as the critical path sees it: only when torus lo
       * was already waiting for this projection (its step j+1 is next and
       * nobody runs it); a projection that arrives while lo still runs its
       * own epoch waits for lo, not the other way round. */
      uint64_t now = braid__now_ns();
      braid__tctx *lc = &rt->tc[m->lo];
      if (sent && now > sent && atomic_load(&lc->steps_done) == j + 1 && atomic_load(&lc->owner) < 0) braid__hist_add(&m->handover, now - sent);
      atomic_store_explicit(&s->tag[b], j << 2 | (rc ? SLOT_FAILED : SLOT_PUBLISHED), memory_order_release);
      m->in_next = j + 1;
      post_in(m, j + P);
    }
  if (m->out_rank >= 0)
    while (atomic_load(&m->out_done) < m->out_sent) {
      int flag = 0;
      MPI_Test(&m->out_req[atomic_load(&m->out_done) % P], &flag, MPI_STATUS_IGNORE);
      if (!flag) break;
      atomic_fetch_add(&m->out_done, 1);
    }
}

/* ----------------------------------------------------------- transport */

static void mpi_init_slots(braid_runtime *rt)
{
  mpi_ctx *m = ctx_of(rt);
  for (uint32_t r = 0; r < rt->ntori; r++)
    if (is_local(m, r) || r == m->in_torus)
      for (int s = 0; s < P; s++) atomic_store(&m->sl[r].tag[s], (UINT64_MAX << 2) | SLOT_PUBLISHED);
}

static braid__projection *mpi_claim(braid_runtime *rt, uint32_t r, uint64_t k)
{
  slots *s = &ctx_of(rt)->sl[r];
  unsigned b = (unsigned)(k % P);
  uint64_t old = atomic_load_explicit(&s->tag[b], memory_order_acquire);
  for (;;) {
    if ((old >> 2) == k && (old & 3) == SLOT_FAILED) return NULL;
    if (atomic_compare_exchange_weak(&s->tag[b], &old, k << 2 | SLOT_CLAIMED)) return &s->p[b];
  }
}

static void mpi_publish(braid_runtime *rt, uint32_t r, uint64_t k, int failed)
{
  mpi_ctx *m = ctx_of(rt);
  unsigned b = (unsigned)(k % P);
  atomic_store_explicit(&m->sl[r].tag[b], k << 2 | (failed ? SLOT_FAILED : SLOT_PUBLISHED), memory_order_release);
  if (r == m->hi - 1 && m->out_rank >= 0) {
    pthread_mutex_lock(&m->lock);
    send_projection(rt, m, k, failed);
    pthread_mutex_unlock(&m->lock);
  }
}

static const braid__projection *mpi_predecessor(braid_runtime *rt, uint32_t r, uint64_t k)
{
  slots *s = &ctx_of(rt)->sl[pred_of(rt, r)];
  unsigned b = (unsigned)(k % P);
  uint64_t tag = atomic_load_explicit(&s->tag[b], memory_order_acquire);
  return (tag & 3) == SLOT_FAILED ? NULL : &s->p[b];
}

/* As local_ready (transport_local.c), with the remote ends of the ring: a
 * remote predecessor's projection is ready once poll_ring put it in its
 * slot, and a slot whose successor is remote is free once its send
 * completed. */
static int mpi_ready(braid_runtime *rt, uint32_t r, uint64_t k)
{
  mpi_ctx *m = ctx_of(rt);
  braid__tctx *c = &rt->tc[r];
  if (k > 0) {
    uint64_t tag = atomic_load_explicit(&m->sl[pred_of(rt, r)].tag[(k - 1) % P], memory_order_acquire);
    if ((tag >> 2) != k - 1 || ((tag & 3) != SLOT_PUBLISHED && (tag & 3) != SLOT_FAILED)) return 0;
  }
  if (k > atomic_load(&rt->last_epoch)) return 1;
  if (k + 1 >= P) {
    if (r == m->hi - 1 && m->out_rank >= 0) {
      if (atomic_load_explicit(&m->out_done, memory_order_acquire) < k - P + 1) return 0;
    } else if (atomic_load_explicit(&rt->tc[(r + 1) % rt->ntori].steps_done, memory_order_acquire) < k - P + 2) return 0;
  }
  uint64_t written = atomic_load_explicit(&rt->written, memory_order_acquire);
  if (rt->recording && k >= BRAID_REC_SLOTS && written <= k - BRAID_REC_SLOTS) return 0;
  if (braid__checkpoint_due(rt, k) && written < atomic_load_explicit(&c->ckpt_taken[k & 1], memory_order_acquire)) return 0;
  return 1;
}

static int mpi_declare_failed(braid_runtime *rt, uint32_t r, uint64_t k)
{
  mpi_ctx *m = ctx_of(rt);
  slots *s = &m->sl[r];
  unsigned b = (unsigned)(k % P);
  uint64_t old = atomic_load(&s->tag[b]);
  if ((old >> 2) == k) return 0;
  if (!atomic_compare_exchange_strong(&s->tag[b], &old, k << 2 | SLOT_FAILED)) return 0;
  if (r == m->hi - 1 && m->out_rank >= 0) {
    pthread_mutex_lock(&m->lock);
    send_projection(rt, m, k, 1);
    pthread_mutex_unlock(&m->lock);
  }
  return 1;
}

static void mpi_hand_over(braid_runtime *rt, uint32_t r, uint64_t k)
{
  atomic_store_explicit(&rt->tc[r].blocks_done, k + 1, memory_order_release);
}

/* Every local torus closed its block of exchange k. */
static int local_blocks_done(braid_runtime *rt, const mpi_ctx *m, uint64_t k)
{
  for (uint32_t r = m->lo; r < m->hi; r++)
    if (atomic_load_explicit(&rt->tc[r].blocks_done, memory_order_acquire) <= k) return 0;
  return 1;
}

static void put_varint(braid__buf *b, uint64_t v)
{
  uint8_t t[10];
  braid__buf_put(b, t, braid__varint_put(t, v));
}

/* A view of one torus's block (and checkpoint state) of exchange k, from
 * this rank or from a packet. */
typedef struct piece {
  const uint8_t *p;
  size_t len;
} piece;

/* Splits the section at pk->pos of a packet of rank i (varint k, its
 * tori's blocks, then their checkpoint states when one is due) into
 * pieces; *next: where the next section starts.  -1 when malformed. */
static int split_packet(const packet *pk, uint32_t n, int ckpt, piece *blk, piece *cks, size_t *next)
{
  const uint8_t *p = pk->data + pk->pos, *end = pk->data + pk->len;
  uint64_t v;
  size_t u = braid__varint_get(p, end, &v);
  if (!u || v != pk->k) return -1;
  p += u;
  for (int pass = 0; pass < 1 + ckpt; pass++)
    for (uint32_t j = 0; j < n; j++) {
      if (!(u = braid__varint_get(p, end, &v)) || v > (uint64_t)(end - p - (ptrdiff_t)u)) return -1;
      p += u;
      piece *d = pass ? &cks[j] : &blk[j];
      d->p = p;
      d->len = (size_t)v;
      p += v;
    }
  *next = (size_t)(p - pk->data);
  return 0;
}

/* The exchange of the section at pk->pos; UINT64_MAX when malformed. */
static uint64_t section_k(const packet *pk)
{
  uint64_t k;
  return pk->pos < pk->len && braid__varint_get(pk->data + pk->pos, pk->data + pk->len, &k) ? k : UINT64_MAX;
}

/* Rank 0: exchange k is complete in every rank; hands it to the sinks in
 * the in-process transport's order. */
static int assemble(braid_runtime *rt, mpi_ctx *m, uint64_t k, packet **pk, size_t *next)
{
  piece blk[BRAID_MAX_TORI], cks[BRAID_MAX_TORI];
  int ckpt = braid__checkpoint_due(rt, k);
  for (int i = 0; i < m->ranks; i++) {
    uint32_t a = braid_rank_first_torus(rt->ntori, (uint32_t)m->ranks, (uint32_t)i), z = braid_rank_first_torus(rt->ntori, (uint32_t)m->ranks, (uint32_t)i + 1);
    if (i == m->rank)
      for (uint32_t r = a; r < z; r++) {
        braid__buf *b = &rt->tc[r].block[k % BRAID_REC_SLOTS], *cb = &rt->tc[r].ckpt[k & 1];
        blk[r] = (piece){ b->p, b->len };
        cks[r] = (piece){ cb->p, cb->len };
      }
    else if (split_packet(pk[i], z - a, ckpt, blk + a, cks + a, &next[i]))
      return BRAID_ECORRUPT;
  }
  braid__buf *a = &rt->assembly;
  a->len = 0;
  uint64_t f[1] = { k };
  braid__rec_put(a, BRAID_REC_EXCHANGE, 1, f);
  for (uint32_t r = 0; r < rt->ntori; r++) braid__buf_put(a, blk[r].p, blk[r].len);
  if (a->err) return a->err;
  for (unsigned i = 0; i < rt->nsinks; i++) BRAID_FORWARD(rt->sink[i].exchange(rt->sink[i].ud, k, a->p, a->len));
  if (ckpt) {
    a->len = 0;
    put_varint(a, rt->ntori);
    for (uint32_t r = 0; r < rt->ntori; r++) {
      put_varint(a, cks[r].len);
      braid__buf_put(a, cks[r].p, cks[r].len);
    }
    if (a->err) return a->err;
    for (unsigned i = 0; i < rt->nsinks; i++)
      if (rt->sink[i].checkpoint) BRAID_FORWARD(rt->sink[i].checkpoint(rt->sink[i].ud, k, a->p, a->len));
  }
  return 0;
}

static void drain_rank0(braid_runtime *rt, mpi_ctx *m, int wait)
{
  if (wait) pthread_mutex_lock(&rt->asm_lock);
  else if (pthread_mutex_trylock(&rt->asm_lock)) return;
  while (!atomic_load(&rt->error)) {
    uint64_t k = rt->assembled;
    if (!local_blocks_done(rt, m, k)) break;
    packet *pk[16] = { 0 };
    int have = 1;
    pthread_mutex_lock(&m->qlock);
    for (int i = 0; i < m->ranks; i++)
      if (i != m->rank && (!(pk[i] = m->qhead[i]) || pk[i]->k != k)) have = 0;
    pthread_mutex_unlock(&m->qlock);
    if (!have) break;
    size_t next[16] = { 0 };
    int rc = assemble(rt, m, k, pk, next);
    if (rc) {
      pthread_mutex_unlock(&rt->asm_lock);
      braid__set_error(rt, rc, "writing exchange %llu: %s", (unsigned long long)k, braid_strerror(rc));
      return;
    }
    pthread_mutex_lock(&m->qlock);
    for (int i = 0; i < m->ranks; i++) {
      if (i == m->rank) continue;
      pk[i]->pos = next[i];
      if (pk[i]->pos < pk[i]->len) {
        pk[i]->k = section_k(pk[i]);
        continue;
      }
      m->qhead[i] = pk[i]->next;
      if (!m->qhead[i]) m->qtail[i] = NULL;
      free(pk[i]);
    }
    pthread_mutex_unlock(&m->qlock);
    /* Progress (braid_runtime_progress) of the other ranks' tori. */
    for (uint32_t r = 0; r < rt->ntori; r++)
      if (rt->tc[r].remote) atomic_store(&rt->tc[r].steps_done, k + 2);
    rt->assembled = k + 1;
    atomic_store_explicit(&rt->written, k + 1, memory_order_release);
  }
  pthread_mutex_unlock(&rt->asm_lock);
}

static int free_sendbuf(sendbuf *s)
{
  if (!s->busy) return 1;
  int flag = 0;
  MPI_Test(&s->req, &flag, MPI_STATUS_IGNORE);
  if (flag) s->busy = 0;
  return flag;
}

static void send_packet(mpi_ctx *m)
{
  sendbuf *s = &m->rec[m->rec_at];
  MPI_Isend(s->p, (int)m->open_len, MPI_BYTE, 0, TAG_RECORDS, MPI_COMM_WORLD, &s->req);
  s->busy = 1;
  m->rec_at = (m->rec_at + 1) % SENDQ;
  m->open_len = 0;
  m->open_n = 0;
}

/* Ranks > 0, under the lock: packs every exchange whose blocks are
 * closed into the open packet, and sends it when it is full, old, or
 * `flush` says so (the end of the run). */
static void send_records(braid_runtime *rt, mpi_ctx *m, int flush)
{
  if (!rt->recording) return;
  for (;;) {
    uint64_t k = m->rec_next;
    if (!local_blocks_done(rt, m, k)) break;
    sendbuf *s = &m->rec[m->rec_at];
    if (!m->open_n && !free_sendbuf(s)) break;
    braid__buf b = { s->p, m->open_len, s->cap, 0 };
    put_varint(&b, k);
    for (uint32_t r = m->lo; r < m->hi; r++) {
      braid__buf *blk = &rt->tc[r].block[k % BRAID_REC_SLOTS];
      put_varint(&b, blk->len);
      braid__buf_put(&b, blk->p, blk->len);
    }
    if (braid__checkpoint_due(rt, k))
      for (uint32_t r = m->lo; r < m->hi; r++) {
        braid__buf *cb = &rt->tc[r].ckpt[k & 1];
        put_varint(&b, cb->len);
        braid__buf_put(&b, cb->p, cb->len);
      }
    s->p = b.p;
    s->cap = b.cap;
    if (b.err) {
      braid__set_error(rt, b.err, "packing the records of exchange %llu: %s", (unsigned long long)k, braid_strerror(b.err));
      return;
    }
    if (!m->open_n) m->open_ns = braid__now_ns();
    m->open_len = b.len;
    m->open_n++;
    m->rec_next = k + 1;
    atomic_store_explicit(&rt->written, k + 1, memory_order_release);
    if (m->open_n >= BATCH || m->open_len >= BATCH_BYTES) send_packet(m);
  }
  if (m->open_n && (flush || braid__now_ns() - m->open_ns >= BATCH_NS)) send_packet(m);
}

/* Rank 0, under the lock: takes in the record packets that arrived. */
static void recv_records(braid_runtime *rt, mpi_ctx *m)
{
  for (int i = 1; i < m->ranks; i++)
    for (int n = 0; n < 8; n++) {
      int flag = 0, len = 0;
      MPI_Status st;
      MPI_Iprobe(i, TAG_RECORDS, MPI_COMM_WORLD, &flag, &st);
      if (!flag) break;
      MPI_Get_count(&st, MPI_BYTE, &len);
      packet *pk = malloc(sizeof *pk + (size_t)len);
      if (!pk) {
        braid__set_error(rt, BRAID_ENOMEM, "receiving records from rank %d: out of memory", i);
        return;
      }
      MPI_Recv(pk->data, len, MPI_BYTE, i, TAG_RECORDS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      pk->len = (size_t)len;
      pk->pos = 0;
      pk->k = section_k(pk);
      pk->next = NULL;
      pthread_mutex_lock(&m->qlock);
      if (m->qtail[i]) m->qtail[i]->next = pk;
      else m->qhead[i] = pk;
      m->qtail[i] = pk;
      pthread_mutex_unlock(&m->qlock);
    }
}

static void mpi_drain(braid_runtime *rt, int wait)
{
  mpi_ctx *m = ctx_of(rt);
  if (!rt->recording) return;
  if (m->rank == 0) drain_rank0(rt, m, wait);
  else if (wait) {
    pthread_mutex_lock(&m->lock);
    send_records(rt, m, 1);
    pthread_mutex_unlock(&m->lock);
  } else if (!pthread_mutex_trylock(&m->lock)) {
    send_records(rt, m, 0);
    pthread_mutex_unlock(&m->lock);
  }
}

static void mpi_resume(braid_runtime *rt, uint32_t r, uint64_t k, const braid__projection *own)
{
  /* A replay from a checkpoint runs in one process: never here. */
  braid__set_error(rt, BRAID_EUNSUPPORTED, "an MPI run cannot resume from a checkpoint");
}

/* A successor on another rank holds what it received, which this rank
 * cannot know (a message can be lost or refused): projections carry the
 * whole face, as big as a delta of every cell, and no delta. */
static uint64_t mpi_delta_base(braid_runtime *rt, uint32_t r)
{
  (void)rt;
  (void)r;
  return UINT64_MAX;
}

const braid__transport braid__transport_mpi = {
  "mpi",
  mpi_init_slots,
  mpi_claim,
  mpi_publish,
  mpi_predecessor,
  mpi_ready,
  mpi_declare_failed,
  mpi_hand_over,
  mpi_drain,
  mpi_resume,
  mpi_delta_base,
  BRAID__CARRY_FACE,
};

/* ------------------------------------------------------------- control */

/* Sends a control message (under the lock). */
static void send_ctrl(mpi_ctx *m, int to, int type, int code, uint64_t value, const char *text)
{
  for (;;) {
    for (int i = 0; i < CTRLQ; i++)
      if (free_sendbuf(&m->cq[i])) {
        ctrl *c = &m->cbuf[i];
        memset(c, 0, sizeof *c);
        c->type = type;
        c->code = code;
        c->value = value;
        if (text) snprintf(c->text, sizeof c->text, "%s", text);
        MPI_Isend(c, (int)sizeof *c, MPI_BYTE, to, TAG_CTRL, MPI_COMM_WORLD, &m->cq[i].req);
        m->cq[i].busy = 1;
        return;
      }
    sched_yield();
  }
}

static uint64_t max_steps(braid_runtime *rt, const mpi_ctx *m)
{
  uint64_t x = 0;
  for (uint32_t r = m->lo; r < m->hi; r++) {
    uint64_t d = atomic_load(&rt->tc[r].steps_done);
    if (d > x) x = d;
  }
  return x;
}

static void final_epoch(braid_runtime *rt, uint64_t last)
{
  if (last < atomic_load(&rt->last_epoch)) atomic_store(&rt->last_epoch, last);
  atomic_store(&rt->stop_final, 1);
}

/* Rank 0: a torus's end-of-run report from rank i, right after its DONE. */
static void recv_report(braid_runtime *rt, mpi_ctx *m, int i)
{
  uint32_t a = braid_rank_first_torus(rt->ntori, (uint32_t)m->ranks, (uint32_t)i), z = braid_rank_first_torus(rt->ntori, (uint32_t)m->ranks, (uint32_t)i + 1);
  size_t len = sizeof(braid_rank_report) + (z - a) * sizeof(wire_torus);
  uint8_t *buf = malloc(len);
  if (!buf) {
    braid__set_error(rt, BRAID_ENOMEM, "receiving the report of rank %d: out of memory", i);
    return;
  }
  MPI_Status st;
  int got = 0;
  MPI_Recv(buf, (int)len, MPI_BYTE, i, TAG_REPORT, MPI_COMM_WORLD, &st);
  MPI_Get_count(&st, MPI_BYTE, &got);
  if ((size_t)got != len) {
    free(buf);
    braid__set_error(rt, BRAID_ECORRUPT, "rank %d sent a report of %d bytes, not %zu (a different build?)", i, got, len);
    return;
  }
  memcpy(&m->rr[i], buf, sizeof(braid_rank_report));
  for (uint32_t r = a; r < z; r++) {
    wire_torus w;
    memcpy(&w, buf + sizeof(braid_rank_report) + (r - a) * sizeof w, sizeof w);
    braid__tctx *c = &rt->tc[r];
    c->rep = w.rep;
    c->interval_lo = w.interval_lo;
    c->interval_hi = w.interval_hi;
    c->conv = w.conv;
    c->event_lat = w.event_lat;
    c->exch_lat = w.exch_lat;
    c->wait_lat = w.wait_lat;
    atomic_store(&c->steps_done, w.steps_done);
  }
  free(buf);
}

static void on_ctrl_rank0(braid_runtime *rt, mpi_ctx *m, int i, const ctrl *c)
{
  switch (c->type) {
  case C_STOP:
    if (c->code) braid__set_error(rt, c->code, "rank %d: %s", i, c->text);
    if (c->value) atomic_store(&rt->interrupted, 1);
    m->stop_asked = 1;
    break;
  case C_STEPS:
    if (c->value > m->reply_max) m->reply_max = c->value;
    m->replies++;
    break;
  case C_DONE:
    recv_report(rt, m, i);
    m->done[i] = 1;
    break;
  default: break;
  }
}

static void on_ctrl_rank(braid_runtime *rt, mpi_ctx *m, const ctrl *c)
{
  switch (c->type) {
  case C_FREEZE:
    atomic_store(&m->frozen, 1);
    send_ctrl(m, 0, C_STEPS, 0, max_steps(rt, m), NULL);
    break;
  case C_FINAL:
    final_epoch(rt, c->value);
    atomic_store(&m->frozen, 0);
    break;
  case C_BYE:
    /* With an error: rank 0 ends the run everywhere (it names the rank). */
    if (c->code) braid__set_error(rt, c->code, "rank 0 ended the run: %s", braid_strerror(c->code));
    m->bye_code = c->code;
    atomic_store(&m->bye, 1);
    break;
  default: break;
  }
}

/* Rank 0: starts the stop decision when it is asked for, and ends it once
 * every rank answered. */
static void stop_round(braid_runtime *rt, mpi_ctx *m)
{
  if (!m->round) {
    uint64_t dur = (uint64_t)rt->cfg.v[BRAID_K_duration_ms] * 1000000ull;
    if (dur && braid__now_ns() - rt->start_ns >= dur) atomic_store(&rt->stop_requested, 1);
    if (!m->stop_asked && !atomic_load(&rt->stop_requested)) return;
    atomic_store(&m->frozen, 1);
    m->round = 1;
    m->replies = 0;
    m->reply_max = 0;
    for (int i = 1; i < m->ranks; i++) send_ctrl(m, i, C_FREEZE, 0, 0, NULL);
  }
  if (m->round == 1 && m->replies == m->ranks - 1) {
    /* Frozen everywhere: no step starts, so the highest step count is the
     * highest epoch any torus may have started. */
    uint64_t x = max_steps(rt, m);
    if (m->reply_max > x) x = m->reply_max;
    final_epoch(rt, x);
    for (int i = 1; i < m->ranks; i++) send_ctrl(m, i, C_FINAL, 0, atomic_load(&rt->last_epoch), NULL);
    atomic_store(&m->frozen, 0);
    m->round = 2;
  }
}

static void poll_ctrl(braid_runtime *rt, mpi_ctx *m)
{
  if (m->rank == 0) {
    for (int i = 1; i < m->ranks; i++)
      for (;;) {
        int flag = 0;
        MPI_Test(&m->ctrl_req[i], &flag, MPI_STATUS_IGNORE);
        if (!flag) break;
        ctrl c = m->ctrl_in[i];
        MPI_Irecv(&m->ctrl_in[i], (int)sizeof(ctrl), MPI_BYTE, i, TAG_CTRL, MPI_COMM_WORLD, &m->ctrl_req[i]);
        on_ctrl_rank0(rt, m, i, &c);
      }
    if (!atomic_load(&rt->error)) stop_round(rt, m);
  } else {
    if (!m->stop_sent && (atomic_load(&rt->stop_requested) || atomic_load(&rt->error))) {
      char text[240];
      int err = atomic_load(&rt->error);
      pthread_mutex_lock(&rt->err_lock);
      snprintf(text, sizeof text, "%.200s", rt->errmsg);
      pthread_mutex_unlock(&rt->err_lock);
      send_ctrl(m, 0, C_STOP, err, (uint64_t)atomic_load(&rt->interrupted), err ? text : NULL);
      m->stop_sent = 1;
    }
    while (!atomic_load(&m->bye)) {
      int flag = 0;
      MPI_Test(&m->ctrl_req[0], &flag, MPI_STATUS_IGNORE);
      if (!flag) break;
      ctrl c = m->ctrl_in[0];
      if (c.type != C_BYE) MPI_Irecv(&m->ctrl_in[0], (int)sizeof(ctrl), MPI_BYTE, 0, TAG_CTRL, MPI_COMM_WORLD, &m->ctrl_req[0]);
      on_ctrl_rank(rt, m, &c);
    }
  }
}

/* One round of MPI progress, under the lock: the ring, records, control;
 * flush: send the records packed so far (the end of the run). */
static void progress_locked(braid_runtime *rt, mpi_ctx *m, int flush)
{
  poll_ring(rt, m);
  if (rt->recording) {
    if (m->rank == 0) recv_records(rt, m);
    else send_records(rt, m, flush);
  }
  poll_ctrl(rt, m);
}

static int progress(braid_runtime *rt, mpi_ctx *m, int wait)
{
  if (wait) pthread_mutex_lock(&m->lock);
  else if (pthread_mutex_trylock(&m->lock)) return 0;
  progress_locked(rt, m, 0);
  pthread_mutex_unlock(&m->lock);
  if (m->rank == 0 && rt->recording) drain_rank0(rt, m, 0);
  return 1;
}

/* ------------------------------------------------------------ executor */

static int local_finished(braid_runtime *rt, const mpi_ctx *m)
{
  uint64_t last = atomic_load(&rt->last_epoch);
  for (uint32_t r = m->lo; r < m->hi; r++)
    if (atomic_load(&rt->tc[r].steps_done) <= last + 1) return 0;
  return 1;
}

static uint64_t ready_step(braid_runtime *rt, mpi_ctx *m, uint32_t r)
{
  uint64_t k = atomic_load_explicit(&rt->tc[r].steps_done, memory_order_acquire);
  if (k > atomic_load(&rt->last_epoch) + 1 || atomic_load(&m->frozen)) return UINT64_MAX;
  return mpi_ready(rt, r, k) ? k : UINT64_MAX;
}

/* Runs the ready step furthest behind among the rank's tori (the
 * wavefront rule of threads.c); 1 when one ran. */
static int run_one(braid_runtime *rt, mpi_ctx *m, braid__worker *w, int chaos, uint64_t idle_since)
{
  uint32_t best = UINT32_MAX;
  uint64_t bestk = UINT64_MAX;
  for (uint32_t r = m->lo; r < m->hi; r++) {
    if (atomic_load_explicit(&rt->tc[r].owner, memory_order_relaxed) != -1) continue;
    uint64_t k = ready_step(rt, m, r);
    if (k < bestk) {
      bestk = k;
      best = r;
    }
  }
  if (best == UINT32_MAX) return 0;
  int expect = -1, ran = 0;
  if (!atomic_compare_exchange_strong(&rt->tc[best].owner, &expect, w->id)) return 0;
  uint64_t k = ready_step(rt, m, best);
  if (k != UINT64_MAX) {
    if (chaos) braid__chaos_pause(rt, best, k, 0xba77);
    braid__run_step(rt, best, k, w->id, idle_since);
    ran = 1;
  }
  atomic_store(&rt->tc[best].owner, -1);
  return ran;
}

/* As threads.c: a torus inside one step for longer than the heartbeat is
 * declared failed at that exchange, so that its successor goes on. */
static void heartbeat(braid_runtime *rt, mpi_ctx *m)
{
  uint64_t hb = (uint64_t)rt->cfg.v[BRAID_K_heartbeat_ms] * 1000000ull;
  if (!hb) return;
  uint64_t now = braid__now_ns(), last = atomic_load(&rt->last_epoch);
  for (uint32_t r = m->lo; r < m->hi; r++) {
    braid__tctx *c = &rt->tc[r];
    if (atomic_load(&c->owner) < 0) continue;
    uint64_t k = atomic_load(&c->steps_done);
    if (k > last || now - atomic_load(&c->step_started_ns) < hb) continue;
    mpi_declare_failed(rt, r, k);
  }
}

static void *worker_main(void *arg)
{
  braid__worker *w = arg;
  braid_runtime *rt = w->rt;
  mpi_ctx *m = ctx_of(rt);
  const int chaos = rt->cfg.v[BRAID_K_chaos] != 0;
  uint64_t last_hb = braid__now_ns(), idle_since = 0;
  while (!atomic_load(&rt->error) && !atomic_load(&m->bye) && !local_finished(rt, m)) {
    if (run_one(rt, m, w, chaos, idle_since)) {
      progress(rt, m, 0);
      idle_since = 0;
      continue;
    }
    /* Nothing ready: MPI_Test (in progress), then give the CPU away; a
     * worker with a CPU of its own polls SPIN_NS first, as the threaded
     * executor spins before it blocks. */
    uint64_t t0 = braid__now_ns();
    if (!idle_since) idle_since = t0;
    progress(rt, m, 0);
    if (t0 - last_hb > 20000000ull) {
      heartbeat(rt, m);
      last_hb = t0;
    }
    if (!m->spin || t0 - idle_since >= SPIN_NS) sched_yield();
    else braid__cpu_relax();
    atomic_fetch_add_explicit(&m->wait_ns, braid__now_ns() - t0, memory_order_relaxed);
  }
  w->cpu = braid__thread_cpu_seconds();
  braid__thread_cpu(&w->split);
  return NULL;
}

/* This rank's summary for the report. */
static void rank_summary(braid_runtime *rt, mpi_ctx *m, braid_rank_report *rr)
{
  memset(rr, 0, sizeof *rr);
  rr->rank = (uint32_t)m->rank;
  rr->first_torus = m->lo;
  rr->tori = m->hi - m->lo;
  rr->threads = m->nthreads;
  braid__hist ex = { 0 };
  for (uint32_t r = m->lo; r < m->hi; r++) {
    rr->events += rt->tc[r].t.events;
    braid__hist_merge(&ex, &rt->tc[r].exch_lat);
  }
  rr->wall_seconds = (double)(braid__now_ns() - rt->start_ns) / 1e9;
  rr->events_per_second = rr->wall_seconds > 0 ? (double)rr->events / rr->wall_seconds : 0;
  rr->mpi_wait_seconds = (double)atomic_load(&m->wait_ns) / 1e9;
  rr->exchange_latency = braid__hist_quantiles(&ex);
  rr->handover = braid__hist_quantiles(&m->handover);
  braid__cpu now;
  braid__process_cpu(&now);
  rr->cpu_user_seconds = now.user - rt->cpu_start.user;
  rr->cpu_sys_seconds = now.sys - rt->cpu_start.sys;
  snprintf(rr->host, sizeof rr->host, "%s", m->host);
}

/* Ranks > 0: every record sent, then DONE and the report; waits for BYE. */
static void finish_rank(braid_runtime *rt, mpi_ctx *m)
{
  int sent_done = 0;
  uint8_t *rep = NULL;
  MPI_Request rreq = MPI_REQUEST_NULL;
  for (;;) {
    pthread_mutex_lock(&m->lock);
    progress_locked(rt, m, 1);
    int flushed = !rt->recording || (m->rec_next >= atomic_load(&rt->last_epoch) + 1 && !m->open_n);
    for (int i = 0; flushed && i < SENDQ; i++) flushed = free_sendbuf(&m->rec[i]);
    if (!sent_done && (flushed || atomic_load(&rt->error)) && m->stop_sent == (atomic_load(&rt->stop_requested) || atomic_load(&rt->error))) {
      /* The report (as braid__report_build computes it for the own tori). */
      rt->end_ns = braid__now_ns();
      braid__report_build(rt);
      uint32_t n = m->hi - m->lo;
      size_t len = sizeof(braid_rank_report) + n * sizeof(wire_torus);
      rep = calloc(1, len);
      if (rep) {
        braid_rank_report rr;
        rank_summary(rt, m, &rr);
        memcpy(rep, &rr, sizeof rr);
        for (uint32_t r = m->lo; r < m->hi; r++) {
          braid__tctx *c = &rt->tc[r];
          wire_torus w;
          memset(&w, 0, sizeof w);
          w.rep = c->rep;
          w.interval_lo = c->interval_lo;
          w.interval_hi = c->interval_hi;
          w.steps_done = atomic_load(&c->steps_done);
          w.conv = c->conv;
          w.event_lat = c->event_lat;
          w.exch_lat = c->exch_lat;
          w.wait_lat = c->wait_lat;
          memcpy(rep + sizeof rr + (r - m->lo) * sizeof w, &w, sizeof w);
        }
        send_ctrl(m, 0, C_DONE, 0, 0, NULL);
        MPI_Isend(rep, (int)len, MPI_BYTE, 0, TAG_REPORT, MPI_COMM_WORLD, &rreq);
      }
      sent_done = 1;
      m->stop_sent = 1; /* a signal from now on has nothing left to stop */
    }
    int bye = atomic_load(&m->bye);
    pthread_mutex_unlock(&m->lock);
    if (bye) break;
    sched_yield();
  }
  /* After an error rank 0 may not take the report: it ends the job. */
  if (!m->bye_code) {
    pthread_mutex_lock(&m->lock);
    if (rreq != MPI_REQUEST_NULL) MPI_Wait(&rreq, MPI_STATUS_IGNORE);
    for (int i = 0; i < CTRLQ; i++)
      if (m->cq[i].busy) MPI_Wait(&m->cq[i].req, MPI_STATUS_IGNORE);
    pthread_mutex_unlock(&m->lock);
    free(rep);
  }
}

/* Rank 0: every exchange written, every rank's report in; then BYE. */
static void finish_rank0(braid_runtime *rt, mpi_ctx *m)
{
  for (;;) {
    int err = atomic_load(&rt->error);
    pthread_mutex_lock(&m->lock);
    progress_locked(rt, m, 1);
    pthread_mutex_unlock(&m->lock);
    mpi_drain(rt, 1);
    err = atomic_load(&rt->error);
    int all = 1;
    for (int i = 1; i < m->ranks; i++) all &= m->done[i];
    int written = !rt->recording || rt->assembled >= atomic_load(&rt->last_epoch) + 1;
    if (err || (all && written && m->round != 1)) break;
    sched_yield();
  }
  pthread_mutex_lock(&m->lock);
  int err = atomic_load(&rt->error);
  for (int i = 1; i < m->ranks; i++) send_ctrl(m, i, C_BYE, err, 0, NULL);
  for (int i = 0; i < CTRLQ; i++)
    if (m->cq[i].busy) MPI_Wait(&m->cq[i].req, MPI_STATUS_IGNORE);
  pthread_mutex_unlock(&m->lock);
  rank_summary(rt, m, &m->rr[0]);
}

/* Cancels the receives posted ahead that will never match. */
static void cancel_posted(mpi_ctx *m, int err)
{
  MPI_Request *v[P + 16];
  int n = 0;
  if (m->in_rank >= 0)
    for (int b = 0; b < P; b++) v[n++] = &m->in_req[b];
  if (m->rank == 0)
    for (int i = 1; i < m->ranks; i++) v[n++] = &m->ctrl_req[i];
  else if (!atomic_load(&m->bye)) v[n++] = &m->ctrl_req[0];
  for (int i = 0; i < n; i++)
    if (*v[i] != MPI_REQUEST_NULL) {
      MPI_Cancel(v[i]);
      MPI_Wait(v[i], MPI_STATUS_IGNORE);
    }
  /* After an error a successor may never take what was sent: the job ends. */
  if (m->out_rank >= 0 && !err)
    for (uint64_t k = atomic_load(&m->out_done); k < m->out_sent; k++) MPI_Wait(&m->out_req[k % P], MPI_STATUS_IGNORE);
}

static int run_mpi(braid_runtime *rt)
{
  mpi_ctx *m = ctx_of(rt);
  int rec = rt->recording;
  MPI_Bcast(&rec, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (m->rank != 0 && rec) {
    /* Records are made here and written by rank 0. */
    for (uint32_t r = m->lo; r < m->hi; r++)
      for (int b = 0; b < BRAID_REC_SLOTS; b++)
        if (braid__buf_reserve(&rt->tc[r].block[b], BRAID_REC_SLOT_BYTES)) {
          braid__set_error(rt, BRAID_ENOMEM, "rank %d: out of memory for record blocks", m->rank);
          break;
        }
    rt->recording = 1;
  }
  if (m->in_rank >= 0)
    for (uint64_t k = 0; k < P; k++) post_in(m, k);
  if (m->rank == 0)
    for (int i = 1; i < m->ranks; i++) MPI_Irecv(&m->ctrl_in[i], (int)sizeof(ctrl), MPI_BYTE, i, TAG_CTRL, MPI_COMM_WORLD, &m->ctrl_req[i]);
  else MPI_Irecv(&m->ctrl_in[0], (int)sizeof(ctrl), MPI_BYTE, 0, TAG_CTRL, MPI_COMM_WORLD, &m->ctrl_req[0]);
  /* Start together: the timing records of all ranks share one origin. */
  MPI_Barrier(MPI_COMM_WORLD);
  rt->start_ns = braid__now_ns();
  for (uint32_t r = 0; r < rt->ntori; r++) rt->tc[r].wait_start = rt->start_ns;

  braid__worker ws[BRAID_MAX_THREADS];
  uint32_t n = m->nthreads, started = 1;
  double cpu0 = braid__thread_cpu_seconds();
  braid__cpu split0;
  braid__thread_cpu(&split0);
  for (uint32_t i = 0; i < n; i++) ws[i] = (braid__worker){ rt, (int)i, 0, 0, { 0, 0 } };
  for (; started < n; started++)
    if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started])) {
      braid__set_error(rt, BRAID_ENOMEM, "rank %d: cannot start worker thread %u", m->rank, started);
      break;
    }
  worker_main(&ws[0]); /* the calling thread is worker 0 */
  ws[0].cpu -= cpu0;
  ws[0].split.user -= split0.user;
  ws[0].split.sys -= split0.sys;
  for (uint32_t i = 1; i < started; i++) pthread_join(ws[i].th, NULL);
  for (uint32_t i = 0; i < started && i < BRAID_MAX_THREADS; i++) {
    rt->thread_cpu[i] = ws[i].cpu;
    rt->thread_split[i] = ws[i].split;
  }
  if (m->rank == 0) finish_rank0(rt, m);
  else finish_rank(rt, m);
  pthread_mutex_lock(&m->lock);
  cancel_posted(m, atomic_load(&rt->error));
  pthread_mutex_unlock(&m->lock);
  if (m->rank == 0) {
    rt->rank_reports = m->rr;
    m->rr = NULL;
    rt->nranks = (uint32_t)m->ranks;
  }
  return atomic_load(&rt->error);
}

static void free_mpi(braid_runtime *rt)
{
  mpi_ctx *m = ctx_of(rt);
  if (!m) return;
  for (uint32_t r = 0; r < rt->ntori; r++)
    for (int s = 0; s < P; s++) braid__projection_free(&m->sl[r].p[s]);
  free(m->sl);
  for (int b = 0; b < P; b++) {
    free(m->in_buf[b]);
    free(m->out_buf[b]);
  }
  for (int i = 0; i < SENDQ; i++) free(m->rec[i].p);
  for (int i = 0; i < m->ranks && m->qhead; i++)
    for (packet *p = m->qhead[i], *nx; p; p = nx) {
      nx = p->next;
      free(p);
    }
  free(m->qhead);
  free(m->qtail);
  free(m->rr);
  pthread_mutex_destroy(&m->lock);
  pthread_mutex_destroy(&m->qlock);
  free(m);
  rt->mpi = NULL;
}

/* ------------------------------------------------------------- the API */

int braid_mpi_available(void) { return 1; }

int braid_mpi_init(int *argc, char ***argv, int *rank, int *ranks)
{
  BRAID_RETURN_IF(g_inited, BRAID_ESTATE);
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) return BRAID_EIO;
  g_inited = provided >= MPI_THREAD_SERIALIZED ? 2 : 1;
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, ranks);
  return 0;
}

void braid_mpi_abort(int code)
{
  if (g_inited) MPI_Abort(MPI_COMM_WORLD, code);
}

int braid_mpi_finalize(void)
{
  BRAID_RETURN_IF(!g_inited, BRAID_ESTATE);
  g_inited = 0;
  return MPI_Finalize() == MPI_SUCCESS ? 0 : BRAID_EIO;
}

int braid_runtime_mpi(braid_runtime *rt, char *errbuf, size_t errlen)
{
  if (errbuf && errlen) errbuf[0] = 0;
  BRAID_RETURN_IF(!rt, BRAID_EINVAL);
  if (!g_inited) {
    braid__fmt(errbuf, errlen, "--mpi: MPI is not initialised (braid_mpi_init)");
    return BRAID_ESTATE;
  }
  BRAID_RETURN_IF(rt->ran || rt->mpi, BRAID_ESTATE);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if ((uint32_t)ranks > rt->ntori) {
    braid__fmt(errbuf, errlen, "--mpi: %d ranks for %u tori: every rank needs a torus (run at most %u ranks, or more tori with --tori)", ranks, rt->ntori,
               rt->ntori);
    return BRAID_ERANGE;
  }
  if (rt->cfg.v[BRAID_K_sequential]) {
    braid__fmt(errbuf, errlen, "--mpi and --sequential exclude each other (a rank runs its tori with --threads)");
    return BRAID_EINVAL;
  }
  /* Both end the run at an exchange decided from every torus's counts,
   * which one rank alone does not see; not yet agreed across ranks. */
  if (rt->cfg.v[BRAID_K_events] || rt->cfg.v[BRAID_K_check_stop]) {
    braid__fmt(errbuf, errlen, "--mpi does not support %s yet (the ranks would each stop at another exchange); use --exchanges or --duration",
               rt->cfg.v[BRAID_K_events] ? "--events" : "--check-stop");
    return BRAID_EINVAL;
  }
  mpi_ctx *m = calloc(1, sizeof *m);
  if (!m) return BRAID_ENOMEM;
  rt->mpi = m;
  rt->executor_free = free_mpi;
  pthread_mutex_init(&m->lock, NULL);
  pthread_mutex_init(&m->qlock, NULL);
  m->rank = rank;
  m->ranks = ranks;
  m->lo = braid_rank_first_torus(rt->ntori, (uint32_t)ranks, (uint32_t)rank);
  m->hi = braid_rank_first_torus(rt->ntori, (uint32_t)ranks, (uint32_t)rank + 1);
  m->in_torus = pred_of(rt, m->lo);
  int pr = (int)braid_torus_rank(rt->ntori, (uint32_t)ranks, m->in_torus), sr = (int)braid_torus_rank(rt->ntori, (uint32_t)ranks, m->hi % rt->ntori);
  m->in_rank = pr == rank ? -1 : pr;
  m->out_rank = sr == rank ? -1 : sr;
  gethostname(m->host, sizeof m->host - 1);
  int rc = 0;
  m->wire_max = sizeof(wire_head) + wire_body(BRAID_MAX_PROCS, rt->facelen, rt->facelen);
  m->sl = calloc(rt->ntori, sizeof *m->sl);
  m->qhead = calloc((size_t)ranks, sizeof *m->qhead);
  m->qtail = calloc((size_t)ranks, sizeof *m->qtail);
  m->rr = rank == 0 ? calloc((size_t)ranks, sizeof *m->rr) : NULL;
  if (!m->sl || !m->qhead || !m->qtail || (rank == 0 && !m->rr)) rc = BRAID_ENOMEM;
  for (uint32_t r = 0; !rc && r < rt->ntori; r++)
    if (is_local(m, r) || r == m->in_torus)
      for (int s = 0; !rc && s < P; s++) rc = braid__projection_alloc(&m->sl[r].p[s], rt->facelen);
  for (int b = 0; !rc && b < P; b++)
    if (!(m->in_buf[b] = malloc(m->wire_max)) || !(m->out_buf[b] = malloc(m->wire_max))) rc = BRAID_ENOMEM;
  if (rc) {
    braid__fmt(errbuf, errlen, "--mpi: %s", braid_strerror(rc));
    return rc;
  }
  /* Workers: -t as given, else the rank's tori, at most its share of the
   * host's CPUs (the ranks on one host split them). */
  MPI_Comm node;
  int here = 1;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &here);
    MPI_Comm_free(&node);
  }
  cpu_set_t set;
  long cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  if (!rt->cfg.v[BRAID_K_threads]) {
    uint32_t share = cpus / here > 1 ? (uint32_t)(cpus / here) : 1;
    m->nthreads = m->hi - m->lo < share ? m->hi - m->lo : share;
  } else m->nthreads = (uint32_t)rt->cfg.v[BRAID_K_threads];
  if (m->nthreads > BRAID_MAX_THREADS) m->nthreads = BRAID_MAX_THREADS;
  if (m->nthreads > 1 && g_inited < 2) {
    braid__fmt(errbuf, errlen, "--mpi: the MPI library does not provide MPI_THREAD_SERIALIZED: run one thread per rank (--threads 1)");
    return BRAID_EUNSUPPORTED;
  }
  rt->nthreads = m->nthreads;
  /* Polling before yielding pays only when no other worker of this host
   * waits for the CPU (with --bind-to none the CPU mask is the host's). */
  m->spin = (long)here * (long)m->nthreads <= cpus;
  /* The other ranks' tori are not run here: free their lattices, except
   * the predecessor of the first torus, which the racy model reads. */
  for (uint32_t r = 0; r < rt->ntori; r++) {
    if (is_local(m, r)) continue;
    rt->tc[r].remote = 1;
    if (r != m->in_torus) {
      braid__torus_free(&rt->tc[r].t);
      memset(&rt->tc[r].t, 0, sizeof rt->tc[r].t);
    }
  }
  rt->cfg.v[BRAID_K_ranks] = ranks;
  free(rt->cfg.text); /* the header's text shows the rank count */
  rt->cfg.text = NULL;
  rt->transport = &braid__transport_mpi;
  rt->transport->init(rt);
  rt->executor = run_mpi;
  return 0;
}
