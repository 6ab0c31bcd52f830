/* test_trace.c - trace writer and reader: round trip, cuts, corruption, limits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader */
#include <zstd.h>
#include "trace/writer.h"
#include "format/layout.h"
#include "trace_gen.h"
#define SCRATCH_PREFIX "/tmp/braid-trace-"
#include "scratch.h"
#include "walk.h"

#ifndef BRAID_BUILDDIR
#define BRAID_BUILDDIR "."
#endif
#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif

/* ------------------------------------------------------------------ helpers */

TestSuite(trace, .init = make_dir, .fini = remove_dir, .timeout = 60);

typedef struct plan {
  uint64_t first, n;  /* exchanges first..first+n-1 */
  uint64_t ckpt_every; /* 0: none */
  uint64_t flush_every;
  int finish;
} plan;

/* Writes a trace following the plan; `stream` receives the exact record
 * stream the trace must hold (exchanges and checkpoint records). */
static void write_trace(const char *path, const plan *pl, braid__buf *stream)
{
  braid__trace_writer *w;
  char err[256];
  braid__trace_header h = { "model=uniform\ntori=3\nseed=7\n", 0xfeedfacecafebeefull, "0.1.0", "gcc -O2 abc123", "testhost",
                            1700000000123456789ull, "" };
  cr_assert_eq(braid__tw_open(&w, path, &h, err, sizeof err), 0, "%s", err);
  braid__buf b = { 0 };
  for (uint64_t k = pl->first; k < pl->first + pl->n; k++) {
    b.len = 0;
    gen_exchange(&b, k, 3);
    cr_assert_eq(braid__tw_exchange(w, k, b.p, b.len), 0, "%s", braid__tw_error(w));
    braid__buf_put(stream, b.p, b.len);
    if (pl->ckpt_every && k % pl->ckpt_every == 0) {
      b.len = 0;
      uint8_t v[10];
      braid__buf_put(&b, v, braid__varint_put(v, k));
      gen_checkpoint(&b, k, 3, 300 + k % 50);
      cr_assert_eq(braid__tw_checkpoint(w, k, b.p + braid__varint_put(v, k), b.len - braid__varint_put(v, k)), 0);
      braid__rec_put_blob(stream, BRAID_REC_CHECKPOINT, b.p, b.len);
    }
    if (pl->flush_every && k % pl->flush_every == 0) cr_assert_eq(braid__tw_flush(w), 0);
  }
  if (pl->finish) {
    braid__trace_footer f = { BRAID_TRACE_INTERRUPTED, pl->n, pl->n * 1234, 3, { 11, 22, 33 } };
    cr_assert_eq(braid__tw_finish(w, &f), 0, "%s", braid__tw_error(w));
  } else {
    cr_assert_eq(braid__tw_flush(w), 0); /* close alone drops the open frame */
  }
  braid__tw_close(w);
  braid__buf_free(&b);
  cr_assert_eq(stream->err, 0);
}

/* Writes a trace following the plan and returns its bytes (length in *n). */
static uint8_t *write_and_load(const char *path, plan pl, size_t *n)
{
  braid__buf stream = { 0 };
  write_trace(path, &pl, &stream);
  braid__buf_free(&stream);
  return load(path, n);
}

/* Encodes a decoded record again: equal bytes mean nothing was lost. */
static void reencode(braid__buf *b, const braid_record *r)
{
  if (r->type >= 128) braid__rec_put_blob(b, r->type, r->blob, r->bloblen);
  else braid__rec_put(b, r->type, r->nfields, r->field);
}

/* Reads every record; returns the open error or the last next() result. */
static int read_all(const char *path, braid__buf *out, braid_trace_info *info, char *err, size_t errlen)
{
  braid_trace *t;
  int rc = braid_trace_open(&t, path, err, errlen);
  if (rc) return rc;
  braid_record r;
  uint64_t last = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    reencode(out, &r);
    cr_assert_geq(r.exchange, last, "exchanges go forward");
    last = r.exchange;
  }
  snprintf(err, errlen, "%s", braid_trace_error(t));
  if (info) *info = *braid_trace_get_info(t);
  braid_trace_close(t);
  return rc;
}

/* Frame boundaries found with libzstd alone (an oracle independent of the
 * reader): start offsets, ends, and the decompressed content of data frames. */
typedef struct frames {
  size_t n;
  size_t start[4096], end[4096];
  braid__buf prefix[4096]; /* record stream of frames 0..i inclusive */
} frames;

