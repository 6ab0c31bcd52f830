/* dump_html.h - braid-dump --html: one self-contained page with SVG charts
 * of a run (settings, verdict, charts over exchanges, distributions). */
#ifndef BRAID_DUMP_HTML_H
#define BRAID_DUMP_HTML_H

#include <stdint.h>
#include "braid.h"

typedef struct dump_html_opts {
  const char *path;  /* the file the trace is read from (the replay reads it too) */
  const char *shown; /* its name on the page */
  int replay;        /* replay the trace and show the verdict */
  /* braid-dump's selection: the next selected record, and the seek to its
   * first exchange (both return 0, BRAID_EEOF or a reader error). */
  int (*next)(braid_trace *t, braid_record *r);
  int (*seek)(braid_trace *t);
  const char *tori; /* the selected tori ("A, C"), or NULL without a selection */
  uint64_t from, to; /* the selected exchanges */
} dump_html_opts;

/* Reads the selected records of the open trace t and prints the page on
 * stdout, all at once at the end (what was read of a damaged trace, for
 * --partial).  Returns the reader's last code: BRAID_EEOF after a clean
 * end, or its error (message in braid_trace_error()). */
int dump_html(braid_trace *t, const braid_trace_info *in, const dump_html_opts *o);

#endif
