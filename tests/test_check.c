/* test_check.c - model checks (braid_torus_check): the record and its
 * message, the report, check_stop's exchange in both executors, replay's
 * opts->check, and the built-in models' checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#define SCRATCH_PREFIX "/tmp/braid-check-"
#include "scratch.h"
#include "helpers.h"

TestSuite(check, .init = make_dir, .fini = remove_dir, .timeout = 60);

/* A model compiled into the test: uniform's walk (one follow-up per event,
 * to a face neighbour), asserting that a cell is visited fewer than
 * `limit` times, which the busiest cells of a long enough run break.  The
 * check depends only on the torus, so both executors fail it alike. */
static const braid_param_spec visit_params[] = { { "limit", 6, 1, 1000000, "visits per cell" }, { NULL, 0, 0, 0, NULL } };

typedef struct visits {
  int64_t limit;
  uint32_t *count;
} visits;

static int visit_init(braid_torus *t, void **state)
{
  visits *v = calloc(1, sizeof *v);
  if (!v) return BRAID_ENOMEM;
  *state = v;
  v->limit = braid_torus_param(t, "limit");
  v->count = calloc(braid_torus_ncells(t), sizeof *v->count);
  if (!v->count) return BRAID_ENOMEM;
  for (uint32_t c = 0; c < braid_torus_ncells(t); c++) BRAID_FORWARD(braid_torus_emit(t, c, c, 1 + c % 5, 1));
  return 0;
}

static void visit_handle(braid_torus *t, void *state, const braid_event *ev)
{
  visits *v = state;
  braid_torus_check(t, ++v->count[ev->dst] < v->limit, ev->dst, 42, "visit: a cell was visited too often");
  uint64_t n = braid_torus_events(t);
  braid_torus_emit(t, braid_torus_neighbour(t, ev->dst, (unsigned)(braid_torus_rand(t, 1, n) % 6)), ev->dst, 1 + braid_torus_rand(t, 2, n) % 4, 1);
}

static void visit_fini(void *state)
{
  visits *v = state;
  free(v->count);
  free(v);
}

static const braid_model visit_model = { BRAID_MODEL_ABI, "visit", 1, "asserts a visit limit per cell", visit_params, visit_init, visit_handle, visit_fini, 8 };

#define OVERFLOWING "dim=8 exchanges=40 interval=500"

/* settings() with the visit model. */
static braid_runtime *visit_runtime(const char *kv)
{
  braid_config *cfg = settings(kv);
  cr_assert_eq(braid_config_set_model(cfg, &visit_model), 0, "%s", braid_config_error(cfg));
  braid_runtime *rt;
  char err[256];
  cr_assert_eq(braid_runtime_create(&rt, cfg, err, sizeof err), 0, "%s: %s", kv, err);
  braid_config_destroy(cfg);
  return rt;
}

/* Runs kv into a trace at `path`; returns the report. */
static braid_report record_to(const char *kv, const char *path)
{
  braid_runtime *rt = visit_runtime(kv);
  cr_assert_eq(braid_runtime_record(rt, path), 0, "%s", braid_runtime_error(rt));
  int rc = braid_runtime_run(rt);
  cr_assert_eq(rc, 0, "%s: %s", kv, braid_runtime_error(rt));
  braid_report rep;
  cr_assert_eq(braid_runtime_report(rt, &rep), 0);
  rep.torus = NULL;
  rep.convergence = NULL;
  braid_runtime_destroy(rt);
  return rep;
}

/* The CHECK records of a trace, in stream order (at most max). */
typedef struct seen_check {
  uint64_t exchange, event;
  uint32_t torus, cell, code;
  char msg[BRAID_CHECK_MESSAGE_MAX];
} seen_check;

static size_t read_checks(const char *path, seen_check *v, size_t max, uint64_t *exchanges)
{
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  size_t n = 0;
  int rc;
  *exchanges = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    if (r.type == BRAID_REC_EXCHANGE) (*exchanges)++;
    if (r.type != BRAID_REC_CHECK || n >= max) continue;
    seen_check *c = &v[n++];
    c->exchange = r.exchange;
    c->torus = (uint32_t)r.field[BRAID_F_CHECK_TORUS];
    c->event = r.field[BRAID_F_CHECK_EVENT];
    c->cell = (uint32_t)r.field[BRAID_F_CHECK_CELL];
    c->code = (uint32_t)r.field[BRAID_F_CHECK_CODE];
    cr_assert_eq(r.bloblen, r.field[BRAID_F_CHECK_MESSAGE_LEN]);
    memcpy(c->msg, r.blob, r.bloblen);
    c->msg[r.bloblen] = 0;
  }
  cr_assert_eq(rc, BRAID_EEOF, "%s", braid_trace_error(t));
  braid_trace_close(t);
  return n;
}

