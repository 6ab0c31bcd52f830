# braid-gdb.py - gdb commands that print a torus of a stopped braid-replay.
#
# braid-replay --break calls braid_debug_break(rt, torus) before the window
# (or exchange) it reports, after setting the globals braid__debug_runtime
# and braid__debug_torus that these commands read, so they work at any
# optimisation level.  Load the file in gdb with `source braid-gdb.py`
# (braid-replay(1) shows where it is installed):
#
#   braid-torus             the torus: id, lattice, events, time, digests
#   braid-cell CELL         a cell: (x,y,z), state, activity, its out-edges
#   braid-pending [N]       the first N (default 20) pending events, in the
#                           order they will be processed
#
# They need the library's debug information (the default build has it).
import gdb

SRC_NAMES = {0xffffffff: "external", 0xfffffffe: "correction", 0xfffffffd: "timer"}


def _torus():
    t = gdb.parse_and_eval("braid__debug_torus")
    if int(t) == 0:
        raise gdb.GdbError("no torus: stop in braid_debug_break() (braid-replay --break) first")
    return t.dereference()


def _src(v):
    v = int(v) & 0xffffffff
    return SRC_NAMES.get(v, str(v))


def _xyz(t, cell):
    s = int(t["shift"])
    m = int(t["dim"]) - 1
    return (cell >> (2 * s), (cell >> s) & m, cell & m)


class BraidTorus(gdb.Command):
    """Print the torus braid-replay --break stopped at."""

    def __init__(self):
        super().__init__("braid-torus", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        t = _torus()
        q = t["q"]
        print("torus %d: D=%d (%d cells), events %d, time %d, pending %d" % (
            int(t["id"]), int(t["dim"]), int(t["ncells"]), int(t["events"]), int(q["now"]), int(q["size"])))
        print("  digest %016x  pending digest %016x  cell digest %016x" % (
            int(t["digest"]) & (2**64 - 1), int(q["pdigest"]) & (2**64 - 1), int(t["cdigest"]) & (2**64 - 1)))


class BraidCell(gdb.Command):
    """braid-cell CELL: a cell's coordinates, state, activity and out-edges."""

    def __init__(self):
        super().__init__("braid-cell", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        t = _torus()
        try:
            cell = int(gdb.parse_and_eval(arg))
        except gdb.error:
            raise gdb.GdbError("usage: braid-cell CELL")
        n = int(t["ncells"])
        if cell < 0 or cell >= n:
            raise gdb.GdbError("cell %d: the torus has cells 0..%d" % (cell, n - 1))
        x, y, z = _xyz(t, cell)
        print("cell %d (%d,%d,%d): state %d, activity %d" % (cell, x, y, z, int(t["state"][cell]), int(t["activity"][cell])))
        deg = int(t["degree"])
        for k in range(deg):
            i = cell * deg + k
            tgt = int(t["edge_target"][i])
            print("  edge %d -> cell %d (%d,%d,%d), delay %d" % ((k, tgt) + _xyz(t, tgt) + (int(t["edge_delay"][i]),)))
        if deg == 0:
            print("  no edges")


class BraidPending(gdb.Command):
    """braid-pending [N]: the first N pending events in processing order."""

    def __init__(self):
        super().__init__("braid-pending", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        t = _torus()
        limit = int(gdb.parse_and_eval(arg)) if arg.strip() else 20
        q = t["q"]
        mask = int(q["mask"])
        now = int(q["now"])
        total = int(q["size"])
        print("%d pending events, the first %d:" % (total, min(limit, total)))
        shown = 0
        # A bucket is a chain of chunks (kernel/queue.h): its events start
        # at hpos in the head chunk and go on through the next ones.
        for d in range(mask + 1):
            b = q["b"][(now + d) & mask]
            c = b["head"]
            i = int(b["hpos"])
            for _ in range(int(b["count"])):
                if shown >= limit:
                    return
                per_chunk = c.dereference()["ev"].type.range()[1] + 1
                if i == per_chunk:
                    c = c["next"]
                    i = 0
                e = c["ev"][i]
                i += 1
                dst = int(e["dst"])
                print("  t=%d cell %d (%d,%d,%d) src %s payload %d" % ((now + d, dst) + _xyz(t, dst) + (_src(e["src"]), int(e["payload"]))))
                shown += 1


BraidTorus()
BraidCell()
BraidPending()
