/* record.c - record encoding and the table of record types. */
#include <stdlib.h>
#include <string.h>
#include "format/record.h"

/* Generated from BRAID_RECORD_TABLE: one entry per type number. */
static const braid__rec_info table[BRAID_REC_CHECKPOINT + 1] = {
#define T(N, num, tname, n) [num].name = tname, [num].nfields = n,
#define F(N, FIELD, fname, sg) [BRAID_REC_##N].fields[BRAID_F_##N##_##FIELD] = fname, [BRAID_REC_##N].is_signed[BRAID_F_##N##_##FIELD] = sg,
  BRAID_RECORD_TABLE(T, F)
#undef T
#undef F
};

const braid__rec_info *braid__rec_info_of(unsigned type)
{
  return type < sizeof table / sizeof table[0] && table[type].name ? &table[type] : NULL;
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
  if (is_signed) *is_signed = i->is_signed[f];
  return i->fields[f];
}

void braid__rec_put(braid__buf *b, unsigned type, unsigned n, const uint64_t *f) { braid__rec_put_tail(b, type, n, f, NULL, 0); }

void braid__rec_put_tail(braid__buf *b, unsigned type, unsigned n, const uint64_t *f, const void *tail, size_t taillen)
{
  if (n > BRAID_REC_MAX_FIELDS) n = BRAID_REC_MAX_FIELDS;
  /* Encoded in place, behind room for a one-byte length: records are put
   * at every exchange step and most are 10-30 bytes, so going through a
   * scratch copy (or a call to make room) cost more than encoding them. */
  const size_t most = 10 + 10 + (size_t)n * 10 + taillen;
  if ((b->err || b->cap - b->len < most) && braid__buf_reserve(b, most)) return;
  const braid__rec_info *info = braid__rec_info_of(type);
  uint8_t *d = b->p + b->len;
  size_t th = braid__varint_put(d, type), len = 0;
  uint8_t *q = d + th + 1;
  for (unsigned i = 0; i < n; i++) len += braid__varint_put(q + len, info && info->is_signed[i] ? braid__zigzag((int64_t)f[i]) : f[i]);
  uint8_t lv[10];
  size_t lh = braid__varint_put(lv, len + taillen);
  if (lh > 1) memmove(q + lh - 1, q, len);
  memcpy(d + th, lv, lh);
  if (taillen) memcpy(d + th + lh + len, tail, taillen);
  b->len += th + lh + len + taillen;
}

void braid__rec_put_blob(braid__buf *b, unsigned type, const void *data, size_t len)
{
  if (braid__buf_reserve(b, len + 20)) return;
  b->len += braid__varint_put(b->p + b->len, type);
  b->len += braid__varint_put(b->p + b->len, len);
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

int braid__rec_decode(const uint8_t **pp, const uint8_t *end, braid_record *rec, braid__rec_error *why)
{
  braid__rec_error unused;
  if (!why) why = &unused;
  *why = (braid__rec_error){ NULL, 0, 0 };
  const uint8_t *p = *pp;
  uint64_t type, len;
  size_t a = braid__varint_get(p, end, &type), b = a ? braid__varint_get(p + a, end, &len) : 0;
  why->what = "malformed record header";
  if (!a || !b || type > UINT32_MAX) return BRAID_ECORRUPT;
  why->what = "record longer than what holds it";
  why->claimed = len;
  why->left = (size_t)(end - p - a - b);
  if (len > why->left) return BRAID_ECORRUPT;
  const uint8_t *q = p + a + b, *qend = q + len;
  memset(rec, 0, sizeof *rec);
  rec->type = (uint32_t)type;
  if (type >= 128) {
    rec->blob = q;
    rec->bloblen = (size_t)len;
  } else {
    const braid__rec_info *info = braid__rec_info_of((unsigned)type);
    unsigned max = info ? info->nfields : BRAID_REC_MAX_FIELDS;
    why->what = "malformed field";
    while (q < qend && rec->nfields < max) {
      uint64_t v;
      size_t m = braid__varint_get(q, qend, &v);
      if (!m && info) return BRAID_ECORRUPT;
      if (!m) break; /* an unknown type's payload need not be varints */
      q += m;
      unsigned i = rec->nfields++;
      rec->field[i] = info && info->is_signed[i] ? (uint64_t)braid__unzigzag(v) : v;
    }
    /* The message after a check's fields; its length field bounds it, and
     * so does the record (a damaged one keeps what it holds). */
    if (type == BRAID_REC_CHECK && rec->nfields > BRAID_F_CHECK_MESSAGE_LEN) {
      uint64_t want = rec->field[BRAID_F_CHECK_MESSAGE_LEN];
      rec->blob = q;
      rec->bloblen = (size_t)(want < (uint64_t)(qend - q) ? want : (uint64_t)(qend - q));
    }
  }
  why->what = NULL;
  *pp = qend;
  return 0;
}
