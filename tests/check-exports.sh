#!/bin/sh
# check-exports.sh - the shared libbraid exports exactly the public API: every
# function braid.h declares with BRAID_API, nothing else but the linker's own
# entries, and it carries the soname that -version-info gives.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
NM=${NM:-nm}
lib=$abs_top_builddir/.libs/libbraid.so
fail=0
[ -f "$lib" ] || { echo "check-exports: $lib not built (a --disable-shared build?)" >&2; exit 99; }

exported=$($NM -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sort -u)
[ -n "$exported" ] || { echo "check-exports: $NM found no symbols in $lib" >&2; exit 99; }

# Anything that is not braid_* (or is an internal braid__*), apart from the
# entries the toolchain adds to every object.
extra=$(printf '%s\n' "$exported" | grep -v '^braid_[a-z]' | grep -Ev '^(_init|_fini|_edata|_end|__bss_start)$')
if [ -n "$extra" ]; then
  echo "check-exports: exported but not public API:" >&2
  printf '  %s\n' $extra >&2
  fail=1
fi

# Every BRAID_API function of the header is exported.
declared=$(sed -n 's/^BRAID_API[^(]*[ *]\(braid_[a-z0-9_]*\)(.*/\1/p' "$abs_top_srcdir/lib/braid.h" | sort -u)
[ -n "$declared" ] || { echo "check-exports: no BRAID_API declarations found in braid.h" >&2; exit 99; }
missing=$(printf '%s\n' "$declared" | while read -r f; do printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "check-exports: declared in braid.h but not exported:" >&2
  printf '  %s\n' $missing >&2
  fail=1
fi
undeclared=$(printf '%s\n' "$exported" | grep '^braid_' | while read -r f; do printf '%s\n' "$declared" | grep -qx "$f" || echo "$f"; done)
if [ -n "$undeclared" ]; then
  echo "check-exports: exported but not declared with BRAID_API in braid.h:" >&2
  printf '  %s\n' $undeclared >&2
  fail=1
fi

# The soname comes from -version-info (current - age).
soname=$(LC_ALL=C readelf -d "$lib" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
case $soname in
  libbraid.so.[0-9]*) ;;
  *) echo "check-exports: soname is '$soname', want libbraid.so.N" >&2; fail=1 ;;
esac

n=$(printf '%s\n' "$declared" | wc -l)
[ $fail = 0 ] && echo "check-exports: $n public functions exported, nothing else; soname $soname"
exit $fail
