/* braid-record.c - run a workload, record its trace, print a report. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static braid_runtime *volatile g_rt;
static volatile sig_atomic_t g_signal;
static int g_mpi, g_rank; /* --mpi: this process's rank */

static void on_signal(int sig)
{
  g_signal = sig;
  if (g_rt) braid_runtime_stop(g_rt);
}

static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-record [options] [-o TRACE]\n"
          "Runs a braided-torus workload and records it into a zstd trace.\n\n"
          "  -m, --model NAME          uniform, skewed, bursty, phold or racy (default uniform)\n"
          "      --model-plugin PATH[:SYMBOL]  load the model from a shared object\n"
          "  -p, --param KEY=VALUE     model parameter (repeatable)\n"
          "  -s, --seed N              seed of every random choice (default 1)\n"
          "  -n, --tori N              tori in the ring, 2..16 (default 3)\n"
          "  -d, --dim D               lattice side, power of two 8..128 (default 32)\n"
          "  -t, --threads K           worker threads, 1..64 (default 0: min(tori, CPUs))\n"
          "      --sequential          run the sequential reference executor\n"
          "  -x, --exchanges N         exchanges to run (default 1000)\n"
          "  -e, --events N            end after the first exchange at which the events reach N in total\n"
          "      --duration SECONDS    stop after this wall time (recorded; replay follows)\n"
          "  -i, --interval N          events per torus per epoch at the start (default 1000)\n"
          "      --interval-min N      smallest adaptive interval (default 100)\n"
          "      --interval-max N      largest adaptive interval (default 10000)\n"
          "      --adapt MODE          off, violations (default) or rate\n"
          "      --threshold PPM       violation-rate threshold of adaptation (default 10000 = 1%%)\n"
          "      --tolerance N         boundary tolerance (default 8)\n"
          "      --fail TORUS@K        fail torus A..P (or 0..15) at exchange K (repeatable)\n"
          "      --inject TORUS@K:CELL=PAYLOAD  inject an event at the first exchange >= K (repeatable)\n"
          "      --heartbeat-ms MS     declare a torus failed after MS without progress (default 10000; 0: never)\n"
          "      --chaos SEED          perturb thread scheduling from SEED (the run stays replayable)\n"
          "      --checkpoint-every K  write a full-state checkpoint every K exchanges\n"
          "      --trace-events        record every event (large traces)\n"
          "      --check-stop          end the run soon after the first failed model check\n"
          "      --repeat N            hunt races: run under N chaos seeds, replay each, keep the first\n"
          "                            that diverges from sequential execution in -o TRACE (exit 1)\n"
          "      --mpi                 spread the tori over the ranks of an MPI job (mpirun -n R braid-record --mpi ...)\n"
          "      --set KEY=VALUE       any run setting by name (see --list-settings)\n"
          "      --list-settings       print every setting with its default and range\n"
          "      --list-models         print the built-in models (and --model-plugin's) and their parameters\n"
          "  -o, --output TRACE        write the trace here (default: no trace)\n"
          "      --json                print the report as one JSON document\n"
          "  -q, --quiet               no progress line and no report\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 ok, 1 a model check failed (--repeat: a run diverged), 2 trouble,\n"
          "130/143 stopped by SIGINT/SIGTERM\n"
          "(trace finalised).\n");
}

/* The library's message starts with the setting's name ("tori: 17 is out of
 * range 2..16"); after the option's name it is only repeated, except for
 * --set, where the user typed the setting's name. */
static void set(braid_config *cfg, const char *opt, const char *key, const char *value)
{
  if (!braid_config_set(cfg, key, value)) return;
  const char *msg = braid_config_error(cfg);
  size_t n = strlen(key);
  if (strcmp(opt, "--set") && !strncmp(msg, key, n) && !strncmp(msg + n, ": ", 2)) msg += n + 2;
  cli_die("%s: %s", opt, msg);
}

/* Plain decimal seconds: digits with at most one '.', optionally an exponent
 * (strtod alone also reads hex, inf and nan).  The run's clock counts
 * milliseconds, and 0 ms would mean no limit at all. */
static double seconds(const char *opt, const char *text)
{
  const char *p = text;
  int digits = 0;
  for (; isdigit((unsigned char)*p); p++) digits = 1;
  if (*p == '.')
    for (p++; isdigit((unsigned char)*p); p++) digits = 1;
  if (digits && (*p == 'e' || *p == 'E')) {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p)) digits = 0;
    while (isdigit((unsigned char)*p)) p++;
  }
  if (!digits || *p) cli_die("%s: '%s' is not a decimal number of seconds (e.g. 2.5)", opt, text);
  double s = strtod(text, NULL);
  if (!(s > 0)) cli_die("%s: '%s' is not a positive number of seconds", opt, text);
  if (s < 0.001) cli_die("%s: '%s' is below the 1 ms resolution (at least 0.001)", opt, text);
  if (s > 1e9) cli_die("%s: '%s' is above the limit of 1e9 seconds", opt, text);
  return s;
}

/* A decimal whole number with an optional '-': 0, or 1 when it is not one,
 * 2 when it does not fit in 64 bits. */
static int whole(const char *text, int64_t *v)
{
  const char *p = text + (*text == '-');
  if (!*p || strspn(p, "0123456789") != strlen(p)) return 1;
  errno = 0;
  *v = strtoll(text, NULL, 10);
  return errno == ERANGE ? 2 : 0;
}

/* A torus of --fail or --inject (`item` is the whole value, for the
 * message): the library's parser, and it must be one of the run's tori. */
static uint32_t torus_of(const char *opt, const char *name, const char *item, uint32_t tori)
{
  uint32_t t;
  if (braid_parse_torus(name, &t)) cli_die("%s: torus '%s' in '%s' is not A..P or 0..15", opt, name, item);
  if (t >= tori) {
    if (isdigit((unsigned char)name[0])) cli_die("%s: torus %s in '%s' does not exist (tori 0..%u)", opt, name, item, tori - 1);
    cli_die("%s: torus %s in '%s' does not exist (tori A..%c)", opt, name, item, 'A' + (int)tori - 1);
  }
  return t;
}

