/* braid-dump.c - show a trace as text, JSON Lines, a Chrome/Perfetto
 * timeline, or a summary. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "dump_html.h"


static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-dump [--json | --chrome | --html | --stats] [--exchanges A..B] [--torus X]... [--partial] TRACE\n"
          "Shows a braid trace (TRACE - reads it from standard input).\n\n"
          "      (default)             readable text: the header, then one record per line\n"
          "      --json                JSON Lines: a header object, one object per record, a footer object\n"
          "      --chrome              Chrome Trace Event JSON (open in ui.perfetto.dev, chrome://tracing or speedscope)\n"
          "      --html                one self-contained HTML page with charts of the run (open it in a browser)\n"
          "      --replay              with --html: replay the trace first and show the verdict\n"
          "      --stats               a summary: model, exchanges, events, size, violations, records by type\n"
          "      --exchanges A..B      only exchanges A to B (A.., ..B and K work too)\n"
          "      --torus X             only torus X (a letter A..P or a number); repeat it for several\n"
          "      --partial             show the good part of a truncated or damaged trace, then the error\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 ok, 2 trouble.  A truncated or damaged trace prints nothing on stdout\n"
          "unless --partial is given.\n");
}

/* The sources that are not cells (braid.h), by name. */
static const char *source_name(uint64_t src)
{
  return src == BRAID_SRC_EXTERNAL ? "external" : src == BRAID_SRC_CORRECTION ? "correction" : src == BRAID_SRC_TIMER ? "timer" : NULL;
}

static void print_fields(const braid_record *r, int json)
{
  for (unsigned i = 0; i < r->nfields; i++) {
    int sg = 0;
    const char *f = braid_record_field_name(r->type, i, &sg);
    char unk[16];
    if (!f) {
      snprintf(unk, sizeof unk, "f%u", i);
      f = unk;
    }
    size_t fl = strlen(f);
    int hex = !strcmp(f, "digest") || !strcmp(f, "hash") || (fl > 7 && !strcmp(f + fl - 7, "_digest")); /* as braid-replay prints them */
    const char *src = !strcmp(f, "src") ? source_name(r->field[i]) : NULL;
    if (src) {
      printf(json ? ",\"%s\":\"%s\"" : " %s=%s", f, src);
      continue;
    }
    if (json) {
      if (hex) printf(",\"%s\":\"%016llx\"", f, (unsigned long long)r->field[i]);
      else if (sg) printf(",\"%s\":%lld", f, (long long)r->sfield[i]);
      else printf(",\"%s\":%llu", f, (unsigned long long)r->field[i]);
    } else {
      if (hex) printf(" %s=%016llx", f, (unsigned long long)r->field[i]);
      else if (sg) printf(" %s=%lld", f, (long long)r->sfield[i]);
      else printf(" %s=%llu", f, (unsigned long long)r->field[i]);
    }
  }
}

/* ------------------------------------------------------------- selection */

/* What --exchanges and --torus keep: the records of the exchanges from..to
 * whose torus is in the mask, and the records that belong to no torus
 * (exchange, checkpoint).  Every output mode reads through next_record(),
 * so each shows the same selection; headers and footers still describe the
 * whole trace. */
static struct {
  uint64_t from, to;
  uint32_t tori; /* bit i: torus i */
  int any;       /* an option narrowed it */
} sel = { 0, UINT64_MAX, 0xffffffffu, 0 };

static int has_torus(const braid_record *r)
{
  int sg;
  const char *f = r->nfields ? braid_record_field_name(r->type, 0, &sg) : NULL;
  return f && !strcmp(f, "torus");
}

/* braid_trace_next() of the selection: BRAID_EEOF past its last exchange. */
static int next_record(braid_trace *t, braid_record *r)
{
  int rc;
  while ((rc = braid_trace_next(t, r)) == 0) {
    if (r->exchange > sel.to) return BRAID_EEOF;
    if (r->exchange < sel.from) continue;
    if (has_torus(r) && (r->field[BRAID_F_TORUS] >= 32 || !(sel.tori >> r->field[BRAID_F_TORUS] & 1))) continue;
    return 0;
  }
  return rc;
}

/* Positions the reader at the selection's first exchange (through the
 * index).  Returns 0, or the reader's error; an exchange past the end of a
 * --partial trace just leaves nothing to show. */
static int seek_selection(braid_trace *t)
{
  if (!sel.from) return 0;
  int rc = braid_trace_seek(t, sel.from);
  return rc == BRAID_ERANGE ? BRAID_EEOF : rc;
}

