"""The scheduler. Follows go/src/runtime/proc.go: schedinit, procresize, newproc/newproc1,
gfget/gfput, mstart, schedule, findRunnable, execute, goexit0, gopark/goready, Gosched, Goexit,
startm/stopm/wakep/handoffp, locked Ms (startlockedm/stoplockedm), the template thread that
starts threads for locked Ms (newmHandoff, templateThread), stop-the-world, checkdead, and the
door into the runtime (Go's entersyscall/exitsyscall). How the runtime stops is in
exit.py, Ctrl-C in signal.py.

How a goroutine runs
--------------------
Each M's g0 greenlet loops in schedule(): pick a G (findRunnable), execute it (switch into its
stack), and when the G switches back with an mcall request (fn, gp), run fn(mp, gp) on g0:
park_m, gosched_m, goyield_m, goexit0, exitsyscall0. Go's g0 never returns to a loop; it calls
schedule() from the tail of every mcall function. A loop is the same control flow without a
growing Python stack. An mcall function may return a G to execute at once (park_m when unlockf
refuses), as Go's would call execute directly.

The door (DESIGN decision 5)
----------------------------
Runtime code runs holding the M's P; user code runs with the P in the M's claim token
(``mp.psyscall``, see runtime2.py), as Go's goroutine in a syscall. Every way from user code into
the runtime and back is the door: ``enter(what)`` finds the calling goroutine's M (RuntimeError
outside a goroutine) and takes the token back (one list pop; exitsyscall_slow when it was taken),
and ``leave(mp)`` puts it out again and, if ``mp.safepoint`` is set, stops at the safe point.
Public operations go through ``runtimecall(what, fn, ...)``, which is the two around
fn(mp, ...), also when fn raises; the hot paths (Chan.send/recv, go, the goroutine body) keep
inline copies, marked ``# inline-of:`` and checked against these functions by
tests/test_structure.py.

Invariant: the token is out (``mp.psyscall == [mp.p]``) exactly while the M runs user code of
its current G. g0 code, and a G inside gopark/mcall, always holds it, so a G resumed from gopark
is back in runtime code holding the P, and only leaving the runtime puts the token out again.
A goroutine being killed at exit is the exception: it runs its finally blocks with the token in
(exit.py), so that its next runtime entry cannot take the fast path.

Whoever takes an M's token with sched.lock held (stop-the-world, startexit, and later sysmon)
owns the P and sets ``mp.p = None``; that M's next entry finds the list empty and takes the
slow path, which reads ``mp.p`` under sched.lock.

Safe points. The exit and interrupt states are explicit fields (``sched.exiting``,
``sched.sigint``), and ``mp.safepoint`` is the one flag the hot paths read to learn that one of
them concerns the goroutine on mp: the door's way out checks it, and so do the fast paths that
skip g0 (gopark's, the goroutine body's, schedule's), every idle path (mpark, the timer sleep,
findRunnable) and stop-the-world. Go poisons a goroutine's stack guard for the same purpose.

Started goroutines stay on their M (DESIGN decision 2)
------------------------------------------------------
A G's frames live on a greenlet bound to the thread that first ran it (``gp.boundm``). Whoever
finds such a G runnable on another M hands it over with startlockedm, as Go does for a
goroutine locked to its thread: into the owner's ``mailbox``, with the finder's P if the owner is
parked without one. An M checks its mailbox first in findRunnable, and, holding sched.lock,
before it parks without a P; if it can get no P it moves the mailbox to the global queue, where
the next M to dequeue it hands it back together with a P. A locked M (lock_os_thread) runs
only Gs bound to it.

The lock order is in runtime2.py.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar

from greenlet import GreenletExit, getcurrent

from . import exit as _exit
from . import preempt as _preempt
from . import signal as _signal
from . import stack as _stack
from . import sysmon as _sysmon
from . import time as _time
from . import trace as _trace
from .godebug import debug, parsedebugvars
from .os_thread import newosproc
from .panic import Deadlock, ExitReason, FatalError, GoexitUnwind, add_note, throw
from .runq import (
    _stealable,
    globrunqget,
    globrunqputhead,
    runqempty,
    runqget,
    runqput,
    runqputslow,
    runqsteal,
)
from .runtime2 import (
    GOID_CACHE_BATCH,
    GSTATUS_NAMES,
    LEGAL_TRANSITIONS,
    M_EXTRA,
    M_TEMPLATE,
    RUNQ_SIZE,
    G,
    M,
    P,
    _Gdead,
    _Gidle,
    _Grunnable,
    _Grunning,
    _Gsyscall,
    _Gwaiting,
    _Pdead,
    _Pgcstop,
    _Pidle,
    _Prunning,
    _Psyscall,
    safepoints,
    sched,
    waitReasonPanicWait,
)
from .trace import (
    EV_GFREE,
    EV_GLOBALPUT,
    EV_GOBLOCK,
    EV_GOCREATE,
    EV_GODESTROY,
    EV_GOSTART,
    EV_GOSTOP,
    EV_GOUNBLOCK,
    EV_MSTART,
    EV_MSTOP,
    EV_PROCSCHANGE,
    EV_PROCSTART,
    EV_PROCSTOP,
    EV_RUNQPUT,
    EV_SYSCALLEND,
    EV_SYSCALLENDBLOCKED,
)

nanotime = time.monotonic_ns
_getframe = sys._getframe
# The exception being handled on this thread's current stack, if any (sys.exception: 3.11+).
_exception: Callable[[], BaseException | None] = getattr(sys, "exception", None) or (
    lambda: sys.exc_info()[1]
)

# gosched.run holds this while the runtime is up: one runtime per process, as in Go.
_runlock = threading.Lock()

_NOKW: dict[str, Any] = {}

_rand = random.Random()

m0: M | None = None

_P = ParamSpec("_P")
_R = TypeVar("_R")


# ---------------------------------------------------------------------------------------------
# Status, current G


# _LEGAL[old][new]: LEGAL_TRANSITIONS as nested tuples, the cheapest lookup for casgstatus.
_LEGAL = tuple(
    tuple(new in LEGAL_TRANSITIONS.get(old, ()) for new in range(10)) for old in range(10)
)


def casgstatus(gp: G, oldval: int, newval: int) -> None:
    """Move gp from oldval to newval; throw on a transition runtime2.LEGAL_TRANSITIONS forbids."""
    if gp.atomicstatus != oldval or not _LEGAL[oldval][newval]:
        _badstatus(gp, oldval, newval)
    gp.atomicstatus = newval


def _badstatus(gp: G, oldval: int, newval: int) -> NoReturn:
    name = GSTATUS_NAMES.get
    throw(
        f"casgstatus: bad transition for goroutine {gp.goid}: "
        f"{name(gp.atomicstatus)} (expected {name(oldval)}) -> {name(newval)}"
    )


def notgoroutine(what: str) -> NoReturn:
    # "from None": the caller found no goroutine by catching an AttributeError, which says
    # nothing to a user who has not started the runtime.
    raise RuntimeError(
        f"gosched.{what}: not called from a goroutine; start the program with gosched.run(main) "
        "and call it from main or a goroutine started with gosched.go, or run the script with "
        "`gosched run SCRIPT`"
    ) from None


def getm(what: str) -> M:
    """The M of the calling goroutine; RuntimeError outside one."""
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        notgoroutine(what)
    return mp


def getgoroutinem(what: str) -> M:
    """getm for what only a goroutine can ask about itself (its id, Goexit, its thread lock):
    RuntimeError from a plain thread too, even one that has called into the runtime."""
    mp = getm(what)
    if mp.kind == M_EXTRA:
        raise RuntimeError(
            f"gosched.{what}: called from a plain thread, which is not a goroutine (it may use "
            "channels, select, sync and contexts, but has no goroutine of its own to ask about)"
        )
    return mp


def getg() -> G | None:
    """The calling goroutine (Go's getg), or None when the caller is not one."""
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        return None
    return mp.curg


def ingoroutine() -> bool:
    """Whether the caller is a goroutine of the running runtime."""
    return getg() is not None


def checkgoroutine(what: str) -> None:
    """RuntimeError naming ``what`` unless the caller is a goroutine, or a plain thread while
    a run is active (its runtime calls make it an M: cgocall.py): public operations that will
    need the runtime check it before they change any state."""
    try:
        getcurrent().m  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError:
        if not running():
            notgoroutine(what)


# ---------------------------------------------------------------------------------------------
# The door: user code is a syscall


def enter(what: str) -> M:
    """The way into the runtime from user code (Go's exitsyscall): find the calling goroutine's
    M and take its P back. RuntimeError outside a goroutine, naming ``what``."""
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        mp = needm(what)
    try:
        pp = mp.psyscall.pop()
    except IndexError:
        pp = exitsyscall_slow(mp)  # noqa: F841 (go() uses pp)
    return mp


def needm(what: str) -> M:
    """The caller is not a goroutine: a plain thread becomes an M of its own (cgocall.py), if
    the runtime is running; RuntimeError naming ``what`` otherwise."""
    from .cgocall import needm as _needm

    return _needm(what)


def leave(mp: M) -> None:
    """The way out of the runtime into user code (Go's entersyscall): put the P out as the claim
    token, then stop at the safe point if someone asked (mp.safepoint)."""
    mp.psyscall.append(mp.p)  # type: ignore[arg-type]
    if mp.safepoint:
        safepoint(mp)


def runtimecall(
    what: str, fn: Callable[Concatenate[M, _P], _R], /, *args: _P.args, **kwargs: _P.kwargs
) -> _R:
    """fn(mp, *args, **kwargs) inside the runtime: enter, call, leave (also when fn raises).
    The door of every public operation that is not on a measured hot path."""
    mp = enter(what)
    try:
        return fn(mp, *args, **kwargs)
    finally:
        leave(mp)


def exitsyscall_slow(mp: M) -> P:
    """The way in when the token was not out: it was taken while the goroutine ran user code
    (the goroutine is _Gsyscall), or the program is ending.

    Go's exitsyscallfast, then exitsyscall0: take the old P back if sysmon marked it and has not
    handed it off yet, else the old P if it is idle, else any idle P, else queue the goroutine
    and park the M until someone hands it a P.
    """
    kick = False
    got = None
    with sched.lock:
        exiting = sched.exiting is not None
        if not exiting:
            pp = mp.p
            if pp is not None:
                # Nobody took it: an exception escaped runtime code before the way out ran.
                return pp
            if not sched.gcwaiting:
                pp = mp.oldp
                if pp is not None and pp.status == _Psyscall:
                    pp.status = _Pidle
                    pp.syscalltick += 1
                else:
                    pp = _pidleget_prefer(pp)
                    kick = sched.sysmonnap  # our P was handed off: sysmon.kick
                if pp is not None:
                    mp.oldp = None
                    acquirep(mp, pp)
                    gp = mp.curg
                    casgstatus(gp, _Gsyscall, _Grunning)  # type: ignore[arg-type]
                    if sched.tracing:
                        mp.tracebuf.extend((nanotime(), EV_SYSCALLEND, gp.goid, mp.id))  # type: ignore[union-attr]
                        mp.tracebuf.extend((nanotime(), EV_GOSTART, gp.goid, pp.id, mp.id))  # type: ignore[union-attr]
                    got = pp
    if kick:
        _sysmon.kick()
    if got is not None:
        return got
    if exiting:
        if mp.kind == M_EXTRA:
            raise RuntimeError("gosched: the runtime is ending")
        _exit.dying(mp, True)
    gp = mp.curg
    assert gp is not None
    _stack.mcall(mp, exitsyscall0, gp)
    pp = mp.p
    if pp is None:
        throw("exitsyscall: resumed without a P")
    return pp


def exitsyscall0(mp: M, gp: G) -> G | None:
    """On g0, without a P: make gp runnable; run it at once if a P is free, else wait."""
    casgstatus(gp, _Gsyscall, _Grunnable)
    dropg(mp, gp)
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_SYSCALLENDBLOCKED, gp.goid, mp.id))
    with sched.lock:
        pp = None if sched.gcwaiting else _pidleget_prefer(mp.oldp)
        if pp is None:
            if sched.tracing:
                mp.tracebuf.extend((nanotime(), EV_GLOBALPUT, gp.goid))
            sched.runq.append(gp)
    if pp is not None:
        mp.oldp = None
        acquirep(mp, pp)
        mp.mailbox.appendleft(gp)  # findRunnable runs it next, as Go's execute(gp, false)
    return None


