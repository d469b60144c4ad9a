"""The scheduler's state as data. Follows go/src/runtime/proc.go's schedtrace(detailed), which
GODEBUG=scheddetail=1 prints: the same counters, every P, M and G, read the same way (the global
state under sched.lock, each P and M as it is at the moment it is read).

gosched.debug.snapshot() returns it as plain, JSON-able data.
"""

from __future__ import annotations

from typing import Any

from .proc import mcount
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


def snapshot() -> dict[str, Any]:
    """See gosched.debug.snapshot. The runtime must be running."""
    with sched.lock:
        gs = list(sched.allgs)
        with sched.gFree_lock:
            gfree_stack = len(sched.gFree_stack)
            gfree_nostack = len(sched.gFree_noStack)
        s = {
            "goidgen": sched.goidgen,
            "mcount": mcount(),
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
            "mainstarted": sched.mainStarted,
            "nmsys": sched.nmsys,
            "nmidlehelper": sched.nmidlehelper,
            # Runnable goroutines that can only run on an M busy in a blocking call, where
            # they started (the sibling stall; the dump says "waiting for M<id>").
            "nstalled": stalled(gs),
        }
        allp = list(sched.allp)
        allm = list(sched.allm)
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
