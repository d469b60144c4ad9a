"""Execution traces: recording the scheduler's events, and writing them as Chrome Trace Event
JSON. Follows go/src/runtime/trace.go (StartTrace, StopTrace, per-M trace buffers),
traceruntime.go (the event sites: GoCreate in newproc1, GoStart in execute, GoBlock in park_m,
GoUnblock in ready, GoDestroy in goexit, ProcStart/ProcStop in acquirep/releasep, ProcSteal in
retake, GoSyscallBegin/End around syscalls) and flightrecorder.go (Go 1.25). docs/trace.md
is the file format.

Invariants:
- ``sched.tracing`` is the one flag an event site checks. While it is False nothing else of
  this module runs, so tracing off costs one attribute test per site.
- An event is ``nanotime, code, args...`` (as many args as its code has) added with one
  ``extend`` to the flat ``tracebuf`` of the M at hand (the thread's own, except for the few
  events sysmon makes about other Ms): atomic, so recording takes no lock. Only ints,
  strings and tuples of goids go in (a function is a ``fnid``), so the cyclic GC has nothing
  to track; names are made when the trace is written.
- Every M that exists while tracing is on has its buffer in ``_tr.bufs`` (register, called by
  mcommoninit under sched.lock), so a buffer outlives its thread.
- A trace starts with a State event, read with the world stopped (Go's StartTrace stops the
  world too), so that the queues can be replayed from it; the flight recorder starts a new
  generation (a State read by sysmon, no stop) every second and drops generations older than
  its window.
- Nothing here raises inside an event site; the writer runs once recording has stopped.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from .runtime2 import (
    M_EXTRA,
    M_HELPER,
    M_SYSMON,
    M_TEMPLATE,
    _Gdead,
    _Grunnable,
    _Grunning,
    _Gsyscall,
    _Gwaiting,
    _Prunning,
    _Psyscall,
    sched,
)

if TYPE_CHECKING:
    from .runtime2 import M

nanotime = time.monotonic_ns

# Event codes. The tuple after (ts, code) is what docs/trace.md lists for the event's args.
EV_STATE = 1  # (state dict)
EV_GOCREATE = 2  # (g, parent, p, fn, gfree)
EV_GOSTART = 3  # (g, p, m)
EV_GOBLOCK = 4  # (g, reason)
EV_GOUNBLOCK = 5  # (g, by)
EV_RUNQPUT = 6  # (g, p, next)
EV_GLOBALPUT = 7  # (g,)
EV_GOSTOP = 8  # (g, reason)
EV_GODESTROY = 9  # (g, p, gfree)
EV_SYSCALLBEGIN = 10  # (g, m, kind)
EV_SYSCALLEND = 11  # (g, m)
EV_SYSCALLENDBLOCKED = 12  # (g, m)
EV_RUNQSPILL = 13  # (p, gs)
EV_GLOBALGET = 14  # (p, gs)
EV_RUNQSTEAL = 15  # (p, from, gs)
EV_PROCSTART = 16  # (p, m)
EV_PROCSTOP = 17  # (p, m)
EV_PROCSTEAL = 18  # (p, m)
EV_PROCSCHANGE = 19  # (n, gs)
EV_MSTART = 20  # (m,)
EV_MSTOP = 21  # (m,)
EV_GFREE = 22  # (p, gfree)
EV_COUNTERS = 23  # (local lengths tuple, global length, idle Ps, Ms, idle Ms, Ms in syscall)

_ARGS: dict[int, tuple[str, tuple[str, ...]]] = {
    EV_STATE: ("State", ("state",)),
    EV_GOCREATE: ("GoCreate", ("g", "parent", "p", "fn", "gfree")),
    EV_GOSTART: ("GoStart", ("g", "p", "m")),
    EV_GOBLOCK: ("GoBlock", ("g", "reason")),
    EV_GOUNBLOCK: ("GoUnblock", ("g", "by")),
    EV_RUNQPUT: ("RunqPut", ("g", "p", "next")),
    EV_GLOBALPUT: ("GlobalPut", ("g",)),
    EV_GOSTOP: ("GoStop", ("g", "reason")),
    EV_GODESTROY: ("GoDestroy", ("g", "p", "gfree")),
    EV_SYSCALLBEGIN: ("GoSyscallBegin", ("g", "m", "kind")),
    EV_SYSCALLEND: ("GoSyscallEnd", ("g", "m")),
    EV_SYSCALLENDBLOCKED: ("GoSyscallEndBlocked", ("g", "m")),
    EV_RUNQSPILL: ("RunqSpill", ("p", "gs")),
    EV_GLOBALGET: ("GlobalGet", ("p", "gs")),
    EV_RUNQSTEAL: ("RunqSteal", ("p", "from", "gs")),
    EV_PROCSTART: ("ProcStart", ("p", "m")),
    EV_PROCSTOP: ("ProcStop", ("p", "m")),
    EV_PROCSTEAL: ("ProcSteal", ("p", "m")),
    EV_PROCSCHANGE: ("ProcsChange", ("n", "gs")),
    EV_MSTART: ("MStart", ("m",)),
    EV_MSTOP: ("MStop", ("m",)),
    EV_GFREE: ("GFree", ("p", "gfree")),
}

_ARITY = {code: len(keys) for code, (_, keys) in _ARGS.items()}
_ARITY[EV_COUNTERS] = 6

FORMAT = "gosched-trace/1"
SPLIT_BYTES = 100 << 20  # go tool trace splits its views near 100 MiB too
GENERATION_NS = 1_000_000_000  # the flight recorder's granularity (Go's generations: ~1 s)
COUNTERS_NS = 10_000_000  # sysmon samples the counters this often

_M_SUFFIX = {
    M_SYSMON: " (sysmon)",
    M_HELPER: " (blocking helper)",
    M_EXTRA: " (plain thread)",
    M_TEMPLATE: " (template)",
}


class _Tracer:
    """The recording in progress, for a full trace (trace.start), a flight recorder, or both
    at once: one recording, at most one of each (Go: "tracing is already enabled")."""

    __slots__ = (
        "bufs",
        "full",
        "gens",
        "lastcounters",
        "lastgen",
        "fnids",
        "fnlock",
        "fns",
        "misc",
        "path",
        "t0",
        "window",
    )

    def __init__(self) -> None:
        # Every M's buffer (and misc's), for the writer and the flight recorder's trimming;
        # changed under sched.lock.
        self.bufs: list[tuple[M, list[Any]]] = []
        self.t0 = 0
        self.full = False  # a full trace is recording: nothing is dropped
        self.path: str | None = None  # where the full trace goes if the run ends first
        self.window = 0  # a flight recorder's window (ns), 0 for none
        self.gens: list[int] = []  # when each kept generation began (its State); sched.lock
        self.lastgen = 0  # written by sysmon only, under sched.lock
        self.lastcounters = 0  # written by sysmon only
        self.misc: list[Any] = []  # events made with no M at hand (evany), flat as tracebuf
        self.fns: list[Any] = [None]  # GoCreate's functions, by fnid (0: unknown); fnlock
        self.fnids: dict[Any, int] = {}  # written under fnlock, read without it
        self.fnlock = threading.Lock()  # a leaf (runtime2.py's lock order)


_tr: _Tracer | None = None

# What a recording hands the writer: its start (nanotime), its events in time order, each
# (m id, m kind, event tuple), and the functions GoCreate's fnids stand for.
Recording = tuple[int, list[tuple[int, int, Any]], list[Any]]


class _NoM:
    """Stands for "no M" in the buffer list: the owner of the tracer's own buffer (evany)."""

    id = -1
    kind = -1
    exited = False


