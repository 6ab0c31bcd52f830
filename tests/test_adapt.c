/* test_adapt.c - the adaptive interval as the pure function of lib/adapt.h:
 * each row is one exchange's inputs (rule, state, observation) and the
 * decision they must give. */
#include <criterion/criterion.h>
#include <string.h>
#include "runtime/adapt.h"
#include "format/record.h"

#define VIOL { BRAID_ADAPT_VIOLATIONS, 100, 10000, 10000, 3 }
#define RATE { BRAID_ADAPT_RATE, 100, 10000, 10000, 3 }
#define OFF { BRAID_ADAPT_OFF, 100, 10000, 10000, 3 }

/* An observation: a boundary check of c cells with v violated; an epoch
 * of ev events in ns nanoseconds; a replay's recorded interval. */
#define CHECK(c, v) { c, v, 0, 0, 0, 0, 0 }
#define EPOCH(ns, ev) { 1000, 0, ns, ev, 0, 0, 0 }
#define REPLAYED(iv) { 1000, 0, 1000, 1000, 1, iv, 0 }
/* A check whose predecessor's projection says it ran epochs of p events. */
#define AFTER(c, v, p) { c, v, 0, 0, 0, 0, p }

typedef struct adapt_case {
  const char *name;
  braid__adapt_rule rule;
  braid__adapt state;
  braid__adapt_obs obs;
  braid__adapt want;
  uint32_t reason;
  uint64_t rate_ppm;
} adapt_case;

/* Checks of 1000 cells: 6 violated is 6000 ppm, above half the threshold
 * (5000); 2 is 2000, below a quarter (2500). */
