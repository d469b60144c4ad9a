"""gosched: Go's goroutine runtime (the G-M-P scheduler) for plain Python functions.

    import gosched

    def main():
        wg = gosched.sync.WaitGroup()
        for i in range(3):
            wg.go(print, "hello from goroutine", i)
        wg.wait()

    gosched.run(main)

The reference is in docs/ (docs/reference.md), next to this package in the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from . import context, debug, errgroup, sync, time
from ._runtime import (
    GOMAXPROCS,
    Chan,
    Deadlock,
    FatalError,
    Goexit,
    Gosched,
    LockOSThread,
    NumGoroutine,
    RuntimePanic,
    UnlockOSThread,
    blockingcall,
    default,
    entersyscallblock,
    exitsyscall,
    from_future,
    nilchan,
    select,
)
from ._runtime import go as _go
from ._runtime import goid as _goid
from ._runtime import run as _run

__all__ = [
    "Chan",
    "Deadlock",
    "FatalError",
    "RuntimePanic",
    "__version__",
    "blocking",
    "context",
    "debug",
    "default",
    "errgroup",
    "from_future",
    "go",
    "goexit",
    "goid",
    "gomaxprocs",
    "gosched",
    "lock_os_thread",
    "num_goroutine",
    "nilchan",
    "run",
    "select",
    "sleep",
    "sync",
    "time",
    "unlock_os_thread",
]

__version__ = "0.1.0"


def run(
    main: Callable[..., Any], /, *args: Any, gomaxprocs: int | None = None, **kwargs: Any
) -> Any:
    """Run main(*args, **kwargs) as goroutine 1 on a fresh scheduler; return its result.

    The calling thread becomes m0. When main returns, every other goroutine is killed (its
    finally blocks run) and every runtime thread ends before run returns. An exception escaping
    any goroutine stops the program and is re-raised here, noted with its goroutine; a deadlock
    raises Deadlock. gomaxprocs overrides the GOMAXPROCS environment variable.
    """
    return _run(main, args, kwargs, gomaxprocs)


go = _go
go.__module__ = __name__


sleep = time.sleep


class _Blocking:
    """The context manager of ``with gosched.blocking():``."""

    __slots__ = ()

    def __enter__(self) -> None:
        entersyscallblock()

    def __exit__(self, *exc: object) -> None:
        exitsyscall()


_BLOCKING = _Blocking()
_NOFN: Any = object()


def blocking(fn: Callable[..., Any] = _NOFN, /, *args: Any, **kwargs: Any) -> Any:
    """Announce code that blocks the OS thread (a C call, a blocking socket, ``time.sleep``).

    ``with gosched.blocking(): ...`` hands the goroutine's P to another thread at once (Go's
    entersyscallblock); the body runs on this thread, and the goroutine takes a P back after
    it. ``gosched.blocking(fn, *args, **kwargs)`` runs fn on a helper thread while the
    goroutine parks (wait reason ``syscall``) and returns its value or raises its exception;
    this thread goes on running the other goroutines, including those that started on it.
    Without either, sysmon hands the P off anyway once the goroutine has been away from the
    scheduler for a while.
    """
    if fn is _NOFN:
        if args or kwargs:
            raise TypeError("blocking() takes a function to call before its arguments")
        return _BLOCKING
    if not callable(fn):
        raise TypeError(f"blocking: fn must be callable, not {type(fn).__name__}")
    return blockingcall(fn, args, kwargs)


def gosched() -> None:
    """Yield the processor: the calling goroutine goes to the back of the global run queue."""
    Gosched()


def goexit() -> NoReturn:
    """End the calling goroutine after running its finally blocks (Go's runtime.Goexit)."""
    Goexit()


def gomaxprocs(n: int = 0) -> int:
    """Set the number of Ps to n when n > 0 (stopping the world); return the previous value."""
    return GOMAXPROCS(n)


def num_goroutine() -> int:
    """The number of goroutines that exist (Go's runtime.NumGoroutine)."""
    return NumGoroutine()


def goid() -> int:
    """The calling goroutine's id (main is 1)."""
    return _goid()


def lock_os_thread() -> None:
    """Wire the calling goroutine to its OS thread (nesting counts), as Go's LockOSThread.

    No other goroutine starts on that thread until the matching unlock; a goroutine that exits
    while locked ends its thread.
    """
    LockOSThread()


def unlock_os_thread() -> None:
    """Undo one lock_os_thread."""
    UnlockOSThread()
