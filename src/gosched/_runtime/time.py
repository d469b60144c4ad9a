"""Runtime timers. Follows go/src/runtime/time.go (Go 1.22: per-P timer heaps, checkTimers,
addtimer/deltimer/modtimer, timeSleep/resetForSleep, and the newTimer/stopTimer/resetTimer the
time package reaches them by) and the timer half of proc.go's findRunnable; sendTime and goFunc
are time/sleep.go's timer functions.

Every P keeps a heap of its timers, ordered by when. A timer lives on the heap of the P that
armed it (the P of the goroutine that called sleep, Timer, Ticker...). Timers run in checkTimers,
called by the M that owns the P at the top of findRunnable, and by a spinning M on its last
stealing pass for every P (idle ones too). A timer's function runs on that M's g0 holding a P, so
a sleeping goroutine is readied into the runnext of the P that ran its timer, as in Go.

When no M has anything to do, one of them (sched.pollerm, Go's M blocked in netpoll) sleeps on
its note until the earliest timer of any P; a new earlier timer wakes it (wakeNetPoller). That
M is not on the idle list, so checkdead does not call a program deadlocked while a timer is
pending.

Heap entries are (when, seq, gen, timer): seq keeps equal whens in arming order, and gen
invalidates an entry when the timer is stopped or re-armed (stale entries are dropped when they
reach the top, or all at once when they make up a quarter of the heap).

Locks: a P's timersLock guards its heap, timer0When and ntimers, and the status of the timers on
it. A timer's function runs with no lock held (runtime2.py has the lock order).

A goroutine in timeSleep is parked on its own timer (gp.waiting): proc.abortpark stops it.
"""

from __future__ import annotations

import heapq
import itertools
import time as _time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import proc
from .runtime2 import sched, waitReasonSleep

if TYPE_CHECKING:
    from .runtime2 import G, M, P

nanotime = _time.monotonic_ns

# timer.status
timerNone = 0  # not on any heap
timerWaiting = 1  # on t.pp's heap, will run at t.when
timerRunning = 2  # its function is running now (checkTimers)

_seq = itertools.count()


class timer:
    """A runtime timer (time.go's timer): run f(mp, arg, seq) at when, then every period."""

    __slots__ = ("pp", "when", "period", "f", "arg", "seq", "status", "gen", "stopped")

    def __init__(self, f: Callable[[M, Any, int], None], arg: Any, period: int = 0) -> None:
        self.pp: P | None = None  # the P whose heap holds it; written under that timersLock
        self.when = 0
        self.period = period
        self.f = f
        self.arg = arg
        self.seq = 0
        self.status = timerNone
        self.gen = 0
        self.stopped = False  # deltimer while running: do not re-arm a periodic timer

    def abortwait(self, gp: G) -> bool:
        """proc.abortpark for a goroutine in timeSleep: stop the timer, unless it has fired."""
        return deltimer(self)


def addtimer(pp: P, t: timer, when: int) -> None:
    """Arm t on pp's heap (the caller owns pp). The timer must not be armed."""
    with pp.timersLock:
        t.pp = pp
        t.when = when
        t.gen += 1
        t.status = timerWaiting
        t.stopped = False
        heapq.heappush(pp.timers, (when, next(_seq), t.gen, t))
        pp.ntimers += 1
        if pp.timer0When == 0 or when < pp.timer0When:
            pp.timer0When = when
    wakeNetPoller(when)


def deltimer(t: timer) -> bool:
    """Stop t; return whether it was armed and had not run (Go's deltimer). Any thread."""
    while True:
        pp = t.pp
        if pp is None:
            return False
        with pp.timersLock:
            if t.pp is not pp:
                continue  # moved to another P meanwhile (procresize)
            if t.status == timerWaiting:
                t.status = timerNone
                t.gen += 1  # its heap entry is stale now
                t.pp = None
                pp.ntimers -= 1
                _maybeclean(pp)
                _droptop(pp)
                wake = sched.pollerm is not None and sched.pollUntil >= t.when
            elif t.status == timerRunning:
                t.stopped = True
                return False
            else:
                return False
        if wake:
            # An M may be sleeping until this timer (or a later one): let it look again, so
            # that it does not keep the program "running" (checkdead) for a timer now gone.
            poller = sched.pollerm
            if poller is not None:
                poller.park.wakeup()
        return True


def _droptop(pp: P) -> None:
    """Pop stale entries off the top of pp's heap so that timer0When is a live timer's when
    (or 0). pp.timersLock held."""
    h = pp.timers
    while h:
        _, _, gen, t = h[0]
        if t.gen == gen and t.pp is pp and t.status == timerWaiting:
            break
        heapq.heappop(h)
    pp.timer0When = h[0][0] if h else 0


def modtimer(pp: P, t: timer, when: int, period: int) -> bool:
    """Re-arm t on pp at when (Go's modtimer); return whether it was armed before."""
    pending = deltimer(t)
    t.period = period
    addtimer(pp, t, when)
    return pending


def _maybeclean(pp: P) -> None:
    """Drop stale entries once they are a quarter of the heap. pp.timersLock held."""
    h = pp.timers
    if len(h) > 64 and len(h) - pp.ntimers > len(h) // 4:
        pp.timers = h = [e for e in h if e[3].gen == e[2] and e[3].status == timerWaiting]
        heapq.heapify(h)
        pp.timer0When = h[0][0] if h else 0


