/* settings.c - run settings: text parsing with range errors, canonical form. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "runtime/settings.h"

typedef struct key_spec {
  const char *name;
  int64_t lo, hi, def;
  int logical;
  const char *help;
} key_spec;

static const key_spec keys[] = {
#define XX(name, lo, hi, def, logical, help) { #name, lo, hi, def, logical, help },
  BRAID_CONFIG_KEYS(XX)
#undef XX
};

static const char *adapt_names[] = { "off", "violations", "rate" };

static int fail_with(braid_config *cfg, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_with(braid_config *cfg, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cfg->err, sizeof cfg->err, fmt, ap);
  va_end(ap);
  return rc;
}

enum { NOT_A_NUMBER = -1, OUT_OF_INT64 = -2 };

/* Strict decimal parse: optional '-', digits only.  A number that does not
 * fit in 64 bits is OUT_OF_INT64, so the message can give the range rather
 * than call it "not a number". */
static int parse_i64(const char *s, int64_t *out)
{
  if (!s || !*s) return NOT_A_NUMBER;
  const char *p = s;
  if (*p == '-') p++;
  if (*p < '0' || *p > '9') return NOT_A_NUMBER;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end) return NOT_A_NUMBER;
  if (errno == ERANGE) return OUT_OF_INT64;
  *out = v;
  return 0;
}

int braid_config_create(braid_config **out)
{
  BRAID_RETURN_IF(!out, BRAID_EINVAL);
  braid_config *c = calloc(1, sizeof *c);
  if (!(*out = c)) return BRAID_ENOMEM;
  for (int i = 0; i < BRAID_K__COUNT; i++) c->v[i] = keys[i].def;
  strcpy(c->model_name, "uniform");
  c->model = braid_find_model("uniform");
  return 0;
}

void braid__config_clear(braid_config *cfg)
{
  for (unsigned i = 0; i < cfg->nparams; i++) free(cfg->pname[i]);
  cfg->nparams = 0;
  free(cfg->text);
  cfg->text = NULL;
}

void braid_config_destroy(braid_config *cfg)
{
  if (!cfg) return;
  braid__config_clear(cfg);
  free(cfg);
}

int braid__config_copy(braid_config *dst, const braid_config *src)
{
  memcpy(dst, src, sizeof *dst);
  dst->text = NULL;
  for (unsigned i = 0; i < src->nparams; i++) {
    dst->pname[i] = strdup(src->pname[i]);
    if (!dst->pname[i]) {
      dst->nparams = i;
      return BRAID_ENOMEM;
    }
  }
  return 0;
}

static const braid_param_spec *find_param(const braid_config *cfg, const char *key)
{
  for (const braid_param_spec *p = cfg->model ? cfg->model->params : NULL; p && p->name; p++)
    if (!strcmp(p->name, key)) return p;
  return NULL;
}

/* The message lists the parameters the model does take. */
static int no_such_param(braid_config *cfg, const char *key)
{
  char names[160] = "";
  size_t n = 0;
  for (const braid_param_spec *p = cfg->model ? cfg->model->params : NULL; p && p->name && n < sizeof names; p++)
    n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", p->name);
  if (!names[0]) return fail_with(cfg, BRAID_EPARAM, "model %s has no parameter '%s' (it takes none)", cfg->model_name, key);
  return fail_with(cfg, BRAID_EPARAM, "model %s has no parameter '%s' (it takes %s)", cfg->model_name, key, names);
}

static int check_param(braid_config *cfg, const char *key, int64_t v)
{
  const braid_param_spec *p = find_param(cfg, key);
  if (!p) return no_such_param(cfg, key);
  if (v < p->min || v > p->max)
    return fail_with(cfg, BRAID_EPARAM, "model parameter %s of %s: %lld is out of range %lld..%lld", key, cfg->model_name, (long long)v,
                     (long long)p->min, (long long)p->max);
  return 0;
}

int braid_parse_torus(const char *text, uint32_t *torus)
{
  BRAID_RETURN_IF(!text || !torus, BRAID_EINVAL);
  if (text[0] >= 'A' && text[0] <= 'P' && !text[1]) {
    *torus = (uint32_t)(text[0] - 'A');
    return 0;
  }
  /* One or two digits, so "007" or "-0" are not torus names. */
  size_t n = strspn(text, "0123456789");
  if (n < 1 || n > 2 || text[n] || atoi(text) > 15) return BRAID_EINVAL;
  *torus = (uint32_t)atoi(text);
  return 0;
}