Test(check, a_failed_check_is_recorded_with_its_message_and_reported)
{
  braid_report rep = record_to(OVERFLOWING " sequential=1", tpath("b.btr"));
  cr_assert_gt(rep.check_failures, 0);
  cr_assert_eq(rep.first_check_code, 42);
  cr_assert_str_eq(rep.first_check_message, "visit: a cell was visited too often");
  cr_assert_eq(rep.check_stopped, 0);
  cr_assert_eq(rep.exchanges, 40, "without check_stop the run goes on");
  static seen_check v[8192];
  uint64_t nexch;
  size_t n = read_checks(tpath("b.btr"), v, 8192, &nexch);
  cr_assert_lt(n, 8192);
  cr_assert_gt(n, 0);
  cr_assert_eq((int64_t)v[0].exchange, rep.first_check_exchange);
  cr_assert_eq(v[0].torus, rep.first_check_torus);
  cr_assert_eq(v[0].cell, rep.first_check_cell);
  cr_assert_eq(v[0].event, rep.first_check_event);
  cr_assert_str_eq(v[0].msg, rep.first_check_message);
  cr_assert_lt(v[0].cell, 512);
  /* At most 4 per torus per epoch are kept; all are counted. */
  cr_assert_geq(rep.check_failures, n);
}

Test(check, a_run_without_failures_records_no_check)
{
  braid_report rep = record_to("dim=16 interval=500 exchanges=2 sequential=1", tpath("ok.btr"));
  cr_assert_eq(rep.check_failures, 0);
  cr_assert_eq(rep.first_check_exchange, -1);
  seen_check v[4];
  uint64_t nexch;
  cr_assert_eq(read_checks(tpath("ok.btr"), v, 4, &nexch), 0);
}

/* check_stop ends the run at exchange e + N - 2 in both executors, so that
 * their traces are the same (DESIGN 13: "the run either goes on or stops").
 * The chaos seeds shuffle which torus runs ahead. */
