/* braid.h - public API of libbraid: a braided-torus event runtime that records
 * itself into a zstd trace and replays deterministically.
 *
 * Conventions (for every function below unless its comment says otherwise):
 *  - Functions return 0 on success or a negative BRAID_E* code; the codes are
 *    fixed forever.  braid_strerror() turns a code into text.
 *  - Objects are opaque handles with a create/destroy pair.  destroy accepts
 *    NULL.  Strings returned as `const char *` are owned by the handle and stay
 *    valid until the next call on that handle or its destruction.
 *  - The library never aborts or exits; out of memory is BRAID_ENOMEM.
 *  - Error messages go into a caller's buffer (errbuf, errlen; NULL is
 *    allowed and truncation is silent) or stay in the handle
 *    (braid_config_error, braid_runtime_error, braid_trace_error).
 *  - A handle is used by one thread at a time, except where a function says
 *    it is thread-safe (braid_inject, braid_runtime_stop,
 *    braid_runtime_progress).  Different handles are independent.
 *  - Model callbacks run on the runtime's worker threads; see braid_model.
 *  - libbraid(3) has an overview and a complete example.
 */
#ifndef BRAID_H
#define BRAID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BRAID_BUILDING) && defined(__GNUC__)
#define BRAID_API __attribute__((visibility("default")))
#else
#define BRAID_API
#endif

#define BRAID_VERSION_MAJOR 0
#define BRAID_VERSION_MINOR 1
#define BRAID_VERSION_PATCH 0
#define BRAID_VERSION_STRING "0.1.0"

/* Library version as text ("0.1.0"); static storage, thread-safe.  Compare
 * with BRAID_VERSION_STRING to detect a header/library mismatch. */
BRAID_API const char *braid_version(void);

/* ------------------------------------------------------------------ errors */

/* name, value, message.  Values are part of the ABI: never renumber. */
#define BRAID_ERRNO_MAP(XX)                                                    \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(ERANGE, -3, "value out of range")                                         \
  XX(EMODEL, -4, "unknown model")                                              \
  XX(EPARAM, -5, "unknown or invalid parameter")                               \
  XX(EQUEUE, -6, "event queue overflow")                                       \
  XX(EHORIZON, -7, "event time beyond the queue horizon")                      \
  XX(EIO, -8, "input/output error")                                            \
  XX(ENOSPC, -9, "no space left on device")                                    \
  XX(ENOTTRACE, -10, "not a braid trace")                                      \
  XX(EVERSION, -11, "unsupported trace format version")                        \
  XX(ECORRUPT, -12, "trace is corrupted")                                      \
  XX(ETRUNCATED, -13, "trace is truncated")                                    \
  XX(ESTATE, -14, "operation not valid in this state")                         \
  XX(EPROJECTION, -15, "projection failed its integrity check")                \
  XX(EINTR, -16, "interrupted")                                                \
  XX(EDIVERGED, -17, "replay diverged from the recording")                     \
  XX(EMISMATCH, -18, "recording and replaying builds or plugins differ")       \
  XX(EPLUGIN, -19, "model plugin could not be loaded")                         \
  XX(EUNSUPPORTED, -20, "not supported on this system")                        \
  XX(EEOF, -21, "end of trace")                                                \
  XX(ENOENT, -22, "no such file or directory")                                 \
  XX(ELIMIT, -23, "a size limit was exceeded")

enum braid_error {
  BRAID_OK = 0,
#define BRAID__ERRNO_ENUM(name, value, msg) BRAID_##name = (value),
  BRAID_ERRNO_MAP(BRAID__ERRNO_ENUM)
#undef BRAID__ERRNO_ENUM
};

/* Message for an error code; "unknown error" for codes not in the map.
 * Static storage; thread-safe. */
BRAID_API const char *braid_strerror(int err);
/* Symbolic name ("EQUEUE") for an error code; "EUNKNOWN" otherwise.
 * Static storage; thread-safe. */
BRAID_API const char *braid_errname(int err);

/* ------------------------------------------------------------------ events */

/* An event: applied at `time` to cell `dst`, emitted by cell `src`. */
typedef struct braid_event {
  uint64_t time;
  uint32_t dst;
  uint32_t src;
  int32_t payload;
} braid_event;

/* `src` of events that come from outside the model: corrective events of the
 * braid exchange and braid_inject().  Models must not emit follow-ups for them
 * (the kernel does not call the model's handle() for such events), so that
 * corrections never change a model's event population. */
#define BRAID_SRC_EXTERNAL 0xffffffffu
/* `src` of model timer events (e.g. bursty's burst generator). */
#define BRAID_SRC_TIMER 0xfffffffdu
/* `src` of the exchange's corrective events (not passed to handle() either). */
#define BRAID_SRC_CORRECTION 0xfffffffeu

/* ------------------------------------------------------------ model plugin */

/* A model parameter: a named 64-bit integer with a default and a range.
 * Tables end with an entry whose name is NULL.  Values are set with
 * braid_config_set_param() and read with braid_torus_param(); they are part
 * of the recorded settings, so a replay gets the same values. */
typedef struct braid_param_spec {
  const char *name;
  int64_t def;
  int64_t min;
  int64_t max;
  const char *doc;
} braid_param_spec;

/* One kernel (a D x D x D lattice of cells with its event queue), handed to
 * a model's callbacks.  Owned by the runtime; never keep the pointer beyond
 * the callback that received it. */
typedef struct braid_torus braid_torus;

/* The model ABI this header describes.  ABI 2 appended save and load to
 * braid_model; a model of ABI 1 (the struct without them) is still
 * accepted, and the library never reads past the end of its struct. */
#define BRAID_MODEL_ABI 2
#define BRAID_MODEL_ABI_MIN 1

/* An event model.  The built-in models use exactly this interface.  A plugin
 * exports a `const braid_model` (default symbol `braid_model_entry`); a
 * program can also pass its own with braid_config_set_model().  The struct
 * and everything it points to (name, doc, params) are only referenced and
 * must stay valid while any runtime or replay uses the model.
 *
 * abi: BRAID_MODEL_ABI (or 1 for a model without save and load).  Anything
 *   else is refused (BRAID_EPLUGIN).
 * name, version: identify the model in the trace header and in replay's
 *   plugin check; bump `version` when the model's behaviour changes.
 * doc: one line for listings.  May be NULL.
 * params: the parameter table, or NULL for none.
 * init(t, &state): called once per torus when the runtime is created (and
 *   again when a failed torus is rebuilt).  Set edges (braid_torus_set_degree,
 *   braid_torus_set_edge) and seed the initial events (braid_torus_emit).
 *   May allocate *state, which later calls receive.  Returns 0 or a negative
 *   BRAID_E* code (the runtime creation then fails with it; fini still gets
 *   whatever *state was set to).
 * handle(t, state, ev): called after the kernel applied `ev` to its cell
 *   (cell state += payload, activity++), except for events whose src is
 *   BRAID_SRC_EXTERNAL or BRAID_SRC_CORRECTION.  Emit follow-ups with
 *   braid_torus_emit().  Must not touch other tori.
 * fini(state): frees what init allocated.  May be NULL.
 * max_delay: the largest delay the model ever emits with; it sizes the queue
 *   horizon (max_delay + 2; 0 means 255).  The model parameter named
 *   "max_delay", if the model has one, lowers the torus's edge-delay limit.
 * save(t, state, buf, cap, len), load(t, state, buf, len) (ABI 2, both or
 *   neither; may be NULL): a checkpoint holds the torus (cells, edges,
 *   pending events) and rebuilds the model's state by calling init(), which
 *   is exact only when that state is a function of the parameters.  A model
 *   whose state changes as it runs (a counter, a table it fills) saves it:
 *   save writes at most cap bytes into buf and sets *len to the size it
 *   needs; when that is more than cap it returns BRAID_ERANGE and is called
 *   again with a buffer of *len bytes.  load gets those bytes back after
 *   init() on a fresh torus, with the state init() set.  Both return 0 or a
 *   negative BRAID_E* code (the checkpoint then fails with it); they run on
 *   the torus's thread like the other callbacks.  Without them, a replay
 *   from a checkpoint (braid-replay --from) of a plugin whose init() set a
 *   state is refused, since it could diverge where the run did not.  A model
 *   whose state init() rebuilds exactly may give a save that writes nothing
 *   and a load that does nothing.
 *
 * Thread-safety and determinism: the callbacks of one torus are never run
 * concurrently with each other, but different tori run at the same time on
 * different worker threads.  A model must keep all mutable state in *state
 * (or in the torus, through the services below) and compute everything from
 * the torus's own state, its parameters and braid_torus_rand() with counters
 * that are themselves deterministic (braid_torus_events() is a natural one).
 * No clocks, no shared statics, no reading other tori: a threaded run must
 * equal the sequential one, and braid-replay / braid-diff report a model that
 * breaks this as a divergence.
 */
