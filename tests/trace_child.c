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
 *   trace_child hostile HOW SRC DST [ARG...]
 *                                 SRC edited at the record level, with valid
 *                                 checksums, index and footer (trace_codec.h):
 *                                 the replay fixtures of tests/trace-fixtures/replay
 *     set KEY=VALUE|KEY!...       header settings replaced (or added), or dropped
 *     repeat LINE N               the settings line LINE added N times
 *     interval VALUE              the first rate interval record says VALUE
 *     torus VALUE                 the first projection's torus is VALUE
 *     flood N                     N empty projection records in exchange 0
 *     frames N                    N frames of one EXCHANGE record each, no index
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trace/writer.h"
#include "trace_codec.h"
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

/* Replaces (or appends) the settings line of KEY=VALUE. */
static int set_setting(tc_trace *t, const char *kv)
{
  tc_rec *x = tc_header_field(t, BRAID_TF_H_CONFIG_TEXT);
  size_t klen = strcspn(kv, "=!");
  int drop = kv[klen] == '!';
  if (!x || !kv[klen]) return -1;
  braid__buf b = { 0 };
  int done = 0;
  for (size_t i = 0; i < x->len;) {
    const uint8_t *p = x->p + i, *nl = memchr(p, '\n', x->len - i);
    size_t n = nl ? (size_t)(nl - p) + 1 : x->len - i;
    if (!done && n > klen && p[klen] == '=' && !memcmp(p, kv, klen)) {
      if (!drop) braid__buf_put(&b, kv, strlen(kv));
      if (!drop) braid__buf_put(&b, "\n", 1);
      done = 1;
    } else {
      braid__buf_put(&b, p, n);
    }
    i += n;
  }
  if (!done && !drop) {
    braid__buf_put(&b, kv, strlen(kv));
    braid__buf_put(&b, "\n", 1);
  }
  int rc = b.err ? -1 : tc_set(x, b.p, b.len);
  braid__buf_free(&b);
  return rc;
}

/* The first record of this type in the data frames (for `want` < 128,
 * `reason`: its fourth field must be that, unless 0). */
static tc_rec *first_record(tc_trace *t, uint64_t want, uint64_t reason)
{
  for (size_t i = 0; i < t->nf; i++)
    for (size_t j = 0; t->f[i].kind == TC_DATA && j < t->f[i].recs.n; j++) {
      tc_rec *x = &t->f[i].recs.v[j];
      uint64_t v[4] = { 0 };
      const uint8_t *p = x->p, *e = p + x->len;
      for (int k = 0; k < 4 && p < e; k++) {
        size_t c = braid__varint_get(p, e, &v[k]);
        if (!c) break;
        p += c;
      }
      if (x->type == want && (!reason || v[3] == reason)) return x;
    }
  return NULL;
}

/* Sets varint field i of a field record. */
static int set_field(tc_rec *x, unsigned i, uint64_t value)
{
  braid__buf b = { 0 };
  const uint8_t *p = x->p, *e = p + x->len;
  for (unsigned k = 0; p < e; k++) {
    uint64_t v;
    size_t c = braid__varint_get(p, e, &v);
    if (!c) break;
    tc_put_varint(&b, k == i ? value : v);
    p += c;
  }
  int rc = b.err ? -1 : tc_set(x, b.p, b.len);
  braid__buf_free(&b);
  return rc;
}

static int hostile(int argc, char **argv)
{
  const char *how = argv[2], *src = argv[3], *dst = argv[4];
  FILE *f = fopen(src, "rb");
  if (!f) return 2;
  braid__buf in = { 0 };
  uint8_t chunk[65536];
  for (size_t n; (n = fread(chunk, 1, sizeof chunk, f)) > 0;) braid__buf_put(&in, chunk, n);
  fclose(f);
  tc_trace t;
  if (in.err || tc_decode(&t, in.p, in.len)) {
    fprintf(stderr, "trace_child: %s: cannot take it apart\n", src);
    return 2;
  }
  int rc = 0;
  if (!strcmp(how, "set")) {
    for (int i = 5; !rc && i < argc; i++) rc = set_setting(&t, argv[i]);
  } else if (!strcmp(how, "repeat") && argc == 7) {
    for (long i = 0; !rc && i < atol(argv[6]); i++) {
      tc_rec *x = tc_header_field(&t, BRAID_TF_H_CONFIG_TEXT);
      braid__buf b = { 0 };
      braid__buf_put(&b, x->p, x->len);
      braid__buf_put(&b, argv[5], strlen(argv[5]));
      braid__buf_put(&b, "\n", 1);
      rc = b.err ? -1 : tc_set(x, b.p, b.len);
      braid__buf_free(&b);
    }
  } else if (!strcmp(how, "interval") && argc == 6) {
    tc_rec *x = first_record(&t, BRAID_REC_INTERVAL, BRAID_INTERVAL_RATE);
    rc = x ? set_field(x, 2, strtoull(argv[5], NULL, 10)) : -1;
  } else if (!strcmp(how, "torus") && argc == 6) {
    tc_rec *x = first_record(&t, BRAID_REC_PROJECTION, 0);
    rc = x ? set_field(x, 0, strtoull(argv[5], NULL, 10)) : -1;
  } else if (!strcmp(how, "flood") && argc == 6) {
    tc_list *l = &t.f[0].recs;
    tc_list nl = { 0 };
    for (size_t i = 0; !rc && i < l->n; i++) {
      rc = tc_add(&nl, l->v[i].type, l->v[i].p, l->v[i].len);
      if (i == 0)
        for (unsigned long n = strtoul(argv[5], NULL, 10); !rc && n--;) rc = tc_add(&nl, BRAID_REC_PROJECTION, NULL, 0);
    }
    tc_list_free(l);
    *l = nl;
  } else if (!strcmp(how, "frames") && argc == 6) {
    for (size_t i = 0; i < t.nf; i++) tc_list_free(&t.f[i].recs);
    t.nf = 0;
    t.finished = 0;
    for (uint64_t k = 0; !rc && k < strtoull(argv[5], NULL, 10); k++) {
      uint8_t v[10];
      tc_frame *fr = tc_new_frame(&t, TC_DATA, 0);
      rc = fr ? tc_add(&fr->recs, BRAID_REC_EXCHANGE, v, braid__varint_put(v, k)) : -1;
    }
  } else {
    rc = -1;
  }
  braid__buf out = { 0 };
  if (!rc) rc = tc_encode(&t, &out);
  f = rc ? NULL : fopen(dst, "wb");
  if (f && fwrite(out.p, 1, out.len, f) != out.len) rc = -1;
  if (f && fclose(f)) rc = -1;
  if (rc || !f) fprintf(stderr, "trace_child: hostile %s: cannot make %s\n", how, dst);
  tc_free(&t);
  braid__buf_free(&in);
  braid__buf_free(&out);
  return rc || !f ? 2 : 0;
}

int main(int argc, char **argv)
{
  if (argc >= 5 && !strcmp(argv[1], "hostile")) return hostile(argc, argv);
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
  fprintf(stderr, "usage: trace_child kill PATH FD | seed PATH N CKPT FINISH | copy SRC DST FROM TAMPER | strings SRC DST BUILD HOST | hostile HOW SRC DST [ARG...]\n");
  return 2;
}
