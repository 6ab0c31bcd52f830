/* report.h - the report of a finished run. */
#ifndef BRAID_REPORT_H
#define BRAID_REPORT_H

#include "runtime/runtime.h"

/* Fills rt->report (and rt->torus_reports) from the tori's counters and
 * histograms, the CPU the run used and the resident memory. */
void braid__report_build(braid_runtime *rt);

#endif
