/* test_config.c - settings and model parameters: ranges and messages. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "runtime/settings.h"

/* Criterion re-executes each test: parameters hold text, not pointers. */
typedef struct bad_setting {
  char key[24], value[32];
  int err;
  char needle[40]; /* the message must contain this */
} bad_setting;

ParameterizedTestParameters(config, rejects_bad_setting)
{
  static bad_setting cases[] = {
    { "tori", "1", BRAID_ERANGE, "2..16" },
    { "tori", "17", BRAID_ERANGE, "2..16" },
    { "tori", "-3", BRAID_ERANGE, "2..16" },
    { "tori", "abc", BRAID_EINVAL, "not a whole number" },
    { "tori", "3x", BRAID_EINVAL, "not a whole number" },
    { "tori", "", BRAID_EINVAL, "not a whole number" },
    { "seed", "99999999999999999999999", BRAID_ERANGE, "out of range 0..9223372036854775807" },
    { "tori", "-99999999999999999999999", BRAID_ERANGE, "out of range 2..16" },
    { "dim", "24", BRAID_ERANGE, "power of two" },
    { "dim", "256", BRAID_ERANGE, "8..128" },
    { "interval", "0", BRAID_ERANGE, "interval" },
    { "threads", "65", BRAID_ERANGE, "0..64" },
    { "adapt", "sometimes", BRAID_EINVAL, "off, violations, rate" },
    { "model", "nosuch", BRAID_EMODEL, "nosuch" },
    { "nosuch", "1", BRAID_EINVAL, "unknown setting 'nosuch'" },
    { "fail", "B1200", BRAID_EINVAL, "TORUS@EXCHANGE" },
    { "fail", "Z@10", BRAID_EINVAL, "A..P" },
    { "fail", "B@0", BRAID_EINVAL, ">= 1" },
    { "fail", "B@99999999999999999999999", BRAID_EINVAL, "out of range 1..9223372036854775807" },
    { "fail", "B@5,,C@9", BRAID_EINVAL, "empty entry" },
    { "fail", "B@5,", BRAID_EINVAL, "empty entry" },
  };
  return cr_make_param_array(bad_setting, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(bad_setting *c, config, rejects_bad_setting)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  int rc = braid_config_set(cfg, c->key, c->value);
  cr_assert_eq(rc, c->err, "%s=%s gave %d", c->key, c->value, rc);
  cr_assert(strstr(braid_config_error(cfg), c->needle), "message '%s' lacks '%s'", braid_config_error(cfg), c->needle);
  braid_config_destroy(cfg);
}

typedef struct bad_param {
  char model[16], key[16], value[32], needle[80];
} bad_param;

ParameterizedTestParameters(config, rejects_bad_model_parameter)
{
  static bad_param cases[] = {
    { "uniform", "pop", "0", "pop of uniform: 0 is out of range 1..16" },
    { "uniform", "pop", "abc", "pop of uniform: 'abc' is not a whole number (range 1..16)" },
    { "uniform", "pop", "", "pop of uniform: '' is not a whole number (range 1..16)" },
    { "uniform", "pop", "99999999999999999999", "pop of uniform: 99999999999999999999 is out of range 1..16" },
    { "uniform", "max_delay", "300", "2..255" },
    { "uniform", "nosuch", "1", "no parameter 'nosuch' (it takes pop, max_delay)" },
    { "skewed", "hot_permille", "1001", "0..1000" },
    { "skewed", "hot", "0", "1..4096" },
    { "bursty", "period", "1", "2..200" },
    { "bursty", "hops", "65", "1..64" },
    { "phold", "lookahead", "0", "1..64" },
    { "phold", "mean", "x", "mean of phold: 'x' is not a whole number (range 0..128)" },
  };
  return cr_make_param_array(bad_param, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(bad_param *c, config, rejects_bad_model_parameter)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set(cfg, "model", c->model), 0);
  cr_assert_eq(braid_config_set_param(cfg, c->key, c->value), BRAID_EPARAM);
  cr_assert(strstr(braid_config_error(cfg), c->needle), "message '%s' lacks '%s'", braid_config_error(cfg), c->needle);
  braid_config_destroy(cfg);
}

Test(config, parameter_checked_again_when_model_changes)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set_param(cfg, "max_delay", "20"), 0);
  cr_assert_eq(braid_config_set(cfg, "model", "phold"), BRAID_EPARAM);
  cr_assert(strstr(braid_config_error(cfg), "model phold has no parameter 'max_delay' (it takes pop, lookahead, mean)"), "%s",
            braid_config_error(cfg));
  braid_config_destroy(cfg);
}

Test(config, canonical_text_round_trips)
{
  braid_config *a, *b;
  cr_assert_eq(braid_config_create(&a), 0);
  cr_assert_eq(braid_config_create(&b), 0);
  cr_assert_eq(braid_config_set(a, "model", "phold"), 0);
  cr_assert_eq(braid_config_set(a, "tori", "5"), 0);
  cr_assert_eq(braid_config_set(a, "fail", "C@30,A@10"), 0);
  cr_assert_eq(braid_config_set_param(a, "mean", "4"), 0);
  const char *t = braid_config_text(a);
  cr_assert(strstr(t, "fail=0@10,2@30\n"), "%s", t);
  cr_assert(strstr(t, "p.mean=4\n"));
  cr_assert_eq(braid__config_parse_text(b, t, strlen(t)), 0, "%s", braid_config_error(b));
  cr_assert_str_eq(braid_config_text(b), t);
  cr_assert_eq(braid_config_hash(a), braid_config_hash(b));
  braid_config_set(b, "threads", "2"); /* not logical: the hash stays */
  cr_assert_eq(braid_config_hash(a), braid_config_hash(b));
  braid_config_set(b, "seed", "2");
  cr_assert_neq(braid_config_hash(a), braid_config_hash(b));
  braid_config_destroy(a);
  braid_config_destroy(b);
}

Test(config, torus_names_are_a_letter_a_to_p_or_a_number_0_to_15)
{
  static const struct {
    const char *text;
    uint32_t torus;
  } good[] = { { "A", 0 }, { "C", 2 }, { "P", 15 }, { "0", 0 }, { "7", 7 }, { "15", 15 } };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    uint32_t t = 99;
    cr_assert_eq(braid_parse_torus(good[i].text, &t), 0, "'%s' refused", good[i].text);
    cr_assert_eq(t, good[i].torus, "'%s' read as %u", good[i].text, t);
  }
  static const char *bad[] = { "Z", "Q", "AB", "a", "16", "99", "-1", "007", "", " A", "1x" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint32_t t = 99;
    cr_assert_eq(braid_parse_torus(bad[i], &t), BRAID_EINVAL, "'%s' accepted", bad[i]);
    cr_assert_eq(t, 99, "'%s' wrote the torus anyway", bad[i]);
  }
  cr_assert_eq(braid_parse_torus(NULL, &(uint32_t){ 0 }), BRAID_EINVAL);
}