_NOM: Any = _NoM()


def ev(mp: M, *e: Any) -> None:
    """Record event e on mp's buffer. Event sites call this behind ``if sched.tracing``."""
    mp.tracebuf.extend((nanotime(), *e))


def fnid(fn: Any) -> int:
    """A small int standing for fn in GoCreate events. A buffer holding the function itself
    would keep the cyclic GC busy with it for the whole trace (tracing spawn cost 2.6x, not
    1.7x); an int leaves it nothing to track. (Bound methods made anew per go() compare
    equal.) Ms on several threads may meet a new function at once: the lock, taken only then,
    gives each its own id."""
    tr = _tr
    if tr is None:
        return 0
    try:
        return tr.fnids[fn]
    except KeyError:
        hashable = True
    except TypeError:  # unhashable callable: named, not shared
        hashable = False
    with tr.fnlock:
        if hashable:
            n = tr.fnids.get(fn)
            if n is not None:
                return n
        n = len(tr.fns)
        tr.fns.append(fn)
        if hashable:
            tr.fnids[fn] = n
    return n


def evany(*e: Any) -> None:
    """Record event e from code that has no M at hand (the run queues' helpers, sysmon's
    retake): on the tracer's own buffer, merged with the Ms' by time."""
    tr = _tr
    if tr is not None:
        tr.misc.extend((nanotime(), *e))


def register(mp: M) -> None:
    """A new M while tracing (mcommoninit, sched.lock held): its buffer joins the trace."""
    tr = _tr
    if tr is not None:
        mp.tracebuf = []
        tr.bufs.append((mp, mp.tracebuf))


def fnname(fn: Any) -> str:
    """The start function as dumps name it (module.qualname)."""
    if fn is None:
        return "?"
    code = getattr(fn, "__code__", None)
    qual = getattr(fn, "__qualname__", None) or getattr(code, "co_name", None) or repr(fn)
    mod = getattr(fn, "__module__", None)
    if mod is None and code is not None:
        from .traceback import _modname_for_file

        mod = _modname_for_file(code.co_filename)
    return f"{mod}.{qual}" if mod else str(qual)


