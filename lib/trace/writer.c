/* trace_write.c - writes the record stream into a zstd trace file (trace.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>
#include "format/record.h"
#include "trace/writer.h"
#include "format/layout.h"

typedef struct tw_entry {
  uint64_t k, off;
} tw_entry;

typedef struct tw_list {
  tw_entry *v;
  size_t n, cap;
  uint64_t frames; /* frames offered to the index */
  uint64_t stride; /* data index: every stride-th frame (0: every frame) */
} tw_list;

/* The data index holds at most this many entries, so a writer's memory does
 * not grow with the length of the run: when it is full every other entry
 * goes and the stride doubles.  A seek scans forward from the nearest entry,
 * so at most `stride` frames. */
#define TW_DATA_INDEX_MAX 4096

struct braid__trace_writer {
  int fd;
  int err;        /* sticky: every call after a failure returns it */
  int finished;
  char *path;
  char msg[256];
  ZSTD_CCtx *cctx;
  braid__buf pending; /* uncompressed content of the open frame */
  braid__buf z;       /* compressed frame */
  uint64_t pending_k; /* first exchange of the open frame */
  uint64_t last_k;
  int any_k;
  uint64_t nexch; /* exchanges appended */
  uint64_t bytes;
  tw_list data, ckpt;
};

static int tw_fail(braid__trace_writer *w, int err, const char *reason);
static int tw_write(braid__trace_writer *w, const void *p, size_t n);
static int tw_close_frame(braid__trace_writer *w, tw_list *list, uint64_t k);
static int tw_list_add(braid__trace_writer *w, tw_list *l, uint64_t k, uint64_t off);
static int tw_index_data(braid__trace_writer *w, uint64_t k, uint64_t off);
static int tw_skippable(braid__trace_writer *w, uint32_t magic, const uint8_t *p, size_t n);
static void tw_field(braid__buf *b, unsigned tag, const void *p, size_t n);
static void tw_field_str(braid__buf *b, unsigned tag, const char *s);
static void tw_field_u64(braid__buf *b, unsigned tag, uint64_t v);

/* Records the first failure; the message follows strerror's wording. */
static int tw_fail(braid__trace_writer *w, int err, const char *reason)
{
  if (w->err) return w->err;
  w->err = err;
  braid__fmt(w->msg, sizeof w->msg, "%s: %s", w->path, reason);
  return err;
}

static int tw_write(braid__trace_writer *w, const void *p, size_t n)
{
  const uint8_t *c = p;
  while (n > 0) {
    ssize_t r = write(w->fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ENOSPC) return tw_fail(w, BRAID_ENOSPC, "No space left on device");
    if (r < 0) return tw_fail(w, BRAID_EIO, strerror(errno));
    if (r == 0) return tw_fail(w, BRAID_EIO, "write returned 0 bytes");
    c += r;
    n -= (size_t)r;
    w->bytes += (uint64_t)r;
  }
  return 0;
}

static int tw_index_data(braid__trace_writer *w, uint64_t k, uint64_t off)
{
  tw_list *l = &w->data;
  if (!l->stride) l->stride = 1;
  uint64_t frame = l->frames++;
  if (frame % l->stride) return 0;
  if (l->n == TW_DATA_INDEX_MAX) {
    for (size_t i = 0; i < l->n / 2; i++) l->v[i] = l->v[2 * i];
    l->n /= 2;
    l->stride *= 2;
    if (frame % l->stride) return 0;
  }
  return tw_list_add(w, l, k, off);
}

static int tw_list_add(braid__trace_writer *w, tw_list *l, uint64_t k, uint64_t off)
{
  tw_entry *v = braid__grow(l->v, &l->cap, l->n, sizeof *v, 64);
  if (!v) return tw_fail(w, BRAID_ENOMEM, "out of memory");
  l->v = v;
  l->v[l->n++] = (tw_entry){ k, off };
  return 0;
}

