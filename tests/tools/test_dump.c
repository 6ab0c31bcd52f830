/* test_dump.c - braid-dump as a user runs it: text, JSON Lines, Chrome,
 * --stats, --html, selections, its bad input. */
#include "tools.h"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

Test(tools, dump_chrome_is_trace_event_json_with_slices_counters_and_flows, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  expect_ok(run_in(tpath("run.json"), BRAID_JQ, "-e", ".", NULL));
  result r = jq("run.json", ".traceEvents | [.[].ph] | unique | join(\" \")");
  const char *need[] = { "M", "X", "C", "s", "f" };
  for (unsigned i = 0; i < 5; i++) {
    char w[8];
    snprintf(w, sizeof w, " %s ", need[i]);
    char have[256];
    snprintf(have, sizeof have, " %.*s ", (int)strcspn(r.out, "\n"), r.out);
    cr_assert(strstr(have, w), "no ph \"%s\" event among: %s", need[i], r.out);
  }
  drop(&r);
}

Test(tools, dump_chrome_slices_nest_on_every_track_of_a_threaded_run, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  /* Both workers and all three tori have slices, so every kind of track is checked. */
  result t = jq("run.json", TRACKS_JQ);
  cr_assert_str_eq(t.out, "1/0 1/1 2/0 2/1 2/2", "tracks with slices: %s", t.out);
  drop(&t);
  expect_nested("run.json");
}

Test(tools, dump_chrome_slices_nest_on_every_track_of_a_chaos_run, .timeout = 60)
{
  need_jq();
  record("chaos.btr", "--chaos=3");
  dump_chrome("chaos.btr", "chaos.json");
  result t = jq("chaos.json", TRACKS_JQ);
  cr_assert_str_eq(t.out, "1/0 1/1 2/0 2/1 2/2", "tracks with slices: %s", t.out);
  drop(&t);
  expect_nested("chaos.json");
}

/* A checkpoint written inside an exchange makes that slice long: the
 * projection's flow must still leave before its successor's epoch starts. */
Test(tools, dump_chrome_flows_go_forwards_and_bind_in_a_run_with_checkpoints, .timeout = 60)
{
  need_jq();
  record("ck.btr", "--checkpoint-every=50");
  dump_chrome("ck.btr", "ck.json");
  expect_nested("ck.json");
  /* Every torus's step k > 0 gets its predecessor's projection. */
  result r = jq("ck.json", "[.traceEvents[] | select(.ph == \"f\")] | length");
  cr_assert_str_eq(r.out, "897", "flows in a 300-exchange run of 3 tori: %s", r.out);
  drop(&r);
}

/* Names are short for the viewers that show them whole (speedscope appends
 * the args to them): the exchange is in args, not in the name. */
Test(tools, dump_chrome_slice_names_are_short_with_the_exchange_in_args, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\") | \"\\(.pid) \\(.name)\"] | unique | join(\",\")");
  cr_assert_str_eq(r.out, "1 A epoch,1 A exchange,1 A wait,1 B epoch,1 B exchange,1 B wait,1 C epoch,1 C exchange,1 C wait,2 epoch,2 exchange,2 wait",
                   "slice names: %s", r.out);
  drop(&r);
  r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\" and (.args.exchange | type) != \"number\")] | length");
  cr_assert_str_eq(r.out, "0", "slices without their exchange in args: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_worker_tracks_show_epochs_barrier_waits_and_exchanges, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"X\" and .pid == 1)] | group_by(.tid)"
                            " | map(\"worker \\(.[0].tid): \\([.[].cat] | unique | join(\",\"))\") | join(\"; \")");
  cr_assert_str_eq(r.out, "worker 0: barrier,epoch,exchange; worker 1: barrier,epoch,exchange", "slice categories per worker track: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_has_interval_and_violation_rate_counters_per_torus, .timeout = 60)
{
  need_jq();
  /* A fixed interval never changes: its counter must still be there. */
  record("run.btr", "--adapt=off");
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"C\") | .name] | unique | join(\",\")");
  cr_assert_str_eq(r.out, "interval A,interval B,interval C,violation rate A,violation rate B,violation rate C", "counters: %s", r.out);
  drop(&r);
  result v = jq("run.json", "[.traceEvents[] | select(.ph == \"C\" and (.name | startswith(\"interval\"))) | .args.events] | unique | join(\",\")");
  cr_assert_str_eq(v.out, "1000", "a fixed interval of 1000 events shows as: %s", v.out);
  drop(&v);
}