def _pidleget_prefer(pp: P | None) -> P | None:
    """pidleget, preferring pp if it is idle. sched.lock held."""
    if pp is not None and pp.status == _Pidle and pp in sched.pidle:
        sched.pidle.remove(pp)
        sched.npidle -= 1
        return pp
    return pidleget()


def _taketoken(mp: M, pp: P) -> bool:
    """Take mp's P while mp runs user code, which puts its goroutine in a syscall: _Gsyscall,
    with no P (runtime2.py). sched.lock held. Return whether it was taken (the caller sets the
    P's new status)."""
    try:
        got = mp.psyscall.pop()
    except IndexError:
        return False
    if got is not pp:
        throw(f"taketoken: M{mp.id} held token of P{got.id}, expected P{pp.id}")
    mp.oldp = pp
    mp.p = None
    pp.m = None
    casgstatus(mp.curg, _Grunning, _Gsyscall)  # type: ignore[arg-type]
    return True


def safepoint(mp: M) -> None:
    """The goroutine on mp is leaving the runtime (its token just went out) and mp.safepoint
    is set: do what the reasons ask.

    - The program is ending: the goroutine is killed here, or, if it is already unwinding from
      its kill, goes on unwinding with its token taken back (exit.dying).
    - sysmon asked a goroutine to yield (``mp.preempt``, ``mp.preemptg``): if it is this one
      and the P is still in the time slice sysmon meant, it goes to the global queue, as Go's
      gopreempt_m sends it. Another goroutine of the same slice (a runnext partner) leaves
      the request pending for the one asked; a new slice ends it.
    - A Ctrl-C waits for goroutine 1 (m0 only): goroutine 1 raises KeyboardInterrupt here; any
      other goroutine yields to g0, which takes goroutine 1 off its wait (signal.deliver).
    The flag is cleared before the reasons are read, and whoever makes a reason sets it after,
    so a reason that arrives meanwhile is never lost.
    """
    if mp.kind == M_EXTRA:
        from .cgocall import dropm

        dropm(mp)  # a plain thread: its flag is never cleared
        return
    pending = False
    while mp.safepoint:
        if sched.exiting is not None:  # never cleared: the flag stays
            _exit.dying(mp, False)
            return
        mp.safepoint = False
        tick = mp.preempt
        if tick >= 0:
            pp = mp.p
            gp = mp.curg
            if pp is None or pp.schedtick != tick:
                mp.preempt = -1
                mp.preemptg = None
            elif gp is not mp.preemptg:
                # Under the GIL sysmon tends to look at the moments one partner of a pair is
                # about to hand the P on, so "whoever comes next" would nearly always be the
                # other partner, which, having just readied the first, leaves the pair running.
                pending = True
            else:
                mp.preempt = -1
                mp.preemptg = None
                _preempt.lastyield = nanotime()  # the next slice starts now
                if mp is m0 and sched.sigint:
                    # The flag was cleared for both reasons: g0 and the next goroutine must
                    # still see the Ctrl-C (else it is lost while the P changes hands).
                    mp.safepoint = True
                try:
                    mp.psyscall.pop()
                except IndexError:
                    exitsyscall_slow(mp)
                if sched.tracing:
                    mp.tracebuf.extend((nanotime(), EV_GOSTOP, gp.goid, "preempted"))  # type: ignore[union-attr]
                _stack.mcall(mp, gosched_m, gp)  # type: ignore[arg-type]
                mp.psyscall.append(mp.p)  # type: ignore[arg-type]
                continue
        if mp is not m0 or not sched.sigint:
            continue
        mp.safepoint = True
        gp = mp.curg
        if gp is sched.maing:
            _signal.raise_in_main(mp)
        try:
            mp.psyscall.pop()
        except IndexError:
            exitsyscall_slow(mp)
        if sched.tracing:
            mp.tracebuf.extend((nanotime(), EV_GOSTOP, gp.goid, "preempted"))  # type: ignore[union-attr]
        _stack.mcall(mp, goyield_m, gp)  # type: ignore[arg-type]
        mp.psyscall.append(mp.p)  # type: ignore[arg-type]
    if pending:
        mp.safepoint = True
    gp = mp.curg
    if gp is not None and gp.goexiting:
        mp.safepoint = True  # before goexiting raises: every call of gp comes back here
        goexiting(gp)


def sigint_cleared(mp: M) -> None:
    """sched.sigint was just cleared, on m0: settle the flags that told about it, each cleared
    before the reasons are read again (a Ctrl-C may arrive meanwhile)."""
    mp.safepoint = False
    safepoints.requested = False
    if sched.exiting is not None or sched.sigint:
        mp.safepoint = True
        safepoints.requested = True


def asyncpreempt(gp: G) -> BaseException | None:
    """Yield, for preempt.py's callback, which runs in gp's user code (Go's asyncPreempt, then
    gopreempt_m): gp goes to the global queue and its M schedules. Returns the exception gp is
    to raise where it resumes (it is killed, or a Ctrl-C for goroutine 1), which the callback
    must raise itself; never raises."""
    try:
        runtimecall("preempt", _asyncpreempt, gp)
    except BaseException as e:
        return e
    return None


def _asyncpreempt(mp: M, gp: G) -> None:
    if mp.curg is gp:
        if sched.tracing:
            mp.tracebuf.extend((nanotime(), EV_GOSTOP, gp.goid, "preempted"))
        _stack.mcall(mp, gosched_m, gp)


def checkpoint() -> None:
    """For a public fast path that does not enter the runtime, when safepoints.requested is
    set: pass through the door, which stops the goroutine there if it is asked to (plain
    threads pass)."""
    if ingoroutine():
        leave(enter("checkpoint"))


# ---------------------------------------------------------------------------------------------
# Bootstrap


def _default_procs() -> int:
    ncpu = _ncpu()
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None and not gil():
        return ncpu  # free-threaded: Ps can run in parallel
    return 1  # DESIGN decision 3: under the GIL extra Ps only add cross-thread wake-ups


def _ncpu() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gomaxprocs_from_env() -> int | None:
    """GOMAXPROCS from the environment if it is an int > 0; anything else is ignored, as in Go."""
    v = os.environ.get("GOMAXPROCS")
    if v is None:
        return None
    try:
        n = int(v.strip(), 10)
    except ValueError:
        return None
    return n if n > 0 else None


def schedinit(procs: int | None) -> M:
    """Go's schedinit on the calling thread, which becomes m0 with its current greenlet as g0."""
    global m0
    sched.reset()
    newmHandoff.reset()
    parsedebugvars()
    _preempt.start()
    sched.maxmcount = sched.maxthreads  # debug.set_max_threads outlives a run, as in Go
    sched.threadsatstart = set(threading.enumerate())
    sched.ncpu = _ncpu()
    mp = M()
    mp.g0 = getcurrent()
    mp.tid = threading.get_ident()
    with sched.lock:
        mcommoninit(mp, -1)
    m0 = mp
    sched.lastpoll = nanotime()
    if procs is None:
        procs = gomaxprocs_from_env() or _default_procs()
    with sched.lock:
        if procresize(mp, procs):
            throw("unknown runnable goroutine during bootstrap")
    return mp


def mcommoninit(mp: M, id: int) -> None:
    """Give mp an id and prepend it to allm. sched.lock held."""
    if id >= 0:
        mp.id = id
    else:
        mp.id = mReserveID()
    sched.allm.insert(0, mp)
    if sched.tracing:
        _trace.register(mp)
    if sched.exiting is not None:
        mp.safepoint = True  # as startexit did for the Ms before it


def mReserveID() -> int:
    """sched.lock held."""
    if sched.mnext + 1 < sched.mnext:
        throw("runtime: thread ID overflow")
    id = sched.mnext
    sched.mnext += 1
    checkmcount()
    return id


def checkmcount() -> None:
    """sched.lock held."""
    count = sched.mnext - sched.nmfreed
    if count > sched.maxmcount:
        print(f"runtime: program exceeds {sched.maxmcount}-thread limit", file=sys.stderr)
        throw("thread exhaustion")


def mcount() -> int:
    return sched.mnext - sched.nmfreed


def procresize(mp: M, nprocs: int) -> list[P]:
    """Change the number of Ps to nprocs. sched.lock held, world stopped.

    Returns the Ps that have local work, each with its M in ``nextp`` (or None: start one).
    """
    old = sched.gomaxprocs
    if old < 0 or nprocs <= 0:
        throw("procresize: invalid arg")
    allp = list(sched.allp)
    while len(allp) < nprocs:
        allp.append(P(len(allp)))
    cur = mp.p
    if cur is not None and cur.id < nprocs:
        cur.status = _Prunning  # keep using it; stop-the-world left it _Pgcstop
    else:
        if cur is not None:
            cur.m = None
        mp.p = None
        pp = allp[0]
        pp.m = None
        pp.status = _Pidle
        acquirep(mp, pp)
    moved = len(sched.runq)
    for i in range(nprocs, old):
        _pdestroy(allp[i], mp.p)
    moved = len(sched.runq) - moved
    if sched.tracing:
        gs = tuple(gp.goid for gp in list(sched.runq)[:moved])
        mp.tracebuf.extend((nanotime(), EV_PROCSCHANGE, nprocs, gs))
    del allp[nprocs:]
    sched.allp = allp
    runnable: list[P] = []
    for i in range(nprocs - 1, -1, -1):
        pp = allp[i]
        if mp.p is pp:
            continue
        pp.status = _Pidle
        if runqempty(pp):
            pidleput(pp)
        else:
            runnable.insert(0, pp)
    sched.stealOrder.reset(nprocs)
    sched.gomaxprocs = nprocs
    if sched.tracing:
        _trace.counters(mp)
    return runnable


