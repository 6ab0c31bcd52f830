/* criterion.h - just enough of Criterion's test API, without its runner, to
 * build the threaded suites (test_runtime.c, test_chaos.c) in the
 * ThreadSanitizer build: Criterion's runner cannot start under TSan
 * (upstream issue Snaipe/Criterion#274).  Only the TSan build puts this
 * directory on the include path.
 *
 * Tests register themselves at load time and run one after the other in
 * one process, each under alarm() for its .timeout; a failed assertion on
 * the test's own thread ends that test (longjmp), one on another thread
 * ends the program.  The last line is a Criterion-style synthesis so that
 * CI counts the tests like the rest. */
#ifndef BRAID_TSAN_SHIM_CRITERION_H
#define BRAID_TSAN_SHIM_CRITERION_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One list per program: the tests of the file that includes this header. */
static struct shim_test *shim_tests, **shim_tail = &shim_tests;
static jmp_buf shim_jump;
static pthread_t shim_main_thread;
static int shim_failed_now;

static void shim_register(struct shim_test *t)
{
  *shim_tail = t;
  shim_tail = &t->next;
}

__attribute__((format(printf, 4, 5), unused)) static void shim_fail(const char *file, int line, const char *what, const char *fmt, ...)
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
  shim_failed_now = 1;
  longjmp(shim_jump, 1);
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
#define cr_expect_eq cr_assert_eq

#define TestSuite(suite, ...) static const struct shim_test_opts shim_suite_##suite __attribute__((unused)) = { __VA_ARGS__ }

#define Test(suite, name, ...)                                                          \
  static void suite##_##name(void);                                                    \
  static struct shim_test shim_t_##suite##_##name = { #suite, #name, suite##_##name, { __VA_ARGS__ }, NULL }; \
  __attribute__((constructor)) static void shim_reg_##suite##_##name(void) { shim_register(&shim_t_##suite##_##name); } \
  static void suite##_##name(void)

static void shim_alarm(int sig)
{
  (void)sig;
  static const char m[] = "[FAIL] timed out\n";
  if (write(1, m, sizeof m - 1) < 0) _exit(2);
  _exit(2);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  shim_main_thread = pthread_self();
  signal(SIGALRM, shim_alarm);
  int passed = 0, failed = 0;
  for (struct shim_test *t = shim_tests; t; t = t->next) {
    struct criterion_test_params p = t->params ? t->params() : (struct criterion_test_params){ 0, 1, NULL };
    for (size_t i = 0; i < p.length; i++) {
      alarm(t->o.timeout > 0 ? (unsigned)t->o.timeout : 60);
      shim_failed_now = 0;
      if (!setjmp(shim_jump)) {
        if (t->params) t->run_one((char *)p.params + i * p.size);
        else t->run();
      }
      alarm(0);
      printf("[%s] %s::%s", shim_failed_now ? "FAIL" : "PASS", t->suite, t->name);
      if (t->params) printf(" [%zu]", i);
      printf("\n");
      if (shim_failed_now) failed++;
      else passed++;
    }
  }
  printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: 0 \n", passed + failed, passed, failed);
  return failed ? 1 : 0;
}

#endif
