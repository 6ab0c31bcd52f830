/* trace_codec.h - a trace taken apart into frames and records and put back
 * together with valid checksums, index and footer: what the structure-aware
 * fuzzer (fuzz_replay.c) mutates and what trace_child's `hostile` command
 * builds the replay fixtures with.
 *
 *   tc_trace t;
 *   if (tc_decode(&t, bytes, n) == 0) { ...edit t...; tc_encode(&t, &out); }
 *   tc_free(&t);
 *
 * The layout is the one of trace_format.h and braid-trace(5).  Decoding is
 * strict about what it needs (checksums are not verified: a mutated input's
 * are recomputed anyway) and gives up (-1) on anything else, so a caller
 * can fall back to mutating bytes. */
#ifndef BRAID_TRACE_CODEC_H
#define BRAID_TRACE_CODEC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>
#include "format/record.h"
#include "format/layout.h"

#define TC_MAX_CONTENT (8u << 20) /* decoded bytes per frame the codec takes */

typedef struct tc_rec {
  uint64_t type; /* a header field's tag, in the header's list */
  uint8_t *p;
  size_t len;
} tc_rec;

typedef struct tc_list {
  tc_rec *v;
  size_t n, cap;
} tc_list;

enum { TC_DATA = 0, TC_SKIP = 1 };

typedef struct tc_frame {
  int kind;
  uint32_t magic; /* TC_SKIP: its magic; the payload is recs.v[0] */
  tc_list recs;
} tc_frame;

typedef struct tc_trace {
  uint32_t version;
  tc_list header;  /* header fields: type = tag */
  tc_frame *f;
  size_t nf, capf;
  int finished;    /* write index and footer */
  uint8_t footer[BRAID_TF_F_V1_SIZE]; /* the footer payload as decoded (or zero) */
  /* Applied when encoding, for the fuzzer's index and footer mutations. */
  int64_t index_skew;   /* added to every n-th index offset (n = skew_every) */
  unsigned skew_every, skew_entry;
  int64_t footer_index_skew;
  int64_t count_skew;   /* added to the index's data entry count */
  size_t cut;           /* nonzero: the encoded file is cut to this many bytes */
} tc_trace;

static inline int tc_add(tc_list *l, uint64_t type, const uint8_t *p, size_t len)
{
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    tc_rec *v = realloc(l->v, nc * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = nc;
  }
  uint8_t *c = malloc(len ? len : 1);
  if (!c) return -1;
  if (len) memcpy(c, p, len);
  l->v[l->n++] = (tc_rec){ type, c, len };
  return 0;
}

