"""Go's time package for goroutines: sleep, timers and tickers on the runtime's timer heaps.

Times are seconds as floats on the runtime's monotonic clock: ``now()`` is not wall-clock time,
it only moves forward, and it is what deadlines (context.with_deadline) are compared with.

Timer and Ticker channels have capacity 1 and are filled with a non-blocking send, as in Go
1.22: a tick that finds the channel full is dropped, and Stop does not drain a value already
sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._runtime import (
    Chan,
    RuntimePanic,
    goFunc,
    nanotime,
    newTimer,
    nilchan,
    resetTimer,
    sendTime,
    stopTimer,
    timer,
    timeSleep,
)

__all__ = ["Ticker", "Timer", "after", "after_func", "now", "since", "sleep", "tick"]


# Durations past this (146 years) are "never": Go's timers clamp a deadline that would overflow
# int64 to maxWhen, so time.Sleep(1<<63 - 1) parks for good instead of failing. Clamping here
# keeps every deadline the runtime computes (now + ns) a finite int that the idle poll can wait on.
_NEVER = 1 << 62


def _ns(seconds: float, what: str) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what}: seconds must be a number, not {type(seconds).__name__}")
    if math.isnan(seconds):
        raise ValueError(f"{what}: seconds is NaN")
    ns = seconds * 1e9
    if ns >= _NEVER:
        return _NEVER
    if ns <= -_NEVER:
        return -_NEVER
    return int(ns)


def now() -> float:
    """Seconds on the runtime's monotonic clock."""
    return nanotime() / 1e9


def since(t: float) -> float:
    """Seconds elapsed since t (a value of now())."""
    return now() - t


def sleep(seconds: float) -> None:
    """Park the calling goroutine for at least seconds (<= 0: return at once, without yielding)."""
    timeSleep(_ns(seconds, "sleep"))


# --- Timer, Ticker ----------------------------------------------------------------------------


class Timer:
    """A single event (Go's time.Timer): after ``seconds`` the current time is sent on ``c``, or,
    for after_func, the function runs in its own goroutine (``c`` is None then)."""

    __slots__ = ("_r", "c")

    def __init__(self, seconds: float) -> None:
        self.c: Chan[float] | None = Chan(1)
        self._r: timer = newTimer(_ns(seconds, "Timer"), 0, sendTime, self.c, "Timer")

    def stop(self) -> bool:
        """Stop the timer. True if this call stopped it; False if it had already fired or been
        stopped. A value already sent stays in ``c``."""
        return stopTimer(self._r)

    def reset(self, seconds: float) -> bool:
        """Re-arm the timer for seconds from now; return whether it had been active."""
        return resetTimer(self._r, _ns(seconds, "Timer.reset"), 0, "Timer.reset")


def after_func(seconds: float, fn: Callable[[], Any]) -> Timer:
    """After seconds, run fn() in its own goroutine. Stop the returned Timer to cancel."""
    if not callable(fn):
        raise TypeError("after_func: fn must be callable")
    t = Timer.__new__(Timer)
    t.c = None
    t._r = newTimer(_ns(seconds, "after_func"), 0, goFunc, fn, "after_func")
    return t


def after(seconds: float) -> Chan[float]:
    """A channel that receives the time once, after seconds (Go's time.After)."""
    c: Chan[float] = Chan(1)
    newTimer(_ns(seconds, "after"), 0, sendTime, c, "after")
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
        self._r: timer = newTimer(ns, ns, sendTime, self.c, "Ticker")

    def stop(self) -> None:
        """Stop sending ticks (a tick already in ``c`` stays)."""
        stopTimer(self._r)

    def reset(self, seconds: float) -> None:
        """Tick every seconds from now on."""
        ns = _ns(seconds, "Ticker.reset")
        if ns <= 0:
            raise RuntimePanic("non-positive interval for Ticker.Reset")
        resetTimer(self._r, ns, ns, "Ticker.reset")


def tick(seconds: float) -> Chan[Any]:
    """A channel of ticks every seconds (Go's time.Tick); the nil channel if seconds <= 0."""
    if _ns(seconds, "tick") <= 0:
        return nilchan
    return Ticker(seconds).c