/* Compresses the pending content into one frame and indexes it under k. */
static int tw_close_frame(braid__trace_writer *w, tw_list *list, uint64_t k)
{
  if (w->pending.len == 0) return 0;
  BRAID_FORWARD(braid__buf_reserve(&w->z, ZSTD_compressBound(w->pending.len)) ? tw_fail(w, BRAID_ENOMEM, "out of memory") : 0);
  size_t zn = ZSTD_compress2(w->cctx, w->z.p, w->z.cap, w->pending.p, w->pending.len);
  if (ZSTD_isError(zn)) return tw_fail(w, BRAID_EIO, ZSTD_getErrorName(zn));
  if (list == &w->data) BRAID_FORWARD(tw_index_data(w, k, w->bytes));
  else BRAID_FORWARD(tw_list_add(w, list, k, w->bytes));
  w->pending.len = 0;
  return tw_write(w, w->z.p, zn);
}

static int tw_skippable(braid__trace_writer *w, uint32_t magic, const uint8_t *p, size_t n)
{
  uint8_t h[BRAID_TF_SKIP_HDR];
  braid__le32_put(h, magic);
  braid__le32_put(h + 4, (uint32_t)n);
  BRAID_FORWARD(tw_write(w, h, sizeof h));
  return tw_write(w, p, n);
}

static void tw_field(braid__buf *b, unsigned tag, const void *p, size_t n)
{
  uint8_t v[20];
  size_t l = braid__varint_put(v, tag);
  l += braid__varint_put(v + l, n);
  braid__buf_put(b, v, l);
  braid__buf_put(b, p, n);
}

static void tw_field_str(braid__buf *b, unsigned tag, const char *s)
{
  tw_field(b, tag, s ? s : "", s ? strlen(s) : 0);
}

static void tw_field_u64(braid__buf *b, unsigned tag, uint64_t v)
{
  uint8_t le[8];
  braid__le64_put(le, v);
  tw_field(b, tag, le, sizeof le);
}

int braid__tw_open(braid__trace_writer **out, const char *path, const braid__trace_header *h, char *err, size_t errlen)
{
  *out = NULL;
  BRAID_RETURN_IF(!path || !h, BRAID_EINVAL);
  braid__trace_writer *w = calloc(1, sizeof *w);
  BRAID_RETURN_IF(!w, BRAID_ENOMEM);
  w->fd = -1;
  w->path = strdup(path);
  w->cctx = ZSTD_createCCtx();
  int rc = w->path && w->cctx ? 0 : BRAID_ENOMEM;
  if (!rc) {
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, BRAID_TF_LEVEL);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_windowLog, BRAID_TF_WINDOW_LOG);
    /* Size the buffers and the compressor's workspace for a full frame now:
     * early frames are small (flushed on time) and growing them later, in
     * the middle of a run, made the process's memory creep. */
    if (braid__buf_reserve(&w->pending, BRAID_TF_FRAME_TARGET * 2) || braid__buf_reserve(&w->z, ZSTD_compressBound(BRAID_TF_FRAME_TARGET * 2))) {
      rc = tw_fail(w, BRAID_ENOMEM, "out of memory");
    } else {
      memset(w->pending.p, 0, BRAID_TF_FRAME_TARGET);
      if (ZSTD_isError(ZSTD_compress2(w->cctx, w->z.p, w->z.cap, w->pending.p, BRAID_TF_FRAME_TARGET))) rc = tw_fail(w, BRAID_ENOMEM, "out of memory");
    }
  }
  if (!rc) {
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) rc = tw_fail(w, errno == ENOENT ? BRAID_ENOENT : errno == ENOSPC ? BRAID_ENOSPC : BRAID_EIO, strerror(errno));
  }
  if (!rc) {
    braid__buf b = { 0 };
    uint8_t v[4];
    braid__buf_put(&b, BRAID_TF_HEADER_TAG, 8);
    braid__le32_put(v, BRAID_TF_VERSION);
    braid__buf_put(&b, v, 4);
    tw_field_str(&b, BRAID_TF_H_CONFIG_TEXT, h->config_text);
    tw_field_u64(&b, BRAID_TF_H_CONFIG_HASH, h->config_hash);
    tw_field_str(&b, BRAID_TF_H_LIB_VERSION, h->lib_version);
    tw_field_str(&b, BRAID_TF_H_BUILD_ID, h->build_id);
    tw_field_str(&b, BRAID_TF_H_HOST, h->host);
    tw_field_u64(&b, BRAID_TF_H_START_NS, h->start_unix_ns);
    tw_field_str(&b, BRAID_TF_H_PLUGIN, h->plugin);
    uint8_t sum[8];
    braid__le64_put(sum, b.err ? 0 : XXH3_64bits(b.p, b.len));
    braid__buf_put(&b, sum, 8);
    if (b.err) rc = tw_fail(w, BRAID_ENOMEM, "out of memory");
    else if (b.len > BRAID_TF_MAX_HEADER) rc = tw_fail(w, BRAID_ELIMIT, "trace header exceeds 4 MiB");
    else rc = tw_skippable(w, BRAID_TF_HEADER_MAGIC, b.p, b.len);
    braid__buf_free(&b);
  }
  if (rc) {
    braid__fmt(err, errlen, "%s", w->msg[0] ? w->msg : "out of memory");
    braid__tw_close(w);
    return rc;
  }
  *out = w;
  return 0;
}

