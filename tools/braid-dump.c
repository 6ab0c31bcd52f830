/* braid-dump.c - show a trace as text, JSON Lines, a Chrome/Perfetto
 * timeline, or a summary. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

enum { REC_EXCHANGE = 1, REC_PROJECTION = 2, REC_BOUNDARY = 3, REC_INTERVAL = 6, REC_INJECTION = 7, REC_FAILURE = 8, REC_REBUILD = 9, REC_BARRIER = 64 };

static void usage(FILE *f)
{
  fprintf(f,
          "usage: braid-dump [--json | --chrome | --stats] [--partial] TRACE\n"
          "Shows a braid trace.\n\n"
          "      (default)             readable text: the header, then one record per line\n"
          "      --json                JSON Lines: a header object, one object per record, a footer object\n"
          "      --chrome              Chrome Trace Event JSON (open in ui.perfetto.dev or chrome://tracing)\n"
          "      --stats               a summary: exchanges, events, size, violations, records by type (failures among them)\n"
          "      --partial             show the good part of a truncated or damaged trace, then the error\n"
          "  -h, --help                this help\n"
          "  -V, --version             version\n\n"
          "Exit status: 0 ok, 2 trouble.  A truncated or damaged trace prints nothing on stdout\n"
          "unless --partial is given.\n");
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
    int hex = !strcmp(f, "digest") || !strcmp(f, "hash");
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

/* Output is buffered by stdio; on a damaged trace we still print what was
 * good (that is the point of a dump), then the error on stderr, exit 2. */
