/* test_record.c - braid-record as a user runs it: reports, progress,
 * signals, full disks, its bad input. */
#include "tools.h"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

Test(tools, record_json_report_times_events_at_default_settings, .timeout = 60)
{
  need_jq();
  json_report();
  report_says(".event_latency.samples > 0 and .event_latency.p50_ns <= .event_latency.p99_ns", "true");
}

Test(tools, record_json_report_labels_per_torus_rates_as_while_running, .timeout = 60)
{
  need_jq();
  json_report();
  report_says("[.per_torus[] | has(\"events_per_second_while_running\") and has(\"busy_seconds\") and (has(\"events_per_second\") | not)] | all",
              "true");
}

Test(tools, record_json_report_is_consistent, .timeout = 60)
{
  need_jq();
  json_report();
  report_says(".rss_kib.peak >= .rss_kib.end and .rss_kib.peak >= .rss_kib.start", "true");
  report_says(".interval.min <= .interval.final_min and .interval.final_max <= .interval.max", "true");
  report_says(".cpu_user_seconds + .cpu_sys_seconds - .cpu_seconds | fabs < 0.000002", "true");
  report_says("[.thread_cpu_user_seconds, .thread_cpu_sys_seconds, .thread_cpu_seconds] | map(length) | unique | length", "1");
  report_says(".convergence.rule | startswith(\"a torus has converged from the first exchange after its last perturbation\")", "true");
  report_says("(.convergence.per_torus | length) == .tori", "true");
  report_says(".convergence.from_exchange == ([.convergence.per_torus[] | .converged_exchange] | if any(. == null) then null else max end)",
              "true");
}

/* Convergence is judged over a torus's last 10 boundary checks since the
 * exchange it converged from, so the checks that stray above 1% in a steady
 * run do not hide it: a default run at D=32 has converged from the start.
 * 64 cells of torus B's boundary face perturbed by +1000 at exchange 100
 * (6% of the face) are corrected at the next exchange: B converges 2
 * exchanges after the injection, and the other tori were never perturbed
 * (the figures are deterministic: they come from the logical stream). */
Test(tools, record_report_convergence_of_a_steady_and_a_perturbed_run, .timeout = 60)
{
  need_jq();
  result r = run("braid-record", "-x", "400", "-q", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".convergence.from_exchange", "0");
  report_says("[.convergence.per_torus[] | .perturbation == null and .exchanges == 0] | all", "true");
  char inj[64][32];
  char *argv[2 * 64 + 8];
  int n = 0;
  argv[n++] = "braid-record";
  for (int i = 0; i < 64; i++) {
    snprintf(inj[i], sizeof inj[i], "--inject=B@100:%d=1000", 32 * 32 * 31 + i);
    argv[n++] = inj[i];
  }
  argv[n++] = "-x";
  argv[n++] = "400";
  argv[n++] = "-q";
  argv[n++] = "--json";
  argv[n] = NULL;
  r = finish(start(NULL, "run", argv), "run");
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".convergence.per_torus[1] | [.perturbation, .perturbed_exchange, .converged_exchange, .exchanges] | tojson", "[\"injection\",100,102,2]");
  report_says(".convergence.per_torus[0].perturbation == null and .convergence.per_torus[2].perturbation == null", "true");
  report_says(".convergence.from_exchange", "102");
}

/* With --trace-events and a trace no event is timed: the report said
 * "p50 0 ns (sampled 0)"; it says so in words, and null in JSON. */
Test(tools, record_report_of_unsampled_event_latency_says_so, .timeout = 60)
{
  result r = run("braid-record", "-d", "8", "-x", "20", "--trace-events", "-o", "t.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n  event latency      not sampled (--trace-events times no event)\n"), SHOW(r));
  cr_assert_null(strstr(r.out, "(sampled 0)"), SHOW(r));
  drop(&r);
  need_jq();
  r = run("braid-record", "-d", "8", "-x", "20", "--trace-events", "-o", "t.btr", "--json", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  save(tpath("report.json"), r.out, r.outlen);
  drop(&r);
  report_says(".event_latency | [.p50_ns, .p95_ns, .p99_ns, .max_ns, .samples] | tojson", "[null,null,null,null,0]");
}

