/* criterion.h - just enough of Criterion's test API, without its runner, to
 * build the test suites in the ThreadSanitizer build: Criterion's runner
 * cannot start under TSan (upstream issue Snaipe/Criterion#274).  Only the
 * TSan build puts this directory on the include path.
 *
 * Tests register themselves at load time.  Each runs in a child process of
 * its own, as with Criterion (suite .init and .fini around it, alarm() for
 * its .timeout): a failed assertion on the test's thread ends the test, one
 * on another thread ends the child, cr_skip_test() skips it.  The last line
 * is a Criterion-style synthesis so that CI counts the tests like the rest;
 * skipped tests count as passing there, as Criterion's synthesis does. */
#ifndef BRAID_TSAN_SHIM_CRITERION_H
#define BRAID_TSAN_SHIM_CRITERION_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct shim_test_opts {
  int timeout;
  void (*init)(void);
  void (*fini)(void);
};

struct criterion_test_params {
  size_t size, length;
  void *params;
};

/* A test, or with `params` a parameterized one: run_one once per parameter. */
struct shim_test {
  const char *suite, *name;
  void (*run)(void);
  struct shim_test_opts o;
  struct shim_test *next;
  struct criterion_test_params (*params)(void);
  void (*run_one)(void *);
};
#define cr_make_param_array(Type, Array, Len) ((struct criterion_test_params){ sizeof(Type), (size_t)(Len), (void *)(Array) })

struct shim_suite {
  const char *name;
  struct shim_test_opts o;
  struct shim_suite *next;
};

/* One list per program: the tests and suites of the file that includes this header. */
static struct shim_test *shim_tests, **shim_tail = &shim_tests;
static struct shim_suite *shim_suites;
static jmp_buf shim_jump;
static pthread_t shim_main_thread;

static void shim_register(struct shim_test *t)
{
  *shim_tail = t;
  shim_tail = &t->next;
}

__attribute__((format(printf, 4, 5), noreturn, unused)) static void shim_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stdout, "[----] %s:%d: Assertion Failed\n[----]   %s\n[----]   ", file, line, what);
  vfprintf(stdout, fmt, ap);
  fprintf(stdout, "\n");
  va_end(ap);
  fflush(stdout);
  if (!pthread_equal(pthread_self(), shim_main_thread)) {
    fprintf(stdout, "[FAIL] an assertion failed on another thread\n");
    exit(1);
  }
  longjmp(shim_jump, 1);
}

__attribute__((format(printf, 1, 2), noreturn, unused)) static void shim_skip(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stdout, "[SKIP] ");
  vfprintf(stdout, fmt, ap);
  fprintf(stdout, "\n");
  va_end(ap);
  longjmp(shim_jump, 2);
}

/* cr_assert(cond) and cr_assert(cond, "format", args...). */
#define SHIM_CHECK(cond, what, ...)                                     \
  do {                                                                  \
    if (!(cond)) shim_fail(__FILE__, __LINE__, what, "" __VA_ARGS__); \
  } while (0)
