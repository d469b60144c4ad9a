"""The scheduler. Follows go/src/runtime/proc.go: schedinit, procresize, newproc/newproc1,
gfget/gfput, mstart, schedule, findRunnable, execute, goexit0, gopark/goready, Gosched, Goexit,
startm/stopm/wakep/handoffp, locked Ms (startlockedm/stoplockedm), stop-the-world, checkdead.

How a goroutine runs
--------------------
Each M's g0 greenlet loops in schedule(): pick a G (findRunnable), execute it (switch into its
stack), and when the G switches back with an mcall request (fn, gp), run fn(mp, gp) on g0:
park_m, gosched_m, goyield_m, goexit0, exitsyscall0. Go's g0 never returns to a loop; it calls
schedule() from the tail of every mcall function. A loop is the same control flow without a
growing Python stack. An mcall function may return a G to execute at once (park_m when unlockf
refuses, exitsyscall0 when it finds a P), as Go's would call execute directly.

The claim (DESIGN decision 4)
-----------------------------
Runtime code runs holding the M's P; user code runs with the P in the M's claim token
(``mp.psyscall``, see runtime2.py). The rule, kept by every entry point:

Invariant: the token is out (``mp.psyscall == [mp.p]``) exactly while the M runs user code of
its current G. It is put out by entersyscall (the goroutine body before calling the function,
every public function before it returns or raises into user code) and taken back by
exitsyscall (every public function on entry, the body after the function returns). g0 code,
and a G inside gopark/mcall, always holds it, so a G resumed from gopark is back in runtime code
holding the P, and only returning to user code puts the token out again.

Whoever takes an M's token with sched.lock held (stop-the-world, startexit, and later sysmon)
owns the P and sets ``mp.p = None``; that M's next exitsyscall finds the list empty and takes the
slow path, which reads ``mp.p`` under sched.lock.

Started goroutines stay on their M (DESIGN decision 2)
------------------------------------------------------
A G's frames live on a greenlet bound to the thread that first ran it (``gp.boundm``). Whoever
finds such a G runnable on another M hands it over with startlockedm, as Go does for a
goroutine locked to its thread: into the owner's ``mailbox``, with the finder's P if the owner is
parked without one. An M checks its mailbox first in findRunnable, and, holding sched.lock,
before it parks without a P; if it can get no P it moves the mailbox to the global queue, where
the next M to dequeue it hands it back together with a P. A locked M (lock_os_thread) runs
only Gs bound to it.

Lock order: sched.lock, then sched.allglock or sched.gFree_lock. A Sema's lock is never held
while taking sched.lock (ready() runs after the Sema's lock is dropped).
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType
from typing import Any, NoReturn

from greenlet import GreenletExit, getcurrent

from . import stack as _stack
from . import time as _time
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
    sched,
)

nanotime = time.monotonic_ns
_getframe = sys._getframe

# How many GreenletExit throws a goroutine gets at shutdown before we give up on it (it keeps
# catching GreenletExit and parking again).
_KILL_TRIES = 100

# gosched.run holds this while the runtime is up: one runtime per process, as in Go.
_runlock = threading.Lock()

_NOKW: dict[str, Any] = {}

_rand = random.Random()

m0: M | None = None


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
    raise RuntimeError(
        f"gosched.{what}: not called from a goroutine; start the program with gosched.run(main) "
        "and call it from main or a goroutine started with gosched.go"
    )


def getm(what: str) -> M:
    """The M of the calling goroutine; RuntimeError outside one."""
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        notgoroutine(what)
    return mp


# ---------------------------------------------------------------------------------------------
# The claim token: user code is a syscall


def exitsyscall(mp: M) -> P:
    """Runtime entry from user code: take the P back (the fast path is one list pop)."""
    try:
        return mp.psyscall.pop()
    except IndexError:
        return exitsyscall_slow(mp)


def entersyscall(mp: M) -> None:
    """Back to user code: put the P out as the claim token."""
    mp.psyscall.append(mp.p)  # type: ignore[arg-type]


def exitsyscall_slow(mp: M) -> P:
    """The token was taken while the goroutine ran user code (or it was never put out).

    Go's exitsyscallfast, then exitsyscall0: take the old P if it is idle, else any idle P,
    else queue the goroutine and park the M until someone hands it a P.
    """
    with sched.lock:
        if sched.exiting is not None:
            raise GreenletExit
        pp = mp.p
        if pp is not None:
            # Nobody took it: an exception escaped runtime code before entersyscall ran.
            return pp
        if not sched.gcwaiting:
            pp = _pidleget_prefer(mp.oldp)
            if pp is not None:
                mp.oldp = None
                acquirep(mp, pp)
                return pp
    gp = mp.curg
    assert gp is not None
    _stack.mcall(mp, exitsyscall0, gp)
    pp = mp.p
    assert pp is not None
    return pp


def exitsyscall0(mp: M, gp: G) -> G | None:
    """On g0, without a P: make gp runnable; run it at once if a P is free, else wait."""
    casgstatus(gp, _Grunning, _Grunnable)
    dropg(mp, gp)
    with sched.lock:
        pp = None if sched.gcwaiting else _pidleget_prefer(mp.oldp)
        if pp is None:
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
    """Take mp's P while mp runs user code. sched.lock held. Return whether it was taken."""
    try:
        got = mp.psyscall.pop()
    except IndexError:
        return False
    if got is not pp:
        throw(f"taketoken: M{mp.id} held token of P{got.id}, expected P{pp.id}")
    mp.oldp = pp
    mp.p = None
    pp.m = None
    return True


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
    sched.maxmcount = 10000
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
    for i in range(nprocs, old):
        _pdestroy(allp[i], mp.p)
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


