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
          "      --check N             stop at the Nth failed model check; show it\n"
          "      --from K              start from the last checkpoint at or before exchange K\n"
          "      --break               call braid_debug_break(rt, torus) before the reported window or exchange\n"
          "                            (gdb: source braid-gdb.py; see braid-replay(1))\n"
          "      --perturb-malloc[=BYTE]  fill fresh heap memory with a pattern (catches models reading\n"
          "                            uninitialised memory); default BYTE 0x5a\n"
          "      --no-locate           after a divergence, neither diagnose it nor re-run its window\n"
          "      --rr                  run the replay under 'rr record' (where rr can record)\n"
          "  -o, --output OUT          also write the replay's own trace to OUT\n"
          "      --model-plugin PATH[:SYMBOL]  the plugin the trace was recorded with\n"
          "      --force               replay despite another semantics version or another plugin file\n"
          "      --partial             accept a truncated trace and replay its complete exchanges\n"
          "      --json                print the verdict, the divergence or violation and the counts as one JSON document\n"
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

static void print_value(const braid_divergence *d, uint64_t v)
{
  if (d->field_hex) printf("%016llx", (unsigned long long)v); /* digests and hashes as braid-dump prints them */
  else if (d->field_signed) printf("%lld", (long long)v);
  else printf("%llu", (unsigned long long)v);
}

static void print_event(const braid_event *e)
{
  printf("t=%llu cell %u src ", (unsigned long long)e->time, e->dst);
  if (e->src == BRAID_SRC_EXTERNAL) printf("external");
  else if (e->src == BRAID_SRC_CORRECTION) printf("correction");
  else if (e->src == BRAID_SRC_TIMER) printf("timer");
  else printf("%u", e->src);
  printf(" payload %d", e->payload);
}

/* The located window: the events of the epoch between the last rung that
 * agrees and the first that differs, each with its follow-ups. */
static void print_window(const braid_window *w)
{
  printf("window: torus %c, epoch of exchange %llu, events %llu..%llu of the torus (", 'A' + (int)w->torus, (unsigned long long)w->exchange,
         (unsigned long long)w->first, (unsigned long long)(w->first + w->count - 1));
  if (w->rung > w->rungs) printf(w->rungs ? "after its last rung: the rungs agree, the end differs" : "the whole epoch: the trace has no rungs");
  else printf("between rung %u and rung %u of %u, which differs", w->rung - 1, w->rung, w->rungs);
  printf(")\n");
  printf("  %-8s %-10s %-8s %-12s %-11s %-8s %s\n", "event", "time", "cell", "(x,y,z)", "src", "payload", "state after / follow-ups");
  for (uint64_t i = 0; i < w->nevents; i++) {
    const braid_window_event *e = &w->ev[i];
    char xyz[40], src[16];
    snprintf(xyz, sizeof xyz, "(%u,%u,%u)", e->x, e->y, e->z);
    if (e->ev.src == BRAID_SRC_EXTERNAL) snprintf(src, sizeof src, "external");
    else if (e->ev.src == BRAID_SRC_CORRECTION) snprintf(src, sizeof src, "correction");
    else if (e->ev.src == BRAID_SRC_TIMER) snprintf(src, sizeof src, "timer");
    else snprintf(src, sizeof src, "%u", e->ev.src);
    printf("  %-8llu %-10llu %-8u %-12s %-11s %-8d %lld", (unsigned long long)e->index, (unsigned long long)e->ev.time, e->ev.dst, xyz, src,
           e->ev.payload, (long long)e->state);
    for (uint32_t j = 0; j < e->nfollow && j < BRAID_WINDOW_FOLLOW; j++) {
      printf(j ? ", " : " -> ");
      print_event(&e->follow[j]);
    }
    if (e->nfollow > BRAID_WINDOW_FOLLOW) printf(", %u more", e->nfollow - BRAID_WINDOW_FOLLOW);
    printf("\n");
  }
  if (w->count > w->nevents)
    printf("  ... %llu more events in the window (more rungs: braid-record --set rungs=8; every event: --trace-events)\n",
           (unsigned long long)(w->count - w->nevents));
  if (w->differs[0]) printf("at the end of the epoch, the recording and the replay differ in %s\n", w->differs);
}