def _pdestroy(pp: P, to: P | None) -> None:
    """A P dropped by a shrink: its queue goes to the head of the global queue in order, runnext
    first; its free Gs to the global lists. sched.lock held."""
    q = pp.runq
    while q:
        globrunqputhead(q.pop())
    if pp.runnext:
        globrunqputhead(pp.runnext.pop())
    if to is not None and pp.timers:
        _time.moveTimers(to, pp)
    gfpurge(pp)
    pp.status = _Pdead
    pp.m = None


# ---------------------------------------------------------------------------------------------
# Goroutine creation and exit


def newproc1(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parentGoid: int,
    gocode: CodeType | None,
    gopc: int,
    pp: P,
) -> G:
    """A runnable G for fn, with a fresh goid from pp's cache. pp's owner only.

    The G comes from pp's free list, else the global ones (gfget), else is new: Go's malg, here
    three statements (a G whose stack is made by the M that first runs it, _Gidle -> _Gdead,
    added to allgs). go() keeps an inline copy: allocating a G is most of what spawning costs.
    """
    gfree = pp.gFree
    newg: G | None
    if gfree:
        newg = gfree.pop()
    else:
        newg = gfget(pp) if sched.gFree_stack or sched.gFree_noStack else None
        if newg is None:
            newg = G()
            # inline-of: proc.casgstatus(gp=newg, oldval=_Gidle, newval=_Gdead)
            if newg.atomicstatus != _Gidle or not _LEGAL[_Gidle][_Gdead]:
                _badstatus(newg, _Gidle, _Gdead)
            newg.atomicstatus = _Gdead
            # end-inline
            sched.allgs.append(newg)  # atomic; readers copy the list
    newg.gocode = gocode
    newg.gopc = gopc
    newg.fn = fn
    newg.args = args
    newg.kwargs = kwargs
    newg.parentGoid = parentGoid
    if pp.goidcache == pp.goidcacheend:
        _goidrefill(pp)
    newg.goid = pp.goidcache
    pp.goidcache += 1
    # inline-of: proc.casgstatus(gp=newg, oldval=_Gdead, newval=_Grunnable)
    if newg.atomicstatus != _Gdead or not _LEGAL[_Gdead][_Grunnable]:
        _badstatus(newg, _Gdead, _Grunnable)
    newg.atomicstatus = _Grunnable
    # end-inline
    if sched.tracing:
        pp.m.tracebuf.extend(  # type: ignore[union-attr]
            (nanotime(), EV_GOCREATE, newg.goid, parentGoid, pp.id, _trace.fnid(fn), len(gfree))
        )
    return newg


def _goidrefill(pp: P) -> None:
    """Take the next batch of 16 goids for pp (Go's goidcache)."""
    with sched.lock:
        sched.goidgen += GOID_CACHE_BATCH
        pp.goidcache = sched.goidgen - (GOID_CACHE_BATCH - 1)
    pp.goidcacheend = pp.goidcache + GOID_CACHE_BATCH


def go(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Start fn(*args, **kwargs) in a new goroutine (the go statement, Go's newproc).

    The hottest path of the runtime: the door, newproc1, runqput(next=True) and wakep are
    inline copies here (a call each would cost 2-3% of a goroutine's whole life).
    """
    if not callable(fn):
        if fn is None:
            _exit.fatal("go of nil func value")
        raise TypeError(f"gosched.go: fn must be callable, not {type(fn).__name__}")
    # inline-of: proc.enter(what="go")
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        mp = needm("go")
    try:
        pp = mp.psyscall.pop()
    except IndexError:
        pp = exitsyscall_slow(mp)
    # end-inline
    # f_lasti, not f_lineno, which costs 4x more; traceback.py maps the offset to a line.
    f = _getframe(1)
    # inline-of: proc.newproc1(kwargs=kwargs or _NOKW, parentGoid=mp.curg.goid, gocode=f.f_code, gopc=f.f_lasti)  # noqa: E501
    gfree = pp.gFree
    newg: G | None
    if gfree:
        newg = gfree.pop()
    else:
        newg = gfget(pp) if sched.gFree_stack or sched.gFree_noStack else None
        if newg is None:
            newg = G()
            # inline-of: proc.casgstatus(gp=newg, oldval=_Gidle, newval=_Gdead)
            if newg.atomicstatus != _Gidle or not _LEGAL[_Gidle][_Gdead]:
                _badstatus(newg, _Gidle, _Gdead)
            newg.atomicstatus = _Gdead
            # end-inline
            sched.allgs.append(newg)  # atomic; readers copy the list
    newg.gocode = f.f_code
    newg.gopc = f.f_lasti
    newg.fn = fn
    newg.args = args
    newg.kwargs = kwargs or _NOKW
    newg.parentGoid = mp.curg.goid  # type: ignore[union-attr]
    if pp.goidcache == pp.goidcacheend:
        _goidrefill(pp)
    newg.goid = pp.goidcache
    pp.goidcache += 1
    # inline-of: proc.casgstatus(gp=newg, oldval=_Gdead, newval=_Grunnable)
    if newg.atomicstatus != _Gdead or not _LEGAL[_Gdead][_Grunnable]:
        _badstatus(newg, _Gdead, _Grunnable)
    newg.atomicstatus = _Grunnable
    # end-inline
    if sched.tracing:
        pp.m.tracebuf.extend(  # type: ignore[union-attr]
            (nanotime(), EV_GOCREATE, newg.goid, mp.curg.goid, pp.id, _trace.fnid(fn), len(gfree))  # type: ignore[union-attr]
        )
    # end-inline
    # inline-of: runq.runqput(gp=newg, next=True)
    if sched.tracing:
        pp.m.tracebuf.extend((nanotime(), EV_RUNQPUT, newg.goid, pp.id, True))  # type: ignore[union-attr]
    slot = pp.runnext
    if slot:
        try:
            kicked = slot.pop()
        except IndexError:  # a stealer took it just now
            kicked = None
        slot.append(newg)
    else:
        slot.append(newg)
        kicked = None
    if kicked is not None:
        q = pp.runq
        if len(q) < RUNQ_SIZE:
            q.append(kicked)
        else:
            runqputslow(pp, kicked)
    # end-inline
    # inline-of: proc.wakep
    if not sched.nmspinning:
        if sched.npidle:
            startspinning()
        elif not sched.needspinning:
            sched.needspinning = 1
    # end-inline
    # inline-of: proc.leave
    mp.psyscall.append(mp.p)  # type: ignore[arg-type]
    if mp.safepoint:
        safepoint(mp)
    # end-inline


def newproc(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], depth: int
) -> None:
    """go fn(*args, **kwargs) from a public function (WaitGroup.go, errgroup, context), recording
    as the creation site the user code ``depth`` frames above newproc's caller."""
    mp = enter("go")
    try:
        f = _getframe(depth + 1)
        pp: P = mp.p  # type: ignore[assignment]
        newg = newproc1(fn, args, kwargs or _NOKW, mp.curg.goid, f.f_code, f.f_lasti, pp)  # type: ignore[union-attr]
        runqput(pp, newg, True)
        wakep()
    finally:
        leave(mp)


def newproc_m(mp: M, fn: Callable[..., Any], gocode: CodeType) -> None:
    """go fn() from runtime code on g0 (a timer's function): mp holds its P; the new G is
    created by the runtime (no parent goroutine), at gocode."""
    pp = mp.p
    assert pp is not None
    newg = newproc1(fn, (), _NOKW, 0, gocode, 0, pp)
    runqput(pp, newg, True)
    wakep()


def gfput(pp: P, gp: G) -> None:
    """Put a dead G on pp's free list; at 64, move Gs to the global lists until fewer than 32."""
    if gp.atomicstatus != _Gdead:
        throw("gfput: bad status (not Gdead)")
    gfree = pp.gFree
    gfree.append(gp)
    if len(gfree) >= 64:
        _gfputslow(pp)


def _gfputslow(pp: P) -> None:
    """pp's free list reached 64: move Gs to the global lists until fewer than 32 remain.

    A stack can only ever run on its own M (DESIGN decision 2), so a moved G leaves the stack
    of this M behind in the M's stack cache, where the next G this M starts will find it; on
    the global lists it would be of no use to any other M.
    """
    gfree = pp.gFree
    mp = pp.m
    stackq: list[G] = []
    nostackq: list[G] = []
    while len(gfree) >= 32:
        g = gfree.pop()
        st = g.stack
        if st is not None and mp is not None and st.m is mp:
            g.stack = None
            mp.freestacks.append(st)
            st = None
        (nostackq if st is None else stackq).append(g)
    with sched.gFree_lock:
        sched.gFree_stack.extend(stackq)
        sched.gFree_noStack.extend(nostackq)
    if sched.tracing and mp is not None:
        mp.tracebuf.extend((nanotime(), EV_GFREE, pp.id, len(gfree)))


def gfget(pp: P) -> G | None:
    """A free G: pp's list, refilled up to 32 from the global lists (Gs with stacks first)."""
    gfree = pp.gFree
    if not gfree and (sched.gFree_stack or sched.gFree_noStack):
        with sched.gFree_lock:
            gs, gn = sched.gFree_stack, sched.gFree_noStack
            while len(gfree) < 32:
                if gs:
                    gfree.append(gs.pop())
                elif gn:
                    gfree.append(gn.pop())
                else:
                    break
    return gfree.pop() if gfree else None


def gfpurge(pp: P) -> None:
    """All of pp's free Gs to the global lists."""
    with sched.gFree_lock:
        for g in pp.gFree:
            (sched.gFree_noStack if g.stack is None else sched.gFree_stack).append(g)
    pp.gFree.clear()


@_preempt.usercaller
def goroutine_body(gp: G) -> _stack.MCallRequest:
    """The run function of every Stack: run one G's function after another (gfput/gfget reuse).

    An exception escaping the function is a panic: recorded on the G for goexit0, which stops
    the runtime. A goroutine killed at exit (exit.py) ends its stack: GreenletExit is how the kill
    unwinds it, and any other exception its finally blocks raise goes to sys.unraisablehook.

    The goexit fast path. When a goroutine's function returns, its stack is free. If the next G
    this P would run has never started, this stack runs it directly: goexit0's work (gdestroy,
    gfput), then findRunnable's first steps (runnext, then the local queue, when fastnext says
    they come first), then execute, all in the order g0 would do them, minus the two switches
    through g0 that would end in this same stack anyway (gfget hands a free stack to an
    unstarted G). Everything else (a started G next, a locked or retired M, a panic, a safe
    point request) goes through g0.
    """
    mp: M = gp.m  # type: ignore[assignment]
    while True:
        try:
            # Into user code: the token goes out. Not through leave(): whoever started this G
            # (schedule, or the goexit fast path below) looked at mp.safepoint just before, and a
            # request arriving since is seen at the goroutine's first runtime call.
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            kw = gp.kwargs
            if kw:
                gp.fn(*gp.args, **kw)  # type: ignore[misc]
            else:
                gp.fn(*gp.args)  # type: ignore[misc]
        except GoexitUnwind:
            pass
        except BaseException as e:
            if gp.killed:
                if type(e) is not GreenletExit:
                    _exit.unraisable(e, gp)
                return (gkilled_m, gp)
            gp.panic = e
            with sched.lock:
                sched.panicking += 1
            try:
                _exit.printpanics(e, gp)  # user code (__str__): the token is still out
            except BaseException:
                if gp.killed:  # killed while its __str__ ran in the runtime
                    return (gkilled_m, gp)
        gp.goexiting = False  # it has ended either way: the way in below is not its call
        try:
            mp.psyscall.pop()
        except IndexError:
            if sched.exiting is not None:  # killed, or taken by startexit: the stack ends
                return (gkilled_m, gp)
            exitsyscall_slow(mp)
        if gp.panic is not None or gp.lockedm is not None:
            gp = _stack.mcall(mp, goexit0, gp)
            continue
        pp: P = mp.p  # type: ignore[assignment]
        # inline-of: proc.gdestroy
        # inline-of: proc.casgstatus(gp=gp, oldval=_Grunning, newval=_Gdead)
        if gp.atomicstatus != _Grunning or not _LEGAL[_Grunning][_Gdead]:
            _badstatus(gp, _Grunning, _Gdead)
        gp.atomicstatus = _Gdead
        # end-inline
        gp.m = None
        mp.curg = None
        gp.fn = None
        gp.args = ()
        gp.kwargs = _NOKW
        gp.boundm = None
        gp.goexiting = False
        gp.inexc = False
        gp.param = None
        if sched.tracing:
            mp.tracebuf.extend((nanotime(), EV_GODESTROY, gp.goid, mp.p.id, len(mp.p.gFree) + 1))  # type: ignore[union-attr]
        # end-inline
        nxt = None
        inherit = False
        # inline-of: proc.fastnext
        fast = (
            (pp.schedtick % 61 != 0 or not sched.runq)
            and not mp.safepoint
            and not mp.mailbox
            and mp.lockedg is None
            and not mp.retired
            and not sched.gcwaiting
            and (not pp.timer0When or pp.timer0When > nanotime())
        )
        # end-inline
        if fast:
            # Stealers on other Ms may empty runnext or the queue between any two steps, so
            # each look is an atomic operation that may fail (the checks before them keep the
            # usual empty case free of exceptions).
            slot = pp.runnext
            head = None
            if slot:
                try:
                    head = slot[0]
                except IndexError:
                    pass
            if head is not None:
                if head.boundm is None:
                    try:
                        nxt = slot.pop()
                        inherit = True
                    except IndexError:
                        pass
            else:
                q = pp.runq
                if q:
                    try:
                        head = q[0]
                    except IndexError:
                        pass
                    if head is not None and head.boundm is None:
                        try:
                            nxt = q.popleft()
                        except IndexError:
                            pass
                        if nxt is not None and nxt.boundm is not None:
                            # The head was stolen between our look and our pop, and the next
                            # one has started: g0 runs it first, as findRunnable would have.
                            mp.mailbox.appendleft(nxt)
                            nxt = None
        if nxt is None:
            mp.nbound -= 1
            gfput(pp, gp)
            gp = _stack.mcall(mp, schedule_m, gp)
            continue
        # Hand this stack over (mp.nbound is unchanged: one G ends, one starts), gfput gp,
        # then execute(nxt, inherit) on this stack.
        nxt.stack = gp.stack
        gp.stack = None
        gfree = pp.gFree
        gfree.append(gp)
        if len(gfree) >= 64:
            _gfputslow(pp)
        # inline-of: proc.execute(gp=nxt)
        mp.curg = nxt
        nxt.m = mp
        # inline-of: proc.casgstatus(gp=nxt, oldval=_Grunnable, newval=_Grunning)
        if nxt.atomicstatus != _Grunnable or not _LEGAL[_Grunnable][_Grunning]:
            _badstatus(nxt, _Grunnable, _Grunning)
        nxt.atomicstatus = _Grunning
        # end-inline
        if not inherit:
            pp.schedtick += 1
        if sched.tracing:
            mp.tracebuf.extend((nanotime(), EV_GOSTART, nxt.goid, pp.id, mp.id))
        # end-inline
        nxt.boundm = mp
        gp = nxt


def fastnext(mp: M, pp: P) -> bool:
    """Whether the next G for mp comes from pp's local queue (runnext, then the head), so that a
    fast path may take it there without going through g0: no fairness tick takes the global
    queue first, no safe point is requested, nothing was handed to this M, it is not locked or
    retired, no stop-the-world waits, and no timer is due. findRunnable decides the same way.
    """
    fast = (
        (pp.schedtick % 61 != 0 or not sched.runq)
        and not mp.safepoint
        and not mp.mailbox
        and mp.lockedg is None
        and not mp.retired
        and not sched.gcwaiting
        and (not pp.timer0When or pp.timer0When > nanotime())
    )
    return fast


def execute(mp: M, pp: P, gp: G, inherit: bool) -> None:
    """Go's execute, up to gogo: gp becomes mp's current G and runs; a new time slice
    (schedtick) unless it inherits the one of the G it follows. mp holds pp."""
    mp.curg = gp
    gp.m = mp
    # inline-of: proc.casgstatus(gp=gp, oldval=_Grunnable, newval=_Grunning)
    if gp.atomicstatus != _Grunnable or not _LEGAL[_Grunnable][_Grunning]:
        _badstatus(gp, _Grunnable, _Grunning)
    gp.atomicstatus = _Grunning
    # end-inline
    if not inherit:
        pp.schedtick += 1
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GOSTART, gp.goid, pp.id, mp.id))


def goexit0(mp: M, gp: G) -> None:
    """On g0: the goroutine's function has returned (Go's goexit0: gdestroy, then gfput). A G
    that exits locked to its thread retires the M."""
    panic = gp.panic
    gp.panic = None
    locked = gp.lockedm is not None
    gdestroy(mp, gp)
    if locked:
        _goexit_locked(mp, gp)
    mp.nbound -= 1
    gfput(mp.p, gp)  # type: ignore[arg-type]
    if panic is not None:
        add_note(panic, f"goroutine {gp.goid} [running]")
        _exit.startexit(ExitReason(ExitReason.PANIC, exc=panic, goid=gp.goid))


def gdestroy(mp: M, gp: G) -> None:
    """Go's field resets and dropg for a G whose function returned. Owner: mp, holding its P.

    The caller settles mp.nbound (the goexit fast path hands the stack straight to the next G)
    and a locked G's M (goexit0).
    """
    # inline-of: proc.casgstatus(gp=gp, oldval=_Grunning, newval=_Gdead)
    if gp.atomicstatus != _Grunning or not _LEGAL[_Grunning][_Gdead]:
        _badstatus(gp, _Grunning, _Gdead)
    gp.atomicstatus = _Gdead
    # end-inline
    gp.m = None
    mp.curg = None
    gp.fn = None
    gp.args = ()
    gp.kwargs = _NOKW
    gp.boundm = None
    gp.goexiting = False
    gp.inexc = False
    gp.param = None
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GODESTROY, gp.goid, mp.p.id, len(mp.p.gFree) + 1))  # type: ignore[union-attr]


