"""The scheduler's state as data, and as GODEBUG=schedtrace's lines. Follows
go/src/runtime/proc.go's schedtrace(detailed): the same counters, every P, M and G, read the
same way (the global state under sched.lock, each P, M and G as it is at the moment it is read,
without stopping the world).

gosched.debug.snapshot() returns it as plain, JSON-able data; sysmon prints it as Go does
(``schedtrace``), in Go 1.22's exact words and order (one line, wrapped here):

    SCHED 1004ms: gomaxprocs=1 idleprocs=0 threads=3 spinningthreads=0 needspinning=0
        idlethreads=1 runqueue=0 [5]

The bracket holds each P's local run queue length (runnext not counted, as Go's
``runqtail - runqhead``). With scheddetail=1 the first line goes on with `` gcwaiting=false
nmidlelocked=0 stopwait=0 sysmonwait=false`` instead of the bracket, followed by one line per P
(allp order), M (allm order: newest first) and G (creation order, dead ones included):

      P0: status=1 schedtick=9 syscalltick=0 m=0 runqsize=4 gfreecnt=0 timerslen=1
      M0: p=0 curg=9 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false
          blocked=false lockedg=nil
      G1: status=4(sleep) m=nil lockedm=nil

Statuses are Go's numbers (runtime2.py has the same), a missing P, M or G is ``nil``.

Invariants: every value printed is a reading of gosched's own fields, except the M fields Go has
and gosched has not (mallocing, throwing, preemptoff, locks, dying: no allocator, no throw in
progress on a live M, no runtime locks counted per M), which print Go's value for an M doing
none of those things (0, and an empty preemptoff). Lists are copied before they are walked, so
a list changing under the reader is never an error, only a moment-in-time view. A run without
GODEBUG=schedtrace never gets here: sysmon tests one int.
"""

from __future__ import annotations

import os
from typing import Any

from . import proc  # a module, not its names: proc imports sysmon, which imports this
from .runtime2 import (
    GSTATUS_NAMES,
    M_KINDS,
    PSTATUS_NAMES,
    G,
    M,
    P,
    sched,
)
from .traceback import stalledon


def _gid(gp: G | None) -> int | None:
    return None if gp is None else gp.goid


def _mid(mp: M | None) -> int | None:
    return None if mp is None else mp.id


def _pid(pp: P | None) -> int | None:
    return None if pp is None else pp.id


def stalled(gs: list[G]) -> int:
    """How many of gs are runnable but bound to an M whose goroutine is in a syscall."""
    return sum(1 for gp in gs if stalledon(gp) is not None)


def snapshot(detailed: bool = True) -> dict[str, Any]:
    """See gosched.debug.snapshot. The runtime must be running. ``detailed=False`` is what
    schedtrace's summary line needs: the counters and the Ps, not every M and G (``allm`` and
    ``allgs`` are empty, ``nstalled`` is left out), so that it costs O(Ps), as in Go."""
    with sched.lock:
        gs = list(sched.allgs) if detailed else []
        with sched.gFree_lock:
            gfree_stack = len(sched.gFree_stack)
            gfree_nostack = len(sched.gFree_noStack)
        s = {
            "goidgen": sched.goidgen,
            "mcount": proc.mcount(),
            "nmidle": sched.nmidle,
            "nmidlelocked": sched.nmidlelocked,
            "nmfreed": sched.nmfreed,
            "npidle": sched.npidle,
            "nmspinning": sched.nmspinning,
            "needspinning": sched.needspinning,
            "pidle": [pp.id for pp in reversed(sched.pidle)],  # in pidleget's order
            "midle": [mp.id for mp in reversed(sched.midle)],  # in mget's order
            "runqsize": len(sched.runq),
            "runq": [gp.goid for gp in list(sched.runq)],
            "gfree_stack": gfree_stack,
            "gfree_nostack": gfree_nostack,
            "gcwaiting": sched.gcwaiting,
            "stopwait": sched.stopwait,
            "sysmonwait": sched.sysmonwait,
            "mainstarted": sched.mainStarted,
            "nmsys": sched.nmsys,
            "nmidlehelper": sched.nmidlehelper,
        }
        if detailed:
            # Runnable goroutines that can only run on an M busy in a blocking call, where
            # they started (the sibling stall; the dump says "waiting for M<id>").
            s["nstalled"] = stalled(gs)
        allp = list(sched.allp)
        allm = list(sched.allm) if detailed else []
        gomaxprocs = sched.gomaxprocs
    ps = []
    for pp in allp:
        runnext = list(pp.runnext)
        ps.append(
            {
                "id": pp.id,
                "status": PSTATUS_NAMES.get(pp.status, str(pp.status)),
                "m": _mid(pp.m),
                "schedtick": pp.schedtick,
                "syscalltick": pp.syscalltick,
                "runnext": runnext[0].goid if runnext else None,
                "runq": [gp.goid for gp in list(pp.runq)],
                "runqsize": len(pp.runq),
                "gfreecnt": len(pp.gFree),
                "goidcache": pp.goidcache,
                "goidcacheend": pp.goidcacheend,
                "timers": len(pp.timers),
            }
        )
    ms = []
    for mp in allm:
        ms.append(
            {
                "id": mp.id,
                "kind": M_KINDS[mp.kind],
                "p": _pid(mp.p),
                "nextp": _pid(mp.nextp),
                "curg": _gid(mp.curg),
                "spinning": mp.spinning,
                "blocked": mp.blocked,
                "idle": mp.idle or mp.lockedidle,
                "lockedg": _gid(mp.lockedg),
                "lockedExt": mp.lockedExt,
                "mailbox": [gp.goid for gp in list(mp.mailbox)],
                "nbound": mp.nbound,
                "retired": mp.retired,
            }
        )
    gl = []
    for gp in gs:
        gl.append(
            {
                "goid": gp.goid,
                "status": GSTATUS_NAMES.get(gp.atomicstatus, str(gp.atomicstatus)),
                "waitreason": gp.waitreason,
                "m": _mid(gp.m),
                "lockedm": _mid(gp.lockedm),
                "boundm": _mid(gp.boundm),
                "parentgoid": gp.parentGoid,
                "hasstack": gp.stack is not None,
            }
        )
    return {"gomaxprocs": gomaxprocs, "sched": s, "allp": ps, "allm": ms, "allgs": gl}