typedef struct injection {
  uint32_t torus, cell;
  int32_t payload;
  uint64_t exchange;
} injection;

/* TORUS@EXCHANGE:CELL=PAYLOAD, checked against the run's shape before the
 * runtime (and its trace file) is created.  An exchange at or after the
 * run's last would never come (a --duration run may end even sooner). */
static injection parse_inject(const char *text, uint32_t tori, uint64_t cells, uint64_t exchanges)
{
  char buf[256];
  char *at, *colon = NULL, *eq = NULL;
  if (strlen(text) < sizeof buf) strcpy(buf, text);
  else buf[0] = 0;
  if ((at = strchr(buf, '@')) && (colon = strchr(at + 1, ':'))) eq = strchr(colon + 1, '=');
  if (!eq) cli_die("--inject: '%s' is not TORUS@EXCHANGE:CELL=PAYLOAD (e.g. B@100:5=1000)", text);
  *at = *colon = *eq = 0;
  injection in;
  int64_t v;
  int rc;
  in.torus = torus_of("--inject", buf, text, tori);
  if ((rc = whole(at + 1, &v)) == 1 || (!rc && v < 0)) cli_die("--inject: exchange '%s' in '%s' is not a whole number >= 0", at + 1, text);
  if (rc || (uint64_t)v >= exchanges)
    cli_die("--inject: exchange %s in '%s' is beyond the run, whose last exchange is %llu", at + 1, text, (unsigned long long)exchanges - 1);
  in.exchange = (uint64_t)v;
  if ((rc = whole(colon + 1, &v)) == 1) cli_die("--inject: cell '%s' in '%s' is not a whole number", colon + 1, text);
  if (rc || v < 0 || (uint64_t)v >= cells)
    cli_die("--inject: cell %s in '%s' is out of range 0..%llu", colon + 1, text, (unsigned long long)cells - 1);
  in.cell = (uint32_t)v;
  if ((rc = whole(eq + 1, &v)) == 1) cli_die("--inject: payload '%s' in '%s' is not a whole number", eq + 1, text);
  if (rc || v < INT32_MIN || v > INT32_MAX)
    cli_die("--inject: payload %s in '%s' is out of range %d..%d (32 bits)", eq + 1, text, INT32_MIN, INT32_MAX);
  in.payload = (int32_t)v;
  return in;
}

/* The failures as given (the library has checked their form): each torus
 * must exist and each exchange come before the run's end. */
static void check_fails(const char *fails, uint32_t tori, uint64_t exchanges)
{
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", fails);
  for (char *item = buf, *next; item && *item; item = next) {
    if ((next = strchr(item, ','))) *next++ = 0;
    char name[8], *at = strchr(item, '@');
    snprintf(name, sizeof name, "%.*s", (int)(at - item), item);
    torus_of("--fail", name, item, tori);
    if (strtoull(at + 1, NULL, 10) >= exchanges)
      cli_die("--fail: '%s' is beyond the run, whose last exchange is %llu", item, (unsigned long long)exchanges - 1);
  }
}

static void list_model(const braid_model *m, const char *plugin)
{
  if (plugin) printf("%-8s version %u, from --model-plugin %s: %s\n", m->name, (unsigned)m->version, plugin, m->doc ? m->doc : "(no description)");
  else printf("%-8s %s\n", m->name, m->doc);
  for (const braid_param_spec *p = m->params; p && p->name; p++)
    printf("         -p %s=N  %s (default %lld, range %lld..%lld)\n", p->name, p->doc ? p->doc : "", (long long)p->def, (long long)p->min,
           (long long)p->max);
}

/* The built-in models, then the plugin's (--model-plugin, before or after
 * --list-models), which is loaded to be listed. */
static void list_models(const char *plugin)
{
  const braid_model *m = NULL;
  char err[512];
  /* Loaded first: a plugin that does not load leaves nothing on stdout. */
  if (plugin && braid_model_load(plugin, &m, err, sizeof err)) cli_die("--model-plugin: %s", err);
  for (unsigned i = 0; braid_builtin_model(i); i++) list_model(braid_builtin_model(i), NULL);
  if (m) list_model(m, plugin);
}

/* The exchange count --duration sets: the largest the settings take, so
 * that the clock ends the run. */
#define DURATION_EXCHANGES "1099511627776"

typedef struct progress {
  braid_runtime *rt;
  pthread_mutex_t lock;
  pthread_cond_t cond; /* signalled when the run ends */
  int done;
  uint64_t total;      /* exchanges to run; 0 when the clock or the events end the run */
  uint64_t events;     /* --events, or 0 */
  double seconds;      /* --duration, or 0 */
  struct timespec start;
} progress;

static double since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Columns the progress line may use on standard error: one less than the
 * terminal's width (a line that fills the last column wraps on some
 * terminals), read at every redraw so that a resize is followed; 0 when the
 * width is unknown. */
static int line_columns(void)
{
  struct winsize ws;
  if (ioctl(2, TIOCGWINSZ, &ws) || ws.ws_col < 2) return 0;
  return ws.ws_col - 1;
}

/* Redraws the line every 200 ms.  It waits on the condition rather than
 * sleeping, so that the end of the run wakes it at once: a short run is not
 * held up, and no line is drawn after the end.  The line is cut to the
 * terminal's width: a line that wraps leaves its first row behind at every
 * redraw, since \r only returns to the start of the last one. */
static void *progress_main(void *arg)
{
  progress *p = arg;
  int width = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 200000000;
    if (until.tv_nsec >= 1000000000) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000;
    }
    while (!p->done && pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT) {}
    if (p->done) break;
    braid_progress pr;
    braid_runtime_progress(p->rt, &pr);
    char line[160];
    int n = snprintf(line, sizeof line, "%s: exchange %llu", cli_prog, (unsigned long long)pr.exchanges);
    if (p->total) n += snprintf(line + n, sizeof line - (size_t)n, "/%llu", (unsigned long long)p->total);
    if (p->seconds > 0) n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f/%.1f s", since(&p->start), p->seconds);
    n += snprintf(line + n, sizeof line - (size_t)n, ", %.1fM", (double)pr.events / 1e6);
    if (p->events) n += snprintf(line + n, sizeof line - (size_t)n, "/%.1fM", (double)p->events / 1e6);
    n += snprintf(line + n, sizeof line - (size_t)n, " events");
    int cols = line_columns();
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    if (cols && n > cols) line[n = cols] = 0;
    if (cols && width > cols) width = cols;
    fprintf(stderr, "\r%s%*s", line, width > n ? width - n : 0, "");
    if (n > width) width = n;
  }
  pthread_mutex_unlock(&p->lock);
  if (width) {
    int cols = line_columns();
    fprintf(stderr, "\r%*s\r", cols && width > cols ? cols : width, "");
  }
  return NULL;
}

