/* braid-replay.c - re-run a trace single-threaded and check every exchange. */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

/* rr as configure found it, else from PATH; BRAID_RR overrides both. */
#ifdef BRAID_RR_PATH
#define BRAID_RR_DEFAULT BRAID_RR_PATH
#else
#define BRAID_RR_DEFAULT "rr"
#endif

static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-replay [options] TRACE\n"
          "Re-runs TRACE single-threaded, following its recorded decisions, and checks\n"
          "every exchange against the recording.\n\n"
          "      --until K             stop after exchange K\n"
          "      --violation N         stop at the Nth boundary check with violations; show its cells\n"
          "      --from K              start from the last checkpoint at or before exchange K\n"
          "      --break               call braid_debug_break() at the stop point (for gdb or rr)\n"
          "      --rr                  run the replay under 'rr record' (where rr can record)\n"
          "  -o, --output OUT          also write the replay's own trace to OUT\n"
          "      --model-plugin PATH[:SYMBOL]  the plugin the trace was recorded with\n"
          "      --force               replay despite another semantics version or another plugin file\n"
          "      --partial             accept a truncated trace and replay its complete exchanges\n"
          "  -q, --quiet               print nothing; the exit status tells\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 the replay matches the recording, 1 it diverged, 2 trouble.\n");
}

/* The exchanges the replay compared, "exchange A" or "exchanges A..B";
 * n > 0. */
static void print_range(uint64_t first, uint64_t n)
{
  if (n == 1) printf("exchange %llu", (unsigned long long)first);
  else printf("exchanges %llu..%llu", (unsigned long long)first, (unsigned long long)(first + n - 1));
}

/* First line of what `rr record true` says on stderr, and its status: rr
 * refuses to record at all where the CPU's performance counters are not
 * supported, and that line says why. */
