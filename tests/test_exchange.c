/* test_exchange.c - the exchange-in of one torus against a projection made
 * by hand: corrections, in-flight accounting, integrity refusals, a failed
 * predecessor and the global checks, read back from the torus's block. */
#include <criterion/criterion.h>
#include "helpers.h"
#include "runtime/exchange.h"

typedef struct fixture {
  braid_runtime *rt;
  mem_sink m;
  braid__projection pred;
} fixture;

/* Torus B (1) of a recorded sequential 3-torus run at D=8, and a projection
 * of torus A at exchange 0 whose face equals B's x=D-1 face. */
static void setup(fixture *f, const char *extra)
{
  char kv[256];
  snprintf(kv, sizeof kv, "model=uniform tori=3 dim=8 exchanges=5 interval=100 tolerance=8 seed=3 sequential=1 %s", extra);
  f->rt = make_runtime(kv, &f->m);
  braid_torus *t = &f->rt->tc[1].t;
  cr_assert_eq(braid__projection_alloc(&f->pred, 64), 0);
  braid__projection_extract(&f->pred, &f->rt->tc[0].t, 100, 0, 0);
  memcpy(f->pred.face, t->state + t->ncells - 64, 64 * sizeof *f->pred.face);
  f->pred.hash = braid__projection_hash(&f->pred);
  f->rt->tc[1].block[0].len = 0;
}

static void teardown(fixture *f)
{
  braid__projection_free(&f->pred);
  braid_runtime_destroy(f->rt);
  mem_free(&f->m);
}

/* The records the exchange-in wrote into torus B's block of exchange k. */
static size_t block_records_of(fixture *f, uint64_t k, braid_record *out, size_t max)
{
  const braid__buf *b = &f->rt->tc[1].block[k % BRAID_REC_SLOTS];
  const uint8_t *p = b->p, *end = b->p + b->len;
  size_t n = 0;
  while (p < end && n < max) cr_assert_eq(braid__rec_decode(&p, end, &out[n++], NULL), 0);
  return n;
}

static size_t block_records(fixture *f, braid_record *out, size_t max) { return block_records_of(f, 0, out, max); }

static const braid_record *find(const braid_record *v, size_t n, unsigned type, size_t nth)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].type == type && nth-- == 0) return &v[i];
  return NULL;
}

Test(exchange, a_violated_cell_gets_the_whole_remaining_deviation_once, .timeout = 30)
{
  fixture f;
  setup(&f, "");
  braid_torus *t = &f.rt->tc[1].t;
  uint32_t base = t->ncells - 64;
  int64_t before3 = t->state[base + 3], before9 = t->state[base + 9];
  f.pred.face[3] += 500;  /* B's cell must rise by 500 */
  f.pred.face[9] -= 20;   /* and this one fall by 20 */
  f.pred.face[12] += 8;   /* within the tolerance: no violation */
  f.pred.hash = braid__projection_hash(&f.pred);
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, &f.pred), 0);
  braid_record r[64];
  size_t n = block_records(&f, r, 64);
  const braid_record *b = find(r, n, BRAID_REC_BOUNDARY, 0);
  cr_assert(b);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_FROM], 0);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_CHECKED], 64);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_VIOLATIONS], 2);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_MAX_DEV], 500);
  cr_assert_eq(b->sfield[BRAID_F_BOUNDARY_CORRECTIVE_SUM], 480);
  const braid_record *v = find(r, n, BRAID_REC_VCELL, 0);
  cr_assert(v);
  cr_assert_eq(v->field[BRAID_F_VCELL_CELL], base + 3);
  cr_assert_eq(v->sfield[BRAID_F_VCELL_PAYLOAD], 500);
  cr_assert_eq(v->sfield[BRAID_F_VCELL_ACTUAL], before3);
  cr_assert_eq(find(r, n, BRAID_REC_VCELL, 1)->sfield[BRAID_F_VCELL_PAYLOAD], -20);
  cr_assert_null(find(r, n, BRAID_REC_VCELL, 2));
  /* The corrections landed ahead of the next epoch: running just them
   * brings both cells to what the predecessor published. */
  cr_assert_eq(t->landed, 2);
  cr_assert_eq(braid__torus_run(t, 2), 2);
  cr_assert_eq(t->state[base + 3], before3 + 500);
  cr_assert_eq(t->state[base + 9], before9 - 20);
  cr_assert_eq(t->corr[3], 0, "nothing is in flight once applied");
  teardown(&f);
}