/* The text report names what its figures are. */
Test(tools, record_text_report_labels_its_figures, .timeout = 60)
{
  result r = run("braid-record", "-x", "300", "-d", "16", "-t", "2", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n    torus A ") && strstr(r.out, " M events/s while running "), SHOW(r));
  const char *w = strstr(r.out, "\n  barrier wait ");
  cr_assert(w && strstr(w, " p95 ") && strstr(w, " p95 ") < strchr(w + 1, '\n'), SHOW(r));
  cr_assert(!strstr(r.out, "(sampled 0)"), SHOW(r));
  /* D=16 has 256 face cells, so a few violations make 1%: the exchange
   * some torus converges from is the run's, the labels are the point. */
  const char *conv = strstr(r.out, "\n  convergence        every torus from exchange ");
  cr_assert(conv && strstr(conv, " on (< 1% of the cells violated over up to 10 checks since, after the last perturbation)\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n    torus A          no perturbation: converged from exchange "), SHOW(r));
  cr_assert(strstr(r.out, " over the run") && strstr(r.out, " user, ") && strstr(r.out, " system"), SHOW(r));
  drop(&r);
}

/* -e N ends the run after the first exchange at which the events reach N:
 * one exchange less stays below N.  Threaded and sequential runs end at the
 * same exchange, and the trace replays.  (It was the starting interval times
 * the tori, 10x off once the interval adapted.) */
Test(tools, record_events_limit_ends_at_the_first_exchange_that_reaches_it, .timeout = 60)
{
  need_jq();
  static const char *models[] = { "bursty", "uniform" };
  for (int m = 0; m < 2; m++) {
    char *thr[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "-t", "2", "-e", "3000000", "-q", "--json", "-o", "t.btr", NULL };
    unsigned long long k = record_json_says(".exchanges", thr);
    cr_assert_geq(k, 2, "%s: %llu exchanges", models[m], k);
    result q = jq("report.json", ".events >= 3000000 and .events_limit.limit == 3000000 and .events_limit.reached");
    cr_assert_str_eq(q.out, "true", "%s: %s", models[m], (char *)load(tpath("report.json"), NULL));
    drop(&q);
    expect_ok(run("braid-replay", "-q", "t.btr", NULL));
    char *seq[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "--sequential", "-e", "3000000", "-q", "--json", NULL };
    cr_assert_eq(record_json_says(".exchanges", seq), k, "%s: the sequential run ended elsewhere", models[m]);
    char less[32];
    snprintf(less, sizeof less, "%llu", k - 1);
    char *shorter[] = { "braid-record", "-m", (char *)models[m], "-d", "8", "--sequential", "-x", less, "-q", "--json", NULL };
    cr_assert_lt(record_json_says(".events", shorter), 3000000, "%s: %s exchanges already reach 3000000 events", models[m], less);
  }
  result r = run("braid-record", "-m", "bursty", "-d", "8", "-e", "3000000", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\n  events limit       3000000: reached at exchange "), SHOW(r));
  drop(&r);
  /* The limit is run length, which braid-diff does not compare: the same
   * run cut by -x at the same exchange is equal. */
  char *by_events[] = { "braid-record", "-d", "8", "--sequential", "-e", "3000000", "-q", "--json", "-o", "e.btr", NULL };
  char x[32];
  snprintf(x, sizeof x, "%llu", record_json_says(".exchanges", by_events));
  expect_ok(run("braid-record", "-d", "8", "--sequential", "-x", x, "-q", "-o", "x.btr", NULL));
  r = run("braid-diff", "e.btr", "x.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_null(strstr(r.out, "settings differ"), SHOW(r));
  drop(&r);
}

/* The progress thread slept 200 ms before it looked whether the run had
 * ended, and drew a line after the end.  A run of one exchange now draws
 * none on a terminal: the thread is woken by the end of the run, not by its
 * timer.  (The time saved is not asserted: wall time is no test here.) */
Test(tools, record_progress_line_is_not_drawn_after_a_short_run_ends, .timeout = 60)
{
  char *argv[] = { "braid-record", "-x", "1", "-d", "8", "-n", "2", NULL };
  for (int i = 0; i < 3; i++) {
    double t;
    result r = run_on_tty(&t, argv);
    cr_assert_eq(r.status, 0, SHOW(r));
    cr_assert_not(strstr(r.err, "exchange"), "a progress line after the run: " SHOW(r));
    drop(&r);
  }
}

/* A timed run's exchange count is a placeholder: the line shows the seconds. */
Test(tools, record_progress_line_of_a_timed_run_shows_seconds, .timeout = 60)
{
  char *argv[] = { "braid-record", "--duration", "0.7", "-d", "8", NULL };
  double t;
  result r = run_on_tty(&t, argv);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.err, "braid-record: exchange "), SHOW(r));
  cr_assert(strstr(r.err, "/0.7 s, "), SHOW(r));
  cr_assert_not(strstr(r.err, "1099511627776"), SHOW(r));
  /* The line is wiped at the end: the last thing on the terminal. */
  cr_assert(r.errlen > 2 && r.err[r.errlen - 1] == '\r' && r.err[r.errlen - 2] == ' ', SHOW(r));
  drop(&r);
}

/* In a terminal 30 columns wide the line wrapped, and every redraw left its
 * first row behind.  Every redraw now fits in 29 columns. */
Test(tools, record_progress_line_fits_a_narrow_terminal, .timeout = 60)
{
  char *argv[] = { "braid-record", "--duration", "0.7", "-d", "8", NULL };
  double t;
  tty_columns = 30;
  result r = run_on_tty(&t, argv);
  tty_columns = 0;
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.err, "\rbraid-record: exchange "), SHOW(r));
  int redraws = 0;
  for (char *p = r.err, *next; p && *p; p = next) {
    next = strchr(p + 1, '\r');
    size_t n = next ? (size_t)(next - p) : strlen(p);
    if (*p == '\r') p++, n--;
    cr_assert_leq(n, 29, "a redraw of %zu columns: '%.*s'", n, (int)n, p);
    cr_assert_null(memchr(p, '\n', n), "a new line in the progress output");
    redraws += n > 0;
  }
  cr_assert_geq(redraws, 1, SHOW(r));
  drop(&r);
}