int braid__tw_exchange(braid__trace_writer *w, uint64_t k, const uint8_t *recs, size_t len)
{
  BRAID_RETURN_IF(w->err, w->err);
  BRAID_RETURN_IF(w->finished, BRAID_ESTATE);
  BRAID_RETURN_IF(w->any_k && k <= w->last_k, BRAID_EINVAL);
  /* A frame holds whole exchanges, so one exchange must fit a reader's frame. */
  if (len > BRAID_TF_MAX_CONTENT) return tw_fail(w, BRAID_ELIMIT, "one exchange exceeds the 256 MiB frame limit");
  if (w->pending.len > 0 && w->pending.len + len > BRAID_TF_FRAME_TARGET)
    BRAID_FORWARD(tw_close_frame(w, &w->data, w->pending_k));
  if (w->pending.len == 0) w->pending_k = k;
  braid__buf_put(&w->pending, recs, len);
  if (w->pending.err) return tw_fail(w, BRAID_ENOMEM, "out of memory");
  w->last_k = k;
  w->any_k = 1;
  w->nexch++;
  if (w->pending.len >= BRAID_TF_FRAME_TARGET) return tw_close_frame(w, &w->data, w->pending_k);
  return 0;
}

int braid__tw_checkpoint(braid__trace_writer *w, uint64_t k, const uint8_t *blob, size_t len)
{
  BRAID_RETURN_IF(w->err, w->err);
  BRAID_RETURN_IF(w->finished, BRAID_ESTATE);
  if (len > BRAID_TF_MAX_CONTENT - 64) return tw_fail(w, BRAID_ELIMIT, "checkpoint exceeds the 256 MiB frame limit");
  BRAID_FORWARD(tw_close_frame(w, &w->data, w->pending_k));
  uint8_t v[30];
  size_t pre = braid__varint_put(v, k);
  size_t n = braid__varint_put(v + pre, BRAID_REC_CHECKPOINT);
  n += braid__varint_put(v + pre + n, pre + len);
  braid__buf_put(&w->pending, v + pre, n);
  braid__buf_put(&w->pending, v, pre);
  braid__buf_put(&w->pending, blob, len);
  if (w->pending.err) return tw_fail(w, BRAID_ENOMEM, "out of memory");
  return tw_close_frame(w, &w->ckpt, k);
}