def malg() -> G:
    """A new G, _Gidle -> _Gdead, added to allgs. Its stack is made by the M that first runs it."""
    newg = G()
    casgstatus(newg, _Gidle, _Gdead)
    sched.allgs.append(newg)  # atomic; readers copy the list
    return newg


def newproc1(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    callergp: G | None,
    gocode: CodeType | None,
    gopc: int,
    pp: P,
) -> G:
    """A runnable G for fn, with a fresh goid from pp's cache. pp's owner only."""
    gfree = pp.gFree
    newg = gfree.pop() if gfree else gfget(pp)
    if newg is None:
        newg = malg()
    newg.fn = fn
    newg.args = args
    newg.kwargs = kwargs
    newg.gocode = gocode
    newg.gopc = gopc
    newg.parentGoid = callergp.goid if callergp is not None else 0
    if pp.goidcache == pp.goidcacheend:
        _goidrefill(pp)
    newg.goid = pp.goidcache
    pp.goidcache += 1
    casgstatus(newg, _Gdead, _Grunnable)
    return newg


def _goidrefill(pp: P) -> None:
    """Take the next batch of 16 goids for pp (Go's goidcache)."""
    with sched.lock:
        sched.goidgen += GOID_CACHE_BATCH
        pp.goidcache = sched.goidgen - (GOID_CACHE_BATCH - 1)
    pp.goidcacheend = pp.goidcache + GOID_CACHE_BATCH