/* "" is the empty list (the canonical text of no failures); an empty entry
 * inside a list ("B@5,,C@9", a trailing comma) is a mistake. */
static int set_fail(braid_config *cfg, const char *value)
{
  cfg->nfail = 0;
  if (!*value) return 0;
  char buf[1024];
  if (strlen(value) >= sizeof buf) return fail_with(cfg, BRAID_EINVAL, "fail: list too long");
  strcpy(buf, value);
  for (char *tok = buf, *next; tok; tok = next) {
    if ((next = strchr(tok, ','))) *next++ = 0;
    if (!*tok) return fail_with(cfg, BRAID_EINVAL, "fail: empty entry in '%s' (TORUS@EXCHANGE,...)", value);
    char *at = strchr(tok, '@');
    uint32_t torus;
    int64_t k;
    if (!at) return fail_with(cfg, BRAID_EINVAL, "fail: '%s' is not TORUS@EXCHANGE (e.g. B@1200)", tok);
    *at = 0;
    if (braid_parse_torus(tok, &torus)) return fail_with(cfg, BRAID_EINVAL, "fail: torus '%s' is not A..P or 0..15", tok);
    int rc = parse_i64(at + 1, &k);
    if (rc == OUT_OF_INT64) return fail_with(cfg, BRAID_EINVAL, "fail: exchange '%s' is out of range 1..%lld", at + 1, (long long)INT64_MAX);
    if (rc || k < 1) return fail_with(cfg, BRAID_EINVAL, "fail: exchange '%s' is not a whole number >= 1", at + 1);
    if (cfg->nfail >= BRAID_MAX_FAILS) return fail_with(cfg, BRAID_ELIMIT, "fail: more than 64 failures");
    cfg->fail[cfg->nfail++] = (braid__fail){ torus, (uint64_t)k };
  }
  /* Canonical order: by exchange, then torus. */
  for (unsigned i = 1; i < cfg->nfail; i++)
    for (unsigned j = i; j > 0; j--) {
      braid__fail *a = &cfg->fail[j - 1], *b = &cfg->fail[j];
      if (a->exchange < b->exchange || (a->exchange == b->exchange && a->torus <= b->torus)) break;
      braid__fail tmp = *a;
      *a = *b;
      *b = tmp;
    }
  return 0;
}

int braid_config_set(braid_config *cfg, const char *key, const char *value)
{
  BRAID_RETURN_IF(!cfg || !key || !value, BRAID_EINVAL);
  free(cfg->text);
  cfg->text = NULL;
  if (!strcmp(key, "model")) {
    const braid_model *m = braid_find_model(value);
    if (!m) return fail_with(cfg, BRAID_EMODEL, "model: unknown model '%s' (built in: uniform, skewed, bursty, phold, racy)", value);
    cfg->model = m;
    snprintf(cfg->model_name, sizeof cfg->model_name, "%s", m->name);
    for (unsigned i = 0; i < cfg->nparams; i++) BRAID_FORWARD(check_param(cfg, cfg->pname[i], cfg->pval[i]));
    return 0;
  }
  if (!strcmp(key, "fail")) return set_fail(cfg, value);
  for (int i = 0; i < BRAID_K__COUNT; i++) {
    if (strcmp(keys[i].name, key)) continue;
    int64_t v;
    int rc = i == BRAID_K_adapt ? 0 : parse_i64(value, &v);
    if (i == BRAID_K_adapt) {
      for (v = 0; v < 3; v++)
        if (!strcmp(value, adapt_names[v])) break;
      if (v == 3) return fail_with(cfg, BRAID_EINVAL, "adapt: '%s' is not one of off, violations, rate", value);
    } else if (rc == NOT_A_NUMBER) {
      return fail_with(cfg, BRAID_EINVAL, "%s: '%s' is not a whole number (range %lld..%lld)", key, value, (long long)keys[i].lo,
                       (long long)keys[i].hi);
    } else if (rc == OUT_OF_INT64 || v < keys[i].lo || v > keys[i].hi) {
      return fail_with(cfg, BRAID_ERANGE, "%s: %s is out of range %lld..%lld", key, value, (long long)keys[i].lo, (long long)keys[i].hi);
    }
    if (i == BRAID_K_dim && (v & (v - 1))) return fail_with(cfg, BRAID_ERANGE, "%s: %s is not a power of two (8, 16, 32, 64 or 128)", key, value);
    cfg->v[i] = v;
    return 0;
  }
  return fail_with(cfg, BRAID_EINVAL, "unknown setting '%s'", key);
}

