/* test_golden.c - golden traces replay exactly; broken ones fail with the
 * right error; the tools print what traces/ says they print. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "braid.h"

#define TRACES BRAID_SRCDIR "/traces/"

typedef struct golden {
  char name[32];
} golden;

ParameterizedTestParameters(golden, replays_exactly)
{
  static golden g[] = { { "uniform" }, { "skewed" }, { "bursty" }, { "phold" }, { "racy-sequential" }, { "failure" }, { "injection" }, { "chaos-checkpoints" } };
  return cr_make_param_array(golden, g, sizeof g / sizeof g[0]);
}

ParameterizedTest(golden *g, golden, replays_exactly, .timeout = 60)
{
  char path[512], err[1024];
  snprintf(path, sizeof path, TRACES "%s.btr", g->name);
  braid_replay_result res;
  int rc = braid_replay(path, NULL, &res, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_not(res.diverged, "%s diverged at exchange %llu: %s.%s", g->name, (unsigned long long)res.div.exchange, res.div.record, res.div.field);
  cr_assert_eq(res.exchanges_checked, 80);
  cr_assert_eq(res.status, BRAID_TRACE_COMPLETE);
  cr_assert_eq(res.recorded_threaded, strcmp(g->name, "racy-sequential") != 0, "only racy-sequential was recorded sequentially");
}

/* res->violations counts the boundary checks that found violated cells, as
 * the recording has them, whether or not --violation stops at one. */