/* kill -9 leaves no chance to finalise.  Killed between frames, the trace
 * is "unfinished" and reads as it is; killed inside a frame, it is
 * "truncated" and refused without --partial.  Either way its complete
 * exchanges replay exactly with --partial. */
Test(tools, kill_9_of_a_recording_leaves_a_trace_readable_to_its_last_frame, .timeout = 120)
{
  pid_t pid = recording_under_way();
  cr_assert_eq(kill(pid, SIGKILL), 0);
  result r = finish(pid, "rec");
  cr_assert_eq(r.status, 128 + SIGKILL, SHOW(r));
  drop(&r);
  result s = run("braid-dump", "--stats", "t.btr", NULL);
  if (s.status == 0) cr_assert(strstr(s.out, "\nstatus         unfinished\n"), SHOW(s));
  else cr_assert(s.status == 2 && strstr(s.err, "truncated") && strstr(s.err, "t.btr"), SHOW(s));
  drop(&s);
  result p = run("braid-replay", "--partial", "t.btr", NULL);
  cr_assert_eq(p.status, 0, SHOW(p));
  unsigned long long n = 0;
  const char *ok = strstr(p.out, "OK: ");
  cr_assert(ok && sscanf(ok, "OK: %llu", &n) == 1 && n > 0, "some complete exchanges replay: " SHOW(p));
  cr_assert(strstr(p.err, "truncated") || strstr(p.err, "unfinished"), SHOW(p));
  drop(&p);
}

