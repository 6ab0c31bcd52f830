/* record.h - the record stream: what every exchange, decision and timing
 * measurement looks like on the wire (inside the trace's zstd frames).
 *
 * A record is   varint type | varint length | payload[length].
 * Field records (types below 128) carry a payload of varints, one per field
 * in the order of the table in record.c; signed fields are zigzag-encoded.
 * Readers skip unknown types by length and ignore extra trailing fields, so
 * new fields may be appended and new types added without a format bump.
 * Types 1..63 are logical (they define the run; braid-diff compares them),
 * 64..127 are timing (wall clock, threads: never compared), 128.. are blobs.
 */
#ifndef BRAID_RECORD_H
#define BRAID_RECORD_H

#include "common/common.h"

#define BRAID_REC_MAX_FIELDS 12

enum braid__rec_type {
  BRAID_REC_EXCHANGE = 1,   /* k: opens exchange k; all records up to the next one belong to it */
  BRAID_REC_PROJECTION = 2, /* torus events vtime pending digest hash(low 32 bits) interval */
  BRAID_REC_BOUNDARY = 3,   /* torus from checked violations max_dev corrective_sum */
  BRAID_REC_VCELL = 4,      /* torus cell expected actual payload (first 4 per torus per exchange) */
  BRAID_REC_GLOBAL = 5,     /* torus from kind a b (kind 0: pending events, 1: virtual time) */
  BRAID_REC_INTERVAL = 6,   /* torus old new reason rate_ppm */
  BRAID_REC_INJECTION = 7,  /* torus cell payload seq */
  BRAID_REC_FAILURE = 8,    /* torus reason lost_events */
  BRAID_REC_REBUILD = 9,    /* torus events vtime procs */
  BRAID_REC_PROJ_ERROR = 10, /* torus from reason */
  BRAID_REC_OVERFLOW = 11,  /* torus overflows horizon_errors (cumulative, when they change) */
  BRAID_REC_EVENT = 12,     /* torus time dst src payload (only with trace_events) */
  BRAID_REC_LOGICAL_MAX = 63,
  BRAID_REC_BARRIER = 64,   /* torus thread epoch_start_ns epoch_ns wait_ns exchange_ns (ns since run start) */
  BRAID_REC_METRICS = 65,   /* torus events_per_s rss_kib latency_p50_ns latency_p99_ns */
  BRAID_REC_CHAOS = 66,     /* torus thread action ns */
  BRAID_REC_TIMING_MAX = 127,
  BRAID_REC_CHECKPOINT = 128, /* blob: varint exchange, varint torus count, then the state (see runtime) */
};

enum { BRAID_FAIL_INJECTED = 1, BRAID_FAIL_HEARTBEAT = 2 };
enum { BRAID_INTERVAL_SHRINK = 1, BRAID_INTERVAL_GROW = 2, BRAID_INTERVAL_RATE = 3 };

/* Appends to a growable byte buffer; on ENOMEM the buffer keeps `err`. */
typedef struct braid__buf {
  uint8_t *p;
  size_t len, cap;
  int err;
} braid__buf;

int braid__buf_reserve(braid__buf *b, size_t more);
void braid__buf_free(braid__buf *b);
void braid__buf_put(braid__buf *b, const void *src, size_t n);

static inline size_t braid__varint_put(uint8_t *p, uint64_t v)
{
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Decodes one varint from [p, end); returns bytes used, 0 if malformed. */
static inline size_t braid__varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
  uint64_t r = 0;
  for (size_t n = 0; n < 10 && p + n < end; n++) {
    r |= (uint64_t)(p[n] & 0x7f) << (7 * n);
    if (!(p[n] & 0x80)) {
      if (n == 9 && p[n] > 1) return 0;
      *v = r;
      return n + 1;
    }
  }
  return 0;
}

static inline uint64_t braid__zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t braid__unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Appends a field record; values are given as raw u64 (signed fields are
 * zigzagged here according to the table). */
void braid__rec_put(braid__buf *b, unsigned type, unsigned n, const uint64_t *f);
/* Appends a blob record. */
void braid__rec_put_blob(braid__buf *b, unsigned type, const void *data, size_t len);

typedef struct braid__rec_info {
  const char *name;
  unsigned nfields;
  const char *fields[BRAID_REC_MAX_FIELDS];
  uint32_t signed_mask; /* bit i: field i is signed */
} braid__rec_info;

/* Table entry for a type, or NULL for unknown types. */
const braid__rec_info *braid__rec_info_of(unsigned type);

/* Decodes one record at *pp (advancing it); blob records point into the input. */
int braid__rec_decode(const uint8_t **pp, const uint8_t *end, braid_record *rec);

#endif