/* --exchanges A..B, A.., ..B or K. */
static void parse_exchanges(const char *v)
{
  const char *dots = strstr(v, "..");
  if (!dots) {
    sel.from = sel.to = cli_u64("--exchanges", v, 0, UINT64_MAX);
  } else {
    char a[32] = "";
    size_t n = (size_t)(dots - v);
    if (n >= sizeof a) cli_die("--exchanges: '%s' is not A..B", v);
    memcpy(a, v, n);
    a[n] = 0;
    if (n) sel.from = cli_u64("--exchanges", a, 0, UINT64_MAX);
    if (dots[2]) sel.to = cli_u64("--exchanges", dots + 2, 0, UINT64_MAX);
    if (!n && !dots[2]) cli_die("--exchanges: '..' names no exchange (A..B, A.., ..B or K)");
  }
  if (sel.from > sel.to) cli_die("--exchanges: %s is empty (%llu > %llu)", v, (unsigned long long)sel.from, (unsigned long long)sel.to);
  sel.any = 1;
}

static void parse_torus(const char *v, int first)
{
  uint32_t x;
  if (braid_parse_torus(v, &x)) cli_die("--torus: '%s' is not a torus (a letter A..P or a number 0..15)", v);
  if (first) sel.tori = 0;
  sel.tori |= 1u << x;
  sel.any = 1;
}

/* The trace's tori (its settings say; 16 when they name none in 2..16). */
static uint32_t trace_tori(const braid_trace_info *in) { return in->config_tori ? in->config_tori : 16; }

/* A check record's message (braid-trace(5)): untrusted bytes, shown as
 * printable ASCII. */
static void print_message(const braid_record *r, int json)
{
  char msg[BRAID_CHECK_MESSAGE_MAX];
  size_t n = r->bloblen < sizeof msg - 1 ? r->bloblen : sizeof msg - 1;
  for (size_t i = 0; i < n; i++) msg[i] = r->blob[i] >= 0x20 && r->blob[i] < 0x7f ? (char)r->blob[i] : '?';
  msg[n] = 0;
  if (json) printf(",\"message\":%s", cli_json(msg));
  else printf(" message=%s", cli_json(msg));
}

/* Output is buffered by stdio; on a damaged trace we still print what was
 * good (that is the point of a dump), then the error on stderr, exit 2. */
static const char *named(const char *msg, const char *path, const char *shown);
static const char *trace_path, *trace_shown; /* the file read, and its name in messages */

static int finish(braid_trace *t, int rc)
{
  if (rc == BRAID_EEOF) return 0;
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", cli_prog, named(braid_trace_error(t), trace_path, trace_shown));
  return EXIT_TROUBLE;
}

static int dump_text(braid_trace *t, const braid_trace_info *in)
{
  printf("# braid trace, format %u, %s\n# build: %s\n# host: %s\n", in->format_version, cli_status_name(in->status), in->build_id, in->host);
  if (in->plugin && in->plugin[0]) printf("# plugin: %s\n", in->plugin);
  printf("# settings (hash %016llx):\n", (unsigned long long)in->config_hash);
  for (const char *p = in->config_text; p && *p;) {
    const char *nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    printf("#   %.*s\n", len, p);
    p += len + (nl ? 1 : 0);
  }
  braid_record r;
  int rc = seek_selection(t);
  while (!rc && (rc = next_record(t, &r)) == 0) {
    const char *name = braid_record_type_name(r.type);
    if (r.type == BRAID_REC_EXCHANGE) {
      printf("exchange %llu\n", (unsigned long long)r.field[BRAID_F_EXCHANGE_K]);
      continue;
    }
    if (name) printf("  %s", name);
    else printf("  type%u", r.type);
    if (r.blob && r.type != BRAID_REC_CHECK) printf(" bytes=%zu", r.bloblen);
    print_fields(&r, 0);
    if (r.type == BRAID_REC_CHECK) print_message(&r, 0);
    printf("\n");
  }
  if (rc == BRAID_EEOF)
    printf("# end: %llu %s, %llu events\n", (unsigned long long)in->exchanges, cli_exchanges(in->exchanges), (unsigned long long)in->total_events);
  return finish(t, rc);
}