/* Every trace the tools write, and every golden trace, passes zstd -t. */
Test(tools, every_trace_the_tools_write_passes_zstd_t, .timeout = 120)
{
  static const char *variants[][2] = {
    { "plain.btr", NULL },
    { "seq.btr", "--sequential" },
    { "ckpt.btr", "--checkpoint-every=50" },
    { "events.btr", "--trace-events" },
    { "chaos.btr", "--chaos=5" },
    { "fail.btr", "--fail=B@100" },
    { "inject.btr", "--inject=C@50:7=900" },
    { "rate.btr", "--adapt=rate" },
  };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    record(variants[i][0], variants[i][1]);
    result r = run("zstd", "-q", "-t", variants[i][0], NULL);
    cr_assert_eq(r.status, 0, "%s: " SHOW_FMT, variants[i][0], SHOW_ARGS(r));
    drop(&r);
  }
  walk w;
  walk_open(&w, "traces");
  int golden = 0;
  while (walk_next(&w)) {
    size_t len = strlen(w.name);
    if (len < 5 || strcmp(w.name + len - 4, ".btr") || !strncmp(w.name, "broken-", 7)) continue;
    result r = run("zstd", "-q", "-t", w.path, NULL);
    cr_assert_eq(r.status, 0, "%s: " SHOW_FMT, w.path, SHOW_ARGS(r));
    drop(&r);
    golden++;
  }
  cr_assert_geq(golden, 8, "the golden traces are there");
}

Test(tools, sigint_stops_the_recording_with_130_and_a_finalised_trace, .timeout = 120)
{
  interrupt_recording(SIGINT, 130);
}

Test(tools, sigterm_stops_the_recording_with_143_and_a_finalised_trace, .timeout = 120)
{
  interrupt_recording(SIGTERM, 143);
}

/* --sequential -t 2 was accepted, the thread count silently ignored; -t 64
 * with 3 tori started 64 threads, 61 of them idle, and listed each. */
