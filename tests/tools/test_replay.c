/* test_replay.c - braid-replay as a user runs it: verdicts, --violation,
 * --until, --from, --json, its bad input. */
#include "tools.h"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

Test(tools, replay_of_a_threaded_recording_is_ok, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-replay", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

Test(tools, replay_catches_the_racy_model, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  result r = run("braid-replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "DIVERGED at exchange"), SHOW(r));
  cr_assert(strstr(r.out, "torus"), SHOW(r));
  cr_assert(strstr(r.out, " matched before it; the parallel run differs from sequential execution\n"), SHOW(r));
  drop(&r);
}

/* A sequential recording has no parallel run to blame: its divergence (here
 * from a projection altered at exchange 5) says the replay differs. */
Test(tools, replay_divergence_of_a_sequential_recording_blames_no_parallel_run, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-replay", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(!strncmp(r.out, "DIVERGED at exchange 5, torus A (0): projection.vtime recorded ", 63), SHOW(r));
  cr_assert(strstr(r.out, "\n5 exchanges matched before it; the replay differs from the recording\n"), SHOW(r));
  cr_assert_not(strstr(r.out, "parallel"), SHOW(r));
  drop(&r);
}

Test(tools, replay_context_prints_digests_as_braid_dump_does, .timeout = 60)
{
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  result r = run("braid-replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  cr_assert(strstr(r.out, "  recorded projection"), SHOW(r));
  expect_digest_as_in_dump(strstr(r.out, "  recorded projection"), "racy.btr");
  drop(&r);
}

Test(tools, replay_stops_at_a_violation_and_shows_its_cells, .timeout = 60)
{
  record("tol.btr", "--tolerance=0");
  result r = run("braid-replay", "--violation", "1", "tol.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "violation 1: exchange"), SHOW(r));
  cr_assert(strstr(r.out, "expected") && strstr(r.out, "actual"), SHOW(r));
  /* At least one row: cell (x,y,z) expected actual correction. */
  int rows = 0;
  for (char *l = r.out; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned cell, x, y, z;
    long long e, a;
    int p;
    if (sscanf(l, " %u (%u,%u,%u) %lld %lld %d", &cell, &x, &y, &z, &e, &a, &p) == 7) {
      rows++;
      cr_assert_neq(e, a, "a violated cell shows different expected and actual values:\n%s", l);
    }
  }
  cr_assert_geq(rows, 1, SHOW(r));
  drop(&r);
}

Test(tools, replay_says_a_violation_that_is_not_reached, .timeout = 60)
{
  record("run.btr", NULL);
  char want[128];
  snprintf(want, sizeof want, "; violation 999999 not reached (the trace has %llu)\n", checks_with_violations("run.btr"));
  result r = run("braid-replay", "--violation", "999999", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(!strncmp(r.out, "OK: 300 exchanges", 17), SHOW(r));
  cr_assert(strstr(r.out, want), "want '%s'\n" SHOW_FMT, want, SHOW_ARGS(r));
  drop(&r);
}

Test(tools, replay_says_until_past_the_end, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-replay", "--until", "100000", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "--until 100000 is past the end (the trace ends at exchange 299)"), SHOW(r));
  drop(&r);
  r = run("braid-replay", "--until", "299", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_not(strstr(r.out, "past the end"), "--until at the last exchange is not past it\n" SHOW(r));
  drop(&r);
}

Test(tools, replay_of_one_exchange_says_exchange, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--until", "0", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 1 exchange, "), SHOW(r));
  drop(&r);
  r = run("braid-replay", "--from", "100", "--until", "100", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 1 exchange, ") && strstr(r.out, "(exchange 100, from a checkpoint, which was trusted, not verified)"), SHOW(r));
  drop(&r);
}

Test(tools, replay_from_a_checkpoint_compares_only_the_exchanges_after_it, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--from", "120", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  /* Checkpoints after exchanges 49, 99, 149, ...: the last at or before 120 is 99. */
  cr_assert(strstr(r.out, "OK: 200 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "exchanges 100..299, from a checkpoint"), SHOW(r));
  drop(&r);
}

/* The trace written by a replay --from starts with its checkpoint, so it
 * replays on its own; once it compared exchange 100 with exchange 0. */
Test(tools, replay_of_a_replay_from_a_checkpoint_starts_from_that_checkpoint, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "--checkpoint-every", "50", "-d", "8", "-q", "-o", "ck.btr", NULL));
  expect_ok(run("braid-replay", "--from", "120", "-q", "-o", "rep.btr", "ck.btr", NULL));
  result r = run("braid-replay", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out,
                   "OK: 200 exchanges, consistent from the checkpoint of exchange 99 (exchanges 100..299, from a checkpoint, which was "
                   "trusted, not verified); final state == footer\n",
                   SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

/* Cut, that trace still starts at exchange 100: the note says where its
 * complete exchanges end, not a count that takes them from exchange 0. */
Test(tools, replay_of_a_cut_replay_trace_says_where_its_exchanges_end, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "--checkpoint-every", "50", "-d", "8", "-q", "-o", "ck.btr", NULL));
  expect_ok(run("braid-replay", "--from", "120", "-q", "-o", "rep.btr", "ck.btr", NULL));
  struct stat st;
  cr_assert_eq(stat(tpath("rep.btr"), &st), 0);
  cr_assert_eq(truncate(tpath("rep.btr"), st.st_size * 3 / 4), 0);
  result r = run("braid-replay", "--partial", "rep.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  unsigned long long n = 0, last = 0;
  const char *note = strstr(r.err, "; replaying from the checkpoint up to its last complete exchange, ");
  cr_assert(sscanf(r.out, "OK: %llu", &n) == 1 && n > 0, SHOW(r));
  cr_assert(note && sscanf(strchr(note, ',') + 1, "%llu", &last) == 1, SHOW(r));
  cr_assert_eq(last, 99 + n, "exchanges 100..%llu are %llu\n" SHOW_FMT, last, n, SHOW_ARGS(r));
  drop(&r);
}

Test(tools, replay_from_the_last_checkpoint_says_nothing_follows_it, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  /* The last checkpoint follows exchange 299, the last exchange. */
  result r = run("braid-replay", "--from", "299", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 0 exchanges"), SHOW(r));
  cr_assert(strstr(r.out, "checkpoint after exchange 299") && strstr(r.out, "nothing after it"), SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

Test(tools, replay_of_a_duration_recording_runs_every_recorded_exchange, .timeout = 60)
{
  expect_ok(run("braid-record", "--duration", "0.5", "-t", "2", "-d", "16", "-q", "-o", "dur.btr", NULL));
  result s = run("braid-dump", "--stats", "dur.btr", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  unsigned long long n = 0;
  const char *p = strstr(s.out, "\nexchanges");
  cr_assert(p && sscanf(p, " exchanges %llu", &n) == 1 && n > 0, SHOW(s));
  char want[64];
  snprintf(want, sizeof want, "OK: %llu exchanges", n);
  result r = run("braid-replay", "dur.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, want), "want '%s'\n" "%s", want, r.out);
  drop(&s);
  drop(&r);
}

/* One exchange is "1 exchange" in every tool; --from without a checkpoint
 * before it says the replay went from the start. */
Test(tools, counts_of_one_and_from_without_a_checkpoint_are_said_plainly, .timeout = 60)
{
  result r = run("braid-record", "-x", "1", "-d", "8", "-o", "one.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, ", 1 exchange, "), SHOW(r));
  drop(&r);
  r = run("braid-dump", "one.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "# end: 1 exchange, "), SHOW(r));
  drop(&r);
  record("run.btr", NULL);
  r = run("braid-replay", "--from", "20", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges") && strstr(r.out, "no checkpoint at or before --from 20, so it replayed from the start"), SHOW(r));
  drop(&r);
}

/* --json for CI: braid-replay's verdict, divergence and counts, one JSON
 * document on stdout with the exit status of the text output. */
Test(tools, replay_json_gives_the_verdict_and_the_divergence, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-x", "50", "-d", "8", "--sequential", "-q", "-o", "seq.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "seq.btr", "altered.btr", "0", "5", NULL));
  result r = run("braid-replay", "--json", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "ok.json", "[.verdict, .exchanges_checked, .trace_exchanges, .recorded_threaded, .divergence, .from_checkpoint] | tojson",
            "[\"ok\",50,50,false,null,null]");
  drop(&r);
  r = run("braid-replay", "--json", "altered.btr", NULL);
  cr_assert_eq(r.status, 1, SHOW(r));
  json_says(&r, "div.json", "[.verdict, .exchanges_checked, .divergence.exchange, .divergence.torus, .divergence.record, .divergence.field] | tojson",
            "[\"diverged\",5,5,0,\"projection\",\"vtime\"]");
  json_says(&r, "div.json", ".divergence.recorded - .divergence.replayed", "1");
  json_says(&r, "div.json", ".divergence.context | test(\"projection\")", "true");
  drop(&r);
  r = run("braid-replay", "--json", "--violation", "1", "seq.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  json_says(&r, "viol.json", "[.verdict, .violation.n, (.violation.cells | length > 0)] | tojson", "[\"violation\",1,true]");
  drop(&r);
  /* Trouble stays one line on stderr, nothing on stdout. */
  expect_trouble(run("braid-replay", "--json", "nosuch.btr", NULL), "nosuch.btr", NULL);
}

Test(tools, replay_under_rr_runs_or_says_why_rr_cannot_record, .timeout = 120)
{
  record("run.btr", NULL);
  /* What this machine's rr says about recording at all. */
  result probe = run(RR, "record", "true", NULL);
  if (probe.status == 0) {
    drop(&probe);
    result r = run("braid-replay", "--rr", "run.btr", NULL);
    cr_assert_eq(r.status, 0, SHOW(r));
    cr_assert(strstr(r.out, "OK: 300 exchanges"), SHOW(r));
    drop(&r);
    return;
  }
  result r = run("braid-replay", "--rr", "run.btr", NULL);
  if (probe.status == 127) {
    expect_trouble(r, "--rr", "rr");
  } else {
    /* The reason is rr's first line, without a "[FATAL file:line] " prefix. */
    char why[256];
    snprintf(why, sizeof why, "%.*s", (int)strcspn(probe.err, "\n"), probe.err);
    const char *reason = why[0] == '[' && strstr(why, "] ") ? strstr(why, "] ") + 2 : why;
    expect_trouble(r, "rr cannot record", reason);
  }
  drop(&probe);
}

Test(bad_input, replay_says_a_plugin_directory_is_a_directory)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-replay", "--model-plugin", ".", "run.btr", NULL), "--model-plugin: .: is a directory", NULL);
}

Test(bad_input, replay_refuses_an_unknown_flag) { expect_trouble(run("braid-replay", "--bogus", "x.btr", NULL), "--bogus", NULL); }

Test(bad_input, replay_refuses_a_number_with_garbage) { expect_trouble(run("braid-replay", "--until", "12x", "x.btr", NULL), "--until", "12x"); }

Test(bad_input, replay_refuses_a_negative_number) { expect_trouble(run("braid-replay", "--until", "-5", "x.btr", NULL), "--until", "-5"); }

Test(bad_input, replay_refuses_an_overflowing_number)
{
  expect_trouble(run("braid-replay", "--from", "99999999999999999999", "x.btr", NULL), "--from", "too large");
}

Test(bad_input, replay_refuses_from_beyond_the_trace)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-replay", "--from", "1000", "run.btr", NULL), "--from 1000", "299");
}

Test(bad_input, replay_refuses_from_beyond_a_trace_with_checkpoints)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_trouble(run("braid-replay", "--from", "300", "ck.btr", NULL), "--from 300", "the trace ends at exchange 299");
}

Test(bad_input, replay_refuses_until_before_from)
{
  record("ck.btr", "--checkpoint-every=50");
  expect_trouble(run("braid-replay", "--from", "150", "--until", "100", "ck.btr", NULL), "--until 100", "--from 150");
}

/* --from 120 --until 110 was refused, although the checkpoint --from
 * picks (after exchange 99) lets exchanges 100..110 be replayed. */
Test(tools, replay_until_before_from_but_after_its_checkpoint_replays, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-replay", "--from", "120", "--until", "110", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out,
                   "OK: 11 exchanges, consistent from the checkpoint of exchange 99 (exchanges 100..110, from a checkpoint, which was trusted, not "
                   "verified)\n",
                   SHOW(r));
  drop(&r);
}

/* Without the state before its first exchange, such a trace is refused. */
Test(bad_input, replay_refuses_a_trace_that_starts_without_the_state_before_it, .timeout = 60)
{
  expect_ok(run("braid-record", "-x", "300", "-d", "8", "-q", "-o", "run.btr", NULL));
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "copy", "run.btr", "late.btr", "100", "0", NULL));
  expect_trouble(run("braid-replay", "late.btr", NULL), "late.btr: starts at exchange 100 without the state before it", "replay the original");
}

/* -o naming the trace itself once truncated it under the reader: refused
 * before anything is written, whatever the path, link or symbolic link. */
Test(bad_input, replay_refuses_an_output_that_is_the_trace_itself, .timeout = 60)
{
  record("same.btr", NULL);
  size_t n0;
  char *before = load(tpath("same.btr"), &n0);
  cr_assert_eq(link(tpath("same.btr"), tpath("hard.btr")), 0);
  cr_assert_eq(symlink("same.btr", tpath("soft.btr")), 0);
  const char *outs[] = { "same.btr", "./same.btr", "hard.btr", "soft.btr" };
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "the output %s is the same file as the trace", outs[i]);
    expect_trouble(run("braid-replay", "-o", outs[i], "same.btr", NULL), "same.btr: ", want);
    size_t n;
    char *after = load(tpath("same.btr"), &n);
    cr_assert(n == n0 && !memcmp(before, after, n), "-o %s changed the trace: %zu bytes, were %zu", outs[i], n, n0);
    free(after);
  }
  free(before);
}

/* Damage wins over the semantics check: the hostile fixtures' synthetic
 * header names build "test", which has no semantics version. */
Test(bad_input, replay_reports_the_damage_of_a_trace_from_another_build)
{
  expect_trouble(run("braid-replay", BRAID_SRCDIR "/traces/broken-huge-window.btr", NULL), "broken-huge-window.btr",
                 "needs a 2147483648-byte window");
  walk w;
  walk_open(&w, "tests/trace-fixtures");
  int count = 0;
  while (walk_next(&w)) {
    result r = run("braid-replay", w.path, NULL);
    cr_assert_not(strstr(r.err, "semantics"), "%s: the damage, not the build, is the problem\n" SHOW_FMT, w.name, SHOW_ARGS(r));
    expect_trouble(r, w.name, "offset");
    count++;
  }
  cr_assert_geq(count, 4);
}

Test(bad_input, replay_refuses_an_intact_trace_from_another_semantics_version)
{
  result g = run(BRAID_BUILDDIR "/tests/trace_child", "seed", "seed.btr", "8", "0", "1", NULL);
  cr_assert_eq(g.status, 0, SHOW(g));
  drop(&g);
  expect_trouble(run("braid-replay", "seed.btr", NULL), "another semantics version", "--force");
}

/* getopt is still inside "-Zq" when it rejects Z, so the previous argument
 * (here the program path, or a long option) is not the one to blame. */
Test(bad_input, replay_names_an_unknown_short_option_in_a_cluster)
{
  expect_trouble(run("braid-replay", "-Zq", "x.btr", NULL), "unknown option '-Z'", NULL);
}

Test(bad_input, replay_names_an_unknown_short_option_after_a_long_one)
{
  expect_trouble(run("braid-replay", "--quiet", "-Zq", "x.btr", NULL), "unknown option '-Z'", NULL);
}

Test(cli, replay_has_help_and_version) { help_and_version("braid-replay"); }

Test(cli, replay_help_options_are_in_its_man_page) { help_options_in_man_page("braid-replay"); }

/* braid-replay(1) gives the number of violated cells the trace keeps per
 * boundary check: the one braid-replay --violation prints. */
Test(tools, man_replay_gives_the_violated_cells_the_trace_keeps, .timeout = 60)
{
  record("tol.btr", "--tolerance=0");
  unsigned kept = 0;
  for (int v = 1; v <= 20 && !kept; v++) {
    char n[8];
    snprintf(n, sizeof n, "%d", v);
    result r = run("braid-replay", "--violation", n, "tol.btr", NULL);
    cr_assert_eq(r.status, 0, SHOW(r));
    const char *k = strstr(r.out, "(the trace keeps the first ");
    if (k) cr_assert_eq(sscanf(k, "(the trace keeps the first %u)", &kept), 1, SHOW(r));
    drop(&r);
  }
  cr_assert_gt(kept, 0, "no boundary check among the first 20 had more violated cells than the trace keeps");
  char *man = load(BRAID_SRCDIR "/man/braid-replay.1", NULL), want[64];
  snprintf(want, sizeof want, "(at most %u per check)", kept);
  cr_assert(strstr(man, want), "braid-replay.1 does not say '%s'", want);
  free(man);
}

/* --force also replays with another plugin file (the mismatch error says
 * "use --force"): the help and the man page say so. */
Test(cli, replay_force_is_documented_for_plugins_too)
{
  result h = run("braid-replay", "--help", NULL);
  cr_assert_eq(h.status, 0, SHOW(h));
  const char *f = strstr(h.out, "--force");
  cr_assert(f, SHOW(h));
  char line[256];
  snprintf(line, sizeof line, "%.*s", (int)strcspn(f, "\n"), f);
  cr_assert(strstr(line, "semantics version") && strstr(line, "plugin"), "--help: %s", line);
  drop(&h);
  char *man = load(BRAID_SRCDIR "/man/braid-replay.1", NULL);
  char *item = strstr(man, "\n.It Fl -force\n");
  cr_assert(item, "no --force entry in braid-replay.1");
  char *end = strstr(item + 1, "\n.It ");
  cr_assert(end);
  *end = 0;
  cr_assert(strstr(item, "semantics") && strstr(item, "plugin"), "braid-replay.1 --force:%s", item);
  free(man);
}