typedef struct braid_model {
  uint32_t abi;
  const char *name;
  uint32_t version;
  const char *doc;
  const braid_param_spec *params;
  int (*init)(braid_torus *t, void **state);
  void (*handle)(braid_torus *t, void *state, const braid_event *ev);
  void (*fini)(void *state);
  uint32_t max_delay;
  /* ABI 2 */
  int (*save)(const braid_torus *t, const void *state, void *buf, size_t cap, size_t *len);
  int (*load)(braid_torus *t, void *state, const void *buf, size_t len);
} braid_model;

/* Kernel services for models.  Valid only inside init() and handle(), on the
 * torus passed to that call (so they need no locking: the calling thread
 * owns the torus).  None of them allocates except set_degree and spawn. */

/* Index of this torus in the ring, 0..tori-1. */
BRAID_API uint32_t braid_torus_id(const braid_torus *t);
/* Lattice side D (a power of two, 8..128). */
BRAID_API uint32_t braid_torus_dim(const braid_torus *t);
/* Number of cells, D*D*D; cell ids are 0..ncells-1. */
BRAID_API uint32_t braid_torus_ncells(const braid_torus *t);
/* Current virtual time: the time of the event being handled (in init: the
 * time the torus starts or is rebuilt at). */
BRAID_API uint64_t braid_torus_now(const braid_torus *t);
/* Value of model parameter `name`: as set in the config, else its default;
 * 0 for a name that is not in the model's table. */
BRAID_API int64_t braid_torus_param(const braid_torus *t, const char *name);
/* Counter-based random number: a pure function of (seed, torus id, stream,
 * counter).  Same inputs give the same number on any thread, in any order.
 * Use a distinct stream per purpose so no two uses draw the same number. */
BRAID_API uint64_t braid_torus_rand(const braid_torus *t, uint64_t stream, uint64_t counter);
/* Number of events this torus has processed so far, the current one
 * included (a natural counter for braid_torus_rand). */
BRAID_API uint64_t braid_torus_events(const braid_torus *t);
/* Cell id of (x,y,z) with toroidal wrap of every coordinate. */
BRAID_API uint32_t braid_torus_cell(const braid_torus *t, int64_t x, int64_t y, int64_t z);
/* Face neighbour of `cell` in direction dir % 6 (+x,-x,+y,-y,+z,-z), wrapped. */
BRAID_API uint32_t braid_torus_neighbour(const braid_torus *t, uint32_t cell, unsigned dir);
/* Current state (sum of applied payloads) of a cell of this torus; 0 for a
 * cell id out of range. */
BRAID_API int64_t braid_torus_cell_state(const braid_torus *t, uint32_t cell);
/* Gives every cell `degree` out-edges (0..4), all targeting cell 0 with delay
 * 0 until set.  Call in init; calling it again with another degree drops the
 * edges.  BRAID_ERANGE for degree > 4, BRAID_ENOMEM. */
BRAID_API int braid_torus_set_degree(braid_torus *t, unsigned degree);
/* Sets edge k of `cell` to `target` with `delay`, clamped to 1..the torus's
 * edge-delay limit.  BRAID_ERANGE for a bad cell, target or k. */
BRAID_API int braid_torus_set_edge(braid_torus *t, uint32_t cell, unsigned k, uint32_t target, uint32_t delay);
/* Use edge k of `cell` with an event of `payload`: returns its target and its
 * current delay, then applies the delay rule (payload > 0: delay-1, at least 1;
 * otherwise delay+1, at most the edge-delay limit).  cell < ncells and
 * k < degree are the caller's to ensure (not checked: this is a hot path). */
BRAID_API uint32_t braid_torus_use_edge(braid_torus *t, uint32_t cell, unsigned k, int32_t payload, uint32_t *delay);
/* Schedules an event for cell `dst` at now+delay (a delay of 0 counts as 1).
 * `src` is the emitting cell, or BRAID_SRC_TIMER for a model timer; never
 * BRAID_SRC_EXTERNAL or BRAID_SRC_CORRECTION (handle() would not see the
 * event).  Returns 0, BRAID_ERANGE for dst >= ncells, BRAID_EQUEUE when the
 * queue is full, BRAID_EHORIZON when delay exceeds the queue horizon (see
 * braid_model.max_delay); the last two are also counted by the torus and
 * reported at the next exchange, so handle() may ignore them. */
BRAID_API int braid_torus_emit(braid_torus *t, uint32_t dst, uint32_t src, uint64_t delay, int32_t payload);
/* Widens the event queue's horizon so delays up to `max_delay` can be
 * emitted (by default it covers the model's `max_delay` parameter, or
 * braid_model.max_delay when there is none).  Only valid in init() before the
 * first braid_torus_emit(); BRAID_ESTATE otherwise, BRAID_ERANGE above
 * braid_model.max_delay. */
BRAID_API int braid_torus_set_horizon(braid_torus *t, uint32_t max_delay);
/* Attaches a process record (pid, state) to a cell; process records travel
 * in projections.  BRAID_ERANGE for a bad cell, BRAID_ELIMIT beyond 8 per
 * cell or 64 per torus, BRAID_ENOMEM. */
BRAID_API int braid_torus_spawn(braid_torus *t, uint32_t cell, uint32_t pid, int64_t state);

/* Model checks: how a model states an invariant (what simulation testing
 * calls an assertion).  When `ok` is 0 the check failed: the kernel stages
 * it and the runtime writes it into the trace at the end of the torus's
 * epoch as a logical CHECK record (braid-trace(5)): the exchange, this
 * torus, braid_torus_events() (the event being handled; 0 in the first
 * init), `cell`, `code` (the model's own number for the invariant; any
 * value, 0 included) and up to BRAID_CHECK_MESSAGE_MAX - 1 bytes of
 * `message` (copied; NULL for none).  The first BRAID_CHECKS_PER_EPOCH
 * failures of a torus in one epoch are recorded; every failure is counted
 * in the report (braid_report.check_failures).  With the setting
 * check_stop=1 the run ends soon after the first failure, at the same
 * exchange in every executor (see libbraid(3)); replay reproduces the
 * records and braid-replay --check N stops at the Nth.  Valid in init()
 * and handle() like the services above; cheap when ok is nonzero (one
 * call, one branch), so it may run per event.  Returns ok != 0. */
#define BRAID_CHECK_MESSAGE_MAX 96
#define BRAID_CHECKS_PER_EPOCH 4
BRAID_API int braid_torus_check(braid_torus *t, int ok, uint32_t cell, uint32_t code, const char *message);