static int finish(braid_trace *t, int rc)
{
  if (rc == BRAID_EEOF) return 0;
  fflush(stdout);
  fprintf(stderr, "%s: %s\n", cli_prog, braid_trace_error(t));
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
  int rc;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    const char *name = braid_record_type_name(r.type);
    if (r.type == REC_EXCHANGE) {
      printf("exchange %llu\n", (unsigned long long)r.field[0]);
      continue;
    }
    if (name) printf("  %s", name);
    else printf("  type%u", r.type);
    if (r.blob) printf(" bytes=%zu", r.bloblen);
    print_fields(&r, 0);
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
  printf(",\"start_unix_ns\":%llu,\"config_hash\":\"%016llx\",\"config\":%s}\n", (unsigned long long)in->start_unix_ns,
         (unsigned long long)in->config_hash, cli_json(in->config_text));
  braid_record r;
  int rc;
  while ((rc = braid_trace_next(t, &r)) == 0) {
    const char *name = braid_record_type_name(r.type);
    if (name) printf("{\"type\":\"%s\",\"exchange\":%llu", name, (unsigned long long)r.exchange);
    else printf("{\"type\":\"type%u\",\"exchange\":%llu", r.type, (unsigned long long)r.exchange);
    if (r.blob) printf(",\"bytes\":%zu", r.bloblen);
    print_fields(&r, 1);
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
 * A run spread over MPI ranks (the header's "ranks" setting) draws the
 * workers of each rank as a process of their own, pid 10 + rank, named
 * after the rank and its tori: worker 0 of rank 1 is another thread than
 * worker 0 of rank 0. */
typedef struct step {
  uint64_t k, start, dur, wait, exch; /* ns since the run start */
  uint64_t published;                 /* the flow's tail, inside the exchange slice */
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
static uint64_t after(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

static void slice(chrome *c, int pid, uint32_t tid, uint64_t b, uint64_t e, const char *name, const char *cat, const step *s)
{
  ev(c, "{\"ph\":\"X\",\"pid\":%d,\"tid\":%u,\"ts\":%llu.%03u,\"dur\":%llu.%03u,\"name\":\"%s\",\"cat\":\"%s\",\"args\":{\"exchange\":%llu,\"thread\":%u}}", pid,
     tid, US(b), US(e - b), name, cat, (unsigned long long)s->k, s->thread);
}

/* Draws the steps of one track (pid 1 a worker's, 2 a torus's), in time
 * order, as wait, epoch and exchange slices, each cut as the comment above
 * says. */
static void draw_track(chrome *c, int pid, uint32_t tid, step **s, size_t n)
{
  uint64_t end = 0;
  for (size_t i = 0; i < n; i++) {
    step *p = s[i];
    uint64_t es = p->start > end ? p->start : end, ee = after(p->start, p->dur) > es ? after(p->start, p->dur) : es;
    uint64_t ws = p->start > p->wait ? p->start - p->wait : 0, xe = after(ee, p->exch);
    if (ws < end) ws = end;
    if (i + 1 < n && xe > s[i + 1]->start) xe = s[i + 1]->start > ee ? s[i + 1]->start : ee;
    /* On a worker's track the slices name the torus they belong to. */
    char torus[16] = "", name[48];
    if (pid != 2) snprintf(torus, sizeof torus, "torus %c ", 'A' + p->torus);
    if (ws < es) {
      snprintf(name, sizeof name, "%swait", torus);
      slice(c, pid, tid, ws, es, name, "barrier", p);
    }
    snprintf(name, sizeof name, "%sepoch %llu", torus, (unsigned long long)p->k);
    slice(c, pid, tid, es, ee, name, "epoch", p);
    if (xe > ee) {
      snprintf(name, sizeof name, "%sexchange", torus);
      slice(c, pid, tid, ee, xe, name, "exchange", p);
    }
    if (pid == 2) p->published = ee + (xe - ee) / 2;
    end = xe;
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
    if (p->k > 0 && q != SIZE_MAX) {
      unsigned long long id = (unsigned long long)p->k * 16 + p->torus;
      ev(c, "{\"ph\":\"s\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"id\":%llu,\"name\":\"projection\",\"cat\":\"flow\"}", pred, US(c->steps[q].published), id);
      ev(c, "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"id\":%llu,\"name\":\"projection\",\"cat\":\"flow\"}", p->torus, US(p->start), id);
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
  const char *tp = strstr(in->config_text, "tori=");
  c.tori = tp ? (uint32_t)atoi(tp + 5) : 3;
  if (c.tori < 1 || c.tori > 16) c.tori = 16;
  const char *rp = strstr(in->config_text, "\nranks=");
  c.ranks = rp ? (uint32_t)atoi(rp + 7) : 0;
  if (c.ranks > c.tori) c.ranks = 0; /* untrusted: no such placement */
  printf("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"build\":%s},\"traceEvents\":[", cli_json(in->build_id));
  if (!c.ranks) ev(&c, "{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"workers\"}}");
  for (uint32_t i = 0; i < c.ranks; i++) {
    uint32_t a = braid_rank_first_torus(c.tori, c.ranks, i), z = braid_rank_first_torus(c.tori, c.ranks, i + 1);
    ev(&c, "{\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"rank %u (tori %c..%c)\"}}", 10 + i, i, 'A' + a,
       'A' + z - 1);
  }
  ev(&c, "{\"ph\":\"M\",\"pid\":2,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"tori\"}}");
  for (uint32_t i = 0; i < c.tori; i++) ev(&c, "{\"ph\":\"M\",\"pid\":2,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"torus %c\"}}", i, 'A' + i);
  braid_record r;
  int rc;
  uint64_t last_ts[16] = { 0 }; /* end of the torus's last epoch: where its instants and counters go */
  uint64_t interval[16] = { 0 }; /* the interval counter's value, 0 before the first */
  while ((rc = braid_trace_next(t, &r)) == 0) {
    uint32_t tor = r.nfields ? (uint32_t)r.field[0] : 0;
    if (tor >= c.tori) continue;
    switch (r.type) {
    case REC_BARRIER: {
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
      *p = (step){ r.exchange, r.field[2], r.field[3], r.field[4], r.field[5], 0, tor, (uint32_t)r.field[1] & 63, c.ranks ? 10 + rank : 1 };
      if (!c.threads_seen[rank][p->thread]) {
        c.threads_seen[rank][p->thread] = 1;
        ev(&c, "{\"ph\":\"M\",\"pid\":%u,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"worker %u\"}}", p->pid, p->thread, p->thread);
      }
      last_ts[tor] = after(p->start, p->dur);
      break;
    }
    case REC_PROJECTION:
      /* The interval the epoch ran with: so the counter starts at the first
       * epoch, also when adaptation never changes it. */
      if (r.nfields > 6 && r.field[6] != interval[tor]) {
        interval[tor] = r.field[6];
        ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"interval %c\",\"args\":{\"events\":%llu}}", US(last_ts[tor]), 'A' + tor,
           (unsigned long long)interval[tor]);
      }
      break;
    case REC_BOUNDARY:
      if (r.field[3])
        ev(&c, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"violations\",\"args\":{\"exchange\":%llu,\"cells\":%llu,\"max_dev\":%llu}}",
           tor, US(last_ts[tor]), (unsigned long long)r.exchange, (unsigned long long)r.field[3], (unsigned long long)r.field[4]);
      ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"violation rate %c\",\"args\":{\"ppm\":%llu}}", US(last_ts[tor]), 'A' + tor,
         (unsigned long long)(r.field[2] ? r.field[3] * 1000000 / r.field[2] : 0));
      break;
    case REC_INTERVAL:
      interval[tor] = r.field[2];
      ev(&c, "{\"ph\":\"C\",\"pid\":2,\"ts\":%llu.%03u,\"name\":\"interval %c\",\"args\":{\"events\":%llu}}", US(last_ts[tor]), 'A' + tor,
         (unsigned long long)r.field[2]);
      break;
    case REC_FAILURE:
      ev(&c, "{\"ph\":\"i\",\"s\":\"p\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"failure\",\"args\":{\"exchange\":%llu,\"reason\":%llu,\"lost_events\":%llu}}",
         tor, US(last_ts[tor]), (unsigned long long)r.exchange, (unsigned long long)r.field[1], (unsigned long long)r.field[2]);
      break;
    case REC_INJECTION:
      ev(&c, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":2,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"injection\",\"args\":{\"cell\":%llu,\"payload\":%lld}}", tor,
         US(last_ts[tor]), (unsigned long long)r.field[1], (long long)r.sfield[2]);
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

static int dump_stats(braid_trace *t, const braid_trace_info *in, const char *path)
{
  uint64_t count[256] = { 0 }, unknown = 0, viol = 0, checked = 0, ckpt_bytes = 0, exchanges = 0, ckpt_off = 0;
  uint64_t last_events[16] = { 0 }; /* each torus's count in its last projection or rebuild */
  int in_ckpt = 0, seen[16] = { 0 };
  braid_record r;
  int rc;
  struct stat st;
  uint64_t size = stat(path, &st) ? 0 : (uint64_t)st.st_size;
  while ((rc = braid_trace_next(t, &r)) == 0) {
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
    if (r.type == REC_EXCHANGE) exchanges++;
    if (r.type == REC_BOUNDARY) {
      viol += r.field[3];
      checked += r.field[2];
    }
    if ((r.type == REC_PROJECTION || r.type == REC_REBUILD) && r.nfields > 1 && r.field[0] < 16) {
      last_events[r.field[0]] = r.field[1];
      seen[r.field[0]] = 1;
    }
  }
  if (in_ckpt && size > ckpt_off) ckpt_bytes += size - ckpt_off;
  if (ckpt_bytes > size) ckpt_bytes = size;
  const char *tp = strstr(in->config_text, "tori=");
  unsigned tori = tp ? (unsigned)atoi(tp + 5) : 0;
  printf("trace          %s\nstatus         %s%s\nformat         %u\nbuild          %s\n", path, cli_status_name(in->status), in->truncated ? " (truncated)" : "",
         in->format_version, in->build_id);
  printf("exchanges      %llu\n", (unsigned long long)exchanges);
  /* The total is the footer's.  Without one, it is what the tori had
   * counted when they last published, if every torus did. */
  if (in->status != BRAID_TRACE_UNFINISHED) {
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
  if (exchanges && tori)
    printf(" (%.1f bytes per exchange per torus%s, checkpoints %llu bytes)", (double)(size - ckpt_bytes) / (double)exchanges / tori,
           in->truncated ? ", the cut frame included" : "", (unsigned long long)ckpt_bytes);
  printf("\nviolations     %llu of %llu checked cells (%.4f%%)\nrecords by type:\n", (unsigned long long)viol, (unsigned long long)checked,
         checked ? 100.0 * (double)viol / (double)checked : 0.0);
  for (unsigned i = 0; i < 256; i++)
    if (count[i]) printf("  %-18s %llu\n", braid_record_type_name(i) ? braid_record_type_name(i) : "(unknown type)", (unsigned long long)count[i]);
  if (unknown) printf("  %-18s %llu\n", "(unknown type)", (unsigned long long)unknown);
  return finish(t, rc);
}

int main(int argc, char **argv)
{
  cli_prog = "braid-dump";
  static const struct option opts[] = {
    { "json", 0, 0, 'j' }, { "chrome", 0, 0, 'c' }, { "stats", 0, 0, 's' }, { "partial", 0, 0, 'P' }, { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 },
  };
  int c, mode = 0, partial = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
    switch (c) {
    case 'j': case 'c': case 's':
      if (mode && mode != c) cli_die("--json, --chrome and --stats exclude each other");
      mode = c;
      break;
    case 'P': partial = 1; break;
    case 'h': usage(stdout); return 0;
    case 'V': cli_version();
    default: cli_bad_option(c, argv, opts);
    }
  }
  if (optind != argc - 1) cli_die(optind == argc ? "no trace given (see --help)" : "more than one trace given (see --help)");
  const char *path = argv[optind];
  cli_need_file(path);
  /* Validate first so a damaged trace leaves nothing half-written on stdout. */
  if (!partial) cli_need_whole_trace(path);
  braid_trace *t;
  char err[1024];
  if (braid_trace_open(&t, path, err, sizeof err)) cli_die("%s", err);
  const braid_trace_info *in = braid_trace_get_info(t);
  int rc = mode == 'j' ? dump_json(t, in) : mode == 'c' ? dump_chrome(t, in) : mode == 's' ? dump_stats(t, in, path) : dump_text(t, in);
  braid_trace_close(t);
  return rc;
}
