#!/bin/sh
# check-mpi.sh - braid-record --mpi on this machine (DESIGN 14): ranks on
# the loopback only, each launch under a timeout.  Every run is diffed
# against the sequential run of the same settings and replayed; together
# the launches cover 1, 2 and 3 ranks, 2, 3, 5 and 7 tori (uneven blocks),
# every built-in model and the example plugin, --fail, --inject,
# checkpoints with replay --from, --duration, a write error, a SIGTERM to the launcher,
# a rank killed with -9, the racy model, more ranks than tori, and the chrome export's
# process per rank.  An MPI launch costs ~0.4 s, so the cases share
# launches.  Exit 77 (skipped, with the reason) without MPI.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
B=$abs_top_builddir/tools
say() { echo "check-mpi: $*"; }
skip() { say "SKIP: $*"; exit 77; }

if [ "${BRAID_HAVE_MPI:-no}" != yes ]; then
  # Without MPI the option still exists and says so.
  out=$("$B/braid-record" --mpi -x 1 2>&1)
  rc=$?
  case $out in *"built without MPI support"*) ;; *) say "FAIL: braid-record --mpi without MPI said: $out"; exit 1 ;; esac
  [ $rc = 2 ] || { say "FAIL: braid-record --mpi without MPI exited $rc, not 2"; exit 1; }
  skip "built without MPI (the configure summary's mpi line says why; apt-get install libopenmpi-dev openmpi-bin and configure again); checked that --mpi says so"
fi
MPIEXEC=${BRAID_MPIEXEC:-}
[ -n "$MPIEXEC" ] && [ -x "$MPIEXEC" ] || skip "built with MPI but configure found no launcher (mpiexec.openmpi, mpiexec.mpich, mpiexec)"
# ThreadSanitizer runs these too (OpenMPI 4.1 here trips nothing in it).
# LeakSanitizer does not: OpenMPI keeps what MPI_Init allocates until the
# process exits, by design, and its stacks (no frame pointers) unwind too
# badly for suppressions to match them; braid's own leaks are checked by
# the other suites, which run the same code paths in one process.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
export ASAN_OPTIONS
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
case ${BRAID_MPI_KIND:-openmpi} in
  mpich) LAUNCH="$MPIEXEC -hosts localhost" ;;
  *) LAUNCH="$MPIEXEC --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo --mca btl_tcp_if_include lo" ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/braid-mpi.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0 t0=$(date +%s)
ok() { passes=$((passes + 1)); say "ok ($(($(date +%s) - t0)) s): $*"; }
bad() { fails=$((fails + 1)); say "FAIL: $*"; }
# mpirun -n R braid-record --mpi ARGS, at most 120 s; output in $tmp/out.
mpi() {
  n=$1; shift
  timeout -k 5 120 $LAUNCH -n "$n" "$B/braid-record" --mpi "$@" >"$tmp/out" 2>&1
}
seq_run() { timeout -k 5 120 "$B/braid-record" --sequential -q "$@"; }
# The MPI trace equals the sequential one and replays; ARGS are the shared settings.
same() {
  name=$1 trace=$2; shift 2
  if ! seq_run "$@" -o "$tmp/seq.btr"; then bad "$name: the sequential run failed"; return; fi
  if timeout 120 "$B/braid-diff" -q "$trace" "$tmp/seq.btr"; then ok "$name: diff equal to --sequential"; else bad "$name: differs from --sequential (braid-diff $?)"; fi
  if timeout 120 "$B/braid-replay" -q ${PLUGIN_ARGS:-} "$trace"; then ok "$name: replays"; else bad "$name: replay exit $?"; fi
}

# 1. Two ranks, one torus each: --fail, --inject, checkpoints, the JSON
# report, the header's rank count.
common="-n 2 -d 16 -x 150 --fail B@30 --inject A@20:5=1000"
if mpi 2 $common --checkpoint-every 40 --json -o "$tmp/r2.btr"; then
  same "2 ranks x 1 torus, --fail, --inject" "$tmp/r2.btr" $common
  out=$(timeout 60 "$B/braid-replay" --from 100 "$tmp/r2.btr" 2>&1)
  case $out in *"from a checkpoint"*) ok "2 ranks: replay --from 100 starts at a checkpoint the ranks wrote" ;; *) bad "2 ranks: replay --from 100 said: $out" ;; esac
  timeout 60 "$B/braid-dump" "$tmp/r2.btr" | grep -q 'ranks=2' && ok "2 ranks: the header records ranks=2" || bad "2 ranks: no ranks=2 in the header"
  if [ -n "${JQ:-}" ]; then
    v=$("$JQ" -r '[.ranks, (.per_rank|length), .per_rank[1].first_torus, .per_torus[1].rank, (.per_rank[0].mpi_wait_seconds >= 0), (.per_rank[1].handover | has("p50_ns"))] | map(tostring) | join(" ")' "$tmp/out" 2>&1)
    [ "$v" = "2 2 1 1 true true" ] && ok "2 ranks: JSON report per rank and per torus" || bad "2 ranks: JSON report fields: $v"
  fi
