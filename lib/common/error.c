/* error.c - error codes to text, generated from BRAID_ERRNO_MAP. */
#include <stdarg.h>
#include <stdio.h>
#include "common/common.h"

const char *braid_strerror(int err)
{
  switch (err) {
  case BRAID_OK: return "success";
#define XX(name, value, msg) case BRAID_##name: return msg;
  BRAID_ERRNO_MAP(XX)
#undef XX
  default: return "unknown error";
  }
}

const char *braid_errname(int err)
{
  switch (err) {
  case BRAID_OK: return "OK";
#define XX(name, value, msg) case BRAID_##name: return #name;
  BRAID_ERRNO_MAP(XX)
#undef XX
  default: return "EUNKNOWN";
  }
}

const char *braid_version(void) { return BRAID_VERSION_STRING; }

void braid__fmt(char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;
  if (!buf || len == 0) return;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}