def _state() -> dict[str, Any]:
    """The whole scheduler state for a State event. sched.lock held; with the world stopped
    at a trace's start, read racily by sysmon for a flight-recorder generation (the next
    generation corrects what a race got wrong)."""
    ps = []
    for pp in list(sched.allp):
        rn = list(pp.runnext)
        # Held by an M (the one starting the trace holds its P with the world stopped).
        running = pp.m is not None or pp.status in (_Prunning, _Psyscall)
        ps.append(
            {
                "p": pp.id,
                "status": "running" if running else "idle",
                "m": pp.m.id if pp.m is not None else None,
                "runnext": rn[0].goid if rn else None,
                "runq": [gp.goid for gp in list(pp.runq)],
                "gfree": len(pp.gFree),
            }
        )
    ms = []
    for mp in list(sched.allm):
        g = mp.curg
        ms.append(
            {
                "m": mp.id,
                "p": mp.p.id if mp.p is not None else None,
                "curg": g.goid if g is not None else None,
                "idle": bool(mp.idle or mp.lockedidle),
            }
        )
    gs = []
    for gp in list(sched.allgs):
        st = gp.atomicstatus
        if st == _Gdead or gp.goid == 0:
            continue
        gs.append(
            {
                "g": gp.goid,
                "fn": fnname(gp.args[0] if gp is sched.maing and gp.args else gp.fn),
                "status": _GSTATES.get(st, "waiting"),
                "reason": gp.waitreason,
            }
        )
    return {
        "ps": ps,
        "global": [gp.goid for gp in list(sched.runq)],
        "ms": ms,
        "gs": gs,
    }


_GSTATES = {
    _Grunnable: "runnable",
    _Grunning: "running",
    _Gsyscall: "syscall",
    _Gwaiting: "waiting",
}


# ---------------------------------------------------------------------------------------------
# Starting and stopping (the caller holds its P, or the runtime is starting)


def start(mp: M, path: str | None, window_s: float = 0.0, *, stopworld: bool = True) -> None:
    """Go's StartTrace: every M gets a buffer, the State is read with the world stopped, and
    recording begins. ``path``: a full trace (written there if the run ends before stop());
    ``window_s`` > 0: a flight recorder keeping that many seconds. Either may join a recording
    that the other started."""
    global _tr
    from . import proc

    full = window_s <= 0
    with sched.lock:
        tr = _tr
        if tr is not None:
            if (full and tr.full) or (not full and tr.window):
                raise RuntimeError("tracing is already enabled")
            if full:
                tr.full = True
                tr.path = path
            else:
                tr.window = int(window_s * 1e9)
            return
        tr = _tr = _Tracer()
    if stopworld:
        proc.stopTheWorld(mp)
    try:
        with sched.lock:
            now = nanotime()
            tr.t0 = now
            tr.full = full
            tr.path = path
            tr.window = 0 if full else int(window_s * 1e9)
            tr.gens = [now]
            tr.lastgen = now
            tr.bufs.append((_NOM, tr.misc))
            for m in sched.allm:
                m.tracebuf = []
                tr.bufs.append((m, m.tracebuf))
            mp.tracebuf.extend((now, EV_STATE, _state()))
            sched.tracing = True
    finally:
        if stopworld:
            proc.startTheWorld(mp, sched.gomaxprocs)


def active(flight: bool = False) -> bool:
    """A full trace (or, with flight, a flight recorder) is recording."""
    tr = _tr
    if tr is None:
        return False
    return bool(tr.window) if flight else tr.full


def fullpath() -> str | None:
    tr = _tr
    return tr.path if tr is not None and tr.full else None


def stop(flight: bool = False) -> Recording | None:
    """Go's StopTrace for the full trace (or, with flight, the flight recorder): return (t0,
    the events in time order, each ``(m id, m kind, event)``) of a full trace, None for a
    flight recorder or when that kind was not recording. Recording goes on while the other
    kind still wants it. The caller writes the events once it has left the runtime."""
    global _tr
    with sched.lock:
        tr = _tr
        if tr is None or not (tr.window if flight else tr.full):
            return None
        bufs = [(m, list(b)) for m, b in tr.bufs]
        if flight:
            tr.window = 0
        else:
            tr.full = False
            tr.path = None
        if not tr.full and not tr.window:
            sched.tracing = False
            _tr = None
            for m, _ in tr.bufs:
                m.tracebuf = []
    return None if flight else (tr.t0, _merge(bufs), list(tr.fns))


def snapshot_flight() -> Recording | None:
    """The flight recorder's window as it is now, recording on: from the oldest generation
    kept (whose State the events replay from)."""
    tr = _tr
    if tr is None or not tr.window:
        return None
    with sched.lock:
        bufs = [(m, list(b)) for m, b in tr.bufs]
        gens = list(tr.gens)
    cut = nanotime() - tr.window
    start = gens[0]
    for g in gens:
        if g <= cut:
            start = g
    events = _merge(bufs)
    i = 0
    while i < len(events) and events[i][2][0] < start:
        i += 1
    return start, events[i:], list(tr.fns)


def _records(buf: list[Any]) -> list[tuple[Any, ...]]:
    """A buffer's events as tuples. A buffer is flat, ``ts, code, args...`` after another, each
    event as long as its code says (``_ARITY``): a list of ints and strings is one object for
    the cyclic GC, where a tuple per event kept every event tracked until a collection looked
    at it, and tracing cost twice as much."""
    out = []
    i = 0
    n = len(buf)
    while i + 1 < n:
        k = 2 + _ARITY[buf[i + 1]]
        out.append(tuple(buf[i : i + k]))
        i += k
    return out


def _merge(bufs: list[tuple[M, list[Any]]]) -> list[tuple[int, int, Any]]:
    out = [(m.id, m.kind, e) for m, buf in bufs for e in _records(buf)]
    # Stable: the events of one M with the same timestamp keep their order.
    out.sort(key=lambda x: x[2][0])
    return out