/* Smallest and largest final interval of the tori. */
static void final_intervals(const braid_report *r, uint32_t *lo, uint32_t *hi)
{
  *lo = UINT32_MAX;
  *hi = 0;
  for (uint32_t i = 0; i < r->tori; i++) {
    if (r->torus[i].interval < *lo) *lo = r->torus[i].interval;
    if (r->torus[i].interval > *hi) *hi = r->torus[i].interval;
  }
  if (*lo > *hi) *lo = 0;
}

/* A torus's events over the time it spent in its epochs: tori share the
 * cores, so these rates add up to more than the total. */
static double rate_while_running(const braid_torus_report *t) { return t->busy_seconds > 0 ? (double)t->events / t->busy_seconds : 0; }

/* The convergence rule, as the text and JSON reports state it (braid.h,
 * braid_convergence). */
#define CONVERGENCE_RULE                                                                                    \
  "a torus has converged from the first exchange after its last perturbation (injection, rebuild) whose " \
  "check and every later one see < 1% of the cells violated over the last 10 checks, none before it"

static const char *perturbation_name(uint32_t kind) { return kind == 1 ? "injection" : kind == 2 ? "rebuild" : NULL; }

/* One torus's convergence, for the text report. */
static void print_torus_convergence(uint32_t i, const braid_convergence *c)
{
  printf("    torus %c          ", 'A' + i);
  if (c->perturbed_exchange < 0) printf("no perturbation: ");
  else printf("%s at exchange %lld: ", perturbation_name(c->perturbation), (long long)c->perturbed_exchange);
  if (c->converged_exchange < 0) printf("not converged by the end of the run\n");
  else if (c->perturbed_exchange < 0) printf("converged from exchange %lld\n", (long long)c->converged_exchange);
  else printf("converged %lld %s later (from exchange %lld)\n", (long long)c->exchanges, cli_exchanges((uint64_t)c->exchanges), (long long)c->converged_exchange);
}

/* --events: where the run ended, so that nobody has to work it out. */
static void print_events_limit(const braid_report *r, uint64_t limit)
{
  unsigned long long last = r->exchanges ? (unsigned long long)r->exchanges - 1 : 0;
  if (r->events >= limit)
    printf("  events limit       %llu: reached at exchange %llu, the first at which the total (%llu) reached it\n", (unsigned long long)limit,
           last, (unsigned long long)r->events);
  else if (r->exchanges)
    printf("  events limit       %llu: not reached; the run ended after exchange %llu with %llu\n", (unsigned long long)limit, last,
           (unsigned long long)r->events);
  else
    printf("  events limit       %llu: not reached; the run ended before the first exchange\n", (unsigned long long)limit);
}