static frames *find_frames(const uint8_t *p, size_t n)
{
  frames *fr = calloc(1, sizeof *fr);
  braid__buf acc = { 0 };
  for (size_t off = 0; off < n; fr->n++) {
    cr_assert_lt(fr->n, 4096);
    size_t fs = ZSTD_findFrameCompressedSize(p + off, n - off);
    cr_assert(!ZSTD_isError(fs), "frame at %zu: %s", off, ZSTD_getErrorName(fs));
    if (braid__le32_get(p + off) == BRAID_TF_ZSTD_MAGIC) {
      unsigned long long cs = ZSTD_getFrameContentSize(p + off, fs);
      uint8_t *c = malloc(cs + 1);
      cr_assert_eq(ZSTD_decompress(c, cs + 1, p + off, fs), cs);
      braid__buf_put(&acc, c, cs);
      free(c);
    }
    fr->start[fr->n] = off;
    fr->end[fr->n] = off + fs;
    braid__buf_put(&fr->prefix[fr->n], acc.p, acc.len);
    off += fs;
  }
  braid__buf_free(&acc);
  return fr;
}

static void free_frames(frames *fr)
{
  for (size_t i = 0; i < fr->n; i++) braid__buf_free(&fr->prefix[i]);
  free(fr);
}

static int bufeq(const braid__buf *a, const uint8_t *p, size_t n)
{
  return a->len == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

static const plan big = { 1, 2000, 250, 150, 1 };

/* --------------------------------------------------------------- round trip */

Test(trace, round_trip_returns_every_record_and_header, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 }, got = { 0 };
  write_trace(path, &big, &stream);
  braid_trace_info info;
  char err[512];
  cr_assert_eq(read_all(path, &got, &info, err, sizeof err), BRAID_EEOF, "%s", err);
  cr_assert(bufeq(&got, stream.p, stream.len), "read %zu bytes, wrote %zu", got.len, stream.len);
  braid_trace *t;
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0);
  info = *braid_trace_get_info(t);
  cr_assert_eq(info.format_version, 1);
  cr_assert_str_eq(info.config_text, "model=uniform\ntori=3\nseed=7\n");
  cr_assert_eq(info.config_hash, 0xfeedfacecafebeefull);
  cr_assert_str_eq(info.lib_version, "0.1.0");
  cr_assert_str_eq(info.build_id, "gcc -O2 abc123");
  cr_assert_str_eq(info.host, "testhost");
  cr_assert_str_eq(info.plugin, "");
  cr_assert_eq(info.start_unix_ns, 1700000000123456789ull);
  cr_assert_eq(info.status, BRAID_TRACE_INTERRUPTED);
  cr_assert_eq(info.exchanges, 2000);
  cr_assert_eq(info.total_events, 2000 * 1234);
  cr_assert_eq(info.tori, 3);
  cr_assert_eq(info.final_state_hash[2], 33);
  cr_assert_eq(info.checkpoints, 8);
  cr_assert_eq(info.has_index, 1);
  cr_assert_eq(info.truncated, 0);
  braid_trace_close(t);
  braid__buf_free(&stream);
  braid__buf_free(&got);
}

Test(trace, records_carry_exchange_offset_and_signed_fields, .timeout = 30)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  plan pl = { 1, 300, 0, 100, 1 };
  write_trace(path, &pl, &stream);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  uint64_t last_off = 0;
  int negatives = 0, offsets = 0;
  while (braid_trace_next(t, &r) == 0) {
    if (r.type == BRAID_REC_EXCHANGE) cr_assert_eq(r.exchange, r.field[0]);
    if (r.type == BRAID_REC_PROJECTION) cr_assert_eq(r.field[2] / 64, r.exchange);
    if (r.type == BRAID_REC_VCELL) {
      cr_assert_eq(r.sfield[4], -3);
      negatives++;
    }
    if (r.offset != last_off) offsets++;
    last_off = r.offset;
  }
  cr_assert_gt(negatives, 0);
  cr_assert_geq(offsets, 3, "records come from several frames");
  braid_trace_close(t);
  braid__buf_free(&stream);
}

Test(trace, zstd_tool_accepts_trace_and_prints_record_stream, .timeout = 60)
{
  const char *path = tpath("t.braid"), *out = tpath("t.out");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "zstd -q -t '%s'", path);
  cr_assert_eq(system(cmd), 0, "zstd -t failed");
  snprintf(cmd, sizeof cmd, "zstd -q -dc '%s' > '%s'", path, out);
  cr_assert_eq(system(cmd), 0, "zstd -dc failed");
  size_t n;
  uint8_t *p = load(out, &n);
  cr_assert(bufeq(&stream, p, n), "zstd -dc gave %zu bytes, the stream has %zu", n, stream.len);
  free(p);
  braid__buf_free(&stream);
}