Test(golden, replay_counts_the_boundary_checks_with_violations, .timeout = 60)
{
  const char *path = TRACES "chaos-checkpoints.btr";
  char err[1024] = "";
  braid_trace *t;
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  uint64_t recorded = 0;
  while (braid_trace_next(t, &r) == 0) {
    const char *name = braid_record_type_name(r.type);
    if (name && !strcmp(name, "boundary") && r.field[3] > 0) recorded++; /* field 3: violations */
  }
  braid_trace_close(t);
  cr_assert_gt(recorded, 1);
  braid_replay_result res;
  cr_assert_eq(braid_replay(path, NULL, &res, err, sizeof err), 0, "%s", err);
  cr_assert_eq(res.violations, recorded);
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.violation = recorded + 1;
  cr_assert_eq(braid_replay(path, &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.stopped_at_violation);
  cr_assert_eq(res.violations, recorded);
  o.violation = recorded;
  cr_assert_eq(braid_replay(path, &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert(res.stopped_at_violation);
  cr_assert_eq(res.violations, recorded);
}

/* Replays the golden chaos-checkpoints trace (80 exchanges, checkpoints
 * after exchanges 39 and 79) --from `from` --until `until` (UINT64_MAX:
 * none). */
static int replay_checkpoints(uint64_t from, uint64_t until, braid_replay_result *res, char *err, size_t errlen)
{
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.from = from;
  o.until = until;
  return braid_replay(TRACES "chaos-checkpoints.btr", &o, res, err, errlen);
}

/* braid-dump --stats run inside traces/ must print NAME.stats exactly. */
ParameterizedTestParameters(golden, stats_match_expected_output)
{
  static golden g[] = { { "uniform" }, { "skewed" }, { "bursty" }, { "phold" }, { "racy-sequential" }, { "failure" }, { "injection" }, { "chaos-checkpoints" } };
  return cr_make_param_array(golden, g, sizeof g / sizeof g[0]);
}

static void same_output(const char *cmd, const char *expected)
{
  char full[2048];
  snprintf(full, sizeof full, "cd " TRACES " && %s | cmp -s - %s", cmd, expected);
  cr_assert_eq(system(full), 0, "output of '%s' differs from traces/%s", cmd, expected);
}

ParameterizedTest(golden *g, golden, stats_match_expected_output, .timeout = 60)
{
  char cmd[1024], exp[64];
  snprintf(cmd, sizeof cmd, BRAID_BUILDDIR "/tools/braid-dump --stats %s.btr", g->name);
  snprintf(exp, sizeof exp, "%s.stats", g->name);
  same_output(cmd, exp);
}

Test(golden, text_dump_matches_expected_output, .timeout = 60) { same_output(BRAID_BUILDDIR "/tools/braid-dump uniform.btr", "uniform.dump"); }

Test(golden, replay_from_checkpoint_checks_the_rest, .timeout = 60)
{
  braid_replay_result res;
  char err[1024];
  cr_assert_eq(replay_checkpoints(50, UINT64_MAX, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert_eq(res.first_exchange, 40, "the checkpoint after exchange 39 is the last one at or before 50");
  cr_assert_eq(res.exchanges_checked, 40);
}

/* The last checkpoint follows exchange 79, the last one: it is reachable, and
 * nothing after it is left to compare. */
Test(golden, replay_from_the_last_checkpoint_checks_nothing_after_it, .timeout = 60)
{
  braid_replay_result res;
  char err[1024] = "";
  cr_assert_eq(replay_checkpoints(79, UINT64_MAX, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert_eq(res.trace_exchanges, 80);
  cr_assert_eq(res.first_exchange, 80, "the checkpoint after exchange 79 is used");
  cr_assert_eq(res.exchanges_checked, 0);
}

/* --from 50 picks the checkpoint after exchange 39: a stop at or before it
 * leaves nothing to compare and is refused, never run into a divergence. */
Test(golden, replay_refuses_until_at_or_before_the_checkpoint, .timeout = 60)
{
  static const uint64_t until[] = { 30, 39 };
  for (size_t i = 0; i < sizeof until / sizeof until[0]; i++) {
    braid_replay_result res;
    char err[1024] = "", want[32];
    cr_assert_eq(replay_checkpoints(50, until[i], &res, err, sizeof err), BRAID_EINVAL, "until %llu: %s",
                 (unsigned long long)until[i], err);
    cr_assert_not(res.diverged);
    snprintf(want, sizeof want, "--until %llu", (unsigned long long)until[i]);
    cr_assert(strstr(err, want) && strstr(err, "exchange 39"), "%s", err);
  }
}

Test(golden, replay_from_a_checkpoint_until_the_next_exchange_checks_one, .timeout = 60)
{
  braid_replay_result res;
  char err[1024] = "";
  cr_assert_eq(replay_checkpoints(50, 40, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert_eq(res.first_exchange, 40);
  cr_assert_eq(res.exchanges_checked, 1);
}

Test(golden, replay_from_beyond_the_trace_is_out_of_range, .timeout = 60)
{
  braid_replay_result res;
  char err[1024] = "";
  cr_assert_eq(replay_checkpoints(80, UINT64_MAX, &res, err, sizeof err), BRAID_ERANGE, "%s", err);
  cr_assert(strstr(err, "--from 80") && strstr(err, "ends at exchange 79"), "%s", err);
}

typedef struct broken {
  char name[40];
  int err;       /* expected from open, or 0 */
  int next_err;  /* expected from iterating, when open succeeds */
  char needle[40];
} broken;

static broken broken_fixtures[] = {
  { "broken-empty", BRAID_ENOTTRACE, 0, "empty" },
  { "broken-magic", BRAID_ENOTTRACE, 0, "magic" },
  { "broken-version", BRAID_EVERSION, 0, "99" },
  { "broken-truncated", 0, BRAID_ETRUNCATED, "ends inside" },
  { "broken-bitflip", 0, BRAID_ECORRUPT, "offset" },
  { "broken-zero-frame", BRAID_ECORRUPT, BRAID_ECORRUPT, "index" },
  { "broken-huge-window", 0, BRAID_ELIMIT, "window" },
};

ParameterizedTestParameters(golden, broken_fixture_fails_with_its_error)
{
  return cr_make_param_array(broken, broken_fixtures, sizeof broken_fixtures / sizeof broken_fixtures[0]);
}

ParameterizedTest(broken *b, golden, broken_fixture_fails_with_its_error, .timeout = 30)
{
  char path[512], err[1024] = "";
  snprintf(path, sizeof path, TRACES "%s.btr", b->name);
  braid_trace *t = NULL;
  int rc = braid_trace_open(&t, path, err, sizeof err);
  if (b->err) {
    cr_assert_eq(rc, b->err, "%s: open gave %s (%s)", b->name, braid_errname(rc), err);
    cr_assert(strstr(err, b->needle), "%s: '%s' lacks '%s'", b->name, err, b->needle);
    cr_assert(strstr(err, b->name), "the message names the file: %s", err);
    return;
  }
  cr_assert_eq(rc, 0, "%s: %s", b->name, err);
  braid_record r;
  while ((rc = braid_trace_next(t, &r)) == 0) {}
  cr_assert_eq(rc, b->next_err, "%s: reading gave %s (%s)", b->name, braid_errname(rc), braid_trace_error(t));
  cr_assert(strstr(braid_trace_error(t), b->needle), "%s: '%s' lacks '%s'", b->name, braid_trace_error(t), b->needle);
  braid_trace_close(t);
}

/* The same broken traces given to braid_replay(): the damage is what is
 * reported, also for broken-huge-window, whose synthetic header names a build
 * without a semantics version (it once hid the damage behind "use --force"). */
ParameterizedTestParameters(golden, broken_fixture_replay_reports_the_damage)
{
  return cr_make_param_array(broken, broken_fixtures, sizeof broken_fixtures / sizeof broken_fixtures[0]);
}

ParameterizedTest(broken *b, golden, broken_fixture_replay_reports_the_damage, .timeout = 30)
{
  char path[512], err[1024] = "";
  snprintf(path, sizeof path, TRACES "%s.btr", b->name);
  braid_replay_result res;
  int rc = braid_replay(path, NULL, &res, err, sizeof err), want = b->err ? b->err : b->next_err;
  cr_assert_eq(rc, want, "%s: replay gave %s, not %s (%s)", b->name, braid_errname(rc), braid_errname(want), err);
  cr_assert(strstr(err, b->needle) && strstr(err, b->name), "%s: '%s' lacks '%s'", b->name, err, b->needle);
}

/* An intact trace from a build of another semantics version is still
 * refused (trace_child's header says build "test"). */
Test(golden, replay_refuses_an_intact_trace_of_another_semantics_version, .timeout = 30)
{
  char path[] = "/tmp/braid-semantics-XXXXXX", cmd[512];
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  snprintf(cmd, sizeof cmd, BRAID_BUILDDIR "/tests/trace_child seed %s 8 0 1", path);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  braid_replay_result res;
  char err[1024] = "";
  cr_assert_eq(braid_replay(path, NULL, &res, err, sizeof err), BRAID_EMISMATCH, "%s", err);
  cr_assert(strstr(err, "another semantics version") && strstr(err, "--force"), "%s", err);
  unlink(path);
}

/* The replay's own trace must never be the trace it reads: the file, under
 * another path, a hard link or a symbolic link, is refused before anything
 * is opened for writing, and stays as it was. */
Test(golden, replay_refuses_to_write_its_trace_over_the_one_it_reads, .timeout = 60)
{
  char d[] = "/tmp/braid-same-XXXXXX", trace[256], cmd[768];
  cr_assert(mkdtemp(d));
  snprintf(trace, sizeof trace, "%s/run.btr", d);
  snprintf(cmd, sizeof cmd, "cp " TRACES "uniform.btr %s && ln %s %s/hard.btr && ln -s run.btr %s/soft.btr", trace, trace, d, d);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  struct stat before;
  cr_assert_eq(stat(trace, &before), 0);
  char outs[4][256];
  snprintf(outs[0], sizeof outs[0], "%s", trace);
  snprintf(outs[1], sizeof outs[1], "%s/./run.btr", d);
  snprintf(outs[2], sizeof outs[2], "%s/hard.btr", d);
  snprintf(outs[3], sizeof outs[3], "%s/soft.btr", d);
  for (int i = 0; i < 4; i++) {
    braid_replay_opts o;
    braid_replay_opts_init(&o);
    o.out = outs[i];
    braid_replay_result res;
    char err[1024] = "";
    cr_assert_eq(braid_replay(trace, &o, &res, err, sizeof err), BRAID_EINVAL, "-o %s: %s", outs[i], err);
    cr_assert(strstr(err, outs[i]) && strstr(err, "same file"), "%s", err);
    snprintf(cmd, sizeof cmd, "cmp -s " TRACES "uniform.btr %s", trace);
    cr_assert_eq(system(cmd), 0, "-o %s changed the trace", outs[i]);
  }
  /* Another file is written, and the trace still replays. */
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  snprintf(outs[0], sizeof outs[0], "%s/other.btr", d);
  o.out = outs[0];
  braid_replay_result res;
  char err[1024] = "";
  cr_assert_eq(braid_replay(trace, &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  cr_assert_eq(system(cmd), 0);
}

/* A replay from a checkpoint writes its own trace starting with that
 * checkpoint, then the exchanges after it: replayed on its own, it starts
 * from the checkpoint and matches (a sequential recording, by its header). */
Test(golden, replay_from_a_checkpoint_writes_a_trace_that_replays_on_its_own, .timeout = 60)
{
  char path[] = "/tmp/braid-rep-XXXXXX", err[1024] = "";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.from = 50;
  o.out = path;
  braid_replay_result res;
  cr_assert_eq(braid_replay(TRACES "chaos-checkpoints.btr", &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert_eq(res.first_exchange, 40);
  braid_trace *t;
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  uint64_t at = 0;
  const uint8_t *blob;
  size_t len;
  cr_assert_eq(braid_trace_checkpoint(t, 40, &at, &blob, &len), 0, "%s", braid_trace_error(t));
  cr_assert_eq(at, 39, "the trace starts with the checkpoint the replay started from");
  cr_assert_eq(braid_trace_get_info(t)->exchanges, 40, "its footer counts the exchanges it holds, 40..79");
  braid_trace_close(t);
  cr_assert_eq(braid_replay(path, NULL, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged, "diverged at exchange %llu: %s.%s", (unsigned long long)res.div.exchange, res.div.record, res.div.field);
  cr_assert_eq(res.first_exchange, 40);
  cr_assert_eq(res.exchanges_checked, 40);
  cr_assert_eq(res.trace_exchanges, 80);
  cr_assert_not(res.recorded_threaded, "the replay ran the sequential executor");
  /* A --from before its start is the same replay; an --until before it
   * leaves nothing to compare. */
  o.out = NULL;
  o.from = 10;
  cr_assert_eq(braid_replay(path, &o, &res, err, sizeof err), 0, "%s", err);
  cr_assert(!res.diverged && res.first_exchange == 40 && res.exchanges_checked == 40);
  braid_replay_opts_init(&o);
  o.until = 30;
  cr_assert_eq(braid_replay(path, &o, &res, err, sizeof err), BRAID_EINVAL, "%s", err);
  cr_assert(strstr(err, "--until 30") && strstr(err, "starts at exchange 40"), "%s", err);
  cr_assert_not(res.diverged);
  unlink(path);
}

/* A trace that starts at exchange 40 without the state before it (as an
 * older build's replay from a checkpoint wrote it) cannot be replayed: it
 * is refused, never reported as a divergence at its first exchange. */
Test(golden, replay_refuses_a_trace_that_starts_without_the_state_before_it, .timeout = 60)
{
  char path[] = "/tmp/braid-late-XXXXXX", cmd[512], err[1024] = "";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  snprintf(cmd, sizeof cmd, BRAID_BUILDDIR "/tests/trace_child copy " TRACES "chaos-checkpoints.btr %s 40 0", path);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  braid_replay_result res;
  cr_assert_eq(braid_replay(path, NULL, &res, err, sizeof err), BRAID_EINVAL, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert(strstr(err, path) && strstr(err, "starts at exchange 40 without the state before it"), "%s", err);
  unlink(path);
}