Test(tools, record_refuses_sequential_with_threads_and_starts_no_idle_thread, .timeout = 60)
{
  expect_trouble(run("braid-record", "--sequential", "-t", "2", "-x", "1", NULL), "--sequential and --threads 2 conflict", NULL);
  expect_trouble(run("braid-record", "-t", "3", "--set", "sequential=1", "-x", "1", NULL), "--set sequential and --threads 3 conflict", NULL);
  expect_ok(run("braid-record", "--sequential", "-t", "0", "-d", "8", "-x", "1", "-q", NULL));
  result r = run("braid-record", "-t", "64", "-n", "3", "-d", "8", "-x", "10", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_str_eq(r.err, "braid-record: note: --threads 64 with 3 tori: a torus runs on one thread at a time, so 3 worker threads are started\n");
  cr_assert(strstr(r.out, "\n  threads            3\n"), SHOW(r));
  cr_assert(strstr(r.out, "\n    thread 2 ") && !strstr(r.out, "\n    thread 3 "), SHOW(r));
  drop(&r);
  r = run("braid-record", "-t", "64", "-n", "3", "-d", "8", "-x", "10", "-q", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

/* The signal handlers came after the trace file was created: a SIGINT in
 * between killed braid-record and left a trace without a footer.  A FIFO
 * holds braid-record inside that window (its open waits for a reader): the
 * handlers must be in place there, and a SIGINT then still gives a whole,
 * finalised trace and exit 130. */
Test(tools, record_catches_signals_before_it_creates_the_trace, .timeout = 60)
{
  /* Whether the kernel names what a sleeping process waits in: a child
   * asleep in pause() must not read as "0". */
  pid_t sleeper = fork();
  cr_assert(sleeper >= 0);
  if (!sleeper) {
    pause();
    _exit(0);
  }
  char wchan[64];
  for (char state = 0; state != 'S';) {
    char *st = proc_file(sleeper, "stat");
    state = strrchr(st, ')') ? strrchr(st, ')')[2] : 0;
    free(st);
  }
  char *w = proc_file(sleeper, "wchan");
  snprintf(wchan, sizeof wchan, "%s", w);
  free(w);
  kill(sleeper, SIGKILL);
  waitpid(sleeper, NULL, 0);
  if (!strcmp(wchan, "0") || !wchan[0]) cr_skip_test("this kernel does not name the function a process waits in (/proc/PID/wchan)");
  cr_assert_eq(mkfifo(tpath("fifo"), 0644), 0, "mkfifo: %s", strerror(errno));
  char *argv[] = { "braid-record", "-d", "8", "-x", "100000", "-q", "-o", "fifo", NULL };
  pid_t pid = start(NULL, "rec", argv);
  for (;;) { /* until it waits in the FIFO's open (fifo_open's wait) */
    w = proc_file(pid, "wchan");
    int there = !strcmp(w, "wait_for_partner");
    free(w);
    if (there) break;
    int ws;
    cr_assert_eq(waitpid(pid, &ws, WNOHANG), 0, "braid-record ended before opening the FIFO");
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
  }
  char *status = proc_file(pid, "status"), *cgt = strstr(status, "\nSigCgt:");
  cr_assert(cgt, "%s", status);
  unsigned long long caught = strtoull(cgt + 8, NULL, 16);
  free(status);
  cr_assert((caught >> (SIGINT - 1)) & 1, "SIGINT is not caught while the trace is created (SigCgt %llx)", caught);
  cr_assert((caught >> (SIGTERM - 1)) & 1, "SIGTERM is not caught while the trace is created (SigCgt %llx)", caught);
  cr_assert_eq(kill(pid, SIGINT), 0);
  int in = open(tpath("fifo"), O_RDONLY), out = open(tpath("t.btr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  cr_assert(in >= 0 && out >= 0);
  char buf[65536];
  for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;) cr_assert_eq(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  result r = finish(pid, "rec");
  cr_assert_eq(r.status, 130, SHOW(r));
  cr_assert_str_eq(r.err, "braid-record: interrupted by SIGINT after exchange 0; trace finalised\n");
  drop(&r);
  r = run("braid-dump", "--stats", "t.btr", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "interrupted"), SHOW(r));
  drop(&r);
}

Test(tools, record_to_a_full_disk_is_trouble, .timeout = 60)
{
  expect_trouble(run("braid-record", "-x", "300", "-d", "16", "-o", "/dev/full", NULL), "/dev/full", "No space left on device");
}

/* A real small file system filling up in the middle of a recording: the run
 * ends with the reason, and what reached the disk is a readable trace whose
 * complete exchanges replay (--partial).  Needs a tmpfs mount (root in a
 * sandbox that allows it); elsewhere the test says why it skips. */
Test(tools, record_into_a_tiny_tmpfs_leaves_a_readable_partial_trace, .timeout = 60)
{
  char mnt[128], cmd[256];
  snprintf(mnt, sizeof mnt, "%s", tpath("tiny"));
  cr_assert_eq(mkdir(mnt, 0755), 0);
  snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=64k braid-test %s 2>/dev/null", mnt);
  if (system(cmd) != 0) {
    rmdir(mnt);
    cr_skip_test("cannot mount a tmpfs here (needs root and a sandbox that allows mounts)");
  }
  char trace[160];
  snprintf(trace, sizeof trace, "%s/t.btr", mnt);
  result r = run("braid-record", "-x", "5000", "-o", trace, NULL);
  int status = r.status;
  char err[512];
  snprintf(err, sizeof err, "%.*s", (int)r.errlen, r.err);
  drop(&r);
  result rp = run("braid-replay", "--partial", trace, NULL);
  snprintf(cmd, sizeof cmd, "umount %s", mnt);
  cr_assert_eq(system(cmd), 0);
  rmdir(mnt);
  cr_assert_eq(status, 2, "%s", err);
  cr_assert(strstr(err, "No space left on device") && strstr(err, "t.btr"), "%s", err);
  cr_assert_eq(rp.status, 0, SHOW(rp));
  cr_assert(strstr(rp.out, "OK: "), SHOW(rp));
  cr_assert(strstr(rp.err, "truncated"), "replay says the trace was cut: " SHOW(rp));
  drop(&rp);
}

Test(bad_input, record_refuses_an_unknown_flag) { expect_trouble(run("braid-record", "--bogus", NULL), "--bogus", NULL); }

Test(bad_input, record_refuses_a_negative_number) { expect_trouble(run("braid-record", "--tori", "-3", NULL), "--tori", "-3"); }

Test(bad_input, record_names_the_option_once)
{
  expect_trouble(run("braid-record", "--interval-min", "0", NULL), "braid-record: --interval-min: 0 is out of range 1..10000000\n", NULL);
}

Test(bad_input, record_set_names_the_setting)
{
  expect_trouble(run("braid-record", "--set", "tori=17", NULL), "--set: tori: 17 is out of range 2..16", NULL);
}

Test(bad_input, record_refuses_an_overflowing_number)
{
  expect_trouble(run("braid-record", "-x", "99999999999999999999999", NULL), "--exchanges", "99999999999999999999999");
}

Test(bad_input, record_refuses_an_overflowing_event_count)
{
  expect_trouble(run("braid-record", "--events", "99999999999999999999999", NULL), "--events", "too large");
}

Test(bad_input, record_refuses_a_number_with_garbage) { expect_trouble(run("braid-record", "--seed", "12x", NULL), "--seed", "12x"); }

Test(bad_input, record_refuses_a_bad_duration) { expect_trouble(run("braid-record", "--duration", "12x", NULL), "--duration", "12x"); }

/* Rounded to 0 ms, it would mean "no limit": with -x before it, this run
 * would never end. */
Test(bad_input, record_refuses_a_duration_below_a_millisecond)
{
  expect_trouble(run("braid-record", "-q", "-d", "8", "-x", "5", "--duration", "0.0001", NULL), "--duration", "below the 1 ms resolution");
}

Test(bad_input, record_refuses_a_hexadecimal_duration)
{
  expect_trouble(run("braid-record", "-q", "-d", "8", "--duration", "0x10", NULL), "--duration", "'0x10'");
}

Test(bad_input, record_accepts_a_duration_of_one_millisecond)
{
  result r = run("braid-record", "-q", "-d", "8", "--duration", "0.001", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}

Test(bad_input, record_refuses_a_missing_value) { expect_trouble(run("braid-record", "--tori", NULL), "--tori", "needs a value"); }

Test(bad_input, record_refuses_an_unknown_model) { expect_trouble(run("braid-record", "--model", "nosuch", NULL), "--model", "nosuch"); }

Test(bad_input, record_refuses_an_unknown_model_parameter)
{
  expect_trouble(run("braid-record", "-m", "phold", "-p", "nosuch=1", NULL), "--param", "nosuch");
}

Test(bad_input, record_names_the_range_of_a_model_parameter_that_is_too_large)
{
  expect_trouble(run("braid-record", "-p", "pop=99999999999999999999", NULL), "--param", "pop of uniform: 99999999999999999999 is out of range 1..16");
}

Test(bad_input, record_names_the_range_of_a_model_parameter_that_is_not_a_number)
{
  expect_trouble(run("braid-record", "-p", "pop=abc", NULL), "--param", "'abc' is not a whole number (range 1..16)");
}

Test(bad_input, record_lists_the_parameters_of_the_model)
{
  expect_trouble(run("braid-record", "-m", "phold", "-p", "foo=1", NULL), "--param", "(it takes pop, lookahead, mean)");
}

Test(bad_input, record_says_a_seed_is_too_large_rather_than_not_a_number)
{
  expect_trouble(run("braid-record", "--seed", "99999999999999999999", NULL), "--seed", "out of range 0..9223372036854775807");
}

Test(bad_input, record_refuses_an_unwritable_trace_path)
{
  expect_trouble(run("braid-record", "-x", "10", "-o", "no/such/dir/t.btr", NULL), "no/such/dir/t.btr", "No such file");
}
#define SMALL "-q", "-d", "8", "-x", "5"

Test(bad_input, record_refuses_an_injection_on_a_torus_that_is_not_a_letter_a_to_p)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "Z@1:5=77", NULL), "--inject: torus 'Z' in 'Z@1:5=77'", "A..P");
}

Test(bad_input, record_refuses_an_injection_on_a_two_letter_torus)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "AB@1:5=77", NULL), "--inject: torus 'AB'", "A..P");
}