Test(trace, frames_start_at_exchange_boundaries_and_stay_small, .timeout = 30)
{
  const char *path = tpath("t.braid");
  size_t n;
  uint8_t *p = write_and_load(path, (plan){ 1, 3000, 0, 0, 1 }, &n);
  frames *fr = find_frames(p, n);
  size_t data = 0, prev = 0;
  for (size_t i = 0; i < fr->n; i++) {
    if (braid__le32_get(p + fr->start[i]) != BRAID_TF_ZSTD_MAGIC) continue;
    size_t len = fr->prefix[i].len - prev;
    const uint8_t *c = fr->prefix[i].p + prev;
    cr_assert_eq(c[0], BRAID_REC_EXCHANGE, "frame %zu starts with an exchange", i);
    cr_assert_leq(len, BRAID_TF_FRAME_TARGET + 4096);
    ZSTD_frameHeader fh;
    cr_assert_eq(ZSTD_getFrameHeader(&fh, p + fr->start[i], n - fr->start[i]), 0);
    cr_assert(fh.checksumFlag);
    cr_assert_leq(fh.windowSize, 1u << 22);
    prev = fr->prefix[i].len;
    data++;
  }
  cr_assert_geq(data, 3);
  free_frames(fr);
  free(p);
}

Test(trace, unknown_record_types_are_returned_and_skipped_by_length, .timeout = 30)
{
  const char *path = tpath("t.braid");
  braid__trace_writer *w;
  char err[256];
  braid__trace_header h = { "", 0, "0.1.0", "", "", 0, "" };
  cr_assert_eq(braid__tw_open(&w, path, &h, err, sizeof err), 0);
  braid__buf b = { 0 };
  uint64_t k = 5, f3[3] = { 7, 300, 1ull << 40 }, f15[1] = { 9 };
  braid__rec_put(&b, BRAID_REC_EXCHANGE, 1, &k);
  braid__rec_put(&b, 50, 3, f3);
  braid__rec_put(&b, 100, 1, f15);
  braid__rec_put_blob(&b, 200, "opaque", 6);
  uint8_t junk[] = { 51, 3, 0xff, 0xff, 0xff }; /* unknown type, not even varints */
  braid__buf_put(&b, junk, sizeof junk);
  gen_exchange(&b, 6, 2);
  cr_assert_eq(braid__tw_exchange(w, 5, b.p, b.len), 0);
  cr_assert_eq(braid__tw_flush(w), 0);
  braid__tw_close(w);

  braid_trace *t;
  braid_record r;
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, BRAID_REC_EXCHANGE);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, 50);
  cr_assert_eq(r.nfields, 3);
  cr_assert_eq(r.field[2], 1ull << 40);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, 100);
  cr_assert_eq(r.field[0], 9);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, 200);
  cr_assert_eq(r.bloblen, 6);
  cr_assert_eq(memcmp(r.blob, "opaque", 6), 0);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, 51);
  cr_assert_eq(r.nfields, 0);
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, BRAID_REC_EXCHANGE);
  cr_assert_eq(r.field[0], 6);
  cr_assert_eq(r.exchange, 6);
  braid_trace_close(t);
  braid__buf_free(&b);
}

/* ----------------------------------------------------------- seek, checkpoint */

static void check_seek(const char *path, const plan *pl, const braid__buf *stream)
{
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  uint64_t ks[] = { 1, 2, 149, 150, 151, 777, 1000, 1999, 2000, 3 };
  for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
    uint64_t k = ks[i];
    cr_assert_eq(braid_trace_seek(t, k), 0, "seek %llu: %s", (unsigned long long)k, braid_trace_error(t));
    /* Where exchange k begins in the written stream. */
    braid__buf pre = { 0 };
    for (uint64_t j = pl->first; j < k; j++) {
      gen_exchange(&pre, j, 3);
      if (pl->ckpt_every && j % pl->ckpt_every == 0) {
        braid__buf blob = { 0 };
        uint8_t v[10];
        braid__buf_put(&blob, v, braid__varint_put(v, j));
        gen_checkpoint(&blob, j, 3, 300 + j % 50);
        braid__rec_put_blob(&pre, BRAID_REC_CHECKPOINT, blob.p, blob.len);
        braid__buf_free(&blob);
      }
    }
    braid__buf got = { 0 };
    braid_record r;
    int rc;
    while ((rc = braid_trace_next(t, &r)) == 0) reencode(&got, &r);
    cr_assert_eq(rc, BRAID_EEOF, "%s", braid_trace_error(t));
    cr_assert(bufeq(&got, stream->p + pre.len, stream->len - pre.len), "stream after seek %llu differs", (unsigned long long)k);
    braid__buf_free(&got);
    braid__buf_free(&pre);
  }
  cr_assert_eq(braid_trace_seek(t, 0), BRAID_ERANGE);
  cr_assert_eq(braid_trace_seek(t, 2001), BRAID_ERANGE);
  cr_assert(strstr(braid_trace_error(t), "2001"));
  braid_record r;
  cr_assert_eq(braid_trace_seek(t, 500), 0, "seek works again after ERANGE");
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.field[0], 500);
  braid_trace_close(t);
}

Test(trace, seek_uses_the_index, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  check_seek(path, &big, &stream);
  braid__buf_free(&stream);
}

Test(trace, seek_scans_frames_without_an_index, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  plan pl = big;
  pl.finish = 0;
  write_trace(path, &pl, &stream);
  check_seek(path, &pl, &stream);
  braid__buf_free(&stream);
}