def go(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Start fn(*args, **kwargs) in a new goroutine (the go statement, Go's newproc).

    The hottest path of the runtime: newproc1 and runqput(next=True) are inlined here.
    """
    if not callable(fn):
        raise TypeError("go of nil func value")
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        notgoroutine("go")
    try:
        pp = mp.psyscall.pop()
    except IndexError:
        pp = exitsyscall_slow(mp)
    gfree = pp.gFree
    if gfree:
        newg = gfree.pop()
    elif sched.gFree_stack or sched.gFree_noStack:
        newg = gfget(pp) or malg()
    else:
        newg = G()  # malg, inlined
        casgstatus(newg, _Gidle, _Gdead)
        sched.allgs.append(newg)
    f = _getframe(1)
    newg.gocode = f.f_code
    newg.gopc = f.f_lasti  # f_lineno costs 4x more; traceback.py maps the offset to a line
    newg.fn = fn
    newg.args = args
    newg.kwargs = kwargs or _NOKW  # an empty dict per goroutine only feeds the cyclic GC
    newg.parentGoid = mp.curg.goid  # type: ignore[union-attr]
    if pp.goidcache == pp.goidcacheend:
        _goidrefill(pp)
    newg.goid = pp.goidcache
    pp.goidcache += 1
    casgstatus(newg, _Gdead, _Grunnable)
    # runqput(pp, newg, next=True) and wakep's first checks, inlined as in goready (keep the
    # two in step): a call costs 2-3% of a goroutine's whole life here.
    slot = pp.runnext
    if slot:
        try:
            old = slot.pop()
        except IndexError:
            old = None
        slot.append(newg)
        if old is not None:
            q = pp.runq
            if len(q) < RUNQ_SIZE:
                q.append(old)
            else:
                runqputslow(pp, old)
    else:
        slot.append(newg)
    if not sched.nmspinning:  # wakep's first checks, inlined
        if sched.npidle:
            wakep()
        elif not sched.needspinning:
            sched.needspinning = 1
    mp.psyscall.append(pp)


def newproc(
    fn: Callable[..., Any], args: tuple[Any, ...], depth: int, kwargs: dict[str, Any] = _NOKW
) -> None:
    """go fn(*args, **kwargs) from a public function, recording as the creation site the user
    code ``depth`` frames above the caller."""
    mp = getm("go")
    pp = exitsyscall(mp)
    f = sys._getframe(depth + 1)
    newg = newproc1(fn, args, kwargs or _NOKW, mp.curg, f.f_code, f.f_lasti, pp)
    runqput(pp, newg, True)
    if sched.mainStarted:
        wakep()
    entersyscall(mp)


def newproc_m(mp: M, fn: Callable[..., Any], gocode: CodeType) -> None:
    """go fn() from runtime code on g0 (a timer's function): mp holds its P; the new G is
    created by the runtime (no parent goroutine), at gocode."""
    pp = mp.p
    assert pp is not None
    newg = newproc1(fn, (), _NOKW, None, gocode, 0, pp)
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


def goroutine_body(gp: G) -> _stack.MCallRequest:
    """The run function of every Stack: run one G's function after another (gfput/gfget reuse).

    Exceptions escaping the function are panics: recorded on the G for goexit0, which stops the
    runtime. GreenletExit during shutdown means the goroutine is being killed; the stack ends.

    The goexit fast path. When a goroutine's function returns, its stack is free. If the next G
    this P would run has never started, this stack runs it directly: goexit0's work (gdestroy,
    gfput), then findRunnable's first steps (runnext, then the local queue, only when no fairness
    tick is due), then execute, all in the order g0 would do them, minus the two switches
    through g0 that would end in this same stack anyway (gfget hands a free stack to an
    unstarted G). Everything else (a started G next, the fairness tick, a mailbox, a locked or
    retired M, a panic, stop-the-world, shutdown) goes through g0.
    """
    mp: M = gp.m  # type: ignore[assignment]
    while True:
        try:
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            kw = gp.kwargs
            if kw:
                gp.fn(*gp.args, **kw)  # type: ignore[misc]
            else:
                gp.fn(*gp.args)  # type: ignore[misc]
        except GoexitUnwind:
            pass
        except GreenletExit:
            if sched.exiting is not None:
                return (gkilled_m, gp)
        except BaseException as e:
            gp.panic = e
        try:
            mp.psyscall.pop()
        except IndexError:
            try:
                exitsyscall_slow(mp)
            except GreenletExit:
                return (gkilled_m, gp)
        if gp.panic is not None or gp.lockedm is not None:
            gp = _stack.mcall(mp, goexit0, gp)
            continue
        pp: P = mp.p  # type: ignore[assignment]
        # gdestroy(mp, gp), inlined (keep the two in step): lockedm is None here (checked above)
        casgstatus(gp, _Grunning, _Gdead)
        gp.m = None
        mp.curg = None
        gp.fn = None
        gp.args = ()
        gp.kwargs = _NOKW
        gp.boundm = None
        gp.param = None
        nxt = None
        inherit = False
        if (
            pp.schedtick % 61
            and mp.lockedg is None
            and not mp.retired
            and not mp.mailbox
            and not sched.gcwaiting
            and sched.exiting is None
            and (not pp.timer0When or pp.timer0When > nanotime())
        ):
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
        mp.curg = nxt
        nxt.m = mp
        casgstatus(nxt, _Grunnable, _Grunning)
        nxt.preempt = False
        if not inherit:
            pp.schedtick += 1
        nxt.boundm = mp
        gp = nxt


def goexit0(mp: M, gp: G) -> None:
    """On g0: the goroutine's function has returned (Go's goexit0: gdestroy, then gfput)."""
    panic = gp.panic
    gp.panic = None
    gdestroy(mp, gp)
    mp.nbound -= 1
    gfput(mp.p, gp)  # type: ignore[arg-type]
    if panic is not None:
        add_note(panic, f"goroutine {gp.goid} [running]")
        startexit(ExitReason(ExitReason.PANIC, exc=panic, goid=gp.goid))


def gdestroy(mp: M, gp: G) -> None:
    """Go's field resets and dropg for a G whose function returned. Owner: mp, holding its P.

    The caller settles mp.nbound (the goexit fast path hands the stack straight to the next G).
    """
    casgstatus(gp, _Grunning, _Gdead)
    gp.m = None
    mp.curg = None  # dropg
    gp.fn = None
    gp.args = ()
    gp.kwargs = _NOKW
    gp.boundm = None
    gp.param = None
    if gp.lockedm is not None:
        _goexit_locked(mp, gp)


def schedule_m(mp: M, gp: G) -> None:
    """On g0: nothing to do but schedule (gp already went through gdestroy and gfput)."""


def _goexit_locked(mp: M, gp: G) -> None:
    """gp exits while locked to mp. Go kills such a thread, which may be in an unusual state.
    The M retires: it gives up its P, runs only Gs already bound to it, and then ends."""
    if mp.lockedInt != 0:
        throw("exited a goroutine internally locked to the OS thread")
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
    """End the calling goroutine after its finally blocks run (runtime.Goexit)."""
    getm("goexit")
    raise GoexitUnwind


# ---------------------------------------------------------------------------------------------
# Parking and readying


def gopark(mp: M, unlockf: Callable[[G, Any], bool] | None, lock: Any, reason: str) -> None:
    """Park the current G (holding the claim) until goready; return holding the claim again.

    unlockf(gp, lock) runs after gp is _Gwaiting; if it returns False gp runs again at once.

    The park fast path: park_m's work done on this stack, then, if the G that findRunnable
    would pick next is in runnext and already lives on this M, a switch straight to it (one
    greenlet switch instead of two through g0). This stack is free to be resumed by anyone
    only once it has switched out, and only this thread can switch into it, so a waker on
    another M that readies gp meanwhile just queues it (startlockedm, mailbox).
    """
    gp = mp.curg
    assert gp is not None
    gp.waitreason = reason
    pp = mp.p
    assert pp is not None
    slot = pp.runnext
    if (
        slot
        and (pp.schedtick % 61 or not sched.runq)
        and mp.lockedg is None
        and not mp.retired
        and not mp.mailbox
        and not sched.gcwaiting
        and sched.exiting is None
        and (not pp.timer0When or pp.timer0When > nanotime())
    ):
        # park_m, here
        casgstatus(gp, _Grunning, _Gwaiting)
        mp.curg = None
        gp.m = None
        if unlockf is not None and not unlockf(gp, lock):
            casgstatus(gp, _Gwaiting, _Grunnable)
            gp.waitreason = ""
            casgstatus(gp, _Grunnable, _Grunning)  # execute(gp, inheritTime=True)
            mp.curg = gp
            gp.m = mp
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
                # execute(nxt, inheritTime=True), then switch straight to its stack.
                mp.curg = nxt
                nxt.m = mp
                casgstatus(nxt, _Grunnable, _Grunning)
                nxt.preempt = False
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

    runqput(next=True) and wakep's first checks are inlined, as in go() (keep the two in step):
    every waker (channels, select, semaphores, timers) comes through here.
    """
    casgstatus(gp, _Gwaiting, _Grunnable)
    gp.waitreason = ""
    pp: P = mp.p  # type: ignore[assignment]
    slot = pp.runnext
    if slot:
        try:
            old = slot.pop()
        except IndexError:
            old = None
        slot.append(gp)
        if old is not None:
            q = pp.runq
            if len(q) < RUNQ_SIZE:
                q.append(old)
            else:
                runqputslow(pp, old)
    else:
        slot.append(gp)
    if not sched.nmspinning:
        if sched.npidle:
            wakep()
        elif not sched.needspinning:
            sched.needspinning = 1


