/* install_client.c - a program built only from an installed libbraid (the
 * header and pkg-config file of a staged `make install`): records a threaded
 * run, reads the trace back, replays it and diffs it with itself.
 * Usage: install_client TRACE.  Exit 0 when all of that works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <braid.h>

static int fail(const char *what, int rc, const char *msg)
{
  fprintf(stderr, "install_client: %s: %s (%s)\n", what, msg ? msg : "", braid_strerror(rc));
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 2) return 2;
  const char *path = argv[1];
  char err[512] = "";
  braid_config *cfg;
  braid_runtime *rt;
  int rc;
  if ((rc = braid_config_create(&cfg))) return fail("config", rc, NULL);
  const char *kv[][2] = { { "model", "phold" }, { "tori", "3" }, { "dim", "8" }, { "threads", "2" }, { "exchanges", "30" } };
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    if ((rc = braid_config_set(cfg, kv[i][0], kv[i][1]))) return fail("braid_config_set", rc, braid_config_error(cfg));
  if ((rc = braid_runtime_create(&rt, cfg, err, sizeof err))) return fail("braid_runtime_create", rc, err);
  if ((rc = braid_runtime_record(rt, path))) return fail("braid_runtime_record", rc, braid_runtime_error(rt));
  if ((rc = braid_inject(rt, 1, 5, 3, 10))) return fail("braid_inject", rc, NULL);
  if ((rc = braid_runtime_run(rt))) return fail("braid_runtime_run", rc, braid_runtime_error(rt));
  braid_report rep;
  if ((rc = braid_runtime_report(rt, &rep))) return fail("braid_runtime_report", rc, NULL);
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);

  braid_trace *t;
  if ((rc = braid_trace_open(&t, path, err, sizeof err))) return fail("braid_trace_open", rc, err);
  const braid_trace_info *info = braid_trace_get_info(t);
  if (info->status != BRAID_TRACE_COMPLETE || info->exchanges != 30 || info->total_events != rep.events)
    return fail("trace footer", BRAID_ECORRUPT, "unexpected status, exchanges or events");
  braid_record r;
  unsigned long long n = 0, injections = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    n++;
    const char *name = braid_record_type_name(r.type);
    injections += name && !strcmp(name, "injection");
  }
  if (rc != BRAID_EEOF) return fail("braid_trace_next", rc, braid_trace_error(t));
  if (injections != 1) return fail("trace records", BRAID_ECORRUPT, "the injection is not recorded exactly once");
  braid_trace_close(t);

  braid_replay_opts o;
  braid_replay_result res;
  braid_replay_opts_init(&o);
  if ((rc = braid_replay(path, &o, &res, err, sizeof err))) return fail("braid_replay", rc, err);
  if (res.diverged || res.exchanges_checked != 30) return fail("braid_replay", BRAID_EDIVERGED, "replay did not match");
  braid_diff_result d;
  if ((rc = braid_diff(path, path, &d, err, sizeof err))) return fail("braid_diff", rc, err);
  if (d.differ) return fail("braid_diff", BRAID_EDIVERGED, "a trace differs from itself");
  printf("libbraid %s: %llu events, %llu records, %llu injection, replay matched %llu exchanges\n", braid_version(),
         (unsigned long long)rep.events, n, injections, (unsigned long long)res.exchanges_checked);
  return 0;
}