static void check_checkpoints(const char *path)
{
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  uint64_t cases[][2] = { { 250, 250 }, { 251, 250 }, { 499, 250 }, { 500, 500 }, { 1999, 1750 }, { 5000, 2000 } };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint64_t at;
    const uint8_t *blob;
    size_t len;
    cr_assert_eq(braid_trace_checkpoint(t, cases[i][0], &at, &blob, &len), 0, "%s", braid_trace_error(t));
    cr_assert_eq(at, cases[i][1]);
    braid__buf want = { 0 };
    gen_checkpoint(&want, at, 3, 300 + at % 50);
    cr_assert(bufeq(&want, blob, len), "checkpoint %llu blob differs", (unsigned long long)at);
    braid__buf_free(&want);
  }
  uint64_t at;
  const uint8_t *blob;
  size_t len;
  cr_assert_eq(braid_trace_checkpoint(t, 249, &at, &blob, &len), BRAID_ERANGE);
  /* A lookup does not move the record stream. */
  braid_record r;
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(r.type, BRAID_REC_EXCHANGE);
  cr_assert_eq(r.field[0], 1);
  cr_assert_eq(braid_trace_get_info(t)->checkpoints, 8);
  braid_trace_close(t);
}

Test(trace, checkpoint_lookup_through_the_index, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  check_checkpoints(path);
  braid__buf_free(&stream);
}

Test(trace, checkpoint_lookup_by_scanning, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  plan pl = big;
  pl.finish = 0;
  write_trace(path, &pl, &stream);
  check_checkpoints(path);
  braid__buf_free(&stream);
}

Test(trace, checkpoint_records_report_their_exchange, .timeout = 30)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  plan pl = { 1, 30, 10, 0, 1 };
  write_trace(path, &pl, &stream);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0);
  braid_record r;
  int seen = 0;
  while (braid_trace_next(t, &r) == 0) {
    if (r.type != BRAID_REC_CHECKPOINT) continue;
    seen++;
    cr_assert_eq(r.exchange, 10u * (unsigned)seen);
    cr_assert_eq(r.nfields, 0);
    cr_assert_gt(r.bloblen, 300);
  }
  cr_assert_eq(seen, 3);
  braid_trace_close(t);
  braid__buf_free(&stream);
}

/* ------------------------------------------------------------- unfinished */

Test(trace, unfinished_trace_reads_fully_and_counts_exchanges, .timeout = 30)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 }, got = { 0 };
  plan pl = { 1, 500, 100, 50, 0 };
  write_trace(path, &pl, &stream);
  braid_trace_info info;
  char err[512];
  cr_assert_eq(read_all(path, &got, &info, err, sizeof err), BRAID_EEOF, "%s", err);
  cr_assert(bufeq(&got, stream.p, stream.len));
  cr_assert_eq(info.status, BRAID_TRACE_UNFINISHED);
  cr_assert_eq(info.has_index, 0);
  cr_assert_eq(info.truncated, 0);
  cr_assert_eq(info.exchanges, 500, "counted while reading: %llu", (unsigned long long)info.exchanges);
  cr_assert_eq(info.checkpoints, 5);
  braid__buf_free(&stream);
  braid__buf_free(&got);
}

/* Every cut must give exactly the records of the frames before it. */
static void check_cut(const uint8_t *p, const frames *fr, size_t cut, const char *path)
{
  save(path, p, cut);
  braid__buf got = { 0 };
  braid_trace_info info;
  char err[512] = "";
  int rc = read_all(path, &got, &info, err, sizeof err);
  size_t complete = 0; /* frames entirely before the cut */
  int boundary = cut == 0;
  while (complete < fr->n && fr->end[complete] <= cut) complete++;
  for (size_t i = 0; i < fr->n; i++) boundary |= fr->end[i] == cut;
  if (complete == 0) {
    /* The header itself is cut: open refuses the file. */
    cr_assert(rc == BRAID_ETRUNCATED || rc == BRAID_ENOTTRACE, "cut %zu: %d %s", cut, rc, err);
    cr_assert_eq(got.len, 0);
  } else {
    const braid__buf *want = &fr->prefix[complete - 1];
    cr_assert(bufeq(&got, want->p, want->len), "cut %zu: read %zu bytes, %zu expected", cut, got.len, want->len);
    if (boundary) {
      cr_assert_eq(rc, BRAID_EEOF, "cut %zu at a frame boundary: %s", cut, err);
      cr_assert_eq(info.truncated, 0);
    } else {
      cr_assert_eq(rc, BRAID_ETRUNCATED, "cut %zu inside a frame: %d %s", cut, rc, err);
      cr_assert_eq(info.truncated, 1);
      cr_assert(strstr(err, "offset"), "%s", err);
    }
    if (cut < fr->end[fr->n - 1]) cr_assert_eq(info.status, BRAID_TRACE_UNFINISHED);
  }
  braid__buf_free(&got);
}