int braid_config_set_param(braid_config *cfg, const char *key, const char *value)
{
  BRAID_RETURN_IF(!cfg || !key || !value, BRAID_EINVAL);
  int64_t v;
  free(cfg->text);
  cfg->text = NULL;
  const braid_param_spec *p = find_param(cfg, key);
  if (!p) return no_such_param(cfg, key);
  int rc = parse_i64(value, &v);
  if (rc == NOT_A_NUMBER)
    return fail_with(cfg, BRAID_EPARAM, "model parameter %s of %s: '%s' is not a whole number (range %lld..%lld)", key, cfg->model_name, value,
                     (long long)p->min, (long long)p->max);
  if (rc == OUT_OF_INT64)
    return fail_with(cfg, BRAID_EPARAM, "model parameter %s of %s: %s is out of range %lld..%lld", key, cfg->model_name, value,
                     (long long)p->min, (long long)p->max);
  BRAID_FORWARD(check_param(cfg, key, v));
  for (unsigned i = 0; i < cfg->nparams; i++)
    if (!strcmp(cfg->pname[i], key)) {
      cfg->pval[i] = v;
      return 0;
    }
  if (cfg->nparams >= BRAID_MAX_PARAMS) return fail_with(cfg, BRAID_ELIMIT, "too many model parameters");
  if (!(cfg->pname[cfg->nparams] = strdup(key))) return BRAID_ENOMEM;
  cfg->pval[cfg->nparams++] = v;
  return 0;
}

int braid_config_set_model(braid_config *cfg, const braid_model *model)
{
  BRAID_RETURN_IF(!cfg || !model || !model->name || !model->init || !model->handle, BRAID_EINVAL);
  if (model->abi < BRAID_MODEL_ABI_MIN || model->abi > BRAID_MODEL_ABI)
    return fail_with(cfg, BRAID_EPLUGIN, "model %s: ABI %u not supported (this build: %u..%u)", model->name, (unsigned)model->abi,
                     (unsigned)BRAID_MODEL_ABI_MIN, (unsigned)BRAID_MODEL_ABI);
  free(cfg->text);
  cfg->text = NULL;
  cfg->model = model;
  snprintf(cfg->model_name, sizeof cfg->model_name, "%s", model->name);
  for (unsigned i = 0; i < cfg->nparams; i++) BRAID_FORWARD(check_param(cfg, cfg->pname[i], cfg->pval[i]));
  return 0;
}

const char *braid_config_error(const braid_config *cfg) { return cfg ? cfg->err : "no config"; }

