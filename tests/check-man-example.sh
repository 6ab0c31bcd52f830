#!/bin/sh
# check-man-example.sh - the EXAMPLES program of libbraid(3) is complete and
# works: extracts it from the page source (the lines from "---- begin
# libbraid-example.c ----" to "---- end libbraid-example.c ----"), undoes the
# roff escapes, builds it against this build tree's libbraid and runs it.
# Also lints the page with mandoc when configure found it.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
CC=${CC:-cc}
LIBTOOL=${LIBTOOL:-$abs_top_builddir/libtool}
page=$abs_top_srcdir/man/libbraid.3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/braid-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
die() { echo "check-man-example: FAIL: $*" >&2; exit 1; }

if [ -n "${MANDOC:-}" ]; then
  # Warnings and errors fail; STYLE notes (e.g. braid-trace(5) not being in
  # the system's manual database) depend on the machine and do not.
  $MANDOC -Tlint -Wwarning "$page" || die "mandoc -Tlint -Wwarning reports problems in man/libbraid.3"
else
  echo "check-man-example: mandoc not found by configure: page not linted (the example is still checked)"
fi

sed -n '/^\/\* ---- begin libbraid-example\.c ---- \*\/$/,/^\/\* ---- end libbraid-example\.c ---- \*\/$/p' "$page" |
  sed -e 's/^\\&//' -e 's/\\e/\\/g' >"$tmp/example.c"
lines=$(wc -l <"$tmp/example.c")
[ "$lines" -gt 20 ] || die "no example between the begin/end lines of man/libbraid.3 (found $lines lines)"
tail -n 1 "$tmp/example.c" | grep -q -- '---- end libbraid-example.c ----' || die "the example's end line is missing"
grep -n '\\[^n"\\]' "$tmp/example.c" && die "roff escapes left in the extracted example"

# Strict C11 against the public header only; linked through libtool so that
# it runs on this build's library, shared or static.
$LIBTOOL --mode=link --tag=CC $CC -std=c11 -pedantic -Wall -Wextra -Werror ${SANITIZER_CFLAGS:-} -I"$abs_top_srcdir/lib" \
  -o "$tmp/example" "$tmp/example.c" "$abs_top_builddir/libbraid.la" >"$tmp/cc.log" 2>&1 ||
  { cat "$tmp/cc.log" >&2; die "the example does not compile"; }
"$tmp/example" "$tmp/walk.braid" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; die "the example failed"; }
cat "$tmp/out"
grep -q '^replayed 50 exchanges: threaded == sequential$' "$tmp/out" || die "unexpected output"
[ -s "$tmp/walk.braid" ] || die "the example wrote no trace"
# The tools agree: the trace names the in-program model, which they lack.
"$abs_top_builddir/tools/braid-replay" "$tmp/walk.braid" >/dev/null 2>"$tmp/err"
[ $? = 2 ] && grep -q "walk 1 -" "$tmp/err" || { cat "$tmp/err" >&2; die "braid-replay did not refuse a trace of a model it lacks"; }
echo "check-man-example: the libbraid(3) example ($lines lines) builds, records and replays"
exit 0
