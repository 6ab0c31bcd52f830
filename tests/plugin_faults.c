/* plugin_faults.c - model plugins that each hide one kind of
 * nondeterminism, for the tests of what braid-replay reports (DESIGN 12).
 * Written only against the public header, like a user's plugin.  The base
 * model is ripple (plugin_example.c): every event hops to a random face
 * neighbour after a random delay.  Built once per fault by make check
 * (Makefile.am), with FAULT set to one of:
 *
 *   FAULT_COUNTER  rarely (one event in `rare`) takes a number from a
 *                  counter shared by every torus and adds its parity to the
 *                  follow-up's payload, sent with the longest delay: under
 *                  threads the tori take numbers in another order than the
 *                  sequential executor, so a wrong event is emitted long
 *                  before it is processed.  With BRAID_FAULT_LOG set, each
 *                  draw is logged as "torus events delta" (the tests' ground
 *                  truth: which torus emitted a wrong event, and when).
 *   FAULT_FACE     torus C's x=0 face cells (and only those) add a bit of a
 *                  counter every torus bumps on every event.
 *   FAULT_LAST     the same counter, for every torus, but only from event
 *                  `after` on (the tests set it to the last epoch).
 *   FAULT_CLOCK    adds a bit of the clock to every payload.
 *   FAULT_UNINIT   adds a bit of heap memory init() never initialised.
 *   FAULT_STATE    keeps a counter in its private state (deterministic) and
 *                  saves it in checkpoints (save and load, ABI 2);
 *   FAULT_STATE_NOSAVE  the same without save and load (ABI 1).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <braid.h>

enum { S_INIT_DELAY = 1, S_INIT_PAYLOAD, S_DIR, S_DELAY, S_PAYLOAD, S_RARE };

static const braid_param_spec fault_params[] = {
  { "delay", 4, 1, 64, "largest delay of a hop" },
  { "rare", 2000, 1, 1000000, "FAULT_COUNTER: one event in `rare` draws from the shared counter" },
  { "after", 0, 0, INT64_MAX, "FAULT_LAST: the first event of each torus that reads the shared counter" },
  { NULL, 0, 0, 0, NULL },
};

typedef struct fault {
  uint64_t delay, rare, after;
  uint64_t count;    /* FAULT_STATE */
  uint32_t *junk;    /* FAULT_UNINIT: never initialised */
} fault;

static int32_t step_payload(uint64_t r) { return (int32_t)(r % 3) - 1; }

