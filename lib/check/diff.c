/* diff.c - comparing the logical record streams of two traces (braid_diff
 * in braid.h): settings, then exchange by exchange with the records of each
 * exchange matched by torus and type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check/compare.h"
#include "check/stream.h"
#include "runtime/footprint.h"
#include "runtime/settings.h"

/* Whether braid-diff compares a setting of the header.  Run length
 * (exchanges, events, duration_ms) is not compared: runs that differ only in length
 * have the same stream over the exchanges both have, and where one stops
 * earlier is reported by itself.  Neither are settings that cannot change
 * results.  Model, fail, model parameters and keys this build does not know
 * are compared. */
static int setting_is_compared(const char *key, size_t len)
{
  if (len == 9 && !memcmp(key, "exchanges", 9)) return 0;
  if (len == 6 && !memcmp(key, "events", 6)) return 0;
  return braid__setting_is_logical(key, len) != 0;
}

/* The value of `key` in canonical settings text, or NULL. */
static const char *setting_value(const char *text, const char *key, size_t klen, size_t *vlen)
{
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    if (n > klen && p[klen] == '=' && !memcmp(p, key, klen)) {
      *vlen = n - klen - 1;
      return p + klen + 1;
    }
    p += n + (p[n] == '\n');
  }
  return NULL;
}

static void append_value(char *out, size_t len, size_t *off, const char *v, size_t n)
{
  if (!v) *off += (size_t)snprintf(out + *off, len - *off, "(unset)");
  else if (!n) *off += (size_t)snprintf(out + *off, len - *off, "(none)");
  else *off += (size_t)snprintf(out + *off, len - *off, "%.*s", (int)n, v);
}

/* Lists the compared settings whose values differ, A's order first, then
 * those only B has: "seed 1 vs 2, tori 3 vs 4"; ", ..." ends a list that
 * does not fit. */
static void settings_differ(const char *ta, const char *tb, char *out, size_t len)
{
  size_t off = 0;
  out[0] = 0;
  for (int side = 0; side < 2; side++) {
    const char *t = side ? tb : ta, *other = side ? ta : tb;
    for (const char *p = t, *next; *p; p = next) {
      size_t n = strcspn(p, "\n"), klen = strcspn(p, "=\n"), on = 0;
      next = p + n + (p[n] == '\n');
      if (klen == n || !setting_is_compared(p, klen)) continue;
      const char *v = p + klen + 1, *ov = setting_value(other, p, klen, &on);
      size_t vn = n - klen - 1;
      if (side ? ov != NULL : ov && on == vn && !memcmp(v, ov, vn)) continue;
      if (off + klen + vn + on + 32 >= len) {
        if (off + 6 < len) snprintf(out + off, len - off, ", ...");
        return;
      }
      off += (size_t)snprintf(out + off, len - off, "%s%.*s ", off ? ", " : "", (int)klen, p);
      append_value(out, len, &off, side ? ov : v, side ? on : vn);
      off += (size_t)snprintf(out + off, len - off, " vs ");
      append_value(out, len, &off, side ? v : ov, side ? vn : on);
    }
  }
}

/* The model plugins' identities ("name version xxh3-of-file") are part of
 * the settings: two builds of a plugin with the same name and version are
 * different code, and their streams may differ for that reason alone. */
static void plugin_differs(const char *pa, const char *pb, char *out, size_t len)
{
  pa = pa ? pa : "";
  pb = pb ? pb : "";
  if (!strcmp(pa, pb)) return;
  size_t off = strlen(out);
  if (off + 32 >= len) return;
  snprintf(out + off, len - off, "%splugin '%s' vs '%s'", off ? ", " : "", pa[0] ? pa : "(built-in)", pb[0] ? pb : "(built-in)");
}

/* The footers' final state hashes, when both traces are complete, hold the
 * same tori and the same exchanges: a race in the last epoch may show
 * nowhere else.  Reported as the first difference when no record differs. */
static void compare_final(braid_diff_result *res, const braid_trace_info *ia, const braid_trace_info *ib)
{
  if (ia->status != BRAID_TRACE_COMPLETE || ib->status != BRAID_TRACE_COMPLETE || ia->truncated || ib->truncated || ia->tori != ib->tori ||
      res->exchanges[0] != res->exchanges[1] || res->common_exchanges != res->exchanges[0] || res->first_exchange[0] != res->first_exchange[1])
    return;
  res->final_compared = 1;
  for (uint32_t r = 0; r < ia->tori && r < 16; r++) {
    if (ia->final_state_hash[r] == ib->final_state_hash[r]) continue;
    if (!res->final_differs && !res->differing && !res->only[0] && !res->only[1]) {
      braid_divergence *d = &res->div;
      memset(d, 0, sizeof *d);
      d->exchange = res->last_exchange[0];
      d->torus = r;
      snprintf(d->record, sizeof d->record, "footer");
      snprintf(d->field, sizeof d->field, "final_state_hash");
      d->field_hex = 1;
      d->expected = ia->final_state_hash[r];
      d->actual = ib->final_state_hash[r];
    }
    res->final_differs |= 1u << r;
  }
}

/* Throughput is measured from the end of the first exchange in the trace to
 * the end of the last: the projections count events from exchange 0, and a
 * trace that starts later (a replay from a checkpoint) holds neither those
 * exchanges nor their time. */
static void timing_stats(const braid__stream *s, braid_diff_result *res, int side)
{
  double n = s->barriers ? (double)s->barriers : 1, ev = 0;
  for (int i = 0; i < 16; i++) ev += (double)s->events[i] - (double)s->events0[i];
  res->mean_epoch_ns[side] = s->epoch_ns / n;
  res->mean_wait_ns[side] = s->wait_ns / n;
  res->mean_exchange_ns[side] = s->exchange_ns / n;
  res->events_per_s[side] = s->end_ns > s->end0_ns ? ev / ((double)(s->end_ns - s->end0_ns) / 1e9) : 0;
}

