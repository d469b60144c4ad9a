"""Go's time package for goroutines: sleep, timers and tickers on the runtime's timer heaps.

Times are seconds as floats on the runtime's monotonic clock: ``now()`` is not wall-clock time,
it only moves forward, and it is what deadlines (``gosched.net``) are compared with.

Timer and Ticker channels have capacity 1 and are filled with a non-blocking send, as in Go
1.22: a tick that finds the channel full is dropped, and Stop does not drain a value already
sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._runtime import proc as _proc
from ._runtime import time as _rt
from ._runtime.chan import Chan, chansend, nilchan
from ._runtime.panic import RuntimePanic
from ._runtime.runtime2 import G, M, waitReasonSleep

__all__ = ["Ticker", "Timer", "after", "after_func", "now", "since", "sleep", "tick"]


def _ns(seconds: float, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what}: seconds must be a number, not {type(seconds).__name__}")
    if math.isnan(seconds):
        raise ValueError(f"{what}: seconds is NaN")
    if math.isinf(seconds):
        return 1 << 62 if seconds > 0 else 0
    return int(seconds * 1e9)


def now() -> float:
    """Seconds on the runtime's monotonic clock."""
    return _rt.nanotime() / 1e9


def since(t: float) -> float:
    """Seconds elapsed since t (a value of now())."""
    return now() - t


# --- sleep ---------------------------------------------------------------------------------------


def _goready(mp: M, gp: G, seq: int) -> None:
    _proc.goready(mp, gp)


def _arm_sleep(gp: G, mt: tuple[M, int]) -> bool:
    """gopark's unlockf for sleep: arm the timer only once gp is parked (Go's resetForSleep),
    so it cannot fire into a running goroutine."""
    mp, when = mt
    _rt.addtimer(mp.p, gp.timer, when)  # type: ignore[arg-type]
    return True


def sleep(seconds: float) -> None:
    """Park the calling goroutine for at least seconds (<= 0: return at once, without yielding)."""
    ns = _ns(seconds, "sleep")
    mp = _proc.getm("sleep")
    if ns <= 0:
        return
    _proc.exitsyscall(mp)
    try:
        gp = mp.curg
        assert gp is not None
        if gp.timer is None:
            gp.timer = _rt.timer(_goready, gp)
        _proc.gopark(mp, _arm_sleep, (mp, _rt.nanotime() + ns), waitReasonSleep)
    finally:
        _proc.entersyscall(mp)


# --- Timer, Ticker ----------------------------------------------------------------------------


def _sendtime(mp: M, c: Chan[float], seq: int) -> None:
    """A timer channel's send: non-blocking, so a full channel drops the value."""
    chansend(mp, c, _rt.nanotime() / 1e9, False)


def _when(ns: int) -> int:
    t = _rt.nanotime()
    return t + ns if ns > 0 else t


class Timer:
    """A single event (Go's time.Timer): after ``seconds`` the current time is sent on ``c``, or,
    for after_func, the function runs in its own goroutine (``c`` is None then)."""

    __slots__ = ("_r", "c")

    def __init__(self, seconds: float) -> None:
        self.c: Chan[float] | None = Chan(1)
        self._r = _rt.timer(_sendtime, self.c)
        self._start(_ns(seconds, "Timer"))

    def _start(self, ns: int) -> None:
        mp = _proc.getm("Timer")
        pp = _proc.exitsyscall(mp)
        try:
            _rt.addtimer(pp, self._r, _when(ns))
        finally:
            _proc.entersyscall(mp)

    def stop(self) -> bool:
        """Stop the timer. True if this call stopped it; False if it had already fired or been
        stopped. A value already sent stays in ``c``."""
        return _rt.deltimer(self._r)

    def reset(self, seconds: float) -> bool:
        """Re-arm the timer for seconds from now; return whether it had been active."""
        ns = _ns(seconds, "Timer.reset")
        mp = _proc.getm("Timer.reset")
        pp = _proc.exitsyscall(mp)
        try:
            return _rt.modtimer(pp, self._r, _when(ns), 0)
        finally:
            _proc.entersyscall(mp)


def _gofunc(mp: M, fn: Callable[[], Any], seq: int) -> None:
    """after_func's timer: start fn in a new goroutine (Go's time.goFunc), on the P that ran
    the timer."""
    _proc.newproc_m(mp, fn, _gofunc.__code__)


def after_func(seconds: float, fn: Callable[[], Any]) -> Timer:
    """After seconds, run fn() in its own goroutine. Stop the returned Timer to cancel."""
    if not callable(fn):
        raise TypeError("after_func: fn must be callable")
    t = Timer.__new__(Timer)
    t.c = None
    t._r = _rt.timer(_gofunc, fn)
    t._start(_ns(seconds, "after_func"))
    return t


def after(seconds: float) -> Chan[float]:
    """A channel that receives the time once, after seconds (Go's time.After)."""
    c = Timer(seconds).c
    assert c is not None
    return c


class Ticker:
    """Sends the time on ``c`` every ``seconds`` (Go's time.Ticker); ticks are dropped while the
    reader is slow (``c`` holds at most one)."""

    __slots__ = ("_r", "c")

    def __init__(self, seconds: float) -> None:
        ns = _ns(seconds, "Ticker")
        if ns <= 0:
            raise RuntimePanic("non-positive interval for NewTicker")
        self.c: Chan[float] = Chan(1)
        self._r = _rt.timer(_sendtime, self.c, ns)
        mp = _proc.getm("Ticker")
        pp = _proc.exitsyscall(mp)
        try:
            _rt.addtimer(pp, self._r, _rt.nanotime() + ns)
        finally:
            _proc.entersyscall(mp)

    def stop(self) -> None:
        """Stop sending ticks (a tick already in ``c`` stays)."""
        _rt.deltimer(self._r)

    def reset(self, seconds: float) -> None:
        """Tick every seconds from now on."""
        ns = _ns(seconds, "Ticker.reset")
        if ns <= 0:
            raise RuntimePanic("non-positive interval for Ticker.Reset")
        mp = _proc.getm("Ticker.reset")
        pp = _proc.exitsyscall(mp)
        try:
            _rt.modtimer(pp, self._r, _rt.nanotime() + ns, ns)
        finally:
            _proc.entersyscall(mp)


def tick(seconds: float) -> Chan[Any]:
    """A channel of ticks every seconds (Go's time.Tick); the nil channel if seconds <= 0."""
    if _ns(seconds, "tick") <= 0:
        return nilchan
    return Ticker(seconds).c