/* Loads a model from a shared object: spec is PATH or PATH:SYMBOL (default
 * symbol braid_model_entry).  PATH names a file (relative to the current
 * directory unless absolute; no library search path), so the file hashed is
 * the file loaded.  On success *out points to the model inside the object, which stays
 * loaded for the life of the process (never free or unload it).  The model
 * is remembered with the XXH3 of the file, so a trace recorded with it names
 * "name version xxh3" and braid_replay() can refuse another file.  Loading
 * the same object again returns the same model.  Returns 0, BRAID_EINVAL
 * (NULL, or an empty SYMBOL after the ':'), BRAID_ENOENT (file not found),
 * BRAID_EPLUGIN (a directory, not loadable, no such symbol, wrong ABI) or
 * BRAID_ELIMIT (more than 32 plugins); *out is NULL on error and errbuf,
 * when not NULL, holds a one-line message.  Thread-safe.  The object's
 * constructors run: only load plugins you trust. */
BRAID_API int braid_model_load(const char *spec, const braid_model **out, char *errbuf, size_t errlen);

/* Built-in model table, for listing: returns the i-th model or NULL past the
 * end.  Static storage; thread-safe. */
BRAID_API const braid_model *braid_builtin_model(unsigned i);
/* The built-in model called `name`, or NULL.  Static storage; thread-safe. */
BRAID_API const braid_model *braid_find_model(const char *name);

/* ------------------------------------------------------------ configuration */

/* Run settings and model parameters.  A config is only read by
 * braid_runtime_create(), which copies it, so it can be changed or destroyed
 * afterwards. */
typedef struct braid_config braid_config;

/* Creates a config holding every default (model "uniform").  Returns 0 or
 * BRAID_ENOMEM (*out is then NULL).  The caller owns it. */
BRAID_API int braid_config_create(braid_config **out);
/* Frees a config and the strings it handed out; NULL is a no-op. */
BRAID_API void braid_config_destroy(braid_config *cfg);
/* Set a run setting by name from text, e.g. ("tori","3"), ("model","phold").
 * Keys and ranges are listed by braid_config_describe().  Returns 0,
 * BRAID_EINVAL (unknown key, not a number), BRAID_ERANGE (out of range,
 * including numbers too large for 64 bits) or
 * BRAID_EMODEL (unknown built-in model); the message from
 * braid_config_error() then names the key and the valid range.  Both strings
 * are copied. */
BRAID_API int braid_config_set(braid_config *cfg, const char *key, const char *value);
/* Set a model parameter ("-p key=value"); checked against the model's table
 * immediately (the model is "uniform" until changed) and again whenever the
 * model changes.  Returns 0, BRAID_EPARAM (no such parameter, not a number,
 * out of range; braid_config_error() then names the parameter and its range,
 * or lists the parameters the model takes) or BRAID_ELIMIT (more than 32). */
BRAID_API int braid_config_set_param(braid_config *cfg, const char *key, const char *value);
/* Use a model that is not built in: one from braid_model_load(), or one
 * compiled into the program.  `model` is only referenced: it must outlive
 * every runtime created from this config.  Returns 0, BRAID_EINVAL (NULL, or
 * no name/init/handle), BRAID_EPLUGIN (wrong abi) or BRAID_EPARAM (a
 * parameter already set is not in its table). */
BRAID_API int braid_config_set_model(braid_config *cfg, const braid_model *model);
/* One-line message of the last failed call on cfg; owned by cfg. */
BRAID_API const char *braid_config_error(const braid_config *cfg);
/* Canonical text form "key=value\n..." of every logical setting (the trace
 * header stores it); owned by cfg. */
BRAID_API const char *braid_config_text(braid_config *cfg);
/* Setting value as text, or NULL for an unknown key; owned by cfg. */
BRAID_API const char *braid_config_get(braid_config *cfg, const char *key);
/* XXH3 of the canonical text (0 when out of memory). */
BRAID_API uint64_t braid_config_hash(braid_config *cfg);
/* Help text listing every key, its default and range; static storage. */
BRAID_API const char *braid_config_describe(void);
/* Parses a torus name as the "fail" setting and the tools write it: one
 * letter A..P or a decimal number 0..15 (one or two digits).  Returns 0 with
 * *torus set, or BRAID_EINVAL for anything else ("Z", "AB", "16", "", NULL).
 * Whether that torus exists depends on the "tori" setting, not checked here.
 * Thread-safe. */
BRAID_API int braid_parse_torus(const char *text, uint32_t *torus);

/* ------------------------------------------------------------------ runtime */

/* A run: the ring of tori, its executor (sequential, or worker threads) and
 * its trace.  One run per runtime: create, optionally record and inject, run,
 * report, destroy. */
typedef struct braid_runtime braid_runtime;

/* Creates the tori and calls the model's init() for each (validates
 * everything; no thread is started).  The config is copied; the model it
 * names is only referenced.  Returns 0, BRAID_EINVAL, BRAID_ENOMEM, the
 * error of a model's init(), or a settings error; on error *out is NULL and,
 * if errbuf is not NULL, a one-line message is written there.  The caller
 * owns the runtime. */
BRAID_API int braid_runtime_create(braid_runtime **out, braid_config *cfg, char *errbuf, size_t errlen);
/* Frees the runtime, its tori (calling the model's fini()) and its report;
 * closes a trace that was never finished.  Not while braid_runtime_run() is
 * running.  NULL is a no-op. */
BRAID_API void braid_runtime_destroy(braid_runtime *rt);
/* Records the run into the trace file `path` (created or truncated now,
 * written by braid_runtime_run(), finished with a footer when the run ends
 * in any way).  Call once, before run: BRAID_ESTATE otherwise.  Returns 0,
 * BRAID_EINVAL when `path` is the file (by any path or link) of a model
 * plugin loaded by this process (truncating it would crash the code that
 * runs from it), BRAID_EIO / BRAID_ENOENT (cannot create;
 * braid_runtime_error() says why) or BRAID_ENOMEM.  `path` is copied. */
BRAID_API int braid_runtime_record(braid_runtime *rt, const char *path);
/* Runs to completion (exchanges / events / duration reached, a stop request,
 * or an error) on the calling thread plus the configured worker threads,
 * which are joined before it returns.  Returns 0, BRAID_EINTR after
 * braid_runtime_stop(), BRAID_ESTATE when called a second time, or an
 * error (the message from braid_runtime_error()).  A trace being recorded is
 * finished in every case. */
BRAID_API int braid_runtime_run(braid_runtime *rt);
/* Requests a stop at the next exchange; async-signal-safe and thread-safe
 * (meant for a signal handler or another thread).  NULL is a no-op. */
BRAID_API void braid_runtime_stop(braid_runtime *rt);
/* Queues an external event for `torus`: applied at its first exchange
 * numbered >= not_before (and after the current one), in call order, at
 * the torus's current virtual time ahead of the events pending then.  The
 * exchange it lands on is recorded, so a replay applies it at the same
 * point.  Returns 0, BRAID_ERANGE (bad torus or cell), BRAID_ESTATE (a
 * replay's runtime) or BRAID_ENOMEM.  Thread-safe: may be called before or
 * during braid_runtime_run(), from any thread. */
BRAID_API int braid_inject(braid_runtime *rt, uint32_t torus, uint32_t cell, int32_t payload, uint64_t not_before);
/* One-line message of the last error of the runtime ("" if none); owned by
 * rt, valid until its destruction.  Read it after the failing call returns. */
BRAID_API const char *braid_runtime_error(const braid_runtime *rt);

/* Live progress, readable from any thread while running (approximate). */
typedef struct braid_progress {
  uint64_t exchanges; /* exchanges completed by every torus */
  uint64_t events;    /* events processed, all tori */
  uint64_t violations;
} braid_progress;
/* Fills *out; all zero for a NULL runtime.  Thread-safe. */
BRAID_API void braid_runtime_progress(const braid_runtime *rt, braid_progress *out);

