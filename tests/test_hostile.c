/* test_hostile.c - the tools on hostile traces (tests/trace-fixtures/replay,
 * made by `trace_child hostile`, see its README): each ends with exit 2 and
 * one line naming the file and the reason, or with a correct DIVERGED, in
 * bounded memory and reading each file a bounded number of times.
 *
 * Memory: the tool runs under RLIMIT_AS = 100 MiB, or, in ASan and TSan
 * builds (whose shadow memory no address-space limit admits), with
 * BRAID_MEMORY_LIMIT=100M, the library's own bound.  Reading: the bytes the
 * tool read (rchar of /proc/PID/io) are bounded by a multiple of the file's
 * size, not by its number of frames.  Time is left to the test's .timeout:
 * each fixture ends in well under a second. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SHADOW_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SHADOW_MEMORY 1
#endif
#endif

#define FIXTURES BRAID_SRCDIR "/tests/trace-fixtures/replay/"
#define RIPPLE_SO BRAID_BUILDDIR "/tests/.libs/plugin_ripple.so"
#define MEMORY_LIMIT (100ull << 20)

/* Arrays, not pointers: Criterion runs each test in a process of its own,
 * where the parent's pointers mean nothing. */
typedef struct hostile {
  char fixture[48];  /* in tests/trace-fixtures/replay */
  char tool[16];
  char args[64];     /* before the fixture, separated by spaces; "RIPPLE" is the plugin */
  char after[48];    /* an argument after it: "@" the fixture again, "UNIFORM" traces/uniform.btr */
  int status;
  char says[112];    /* on stderr for status 2, on stdout otherwise */
} hostile;

static hostile cases[] = {
  /* 1: a plugin trace's header repeats model= (model_renamed overflowed). */
  { "plugin-model-repeated.btr", "braid-replay", "--force --model-plugin RIPPLE", "", 2, "setting model is given twice" },
  /* 2: a recorded rate interval beyond interval_max (a 4.3e9-event epoch). */
  { "rate-interval-4294967295.btr", "braid-replay", "", "", 2, "(value 4294967295) lies outside interval_min..interval_max" },
  /* 3: checkpoints whose edge degree is not the model's (NULL / out of bounds). */
  { "checkpoint-phold-under-uniform.btr", "braid-replay", "--from 2", "", 2, "does not fit the header's settings" },
  { "checkpoint-uniform-under-skewed.btr", "braid-replay", "--from 2", "", 2, "does not fit the header's settings" },
  /* 4: a torus no run has, printed as a number ('A' + INT_MAX overflowed). */
  { "torus-2147483647.btr", "braid-replay", "", "", 1, "DIVERGED at exchange 0, torus 2147483647: projection.presence recorded 2, replayed 0" },
  { "torus-2147483647.btr", "braid-diff", "", "UNIFORM", 1, "first difference at exchange 0, torus 2147483647: projection only in A" },
  /* 5: one exchange of 16 million empty records (2.2 and 2.9 GB before). */
  { "exchange-of-16m-records.btr", "braid-replay", "", "", 2, "exchange 0 holds more than 1537 records" },
  { "exchange-of-16m-records.btr", "braid-diff", "", "@", 2, "exchange 0 holds more than 1537 records" },
  /* 6: 10000 frames of one record each (a 128 KiB read per frame before). */
  { "10000-frames.btr", "braid-replay", "", "", 1, "DIVERGED at exchange 0" },
  { "10000-frames.btr", "braid-dump", "--stats", "", 0, "10000" },
  { "10000-frames.btr", "braid-diff", "", "@", 0, "" },
  /* 7: settings no run can hold here (8 GiB before the refusal). */
  { "settings-dim128-tori16-pop16.btr", "braid-replay", "", "", 2, "model uniform with dim=128, tori=16, p.pop=16" },
  { "settings-dim128-tori16-pop16.btr", "braid-replay", "--from 5", "", 2, "need at least 6.7 GiB" },
};