#define cr_assert(cond, ...) SHIM_CHECK(cond, "The expression " #cond " is false.", ##__VA_ARGS__)
#define cr_assert_not(cond, ...) SHIM_CHECK(!(cond), "The expression !(" #cond ") is false.", ##__VA_ARGS__)
#define cr_assert_eq(a, b, ...) SHIM_CHECK((a) == (b), "The expression (" #a ") == (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_neq(a, b, ...) SHIM_CHECK((a) != (b), "The expression (" #a ") != (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_lt(a, b, ...) SHIM_CHECK((a) < (b), "The expression (" #a ") < (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_leq(a, b, ...) SHIM_CHECK((a) <= (b), "The expression (" #a ") <= (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_gt(a, b, ...) SHIM_CHECK((a) > (b), "The expression (" #a ") > (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_geq(a, b, ...) SHIM_CHECK((a) >= (b), "The expression (" #a ") >= (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) SHIM_CHECK(!strcmp((a), (b)), "The expression (" #a ") == (" #b ") is false.", ##__VA_ARGS__)
#define cr_assert_null(p, ...) SHIM_CHECK((p) == NULL, "The expression " #p " is not NULL.", ##__VA_ARGS__)
#define cr_assert_float_eq(a, b, eps, ...) \
  SHIM_CHECK((a) - (b) <= (eps) && (b) - (a) <= (eps), "The expression (" #a ") == (" #b ") +- " #eps " is false.", ##__VA_ARGS__)
/* The stand-in's expectations end the test like assertions do. */
#define cr_expect cr_assert
#define cr_expect_eq cr_assert_eq
#define cr_expect_neq cr_assert_neq
#define cr_expect_lt cr_assert_lt
#define cr_expect_leq cr_assert_leq
#define cr_expect_gt cr_assert_gt
#define cr_expect_geq cr_assert_geq
#define cr_skip_test(...) shim_skip("" __VA_ARGS__)
#define cr_log_info(...) (printf("[----] " __VA_ARGS__), printf("\n"))

#define TestSuite(suite, ...)                                                                   \
  static struct shim_suite shim_s_##suite = { #suite, { __VA_ARGS__ }, NULL };                \
  __attribute__((constructor)) static void shim_sreg_##suite(void)                            \
  {                                                                                           \
    shim_s_##suite.next = shim_suites;                                                        \
    shim_suites = &shim_s_##suite;                                                            \
  }

#define Test(suite, name, ...)                                                          \
  static void suite##_##name(void);                                                    \
  static struct shim_test shim_t_##suite##_##name = { #suite, #name, suite##_##name, { __VA_ARGS__ }, NULL, NULL, NULL }; \
  __attribute__((constructor)) static void shim_reg_##suite##_##name(void) { shim_register(&shim_t_##suite##_##name); } \
  static void suite##_##name(void)

static void shim_alarm(int sig)
{
  (void)sig;
  static const char m[] = "[FAIL] timed out\n";
  if (write(1, m, sizeof m - 1) < 0) _exit(2);
  _exit(2);
}

/* In the child: the test with its suite's init and fini; 0 passed, 1
 * failed, 77 skipped. */
static int shim_child(const struct shim_test *t, const struct shim_suite *su, void *param)
{
  shim_main_thread = pthread_self();
  int timeout = t->o.timeout > 0 ? t->o.timeout : su && su->o.timeout > 0 ? su->o.timeout : 60;
  alarm((unsigned)timeout);
  int how = setjmp(shim_jump);
  if (!how) {
    if (su && su->o.init) su->o.init();
    if (t->params) t->run_one(param);
    else t->run();
  }
  if (how != 1 && su && su->o.fini) su->o.fini();
  fflush(stdout);
  return how == 1 ? 1 : how == 2 ? 77 : 0;
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGALRM, shim_alarm);
  int passed = 0, failed = 0;
  for (struct shim_test *t = shim_tests; t; t = t->next) {
    const struct shim_suite *su = NULL;
    for (const struct shim_suite *x = shim_suites; x; x = x->next)
      if (!strcmp(x->name, t->suite)) su = x;
    struct criterion_test_params p = t->params ? t->params() : (struct criterion_test_params){ 0, 1, NULL };
    for (size_t i = 0; i < p.length; i++) {
      fflush(stdout);
      pid_t pid = fork();
      if (pid < 0) return 2;
      if (pid == 0) _exit(shim_child(t, su, (char *)p.params + i * p.size));
      int st;
      while (waitpid(pid, &st, 0) < 0) {}
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      printf("[%s] %s::%s", code == 0 ? "PASS" : code == 77 ? "SKIP" : "FAIL", t->suite, t->name);
      if (t->params) printf(" [%zu]", i);
      if (code != 0 && code != 1 && code != 77) printf(" (exit %d)", code);
      printf("\n");
      if (code == 0 || code == 77) passed++;
      else failed++;
    }
  }
  printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0 \n", passed + failed, passed, failed);
  return failed ? 1 : 0;
}

#endif
