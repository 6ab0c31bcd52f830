/* locate.c - narrowing a divergence down: the torus to blame, the window
 * of its epoch the rungs point at, and the window re-run event by event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/locate.h"

static unsigned rung_of(const braid_record *a, const braid_record *b, unsigned rungs);

const braid_runtime *volatile braid__debug_runtime;
const braid_torus *volatile braid__debug_torus;

__attribute__((noinline)) void braid_debug_break(const braid_runtime *rt, const braid_torus *t)
{
  braid__debug_runtime = rt;
  braid__debug_torus = t;
  __asm__ volatile("" ::: "memory");
}

void braid__debug_stop(const braid_runtime *rt, const braid_torus *t)
{
  braid__debug_runtime = rt;
  braid__debug_torus = t;
  braid_debug_break(rt, t);
}

/* The first rung (1..rungs) that differs between two projection records,
 * rungs + 1 when none does.  A record without the field (nfields short)
 * reads as 0 on both sides. */
static unsigned rung_of(const braid_record *a, const braid_record *b, unsigned rungs)
{
  uint64_t ra = a->nfields > BRAID_F_PROJECTION_RUNGS ? a->field[BRAID_F_PROJECTION_RUNGS] : 0;
  uint64_t rb = b->nfields > BRAID_F_PROJECTION_RUNGS ? b->field[BRAID_F_PROJECTION_RUNGS] : 0;
  for (unsigned j = 1; j <= rungs && j <= 8; j++)
    if (((ra ^ rb) >> (7 * (j - 1))) & 0x7f) return j;
  return rungs + 1;
}

size_t braid__blame(const braid__aligner *al, unsigned rungs, uint32_t *tori)
{
  size_t best = al->n, first = al->n;
  unsigned best_rung = 0;
  *tori = 0;
  for (size_t i = 0; i < al->n; i++) {
    const braid__matched *m = &al->m[i];
    if (braid__same_record(m->a, m->b)) continue;
    const braid_record *any = m->a ? m->a : m->b;
    if (any->type != BRAID_REC_EXCHANGE && any->nfields > 0 && any->field[0] < 32) *tori |= 1u << any->field[0];
    if (first == al->n) first = i;
    if (!m->a || !m->b || any->type != BRAID_REC_PROJECTION) continue;
    unsigned r = rung_of(m->a, m->b, rungs);
    if (best == al->n || r < best_rung || (r == best_rung && any->field[0] < al->m[best].a->field[0])) {
      best = i;
      best_rung = r;
    }
  }
  return best != al->n ? best : first;
}

void braid__window_of(const braid_record *rec, const braid_record *rep, unsigned rungs, uint64_t k, braid_window *w)
{
  memset(w, 0, sizeof *w);
  w->exchange = k;
  w->torus = (uint32_t)rec->field[BRAID_F_PROJECTION_TORUS];
  w->rungs = rungs;
  w->rung = rung_of(rec, rep, rungs);
  size_t off = 0;
  static const struct {
    unsigned f;
    const char *what;
  } parts[] = {
    { BRAID_F_PROJECTION_DIGEST, "the processed events" },
    { BRAID_F_PROJECTION_PENDING_DIGEST, "the pending events" },
    { BRAID_F_PROJECTION_PENDING, "the number of pending events" },
    { BRAID_F_PROJECTION_CELL_DIGEST, "the cells or their edges" },
  };
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    unsigned f = parts[i].f;
    uint64_t a = f < rec->nfields ? rec->field[f] : 0, b = f < rep->nfields ? rep->field[f] : 0;
    if (a == b || off + 40 >= sizeof w->differs) continue;
    off += (size_t)snprintf(w->differs + off, sizeof w->differs - off, "%s%s", off ? ", " : "", parts[i].what);
  }
}

/* Pending events per bucket, to tell a handler's follow-ups: they are
 * appended to their buckets, so after the call each bucket's new events
 * are its last ones. */
static void pending_of(const braid__queue *q, uint32_t *pend)
{
  for (uint32_t i = 0; i <= q->mask; i++) pend[i] = braid__queue_bucket_count(q, i);
}

static void one_event(braid_torus *t, braid_window *w, uint32_t *before)
{
  uint64_t time;
  braid__qev ev;
  if (!braid__queue_pop(&t->q, &time, &ev)) return;
  pending_of(&t->q, before);
  braid__process(t, time, &ev);
  w->count++;
  if (w->nevents >= BRAID_WINDOW_MAX) return;
  braid_window_event *e = &w->ev[w->nevents++];
  uint32_t s = t->shift, m = t->dim - 1;
  *e = (braid_window_event){ t->events, { time, ev.dst, ev.src, ev.payload }, ev.dst >> (2 * s), (ev.dst >> s) & m, ev.dst & m, t->state[ev.dst], 0, { { 0 } } };
  /* Bucket i holds the one time in [now, now + W) that is i modulo W. */
  for (uint32_t i = 0; i <= t->q.mask; i++) {
    uint32_t now = braid__queue_bucket_count(&t->q, i);
    if (now <= before[i]) continue;
    uint64_t when = t->q.now + ((i - (uint32_t)t->q.now) & t->q.mask);
    braid__qev fresh[BRAID_WINDOW_FOLLOW];
    uint32_t room = e->nfollow < BRAID_WINDOW_FOLLOW ? BRAID_WINDOW_FOLLOW - e->nfollow : 0;
    uint32_t added = now - before[i], got = braid__queue_bucket_last(&t->q, i, added < room ? added : room, fresh);
    for (uint32_t j = 0; j < got; j++) e->follow[e->nfollow + j] = (braid_event){ when, fresh[j].dst, fresh[j].src, fresh[j].payload };
    e->nfollow += added;
  }
}

uint64_t braid__window_run(void *ud, braid_runtime *rt, braid_torus *t, uint64_t n)
{
  braid__window_probe *p = ud;
  braid_window *w = p->w;
  unsigned R = w->rungs, rung = w->rung ? w->rung : 1;
  /* The window's bounds, as runtime/step.c places the rungs (rung 0: the
   * window was never set; the whole epoch). */
  uint64_t lo = rung > R + 1 ? 0 : (uint64_t)(((unsigned __int128)n * (rung - 1)) / (R + 1));
  uint64_t hi = rung > R ? n : (uint64_t)(((unsigned __int128)n * rung) / (R + 1));
  uint64_t done = braid__torus_run(t, lo);
  uint32_t *before = malloc(((size_t)t->q.mask + 1) * sizeof *before);
  if (!before) return done + braid__torus_run(t, n - done); /* not located: found stays 0 */
  if (p->do_break) braid__debug_stop(rt, t);
  w->first = t->events + 1;
  w->count = 0;
  while (done < hi && t->q.size) {
    one_event(t, w, before);
    done++;
  }
  free(before);
  w->found = 1;
  return done + braid__torus_run(t, n - done);
}
