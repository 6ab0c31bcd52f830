/* fuzz_replay.c - structure-aware libFuzzer harness: hostile traces through
 * replay (from the start and --from a checkpoint), diff and the reader.
 *
 * Byte-level mutants of a trace almost never get past zstd's checksums, so
 * the custom mutator below decodes the input into header fields, frames and
 * records (trace_codec.h), mutates at that level - record types, lengths,
 * varint fields and their count, exchange numbers, duplicated, dropped and
 * moved records, swapped and split frames, torus ids, checkpoint blobs,
 * header settings, the index's and the footer's offsets and counts, a cut
 * file - and encodes it again with valid checksums, index and footer.
 * Inputs it cannot decode are mutated as bytes.
 *
 * Seeds: with BRAID_FUZZ_SEED_DIR set, LLVMFuzzerInitialize records small
 * real runs of every built-in model and of the harness's own plugin-like
 * model there (make fuzz does this).  BRAID_MEMORY_LIMIT is set to 8 MiB
 * (footprint.h), so that settings a real machine could hold are refused
 * rather than run the harness, under ASan, out of memory and time. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "runtime/runtime.h"
#include "trace_codec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

/* A model the way a plugin is one: a copy of uniform under another name,
 * so that replays of plugin traces (the model check, the renamed header)
 * are reached. */
static braid_model plugin;

static const braid_model *plugin_model(void)
{
  if (!plugin.name) {
    plugin = *braid_find_model("uniform");
    plugin.name = "fuzzmodel";
  }
  return &plugin;
}

/* ------------------------------------------------------------------ seeds */

static void record_seed(const char *dir, const char *name, const char *kv, int use_plugin, int inject)
{
  char path[512], buf[512];
  snprintf(path, sizeof path, "%s/%s.btr", dir, name);
  snprintf(buf, sizeof buf, "%s", kv);
  braid_config *cfg;
  braid_runtime *rt = NULL;
  if (braid_config_create(&cfg)) return;
  if (use_plugin) braid_config_set_model(cfg, plugin_model());
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = 0;
    int rc = !strncmp(tok, "p.", 2) ? braid_config_set_param(cfg, tok + 2, eq + 1) : braid_config_set(cfg, tok, eq + 1);
    if (rc) {
      fprintf(stderr, "fuzz_replay: seed %s: %s\n", name, braid_config_error(cfg));
      goto out;
    }
  }
  char err[512] = "";
  if (braid_runtime_create(&rt, cfg, err, sizeof err) || braid_runtime_record(rt, path)) {
    fprintf(stderr, "fuzz_replay: seed %s: %s\n", name, rt ? braid_runtime_error(rt) : err);
    goto out;
  }
  for (int i = 0; i < inject; i++) braid_inject(rt, (uint32_t)i % 2, (uint32_t)(i * 37) % 512, i - 2, (uint64_t)i % 4);
  if (braid_runtime_run(rt)) fprintf(stderr, "fuzz_replay: seed %s: %s\n", name, braid_runtime_error(rt));
out:
  braid_runtime_destroy(rt);
  braid_config_destroy(cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  setenv("BRAID_MEMORY_LIMIT", "8M", 1);
  const char *dir = getenv("BRAID_FUZZ_SEED_DIR");
  if (!dir) return 0;
  record_seed(dir, "uniform", "model=uniform tori=2 dim=8 exchanges=6 interval=40 interval_min=10 checkpoint_every=2 sequential=1", 0, 0);
  record_seed(dir, "skewed-rate", "model=skewed tori=3 dim=8 exchanges=6 interval=60 interval_min=10 adapt=rate checkpoint_every=3 threads=2", 0, 0);
  record_seed(dir, "bursty-fail", "model=bursty tori=2 dim=8 exchanges=5 interval=50 interval_min=10 fail=B@2 checkpoint_every=2 sequential=1 p.burst=16", 0, 0);
  record_seed(dir, "phold-events", "model=phold tori=2 dim=8 exchanges=4 interval=20 interval_min=10 trace_events=1 checkpoint_every=2 sequential=1", 0, 0);
  record_seed(dir, "racy", "model=racy tori=2 dim=8 exchanges=4 interval=40 interval_min=10 threads=2", 0, 0);
  record_seed(dir, "inject", "model=uniform tori=2 dim=8 exchanges=5 interval=30 interval_min=10 tolerance=0 adapt_hysteresis=1 checkpoint_every=2 sequential=1", 0, 6);
  record_seed(dir, "plugin", "tori=2 dim=8 exchanges=4 interval=30 interval_min=10 checkpoint_every=2 sequential=1", 1, 0);
  return 0;
}