Test(trace, cut_at_every_frame_boundary_reads_complete_frames, .timeout = 120)
{
  const char *path = tpath("t.braid"), *cutp = tpath("cut.braid");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  size_t n;
  uint8_t *p = load(path, &n);
  frames *fr = find_frames(p, n);
  cr_assert_geq(fr->n, 20);
  check_cut(p, fr, 0, cutp);
  for (size_t i = 0; i < fr->n; i++) {
    check_cut(p, fr, fr->end[i], cutp);
    check_cut(p, fr, fr->end[i] - 1, cutp);
  }
  free_frames(fr);
  free(p);
  braid__buf_free(&stream);
}

Test(trace, cut_at_random_offsets_reads_complete_frames, .timeout = 120)
{
  const char *path = tpath("t.braid"), *cutp = tpath("cut.braid");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  size_t n;
  uint8_t *p = load(path, &n);
  frames *fr = find_frames(p, n);
  uint64_t r = 42;
  for (int i = 0; i < 200; i++) {
    r = braid__mix64(r);
    check_cut(p, fr, (size_t)(r % n), cutp);
  }
  free_frames(fr);
  free(p);
  braid__buf_free(&stream);
}

Test(trace, seek_and_checkpoint_in_a_cut_trace, .timeout = 60)
{
  const char *path = tpath("t.braid");
  braid__buf stream = { 0 };
  write_trace(path, &big, &stream);
  size_t n;
  uint8_t *p = load(path, &n);
  save(path, p, n / 2);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  cr_assert_eq(braid_trace_seek(t, 100), 0);
  int rc = braid_trace_seek(t, 1999);
  cr_assert_eq(rc, BRAID_ERANGE, "%s: %s", braid_errname(rc), braid_trace_error(t));
  cr_assert_eq(braid_trace_get_info(t)->truncated, 1);
  uint64_t at;
  const uint8_t *blob;
  size_t len;
  cr_assert_eq(braid_trace_checkpoint(t, 2000, &at, &blob, &len), 0);
  cr_assert_eq(at % 250, 0);
  cr_assert_eq(braid_trace_seek(t, at), 0, "the checkpoint's exchange is readable");
  braid_trace_close(t);
  free(p);
  braid__buf_free(&stream);
}

/* ------------------------------------------------------------- corruption */

Test(trace, corrupted_traces_give_correct_data_or_a_clean_error, .timeout = 300)
{
  const char *path = tpath("t.braid"), *bad = tpath("bad.braid");
  braid__buf stream = { 0 };
  plan pl = { 1, 300, 100, 40, 1 };
  write_trace(path, &pl, &stream);
  size_t n;
  uint8_t *orig = load(path, &n);
  uint8_t *p = malloc(n + 256);
  /* The reader must stay within a bounded amount of memory on any input.
   * ASan reserves terabytes of address space, so under it the bound is
   * ASan's own max_allocation_size_mb (set by the test environment); TSan
   * reserves its shadow memory the same way, and there no bound is set. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(BRAID_TSAN)
  struct rlimit lim = { 1ull << 30, 1ull << 30 };
  cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
#endif
  uint64_t r = 7;
  int ok = 0, errors = 0;
  for (int i = 0; i < 1000; i++) {
    size_t m = n;
    memcpy(p, orig, n);
    r = braid__mix64(r);
    if (r % 3) {
      for (unsigned j = 0; j <= (r >> 8) % 4; j++) {
        r = braid__mix64(r);
        p[r % m] ^= (uint8_t)(1u << ((r >> 32) % 8));
      }
    } else {
      r = braid__mix64(r);
      size_t at = r % m, len = 1 + (r >> 20) % 64;
      int insert = (r >> 40) & 1;
      if (insert) {
        memmove(p + at + len, p + at, m - at);
        m += len;
      } else if (at + len > m) {
        len = m - at;
      }
      for (size_t j = 0; j < len; j++) p[at + j] = (uint8_t)braid__mix64(r + j);
    }
    save(bad, p, m);
    braid__buf got = { 0 };
    char err[512] = "";
    int rc = read_all(bad, &got, NULL, err, sizeof err);
    if (rc == BRAID_EEOF) {
      cr_assert(bufeq(&got, stream.p, stream.len), "case %d: success with wrong data", i);
      ok++;
    } else {
      cr_assert(rc == BRAID_ECORRUPT || rc == BRAID_ETRUNCATED || rc == BRAID_ELIMIT || rc == BRAID_ENOTTRACE || rc == BRAID_EVERSION,
                "case %d: unexpected %s: %s", i, braid_errname(rc), err);
      cr_assert(strstr(err, "offset"), "case %d: message without offset: %s", i, err);
      cr_assert(got.len <= stream.len && (!got.len || memcmp(got.p, stream.p, got.len) == 0), "case %d: records before the error differ", i);
      errors++;
    }
    braid__buf_free(&got);
    /* Seeks and lookups must not crash either. */
    braid_trace *t;
    if (braid_trace_open(&t, bad, err, sizeof err) == 0) {
      uint64_t at;
      const uint8_t *blob;
      size_t len;
      braid_record rec;
      braid_trace_seek(t, 150);
      braid_trace_next(t, &rec);
      braid_trace_checkpoint(t, 250, &at, &blob, &len);
      braid_trace_seek(t, 5);
      braid_trace_close(t);
    }
  }
  cr_assert_gt(errors, 900);
  cr_log_info("corruption: %d read correctly, %d clean errors", ok, errors);
  free(p);
  free(orig);
  braid__buf_free(&stream);
}

