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
          "      --json                print the verdict, the first difference and the counts as one JSON document\n"
          "  -q, --quiet               print nothing; the exit status tells\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 the logical streams are equal, 1 they differ, 2 trouble.\n");
}

/* "0..99", or "7" for one exchange. */
static const char *span(uint64_t lo, uint64_t hi)
{
  static char buf[64];
  if (lo == hi) snprintf(buf, sizeof buf, "%llu", (unsigned long long)lo);
  else snprintf(buf, sizeof buf, "%llu..%llu", (unsigned long long)lo, (unsigned long long)hi);
  return buf;
}

/* Where the traces start at different exchanges (a replay's trace from a
 * checkpoint): said once, rather than as a difference in every record. */
static void say_start(const braid_diff_result *r)
{
  if (!r->exchanges[0] || !r->exchanges[1] || r->first_exchange[0] == r->first_exchange[1]) return;
  int late = r->first_exchange[1] > r->first_exchange[0], early = !late;
  uint64_t lo = r->first_exchange[early], hi = r->first_exchange[late] - 1;
  if (hi > r->last_exchange[early]) hi = r->last_exchange[early];
  printf("%c starts at exchange %llu, %c at exchange %llu: %s %s %s only in %c\n", 'A' + late, (unsigned long long)r->first_exchange[late],
         'A' + early, (unsigned long long)lo, cli_exchanges(hi - lo + 1), span(lo, hi), lo == hi ? "is" : "are", 'A' + early);
}

/* Where one trace ends before the other (a truncated copy, a shorter or
 * interrupted run), or has no exchange at all. */
static void say_end(const braid_diff_result *r)
{
  for (int side = 0; side < 2; side++)
    if (!r->exchanges[side] && r->exchanges[!side]) {
      printf("%c has no complete exchange\n", 'A' + side);
      return;
    }
  if (!r->exchanges[0] || r->last_exchange[0] == r->last_exchange[1]) return;
  int early = r->last_exchange[1] < r->last_exchange[0], late = !early;
  uint64_t more = r->last_exchange[late] - r->last_exchange[early];
  printf("%c ends after exchange %llu", 'A' + early, (unsigned long long)r->last_exchange[early]);
  if (r->truncated[early]) printf(" (truncated)");
  else if (r->status[early] != BRAID_TRACE_COMPLETE) printf(" (%s)", cli_status_name(r->status[early]));
  printf(": %c has %llu more %s (%s)\n", 'A' + late, (unsigned long long)more, cli_exchanges(more),
         span(r->last_exchange[early] + 1, r->last_exchange[late]));
}

/* Prints the counts that are not 0 of "N only in A", "N only in B", the
 * first after sep, and ends the line. */
static void print_only(const char *sep, const uint64_t only[2])
{
  for (int side = 0; side < 2; side++)
    if (only[side]) {
      printf("%s%llu only in %c", sep, (unsigned long long)only[side], 'A' + side);
      sep = ", ";
    }
  printf("\n");
}

/* A field's value as the text output shows it: hex strings for digests and
 * hashes, signed or unsigned numbers otherwise. */
static void json_value(const braid_divergence *d, uint64_t v)
{
  if (d->field_hex) printf("\"%016llx\"", (unsigned long long)v);
  else if (d->field_signed) printf("%lld", (long long)v);
  else printf("%llu", (unsigned long long)v);
}

/* Exchange k, or null where the trace has no exchange. */
static void json_exchange(uint64_t k, uint64_t n)
{
  if (n) printf("%llu", (unsigned long long)k);
  else printf("null");
}

