#!/bin/sh
# check-install.sh - stages `make install DESTDIR=...` of this build, builds
# tests/install_client.c against the staged copy with nothing but
# `pkg-config --cflags --libs braid` and runs it on the staged library (and
# links it statically with `pkg-config --static`), builds
# the example model plugin the same way and records, replays and diffs it
# with the installed tools, checks what was installed, then checks that
# `make uninstall DESTDIR=...` removes every file again.  Works inside make
# distcheck too: it installs into its own temporary DESTDIR under the
# configured prefix, whatever that prefix is, and reads nothing but the
# (read-only) source tree.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}" "${libdir:?}" "${includedir:?}" "${bindir:?}" "${prefix:?}"
MAKE=${MAKE:-make}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/braid-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
say() { echo "check-install: $*"; }
die() { echo "check-install: FAIL: $*" >&2; exit 1; }

# A fresh make, not part of the make check that runs us: no inherited flags
# (jobserver, -k, command-line variables of the outer make).
fresh_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES $MAKE -C "$abs_top_builddir" "$@"; }

fresh_make install DESTDIR="$root" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; die "make install DESTDIR=$root failed"; }

for f in "$includedir/braid.h" "$libdir/pkgconfig/braid.pc" "$bindir/braid-record" "$bindir/braid-replay" "$bindir/braid-diff" \
         "$bindir/braid-dump" "$bindir/braid-shrink" "$prefix/share/man/man1/braid-shrink.1" "$prefix/share/man/man3/libbraid.3" \
         "$prefix/share/man/man5/braid-trace.5"; do
  [ -f "$root$f" ] || die "not installed: $f"
done
ls "$root$libdir"/libbraid.so.* >/dev/null 2>&1 || die "no shared libbraid.so.N in $libdir"

export PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
unset PKG_CONFIG_LIBDIR 2>/dev/null || :
flags=$($PKG_CONFIG --cflags --libs braid) || die "pkg-config --cflags --libs braid failed on the staged braid.pc"
say "pkg-config: $flags"
case $flags in *"-I$root"*) ;; *) die "cflags do not point into the staged tree: $flags" ;; esac
# A client sees only the installed header: strict C11, no warnings.
$CC -std=c11 -pedantic -Wall -Wextra -Werror ${SANITIZER_CFLAGS:-} -o "$tmp/client" "$abs_top_srcdir/tests/install_client.c" $flags 2>"$tmp/cc.log" ||
  { cat "$tmp/cc.log" >&2; die "the client does not build against the staged install"; }
# It must run on the staged library, not on one from the build tree or the system.
LD_LIBRARY_PATH="$root$libdir" LD_TRACE_LOADED_OBJECTS=1 "$tmp/client" | grep -q "$root$libdir/libbraid.so" ||
  die "the client does not load libbraid from $root$libdir"
LD_LIBRARY_PATH="$root$libdir" "$tmp/client" "$tmp/run.braid" || die "the client failed"
# A static link takes every library libbraid needs from
# `pkg-config --static` (libm for the models' pow and log, libdl, pthreads,
# zstd's and xxhash's own).  Sanitizer runtimes do not link statically, and a
# build configured with --disable-static installs no libbraid.a.
if [ -n "${SANITIZER_CFLAGS:-}" ]; then
  say "static link not checked: a sanitizer build"
elif [ ! -f "$root$libdir/libbraid.a" ]; then
  say "static link not checked: no libbraid.a installed (configured with --disable-static)"
else
  sflags=$($PKG_CONFIG --static --cflags --libs braid) || die "pkg-config --static --cflags --libs braid failed"
  $CC -std=c11 -static -o "$tmp/client-static" "$abs_top_srcdir/tests/install_client.c" $sflags >"$tmp/static.log" 2>&1 ||
    { cat "$tmp/static.log" >&2; die "the client does not link statically with pkg-config --static: $sflags"; }
  "$tmp/client-static" "$tmp/static.braid" || die "the statically linked client failed"
  say "static: $sflags"
