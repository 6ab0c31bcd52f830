/* test_diff.c - braid-diff as a user runs it: equal and differing runs,
 * settings, --timing, --json, its bad input. */
#include "tools.h"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

Test(tools, diff_of_threaded_and_sequential_runs_is_equal, .timeout = 60)
{
  record("run.btr", NULL);
  record("seq.btr", "--sequential");
  result r = run("braid-diff", "run.btr", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "equal"), SHOW(r));
  drop(&r);
}

Test(tools, diff_catches_the_racy_model, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  expect_ok(run("braid-record", RACY_RUN, "--sequential", "-o", "racy-seq.btr", NULL));
  result r = run("braid-diff", "racy.btr", "racy-seq.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "first difference at exchange"), SHOW(r));
  drop(&r);
}

/* The replay's trace says exchanges=N (as many as were recorded) and
 * duration_ms=0: run length is not a setting braid-diff compares. */
Test(tools, diff_of_a_duration_recording_and_its_replay_is_equal, .timeout = 60)
{
  expect_ok(run("braid-record", "--duration", "0.3", "-d", "8", "-q", "-o", "dur.btr", NULL));
  expect_ok(run("braid-replay", "-q", "-o", "rep.btr", "dur.btr", NULL));
  result r = run("braid-diff", "dur.btr", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "equal: the logical streams are identical"), SHOW(r));
  cr_assert_not(strstr(r.out, "settings differ"), SHOW(r));
  drop(&r);
}

Test(tools, diff_names_the_settings_that_differ_with_both_values, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "20", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "30", "-d", "8", "--seed", "2", "-n", "4", "--sequential", "-q", "-o", "b.btr", NULL));
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "settings differ: seed 1 vs 2, tori 3 vs 4 (";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  drop(&r);
}

Test(tools, diff_partial_says_where_a_truncated_copy_ends, .timeout = 60)
{
  record("big.btr", NULL);
  size_t n;
  char *bytes = load(tpath("big.btr"), &n);
  save(tpath("trunc.btr"), bytes, n / 2);
  free(bytes);
  result r = run("braid-diff", "--partial", "big.btr", "trunc.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *p = strstr(r.out, "B ends after exchange ");
  unsigned long long last, more, lo, hi;
  cr_assert(p && sscanf(p, "B ends after exchange %llu (truncated): A has %llu more exchanges (%llu..%llu)", &last, &more, &lo, &hi) == 4, SHOW(r));
  cr_assert(lo == last + 1 && hi == 299 && more == 299 - last, SHOW(r));
  cr_assert(strstr(r.out, ", 0 differ\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "presence"), SHOW(r));
  cr_assert_not(strstr(r.out, "first difference"), SHOW(r));
  drop(&r);
}

Test(tools, diff_says_plainly_that_a_trace_from_a_checkpoint_starts_later, .timeout = 60)
{
  record_and_replay_from_a_checkpoint();
  result r = run("braid-diff", "ck.btr", "r.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "B starts at exchange 100, A at exchange 0: exchanges 0..99 are only in A\n";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  cr_assert(strstr(r.out, "the 200 exchanges both traces have are identical\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "first difference"), SHOW(r));
  drop(&r);
}

Test(tools, diff_names_an_extra_record_as_the_first_difference, .timeout = 60)
{
  record_with_and_without_an_injection();
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *want = "first difference at exchange 10, torus B (1): injection only in B\n";
  cr_assert(!strncmp(r.out, want, strlen(want)), SHOW(r));
  cr_assert(strstr(r.out, "\n>  B injection torus=1 cell=5 payload=1000 seq=0\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n  injection          1 only in B\n"), SHOW(r));
  drop(&r);
}

Test(tools, diff_counts_no_more_differing_records_of_a_type_than_there_are, .timeout = 60)
{
  record_with_and_without_an_injection();
  expect_counts_within_each_type("a.btr", "b.btr");
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  expect_ok(run("braid-record", RACY_RUN, "--sequential", "-o", "racy-seq.btr", NULL));
  expect_counts_within_each_type("racy.btr", "racy-seq.btr");
}

/* The event-conservation tolerance is never reached in this run, so the
 * streams are the same although a logical setting differs. */
Test(tools, diff_says_the_streams_are_identical_when_only_the_settings_differ, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "-q", "-o", "a.btr", NULL));
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "-q", "--set", "tolerance_events=2000000", "-o", "b.btr", NULL));
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "settings differ: tolerance_events 1000000 vs 2000000 ("), SHOW(r));
  cr_assert(strstr(r.out, ", 0 differ\nthe 50 exchanges both traces have are identical\n"), SHOW(r));
  drop(&r);
}

