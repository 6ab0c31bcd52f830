# braid-dump --chrome: every projection flow is one "s" then one "f" with
# the same id, the "s" strictly earlier, and each of its ends lies inside
# exactly one X slice of its own track (bounds included), so that the slice
# it binds to is never in doubt.  Times in whole nanoseconds.  Prints
# "forwards, bound" or the count and the first offender.
def ns: . * 1000 | round;
(.traceEvents | map(select(.ph == "s" or .ph == "f")) | group_by(.id)
 | map(select(length != 2 or .[0].ph != "s" or .[1].ph != "f" or (.[0].ts | ns) >= (.[1].ts | ns)))) as $back
| ([.traceEvents[] | select(.ph == "X") | (.ts | ns) as $b
    | {t: "\(.pid)/\(.tid)", x: $b, o: 0}, {t: "\(.pid)/\(.tid)", x: ($b + (.dur | ns)), o: 2}]
   + [.traceEvents[] | select(.ph == "s" or .ph == "f") | {t: "\(.pid)/\(.tid)", x: (.ts | ns), o: 1, id, ph}]
   | group_by(.t)
   | map(sort_by(.x, .o)
         | reduce .[] as $e ({d: 0, bad: []};
             if $e.o == 0 then .d += 1 elif $e.o == 2 then .d -= 1 elif .d != 1 then .bad += [$e + {slices: .d}] else . end)
         | .bad[])) as $loose
| if ($back | length) > 0 then "\($back | length) flows do not go forwards, the first: \($back[0] | tojson)"
  elif ($loose | length) > 0 then "\($loose | length) flow ends not inside exactly one slice, the first: \($loose[0] | tojson)"
  else "forwards, bound" end
