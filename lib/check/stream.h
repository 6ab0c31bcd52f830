/* stream.h - a trace read one exchange at a time: the logical records of
 * each exchange, and the timing totals of what was read. */
#ifndef BRAID_STREAM_H
#define BRAID_STREAM_H

#include "common/common.h"

/* A reader and the exchange last read.  `open` holds the EXCHANGE record
 * that opens the next exchange once it was met. */
typedef struct braid__stream {
  braid_trace *t;
  braid_record open;
  int have_open;
  int end;      /* 0 running; else the code that ended it (EEOF/ETRUNCATED/...) */
  braid_record *v;
  size_t n, cap;
  uint64_t max_records; /* per exchange, from the header's settings (runtime/footprint.h); 0: no bound */
  char why[256];        /* what ended it, when the trace's message does not say */
  /* Timing, from barrier records (braid-diff --timing).  events: the
   * projections' cumulative counts; events0 and end0_ns as they were after
   * the first exchange read, which need not be exchange 0. */
  double epoch_ns, wait_ns, exchange_ns;
  uint64_t barriers, end_ns, events[16];
  uint64_t nread, end0_ns, events0[16];
} braid__stream;

/* Reads the logical records of the next exchange into s->v (s->n of them,
 * its EXCHANGE record first) and its number into *k; totals the timing
 * records on the way.  0, BRAID_EEOF after the last exchange, the reader's
 * error (BRAID_ETRUNCATED, BRAID_ECORRUPT, ...), or BRAID_ELIMIT /
 * BRAID_ENOMEM with s->why saying why: an exchange with more than
 * max_records logical records cannot come from the header's settings, and
 * is refused before it can make the reader hold it. */
int braid__stream_next_exchange(braid__stream *s, uint64_t *k);
void braid__stream_free(braid__stream *s);

#endif