/* Final report, valid after braid_runtime_run(). */
typedef struct braid_quantiles {
  double p50, p95, p99, max; /* nanoseconds */
  uint64_t samples;
} braid_quantiles;

typedef struct braid_torus_report {
  uint64_t events;
  uint64_t virtual_time;
  uint64_t pending;
  uint64_t boundary_violations;
  uint64_t global_violations;
  uint64_t corrective_events;
  uint64_t injections;
  uint64_t failures;
  uint64_t lost_events;
  uint64_t queue_overflows;
  uint64_t projection_errors;
  uint32_t interval; /* final */
  uint32_t interval_changes;
  uint64_t digest;
  uint64_t state_hash; /* XXH3 of cells, edges, processes and pending events */
  double busy_seconds; /* wall time spent in epochs */
} braid_torus_report;

/* How a torus converged after its last perturbation.  A boundary check
 * compares the torus's x=D-1 face with its predecessor's projection at one
 * exchange; a perturbation is an injection into the torus (applied after
 * that exchange's check) or its rebuild after a failure (before it).  The
 * torus has converged from the first exchange after the perturbation whose
 * check had fewer than 1% of its cells violated and after which the rate
 * stays below 1%: at every later check, the last 10 checks, counting none
 * before that exchange, had fewer than 1% of the cells they compared
 * violated. */
typedef struct braid_convergence {
  int64_t perturbed_exchange; /* -1: never perturbed (counted from the start) */
  uint32_t perturbation;      /* 0 none, 1 injection, 2 rebuild */
  int64_t converged_exchange; /* -1: not converged by the end of the run */
  int64_t exchanges;          /* converged - perturbed (- 0 without a perturbation); -1: not converged */
} braid_convergence;

typedef struct braid_report {
  uint32_t tori;
  uint32_t threads; /* 0: sequential executor */
  uint64_t exchanges;
  uint64_t events;
  double wall_seconds;
  double events_per_second;
  braid_quantiles event_latency;    /* sampled single events */
  braid_quantiles exchange_latency; /* one torus's exchange step */
  braid_quantiles barrier_wait;     /* waits for the predecessor's projection */
  uint64_t checked_cells;
  uint64_t boundary_violations;
  double violation_rate;      /* boundary violations / checked cells */
  /* The first exchange from which on every torus has converged (see
   * braid_convergence): the latest of their converged_exchange, -1 when a
   * torus has not converged by the end of the run. */
  int64_t convergence_exchange;
  uint32_t interval_min_seen, interval_max_seen; /* over the run, every torus, the starting interval included */
  uint64_t interval_changes;
  double cpu_user_seconds, cpu_sys_seconds; /* the process's, during the run */
  /* Per worker thread (the calling thread's for the sequential executor):
   * CPU time during the run, user and system together. */
  double thread_cpu_seconds[64];
  /* Resident memory (VmRSS) at the start and the end of the run and the
   * process's high-water mark (VmHWM), never below either; 0: unknown. */
  uint64_t rss_start_kib, rss_peak_kib, rss_end_kib;
  uint64_t trace_bytes;
  const braid_torus_report *torus; /* array of `tori`, owned by the runtime */
  /* Appended after the fields above so that their offsets stay put. */
  double thread_cpu_user_seconds[64]; /* the user part of thread_cpu_seconds */
  double thread_cpu_sys_seconds[64];  /* its system part */
  const braid_convergence *convergence; /* array of `tori`, owned by the runtime */
  /* Threaded executor: from a predecessor's publication to the start of
   * the step of a successor that was waiting for it, on a worker that was
   * waiting for work (empty when sequential). */
  braid_quantiles handover;
  /* Failed model checks (braid_torus_check), every torus, all of them
   * (also those beyond BRAID_CHECKS_PER_EPOCH that the trace does not
   * keep), and the first one in exchange order: exchange -1 when none
   * failed. */
  uint64_t check_failures;
  int64_t first_check_exchange;
  uint32_t first_check_torus, first_check_cell, first_check_code;
  uint64_t first_check_event;
  char first_check_message[BRAID_CHECK_MESSAGE_MAX];
  int check_stopped; /* the run ended early because check_stop=1 and a check failed */
  /* Each torus's exchange step (exchange-in, publish, records): array of
   * `tori`, owned by the runtime. */
  const braid_quantiles *torus_exchange_latency;
  /* A run spread over MPI ranks (braid_runtime_mpi): `ranks` entries on
   * rank 0, which gathers them at the end; 0 and NULL otherwise. */
  uint32_t ranks;
  const struct braid_rank_report *rank;
} braid_report;

/* One MPI rank's part of a run (see braid_runtime_mpi). */
typedef struct braid_rank_report {
  uint32_t rank;
  uint32_t first_torus, tori; /* its contiguous block of the ring */
  uint32_t threads;           /* its worker threads */
  uint64_t events;            /* its tori's */
  double wall_seconds;
  double events_per_second;
  /* Time its workers spent in braid's MPI wait loop (MPI_Test, then
   * sched_yield) with no step ready: waiting for a projection, for room
   * to publish, or for the stop decision. */
  double mpi_wait_seconds;
  braid_quantiles exchange_latency; /* its tori's exchange steps */
  /* From the predecessor rank's publication of a projection to its
   * arrival here, counted when the torus that reads it was already
   * waiting for it (both ends read CLOCK_MONOTONIC: meaningful on one
   * host). */
  braid_quantiles handover;
  double cpu_user_seconds, cpu_sys_seconds; /* its process's, during the run */
  char host[64];
} braid_rank_report;

/* Copies the final report into *out.  out->torus points into the runtime
 * and is valid until braid_runtime_destroy().  Returns 0, or BRAID_ESTATE
 * before braid_runtime_run() has returned. */
BRAID_API int braid_runtime_report(const braid_runtime *rt, braid_report *out);

/* ------------------------------------------------------------------- trace */

/* A decoded record of the trace's record stream (see braid-trace(5)).
 * Field values are widened to 64 bits; `sfield` holds the same values read as
 * signed.  Blob records (checkpoints) have nfields == 0 and blob/bloblen set,
 * pointing into the reader's memory until the next call.  A CHECK record
 * has its fields and, in blob/bloblen, its message (not NUL-terminated, at
 * most message_len bytes: the bytes the record holds). */
#define BRAID_RECORD_MAX_FIELDS 12
typedef struct braid_record {
  uint32_t type;
  uint32_t nfields;
  union {
    uint64_t field[BRAID_RECORD_MAX_FIELDS];
    int64_t sfield[BRAID_RECORD_MAX_FIELDS];
  };
  uint64_t exchange;   /* the exchange this record belongs to */
  uint64_t offset;     /* file offset of the zstd frame holding it */
  const uint8_t *blob;
  size_t bloblen;
} braid_record;

/* The record table: every record type of the stream with its number, name
 * and fields (FIELD, name, 1 if signed).  Numbers and field positions are
 * part of the format: never renumber, only append.  Types 1..63 are
 * logical (they define the run; braid-diff compares them), 64..127 timing
 * (never compared), 128.. blobs.  The table generates BRAID_REC_<TYPE> and
 * BRAID_F_<TYPE>_<FIELD> (the index into braid_record.field) below, and the
 * library's encoder and decoder; braid-trace(5) documents each record. */