Test(check, check_stop_ends_threaded_and_sequential_runs_at_the_same_exchange)
{
  for (int tori = 2; tori <= 4; tori++) {
    char kv[256];
    snprintf(kv, sizeof kv, OVERFLOWING " check_stop=1 tori=%d sequential=1", tori);
    braid_report seq = record_to(kv, tpath("seq.btr"));
    snprintf(kv, sizeof kv, OVERFLOWING " check_stop=1 tori=%d threads=2 chaos=%d", tori, 7 + tori);
    braid_report thr = record_to(kv, tpath("thr.btr"));
    cr_assert_eq(seq.check_stopped, 1);
    cr_assert_eq(thr.check_stopped, 1);
    cr_assert_geq(seq.first_check_exchange, 0);
    uint64_t last = (uint64_t)seq.first_check_exchange + (uint64_t)tori - 2;
    cr_assert_eq(seq.exchanges, last + 1, "%d tori: first failure at %lld", tori, (long long)seq.first_check_exchange);
    cr_assert_eq(thr.exchanges, seq.exchanges);
    braid_diff_result d;
    char err[256];
    cr_assert_eq(braid_diff(tpath("seq.btr"), tpath("thr.btr"), &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.differ, 0, "%d tori: %s.%s at exchange %llu", tori, d.div.record, d.div.field, (unsigned long long)d.div.exchange);
  }
}

Test(check, replay_stops_at_the_nth_failed_check_and_shows_it)
{
  record_to(OVERFLOWING " threads=2", tpath("b.btr"));
  static seen_check v[8192];
  uint64_t nexch;
  size_t n = read_checks(tpath("b.btr"), v, 8192, &nexch);
  cr_assert_lt(n, 8192);
  cr_assert_geq(n, 3);
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.check = 3;
  o.model = &visit_model;
  braid_replay_result res;
  char err[256];
  cr_assert_eq(braid_replay(tpath("b.btr"), &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert_eq(res.diverged, 0);
  cr_assert_eq(res.stopped_at_check, 1);
  cr_assert_eq(res.check.exchange, v[2].exchange);
  cr_assert_eq(res.check.torus, v[2].torus);
  cr_assert_eq(res.check.cell, v[2].cell);
  cr_assert_eq(res.check.event, v[2].event);
  cr_assert_eq(res.check.code, v[2].code);
  cr_assert_str_eq(res.check.message, v[2].msg);
  cr_assert_eq(res.check.x * 64 + res.check.y * 8 + res.check.z, res.check.cell, "(x,y,z) of cell %u at D=8", res.check.cell);
  /* Past the last one: the replay runs through and counts them. */
  o.check = n + 1;
  cr_assert_eq(braid_replay(tpath("b.btr"), &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert_eq(res.stopped_at_check, 0);
  cr_assert_eq(res.checks, n);
  cr_assert_eq(res.exchanges_checked, nexch);
}

/* The message follows the fields: a reader that knows only the fields
 * (here: the decoder told about 5 of them, as any reader of the table is)
 * skips it by the record's length, and the message is bounded by the
 * record when message_len claims more than it holds. */
Test(check, message_after_the_fields_is_bounded_and_skipped)
{
  braid__buf b = { 0 };
  uint64_t f[5] = { 1, 77, 5, 9, 5 };
  braid__rec_put_tail(&b, BRAID_REC_CHECK, 5, f, "hello", 5);
  uint64_t g[1] = { 3 };
  braid__rec_put(&b, BRAID_REC_EXCHANGE, 1, g);
  const uint8_t *p = b.p, *end = b.p + b.len;
  braid_record r;
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.type, BRAID_REC_CHECK);
  cr_assert_eq(r.nfields, 5);
  cr_assert_eq(r.field[BRAID_F_CHECK_EVENT], 77);
  cr_assert_eq(r.bloblen, 5);
  cr_assert_eq(memcmp(r.blob, "hello", 5), 0);
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.type, BRAID_REC_EXCHANGE, "the next record starts after the message");
  cr_assert_eq(r.field[0], 3);
  /* message_len 200 over a 5-byte message. */
  b.len = 0;
  f[4] = 200;
  braid__rec_put_tail(&b, BRAID_REC_CHECK, 5, f, "hello", 5);
  p = b.p;
  end = b.p + b.len;
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.bloblen, 5);
  cr_assert_eq(p, end);
  braid__buf_free(&b);
}

/* The kernel keeps the first BRAID_CHECKS_PER_EPOCH failures with their
 * message (printable ASCII, cut at BRAID_CHECK_MESSAGE_MAX - 1) and counts
 * them all; a passing check stages nothing. */
Test(check, kernel_stages_the_first_failures_and_counts_all)
{
  braid_runtime *rt = visit_runtime("dim=8 sequential=1");
  braid_torus *t = &rt->tc[0].t;
  char longmsg[300];
  memset(longmsg, 'x', sizeof longmsg - 1);
  longmsg[sizeof longmsg - 1] = 0;
  longmsg[3] = '\n';
  cr_assert_eq(braid_torus_check(t, 1, 1, 1, "fine"), 1);
  cr_assert_eq(braid_torus_check(t, 0, 2, 7, longmsg), 0);
  for (int i = 0; i < 9; i++) braid_torus_check(t, 0, 3, 8, NULL);
  uint32_t n;
  const braid__failed_check *v = braid__torus_take_checks(t, &n);
  cr_assert_eq(n, BRAID_CHECKS_PER_EPOCH);
  cr_assert_eq(t->checks_failed, 10);
  cr_assert_eq(v[0].cell, 2);
  cr_assert_eq(v[0].code, 7);
  cr_assert_eq(v[0].len, BRAID_CHECK_MESSAGE_MAX - 1);
  cr_assert_eq(v[0].msg[3], '?', "control characters are not kept");
  cr_assert_eq(v[1].len, 0);
  braid__torus_take_checks(t, &n);
  cr_assert_eq(n, 0, "taking empties the stage");
  braid_runtime_destroy(rt);
}