def dropg(mp: M, gp: G) -> None:
    mp.curg = None
    gp.m = None


def Gosched() -> None:
    """Yield: the calling G goes to the tail of the global queue (runtime.Gosched)."""
    mp = getm("gosched")
    exitsyscall(mp)
    _stack.mcall(mp, gosched_m, mp.curg)  # type: ignore[arg-type]
    entersyscall(mp)


def gosched_m(mp: M, gp: G) -> None:
    casgstatus(gp, _Grunning, _Grunnable)
    mp.curg = None
    gp.m = None
    lock = sched.lock
    lock.acquire()
    sched.runq.append(gp)
    lock.release()
    wakep()


def goyield(mp: M) -> None:
    """Yield to the local queue's tail (Go's goyield, used by semaphore hand-off). Claim held."""
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
    except BaseException as e:  # a runtime bug (FatalError) or Ctrl-C on g0
        kind = ExitReason.FATAL if isinstance(e, FatalError) else ExitReason.PANIC
        startexit(ExitReason(kind, exc=e))
    if mp is not m0:
        mexit(mp)


def schedule(mp: M) -> None:
    """One round of the scheduler after another, until the runtime stops or mp must end.

    The common case, a G in runnext or the local queue with no fairness tick, no mailbox and no
    stop-the-world, is findRunnable's first steps inlined; so is execute, whose only caller
    this is.
    """
    gogo = _stack.gogo
    while True:
        if sched.exiting is not None:
            return
        if sched.sigint and mp is m0:
            _deliver_sigint()
        if mp.lockedg is not None or mp.retired:
            # A locked M runs only Gs bound to it (Go's stoplockedm at the top of schedule).
            gp = stoplockedm(mp)
            if gp is None:
                if mp.retired and mp.nbound == 0 and mp is not m0:
                    return
                continue
            inherit = False
        else:
            pp = mp.p
            if pp is None:
                stopm(mp)
                continue
            gp = None
            if (
                pp.schedtick % 61
                and not sched.gcwaiting
                and not mp.mailbox
                and (not pp.timer0When or pp.timer0When > nanotime())
            ):
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
                gp, inherit = found
                if mp.spinning:
                    resetspinning(mp)
            bm = gp.boundm
            if bm is not None and bm is not mp:
                startlockedm(mp, gp)
                continue
        while True:
            # execute(gp, inherit) + gogo
            mp.curg = gp
            gp.m = mp
            casgstatus(gp, _Grunnable, _Grunning)
            gp.preempt = False
            if not inherit:
                mp.p.schedtick += 1  # type: ignore[union-attr]
            st = gp.stack
            if gp.boundm is None:
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
        if pp is None or sched.exiting is not None:
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
        # Steal, but don't let more than half of the busy Ps spin.
        if mp.spinning or 2 * sched.nmspinning < sched.gomaxprocs - sched.npidle:
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
    take an idle P to run it. Returns whether mp now holds a P."""
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
    if delay > 0:
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


def releasep(mp: M) -> P:
    pp = mp.p
    if pp is None or pp.m is not mp or pp.status != _Prunning:
        throw(f"releasep: invalid p state: M{mp.id}.p={pp}")
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
    sched.midle.append(mp)
    sched.nmidle += 1
    checkdead()


def mget() -> M | None:
    """sched.lock held."""
    if sched.midle:
        mp = sched.midle.pop()
        mp.idle = False
        sched.nmidle -= 1
        return mp
    return None


def mpark(mp: M) -> None:
    """Sleep until taken off the idle lists (by mget or startlockedm) or the runtime stops."""
    while True:
        if sched.sigint and mp is m0:
            _deliver_sigint()
        mp.blocked = True
        try:
            mp.park.sleep()
        finally:
            mp.blocked = False
        if sched.sigint and mp is m0:
            _deliver_sigint()
        with sched.lock:
            if sched.exiting is not None or not (mp.idle or mp.lockedidle):
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
    """A new M on a new thread that starts by acquiring pp."""
    mp = M()
    mp.nextp = pp
    mp.spinning = spinning
    with sched.lock:
        mcommoninit(mp, id)
    mp.thread = newosproc(f"gosched-M{mp.id}", lambda: _mstart_thread(mp))
    return mp


def _mstart_thread(mp: M) -> None:
    mp.g0 = getcurrent()
    mp.tid = threading.get_ident()
    mstart(mp)


def wakep() -> None:
    """Start a spinning M for an idle P if nobody is spinning already (Go's wakep)."""
    if sched.nmspinning != 0:
        return
    if sched.npidle == 0:
        # Go finds this under sched.lock; the unlocked read can only miss a P that is being
        # freed right now, and an M freeing a P checks needspinning first.
        sched.needspinning = 1
        return
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
    if sched.exiting is not None:
        return None
    pp = mp.nextp
    mp.nextp = None
    if pp is None:
        throw("stoplockedm: woken without a P")
    acquirep(mp, pp)
    return mb.popleft()


def LockOSThread() -> None:
    mp = getm("lock_os_thread")
    gp = mp.curg
    assert gp is not None
    mp.lockedExt += 1
    mp.lockedg = gp
    gp.lockedm = mp


def UnlockOSThread() -> None:
    mp = getm("unlock_os_thread")
    if mp.lockedExt == 0:
        return
    mp.lockedExt -= 1
    if mp.lockedExt == 0 and mp.lockedInt == 0:
        gp = mp.curg
        assert gp is not None
        mp.lockedg = None
        gp.lockedm = None


def mexit(mp: M) -> None:
    """mp's thread is about to end: kill its stacks, then count it out (Go's mexit)."""
    killstacks(mp)
    with sched.lock:
        mp.exited = True
        if mp in sched.allm:
            sched.allm.remove(mp)
            sched.freem.append(mp)
            sched.nmfreed += 1
        if sched.exiting is None:
            checkdead()


class _NoToken(list):  # type: ignore[type-arg]
    """The claim token list of an M that is killing its goroutines: it stays empty, so every
    runtime entry from a dying goroutine takes exitsyscall's slow path and gets GreenletExit
    (the runtime is stopping), even from a runtime function that unwinds through
    entersyscall in its finally block."""

    __slots__ = ()

    def append(self, item: Any) -> None:
        pass


def killstacks(mp: M) -> None:
    """On mp's g0: end every live stack of mp's thread, running goroutines' finally blocks.

    Each goroutine is mp's current G while it dies, so goid() and the like work in its finally
    blocks; runtime calls that need the P raise GreenletExit.
    """
    mp.psyscall.clear()
    mp.psyscall = _NoToken()
    for gp in list(sched.allgs):
        st = gp.stack
        if st is not None and st.m is mp:
            _killstack(mp, st, gp)
    for st in mp.freestacks:
        _killstack(mp, st, None)
    mp.freestacks.clear()


def _killstack(mp: M, st: _stack.Stack, gp: G | None) -> None:
    for _ in range(_KILL_TRIES):
        if st.dead:
            break
        if gp is not None and gp.boundm is mp:
            mp.curg = gp
            gp.m = mp
        try:
            _stack.kill(st, GreenletExit())
        except BaseException:  # the goroutine is being killed; its error is moot
            pass
    mp.curg = None


def retakep(pp: P) -> bool:
    """Take pp from an M that is running user code and hand it to another M (the core of
    sysmon's retake, and of gosched.blocking()). Any thread may call it.

    Returns False if pp's M is in the runtime or idle (it holds its claim, or has no P).
    The M keeps running its goroutine's user code; at the goroutine's next runtime entry it
    finds its token gone and takes exitsyscall's slow path.
    """
    with sched.lock:
        owner = pp.m
        if owner is None or pp.status != _Prunning or sched.gcwaiting:
            return False
        if not _taketoken(owner, pp):
            return False
        pp.status = _Pidle
        pp.syscalltick += 1
    handoffp(pp)
    return True


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
    """Take the Ps whose Ms are in user code. sched.lock held."""
    for p2 in sched.allp:
        if p2 is pp or p2.status != _Prunning:
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
    mp = getm("gomaxprocs")
    exitsyscall(mp)
    try:
        ret = sched.gomaxprocs
        if n <= 0 or n == ret:
            return ret
        stopTheWorld(mp)
        startTheWorld(mp, n)
        return ret
    finally:
        entersyscall(mp)


# ---------------------------------------------------------------------------------------------
# checkdead and stopping the runtime


def checkdead() -> None:
    """Report a deadlock if no M can run and no goroutine can be woken. sched.lock held."""
    if sched.exiting is not None:
        return
    run = mcount() - sched.nmidle - sched.nmidlelocked - sched.nmsys
    if run > 0:
        return
    if run < 0:
        _fatal_locked(
            FatalError(
                f"checkdead: inconsistent counts: mcount={mcount()} nmidle={sched.nmidle} "
                f"nmidlelocked={sched.nmidlelocked} nmsys={sched.nmsys}"
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
            _fatal_locked(FatalError(f"checkdead: runnable g: goroutine {gp.goid} status={s}"))
            return
    if waiting == 0:
        _fatal_locked(Deadlock("no goroutines (main called runtime.Goexit) - deadlock!"))
        return
    for pp in sched.allp:
        if pp.ntimers:
            return  # a pending timer will wake someone
    from .traceback import dumpall

    _fatal_locked(Deadlock("all goroutines are asleep - deadlock!", dumpall(gs)))


def _fatal_locked(exc: FatalError) -> None:
    _startexit_locked(ExitReason(ExitReason.FATAL, exc=exc))


def startexit(reason: ExitReason) -> None:
    """Stop the runtime (the first reason wins): wake every M and take every P from user code,
    so that each M kills its goroutines and ends."""
    with sched.lock:
        _startexit_locked(reason)


def _startexit_locked(reason: ExitReason) -> None:
    if sched.exiting is not None:
        return
    sched.exiting = reason
    for pp in sched.allp:
        owner = pp.m
        if owner is not None and pp.status == _Prunning:
            _taketoken(owner, pp)
    for mp in sched.allm:
        mp.park.wakeup()
    sched.stopnote.wakeup()


# ---------------------------------------------------------------------------------------------
# Ctrl-C
#
# Python raises KeyboardInterrupt in the main thread (m0) between any two bytecodes, which in
# runtime code could leave a lock held or a queue half-updated. Go delivers signals to a handler
# instead; so does gosched while run is active: if m0 is running user code (its claim token is
# out) the handler raises KeyboardInterrupt there, as Python would, so an endless loop can still
# be interrupted; if m0 is in runtime code, it records the interrupt and wakes m0, and the
# interrupt is raised at the next safe point: m0's schedule loop or park (on g0, which stops
# the runtime), or the moment m0's token goes out into user code again (_InterruptToken).


class _InterruptToken(list):  # type: ignore[type-arg]
    """m0's claim token list while a Ctrl-C is pending: putting the token out (entering user
    code) raises KeyboardInterrupt right there, once."""

    __slots__ = ()

    def append(self, item: Any) -> None:
        list.append(self, item)
        mp = m0
        if mp is not None and mp.psyscall is self:
            plain: list[P] = list(self)
            self.clear()
            mp.psyscall = plain
        if sched.sigint:
            sched.sigint = False
            raise KeyboardInterrupt


def _deliver_sigint() -> NoReturn:
    """On m0's g0, at a safe point: stop the runtime with KeyboardInterrupt (mstart's
    handler does)."""
    sched.sigint = False
    mp = m0
    if mp is not None and type(mp.psyscall) is _InterruptToken:
        plain: list[P] = list(mp.psyscall)
        mp.psyscall = plain
    raise KeyboardInterrupt


def _on_sigint(signum: int, frame: Any) -> None:
    mp = m0
    if mp is None or mp.psyscall or sched.exiting is not None:
        raise KeyboardInterrupt  # in user code (or shutting down): as Python does
    sched.sigint = True
    tok = mp.psyscall
    if type(tok) is list:
        swapped = _InterruptToken(tok)
        mp.psyscall = swapped
    mp.park.wakeup()


# ---------------------------------------------------------------------------------------------
# gosched.run: Go's rt0_go + runtime.main + exit


def runtime_main(main: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Goroutine 1 (Go's runtime.main)."""
    mp: M = getcurrent().m  # type: ignore[attr-defined]
    pp = exitsyscall(mp)
    sched.mainStarted = True
    # Go's runtime.main blocks once during its init (gcenable waits for the background sweeper
    # and scavenger) and comes back through execute with a fresh time slice, so main.main
    # starts with P0's schedtick at 1. Orderings that depend on the 61-tick fairness check match
    # Go only from that state (see tests/conformance).
    pp.schedtick += 1
    entersyscall(mp)
    result = main(*args, **kwargs)
    startexit(ExitReason(ExitReason.MAIN_RETURNED, value=result))


def run(
    main: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    gomaxprocs: int | None,
) -> Any:
    if not callable(main):
        raise TypeError(f"gosched.run: main must be callable, not {type(main).__name__}")
    if gomaxprocs is not None and (
        isinstance(gomaxprocs, bool) or not isinstance(gomaxprocs, int) or gomaxprocs <= 0
    ):
        raise ValueError(f"gosched.run: gomaxprocs must be an int > 0, got {gomaxprocs!r}")
    if not _runlock.acquire(blocking=False):
        raise RuntimeError(
            "gosched.run: the runtime is already running (run cannot be nested, or called "
            "from a second thread while the first run is active)"
        )
    try:
        mp = schedinit(gomaxprocs)
        pp = mp.p
        assert pp is not None
        gp = newproc1(runtime_main, (main, args, kwargs), _NOKW, None, None, 0, pp)
        runqput(pp, gp, True)
        oldsig = _install_sigint()
        try:
            try:
                mstart(mp)
            finally:
                if oldsig is not None:
                    signal.signal(signal.SIGINT, oldsig)
            killstacks(mp)
            _join_ms()
        finally:
            reason = sched.exiting
            _cleanup()
    finally:
        _runlock.release()
    if reason is None:
        raise FatalError("gosched.run: scheduler stopped without a reason")
    if reason.kind == ExitReason.MAIN_RETURNED:
        return reason.value
    exc = reason.exc
    assert exc is not None
    raise exc


def _install_sigint() -> Any:
    """Route Ctrl-C through _on_sigint while run is active, if run is on the main thread and
    SIGINT still has Python's default handler (a handler of the program's own is left alone).
    Returns the handler to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None
    signal.signal(signal.SIGINT, _on_sigint)
    return signal.default_int_handler


def _join_ms() -> None:
    while True:
        with sched.lock:
            threads = [
                m.thread
                for m in sched.allm + sched.freem
                if m.thread is not None and m.thread.is_alive()
            ]
        if not threads:
            return
        for t in threads:
            t.join()


def _cleanup() -> None:
    global m0
    with sched.lock:
        ms = sched.allm + sched.freem
    for mp in ms:
        mp.park.close()
        mp.freestacks.clear()
        mp.mailbox.clear()
    m0 = None
    sched.reset()


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
    return max(n, 1)


def goid() -> int:
    mp = getm("goid")
    gp = mp.curg
    assert gp is not None
    return gp.goid


def running() -> bool:
    return _runlock.locked() and sched.allp != []