static int dump_json(braid_trace *t, const braid_trace_info *in)
{
  printf("{\"type\":\"header\",\"format\":%u,\"status\":\"%s\",\"build\":%s", in->format_version, cli_status_name(in->status), cli_json(in->build_id));
  printf(",\"host\":%s", cli_json(in->host));
  printf(",\"plugin\":%s", cli_json(in->plugin ? in->plugin : ""));
  /* Nanoseconds since 1970 exceed 2^53, which a JSON number (a double in
   * jq and JavaScript) holds exactly: also as a string, and in whole µs. */
  printf(",\"start_unix_ns\":%llu,\"start_unix_ns_string\":\"%llu\",\"start_unix_us\":%llu", (unsigned long long)in->start_unix_ns,
         (unsigned long long)in->start_unix_ns, (unsigned long long)in->start_unix_ns / 1000);
  printf(",\"config_hash\":\"%016llx\",\"config\":%s}\n", (unsigned long long)in->config_hash, cli_json_settings(in->config_text));
  braid_record r;
  int rc = seek_selection(t);
  while (!rc && (rc = next_record(t, &r)) == 0) {
    const char *name = braid_record_type_name(r.type);
    if (name) printf("{\"type\":\"%s\",\"exchange\":%llu", name, (unsigned long long)r.exchange);
    else printf("{\"type\":\"type%u\",\"exchange\":%llu", r.type, (unsigned long long)r.exchange);
    if (r.blob && r.type != BRAID_REC_CHECK) printf(",\"bytes\":%zu", r.bloblen);
    print_fields(&r, 1);
    if (r.type == BRAID_REC_CHECK) print_message(&r, 1);
    printf("}\n");
  }
  if (rc == BRAID_EEOF) {
    printf("{\"type\":\"footer\",\"status\":\"%s\",\"exchanges\":%llu,\"events\":%llu,\"state_hashes\":[", cli_status_name(in->status),
           (unsigned long long)in->exchanges, (unsigned long long)in->total_events);
    for (uint32_t i = 0; i < in->tori && i < 16; i++) printf("%s\"%016llx\"", i ? "," : "", (unsigned long long)in->final_state_hash[i]);
    printf("]}\n");
  }
  return finish(t, rc);
}

/* Chrome Trace Event format, ts in microseconds.  pid 1 "workers": one
 * track per worker thread, pid 2 "tori": one track per torus, each with, per
 * step it ran, the barrier wait, the epoch and the exchange work; instants
 * for violations and failures, counters for the interval and the violation
 * rate, flow arrows from each projection to the step of the successor that
 * reads it.
 *
 * A barrier record places the epoch exactly, but of the wait and the
 * exchange work it gives only the lengths, and exchange_ns is the sum of the
 * exchange-in before the epoch and the publication after it.  So a wait is
 * drawn ending where its epoch starts, the exchange work starting where it
 * ends, and each slice is cut to start no earlier than the previous slice on
 * its track ends and to end no later than the next epoch there starts: the
 * slices of a track are disjoint by construction, as Perfetto needs.  That
 * takes the next step of the track, so the steps are kept and drawn at the
 * end (a worker's steps come out of time order in the trace anyway).  On a
 * worker's track the cut leaves of a torus's wait the part in which the
 * worker ran no other step.
 *
 * Every slice is then drawn 1 ns shorter than that, so that no slice ends
 * at the timestamp where the next one on its track begins.  Viewers that
 * turn a slice into a begin and an end event at ts + dur (speedscope) get
 * that sum in floating point microseconds, a hair after the next begin, and
 * then stack every slice inside the one before: the gap keeps the track one
 * flat row, and a flow end placed on a slice's first nanosecond binds to
 * that slice alone.
 *
 * A run spread over MPI ranks (the header's "ranks" setting) draws the
 * workers of each rank as a process of their own, pid 10 + rank, named
 * after the rank and its tori: worker 0 of rank 1 is another thread than
 * worker 0 of rank 0. */
typedef struct step {
  uint64_t k, start, dur, wait, exch; /* ns since the run start */
  uint64_t fin;                       /* the flow's head: the first ns of the epoch drawn on the torus track */
  uint64_t published;                 /* the flow's tail: the first ns of the exchange drawn after the epoch */
  uint32_t torus, thread;
  uint32_t pid; /* of its worker's track: 1, or 10 + rank under MPI */
} step;

typedef struct chrome {
  int first;
  uint32_t tori, ranks;
  step *steps;
  size_t n, cap;
  int threads_seen[17][64];
} chrome;

/* Nanoseconds as the microseconds of the format, exactly: "%llu.%03u". */
#define US(ns) (unsigned long long)((ns) / 1000), (unsigned)((ns) % 1000)