int braid__config_params(braid_config *cfg, int64_t *out)
{
  const braid_param_spec *p = cfg->model->params;
  for (unsigned i = 0; i < cfg->nparams; i++) BRAID_FORWARD(check_param(cfg, cfg->pname[i], cfg->pval[i]));
  for (unsigned i = 0; p && p[i].name && i < BRAID_MAX_PARAMS; i++) {
    out[i] = p[i].def;
    for (unsigned j = 0; j < cfg->nparams; j++)
      if (!strcmp(cfg->pname[j], p[i].name)) out[i] = cfg->pval[j];
  }
  return 0;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
  size_t n = strlen(s);
  if (!*buf) return;
  if (*len + n + 1 > *cap) {
    size_t nc = (*cap + n + 1) * 2;
    char *nb = realloc(*buf, nc);
    if (!nb) {
      free(*buf);
      *buf = NULL;
      return;
    }
    *buf = nb;
    *cap = nc;
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

/* Canonical text; logical_only drops settings that cannot change results. */
static char *render(braid_config *cfg, int logical_only)
{
  size_t len = 0, cap = 1024;
  char *buf = malloc(cap), line[256];
  if (!buf) return NULL;
  buf[0] = 0;
  snprintf(line, sizeof line, "model=%s\n", cfg->model_name);
  append(&buf, &len, &cap, line);
  for (int i = 0; i < BRAID_K__COUNT; i++) {
    if (logical_only && !keys[i].logical) continue;
    /* Left out when off, so that every run without it keeps the settings
     * text and hash it had before the setting existed. */
    if (i == BRAID_K_events && !cfg->v[i]) continue;
    if (i == BRAID_K_adapt) snprintf(line, sizeof line, "%s=%s\n", keys[i].name, adapt_names[cfg->v[i]]);
    else snprintf(line, sizeof line, "%s=%lld\n", keys[i].name, (long long)cfg->v[i]);
    append(&buf, &len, &cap, line);
  }
  append(&buf, &len, &cap, "fail=");
  for (unsigned i = 0; i < cfg->nfail; i++) {
    snprintf(line, sizeof line, "%s%u@%llu", i ? "," : "", cfg->fail[i].torus, (unsigned long long)cfg->fail[i].exchange);
    append(&buf, &len, &cap, line);
  }
  append(&buf, &len, &cap, "\n");
  int64_t pv[BRAID_MAX_PARAMS];
  if (cfg->model && cfg->model->params && braid__config_params(cfg, pv) == 0)
    for (unsigned i = 0; cfg->model->params[i].name; i++) {
      snprintf(line, sizeof line, "p.%s=%lld\n", cfg->model->params[i].name, (long long)pv[i]);
      append(&buf, &len, &cap, line);
    }
  return buf;
}

const char *braid_config_text(braid_config *cfg)
{
  if (!cfg) return NULL;
  if (!cfg->text) cfg->text = render(cfg, 0);
  return cfg->text;
}

uint64_t braid__config_logical_hash(braid_config *cfg)
{
  char *t = render(cfg, 1);
  uint64_t h = t ? XXH3_64bits(t, strlen(t)) : 0;
  free(t);
  return h;
}

uint64_t braid_config_hash(braid_config *cfg) { return cfg ? braid__config_logical_hash(cfg) : 0; }

int braid__setting_is_logical(const char *key, size_t len)
{
  for (int i = 0; i < BRAID_K__COUNT; i++)
    if (strlen(keys[i].name) == len && !memcmp(keys[i].name, key, len)) return keys[i].logical;
  return -1;
}

const char *braid_config_get(braid_config *cfg, const char *key)
{
  if (!cfg || !key) return NULL;
  if (!strcmp(key, "model")) return cfg->model_name;
  for (int i = 0; i < BRAID_K__COUNT; i++)
    if (!strcmp(keys[i].name, key)) {
      if (i == BRAID_K_adapt) return adapt_names[cfg->v[i]];
      snprintf(cfg->get, sizeof cfg->get, "%lld", (long long)cfg->v[i]);
      return cfg->get;
    }
  return NULL;
}

/* A header's settings are canonical text, which names each setting once: a
 * repeated one is a damaged or hand-edited header, and which of its values
 * the recording used cannot be known. */
int braid__config_parse_text(braid_config *cfg, const char *text, size_t len)
{
  char line[240];
  size_t i = 0;
  uint64_t seen = 0, pseen = 0; /* settings by key index (model and fail last); parameters by slot */
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    if (j - i >= sizeof line) return fail_with(cfg, BRAID_ECORRUPT, "config line too long");
    memcpy(line, text + i, j - i);
    line[j - i] = 0;
    i = j + 1;
    if (!line[0]) continue;
    char *eq = strchr(line, '=');
    if (!eq) return fail_with(cfg, BRAID_ECORRUPT, "config line '%.60s' has no '='", line);
    *eq = 0;
    int rc, key = !strcmp(line, "model") ? BRAID_K__COUNT : !strcmp(line, "fail") ? BRAID_K__COUNT + 1 : -1;
    for (int k = 0; key < 0 && k < BRAID_K__COUNT; k++)
      if (!strcmp(line, keys[k].name)) key = k;
    if (key >= 0 && (seen >> key & 1)) return fail_with(cfg, BRAID_ECORRUPT, "setting %s is given twice", line);
    if (key >= 0) seen |= 1ull << key;
    if (!strncmp(line, "p.", 2)) rc = braid_config_set_param(cfg, line + 2, eq + 1);
    else if (!strcmp(line, "model") && !braid_find_model(eq + 1) && cfg->model && !strcmp(cfg->model_name, eq + 1)) rc = 0;
    else rc = braid_config_set(cfg, line, eq + 1);
    if (rc) return rc;
    for (unsigned k = 0; !strncmp(line, "p.", 2) && k < cfg->nparams; k++)
      if (!strcmp(cfg->pname[k], line + 2)) {
        if (pseen >> k & 1) return fail_with(cfg, BRAID_ECORRUPT, "model parameter %s is given twice", line + 2);
        pseen |= 1ull << k;
      }
  }
  return 0;
}

const char *braid_config_describe(void)
{
  static char buf[4096];
  if (buf[0]) return buf;
  size_t off = 0;
  for (int i = 0; i < BRAID_K__COUNT && off < sizeof buf; i++)
    off += (size_t)snprintf(buf + off, sizeof buf - off, "  %-20s %s (default %lld, range %lld..%lld)\n", keys[i].name, keys[i].help,
                            (long long)keys[i].def, (long long)keys[i].lo, (long long)keys[i].hi);
  return buf;
}
