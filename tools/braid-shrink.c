/* braid-shrink.c - from a trace that shows a failure to the smallest run
 * that still shows it, and the braid-record command line of that run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-shrink [options] TRACE [-o SMALL]\n"
          "Finds the smallest run that shows the failure TRACE shows: a failed model check,\n"
          "a queue overflow, a torus failed by the heartbeat, a boundary deviation above\n"
          "--deviation, or with --divergence a difference between threaded and sequential runs.\n\n"
          "  -o, --output SMALL        write the small run's trace here\n"
          "      --model-plugin PATH[:SYMBOL]  the plugin the trace was recorded with\n"
          "      --deviation N         the failure is a boundary deviation above N\n"
          "      --divergence          the failure is a divergence (judged on threaded runs)\n"
          "      --tries N             chaos seeds per candidate for a divergence (default 8)\n"
          "      --threads N           worker threads of those runs (default 2)\n"
          "      --seeds               also try other seeds\n"
          "      --max-runs N          runs in all (default 200)\n"
          "      --max-seconds S       wall time in all (default 600)\n"
          "      --run-seconds S       limit of one run; a run over it does not count as failing (default 60)\n"
          "      --json                print the result as one JSON document\n"
          "  -q, --quiet               no progress line\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 it shrank, 1 nothing to shrink or nothing smaller fails, 2 trouble.\n");
}

static const char *kind_name(braid_shrink_kind k)
{
  switch (k) {
  case BRAID_SHRINK_CHECK: return "check";
  case BRAID_SHRINK_OVERFLOW: return "overflow";
  case BRAID_SHRINK_FAILED: return "failed_torus";
  case BRAID_SHRINK_DEVIATION: return "deviation";
  case BRAID_SHRINK_DIVERGENCE: return "divergence";
  default: return "none";
  }
}

static int width;

/* The progress line, redrawn after each run (stderr, on a terminal). */
static void progress(void *ud, const char *trying, const braid_shrink_result *r)
{
  (void)ud;
  char line[256];
  const braid_shrink_shape *b = &r->after;
  (void)b;
  int n = snprintf(line, sizeof line, "%s: run %llu, %.1f s: tried %s", cli_prog, (unsigned long long)r->runs, r->seconds, trying);
  if (n > 150) n = 150, line[150] = 0;
  fprintf(stderr, "\r%s%*s", line, width > n ? width - n : 0, "");
  if (n > width) width = n;
}

static double seconds_opt(const char *opt, const char *text)
{
  char *end;
  double v = strtod(text, &end);
  if (!*text || *end || !(v > 0) || v > 1e9) cli_die("%s: '%s' is not a positive number of seconds", opt, text);
  return v;
}

static void shape_json(const char *name, const braid_shrink_shape *s)
{
  printf("\"%s\":{\"exchanges\":%llu,\"tori\":%u,\"dim\":%u,\"interval\":%u,\"interval_min\":%u,\"injections\":%u,\"faults\":%u,\"events\":%llu,"
         "\"seed\":%llu,\"failure_exchange\":%llu}",
         name, (unsigned long long)s->exchanges, s->tori, s->dim, s->interval, s->interval_min, s->injections, s->faults, (unsigned long long)s->events,
         (unsigned long long)s->seed, (unsigned long long)s->failure_exchange);
}

static void print_json(const braid_shrink_result *r, const char *out)
{
  printf("{\"failure\":{\"kind\":\"%s\",\"text\":%s},\"shrank\":%s,", kind_name(r->kind), cli_json(r->failure), r->shrank ? "true" : "false");
  shape_json("before", &r->before);
  printf(",");
  shape_json("after", &r->after);
  printf(",\"runs\":%llu,\"seconds\":%.3f,\"timeouts\":%llu,\"limit\":%s,", (unsigned long long)r->runs, r->seconds, (unsigned long long)r->timeouts,
         r->limit == 1 ? "\"max_runs\"" : r->limit == 2 ? "\"max_seconds\"" : "null");
  if (r->kind == BRAID_SHRINK_DIVERGENCE || r->kind == BRAID_SHRINK_FAILED)
    printf("\"tries\":%u,\"reproduced\":%u,\"chaos\":%llu,", r->tries, r->reproduced, (unsigned long long)r->chaos);
  printf("\"command\":%s,", r->command[0] ? cli_json(r->command) : "null");
  printf("\"output\":%s,", out && r->command[0] ? cli_json(out) : "null");
  printf("\"note\":%s}\n", r->note[0] ? cli_json(r->note) : "null");
}

static void row(const char *name, unsigned long long a, unsigned long long b)
{
  printf("  %-18s %llu -> %llu\n", name, a, b);
}

