/* test_diff.c - braid_diff() over synthetic traces whose differences are
 * placed by hand: what it reports first, how it counts, what it ignores. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace/writer.h"
#include "format/record.h"
#define SCRATCH_PREFIX "/tmp/braid-diff-"
#include "scratch.h"

TestSuite(diff, .init = make_dir, .fini = remove_dir, .timeout = 30);

/* ------------------------------------------------------------------ helpers */

#define SETTINGS "model=uniform\nseed=1\ntori=3\ndim=8\nexchanges=20\nthreads=2\nduration_ms=0\nfail=\np.pop=1\n"

/* One change to the stream of exchange k, torus `torus`. */
typedef enum { SAME, DIGEST, INJECT, NO_VCELL } change;
typedef struct tweak {
  change what;
  uint64_t k;
  unsigned torus;
} tweak;

typedef struct shape {
  const char *settings;
  uint64_t first, n; /* exchanges first..first+n-1 */
  tweak tw;
} shape;

/* Records of exchange k shaped like the runtime's: per torus a projection,
 * a violated cell every third exchange, the boundary check, a barrier. */
static void put_exchange(braid__buf *b, uint64_t first, uint64_t k, const tweak *tw)
{
  uint64_t f[1] = { k };
  braid__rec_put(b, BRAID_REC_EXCHANGE, 1, f);
  for (unsigned t = 0; t < 3; t++) {
    int here = tw->k == k && tw->torus == t;
    uint64_t digest = braid__mix64(k * 3 + t) ^ (here && tw->what == DIGEST);
    uint64_t proj[7] = { t, (k + 1) * 1000, k * 20 + t, 512, digest, digest & 0xffffffffu, 1000 };
    braid__rec_put(b, BRAID_REC_PROJECTION, 7, proj);
    /* Wall clock from the start of the run that wrote the trace: a replay
     * from a checkpoint starts its clock at its first exchange. */
    uint64_t bar[6] = { t, t % 2, (k - first) * 1000000 + t, 900000, 1000, 500 };
    braid__rec_put(b, BRAID_REC_BARRIER, 6, bar);
    int vcell = (k + t) % 3 == 0 && !(here && tw->what == NO_VCELL);
    if (vcell) {
      uint64_t vc[5] = { t, 100 + t, 12, 1, 5 };
      braid__rec_put(b, BRAID_REC_VCELL, 5, vc);
    }
    uint64_t bd[6] = { t, (t + 2) % 3, 64, (uint64_t)vcell, vcell ? 11 : 0, vcell ? 5 : 0 };
    braid__rec_put(b, BRAID_REC_BOUNDARY, 6, bd);
    if (here && tw->what == INJECT) {
      uint64_t inj[4] = { t, 5, 1000, 0 };
      braid__rec_put(b, BRAID_REC_INJECTION, 4, inj);
    }
  }
}

/* Writes a finished trace of the shape into the scratch directory. */
static const char *write_trace(const char *name, shape s)
{
  const char *path = tpath(name);
  braid__trace_writer *w;
  char err[256];
  braid__trace_header h = { s.settings ? s.settings : SETTINGS, 1, "0.1.0", "test", "testhost", 1700000000000000000ull, "" };
  cr_assert_eq(braid__tw_open(&w, path, &h, err, sizeof err), 0, "%s", err);
  braid__buf b = { 0 };
  for (uint64_t k = s.first; k < s.first + s.n; k++) {
    b.len = 0;
    put_exchange(&b, s.first, k, &s.tw);
    cr_assert_eq(b.err, 0);
    cr_assert_eq(braid__tw_exchange(w, k, b.p, b.len), 0, "%s", braid__tw_error(w));
  }
  braid__trace_footer f = { BRAID_TRACE_COMPLETE, s.n, s.n * 3000, 3, { 0 } };
  cr_assert_eq(braid__tw_finish(w, &f), 0, "%s", braid__tw_error(w));
  braid__tw_close(w);
  braid__buf_free(&b);
  return path;
}

static braid_diff_result *diff(const char *a, const char *b)
{
  static braid_diff_result r;
  char err[256];
  cr_assert_eq(braid_diff(a, b, &r, err, sizeof err), 0, "%s", err);
  return &r;
}

/* ------------------------------------------------------------------- tests */

Test(diff, equal_streams_are_equal)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .n = 20 }));
  cr_assert_not(r->differ);
  cr_assert_eq(r->differing, 0);
  cr_assert_eq(r->records_a, r->records_b);
  cr_assert_eq(r->compared, r->records_a);
}

Test(diff, a_digest_difference_is_marked_hex_and_shown_in_hex)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .n = 20, .tw = { DIGEST, 7, 1 } }));
  cr_assert(r->differ);
  cr_assert_eq(r->div.exchange, 7);
  cr_assert_eq(r->div.torus, 1);
  cr_assert_str_eq(r->div.record, "projection");
  cr_assert_str_eq(r->div.field, "digest");
  cr_assert(r->div.field_hex);
  char want[64];
  snprintf(want, sizeof want, "digest=%016llx ", (unsigned long long)r->div.expected);
  cr_assert(strstr(r->div.context, want), "want '%s' in\n%s", want, r->div.context);
  snprintf(want, sizeof want, "hash=%016llx ", (unsigned long long)(r->div.expected & 0xffffffffu));
  cr_assert(strstr(r->div.context, want), "want '%s' in\n%s", want, r->div.context);
}

/* Each torus runs 1000 events and 1 ms an exchange: 3 M events/s, also for
 * a trace that starts at exchange 100 and whose events count from 0. */
Test(diff, throughput_counts_the_events_of_the_exchanges_in_the_trace)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .first = 100, .n = 20 }));
  cr_assert_float_eq(r->events_per_s[0], 3e6, 1e-3, "%f", r->events_per_s[0]);
  cr_assert_float_eq(r->events_per_s[1], 3e6, 1e-3, "%f", r->events_per_s[1]);
}