else
  bad "2 ranks x 1 torus: launch failed: $(tail -n 5 "$tmp/out")"
fi

# 2. Uneven blocks: 3 ranks, 7 tori (2, 2, 3), two threads per rank, phold;
# its chrome export draws a process per rank.
if mpi 3 -n 7 -m phold -d 16 -x 120 -t 2 -q -o "$tmp/r3n7.btr"; then
  same "3 ranks x 7 tori (phold, -t 2)" "$tmp/r3n7.btr" -n 7 -m phold -d 16 -x 120
  p=$(timeout 60 "$B/braid-dump" --chrome "$tmp/r3n7.btr" | grep -c '"process_name","args":{"name":"rank [012] (tori ')
  [ "$p" = 3 ] && ok "3 ranks: braid-dump --chrome names a process per rank" || bad "3 ranks: $p rank processes in the chrome export"
else
  bad "3 ranks x 7 tori: launch failed: $(tail -n 5 "$tmp/out")"
fi

# 3.-5. The other built-in models on other shapes.
for spec in "3 5 bursty" "2 3 skewed" "3 3 uniform"; do
  set -- $spec
  if mpi "$1" -n "$2" -m "$3" -d 16 -x 120 -q -o "$tmp/m.btr"; then same "$1 ranks x $2 tori ($3)" "$tmp/m.btr" -n "$2" -m "$3" -d 16 -x 120
  else bad "$1 ranks x $2 tori ($3): launch failed: $(tail -n 5 "$tmp/out")"; fi
done

# 6. One rank, the example plugin.
plugin=$abs_top_builddir/tests/.libs/plugin_ripple.so
if [ -f "$plugin" ]; then
  if mpi 1 --model-plugin "$plugin" -p delay=6 -n 2 -d 16 -x 120 -q -o "$tmp/p.btr"; then
    PLUGIN_ARGS="--model-plugin $plugin"
    same "1 rank x 2 tori (plugin ripple)" "$tmp/p.btr" --model-plugin "$plugin" -p delay=6 -n 2 -d 16 -x 120
    PLUGIN_ARGS=""
  else bad "1 rank, plugin: launch failed: $(tail -n 5 "$tmp/out")"; fi
else
  bad "the example plugin $plugin was not built"
fi

# 7. The racy model is still caught: a rank reads a stale copy of its
# predecessor on another rank, a wrong result braid-diff and braid-replay see.
if mpi 2 -n 2 -m racy -d 16 -x 100 -q -o "$tmp/racy.btr"; then
  seq_run -n 2 -m racy -d 16 -x 100 -o "$tmp/racy-seq.btr"
  timeout 60 "$B/braid-diff" -q "$tmp/racy.btr" "$tmp/racy-seq.btr"; rc=$?
  [ $rc = 1 ] && ok "racy: braid-diff finds the MPI run differs from --sequential" || bad "racy: braid-diff exit $rc, not 1"
  timeout 60 "$B/braid-replay" -q "$tmp/racy.btr"; rc=$?
  [ $rc = 1 ] && ok "racy: braid-replay reports the divergence" || bad "racy: braid-replay exit $rc, not 1"
else
  bad "racy: launch failed: $(tail -n 5 "$tmp/out")"
fi

# 7b. --duration: rank 0's clock stops every rank at one agreed exchange;
# the trace is complete and replays.
if mpi 2 -n 3 -d 16 --duration 0.5 -q -o "$tmp/dur.btr"; then
  st=$(timeout 60 "$B/braid-dump" --stats "$tmp/dur.btr" 2>&1 | sed -n 's/^status *//p')
  n=$(timeout 60 "$B/braid-dump" --stats "$tmp/dur.btr" 2>&1 | sed -n 's/^exchanges *//p')
  [ "$st" = complete ] && [ "${n:-0}" -gt 0 ] && ok "--duration 0.5: the run ends complete after $n exchanges" || bad "--duration: status '$st', $n exchanges"
  timeout 60 "$B/braid-replay" -q "$tmp/dur.btr" && ok "--duration: the trace replays" || bad "--duration: replay exit $?"
