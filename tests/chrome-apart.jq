# braid-dump --chrome: no two X slices of one track (pid, tid) touch.  Sorted
# by start, each slice must begin strictly after the one before it ends, in
# whole nanoseconds, so that a viewer that computes ts + dur in floating
# point cannot see the next slice open inside it (speedscope then stacks
# them).  Prints "apart", or the count and the first pair that touch.
[.traceEvents[] | select(.ph == "X")
 | {t: "\(.pid)/\(.tid)", b: (.ts * 1000 | round), e: ((.ts * 1000 | round) + (.dur * 1000 | round)), n: .name}]
| group_by(.t)
| map(sort_by(.b) | . as $s | [range(1; length) | select($s[.].b <= $s[. - 1].e) | [$s[. - 1], $s[.]]] | .[])
| if length == 0 then "apart" else "\(length) touch, the first: \(.[0] | tojson)" end