static uint64_t mix64(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

#if defined(FAULT_COUNTER) || defined(FAULT_FACE) || defined(FAULT_LAST)
/* The shared counter, deliberately unsynchronised: its value depends on
 * the order in which the worker threads run the tori.  Kept out of
 * ThreadSanitizer's sight, as in plugin_example.c. */
static volatile uint64_t shared;

__attribute__((noinline, no_sanitize("thread"))) static uint64_t take(void)
{
  uint64_t c = shared;
  shared = c + 1;
  return c;
}
#endif

#ifdef FAULT_COUNTER
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
#endif

static int fault_init(braid_torus *t, void **state)
{
  fault *s = calloc(1, sizeof *s);
  if (!s) return BRAID_ENOMEM;
  *state = s;
  s->delay = (uint64_t)braid_torus_param(t, "delay");
  s->rare = (uint64_t)braid_torus_param(t, "rare");
  s->after = (uint64_t)braid_torus_param(t, "after");
#if defined(FAULT_COUNTER) || defined(FAULT_FACE) || defined(FAULT_LAST)
  /* Every run (and so every replay pass) starts the counter afresh. */
  if (braid_torus_id(t) == 0) shared = 0;
#endif
#ifdef FAULT_COUNTER
  pthread_mutex_lock(&log_lock);
  if (braid_torus_id(t) == 0 && getenv("BRAID_FAULT_LOG")) {
    if (log_file) fclose(log_file);
    log_file = fopen(getenv("BRAID_FAULT_LOG"), "w");
  }
  pthread_mutex_unlock(&log_lock);
#endif
#ifdef FAULT_UNINIT
  s->junk = malloc(4096 * sizeof *s->junk);
  if (!s->junk) return BRAID_ENOMEM;
#endif
  uint32_t n = braid_torus_ncells(t);
  for (uint32_t c = 0; c < n; c++) {
    uint64_t delay = 1 + braid_torus_rand(t, S_INIT_DELAY, c) % s->delay;
    int rc = braid_torus_emit(t, c, c, delay, step_payload(braid_torus_rand(t, S_INIT_PAYLOAD, c)));
    if (rc) return rc;
  }
  return 0;
}

static void fault_handle(braid_torus *t, void *state, const braid_event *ev)
{
  fault *s = state;
  uint64_t n = braid_torus_events(t);
  uint32_t to = braid_torus_neighbour(t, ev->dst, (unsigned)(braid_torus_rand(t, S_DIR, n) % 6));
  uint64_t delay = 1 + braid_torus_rand(t, S_DELAY, n) % s->delay;
  int32_t payload = step_payload(braid_torus_rand(t, S_PAYLOAD, n));
#ifdef FAULT_COUNTER
  if (braid_torus_rand(t, S_RARE, n) % s->rare == 0) {
    int32_t delta = (int32_t)(mix64(take()) & 1);
    payload += delta;
    delay = s->delay; /* processed as late as the model allows */
    pthread_mutex_lock(&log_lock);
    if (log_file) fprintf(log_file, "%u %llu %d\n", braid_torus_id(t), (unsigned long long)n, delta);
    pthread_mutex_unlock(&log_lock);
  }
#endif
#ifdef FAULT_FACE
  uint64_t c = take();
  uint32_t d = braid_torus_dim(t);
  if (braid_torus_id(t) == 2 && ev->dst < d * d) payload += (int32_t)(mix64(c) & 1);
#endif
#ifdef FAULT_LAST
  if (n >= s->after) payload += (int32_t)(mix64(take()) & 1);
#endif
#ifdef FAULT_CLOCK
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  payload += (int32_t)((ts.tv_nsec >> 6) & 1);
#endif
#ifdef FAULT_UNINIT
  payload += (int32_t)(s->junk[ev->dst & 4095] & 1);
#endif
#if defined(FAULT_STATE) || defined(FAULT_STATE_NOSAVE)
  s->count++;
  if (s->count % 7 == 0) payload += 1;
#endif
  (void)mix64;
  (void)braid_torus_emit(t, to, ev->dst, delay, payload);
}

static void fault_fini(void *state)
{
  fault *s = state;
  if (s) free(s->junk);
  free(s);
}

#ifdef FAULT_STATE
/* The counter is all init() cannot rebuild. */
static int fault_save(const braid_torus *t, const void *state, void *buf, size_t cap, size_t *len)
{
  (void)t;
  const fault *s = state;
  *len = sizeof s->count;
  if (cap < *len) return BRAID_ERANGE;
  memcpy(buf, &s->count, sizeof s->count);
  return 0;
}

static int fault_load(braid_torus *t, void *state, const void *buf, size_t len)
{
  (void)t;
  fault *s = state;
  if (len != sizeof s->count) return BRAID_ECORRUPT;
  memcpy(&s->count, buf, sizeof s->count);
  return 0;
}
#endif

#if defined(FAULT_COUNTER)
#define FAULT_NAME "fault-counter"
#elif defined(FAULT_FACE)
#define FAULT_NAME "fault-face"
#elif defined(FAULT_LAST)
#define FAULT_NAME "fault-last"
#elif defined(FAULT_CLOCK)
#define FAULT_NAME "fault-clock"
#elif defined(FAULT_UNINIT)
#define FAULT_NAME "fault-uninit"
#elif defined(FAULT_STATE)
#define FAULT_NAME "fault-state"
#else
#define FAULT_NAME "fault-state-nosave"
#endif

const braid_model braid_model_entry = {
#ifdef FAULT_STATE
  .abi = BRAID_MODEL_ABI,
  .save = fault_save,
  .load = fault_load,
#else
  .abi = 1, /* a plugin built for ABI 1: its struct ends at max_delay */
#endif
  .name = FAULT_NAME,
  .version = 1,
  .doc = "a model hiding one kind of nondeterminism (tests/plugin_faults.c)",
  .params = fault_params,
  .init = fault_init,
  .handle = fault_handle,
  .fini = fault_fini,
  .max_delay = 64,
};
