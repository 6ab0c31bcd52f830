#!/bin/sh
# Re-records the golden traces with the tools of a build tree:
#   traces/regenerate.sh BUILDDIR
# Run it only when a change of semantics or of the trace format is intended,
# and bump BRAID_SEMANTICS_VERSION (lib/runtime/trace_sink.c) or the format version
# (lib/format/layout.h) in the same commit.  See traces/README.md.
set -eu
b=$(cd "${1:?usage: traces/regenerate.sh BUILDDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rec="$b/tools/braid-record -q -d 8 -x 80 -i 200 --interval-min 50 --interval-max 1000 --seed 7"
$rec --model uniform -t 2 -o "$here/uniform.btr"
$rec --model skewed -n 4 -t 3 -o "$here/skewed.btr"
$rec --model bursty -t 2 -o "$here/bursty.btr"
$rec --model phold -n 5 -t 2 -o "$here/phold.btr"
$rec --model racy -n 2 --sequential -o "$here/racy-sequential.btr"
$rec --model uniform -t 3 --fail B@40 --fail C@41 -o "$here/failure.btr"
$rec --model phold -t 2 --inject A@10:7=500 --inject C@10:100=-300 --inject B@55:511=9999 -o "$here/injection.btr"
$rec --model uniform -t 2 --chaos 42 --checkpoint-every 40 -o "$here/chaos-checkpoints.btr"
# Expected output next to each trace (made from inside traces/ so the
# paths in it are the bare file names the tests use).
cd "$here"
for t in [!b]*.btr bursty.btr; do
  "$b/tools/braid-dump" --stats "$t" > "${t%.btr}.stats"
done
"$b/tools/braid-dump" uniform.btr > uniform.dump
# Broken fixtures, derived from uniform.btr.
g="$here/uniform.btr"
size=$(wc -c < "$g")
: > "$here/broken-empty.btr"
head -c $((size / 2)) "$g" > "$here/broken-truncated.btr"
cp "$g" "$here/broken-bitflip.btr"
# Flip one byte three quarters in: inside a data frame's compressed content.
printf '\377' | dd of="$here/broken-bitflip.btr" bs=1 seek=$((size * 3 / 4)) conv=notrunc 2>/dev/null
cp "$g" "$here/broken-magic.btr"
printf 'XX' | dd of="$here/broken-magic.btr" bs=1 seek=8 conv=notrunc 2>/dev/null
cp "$g" "$here/broken-version.btr"
printf '\143\000\000\000' | dd of="$here/broken-version.btr" bs=1 seek=16 conv=notrunc 2>/dev/null
# A valid but empty zstd frame spliced in before the first data frame: the
# reader must take it in its stride (no records, no error).
hdr=$(( $(od -An -tu4 -j4 -N4 "$g") + 8 ))
{ head -c $hdr "$g"; printf '' | zstd -q -c --content-size --check; tail -c +$((hdr + 1)) "$g"; } > "$here/broken-zero-frame.btr"
# A data frame that declares a 2 GiB window (made by tests/trace_child).
cp "$here/../tests/trace-fixtures/window-log-31.braid" "$here/broken-huge-window.btr"
echo "golden traces written to $here"
