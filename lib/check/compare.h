/* compare.h - comparing logical records, shared by replay and diff. */
#ifndef BRAID_COMPARE_H
#define BRAID_COMPARE_H

#include "common/common.h"

/* Whether a field prints in hex: digest, hash and every *_digest, as
 * braid-dump prints them, so that a value seen in one tool can be searched
 * for in another. */
int braid__field_is_hex(const char *field);
/* One record as "  SIDE name field=value ...\n" into buf. */
void braid__fmt_record(char *buf, size_t len, const char *side, const braid_record *r);
int braid__same_record(const braid_record *a, const braid_record *b);
/* Fills d for the first difference between a and b (either may be NULL:
 * present in one stream only) at exchange k; 0 when they are equal. */
int braid__compare_records(const braid_record *a, const braid_record *b, uint64_t k, braid_divergence *d);
/* Appends one record to d->context, ">" marking the difference. */
void braid__context_line(braid_divergence *d, size_t *off, int mark, const char *side, const braid_record *r);
/* Appends the records around position `at` of two streams to d->context. */
void braid__add_context(braid_divergence *d, const braid_record *a, size_t na, const braid_record *b, size_t nb, size_t at, const char *la,
                        const char *lb);

/* The records of one exchange of both traces, matched.  A record's key is
 * its torus, its type and, for a violation, its cell; the n-th record of a
 * key in A matches the n-th of that key in B.  The runtime writes each
 * torus's records in a fixed order, so one record more or less (an
 * injection, a violated cell) leaves the others matched rather than
 * shifting everything after it. */
typedef struct braid__matched {
  const braid_record *a, *b; /* NULL: only in the other stream */
} braid__matched;

typedef struct braid__keyed braid__keyed;
typedef struct braid__aligner {
  braid__keyed *ka, *kb; /* ka owns the block of all five arrays */
  size_t *pa, *pb;       /* index of the match in the other stream, or unmatched / taken */
  braid__matched *m;     /* the n matched pairs, in stream order */
  size_t cap, n;
} braid__aligner;

/* Matches the records a[0..an) with b[0..bn) into al->m. */
int braid__align(braid__aligner *al, const braid_record *a, size_t an, const braid_record *b, size_t bn);
void braid__aligner_free(braid__aligner *al);
/* Appends the matched pairs around position `at` of al to d->context, A's
 * record labelled la, B's (when it differs) lb. */
void braid__aligned_context(braid_divergence *d, const braid__aligner *al, size_t at, const char *la, const char *lb);

#endif