_GSTATUS = {name: n for n, name in GSTATUS_NAMES.items()}
_PSTATUS = {name: n for n, name in PSTATUS_NAMES.items()}


def _nil(v: object) -> str:
    return "nil" if v is None else str(v)


def _bool(v: object) -> str:
    return "true" if v else "false"


def schedtrace(ms: int, detailed: bool) -> None:
    """Print the scheduler's state to stderr (Go's schedtrace(detailed), called by sysmon every
    GODEBUG=schedtrace milliseconds); ms is the time since the first call. Go's print writes
    to fd 2 unbuffered, so this does too, in one write: lines from sysmon never interleave with
    a half-flushed sys.stderr, and a script that replaced sys.stderr still gets Go's lines on
    the process's stderr."""
    st = snapshot(detailed)
    s = st["sched"]
    head = (
        f"SCHED {ms}ms: gomaxprocs={st['gomaxprocs']} idleprocs={s['npidle']}"
        f" threads={s['mcount']} spinningthreads={s['nmspinning']}"
        f" needspinning={s['needspinning']} idlethreads={s['nmidle']}"
        f" runqueue={s['runqsize']}"
    )
    if not detailed:
        # Go: " [len1 len2 ...]" after the last field.
        out = [head + " [" + " ".join(str(p["runqsize"]) for p in st["allp"]) + "]"]
    else:
        out = [
            head + f" gcwaiting={_bool(s['gcwaiting'])} nmidlelocked={s['nmidlelocked']}"
            f" stopwait={s['stopwait']} sysmonwait={_bool(s['sysmonwait'])}"
        ]
        for p in st["allp"]:
            out.append(
                f"  P{p['id']}: status={_PSTATUS.get(p['status'], p['status'])}"
                f" schedtick={p['schedtick']} syscalltick={p['syscalltick']} m={_nil(p['m'])}"
                f" runqsize={p['runqsize']} gfreecnt={p['gfreecnt']} timerslen={p['timers']}"
            )
        for m in st["allm"]:
            # mallocing, throwing, preemptoff, locks, dying: no counterpart (module docstring).
            out.append(
                f"  M{m['id']}: p={_nil(m['p'])} curg={_nil(m['curg'])}"
                " mallocing=0 throwing=0 preemptoff= locks=0 dying=0"
                f" spinning={_bool(m['spinning'])} blocked={_bool(m['blocked'])}"
                f" lockedg={_nil(m['lockedg'])}"
            )
        for g in st["allgs"]:
            out.append(
                f"  G{g['goid']}: status={_GSTATUS.get(g['status'], g['status'])}"
                f"({g['waitreason']}) m={_nil(g['m'])} lockedm={_nil(g['lockedm'])}"
            )
    data = ("\n".join(out) + "\n").encode()
    try:
        while data:
            data = data[os.write(2, data) :]
    except OSError:  # stderr closed: Go's print ignores write errors too
        pass
