/* compare.c - comparing logical records: equality, the first differing
 * field, readable context, and matching the records of one exchange by
 * torus and type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/compare.h"

/* Digests and hashes print in hex, as braid-dump prints them, so that a
 * value seen in one can be searched for in the other. */
int braid__field_is_hex(const char *f)
{
  size_t n = f ? strlen(f) : 0;
  return f && (!strcmp(f, "digest") || !strcmp(f, "hash") || (n > 7 && !strcmp(f + n - 7, "_digest")));
}

void braid__fmt_record(char *buf, size_t len, const char *side, const braid_record *r)
{
  const char *name = braid_record_type_name(r->type);
  size_t off = (size_t)snprintf(buf, len, "  %s %s", side, name ? name : "type");
  if (!name && off < len) off += (size_t)snprintf(buf + off, len - off, "%u", r->type);
  for (unsigned i = 0; i < r->nfields && off < len; i++) {
    int sg = 0;
    const char *f = braid_record_field_name(r->type, i, &sg);
    if (braid__field_is_hex(f)) off += (size_t)snprintf(buf + off, len - off, " %s=%016llx", f, (unsigned long long)r->field[i]);
    else if (sg) off += (size_t)snprintf(buf + off, len - off, " %s=%lld", f ? f : "?", (long long)r->sfield[i]);
    else off += (size_t)snprintf(buf + off, len - off, " %s=%llu", f ? f : "?", (unsigned long long)r->field[i]);
  }
  if (off < len) snprintf(buf + off, len - off, "\n");
}

int braid__same_record(const braid_record *a, const braid_record *b)
{
  return a && b && a->type == b->type && a->nfields == b->nfields && !memcmp(a->field, b->field, a->nfields * sizeof a->field[0]);
}

/* Fills d for the first difference between a and b (same position), or
 * returns 0 if they are equal. */
int braid__compare_records(const braid_record *a, const braid_record *b, uint64_t k, braid_divergence *d)
{
  memset(d, 0, sizeof *d);
  d->exchange = k;
  if (braid__same_record(a, b)) return 0;
  const braid_record *any = a ? a : b;
  const char *name = braid_record_type_name(any->type);
  snprintf(d->record, sizeof d->record, "%s", name ? name : "unknown");
  d->torus = any->type != BRAID_REC_EXCHANGE && any->nfields > 0 ? (int64_t)any->field[0] : -1;
  if (!a || !b || a->type != b->type) {
    snprintf(d->field, sizeof d->field, "%s", !a || !b ? "presence" : "type");
    d->expected = a ? a->type : 0;
    d->actual = b ? b->type : 0;
    return 1;
  }
  unsigned n = a->nfields > b->nfields ? a->nfields : b->nfields;
  for (unsigned i = 0; i < n; i++) {
    uint64_t x = i < a->nfields ? a->field[i] : 0, y = i < b->nfields ? b->field[i] : 0;
    if (x == y && i < a->nfields && i < b->nfields) continue;
    const char *f = braid_record_field_name(a->type, i, &d->field_signed);
    snprintf(d->field, sizeof d->field, "%s", f ? f : "field");
    d->field_hex = braid__field_is_hex(f);
    d->expected = x;
    d->actual = y;
    return 1;
  }
  return 1;
}

/* Appends one record to d->context, ">" marking the difference. */
void braid__context_line(braid_divergence *d, size_t *off, int mark, const char *side, const braid_record *r)
{
  char line[512];
  if (*off >= sizeof d->context) return;
  braid__fmt_record(line, sizeof line, side, r);
  *off += (size_t)snprintf(d->context + *off, sizeof d->context - *off, "%s%s", mark ? ">" : " ", line);
}

void braid__add_context(braid_divergence *d, const braid_record *a, size_t na, const braid_record *b, size_t nb, size_t at,
                        const char *la, const char *lb)
{
  size_t off = strlen(d->context);
  size_t lo = at > 3 ? at - 3 : 0;
  for (size_t i = lo; i < at + 4; i++) {
    if (i < na) braid__context_line(d, &off, i == at, la, &a[i]);
    if (i < nb && (i >= na || !braid__same_record(&a[i], &b[i]))) braid__context_line(d, &off, i == at, lb, &b[i]);
  }
}

