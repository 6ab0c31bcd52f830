/* fuzz_reader.c - libFuzzer harness: the trace reader on arbitrary bytes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "braid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touching every byte lets ASan see a blob that points outside its buffer. */
static unsigned sink(const uint8_t *p, size_t n)
{
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/braid-fuzz-%d.braid", (int)getpid());
  /* The reader works on files (pread), so the input goes through one. */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  if (size && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  close(fd);
  braid_trace *t;
  char err[256];
  volatile unsigned s = 0;
  if (braid_trace_open(&t, path, err, sizeof err) != 0) return 0;
  const braid_trace_info *info = braid_trace_get_info(t);
  s += (unsigned)info->config_text[0] + (unsigned)info->plugin[0];
  braid_record r;
  while (braid_trace_next(t, &r) == 0) s += r.bloblen ? sink(r.blob, r.bloblen) : (unsigned)r.field[0];
  uint64_t at;
  const uint8_t *blob;
  size_t len;
  if (braid_trace_checkpoint(t, UINT64_MAX, &at, &blob, &len) == 0) s += sink(blob, len);
  if (braid_trace_seek(t, 3) == 0 && braid_trace_next(t, &r) == 0) s += r.type;
  if (braid_trace_checkpoint(t, 4, &at, &blob, &len) == 0) s += sink(blob, len);
  if (braid_trace_seek(t, 1) == 0)
    while (braid_trace_next(t, &r) == 0) s += r.type;
  s += (unsigned)braid_trace_error(t)[0];
  braid_trace_close(t);
  return 0;
}