def sysmontick(mp: M, now: int) -> None:
    """sysmon, while tracing: the periodic counters, and the flight recorder's generations."""
    tr = _tr
    if tr is None:
        return
    if now - tr.lastcounters >= COUNTERS_NS:
        tr.lastcounters = now
        counters(mp)
    if tr.window and now - tr.lastgen >= GENERATION_NS:
        with sched.lock:
            if _tr is not tr or not tr.window:
                return
            tr.lastgen = now
            mp.tracebuf.extend((now, EV_STATE, _state()))
            tr.gens.append(now)
            if tr.full:
                return  # a full trace keeps everything
            # Keep the generations that hold the last `window` ns: the newest one that began
            # before the window's start, and every one after it.
            cut = now - tr.window
            while len(tr.gens) > 1 and tr.gens[1] <= cut:
                tr.gens.pop(0)
            keep = tr.gens[0]
            bufs = []
            for m, buf in tr.bufs:
                k = 0
                n = len(buf)
                while k + 1 < n and buf[k] < keep:
                    k += 2 + _ARITY[buf[k + 1]]
                if k:
                    del buf[:k]
                if buf or not m.exited:
                    bufs.append((m, buf))
            tr.bufs = bufs


def counters(mp: M) -> None:
    """The periodic counters (Go's trace has its own; these are what the viewer graphs)."""
    allp = list(sched.allp)
    local = tuple(len(pp.runq) + len(pp.runnext) for pp in allp)
    nsys = sum(1 for m in list(sched.allm) if m.curg is not None and m.p is None)
    mp.tracebuf.extend(
        (
            nanotime(),
            EV_COUNTERS,
            local,
            len(sched.runq),
            sched.npidle,
            len(sched.allm),
            sched.nmidle,
            nsys,
        )
    )


# ---------------------------------------------------------------------------------------------
# Writing: events -> Chrome Trace Event JSON (docs/trace.md)


def _us(ns: int) -> float:
    """ns in the format's microseconds, as the double nearest ns / 1000 that importers turn
    back into ns exactly. Perfetto multiplies by 1000 and truncates: 1316.08 * 1000 is
    1316079.99..., which would put a slice 1 ns outside its parent; the next double up
    (1316.0800000000002) gives 1316080."""
    if ns <= 0:
        return 0.0
    x = ns / 1000
    if x * 1000 < ns:
        x = math.nextafter(x, math.inf)
    return x