def checkTimers(mp: M, pp: P, now: int) -> tuple[int, int, bool]:
    """Run pp's due timers (Go's checkTimers). Returns (now, when of the next timer or 0,
    whether any ran). mp holds a P (its own, or pp when pp is its own)."""
    next = pp.timer0When
    if next == 0:
        return now, 0, False
    if now == 0:
        now = nanotime()
    if now < next:
        return now, next, False
    ran = False
    lock = pp.timersLock
    lock.acquire()
    h = pp.timers
    while h:
        when, _, gen, t = h[0]
        if t.gen != gen or t.pp is not pp or t.status != timerWaiting:
            heapq.heappop(h)  # stale
            continue
        if when > now:
            break
        heapq.heappop(h)
        t.status = timerRunning
        pp.ntimers -= 1
        t.seq += 1
        lock.release()
        try:
            t.f(mp, t.arg, t.seq)
        finally:
            lock.acquire()
        ran = True
        if t.period > 0 and not t.stopped and t.pp is pp and t.status == timerRunning:
            # A ticker: the next tick after now, skipping any that were missed.
            t.when = when + t.period * (1 + (now - when) // t.period)
            t.gen += 1
            t.status = timerWaiting
            heapq.heappush(h, (t.when, next_seq(), t.gen, t))
            pp.ntimers += 1
        elif t.status == timerRunning:
            t.status = timerNone
            t.pp = None
        h = pp.timers
    pp.timer0When = h[0][0] if h else 0
    lock.release()
    return now, pp.timer0When, ran


def next_seq() -> int:
    return next(_seq)


def moveTimers(to: P, pp: P) -> None:
    """A destroyed P's armed timers move to ``to`` (Go's moveTimers, in procresize). Both
    locks are taken; sched.lock is held and the world is stopped."""
    with pp.timersLock:
        entries = [e for e in pp.timers if e[3].gen == e[2] and e[3].status == timerWaiting]
        pp.timers = []
        pp.ntimers = 0
        pp.timer0When = 0
    with to.timersLock:
        for when, seq, gen, t in entries:
            t.pp = to
            heapq.heappush(to.timers, (when, seq, gen, t))
            to.ntimers += 1
            if to.timer0When == 0 or when < to.timer0When:
                to.timer0When = when


def nextTimer() -> int:
    """The earliest timer of any P, or 0 (racy read, as Go's nobarrierWakeTime)."""
    w = 0
    for pp in sched.allp:
        t0 = pp.timer0When
        if t0 and (w == 0 or t0 < w):
            w = t0
    return w


def wakeNetPoller(when: int) -> None:
    """A timer was armed for when: make sure some M will be awake by then (Go's
    wakeNetPoller): wake the M sleeping until a later timer, or start one."""
    poller = sched.pollerm
    if poller is not None:
        until = sched.pollUntil
        if until == 0 or until > when:
            poller.park.wakeup()
        return
    proc.wakep()


# ---------------------------------------------------------------------------------------------
# time.Sleep, and the time package's timers


def timeSleep(ns: int) -> None:
    """Park the calling goroutine for at least ns nanoseconds (Go's time.Sleep); ns <= 0
    returns at once, without yielding."""
    if ns <= 0:
        proc.getm("sleep")  # only from a goroutine, even so
        return
    proc.runtimecall("sleep", _timeSleep, ns)


def _timeSleep(mp: M, ns: int) -> None:
    gp: G = mp.curg  # type: ignore[assignment]
    t = gp.timer
    if t is None:
        t = gp.timer = timer(goroutineReady, gp)
    gp.waiting = t
    proc.gopark(mp, resetForSleep, (mp, nanotime() + ns), waitReasonSleep)
    gp.waiting = None


def resetForSleep(gp: G, arg: tuple[M, int]) -> bool:
    """gopark's unlockf for timeSleep: arm the timer only once gp is parked, so it cannot fire
    into a running goroutine."""
    mp, when = arg
    addtimer(mp.p, gp.timer, when)  # type: ignore[arg-type]
    return True


def goroutineReady(mp: M, gp: G, seq: int) -> None:
    """A sleep's timer: ready the goroutine, into the runnext of the P that ran the timer."""
    proc.goready(mp, gp)


def _when(ns: int) -> int:
    t = nanotime()
    return t + ns if ns > 0 else t


def newTimer(ns: int, period: int, f: Callable[[M, Any, int], None], arg: Any, what: str) -> timer:
    """A timer that runs f(mp, arg, seq) ns from now (then every period), armed on the calling
    goroutine's P (Go's newTimer). ``what`` names the caller for the error outside a
    goroutine."""
    t = timer(f, arg, period)
    proc.runtimecall(what, _addtimer, t, _when(ns))
    return t


def _addtimer(mp: M, t: timer, when: int) -> None:
    addtimer(mp.p, t, when)  # type: ignore[arg-type]


def stopTimer(t: timer) -> bool:
    """Stop t; whether this call stopped it before it fired (Go's stopTimer). Any thread."""
    return deltimer(t)


def resetTimer(t: timer, ns: int, period: int, what: str) -> bool:
    """Re-arm t for ns from now on the calling goroutine's P; whether it had been active."""
    result: bool = proc.runtimecall(what, _resettimer, t, _when(ns), period)
    return result


def _resettimer(mp: M, t: timer, when: int, period: int) -> bool:
    return modtimer(mp.p, t, when, period)  # type: ignore[arg-type]


def sendTime(mp: M, c: Any, seq: int) -> None:
    """A Timer's or Ticker's function (time/sleep.go's sendTime): send the time on its channel
    of capacity 1, without blocking, so that a full channel drops the value."""
    from .chan import chansend

    chansend(mp, c, nanotime() / 1e9, False)


def goFunc(mp: M, fn: Callable[[], Any], seq: int) -> None:
    """after_func's timer (time/sleep.go's goFunc): start fn in a new goroutine, on the P that
    ran the timer."""
    proc.newproc_m(mp, fn, goFunc.__code__)