static void print_text(const braid_shrink_result *r)
{
  printf("failure: %s\n", r->failure);
  const braid_shrink_shape *a = &r->before, *b = &r->after;
  if (r->shrank) printf("shrank in %llu runs, %.1f s", (unsigned long long)r->runs, r->seconds);
  else printf("nothing smaller fails (%llu runs, %.1f s)", (unsigned long long)r->runs, r->seconds);
  if (r->limit) printf(", stopped by %s: the best so far", r->limit == 1 ? "--max-runs" : "--max-seconds");
  if (r->timeouts) printf(", %llu runs over --run-seconds", (unsigned long long)r->timeouts);
  printf("\n");
  row("exchanges", a->exchanges, b->exchanges);
  row("tori", a->tori, b->tori);
  row("dim", a->dim, b->dim);
  row("interval", a->interval, b->interval);
  row("injections", a->injections, b->injections);
  row("faults", a->faults, b->faults);
  row("events", a->events, b->events);
  row("failure at exchange", a->failure_exchange, b->failure_exchange);
  if (a->seed != b->seed) row("seed", a->seed, b->seed);
  if (r->kind == BRAID_SHRINK_DIVERGENCE || r->kind == BRAID_SHRINK_FAILED)
    printf("judged on threaded runs under chaos seeds: the small run showed it in %u of %u runs with --chaos %llu\n", r->reproduced, r->tries,
           (unsigned long long)r->chaos);
  else printf("judged on sequential runs (deterministic)\n");
  if (r->note[0]) printf("note: %s\n", r->note);
  if (r->command[0]) printf("reproduce with:\n  %s\n", r->command);
}

int main(int argc, char **argv)
{
  cli_prog = "braid-shrink";
  enum { O_PLUGIN = 256, O_DEV, O_DIV, O_TRIES, O_THREADS, O_SEEDS, O_MAXRUNS, O_MAXSEC, O_RUNSEC, O_JSON };
  static const struct option opts[] = {
    { "output", 1, 0, 'o' }, { "model-plugin", 1, 0, O_PLUGIN }, { "deviation", 1, 0, O_DEV }, { "divergence", 0, 0, O_DIV },
    { "tries", 1, 0, O_TRIES }, { "threads", 1, 0, O_THREADS }, { "seeds", 0, 0, O_SEEDS }, { "max-runs", 1, 0, O_MAXRUNS },
    { "max-seconds", 1, 0, O_MAXSEC }, { "run-seconds", 1, 0, O_RUNSEC }, { "json", 0, 0, O_JSON }, { "quiet", 0, 0, 'q' },
    { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  braid_shrink_opts o;
  braid_shrink_opts_init(&o);
  int c, json = 0, quiet = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:qhV", opts, NULL)) != -1) {
    switch (c) {
    case 'o': o.out = optarg; break;
    case O_PLUGIN: {
      char err[512];
      if (braid_model_load(optarg, &o.model, err, sizeof err)) cli_die("--model-plugin: %s", err);
      o.model_spec = optarg;
      break;
    }
    case O_DEV: o.deviation = cli_u64("--deviation", optarg, 0, UINT64_MAX - 1); break;
    case O_DIV: o.divergence = 1; break;
    case O_TRIES: o.tries = (unsigned)cli_u64("--tries", optarg, 1, 1000); break;
    case O_THREADS: o.threads = (uint32_t)cli_u64("--threads", optarg, 1, 64); break;
    case O_SEEDS: o.seeds = 1; break;
    case O_MAXRUNS: o.max_runs = cli_u64("--max-runs", optarg, 1, UINT64_MAX - 1); break;
    case O_MAXSEC: o.max_seconds = seconds_opt("--max-seconds", optarg); break;
    case O_RUNSEC: o.run_seconds = seconds_opt("--run-seconds", optarg); break;
    case O_JSON: json = 1; break;
    case 'q': quiet = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    case ':':
    default: cli_bad_option(c, argv, opts);
    }
  }
  const char *path = cli_one_trace(argc, argv);
  if (o.deviation && o.divergence) cli_die("--deviation and --divergence name different failures: give one of them");
  cli_need_file(path);
  struct stat sin, sout;
  if (o.out && stat(o.out, &sout) == 0 && stat(path, &sin) == 0 && sin.st_dev == sout.st_dev && sin.st_ino == sout.st_ino)
    cli_die("%s: the output %s is the same file as the trace; write the small run to another file", path, o.out);
  int show = !quiet && !json && isatty(2);
  if (show) {
    o.progress = progress;
    o.ud = NULL;
  }
  braid_shrink_result res;
  char err[1024];
  int rc = braid_shrink(path, &o, &res, err, sizeof err);
  if (show && width) fprintf(stderr, "\r%*s\r", width, "");
  if (rc) cli_die("%s", err);
  if (json) print_json(&res, o.out);
  else if (res.kind == BRAID_SHRINK_NONE) printf("%s: %s\n", path, res.note);
  else print_text(&res);
  return res.kind != BRAID_SHRINK_NONE && res.shrank ? EXIT_SAME : EXIT_DIFFERENT;
}
