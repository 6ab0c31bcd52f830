/* common.h - internal helpers shared by every libbraid source file. */
#ifndef BRAID_COMMON_H
#define BRAID_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include "braid.h"

#define BRAID_CACHELINE 64
#define BRAID_ALIGNED __attribute__((aligned(BRAID_CACHELINE)))
#define BRAID_LIKELY(x) __builtin_expect(!!(x), 1)
#define BRAID_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Early-return helpers: keep error paths one line each. */
#define BRAID_RETURN_IF(cond, err) do { if (BRAID_UNLIKELY(cond)) return (err); } while (0)
#define BRAID_FORWARD(expr) do { int braid__rc = (expr); if (BRAID_UNLIKELY(braid__rc < 0)) return braid__rc; } while (0)

static inline uint64_t braid__mix64(uint64_t z)
{
  /* splitmix64 finaliser: the counter-based RNG and cheap hashing. */
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline uint64_t braid__rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
/* The index of the lowest set bit of *m, a bitmap's word w, which it
 * clears: `while (m) use(braid__take_bit(w, &m));` walks the word. */
static inline uint32_t braid__take_bit(uint32_t w, uint64_t *m)
{
  uint32_t j = w * 64 + (uint32_t)__builtin_ctzll(*m);
  *m &= *m - 1;
  return j;
}

/* A spin-wait hint to the CPU (x86 pause, Arm yield; a compiler barrier
 * elsewhere). */
static inline void braid__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ volatile("yield" ::: "memory");
#else
  __asm__ volatile("" ::: "memory");
#endif
}

static inline uint64_t braid__now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t braid__wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Formats into buf (never overflows, always terminated). */
void braid__fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
