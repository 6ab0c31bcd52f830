/* trace_child.c - writes traces for the tests: until killed, a small seed
 * trace, or a copy of a real trace that no tool would write.
 *
 *   trace_child kill PATH FD      write exchanges forever, flushing every 3;
 *                                 after each flush write one byte to FD
 *   trace_child seed PATH N CKPT FINISH
 *                                 write N exchanges, a checkpoint every CKPT,
 *                                 flush every 4; finish the trace if FINISH=1
 *   trace_child copy SRC DST FROM TAMPER
 *                                 copy the exchanges FROM.. of SRC into DST
 *                                 under SRC's header, without checkpoints;
 *                                 TAMPER > 0 adds 1 to the vtime of the first
 *                                 projection of exchange TAMPER
 *   trace_child strings SRC DST BUILD HOST
 *                                 copy SRC whole into DST under its header
 *                                 with these build and host strings (any
 *                                 bytes: no tool writes them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trace/writer.h"
#include "trace_gen.h"

static int child_open(braid__trace_writer **w, const char *path)
{
  char err[256];
  braid__trace_header h = { "model=uniform\ntori=3\n", 0x1234, "0.1.0", "test", "host", 1700000000000000000ull, "" };
  int rc = braid__tw_open(w, path, &h, err, sizeof err);
  if (rc) fprintf(stderr, "trace_child: %s\n", err);
  return rc;
}

static int copy(const char *src, const char *dst, uint64_t from, uint64_t tamper, const char *build, const char *host)
{
  braid_trace *t;
  braid__trace_writer *w;
  char err[512];
  if (braid_trace_open(&t, src, err, sizeof err)) {
    fprintf(stderr, "trace_child: %s\n", err);
    return 2;
  }
  const braid_trace_info *in = braid_trace_get_info(t);
  braid__trace_header h = { in->config_text, in->config_hash, in->lib_version, build ? build : in->build_id, host ? host : in->host,
                            in->start_unix_ns, in->plugin };
  if (braid__tw_open(&w, dst, &h, err, sizeof err)) {
    fprintf(stderr, "trace_child: %s\n", err);
    return 2;
  }
  braid__buf b = { 0 };
  braid_record r;
  uint64_t k = 0, n = 0;
  int rc, keep = 0, tampered = 0;
  while ((rc = braid_trace_next(t, &r)) == 0 || rc == BRAID_EEOF) {
    if (rc == BRAID_EEOF || r.type == BRAID_REC_EXCHANGE) {
      if (keep && braid__tw_exchange(w, k, b.p, b.len)) return 2;
      if (rc == BRAID_EEOF) break;
      b.len = 0;
      k = r.field[0];
      keep = k >= from;
      n += keep;
    }
    if (!keep || r.type >= BRAID_REC_CHECKPOINT) continue;
    if (k == tamper && !tampered && r.type == BRAID_REC_PROJECTION) {
      r.field[2]++;
      tampered = 1;
    }
    braid__rec_put(&b, r.type, r.nfields, r.field);
  }
  braid__trace_footer f = { in->status, n, in->total_events, in->tori, { 0 } };
  if (rc != BRAID_EEOF || b.err || braid__tw_finish(w, &f)) return 2;
  braid__tw_close(w);
  braid_trace_close(t);
  braid__buf_free(&b);
  return 0;
}

int main(int argc, char **argv)
{
  braid__trace_writer *w;
  braid__buf b = { 0 };
  if (argc == 4 && !strcmp(argv[1], "kill")) {
    int fd = atoi(argv[3]);
    if (child_open(&w, argv[2])) return 2;
    for (uint64_t k = 1;; k++) {
      b.len = 0;
      gen_exchange(&b, k, 3);
      if (braid__tw_exchange(w, k, b.p, b.len)) return 2;
      if (k % 3 == 0) {
        if (braid__tw_flush(w)) return 2;
        if (write(fd, "f", 1) != 1) return 2;
      }
    }
  }
  if (argc == 6 && !strcmp(argv[1], "seed")) {
    uint64_t n = strtoull(argv[3], NULL, 10), every = strtoull(argv[4], NULL, 10);
    if (child_open(&w, argv[2])) return 2;
    for (uint64_t k = 1; k <= n; k++) {
      b.len = 0;
      gen_exchange(&b, k, 2);
      int rc = braid__tw_exchange(w, k, b.p, b.len);
      if (!rc && every && k % every == 0) {
        b.len = 0;
        gen_checkpoint(&b, k, 2, 40);
        rc = braid__tw_checkpoint(w, k, b.p, b.len);
      }
      if (!rc && k % 4 == 0) rc = braid__tw_flush(w);
      if (rc) return 2;
    }
    braid__trace_footer f = { BRAID_TRACE_COMPLETE, n, n * 100, 2, { 1, 2 } };
    int rc = atoi(argv[5]) ? braid__tw_finish(w, &f) : 0;
    braid__tw_close(w);
    braid__buf_free(&b);
    return rc ? 2 : 0;
  }
  if (argc == 6 && !strcmp(argv[1], "copy")) return copy(argv[2], argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10), NULL, NULL);
  if (argc == 6 && !strcmp(argv[1], "strings")) return copy(argv[2], argv[3], 0, 0, argv[4], argv[5]);
  fprintf(stderr, "usage: trace_child kill PATH FD | seed PATH N CKPT FINISH | copy SRC DST FROM TAMPER | strings SRC DST BUILD HOST\n");
  return 2;
}
