/* trace.h - the trace writer (internal; the reader is public in braid.h).
 *
 * File layout (documented in braid-trace(5)): a skippable header frame, then
 * independent zstd frames with content checksums holding the record stream
 * (record.h), each beginning at an exchange boundary; checkpoints in frames
 * of their own; at the end a skippable index frame and a skippable footer
 * frame.  `zstd -t` accepts the file and `zstd -dc` prints the record stream.
 * Writer and reader share only trace_format.h.
 */
#ifndef BRAID_TRACE_H
#define BRAID_TRACE_H

#include "common/common.h"

typedef struct braid__trace_header {
  const char *config_text;
  uint64_t config_hash;
  const char *lib_version;
  const char *build_id;
  const char *host;
  uint64_t start_unix_ns;
  const char *plugin; /* "" when the model is built in */
} braid__trace_header;

typedef struct braid__trace_footer {
  braid_trace_status status;
  uint64_t exchanges; /* complete exchanges written */
  uint64_t total_events;
  uint32_t tori;
  uint64_t final_state_hash[16];
} braid__trace_footer;

typedef struct braid__trace_writer braid__trace_writer;

/* Creates (truncates) the file and writes the header frame.  On error, a
 * one-line message naming the path and the reason goes to err. */
int braid__tw_open(braid__trace_writer **out, const char *path, const braid__trace_header *h, char *err, size_t errlen);
/* Appends the records of exchange k (the bytes begin with its EXCHANGE
 * record).  Exchanges are appended in increasing order.  A frame is closed
 * (compressed and written) when it holds enough data; see braid__tw_flush. */
int braid__tw_exchange(braid__trace_writer *w, uint64_t k, const uint8_t *recs, size_t len);
/* Writes a checkpoint blob for exchange k (state of every torus after
 * exchange k) as a CHECKPOINT record in a frame of its own, and indexes it. */
int braid__tw_checkpoint(braid__trace_writer *w, uint64_t k, const uint8_t *blob, size_t len);
/* Closes the current frame now (bounds what a kill -9 can lose). */
int braid__tw_flush(braid__trace_writer *w);
/* Flushes, writes index and footer, and closes the file. */
int braid__tw_finish(braid__trace_writer *w, const braid__trace_footer *f);
/* Frees the writer; the file is closed as it stands if not finished. */
void braid__tw_close(braid__trace_writer *w);
const char *braid__tw_error(const braid__trace_writer *w);
/* Bytes written to the file so far. */
uint64_t braid__tw_bytes(const braid__trace_writer *w);
/* Exchanges appended so far (a trace need not start at exchange 0). */
uint64_t braid__tw_exchanges(const braid__trace_writer *w);

#endif