struct braid__keyed {
  uint64_t torus, sub;
  uint32_t type;
  uint32_t idx;
};
typedef struct braid__keyed keyed;


#define UNMATCHED SIZE_MAX
#define MATCH_TAKEN (SIZE_MAX - 1)

static int key_cmp(const void *x, const void *y)
{
  const keyed *a = x, *b = y;
  if (a->torus != b->torus) return a->torus < b->torus ? -1 : 1;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  if (a->sub != b->sub) return a->sub < b->sub ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void keys_of(const braid_record *v, size_t n, keyed *k)
{
  for (size_t i = 0; i < n; i++) {
    const braid_record *r = &v[i];
    int has_torus = r->type != BRAID_REC_EXCHANGE && r->nfields > 0;
    k[i] = (keyed){ has_torus ? r->field[0] : 0, r->type == BRAID_REC_VCELL && r->nfields > 1 ? r->field[1] : 0, r->type, (uint32_t)i };
  }
  qsort(k, n, sizeof *k, key_cmp);
}

int braid__align(braid__aligner *al, const braid_record *av, size_t an, const braid_record *bv, size_t bn)
{
  size_t need = an + bn;
  if (need > al->cap) {
    /* One block for the five arrays, all of 8-byte aligned elements. */
    size_t nc = need * 2;
    keyed *k = malloc(nc * (2 * sizeof(keyed) + 2 * sizeof(size_t) + sizeof(braid__matched)));
    if (!k) return BRAID_ENOMEM;
    free(al->ka);
    al->ka = k;
    al->kb = k + nc;
    al->pa = (size_t *)(al->kb + nc);
    al->pb = al->pa + nc;
    al->m = (braid__matched *)(al->pb + nc);
    al->cap = nc;
  }
  keys_of(av, an, al->ka);
  keys_of(bv, bn, al->kb);
  for (size_t i = 0; i < an; i++) al->pa[i] = UNMATCHED;
  for (size_t j = 0; j < bn; j++) al->pb[j] = UNMATCHED;
  /* Walk both sorted key lists: equal keys pair up in stream order. */
  for (size_t i = 0, j = 0; i < an && j < bn;) {
    keyed x = al->ka[i], y = al->kb[j];
    x.idx = y.idx = 0;
    int c = key_cmp(&x, &y);
    if (c < 0) i++;
    else if (c > 0) j++;
    else {
      al->pa[al->ka[i].idx] = al->kb[j].idx;
      al->pb[al->kb[j].idx] = al->ka[i].idx;
      i++;
      j++;
    }
  }
  /* Merge into stream order: a record without a match goes before the next
   * matched pair, A's first. */
  al->n = 0;
  for (size_t i = 0, j = 0; i < an || j < bn;) {
    while (j < bn && al->pb[j] == MATCH_TAKEN) j++;
    if (i < an && al->pa[i] == UNMATCHED) al->m[al->n++] = (braid__matched){ &av[i++], NULL };
    else if (j < bn && al->pb[j] == UNMATCHED) al->m[al->n++] = (braid__matched){ NULL, &bv[j++] };
    else if (i < an) {
      al->m[al->n++] = (braid__matched){ &av[i], &bv[al->pa[i]] };
      al->pb[al->pa[i++]] = MATCH_TAKEN;
    } else {
      break; /* not reached: every match of B's was taken with A's */
    }
  }
  return 0;
}

void braid__aligner_free(braid__aligner *al)
{
  free(al->ka);
  memset(al, 0, sizeof *al);
}

void braid__aligned_context(braid_divergence *d, const braid__aligner *al, size_t at, const char *la, const char *lb)
{
  size_t off = strlen(d->context);
  for (size_t i = at > 3 ? at - 3 : 0; i < al->n && i < at + 4; i++) {
    const braid__matched *m = &al->m[i];
    if (m->a) braid__context_line(d, &off, i == at, la, m->a);
    if (m->b && !braid__same_record(m->a, m->b)) braid__context_line(d, &off, i == at, lb, m->b);
  }
}