def schedule_m(mp: M, gp: G) -> None:
    """On g0: nothing to do but schedule (gp already went through gdestroy and gfput)."""


def _goexit_locked(mp: M, gp: G) -> None:
    """gp exits while locked to mp. Go kills such a thread, which may be in an unusual state.
    The M retires: it gives up its P, runs only Gs already bound to it, and then ends."""
    gp.lockedm = None
    mp.lockedg = None
    mp.lockedExt = 0
    mp.retired = True
    st = gp.stack
    gp.stack = None
    if st is not None and not st.dead:
        _stack.kill(st, GreenletExit())


def gkilled_m(mp: M, gp: G) -> None:
    """On g0: gp's stack ended because the runtime is stopping."""
    if gp.boundm is mp:
        gp.boundm = None
        mp.nbound -= 1
    gp.stack = None
    if mp.curg is gp:
        mp.curg = None


def Goexit() -> NoReturn:
    """End the calling goroutine after its finally blocks run (runtime.Goexit).

    As in Go, the goroutine ends even if its unwinding is stopped: a finally block that raises
    and an except that catches that exception (Go: a deferred call that panics, and a recover)
    leave the goroutine exiting. Python cannot end it at the end of that except, so it ends at
    its next runtime call made outside the handling of the unwinding (goexiting), or when its
    function returns."""
    mp = getgoroutinem("goexit")
    gp: G = mp.curg  # type: ignore[assignment]
    gp.goexiting = True
    mp.safepoint = True  # every runtime call of gp now leaves through safepoint (goexiting)
    raise GoexitUnwind


def goexiting(gp: G) -> None:
    """On the way out of a runtime call by a goroutine that called Goexit: raise GoexitUnwind
    again, unless the goroutine is still unwinding from it (a finally block) or handling an
    exception raised while it did (an except whose exception chain holds the GoexitUnwind).

    On the way out, not in: the call has done its work. A call in a finally block that runs on
    normal completion (``finally: wg.done()`` after the Goexit was swallowed deeper down)
    cannot be told from any other call, and skipping it would lose the cleanup Go's deferred
    calls always do; doing one call too many is the smaller difference."""
    exc = sys.exc_info()[1]
    seen = 0
    while exc is not None and seen < 100:
        if isinstance(exc, GoexitUnwind):
            return
        exc = exc.__context__
        seen += 1
    raise GoexitUnwind


# ---------------------------------------------------------------------------------------------
# Parking and readying