static const adapt_case cases[] = {
  { "above half the threshold counts up", VIOL, { 1000, 0, 0 }, CHECK(1000, 6), { 1000, 1, 0 }, 0, 6000 },
  { "the third check in a row above shrinks by a fifth", VIOL, { 1000, 2, 0 }, CHECK(1000, 6), { 800, 0, 0 }, BRAID_INTERVAL_SHRINK, 6000 },
  { "one check above after checks below restarts the count", VIOL, { 1000, 0, 2 }, CHECK(1000, 6), { 1000, 1, 0 }, 0, 6000 },
  { "exactly half the threshold is inside the band", VIOL, { 1000, 2, 0 }, CHECK(1000, 5), { 1000, 0, 0 }, 0, 5000 },
  { "exactly a quarter is inside the band", VIOL, { 1000, 0, 2 }, CHECK(4000, 10), { 1000, 0, 0 }, 0, 2500 },
  { "inside the band holds and forgets both trends", VIOL, { 1000, 2, 0 }, CHECK(1000, 3), { 1000, 0, 0 }, 0, 3000 },
  { "below a quarter counts down", VIOL, { 1000, 0, 0 }, CHECK(1000, 2), { 1000, 0, 1 }, 0, 2000 },
  { "the third check in a row below grows by a fifth plus one", VIOL, { 1000, 0, 2 }, CHECK(1000, 2), { 1201, 0, 0 }, BRAID_INTERVAL_GROW, 2000 },
  { "growth stops at interval_max", VIOL, { 10000, 0, 2 }, CHECK(1000, 0), { 10000, 0, 0 }, 0, 0 },
  { "growth is clamped to interval_max", VIOL, { 9000, 0, 2 }, CHECK(1000, 0), { 10000, 0, 0 }, BRAID_INTERVAL_GROW, 0 },
  { "shrinking stops at interval_min", VIOL, { 100, 2, 0 }, CHECK(1000, 1000), { 100, 0, 0 }, 0, 1000000 },
  { "shrinking is clamped to interval_min", VIOL, { 110, 2, 0 }, CHECK(1000, 1000), { 100, 0, 0 }, BRAID_INTERVAL_SHRINK, 1000000 },
  /* A perturbation corrected at the next exchange: two whole-face checks
   * in a row do not shorten the epochs. */
  { "two bad checks are within the hysteresis", VIOL, { 1000, 1, 0 }, CHECK(1024, 1024), { 1000, 2, 0 }, 0, 1000000 },
  { "no cells checked is a rate of 0", VIOL, { 1000, 0, 0 }, CHECK(0, 0), { 1000, 0, 1 }, 0, 0 },
  { "the rate is in ppm, rounded down", VIOL, { 1000, 0, 0 }, CHECK(1024, 10), { 1000, 1, 0 }, 0, 9765 },
  { "hysteresis 1 changes at once", { BRAID_ADAPT_VIOLATIONS, 100, 10000, 10000, 1 }, { 1000, 0, 0 }, CHECK(1000, 9), { 800, 0, 0 },
    BRAID_INTERVAL_SHRINK, 9000 },
  { "the threshold is the rule's", { BRAID_ADAPT_VIOLATIONS, 100, 10000, 100000, 3 }, { 1000, 2, 0 }, CHECK(1000, 40), { 1000, 0, 0 }, 0, 40000 },
  { "off never changes anything", OFF, { 1000, 7, 7 }, { 1000, 1000, 1, 1, 0, 0, 5 }, { 1000, 7, 7 }, 0, 1000000 },
  /* The ring: at most one growth step above the predecessor. */
  { "growth stops one step above the predecessor", VIOL, { 1000, 0, 2 }, AFTER(1000, 2, 900), { 1081, 0, 0 }, BRAID_INTERVAL_GROW, 2000 },
  { "growth up to exactly that step is whole", VIOL, { 1000, 0, 2 }, AFTER(1000, 2, 1000), { 1201, 0, 0 }, BRAID_INTERVAL_GROW, 2000 },
  { "growth wanted while far above the predecessor follows it down", VIOL, { 1000, 0, 2 }, AFTER(1000, 2, 800), { 961, 0, 0 },
    BRAID_INTERVAL_FOLLOW, 2000 },
  { "holding far above the predecessor follows it down", VIOL, { 5000, 0, 0 }, AFTER(1000, 3, 1000), { 1201, 0, 0 }, BRAID_INTERVAL_FOLLOW,
    3000 },
  { "holding within one step of the predecessor stays", VIOL, { 1201, 0, 0 }, AFTER(1000, 3, 1000), { 1201, 0, 0 }, 0, 3000 },
  { "a shrink below the step stays a shrink", VIOL, { 1000, 2, 0 }, AFTER(1000, 6, 2000), { 800, 0, 0 }, BRAID_INTERVAL_SHRINK, 6000 },
  { "a shrink not far enough goes to the step", VIOL, { 1000, 2, 0 }, AFTER(1000, 6, 400), { 481, 0, 0 }, BRAID_INTERVAL_FOLLOW, 6000 },
  { "the step is clamped to interval_max", VIOL, { 10000, 0, 2 }, AFTER(1000, 0, 10000), { 10000, 0, 0 }, 0, 0 },
  { "the step is clamped to interval_min", VIOL, { 200, 0, 0 }, AFTER(1000, 3, 50), { 100, 0, 0 }, BRAID_INTERVAL_FOLLOW, 3000 },
  { "the hysteresis counts go on while following", VIOL, { 5000, 0, 1 }, AFTER(1000, 2, 1000), { 1201, 0, 2 }, BRAID_INTERVAL_FOLLOW, 2000 },
  /* and, after a quiet check, up to a predecessor at most one step ahead. */
  { "a quiet check catches up with a predecessor one step ahead", VIOL, { 1000, 0, 0 }, AFTER(1000, 2, 1201), { 1201, 0, 1 },
    BRAID_INTERVAL_FOLLOW, 2000 },
  { "catching up takes the predecessor's interval", VIOL, { 1000, 0, 0 }, AFTER(1000, 2, 1100), { 1100, 0, 1 }, BRAID_INTERVAL_FOLLOW, 2000 },
  { "a quiet check that grows takes the longer of the two", VIOL, { 1000, 0, 2 }, AFTER(1000, 2, 1100), { 1201, 0, 0 }, BRAID_INTERVAL_GROW,
    2000 },
  { "a predecessor further ahead is not caught up with", VIOL, { 800, 0, 0 }, AFTER(1000, 2, 1000), { 800, 0, 1 }, 0, 2000 },
  { "a check inside the band does not catch up", VIOL, { 1000, 0, 0 }, AFTER(1000, 3, 1100), { 1000, 0, 0 }, 0, 3000 },
  { "a check above the band does not catch up", VIOL, { 1000, 0, 0 }, AFTER(1000, 6, 1100), { 1000, 1, 0 }, 0, 6000 },
  { "a shrink does not catch up", VIOL, { 1000, 2, 0 }, AFTER(1000, 6, 1100), { 800, 0, 0 }, BRAID_INTERVAL_SHRINK, 6000 },
  { "catching up is clamped to interval_max", VIOL, { 9000, 0, 0 }, AFTER(1000, 0, 10500), { 10000, 0, 1 }, BRAID_INTERVAL_FOLLOW, 0 },
  { "an equal predecessor is no catching up", VIOL, { 3000, 0, 0 }, AFTER(1000, 0, 3000), { 3000, 0, 1 }, 0, 0 },
  { "rate: the predecessor's interval does not matter", RATE, { 1000, 0, 0 }, { 1000, 0, 1000000, 1000, 0, 0, 100 }, { 200, 0, 0 },
    BRAID_INTERVAL_RATE, 0 },
  /* Rate mode: about 200 us of measured wall time per epoch. */
  { "rate: 1 event/us wants 200", RATE, { 1000, 0, 0 }, EPOCH(1000000, 1000), { 200, 0, 0 }, BRAID_INTERVAL_RATE, 0 },
  { "rate: within a fifth stays", RATE, { 1000, 0, 0 }, EPOCH(1000000, 5500), { 1000, 0, 0 }, 0, 0 },
  { "rate: clamped to interval_max", RATE, { 1000, 0, 0 }, EPOCH(1000, 1000), { 10000, 0, 0 }, BRAID_INTERVAL_RATE, 0 },
  { "rate: nothing measured yet stays", RATE, { 1000, 0, 0 }, EPOCH(0, 0), { 1000, 0, 0 }, 0, 0 },
  { "rate: a replay follows the record", RATE, { 1000, 0, 0 }, REPLAYED(4321), { 4321, 0, 0 }, BRAID_INTERVAL_RATE, 0 },
  { "rate: a replay with no change recorded stays", RATE, { 1000, 0, 0 }, REPLAYED(1000), { 1000, 0, 0 }, 0, 0 },
};