/* ------------------------------------------------------------- the target */

static unsigned touch(const uint8_t *p, size_t n)
{
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[64], out[64];
  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/braid-fuzz-replay-%d.btr", (int)getpid());
    snprintf(out, sizeof out, "/tmp/braid-fuzz-replay-%d.out", (int)getpid());
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  close(fd);
  /* Options come from the input's hash, so a crasher reproduces alone. */
  uint64_t h = XXH3_64bits(data, size);
  char err[1024];
  volatile unsigned s = 0;

  braid_trace *t;
  if (braid_trace_open(&t, path, err, sizeof err) == 0) {
    braid_record r;
    while (braid_trace_next(t, &r) == 0) s += r.bloblen ? touch(r.blob, r.bloblen) : (unsigned)r.field[0];
    uint64_t at;
    const uint8_t *blob;
    size_t len;
    if (braid_trace_checkpoint(t, (h >> 8) % 8, &at, &blob, &len) == 0) s += touch(blob, len);
    if (braid_trace_seek(t, (h >> 12) % 6) == 0 && braid_trace_next(t, &r) == 0) s += r.type;
    braid_trace_close(t);
  }

  braid_replay_opts o;
  braid_replay_result res;
  braid_replay_opts_init(&o);
  o.force = 1;
  o.partial = (h & 1) != 0;
  if (h & 2) o.until = (h >> 16) % 8;
  if (h & 4) o.violation = 1 + (h >> 20) % 3;
  if ((h & 0x38) == 0x38) o.out = out;
  int plugin_trace = 0, long_epochs = 0;
  if (braid_trace_open(&t, path, err, sizeof err) == 0) {
    const braid_trace_info *info = braid_trace_get_info(t);
    plugin_trace = info->plugin[0] != 0;
    /* Settings that allow epochs of millions of events take seconds to
     * replay in a plain build and beyond the harness's timeout under ASan:
     * a cost of the settings, the same as the recording's, not a hang.
     * Their checks are reached with small values. */
    for (const char *key = "\ninterval="; key; key = strcmp(key, "\ninterval=") ? NULL : "\ninterval_max=") {
      const char *v = strstr(info->config_text, key);
      if (v && strtoull(v + strlen(key), NULL, 10) > 100000) long_epochs = 1;
    }
    braid_trace_close(t);
  }
  if (long_epochs) return 0;
  if (plugin_trace || (h & 0xc0) == 0xc0) o.model = plugin_model();
  braid_replay(path, &o, &res, err, sizeof err);
  /* --from: the nearest checkpoint, also past the end. */
  o.until = UINT64_MAX;
  o.violation = 0;
  o.out = NULL;
  o.from = (h >> 24) % 8;
  braid_replay(path, &o, &res, err, sizeof err);

  if (h & 0x100) {
    braid_diff_result d;
    braid_diff(path, path, &d, err, sizeof err);
  }
  (void)s;
  return 0;
}

/* ------------------------------------------------------------ the mutator */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) { return r->s = braid__mix64(r->s); }
static size_t below(rng *r, size_t n) { return n ? (size_t)(next(r) % n) : 0; }

