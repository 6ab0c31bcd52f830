/* trace_read.c - reads a trace file as untrusted input (braid_trace_* in braid.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: window size before decoding */
#include <zstd.h>
#include <zstd_errors.h>
#include "format/record.h"
#include "format/layout.h"

#define TR_CHUNK (128u * 1024)

typedef struct tr_entry {
  uint64_t k, off;
} tr_entry;

typedef struct tr_list {
  tr_entry *v;
  size_t n, cap;
} tr_list;

struct braid_trace {
  int fd;
  char *path;
  char model[64]; /* info.model */
  uint64_t size;
  uint64_t data_start; /* first byte after the header frame */
  uint64_t data_end;   /* the index with a footer, else the end of the file */
  braid_trace_info info;
  char *str[5];        /* header strings, NUL-terminated */
  ZSTD_DCtx *dctx;
  /* File bytes [in_off, in_off + in_len) of the data region, read TR_CHUNK
   * at a time: small frames share one read rather than costing one each. */
  uint8_t *in;
  uint64_t in_off;
  size_t in_len;
  /* The stream cursor: decoded content of the current frame. */
  braid__buf out;
  size_t pos, rec_pos;
  uint64_t frame_off, next_off;
  uint64_t exchange;
  int sticky; /* the error next() repeats until a seek */
  /* Frame table: from the index, or built while frames go by (no index). */
  tr_list data, ckpt;
  int scanned;       /* the table covers every readable frame */
  int scan_err;      /* what stopped the scan early, if anything */
  uint64_t scan_off; /* frames below this offset are in the table */
  uint64_t last_k;   /* the last exchange of those frames, when any_k */
  int any_k;
  braid__buf cbuf;   /* checkpoint lookups and scans decode here */
  char err[512];
};