/* Header frame of an empty trace, then `frame`: for hand-made frames. */
static void write_with_frame(const char *path, const uint8_t *frame, size_t len)
{
  braid__trace_writer *w;
  char err[256];
  braid__trace_header h = { "", 0, "0.1.0", "", "", 0, "" };
  cr_assert_eq(braid__tw_open(&w, path, &h, err, sizeof err), 0);
  braid__tw_close(w);
  FILE *f = fopen(path, "ab");
  cr_assert_eq(fwrite(frame, 1, len, f), len);
  fclose(f);
}

Test(trace, refuses_a_frame_with_a_huge_window, .timeout = 10)
{
  const char *path = tpath("t.braid");
  /* windowLog 31 (exponent 21), checksum flag, one raw block of one byte. */
  uint8_t frame[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 21 << 3, 0x09, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
  write_with_frame(path, frame, sizeof frame);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  int rc = braid_trace_next(t, &r);
  cr_assert(rc == BRAID_ELIMIT, "%s: %s", braid_errname(rc), braid_trace_error(t));
  cr_assert(strstr(braid_trace_error(t), "offset"), "%s", braid_trace_error(t));
  cr_assert_eq(braid_trace_next(t, &r), BRAID_ELIMIT, "the error stays");
  braid_trace_close(t);
}

Test(trace, refuses_a_frame_declaring_too_much_content, .timeout = 10)
{
  const char *path = tpath("t.braid");
  /* Frame content size 2^31 (8-byte field), single segment, checksum. */
  uint8_t frame[] = { 0x28, 0xb5, 0x2f, 0xfd, 0xe4, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x09, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
  write_with_frame(path, frame, sizeof frame);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid_record r;
  int rc = braid_trace_next(t, &r);
  cr_assert(rc == BRAID_ELIMIT, "%s: %s", braid_errname(rc), braid_trace_error(t));
  cr_assert(strstr(braid_trace_error(t), "offset"));
  braid_trace_close(t);
}

Test(trace, record_longer_than_its_frame_is_corrupt, .timeout = 10)
{
  const char *path = tpath("t.braid");
  uint8_t content[] = { 1, 1, 5, 2, 200, 1, 1, 2 }; /* exchange 5, then a record claiming 200 bytes */
  uint8_t frame[128];
  ZSTD_CCtx *c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  size_t n = ZSTD_compress2(c, frame, sizeof frame, content, sizeof content);
  ZSTD_freeCCtx(c);
  cr_assert(!ZSTD_isError(n));
  write_with_frame(path, frame, n);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0);
  braid_record r;
  cr_assert_eq(braid_trace_next(t, &r), 0);
  cr_assert_eq(braid_trace_next(t, &r), BRAID_ECORRUPT);
  cr_assert(strstr(braid_trace_error(t), "offset"), "%s", braid_trace_error(t));
  cr_assert(strstr(braid_trace_error(t), "200"), "%s", braid_trace_error(t));
  braid_trace_close(t);
}

Test(trace, checksum_mismatch_is_corrupt_with_the_frame_offset, .timeout = 10)
{
  const char *path = tpath("t.braid");
  size_t n;
  uint8_t *p = write_and_load(path, (plan){ 1, 10, 0, 0, 0 }, &n);
  frames *fr = find_frames(p, n);
  p[n - 1] ^= 0x55; /* last byte of the only data frame: its checksum */
  save(path, p, n);
  braid__buf got = { 0 };
  char err[512], want[64];
  cr_assert_eq(read_all(path, &got, NULL, err, sizeof err), BRAID_ECORRUPT);
  snprintf(want, sizeof want, "offset %zu", fr->start[1]);
  cr_assert(strstr(err, "checksum") && strstr(err, want), "%s (want '%s')", err, want);
  free_frames(fr);
  free(p);
  braid__buf_free(&got);
}

/* A failing call must leave a message with the byte offset at fault. */
static int fixture_call(const char *name, braid_trace *t, int rc)
{
  if (rc == 0 || rc == BRAID_EEOF || rc == BRAID_ERANGE) return 0;
  cr_assert(strstr(braid_trace_error(t), "offset"), "%s: %s", name, braid_trace_error(t));
  return 1;
}

/* Fuzzer findings and hand-made hostile files: every call the fuzz harness
 * makes must end cleanly, and at least one must report the damage. */
Test(trace, regression_fixtures_fail_cleanly, .timeout = 60)
{
  walk w;
  walk_open(&w, "tests/trace-fixtures");
  int count = 0;
  while (walk_next(&w)) {
    char err[512];
    braid_trace *t;
    int rc = braid_trace_open(&t, w.path, err, sizeof err), errors = rc != 0;
    if (rc) cr_assert(strstr(err, "offset"), "%s: %s", w.name, err);
    if (rc == 0) {
      braid_record r;
      while ((rc = braid_trace_next(t, &r)) == 0) {}
      errors += fixture_call(w.name, t, rc);
      uint64_t at;
      const uint8_t *blob;
      size_t len;
      errors += fixture_call(w.name, t, braid_trace_checkpoint(t, UINT64_MAX, &at, &blob, &len));
      errors += fixture_call(w.name, t, braid_trace_seek(t, 3));
      errors += fixture_call(w.name, t, braid_trace_checkpoint(t, 4, &at, &blob, &len));
      errors += fixture_call(w.name, t, braid_trace_seek(t, 1));
      braid_trace_close(t);
    }
    cr_assert_gt(errors, 0, "%s: no call reported an error", w.name);
    count++;
  }
  cr_assert_geq(count, 4);
}

/* ------------------------------------------------------------ open errors */

Test(trace, rejects_bad_magic, .timeout = 10)
{
  const char *path = tpath("t.txt");
  save(path, (const uint8_t *)"hello, this is not a trace\n", 27);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), BRAID_ENOTTRACE);
  cr_assert_null(t);
  char want[256];
  snprintf(want, sizeof want, "%s: not a braid trace (bad magic at offset 0)", path);
  cr_assert_str_eq(err, want);
}