static void print_text(const braid_report *r, const char *trace, uint64_t events, int trace_events)
{
  printf("braid-record: %u tori, %s, %llu %s, %llu events in %.3f s\n", r->tori, r->ranks ? "MPI" : r->threads ? "threaded" : "sequential",
         (unsigned long long)r->exchanges, cli_exchanges(r->exchanges), (unsigned long long)r->events, r->wall_seconds);
  if (r->ranks) printf("  ranks              %u (contiguous blocks of tori)\n", r->ranks);
  if (r->threads) printf("  threads            %u%s\n", r->threads, r->ranks ? " on rank 0" : "");
  if (events) print_events_limit(r, events);
  printf("  throughput         %.2f M events/s\n", r->events_per_second / 1e6);
  for (uint32_t i = 0; i < r->tori; i++) {
    const braid_torus_report *t = &r->torus[i];
    printf("    torus %c          %.2f M events/s while running (%.3f s)  events %llu  vtime %llu  final interval %u  failures %llu  digest %016llx\n",
           'A' + i, rate_while_running(t) / 1e6, t->busy_seconds, (unsigned long long)t->events, (unsigned long long)t->virtual_time, t->interval,
           (unsigned long long)t->failures, (unsigned long long)t->digest);
  }
  /* With --trace-events every event goes through the recorder, and none is
   * timed: quantiles of no sample would read as 0 ns. */
  if (!r->event_latency.samples) printf("  event latency      not sampled%s\n", trace_events ? " (--trace-events times no event)" : "");
  else
    printf("  event latency      p50 %.0f ns  p95 %.0f ns  p99 %.0f ns  (sampled %llu)\n", r->event_latency.p50, r->event_latency.p95,
           r->event_latency.p99, (unsigned long long)r->event_latency.samples);
  printf("  exchange latency   p50 %.2f us  p95 %.2f us  p99 %.2f us\n", r->exchange_latency.p50 / 1e3, r->exchange_latency.p95 / 1e3,
         r->exchange_latency.p99 / 1e3);
  for (uint32_t i = 0; i < r->ranks && r->rank; i++) {
    const braid_rank_report *k = &r->rank[i];
    printf("    rank %-11u tori %c..%c on %s, %u %s: %.2f M events/s, exchange p50 %.2f us, hand-over p50 %.2f us, %.3f s in MPI waits\n", k->rank,
           'A' + k->first_torus, 'A' + k->first_torus + k->tori - 1, k->host, k->threads, k->threads == 1 ? "thread" : "threads",
           k->events_per_second / 1e6, k->exchange_latency.p50 / 1e3, k->handover.p50 / 1e3, k->mpi_wait_seconds);
  }
  printf("  barrier wait       p50 %.2f us  p95 %.2f us  p99 %.2f us\n", r->barrier_wait.p50 / 1e3, r->barrier_wait.p95 / 1e3,
         r->barrier_wait.p99 / 1e3);
  if (r->handover.samples)
    printf("  hand-over          p50 %.2f us  p95 %.2f us  p99 %.2f us  (%llu)\n", r->handover.p50 / 1e3, r->handover.p95 / 1e3,
           r->handover.p99 / 1e3, (unsigned long long)r->handover.samples);
  printf("  violations         %llu of %llu checked cells (%.4f%%)\n", (unsigned long long)r->boundary_violations,
         (unsigned long long)r->checked_cells, r->violation_rate * 100);
  /* A boundary check: one torus's x=D-1 face against its predecessor's
   * projection, at one exchange. */
  if (!r->exchanges) printf("  convergence        no boundary checks\n");
  else {
    if (r->convergence_exchange >= 0) printf("  convergence        every torus from exchange %lld on", (long long)r->convergence_exchange);
    else printf("  convergence        not reached by every torus");
    printf(" (< 1%% of the cells violated over up to 10 checks since, after the last perturbation)\n");
    for (uint32_t i = 0; i < r->tori && r->convergence; i++) print_torus_convergence(i, &r->convergence[i]);
  }
  if (!r->check_failures) printf("  model checks       none failed\n");
  else {
    printf("  model checks       %llu failed; the first at exchange %lld, torus %c, event %llu, cell %u: code %u: %s\n",
           (unsigned long long)r->check_failures, (long long)r->first_check_exchange, 'A' + (int)r->first_check_torus,
           (unsigned long long)r->first_check_event, r->first_check_cell, r->first_check_code,
           r->first_check_message[0] ? r->first_check_message : "(no message)");
    if (r->check_stopped) printf("                     the run stopped early (check_stop=1)\n");
  }
  uint32_t flo, fhi;
  final_intervals(r, &flo, &fhi);
  printf("  interval           %u..%u over the run, %u..%u at the end, %llu changes\n", r->interval_min_seen, r->interval_max_seen, flo, fhi,
         (unsigned long long)r->interval_changes);
  printf("  cpu                %.3f s in the run: %.3f user, %.3f system", r->cpu_user_seconds + r->cpu_sys_seconds, r->cpu_user_seconds,
         r->cpu_sys_seconds);
  for (uint32_t i = 0; i < (r->threads ? r->threads : 1) && i < 64; i++)
    printf("\n    thread %-10u%.3f s: %.3f user, %.3f system", i, r->thread_cpu_seconds[i], r->thread_cpu_user_seconds[i],
           r->thread_cpu_sys_seconds[i]);
  printf("\n  memory             RSS %llu KiB at start, %llu KiB at end, %llu KiB peak\n", (unsigned long long)r->rss_start_kib,
         (unsigned long long)r->rss_end_kib, (unsigned long long)r->rss_peak_kib);
  if (trace)
    printf("  trace              %s, %llu bytes (%.1f bytes per exchange per torus)\n", trace, (unsigned long long)r->trace_bytes,
           r->exchanges ? (double)r->trace_bytes / (double)r->exchanges / r->tori : 0);
}

/* Quantiles of no sample are null, not 0 ns. */
static void print_quantiles(const char *name, const braid_quantiles *q, int last)
{
  if (!q->samples) {
    printf("\"%s\":{\"p50_ns\":null,\"p95_ns\":null,\"p99_ns\":null,\"max_ns\":null,\"samples\":0}%s", name, last ? "" : ",");
    return;
  }
  printf("\"%s\":{\"p50_ns\":%.0f,\"p95_ns\":%.0f,\"p99_ns\":%.0f,\"max_ns\":%.0f,\"samples\":%llu}%s", name, q->p50, q->p95, q->p99, q->max,
         (unsigned long long)q->samples, last ? "" : ",");
}

static void print_seconds(const char *name, const double *v, uint32_t n)
{
  printf("\"%s\":[", name);
  for (uint32_t i = 0; i < n && i < 64; i++) printf("%s%.6f", i ? "," : "", v[i]);
  printf("],");
}