static int tr_fail(braid_trace *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int tr_pread(braid_trace *t, uint64_t off, void *p, size_t n);
static int tr_short(braid_trace *t, uint64_t off);
static int tr_window(braid_trace *t, uint64_t off, size_t n, const uint8_t **p);
static int tr_grow(braid_trace *t, braid__buf *b, size_t want);
static int tr_zstd(braid_trace *t, uint64_t off, braid__buf *buf, uint64_t *end);
static int tr_frame(braid_trace *t, uint64_t off, braid__buf *buf, uint64_t *end, int *skippable);
static int tr_header(braid_trace *t);
static int tr_footer(braid_trace *t);
static int tr_index(braid_trace *t, uint64_t index_off, uint64_t footer_off);
static int tr_list_add(tr_list *l, uint64_t k, uint64_t off);
static void tr_note(braid_trace *t, uint64_t off, uint64_t end, const braid__buf *content);
static void tr_scan_all(braid_trace *t);
static int tr_record(braid_trace *t, braid_record *rec);
static const tr_entry *tr_find(const tr_list *l, uint64_t k);

/* Every message names the file first, as the tools print it as it is. */
static int tr_fail(braid_trace *t, int err, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(t->err, sizeof t->err, "%s: ", t->path);
  if (n < 0 || (size_t)n >= sizeof t->err) n = 0;
  va_start(ap, fmt);
  vsnprintf(t->err + n, sizeof t->err - (size_t)n, fmt, ap);
  va_end(ap);
  return err;
}

static int tr_pread(braid_trace *t, uint64_t off, void *p, size_t n)
{
  uint8_t *c = p;
  while (n > 0) {
    ssize_t r = pread(t->fd, c, n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return tr_fail(t, BRAID_EIO, "read at offset %" PRIu64 ": %s", off, strerror(errno));
    /* The size was checked against fstat: a short read means the file shrank. */
    if (r == 0) return tr_fail(t, BRAID_EIO, "file shrank while reading at offset %" PRIu64, off);
    c += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

/* A frame needs bytes beyond the data region: a cut file, or (when a footer
 * bounds the region) a frame overlapping the index. */
static int tr_short(braid_trace *t, uint64_t off)
{
  if (t->data_end == t->size) {
    t->info.truncated = 1;
    /* Frames hold whole exchanges, so the frames before this one (all
     * noted: a file without footer has no index to skip through) end with
     * the last complete exchange.  Every tool says this one line. */
    if (t->any_k && t->scan_off >= off)
      return tr_fail(t, BRAID_ETRUNCATED, "truncated after exchange %" PRIu64 ": the file ends inside the frame at offset %" PRIu64, t->last_k, off);
    if (!t->any_k && t->scan_off >= off)
      return tr_fail(t, BRAID_ETRUNCATED, "truncated before its first complete exchange: the file ends inside the frame at offset %" PRIu64, off);
    return tr_fail(t, BRAID_ETRUNCATED, "truncated: the file ends inside the frame at offset %" PRIu64, off);
  }
  return tr_fail(t, BRAID_ECORRUPT, "frame at offset %" PRIu64 " runs into the index at offset %" PRIu64, off, t->data_end);
}

/* Points *p at the n bytes of the data region at off (n <= TR_CHUNK, and
 * the caller checked that they lie below data_end), reading the chunk that
 * begins there unless the last one read holds them. */
static int tr_window(braid_trace *t, uint64_t off, size_t n, const uint8_t **p)
{
  if (off < t->in_off || off - t->in_off > t->in_len || t->in_len - (off - t->in_off) < n) {
    uint64_t left = t->data_end - off;
    size_t len = left < TR_CHUNK ? (size_t)left : TR_CHUNK;
    t->in_len = 0; /* nothing is cached while the read may fail */
    BRAID_FORWARD(tr_pread(t, off, t->in, len));
    t->in_off = off;
    t->in_len = len;
  }
  *p = t->in + (off - t->in_off);
  return 0;
}

/* Grows b so that `want` more bytes fit, never beyond the frame content limit
 * (plus one byte, so that overflowing the limit is detectable). */
static int tr_grow(braid_trace *t, braid__buf *b, size_t want)
{
  size_t limit = (size_t)BRAID_TF_MAX_CONTENT + 1;
  if (b->cap - b->len >= want || b->cap >= limit) return 0;
  size_t nc = b->cap < 65536 ? 65536 : b->cap * 2;
  while (nc - b->len < want && nc < limit) nc *= 2;
  if (nc > limit) nc = limit;
  uint8_t *p = realloc(b->p, nc);
  if (!p) return tr_fail(t, BRAID_ENOMEM, "out of memory");
  b->p = p;
  b->cap = nc;
  return 0;
}

/* Decodes the zstd frame at off into buf; *end is where the next frame starts. */
static int tr_zstd(braid_trace *t, uint64_t off, braid__buf *buf, uint64_t *end)
{
  const uint8_t *hb;
  uint64_t avail = t->data_end - off;
  size_t hn = avail < ZSTD_FRAMEHEADERSIZE_MAX ? (size_t)avail : ZSTD_FRAMEHEADERSIZE_MAX;
  BRAID_FORWARD(tr_window(t, off, hn, &hb));
  ZSTD_frameHeader fh;
  size_t r = ZSTD_getFrameHeader(&fh, hb, hn);
  if (ZSTD_isError(r)) return tr_fail(t, BRAID_ECORRUPT, "bad zstd frame header at offset %" PRIu64 " (%s)", off, ZSTD_getErrorName(r));
  if (r > 0) return tr_short(t, off);
  if (fh.windowSize > (1ull << BRAID_TF_WINDOW_LOG_MAX))
    return tr_fail(t, BRAID_ELIMIT, "frame at offset %" PRIu64 " needs a %" PRIu64 "-byte window; the limit is %llu",
                   off, (uint64_t)fh.windowSize, 1ull << BRAID_TF_WINDOW_LOG_MAX);
  if (fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && fh.frameContentSize > BRAID_TF_MAX_CONTENT)
    return tr_fail(t, BRAID_ELIMIT, "frame at offset %" PRIu64 " declares %llu bytes of content; the limit is %u",
                   off, (unsigned long long)fh.frameContentSize, BRAID_TF_MAX_CONTENT);
  if (!fh.checksumFlag) return tr_fail(t, BRAID_ECORRUPT, "frame at offset %" PRIu64 " has no content checksum", off);

  ZSTD_DCtx_reset(t->dctx, ZSTD_reset_session_only);
  buf->len = 0;
  size_t first = fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN ? (size_t)fh.frameContentSize + 1 : 65536;
  BRAID_FORWARD(tr_grow(t, buf, first > 1u << 20 ? 1u << 20 : first));
  ZSTD_inBuffer in = { NULL, 0, 0 };
  uint64_t pos = off; /* file offset of the input's end */
  for (;;) {
    if (in.pos == in.size) {
      if (pos == t->data_end) return tr_short(t, off);
      const uint8_t *p;
      BRAID_FORWARD(tr_window(t, pos, 1, &p));
      size_t n = t->in_len - (size_t)(pos - t->in_off);
      in = (ZSTD_inBuffer){ p, n, 0 };
      pos += n;
    }
    BRAID_FORWARD(tr_grow(t, buf, ZSTD_DStreamOutSize()));
    ZSTD_outBuffer o = { buf->p + buf->len, buf->cap - buf->len, 0 };
    size_t ret = ZSTD_decompressStream(t->dctx, &o, &in);
    buf->len += o.pos;
    if (ZSTD_isError(ret)) {
      ZSTD_ErrorCode c = ZSTD_getErrorCode(ret);
      if (c == ZSTD_error_checksum_wrong) return tr_fail(t, BRAID_ECORRUPT, "content checksum mismatch in the frame at offset %" PRIu64, off);
      if (c == ZSTD_error_memory_allocation) return tr_fail(t, BRAID_ENOMEM, "out of memory decoding the frame at offset %" PRIu64, off);
      if (c == ZSTD_error_frameParameter_windowTooLarge) return tr_fail(t, BRAID_ELIMIT, "frame at offset %" PRIu64 " needs too large a window", off);
      return tr_fail(t, BRAID_ECORRUPT, "corrupt zstd frame at offset %" PRIu64 " (%s)", off, ZSTD_getErrorName(ret));
    }
    if (buf->len > BRAID_TF_MAX_CONTENT)
      return tr_fail(t, BRAID_ELIMIT, "frame at offset %" PRIu64 " holds more than %u bytes", off, BRAID_TF_MAX_CONTENT);
    if (ret == 0) {
      *end = pos - (in.size - in.pos);
      return 0;
    }
  }
}

/* Reads the frame at off: a zstd frame is decoded into buf, a skippable frame
 * is only stepped over (*skippable = 1). */
static int tr_frame(braid_trace *t, uint64_t off, braid__buf *buf, uint64_t *end, int *skippable)
{
  const uint8_t *h;
  uint64_t avail = t->data_end - off;
  *skippable = 0;
  if (avail < 4) return tr_short(t, off);
  BRAID_FORWARD(tr_window(t, off, avail < 8 ? 4 : 8, &h));
  uint32_t magic = braid__le32_get(h);
  if (magic == BRAID_TF_ZSTD_MAGIC) return tr_zstd(t, off, buf, end);
  if ((magic & BRAID_TF_SKIP_MASK) != BRAID_TF_SKIP_BASE)
    return tr_fail(t, BRAID_ECORRUPT, "bad frame magic 0x%08x at offset %" PRIu64, magic, off);
  if (avail < 8 || avail - 8 < braid__le32_get(h + 4)) return tr_short(t, off);
  *skippable = 1;
  *end = off + 8 + braid__le32_get(h + 4);
  return 0;
}

static int tr_header(braid_trace *t)
{
  uint8_t h[20];
  size_t n = t->size < sizeof h ? (size_t)t->size : sizeof h;
  BRAID_FORWARD(tr_pread(t, 0, h, n));
  uint8_t want[4];
  braid__le32_put(want, BRAID_TF_HEADER_MAGIC);
  if (memcmp(h, want, n < 4 ? n : 4) != 0) return tr_fail(t, BRAID_ENOTTRACE, "not a braid trace (bad magic at offset 0)");
  if (n >= 16 && memcmp(h + 8, BRAID_TF_HEADER_TAG, 8) != 0) return tr_fail(t, BRAID_ENOTTRACE, "not a braid trace (bad magic at offset 8)");
  if (n < 20) return tr_fail(t, BRAID_ETRUNCATED, "truncated: the file ends inside the header frame at offset 0");
  uint32_t version = braid__le32_get(h + 16);
  t->info.format_version = version;
  if (version != BRAID_TF_VERSION)
    return tr_fail(t, BRAID_EVERSION, "trace format version %u (at offset 16); this build reads version %u", version, BRAID_TF_VERSION);
  uint32_t psz = braid__le32_get(h + 4);
  if (psz < 20) return tr_fail(t, BRAID_ECORRUPT, "header frame at offset 0 is too small (%u bytes)", psz);
  if (psz > BRAID_TF_MAX_HEADER) return tr_fail(t, BRAID_ELIMIT, "header frame at offset 0 declares %u bytes; the limit is %u", psz, BRAID_TF_MAX_HEADER);
  if (t->size < 8 + (uint64_t)psz) return tr_fail(t, BRAID_ETRUNCATED, "truncated: the file ends inside the header frame at offset 0");
  uint8_t *p = malloc(psz);
  if (!p) return tr_fail(t, BRAID_ENOMEM, "out of memory");
  int rc = tr_pread(t, 8, p, psz);
  if (!rc && XXH3_64bits(p, psz - 8) != braid__le64_get(p + psz - 8))
    rc = tr_fail(t, BRAID_ECORRUPT, "header checksum mismatch (header frame at offset 0)");
  const uint8_t *q = p + 12, *e = p + psz - 8;
  while (!rc && q < e) {
    uint64_t tag, len;
    size_t a = braid__varint_get(q, e, &tag), b = a ? braid__varint_get(q + a, e, &len) : 0;
    uint64_t at = 8 + (uint64_t)(q - p);
    if (!a || !b || len > (uint64_t)(e - q - a - b)) {
      rc = tr_fail(t, BRAID_ECORRUPT, "bad header field at offset %" PRIu64, at);
      break;
    }
    const uint8_t *v = q + a + b;
    q = v + len;
    int s = tag == BRAID_TF_H_CONFIG_TEXT ? 0 : tag == BRAID_TF_H_LIB_VERSION ? 1 : tag == BRAID_TF_H_BUILD_ID ? 2
          : tag == BRAID_TF_H_HOST ? 3 : tag == BRAID_TF_H_PLUGIN ? 4 : -1;
    if (s >= 0) {
      free(t->str[s]);
      t->str[s] = strndup((const char *)v, (size_t)len);
      if (!t->str[s]) rc = tr_fail(t, BRAID_ENOMEM, "out of memory");
    } else if (tag == BRAID_TF_H_CONFIG_HASH || tag == BRAID_TF_H_START_NS) {
      if (len != 8) rc = tr_fail(t, BRAID_ECORRUPT, "bad header field at offset %" PRIu64, at);
      else if (tag == BRAID_TF_H_CONFIG_HASH) t->info.config_hash = braid__le64_get(v);
      else t->info.start_unix_ns = braid__le64_get(v);
    }
    /* Other tags come from newer writers and are skipped by length. */
  }
  free(p);
  t->data_start = 8 + (uint64_t)psz;
  return rc;
}

static int tr_footer(braid_trace *t)
{
  uint8_t tr[8];
  if (t->size - t->data_start < 8 + BRAID_TF_F_V1_SIZE) return 0;
  BRAID_FORWARD(tr_pread(t, t->size - 8, tr, 8));
  /* No trailer: the writer never finished; the stream is read by scanning. */
  if (memcmp(tr + 4, BRAID_TF_TRAILER_TAG, 4) != 0) return 0;
  uint32_t fsz = braid__le32_get(tr);
  if (fsz < BRAID_TF_F_V1_SIZE || fsz > BRAID_TF_MAX_FOOTER || 8 + (uint64_t)fsz > t->size - t->data_start)
    return tr_fail(t, BRAID_ECORRUPT, "bad footer size %u in the trailer at offset %" PRIu64, fsz, t->size - 8);
  uint64_t foff = t->size - 8 - fsz;
  uint8_t *p = malloc(8 + (size_t)fsz);
  if (!p) return tr_fail(t, BRAID_ENOMEM, "out of memory");
  int rc = tr_pread(t, foff, p, 8 + (size_t)fsz);
  const uint8_t *f = p + 8;
  if (!rc && (braid__le32_get(p) != BRAID_TF_FOOTER_MAGIC || braid__le32_get(p + 4) != fsz))
    rc = tr_fail(t, BRAID_ECORRUPT, "bad footer frame at offset %" PRIu64, foff);
  if (!rc && XXH3_64bits(f, fsz - 16) != braid__le64_get(f + fsz - 16))
    rc = tr_fail(t, BRAID_ECORRUPT, "footer checksum mismatch (footer frame at offset %" PRIu64 ")", foff);
  if (!rc) {
    uint32_t status = braid__le32_get(f + BRAID_TF_F_STATUS);
    t->info.tori = braid__le32_get(f + BRAID_TF_F_TORI);
    t->info.exchanges = braid__le64_get(f + BRAID_TF_F_EXCHANGES);
    t->info.total_events = braid__le64_get(f + BRAID_TF_F_EVENTS);
    t->info.checkpoints = braid__le64_get(f + BRAID_TF_F_CHECKPOINTS);
    for (int i = 0; i < BRAID_TF_MAX_TORI; i++) t->info.final_state_hash[i] = braid__le64_get(f + BRAID_TF_F_HASHES + 8 * i);
    uint64_t ioff = braid__le64_get(f + BRAID_TF_F_INDEX_OFF);
    if (status > BRAID_TRACE_UNFINISHED || t->info.tori > BRAID_TF_MAX_TORI)
      rc = tr_fail(t, BRAID_ECORRUPT, "bad status or tori in the footer at offset %" PRIu64, foff);
    else if (ioff < t->data_start || ioff > foff || foff - ioff < 8 + 16)
      rc = tr_fail(t, BRAID_ECORRUPT, "footer at offset %" PRIu64 " points to no index (offset %" PRIu64 ")", foff, ioff);
    else {
      t->info.status = (braid_trace_status)status;
      rc = tr_index(t, ioff, foff);
    }
  }
  free(p);
  return rc;
}

static int tr_index(braid_trace *t, uint64_t ioff, uint64_t foff)
{
  uint8_t h[8];
  BRAID_FORWARD(tr_pread(t, ioff, h, 8));
  uint32_t isz = braid__le32_get(h + 4);
  if (braid__le32_get(h) != BRAID_TF_INDEX_MAGIC || ioff + 8 + isz != foff || isz < 16)
    return tr_fail(t, BRAID_ECORRUPT, "bad index frame at offset %" PRIu64, ioff);
  if (isz > BRAID_TF_MAX_INDEX) return tr_fail(t, BRAID_ELIMIT, "index at offset %" PRIu64 " exceeds %u bytes", ioff, BRAID_TF_MAX_INDEX);
  uint8_t *p = malloc(isz);
  if (!p) return tr_fail(t, BRAID_ENOMEM, "out of memory");
  int rc = tr_pread(t, ioff + 8, p, isz);
  uint64_t nd = 0, nc = 0;
  if (!rc && XXH3_64bits(p, isz - 8) != braid__le64_get(p + isz - 8))
    rc = tr_fail(t, BRAID_ECORRUPT, "index checksum mismatch (index frame at offset %" PRIu64 ")", ioff);
  if (!rc) {
    nd = braid__le32_get(p);
    nc = braid__le32_get(p + 4);
    if (16 + 16 * (nd + nc) != isz || nc != t->info.checkpoints)
      rc = tr_fail(t, BRAID_ECORRUPT, "index at offset %" PRIu64 " has a bad entry count", ioff);
  }
  for (uint64_t i = 0; !rc && i < nd + nc; i++) {
    tr_list *l = i < nd ? &t->data : &t->ckpt;
    uint64_t k = braid__le64_get(p + 8 + 16 * i), off = braid__le64_get(p + 16 + 16 * i);
    const tr_entry *last = l->n ? &l->v[l->n - 1] : NULL;
    /* Sorted, in range and increasing: lookups can bisect without checks. */
    if (off < t->data_start || off >= ioff || (last && (off <= last->off || k < last->k || (l == &t->data && k == last->k))))
      rc = tr_fail(t, BRAID_ECORRUPT, "index at offset %" PRIu64 ": entry %" PRIu64 " is out of order or range", ioff, i);
    else if (tr_list_add(l, k, off))
      rc = tr_fail(t, BRAID_ENOMEM, "out of memory");
  }
  free(p);
  if (rc) return rc;
  t->info.has_index = 1;
  t->data_end = ioff;
  t->scanned = 1;
  return 0;
}

static int tr_list_add(tr_list *l, uint64_t k, uint64_t off)
{
  tr_entry *v = braid__grow(l->v, &l->cap, l->n, sizeof *v, 64);
  if (!v) return BRAID_ENOMEM;
  l->v = v;
  l->v[l->n++] = (tr_entry){ k, off };
  return 0;
}

/* Without an index, every frame read in file order extends the frame table
 * and the exchange count, so a later seek scans only what is still unseen. */
static void tr_note(braid_trace *t, uint64_t off, uint64_t end, const braid__buf *content)
{
  if (t->info.has_index || off != t->scan_off) return;
  t->scan_off = end;
  if (!content) return;
  const uint8_t *p = content->p, *e = p + content->len;
  int first = 1;
  while (p < e) {
    braid_record r;
    uint64_t k;
    if (braid__rec_decode(&p, e, &r, NULL)) return;
    int c = r.type == BRAID_REC_CHECKPOINT ? braid__varint_get(r.blob, r.blob + r.bloblen, &k) != 0 : r.nfields > 0;
    if (r.type != BRAID_REC_CHECKPOINT) k = r.field[0];
    if (r.type == BRAID_REC_EXCHANGE && c) {
      tr_list *l = &t->data;
      if (first && (l->n == 0 || k > l->v[l->n - 1].k)) tr_list_add(l, k, off);
      t->info.exchanges++;
      t->last_k = k;
      t->any_k = 1;
    } else if (r.type == BRAID_REC_CHECKPOINT && c && first) {
      tr_list *l = &t->ckpt;
      if (l->n == 0 || k >= l->v[l->n - 1].k) tr_list_add(l, k, off);
      t->info.checkpoints++;
      return;
    }
    first = 0;
  }
}

static void tr_scan_all(braid_trace *t)
{
  while (!t->scanned && t->scan_off < t->data_end) {
    uint64_t end;
    int skip, rc = tr_frame(t, t->scan_off, &t->cbuf, &end, &skip);
    if (rc) {
      t->scan_err = rc;
      break;
    }
    tr_note(t, t->scan_off, end, skip ? NULL : &t->cbuf);
  }
  t->scanned = 1;
}

/* Decodes the record at the cursor (the frame is in t->out). */
static int tr_record(braid_trace *t, braid_record *rec)
{
  const uint8_t *p = t->out.p + t->pos, *e = t->out.p + t->out.len;
  braid__rec_error why;
  if (braid__rec_decode(&p, e, rec, &why) && why.claimed > why.left)
    return tr_fail(t, BRAID_ECORRUPT, "record at byte %zu of the frame at offset %" PRIu64 " claims %" PRIu64 " bytes; the frame has %zu left",
                   t->pos, t->frame_off, why.claimed, why.left);
  if (why.what)
    return tr_fail(t, BRAID_ECORRUPT, "%s at byte %zu of the frame at offset %" PRIu64, why.what, t->pos, t->frame_off);
  rec->offset = t->frame_off;
  if (rec->type == BRAID_REC_CHECKPOINT && !braid__varint_get(rec->blob, rec->blob + rec->bloblen, &rec->exchange))
    return tr_fail(t, BRAID_ECORRUPT, "checkpoint without an exchange at byte %zu of the frame at offset %" PRIu64, t->pos, t->frame_off);
  if (rec->type == BRAID_REC_EXCHANGE) {
    if (rec->nfields < 1)
      return tr_fail(t, BRAID_ECORRUPT, "exchange record without k at byte %zu of the frame at offset %" PRIu64, t->pos, t->frame_off);
    t->exchange = rec->field[BRAID_F_EXCHANGE_K];
  }
  if (rec->type != BRAID_REC_CHECKPOINT) rec->exchange = t->exchange;
  t->rec_pos = t->pos;
  t->pos = (size_t)(p - t->out.p);
  return 0;
}

/* The settings tools need, read once from the canonical "key=value\n"
 * text (a hostile header may repeat a key: the first one counts, as it
 * would in braid_config's parse of the same text). */
static void tr_settings(braid_trace *t)
{
  int have_model = 0, have_tori = 0, have_seq = 0, have_ranks = 0;
  t->info.model = "";
  for (const char *p = t->info.config_text; *p;) {
    size_t n = strcspn(p, "\n");
    if (!have_model && n > 6 && !strncmp(p, "model=", 6)) {
      have_model = 1;
      snprintf(t->model, sizeof t->model, "%.*s", (int)(n - 6), p + 6);
      t->info.model = t->model;
    } else if (!have_tori && n > 5 && !strncmp(p, "tori=", 5)) {
      have_tori = 1;
      char *end;
      unsigned long v = strtoul(p + 5, &end, 10);
      if (end == p + n && v >= 2 && v <= BRAID_TF_MAX_TORI) t->info.config_tori = (uint32_t)v;
    } else if (!have_seq && n == 12 && !strncmp(p, "sequential=", 11)) {
      have_seq = 1;
      t->info.sequential = p[11] == '1';
    } else if (!have_ranks && n > 6 && !strncmp(p, "ranks=", 6)) {
      have_ranks = 1;
      char *end;
      unsigned long v = strtoul(p + 6, &end, 10);
      if (end == p + n && v <= BRAID_TF_MAX_TORI) t->info.ranks = (uint32_t)v;
    }
    p += n + (p[n] == '\n');
  }
}

int braid_trace_open(braid_trace **out, const char *path, char *errbuf, size_t errlen)
{
  BRAID_RETURN_IF(!out, BRAID_EINVAL);
  *out = NULL;
  if (!path) {
    braid__fmt(errbuf, errlen, "no trace path given");
    return BRAID_EINVAL;
  }
  braid_trace *t = calloc(1, sizeof *t);
  if (t) t->path = strdup(path);
  if (!t || !t->path) {
    free(t);
    braid__fmt(errbuf, errlen, "%s: out of memory", path);
    return BRAID_ENOMEM;
  }
  int rc = 0;
  struct stat st;
  t->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (t->fd < 0) rc = tr_fail(t, errno == ENOENT ? BRAID_ENOENT : BRAID_EIO, "%s", strerror(errno));
  else if (fstat(t->fd, &st) != 0) rc = tr_fail(t, BRAID_EIO, "%s", strerror(errno));
  else if (S_ISDIR(st.st_mode)) rc = tr_fail(t, BRAID_EINVAL, "is a directory");
  else if (!S_ISREG(st.st_mode)) rc = tr_fail(t, BRAID_EINVAL, "not a regular file");
  else if (st.st_size == 0) rc = tr_fail(t, BRAID_ENOTTRACE, "not a braid trace (the file is empty)");
  if (!rc) {
    t->size = (uint64_t)st.st_size;
    t->dctx = ZSTD_createDCtx();
    t->in = malloc(TR_CHUNK);
    if (!t->dctx || !t->in) rc = tr_fail(t, BRAID_ENOMEM, "out of memory");
    else ZSTD_DCtx_setParameter(t->dctx, ZSTD_d_windowLogMax, BRAID_TF_WINDOW_LOG_MAX);
  }
  if (!rc) rc = tr_header(t);
  if (!rc) {
    t->data_end = t->size;
    t->info.status = BRAID_TRACE_UNFINISHED;
    rc = tr_footer(t);
  }
  if (rc) {
    braid__fmt(errbuf, errlen, "%s", t->err);
    braid_trace_close(t);
    return rc;
  }
  static const char empty[] = "";
  const char **s[5] = { &t->info.config_text, &t->info.lib_version, &t->info.build_id, &t->info.host, &t->info.plugin };
  for (int i = 0; i < 5; i++) *s[i] = t->str[i] ? t->str[i] : empty;
  tr_settings(t);
  t->next_off = t->scan_off = t->data_start;
  *out = t;
  return 0;
}

void braid_trace_close(braid_trace *t)
{
  if (!t) return;
  if (t->fd >= 0) close(t->fd);
  ZSTD_freeDCtx(t->dctx);
  free(t->in);
  for (int i = 0; i < 5; i++) free(t->str[i]);
  braid__buf_free(&t->out);
  braid__buf_free(&t->cbuf);
  free(t->data.v);
  free(t->ckpt.v);
  free(t->path);
  free(t);
}

const braid_trace_info *braid_trace_get_info(const braid_trace *t) { return &t->info; }

const char *braid_trace_error(const braid_trace *t) { return t->err; }

int braid_trace_next(braid_trace *t, braid_record *rec)
{
  BRAID_RETURN_IF(!t || !rec, BRAID_EINVAL);
  BRAID_RETURN_IF(t->sticky, t->sticky);
  for (;;) {
    if (t->pos < t->out.len) {
      int rc = tr_record(t, rec);
      if (rc) t->sticky = rc;
      return rc;
    }
    if (t->next_off >= t->data_end) {
      if (t->scan_off >= t->data_end) t->scanned = 1;
      return BRAID_EEOF;
    }
    uint64_t end;
    int skip, rc = tr_frame(t, t->next_off, &t->out, &end, &skip);
    if (rc) {
      t->out.len = t->pos = 0;
      if (!t->info.has_index && t->next_off == t->scan_off) {
        t->scan_err = rc;
        t->scanned = 1;
      }
      return t->sticky = rc;
    }
    tr_note(t, t->next_off, end, skip ? NULL : &t->out);
    if (skip) t->out.len = 0;
    else t->frame_off = t->next_off;
    t->pos = 0;
    t->next_off = end;
  }
}

/* Last entry with k' <= k in a list sorted by k, or NULL. */
static const tr_entry *tr_find(const tr_list *l, uint64_t k)
{
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (l->v[mid].k <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo ? &l->v[lo - 1] : NULL;
}

int braid_trace_seek(braid_trace *t, uint64_t k)
{
  BRAID_RETURN_IF(!t, BRAID_EINVAL);
  tr_scan_all(t);
  const tr_entry *e = tr_find(&t->data, k);
  int notfound = t->scan_err && t->scan_err != BRAID_ETRUNCATED ? t->scan_err : BRAID_ERANGE;
  if (!e) return notfound == BRAID_ERANGE ? tr_fail(t, BRAID_ERANGE, "exchange %" PRIu64 " is not in the trace", k) : notfound;
  t->next_off = e->off;
  t->out.len = t->pos = 0;
  t->sticky = 0;
  t->exchange = e->k;
  for (;;) {
    braid_record rec;
    int rc = braid_trace_next(t, &rec);
    if (rc == BRAID_EEOF || (rc == 0 && rec.type == BRAID_REC_EXCHANGE && rec.field[0] > k)) {
      t->sticky = 0;
      return tr_fail(t, BRAID_ERANGE, "exchange %" PRIu64 " is not in the trace", k);
    }
    if (rc == BRAID_ETRUNCATED) {
      t->sticky = 0;
      return tr_fail(t, BRAID_ERANGE, "exchange %" PRIu64 " is not in the trace (it is cut at offset %" PRIu64 ")", k, t->next_off);
    }
    if (rc) return rc;
    if (rec.type == BRAID_REC_EXCHANGE && rec.field[0] == k) {
      t->pos = t->rec_pos; /* next() returns this EXCHANGE record again */
      return 0;
    }
  }
}

int braid_trace_checkpoint(braid_trace *t, uint64_t k, uint64_t *at, const uint8_t **blob, size_t *len)
{
  BRAID_RETURN_IF(!t || !at || !blob || !len, BRAID_EINVAL);
  tr_scan_all(t);
  const tr_entry *e = tr_find(&t->ckpt, k);
  if (!e) {
    if (t->scan_err && t->scan_err != BRAID_ETRUNCATED) return t->scan_err;
    return tr_fail(t, BRAID_ERANGE, "no checkpoint at or before exchange %" PRIu64, k);
  }
  uint64_t end, ck, type, rlen;
  int skip;
  BRAID_FORWARD(tr_frame(t, e->off, &t->cbuf, &end, &skip));
  if (skip) return tr_fail(t, BRAID_ECORRUPT, "the checkpoint of exchange %" PRIu64 " points to a skippable frame at offset %" PRIu64, e->k, e->off);
  const uint8_t *p = t->cbuf.p, *q = p + t->cbuf.len;
  size_t a = braid__varint_get(p, q, &type), b = a ? braid__varint_get(p + a, q, &rlen) : 0;
  size_t c = b && rlen == (uint64_t)(q - p - a - b) ? braid__varint_get(p + a + b, q, &ck) : 0;
  if (!c || type != BRAID_REC_CHECKPOINT || ck != e->k)
    return tr_fail(t, BRAID_ECORRUPT, "frame at offset %" PRIu64 " is not the checkpoint of exchange %" PRIu64, e->off, e->k);
  *at = ck;
  *blob = p + a + b + c;
  *len = (size_t)(q - *blob);
  return 0;
}