/* Reads the next exchange of one trace into s: 1, or 0 after its last
 * complete exchange, or an error with its message. */
static int diff_next(braid__stream *s, const char *path, uint64_t *k, braid_diff_result *res, int side, char *err, size_t errlen)
{
  int rc = braid__stream_next_exchange(s, k);
  if (rc == BRAID_EEOF || rc == BRAID_ETRUNCATED) return 0;
  if (rc && s->why[0]) braid__fmt(err, errlen, "%s: %s", path, s->why);
  else if (rc) braid__fmt(err, errlen, "%s", braid_trace_error(s->t));
  if (rc) return rc;
  if (!res->exchanges[side]++) res->first_exchange[side] = *k;
  res->last_exchange[side] = *k;
  *(side ? &res->records_b : &res->records_a) += s->n;
  return 1;
}

/* Compares exchange k, which both traces have. */
static int diff_exchange(braid_diff_result *res, braid__aligner *al, const braid__stream *a, const braid__stream *b, uint64_t k)
{
  BRAID_FORWARD(braid__align(al, a->v, a->n, b->v, b->n));
  for (size_t i = 0; i < al->n; i++) {
    const braid__matched *m = &al->m[i];
    const braid_record *any = m->a ? m->a : m->b;
    unsigned type = any->type < 64 ? any->type : 0;
    int first = !res->differing && !res->only[0] && !res->only[1];
    if (m->a && m->b) {
      res->compared++;
      if (braid__same_record(m->a, m->b)) continue;
      res->differing++;
      res->differing_by_type[type]++;
    } else {
      int side = m->b != NULL;
      res->only[side]++;
      res->only_by_type[side][type]++;
    }
    if (first) {
      braid__compare_records(m->a, m->b, k, &res->div);
      braid__aligned_context(&res->div, al, i, "A", "B");
    }
  }
  return 0;
}

int braid_diff(const char *pa, const char *pb, braid_diff_result *res, char *err, size_t errlen)
{
  braid__stream a = { 0 }, b = { 0 };
  braid__aligner al = { 0 };
  int rc;
  BRAID_RETURN_IF(!pa || !pb || !res, BRAID_EINVAL);
  memset(res, 0, sizeof *res);
  if ((rc = braid_trace_open(&a.t, pa, err, errlen))) return rc;
  if ((rc = braid_trace_open(&b.t, pb, err, errlen))) {
    braid_trace_close(a.t);
    return rc;
  }
  const braid_trace_info *ia = braid_trace_get_info(a.t), *ib = braid_trace_get_info(b.t);
  a.max_records = braid__exchange_records_max(ia->config_text);
  b.max_records = braid__exchange_records_max(ib->config_text);
  /* Both traces' records of one exchange, and their alignment (five arrays
   * of twice the records, 80 bytes a record), are held at once. */
  char why[512];
  if ((rc = braid__check_memory((a.max_records + b.max_records) * (sizeof(braid_record) + 2 * 80),
                                "the records of one exchange under the headers' tori, trace_events and interval settings", why, sizeof why))) {
    braid__fmt(err, errlen, "%s, %s: %s", pa, pb, why);
    braid_trace_close(a.t);
    braid_trace_close(b.t);
    return rc;
  }
  settings_differ(ia->config_text, ib->config_text, res->settings, sizeof res->settings);
  plugin_differs(ia->plugin, ib->plugin, res->settings, sizeof res->settings);
  res->config_differs = res->settings[0] != 0;
  uint64_t ka = 0, kb = 0;
  int ha = diff_next(&a, pa, &ka, res, 0, err, errlen), hb = ha < 0 ? 0 : diff_next(&b, pb, &kb, res, 1, err, errlen);
  /* Exchanges go forward in a trace: the lower number is the one the other
   * trace lacks. */
  while ((ha > 0 || hb > 0) && ha >= 0 && hb >= 0) {
    if (ha > 0 && (!hb || ka < kb)) {
      ha = diff_next(&a, pa, &ka, res, 0, err, errlen);
    } else if (hb > 0 && (!ha || kb < ka)) {
      hb = diff_next(&b, pb, &kb, res, 1, err, errlen);
    } else {
      res->common_exchanges++;
      if ((rc = diff_exchange(res, &al, &a, &b, ka))) {
        braid__fmt(err, errlen, "%s", braid_strerror(rc));
        break;
      }
      ha = diff_next(&a, pa, &ka, res, 0, err, errlen);
      hb = ha < 0 ? 0 : diff_next(&b, pb, &kb, res, 1, err, errlen);
    }
  }
  if (!rc) rc = ha < 0 ? ha : hb < 0 ? hb : 0;
  timing_stats(&a, res, 0);
  timing_stats(&b, res, 1);
  for (int side = 0; side < 2; side++) {
    const braid_trace_info *info = braid_trace_get_info(side ? b.t : a.t);
    res->truncated[side] = info->truncated;
    res->status[side] = info->status;
  }
  compare_final(res, ia, ib);
  res->differ = res->differing || res->only[0] || res->only[1] || res->config_differs || res->common_exchanges != res->exchanges[0] ||
                res->common_exchanges != res->exchanges[1] || res->final_differs;
  braid_trace_close(a.t);
  braid_trace_close(b.t);
  braid__stream_free(&a);
  braid__stream_free(&b);
  braid__aligner_free(&al);
  return rc;
}