static uint64_t interesting(rng *r)
{
  static const uint64_t v[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 63, 64, 100, 127, 128, 255, 256, 511, 512, 1000, 4095, 4096, 10000,
                                65535, 65536, 10000000, 10000001, 0x7fffffff, 0x80000000, 0xfffffffd, 0xfffffffe, 0xffffffff,
                                0x100000000, 1ull << 40, 1ull << 61, 0x7fffffffffffffff, 0x8000000000000000, UINT64_MAX - 1, UINT64_MAX };
  switch (below(r, 4)) {
  case 0: return next(r);
  case 1: return next(r) % 32;
  default: return v[below(r, sizeof v / sizeof v[0])];
  }
}

/* Decodes up to max varints of a payload; returns how many. */
static size_t varints(const tc_rec *x, uint64_t *v, size_t max, size_t *used)
{
  const uint8_t *p = x->p, *e = x->p + x->len;
  size_t n = 0;
  while (p < e && n < max) {
    size_t c = braid__varint_get(p, e, &v[n]);
    if (!c) break;
    p += c;
    n++;
  }
  *used = (size_t)(p - x->p);
  return n;
}

/* Rewrites a payload as varints v[0..n) followed by its bytes from `tail`. */
static void set_varints(tc_rec *x, const uint64_t *v, size_t n, size_t tail)
{
  braid__buf b = { 0 };
  for (size_t i = 0; i < n; i++) tc_put_varint(&b, v[i]);
  if (tail < x->len) braid__buf_put(&b, x->p + tail, x->len - tail);
  if (!b.err) tc_set(x, b.p, b.len);
  braid__buf_free(&b);
}

static tc_frame *pick_frame(rng *r, tc_trace *t, int data_only)
{
  for (int tries = 0; tries < 8 && t->nf; tries++) {
    tc_frame *f = &t->f[below(r, t->nf)];
    if (!data_only || (f->kind == TC_DATA && f->recs.n)) return f;
  }
  return NULL;
}

/* A checkpoint blob: one of the leading varints of one torus's state. */
static void mutate_blob(rng *r, tc_rec *x)
{
  uint64_t v[64];
  size_t used, n = varints(x, v, 2, &used);
  if (n < 2 || below(r, 5) == 0) {
    size_t cap = x->len + 64, len = x->len;
    uint8_t *p = malloc(cap);
    if (!p) return;
    memcpy(p, x->p, x->len);
    len = LLVMFuzzerMutate(p, len, cap);
    tc_set(x, p, len);
    free(p);
    return;
  }
  /* exchange | tori | (size | torus state)...: the first torus's state. */
  const uint8_t *p = x->p + used, *e = x->p + x->len;
  uint64_t sz;
  size_t c = braid__varint_get(p, e, &sz);
  if (!c || sz > (uint64_t)(e - p - c)) return;
  tc_rec st = { 0, (uint8_t *)p + c, (size_t)sz };
  size_t sused, sn = varints(&st, v, 64, &sused);
  if (!sn) return;
  size_t i = below(r, sn);
  v[i] = below(r, 2) ? interesting(r) : v[i] + (uint64_t)(int64_t)(below(r, 5) - 2);
  braid__buf nb = { 0 }, ns = { 0 };
  for (size_t j = 0; j < sn; j++) tc_put_varint(&ns, v[j]);
  braid__buf_put(&ns, st.p + sused, st.len - sused);
  braid__buf_put(&nb, x->p, used);
  tc_put_varint(&nb, ns.len);
  braid__buf_put(&nb, ns.p, ns.len);
  braid__buf_put(&nb, p + c + sz, (size_t)(e - (p + c + sz)));
  if (!nb.err && !ns.err) tc_set(x, nb.p, nb.len);
  braid__buf_free(&nb);
  braid__buf_free(&ns);
}