class _Writer:
    """Turns the merged events into trace events: slices on P and M tracks (which nest by
    construction: a slice is closed before its parent is), instants for the queue replay,
    flows and counters."""

    def __init__(self, t0: int, fns: list[Any]) -> None:
        self.t0 = t0
        self.fns = fns
        self.out: list[dict[str, Any]] = []
        self.fn: dict[int, str] = {}
        self.pproc: dict[int, tuple[int, int]] = {}  # p -> (start, m)
        self.mproc: dict[int, tuple[int, int]] = {}  # m -> (start, p)
        self.running: dict[int, tuple[int, int, int]] = {}  # g -> (start, p, m)
        self.pg: dict[int, int] = {}  # p -> g running there
        self.sys: dict[int, tuple[int, int, str]] = {}  # m -> (start, g, kind)
        self.gsys: dict[int, int] = {}  # g -> m of its syscall slice
        self.flows: dict[int, list[tuple[int, str]]] = {}  # g -> flows waiting for its start
        self.nflow = 0
        self.ps: set[int] = set()

    def ts(self, ns: int) -> float:
        return _us(ns - self.t0)

    def slice(
        self, pid: int, tid: int, start: int, end: int, name: str, cat: str, args: dict[str, Any]
    ) -> None:
        s = self.ts(start)
        self.out.append(
            {
                "ph": "X",
                "pid": pid,
                "tid": tid,
                "ts": s,
                "dur": _us(end - start),
                "name": name,
                "cat": cat,
                "args": args,
            }
        )

    # The slices of a running goroutine, on its P and its M.

    def gstart(self, now: int, g: int, p: int, m: int) -> None:
        cur = self.running.get(g)
        if cur is not None and cur[1] == p and cur[2] == m:
            return  # back from a syscall that kept its P: still the same slice
        self.sysend(now, g)
        if cur is not None:
            self.gend(now, g, "trace end")
        other = self.pg.get(p)
        if other is not None:
            self.gend(now, other, "trace end")
        self.procstart(now, p, m)
        self.running[g] = (now, p, m)
        self.pg[p] = g
        for fid, name in self.flows.pop(g, ()):
            self.out.append(
                {
                    "ph": "f",
                    "bp": "e",
                    "pid": 1,
                    "tid": p + 1,
                    "ts": self.ts(now),
                    "id": fid,
                    "name": name,
                    "cat": "flow",
                }
            )

    def gend(self, now: int, g: int, end: str, reason: str | None = None) -> None:
        cur = self.running.pop(g, None)
        if cur is None:
            return
        start, p, m = cur
        if self.pg.get(p) == g:
            del self.pg[p]
        fn = self.fn.get(g, "?")
        args: dict[str, Any] = {"g": g, "fn": fn, "m": m, "p": p, "end": end}
        if reason is not None:
            args["reason"] = reason
        name = f"G{g} {fn}"
        self.slice(1, p + 1, start, now, name, "goroutine", args)
        self.slice(2, m + 1, start, now, name, "goroutine", dict(args))

    def flowfrom(self, now: int, src: int, dst: int, name: str) -> None:
        """An arrow from goroutine src's running slice to dst's next slice."""
        cur = self.running.get(src)
        if cur is None:
            return
        self.nflow += 1
        fid = self.nflow
        self.out.append(
            {
                "ph": "s",
                "pid": 1,
                "tid": cur[1] + 1,
                "ts": self.ts(now),
                "id": fid,
                "name": name,
                "cat": "flow",
            }
        )
        self.flows.setdefault(dst, []).append((fid, name))

    # Ps held by Ms: a slice on each side.

    def procstart(self, now: int, p: int, m: int) -> None:
        cur = self.pproc.get(p)
        if cur is not None and cur[1] == m and self.mproc.get(m, (0, -1))[1] == p:
            return
        if cur is not None:
            self.procstop(now, p, cur[1])
        mcur = self.mproc.get(m)
        if mcur is not None:
            self.procstop(now, mcur[1], m)
        self.sysendm(now, m)
        self.ps.add(p)
        self.pproc[p] = (now, m)
        self.mproc[m] = (now, p)

    def procstop(self, now: int, p: int, m: int, end: str = "syscall") -> None:
        g = self.pg.get(p)
        if g is not None:
            self.gend(now, g, end)
        for g2, (_, _, m2) in list(self.running.items()):
            if m2 == m:
                self.gend(now, g2, end)
        cur = self.pproc.get(p)
        if cur is not None and cur[1] == m:
            del self.pproc[p]
            self.slice(1, p + 1, cur[0], now, f"M{m}", "proc", {"p": p, "m": m})
        mcur = self.mproc.get(m)
        if mcur is not None and mcur[1] == p:
            del self.mproc[m]
            self.slice(2, m + 1, mcur[0], now, f"P{p}", "proc", {"p": p, "m": m})

    # Syscalls: on the M track, outside any P slice (the P is gone).

    def sysbegin(self, now: int, g: int, m: int, kind: str) -> None:
        cur = self.running.get(g)
        if cur is not None:
            self.gend(now, g, "syscall")
            self.procstop(now, cur[1], cur[2])
        mcur = self.mproc.get(m)
        if mcur is not None:
            self.procstop(now, mcur[1], m)
        self.sysendm(now, m)
        self.sys[m] = (now, g, kind)
        self.gsys[g] = m

    def sysend(self, now: int, g: int) -> None:
        m = self.gsys.get(g)
        if m is not None:
            self.sysendm(now, m)

    def sysendm(self, now: int, m: int) -> None:
        cur = self.sys.pop(m, None)
        if cur is None:
            return
        start, g, kind = cur
        self.gsys.pop(g, None)
        self.slice(2, m + 1, start, now, "syscall", "syscall", {"g": g, "kind": kind})

    def instant(self, now: int, name: str, args: dict[str, Any]) -> None:
        self.out.append(
            {
                "ph": "i",
                "s": "t",
                "pid": 3,
                "tid": 1,
                "ts": self.ts(now),
                "name": name,
                "args": args,
            }
        )

    def event(self, mid: int, kind: int, e: tuple[Any, ...]) -> None:
        now = e[0]
        code = e[1]
        if code == EV_COUNTERS:
            local, glob, idle, nm, nmidle, nsys = e[2:]
            args: dict[str, Any] = {"global": glob}
            for i, n in enumerate(local):
                args[f"P{i}"] = n
            t = self.ts(now)
            self.out.append(
                {"ph": "C", "pid": 3, "tid": 1, "ts": t, "name": "runqueue", "args": args}
            )
            self.out.append(
                {
                    "ph": "C",
                    "pid": 3,
                    "tid": 1,
                    "ts": t,
                    "name": "procs",
                    "args": {"idle": idle, "running": max(0, len(local) - idle)},
                }
            )
            self.out.append(
                {
                    "ph": "C",
                    "pid": 3,
                    "tid": 1,
                    "ts": t,
                    "name": "threads",
                    "args": {"total": nm, "idle": nmidle, "syscall": nsys},
                }
            )
            return
        spec = _ARGS.get(code)
        if spec is None:
            return
        name, keys = spec
        if code == EV_STATE:
            st = e[2]
            self.state(now, st)
            self.instant(now, name, st)
            return
        args = dict(zip(keys, e[2:], strict=False))
        if code == EV_GOCREATE:
            g = args["g"]
            fn = fnname(self.fns[args["fn"]] if args["fn"] < len(self.fns) else None)
            self.fn[g] = fn
            args["fn"] = fn
            if args["parent"]:
                self.flowfrom(now, args["parent"], g, "create")
        elif code == EV_GOSTART:
            self.gstart(now, args["g"], args["p"], args["m"])
        elif code == EV_GOBLOCK:
            self.gend(now, args["g"], "block", args["reason"])
        elif code == EV_GOUNBLOCK:
            if args["by"]:
                self.flowfrom(now, args["by"], args["g"], "unblock")
        elif code == EV_GOSTOP:
            r = args["reason"]
            self.gend(now, args["g"], "gosched" if r == "runtime.Gosched" else "preempted")
        elif code == EV_GODESTROY:
            self.gend(now, args["g"], "destroy")
            self.sysend(now, args["g"])
        elif code == EV_SYSCALLBEGIN:
            self.sysbegin(now, args["g"], args["m"], args["kind"])
        elif code in (EV_SYSCALLEND, EV_SYSCALLENDBLOCKED):
            self.sysend(now, args["g"])
            if code == EV_SYSCALLENDBLOCKED:
                self.gend(now, args["g"], "syscall")
        elif code == EV_PROCSTART:
            self.procstart(now, args["p"], args["m"])
        elif code == EV_PROCSTOP:
            self.procstop(now, args["p"], args["m"])
        elif code == EV_PROCSTEAL:
            m = args["m"]
            g = next((g for g, c in self.running.items() if c[2] == m), None)
            if g is not None:
                self.sysbegin(now, g, m, "retake")
            else:
                self.procstop(now, args["p"], m)
        if "gs" in args:
            args["gs"] = list(args["gs"])
        self.instant(now, name, args)

    def state(self, now: int, st: dict[str, Any]) -> None:
        """A State event opens the slices of what runs at that moment."""
        for g in st["gs"]:
            self.fn.setdefault(g["g"], g["fn"])
        for p in st["ps"]:
            self.ps.add(p["p"])
            if p["status"] == "running" and p["m"] is not None:
                self.procstart(now, p["p"], p["m"])
        for m in st["ms"]:
            if m["curg"] is not None and m["p"] is not None:
                self.gstart(now, m["curg"], m["p"], m["m"])

    def finish(self, end: int) -> None:
        for g in list(self.running):
            self.gend(end, g, "trace end")
        for m in list(self.sys):
            self.sysendm(end, m)
        for p, (_, m) in list(self.pproc.items()):
            self.procstop(end, p, m, "trace end")
        for m, (_, p) in list(self.mproc.items()):
            self.procstop(end, p, m, "trace end")
        # Flows whose target never started again have no end: drop their starts.
        dangling = {fid for lst in self.flows.values() for fid, _ in lst}
        if dangling:
            self.out = [e for e in self.out if not (e["ph"] == "s" and e["id"] in dangling)]

    def metadata(self, mkinds: dict[int, int], gomaxprocs: int) -> list[dict[str, Any]]:
        md: list[dict[str, Any]] = []

        def track(pid: int, tid: int, name: str, order: int, process: bool = False) -> None:
            what = "process" if process else "thread"
            md.append({"ph": "M", "pid": pid, "tid": tid, "name": f"{what}_name",
                       "args": {"name": name}})  # fmt: skip
            md.append({"ph": "M", "pid": pid, "tid": tid, "name": f"{what}_sort_index",
                       "args": {"sort_index": order}})  # fmt: skip

        for pid, pname in ((1, "Ps"), (2, "Ms"), (3, "Runtime")):
            track(pid, 1, pname, pid, process=True)
        for p in sorted(self.ps | set(range(gomaxprocs))):
            track(1, p + 1, f"P{p}", p)
        for m in sorted(mkinds):
            track(2, m + 1, f"M{m}{_M_SUFFIX.get(mkinds[m], '')}", m)
        track(3, 1, "scheduler", 0)
        return md