/* r.btr's projections count the events from exchange 0. */
Test(tools, diff_timing_measures_a_trace_from_a_checkpoint_over_its_own_exchanges, .timeout = 60)
{
  record_and_replay_from_a_checkpoint();
  result r = run("braid-diff", "--timing", "ck.btr", "r.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  const char *p = strstr(r.out, "throughput (M events/s)");
  double a, b;
  cr_assert(p && sscanf(p, "throughput (M events/s) %lf %lf", &a, &b) == 2, SHOW(r));
  double want = throughput_from_dump("r.btr");
  cr_assert(b > want - 0.006 && b < want + 0.006, "B: %.2f M events/s, want %.4f\n%s", b, want, r.out);
  want = throughput_from_dump("ck.btr");
  cr_assert(a > want - 0.006 && a < want + 0.006, "A: %.2f M events/s, want %.4f\n%s", a, want, r.out);
  drop(&r);
}

Test(tools, diff_prints_digests_as_braid_dump_does, .timeout = 60)
{
  record_with_and_without_an_injection();
  result r = run("braid-diff", "a.btr", "b.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "  A projection"), SHOW(r));
  expect_digest_as_in_dump(strstr(r.out, "  A projection"), "a.btr");
  drop(&r);
}

/* braid-diff --json: verdict, first difference and counts; a file compared
 * with itself (by any path) is said to be one file, in words and in JSON. */
Test(tools, diff_json_and_diff_of_one_file_with_itself, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-diff", "--json", "seq.btr", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  json_says(&r, "d.json", "[.verdict, .same_file, .divergence.exchange, .divergence.torus, .divergence.record, .divergence.field, .records.differing] | tojson",
            "[\"differ\",false,5,0,\"projection\",\"vtime\",1]");
  json_says(&r, "d.json", ".divergence.b - .divergence.a", "1");
  json_says(&r, "d.json", "[.exchanges.a, .exchanges.common, .by_type[0].type, .by_type[0].differing] | tojson", "[50,50,\"projection\",1]");
  drop(&r);
  cr_assert_eq(symlink("seq.btr", tpath("link.btr")), 0);
  r = run("braid-diff", "seq.btr", "link.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "seq.btr and link.btr are the same file: it is compared with itself\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nequal: one file, compared with itself"), SHOW(r));
  drop(&r);
  r = run("braid-diff", "--json", "./seq.btr", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "s.json", "[.verdict, .same_file, .divergence] | tojson", "[\"equal\",true,null]");
  drop(&r);
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq2.btr", NULL));
  r = run("braid-diff", "seq.btr", "seq2.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_null(strstr(r.out, "same file"), SHOW(r));
  drop(&r);
}

Test(bad_input, diff_refuses_an_unknown_flag) { expect_trouble(run("braid-diff", "--bogus", "a.btr", "b.btr", NULL), "--bogus", NULL); }

Test(bad_input, diff_refuses_one_trace) { expect_trouble(run("braid-diff", "a.btr", NULL), "two traces", NULL); }

Test(cli, diff_has_help_and_version) { help_and_version("braid-diff"); }

Test(cli, diff_help_options_are_in_its_man_page) { help_options_in_man_page("braid-diff"); }
