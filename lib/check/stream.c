/* stream.c - reading a trace exchange by exchange. */
#include <stdlib.h>
#include <string.h>
#include "check/stream.h"


int braid__stream_next_exchange(braid__stream *s, uint64_t *k)
{
  s->n = 0;
  while (!s->have_open && !s->end) {
    int rc = braid_trace_next(s->t, &s->open);
    if (rc) {
      s->end = rc;
      break;
    }
    if (s->open.type == BRAID_REC_EXCHANGE) s->have_open = 1;
  }
  if (!s->have_open) return s->end ? s->end : BRAID_EEOF;
  *k = s->open.field[0];
  s->have_open = 0;
  if (s->cap == 0) {
    s->cap = 256;
    s->v = malloc(s->cap * sizeof *s->v);
    if (!s->v) return BRAID_ENOMEM;
  }
  s->v[s->n++] = s->open;
  for (;;) {
    braid_record r;
    int rc = braid_trace_next(s->t, &r);
    if (rc) {
      s->end = rc;
      break;
    }
    if (r.type == BRAID_REC_EXCHANGE) {
      s->open = r;
      s->have_open = 1;
      break;
    }
    if (r.type == BRAID_REC_BARRIER && r.nfields >= 6) {
      s->epoch_ns += (double)r.field[3];
      s->wait_ns += (double)r.field[4];
      s->exchange_ns += (double)r.field[5];
      s->barriers++;
      if (r.field[2] + r.field[3] > s->end_ns) s->end_ns = r.field[2] + r.field[3];
    }
    if (r.type == BRAID_REC_PROJECTION && r.field[0] < 16) s->events[r.field[0]] = r.field[1];
    if (!BRAID_RECORD_IS_LOGICAL(r.type)) continue;
    if (s->max_records && s->n >= s->max_records) {
      braid__fmt(s->why, sizeof s->why, "exchange %llu holds more than %llu records, the most the header's settings can produce", (unsigned long long)*k,
                 (unsigned long long)s->max_records);
      return BRAID_ELIMIT;
    }
    if (s->n == s->cap) {
      if (s->cap >= (1u << 24)) {
        braid__fmt(s->why, sizeof s->why, "exchange %llu holds more than %u records", (unsigned long long)*k, 1u << 24);
        return BRAID_ELIMIT;
      }
      braid_record *nv = realloc(s->v, s->cap * 2 * sizeof *nv);
      if (!nv) {
        braid__fmt(s->why, sizeof s->why, "out of memory reading exchange %llu", (unsigned long long)*k);
        return BRAID_ENOMEM;
      }
      s->v = nv;
      s->cap *= 2;
    }
    s->v[s->n++] = r;
  }
  if (!s->nread++) {
    memcpy(s->events0, s->events, sizeof s->events);
    s->end0_ns = s->end_ns;
  }
  return 0;
}

void braid__stream_free(braid__stream *s)
{
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}