Test(exchange, a_correction_in_flight_is_not_made_twice, .timeout = 30)
{
  fixture f;
  setup(&f, "");
  braid_torus *t = &f.rt->tc[1].t;
  f.pred.face[5] += 300;
  f.pred.hash = braid__projection_hash(&f.pred);
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, &f.pred), 0);
  cr_assert_eq(t->corr[5], 300);
  /* Checked again before the correction ran: the deviation is still there,
   * but what is in flight covers it. */
  f.rt->tc[1].block[0].len = 0;
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, &f.pred), 0);
  braid_record r[64];
  size_t n = block_records(&f, r, 64);
  const braid_record *b = find(r, n, BRAID_REC_BOUNDARY, 0);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_VIOLATIONS], 1);
  cr_assert_eq(b->sfield[BRAID_F_BOUNDARY_CORRECTIVE_SUM], 0, "no second correction: no overshoot");
  cr_assert_eq(t->corr[5], 300);
  teardown(&f);
}

Test(exchange, a_projection_that_fails_its_hash_or_exchange_is_refused, .timeout = 30)
{
  fixture f;
  setup(&f, "");
  f.pred.face[0] ^= 1; /* bit rot after the hash */
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, &f.pred), 0);
  braid_record r[64];
  size_t n = block_records(&f, r, 64);
  const braid_record *e = find(r, n, BRAID_REC_PROJ_ERROR, 0);
  cr_assert(e);
  cr_assert_eq(e->field[BRAID_F_PROJ_ERROR_REASON], 1);
  cr_assert_null(find(r, n, BRAID_REC_BOUNDARY, 0), "nothing is checked against a damaged projection");
  f.pred.face[0] ^= 1;
  f.rt->tc[1].block[1].len = 0;
  cr_assert_eq(braid__exchange_in(f.rt, 1, 1, &f.pred), 0); /* the projection is of exchange 0 */
  n = block_records_of(&f, 1, r, 64);
  e = find(r, n, BRAID_REC_PROJ_ERROR, 0);
  cr_assert(e);
  cr_assert_eq(e->field[BRAID_F_PROJ_ERROR_REASON], 2);
  cr_assert_eq(f.rt->tc[1].rep.projection_errors, 2);
  teardown(&f);
}

Test(exchange, a_failed_predecessor_gives_an_empty_check, .timeout = 30)
{
  fixture f;
  setup(&f, "");
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, NULL), 0);
  braid_record r[64];
  size_t n = block_records(&f, r, 64);
  const braid_record *b = find(r, n, BRAID_REC_BOUNDARY, 0);
  cr_assert(b);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_CHECKED], 0);
  cr_assert_eq(b->field[BRAID_F_BOUNDARY_VIOLATIONS], 0);
  teardown(&f);
}

Test(exchange, the_global_check_compares_pending_events_and_time, .timeout = 30)
{
  fixture f;
  setup(&f, "tolerance_events=3 tolerance_time=1000000");
  braid__tctx *c = &f.rt->tc[1];
  /* The global checks compare with the torus's own projection of k. */
  braid__projection_extract(&c->own, &c->t, 100, 0, 0);
  f.pred.pending = c->own.pending + 4;
  f.pred.hash = braid__projection_hash(&f.pred);
  cr_assert_eq(braid__exchange_in(f.rt, 1, 0, &f.pred), 0);
  braid_record r[64];
  size_t n = block_records(&f, r, 64);
  const braid_record *g = find(r, n, BRAID_REC_GLOBAL, 0);
  cr_assert(g, "4 pending events apart with a tolerance of 3");
  cr_assert_eq(g->field[BRAID_F_GLOBAL_KIND], 0);
  cr_assert_eq(g->field[BRAID_F_GLOBAL_A], c->own.pending + 4);
  cr_assert_null(find(r, n, BRAID_REC_GLOBAL, 1), "virtual time is within its tolerance");
  teardown(&f);
}

/* A rebuild restores the x=0 face of the torus's last successful
 * projection, which the torus keeps in own.face (runtime.h) and brings up
 * to date only with what each later successful projection changed: torus
 * A fails at 5 and again at 6, so both rebuilds
 * restore P_A(4), which no later claim overwrote.  The face of P_A(4) is
 * the state's x=0 face at the start of epoch 5 (the exchange-in of 4 only
 * queues events); at the start of epoch 7 the state must hold it again. */
typedef struct face_probe {
  int64_t before[64], after[64];
  int seen;
} face_probe;