fi
# A program with the rpath libbraid(3) shows runs without LD_LIBRARY_PATH,
# on the installed library.
line=$(sed -n 's/^\.Dl \(cc -o example .*-Wl,-rpath.*\)$/\1/p' "$abs_top_srcdir/man/libbraid.3")
[ -n "$line" ] || die "libbraid(3) gives no rpath build line (.Dl cc -o example ... -Wl,-rpath,...)"
cmd=$(printf '%s\n' "$line" | sed -e 's/^cc /"$CC" ${SANITIZER_CFLAGS:-} /' -e 's/-o example libbraid-example\.c /-o "$tmp\/client-rpath" "$abs_top_srcdir\/tests\/install_client.c" /' \
  -e 's/pkg-config /$PKG_CONFIG /g')
eval "$cmd" 2>"$tmp/rpath.log" || { cat "$tmp/rpath.log" >&2; die "libbraid(3)'s rpath line fails: $line"; }
(unset LD_LIBRARY_PATH; LD_TRACE_LOADED_OBJECTS=1 "$tmp/client-rpath") | grep -q "$root$libdir/libbraid.so" ||
  die "with libbraid(3)'s rpath line the client does not find libbraid in $root$libdir by itself"
(unset LD_LIBRARY_PATH; "$tmp/client-rpath" "$tmp/rpath.braid") || die "the client built with the rpath failed"
# braid-trace(5)'s FILES name what an installation has.
for f in $(sed -n '/^\.Sh FILES/,/^\.Sh /s/^\.It Pa //p' "$abs_top_srcdir/man/braid-trace.5"); do
  [ -n "$(find "$root" -name "$(basename "$f")")" ] || die "braid-trace(5) FILES names $f, which is not installed"
done
# The installed tools run on the installed library too.
LD_LIBRARY_PATH="$root$libdir" "$root$bindir/braid-replay" -q "$tmp/run.braid" || die "installed braid-replay rejects the client's trace"

# A user's model: the example plugin built from nothing but the installed
# header and pkg-config, recorded threaded and sequentially by the installed
# tools, replayed, and the two runs diffed equal.
# The command is the one libbraid(3) gives, on the example plugin.
man3=$abs_top_srcdir/man/libbraid.3
line=$(sed -n 's/^\.Dl \(cc -shared -fPIC .*\)$/\1/p' "$man3")
[ -n "$line" ] || die "libbraid(3) gives no plugin build line (.Dl cc -shared -fPIC ...)"
# cc, the source and the object as this check has them; strict C11 on top.
cmd=$(printf '%s\n' "$line" | sed -e 's/^cc /"$CC" -std=c11 -pedantic -Wall -Wextra -Werror ${SANITIZER_CFLAGS:-} /' \
  -e 's/ mymodel\.c / "$abs_top_srcdir\/tests\/plugin_example.c" /' -e 's/-o mymodel\.so /-o "$tmp\/ripple.so" /' -e 's/pkg-config /$PKG_CONFIG /g')
eval "$cmd" 2>"$tmp/plugin.log" || { cat "$tmp/plugin.log" >&2; die "libbraid(3)'s plugin build line fails on the example plugin: $line"; }
[ -f "$tmp/ripple.so" ] || die "libbraid(3)'s plugin build line made no plugin: $line"
tool() { t=$1; shift; LD_LIBRARY_PATH="$root$libdir" "$root$bindir/$t" "$@"; }
tool braid-record --model-plugin "$tmp/ripple.so" -p delay=6 -n 3 -t 2 -d 16 -x 300 -q -o "$tmp/ripple-thr.braid" ||
  die "installed braid-record cannot record the plugin threaded"
tool braid-record --model-plugin "$tmp/ripple.so" -p delay=6 -n 3 -d 16 -x 300 --sequential -q -o "$tmp/ripple-seq.braid" ||
  die "installed braid-record cannot record the plugin sequentially"
tool braid-replay --model-plugin "$tmp/ripple.so" -q "$tmp/ripple-thr.braid" || die "the plugin's threaded trace does not replay (exit $?)"
tool braid-diff -q "$tmp/ripple-thr.braid" "$tmp/ripple-seq.braid" || die "the plugin's threaded and sequential runs differ (exit $?)"

fresh_make uninstall DESTDIR="$root" >"$tmp/uninstall.log" 2>&1 || { cat "$tmp/uninstall.log" >&2; die "make uninstall DESTDIR=$root failed"; }
left=$(find "$root" ! -type d)
[ -z "$left" ] || die "make uninstall left files behind: $left"
say "prefix $prefix: installed; a client and a model plugin built with pkg-config; recorded, replayed and diffed; uninstalled cleanly"
exit 0