Test(bad_input, record_refuses_an_injection_on_a_torus_that_does_not_exist)
{
  expect_trouble(run("braid-record", SMALL, "-n", "2", "--inject", "C@1:5=77", NULL), "--inject: torus C", "does not exist (tori A..B)");
}

/* 4294967301 is 5 modulo 2^32: it must not wrap onto cell 5. */
Test(bad_input, record_refuses_an_injection_into_a_cell_beyond_the_torus)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@1:4294967301=88", NULL), "--inject: cell 4294967301", "out of range 0..511");
}

Test(bad_input, record_refuses_an_injection_beyond_the_run)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@99999999999999999999:5=1", NULL), "--inject: exchange 99999999999999999999",
                 "beyond the run, whose last exchange is 4");
}

Test(bad_input, record_quotes_the_injected_payload_it_refuses)
{
  expect_trouble(run("braid-record", SMALL, "--inject", "B@1:5=99999999999999999999", NULL), "--inject: payload 99999999999999999999",
                 "-2147483648..2147483647");
}

Test(bad_input, record_refuses_a_failure_of_a_torus_that_does_not_exist)
{
  expect_trouble(run("braid-record", SMALL, "-n", "2", "--fail", "C@2", NULL), "--fail: torus C in 'C@2' does not exist (tori A..B)", NULL);
}