/* A replay of a --duration recording writes exchanges=N (what was recorded)
 * and duration_ms=0, and its own executor settings. */
Test(diff, run_length_and_executor_settings_are_not_compared)
{
  const char *b = "model=uniform\nseed=1\ntori=3\ndim=8\nexchanges=20000\nthreads=0\nduration_ms=300\nfail=\np.pop=1\n";
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .settings = b, .n = 20 }));
  cr_assert_not(r->config_differs, "%s", r->settings);
  cr_assert_str_eq(r->settings, "");
  cr_assert_not(r->differ);
}

Test(diff, settings_that_differ_are_named_with_both_values)
{
  const char *b = "model=uniform\nseed=2\ntori=4\ndim=8\nexchanges=20\nthreads=2\nduration_ms=0\nfail=1@5\np.pop=1\np.max_delay=16\n";
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .settings = b, .n = 20 }));
  cr_assert(r->config_differs);
  cr_assert(r->differ, "differing settings make the traces differ");
  cr_assert_str_eq(r->settings, "seed 1 vs 2, tori 3 vs 4, fail (none) vs 1@5, p.max_delay (unset) vs 16");
}

/* A replay from a checkpoint writes a trace that starts after it. */
Test(diff, a_trace_that_starts_later_is_compared_over_the_exchanges_both_have)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .first = 5, .n = 15 }));
  cr_assert(r->differ, "B lacks exchanges 0..4");
  cr_assert_eq(r->differing, 0, "%s.%s at exchange %llu", r->div.record, r->div.field, (unsigned long long)r->div.exchange);
  cr_assert_eq(r->exchanges[0], 20);
  cr_assert_eq(r->exchanges[1], 15);
  cr_assert_eq(r->common_exchanges, 15);
  cr_assert_eq(r->first_exchange[0], 0);
  cr_assert_eq(r->first_exchange[1], 5);
  cr_assert_eq(r->last_exchange[0], 19);
  cr_assert_eq(r->last_exchange[1], 19);
  cr_assert_eq(r->compared, r->records_b, "every record of B was compared");
}

Test(diff, a_trace_that_ends_earlier_differs_by_its_missing_exchanges_alone)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 12 }), write_trace("b.btr", (shape){ .n = 20 }));
  cr_assert(r->differ);
  cr_assert_eq(r->differing, 0, "%s.%s at exchange %llu", r->div.record, r->div.field, (unsigned long long)r->div.exchange);
  cr_assert_eq(r->common_exchanges, 12);
  cr_assert_eq(r->last_exchange[0], 11);
  cr_assert_eq(r->last_exchange[1], 19);
  cr_assert_eq(r->compared, r->records_a);
}

Test(diff, a_difference_after_a_later_start_is_found_at_its_exchange)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20, .tw = { DIGEST, 9, 2 } }), write_trace("b.btr", (shape){ .first = 5, .n = 15 }));
  cr_assert_eq(r->differing, 1);
  cr_assert_eq(r->div.exchange, 9);
  cr_assert_eq(r->div.torus, 2);
  cr_assert_str_eq(r->div.field, "digest");
}

/* braid-record --inject B@7:5=1000 adds a record to torus B's part of
 * exchange 7 (this trace's injection changes nothing else). */
Test(diff, an_extra_record_is_the_first_difference_and_the_rest_stays_aligned)
{
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .n = 20, .tw = { INJECT, 7, 1 } }));
  cr_assert(r->differ);
  cr_assert_eq(r->div.exchange, 7);
  cr_assert_eq(r->div.torus, 1);
  cr_assert_str_eq(r->div.record, "injection");
  cr_assert_str_eq(r->div.field, "presence");
  cr_assert_eq(r->div.expected, 0, "not in A");
  cr_assert_eq(r->div.actual, BRAID_REC_INJECTION, "in B");
  cr_assert_eq(r->differing, 0, "no pair of records differs");
  cr_assert_eq(r->only[0], 0);
  cr_assert_eq(r->only[1], 1);
  cr_assert_eq(r->only_by_type[1][BRAID_REC_INJECTION], 1);
  cr_assert_eq(r->compared, r->records_a);
  cr_assert(strstr(r->div.context, ">  B injection torus=1 cell=5 payload=1000 seq=0\n"), "%s", r->div.context);
  for (unsigned t = 0; t < 64; t++) cr_assert_eq(r->differing_by_type[t], 0, "type %u", t);
}

Test(diff, a_missing_record_is_counted_as_only_in_a_under_its_own_type)
{
  /* (7 + 2) % 3 == 0: torus C has a violated cell at exchange 7, which B
   * lacks; its boundary record then differs in three fields. */
  braid_diff_result *r = diff(write_trace("a.btr", (shape){ .n = 20 }), write_trace("b.btr", (shape){ .n = 20, .tw = { NO_VCELL, 7, 2 } }));
  cr_assert_eq(r->div.exchange, 7);
  cr_assert_eq(r->div.torus, 2);
  cr_assert_str_eq(r->div.record, "violation");
  cr_assert_str_eq(r->div.field, "presence");
  cr_assert_eq(r->div.expected, BRAID_REC_VCELL);
  cr_assert_eq(r->div.actual, 0);
  cr_assert_eq(r->only[0], 1);
  cr_assert_eq(r->only_by_type[0][BRAID_REC_VCELL], 1);
  cr_assert_eq(r->only[1], 0);
  cr_assert_eq(r->differing, 1);
  cr_assert_eq(r->differing_by_type[BRAID_REC_BOUNDARY], 1);
  cr_assert_eq(r->compared, r->records_b);
}