#define BRAID_RECORD_TABLE(T, F) \
  T(EXCHANGE, 1, "exchange", 1) /* opens exchange k: every record up to the next EXCHANGE belongs to it */ \
    F(EXCHANGE, K, "k", 0) \
  T(PROJECTION, 2, "projection", 11) /* what a torus published at the end of its epoch (hash: 0 since semantics 3; see braid-trace(5)) */ \
    F(PROJECTION, TORUS, "torus", 0) \
    F(PROJECTION, EVENTS, "events", 0) \
    F(PROJECTION, VTIME, "vtime", 0) \
    F(PROJECTION, PENDING, "pending", 0) \
    F(PROJECTION, DIGEST, "digest", 0) \
    F(PROJECTION, HASH, "hash", 0) \
    F(PROJECTION, INTERVAL, "interval", 0) \
    F(PROJECTION, PENDING_DIGEST, "pending_digest", 0) /* top 14 bits of the pending events' digest */ \
    F(PROJECTION, CELL_DIGEST, "cell_digest", 0) /* top 14 bits of the cells' and edges' digest */ \
    F(PROJECTION, RUNGS, "rungs", 0) /* 7 bits per rung of the epoch, the first in the low bits */ \
    F(PROJECTION, RUNG_COUNT, "rung_count", 0) /* how many rungs `rungs` holds (the rungs setting) */ \
  T(BOUNDARY, 3, "boundary", 6) /* the boundary check of a torus against its predecessor's x=0 face */ \
    F(BOUNDARY, TORUS, "torus", 0) \
    F(BOUNDARY, FROM, "from", 0) \
    F(BOUNDARY, CHECKED, "checked", 0) \
    F(BOUNDARY, VIOLATIONS, "violations", 0) \
    F(BOUNDARY, MAX_DEV, "max_dev", 0) \
    F(BOUNDARY, CORRECTIVE_SUM, "corrective_sum", 1) \
  T(VCELL, 4, "violation", 5) /* one violated cell (the first BRAID_VCELLS of a torus in an exchange) */ \
    F(VCELL, TORUS, "torus", 0) \
    F(VCELL, CELL, "cell", 0) \
    F(VCELL, EXPECTED, "expected", 1) \
    F(VCELL, ACTUAL, "actual", 1) \
    F(VCELL, PAYLOAD, "payload", 1) \
  T(GLOBAL, 5, "global", 5) /* a global constraint violated (kind 0: pending events, 1: virtual time) */ \
    F(GLOBAL, TORUS, "torus", 0) \
    F(GLOBAL, FROM, "from", 0) \
    F(GLOBAL, KIND, "kind", 0) \
    F(GLOBAL, A, "a", 0) \
    F(GLOBAL, B, "b", 0) \
  T(INTERVAL, 6, "interval", 5) /* an interval change and its reason (BRAID_INTERVAL_*) */ \
    F(INTERVAL, TORUS, "torus", 0) \
    F(INTERVAL, OLD, "old", 0) \
    F(INTERVAL, NEW, "new", 0) \
    F(INTERVAL, REASON, "reason", 0) \
    F(INTERVAL, RATE_PPM, "rate_ppm", 0) \
  T(INJECTION, 7, "injection", 4) /* an external event applied at this exchange */ \
    F(INJECTION, TORUS, "torus", 0) \
    F(INJECTION, CELL, "cell", 0) \
    F(INJECTION, PAYLOAD, "payload", 1) \
    F(INJECTION, SEQ, "seq", 0) \
  T(FAILURE, 8, "failure", 3) /* a torus failed (reason BRAID_FAIL_*) and lost its pending events */ \
    F(FAILURE, TORUS, "torus", 0) \
    F(FAILURE, REASON, "reason", 0) \
    F(FAILURE, LOST_EVENTS, "lost_events", 0) \
  T(REBUILD, 9, "rebuild", 4) /* a failed torus rebuilt from its last projection */ \
    F(REBUILD, TORUS, "torus", 0) \
    F(REBUILD, EVENTS, "events", 0) \
    F(REBUILD, VTIME, "vtime", 0) \
    F(REBUILD, PROCS, "procs", 0) \
  T(PROJ_ERROR, 10, "projection_error", 3) /* a projection failed its integrity check (reason 1: hash, 2: exchange) */ \
    F(PROJ_ERROR, TORUS, "torus", 0) \
    F(PROJ_ERROR, FROM, "from", 0) \
    F(PROJ_ERROR, REASON, "reason", 0) \
  T(OVERFLOW, 11, "overflow", 3) /* cumulative refused pushes of a torus's queue, when they change */ \
    F(OVERFLOW, TORUS, "torus", 0) \
    F(OVERFLOW, OVERFLOWS, "overflows", 0) \
    F(OVERFLOW, HORIZON_ERRORS, "horizon_errors", 0) \
  T(EVENT, 12, "event", 5) /* one processed event (only with trace_events=1) */ \
    F(EVENT, TORUS, "torus", 0) \
    F(EVENT, TIME, "time", 0) \
    F(EVENT, DST, "dst", 0) \
    F(EVENT, SRC, "src", 0) \
    F(EVENT, PAYLOAD, "payload", 1) \
  T(CHECK, 14, "check", 5) /* a failed model check (braid_torus_check); the message follows the fields */ \
    F(CHECK, TORUS, "torus", 0) \
    F(CHECK, EVENT, "event", 0) \
    F(CHECK, CELL, "cell", 0) \
    F(CHECK, CODE, "code", 0) \
    F(CHECK, MESSAGE_LEN, "message_len", 0) \
  T(BARRIER, 64, "barrier", 6) /* timing of one step: ns since the run's start, the epoch, the wait for the predecessor, the exchange */ \
    F(BARRIER, TORUS, "torus", 0) \
    F(BARRIER, THREAD, "thread", 0) \
    F(BARRIER, EPOCH_START_NS, "epoch_start_ns", 0) \
    F(BARRIER, EPOCH_NS, "epoch_ns", 0) \
    F(BARRIER, WAIT_NS, "wait_ns", 0) \
    F(BARRIER, EXCHANGE_NS, "exchange_ns", 0) \
  T(CHECKPOINT, 128, "checkpoint", 0) /* blob: varint exchange, then the state of every torus after it */

#define BRAID__RT(N, num, name, n) BRAID_REC_##N = num,
#define BRAID__RF(N, FIELD, name, sg)
enum braid_record_type { BRAID_RECORD_TABLE(BRAID__RT, BRAID__RF) };
#undef BRAID__RT
#undef BRAID__RF
/* One enum per type: each opened by the type, closed by the next. */
#define BRAID__RT(N, num, name, n) }; enum braid_fields_##N {
#define BRAID__RF(N, FIELD, name, sg) BRAID_F_##N##_##FIELD,
enum { BRAID__FIELDS_FIRST = 0, BRAID_RECORD_TABLE(BRAID__RT, BRAID__RF) BRAID__FIELDS_LAST };
#undef BRAID__RT
#undef BRAID__RF

/* Every record type but EXCHANGE and CHECKPOINT has the torus it concerns
 * as its first field, and PROJECTION and REBUILD have its event count at
 * the same place. */
#define BRAID_F_TORUS 0
#define BRAID_F_EVENTS 1
#ifndef __cplusplus
_Static_assert(BRAID_F_PROJECTION_TORUS == BRAID_F_TORUS && BRAID_F_BARRIER_TORUS == BRAID_F_TORUS && BRAID_F_BOUNDARY_TORUS == BRAID_F_TORUS,
               "the torus is every record's first field");
_Static_assert(BRAID_F_PROJECTION_EVENTS == BRAID_F_EVENTS && BRAID_F_REBUILD_EVENTS == BRAID_F_EVENTS, "events at one place");
#endif

/* Failure reasons (FAILURE.reason) and interval change reasons
 * (INTERVAL.reason). */
enum { BRAID_FAIL_INJECTED = 1, BRAID_FAIL_HEARTBEAT = 2 };
enum { BRAID_INTERVAL_SHRINK = 1, BRAID_INTERVAL_GROW = 2, BRAID_INTERVAL_RATE = 3, BRAID_INTERVAL_FOLLOW = 4 };

/* Record types 1..63 are logical, 64..127 timing, 128.. blobs. */
#define BRAID_RECORD_IS_LOGICAL(type) ((type) >= 1 && (type) <= 63)
/* Name of a record type ("projection"), or NULL if unknown.  Static
 * storage; thread-safe. */