static void print_json(const char *a, const char *b, int same, const braid_diff_result *r, int timing)
{
  printf("{\"a\":%s,", cli_json(a));
  printf("\"b\":%s,\"same_file\":%s,\"verdict\":\"%s\",", cli_json(b), same ? "true" : "false", r->differ ? "differ" : "equal");
  if (r->config_differs) printf("\"settings_differ\":%s,", cli_json(r->settings));
  else printf("\"settings_differ\":null,");
  printf("\"exchanges\":{\"a\":%llu,\"b\":%llu,\"common\":%llu,\"first_a\":", (unsigned long long)r->exchanges[0],
         (unsigned long long)r->exchanges[1], (unsigned long long)r->common_exchanges);
  json_exchange(r->first_exchange[0], r->exchanges[0]);
  printf(",\"last_a\":");
  json_exchange(r->last_exchange[0], r->exchanges[0]);
  printf(",\"first_b\":");
  json_exchange(r->first_exchange[1], r->exchanges[1]);
  printf(",\"last_b\":");
  json_exchange(r->last_exchange[1], r->exchanges[1]);
  printf("},\"status\":{\"a\":\"%s\",\"b\":\"%s\"},\"truncated\":{\"a\":%s,\"b\":%s},", cli_status_name(r->status[0]),
         cli_status_name(r->status[1]), r->truncated[0] ? "true" : "false", r->truncated[1] ? "true" : "false");
  printf("\"records\":{\"a\":%llu,\"b\":%llu,\"compared\":%llu,\"differing\":%llu,\"only_a\":%llu,\"only_b\":%llu},",
         (unsigned long long)r->records_a, (unsigned long long)r->records_b, (unsigned long long)r->compared, (unsigned long long)r->differing,
         (unsigned long long)r->only[0], (unsigned long long)r->only[1]);
  printf("\"by_type\":[");
  for (unsigned t = 1, n = 0; t < 64; t++) {
    if (!r->differing_by_type[t] && !r->only_by_type[0][t] && !r->only_by_type[1][t]) continue;
    const char *name = braid_record_type_name(t);
    char unknown[16];
    snprintf(unknown, sizeof unknown, "type%u", t);
    printf("%s{\"type\":%s,\"differing\":%llu,\"only_a\":%llu,\"only_b\":%llu}", n++ ? "," : "", cli_json(name ? name : unknown),
           (unsigned long long)r->differing_by_type[t], (unsigned long long)r->only_by_type[0][t], (unsigned long long)r->only_by_type[1][t]);
  }
  printf("],\"divergence\":");
  if (r->differing + r->only[0] + r->only[1]) {
    const braid_divergence *d = &r->div;
    printf("{\"exchange\":%llu,\"torus\":", (unsigned long long)d->exchange);
    if (d->torus >= 0) printf("%lld", (long long)d->torus);
    else printf("null");
    printf(",\"record\":%s,", cli_json(d->record));
    printf("\"field\":%s,", cli_json(d->field));
    if (!strcmp(d->field, "presence")) {
      printf("\"only_in\":\"%c\",\"a\":null,\"b\":null,", d->expected ? 'A' : 'B');
    } else {
      printf("\"only_in\":null,\"a\":");
      json_value(d, d->expected);
      printf(",\"b\":");
      json_value(d, d->actual);
      printf(",");
    }
    printf("\"context\":%s}", cli_json(d->context));
  } else {
    printf("null");
  }
  if (timing)
    printf(",\"timing\":{\"mean_epoch_ns\":[%.0f,%.0f],\"mean_wait_ns\":[%.0f,%.0f],\"mean_exchange_ns\":[%.0f,%.0f],\"events_per_second\":[%.0f,%.0f]}",
           r->mean_epoch_ns[0], r->mean_epoch_ns[1], r->mean_wait_ns[0], r->mean_wait_ns[1], r->mean_exchange_ns[0], r->mean_exchange_ns[1],
           r->events_per_s[0], r->events_per_s[1]);
  else printf(",\"timing\":null");
  printf("}\n");
}