ParameterizedTestParameters(hostile, ends_cleanly_in_bounded_memory)
{
  return cr_make_param_array(hostile, cases, sizeof cases / sizeof cases[0]);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  cr_assert(f, "%s: %s", path, strerror(errno));
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *s = strdup(buf);
  cr_assert(s);
  return s;
}

/* The bytes a process read through read(2) and its kin, taken while it is
 * a zombie (waited for with WNOWAIT), before it is reaped. */
static unsigned long long rchar_of(pid_t pid)
{
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0; /* no I/O accounting in this kernel: not checked */
  unsigned long long v = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "rchar: %llu", &v) == 1) break;
  fclose(f);
  return v;
}

ParameterizedTest(hostile *h, hostile, ends_cleanly_in_bounded_memory, .timeout = 60)
{
  char fixture[512], tool[512], out[256], err[256];
  snprintf(fixture, sizeof fixture, FIXTURES "%s", h->fixture);
  snprintf(tool, sizeof tool, BRAID_BUILDDIR "/tools/%s", h->tool);
  snprintf(out, sizeof out, "/tmp/braid-hostile-%d.out", (int)getpid());
  snprintf(err, sizeof err, "/tmp/braid-hostile-%d.err", (int)getpid());
  struct stat st;
  cr_assert_eq(stat(fixture, &st), 0, "%s: %s", fixture, strerror(errno));
  char args[sizeof h->args], *save = NULL;
  const char *argv[12];
  int n = 0;
  argv[n++] = tool;
  snprintf(args, sizeof args, "%s", h->args);
  for (char *a = strtok_r(args, " ", &save); a && n < 8; a = strtok_r(NULL, " ", &save)) argv[n++] = strcmp(a, "RIPPLE") ? a : RIPPLE_SO;
  argv[n++] = fixture;
  if (!strcmp(h->after, "@")) argv[n++] = fixture;
  else if (!strcmp(h->after, "UNIFORM")) argv[n++] = BRAID_SRCDIR "/traces/uniform.btr";
  argv[n] = NULL;

  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, 1);
    dup2(e, 2);
#ifdef SHADOW_MEMORY
    setenv("BRAID_MEMORY_LIMIT", "100M", 1);
#else
    struct rlimit rl = { MEMORY_LIMIT, MEMORY_LIMIT };
    if (setrlimit(RLIMIT_AS, &rl)) _exit(127);
#endif
    execv(tool, (char **)argv);
    _exit(127);
  }
  siginfo_t si;
  while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0) cr_assert_eq(errno, EINTR);
  unsigned long long read_bytes = rchar_of(pid);
  int status;
  while (waitpid(pid, &status, 0) < 0) cr_assert_eq(errno, EINTR);
  char *o = slurp(out), *e = slurp(err);
  unlink(out);
  unlink(err);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  cr_assert_eq(code, h->status, "%s %s: exit %d, want %d\n--- stdout:\n%.1500s\n--- stderr:\n%.1500s", h->tool, h->fixture, code, h->status, o, e);
  if (h->status == 2) {
    cr_assert(!o[0], "%s %s: exit 2 with output on stdout:\n%.1500s", h->tool, h->fixture, o);
    char *nl = strchr(e, '\n');
    cr_assert(nl && !nl[1], "%s %s: not one line on stderr:\n%.1500s", h->tool, h->fixture, e);
    cr_assert(strstr(e, h->fixture) && strstr(e, h->says), "%s %s: stderr does not name the file and say '%s':\n%s", h->tool, h->fixture, h->says, e);
  } else {
    cr_assert(strstr(o, h->says), "%s %s: stdout does not say '%s':\n%.1500s", h->tool, h->fixture, h->says, o);
  }
  /* A few passes over the file (and a plugin to hash), whatever the number
   * of frames in it. */
  unsigned long long bound = 16ull * (unsigned long long)st.st_size + (8ull << 20);
  cr_assert_leq(read_bytes, bound, "%s %s: read %llu bytes of a %lld-byte file", h->tool, h->fixture, read_bytes, (long long)st.st_size);
  free(o);
  free(e);
}