Test(trace, rejects_an_empty_file, .timeout = 10)
{
  const char *path = tpath("empty");
  save(path, (const uint8_t *)"", 0);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), BRAID_ENOTTRACE);
  cr_assert(strstr(err, path) && strstr(err, "empty"), "%s", err);
}

Test(trace, rejects_a_directory, .timeout = 10)
{
  braid_trace *t;
  char err[256];
  int rc = braid_trace_open(&t, dir, err, sizeof err);
  cr_assert(rc == BRAID_EINVAL || rc == BRAID_EIO);
  cr_assert(strstr(err, "is a directory"), "%s", err);
}

Test(trace, missing_file_is_enoent, .timeout = 10)
{
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, tpath("nosuch.braid"), err, sizeof err), BRAID_ENOENT);
  cr_assert(strstr(err, "nosuch.braid") && strstr(err, "No such file"), "%s", err);
}

Test(trace, rejects_a_newer_format_version_naming_both, .timeout = 10)
{
  const char *path = tpath("t.braid");
  size_t n;
  uint8_t *p = write_and_load(path, (plan){ 1, 10, 0, 0, 1 }, &n);
  braid__le32_put(p + 16, 2);
  save(path, p, n);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), BRAID_EVERSION);
  cr_assert(strstr(err, "version 2") && strstr(err, "reads version 1"), "%s", err);
  free(p);
}

Test(trace, header_checksum_catches_a_changed_setting, .timeout = 10)
{
  const char *path = tpath("t.braid");
  size_t n;
  uint8_t *p = write_and_load(path, (plan){ 1, 10, 0, 0, 1 }, &n);
  uint8_t *s = memmem(p, n, "seed=7", 6);
  cr_assert(s);
  s[5] = '8';
  save(path, p, n);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), BRAID_ECORRUPT);
  cr_assert(strstr(err, "header checksum") && strstr(err, "offset 0"), "%s", err);
  free(p);
}

/* ---------------------------------------------------------------- writer */

Test(trace, writing_to_a_full_device_is_enospc, .timeout = 10)
{
  braid__trace_writer *w;
  char err[256] = "";
  braid__trace_header h = { "x=1\n", 0, "0.1.0", "", "", 0, "" };
  cr_assert_eq(braid__tw_open(&w, "/dev/full", &h, err, sizeof err), BRAID_ENOSPC);
  cr_assert_null(w);
  cr_assert_str_eq(err, "/dev/full: No space left on device");
}