static void ev(chrome *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev(chrome *c, const char *fmt, ...)
{
  va_list ap;
  printf("%s\n", c->first ? "" : ",");
  c->first = 0;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

/* a + b, or the largest time for a damaged record that would wrap. */
static uint64_t after(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX - 2 : a + b; }

/* Draws [b, e) as a slice that ends 1 ns early, starting no earlier than
 * *cursor (the end of the slice before it on the track), and moves the
 * cursor to e.  A slice left with less than 1 ns is dropped, unless `must`
 * (an epoch), which is then drawn 1 ns long and pushes the cursor on.
 * Returns the drawn start, or UINT64_MAX when nothing was drawn. */
static uint64_t slice(chrome *c, int pid, uint32_t tid, uint64_t *cursor, uint64_t b, uint64_t e, int must, const char *name, const char *cat,
                      const step *s)
{
  if (b < *cursor) b = *cursor;
  if (b > UINT64_MAX - 2) b = UINT64_MAX - 2; /* a damaged record's time: no wrap below */
  if (e < b + 2) {
    if (!must) return UINT64_MAX;
    e = b + 2;
  }
  /* The name is short, as viewers show it; the details are in args.  On a
   * worker's track the name says the torus (its track says the thread). */
  if (pid != 2)
    ev(c, "{\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%llu.%03u,\"dur\":%llu.%03u,\"name\":\"%c %s\",\"cat\":\"%s\",\"args\":{\"exchange\":%llu}}", pid, tid,
       US(b), US(e - 1 - b), 'A' + s->torus, name, cat, (unsigned long long)s->k);
  else
    ev(c, "{\"ph\":\"X\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"dur\":%llu.%03u,\"name\":\"%s\",\"cat\":\"%s\",\"args\":{\"exchange\":%llu,\"thread\":%u}}", tid,
       US(b), US(e - 1 - b), name, cat, (unsigned long long)s->k, s->thread);
  *cursor = e;
  return b;
}

/* Draws the steps of one track (pid 1 or 10 + rank a worker's, 2 a torus's), in time
 * order, as wait, epoch and exchange slices, each cut as the comment above
 * says. */
static void draw_track(chrome *c, int pid, uint32_t tid, step **s, size_t n)
{
  uint64_t end = 0;
  for (size_t i = 0; i < n; i++) {
    step *p = s[i];
    uint64_t es = p->start > end ? p->start : end, ee = after(p->start, p->dur) > es ? after(p->start, p->dur) : es;
    uint64_t ws = p->start > p->wait ? p->start - p->wait : 0, xe = after(ee, p->exch);
    if (i + 1 < n && xe > s[i + 1]->start) xe = s[i + 1]->start > ee ? s[i + 1]->start : ee;
    slice(c, pid, tid, &end, ws, es, 0, "wait", "barrier", p);
    uint64_t fin = slice(c, pid, tid, &end, es, ee, 1, "epoch", "epoch", p);
    uint64_t epoch_end = end - 1; /* its last drawn ns, where the flow leaves when no exchange is drawn */
    uint64_t pub = slice(c, pid, tid, &end, ee, xe, 0, "exchange", "exchange", p);
    if (pid == 2) {
      p->fin = fin;
      p->published = pub != UINT64_MAX ? pub : epoch_end;
    }
  }
}

static int by_torus(const void *a, const void *b)
{
  const step *x = *(step *const *)a, *y = *(step *const *)b;
  if (x->torus != y->torus) return x->torus < y->torus ? -1 : 1;
  if (x->k != y->k) return x->k < y->k ? -1 : 1;
  return x < y ? -1 : x > y; /* record order: qsort is not stable */
}

static int by_thread(const void *a, const void *b)
{
  const step *x = *(step *const *)a, *y = *(step *const *)b;
  if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
  if (x->thread != y->thread) return x->thread < y->thread ? -1 : 1;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x < y ? -1 : x > y; /* record order: qsort is not stable */
}

/* The slices of every worker and every torus, then a flow from each
 * projection (in its torus's exchange slice) to the epoch of the successor
 * that read it. */
static void draw_steps(chrome *c)
{
  step **s = malloc((c->n ? c->n : 1) * sizeof *s);
  if (!s) cli_die("out of memory");
  for (size_t i = 0; i < c->n; i++) s[i] = &c->steps[i];
  qsort(s, c->n, sizeof *s, by_thread);
  for (size_t i = 0, j; i < c->n; i = j) {
    for (j = i; j < c->n && s[j]->pid == s[i]->pid && s[j]->thread == s[i]->thread; j++) {}
    draw_track(c, (int)s[i]->pid, s[i]->thread, s + i, j - i);
  }
  qsort(s, c->n, sizeof *s, by_torus);
  for (size_t i = 0, j; i < c->n; i = j) {
    for (j = i; j < c->n && s[j]->torus == s[i]->torus; j++) {}
    draw_track(c, 2, s[i]->torus, s + i, j - i);
  }
  free(s);
  /* Steps come by exchange, then torus: the predecessor's step k-1 is its
   * latest one seen, or the one before that when it comes earlier in k. */
  size_t last[16], prev[16];
  for (int i = 0; i < 16; i++) last[i] = prev[i] = SIZE_MAX;
  for (size_t i = 0; i < c->n; i++) {
    const step *p = &c->steps[i];
    uint32_t pred = (p->torus + c->tori - 1) % c->tori;
    size_t q = last[pred] != SIZE_MAX && c->steps[last[pred]].k + 1 == p->k ? last[pred]
             : prev[pred] != SIZE_MAX && c->steps[prev[pred]].k + 1 == p->k ? prev[pred]
                                                                              : SIZE_MAX;
    /* The projection is published after the predecessor's epoch k-1 and
     * read before this epoch k starts, so the arrow goes forwards in time;
     * one that would not (a slice pushed on by the cuts) is left out
     * rather than drawn backwards. */
    if (p->k > 0 && q != SIZE_MAX && c->steps[q].published < p->fin) {
      unsigned long long id = (unsigned long long)p->k * 16 + p->torus;
      ev(c, "{\"ph\":\"s\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"id\":%llu,\"name\":\"projection\",\"cat\":\"flow\"}", pred, US(c->steps[q].published), id);
      ev(c, "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"id\":%llu,\"name\":\"projection\",\"cat\":\"flow\"}", p->torus, US(p->fin), id);
    }
    prev[p->torus] = last[p->torus];
    last[p->torus] = i;
  }
}

static int dump_chrome(braid_trace *t, const braid_trace_info *in)
{
  chrome c;
  memset(&c, 0, sizeof c);
  c.first = 1;
  c.tori = trace_tori(in);
  c.ranks = in->ranks <= c.tori ? in->ranks : 0; /* untrusted: no such placement */
  printf("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"build\":%s},\"traceEvents\":[", cli_json(in->build_id));
  if (!c.ranks) ev(&c, "{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"workers\"}}");
  for (uint32_t i = 0; i < c.ranks; i++) {
    uint32_t a = braid_rank_first_torus(c.tori, c.ranks, i), z = braid_rank_first_torus(c.tori, c.ranks, i + 1);
    ev(&c, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"rank %u (tori %c..%c)\"}}", 10 + i, i, 'A' + a,
       'A' + z - 1);
  }
  ev(&c, "{\"ph\":\"M\",\"pid\":2,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"tori\"}}");
  for (uint32_t i = 0; i < c.tori; i++)
    if (sel.tori >> i & 1) ev(&c, "{\"ph\":\"M\",\"pid\":2,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"torus %c\"}}", i, 'A' + i);
  braid_record r;
  int rc = seek_selection(t);
  uint64_t last_ts[16] = { 0 }; /* end of the torus's last epoch: where its instants and counters go */
  uint64_t interval[16] = { 0 }; /* the interval counter's value, 0 before the first */
  while (!rc && (rc = next_record(t, &r)) == 0) {
    uint32_t tor = r.nfields ? (uint32_t)r.field[BRAID_F_TORUS] : 0;
    if (tor >= c.tori) continue;
    switch (r.type) {
    case BRAID_REC_BARRIER: {
      if (r.nfields < 6) break;
      if (c.n == c.cap) {
        size_t nc = c.cap ? c.cap * 2 : 1024;
        step *ns = realloc(c.steps, nc * sizeof *ns);
        if (!ns) cli_die("out of memory");
        c.steps = ns;
        c.cap = nc;
      }
      step *p = &c.steps[c.n++];
      uint32_t rank = c.ranks ? braid_torus_rank(c.tori, c.ranks, tor) : 16;
      *p = (step){ r.exchange, r.field[BRAID_F_BARRIER_EPOCH_START_NS], r.field[BRAID_F_BARRIER_EPOCH_NS], r.field[BRAID_F_BARRIER_WAIT_NS],
                   r.field[BRAID_F_BARRIER_EXCHANGE_NS], 0, 0, tor, (uint32_t)r.field[BRAID_F_BARRIER_THREAD] & 63, c.ranks ? 10 + rank : 1 };
      if (!c.threads_seen[rank][p->thread]) {
        c.threads_seen[rank][p->thread] = 1;
        ev(&c, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"worker %u\"}}", p->pid, p->thread, p->thread);
      }
      last_ts[tor] = after(p->start, p->dur);
      break;
    }
    case BRAID_REC_PROJECTION:
      /* The interval the epoch ran with: so the counter starts at the first
       * epoch, also when adaptation never changes it. */
      if (r.nfields > BRAID_F_PROJECTION_INTERVAL && r.field[BRAID_F_PROJECTION_INTERVAL] != interval[tor]) {
        interval[tor] = r.field[BRAID_F_PROJECTION_INTERVAL];
        ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"interval %c\",\"args\":{\"events\":%llu}}", US(last_ts[tor]), 'A' + tor,
           (unsigned long long)interval[tor]);
      }
      break;
    case BRAID_REC_BOUNDARY:
      if (r.field[BRAID_F_BOUNDARY_VIOLATIONS])
        ev(&c, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"violations\",\"args\":{\"exchange\":%llu,\"cells\":%llu,\"max_dev\":%llu}}",
           tor, US(last_ts[tor]), (unsigned long long)r.exchange, (unsigned long long)r.field[BRAID_F_BOUNDARY_VIOLATIONS],
           (unsigned long long)r.field[BRAID_F_BOUNDARY_MAX_DEV]);
      ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"violation rate %c\",\"args\":{\"ppm\":%llu}}", US(last_ts[tor]), 'A' + tor,
         (unsigned long long)(r.field[BRAID_F_BOUNDARY_CHECKED] ? r.field[BRAID_F_BOUNDARY_VIOLATIONS] * 1000000 / r.field[BRAID_F_BOUNDARY_CHECKED] : 0));
      break;
    case BRAID_REC_INTERVAL:
      interval[tor] = r.field[BRAID_F_INTERVAL_NEW];
      ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"interval %c\",\"args\":{\"events\":%llu}}", US(last_ts[tor]), 'A' + tor,
         (unsigned long long)r.field[BRAID_F_INTERVAL_NEW]);
      break;
    case BRAID_REC_FAILURE:
      ev(&c, "{\"ph\":\"i\",\"s\":\"p\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"failure\",\"args\":{\"exchange\":%llu,\"reason\":%llu,\"lost_events\":%llu}}",
         tor, US(last_ts[tor]), (unsigned long long)r.exchange, (unsigned long long)r.field[BRAID_F_FAILURE_REASON],
         (unsigned long long)r.field[BRAID_F_FAILURE_LOST_EVENTS]);
      break;
    case BRAID_REC_INJECTION:
      ev(&c, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"injection\",\"args\":{\"cell\":%llu,\"payload\":%lld}}", tor,
         US(last_ts[tor]), (unsigned long long)r.field[BRAID_F_INJECTION_CELL], (long long)r.sfield[BRAID_F_INJECTION_PAYLOAD]);
      break;
    default: break;
    }
  }
  /* Also after damage with --partial: the steps read so far are good. */
  draw_steps(&c);
  free(c.steps);
  printf("\n]}\n");
  return finish(t, rc);
}