Test(bad_input, record_refuses_an_empty_failure) { expect_trouble(run("braid-record", SMALL, "--fail", "", NULL), "--fail", "empty"); }

Test(bad_input, record_refuses_a_failure_beyond_the_run)
{
  expect_trouble(run("braid-record", SMALL, "--fail", "B@100", NULL), "--fail: 'B@100'", "beyond the run, whose last exchange is 4");
}

/* The boundary of the check above: exchange 4 is the last of -x 5. */
Test(bad_input, record_fails_a_torus_at_the_last_exchange)
{
  result r = run("braid-record", "-d", "8", "-x", "5", "--json", "--fail", "B@4", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert(strstr(r.out, "\"failures\":1"), SHOW(r));
  drop(&r);
}

/* A timed run has no known last exchange, so a late failure is accepted. */
Test(bad_input, record_accepts_a_late_failure_in_a_timed_run)
{
  result r = run("braid-record", "-q", "-d", "8", "--duration", "0.01", "--fail", "B@100000", NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  cr_assert_eq(r.errlen, 0, SHOW(r));
  drop(&r);
}
#define RIPPLE_SO BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so"

/* --list-models ignored --model-plugin: the plugin's model and its
 * parameters are listed after the built-in ones, whichever option comes
 * first. */
Test(bad_input, record_lists_the_plugin_model_with_list_models)
{
  result r = run("braid-record", "--list-models", "--model-plugin", RIPPLE_SO, NULL);
  cr_assert_eq(r.status, 0, SHOW(r));
  char want[512];
  snprintf(want, sizeof want, "\nripple   version 1, from --model-plugin %s: ", RIPPLE_SO);
  const char *p = strstr(r.out, want);
  cr_assert(p && strstr(r.out, "\nphold ") < p, SHOW(r));
  cr_assert(strstr(p, "\n         -p delay=N  ") && strstr(p, "\n         -p pop=N  "), SHOW(r));
  result s = run("braid-record", "--model-plugin", RIPPLE_SO, "--list-models", NULL);
  cr_assert_eq(s.status, 0, SHOW(s));
  cr_assert_str_eq(s.out, r.out);
  drop(&s);
  drop(&r);
  expect_trouble(run("braid-record", "--list-models", "--model-plugin", "nosuch.so", NULL), "--model-plugin: nosuch.so", NULL);
}

Test(bad_input, record_says_a_plugin_directory_is_a_directory)
{
  cr_assert_eq(mkdir(tpath("plugins"), 0755), 0);
  expect_trouble(run("braid-record", SMALL, "--model-plugin", "plugins", NULL), "--model-plugin: plugins: is a directory", NULL);
}

Test(bad_input, record_refuses_a_plugin_with_an_empty_symbol)
{
  expect_trouble(run("braid-record", SMALL, "--model-plugin", RIPPLE_SO ":", NULL), "--model-plugin", "empty symbol name");
}

/* The plugin used to win silently over -m. */
Test(bad_input, record_refuses_a_model_and_a_plugin_together)
{
  expect_trouble(run("braid-record", SMALL, "-m", "uniform", "--model-plugin", RIPPLE_SO, NULL), "--model and --model-plugin both name the model",
                 NULL);
  expect_trouble(run("braid-record", SMALL, "--model-plugin", RIPPLE_SO, "--set", "model=phold", NULL),
                 "--set model and --model-plugin both name the model", NULL);
}

/* -o naming the model plugin that was loaded truncated the mapped code
 * under the run: a bus error, and the plugin replaced by a trace.  Refused
 * by braid-record and braid-replay, whatever the path, link or symbolic
 * link, and the plugin is left as it was. */
Test(bad_input, record_and_replay_refuse_an_output_that_is_the_plugin, .timeout = 60)
{
  size_t n0;
  char *so = load(RIPPLE_SO, &n0);
  save(tpath("victim.so"), so, n0);
  cr_assert_eq(link(tpath("victim.so"), tpath("hard.so")), 0);
  cr_assert_eq(symlink("victim.so", tpath("soft.so")), 0);
  expect_ok(run("braid-record", "--model-plugin", "./victim.so", "-d", "8", "-x", "10", "-q", "-o", "t.btr", NULL));
  const char *outs[] = { "victim.so", "./victim.so", "hard.so", "soft.so" };
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
    char want[64];
    snprintf(want, sizeof want, "%s: is the model plugin ./victim.so", outs[i]);
    expect_trouble(run("braid-record", "--model-plugin", "./victim.so", "-d", "8", "-x", "10", "-q", "-o", outs[i], NULL), want, "another file");
    snprintf(want, sizeof want, "the output %s is the model plugin ./victim.so", outs[i]);
    expect_trouble(run("braid-replay", "--model-plugin", "./victim.so", "-o", outs[i], "t.btr", NULL), want, "another file");
    size_t n;
    char *after = load(tpath("victim.so"), &n);
    cr_assert(n == n0 && !memcmp(so, after, n), "-o %s changed the plugin: %zu bytes, were %zu", outs[i], n, n0);
    free(after);
  }
  free(so);
  expect_ok(run("braid-replay", "--model-plugin", "./victim.so", "-q", "t.btr", NULL));
}

Test(bad_input, record_names_the_short_option_missing_its_value)
{
  expect_trouble(run("braid-record", "-qn", NULL), "option '-n' needs a value", NULL);
}

Test(bad_input, record_says_an_abbreviation_is_ambiguous)
{
  expect_trouble(run("braid-record", "--se", "3", NULL), "'--se' is ambiguous", "--seed, --sequential, --set");
}

Test(cli, record_has_help_and_version) { help_and_version("braid-record"); }

Test(cli, record_help_options_are_in_its_man_page) { help_options_in_man_page("braid-record"); }
