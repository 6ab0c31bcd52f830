/* converge.c - the convergence figure of one torus (the rule is in
 * converge.h). */
#include <string.h>
#include "runtime/converge.h"

#define W BRAID_CONVERGENCE_WINDOW

void braid__converge_init(braid__converge *cv)
{
  memset(cv, 0, sizeof *cv);
  cv->perturbed = -1;
  cv->from = -1;
}

void braid__converge_perturb(braid__converge *cv, uint64_t k, uint32_t kind)
{
  cv->perturbed = (int64_t)k;
  cv->kind = kind;
  cv->first = kind == BRAID_PERTURB_REBUILD ? k : k + 1;
  cv->from = -1;
}

/* Ring index of the i-th newest entry (0: the newest). */
static uint32_t newest(const braid__converge *cv, uint32_t i) { return (cv->at + W - 1 - i) % W; }

/* 1% or more of the cells compared were violated. */
static int off(uint64_t viol, uint64_t checked) { return checked && viol * 100 >= checked; }

/* Every run of checks from the entry `age` back (newest-first index) up to
 * each later entry, at most W long, is below 1%. */
static int holds_from(const braid__converge *cv, uint32_t age)
{
  for (uint32_t end = age + 1; end-- > 0;) {
    uint64_t v = 0, c = 0;
    uint32_t start = end + W - 1 < age ? end + W - 1 : age;
    for (uint32_t i = start + 1; i-- > end;) {
      v += cv->viol[newest(cv, i)];
      c += cv->checked[newest(cv, i)];
    }
    if (off(v, c)) return 0;
  }
  return 1;
}

void braid__converge_check(braid__converge *cv, uint64_t k, uint64_t checked, uint64_t violated)
{
  cv->k[cv->at] = k;
  cv->viol[cv->at] = violated;
  cv->checked[cv->at] = checked;
  cv->at = (cv->at + 1) % W;
  if (cv->n < W) cv->n++;
  if (k < cv->first) return;
  if (cv->from >= 0) {
    /* The newest run from C: the last W checks, or those since C. */
    uint64_t v = 0, c = 0;
    for (uint32_t i = 0; i < cv->n && cv->k[newest(cv, i)] >= (uint64_t)cv->from; i++) {
      v += cv->viol[newest(cv, i)];
      c += cv->checked[newest(cv, i)];
    }
    if (!off(v, c)) return;
    /* C no longer holds.  Any later C lies after the start of that run, so
     * within the ring: take the oldest candidate whose runs all hold. */
    uint64_t bad_from = cv->from;
    cv->from = -1;
    for (uint32_t age = cv->n; age-- > 0;) {
      uint64_t e = cv->k[newest(cv, age)];
      if (e <= bad_from || e < cv->first) continue;
      if (holds_from(cv, age)) {
        cv->from = (int64_t)e;
        return;
      }
    }
    return;
  }
  if (!off(violated, checked)) cv->from = (int64_t)k;
}