/* The torus letters of the selection ("A, C"). */
static const char *selected_tori(uint32_t tori)
{
  static char buf[64];
  size_t o = 0;
  buf[0] = 0;
  for (uint32_t i = 0; i < tori && i < 16; i++)
    if (sel.tori >> i & 1) o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%c", o ? ", " : "", 'A' + i);
  return buf;
}

static int dump_stats(braid_trace *t, const braid_trace_info *in, const char *path, const char *shown)
{
  uint64_t count[256] = { 0 }, unknown = 0, viol = 0, checked = 0, ckpt_bytes = 0, exchanges = 0, ckpt_off = 0;
  uint64_t last_events[16] = { 0 }; /* each torus's count in its last projection or rebuild */
  uint64_t base_events[16] = { 0 }; /* the same just before the selection's first exchange */
  int in_ckpt = 0, seen[16] = { 0 };
  braid_record r;
  int rc = 0;
  struct stat st;
  uint64_t size = stat(path, &st) ? 0 : (uint64_t)st.st_size;
  unsigned tori = trace_tori(in);
  /* With a selection the footer's total does not apply: the events are
   * the selected tori's counts at its end less those just before it. */
  if (sel.any && sel.from > 0 && braid_trace_seek(t, sel.from - 1) == 0) {
    while (braid_trace_next(t, &r) == 0 && r.exchange < sel.from)
      if ((r.type == BRAID_REC_PROJECTION || r.type == BRAID_REC_REBUILD) && r.nfields > 1 && r.field[BRAID_F_TORUS] < 16)
        base_events[r.field[BRAID_F_TORUS]] = r.field[BRAID_F_EVENTS];
  }
  rc = seek_selection(t);
  while (!rc && (rc = next_record(t, &r)) == 0) {
    /* A checkpoint is a frame of its own: its compressed size is the
     * distance to the next frame (or, for the last one, to the file end,
     * which then also counts the index and footer). */
    if (in_ckpt && r.offset != ckpt_off) {
      ckpt_bytes += r.offset - ckpt_off;
      in_ckpt = 0;
    }
    if (r.blob && !in_ckpt) {
      ckpt_off = r.offset;
      in_ckpt = 1;
    }
    if (r.type < 256) count[r.type]++;
    else unknown++;
    if (r.type == BRAID_REC_EXCHANGE) exchanges++;
    if (r.type == BRAID_REC_BOUNDARY) {
      viol += r.field[BRAID_F_BOUNDARY_VIOLATIONS];
      checked += r.field[BRAID_F_BOUNDARY_CHECKED];
    }
    if ((r.type == BRAID_REC_PROJECTION || r.type == BRAID_REC_REBUILD) && r.nfields > 1 && r.field[BRAID_F_TORUS] < 16) {
      last_events[r.field[BRAID_F_TORUS]] = r.field[BRAID_F_EVENTS];
      seen[r.field[BRAID_F_TORUS]] = 1;
    }
  }
  if (in_ckpt && size > ckpt_off) ckpt_bytes += size - ckpt_off;
  if (ckpt_bytes > size) ckpt_bytes = size;
  printf("trace          %s\nstatus         %s%s\nformat         %u\nbuild          %s\n", shown, cli_status_name(in->status), in->truncated ? " (truncated)" : "",
         in->format_version, in->build_id);
  /* The model as the settings name it, with the plugin's identity (name,
   * version and the XXH3 of its file) when it came from one. */
  printf("model          %s", in->model && *in->model ? in->model : "(unknown)");
  if (in->plugin && in->plugin[0]) printf(" (plugin %s)", in->plugin);
  printf("\n");
  if (sel.any) {
    printf("selection      exchanges ");
    if (sel.to == UINT64_MAX) printf("%llu..", (unsigned long long)sel.from);
    else printf("%llu..%llu", (unsigned long long)sel.from, (unsigned long long)sel.to);
    uint32_t all = tori >= 32 ? 0xffffffffu : (1u << tori) - 1;
    if ((sel.tori & all) == all) printf(", every torus\n");
    else printf(", %s %s\n", strchr(selected_tori(tori), ',') ? "tori" : "torus", selected_tori(tori));
  }
  printf("exchanges      %llu\n", (unsigned long long)exchanges);
  /* The total is the footer's.  Without one, it is what the tori had
   * counted when they last published, if every torus did. */
  if (sel.any) {
    uint64_t sum = 0;
    for (unsigned i = 0; i < tori; i++)
      if (sel.tori >> i & 1 && seen[i] && last_events[i] > base_events[i]) sum += last_events[i] - base_events[i];
    printf("events         %llu (the selection's, from the projections)\n", (unsigned long long)sum);
  } else if (in->status != BRAID_TRACE_UNFINISHED) {
    printf("events         %llu\n", (unsigned long long)in->total_events);
  } else {
    uint64_t sum = 0;
    unsigned have = tori && tori <= 16;
    for (unsigned i = 0; have && i < tori; i++) {
      have = seen[i];
      sum += last_events[i];
    }
    if (have) printf("events         %llu (no footer: the tori's last projections)\n", (unsigned long long)sum);
    else printf("events         unknown (no footer)\n");
  }
  printf("size           %llu bytes", (unsigned long long)size);
  if (sel.any) printf(" (the whole file)");
  else if (exchanges && tori)
    printf(" (%.1f bytes per exchange per torus%s, checkpoints %llu bytes)", (double)(size - ckpt_bytes) / (double)exchanges / tori,
           in->truncated ? ", the cut frame included" : "", (unsigned long long)ckpt_bytes);
  printf("\nviolations     %llu of %llu checked cells (%.4f%%)\nrecords by type:\n", (unsigned long long)viol, (unsigned long long)checked,
         checked ? 100.0 * (double)viol / (double)checked : 0.0);
  for (unsigned i = 0; i < 256; i++)
    if (count[i]) printf("  %-18s %llu\n", braid_record_type_name(i) ? braid_record_type_name(i) : "(unknown type)", (unsigned long long)count[i]);
  if (unknown) printf("  %-18s %llu\n", "(unknown type)", (unsigned long long)unknown);
  return finish(t, rc);
}

