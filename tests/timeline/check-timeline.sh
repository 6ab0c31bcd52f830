#!/bin/sh
# check-timeline.sh - make check-timeline: braid's timeline and report in
# real viewers.  Records a threaded run and a chaos run with checkpoints,
# loads each one's Chrome export into speedscope in headless Chromium and
# checks what speedscope built (one flat profile per track); then opens
# braid-dump --html of the README's main job (with its replay's verdict), of
# a --fail run and of a 100,000-exchange run in Chromium and checks that
# every chart is drawn, nothing is logged or fetched, the screenshot is not
# blank, and the long run's page is under 5 MB.
#
# Needs Debian's chromium, Node.js and the packages of package.json
# (PUPPETEER_SKIP_DOWNLOAD=1 npm ci in this folder; puppeteer-core drives
# the system's Chromium and downloads no browser).  Without them it says
# what is missing and skips, unless BRAID_TIMELINE_REQUIRED=1 (CI), which
# turns a skip into a failure.  Screenshots, speedscope's exports and the
# pages land in tests/timeline-out of the build tree; the last line and
# tests/timeline-out/result give the counts.
set -u
b=${abs_top_builddir:?run it through make check-timeline}
s=${abs_top_srcdir:?run it through make check-timeline}
here=$s/tests/timeline
out=$b/tests/timeline-out

skip() {
  echo "check-timeline: SKIP: $*"
  [ "${BRAID_TIMELINE_REQUIRED:-0}" = 1 ] && { echo "check-timeline: BRAID_TIMELINE_REQUIRED=1: a skip is a failure"; exit 1; }
  exit 0
}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] && [ -x "$chromium" ] || skip "no Chromium found (apt-get install chromium, or set CHROMIUM)"
node=${NODE:-$(command -v node || true)}
[ -n "$node" ] || skip "no Node.js found (apt-get install nodejs npm)"
for m in speedscope puppeteer-core; do
  [ -d "$here/node_modules/$m" ] || skip "no $m in $here/node_modules (cd $here && PUPPETEER_SKIP_DOWNLOAD=1 npm ci)"
done
viewer=$here/node_modules/speedscope/dist/release
[ -f "$viewer/index.html" ] || skip "speedscope has no dist/release/index.html in $viewer"

rm -rf "$out" && mkdir -p "$out" || exit 1
passed=0
failed=0
check() { # name command...: one check, counted
  name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "check-timeline: FAIL: $name"; fi
}
rec() { "$b/tools/braid-record" -q "$@"; }
dump() { "$b/tools/braid-dump" "$@"; }

# The timeline: 3 tori on 2 worker threads is 5 tracks (2 workers, 3 tori).
rec -x 300 -d 16 -n 3 -t 2 -o "$out/threaded.btr" && dump --chrome "$out/threaded.btr" > "$out/threaded.json" || exit 1
rec -x 300 -d 16 -n 3 -t 2 --chaos 3 --checkpoint-every 50 -o "$out/chaos.btr" && dump --chrome "$out/chaos.btr" > "$out/chaos.json" || exit 1
check "speedscope, threaded run" "$node" "$here/speedscope.mjs" "$chromium" "$viewer" "$out/threaded.json" "$out" 5
check "speedscope, chaos run with checkpoints" "$node" "$here/speedscope.mjs" "$chromium" "$viewer" "$out/chaos.json" "$out" 5

# The report: the README's main job with its verdict, a --fail run, a long run.
rec --model phold --tori 3 --threads 2 -x 2000 -o "$out/main.btr" && dump --html --replay "$out/main.btr" > "$out/main.html" || exit 1
rec -x 2000 -t 2 --fail B@700 -o "$out/fail.btr" && dump --html "$out/fail.btr" > "$out/fail.html" || exit 1
rec -x 100000 -d 8 -i 100 --interval-min 50 --interval-max 200 -t 2 -o "$out/long.btr" || exit 1
dump --html "$out/long.btr" > "$out/long.html" || exit 1
check "report of the README's main job" "$node" "$here/report.mjs" "$chromium" "$out/main.html" "$out"
check "report has the replay's verdict" grep -q "OK: 2000 exchanges, parallel == sequential" "$out/main.html"
check "report of a --fail run" "$node" "$here/report.mjs" "$chromium" "$out/fail.html" "$out" --want-failure
check "report of a 100,000-exchange run" "$node" "$here/report.mjs" "$chromium" "$out/long.html" "$out"
size=$(wc -c < "$out/long.html")
echo "long: the 100,000-exchange report is $size bytes (the limit: 5 MB)"
check "100,000-exchange report under 5 MB" test "$size" -lt 5000000
rm -f "$out"/*.btr

echo "$passed $failed" > "$out/result"
echo "check-timeline: $passed passed, $failed failed (screenshots in $out)"
[ "$failed" = 0 ]