static int rr_probe(const char *rr, char *why, size_t len)
{
  int fd[2];
  why[0] = 0;
  if (pipe(fd)) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(fd[1], 2);
    close(fd[0]);
    execlp(rr, rr, "record", "true", (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  char line[512];
  while (f && fgets(line, sizeof line, f))
    if (!why[0]) snprintf(why, len, "%s", line);
  if (f) fclose(f);
  int st;
  while (waitpid(pid, &st, 0) < 0) {}
  why[strcspn(why, "\n")] = 0;
  /* "[FATAL src/file.h:114:function()] reason": keep the reason. */
  if (why[0] == '[' && strstr(why, "] ")) memmove(why, strstr(why, "] ") + 2, strlen(strstr(why, "] ") + 2) + 1);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --rr: re-executes this replay under `rr record` when rr can record here. */
static void run_under_rr(int argc, char **argv)
{
  const char *rr = getenv("BRAID_RR") && *getenv("BRAID_RR") ? getenv("BRAID_RR") : BRAID_RR_DEFAULT;
  char why[512];
  int st = rr_probe(rr, why, sizeof why);
  if (st == 127) cli_die("--rr: cannot run '%s' (install rr, or set BRAID_RR to its path)", rr);
  if (st) cli_die("--rr: rr cannot record on this machine (%s); replay without --rr, or with --break under gdb", why[0] ? why : "'rr record true' failed");
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) cli_die("--rr: cannot find this program: %s", strerror(errno));
  self[n] = 0;
  char **args = calloc((size_t)argc + 3, sizeof *args);
  if (!args) cli_die("out of memory");
  int k = 0;
  args[k++] = (char *)rr;
  args[k++] = "record";
  args[k++] = self;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--rr")) args[k++] = argv[i];
  fflush(stdout);
  execvp(rr, args);
  cli_die("--rr: cannot run '%s': %s", rr, strerror(errno));
}

int main(int argc, char **argv)
{
  cli_prog = "braid-replay";
  enum { O_UNTIL = 256, O_VIOL, O_FROM, O_BREAK, O_RR, O_PLUGIN, O_FORCE, O_PARTIAL };
  static const struct option opts[] = {
    { "until", 1, 0, O_UNTIL }, { "violation", 1, 0, O_VIOL }, { "from", 1, 0, O_FROM }, { "break", 0, 0, O_BREAK }, { "rr", 0, 0, O_RR },
    { "output", 1, 0, 'o' }, { "model-plugin", 1, 0, O_PLUGIN }, { "force", 0, 0, O_FORCE }, { "partial", 0, 0, O_PARTIAL }, { "quiet", 0, 0, 'q' },
    { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  int c, quiet = 0, rr = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:qhV", opts, NULL)) != -1) {
    switch (c) {
    case O_UNTIL: o.until = cli_u64("--until", optarg, 0, UINT64_MAX - 1); break;
    case O_VIOL: o.violation = cli_u64("--violation", optarg, 1, UINT64_MAX - 1); break;
    case O_FROM: o.from = cli_u64("--from", optarg, 0, UINT64_MAX - 1); break;
    case O_BREAK: o.do_break = 1; break;
    case O_RR: rr = 1; break;
    case 'o': o.out = optarg; break;
    case O_PLUGIN: {
      char err[512];
      if (braid_model_load(optarg, &o.model, err, sizeof err)) cli_die("--model-plugin: %s", err);
      break;
    }
    case O_FORCE: o.force = 1; break;
    case O_PARTIAL: o.partial = 1; break;
    case 'q': quiet = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    case ':':
    default: cli_bad_option(c, argv, opts);
    }
  }
  if (o.until != UINT64_MAX && o.from != UINT64_MAX && o.until < o.from)
    cli_die("--until %llu is before --from %llu: nothing to replay", (unsigned long long)o.until, (unsigned long long)o.from);
  if (optind != argc - 1) cli_die(optind == argc ? "no trace given (see --help)" : "more than one trace given (see --help)");
  const char *path = argv[optind];
  cli_need_file(path);
  if (rr) run_under_rr(argc, argv);
  braid_replay_result res;
  char err[1024];
  int rc = braid_replay(path, &o, &res, err, sizeof err);
  if (rc) cli_die("%s", err);
  if (quiet) return res.diverged ? EXIT_DIFFERENT : EXIT_SAME;
  if (res.warning[0]) fprintf(stderr, "%s: warning: %s\n", cli_prog, res.warning);
  /* From a checkpoint, the exchanges before it are not counted (a trace may
   * even start there). */
  if ((res.truncated || res.status != BRAID_TRACE_COMPLETE) && res.first_exchange)
    fprintf(stderr, "%s: note: the trace is %s%s; replaying from the checkpoint up to its last complete exchange, %llu\n", cli_prog,
            cli_status_name(res.status), res.truncated ? " and truncated" : "", (unsigned long long)(res.trace_exchanges - 1));
  else if (res.truncated || res.status != BRAID_TRACE_COMPLETE)
    fprintf(stderr, "%s: note: the trace is %s%s; replaying its %llu complete %s\n", cli_prog, cli_status_name(res.status),
            res.truncated ? " and truncated" : "", (unsigned long long)res.trace_exchanges, cli_exchanges(res.trace_exchanges));
  if (res.diverged) {
    const braid_divergence *d = &res.div;
    char torus[32];
    printf("DIVERGED at exchange %llu", (unsigned long long)d->exchange);
    if (d->torus >= 0) printf(", torus %s", cli_torus(d->torus, torus));
    if (d->torus >= 0 && d->torus < 16) printf(" (%lld)", (long long)d->torus);
    if (d->field_hex) /* digests and hashes as braid-dump prints them */
      printf(": %s.%s recorded %016llx, replayed %016llx\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    else if (d->field_signed)
      printf(": %s.%s recorded %lld, replayed %lld\n", d->record, d->field, (long long)d->expected, (long long)d->actual);
    else
      printf(": %s.%s recorded %llu, replayed %llu\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    printf("records around it (> marks the first difference):\n%s", d->context);
    /* A sequential recording says nothing about threads. */
    printf("%llu %s matched before it; %s\n", (unsigned long long)res.exchanges_checked, cli_exchanges(res.exchanges_checked),
           res.recorded_threaded ? "the parallel run differs from sequential execution" : "the replay differs from the recording");
    return EXIT_DIFFERENT;
  }
  if (res.stopped_at_violation) {
    const braid_violation_info *v = &res.viol;
    char to[32], from[32];
    cli_torus(v->torus, to);
    cli_torus(v->from, from);
    printf("violation %llu: exchange %llu, torus %s receiving from torus %s: %llu of %llu boundary cells off, max deviation %llu, corrections sum %lld\n",
           (unsigned long long)o.violation, (unsigned long long)v->exchange, to, from, (unsigned long long)v->violations,
           (unsigned long long)v->checked, (unsigned long long)v->max_dev, (long long)v->corrective_sum);
    printf("  %-8s %-12s %12s %12s %12s\n", "cell", "(x,y,z)", "expected", "actual", "correction");
    for (unsigned i = 0; i < v->ncells; i++) {
      const braid_violation_cell *cell = &v->cells[i];
      char xyz[40];
      snprintf(xyz, sizeof xyz, "(%u,%u,%u)", cell->x, cell->y, cell->z);
      printf("  %-8u %-12s %12lld %12lld %12d\n", cell->cell, xyz, (long long)cell->expected, (long long)cell->actual, cell->payload);
    }
    if (v->violations > v->ncells) printf("  ... %llu more cells (the trace keeps the first %u)\n", (unsigned long long)(v->violations - v->ncells), v->ncells);
    printf("replay matched the recording through exchange %llu\n", (unsigned long long)v->exchange);
    return EXIT_SAME;
  }
  uint64_t n = res.exchanges_checked;
  printf("OK: %llu %s, %s", (unsigned long long)n, cli_exchanges(n), res.recorded_threaded ? "parallel == sequential" : "replay == recording (a sequential run)");
  if (res.first_exchange && !n) {
    printf(" (from the checkpoint after exchange %llu, the last of the trace: nothing after it to compare)", (unsigned long long)(res.first_exchange - 1));
  } else if (res.first_exchange) {
    printf(" (");
    print_range(res.first_exchange, n);
    printf(", from a checkpoint)");
  }
  if (o.from != UINT64_MAX && o.from > 0 && !res.first_exchange)
    printf("; no checkpoint at or before --from %llu, so it replayed from the start", (unsigned long long)o.from);
  /* A stop that was asked for but not reached is said, not left to guess. */
  if (o.until != UINT64_MAX && o.until >= res.trace_exchanges)
    printf("; --until %llu is past the end (the trace ends at exchange %llu)", (unsigned long long)o.until, (unsigned long long)(res.trace_exchanges - 1));
  if (o.violation) {
    printf("; violation %llu not reached (", (unsigned long long)o.violation);
    if (!res.first_exchange && n == res.trace_exchanges) {
      printf("the trace has %llu", (unsigned long long)res.violations);
    } else if (n) {
      printf("%llu in ", (unsigned long long)res.violations);
      print_range(res.first_exchange, n);
    } else {
      printf("no exchange compared");
    }
    printf(")");
  }
  printf("\n");
  return EXIT_SAME;
}
