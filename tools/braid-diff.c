/* braid-diff.c - compare the logical record streams of two traces. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-diff [options] TRACE-A TRACE-B\n"
          "Compares the logical record streams of two traces (timing records are ignored)\n"
          "and shows the first place where they differ.\n\n"
          "      --timing              also compare timing statistics side by side\n"
          "      --partial             compare the complete exchanges of truncated traces\n"
          "  -q, --quiet               print nothing; the exit status tells\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 the logical streams are equal, 1 they differ, 2 trouble.\n");
}

int main(int argc, char **argv)
{
  cli_prog = "braid-diff";
  static const struct option opts[] = {
    { "timing", 0, 0, 'T' }, { "partial", 0, 0, 'P' }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  int c, timing = 0, quiet = 0, partial = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":qhV", opts, NULL)) != -1) {
    switch (c) {
    case 'T': timing = 1; break;
    case 'P': partial = 1; break;
    case 'q': quiet = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    default: cli_bad_option(c, argv, opts);
    }
  }
  if (argc - optind != 2) cli_die("need exactly two traces (see --help)");
  const char *a = argv[optind], *b = argv[optind + 1];
  cli_need_file(a);
  cli_need_file(b);
  /* The library compares a truncated trace up to its cut; unless asked to,
   * treat one as trouble rather than as a shorter run. */
  if (!partial) {
    cli_need_whole_trace(a);
    cli_need_whole_trace(b);
  }
  braid_diff_result r;
  char err[1024];
  if (braid_diff(a, b, &r, err, sizeof err)) cli_die("%s", err);
  if (quiet) return r.differ ? EXIT_DIFFERENT : EXIT_SAME;
  if (r.config_differs) printf("settings differ: %s (so the streams are expected to differ)\n", r.settings);
  if (r.differ && r.differing) {
    const braid_divergence *d = &r.div;
    printf("first difference at exchange %llu", (unsigned long long)d->exchange);
    if (d->torus >= 0) printf(", torus %c (%lld)", 'A' + (int)d->torus, (long long)d->torus);
    if (d->field_hex) printf(": %s.%s %016llx vs %016llx\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    else if (d->field_signed) printf(": %s.%s %lld vs %lld\n", d->record, d->field, (long long)d->expected, (long long)d->actual);
    else printf(": %s.%s %llu vs %llu\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    printf("records around it (A: %s, B: %s; > marks the first difference):\n%s", a, b, d->context);
  }
  printf("summary: %llu records in A, %llu in B, %llu compared, %llu differ\n", (unsigned long long)r.records_a,
         (unsigned long long)r.records_b, (unsigned long long)r.compared, (unsigned long long)r.differing);
  for (unsigned t = 1; t < 64; t++)
    if (r.differing_by_type[t]) printf("  %-18s %llu differ\n", braid_record_type_name(t) ? braid_record_type_name(t) : "?", (unsigned long long)r.differing_by_type[t]);
  if (timing) {
    printf("timing                      %14s %14s\n", "A", "B");
    printf("  mean epoch (us)           %14.2f %14.2f\n", r.mean_epoch_ns[0] / 1e3, r.mean_epoch_ns[1] / 1e3);
    printf("  mean wait (us)            %14.2f %14.2f\n", r.mean_wait_ns[0] / 1e3, r.mean_wait_ns[1] / 1e3);
    printf("  mean exchange (us)        %14.2f %14.2f\n", r.mean_exchange_ns[0] / 1e3, r.mean_exchange_ns[1] / 1e3);
    printf("  throughput (M events/s)   %14.2f %14.2f\n", r.events_per_s[0] / 1e6, r.events_per_s[1] / 1e6);
  }
  if (!r.differ) printf("equal: the logical streams are identical\n");
  return r.differ ? EXIT_DIFFERENT : EXIT_SAME;
}
