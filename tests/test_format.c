/* test_format.c - the record table (BRAID_RECORD_TABLE): what it generates
 * is consistent, records round-trip through the one encoder and decoder,
 * and braid-trace(5) lists every type with its fields in order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "format/record.h"

#ifndef BRAID_SRCDIR
#define BRAID_SRCDIR "."
#endif

typedef struct row {
  unsigned type;
  const char *name;
  unsigned nfields;
} row;

static const row rows[] = {
#define T(N, num, name, n) { num, name, n },
#define F(N, FIELD, name, sg)
  BRAID_RECORD_TABLE(T, F)
#undef T
#undef F
};

Test(format, every_type_has_its_fields_named_and_numbered_in_order)
{
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const braid__rec_info *info = braid__rec_info_of(rows[i].type);
    cr_assert(info, "type %u", rows[i].type);
    cr_assert_str_eq(info->name, rows[i].name);
    cr_assert_eq(info->nfields, rows[i].nfields, "%s", rows[i].name);
    for (unsigned f = 0; f < BRAID_REC_MAX_FIELDS; f++)
      cr_assert_eq(info->fields[f] != NULL, f < info->nfields, "%s field %u", rows[i].name, f);
    for (size_t j = 0; j < i; j++) cr_assert(strcmp(rows[i].name, rows[j].name), "%s twice", rows[i].name);
  }
  cr_assert_eq(BRAID_F_PROJECTION_INTERVAL, 6);
  cr_assert_eq(BRAID_F_BARRIER_EXCHANGE_NS, 5);
  cr_assert_str_eq(braid_record_field_name(BRAID_REC_INJECTION, BRAID_F_INJECTION_SEQ, NULL), "seq");
  cr_assert_null(braid_record_type_name(65), "metrics records are not written and not in the table");
  cr_assert_null(braid_record_type_name(66));
}

Test(format, signed_fields_round_trip_and_unknown_types_skip_by_length)
{
  braid__buf b = { 0 };
  uint64_t f[5] = { 2, 77, (uint64_t)(int64_t)-5, (uint64_t)(int64_t)-9000000000ll, (uint64_t)(int64_t)-1 };
  braid__rec_put(&b, BRAID_REC_VCELL, 5, f);
  uint8_t unknown[] = { 50, 3, 0xff, 0xff, 0xff }; /* type 50, 3 bytes that are no varint */
  braid__buf_put(&b, unknown, sizeof unknown);
  braid__rec_put(&b, BRAID_REC_EXCHANGE, 1, (uint64_t[]){ 9 });
  cr_assert_eq(b.err, 0);
  const uint8_t *p = b.p, *end = b.p + b.len;
  braid_record r;
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.type, BRAID_REC_VCELL);
  cr_assert_eq(r.nfields, 5);
  cr_assert_eq(r.sfield[BRAID_F_VCELL_EXPECTED], -5);
  cr_assert_eq(r.sfield[BRAID_F_VCELL_ACTUAL], -9000000000ll);
  cr_assert_eq(r.sfield[BRAID_F_VCELL_PAYLOAD], -1);
  cr_assert_eq(r.field[BRAID_F_VCELL_CELL], 77);
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.type, 50);
  cr_assert_eq(r.nfields, 0);
  cr_assert_eq(braid__rec_decode(&p, end, &r, NULL), 0);
  cr_assert_eq(r.field[BRAID_F_EXCHANGE_K], 9);
  cr_assert_eq(p, end);
  braid__rec_error why;
  const uint8_t cut[] = { BRAID_REC_PROJECTION, 40, 1, 2 };
  p = cut;
  cr_assert_eq(braid__rec_decode(&p, cut + sizeof cut, &r, &why), BRAID_ECORRUPT);
  cr_assert_eq(why.claimed, 40);
  cr_assert_eq(why.left, 2);
  cr_assert_eq(p, cut, "nothing consumed on error");
  braid__buf_free(&b);
}

Test(format, braid_trace_5_lists_every_type_with_its_fields)
{
  FILE *f = fopen(BRAID_SRCDIR "/man/braid-trace.5", "r");
  cr_assert(f);
  static char page[1 << 17];
  size_t n = fread(page, 1, sizeof page - 1, f);
  fclose(f);
  page[n] = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const braid__rec_info *info = braid__rec_info_of(rows[i].type);
    char line[512];
    int off = snprintf(line, sizeof line, ".It %u Ta %s Ta", rows[i].type, rows[i].name);
    for (unsigned k = 0; k < info->nfields; k++)
      off += snprintf(line + off, sizeof line - (size_t)off, " %s%s", info->fields[k], info->is_signed[k] ? "(s)" : "");
    cr_assert(strstr(page, line), "braid-trace(5) lacks the line: %s", line);
  }
}