Test(adapt, decisions_of_the_table)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const adapt_case *c = &cases[i];
    braid__adapt_decision d = braid__adapt_next(&c->rule, c->state, &c->obs);
    cr_expect(d.next.interval == c->want.interval && d.next.up == c->want.up && d.next.down == c->want.down,
              "%s: interval %u up %u down %u, want %u %u %u", c->name, d.next.interval, d.next.up, d.next.down, c->want.interval, c->want.up,
              c->want.down);
    cr_expect_eq(d.reason, c->reason, "%s: reason %u, want %u", c->name, d.reason, c->reason);
    cr_expect_eq(d.rate_ppm, c->rate_ppm, "%s: rate %llu ppm, want %llu", c->name, (unsigned long long)d.rate_ppm,
                 (unsigned long long)c->rate_ppm);
  }
}

/* Same inputs, same decision, and the inputs are left as they were. */
Test(adapt, is_a_pure_function)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    adapt_case c = cases[i];
    braid__adapt_decision a = braid__adapt_next(&c.rule, c.state, &c.obs);
    braid__adapt_decision b = braid__adapt_next(&c.rule, c.state, &c.obs);
    cr_expect(!memcmp(&a, &b, sizeof a), "%s: two calls differ", c.name);
    cr_expect(!memcmp(&c, &cases[i], sizeof c), "%s: the inputs changed", c.name);
  }
}

/* A run of checks: a steady quiet torus grows to interval_max and stays. */
Test(adapt, quiet_checks_grow_the_interval_to_its_maximum)
{
  braid__adapt_rule rule = VIOL;
  braid__adapt a = { 1000, 0, 0 };
  braid__adapt_obs quiet = CHECK(1024, 0);
  unsigned changes = 0;
  for (int k = 0; k < 100; k++) {
    braid__adapt_decision d = braid__adapt_next(&rule, a, &quiet);
    changes += d.reason != 0;
    a = d.next;
  }
  cr_assert_eq(a.interval, 10000);
  cr_assert_eq(changes, 13, "1000 -> 10000 by a fifth (+1) takes 13 growths");
}

/* The settings map onto the rule field by field. */
Test(adapt, rule_and_start_come_from_the_settings)
{
  braid_config *cfg;
  cr_assert_eq(braid_config_create(&cfg), 0);
  cr_assert_eq(braid_config_set(cfg, "interval", "700"), 0);
  cr_assert_eq(braid_config_set(cfg, "interval_min", "50"), 0);
  cr_assert_eq(braid_config_set(cfg, "interval_max", "900"), 0);
  cr_assert_eq(braid_config_set(cfg, "adapt", "rate"), 0);
  cr_assert_eq(braid_config_set(cfg, "adapt_threshold_ppm", "1234"), 0);
  cr_assert_eq(braid_config_set(cfg, "adapt_hysteresis", "5"), 0);
  braid__adapt_rule r = braid__adapt_rule_of(cfg);
  braid__adapt a = braid__adapt_start(cfg);
  cr_expect(r.mode == BRAID_ADAPT_RATE && r.lo == 50 && r.hi == 900 && r.threshold_ppm == 1234 && r.hysteresis == 5);
  cr_expect(a.interval == 700 && a.up == 0 && a.down == 0);
  braid_config_destroy(cfg);
}