def gopark(mp: M, unlockf: Callable[[G, Any], bool] | None, lock: Any, reason: str) -> None:
    """Park the current G (holding the claim) until goready; return holding the claim again.

    unlockf(gp, lock) runs after gp is _Gwaiting; if it returns False gp runs again at once.
    The caller has set gp.waiting to what gp waits on (abortpark needs it).

    The park fast path: park_m's work done on this stack, then, if the G that findRunnable
    would pick next is in runnext and already lives on this M, a switch straight to it (one
    greenlet switch instead of two through g0). This stack is free to be resumed by anyone
    only once it has switched out, and only this thread can switch into it, so a waker on
    another M that readies gp meanwhile just queues it (startlockedm, mailbox).
    """
    gp: G = mp.curg  # type: ignore[assignment]
    gp.waitreason = reason
    gp.inexc = _exception() is not None
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GOBLOCK, gp.goid, reason))
    pp: P = mp.p  # type: ignore[assignment]
    slot = pp.runnext
    # inline-of: proc.fastnext
    fast = (
        (pp.schedtick % 61 != 0 or not sched.runq)
        and not mp.safepoint
        and not mp.mailbox
        and mp.lockedg is None
        and not mp.retired
        and not sched.gcwaiting
        and (not pp.timer0When or pp.timer0When > nanotime())
    )
    # end-inline
    if slot and fast:
        # park_m, here
        # inline-of: proc.casgstatus(gp=gp, oldval=_Grunning, newval=_Gwaiting)
        if gp.atomicstatus != _Grunning or not _LEGAL[_Grunning][_Gwaiting]:
            _badstatus(gp, _Grunning, _Gwaiting)
        gp.atomicstatus = _Gwaiting
        # end-inline
        mp.curg = None
        gp.m = None
        if unlockf is not None and not unlockf(gp, lock):
            casgstatus(gp, _Gwaiting, _Grunnable)
            gp.waitreason = ""
            # inline-of: proc.execute(inherit=True)
            mp.curg = gp
            gp.m = mp
            # inline-of: proc.casgstatus(gp=gp, oldval=_Grunnable, newval=_Grunning)
            if gp.atomicstatus != _Grunnable or not _LEGAL[_Grunnable][_Grunning]:
                _badstatus(gp, _Grunnable, _Grunning)
            gp.atomicstatus = _Grunning
            # end-inline
            if sched.tracing:
                mp.tracebuf.extend((nanotime(), EV_GOSTART, gp.goid, pp.id, mp.id))
            # end-inline
            return
        try:
            nxt = slot[0]
        except IndexError:  # stolen meanwhile
            nxt = None
        if nxt is not None and nxt.boundm is mp:
            try:
                slot.pop()
            except IndexError:
                nxt = None
            if nxt is not None:
                # inline-of: proc.execute(gp=nxt, inherit=True)
                mp.curg = nxt
                nxt.m = mp
                # inline-of: proc.casgstatus(gp=nxt, oldval=_Grunnable, newval=_Grunning)
                if nxt.atomicstatus != _Grunnable or not _LEGAL[_Grunnable][_Grunning]:
                    _badstatus(nxt, _Grunnable, _Grunning)
                nxt.atomicstatus = _Grunning
                # end-inline
                if sched.tracing:
                    mp.tracebuf.extend((nanotime(), EV_GOSTART, nxt.goid, pp.id, mp.id))
                # end-inline
                _stack.switchto(nxt.stack, nxt)  # type: ignore[arg-type]
                return
        _stack.mcall(mp, schedule_m, gp)
        return
    mp.waitlock = lock
    mp.waitunlockf = unlockf
    _stack.mcall(mp, park_m, gp)


def park_m(mp: M, gp: G) -> G | None:
    casgstatus(gp, _Grunning, _Gwaiting)
    dropg(mp, gp)
    unlockf = mp.waitunlockf
    if unlockf is not None:
        lock = mp.waitlock
        mp.waitunlockf = None
        mp.waitlock = None
        if not unlockf(gp, lock):
            casgstatus(gp, _Gwaiting, _Grunnable)
            gp.waitreason = ""
            return gp
    return None


def goready(mp: M, gp: G) -> None:
    """Make a parked G runnable in the runnext of mp's P (Go's ready). mp holds its P.

    Every waker (channels, select, semaphores, timers) comes through here, so runqput and wakep
    are inline copies.
    """
    # inline-of: proc.casgstatus(gp=gp, oldval=_Gwaiting, newval=_Grunnable)
    if gp.atomicstatus != _Gwaiting or not _LEGAL[_Gwaiting][_Grunnable]:
        _badstatus(gp, _Gwaiting, _Grunnable)
    gp.atomicstatus = _Grunnable
    # end-inline
    gp.waitreason = ""
    pp: P = mp.p  # type: ignore[assignment]
    if sched.tracing:
        by = mp.curg
        mp.tracebuf.extend((nanotime(), EV_GOUNBLOCK, gp.goid, by.goid if by is not None else 0))
    # inline-of: runq.runqput(next=True)
    if sched.tracing:
        pp.m.tracebuf.extend((nanotime(), EV_RUNQPUT, gp.goid, pp.id, True))  # type: ignore[union-attr]
    slot = pp.runnext
    if slot:
        try:
            kicked = slot.pop()
        except IndexError:  # a stealer took it just now
            kicked = None
        slot.append(gp)
    else:
        slot.append(gp)
        kicked = None
    if kicked is not None:
        q = pp.runq
        if len(q) < RUNQ_SIZE:
            q.append(kicked)
        else:
            runqputslow(pp, kicked)
    # end-inline
    # inline-of: proc.wakep
    if not sched.nmspinning:
        if sched.npidle:
            startspinning()
        elif not sched.needspinning:
            sched.needspinning = 1
    # end-inline


def abortpark(gp: G) -> bool:
    """Take gp, which is parked, off whatever it waits on (gp.waiting), so that no waker will
    ready it: then the caller owns its wake-up (Go has no such thing; gosched needs it to raise
    Ctrl-C in goroutine 1). False if a waker has it already: it is being readied.

    Each kind of wait knows how to let go of its G (``abortwait``): a channel operation or a
    select leaves its channels' queues, a semaphore or notify-list waiter its list, a sleep
    stops its timer; a wait nothing can end (the nil channel, ``select {}``) always lets go.
    """
    w = gp.waiting
    if w is None:
        throw(f"abortpark: goroutine {gp.goid} is parked with no record of what it waits on")
    if not w.abortwait(gp):
        return False
    gp.waiting = None
    return True


def dropg(mp: M, gp: G) -> None:
    mp.curg = None
    gp.m = None


def Gosched() -> None:
    """Yield: the calling G goes to the tail of the global queue (runtime.Gosched)."""
    runtimecall("gosched", _gosched)


def _gosched(mp: M) -> None:
    gp: G = mp.curg  # type: ignore[assignment]
    gp.inexc = _exception() is not None
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GOSTOP, gp.goid, "runtime.Gosched"))
    _stack.mcall(mp, gosched_m, gp)


def gosched_m(mp: M, gp: G) -> None:
    casgstatus(gp, _Grunning, _Grunnable)
    mp.curg = None
    gp.m = None
    lock = sched.lock
    lock.acquire()
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GLOBALPUT, gp.goid))
    sched.runq.append(gp)
    lock.release()
    wakep()


def goyield(mp: M) -> None:
    """Yield to the local queue's tail (Go's goyield, used by semaphore hand-off). Claim held."""
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_GOSTOP, mp.curg.goid, "preempted"))  # type: ignore[union-attr]
    _stack.mcall(mp, goyield_m, mp.curg)  # type: ignore[arg-type]


def goyield_m(mp: M, gp: G) -> None:
    casgstatus(gp, _Grunning, _Grunnable)
    dropg(mp, gp)
    runqput(mp.p, gp, False)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# schedule / findRunnable / execute


def mstart(mp: M) -> None:
    """The body of every M's thread (and of m0 inside gosched.run)."""
    try:
        pp = mp.nextp
        if pp is not None:
            mp.nextp = None
            acquirep(mp, pp)
        schedule(mp)
    except BaseException as e:  # a runtime bug (FatalError) on g0
        kind = ExitReason.FATAL if isinstance(e, FatalError) else ExitReason.PANIC
        _exit.startexit(ExitReason(kind, exc=e))
    if mp is not m0:
        _exit.mexit(mp)


def schedule(mp: M) -> None:
    """One round of the scheduler after another, until the runtime stops or mp must end.

    The common case, a G in runnext or the local queue when fastnext says they come first, is
    findRunnable's first steps inlined. (fastnext and execute are called here: a copy of them
    would save 0.1% of pingpong's or spawn's instructions.)
    """
    gogo = _stack.gogo
    while True:
        if mp.safepoint:
            if sched.exiting is not None:
                return
            _signal.deliver(mp)
        if mp.lockedg is not None or mp.retired:
            # A locked M runs only Gs bound to it (Go's stoplockedm at the top of schedule).
            gp = stoplockedm(mp)
            if gp is None:
                if mp.exited:
                    return  # a plain thread's M, detached at the end of the run (cgocall.py)
                if mp.retired and mp.nbound == 0 and mp is not m0:
                    return
                continue
            if sched.exiting is not None:
                return  # it may be a G killed meanwhile: it must not start again
            inherit = False
        else:
            pp = mp.p
            if pp is None:
                stopm(mp)
                continue
            gp = None
            if fastnext(mp, pp):
                slot = pp.runnext
                if slot:
                    try:
                        gp = slot.pop()
                        inherit = True
                    except IndexError:
                        pass
                if gp is None:
                    q = pp.runq
                    if q:
                        try:
                            gp = q.popleft()
                            inherit = False
                        except IndexError:
                            pass
            if gp is None:
                found = findRunnable(mp)
                if found is None:
                    continue
                if sched.exiting is not None:
                    return  # it may be a G killed meanwhile: it must not start again
                gp, inherit = found
                if mp.spinning:
                    resetspinning(mp)
            bm = gp.boundm
            if bm is not None and bm is not mp:
                startlockedm(mp, gp)
                continue
        while True:
            execute(mp, mp.p, gp, inherit)  # type: ignore[arg-type]
            st = gp.stack
            if gp.boundm is None:
                if gp.killed:
                    break  # killed at exit, and left on a run queue: it never starts again
                if st is None or st.m is not mp or st.dead:
                    st = stackget(mp, gp)
                gp.boundm = mp
                mp.nbound += 1
            fn, arg = gogo(st, gp)  # type: ignore[arg-type]
            nxt = fn(mp, arg)
            if nxt is None:
                break
            gp = nxt
            inherit = True


def stackget(mp: M, gp: G) -> _stack.Stack:
    """A stack of mp's thread for gp, which is about to start; the one it had goes home."""
    old = gp.stack
    if old is not None and not old.dead:
        om: M = old.m
        if not om.retired and not om.exited:
            om.freestacks.append(old)
    fs = mp.freestacks
    st: _stack.Stack | None = None
    while fs:
        cand = fs.pop()
        if not cand.dead:
            st = cand
            break
    if st is None:
        # Borrow the idle stack of a free G on our P: when many goroutines are created before
        # any finishes, they have no stacks, while the ones that finished leave theirs on the
        # free list. The most recently freed G sits on top, so a short look suffices.
        gfree = mp.p.gFree  # type: ignore[union-attr]
        for i in range(len(gfree) - 1, max(len(gfree) - 9, -1), -1):
            other = gfree[i].stack
            if other is not None and other.m is mp and not other.dead:
                gfree[i].stack = None
                st = other
                break
    if st is None:
        st = _stack.newstack(goroutine_body, mp)
    gp.stack = st
    return st