Test(trace, writer_errors_are_sticky, .timeout = 10)
{
  const char *path = tpath("t.braid");
  braid__trace_writer *w;
  char err[256];
  braid__trace_header h = { "", 0, "0.1.0", "", "", 0, "" };
  cr_assert_eq(braid__tw_open(&w, path, &h, err, sizeof err), 0);
  braid__buf b = { 0 };
  gen_exchange(&b, 1, 2);
  cr_assert_eq(braid__tw_exchange(w, 1, b.p, b.len), 0);
  cr_assert_eq(braid__tw_exchange(w, 1, b.p, b.len), BRAID_EINVAL, "exchanges must increase");
  cr_assert_eq(braid__tw_flush(w), 0);
  uint64_t before = braid__tw_bytes(w);
  cr_assert_gt(before, 0);
  /* Make every later write fail: the writer's descriptor now refuses writes. */
  int fd = open("/dev/full", O_WRONLY);
  for (int i = 0; i < 1024; i++) {
    struct stat st;
    if (fstat(i, &st) == 0 && i != fd && i > 2) {
      char link[64], target[512];
      snprintf(link, sizeof link, "/proc/self/fd/%d", i);
      ssize_t l = readlink(link, target, sizeof target - 1);
      if (l > 0 && (target[l] = 0, strcmp(target, path) == 0)) dup2(fd, i);
    }
  }
  cr_assert_eq(braid__tw_exchange(w, 2, b.p, b.len), 0, "buffered, not yet written");
  cr_assert_eq(braid__tw_flush(w), BRAID_ENOSPC);
  cr_assert(strstr(braid__tw_error(w), "No space left on device"));
  cr_assert_eq(braid__tw_exchange(w, 3, b.p, b.len), BRAID_ENOSPC);
  braid__trace_footer f = { 0 };
  cr_assert_eq(braid__tw_finish(w, &f), BRAID_ENOSPC);
  braid__tw_close(w);
  braid__buf got = { 0 };
  cr_assert_eq(read_all(path, &got, NULL, err, sizeof err), BRAID_EEOF, "%s", err);
  cr_assert(bufeq(&got, b.p, b.len), "the trace holds the frame written before the error");
  braid__buf_free(&got);
  braid__buf_free(&b);
}

Test(trace, kill_9_leaves_a_trace_readable_to_its_last_frame, .timeout = 30)
{
  const char *path = tpath("killed.braid");
  int pfd[2];
  cr_assert_eq(pipe(pfd), 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    char fd[16];
    close(pfd[0]);
    snprintf(fd, sizeof fd, "%d", pfd[1]);
    execl(BRAID_BUILDDIR "/tests/trace_child", "trace_child", "kill", path, fd, (char *)NULL);
    _exit(127);
  }
  close(pfd[1]);
  char c;
  int flushed = 0;
  while (flushed < 10 && read(pfd[0], &c, 1) == 1) flushed++;
  cr_assert_eq(flushed, 10, "the child flushed 10 frames");
  kill(pid, SIGKILL);
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  close(pfd[0]);

  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  braid__buf want = { 0 }, got = { 0 };
  braid_record r;
  int rc;
  uint64_t k = 0;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    reencode(&got, &r);
    if (r.type == BRAID_REC_EXCHANGE) gen_exchange(&want, ++k, 3);
  }
  cr_assert(rc == BRAID_EEOF || rc == BRAID_ETRUNCATED, "%s", braid_trace_error(t));
  cr_assert_geq(k, 30, "at least the 10 flushed frames (3 exchanges each): %llu", (unsigned long long)k);
  cr_assert(bufeq(&got, want.p, want.len));
  cr_assert_eq(braid_trace_get_info(t)->status, BRAID_TRACE_UNFINISHED);
  braid_trace_close(t);
  braid__buf_free(&want);
  braid__buf_free(&got);
}

/* A long run has more frames than the writer indexes (4096 entries at most,
 * thinned to every 2^j-th frame): the index stays bounded, and every
 * exchange is still found, by scanning forward from the nearest entry. */
Test(trace, long_traces_keep_a_bounded_index_and_every_exchange_is_found, .timeout = 120)
{
  const char *path = tpath("t.braid");
  size_t n;
  uint8_t *p = write_and_load(path, (plan){ 0, 10000, 0, 1, 1 }, &n); /* a frame per exchange: 10000 frames */
  /* The index frame is the skippable frame of magic 0x184D2A5C; ndata first. */
  uint8_t magic[4];
  braid__le32_put(magic, BRAID_TF_INDEX_MAGIC);
  const uint8_t *ix = memmem(p, n, magic, 4);
  cr_assert(ix);
  uint32_t ndata = braid__le32_get(ix + 8);
  cr_assert_leq(ndata, 4096, "the index holds %u data entries", ndata);
  cr_assert_geq(ndata, 2048, "thinning keeps at least half of the entries (%u)", ndata);
  free(p);
  braid_trace *t;
  char err[256];
  cr_assert_eq(braid_trace_open(&t, path, err, sizeof err), 0, "%s", err);
  for (uint64_t k = 0; k < 10000; k += 37) {
    braid_record r;
    cr_assert_eq(braid_trace_seek(t, k), 0, "seek %llu: %s", (unsigned long long)k, braid_trace_error(t));
    cr_assert_eq(braid_trace_next(t, &r), 0);
    cr_assert_eq(r.type, BRAID_REC_EXCHANGE);
    cr_assert_eq(r.field[0], k);
  }
  cr_assert_eq(braid_trace_seek(t, 9999), 0);
  braid_trace_close(t);
}
