"""Diagnostics: goroutine dumps and scheduler snapshots (Go's runtime.Stack and the state that
GODEBUG=scheddetail=1 prints)."""

from __future__ import annotations

import sys
from typing import Any

from ._runtime import proc as _proc
from ._runtime.runtime2 import GSTATUS_NAMES, PSTATUS_NAMES, G, M, P, sched
from ._runtime.traceback import dumpall

__all__ = ["snapshot", "stack"]


def _running() -> None:
    if not _proc.running():
        raise RuntimeError(
            "gosched.debug: the runtime is not running; call this inside gosched.run"
        )


def stack() -> str:
    """Every goroutine in Go's dump format, the calling goroutine first."""
    _running()
    gs = list(sched.allgs)
    try:
        mp = _proc.getm("debug.stack")
        me = mp.curg
    except RuntimeError:
        me = None
    if me is not None:
        gs.remove(me)
        gs.insert(0, me)
    return dumpall(gs, sys._getframe(1))


def _gid(gp: G | None) -> int | None:
    return None if gp is None else gp.goid


def _mid(mp: M | None) -> int | None:
    return None if mp is None else mp.id


def _pid(pp: P | None) -> int | None:
    return None if pp is None else pp.id


def snapshot() -> dict[str, Any]:
    """The scheduler's state as plain data (JSON-able).

    ``sched`` holds the global counters and queues (the idle P and M lists in the order they
    are handed out), ``allp`` every P (by id), ``allm`` every M
    (newest first, as Go's allm), ``allgs`` every G in creation order, dead ones included.
    Statuses are Go's names without the prefix ("running" for _Prunning). Read while the
    scheduler runs, so a snapshot taken from one goroutine while others run on other Ms is a
    consistent view of the global state but a moment-in-time view of the other Ps.
    """
    _running()
    with sched.lock:
        gs = list(sched.allgs)
        with sched.gFree_lock:
            gfree_stack = len(sched.gFree_stack)
            gfree_nostack = len(sched.gFree_noStack)
        s = {
            "goidgen": sched.goidgen,
            "mcount": _proc.mcount(),
            "nmidle": sched.nmidle,
            "nmidlelocked": sched.nmidlelocked,
            "nmsys": sched.nmsys,
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