def findRunnable(mp: M) -> tuple[G, bool] | None:
    """Find a G to run (Go's findRunnable). None when mp stopped or lost its P: loop again."""
    while True:
        pp = mp.p
        if pp is None or (mp.safepoint and _g0wanted(mp)):
            return None
        if sched.gcwaiting:
            gcstopm(mp)
            continue
        # Timers due on our P run first; they may ready goroutines into our runnext.
        if pp.timer0When:
            _time.checkTimers(mp, pp, 0)
        mb = mp.mailbox
        if mb:
            return mb.popleft(), False
        # Fairness: now and then take from the global queue first, so it cannot starve.
        if pp.schedtick % 61 == 0 and sched.runq:
            with sched.lock:
                gp = globrunqget(pp, 1)
            if gp is not None:
                return gp, False
        gp, inherit = runqget(pp)
        if gp is not None:
            return gp, inherit
        if sched.runq:
            with sched.lock:
                gp = globrunqget(pp, 0)
            if gp is not None:
                return gp, False
        # Steal, but don't let more than half of the busy Ps spin. With one P (the default)
        # there is no other P to steal from or run the timers of: Go's spinning M would walk
        # allp and find only its own; here that walk was a quarter of the instructions of a
        # blocking(fn) call (benchmarks/blocking_call.py).
        if sched.gomaxprocs > 1 and (
            mp.spinning or 2 * sched.nmspinning < sched.gomaxprocs - sched.npidle
        ):
            if not mp.spinning:
                with sched.lock:
                    becomeSpinning(mp)
            gp, ranTimer = stealWork(mp, pp)
            if gp is not None:
                return gp, False
            if ranTimer or sched.gcwaiting:
                continue  # a timer may have readied a goroutine into our runnext
        # Nothing to do: give up the P.
        with sched.lock:
            if sched.gcwaiting or sched.exiting is not None or mb:
                continue
            if sched.runq:
                gp = globrunqget(pp, 0)
                return gp, False  # type: ignore[return-value]
            if not mp.spinning and sched.needspinning == 1:
                # A wakep found no idle P; we are about to free one, so spin in its place.
                becomeSpinning(mp)
                continue
            releasep(mp)
            pidleput(pp)
        if mp.spinning:
            # Delicate dance (proc.go): drop spinning, then re-check everything a spinner would
            # have found, so that work submitted meanwhile always gets an M.
            mp.spinning = False
            with sched.lock:
                sched.nmspinning -= 1
                if sched.nmspinning < 0:
                    throw("findrunnable: negative nmspinning")
                if sched.runq:
                    pp2 = pidleget()
                    if pp2 is not None:
                        acquirep(mp, pp2)
                        becomeSpinning(mp)
                        continue
            pp2 = _checkRunqsNoP(mp)
            if pp2 is not None:
                acquirep(mp, pp2)
                with sched.lock:
                    becomeSpinning(mp)
                continue
        if _sleep_until_timer(mp):
            continue
        stopm(mp)


def _checkRunqsNoP(mp: M) -> P | None:
    for p2 in list(sched.allp):
        if p2.status != _Pidle and _hasstealable(p2, mp):
            with sched.lock:
                return pidleget()
    return None


def _hasstealable(pp: P, mp: M) -> bool:
    return any(_stealable(gp, mp) for gp in list(pp.runq) + list(pp.runnext))


def stealWork(mp: M, pp: P) -> tuple[G | None, bool]:
    """Four passes over the other Ps in random order; on the last one, also run their due
    timers and take their runnext. Returns (a G to run, whether a timer ran)."""
    allp = sched.allp
    n = len(allp)
    order = sched.stealOrder
    ranTimer = False
    now = 0
    for i in range(4):
        last = i == 3
        for idx in order.start(_rand.getrandbits(32)):
            if sched.gcwaiting:
                return None, ranTimer
            if idx >= n:
                continue
            p2 = allp[idx]
            if p2 is pp:
                continue
            if last and p2.timer0When:
                now, _, ran = _time.checkTimers(mp, p2, now)
                if ran:
                    # The timer may have readied a goroutine into our runnext.
                    ranTimer = True
                    gp, _ = runqget(pp)
                    if gp is not None:
                        return gp, True
            if p2.status == _Pidle:
                continue
            gp = runqsteal(pp, p2, mp, last)
            if gp is not None:
                return gp, ranTimer
    return None, ranTimer


def _sleep_until_timer(mp: M) -> bool:
    """mp has no P and found no work. If a timer is pending on any P and no other M is already
    sleeping until one, sleep until the earliest (Go's netpoll(delay) in findRunnable), then
    take an idle P to run it. Returns whether mp now holds a P.

    Whatever wakes an M wakes this one too: startlockedm, a timer armed earlier
    (wakeNetPoller), the runtime's exit, and a Ctrl-C (m0: signal.py)."""
    pollUntil = _time.nextTimer()
    if pollUntil == 0:
        return False
    with sched.lock:
        if sched.pollerm is not None or sched.exiting is not None:
            return False
        sched.pollerm = mp
        sched.lastpoll = 0
        sched.pollUntil = pollUntil
    # A timer armed after nextTimer() above either saw us as the poller and woke us, or saw no
    # poller and called wakep, which finds the P we released.
    delay = pollUntil - nanotime()
    if delay > 0 and not (mp.safepoint and _g0wanted(mp)):
        mp.blocked = True
        try:
            mp.park.tsleep(delay / 1e9)
        finally:
            mp.blocked = False
    with sched.lock:
        if sched.pollerm is mp:
            sched.pollerm = None
            sched.pollUntil = 0
            sched.lastpoll = nanotime()
        if sched.exiting is not None:
            return False
        pp = mp.nextp
        if pp is not None:
            # startlockedm handed us a goroutine bound to us, with its P.
            mp.nextp = None
            acquirep(mp, pp)
            return True
        pp = pidleget()
        if pp is None:
            return False
        acquirep(mp, pp)
        # As Go after netpoll: look for work as a spinning M (the due timer may be on
        # another P; stealWork runs those).
        becomeSpinning(mp)
    return True


def _g0wanted(mp: M) -> bool:
    """Whether a safe-point reason needs mp's g0 at the top of schedule (mp.safepoint is set):
    the runtime is ending, or a Ctrl-C can be delivered to goroutine 1 (m0)."""
    return sched.exiting is not None or (mp is m0 and _signal.deliverable())


def becomeSpinning(mp: M) -> None:
    """sched.lock held."""
    mp.spinning = True
    sched.nmspinning += 1
    sched.needspinning = 0


def resetspinning(mp: M) -> None:
    """A spinning M found work: stop spinning and let another M take over the search."""
    mp.spinning = False
    with sched.lock:
        sched.nmspinning -= 1
        if sched.nmspinning < 0:
            throw("resetspinning: negative nmspinning")
    wakep()


# ---------------------------------------------------------------------------------------------
# Ps and Ms


def acquirep(mp: M, pp: P) -> None:
    if mp.p is not None or pp.m is not None or pp.status != _Pidle:
        throw(f"acquirep: invalid p state: M{mp.id}.p={mp.p} P{pp.id}.m={pp.m} status={pp.status}")
    mp.p = pp
    pp.m = mp
    pp.status = _Prunning
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_PROCSTART, pp.id, mp.id))
    if sched.sysmonwait:
        _sysmon.wakesysmon()


def releasep(mp: M) -> P:
    pp = mp.p
    if pp is None or pp.m is not mp or pp.status != _Prunning:
        throw(f"releasep: invalid p state: M{mp.id}.p={pp}")
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_PROCSTOP, pp.id, mp.id))
    mp.p = None
    pp.m = None
    pp.status = _Pidle
    return pp


def pidleput(pp: P) -> None:
    """sched.lock held."""
    if not runqempty(pp):
        throw("pidleput: P has non-empty run queue")
    sched.pidle.append(pp)
    sched.npidle += 1


def pidleget() -> P | None:
    """sched.lock held."""
    if sched.pidle:
        sched.npidle -= 1
        return sched.pidle.pop()
    return None


def mput(mp: M) -> None:
    """Put mp on the idle list. sched.lock held."""
    mp.idle = True
    if sched.tracing:
        mp.tracebuf.extend((nanotime(), EV_MSTOP, mp.id))
    sched.midle.append(mp)
    sched.nmidle += 1
    checkdead()


def mget() -> M | None:
    """sched.lock held."""
    if sched.midle:
        mp = sched.midle.pop()
        mp.idle = False
        sched.nmidle -= 1
        if sched.tracing:
            mp.tracebuf.extend((nanotime(), EV_MSTART, mp.id))
        return mp
    return None


def mpark(mp: M) -> None:
    """Sleep until taken off the idle lists (by mget or startlockedm) or the runtime stops.

    A Ctrl-C wakes m0 here; it hands goroutine 1 its KeyboardInterrupt (signal.deliver), which
    with no P puts it on the global queue: whoever takes it from there hands it back with a P,
    as for any goroutine bound to an idle M (startlockedm).
    """
    while True:
        if mp.safepoint and _g0wanted(mp):
            if sched.exiting is not None:
                return
            _signal.deliver(mp)
        else:
            mp.blocked = True
            try:
                mp.park.sleep()
            finally:
                mp.blocked = False
        with sched.lock:
            if sched.exiting is not None or mp.exited or not (mp.idle or mp.lockedidle):
                return


def stopm(mp: M) -> None:
    """Park mp, which has no P, until someone hands it one (Go's stopm)."""
    with sched.lock:
        if sched.exiting is not None:
            return
        if _mailbox_needs_p(mp):
            return
        mput(mp)
        if sched.exiting is not None:  # checkdead found a deadlock
            return
    mpark(mp)
    if sched.exiting is not None:
        return
    pp = mp.nextp
    mp.nextp = None
    if pp is None:
        throw("stopm: woken without a P")
    acquirep(mp, pp)


def _mailbox_needs_p(mp: M) -> bool:
    """mp is about to park without a P. sched.lock held.

    If Gs bound to mp were handed to it meanwhile, run them on an idle P, or, with none free,
    move them to the global queue: whoever dequeues one there will hand it back with its P.
    Return True if mp got a P.
    """
    mb = mp.mailbox
    if not mb:
        return False
    pp = pidleget()
    if pp is not None:
        acquirep(mp, pp)
        return True
    sched.runq.extend(mb)
    mb.clear()
    return False


def startm(pp: P | None, spinning: bool) -> None:
    """Run pp on an idle M, or a new one (Go's startm)."""
    with sched.lock:
        if pp is None:
            if spinning:
                throw("startm: P required for spinning=true")
            pp = pidleget()
            if pp is None:
                return
        nmp = mget()
        if nmp is None:
            id = mReserveID()
        else:
            if nmp.spinning:
                throw("startm: m is spinning")
            if nmp.nextp is not None:
                throw("startm: m has p")
            nmp.spinning = spinning
            nmp.nextp = pp
    if nmp is None:
        newm(pp, spinning, id)
    else:
        nmp.park.wakeup()