int main(int argc, char **argv)
{
  cli_prog = "braid-diff";
  static const struct option opts[] = {
    { "timing", 0, 0, 'T' }, { "partial", 0, 0, 'P' }, { "json", 0, 0, 'J' }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  int c, timing = 0, quiet = 0, partial = 0, json = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":qhV", opts, NULL)) != -1) {
    switch (c) {
    case 'T': timing = 1; break;
    case 'P': partial = 1; break;
    case 'J': json = 1; break;
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
  /* Equal by definition, which is worth saying: the user most likely meant
   * two different runs.  The file is still read through (and so checked). */
  int same = cli_same_file(a, b);
  if (json) {
    print_json(a, b, same, &r, timing);
    return r.differ ? EXIT_DIFFERENT : EXIT_SAME;
  }
  if (quiet) return r.differ ? EXIT_DIFFERENT : EXIT_SAME;
  if (same) printf("%s and %s are the same file: it is compared with itself\n", a, b);
  if (r.config_differs) printf("settings differ: %s (so the streams are expected to differ)\n", r.settings);
  say_start(&r);
  uint64_t records_differ = r.differing + r.only[0] + r.only[1];
  if (records_differ) {
    const braid_divergence *d = &r.div;
    char torus[32];
    printf("first difference at exchange %llu", (unsigned long long)d->exchange);
    if (d->torus >= 0) printf(", torus %s", cli_torus(d->torus, torus));
    if (d->torus >= 0 && d->torus < 16) printf(" (%lld)", (long long)d->torus);
    if (!strcmp(d->field, "presence")) printf(": %s only in %c\n", d->record, d->expected ? 'A' : 'B');
    else if (d->field_hex) printf(": %s.%s %016llx vs %016llx\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    else if (d->field_signed) printf(": %s.%s %lld vs %lld\n", d->record, d->field, (long long)d->expected, (long long)d->actual);
    else printf(": %s.%s %llu vs %llu\n", d->record, d->field, (unsigned long long)d->expected, (unsigned long long)d->actual);
    printf("records around it (A: %s, B: %s; > marks the first difference):\n%s", a, b, d->context);
  }
  say_end(&r);
  if (r.final_differs) {
    printf("final state differs (the footers' state hashes) for torus");
    for (unsigned t = 0; t < 16; t++)
      if (r.final_differs >> t & 1) printf(" %c", 'A' + t);
    printf("\n");
  }
  int extent = r.common_exchanges != r.exchanges[0] || r.common_exchanges != r.exchanges[1];
  if (extent)
    printf("exchanges: %llu in A, %llu in B, %llu in both\n", (unsigned long long)r.exchanges[0], (unsigned long long)r.exchanges[1],
           (unsigned long long)r.common_exchanges);
  printf("summary: %llu records in A, %llu in B, %llu compared, %llu differ", (unsigned long long)r.records_a, (unsigned long long)r.records_b,
         (unsigned long long)r.compared, (unsigned long long)r.differing);
  print_only(", ", r.only);
  for (unsigned t = 1; t < 64; t++) {
    uint64_t only[2] = { r.only_by_type[0][t], r.only_by_type[1][t] };
    if (!r.differing_by_type[t] && !only[0] && !only[1]) continue;
    printf("  %-18s ", braid_record_type_name(t) ? braid_record_type_name(t) : "?");
    if (r.differing_by_type[t]) printf("%llu differ", (unsigned long long)r.differing_by_type[t]);
    print_only(r.differing_by_type[t] ? ", " : "", only);
  }
  if (timing) {
    printf("timing                      %14s %14s\n", "A", "B");
    printf("  mean epoch (us)           %14.2f %14.2f\n", r.mean_epoch_ns[0] / 1e3, r.mean_epoch_ns[1] / 1e3);
    printf("  mean wait (us)            %14.2f %14.2f\n", r.mean_wait_ns[0] / 1e3, r.mean_wait_ns[1] / 1e3);
    printf("  mean exchange (us)        %14.2f %14.2f\n", r.mean_exchange_ns[0] / 1e3, r.mean_exchange_ns[1] / 1e3);
    printf("  throughput (M events/s)   %14.2f %14.2f\n", r.events_per_s[0] / 1e6, r.events_per_s[1] / 1e6);
  }
  if (!r.differ && same) printf("equal: one file, compared with itself (give two traces to compare two runs)\n");
  else if (!r.differ) printf("equal: the logical streams are identical\n");
  else if (r.common_exchanges && !records_differ)
    printf("the %llu %s both traces have %s identical\n", (unsigned long long)r.common_exchanges, cli_exchanges(r.common_exchanges),
           r.common_exchanges == 1 ? "is" : "are");
  return r.differ ? EXIT_DIFFERENT : EXIT_SAME;
}
