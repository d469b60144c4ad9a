"""Diagnostics: goroutine dumps and scheduler snapshots (Go's runtime.Stack and the state that
GODEBUG=scheddetail=1 prints)."""

from __future__ import annotations

import sys
from typing import Any

from ._runtime import SetMaxThreads, checkpoint, goroutineDump, running, safepoints
from ._runtime import snapshot as _snapshot

__all__ = ["set_max_threads", "snapshot", "stack"]


def _running() -> None:
    if not running():
        raise RuntimeError(
            "gosched.debug: the runtime is not running; call this inside gosched.run"
        )
    if safepoints.requested:  # a goroutine calling these in a loop still stops at exit
        checkpoint()


def stack() -> str:
    """Every goroutine in Go's dump format, the calling goroutine first."""
    _running()
    return goroutineDump(sys._getframe(1))


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
    return _snapshot()


def set_max_threads(n: int) -> int:
    """Set the limit on OS threads the runtime may use (Go's debug.SetMaxThreads, default
    10,000): goroutine threads, sysmon and blocking() helpers. Returns the previous limit. A
    program that goes past it dies with Go's ``fatal error: thread exhaustion``, at once if it
    already has more. It holds for the rest of the process, across runs."""
    return SetMaxThreads(n)