def newm(pp: P | None, spinning: bool, id: int = -1) -> M:
    """A new M on a new thread that starts by acquiring pp. From a locked thread the thread is
    started by the template thread (newosproc asks handoffnewm), as Go's newm does."""
    mp = M()
    mp.nextp = pp
    mp.spinning = spinning
    with sched.lock:
        mcommoninit(mp, id)
    newosproc(f"gosched-M{mp.id}", lambda: _mstart_thread(mp), mp)
    return mp


def _mstart_thread(mp: M) -> None:
    mp.g0 = getcurrent()
    mp.tid = threading.get_ident()
    mstart(mp)


# ---------------------------------------------------------------------------------------------
# The template thread (Go's newmHandoff, startTemplateThread, templateThread)
#
# A goroutine locks its thread to give it state of its own: an unshared working directory or
# namespace, a thread name, a signal mask, a CPU affinity. A thread inherits all of that from
# the thread that starts it (clone copies it; with CLONE_FS it even shares the working
# directory), so a thread that may be in such a state never starts one. It queues the new
# thread for the template thread instead: a thread with no P and no goroutines, started by the
# first lock_os_thread of a run while that goroutine's thread was still in a known-good state,
# which sleeps on its M's note until asked and starts the queued threads from its own state.
# The check is in os_thread.newosproc (it asks handoffnewm), so it covers every thread an M
# starts: newm's, and blocking()'s helpers (Go's blocking syscall hands its P off through newm).
#
# Which threads hand off (Go's newm: gp.m.lockedExt != 0): an M whose goroutine holds
# lock_os_thread, and a retired M (its locked goroutine exited; Go's lockedExt is still set
# while mexit hands that thread's P off). A plain thread's M (M_EXTRA) is locked to its G by
# the runtime, as Go's cgocallbackg locks a C thread (lockedInt, not lockedExt): like Go's
# callback, it starts threads itself.
#
# The template's M is in allm and counts against the thread limit (threads= in schedtrace), and
# is left out of checkdead by sched.nmsys, as sysmon is; its kind is M_TEMPLATE: a system M
# that holds no P and runs no goroutines. It takes no part in stop-the-world (Go's
# issue 38931: a template waiting for the world would never start the M that the world waits
# for). It ends with the run: startexit wakes it (its note is its M's park), it starts what is
# still queued (those Ms see the exit and end) and ends, and exit._join_ms waits for it as for
# any M. A locked thread that starts a thread after that starts it itself: the new M only ends.
# newmHandoff.lock is a leaf: nothing else is taken while it is held.


class _NewmHandoff:
    """Go's newmHandoff: threads created by locked Ms, waiting for the template to start them."""

    __slots__ = ("lock", "newm", "waiting", "m", "haveTemplateThread")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """For a new run (schedinit); the template of the last one has ended."""
        self.newm: list[threading.Thread] = []  # created, not started; guarded by lock
        self.waiting = False  # the template sleeps on m.park: wake it; guarded by lock
        self.m: M | None = None  # the template's M while it runs; guarded by lock
        # Set by startTemplateThread (once per run), cleared by the template as it ends (the run
        # is ending then); guarded by lock, read without it by lock_os_thread: a stale False is
        # checked again under the lock, a stale True skips a start only while the run ends.
        self.haveTemplateThread = False


newmHandoff = _NewmHandoff()


def _lockedthread() -> bool:
    """Whether the calling thread is an M that may be in a state of a locked goroutine's making
    (Go's newm check). Ms are looked up by thread: newm runs on g0 or on a goroutine."""
    tid = threading.get_ident()
    for mp in list(sched.allm):
        if mp.tid == tid:
            return mp.kind != M_EXTRA and (mp.lockedExt != 0 or mp.retired)
    return False


def handoffnewm(t: threading.Thread) -> bool:
    """os_thread.newosproc is about to start t. If the calling thread is locked, queue t for the
    template thread and return True (Go's newm, on a locked M); else return False."""
    if not _lockedthread():
        return False
    h = newmHandoff
    with h.lock:
        if not h.haveTemplateThread:
            if sched.exiting is None:
                throw("on a locked thread with no template thread")
            return False  # the template has ended with the run; the new M will only end
        h.newm.append(t)
        if h.waiting:
            h.waiting = False
            h.m.park.wakeup()  # type: ignore[union-attr]
    return True


def startTemplateThread() -> None:
    """Start the template thread if it is not running (Go's startTemplateThread). The calling
    thread must be in a known-good state: lock_os_thread calls it before it locks."""
    h = newmHandoff
    with h.lock:
        # Once the run ends its template ends too, and threads started after that only end: no
        # template is needed then, and one made from a locked thread would be queued for itself.
        if h.haveTemplateThread or sched.exiting is not None:
            return
        h.haveTemplateThread = True
    mp = M()
    mp.kind = M_TEMPLATE  # a system M: no P, no goroutines, in nmsys (see above)
    with sched.lock:
        mcommoninit(mp, -1)  # checkmcount: the template counts against the thread limit
        sched.nmsys += 1
    with h.lock:
        h.m = mp  # before its thread starts: only the thread sets waiting, which needs m
    try:
        newosproc(f"gosched-M{mp.id} template", lambda: templateThread(mp), mp)
    except RuntimeError as e:  # the OS would not give us a thread
        throw(f"newosproc: cannot start the template thread: {e}")


def templateThread(mp: M) -> None:
    """The template thread's body (Go's templateThread): start the threads that locked Ms
    queued, sleep until more come, end when the run stops."""
    mp.tid = threading.get_ident()
    h = newmHandoff
    try:
        while True:
            with h.lock:
                batch = h.newm
                h.newm = []
                if not batch:
                    if sched.exiting is not None:
                        h.haveTemplateThread = False
                        h.waiting = False
                        h.m = None
                        break
                    h.waiting = True
            if batch:
                for t in batch:
                    t.start()
            else:
                mp.park.sleep()
    except BaseException as e:  # a thread that would not start, or a runtime bug: the run ends
        with h.lock:
            h.newm = []  # never started: the run is ending, nothing waits for them
            h.haveTemplateThread = False
            h.waiting = False
            h.m = None
        kind = ExitReason.FATAL if isinstance(e, FatalError) else ExitReason.PANIC
        _exit.startexit(ExitReason(kind, exc=e))
    with sched.lock:
        sched.nmsys -= 1
    _exit.mexit(mp)


def wakep() -> None:
    """Start a spinning M for an idle P if nobody is spinning already (Go's wakep).

    Go finds that there is no idle P under sched.lock; the unlocked read can only miss a P that
    is being freed right now, and an M freeing a P checks needspinning first. go() and goready
    keep inline copies.
    """
    if not sched.nmspinning:
        if sched.npidle:
            startspinning()
        elif not sched.needspinning:
            sched.needspinning = 1


def startspinning() -> None:
    """wakep's second half: take an idle P and start a spinning M on it."""
    with sched.lock:
        if sched.nmspinning != 0:
            return
        pp = pidleget()
        if pp is None:
            sched.needspinning = 1
            return
        sched.nmspinning += 1
    startm(pp, True)


def handoffp(pp: P) -> None:
    """Give up pp, which its M released: start an M for it if anyone could use it."""
    if not runqempty(pp) or sched.runq:
        startm(pp, False)
        return
    with sched.lock:
        if sched.nmspinning + sched.npidle == 0:
            sched.nmspinning += 1
            sched.needspinning = 0
            spin = True
        else:
            spin = False
    if spin:
        startm(pp, True)
        return
    with sched.lock:
        if sched.gcwaiting:
            pp.status = _Pgcstop
            sched.stopwait -= 1
            if sched.stopwait == 0:
                sched.stopnote.wakeup()
            return
        start = bool(sched.runq) or (
            # The last running P, and nobody polls the network: keep an M looking.
            sched.npidle == sched.gomaxprocs - 1 and sched.lastpoll != 0
        )
        if not start:
            pidleput(pp)
    if start:
        startm(pp, False)


def startlockedm(mp: M, gp: G) -> None:
    """gp is bound to another M: hand it over (Go's startlockedm, for every started G).

    If its M is parked it gets gp and mp's P, and mp will stop; if it is busy gp waits in its
    mailbox, which it checks before it next idles.
    """
    owner = gp.boundm
    assert owner is not None
    with sched.lock:
        owner.mailbox.append(gp)
        if owner.idle:
            sched.midle.remove(owner)
            sched.nmidle -= 1
            owner.idle = False
        elif owner.lockedidle:
            owner.lockedidle = False
            sched.nmidlelocked -= 1
        elif sched.pollerm is owner:
            # It sleeps until a timer with no P (_sleep_until_timer): as good as idle.
            sched.pollerm = None
            sched.pollUntil = 0
            sched.lastpoll = nanotime()
        else:
            return
        owner.nextp = releasep(mp)
    owner.park.wakeup()


def stoplockedm(mp: M) -> G | None:
    """A locked (or retired) M: wait for a G bound to it; hand off the P meanwhile.

    Returns the G to run (mp then holds a P), or None when the runtime stops or mp is to end.
    """
    mb = mp.mailbox
    if mp.p is not None:
        if mb:
            return mb.popleft()
        # handoffp also stops the P for a pending stop-the-world; a locked M must never go
        # through gcstopm, which would park it on midle where startm could give it other work.
        handoffp(releasep(mp))
    with sched.lock:
        if sched.exiting is not None:
            return None
        if _mailbox_needs_p(mp):
            return mb.popleft()
        if mp.retired and mp.nbound == 0 and mp is not m0:
            return None
        mp.lockedidle = True
        sched.nmidlelocked += 1
        checkdead()
        if sched.exiting is not None:
            return None
    mpark(mp)
    if sched.exiting is not None or mp.exited:
        return None
    pp = mp.nextp
    mp.nextp = None
    if pp is None:
        throw("stoplockedm: woken without a P")
    acquirep(mp, pp)
    return mb.popleft()


def LockOSThread() -> None:
    runtimecall("lock_os_thread", _lockOSThread)


def _lockOSThread(mp: M) -> None:
    if mp.kind == M_EXTRA:
        getgoroutinem("lock_os_thread")
    if not newmHandoff.haveTemplateThread:
        # As Go's LockOSThread: start the template now, while this thread is still in a
        # known-good state (locked, it may not be, and it must not start threads itself).
        startTemplateThread()
    gp: G = mp.curg  # type: ignore[assignment]
    mp.lockedExt += 1
    mp.lockedg = gp
    gp.lockedm = mp


def UnlockOSThread() -> None:
    runtimecall("unlock_os_thread", _unlockOSThread)


def _unlockOSThread(mp: M) -> None:
    if mp.kind == M_EXTRA:
        getgoroutinem("unlock_os_thread")
    if mp.lockedExt == 0:
        return
    mp.lockedExt -= 1
    if mp.lockedExt == 0:
        gp: G = mp.curg  # type: ignore[assignment]
        mp.lockedg = None
        gp.lockedm = None


# ---------------------------------------------------------------------------------------------
# Stop the world, GOMAXPROCS


