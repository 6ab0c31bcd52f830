/* tsan_threads.c - the threaded scenarios, without a test framework, for
 * the ThreadSanitizer build (Criterion's runner cannot start under TSan:
 * upstream issue Snaipe/Criterion#274).  Each check prints one line; the
 * last line is a Criterion-style synthesis so CI counts it like the rest.
 * Exit status: 0 when every check passed. */
#include <pthread.h>
#include <unistd.h>
#include "sink.h"

static int passed, failed;

static void check(int ok, const char *name, const char *detail)
{
  printf("[%s] %s%s%s\n", ok ? "PASS" : "FAIL", name, detail && *detail ? ": " : "", detail ? detail : "");
  if (ok) passed++;
  else failed++;
}

/* Runs kv (with an optional stall hook) into m; 0 on success. */
static int run(const char *kv, mem_sink *m, const braid__stall *stall, char *err, size_t errlen)
{
  braid_runtime *rt = runtime_or_null(kv, m, err, errlen);
  if (!rt) return -1;
  if (stall) rt->hooks.stall = *stall;
  int rc = braid_runtime_run(rt);
  if (rc) snprintf(err, errlen, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  return rc;
}

static void equal_to_sequential(const char *name, const char *base, const char *threaded)
{
  char kv[512], err[512] = "";
  mem_sink seq, thr;
  snprintf(kv, sizeof kv, "%s sequential=1", base);
  int rc = run(kv, &seq, NULL, err, sizeof err);
  snprintf(kv, sizeof kv, "%s %s", base, threaded);
  if (!rc) rc = run(kv, &thr, NULL, err, sizeof err);
  check(!rc && same_stream(&seq, &thr), name, err);
  mem_free(&seq);
  mem_free(&thr);
}

typedef struct inj {
  braid_runtime *rt;
  int n;
} inj;

static void *inject_main(void *arg)
{
  inj *in = arg;
  for (int i = 0; i < in->n; i++) braid_inject(in->rt, (uint32_t)(i % 3), (uint32_t)(i % 512), i, (uint64_t)i);
  return NULL;
}

static void *stop_main(void *arg)
{
  braid_runtime *rt = arg;
  braid_progress p;
  do {
    usleep(500);
    braid_runtime_progress(rt, &p);
  } while (p.exchanges < 20);
  braid_runtime_stop(rt);
  return NULL;
}

static void records_and_replays(const char *name, const char *kv, uint64_t exchanges)
{
  char path[] = "/tmp/braid-tsan-XXXXXX", err[512] = "";
  int fd = mkstemp(path);
  if (fd < 0) {
    check(0, name, "mkstemp failed");
    return;
  }
  close(fd);
  braid_runtime *rt = runtime_or_null(kv, NULL, err, sizeof err);
  int rc = rt ? braid_runtime_record(rt, path) : -1;
  if (!rc) rc = braid_runtime_run(rt);
  if (rc && rt) snprintf(err, sizeof err, "%s", braid_runtime_error(rt));
  braid_runtime_destroy(rt);
  braid_replay_result res = { 0 };
  if (!rc) rc = braid_replay(path, NULL, &res, err, sizeof err);
  check(!rc && !res.diverged && res.exchanges_checked == exchanges, name, err);
  unlink(path);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  static const char *models[] = { "uniform", "skewed", "bursty", "phold" };
  char name[128], base[256], err[512] = "";
  for (int m = 0; m < 4; m++)
    for (int k = 2; k <= 3; k++) {
      snprintf(name, sizeof name, "%s: %d threads equal sequential", models[m], k);
      snprintf(base, sizeof base, "model=%s tori=3 dim=8 exchanges=200 interval=200 interval_min=50 interval_max=1000 seed=3", models[m]);
      char thr[64];
      snprintf(thr, sizeof thr, "threads=%d", k);
      equal_to_sequential(name, base, thr);
    }
  equal_to_sequential("5 tori on 4 threads (more threads than cores) equal sequential",
                      "model=phold tori=5 dim=8 exchanges=200 interval=200 seed=8", "threads=4");
  equal_to_sequential("failures: threaded equals sequential", "model=phold tori=5 dim=8 exchanges=200 fail=B@50,A@51,E@120 seed=4", "threads=3");
  for (int s = 1; s <= 3; s++) {
    snprintf(name, sizeof name, "chaos seed %d equals sequential", s);
    char thr[64];
    snprintf(thr, sizeof thr, "threads=3 chaos=%d", s);
    equal_to_sequential(name, "model=uniform tori=3 dim=8 exchanges=150 interval=200 seed=6", thr);
  }

  /* Injections arriving from another thread while the tori run. */
  {
    mem_sink m;
    braid_runtime *rt = runtime_or_null("model=uniform tori=3 dim=8 exchanges=300 threads=2 seed=2", &m, err, sizeof err);
    inj in = { rt, 200 };
    pthread_t th;
    pthread_create(&th, NULL, inject_main, &in);
    int rc = braid_runtime_run(rt);
    pthread_join(th, NULL);
    check(!rc && m.counts[BRAID_REC_INJECTION] > 0, "concurrent injections are applied", rc ? braid_runtime_error(rt) : "");
    braid_runtime_destroy(rt);
    mem_free(&m);
  }
  /* A worker stalled past the heartbeat. */
  {
    mem_sink m;
    braid__stall st = { 1, 30, 400 };
    int rc = run("model=uniform tori=3 dim=8 exchanges=80 threads=3 heartbeat_ms=100 seed=4", &m, &st, err, sizeof err);
    check(!rc && m.counts[BRAID_REC_FAILURE] == 1, "heartbeat declares a stalled torus failed", err);
    mem_free(&m);
  }
  /* A stop request from another thread. */
  {
    mem_sink m;
    braid_runtime *rt = runtime_or_null("model=uniform tori=3 dim=8 exchanges=100000000 threads=2 seed=2", &m, err, sizeof err);
    pthread_t th;
    pthread_create(&th, NULL, stop_main, rt);
    int rc = braid_runtime_run(rt);
    pthread_join(th, NULL);
    check(rc == BRAID_EINTR && m.counts[BRAID_REC_PROJECTION] == 3 * m.exchanges, "stop ends every torus at one exchange", "");
    braid_runtime_destroy(rt);
    mem_free(&m);
  }
  /* The trace writer under threads, then a replay of its file; the rate
   * mode's interval decisions depend on timing and are followed from it. */
  records_and_replays("threaded recording replays exactly", "model=phold tori=3 dim=8 exchanges=300 threads=3 checkpoint_every=50 seed=9", 300);
  records_and_replays("rate-adapted recording replays exactly", "model=bursty tori=3 dim=8 exchanges=200 threads=2 adapt=rate interval=300 seed=5", 200);
  /* The racy model: its read is suppressed by name; the rest must be clean. */
  {
    mem_sink m;
    braid__stall st = { 0, 10, 100 };
    int rc = run("model=racy tori=2 dim=8 exchanges=30 interval=2000 interval_min=2000 threads=2 heartbeat_ms=0 seed=1", &m, &st, err, sizeof err);
    check(!rc, "racy runs (its race suppressed by name only)", err);
    mem_free(&m);
  }
  printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0 \n", passed + failed, passed, failed);
  return failed ? 1 : 0;
}