/* ----------------------------------------------------------------- input */

/* The name errors and --stats give the trace, and the path it is read from:
 * for "-", a copy of standard input in an unlinked temporary file, read
 * through /proc/self/fd (or, without procfs, a named one removed at exit),
 * because the reader seeks and the trace is read more than once. */
static char stdin_copy[64];
static void remove_stdin_copy(void) { unlink(stdin_copy); }

static const char *copy_stdin(void)
{
  static char path[64];
  if (isatty(0)) cli_die("standard input is a terminal: pipe a trace in, or name a file");
  const char *tmp = getenv("TMPDIR");
  snprintf(stdin_copy, sizeof stdin_copy, "%s/braid-dump-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
  int fd = mkstemp(stdin_copy);
  if (fd < 0) cli_die("standard input: cannot make a temporary copy in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  struct stat st;
  if (!stat(path, &st)) unlink(stdin_copy);
  else {
    snprintf(path, sizeof path, "%s", stdin_copy);
    atexit(remove_stdin_copy);
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) cli_die("standard input: %s", strerror(errno));
    for (ssize_t o = 0; o < n;) {
      ssize_t w = write(fd, buf + o, (size_t)(n - o));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) cli_die("standard input: cannot keep a copy: %s", strerror(errno));
      o += w;
    }
  }
  return path;
}