static const char *setting_values[][8] = {
  { "tori", "1", "2", "3", "16", "17", "0", "-1" },
  { "dim", "8", "16", "7", "128", "256", "0", "64" },
  { "interval", "1", "10000000", "0", "99", "4294967295", "5", "100" },
  { "interval_min", "1", "10000000", "0", "200", "50", "2", "100" },
  { "interval_max", "1", "10000000", "0", "20", "50", "200", "100000" },
  { "adapt", "off", "violations", "rate", "bogus", "", "rate", "off" },
  { "trace_events", "0", "1", "2", "1", "0", "1", "1" },
  { "model", "uniform", "skewed", "bursty", "phold", "racy", "fuzzmodel", "nosuch" },
  { "p.pop", "1", "16", "8", "0", "17", "2", "4" },
  { "procs", "0", "64", "65", "1", "16", "2", "63" },
  { "queue_cap", "0", "1", "16", "4294967296", "100", "512", "2" },
  { "tolerance", "0", "1", "2147483647", "8", "-1", "3", "100" },
  { "fail", "", "A@1", "B@2", "P@3", "A@1,B@1", "C@4", "A@0" },
  { "seed", "0", "1", "2", "9223372036854775807", "3", "x", "-5" },
  { "p.max_delay", "2", "255", "1", "256", "16", "3", "100" },
  { "exchanges", "1", "2", "1099511627776", "0", "3", "100", "5" },
};

/* Header settings: one line's value replaced, a line dropped or repeated,
 * a setting added. */
static void mutate_settings(rng *r, tc_trace *t)
{
  tc_rec *x = tc_header_field(t, BRAID_TF_H_CONFIG_TEXT);
  if (!x) return;
  const char **kv = setting_values[below(r, sizeof setting_values / sizeof setting_values[0])];
  const char *key = kv[0], *val = kv[1 + below(r, 7)];
  braid__buf b = { 0 };
  size_t klen = strlen(key);
  int done = 0, how = (int)below(r, 4); /* 0, 1 replace; 2 repeat; 3 drop */
  for (size_t i = 0; i < x->len;) {
    const uint8_t *p = x->p + i, *nl = memchr(p, '\n', x->len - i);
    size_t n = nl ? (size_t)(nl - p) + 1 : x->len - i;
    int match = !done && n > klen && p[klen] == '=' && !memcmp(p, key, klen);
    if (match && how < 2) {
      braid__buf_put(&b, key, klen);
      braid__buf_put(&b, "=", 1);
      braid__buf_put(&b, val, strlen(val));
      braid__buf_put(&b, "\n", 1);
    } else if (match && how == 2) {
      braid__buf_put(&b, p, n);
      braid__buf_put(&b, p, n);
    } else if (!(match && how == 3)) {
      braid__buf_put(&b, p, n);
    }
    done |= match;
    i += n;
  }
  if (!done) {
    braid__buf_put(&b, key, klen);
    braid__buf_put(&b, "=", 1);
    braid__buf_put(&b, val, strlen(val));
    braid__buf_put(&b, "\n", 1);
  }
  if (!b.err) tc_set(x, b.p, b.len);
  braid__buf_free(&b);
}

