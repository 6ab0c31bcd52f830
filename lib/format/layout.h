/* trace_format.h - the on-disk layout of a trace, shared by writer and reader.
 *
 * The file is a sequence of zstd frames (documented in braid-trace(5)):
 *
 *   header   skippable frame BRAID_TF_HEADER_MAGIC:
 *            "BRAIDTRC" | u32 version | fields | u64 xxh3 of what precedes
 *            Each header field is  varint tag | varint length | bytes.
 *   data     zstd frames with content checksum holding the record stream;
 *            each begins with the EXCHANGE record of its first exchange.
 *   ckpt     a zstd frame holding one CHECKPOINT record whose payload is
 *            varint exchange | blob.
 *   index    skippable frame BRAID_TF_INDEX_MAGIC (only in finished traces):
 *            u32 ndata | u32 nckpt | (u64 exchange, u64 offset) * (ndata+nckpt)
 *            | u64 xxh3 of what precedes
 *   footer   skippable frame BRAID_TF_FOOTER_MAGIC, last in the file; its
 *            payload ends with the trailer  u32 payload size | "BRFT"
 *            so a reader finds it from the end of the file.
 *
 * All fixed-width integers are little-endian.
 */
#ifndef BRAID_TRACE_FORMAT_H
#define BRAID_TRACE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define BRAID_TF_VERSION 1u

/* zstd frame magics (the skippable range is 0x184D2A50..0x184D2A5F). */
#define BRAID_TF_ZSTD_MAGIC 0xFD2FB528u
#define BRAID_TF_SKIP_MASK 0xFFFFFFF0u
#define BRAID_TF_SKIP_BASE 0x184D2A50u
#define BRAID_TF_HEADER_MAGIC 0x184D2A5Bu
#define BRAID_TF_INDEX_MAGIC 0x184D2A5Cu
#define BRAID_TF_FOOTER_MAGIC 0x184D2A5Du
#define BRAID_TF_SKIP_HDR 8 /* u32 magic | u32 payload size */

#define BRAID_TF_HEADER_TAG "BRAIDTRC"
#define BRAID_TF_TRAILER_TAG "BRFT"

/* Header field tags; strings are UTF-8 without a terminator, numbers u64 LE. */
enum {
  BRAID_TF_H_CONFIG_TEXT = 1,
  BRAID_TF_H_CONFIG_HASH = 2,
  BRAID_TF_H_LIB_VERSION = 3,
  BRAID_TF_H_BUILD_ID = 4,
  BRAID_TF_H_HOST = 5,
  BRAID_TF_H_START_NS = 6,
  BRAID_TF_H_PLUGIN = 7,
};

/* Footer payload, version 1 (newer writers may insert fields before the
 * checksum; readers locate checksum and trailer from the payload size). */
enum {
  BRAID_TF_F_STATUS = 0,       /* u32 */
  BRAID_TF_F_TORI = 4,         /* u32 */
  BRAID_TF_F_EXCHANGES = 8,    /* u64 */
  BRAID_TF_F_EVENTS = 16,      /* u64 */
  BRAID_TF_F_CHECKPOINTS = 24, /* u64 */
  BRAID_TF_F_HASHES = 32,      /* u64[16] */
  BRAID_TF_F_INDEX_OFF = 160,  /* u64 */
  BRAID_TF_F_V1_SIZE = 184,    /* ... u64 xxh3 | u32 size | "BRFT" */
};
#define BRAID_TF_MAX_TORI 16

/* Frame policy and limits.  The writer closes a frame once its content
 * reaches the target; the reader refuses what exceeds the limits, so that a
 * hostile file cannot make it allocate without bound. */
#define BRAID_TF_FRAME_TARGET (128u * 1024)
#define BRAID_TF_LEVEL 3
#define BRAID_TF_WINDOW_LOG 22          /* writer's largest window */
#define BRAID_TF_WINDOW_LOG_MAX 24      /* reader refuses larger windows */
#define BRAID_TF_MAX_CONTENT (256u << 20) /* decompressed bytes per frame */
#define BRAID_TF_MAX_HEADER (4u << 20)  /* header payload bytes */
#define BRAID_TF_MAX_INDEX (64u << 20)  /* index payload bytes */
#define BRAID_TF_MAX_FOOTER (64u << 10) /* footer payload bytes */

static inline void braid__le32_put(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void braid__le64_put(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t braid__le32_get(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t braid__le64_get(const uint8_t *p)
{
  return (uint64_t)braid__le32_get(p) | (uint64_t)braid__le32_get(p + 4) << 32;
}

#endif
