/* test_decisions.c - the run's decisions: the live source (injections
 * queued by braid_inject), the recorded source a replay fills, and a
 * replay that follows more injections at one exchange than the old table
 * held (256 per torus per exchange). */
#include <criterion/criterion.h>
#include "helpers.h"
#include "runtime/decisions.h"
#define SCRATCH_PREFIX "/tmp/braid-decisions-"
#include "scratch.h"

Test(decisions, live_injections_wait_for_their_exchange_and_keep_their_order)
{
  braid__decisions *d;
  cr_assert_eq(braid__decisions_create(&d, 0, 3), 0);
  cr_assert_eq(braid__decisions_inject(d, 1, 10, 5, 4), 0);
  cr_assert_eq(braid__decisions_inject(d, 2, 11, 6, 0), 0);
  cr_assert_eq(braid__decisions_inject(d, 1, 12, 7, 2), 0);
  const braid__injection *v;
  size_t n;
  cr_assert_eq(braid__decisions_injections(d, 1, 1, &v, &n), 0);
  cr_assert_eq(n, 0, "nothing is due at exchange 1");
  cr_assert_eq(braid__decisions_injections(d, 1, 4, &v, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(v[0].cell, 10, "the order of braid_inject, not of the exchanges asked for");
  cr_assert_eq(v[1].cell, 12);
  cr_assert_eq(braid__decisions_injections(d, 1, 9, &v, &n), 0);
  cr_assert_eq(n, 0, "taken once");
  cr_assert_eq(braid__decisions_injections(d, 2, 0, &v, &n), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(v[0].payload, 6);
  cr_assert_eq(braid__decisions_inject(d, 3, 0, 1, 0), BRAID_ERANGE);
  cr_assert_eq(braid__decisions_heartbeat(d, 0, 5, 1), 1, "live: what the executor observed");
  cr_assert_eq(braid__decisions_rate_interval(d, 0, 5, 100, 300), 300u);
  braid__decisions_destroy(d);
}

Test(decisions, recorded_source_answers_by_exchange_and_torus_in_stream_order)
{
  braid__decisions *d;
  cr_assert_eq(braid__decisions_create(&d, 1, 2), 0);
  cr_assert_eq(braid__decisions_inject(d, 0, 1, 1, 0), BRAID_ESTATE, "a replay follows the trace's injections only");
  /* Out of exchange order, as a hostile trace may have them. */
  cr_assert_eq(braid__decisions_add_injection(d, 1, 7, 3, -30, 9), 0);
  cr_assert_eq(braid__decisions_add_injection(d, 0, 7, 1, 10, 10), 0);
  cr_assert_eq(braid__decisions_add_injection(d, 1, 2, 2, 20, 11), 0);
  cr_assert_eq(braid__decisions_add_injection(d, 1, 7, 4, 40, 3), 0);
  cr_assert_eq(braid__decisions_add_failure(d, 1, 5), 0);
  cr_assert_eq(braid__decisions_add_interval(d, 0, 3, 700), 0);
  cr_assert_eq(braid__decisions_add_interval(d, 0, 3, 800), 0);
  cr_assert_eq(braid__decisions_add_failure(d, 2, 5), BRAID_ERANGE, "torus C of a 2-torus run");
  const braid__injection *v;
  size_t n;
  cr_assert_eq(braid__decisions_injections(d, 1, 7, &v, &n), BRAID_ESTATE, "not sealed yet");
  cr_assert_eq(braid__decisions_seal(d), 0);
  cr_assert_eq(braid__decisions_injections(d, 1, 7, &v, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(v[0].cell, 3, "stream order within the exchange, not seq order");
  cr_assert_eq(v[1].cell, 4);
  cr_assert_eq(v[0].payload, -30);
  cr_assert_eq(braid__decisions_injections(d, 1, 7, &v, &n), 0);
  cr_assert_eq(n, 2, "a recorded source answers the same again");
  cr_assert_eq(braid__decisions_injections(d, 0, 2, &v, &n), 0);
  cr_assert_eq(n, 0);
  cr_assert_eq(braid__decisions_heartbeat(d, 1, 5, 0), 1);
  cr_assert_eq(braid__decisions_heartbeat(d, 1, 4, 1), 0, "recorded: an observation does not count");
  cr_assert_eq(braid__decisions_rate_interval(d, 0, 3, 100, 5000), 800u, "the last change recorded wins");
  cr_assert_eq(braid__decisions_rate_interval(d, 0, 4, 100, 5000), 100u, "no record: the interval stays");
  braid__decisions_destroy(d);
}

TestSuite(decisions_replay, .init = make_dir, .fini = remove_dir);

/* 300 injections on torus B, all due at exchange 12: they land together,
 * and the replay follows every one of them. */
Test(decisions_replay, replay_follows_300_injections_at_one_exchange, .timeout = 60)
{
  const char *path = tpath("many.btr");
  braid_runtime *rt = make_runtime("model=uniform tori=3 dim=8 exchanges=30 interval=200 seed=5 threads=2", NULL);
  for (uint32_t i = 0; i < 300; i++) cr_assert_eq(braid_inject(rt, 1, i * 7 % 512, (int32_t)i - 150, 12), 0);
  cr_assert_eq(braid_runtime_record(rt, path), 0, "%s", braid_runtime_error(rt));
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  /* All 300 are in exchange 12 of the trace. */
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  unsigned at12 = 0, elsewhere = 0;
  while (braid_trace_next(t, &r) == 0)
    if (r.type == BRAID_REC_INJECTION) *(r.exchange == 12 && r.field[BRAID_F_INJECTION_TORUS] == 1 ? &at12 : &elsewhere) += 1;
  braid_trace_close(t);
  cr_assert_eq(at12, 300);
  cr_assert_eq(elsewhere, 0);
  braid_replay_result res;
  cr_assert_eq(braid_replay(path, NULL, &res, err, sizeof err), 0, "%s", err);
  cr_assert(!res.diverged, "diverged at exchange %llu: %s %s", (unsigned long long)res.div.exchange, res.div.record, res.div.field);
  cr_assert_eq(res.exchanges_checked, 30);
}
