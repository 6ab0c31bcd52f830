#!/bin/sh
# make soak: a long threaded recording (SOAK_SECONDS, default 600) with its
# memory sampled along the way, then a full replay of the trace.  Prints the
# RSS growth after warm-up and the replay verdict.  Not part of make check.
set -eu
b=${1:?usage: soak.sh BUILDDIR [SECONDS]}
secs=${2:-600}
trace=${TMPDIR:-/tmp}/braid-soak.$$.btr
"$b/tools/braid-record" --model uniform --threads 2 --duration "$secs" -o "$trace" -q &
pid=$!
sleep 2
rss() { awk '/VmRSS/ {print $2}' /proc/$1/status 2>/dev/null || echo 0; }
warm=0; last=0; t=0
while kill -0 $pid 2>/dev/null; do
  sleep 5; t=$((t + 5))
  r=$(rss $pid)
  [ "$r" != 0 ] || continue
  [ $t -ge $((secs / 10)) ] && [ $warm = 0 ] && warm=$r
  last=$r
done
wait $pid
echo "soak: $secs s threaded, RSS after warm-up ${warm} KiB, at the end ${last} KiB"
if [ "$warm" -gt 0 ]; then
  awk -v a=$warm -v b=$last 'BEGIN { g = (b - a) * 100 / a; printf "soak: RSS growth %.2f%% (goal < 1%%: %s)\n", g, g < 1 ? "met" : "MISSED" }'
fi
"$b/tools/braid-dump" --stats "$trace" | sed -n '2,7p'
start=$(date +%s)
"$b/tools/braid-replay" "$trace"
echo "soak: replay took $(( $(date +%s) - start )) s"
rm -f "$trace"
