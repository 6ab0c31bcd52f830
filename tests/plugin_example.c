/* plugin_example.c - "ripple", an example model plugin written only against
 * the public header: every event forwards to a random face neighbour of its
 * cell after a random delay of 1..delay.
 *
 * Built three ways by make check (see Makefile.am):
 *   plugin_ripple.so          the model;
 *   plugin_ripple_rebuilt.so  the same model from a build that differs only
 *                             in a string, so the file hash differs;
 *   plugin_ripple_buggy.so    -DBUGGY: mixes a counter shared by all tori
 *                             into the payloads (see below), so a threaded
 *                             run differs from a sequential one.
 *
 * Build your own the same way:
 *   cc -shared -fPIC $(pkg-config --cflags braid) -o ripple.so plugin_example.c
 *   braid-record --model-plugin ./ripple.so -p delay=8 -o run.braid
 *   braid-replay --model-plugin ./ripple.so run.braid
 *
 * Its model check (see ripple_handle) fails when a cell's state leaves
 * -bound..bound, e.g. after --inject A@700:1000=500000; braid-shrink then
 * finds the smallest run that still fails it:
 *   braid-shrink --model-plugin ./ripple.so run.braid -o small.braid
 */
#include <stdint.h>
#include <stdlib.h>
#include <braid.h>

/* Random streams: one per use, so no two uses ever draw the same number. */
enum { S_INIT_DELAY = 1, S_INIT_PAYLOAD, S_DIR, S_DELAY, S_PAYLOAD };

static const braid_param_spec ripple_params[] = {
  { "delay", 4, 1, 64, "largest delay of a hop" },
  { "pop", 1, 1, 4, "initial events per cell (the population stays constant)" },
  { "bound", 100000, 1, 2147483647, "model check: no cell's state may leave -bound..bound" },
  { NULL, 0, 0, 0, NULL },
};

/* Per-torus state: the parameters, looked up once rather than per event. */
typedef struct ripple {
  uint64_t delay;
  int64_t bound;
} ripple;

/* Model check codes (braid_torus_check): the model's own numbers, which
 * braid-replay --check and braid-shrink report and match. */
enum { CHECK_BOUND = 1 };

static int32_t step_payload(uint64_t r) { return (int32_t)(r % 3) - 1; }

#ifdef BUGGY
/* Deliberately wrong: one counter shared by every torus, read and written
 * without synchronisation by whichever worker thread runs a torus, and mixed
 * into every payload.  An event's payload thus depends on how many handle()
 * calls ran before it in the whole process, i.e. on the global order of the
 * tori's steps.  The sequential executor, and so every replay, runs steps in
 * the fixed order (exchange, torus), and gets the same counters every time.
 * A threaded run cannot reproduce them:
 *  - its workers never follow that order: on a tie a worker continues with
 *    the torus it ran last, so even a single worker (-t 1) runs torus N-1's
 *    step 1 before torus 0's, at the fifth step of the run;
 *  - with several workers, steps also overlap in time, and the
 *    read-compute-write below loses updates, which shifts the counter of
 *    every later event for good.
 * Every bit of the counter feeds the payload, so from the first event whose
 * counter differs, payloads differ (two in three of them), cell states and
 * event digests follow, and the projections of the next exchange differ.
 * braid-diff against a sequential recording and braid-replay of the threaded
 * recording both report it; tests/test_sdk.c checks both, with 1 and with 4
 * workers. */
static volatile uint64_t shared_calls;

static uint64_t mix64(uint64_t x);

/* The race itself, kept out of ThreadSanitizer's sight so that sanitizer
 * builds can still show braid-diff catching it. */
__attribute__((noinline, no_sanitize("thread"))) static int32_t racy_count(void)
{
  uint64_t c = shared_calls;
  int32_t delta = (int32_t)(mix64(c) % 3) - 1;
  shared_calls = c + 1;
  return delta;
}

static uint64_t mix64(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}
#endif

static int ripple_init(braid_torus *t, void **state)
{
  ripple *s = malloc(sizeof *s);
  if (!s) return BRAID_ENOMEM;
  s->delay = (uint64_t)braid_torus_param(t, "delay");
  s->bound = braid_torus_param(t, "bound");
  *state = s;
  uint32_t n = braid_torus_ncells(t), pop = (uint32_t)braid_torus_param(t, "pop");
  for (uint32_t c = 0; c < n; c++)
    for (uint32_t p = 0; p < pop; p++) {
      uint64_t k = (uint64_t)c * 4 + p;
      uint64_t delay = 1 + braid_torus_rand(t, S_INIT_DELAY, k) % s->delay;
      int rc = braid_torus_emit(t, c, c, delay, step_payload(braid_torus_rand(t, S_INIT_PAYLOAD, k)));
      if (rc) return rc; /* the runtime calls fini(*state) */
    }
  return 0;
}

static void ripple_handle(braid_torus *t, void *state, const braid_event *ev)
{
  const ripple *s = state;
  /* The model's invariant: steps of -1..1 keep every cell's state near 0,
   * so a state beyond the bound means that something from outside the model
   * (an injection, a correction it forwarded) broke it.  A failed check is
   * recorded (with check_stop=1 the run ends soon after); the model goes on
   * as before either way. */
  int64_t here = braid_torus_cell_state(t, ev->dst);
  braid_torus_check(t, here >= -s->bound && here <= s->bound, ev->dst, CHECK_BOUND, "ripple: a cell's state left -bound..bound");
  /* The torus's event count is a counter private to this torus and the same
   * in every run, so the random choices are too. */
  uint64_t n = braid_torus_events(t);
  uint32_t to = braid_torus_neighbour(t, ev->dst, (unsigned)(braid_torus_rand(t, S_DIR, n) % 6));
  uint64_t delay = 1 + braid_torus_rand(t, S_DELAY, n) % s->delay;
  int32_t payload = step_payload(braid_torus_rand(t, S_PAYLOAD, n));
#ifdef BUGGY
  payload += racy_count();
#endif
  /* A full queue is counted by the torus and reported at the next exchange;
   * there is nothing better to do with the error here. */
  (void)braid_torus_emit(t, to, ev->dst, delay, payload);
}

static void ripple_fini(void *state) { free(state); }

/* Checkpoints rebuild the state with init(), which is exact here: it only
 * holds a parameter.  Saying so with a save that writes nothing lets a
 * replay start from a checkpoint (braid-replay --from); a model whose state
 * changes as it runs would write it here and read it back in load. */
static int ripple_save(const braid_torus *t, const void *state, void *buf, size_t cap, size_t *len)
{
  (void)t, (void)state, (void)buf, (void)cap;
  *len = 0;
  return 0;
}

static int ripple_load(braid_torus *t, void *state, const void *buf, size_t len)
{
  (void)t, (void)state, (void)buf;
  return len == 0 ? 0 : BRAID_ECORRUPT;
}

#if defined(BUGGY)
#define RIPPLE_DOC "ripple with a deliberate data race (shared counter in the payloads)"
#elif defined(RIPPLE_REBUILT)
#define RIPPLE_DOC "events hop to a random face neighbour (rebuilt)"
#else
#define RIPPLE_DOC "events hop to a random face neighbour"
#endif

/* The symbol braid_model_load() looks for by default. */
const braid_model braid_model_entry = {
  .abi = BRAID_MODEL_ABI,
  .name = "ripple",
  .version = 1,
  .doc = RIPPLE_DOC,
  .params = ripple_params,
  .init = ripple_init,
  .handle = ripple_handle,
  .fini = ripple_fini,
  .max_delay = 64,
  .save = ripple_save,
  .load = ripple_load,
};
