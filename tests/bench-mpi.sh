#!/bin/sh
# bench-mpi.sh BUILDDIR MPIEXEC [openmpi|mpich] - the MPI goals of `make
# bench` (issue 14, DESIGN 11), measured in one run, alternating the runs
# compared (A B A B ...) and taking medians, as tests/bench.c does:
#   - 2 ranks x 1 torus against the threaded executor (2 tori, 2 threads),
#     --adapt off, at interval 10000 (goal >= 0.9x) and 1000 (>= 0.8x);
#   - the hand-over of an 8 KB projection (D=32) between 2 ranks, p50
#     (goal <= 5 us), from the report's per-rank hand-over latency;
#   - recording on / off under MPI (goal >= 0.95).
# Rates are the reports' events per second over the run's own wall time
# (rank 0's, from the start barrier on), so the launch is not counted.
set -u
build=${1:?usage: bench-mpi.sh BUILDDIR MPIEXEC [KIND]}
mpiexec=${2:-}
kind=${3:-openmpi}
B=$build/tools
REPS=${MPI_BENCH_REPS:-5}
if [ -z "$mpiexec" ]; then
  echo "== MPI: skipped (built without MPI, or no launcher found by configure) =="
  exit 0
fi
command -v jq >/dev/null 2>&1 || { echo "== MPI: skipped (needs jq to read the JSON reports) =="; exit 0; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
case $kind in
  mpich) launch="$mpiexec -hosts localhost" ;;
  *) launch="$mpiexec --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo --mca btl_tcp_if_include lo" ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/braid-bench-mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# field of a JSON report
field() { jq -r "$1" "$2" 2>/dev/null || echo 0; }

thr() { "$B/braid-record" -n 2 -t 2 --adapt off "$@" --json >"$tmp/r.json" 2>/dev/null && field .events_per_second "$tmp/r.json"; }
mpi() { $launch -n 2 "$B/braid-record" --mpi -n 2 -t 1 --adapt off "$@" --json >"$tmp/r.json" 2>/dev/null && field .events_per_second "$tmp/r.json"; }

echo "== MPI: 2 ranks x 1 torus vs threaded (2 tori, 2 threads), uniform, D=32, --adapt off (median of $REPS, alternating) =="
echo "   (the machine is shared: every figure here moves with the load on it; uptime: $(uptime | sed 's/.*load average/load average/'))"
for spec in "10000 2000 0.9" "1000 15000 0.8"; do
  set -- $spec
  : >"$tmp/t" ; : >"$tmp/m"
  for i in $(seq "$REPS"); do
    thr -i "$1" -x "$2" >>"$tmp/t"
    mpi -i "$1" -x "$2" >>"$tmp/m"
  done
  t=$(median <"$tmp/t"); m=$(median <"$tmp/m")
  awk -v t="$t" -v m="$m" -v i="$1" -v g="$3" 'BEGIN { r = t > 0 ? m / t : 0;
    printf "interval %-6s threaded %7.1fM ev/s  MPI %7.1fM ev/s  MPI / threaded %5.2fx  (goal >= %sx: %s)\n", i, t / 1e6, m / 1e6, r, g, (r >= g ? "met" : "MISSED") }'
done

echo "== MPI: hand-over of a projection between 2 ranks (D=32: 8 KB face), interval 1000, --adapt off =="
: >"$tmp/h50"; : >"$tmp/h99"; : >"$tmp/x50"
for i in $(seq "$REPS"); do
  if mpi -i 1000 -x 5000 >/dev/null; then
    field '.per_rank[0].handover.p50_ns' "$tmp/r.json" >>"$tmp/h50"
    field '.per_rank[0].handover.p99_ns' "$tmp/r.json" >>"$tmp/h99"
    field '.exchange_latency.p50_ns' "$tmp/r.json" >>"$tmp/x50"
  fi
done
awk -v h="$(median <"$tmp/h50")" -v h99="$(median <"$tmp/h99")" -v x="$(median <"$tmp/x50")" 'BEGIN {
  printf "hand-over p50 %.2f us, p99 %.2f us  (goal p50 <= 5 us: %s); exchange step p50 %.2f us (publish incl. MPI_Isend)\n", h / 1e3, h99 / 1e3, (h <= 5000 ? "met" : "MISSED"), x / 1e3 }'

echo "== MPI: recording on / off, 2 ranks x 1 torus, interval 1000, --adapt off (median of $REPS, alternating) =="
: >"$tmp/on"; : >"$tmp/off"
for i in $(seq "$REPS"); do
  mpi -i 1000 -x 15000 -o "$tmp/run.btr" >>"$tmp/on"
  mpi -i 1000 -x 15000 >>"$tmp/off"
done
awk -v on="$(median <"$tmp/on")" -v off="$(median <"$tmp/off")" 'BEGIN { r = off > 0 ? on / off : 0;
  printf "recording on / off (MPI)  %5.3f  (goal >= 0.95: %s)  [%.1fM vs %.1fM ev/s]\n\n", r, (r >= 0.95 ? "met" : "MISSED"), on / 1e6, off / 1e6 }'