static void print_divergence(const braid_replay_result *res)
{
  const braid_divergence *d = &res->div;
  printf("DIVERGED at exchange %llu", (unsigned long long)d->exchange);
  char tname[32];
  if (d->torus >= 0) printf(", torus %s", cli_torus(d->torus, tname));
  if (d->torus >= 0 && d->torus < 16) printf(" (%lld)", (long long)d->torus);
  printf(": %s.%s recorded ", d->record, d->field);
  print_value(d, d->expected);
  printf(", replayed ");
  print_value(d, d->actual);
  printf("\n");
  /* Every torus that differs there, the blamed one first. */
  if (res->differing_tori & ~(d->torus >= 0 && d->torus < 32 ? 1u << d->torus : 0u)) {
    printf("tori that differ at exchange %llu:", (unsigned long long)d->exchange);
    for (unsigned r = 0; r < 32; r++)
      if (res->differing_tori >> r & 1) printf(" %s", cli_torus(r, tname));
    printf("\n");
  }
  printf("records around it (> marks the difference reported):\n%s", d->context);
  if (res->window.found) print_window(&res->window);
  printf("%llu %s matched before it; ", (unsigned long long)res->exchanges_checked, cli_exchanges(res->exchanges_checked));
  if (res->diagnosis == BRAID_DIAG_NONDETERMINISTIC)
    printf("the model is not deterministic even sequentially: a second replay differed from the first at exchange %llu (it reads a clock, "
           "uninitialised memory, or state that outlives a run)\n",
           (unsigned long long)res->diagnosis_exchange);
  else if (res->diagnosis == BRAID_DIAG_DETERMINISTIC)
    /* A sequential recording says nothing about threads. */
    printf("%s\n(a second replay repeated the first exactly: the model is deterministic sequentially)\n",
           res->first_exchange ? "the recording differs from its replay from the checkpoint"
           : res->recorded_threaded ? "the parallel run differs from sequential execution"
                                    : "the replay differs from the recording");
  else
    printf("%s\n", res->recorded_threaded && !res->first_exchange ? "the parallel run differs from sequential execution (not diagnosed)"
                                                                   : "the replay differs from the recording (not diagnosed)");
  if (res->model_state_unsaved) printf("note: the model's private state was rebuilt by init() at the checkpoint, not restored\n");
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

static void json_value(const braid_divergence *d, uint64_t v)
{
  if (d->field_hex) printf("\"%016llx\"", (unsigned long long)v);
  else if (d->field_signed) printf("%lld", (long long)v);
  else printf("%llu", (unsigned long long)v);
}

/* The outcome as one JSON document: what the text output says, in fields
 * (see braid-replay(1)). */
static void print_json(const char *path, const braid_replay_opts *o, const braid_replay_result *res)
{
  printf("{\"trace\":%s,\"verdict\":\"%s\",", cli_json(path), res->diverged              ? "diverged"
                                                                      : res->stopped_at_violation ? "violation"
                                                                      : res->stopped_at_check     ? "check"
                                                                                                  : "ok");
  printf("\"recorded_threaded\":%s,\"exchanges_checked\":%llu,", res->recorded_threaded ? "true" : "false", (unsigned long long)res->exchanges_checked);
  if (res->first_exchange) printf("\"first_exchange\":%llu,\"from_checkpoint\":%llu,", (unsigned long long)res->first_exchange, (unsigned long long)res->first_exchange - 1);
  else printf("\"first_exchange\":0,\"from_checkpoint\":null,");
  printf("\"trace_exchanges\":%llu,\"status\":\"%s\",\"truncated\":%s,\"violations\":%llu,\"seconds\":%.6f,", (unsigned long long)res->trace_exchanges,
         cli_status_name(res->status), res->truncated ? "true" : "false", (unsigned long long)res->violations, res->seconds);
  if (o->until != UINT64_MAX) printf("\"until\":%llu,\"until_past_end\":%s,", (unsigned long long)o->until, o->until >= res->trace_exchanges ? "true" : "false");
  else printf("\"until\":null,\"until_past_end\":false,");
  printf("\"warning\":%s,", res->warning[0] ? cli_json(res->warning) : "null");
  printf("\"divergence\":");
  if (res->diverged) {
    const braid_divergence *d = &res->div;
    printf("{\"exchange\":%llu,\"torus\":", (unsigned long long)d->exchange);
    if (d->torus >= 0) printf("%lld", (long long)d->torus);
    else printf("null");
    printf(",\"record\":%s,", cli_json(d->record));
    printf("\"field\":%s,\"recorded\":", cli_json(d->field));
    json_value(d, d->expected);
    printf(",\"replayed\":");
    json_value(d, d->actual);
    printf(",\"context\":%s}", cli_json(d->context));
  } else {
    printf("null");
  }
  printf(",\"violation\":");
  if (res->stopped_at_violation) {
    const braid_violation_info *v = &res->viol;
    printf("{\"n\":%llu,\"exchange\":%llu,\"torus\":%u,\"from\":%u,\"checked\":%llu,\"violations\":%llu,\"max_deviation\":%llu,"
           "\"corrections_sum\":%lld,\"cells\":[",
           (unsigned long long)o->violation, (unsigned long long)v->exchange, v->torus, v->from, (unsigned long long)v->checked,
           (unsigned long long)v->violations, (unsigned long long)v->max_dev, (long long)v->corrective_sum);
    for (unsigned i = 0; i < v->ncells; i++) {
      const braid_violation_cell *c = &v->cells[i];
      printf("%s{\"cell\":%u,\"x\":%u,\"y\":%u,\"z\":%u,\"expected\":%lld,\"actual\":%lld,\"correction\":%d}", i ? "," : "", c->cell, c->x, c->y,
             c->z, (long long)c->expected, (long long)c->actual, c->payload);
    }
    printf("]}");
  } else {
    printf("null");
  }
  printf(",\"checks\":%llu,\"check\":", (unsigned long long)res->checks);
  if (res->stopped_at_check) {
    const braid_check_info *k = &res->check;
    printf("{\"n\":%llu,\"exchange\":%llu,\"torus\":%u,\"event\":%llu,\"cell\":%u,\"x\":%u,\"y\":%u,\"z\":%u,\"code\":%u,\"message\":%s}",
           (unsigned long long)o->check, (unsigned long long)k->exchange, k->torus, (unsigned long long)k->event, k->cell, k->x, k->y, k->z, k->code,
           cli_json(k->message));
  } else {
    printf("null");
  }
  printf("}\n");
}

int main(int argc, char **argv)
{
  cli_prog = "braid-replay";
  enum { O_UNTIL = 256, O_VIOL, O_FROM, O_BREAK, O_RR, O_PLUGIN, O_FORCE, O_PARTIAL, O_JSON, O_CHECK, O_PERTURB, O_NOLOCATE };
  static const struct option opts[] = {
    { "until", 1, 0, O_UNTIL }, { "violation", 1, 0, O_VIOL }, { "from", 1, 0, O_FROM }, { "break", 0, 0, O_BREAK }, { "rr", 0, 0, O_RR },
    { "output", 1, 0, 'o' }, { "model-plugin", 1, 0, O_PLUGIN }, { "force", 0, 0, O_FORCE }, { "partial", 0, 0, O_PARTIAL }, { "json", 0, 0, O_JSON }, { "check", 1, 0, O_CHECK },
    { "quiet", 0, 0, 'q' }, { "perturb-malloc", 2, 0, O_PERTURB }, { "no-locate", 0, 0, O_NOLOCATE },
    { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  braid_replay_opts o;
  braid_replay_opts_init(&o);
  int c, quiet = 0, rr = 0, json = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:qhV", opts, NULL)) != -1) {
    switch (c) {
    case O_UNTIL: o.until = cli_u64("--until", optarg, 0, UINT64_MAX - 1); break;
    case O_VIOL: o.violation = cli_u64("--violation", optarg, 1, UINT64_MAX - 1); break;
    case O_CHECK: o.check = cli_u64("--check", optarg, 1, UINT64_MAX - 1); break;
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
    case O_JSON: json = 1; break;
    case O_PERTURB: o.perturb_malloc = optarg ? (int)cli_u64("--perturb-malloc", optarg, 1, 255) : 0x5a; break;
    case O_NOLOCATE: o.no_locate = 1; break;
    case 'q': quiet = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    case ':':
    default: cli_bad_option(c, argv, opts);
    }
  }
  /* --until before --from is fine while it follows the checkpoint that
   * --from picks; the library knows that checkpoint and refuses the rest. */
  const char *path = cli_one_trace(argc, argv);
  cli_need_file(path);
  if (rr) run_under_rr(argc, argv);
  braid_replay_result res;
  char err[1024];
  int rc = braid_replay(path, &o, &res, err, sizeof err);
  if (rc) cli_die("%s", err);
  if (json) {
    print_json(path, &o, &res);
    return res.diverged ? EXIT_DIFFERENT : EXIT_SAME;
  }
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
    print_divergence(&res);
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
  if (res.stopped_at_check) {
    const braid_check_info *k = &res.check;
    printf("check %llu: exchange %llu, torus %c, event %llu, cell %u (%u,%u,%u): code %u: %s\n", (unsigned long long)o.check,
           (unsigned long long)k->exchange, 'A' + k->torus, (unsigned long long)k->event, k->cell, k->x, k->y, k->z, k->code,
           k->message[0] ? k->message : "(no message)");
    printf("replay matched the recording through exchange %llu\n", (unsigned long long)k->exchange);
    return EXIT_SAME;
  }
  uint64_t n = res.exchanges_checked;
  /* Nothing compared is not a success: say so, and exit as for trouble. */
  if (!n && !res.final_compared) {
    fprintf(stderr, "%s: %s: nothing was compared: ", cli_prog, path);
    if (res.first_exchange)
      fprintf(stderr, "the checkpoint after exchange %llu is the last of the trace, nothing after it to compare, and the trace has no final state to check\n",
              (unsigned long long)(res.first_exchange - 1));
    else fprintf(stderr, "no exchange was replayed\n");
    return EXIT_TROUBLE;
  }
  /* From a checkpoint the recording wrote, the replay trusts that
   * checkpoint: it shows the run consistent from there, not that the
   * recorded run equals sequential execution (DESIGN 12). */
  if (res.first_exchange)
    printf("OK: %llu %s, consistent from the checkpoint of exchange %llu", (unsigned long long)n, cli_exchanges(n), (unsigned long long)(res.first_exchange - 1));
  else
    printf("OK: %llu %s, %s", (unsigned long long)n, cli_exchanges(n), res.recorded_threaded ? "parallel == sequential" : "replay == recording (a sequential run)");
  if (res.first_exchange && !n) {
    printf(" (from the checkpoint after exchange %llu, the last of the trace: nothing after it to compare but the final state)", (unsigned long long)(res.first_exchange - 1));
  } else if (res.first_exchange) {
    printf(" (");
    print_range(res.first_exchange, n);
    printf(", from a checkpoint, which was trusted, not verified)");
  }
  if (res.final_compared) printf("; final state == footer");
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
  if (o.check) {
    printf("; check %llu not reached (", (unsigned long long)o.check);
    if (!res.first_exchange && n == res.trace_exchanges) printf("the trace has %llu failed checks", (unsigned long long)res.checks);
    else if (n) {
      printf("%llu failed checks in ", (unsigned long long)res.checks);
      print_range(res.first_exchange, n);
    } else printf("no exchange compared");
    printf(")");
  }
  printf("\n");
  return EXIT_SAME;
}
