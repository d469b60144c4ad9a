"""golang.org/x/sync/errgroup for goroutines: a group of goroutines working on subtasks of a
common task, with the first error, an optional concurrency limit, and context cancellation.

    def main():
        g, ctx = errgroup.with_context(context.background())
        for url in urls:
            g.go(fetch, ctx, url)
        g.wait()  # raises the first exception a fetch raised

Errors are exceptions: a goroutine started by go() or try_go() that raises an Exception ends
normally as far as the runtime is concerned (it is not a panic); the group records the first
such exception, cancels its context (with_context) with it as the cause, and wait() raises it.
A BaseException that is not an Exception (KeyboardInterrupt, SystemExit, goexit's unwinding,
GreenletExit at the end of the program) passes through, as it would from any goroutine.

The limit is x/sync's: a buffered channel used as a counting semaphore (``sem``), with one
token sent per active goroutine (go blocks while it is full; try_go does not) and received
when the goroutine ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ._runtime import Chan, RuntimePanic, default, newproc, select, usercaller
from .context import CancelCauseFunc, Context, with_cancel_cause
from .sync import WaitGroup

__all__ = ["Group", "with_context"]


class Group:
    """A collection of goroutines working on subtasks of the same task (x/sync's Group).

    A new Group has no limit and does not cancel anything on error. go(fn, ...) starts
    fn(...) in a goroutine; wait() blocks until all have returned, then raises the first
    exception any of them raised (returns None if none did). set_limit(n) bounds the number
    of active goroutines; try_go starts one only if that needs no waiting.
    """

    __slots__ = ("_cancel", "_wg", "_sem", "_err_lock", "_err")

    def __init__(self) -> None:
        self._cancel: CancelCauseFunc | None = None  # with_context's cancel; immutable
        self._wg = WaitGroup()
        self._sem: Chan[None] | None = None  # one token per active goroutine; None: no limit
        self._err_lock = threading.Lock()  # guards _err (x/sync's errOnce)
        self._err: Exception | None = None  # the first exception, set once

    def __repr__(self) -> str:
        sem = self._sem
        limit = "none" if sem is None else f"{len(sem)}/{sem.cap}"
        err = "" if self._err is None else f" err={self._err!r}"
        return f"<gosched.errgroup.Group limit={limit}{err}>"

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run fn(*args, **kwargs) in a new goroutine. With a limit set, block until the
        number of active goroutines is below it. The first call that raises an Exception
        cancels the group's context; wait() will raise that exception."""
        if not callable(fn):
            raise TypeError("go of nil func value")
        sem = self._sem
        if sem is not None:
            sem.send(None)
        self._wg.add(1)
        newproc(self._run, (fn, args, kwargs), {}, 1)

    def try_go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
        """Run fn(*args, **kwargs) in a new goroutine only if the number of active goroutines
        is below the limit; report whether it did."""
        if not callable(fn):
            raise TypeError("go of nil func value")
        sem = self._sem
        if sem is not None and select((sem.send, None), default)[0] != 0:
            return False
        self._wg.add(1)
        newproc(self._run, (fn, args, kwargs), {}, 1)
        return True

    @usercaller
    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        except Exception as e:
            lock = self._err_lock
            lock.acquire()
            first = self._err is None
            if first:
                self._err = e
            lock.release()
            if first and self._cancel is not None:
                self._cancel(e)
        finally:
            sem = self._sem
            if sem is not None:
                sem.recv()
            self._wg.done()

    def wait(self) -> None:
        """Block until every goroutine started by go/try_go has returned; then cancel the
        group's context and raise the first exception any of them raised."""
        self._wg.wait()
        if self._cancel is not None:
            self._cancel(self._err)
        err = self._err
        if err is not None:
            raise err

    def set_limit(self, n: int) -> None:
        """Allow at most n active goroutines in the group; n < 0 removes the limit. Panics
        (RuntimePanic) while any goroutine of the group is active. With n == 0, go blocks
        forever and try_go always fails, as in Go."""
        if n < 0:
            self._sem = None
            return
        sem = self._sem
        if sem is not None and len(sem) != 0:
            active = len(sem)
            raise RuntimePanic(
                f"errgroup: modify limit while {active} goroutines in the group are still active"
            )
        self._sem = Chan(n)


def with_context(ctx: Context) -> tuple[Group, Context]:
    """A new Group and a context derived from ctx, cancelled the first time a goroutine of the
    group raises an Exception (context.cause of it is that exception) or the first time wait
    returns, whichever occurs first."""
    g = Group()
    derived, cancel = with_cancel_cause(ctx)
    g._cancel = cancel
    return g, derived