_LEVEL = {"proc": 0, "goroutine": 1}


def chrome_events(
    t0: int,
    events: list[tuple[int, int, Any]],
    gomaxprocs: int,
    end: int | None = None,
    fns: list[Any] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(metadata, events in time order) for the events of a trace that began at t0."""
    w = _Writer(t0, fns or [None])
    mkinds: dict[int, int] = {}
    for mid, kind, e in events:
        if mid >= 0:
            mkinds.setdefault(mid, kind)
        w.event(mid, kind, e)
    last = events[-1][2][0] if events else t0
    # 1 µs past the last event: a slice that began at the last event still has a length, so
    # it lies inside its parent rather than at its end.
    w.finish(max(last, end or last) + 1000)
    for e in w.out:
        if e.get("pid") == 2:  # an M named by another M's event has a track too
            mkinds.setdefault(e["tid"] - 1, 0)
    # A parent before its children at the same start: by length, then by level.
    w.out.sort(key=lambda e: (e["ts"], -e.get("dur", 0.0), _LEVEL.get(e.get("cat") or "", 2)))
    return w.metadata(mkinds, gomaxprocs), w.out


class _Replay:
    """The scheduler's state rebuilt from the events, as the viewer rebuilds it: a part of a
    split trace starts with the State at its first instant, so that each part can be replayed
    (and its slices drawn) on its own."""

    def __init__(self, fns: list[Any]) -> None:
        self.fns = fns
        self.ps: dict[int, dict[str, Any]] = {}
        self.glob: list[int] = []
        self.ms: dict[int, dict[str, Any]] = {}
        self.gs: dict[int, dict[str, Any]] = {}

    def p(self, p: int) -> dict[str, Any]:
        st = self.ps.get(p)
        if st is None:
            st = self.ps[p] = {"p": p, "status": "idle", "m": None, "runnext": None,
                               "runq": [], "gfree": 0}  # fmt: skip
        return st

    def m(self, m: int) -> dict[str, Any]:
        st = self.ms.get(m)
        if st is None:
            st = self.ms[m] = {"m": m, "p": None, "curg": None, "idle": False}
        return st

    def g(self, g: int) -> dict[str, Any]:
        st = self.gs.get(g)
        if st is None:
            st = self.gs[g] = {"g": g, "fn": "?", "status": "runnable", "reason": ""}
        return st

    def remove(self, g: int) -> None:
        for st in self.ps.values():
            if st["runnext"] == g:
                st["runnext"] = None
            if g in st["runq"]:
                st["runq"].remove(g)
        if g in self.glob:
            self.glob.remove(g)

    def apply(self, e: tuple[Any, ...]) -> None:
        code = e[1]
        a = e[2:]
        if code == EV_STATE:
            st = a[0]
            self.ps = {x["p"]: dict(x, runq=list(x["runq"])) for x in st["ps"]}
            self.glob = list(st["global"])
            self.ms = {x["m"]: dict(x) for x in st["ms"]}
            self.gs = {x["g"]: dict(x) for x in st["gs"]}
        elif code == EV_GOCREATE:
            g = self.g(a[0])
            g["fn"] = fnname(self.fns[a[3]] if a[3] < len(self.fns) else None)
            g["status"] = "runnable"
            self.p(a[2])["gfree"] = a[4]
        elif code == EV_RUNQPUT:
            g, p, nxt = a
            self.remove(g)
            ps = self.p(p)
            if nxt:
                if ps["runnext"] is not None:
                    ps["runq"].append(ps["runnext"])
                ps["runnext"] = g
            else:
                ps["runq"].append(g)
            self.g(g)["status"] = "runnable"
        elif code == EV_GLOBALPUT:
            self.remove(a[0])
            self.glob.append(a[0])
            self.g(a[0])["status"] = "runnable"
        elif code == EV_GOSTART:
            g, p, m = a
            self.remove(g)
            self.g(g).update(status="running", reason="")
            self.m(m).update(curg=g, p=p, idle=False)
            self.p(p).update(status="running", m=m)
        elif code in (EV_GOBLOCK, EV_GOSTOP, EV_GODESTROY, EV_SYSCALLBEGIN):
            g = a[0]
            for ms in self.ms.values():
                if ms["curg"] == g:
                    ms["curg"] = None
            if code == EV_GODESTROY:
                self.gs.pop(g, None)
                self.p(a[1])["gfree"] = a[2]
            elif code == EV_GOBLOCK:
                self.g(g).update(status="waiting", reason=a[1])
            elif code == EV_GOSTOP:
                self.g(g)["status"] = "runnable"
            else:
                self.g(g)["status"] = "syscall"
                self.m(a[1])["curg"] = g
        elif code in (EV_SYSCALLEND, EV_SYSCALLENDBLOCKED):
            self.g(a[0])["status"] = "runnable"
        elif code == EV_GFREE:
            self.p(a[0])["gfree"] = a[1]
        elif code in (EV_RUNQSPILL, EV_GLOBALGET, EV_RUNQSTEAL, EV_PROCSCHANGE):
            gs = list(a[-1])
            for g in gs:
                self.remove(g)
            if code == EV_RUNQSPILL:
                self.glob.extend(gs)
            elif code == EV_PROCSCHANGE:
                self.glob[:0] = gs
                for p in [p for p in self.ps if p >= a[0]]:
                    del self.ps[p]
            else:
                self.p(a[0])["runq"].extend(gs)
        elif code in (EV_PROCSTART, EV_PROCSTOP, EV_PROCSTEAL):
            p, m = a
            running = code == EV_PROCSTART
            self.p(p).update(status="running" if running else "idle", m=m if running else None)
            self.m(m)["p"] = p if running else None
        elif code in (EV_MSTART, EV_MSTOP):
            self.m(a[0])["idle"] = code == EV_MSTOP

    def state(self) -> dict[str, Any]:
        return {
            "ps": [dict(x, runq=list(x["runq"])) for _, x in sorted(self.ps.items())],
            "global": list(self.glob),
            "ms": [dict(x) for _, x in sorted(self.ms.items())],
            "gs": [dict(x) for _, x in sorted(self.gs.items())],
        }


def _encode(
    t0: int, events: list[tuple[int, int, Any]], gomaxprocs: int, end: int | None, fns: list[Any]
) -> tuple[list[str], list[str], list[int]]:
    """(metadata lines, event lines, each event line's ts in ns) of one part."""
    enc = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    md, evs = chrome_events(t0, events, gomaxprocs, end, fns)
    return [enc(e) for e in md], [enc(e) for e in evs], [t0 + int(e["ts"] * 1000) for e in evs]


def write(
    path: str,
    rec: Recording,
    gomaxprocs: int,
    *,
    split: int = SPLIT_BYTES,
    end: int | None = None,
) -> list[str]:
    """Write the trace to path (and path.1.json, ... past ``split`` bytes); return the paths.

    Each part is a trace of its own time range, made from the events of that range after a
    State replayed up to its start: its slices nest, its flows have both ends, and the viewer
    can replay its queues."""
    t0, events, fns = rec
    md, lines, stamps = _encode(t0, events, gomaxprocs, end, fns)
    # Where the running size passes `split` (less a margin for what a part adds at its start:
    # the State, and the slices of what runs then), a new part begins.
    cuts: list[int] = []
    size = sum(len(x) + 2 for x in md)
    budget = int(split * 0.9)
    for line, ts in zip(lines, stamps, strict=True):
        size += len(line) + 2
        if size > budget and (not cuts or ts > cuts[-1]):
            cuts.append(ts)
            size = len(line) + 2 + sum(len(x) + 2 for x in md)
    if not cuts:
        return [_writepart(path, 0, md, lines, gomaxprocs)]
    stem = path[:-5] if path.endswith(".json") else path
    replay = _Replay(fns)
    bounds = [t0, *cuts]
    out = []
    i = 0
    for k, start in enumerate(bounds):
        stop = bounds[k + 1] if k + 1 < len(bounds) else None
        chunk: list[tuple[int, int, Any]] = []
        if k > 0:
            chunk.append((-1, -1, (start, EV_STATE, replay.state())))
        while i < len(events) and (stop is None or events[i][2][0] < stop):
            replay.apply(events[i][2])
            chunk.append(events[i])
            i += 1
        md_k, lines_k, _ = _encode(t0, chunk, gomaxprocs, end if stop is None else stop, fns)
        p = path if k == 0 else f"{stem}.{k}.json"
        out.append(_writepart(p, k, md_k, lines_k, gomaxprocs))
    return out


def _writepart(p: str, k: int, md: list[str], lines: list[str], gomaxprocs: int) -> str:
    from .. import __version__

    other = {
        "producer": f"gosched {__version__}",
        "format": FORMAT,
        "python": sys.version.split()[0],
        "gomaxprocs": str(gomaxprocs),
        "part": str(k),
    }
    tmp = p + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{"displayTimeUnit":"ns","otherData":')
        f.write(json.dumps(other, separators=(",", ":")))
        f.write(',"traceEvents":[\n')
        f.write(",\n".join(md + lines))
        f.write("\n]}\n")
    os.replace(tmp, p)
    return p


def endrun(crashed: bool) -> None:
    """The run is over (proc.run, every M has ended): a full trace still recording is written
    to its path; after a panic or a fatal error, a flight recorder's window is written beside
    it (``FILE.flight.json``), as `gosched run --trace FILE` promises."""
    global _tr
    tr = _tr
    if tr is None:
        return
    path = tr.path
    gomaxprocs = max(1, len(sched.allp))
    try:
        _endrun(tr, path, gomaxprocs, crashed)
    except OSError as e:
        print(f"gosched: cannot write the execution trace: {e}", file=sys.stderr)
    finally:
        sched.tracing = False
        _tr = None


def _endrun(tr: _Tracer, path: str | None, gomaxprocs: int, crashed: bool) -> None:
    if crashed and tr.window and path is not None:
        fl = snapshot_flight()
        if fl is not None:
            stem = path[:-5] if path.endswith(".json") else path
            write(stem + ".flight.json", fl, gomaxprocs)
    if tr.full and path is not None:
        res = stop()
        if res is not None:
            write(path, res, gomaxprocs)


# ---------------------------------------------------------------------------------------------
# The face's functions (gosched.trace): each runs in the calling goroutine


def checkpath(path: Any, what: str) -> str:
    """A trace file's path, checked before anything is recorded: a str or path-like (TypeError
    otherwise), in a directory where the file can be created (the OSError says why not)."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise TypeError(
            f"{what}: path must be a str or os.PathLike, not {type(path).__name__}"
        ) from None
    name: str = os.fsdecode(p)
    with open(name, "a", encoding="utf-8"):
        pass
    return name


def StartTrace(path: Any) -> None:
    """gosched.trace.start: Go's trace.Start, for the rest of the run or until StopTrace."""
    from . import proc

    proc.checkgoroutine("gosched.trace.start")
    p = checkpath(path, "gosched.trace.start")
    proc.runtimecall("trace.start", start, p)


def StopTrace() -> list[str]:
    """gosched.trace.stop: Go's trace.Stop; writes the file (and its parts) and returns their
    paths; [] when no trace is recording, as Go's Stop does nothing then."""
    from . import proc

    if not proc.running():
        return []
    path = fullpath()

    def _stop(mp: M) -> Recording | None:
        return stop()

    res = proc.runtimecall("trace.stop", _stop)
    if res is None or path is None:
        return []
    return write(path, res, max(1, sched.gomaxprocs))


def StartFlightRecorder(seconds: float) -> None:
    from . import proc

    proc.checkgoroutine("gosched.trace.FlightRecorder.start")
    proc.runtimecall("trace.flightrecorder", start, None, seconds)


def StopFlightRecorder() -> None:
    from . import proc

    if proc.running():
        proc.runtimecall("trace.flightrecorder", lambda mp: stop(flight=True))


def WriteFlightRecorder(path: Any) -> list[str]:
    """What the flight recorder holds now, written to path; [] if none is recording."""
    p = checkpath(path, "gosched.trace.FlightRecorder.write_to")
    fl = snapshot_flight()
    if fl is None:
        return []
    return write(p, fl, max(1, sched.gomaxprocs))
