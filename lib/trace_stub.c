/* trace_stub.c - TEMPORARY: stands in for the trace writer until it lands. */
#include "trace.h"
int braid__tw_open(braid__trace_writer **out, const char *path, const braid__trace_header *h, char *err, size_t errlen) { (void)out; (void)path; (void)h; braid__fmt(err, errlen, "trace writer not built yet"); return BRAID_EUNSUPPORTED; }
int braid__tw_exchange(braid__trace_writer *w, uint64_t k, const uint8_t *recs, size_t len) { (void)w; (void)k; (void)recs; (void)len; return BRAID_EUNSUPPORTED; }
int braid__tw_checkpoint(braid__trace_writer *w, uint64_t k, const uint8_t *blob, size_t len) { (void)w; (void)k; (void)blob; (void)len; return BRAID_EUNSUPPORTED; }
int braid__tw_flush(braid__trace_writer *w) { (void)w; return 0; }
int braid__tw_finish(braid__trace_writer *w, const braid__trace_footer *f) { (void)w; (void)f; return 0; }
void braid__tw_close(braid__trace_writer *w) { (void)w; }
const char *braid__tw_error(const braid__trace_writer *w) { (void)w; return "stub"; }
uint64_t braid__tw_bytes(const braid__trace_writer *w) { (void)w; return 0; }
int braid_trace_open(braid_trace **out, const char *path, char *errbuf, size_t errlen) { *out = NULL; braid__fmt(errbuf, errlen, "%s: trace reader not built yet", path); return BRAID_EUNSUPPORTED; }
void braid_trace_close(braid_trace *t) { (void)t; }
const braid_trace_info *braid_trace_get_info(const braid_trace *t) { (void)t; return NULL; }
int braid_trace_next(braid_trace *t, braid_record *rec) { (void)t; (void)rec; return BRAID_EEOF; }
int braid_trace_seek(braid_trace *t, uint64_t k) { (void)t; (void)k; return BRAID_ERANGE; }
int braid_trace_checkpoint(braid_trace *t, uint64_t k, uint64_t *at, const uint8_t **blob, size_t *len) { (void)t; (void)k; (void)at; (void)blob; (void)len; return BRAID_ERANGE; }
const char *braid_trace_error(const braid_trace *t) { (void)t; return "stub"; }