else
  bad "--duration: launch failed: $(tail -n 5 "$tmp/out")"
fi

# 8. More ranks than tori: refused, exit 2, one clear line.
mpi 3 -n 2 -x 10 -q; rc=$?
if [ $rc = 2 ] && grep -q '^braid-record: --mpi: 3 ranks for 2 tori' "$tmp/out" && [ "$(grep -c 'ranks for' "$tmp/out")" = 1 ]; then
  ok "3 ranks for 2 tori: refused with exit 2 and one line"
else
  bad "3 ranks for 2 tori: exit $rc: $(head -n 3 "$tmp/out")"
fi

# 9. An error ends the run on every rank: rank 0 cannot write its trace,
# says so in one line and ends the job with exit 2.
if [ -w /dev/full ]; then
  mpi 2 -n 2 -d 16 -x 100000 -q -o /dev/full; rc=$?
  if [ $rc = 2 ] && [ "$(grep -c '^braid-record: /dev/full: No space left on device' "$tmp/out")" = 1 ]; then
    ok "a write error on rank 0 ends the job: exit 2, one line naming the file"
  else
    bad "write error on rank 0: exit $rc: $(head -n 3 "$tmp/out")"
  fi
fi

# OpenMPI's launcher forwards a SIGTERM to the ranks and kills them
# odls_base_sigkill_timeout seconds later (1 by default): on a loaded
# machine rank 0 may need longer to agree on the stop and finalise.
case ${BRAID_MPI_KIND:-openmpi} in
  mpich) LONG=$LAUNCH ;;
  *) LONG="$LAUNCH --mca odls_base_sigkill_timeout 20" ;;
esac
# Starts a long run in the background (pid in $job; launcher $2) and waits
# until its trace holds some exchanges.
start_long() {
  rm -f "$1"
  timeout -k 5 120 ${2:-$LAUNCH} -n 2 "$B/braid-record" --mpi -n 3 -d 16 --duration 100 -q -o "$1" >"$tmp/out" 2>&1 &
  job=$!
  for i in $(seq 600); do
    [ -f "$1" ] && [ "$(stat -c %s "$1")" -gt 30000 ] && return 0
    sleep 0.1
  done
  return 1
}

# 10. SIGTERM to the launcher: every rank stops at one agreed exchange and
# rank 0 finalises the trace (interrupted), which replays.
if start_long "$tmp/term.btr" "$LONG"; then
  launcher=$(pgrep -P "$job" | head -n 1)
  [ -n "$launcher" ] || launcher=$job
  kill -TERM "$launcher"
  wait "$job"
  st=$(timeout 60 "$B/braid-dump" --stats "$tmp/term.btr" 2>&1 | sed -n 's/^status *//p')
  [ "$st" = interrupted ] && ok "SIGTERM to mpirun: the trace is finalised (status interrupted)" || bad "SIGTERM to mpirun: status '$st'"
  timeout 60 "$B/braid-replay" -q "$tmp/term.btr" && ok "SIGTERM to mpirun: the trace replays" || bad "SIGTERM to mpirun: replay exit $?"
else
  kill "$job" 2>/dev/null; wait "$job"
  bad "SIGTERM: the run wrote no trace: $(tail -n 5 "$tmp/out")"
fi

# 11. kill -9 of rank 1 ends the job; rank 0's trace replays with --partial.
# (Rank 0 waits for the dead rank's answer to the stop until the launcher
# kills it: the default 1 s here.)
if start_long "$tmp/k9.btr"; then
  victim=""
  launcher=$(pgrep -P "$job" | head -n 1)
  for c in $(pgrep -P "${launcher:-$job}"); do
    tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$c
  done
  if [ -n "$victim" ]; then
    kill -9 "$victim"
    wait "$job"
    timeout 60 "$B/braid-replay" -q --partial "$tmp/k9.btr" && ok "kill -9 of rank 1: the trace replays with --partial" ||
      bad "kill -9 of rank 1: replay --partial exit $?"
  else
    kill "$job" 2>/dev/null; wait "$job"
    bad "kill -9: rank 1's process not found"
  fi
else
  kill "$job" 2>/dev/null; wait "$job"
  bad "kill -9: the run wrote no trace: $(tail -n 5 "$tmp/out")"
fi

say "$passes passed, $fails failed"
[ $fails = 0 ]
