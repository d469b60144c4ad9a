"""Go's sync package for goroutines. Follows go/src/sync (waitgroup.go).

Every type here parks the calling goroutine (not its thread) through the runtime's semaphores.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ._runtime import proc as _proc
from ._runtime.panic import RuntimePanic
from ._runtime.runtime2 import Sema, waitReasonSyncWaitGroupWait
from ._runtime.sema import semacquire, semrelease

__all__ = ["WaitGroup"]


class WaitGroup:
    """Waits for a collection of goroutines to finish (Go's sync.WaitGroup).

    add(n) before starting goroutines, done() in each as it finishes, wait() blocks until the
    counter is zero. go(fn, ...) does all three steps for one goroutine.
    """

    __slots__ = ("_lock", "_v", "_w", "_sema")

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _v (counter) and _w (waiters), Go's state word
        self._v = 0
        self._w = 0
        self._sema = Sema(0)

    def add(self, delta: int = 1) -> None:
        """Add delta (may be negative) to the counter; at zero, release every waiter."""
        lock = self._lock
        lock.acquire()
        try:
            v = self._v + delta
            if v < 0:
                raise RuntimePanic("sync: negative WaitGroup counter")
            w = self._w
            if w and delta > 0 and v == delta:
                raise RuntimePanic("sync: WaitGroup misuse: Add called concurrently with Wait")
            self._v = v
            if v > 0 or w == 0:
                return
            self._w = 0
        finally:
            lock.release()
        mp = _proc.getm("WaitGroup.add")
        _proc.exitsyscall(mp)
        try:
            for _ in range(w):
                semrelease(mp, self._sema)
        finally:
            _proc.entersyscall(mp)

    def done(self) -> None:
        """Decrement the counter by one."""
        lock = self._lock
        lock.acquire()
        v = self._v - 1
        if v > 0:
            self._v = v
            lock.release()
            return
        lock.release()
        self.add(-1)

    def wait(self) -> None:
        """Block until the counter is zero."""
        mp = _proc.getm("WaitGroup.wait")
        lock = self._lock
        lock.acquire()
        if self._v == 0:
            lock.release()
            return
        self._w += 1
        lock.release()
        _proc.exitsyscall(mp)
        try:
            semacquire(mp, self._sema, waitReasonSyncWaitGroupWait)
        finally:
            _proc.entersyscall(mp)

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """add(1), then run fn(*args, **kwargs) in a new goroutine that calls done() at the end."""
        if not callable(fn):
            raise TypeError("go of nil func value")
        self.add(1)
        _proc.newproc(self._run, (fn, args, kwargs), 1)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        finally:
            self.done()