static void print_json(const braid_report *r, const char *trace, int status, uint64_t events)
{
  printf("{\"status\":%s,\"tori\":%u,\"threads\":%u,\"exchanges\":%llu,\"events\":%llu,\"wall_seconds\":%.6f,\"events_per_second\":%.0f,",
         cli_json(status == 0 ? "complete" : "interrupted"), r->tori, r->threads, (unsigned long long)r->exchanges,
         (unsigned long long)r->events, r->wall_seconds, r->events_per_second);
  if (events) printf("\"events_limit\":{\"limit\":%llu,\"reached\":%s},", (unsigned long long)events, r->events >= events ? "true" : "false");
  else printf("\"events_limit\":null,");
  printf("\"per_torus\":[");
  for (uint32_t i = 0; i < r->tori; i++) {
    const braid_torus_report *t = &r->torus[i];
    printf("%s{\"torus\":%u,\"events\":%llu,\"events_per_second_while_running\":%.0f,\"busy_seconds\":%.6f,\"virtual_time\":%llu,\"pending\":%llu,"
           "\"interval\":%u,\"boundary_violations\":%llu,\"global_violations\":%llu,\"corrective_events\":%llu,\"injections\":%llu,"
           "\"failures\":%llu,\"lost_events\":%llu,\"queue_overflows\":%llu,\"projection_errors\":%llu,\"digest\":\"%016llx\","
           "\"state_hash\":\"%016llx\",\"rank\":%u",
           i ? "," : "", i, (unsigned long long)t->events, rate_while_running(t), t->busy_seconds, (unsigned long long)t->virtual_time,
           (unsigned long long)t->pending, t->interval, (unsigned long long)t->boundary_violations, (unsigned long long)t->global_violations,
           (unsigned long long)t->corrective_events, (unsigned long long)t->injections, (unsigned long long)t->failures,
           (unsigned long long)t->lost_events, (unsigned long long)t->queue_overflows, (unsigned long long)t->projection_errors,
           (unsigned long long)t->digest, (unsigned long long)t->state_hash, braid_torus_rank(r->tori, r->ranks, i));
    if (r->torus_exchange_latency) {
      printf(",");
      print_quantiles("exchange_latency", &r->torus_exchange_latency[i], 1);
    }
    printf("}");
  }
  printf("],\"ranks\":%u,\"per_rank\":[", r->ranks);
  for (uint32_t i = 0; i < r->ranks && r->rank; i++) {
    const braid_rank_report *k = &r->rank[i];
    printf("%s{\"rank\":%u,\"host\":%s,\"first_torus\":%u,\"tori\":%u,\"threads\":%u,\"events\":%llu,\"wall_seconds\":%.6f,"
           "\"events_per_second\":%.0f,\"mpi_wait_seconds\":%.6f,\"cpu_user_seconds\":%.6f,\"cpu_sys_seconds\":%.6f,",
           i ? "," : "", k->rank, cli_json(k->host), k->first_torus, k->tori, k->threads, (unsigned long long)k->events, k->wall_seconds,
           k->events_per_second, k->mpi_wait_seconds, k->cpu_user_seconds, k->cpu_sys_seconds);
    print_quantiles("exchange_latency", &k->exchange_latency, 0);
    print_quantiles("handover", &k->handover, 1);
    printf("}");
  }
  printf("],");
  print_quantiles("event_latency", &r->event_latency, 0);
  print_quantiles("exchange_latency", &r->exchange_latency, 0);
  print_quantiles("barrier_wait", &r->barrier_wait, 0);
  print_quantiles("handover", &r->handover, 0);
  printf("\"checked_cells\":%llu,\"boundary_violations\":%llu,\"violation_rate\":%.8f,", (unsigned long long)r->checked_cells,
         (unsigned long long)r->boundary_violations, r->violation_rate);
  printf("\"convergence\":{\"rule\":\"%s\",", CONVERGENCE_RULE);
  if (r->convergence_exchange >= 0) printf("\"from_exchange\":%lld,", (long long)r->convergence_exchange);
  else printf("\"from_exchange\":null,");
  printf("\"per_torus\":[");
  for (uint32_t i = 0; i < r->tori && r->convergence; i++) {
    const braid_convergence *c = &r->convergence[i];
    const char *kind = perturbation_name(c->perturbation);
    printf("%s{\"torus\":%u,\"perturbation\":%s%s%s,", i ? "," : "", i, kind ? "\"" : "", kind ? kind : "null", kind ? "\"" : "");
    if (c->perturbed_exchange >= 0) printf("\"perturbed_exchange\":%lld,", (long long)c->perturbed_exchange);
    else printf("\"perturbed_exchange\":null,");
    if (c->converged_exchange >= 0)
      printf("\"converged_exchange\":%lld,\"exchanges\":%lld}", (long long)c->converged_exchange, (long long)c->exchanges);
    else printf("\"converged_exchange\":null,\"exchanges\":null}");
  }
  printf("]},");
  printf("\"model_checks\":{\"failed\":%llu,\"stopped_run\":%s,\"first\":", (unsigned long long)r->check_failures, r->check_stopped ? "true" : "false");
  if (r->first_check_exchange < 0) printf("null},");
  else
    printf("{\"exchange\":%lld,\"torus\":%u,\"event\":%llu,\"cell\":%u,\"code\":%u,\"message\":%s}},", (long long)r->first_check_exchange,
           r->first_check_torus, (unsigned long long)r->first_check_event, r->first_check_cell, r->first_check_code, cli_json(r->first_check_message));
  uint32_t flo, fhi;
  final_intervals(r, &flo, &fhi);
  printf("\"interval\":{\"min\":%u,\"max\":%u,\"final_min\":%u,\"final_max\":%u,\"changes\":%llu},", r->interval_min_seen, r->interval_max_seen,
         flo, fhi, (unsigned long long)r->interval_changes);
  uint32_t nt = r->threads ? r->threads : 1;
  printf("\"cpu_seconds\":%.6f,\"cpu_user_seconds\":%.6f,\"cpu_sys_seconds\":%.6f,", r->cpu_user_seconds + r->cpu_sys_seconds,
         r->cpu_user_seconds, r->cpu_sys_seconds);
  print_seconds("thread_cpu_seconds", r->thread_cpu_seconds, nt);
  print_seconds("thread_cpu_user_seconds", r->thread_cpu_user_seconds, nt);
  print_seconds("thread_cpu_sys_seconds", r->thread_cpu_sys_seconds, nt);
  printf("\"rss_kib\":{\"start\":%llu,\"peak\":%llu,\"end\":%llu},", (unsigned long long)r->rss_start_kib, (unsigned long long)r->rss_peak_kib,
         (unsigned long long)r->rss_end_kib);
  printf("\"trace\":%s,\"trace_bytes\":%llu}\n", trace ? cli_json(trace) : "null", (unsigned long long)r->trace_bytes);
}

/* One run of the hunt: recorded to `out`, nothing printed; its report in
 * *rep.  A signal ends the hunt (130/143). */