Test(tools, dump_chrome_projection_flows_reach_every_torus, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  dump_chrome("run.btr", "run.json");
  result r = jq("run.json", "[.traceEvents[] | select(.ph == \"f\") | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0 1 2", "tori with an incoming projection flow: %s", r.out);
  drop(&r);
}

ParameterizedTestParameters(tools, dump_chrome_of_a_sample_trace_is_nested_json)
{
  static sample s[] = { { "uniform" }, { "skewed" }, { "bursty" }, { "phold" }, { "racy-sequential" }, { "failure" }, { "injection" }, { "chaos-checkpoints" } };
  return cr_make_param_array(sample, s, sizeof s / sizeof s[0]);
}

ParameterizedTest(sample *s, tools, dump_chrome_of_a_sample_trace_is_nested_json, .timeout = 60)
{
  need_jq();
  char trace[512];
  snprintf(trace, sizeof trace, BRAID_SRCDIR "/traces/%s.btr", s->name);
  dump_chrome(trace, "sample.json");
  expect_ok(run_in(tpath("sample.json"), BRAID_JQ, "-e", ".traceEvents | length > 0", NULL));
  expect_nested("sample.json");
}

Test(tools, dump_json_is_json_lines, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--json", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  size_t lines = 0;
  for (size_t i = 0; i < d.outlen; i++) lines += d.out[i] == '\n';
  cr_assert_gt(lines, 300);
  cr_assert_eq(d.out[d.outlen - 1], '\n');
  FILE *f = fopen(tpath("run.jsonl"), "w");
  cr_assert(f);
  fwrite(d.out, 1, d.outlen, f);
  fclose(f);
  drop(&d);
  /* Every line on its own: -R reads lines as strings, fromjson parses each. */
  result r = run_in(tpath("run.jsonl"), BRAID_JQ, "-e", "-R", "-c", "fromjson | .type", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  size_t parsed = 0;
  for (size_t i = 0; i < r.outlen; i++) parsed += r.out[i] == '\n';
  cr_assert_eq(parsed, lines, "%zu of %zu lines parse", parsed, lines);
  cr_assert(!strncmp(r.out, "\"header\"\n", 9), "%.200s", r.out);
  cr_assert(strstr(r.out, "\"footer\"\n"), "no footer object");
  drop(&r);
}

/* The start time in ns exceeds 2^53 (jq printed ...734300 for ...734207):
 * also a string and whole microseconds.  The settings are an object, not
 * a key=value blob. */
Test(tools, dump_json_header_has_an_exact_start_time_and_settings_as_an_object, .timeout = 60)
{
  need_jq();
  record("run.btr", "--seed=9007199254740993");
  dump_json_header("run.btr");
  header_says(".start_unix_ns_string | test(\"^[0-9]{19}$\")", "true");
  header_says("(.start_unix_us | tostring) == .start_unix_ns_string[0:16]", "true");
  header_says(".config | type", "object");
  header_says("[.config.model, .config.tori, .config.dim, .config.adapt, .config.fail] | tojson", "[\"uniform\",3,16,\"violations\",\"\"]");
  /* Above 2^53 a number would be rounded: it stays a string. */
  header_says(".config.seed", "9007199254740993");
  header_says(".config.seed | type", "string");
}

/* Build and host strings are copied from the trace: bytes that are not
 * UTF-8 became invalid JSON, and a string longer than 8 KiB was cut in the
 * middle of a character.  Now every bad byte is U+FFFD and nothing is cut,
 * in --json and --chrome alike. */
Test(tools, dump_json_and_chrome_escape_any_header_bytes_whole, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  static char build[30000];
  size_t n = 0;
  build[n++] = 'b';
  build[n++] = (char)0xff; /* never UTF-8 */
  build[n++] = (char)0xc3; /* a lead byte without its continuation */
  build[n++] = '-';
  while (n < sizeof build - 3) {
    build[n++] = (char)0xc3; /* U+00E9, two bytes, across the old 8 KiB cut */
    build[n++] = (char)0xa9;
  }
  build[n] = 0;
  size_t chars = 4 + (n - 4) / 2;
  char host[] = { 'h', (char)0xed, (char)0xa0, (char)0x80, 'x', 0 }; /* a UTF-16 surrogate: not UTF-8 */
  expect_ok(run(BRAID_BUILDDIR "/tests/trace_child", "strings", "run.btr", "odd.btr", build, host, NULL));
  dump_json_header("odd.btr");
  /* The bytes themselves, not only jq's (lenient) reading of them. */
  size_t hn;
  char *raw = load(tpath("header.json"), &hn);
  cr_assert_null(memchr(raw, 0xff, hn), "a 0xff byte in the JSON");
  cr_assert_null(strstr(raw, "\xed\xa0"), "a surrogate in the JSON");
  cr_assert_null(strstr(raw, "\xc3-"), "a lone lead byte in the JSON");
  free(raw);
  char want[64];
  snprintf(want, sizeof want, "%zu", chars);
  header_says(".build | length", want);
  header_says(".build[0:5] | explode | tojson", "[98,65533,65533,45,233]");
  header_says(".build[-1:] | explode | tojson", "[233]");
  header_says(".host | explode | tojson", "[104,65533,65533,65533,120]");
  dump_chrome("odd.btr", "odd.json");
  result r = jq("odd.json", ".otherData.build | length");
  cr_assert_str_eq(r.out, want);
  drop(&r);
}

Test(tools, dump_stats_prints_the_exchange_count, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-dump", "--stats", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      300\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nstatus         complete\n"), SHOW(r));
  drop(&r);
}

