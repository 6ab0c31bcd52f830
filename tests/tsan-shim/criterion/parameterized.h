/* parameterized.h - ParameterizedTest for the TSan shim (see criterion.h):
 * the test runs and counts once per parameter, as with Criterion. */
#ifndef BRAID_TSAN_SHIM_PARAMETERIZED_H
#define BRAID_TSAN_SHIM_PARAMETERIZED_H

#include <criterion/criterion.h>

#define ParameterizedTestParameters(suite, name) struct criterion_test_params suite##_##name##_params(void)

#define ParameterizedTest(param, suite, name, ...)                                              \
  struct criterion_test_params suite##_##name##_params(void);                                  \
  static void suite##_##name##_one(param);                                                      \
  static void suite##_##name##_any(void *p) { suite##_##name##_one(p); }                       \
  static struct shim_test shim_t_##suite##_##name = { #suite, #name, NULL, { __VA_ARGS__ }, NULL, \
                                                      suite##_##name##_params, suite##_##name##_any }; \
  __attribute__((constructor)) static void shim_reg_##suite##_##name(void) { shim_register(&shim_t_##suite##_##name); } \
  static void suite##_##name##_one(param)

#endif