static void hunt_run(braid_config *cfg, const char *out, const injection *inj, const char **injects, unsigned ninjects, braid_report *rep)
{
  char err[512];
  braid_runtime *rt;
  if (braid_runtime_create(&rt, cfg, err, sizeof err)) cli_die("%s", err);
  if (braid_runtime_record(rt, out)) cli_die("%s", braid_runtime_error(rt));
  for (unsigned i = 0; i < ninjects; i++) {
    int rc = braid_inject(rt, inj[i].torus, inj[i].cell, inj[i].payload, inj[i].exchange);
    if (rc) cli_die("--inject: '%s': %s", injects[i], braid_strerror(rc));
  }
  g_rt = rt;
  int rc = braid_runtime_run(rt);
  g_rt = NULL;
  if (rc && rc != BRAID_EINTR) cli_die("%s", braid_runtime_error(rt));
  braid_runtime_report(rt, rep);
  rep->torus = NULL;
  rep->convergence = NULL;
  braid_runtime_destroy(rt);
  if (rc == BRAID_EINTR) {
    fprintf(stderr, "%s: interrupted by %s; the trace of the last run is finalised\n", cli_prog, g_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    exit(g_signal == SIGTERM ? 143 : 130);
  }
}

/* --repeat N: race hunting (DESIGN 13).  Runs the configuration threaded
 * under N chaos seeds (from --chaos, default 1, counting up), replays each
 * trace -- a sequential re-execution compared exchange by exchange -- and
 * stops at the first that diverges, which stays in `out` for braid-replay
 * and braid-shrink --divergence.  Exit 1 then, 0 when none diverged (out
 * holds the last run). */
static int hunt(braid_config *cfg, const char *out, const injection *inj, const char **injects, unsigned ninjects, uint64_t repeat, int json,
                int quiet)
{
  if (!out) cli_die("--repeat: give -o TRACE to keep the diverging run");
  if (g_mpi) cli_die("--repeat: not under --mpi (each hunted run would be an MPI job of its own)");
  if (!strcmp(braid_config_get(cfg, "sequential"), "1")) cli_die("--repeat: the sequential executor cannot race; hunting needs threads");
  uint64_t base = strtoull(braid_config_get(cfg, "chaos"), NULL, 10);
  if (!base) base = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  for (uint64_t i = 0; i < repeat; i++) {
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)(base + i));
    set(cfg, "--chaos", "chaos", num);
    braid_report rep;
    hunt_run(cfg, out, inj, injects, ninjects, &rep);
    braid_replay_opts o;
    braid_replay_opts_init(&o);
    braid_replay_result res;
    char err[1024];
    if (braid_replay(out, &o, &res, err, sizeof err)) cli_die("%s", err);
    if (!quiet && !json && isatty(2)) fprintf(stderr, "\r%s: run %llu of %llu (chaos %s): %s  ", cli_prog, (unsigned long long)i + 1, (unsigned long long)repeat, num,
                                              res.diverged ? "diverged" : "same as sequential");
    if (res.diverged) {
      if (!quiet && !json && isatty(2)) fprintf(stderr, "\n");
      if (json)
        printf("{\"hunt\":{\"runs\":%llu,\"repeat\":%llu,\"diverged\":true,\"chaos\":%s,\"exchange\":%llu,\"torus\":%lld,\"record\":%s,\"trace\":%s}}\n",
               (unsigned long long)i + 1, (unsigned long long)repeat, num, (unsigned long long)res.div.exchange, (long long)res.div.torus,
               cli_json(res.div.record), cli_json(out));
      else if (!quiet)
        printf("%s: run %llu of %llu (--chaos %s) diverged from sequential execution at exchange %llu (%s.%s); its trace is %s\n", cli_prog,
               (unsigned long long)i + 1, (unsigned long long)repeat, num, (unsigned long long)res.div.exchange, res.div.record, res.div.field, out);
      return EXIT_DIFFERENT;
    }
  }
  if (!quiet && !json && isatty(2)) fprintf(stderr, "\n");
  if (json)
    printf("{\"hunt\":{\"runs\":%llu,\"repeat\":%llu,\"diverged\":false,\"trace\":%s}}\n", (unsigned long long)repeat, (unsigned long long)repeat,
           cli_json(out));
  else if (!quiet)
    printf("%s: no divergence in %llu runs (--chaos %llu..%llu); %s holds the last\n", cli_prog, (unsigned long long)repeat,
           (unsigned long long)base, (unsigned long long)(base + repeat - 1), out);
  return EXIT_SAME;
}