static void mutate_once(rng *r, tc_trace *t)
{
  tc_frame *f = pick_frame(r, t, 1);
  tc_rec *x = f ? &f->recs.v[below(r, f->recs.n)] : NULL;
  uint64_t v[BRAID_REC_MAX_FIELDS + 4];
  size_t used, n;
  switch (below(r, 22)) {
  case 0: /* record type */
    if (x) x->type = below(r, 2) ? interesting(r) % 140 : interesting(r);
    break;
  case 1: /* payload length: cut or extended */
    if (x && below(r, 2) && x->len) x->len = below(r, x->len);
    else if (x) {
      uint8_t pad[16];
      for (size_t i = 0; i < sizeof pad; i++) pad[i] = (uint8_t)next(r);
      braid__buf b = { 0 };
      braid__buf_put(&b, x->p, x->len);
      braid__buf_put(&b, pad, 1 + below(r, sizeof pad));
      if (!b.err) tc_set(x, b.p, b.len);
      braid__buf_free(&b);
    }
    break;
  case 2: case 3: case 4: /* one field */
    if (x && x->type < 128 && (n = varints(x, v, BRAID_REC_MAX_FIELDS, &used)) > 0) {
      size_t i = below(r, n);
      v[i] = below(r, 3) ? interesting(r) : v[i] + (uint64_t)(int64_t)((int)below(r, 5) - 2);
      set_varints(x, v, n, used);
    }
    break;
  case 5: /* field count */
    if (x && x->type < 128) {
      n = varints(x, v, BRAID_REC_MAX_FIELDS, &used);
      if (below(r, 2) && n) n -= 1 + below(r, n);
      else
        for (size_t k = 1 + below(r, 4); k-- && n < BRAID_REC_MAX_FIELDS + 4;) v[n++] = interesting(r);
      set_varints(x, v, n, used);
    }
    break;
  case 6: /* the torus field */
    if (x && x->type > 1 && x->type < 128 && (n = varints(x, v, BRAID_REC_MAX_FIELDS, &used)) > 0) {
      static const uint64_t tori[] = { 0, 1, 2, 3, 15, 16, 17, 0x7fffffff, 0x80000000, 0xffffffff, 1ull << 32, UINT64_MAX };
      v[0] = tori[below(r, sizeof tori / sizeof tori[0])];
      set_varints(x, v, n, used);
    }
    break;
  case 7: /* an exchange number */
    for (size_t i = 0; f && i < f->recs.n; i++)
      if (f->recs.v[i].type == BRAID_REC_EXCHANGE && below(r, 3) == 0) {
        uint64_t k = tc_first_varint(&f->recs.v[i]);
        k = below(r, 2) ? k + (uint64_t)(int64_t)((int)below(r, 7) - 3) : interesting(r);
        set_varints(&f->recs.v[i], &k, 1, f->recs.v[i].len);
        break;
      }
    break;
  case 8: case 9: /* duplicated records, up to a flood */
    if (x) {
      size_t copies = below(r, 4) == 0 ? 1 + below(r, 20000) : 1 + below(r, 4);
      size_t at = (size_t)(x - f->recs.v);
      /* Floods of small records (more than an exchange may hold): the frame stays small. */
      if (copies > (256u << 10) / (x->len + 3)) copies = (256u << 10) / (x->len + 3);
      tc_list l = { 0 };
      for (size_t i = 0; i < f->recs.n; i++) {
        tc_rec *y = &f->recs.v[i];
        for (size_t k = 0; k < (i == at ? copies + 1 : 1) && l.n < (1u << 20); k++) tc_add(&l, y->type, y->p, y->len);
      }
      tc_list_free(&f->recs);
      f->recs = l;
    }
    break;
  case 10: /* a record dropped */
    if (x) {
      free(x->p);
      memmove(x, x + 1, (size_t)(f->recs.v + f->recs.n - x - 1) * sizeof *x);
      f->recs.n--;
    }
    break;
  case 11: /* two records swapped */
    if (x) {
      tc_rec *y = &f->recs.v[below(r, f->recs.n)], tmp = *x;
      *x = *y;
      *y = tmp;
    }
    break;
  case 12: /* two frames swapped */
    if (t->nf > 1) {
      size_t a = below(r, t->nf), b = below(r, t->nf);
      tc_frame tmp = t->f[a];
      t->f[a] = t->f[b];
      t->f[b] = tmp;
    }
    break;
  case 13: /* a frame duplicated or dropped */
    if (f && below(r, 2)) {
      tc_frame *g = tc_new_frame(t, TC_DATA, 0);
      f = g ? &t->f[below(r, t->nf - 1)] : NULL;
      for (size_t i = 0; g && f && i < f->recs.n; i++) tc_add(&g->recs, f->recs.v[i].type, f->recs.v[i].p, f->recs.v[i].len);
    } else if (f) {
      size_t i = (size_t)(f - t->f);
      tc_list_free(&f->recs);
      memmove(f, f + 1, (t->nf - i - 1) * sizeof *f);
      t->nf--;
    }
    break;
  case 14: /* a frame split at a record: many small frames */
    if (f && f->recs.n > 1) {
      size_t at = 1 + below(r, f->recs.n - 1), fi = (size_t)(f - t->f);
      tc_frame *g = tc_new_frame(t, TC_DATA, 0);
      if (!g) break;
      f = &t->f[fi];
      for (size_t i = at; i < f->recs.n; i++) tc_add(&g->recs, f->recs.v[i].type, f->recs.v[i].p, f->recs.v[i].len);
      for (size_t i = at; i < f->recs.n; i++) free(f->recs.v[i].p);
      f->recs.n = at;
      /* The new frame goes right after the one it came from. */
      tc_frame tmp = t->f[t->nf - 1];
      memmove(&t->f[fi + 2], &t->f[fi + 1], (t->nf - fi - 2) * sizeof tmp);
      t->f[fi + 1] = tmp;
    }
    break;
  case 15: case 16: /* a checkpoint blob */
    for (size_t i = 0; i < t->nf; i++) {
      tc_frame *g = &t->f[(i + below(r, t->nf)) % t->nf];
      if (g->kind == TC_DATA && g->recs.n && g->recs.v[0].type == BRAID_REC_CHECKPOINT) {
        mutate_blob(r, &g->recs.v[0]);
        break;
      }
    }
    break;
  case 17: case 18: /* header settings */
    mutate_settings(r, t);
    break;
  case 19: /* another header field */
    if (t->header.n) {
      tc_rec *h = &t->header.v[below(r, t->header.n)];
      switch (below(r, 4)) {
      case 0: h->type = interesting(r) % 10; break;
      case 1: tc_set(h, "x", below(r, 2)); break;
      case 2: tc_add(&t->header, h->type, h->p, h->len); break;
      default: t->version = (uint32_t)interesting(r); break;
      }
    }
    break;
  case 20: /* index and footer */
    switch (below(r, 6)) {
    case 0: t->finished = !t->finished; break;
    case 1: t->index_skew = (int64_t)(below(r, 2) ? interesting(r) : 0 - interesting(r)), t->skew_every = 1 + (unsigned)below(r, 3), t->skew_entry = (unsigned)below(r, 8); break;
    case 2: t->footer_index_skew = (int64_t)((int)below(r, 41) - 20); break;
    case 3: t->count_skew = (int64_t)((int)below(r, 5) - 2); break;
    case 4: braid__le32_put(t->footer + BRAID_TF_F_TORI, (uint32_t)interesting(r) % 20); break;
    default: braid__le32_put(t->footer + BRAID_TF_F_STATUS, (uint32_t)below(r, 5)); break;
    }
    break;
  default: /* the file cut */
    t->cut = 1 + below(r, 1 << 16);
    break;
  }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned seed)
{
  rng r = { seed * 0x9e3779b97f4a7c15ull + size };
  tc_trace t;
  if (below(&r, 20) == 0 || tc_decode(&t, data, size)) return LLVMFuzzerMutate(data, size, max);
  for (size_t k = 1 + below(&r, 3); k--;) mutate_once(&r, &t);
  braid__buf out = { 0 };
  size_t n = 0;
  if (tc_encode(&t, &out) == 0 && out.len <= max) {
    memcpy(data, out.p, out.len);
    n = out.len;
  }
  braid__buf_free(&out);
  tc_free(&t);
  return n ? n : LLVMFuzzerMutate(data, size, max);
}