def stopTheWorld(mp: M) -> None:
    """Stop every P but mp's (Go's stopTheWorldWithSema). mp holds its P (claim)."""
    from .sema import semacquire

    semacquire(mp, sched.worldsema)
    pp = mp.p
    assert pp is not None
    with sched.lock:
        sched.stopwait = sched.gomaxprocs
        sched.gcwaiting = True
        pp.status = _Pgcstop
        sched.stopwait -= 1
        _stopother(pp)
        while True:
            p2 = pidleget()
            if p2 is None:
                break
            p2.status = _Pgcstop
            sched.stopwait -= 1
    while True:
        with sched.lock:
            if sched.stopwait <= 0 or sched.exiting is not None:
                break
            _stopother(pp)
            if sched.stopwait <= 0:
                break
        # Ms on g0 stop themselves at their next schedule (gcstopm); an M that went back into
        # user code after that check is caught by the next pass of _stopother.
        sched.stopnote.tsleep(100e-6)
    if sched.stopwait < 0:
        throw("stopTheWorld: negative stopwait")


def _stopother(pp: P) -> None:
    """Take the Ps whose Ms are in user code, and the ones sysmon marked. sched.lock held."""
    for p2 in sched.allp:
        if p2 is pp:
            continue
        if p2.status == _Psyscall:
            p2.status = _Pgcstop
            sched.stopwait -= 1
            continue
        if p2.status != _Prunning:
            continue
        owner = p2.m
        if owner is not None and _taketoken(owner, p2):
            p2.status = _Pgcstop
            sched.stopwait -= 1


def gcstopm(mp: M) -> None:
    """mp's P stops for stop-the-world; mp parks until the world restarts."""
    if mp.spinning:
        mp.spinning = False
        with sched.lock:
            sched.nmspinning -= 1
    pp = releasep(mp)
    with sched.lock:
        pp.status = _Pgcstop
        sched.stopwait -= 1
        if sched.stopwait == 0:
            sched.stopnote.wakeup()
    stopm(mp)


def startTheWorld(mp: M, nprocs: int) -> None:
    from .sema import semrelease

    with sched.lock:
        runnable = procresize(mp, nprocs)
        sched.gcwaiting = False
        sched.stopwait = 0
        starts: list[P] = []
        wakes: list[M] = []
        for pp in runnable:
            nmp = mget()
            if nmp is None:
                starts.append(pp)
            else:
                nmp.nextp = pp
                wakes.append(nmp)
    for nmp in wakes:
        nmp.park.wakeup()
    for pp in starts:
        newm(pp, False)
    wakep()
    semrelease(mp, sched.worldsema)


def GOMAXPROCS(n: int = 0) -> int:
    """Set the number of Ps when n > 0 (stopping the world); return the previous value."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"gomaxprocs: n must be an int, not {type(n).__name__}")
    return runtimecall("gomaxprocs", _gomaxprocs, n)


def _gomaxprocs(mp: M, n: int) -> int:
    ret = sched.gomaxprocs
    if n <= 0 or n == ret:
        return ret
    stopTheWorld(mp)
    startTheWorld(mp, n)
    return ret


# ---------------------------------------------------------------------------------------------
# checkdead


def _newthreads() -> bool:
    """A thread started during the run is alive and not one of the runtime's."""
    ours = {mp.thread for mp in sched.allm}
    # A plain thread that became an M (cgocall.py) is counted by checkdead as an M already;
    # it has no Thread of ours, only its ident, which is current while its M is in allm.
    extra = {mp.tid for mp in sched.allm if mp.kind == M_EXTRA}
    old = sched.threadsatstart
    for t in threading.enumerate():
        if t in old or t in ours or t.ident in extra or t.name.startswith("gosched-M"):
            continue
        return True
    return False


def checkdead() -> None:
    """Report a deadlock if no M can run and no goroutine can be woken. sched.lock held."""
    if sched.exiting is not None:
        return
    sched.deadlockpending = False
    run = mcount() - sched.nmidle - sched.nmidlelocked - sched.nmsys - sched.nmidlehelper
    if run > 0:
        return
    if run < 0:
        _exit.fatal_locked(
            FatalError(
                f"checkdead: inconsistent counts: mcount={mcount()} nmidle={sched.nmidle} "
                f"nmidlelocked={sched.nmidlelocked} nmsys={sched.nmsys} "
                f"nmidlehelper={sched.nmidlehelper}"
            )
        )
        return
    waiting = 0
    gs = list(sched.allgs)
    for gp in gs:
        s = gp.atomicstatus
        if s == _Gwaiting:
            waiting += 1
        elif s in (_Grunnable, _Grunning, _Gsyscall):
            _exit.fatal_locked(FatalError(f"checkdead: runnable g: goroutine {gp.goid} status={s}"))
            return
    if waiting == 0:
        _exit.fatal_locked(Deadlock("no goroutines (main called runtime.Goexit) - deadlock!"))
        return
    for pp in sched.allp:
        if pp.ntimers:
            return  # a pending timer will wake someone
    if sched.nfutures or _newthreads():
        # A future not done yet, or a thread started during the run, may still ready someone
        # (cgocall.py): sysmon looks again until they are done.
        sched.deadlockpending = True
        return
    from .traceback import dumpall

    _exit.fatal_locked(Deadlock("all goroutines are asleep - deadlock!", dumpall(gs)))


# ---------------------------------------------------------------------------------------------
# gosched.run: Go's rt0_go + runtime.main


@_preempt.usercaller
def runtime_main(main: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Goroutine 1 (Go's runtime.main)."""
    mp = enter("run")
    sched.mainStarted = True
    if not debug.sysmonoff:
        _sysmon.newsysmon()
    # Go's runtime.main blocks once during its init (gcenable waits for the background sweeper
    # and scavenger) and comes back through execute with a fresh time slice, so main.main
    # starts with P0's schedtick at 1. Orderings that depend on the 61-tick fairness check match
    # Go only from that state (see tests/conformance).
    mp.p.schedtick += 1  # type: ignore[union-attr]
    leave(mp)
    try:
        result = main(*args, **kwargs)
        if mp.curg.goexiting:  # type: ignore[union-attr]
            raise GoexitUnwind  # its unwinding was caught: Goexit still ends it (Goexit)
    except GoexitUnwind:
        # The program goes on without goroutine 1, whose G is about to be reused.
        sched.maing = None
        raise
    _waitpanics(mp.curg)  # type: ignore[arg-type]
    _exit.startexit(ExitReason(ExitReason.MAIN_RETURNED, value=result))


def _waitpanics(me: G) -> None:
    """Go's runtime.main after main.main returns: a goroutine running its deferred calls for a
    panic gets up to 1000 yields to finish them (runningPanicDefers), and once a goroutine's
    panic is being reported, main waits for good (panicking): the program ends with the panic,
    not with exit 0. Python cannot tell a finally block unwinding an exception from an except
    handling one, so every goroutine that last parked or yielded with an exception in hand
    counts (G.inexc); one merely handling an exception costs main those yields, nothing else."""
    if not sched.panicking:
        cands = [
            gp
            for gp in list(sched.allgs)
            if gp.inexc and gp is not me and gp.atomicstatus in (_Gwaiting, _Grunnable)
        ]
        for _ in range(1000 if cands else 0):
            if sched.panicking or sched.exiting is not None:
                break
            if not any(gp.inexc and gp.atomicstatus != _Gdead for gp in cands):
                break
            Gosched()
    if sched.panicking and sched.exiting is None:
        from .chan import park_forever

        runtimecall("main", park_forever, waitReasonPanicWait)


def run(
    main: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    gomaxprocs: int | None,
    script: bool = False,
    trace: str | None = None,
) -> Any:
    """gosched.run; ``script``: main runs a script for `gosched run` (cli.py); ``trace``: a
    file to record the whole run's execution trace to (`gosched run --trace`), else
    $GOSCHED_TRACE's."""
    if not callable(main):
        raise TypeError(f"gosched.run: main must be callable, not {type(main).__name__}")
    if gomaxprocs is not None and (
        isinstance(gomaxprocs, bool) or not isinstance(gomaxprocs, int) or gomaxprocs <= 0
    ):
        raise ValueError(f"gosched.run: gomaxprocs must be an int > 0, got {gomaxprocs!r}")
    if not _runlock.acquire(blocking=False):
        if sched.script and getg() is sched.maing is not None:
            # A script written for `python script.py` runs under `gosched run`: it is goroutine
            # 1 already, so its main is simply called (and asks for its Ps as main would).
            if gomaxprocs is not None:
                GOMAXPROCS(gomaxprocs)
            return main(*args, **kwargs)
        raise RuntimeError(
            "gosched.run: the runtime is already running (run cannot be nested, or called "
            "from a second thread while the first run is active)"
        )
    try:
        mp = schedinit(gomaxprocs)
        pp = mp.p
        assert pp is not None
        gp = newproc1(runtime_main, (main, args, kwargs), _NOKW, 0, None, 0, pp)
        sched.maing = gp
        sched.script = script
        runqput(pp, gp, True)
        trace = trace or os.environ.get("GOSCHED_TRACE") or None
        if trace is not None:
            # Nothing runs yet: no world to stop. The State shows main in runnext, as main
            # (Go's trace shows it created before the trace starts too).
            _trace.start(mp, trace, stopworld=False)
        restore = _signal.install()
        try:
            try:
                mstart(mp)
            finally:
                reason = _exit.teardown(mp, restore)
                if _trace.active() or _trace.active(flight=True):
                    _trace.endrun(
                        reason is None or reason.kind in (ExitReason.PANIC, ExitReason.FATAL)
                    )
        finally:
            global m0
            m0 = None
            _preempt.stop()
            sched.reset()
    finally:
        _runlock.release()
    if reason is None:
        raise FatalError("gosched.run: scheduler stopped without a reason")
    if reason.kind == ExitReason.MAIN_RETURNED:
        return reason.value
    exc = reason.exc
    assert exc is not None
    raise exc


# ---------------------------------------------------------------------------------------------
# Introspection


def NumGoroutine() -> int:
    """Live goroutines (Go's gcount): all Gs minus the free ones; at least 1."""
    if not running():
        raise RuntimeError(
            "gosched.num_goroutine: the runtime is not running; call it inside gosched.run(main)"
        )
    n = len(sched.allgs) - len(sched.gFree_stack) - len(sched.gFree_noStack)
    for pp in sched.allp:
        n -= len(pp.gFree)
    # A plain thread's G counts only during its calls, as Go's extra G does (sched.ngsys).
    n -= sched.nextradead
    for mp in list(sched.allm):
        if mp.kind == M_EXTRA and mp.curg is not None and mp.curg.atomicstatus == _Gsyscall:
            n -= 1
    return max(n, 1)


def goid() -> int:
    mp = getgoroutinem("goid")
    gp = mp.curg
    assert gp is not None
    return gp.goid


def running() -> bool:
    return _runlock.locked() and sched.allp != []