BRAID_API const char *braid_record_type_name(uint32_t type);
/* Name of field i of a type, or NULL; *is_signed tells how to print it.
 * Static storage; thread-safe. */
BRAID_API const char *braid_record_field_name(uint32_t type, unsigned i, int *is_signed);

typedef enum braid_trace_status {
  BRAID_TRACE_COMPLETE = 0,
  BRAID_TRACE_INTERRUPTED = 1, /* stopped by a signal or braid_runtime_stop() */
  BRAID_TRACE_FAILED = 2,      /* the run ended with an error (e.g. ENOSPC) */
  BRAID_TRACE_UNFINISHED = 3,  /* no footer: the writer died (kill -9, crash) */
} braid_trace_status;

/* What the trace header says. Strings are owned by the reader. */
typedef struct braid_trace_info {
  uint32_t format_version;
  const char *config_text;  /* canonical settings, "key=value\n" lines */
  uint64_t config_hash;     /* logical hash (braid_config_hash) */
  const char *lib_version;
  const char *build_id;     /* compiler, flags and source hash of the recording build */
  const char *host;
  uint64_t start_unix_ns;
  const char *plugin;       /* "name version xxh3-of-file" or "" */
  /* From the header's settings, so that tools need not parse config_text:
   * the model's name (a plugin's as it named itself), the number of tori
   * (0 when the header names none in 2..16) and whether the sequential
   * executor ran.  Untrusted like everything in the file. */
  const char *model;
  uint32_t config_tori;
  int sequential;
  uint32_t ranks; /* the MPI ranks the run was spread over (timing data; 0: one process) */
  /* From the footer (zero / UNFINISHED when there is none). */
  braid_trace_status status;
  uint64_t exchanges;       /* complete exchanges in the trace */
  uint64_t total_events;
  uint32_t tori;
  uint64_t final_state_hash[16];
  uint64_t checkpoints;
  int has_index;
  int truncated;            /* the file ends inside a frame */
} braid_trace_info;

/* A trace reader.  Treats the file as untrusted (see braid-trace(5)); one
 * thread at a time per reader, any number of readers per file. */
typedef struct braid_trace braid_trace;

/* Opens and validates a trace.  Reads the header and, when present, the
 * footer and index.  Returns 0, BRAID_ENOENT, BRAID_EIO, BRAID_ENOTTRACE,
 * BRAID_EVERSION, BRAID_ECORRUPT, BRAID_ETRUNCATED, BRAID_ELIMIT or
 * BRAID_ENOMEM; on error *out is NULL and a one-line message naming the file
 * and the reason (with the byte offset for corruption) is written into
 * errbuf when it is not NULL.  The caller owns the reader. */
BRAID_API int braid_trace_open(braid_trace **out, const char *path, char *errbuf, size_t errlen);
/* Closes the reader and frees everything it handed out; NULL is a no-op. */
BRAID_API void braid_trace_close(braid_trace *t);
/* The header (and footer) of the trace; owned by the reader, valid until
 * braid_trace_close().  Footer counts of a trace without a footer grow as
 * the stream is read (see braid-trace(5)). */
BRAID_API const braid_trace_info *braid_trace_get_info(const braid_trace *t);
/* Next record in stream order: 0, BRAID_EEOF at a clean end, BRAID_ETRUNCATED
 * when the file ends inside a frame (every record before it was returned),
 * or BRAID_ECORRUPT / BRAID_ELIMIT (message in braid_trace_error()). */
BRAID_API int braid_trace_next(braid_trace *t, braid_record *rec);
/* Positions the stream at the first record of exchange k (through the index,
 * or by scanning when there is none).  BRAID_ERANGE if k is not in the trace. */
BRAID_API int braid_trace_seek(braid_trace *t, uint64_t k);
/* Finds the last checkpoint at or before exchange k: copies nothing, returns
 * its exchange in *at and a pointer to its blob, owned by the reader and
 * valid until the next call on it.  BRAID_ERANGE when there is none. */
BRAID_API int braid_trace_checkpoint(braid_trace *t, uint64_t k, uint64_t *at, const uint8_t **blob, size_t *len);
/* One-line message of the reader's last error; owned by the reader. */
BRAID_API const char *braid_trace_error(const braid_trace *t);

/* ------------------------------------------------------------ replay, diff */

/* Where two logical record streams first differ. */
typedef struct braid_divergence {
  uint64_t exchange;
  int64_t torus;         /* -1 when the record has no torus */
  char record[32];       /* record type name ("projection") */
  char field[32];        /* field name, or "presence" when a record is missing/extra:
                          * expected and actual are then the record's type on the side
                          * that has it and 0 on the other */
  int field_signed;
  uint64_t expected;     /* recorded (replay) / first trace (diff) */
  uint64_t actual;       /* replayed (replay) / second trace (diff) */
  char context[4096];    /* the records around it, both sides, one per line */
  int field_hex;         /* a digest or hash: print the values in hex (%016llx), as braid-dump does */
} braid_divergence;

/* Room for violated cells in braid_violation_info; a trace keeps the first
 * 4 of each boundary check (see braid-trace(5)), so ncells is at most 4. */
#define BRAID_VIOLATION_MAX_CELLS 16
typedef struct braid_violation_cell {
  uint32_t cell, x, y, z;
  int64_t expected, actual;
  int32_t payload; /* the corrective event's payload */
} braid_violation_cell;

typedef struct braid_violation_info {
  uint64_t exchange;
  uint32_t torus, from;
  uint64_t checked, violations, max_dev;
  int64_t corrective_sum;
  unsigned ncells;
  braid_violation_cell cells[BRAID_VIOLATION_MAX_CELLS];
} braid_violation_info;

/* A failed model check as braid_replay() found it (a CHECK record). */
typedef struct braid_check_info {
  uint64_t exchange, event;
  uint32_t torus, cell, x, y, z, code;
  char message[BRAID_CHECK_MESSAGE_MAX];
} braid_check_info;

typedef struct braid_replay_opts {
  uint64_t until;     /* last exchange to replay; UINT64_MAX: all */
  uint64_t violation; /* stop at the Nth boundary check with violations (1-based); 0: off */
  uint64_t from;      /* start at the last checkpoint at or before this exchange; UINT64_MAX: from 0 */
  int force;          /* replay although build semantics or plugin differ */
  int do_break;       /* call braid_debug_break() at the stop point */
  const char *out;    /* also write the replay's own trace here; NULL: no.  From a checkpoint, the
                         trace starts with that checkpoint, so that it replays on its own */
  const braid_model *model; /* the plugin model, for traces recorded with one */
  int partial;        /* accept a truncated trace: replay its complete exchanges */
  uint64_t check;     /* stop at the Nth failed model check (1-based, in stream order); 0: off */
  /* Appended after the fields above so that their offsets stay put. */
  int perturb_malloc; /* 1..255: fill fresh heap memory with a pattern while replaying (glibc's
                         M_PERTURB; a second replay uses another), so that a model reading
                         uninitialised memory diverges; 0: off.  Process-wide while it runs */
  int no_locate;      /* after a divergence, do not re-run it to diagnose it and locate its window */
} braid_replay_opts;

/* Fills opts with the defaults (all exchanges, no stop, from 0, no model,
 * no force). */
BRAID_API void braid_replay_opts_init(braid_replay_opts *opts);

/* One event of a located window (see braid_window), with what handling it
 * did: the follow-ups the model emitted (the first BRAID_WINDOW_FOLLOW of
 * them are kept; nfollow counts all). */
#define BRAID_WINDOW_FOLLOW 4
typedef struct braid_window_event {
  uint64_t index;      /* the torus's event count after it (1 is its first event) */
  braid_event ev;
  uint32_t x, y, z;    /* of ev.dst */
  int64_t state;       /* the cell's state after it */
  uint32_t nfollow;
  braid_event follow[BRAID_WINDOW_FOLLOW]; /* time: when the follow-up is due */
} braid_window_event;