Test(tools, dump_stats_counts_checkpoints_by_their_compressed_size, .timeout = 60)
{
  record("ck.btr", "--checkpoint-every=50");
  result r = run("braid-dump", "--stats", "ck.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  double per = -1;
  unsigned long long size = 0, ck = 0;
  const char *p = strstr(r.out, "\nsize");
  cr_assert(p && sscanf(p, " size %llu bytes (%lf bytes per exchange per torus, checkpoints %llu bytes)", &size, &per, &ck) == 3, SHOW(r));
  cr_assert(ck > 0 && ck < size, SHOW(r));
  cr_assert(per > 0 && per < 1000, SHOW(r));
  drop(&r);
}

Test(tools, dump_text_of_a_selection_has_only_its_exchanges_and_torus, .timeout = 60)
{
  record("run.btr", NULL);
  result r = run("braid-dump", "--exchanges", "10..12", "--torus", "B", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nexchange 10\n") && strstr(r.out, "\nexchange 12\n"), SHOW(r));
  cr_assert_eq(count_of(r.out, "\nexchange "), 3, SHOW(r));
  cr_assert_eq(count_of(r.out, " torus="), count_of(r.out, " torus=1 "), "a record of another torus:\n%s", r.out);
  cr_assert_gt(count_of(r.out, " torus=1 "), 8, SHOW(r));
  drop(&r);
  /* A single exchange, and an open end. */
  r = run("braid-dump", "--exchanges", "299", "run.btr", NULL);
  cr_assert(r.status == 0 && count_of(r.out, "\nexchange ") == 1 && strstr(r.out, "\nexchange 299\n"), SHOW(r));
  drop(&r);
  r = run("braid-dump", "--exchanges", "295..", "run.btr", NULL);
  cr_assert(r.status == 0 && count_of(r.out, "\nexchange ") == 5, SHOW(r));
  drop(&r);
}

Test(tools, dump_json_of_a_selection_keeps_header_footer_and_its_records, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--json", "--exchanges", "..4", "--torus", "A", "--torus", "C", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath("sel.jsonl"), d.out, d.outlen);
  drop(&d);
  result r = run_in(tpath("sel.jsonl"), BRAID_JQ, "-r", "-s",
                    "[.[0].type, .[-1].type, ([.[1:-1][] | .exchange] | unique | map(tostring) | join(\",\")),"
                    " ([.[1:-1][] | select(.torus != null) | .torus] | unique | map(tostring) | join(\",\"))] | join(\" \")", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.out, "header footer 0,1,2,3,4 0,2\n", "type of the first and last lines, exchanges, tori: %s", r.out);
  drop(&r);
}

Test(tools, dump_chrome_of_a_selection_draws_only_its_tori_and_exchanges, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result d = run("braid-dump", "--chrome", "--exchanges", "100..199", "--torus", "A", "--torus", "C", "run.btr", NULL);
  cr_assert_eq(d.status, 0, SHOW(d));
  save(tpath("sel.json"), d.out, d.outlen);
  drop(&d);
  result r = jq("sel.json", "[.traceEvents[] | select(.ph == \"X\" and .pid == 2) | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0 2", "torus tracks: %s", r.out);
  drop(&r);
  r = jq("sel.json", "[.traceEvents[] | select(.ph == \"X\") | .args.exchange] | [min, max] | map(tostring) | join(\" \")");
  cr_assert_str_eq(r.out, "100 199", "exchanges drawn: %s", r.out);
  drop(&r);
  /* Only C's projection reaches a selected torus: A (B's is not drawn). */
  r = jq("sel.json", "[.traceEvents[] | select(.ph == \"f\") | .tid | tostring] | unique | join(\" \")");
  cr_assert_str_eq(r.out, "0", "tori with incoming flows: %s", r.out);
  drop(&r);
  expect_nested("sel.json");
}

Test(tools, dump_stats_of_a_selection_counts_its_exchanges_and_events, .timeout = 60)
{
  need_jq();
  record("run.btr", NULL);
  result r = run("braid-dump", "--stats", "--exchanges", "10..19", "--torus", "A", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nselection      exchanges 10..19, torus A\n"), SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      10\n"), SHOW(r));
  unsigned long long events = 0;
  const char *p = strstr(r.out, "\nevents");
  cr_assert(p && sscanf(p, " events %llu (the selection's", &events) == 1, SHOW(r));
  drop(&r);
  /* Torus A's count after exchange 19 less its count after exchange 9. */
  result d = run("braid-dump", "--json", "run.btr", NULL);
  save(tpath("run.jsonl"), d.out, d.outlen);
  drop(&d);
  result j = run_in(tpath("run.jsonl"), BRAID_JQ, "-s", "[.[] | select(.type == \"projection\" and .torus == 0 and (.exchange == 9 or .exchange == 19))"
                    " | .events] | .[1] - .[0]", NULL);
  cr_assert_eq(j.status, 0, SHOW(j));
  cr_assert_eq(events, strtoull(j.out, NULL, 10), "--stats says %llu events, the projections %s", events, j.out);
  drop(&j);
}

Test(tools, dump_reads_a_trace_from_standard_input, .timeout = 60)
{
  record("run.btr", NULL);
  result f = run("braid-dump", "--stats", "run.btr", NULL);
  result s = run_in(tpath("run.btr"), "braid-dump", "--stats", "-", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  cr_assert(!strncmp(s.out, "trace          standard input\n", 30), SHOW(s));
  /* The rest is the file's summary, its size included. */
  cr_assert_str_eq(strchr(s.out, '\n'), strchr(f.out, '\n'), "from stdin:\n%s\nfrom the file:\n%s", s.out, f.out);
  drop(&f);
  drop(&s);
  f = run("braid-dump", "--exchanges", "7..9", "run.btr", NULL);
  s = run_in(tpath("run.btr"), "braid-dump", "--exchanges", "7..9", "-", NULL);
  cr_assert(s.status == 0 && f.outlen == s.outlen && !memcmp(f.out, s.out, f.outlen), SHOW(s));
  drop(&f);
  drop(&s);
}

Test(tools, dump_stats_names_the_model_and_its_plugin, .timeout = 60)
{
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "-m", "phold", "-o", "p.btr", NULL));
  result r = run("braid-dump", "--stats", "p.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "\nmodel          phold\n"), SHOW(r));
  drop(&r);
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "--model-plugin", BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so", "-o", "r.btr", NULL));
  r = run("braid-dump", "--stats", "r.btr", NULL);
  cr_assert(r.status == 0 && strstr(r.out, "\nmodel          ripple (plugin ripple "), SHOW(r));
  drop(&r);
}

Test(tools, dump_names_the_sources_that_are_not_cells, .timeout = 60)
{
  need_jq();
  expect_ok(run("braid-record", "-q", "-x", "20", "-d", "8", "--trace-events", "--inject", "A@3:5=100", "-o", "ev.btr", NULL));
  result r = run("braid-dump", "ev.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, " src=correction ") && strstr(r.out, " src=external "), "no named source in the dump");
  cr_assert(!strstr(r.out, "src=42949"), "a source printed as a number: %s", strstr(r.out, "src=42949"));
  drop(&r);
  result d = run("braid-dump", "--json", "ev.btr", NULL);
  save(tpath("ev.jsonl"), d.out, d.outlen);
  drop(&d);
  r = run_in(tpath("ev.jsonl"), BRAID_JQ, "-r", "-s", "[.[] | select(.type == \"event\" and (.src | type) == \"string\") | .src] | unique | join(\",\")", NULL);
  cr_assert_str_eq(r.out, "correction,external\n", "named sources in --json: %s", r.out);
  drop(&r);
}

Test(tools, dump_html_is_one_self_contained_page_with_every_chart, .timeout = 60)
{
  record("run.btr", "--fail=B@150");
  result r = run("braid-dump", "--html", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(!strncmp(r.out, "<!DOCTYPE html>\n", 16) && r.outlen > 7 && !strcmp(r.out + r.outlen - 8, "</html>\n"), "not one whole page");
  cr_assert_eq(count_of(r.out, "<svg class=\"chart\""), 8, "charts: %zu", count_of(r.out, "<svg class=\"chart\""));
  for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
    char id[64];
    snprintf(id, sizeof id, "id=\"%s\"", charts[i]);
    cr_assert(strstr(r.out, id), "no chart %s", charts[i]);
  }
  /* Works offline: no script, nothing fetched. */
  cr_assert(!strstr(r.out, "<script") && !strstr(r.out, "http://") && !strstr(r.out, "https://") && !strstr(r.out, "src=\""), "the page refers outside itself");
  /* 3 tori on 4 charts, their longest waits, and the corrective events. */
  cr_assert_geq(count_of(r.out, "<polyline class=\"mark"), 16);
  cr_assert_gt(count_of(r.out, "<rect class=\"mark bar\""), 3);
  cr_assert_eq(count_of(r.out, "class=\"marker failure\""), 5, "a failure marker on each of the 5 charts over exchanges");
  cr_assert(strstr(r.out, "<th>model</th><td>uniform</td>") && strstr(r.out, "<b>fail</b> <code>1@150</code>"), "settings missing");
  cr_assert(strstr(r.out, "Not replayed"), "a verdict without a replay");
  drop(&r);
}

Test(tools, dump_html_replay_shows_the_verdict, .timeout = 90)
{
  record("run.btr", "--inject=A@50:3=7");
  result r = run("braid-dump", "--html", "--replay", "run.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "OK: 300 exchanges, parallel == sequential"), "no verdict");
  cr_assert_eq(count_of(r.out, "class=\"marker injection\""), 5, "an injection marker on each chart over exchanges");
  drop(&r);
  expect_ok(run("braid-record", RACY, "-o", "racy.btr", NULL));
  r = run("braid-dump", "--html", "--replay", "racy.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "DIVERGED at exchange "), "the racy run's divergence is not shown");
  drop(&r);
}

/* However long the run, a line has one point per bucket of exchanges (at
 * most 512), so the page stays small. */
Test(tools, dump_html_of_a_long_run_is_downsampled, .timeout = 90)
{
  expect_ok(run("braid-record", "-q", "-x", "3000", "-d", "8", "-i", "100", "-o", "long.btr", NULL));
  result r = run("braid-dump", "--html", "long.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "<th>charts</th><td>8 exchanges per point"), "no word of the downsampling");
  size_t most = 0;
  for (const char *p = r.out; (p = strstr(p, "points=\"")); p++) {
    size_t n = 1;
    for (const char *q = p + 8; *q != '"'; q++) n += *q == ' ';
    if (n > most) most = n;
  }
  cr_assert(most > 300 && most <= 512, "the longest line has %zu points", most);
  cr_assert_lt(r.outlen, 1000000, "%zu bytes", r.outlen);
  drop(&r);
}

Test(tools, dump_html_of_a_damaged_trace_with_partial_shows_the_good_part, .timeout = 60)
{
  result r = run("braid-dump", "--html", "--partial", BRAID_SRCDIR "/traces/broken-truncated.btr", NULL);
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(!strncmp(r.out, "<!DOCTYPE html>", 15) && strstr(r.out, "</html>"), "no page");
  cr_assert(strstr(r.err, "broken-truncated.btr") && strstr(r.err, "truncated"), SHOW(r));
  drop(&r);
}

/* A trace whose writer died between frames has no index and no footer, so
 * no event total: --stats adds up the tori's counts in their last
 * projections (or rebuilds) and says so.  Made here by cutting a finished
 * trace (torus B failing at its last exchange) at its index frame, whose
 * offset the footer gives at payload byte 160. */
Test(tools, dump_stats_counts_events_of_a_trace_without_footer, .timeout = 60)
{
  record("run.btr", "--fail=B@299");
  result c = run("braid-dump", "--stats", "run.btr", NULL);
  cr_assert_eq(c.status, 0, SHOW(c));
  unsigned long long total = 0, events = 0;
  const char *e = strstr(c.out, "\nevents ");
  cr_assert(e && sscanf(e, " events %llu", &total) == 1 && total > 0, SHOW(c));
  drop(&c);
  size_t n;
  uint8_t *b = load(tpath("run.btr"), &n);
  uint32_t size;
  uint64_t index;
  cr_assert(n > 200 && !memcmp(b + n - 4, "BRFT", 4));
  memcpy(&size, b + n - 8, 4);
  cr_assert(size >= 168 && size < n);
  memcpy(&index, b + n - size + 160, 8);
  cr_assert(index > 0 && index < n - size);
  save(tpath("cut.btr"), b, (size_t)index);
  free(b);
  result r = run("braid-dump", "--stats", "cut.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\nstatus         unfinished\n"), SHOW(r));
  e = strstr(r.out, "\nevents ");
  cr_assert(e && sscanf(e, " events %llu", &events) == 1, SHOW(r));
  cr_assert_eq(events, total, "the finished trace had %llu events\n%s", total, r.out);
  cr_assert(strstr(e, " (no footer: the tori's last projections)\n"), SHOW(r));
  drop(&r);
}

/* A truncated trace: the events of its complete exchanges, and the size per
 * exchange says that it counts the cut frame. */
Test(tools, dump_stats_of_a_truncated_trace_counts_its_complete_exchanges, .timeout = 60)
{
  result r = run("braid-dump", "--stats", "--partial", BRAID_SRCDIR "/traces/broken-truncated.btr", NULL);
  cr_assert_eq(r.status, 2, SHOW(r));
  cr_assert(strstr(r.out, "\nexchanges      1\nevents         600 (no footer: the tori's last projections)\n"), SHOW(r));
  cr_assert(strstr(r.out, " bytes per exchange per torus, the cut frame included,"), SHOW(r));
  drop(&r);
}

Test(bad_input, dump_refuses_an_unknown_flag) { expect_trouble(run("braid-dump", "--bogus", "x.btr", NULL), "--bogus", NULL); }

Test(bad_input, dump_names_standard_input_in_its_errors)
{
  expect_trouble(run_in(BRAID_SRCDIR "/traces/broken-truncated.btr", "braid-dump", "-", NULL), "standard input: truncated", NULL);
  expect_trouble(run_in("/dev/null", "braid-dump", "--json", "-", NULL), "standard input: not a braid trace", NULL);
}

Test(bad_input, dump_refuses_a_bad_exchange_range)
{
  expect_trouble(run("braid-dump", "--exchanges", "5..3", "x.btr", NULL), "--exchanges", "5..3 is empty");
  expect_trouble(run("braid-dump", "--exchanges", "..", "x.btr", NULL), "--exchanges", "names no exchange");
  expect_trouble(run("braid-dump", "--exchanges", "a..3", "x.btr", NULL), "--exchanges", "'a'");
  expect_trouble(run("braid-dump", "--exchanges", "1..2..3", "x.btr", NULL), "--exchanges", "'2..3'");
}

Test(bad_input, dump_refuses_a_selection_the_trace_does_not_have)
{
  record("run.btr", NULL);
  expect_trouble(run("braid-dump", "--torus", "D", "run.btr", NULL), "--torus", "run.btr has 3 tori (A..C)");
  expect_trouble(run("braid-dump", "--torus", "Q", "run.btr", NULL), "--torus", "'Q' is not a torus");
  expect_trouble(run("braid-dump", "--chrome", "--exchanges", "300..400", "run.btr", NULL), "--exchanges", "run.btr has exchanges 0..299");
}

Test(bad_input, dump_refuses_replay_without_html) { expect_trouble(run("braid-dump", "--replay", "x.btr", NULL), "--replay", "--html"); }

Test(bad_input, dump_refuses_two_formats) { expect_trouble(run("braid-dump", "--json", "--chrome", "x.btr", NULL), "--json", "--chrome"); }

Test(bad_input, dump_says_a_flag_takes_no_value)
{
  expect_trouble(run("braid-dump", "--json=1", "x.btr", NULL), "option '--json' takes no value", NULL);
}

Test(cli, dump_has_help_and_version) { help_and_version("braid-dump"); }

Test(cli, dump_help_options_are_in_its_man_page) { help_options_in_man_page("braid-dump"); }