int main(int argc, char **argv)
{
  cli_prog = "braid-record";
  enum { O_SEQ = 256, O_DURATION, O_IMIN, O_IMAX, O_ADAPT, O_THRESH, O_TOL, O_FAIL, O_HB, O_CHAOS, O_CKPT, O_TEV, O_SET, O_LSET, O_LMOD, O_JSON, O_PLUGIN, O_INJECT, O_CHECK_STOP, O_REPEAT, O_MPI };
  static const struct option opts[] = {
    { "model", 1, 0, 'm' }, { "model-plugin", 1, 0, O_PLUGIN }, { "param", 1, 0, 'p' }, { "seed", 1, 0, 's' }, { "tori", 1, 0, 'n' },
    { "dim", 1, 0, 'd' }, { "threads", 1, 0, 't' }, { "sequential", 0, 0, O_SEQ }, { "exchanges", 1, 0, 'x' }, { "events", 1, 0, 'e' },
    { "duration", 1, 0, O_DURATION }, { "interval", 1, 0, 'i' }, { "interval-min", 1, 0, O_IMIN }, { "interval-max", 1, 0, O_IMAX },
    { "adapt", 1, 0, O_ADAPT }, { "threshold", 1, 0, O_THRESH }, { "tolerance", 1, 0, O_TOL }, { "fail", 1, 0, O_FAIL }, { "inject", 1, 0, O_INJECT },
    { "heartbeat-ms", 1, 0, O_HB }, { "chaos", 1, 0, O_CHAOS }, { "checkpoint-every", 1, 0, O_CKPT }, { "trace-events", 0, 0, O_TEV }, { "check-stop", 0, 0, O_CHECK_STOP }, { "repeat", 1, 0, O_REPEAT },
    { "set", 1, 0, O_SET }, { "list-settings", 0, 0, O_LSET }, { "list-models", 0, 0, O_LMOD }, { "output", 1, 0, 'o' },
    { "json", 0, 0, O_JSON }, { "mpi", 0, 0, O_MPI }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  /* --mpi starts MPI before anything else, so that every rank reads the
   * same options; the ranks but 0 keep quiet (rank 0 says what they would
   * say: every rank has the same options) until the run starts. */
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "--mpi")) g_mpi = 1;
  int saved_stderr = -1;
  if (g_mpi) {
    int ranks;
    if (braid_mpi_init(&argc, &argv, &g_rank, &ranks) == BRAID_EUNSUPPORTED)
      cli_die("--mpi: built without MPI support (configure found no MPI: install libopenmpi-dev openmpi-bin and configure again)");
    if (g_rank != 0 && (saved_stderr = dup(2)) >= 0 && !freopen("/dev/null", "w", stderr)) saved_stderr = -1;
  }
  braid_config *cfg;
  if (braid_config_create(&cfg)) cli_die("out of memory");
  const char *out = NULL, *plugin = NULL, *model = NULL; /* model: the option that named a built-in one */
  int json = 0, quiet = 0, c, x_given = 0, list = 0; /* x_given: an -x after any --duration */
  const char *threads_opt = NULL, *seq_opt = NULL;    /* the options that set them, for a conflict */
  uint64_t events = 0, repeat = 0;
  const char *params[32];
  unsigned nparams = 0;
  const char *injects[256];
  injection inj[256];
  unsigned ninjects = 0;
  char fails[1024] = "", num[32];
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":m:p:s:n:d:t:x:e:i:o:qhV", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      set(cfg, "--model", "model", optarg);
      model = "--model";
      break;
    case O_PLUGIN: plugin = optarg; break;
    case 'p':
      if (!strchr(optarg, '=')) cli_die("--param: '%s' is not KEY=VALUE", optarg);
      if (nparams == sizeof params / sizeof params[0]) cli_die("--param: too many parameters");
      params[nparams++] = optarg; /* checked once the model is known */
      break;
    case 's': set(cfg, "--seed", "seed", optarg); break;
    case 'n': set(cfg, "--tori", "tori", optarg); break;
    case 'd': set(cfg, "--dim", "dim", optarg); break;
    case 't':
      set(cfg, "--threads", "threads", optarg);
      threads_opt = "--threads";
      break;
    case O_SEQ:
      set(cfg, "--sequential", "sequential", "1");
      seq_opt = "--sequential";
      break;
    case 'x':
      set(cfg, "--exchanges", "exchanges", optarg);
      x_given = 1;
      break;
    case 'e':
      events = cli_u64("--events", optarg, 1, INT64_MAX);
      set(cfg, "--events", "events", optarg);
      break;
    case O_DURATION: {
      double s = seconds("--duration", optarg);
      snprintf(num, sizeof num, "%llu", (unsigned long long)(s * 1000 + 0.5));
      set(cfg, "--duration", "duration_ms", num);
      set(cfg, "--duration", "exchanges", DURATION_EXCHANGES);
      x_given = 0;
      break;
    }
    case 'i': set(cfg, "--interval", "interval", optarg); break;
    case O_IMIN: set(cfg, "--interval-min", "interval_min", optarg); break;
    case O_IMAX: set(cfg, "--interval-max", "interval_max", optarg); break;
    case O_ADAPT: set(cfg, "--adapt", "adapt", optarg); break;
    case O_THRESH: set(cfg, "--threshold", "adapt_threshold_ppm", optarg); break;
    case O_TOL: set(cfg, "--tolerance", "tolerance", optarg); break;
    case O_FAIL:
      /* The library takes "" as no failures; here it is a mistake. */
      if (!*optarg) cli_die("--fail: empty value (TORUS@EXCHANGE, e.g. B@1200)");
      set(cfg, "--fail", "fail", optarg); /* a message about this value alone */
      if (strlen(fails) + strlen(optarg) + 2 > sizeof fails) cli_die("--fail: too many failures");
      if (fails[0]) strcat(fails, ",");
      strcat(fails, optarg);
      set(cfg, "--fail", "fail", fails);
      break;
    case O_INJECT:
      if (ninjects == sizeof injects / sizeof injects[0]) cli_die("--inject: at most 256 injections");
      injects[ninjects++] = optarg; /* checked once the run's shape is known */
      break;
    case O_HB: set(cfg, "--heartbeat-ms", "heartbeat_ms", optarg); break;
    case O_CHAOS: set(cfg, "--chaos", "chaos", optarg); break;
    case O_CKPT: set(cfg, "--checkpoint-every", "checkpoint_every", optarg); break;
    case O_TEV: set(cfg, "--trace-events", "trace_events", "1"); break;
    case O_CHECK_STOP: set(cfg, "--check-stop", "check_stop", "1"); break;
    case O_REPEAT: repeat = cli_u64("--repeat", optarg, 1, 1000000); break;
    case O_SET: {
      char kv[256];
      snprintf(kv, sizeof kv, "%s", optarg);
      char *eq = strchr(kv, '=');
      if (!eq) cli_die("--set: '%s' is not KEY=VALUE", optarg);
      *eq = 0;
      set(cfg, "--set", kv, eq + 1);
      if (!strcmp(kv, "model")) model = "--set model";
      if (!strcmp(kv, "threads")) threads_opt = "--set threads";
      if (!strcmp(kv, "sequential")) seq_opt = "--set sequential";
      break;
    }
    case O_LSET:
      fputs(braid_config_describe(), stdout);
      braid_config_destroy(cfg);
      return 0;
    case O_LMOD: list = 1; break;
    case 'o': out = optarg; break;
    case O_JSON: json = 1; break;
    case O_MPI: break; /* seen above */
    case 'q': quiet = 1; break;
    case 'h':
      usage(stdout);
      braid_config_destroy(cfg);
      return 0;
    case 'V': cli_version();
    case ':':
    default: cli_bad_option(c, argv, opts);
    }
  }
  if (optind < argc) cli_die("unexpected argument '%s' (see --help)", argv[optind]);
  if (list) {
    list_models(plugin);
    braid_config_destroy(cfg);
    return 0;
  }
  /* Either would silently give way to the other. */
  if (plugin && model) cli_die("%s and --model-plugin both name the model: give one of them", model);
  char nthreads[32]; /* braid_config_get() reuses its buffer */
  snprintf(nthreads, sizeof nthreads, "%s", braid_config_get(cfg, "threads"));
  if (threads_opt && seq_opt && strcmp(nthreads, "0") && !strcmp(braid_config_get(cfg, "sequential"), "1"))
    cli_die("%s and %s %s conflict: the sequential executor runs every torus on the calling thread; give one of them", seq_opt, threads_opt, nthreads);
  if (plugin) {
    const braid_model *m;
    char err[512];
    if (braid_model_load(plugin, &m, err, sizeof err)) cli_die("--model-plugin: %s", err);
    if (braid_config_set_model(cfg, m)) cli_die("--model-plugin: %s", braid_config_error(cfg));
  }
  for (unsigned i = 0; i < nparams; i++) {
    char kv[256];
    snprintf(kv, sizeof kv, "%s", params[i]);
    char *eq = strchr(kv, '=');
    *eq = 0;
    if (braid_config_set_param(cfg, kv, eq + 1)) cli_die("--param: %s", braid_config_error(cfg));
  }
  /* The events end the run (or -x, or the clock, whichever comes first). */
  if (events && !x_given) set(cfg, "--events", "exchanges", DURATION_EXCHANGES);
  uint32_t tori = (uint32_t)strtoul(braid_config_get(cfg, "tori"), NULL, 10);
  /* The library starts one worker per torus at most. */
  if (!quiet && strtoul(nthreads, NULL, 10) > tori && strcmp(braid_config_get(cfg, "sequential"), "1"))
    fprintf(stderr, "%s: note: %s %s with %u tori: a torus runs on one thread at a time, so %u worker threads are started\n", cli_prog,
            threads_opt ? threads_opt : "threads", nthreads, tori, tori);
  uint64_t dim = strtoull(braid_config_get(cfg, "dim"), NULL, 10);
  uint64_t exchanges = strtoull(braid_config_get(cfg, "exchanges"), NULL, 10);
  check_fails(fails, tori, exchanges);
  for (unsigned i = 0; i < ninjects; i++) inj[i] = parse_inject(injects[i], tori, dim * dim * dim, exchanges);
  if (repeat) {
    int st = hunt(cfg, out, inj, injects, ninjects, repeat, json, quiet);
    braid_config_destroy(cfg);
    return st;
  }
  /* The handlers come before the trace file: a signal from here on ends the
   * run with a finalised trace (of its first exchange, at the earliest), never
   * kills it between the file's creation and the run.  SA_RESTART: the
   * trace's creation (a FIFO's open waits for its reader) goes on. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  char err[512];
  braid_runtime *rt;
  if (braid_runtime_create(&rt, cfg, err, sizeof err)) cli_die("%s", err);
  g_rt = rt;
  if (g_signal) braid_runtime_stop(rt);
  if (g_mpi) {
    /* Every rank fails alike here: all of them finish MPI and exit 2. */
    if (braid_runtime_mpi(rt, err, sizeof err)) {
      if (g_rank == 0) fprintf(stderr, "%s: %s\n", cli_prog, err);
      braid_mpi_finalize();
      exit(EXIT_TROUBLE);
    }
  }
  /* Under MPI rank 0 writes the trace; the others send it their records. */
  if (out && g_rank == 0 && braid_runtime_record(rt, out)) {
    if (g_mpi) {
      fprintf(stderr, "%s: %s\n", cli_prog, braid_runtime_error(rt));
      braid_mpi_abort(EXIT_TROUBLE);
    }
    cli_die("%s", braid_runtime_error(rt));
  }
  for (unsigned i = 0; i < ninjects; i++) {
    int rc = braid_inject(rt, inj[i].torus, inj[i].cell, inj[i].payload, inj[i].exchange);
    if (rc) cli_die("--inject: '%s': %s", injects[i], braid_strerror(rc));
  }
  progress pr = { .rt = rt, .lock = PTHREAD_MUTEX_INITIALIZER, .total = exchanges, .events = events };
  pr.seconds = (double)strtoull(braid_config_get(cfg, "duration_ms"), NULL, 10) / 1000;
  if ((pr.seconds > 0 || events) && !strcmp(braid_config_get(cfg, "exchanges"), DURATION_EXCHANGES)) pr.total = 0;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&pr.cond, &ca);
  pthread_condattr_destroy(&ca);
  clock_gettime(CLOCK_MONOTONIC, &pr.start);
  pthread_t pth;
  if (saved_stderr >= 0) { /* what a rank says from now on is its own */
    dup2(saved_stderr, 2);
    close(saved_stderr);
  }
  int show = !quiet && !json && g_rank == 0 && isatty(2) && !pthread_create(&pth, NULL, progress_main, &pr);
  int rc = braid_runtime_run(rt);
  if (show) {
    pthread_mutex_lock(&pr.lock);
    pr.done = 1;
    pthread_cond_signal(&pr.cond);
    pthread_mutex_unlock(&pr.lock);
    pthread_join(pth, NULL);
  }
  pthread_cond_destroy(&pr.cond);
  if (rc && rc != BRAID_EINTR) {
    if (!g_mpi) cli_die("%s", braid_runtime_error(rt));
    /* Rank 0 names the rank that failed and has finished the trace: it
     * ends the job; the others wait in MPI_Finalize for that. */
    if (g_rank == 0) {
      fprintf(stderr, "%s: %s\n", cli_prog, braid_runtime_error(rt));
      fflush(stderr);
      braid_mpi_abort(EXIT_TROUBLE);
    }
    braid_mpi_finalize();
    exit(EXIT_TROUBLE);
  }
  braid_report rep;
  braid_runtime_report(rt, &rep);
  if (g_rank == 0) {
    if (json) print_json(&rep, out, rc, events);
    else if (!quiet) print_text(&rep, out, events, out && !strcmp(braid_config_get(cfg, "trace_events"), "1"));
  }
  fflush(stdout);
  g_rt = NULL; /* a late signal must not reach a freed runtime */
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);
  if (g_mpi) braid_mpi_finalize();
  if (rc == BRAID_EINTR) {
    /* rep.exchanges counts them; the last one is numbered one less. */
    const char *sig = g_signal == SIGTERM ? "SIGTERM" : g_signal == SIGINT ? "SIGINT" : "a signal to another rank", *fin = out ? "; trace finalised" : "";
    if (g_rank != 0) return g_signal == SIGTERM ? 143 : 130;
    if (rep.exchanges) fprintf(stderr, "%s: interrupted by %s after exchange %llu%s\n", cli_prog, sig, (unsigned long long)rep.exchanges - 1, fin);
    else fprintf(stderr, "%s: interrupted by %s before the first exchange%s\n", cli_prog, sig, fin);
    return g_signal == SIGINT ? 130 : 143;
  }
  return rep.check_failures ? EXIT_DIFFERENT : EXIT_SAME;
}