static uint64_t probe_face(void *ud, braid_runtime *rt, braid_torus *t, uint64_t n)
{
  face_probe *fp = ud;
  if (rt->probe.exchange == 5) {
    memcpy(fp->before, t->state, sizeof fp->before);
    rt->probe.exchange = 7; /* next: the epoch after the second rebuild */
  } else {
    memcpy(fp->after, t->state, sizeof fp->after);
    fp->seen = 1;
  }
  return braid__torus_run(t, n);
}

Test(exchange, a_rebuild_restores_the_face_of_the_last_successful_projection)
{
  mem_sink m;
  braid_runtime *rt = make_runtime("model=uniform tori=3 dim=8 exchanges=10 interval=100 seed=3 sequential=1 fail=A@5,A@6", &m);
  face_probe fp = { { 0 }, { 0 }, 0 };
  rt->probe = (braid__probe){ probe_face, &fp, 0, 5 };
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  cr_assert(fp.seen, "the probe saw epoch 7");
  cr_assert_eq(rt->tc[0].rep.failures, 2);
  int nonzero = 0;
  for (int i = 0; i < 64; i++) {
    cr_assert_eq(fp.after[i], fp.before[i], "cell %d: %lld after the rebuilds, %lld in P_A(4)", i, (long long)fp.after[i], (long long)fp.before[i]);
    nonzero |= fp.before[i] != 0;
  }
  cr_assert(nonzero, "the face is not all zero (so a fresh lattice would not pass)");
  braid_runtime_destroy(rt);
  mem_free(&m);
}

/* The publisher's delta (projection.h): every cell when its successor's
 * state is unknown, the cells changed since the base it names while the
 * log of its last 8 projections covers it, and every cell again once the
 * base has left the log; its own face and sum follow the cells. */
Test(exchange, a_delta_holds_every_cell_changed_since_its_base, .timeout = 30)
{
  fixture f;
  setup(&f, "");
  braid_torus *t = &f.rt->tc[0].t;
  braid__facelog log;
  braid__projection p;
  int64_t face[64] = { 0 };
  uint64_t sum = 0;
  cr_assert_eq(braid__facelog_init(&log, 64), 0);
  cr_assert_eq(braid__projection_alloc(&p, 64), 0);
  braid__projection_publish(&p, t, 100, 0, 0, face, &sum, &log, UINT64_MAX, BRAID__CARRY_DELTA);
  cr_assert_eq(p.delta, BRAID__DELTA_ALL);
  cr_assert_eq(p.ndelta, 64);
  cr_assert(!memcmp(face, t->state, sizeof face), "the face is the torus's x=0 face");
  for (uint64_t k = 1; k <= 11; k++) {
    t->state[k] += 5; /* as an event would, marking it */
    braid__touch(t, (uint32_t)k);
    uint64_t base = k == 10 ? 5 : k == 11 ? 2 : k - 1;
    braid__projection_publish(&p, t, 100, k, 0, face, &sum, &log, base, BRAID__CARRY_DELTA);
    cr_assert_eq(sum, braid__face_sum(t->state, 64), "exchange %llu: the sum follows the face", (unsigned long long)k);
    cr_assert_eq(p.facesum, sum);
    cr_assert_eq(p.hash, braid__projection_hash(&p));
    if (k == 11) {
      /* The log holds exchanges 4..11: what changed after 2 is not known. */
      cr_assert_eq(p.delta, BRAID__DELTA_ALL);
      cr_assert_eq(p.ndelta, 64);
      continue;
    }
    cr_assert_eq(p.delta, BRAID__DELTA_SINCE, "exchange %llu", (unsigned long long)k);
    cr_assert_eq(p.delta_from, base);
    uint32_t want = (uint32_t)(k - base);
    cr_assert_eq(p.ndelta, want, "exchange %llu: %u cells, want %u", (unsigned long long)k, p.ndelta, want);
    for (uint32_t i = 0; i < want; i++) {
      cr_assert_eq(p.delta_cell[i], base + 1 + i, "ascending: the cells changed after the base");
      cr_assert_eq(p.delta_value[i], t->state[base + 1 + i]);
    }
  }
  /* A cell written back to its old value is still sent: it changed. */
  braid__touch(t, 3);
  braid__projection_publish(&p, t, 100, 12, 0, face, &sum, &log, 11, BRAID__CARRY_DELTA);
  cr_assert_eq(p.ndelta, 1);
  cr_assert_eq(p.delta_cell[0], 3);
  braid__projection_free(&p);
  braid__facelog_free(&log);
  teardown(&f);
}