static inline void tc_list_free(tc_list *l)
{
  for (size_t i = 0; i < l->n; i++) free(l->v[i].p);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static inline tc_frame *tc_new_frame(tc_trace *t, int kind, uint32_t magic)
{
  if (t->nf == t->capf) {
    size_t nc = t->capf ? t->capf * 2 : 16;
    tc_frame *f = realloc(t->f, nc * sizeof *f);
    if (!f) return NULL;
    t->f = f;
    t->capf = nc;
  }
  tc_frame *f = &t->f[t->nf++];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->magic = magic;
  return f;
}

static inline void tc_free(tc_trace *t)
{
  tc_list_free(&t->header);
  for (size_t i = 0; i < t->nf; i++) tc_list_free(&t->f[i].recs);
  free(t->f);
  memset(t, 0, sizeof *t);
}

/* Splits decoded frame content into records; -1 if it does not parse. */
static inline int tc_split(tc_list *l, const uint8_t *p, const uint8_t *e)
{
  while (p < e) {
    uint64_t type, len;
    size_t a = braid__varint_get(p, e, &type), b = a ? braid__varint_get(p + a, e, &len) : 0;
    if (!a || !b || len > (uint64_t)(e - p - a - b)) return -1;
    if (tc_add(l, type, p + a + b, (size_t)len)) return -1;
    p += a + b + len;
  }
  return 0;
}

static inline int tc_decode(tc_trace *t, const uint8_t *d, size_t n)
{
  memset(t, 0, sizeof *t);
  if (n < 28 || braid__le32_get(d) != BRAID_TF_HEADER_MAGIC || memcmp(d + 8, BRAID_TF_HEADER_TAG, 8)) return -1;
  uint32_t psz = braid__le32_get(d + 4);
  if (psz < 20 || psz > n - 8) return -1;
  t->version = braid__le32_get(d + 16);
  const uint8_t *q = d + 20, *e = d + 8 + psz - 8;
  while (q < e) {
    uint64_t tag, len;
    size_t a = braid__varint_get(q, e, &tag), b = a ? braid__varint_get(q + a, e, &len) : 0;
    if (!a || !b || len > (uint64_t)(e - q - a - b) || tc_add(&t->header, tag, q + a + b, (size_t)len)) goto bad;
    q += a + b + len;
  }
  size_t off = 8 + (size_t)psz;
  uint8_t *buf = malloc(TC_MAX_CONTENT);
  ZSTD_DCtx *dc = ZSTD_createDCtx();
  if (!buf || !dc) {
    free(buf);
    ZSTD_freeDCtx(dc);
    goto bad;
  }
  int rc = 0;
  while (!rc && off < n) {
    if (n - off < 8) {
      rc = -1;
      break;
    }
    uint32_t magic = braid__le32_get(d + off);
    if (magic == BRAID_TF_ZSTD_MAGIC) {
      size_t fsz = ZSTD_findFrameCompressedSize(d + off, n - off);
      if (ZSTD_isError(fsz)) {
        rc = -1;
        break;
      }
      size_t got = ZSTD_decompressDCtx(dc, buf, TC_MAX_CONTENT, d + off, fsz);
      tc_frame *f = ZSTD_isError(got) ? NULL : tc_new_frame(t, TC_DATA, 0);
      if (!f || tc_split(&f->recs, buf, buf + got)) rc = -1;
      off += fsz;
    } else if ((magic & BRAID_TF_SKIP_MASK) == BRAID_TF_SKIP_BASE) {
      uint32_t len = braid__le32_get(d + off + 4);
      if (len > n - off - 8) {
        rc = -1;
        break;
      }
      const uint8_t *p = d + off + 8;
      if (magic == BRAID_TF_FOOTER_MAGIC && len >= BRAID_TF_F_V1_SIZE) {
        memcpy(t->footer, p, BRAID_TF_F_V1_SIZE);
        t->finished = 1;
      } else if (magic != BRAID_TF_INDEX_MAGIC) {
        tc_frame *f = tc_new_frame(t, TC_SKIP, magic);
        if (!f || tc_add(&f->recs, 0, p, len)) rc = -1;
      }
      off += 8 + (size_t)len;
    } else {
      rc = -1;
    }
  }
  free(buf);
  ZSTD_freeDCtx(dc);
  if (!rc) return 0;
bad:
  tc_free(t);
  return -1;
}

/* The header field with this tag, or NULL. */
static inline tc_rec *tc_header_field(tc_trace *t, uint64_t tag)
{
  for (size_t i = 0; i < t->header.n; i++)
    if (t->header.v[i].type == tag) return &t->header.v[i];
  return NULL;
}

static inline int tc_set(tc_rec *r, const void *p, size_t len)
{
  uint8_t *c = malloc(len ? len : 1);
  if (!c) return -1;
  if (len) memcpy(c, p, len);
  free(r->p);
  r->p = c;
  r->len = len;
  return 0;
}

static inline void tc_put_varint(braid__buf *b, uint64_t v)
{
  uint8_t tmp[10];
  braid__buf_put(b, tmp, braid__varint_put(tmp, v));
}

static inline void tc_put32(braid__buf *b, uint32_t v)
{
  uint8_t tmp[4];
  braid__le32_put(tmp, v);
  braid__buf_put(b, tmp, 4);
}

static inline void tc_put64(braid__buf *b, uint64_t v)
{
  uint8_t tmp[8];
  braid__le64_put(tmp, v);
  braid__buf_put(b, tmp, 8);
}

/* The first varint of a record (EXCHANGE k, CHECKPOINT exchange), or ~0. */
static inline uint64_t tc_first_varint(const tc_rec *r)
{
  uint64_t v;
  return braid__varint_get(r->p, r->p + r->len, &v) ? v : UINT64_MAX;
}

/* Encodes into out (appended): header, frames, and index and footer when
 * t->finished.  Returns 0, or -1 when out of memory. */
static inline int tc_encode(const tc_trace *t, braid__buf *out)
{
  size_t start = out->len;
  braid__buf hb = { 0 }, content = { 0 };
  braid__buf_put(&hb, BRAID_TF_HEADER_TAG, 8);
  tc_put32(&hb, t->version);
  for (size_t i = 0; i < t->header.n; i++) {
    tc_put_varint(&hb, t->header.v[i].type);
    tc_put_varint(&hb, t->header.v[i].len);
    braid__buf_put(&hb, t->header.v[i].p, t->header.v[i].len);
  }
  tc_put64(&hb, hb.err ? 0 : XXH3_64bits(hb.p, hb.len));
  tc_put32(out, BRAID_TF_HEADER_MAGIC);
  tc_put32(out, (uint32_t)hb.len);
  braid__buf_put(out, hb.p, hb.len);
  braid__buf_free(&hb);
  /* Index entries: data frames by their first EXCHANGE, checkpoint frames
   * by their checkpoint's exchange. */
  braid__buf data = { 0 }, ckpt = { 0 };
  uint32_t nd = 0, nc = 0;
  ZSTD_CCtx *cc = ZSTD_createCCtx();
  if (!cc) return -1;
  ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
  for (size_t i = 0; i < t->nf; i++) {
    const tc_frame *f = &t->f[i];
    uint64_t off = out->len - start;
    if (f->kind == TC_SKIP) {
      tc_put32(out, f->magic);
      tc_put32(out, (uint32_t)f->recs.v[0].len);
      braid__buf_put(out, f->recs.v[0].p, f->recs.v[0].len);
      continue;
    }
    content.len = 0;
    for (size_t j = 0; j < f->recs.n; j++) {
      tc_put_varint(&content, f->recs.v[j].type);
      tc_put_varint(&content, f->recs.v[j].len);
      braid__buf_put(&content, f->recs.v[j].p, f->recs.v[j].len);
    }
    if (content.err || braid__buf_reserve(out, ZSTD_compressBound(content.len))) break;
    size_t z = ZSTD_compress2(cc, out->p + out->len, out->cap - out->len, content.p, content.len);
    if (ZSTD_isError(z)) break;
    out->len += z;
    if (f->recs.n && f->recs.v[0].type == BRAID_REC_EXCHANGE) {
      tc_put64(&data, tc_first_varint(&f->recs.v[0]));
      tc_put64(&data, off);
      nd++;
    } else if (f->recs.n && f->recs.v[0].type == BRAID_REC_CHECKPOINT) {
      tc_put64(&ckpt, tc_first_varint(&f->recs.v[0]));
      tc_put64(&ckpt, off);
      nc++;
    }
  }
  ZSTD_freeCCtx(cc);
  braid__buf_free(&content);
  if (t->finished) {
    uint64_t ioff = out->len - start;
    braid__buf ib = { 0 };
    tc_put32(&ib, (uint32_t)((int64_t)nd + t->count_skew));
    tc_put32(&ib, nc);
    braid__buf_put(&ib, data.p, data.len);
    braid__buf_put(&ib, ckpt.p, ckpt.len);
    for (unsigned e = 0; t->skew_every && ib.len >= 8 && e < (nd + nc); e++)
      if (e % t->skew_every == t->skew_entry % t->skew_every) {
        uint8_t *p = ib.p + 8 + 16 * (size_t)e + 8;
        braid__le64_put(p, braid__le64_get(p) + (uint64_t)t->index_skew);
      }
    tc_put64(&ib, ib.err ? 0 : XXH3_64bits(ib.p, ib.len));
    tc_put32(out, BRAID_TF_INDEX_MAGIC);
    tc_put32(out, (uint32_t)ib.len);
    braid__buf_put(out, ib.p, ib.len);
    braid__buf_free(&ib);
    uint8_t f[BRAID_TF_F_V1_SIZE];
    memcpy(f, t->footer, sizeof f);
    braid__le64_put(f + BRAID_TF_F_CHECKPOINTS, nc);
    braid__le64_put(f + BRAID_TF_F_INDEX_OFF, ioff + (uint64_t)t->footer_index_skew);
    braid__le64_put(f + BRAID_TF_F_V1_SIZE - 16, XXH3_64bits(f, BRAID_TF_F_V1_SIZE - 16));
    braid__le32_put(f + BRAID_TF_F_V1_SIZE - 8, BRAID_TF_F_V1_SIZE);
    memcpy(f + BRAID_TF_F_V1_SIZE - 4, BRAID_TF_TRAILER_TAG, 4);
    tc_put32(out, BRAID_TF_FOOTER_MAGIC);
    tc_put32(out, BRAID_TF_F_V1_SIZE);
    braid__buf_put(out, f, sizeof f);
  }
  braid__buf_free(&data);
  braid__buf_free(&ckpt);
  if (t->cut && start + t->cut < out->len) out->len = start + t->cut;
  return out->err ? -1 : 0;
}

#endif