/* Where inside an epoch a divergence is, from the rungs (intermediate
 * digests, braid-trace(5)): the events between the last rung that agrees
 * and the first that differs, re-run by the replay one at a time. */
#define BRAID_WINDOW_MAX 1024
typedef struct braid_window {
  int found;            /* 1: the window was located and re-run */
  uint64_t exchange;    /* the epoch: exchange k's */
  uint32_t torus;
  unsigned rung, rungs; /* between rung `rung - 1` and rung `rung` of `rungs` (0: the epoch's start, rungs + 1: its end) */
  uint64_t first, count; /* the window: the torus's events first..first+count-1 */
  char differs[96];     /* what differs at the end of the epoch: processed events, pending events, cells or edges */
  uint64_t nevents;     /* kept below: the first BRAID_WINDOW_MAX of the window */
  braid_window_event ev[BRAID_WINDOW_MAX];
} braid_window;

/* What a second replay said about a divergence (braid_replay_result.diagnosis). */
enum {
  BRAID_DIAG_NONE = 0,            /* not diagnosed (no divergence, or opts.no_locate) */
  BRAID_DIAG_DETERMINISTIC = 1,   /* a second replay repeated the first exactly: the recorded run differs from sequential execution */
  BRAID_DIAG_NONDETERMINISTIC = 2 /* a second replay differed from the first: the model is not deterministic even sequentially */
};

typedef struct braid_replay_result {
  int diverged;
  uint64_t exchanges_checked;
  uint64_t first_exchange;   /* first exchange compared (after a checkpoint at k: k + 1, also when nothing follows it) */
  uint64_t trace_exchanges;  /* one past the last complete exchange (their count when the trace starts at exchange 0) */
  int truncated;             /* the trace ended inside a frame */
  braid_trace_status status;
  braid_divergence div;
  int stopped_at_violation;
  braid_violation_info viol;
  char warning[256];         /* e.g. the compiler differs from the recording build */
  double seconds;
  int recorded_threaded;     /* the recording ran the threaded executor */
  uint64_t violations;       /* boundary checks with violations among the exchanges compared */
  /* Failed model checks (CHECK records) among the exchanges compared, and
   * the one opts->check stopped at. */
  uint64_t checks;
  int stopped_at_check;
  braid_check_info check;
  /* Appended after the fields above so that their offsets stay put. */
  uint32_t differing_tori;   /* at div.exchange: bit r set when torus r's records (or final state) differ */
  int final_compared;        /* the footer's final state hashes were compared with the replay's */
  int diagnosis;             /* BRAID_DIAG_* */
  uint64_t diagnosis_exchange; /* where the second replay first differed from the first */
  braid_window window;       /* located window of the divergence (window.found) */
  int model_state_unsaved;   /* from a checkpoint with a model whose private state it cannot hold (forced) */
} braid_replay_result;

/* Re-runs a trace single-threaded with the sequential executor, following
 * its recorded decisions (injections, heartbeat failures, rate-mode interval
 * changes), and compares every exchange's logical records with the
 * recording.  Returns 0 when the replay ran (see res->diverged and
 * res->warning), or an error with a one-line message in errbuf.  First,
 * BRAID_EINVAL when opts->out names the trace itself or a model plugin
 * loaded by this process (the same file by any path, hard link or symbolic
 * link): nothing is read or written then.  The
 * trace is read through next (from the checkpoint, with opts->from), so its
 * damage comes before the other refusals: the reader's errors,
 * BRAID_ETRUNCATED (without opts->partial).  Then BRAID_EMISMATCH when the
 * recording build has another semantics version, or when the model does not
 * match the trace header's (a plugin trace needs opts->model, whose identity
 * "name version xxh3-of-file" -- "name version -" for a model compiled into
 * the program -- must equal the recorded one; a built-in model's trace takes
 * no opts->model); opts->force turns these refusals into a warning.  Then
 * BRAID_ERANGE when opts->from is past the last exchange of the trace,
 * BRAID_EINVAL when opts->until is not after the checkpoint opts->from picks
 * (nothing would be compared), or a run error.  A trace that starts at
 * exchange k > 0 (the own trace of a replay from a checkpoint) begins with
 * the checkpoint of exchange k - 1 and is replayed from it, whatever
 * opts->from says before it; one without that checkpoint is refused with
 * BRAID_EINVAL (after the semantics version check, before the model's).
 * opts may be NULL (the defaults); res is filled by the call and owns
 * nothing.  Thread-safe with respect to other calls that do not share its
 * arguments. */
BRAID_API int braid_replay(const char *path, const braid_replay_opts *opts, braid_replay_result *res, char *errbuf, size_t errlen);

typedef struct braid_diff_result {
  int differ;
  int config_differs;        /* logical settings differ (see settings; the first divergence is then expected) */
  uint64_t records_a, records_b, compared, differing; /* compared, differing: matched pairs of records (see only) */
  uint64_t differing_by_type[64];
  braid_divergence div;
  /* Timing statistics (--timing): per trace, from barrier records. */
  double mean_epoch_ns[2], mean_wait_ns[2], mean_exchange_ns[2], events_per_s[2];
  /* The logical settings that differ, each with both values ("seed 1 vs 2,
   * tori 3 vs 4"; "(unset)" for a setting a header lacks, "(none)" for an
   * empty value); "" when none does.  Run length (exchanges, events, duration_ms)
   * and settings that cannot change results (threads, ...) are not
   * compared. */
  char settings[512];
  /* Exchanges are compared by number: exchange k of A with exchange k of B.
   * An exchange only one trace has (one starts later or ends earlier)
   * makes the traces differ; its records are not compared. */
  uint64_t exchanges[2];        /* complete exchanges in each trace */
  uint64_t first_exchange[2];   /* its first and last exchange, when exchanges[i] > 0 */
  uint64_t last_exchange[2];
  uint64_t common_exchanges;    /* exchanges both traces have: the ones compared */
  int truncated[2];             /* the trace ends inside a frame */
  braid_trace_status status[2]; /* from its footer (UNFINISHED without one) */
  /* Inside an exchange, records are matched by torus and type (and a
   * violation by its cell), in stream order: a record without a match in
   * the other trace is counted here, [0] only in A, [1] only in B, and not in
   * compared or differing, which count matched pairs. */
  uint64_t only[2];
  uint64_t only_by_type[2][64];
  /* Appended after the fields above so that their offsets stay put. */
  uint32_t final_differs;   /* bit r: the footers' final state hashes of torus r differ (compared when both traces are complete and have the same exchanges and tori) */
  int final_compared;
} braid_diff_result;

/* Compares the logical record streams of two traces, exchange k of one with
 * exchange k of the other (their timing records only feed the timing
 * statistics).  Returns 0 when both were read (see
 * res->differ: set also when the logical settings differ), or a reader error
 * with a one-line message in errbuf.  res owns nothing.  Thread-safe with
 * respect to other calls that do not share its arguments. */
BRAID_API int braid_diff(const char *a, const char *b, braid_diff_result *res, char *errbuf, size_t errlen);

/* ------------------------------------------------------------------ shrink */

/* What braid_shrink() looks for (braid_shrink_result.kind). */
typedef enum braid_shrink_kind {
  BRAID_SHRINK_NONE = 0,       /* the trace shows no failure: nothing to shrink */
  BRAID_SHRINK_CHECK = 1,      /* a failed model check (CHECK record), matched by its code */
  BRAID_SHRINK_OVERFLOW = 2,   /* a run error: the queue refused events (OVERFLOW record) */
  BRAID_SHRINK_FAILED = 3,     /* a torus failed by the heartbeat (FAILURE record, not a --fail) */
  BRAID_SHRINK_DEVIATION = 4,  /* a boundary deviation above opts->deviation */
  BRAID_SHRINK_DIVERGENCE = 5, /* the threaded run differs from sequential execution */
} braid_shrink_kind;

