/* test_sdk.c - the model SDK end to end: the example plugin recorded and
 * replayed by the tools, the racy variant caught by braid-diff, and replay
 * refusing a plugin that is not the one recorded.  Uses only braid.h. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <braid.h>

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#define TOOL(name) BRAID_BUILDDIR "/tools/" name
#define PLUGIN(name) BRAID_BUILDDIR "/tests/.libs/" name ".so"
#define RIPPLE PLUGIN("plugin_ripple")
#define REBUILT PLUGIN("plugin_ripple_rebuilt")
#define BUGGY PLUGIN("plugin_ripple_buggy")

/* Four tori of 16^3 cells, 200 exchanges (500 for the racy plugin). */
#define RUN "-n 4 -d 16 -p delay=6 -p pop=2"

static char dir[256];
static char errtext[8192];

static void make_dir(void)
{
  snprintf(dir, sizeof dir, "/tmp/braid-sdk-XXXXXX");
  cr_assert(mkdtemp(dir), "mkdtemp failed");
}

static void remove_dir(void)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (dir[0]) cr_expect_eq(system(cmd), 0);
}

/* Runs a shell command with stderr captured into errtext; returns its exit
 * status (or -1 if it did not exit). */
static int run(const char *fmt, ...)
{
  char cmd[2048], full[2400], path[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(path, sizeof path, "%s/stderr", dir);
  snprintf(full, sizeof full, "%s >/dev/null 2>'%s'", cmd, path);
  int st = system(full);
  errtext[0] = 0;
  FILE *f = fopen(path, "r");
  if (f) {
    size_t n = fread(errtext, 1, sizeof errtext - 1, f);
    errtext[n] = 0;
    fclose(f);
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void record(const char *plugin, const char *how, const char *name)
{
  int rc = run("%s --model-plugin %s %s -x 200 %s -q -o %s/%s", TOOL("braid-record"), plugin, RUN, how, dir, name);
  cr_assert_eq(rc, 0, "braid-record %s %s failed (%d): %s", plugin, how, rc, errtext);
}

TestSuite(sdk_tools, .init = make_dir, .fini = remove_dir, .timeout = 120);

Test(sdk_tools, threaded_plugin_run_replays)
{
  record(RIPPLE, "-t 4", "threaded.braid");
  int rc = run("%s --model-plugin %s %s/threaded.braid", TOOL("braid-replay"), RIPPLE, dir);
  cr_assert_eq(rc, 0, "braid-replay exited %d: %s", rc, errtext);
}

Test(sdk_tools, threaded_plugin_run_equals_sequential)
{
  record(RIPPLE, "-t 4", "threaded.braid");
  record(RIPPLE, "--sequential", "sequential.braid");
  int rc = run("%s %s/threaded.braid %s/sequential.braid", TOOL("braid-diff"), dir, dir);
  cr_assert_eq(rc, 0, "braid-diff exited %d: %s", rc, errtext);
}

/* Why these cannot pass by luck: see the comment on shared_calls in
 * plugin_example.c.  The counter sequence of a threaded run departs from the
 * sequential one at the latest at the fifth step, through the scheduler's
 * order alone (the one-worker test shows it without any concurrency), and
 * with four workers on two CPUs also through overlap and lost updates. */
static void expect_racy_run_caught(const char *threads)
{
  int rc = run("%s --model-plugin %s %s -x 500 %s -q -o %s/threaded.braid", TOOL("braid-record"), BUGGY, RUN, threads, dir);
  cr_assert_eq(rc, 0, "braid-record failed (%d): %s", rc, errtext);
  rc = run("%s --model-plugin %s %s -x 500 --sequential -q -o %s/sequential.braid", TOOL("braid-record"), BUGGY, RUN, dir);
  cr_assert_eq(rc, 0, "braid-record failed (%d): %s", rc, errtext);
  rc = run("%s %s/threaded.braid %s/sequential.braid", TOOL("braid-diff"), dir, dir);
  cr_assert_eq(rc, 1, "braid-diff exited %d (want 1: the traces differ): %s", rc, errtext);
  rc = run("%s --model-plugin %s %s/threaded.braid", TOOL("braid-replay"), BUGGY, dir);
  cr_assert_eq(rc, 1, "braid-replay exited %d (want 1: diverged): %s", rc, errtext);
}

Test(sdk_tools, racy_plugin_threaded_differs_from_sequential)
{
  expect_racy_run_caught("-t 4");
}

Test(sdk_tools, racy_plugin_differs_even_with_one_worker)
{
  expect_racy_run_caught("-t 1");
}

Test(sdk_tools, racy_plugin_sequential_run_replays)
{
  record(BUGGY, "--sequential", "sequential.braid");
  int rc = run("%s --model-plugin %s %s/sequential.braid", TOOL("braid-replay"), BUGGY, dir);
  cr_assert_eq(rc, 0, "braid-replay exited %d: %s", rc, errtext);
}

Test(sdk_tools, replay_without_the_plugin_is_refused)
{
  record(RIPPLE, "-t 2", "run.braid");
  int rc = run("%s %s/run.braid", TOOL("braid-replay"), dir);
  cr_assert_eq(rc, 2, "braid-replay exited %d: %s", rc, errtext);
  cr_assert(strstr(errtext, "recorded with the model plugin 'ripple 1 "), "message: %s", errtext);
  cr_assert(strstr(errtext, "--model-plugin"), "message: %s", errtext);
}

Test(sdk_tools, replay_with_another_plugin_file_is_refused)
{
  record(RIPPLE, "-t 2", "run.braid");
  int rc = run("%s --model-plugin %s %s/run.braid", TOOL("braid-replay"), REBUILT, dir);
  cr_assert_eq(rc, 2, "braid-replay exited %d: %s", rc, errtext);
  cr_assert(strstr(errtext, "plugin mismatch"), "message: %s", errtext);
  cr_assert(strstr(errtext, "--force"), "message: %s", errtext);
  /* Both identities are named; they differ only in the file hash. */
  const char *a = strstr(errtext, "'ripple 1 "), *b = a ? strstr(a + 1, "'ripple 1 ") : NULL;
  cr_assert(a && b && strncmp(a, b, 27), "message: %s", errtext);
}

Test(sdk_tools, force_replays_with_another_plugin_file)
{
  record(RIPPLE, "-t 2", "run.braid");
  int rc = run("%s --force --model-plugin %s %s/run.braid", TOOL("braid-replay"), REBUILT, dir);
  cr_assert_eq(rc, 0, "braid-replay --force exited %d: %s", rc, errtext);
  cr_assert(strstr(errtext, "plugin mismatch forced"), "warning: %s", errtext);
}

Test(sdk_tools, copied_plugin_file_is_the_same_plugin)
{
  record(RIPPLE, "-t 2", "run.braid");
  cr_assert_eq(run("cp %s %s/copy.so", RIPPLE, dir), 0);
  int rc = run("%s --model-plugin %s/copy.so %s/run.braid", TOOL("braid-replay"), dir, dir);
  cr_assert_eq(rc, 0, "braid-replay exited %d: %s", rc, errtext);
}

Test(sdk_tools, builtin_trace_with_a_plugin_is_refused)
{
  cr_assert_eq(run("%s -n 2 -d 8 -x 5 -q -o %s/builtin.braid", TOOL("braid-record"), dir), 0, "%s", errtext);
  int rc = run("%s --model-plugin %s %s/builtin.braid", TOOL("braid-replay"), RIPPLE, dir);
  cr_assert_eq(rc, 2, "braid-replay exited %d: %s", rc, errtext);
  cr_assert(strstr(errtext, "built-in model"), "message: %s", errtext);
}

Test(sdk_tools, record_rejects_an_unknown_plugin_parameter)
{
  int rc = run("%s --model-plugin %s -p nosuch=1 -x 1 -q", TOOL("braid-record"), RIPPLE);
  cr_assert_eq(rc, 2, "braid-record exited %d: %s", rc, errtext);
  cr_assert(strstr(errtext, "nosuch"), "message: %s", errtext);
}

/* ------------------------------------------------------- the same, via API */

static const braid_model *load(const char *spec)
{
  const braid_model *m = NULL;
  char err[512];
  int rc = braid_model_load(spec, &m, err, sizeof err);
  cr_assert_eq(rc, 0, "braid_model_load(%s): %s", spec, err);
  return m;
}

/* Records 20 threaded exchanges of `m` into dir/name. */
static void record_api(const braid_model *m, const char *name)
{
  braid_config *cfg;
  braid_runtime *rt;
  char path[300], err[512];
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set_model(cfg, m), 0, "%s", braid_config_error(cfg));
  cr_assert_eq(braid_config_set(cfg, "tori", "3"), 0);
  cr_assert_eq(braid_config_set(cfg, "dim", "8"), 0);
  cr_assert_eq(braid_config_set(cfg, "exchanges", "20"), 0);
  cr_assert_eq(braid_config_set(cfg, "threads", "2"), 0);
  cr_assert_eq(braid_runtime_create(&rt, cfg, err, sizeof err), 0, "%s", err);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  cr_assert_eq(braid_runtime_record(rt, path), 0, "%s", braid_runtime_error(rt));
  cr_assert_eq(braid_runtime_run(rt), 0, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);
}

static int replay_api(const char *name, const braid_model *m, int force, braid_replay_result *res, char *err, size_t errlen)
{
  char path[300];
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  o.model = m;
  o.force = force;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return braid_replay(path, &o, res, err, errlen);
}

TestSuite(sdk_replay, .init = make_dir, .fini = remove_dir, .timeout = 60);

Test(sdk_replay, matching_plugin_replays)
{
  braid_replay_result res;
  char err[1024] = "";
  record_api(load(RIPPLE), "run.braid");
  cr_assert_eq(replay_api("run.braid", load(RIPPLE), 0, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert_eq(res.exchanges_checked, 20);
}

Test(sdk_replay, mismatching_plugin_is_emismatch_naming_both)
{
  braid_replay_result res;
  char err[1024] = "";
  record_api(load(RIPPLE), "run.braid");
  const braid_model *other = load(REBUILT);
  cr_assert_eq(replay_api("run.braid", other, 0, &res, err, sizeof err), BRAID_EMISMATCH, "%s", err);
  char path[300];
  braid_trace *t;
  snprintf(path, sizeof path, "%s/run.braid", dir);
  cr_assert_eq(braid_trace_open(&t, path, NULL, 0), 0);
  const char *recorded = braid_trace_get_info(t)->plugin;
  cr_assert(strncmp(recorded, "ripple 1 ", 9) == 0 && strlen(recorded) == 25, "header plugin '%s'", recorded);
  cr_assert(strstr(err, recorded), "message does not name the recorded plugin: %s", err);
  braid_trace_close(t);
  cr_assert(strstr(err, "'ripple 1 "), "%s", err);
}

Test(sdk_replay, force_turns_the_mismatch_into_a_warning)
{
  braid_replay_result res;
  char err[1024] = "";
  record_api(load(RIPPLE), "run.braid");
  cr_assert_eq(replay_api("run.braid", load(REBUILT), 1, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert(strstr(res.warning, "plugin mismatch forced"), "warning: %s", res.warning);
}

Test(sdk_replay, missing_plugin_is_emismatch)
{
  braid_replay_result res;
  char err[1024] = "";
  record_api(load(RIPPLE), "run.braid");
  cr_assert_eq(replay_api("run.braid", NULL, 0, &res, err, sizeof err), BRAID_EMISMATCH, "%s", err);
  cr_assert(strstr(err, "ripple 1 "), "%s", err);
}

Test(sdk_replay, loading_a_plugin_twice_gives_the_same_model)
{
  cr_assert_eq(load(RIPPLE), load(RIPPLE));
  cr_assert_str_eq(load(RIPPLE ":braid_model_entry")->name, "ripple");
}

Test(sdk_replay, bad_plugin_specs_are_errors)
{
  const braid_model *m = (const braid_model *)1;
  char err[512];
  cr_assert_eq(braid_model_load(BRAID_BUILDDIR "/tests/nosuch.so", &m, err, sizeof err), BRAID_ENOENT);
  cr_assert_null(m);
  cr_assert_eq(braid_model_load(RIPPLE ":nosuch_symbol", &m, err, sizeof err), BRAID_EPLUGIN);
  cr_assert(strstr(err, "nosuch_symbol"), "%s", err);
  cr_assert_eq(braid_model_load(NULL, &m, err, sizeof err), BRAID_EINVAL);
}

/* A directory opened as a file fails to read ("input/output error"); it is
 * named for what it is. */
Test(sdk_replay, a_directory_is_not_a_plugin)
{
  const braid_model *m = (const braid_model *)1;
  char err[512] = "";
  cr_assert_eq(braid_model_load(BRAID_BUILDDIR "/tests", &m, err, sizeof err), BRAID_EPLUGIN, "%s", err);
  cr_assert_null(m);
  cr_assert(strstr(err, BRAID_BUILDDIR "/tests: is a directory"), "%s", err);
}

/* "PATH:" once looked for a file named "PATH:". */
Test(sdk_replay, an_empty_symbol_name_is_refused)
{
  const braid_model *m = (const braid_model *)1;
  char err[512] = "";
  cr_assert_eq(braid_model_load(RIPPLE ":", &m, err, sizeof err), BRAID_EINVAL, "%s", err);
  cr_assert_null(m);
  cr_assert(strstr(err, "'" RIPPLE ":': empty symbol name"), "%s", err);
}

/* A model compiled into the program: every event stays on its cell. */
static int still_init(braid_torus *t, void **state)
{
  (void)state;
  for (uint32_t c = 0; c < braid_torus_ncells(t); c++)
    if (braid_torus_emit(t, c, c, 1 + c % 3, 1)) return BRAID_EQUEUE;
  return 0;
}

static void still_handle(braid_torus *t, void *state, const braid_event *ev)
{
  (void)state;
  braid_torus_emit(t, ev->dst, ev->dst, 3, (int32_t)(braid_torus_rand(t, 1, braid_torus_events(t)) % 3) - 1);
}

static const braid_model still = { BRAID_MODEL_ABI, "still", 7, "events stay put", NULL, still_init, still_handle, NULL, 4, NULL, NULL };

Test(sdk_replay, in_process_model_is_named_and_checked)
{
  braid_replay_result res;
  char err[1024] = "", path[300];
  record_api(&still, "still.braid");
  snprintf(path, sizeof path, "%s/still.braid", dir);
  braid_trace *t;
  cr_assert_eq(braid_trace_open(&t, path, NULL, 0), 0);
  cr_assert_str_eq(braid_trace_get_info(t)->plugin, "still 7 -");
  braid_trace_close(t);
  cr_assert_eq(replay_api("still.braid", &still, 0, &res, err, sizeof err), 0, "%s", err);
  cr_assert_not(res.diverged);
  cr_assert_eq(replay_api("still.braid", NULL, 0, &res, err, sizeof err), BRAID_EMISMATCH);
  cr_assert_eq(replay_api("still.braid", load(RIPPLE), 0, &res, err, sizeof err), BRAID_EMISMATCH);
  cr_assert(strstr(err, "'still 7 -'") && strstr(err, "'ripple 1 "), "%s", err);
}

/* A trace written over a loaded plugin truncates the code the run executes:
 * braid_runtime_record() refuses the plugin's file under any other name. */
Test(sdk_replay, recording_over_a_loaded_plugin_is_refused)
{
  const braid_model *m = load(RIPPLE);
  braid_config *cfg;
  braid_runtime *rt;
  char err[512], path[300];
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set_model(cfg, m), 0, "%s", braid_config_error(cfg));
  cr_assert_eq(braid_config_set(cfg, "dim", "8"), 0);
  cr_assert_eq(braid_runtime_create(&rt, cfg, err, sizeof err), 0, "%s", err);
  snprintf(path, sizeof path, "%s/link.so", dir);
  char target[PATH_MAX];
  cr_assert(realpath(RIPPLE, target));
  cr_assert_eq(symlink(target, path), 0);
  struct stat before, after;
  cr_assert_eq(stat(RIPPLE, &before), 0);
  cr_assert_eq(braid_runtime_record(rt, path), BRAID_EINVAL);
  cr_assert(strstr(braid_runtime_error(rt), "is the model plugin"), "%s", braid_runtime_error(rt));
  cr_assert_eq(stat(RIPPLE, &after), 0);
  cr_assert_eq(after.st_size, before.st_size);
  snprintf(path, sizeof path, "%s/run.braid", dir);
  cr_assert_eq(braid_runtime_record(rt, path), 0, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);
}