/* A reader's message with the path it was given replaced by `shown`. */
static const char *named(const char *msg, const char *path, const char *shown)
{
  static char buf[1200];
  const char *p = strstr(msg, path);
  if (!p || path == shown) return msg;
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - msg), msg, shown, p + strlen(path));
  return buf;
}

/* Reads the whole trace once and dies unless it is intact, so that a
 * damaged one leaves nothing half-written on stdout; then checks that the
 * selection names exchanges and tori the trace has. */
static void need_whole_trace(const char *path, const char *shown)
{
  braid_trace *t;
  braid_record r;
  char err[1024];
  int rc;
  uint64_t first = UINT64_MAX, last = 0;
  if (braid_trace_open(&t, path, err, sizeof err)) cli_die("%s", named(err, path, shown));
  while ((rc = braid_trace_next(t, &r)) == 0)
    if (r.type == BRAID_REC_EXCHANGE) {
      if (first == UINT64_MAX) first = r.exchange;
      last = r.exchange;
    }
  if (rc != BRAID_EEOF) cli_die("%s", named(braid_trace_error(t), path, shown));
  uint32_t tori = trace_tori(braid_trace_get_info(t));
  braid_trace_close(t);
  if (sel.tori != 0xffffffffu && sel.tori >> tori)
    cli_die("--torus: %s has %u tori (A..%c)", shown, tori, 'A' + tori - 1);
  if (sel.from == 0 && sel.to == UINT64_MAX) return;
  if (first == UINT64_MAX) cli_die("--exchanges: %s has no exchange", shown);
  if (sel.from > last || sel.to < first)
    cli_die("--exchanges: %s has exchanges %llu..%llu, none of them selected", shown, (unsigned long long)first, (unsigned long long)last);
}