/* The size of a run, before and after. */
typedef struct braid_shrink_shape {
  uint64_t exchanges;  /* exchanges run */
  uint32_t tori, dim, interval, interval_min;
  unsigned injections, faults;
  uint64_t events;     /* events processed by all tori */
  uint64_t seed;
  uint64_t failure_exchange; /* the first exchange that shows the failure */
} braid_shrink_shape;

typedef struct braid_shrink_result braid_shrink_result;

typedef struct braid_shrink_opts {
  const braid_model *model;  /* the plugin of a plugin trace (as for braid_replay) */
  const char *model_spec;    /* how the command line names it: the --model-plugin value */
  int divergence;            /* look for a divergence between threaded and sequential runs */
  uint64_t deviation;        /* > 0: look for a boundary deviation above this */
  unsigned tries;            /* chaos seeds per candidate for timing-dependent failures (default 8) */
  uint32_t threads;          /* worker threads of those runs (default 2) */
  uint64_t max_runs;         /* runs in all (default 200) */
  double max_seconds;        /* wall time in all (default 600) */
  double run_seconds;        /* one run's limit; a run over it does not count as failing (default 60) */
  int seeds;                 /* also try other seeds (off by default: a seed is part of the failure) */
  const char *out;           /* write the small run's trace here; NULL: do not */
  const char *out_name;      /* how the command line names `out` (default: out itself) */
  /* Called after every run (on the calling thread): what was tried and the
   * result so far.  May be NULL. */
  void (*progress)(void *ud, const char *trying, const braid_shrink_result *sofar);
  void *ud;
} braid_shrink_opts;

struct braid_shrink_result {
  braid_shrink_kind kind;
  char failure[256];           /* what fails, in words ("model check code 1 (ripple: ...)") */
  int shrank;                  /* a smaller run shows the same failure */
  braid_shrink_shape before, after;
  uint64_t runs;               /* runs done, the ones judging a divergence each counting once per chaos seed */
  uint64_t timeouts;           /* runs stopped at opts->run_seconds */
  double seconds;
  int limit;                   /* 1: stopped by max_runs, 2: by max_seconds (the result is the best so far) */
  unsigned tries, reproduced;  /* timing-dependent kinds: chaos seeds the final run was tried with, how many showed it */
  uint64_t chaos;              /* the chaos seed in the command line (timing-dependent kinds), else 0 */
  char command[4096];          /* the braid-record command line of the small run */
  char note[256];              /* why something could not be reduced, or "" */
};

/* Fills opts with the defaults. */
BRAID_API void braid_shrink_opts_init(braid_shrink_opts *opts);

/* Reads the failure from the trace at `path` -- opts->divergence: a
 * divergence (a threaded trace that braid_replay() finds diverging, or whose
 * settings diverge under chaos); opts->deviation: the first boundary check
 * whose max_dev exceeds it; otherwise the first failed model check, else a
 * queue overflow, else a heartbeat failure -- and searches for a smaller run
 * that shows the same failure (same check code, kind, or a divergence):
 * stop just after the failure, fewer faults and injections (ddmin over the
 * recorded lists), fewer tori, a smaller lattice, earlier injections and
 * faults, a smaller interval, model parameters at their defaults, and other
 * seeds with opts->seeds.  Deterministic failures are judged on sequential
 * runs; a divergence and a heartbeat failure on opts->threads-thread runs
 * under opts->tries chaos seeds, a candidate counting as failing when one of
 * them shows it.  Runs happen in this process, one at a time.  The result
 * names the braid-record command line that reproduces the small run and,
 * with opts->out, writes its trace (for a divergence, the first of up to
 * opts->tries runs that showed it).  Returns 0 when the search ran
 * (res->kind is BRAID_SHRINK_NONE when the trace shows no failure;
 * res->shrank says whether a smaller run fails), or an error with a
 * one-line message: the reader's (a damaged or truncated trace),
 * BRAID_EMISMATCH (a plugin trace without opts->model, or another model),
 * BRAID_EINVAL, or the error of writing opts->out.  Not thread-safe with
 * respect to the plugin model's own state; independent calls with built-in
 * models may run concurrently. */
BRAID_API int braid_shrink(const char *path, const braid_shrink_opts *opts, braid_shrink_result *res, char *errbuf, size_t errlen);
/* --------------------------------------------------------------------- MPI */

/* A run spread over the R ranks of an MPI job (DESIGN 14; braid-record(1),
 * MPI).  The N tori are placed in contiguous blocks: rank i runs tori
 * floor(i*N/R) .. floor((i+1)*N/R)-1 on its own worker threads; R <= N.
 * Projections travel along the ring between ranks, rank 0 gathers every
 * rank's records and writes the one trace, in the usual format; the rank
 * count is recorded in the header as timing data (the setting "ranks"), so
 * the trace equals the sequential run's.
 *
 * The placement functions are in every build.  The others are real in
 * libbraid-mpi, which configure builds when it finds MPI (braid-record
 * links it), and return BRAID_EUNSUPPORTED in libbraid. */

/* The first torus of rank `rank` of `ranks` in a ring of `tori`; with
 * rank == ranks, `tori` (so block i is [first(i), first(i+1))).  0 when
 * ranks is 0.  Thread-safe. */
BRAID_API uint32_t braid_rank_first_torus(uint32_t tori, uint32_t ranks, uint32_t rank);
/* The rank that runs `torus` (0 when ranks is 0).  Thread-safe. */
BRAID_API uint32_t braid_torus_rank(uint32_t tori, uint32_t ranks, uint32_t torus);

/* 1 when this library was built with MPI (libbraid-mpi), else 0. */
BRAID_API int braid_mpi_available(void);
/* Initialises MPI (MPI_Init_thread, asking for MPI_THREAD_SERIALIZED) and
 * returns this process's rank and the job's size.  Call once, before any
 * other braid_mpi_ function.  BRAID_EUNSUPPORTED without MPI. */
BRAID_API int braid_mpi_init(int *argc, char ***argv, int *rank, int *ranks);
/* Makes rt one rank of the job: call on every rank with the same settings,
 * after braid_runtime_create() and before braid_runtime_record() (on rank 0
 * only: the other ranks send it their records) and braid_runtime_run()
 * (on every rank).  Sets the "ranks" setting and, when "threads" is 0,
 * sizes the rank's workers to its tori and its share of the host's CPUs.
 * BRAID_ERANGE when there are more ranks than tori, BRAID_EINVAL with the
 * sequential executor, BRAID_ESTATE before braid_mpi_init(); the message
 * goes to errbuf.  braid_runtime_stop() on any rank stops every rank at an
 * exchange they agree on; an error on any rank ends the run on every rank
 * (rank 0 finishes the trace as failed and names the rank). */
BRAID_API int braid_runtime_mpi(braid_runtime *rt, char *errbuf, size_t errlen);
/* Ends the job (MPI_Abort): for errors, after rank 0 finished its trace. */
BRAID_API void braid_mpi_abort(int code);
/* MPI_Finalize, after the last run. */
BRAID_API int braid_mpi_finalize(void);

/* An empty, never-inlined function called by braid_replay() at its stop
 * point when opts->do_break is set (braid-replay --break): put a breakpoint
 * on it in gdb or rr.  rt is the replay's runtime, t the torus the stop is
 * about (NULL when it is about none); both stay valid while the breakpoint
 * holds, and the gdb helper braid-gdb.py (braid-replay(1)) prints them.
 * Thread-safe. */
BRAID_API void braid_debug_break(const braid_runtime *rt, const braid_torus *t);

#ifdef __cplusplus
}
#endif
#endif /* BRAID_H */
