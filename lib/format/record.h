/* record.h - the record stream: what every exchange, decision and timing
 * measurement looks like on the wire (inside the trace's zstd frames).
 *
 * A record is   varint type | varint length | payload[length].
 * Field records (types below 128) carry a payload of varints, one per field
 * in the order of BRAID_RECORD_TABLE (braid.h); signed fields are
 * zigzag-encoded.
 * Readers skip unknown types by length and ignore extra trailing fields, so
 * new fields may be appended and new types added without a format bump.
 * Types 1..63 are logical (they define the run; braid-diff compares them),
 * 64..127 are timing (wall clock, threads: never compared), 128.. are blobs.
 */
#ifndef BRAID_RECORD_H
#define BRAID_RECORD_H

#include "common/buf.h"
#include "common/varint.h"

#define BRAID_REC_MAX_FIELDS BRAID_RECORD_MAX_FIELDS
#define BRAID_REC_LOGICAL_MAX 63
#define BRAID_REC_TIMING_MAX 127

/* Appends a field record; values are given as raw u64 (signed fields are
 * zigzagged here according to the table). */
void braid__rec_put(braid__buf *b, unsigned type, unsigned n, const uint64_t *f);
/* Appends a field record followed by `taillen` raw bytes (a CHECK record's
 * message): readers that know only the fields skip them, as they skip the
 * fields a newer writer appended. */
void braid__rec_put_tail(braid__buf *b, unsigned type, unsigned n, const uint64_t *f, const void *tail, size_t taillen);
/* Appends a blob record. */
void braid__rec_put_blob(braid__buf *b, unsigned type, const void *data, size_t len);

typedef struct braid__rec_info {
  const char *name;
  unsigned nfields;
  const char *fields[BRAID_REC_MAX_FIELDS];
  uint8_t is_signed[BRAID_REC_MAX_FIELDS];
} braid__rec_info;

/* Table entry for a type, or NULL for unknown types. */
const braid__rec_info *braid__rec_info_of(unsigned type);

/* Decodes one record at *pp (advancing it past the record): type, then the
 * fields of a known type (extra trailing fields, from a newer writer, are
 * ignored; an unknown type's first BRAID_REC_MAX_FIELDS varints are kept),
 * or the blob of a type >= 128, which points into the input (as does a
 * CHECK record's message, in blob/bloblen: at most message_len bytes of
 * what follows its fields).  Returns 0 or
 * BRAID_ECORRUPT with *why (when why is not NULL) saying what is
 * malformed. */
typedef struct braid__rec_error {
  const char *what;
  uint64_t claimed; /* a record longer than its input: its length, and what was left */
  size_t left;
} braid__rec_error;
int braid__rec_decode(const uint8_t **pp, const uint8_t *end, braid_record *rec, braid__rec_error *why);

#endif