int braid__tw_flush(braid__trace_writer *w)
{
  BRAID_RETURN_IF(w->err, w->err);
  BRAID_RETURN_IF(w->finished, BRAID_ESTATE);
  return tw_close_frame(w, &w->data, w->pending_k);
}

int braid__tw_finish(braid__trace_writer *w, const braid__trace_footer *f)
{
  BRAID_FORWARD(braid__tw_flush(w));
  braid__buf b = { 0 };
  uint8_t v[BRAID_TF_F_V1_SIZE];
  braid__le32_put(v, (uint32_t)w->data.n);
  braid__le32_put(v + 4, (uint32_t)w->ckpt.n);
  braid__buf_put(&b, v, 8);
  for (int l = 0; l < 2; l++) {
    const tw_list *list = l ? &w->ckpt : &w->data;
    for (size_t i = 0; i < list->n; i++) {
      braid__le64_put(v, list->v[i].k);
      braid__le64_put(v + 8, list->v[i].off);
      braid__buf_put(&b, v, 16);
    }
  }
  braid__le64_put(v, b.err ? 0 : XXH3_64bits(b.p, b.len));
  braid__buf_put(&b, v, 8);
  int rc = b.err ? tw_fail(w, BRAID_ENOMEM, "out of memory") : 0;
  if (!rc && b.len > BRAID_TF_MAX_INDEX) rc = tw_fail(w, BRAID_ELIMIT, "trace index exceeds 64 MiB");
  uint64_t index_off = w->bytes;
  if (!rc) rc = tw_skippable(w, BRAID_TF_INDEX_MAGIC, b.p, b.len);
  braid__buf_free(&b);
  BRAID_FORWARD(rc);

  memset(v, 0, sizeof v);
  braid__le32_put(v + BRAID_TF_F_STATUS, (uint32_t)f->status);
  braid__le32_put(v + BRAID_TF_F_TORI, f->tori);
  braid__le64_put(v + BRAID_TF_F_EXCHANGES, f->exchanges);
  braid__le64_put(v + BRAID_TF_F_EVENTS, f->total_events);
  braid__le64_put(v + BRAID_TF_F_CHECKPOINTS, w->ckpt.n);
  for (int i = 0; i < BRAID_TF_MAX_TORI; i++) braid__le64_put(v + BRAID_TF_F_HASHES + 8 * i, f->final_state_hash[i]);
  braid__le64_put(v + BRAID_TF_F_INDEX_OFF, index_off);
  braid__le64_put(v + BRAID_TF_F_V1_SIZE - 16, XXH3_64bits(v, BRAID_TF_F_V1_SIZE - 16));
  braid__le32_put(v + BRAID_TF_F_V1_SIZE - 8, BRAID_TF_F_V1_SIZE);
  memcpy(v + BRAID_TF_F_V1_SIZE - 4, BRAID_TF_TRAILER_TAG, 4);
  BRAID_FORWARD(tw_skippable(w, BRAID_TF_FOOTER_MAGIC, v, sizeof v));
  w->finished = 1;
  int fd = w->fd;
  w->fd = -1;
  if (close(fd) != 0) return tw_fail(w, errno == ENOSPC ? BRAID_ENOSPC : BRAID_EIO, strerror(errno));
  return 0;
}

void braid__tw_close(braid__trace_writer *w)
{
  if (!w) return;
  if (w->fd >= 0) close(w->fd);
  ZSTD_freeCCtx(w->cctx);
  braid__buf_free(&w->pending);
  braid__buf_free(&w->z);
  free(w->data.v);
  free(w->ckpt.v);
  free(w->path);
  free(w);
}

const char *braid__tw_error(const braid__trace_writer *w) { return w->msg; }

uint64_t braid__tw_bytes(const braid__trace_writer *w) { return w->bytes; }

uint64_t braid__tw_exchanges(const braid__trace_writer *w) { return w->nexch; }
