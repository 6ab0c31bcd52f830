/* record.c - record encoding and the table of record types. */
#include <stdlib.h>
#include <string.h>
#include "format/record.h"

static const braid__rec_info logical[] = {
  [BRAID_REC_EXCHANGE] = { "exchange", 1, { "k" }, 0 },
  [BRAID_REC_PROJECTION] = { "projection", 7, { "torus", "events", "vtime", "pending", "digest", "hash", "interval" }, 0 },
  [BRAID_REC_BOUNDARY] = { "boundary", 6, { "torus", "from", "checked", "violations", "max_dev", "corrective_sum" }, 1u << 5 },
  [BRAID_REC_VCELL] = { "violation", 5, { "torus", "cell", "expected", "actual", "payload" }, (1u << 2) | (1u << 3) | (1u << 4) },
  [BRAID_REC_GLOBAL] = { "global", 5, { "torus", "from", "kind", "a", "b" }, 0 },
  [BRAID_REC_INTERVAL] = { "interval", 5, { "torus", "old", "new", "reason", "rate_ppm" }, 0 },
  [BRAID_REC_INJECTION] = { "injection", 4, { "torus", "cell", "payload", "seq" }, 1u << 2 },
  [BRAID_REC_FAILURE] = { "failure", 3, { "torus", "reason", "lost_events" }, 0 },
  [BRAID_REC_REBUILD] = { "rebuild", 4, { "torus", "events", "vtime", "procs" }, 0 },
  [BRAID_REC_PROJ_ERROR] = { "projection_error", 3, { "torus", "from", "reason" }, 0 },
  [BRAID_REC_OVERFLOW] = { "overflow", 3, { "torus", "overflows", "horizon_errors" }, 0 },
  [BRAID_REC_EVENT] = { "event", 5, { "torus", "time", "dst", "src", "payload" }, 1u << 4 },
};

static const braid__rec_info timing[] = {
  [BRAID_REC_BARRIER - 64] = { "barrier", 6, { "torus", "thread", "epoch_start_ns", "epoch_ns", "wait_ns", "exchange_ns" }, 0 },
  [BRAID_REC_METRICS - 64] = { "metrics", 5, { "torus", "events_per_s", "rss_kib", "latency_p50_ns", "latency_p99_ns" }, 0 },
  [BRAID_REC_CHAOS - 64] = { "chaos", 4, { "torus", "thread", "action", "ns" }, 0 },
};

static const braid__rec_info checkpoint = { "checkpoint", 0, { 0 }, 0 };

const braid__rec_info *braid__rec_info_of(unsigned type)
{
  const braid__rec_info *i = NULL;
  if (type < sizeof logical / sizeof logical[0]) i = &logical[type];
  else if (type >= 64 && type - 64 < sizeof timing / sizeof timing[0]) i = &timing[type - 64];
  else if (type == BRAID_REC_CHECKPOINT) i = &checkpoint;
  return i && i->name ? i : NULL;
}

const char *braid_record_type_name(uint32_t type)
{
  const braid__rec_info *i = braid__rec_info_of(type);
  return i ? i->name : NULL;
}

const char *braid_record_field_name(uint32_t type, unsigned f, int *is_signed)
{
  const braid__rec_info *i = braid__rec_info_of(type);
  if (!i || f >= i->nfields) return NULL;
  if (is_signed) *is_signed = (int)((i->signed_mask >> f) & 1);
  return i->fields[f];
}

int braid__buf_reserve(braid__buf *b, size_t more)
{
  if (b->err) return b->err;
  if (b->len + more <= b->cap) return 0;
  size_t nc = b->cap ? b->cap : 256;
  while (nc < b->len + more) nc *= 2;
  uint8_t *n = realloc(b->p, nc);
  if (!n) return b->err = BRAID_ENOMEM;
  b->p = n;
  b->cap = nc;
  return 0;
}

void braid__buf_free(braid__buf *b)
{
  free(b->p);
  memset(b, 0, sizeof *b);
}

void braid__buf_put(braid__buf *b, const void *src, size_t n)
{
  if (!n || braid__buf_reserve(b, n)) return; /* an empty buffer has no storage to copy into */
  memcpy(b->p + b->len, src, n);
  b->len += n;
}

void braid__rec_put(braid__buf *b, unsigned type, unsigned n, const uint64_t *f)
{
  uint8_t tmp[BRAID_REC_MAX_FIELDS * 10];
  size_t len = 0;
  const braid__rec_info *info = braid__rec_info_of(type);
  uint32_t smask = info ? info->signed_mask : 0;
  for (unsigned i = 0; i < n && i < BRAID_REC_MAX_FIELDS; i++)
    len += braid__varint_put(tmp + len, (smask >> i) & 1 ? braid__zigzag((int64_t)f[i]) : f[i]);
  if (braid__buf_reserve(b, len + 20)) return;
  b->len += braid__varint_put(b->p + b->len, type);
  b->len += braid__varint_put(b->p + b->len, len);
  memcpy(b->p + b->len, tmp, len);
  b->len += len;
}

void braid__rec_put_blob(braid__buf *b, unsigned type, const void *data, size_t len)
{
  if (braid__buf_reserve(b, len + 20)) return;
  b->len += braid__varint_put(b->p + b->len, type);
  b->len += braid__varint_put(b->p + b->len, len);
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

int braid__rec_decode(const uint8_t **pp, const uint8_t *end, braid_record *rec)
{
  const uint8_t *p = *pp;
  uint64_t type, len;
  size_t n = braid__varint_get(p, end, &type);
  if (!n) return BRAID_ECORRUPT;
  p += n;
  n = braid__varint_get(p, end, &len);
  if (!n || len > (uint64_t)(end - p - (ptrdiff_t)n)) return BRAID_ECORRUPT;
  p += n;
  memset(rec, 0, sizeof *rec);
  rec->type = (uint32_t)type;
  const uint8_t *q = p, *qend = p + len;
  if (type >= 128) {
    rec->blob = p;
    rec->bloblen = (size_t)len;
  } else {
    const braid__rec_info *info = braid__rec_info_of((unsigned)type);
    while (q < qend && rec->nfields < BRAID_RECORD_MAX_FIELDS) {
      uint64_t v;
      size_t m = braid__varint_get(q, qend, &v);
      if (!m) return BRAID_ECORRUPT;
      q += m;
      unsigned i = rec->nfields++;
      rec->field[i] = info && ((info->signed_mask >> i) & 1) ? (uint64_t)braid__unzigzag(v) : v;
    }
  }
  *pp = qend;
  return 0;
}
