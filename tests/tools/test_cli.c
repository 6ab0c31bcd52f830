/* test_cli.c - what every tool shares: --help, --version, one-line errors,
 * bad files, man pages. */
#include "tools.h"

TestSuite(tools, .init = make_dir, .fini = remove_dir, .timeout = 120);
TestSuite(bad_input, .init = make_dir, .fini = remove_dir, .timeout = 60);
TestSuite(cli, .init = make_dir, .fini = remove_dir, .timeout = 30);

/* A truncated trace was "truncated after exchange 0" in braid-replay but
 * "ends inside the frame at offset 651" in braid-dump and braid-diff: every
 * tool now says one line with both facts. */
Test(tools, every_tool_words_a_truncation_alike, .timeout = 60)
{
  const char *t = BRAID_SRCDIR "/traces/broken-truncated.btr";
  result rs[] = {
    run("braid-replay", t, NULL), run("braid-dump", t, NULL), run("braid-dump", "--stats", t, NULL), run("braid-diff", t, t, NULL),
  };
  const char *progs[] = { "braid-replay", "braid-dump", "braid-dump", "braid-diff" };
  char first[512] = "";
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(rs[i].status, 2, SHOW(rs[i]));
    char want[600];
    snprintf(want, sizeof want, "%s: %s: truncated after exchange ", progs[i], t);
    cr_assert(!strncmp(rs[i].err, want, strlen(want)), SHOW(rs[i]));
    const char *fact = rs[i].err + strlen(progs[i]) + 2;
    unsigned long long k, off;
    cr_assert_eq(sscanf(fact + strlen(t) + 2, "truncated after exchange %llu: the file ends inside the frame at offset %llu", &k, &off), 2, SHOW(rs[i]));
    size_t n = strcspn(fact, ";\n");
    if (!first[0]) snprintf(first, sizeof first, "%.*s", (int)n, fact);
    else cr_assert(strlen(first) == n && !strncmp(first, fact, n), "'%.*s' is not '%s'", (int)n, fact, first);
    drop(&rs[i]);
  }
}

Test(cli, man_braid_record_is_lint_clean) { lint("braid-record.1"); }

Test(cli, man_braid_replay_is_lint_clean) { lint("braid-replay.1"); }

Test(cli, man_braid_diff_is_lint_clean) { lint("braid-diff.1"); }

Test(cli, man_braid_dump_is_lint_clean) { lint("braid-dump.1"); }

Test(cli, man_braid_trace_is_lint_clean) { lint("braid-trace.5"); }

/* braid-record(1)'s racy example printed the digests in decimal; the tool
 * prints digests and hashes in hex, as braid-dump does.  Every DIVERGED line
 * of the man pages shows a digest or hash as 16 hex digits. */
Test(cli, man_examples_print_digests_in_hex)
{
  const char *pages[] = { "braid-record.1", "braid-replay.1", "braid-diff.1" };
  int seen = 0;
  for (int i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/man/%s", BRAID_SRCDIR, pages[i]);
    char *text = load(path, NULL);
    for (char *p = strstr(text, "DIVERGED at exchange "); p; p = strstr(p + 1, "DIVERGED at exchange ")) {
      char field[64], rec[64], rep[64];
      const char *colon = strstr(p, "): ");
      if (!colon || sscanf(colon + 3, "%63s recorded %63[^,], replayed %63s", field, rec, rep) != 3) continue;
      if (!strstr(field, "digest") && !strstr(field, "hash")) continue;
      seen++;
      cr_assert(strlen(rec) == 16 && strspn(rec, "0123456789abcdef") == 16, "%s: %s recorded %s is not hex as braid-replay prints it", pages[i], field, rec);
      cr_assert(strlen(rep) == 16 && strspn(rep, "0123456789abcdef") == 16, "%s: %s replayed %s is not hex as braid-replay prints it", pages[i], field, rep);
    }
    free(text);
  }
  cr_assert_gt(seen, 0, "no digest in a DIVERGED example");
}

/* The README's Install section said twice that libbraid(3) is the API
 * overview with a complete example. */
Test(cli, readme_install_names_libbraid_3_once)
{
  char *text = load(BRAID_SRCDIR "/README.md", NULL);
  char *install = strstr(text, "\n## Install\n");
  cr_assert(install);
  char *end = strstr(install + 1, "\n## ");
  if (end) *end = 0;
  int n = 0;
  for (char *p = strstr(install, "man 3 libbraid"); p; p = strstr(p + 1, "man 3 libbraid")) n++;
  cr_assert_eq(n, 1, "the Install section names man 3 libbraid %d times", n);
  free(text);
}

/* The tools that read one trace say so, in one line and with exit 2, when
 * they get none or two (cli_one_trace). */
Test(bad_input, one_trace_tools_refuse_none_and_two)
{
  static const char *tools[] = { "braid-replay", "braid-dump", "braid-shrink" };
  for (unsigned i = 0; i < sizeof tools / sizeof *tools; i++) {
    expect_trouble(run(tools[i], NULL), "no trace given", NULL);
    expect_trouble(run(tools[i], "a.btr", "b.btr", NULL), "more than one trace given", NULL);
  }
}