int main(int argc, char **argv)
{
  cli_prog = "braid-dump";
  static const struct option opts[] = {
    { "json", 0, 0, 'j' },   { "chrome", 0, 0, 'c' },  { "html", 0, 0, 'H' },      { "stats", 0, 0, 's' }, { "replay", 0, 0, 'R' },
    { "exchanges", 1, 0, 'x' }, { "torus", 1, 0, 't' }, { "partial", 0, 0, 'P' }, { "help", 0, 0, 'h' },  { "version", 0, 0, 'V' },
    { 0, 0, 0, 0 },
  };
  int c, mode = 0, partial = 0, replay = 0, ntorus = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
    switch (c) {
    case 'j': case 'c': case 's': case 'H':
      if (mode && mode != c) cli_die("--json, --chrome, --html and --stats exclude each other");
      mode = c;
      break;
    case 'x': parse_exchanges(optarg); break;
    case 't': parse_torus(optarg, !ntorus++); break;
    case 'R': replay = 1; break;
    case 'P': partial = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    default: cli_bad_option(c, argv, opts);
    }
  }
  if (replay && mode != 'H') cli_die("--replay goes with --html (braid-replay replays on its own)");
  const char *shown = cli_one_trace(argc, argv), *path = shown;
  if (!strcmp(shown, "-")) {
    shown = "standard input";
    path = copy_stdin();
  } else {
    cli_need_file(path);
  }
  trace_path = path;
  trace_shown = shown;
  /* Validate first so a damaged trace leaves nothing half-written on stdout. */
  if (!partial) need_whole_trace(path, shown);
  braid_trace *t;
  char err[1024];
  if (braid_trace_open(&t, path, err, sizeof err)) cli_die("%s", named(err, path, shown));
  const braid_trace_info *in = braid_trace_get_info(t);
  int rc;
  if (mode == 'H') {
    dump_html_opts o = { path, shown, replay, next_record, seek_selection, sel.any ? selected_tori(trace_tori(in)) : NULL, sel.from, sel.to };
    rc = dump_html(t, in, &o);
    rc = finish(t, rc);
  } else {
    rc = mode == 'j' ? dump_json(t, in) : mode == 'c' ? dump_chrome(t, in) : mode == 's' ? dump_stats(t, in, path, shown) : dump_text(t, in);
  }
  braid_trace_close(t);
  return rc;
}
