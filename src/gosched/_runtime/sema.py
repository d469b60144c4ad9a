"""Semaphores that park goroutines. Follows go/src/runtime/sema.go (semacquire1, semrelease1).

Go hashes semaphore addresses into 251 semaRoots, each a treap of waiters under one lock; here
every Sema is its own root (runtime2.Sema). The protocol is Go's:

- semacquire takes a unit if there is one; otherwise it queues the G (at the tail, or at the head
  when lifo) and parks with the Sema's lock released by park_m's unlockf, after the G is
  _Gwaiting, so a releaser that finds it in the queue can always goready it.
- semrelease adds a unit and readies the first waiter, which then competes for the unit again
  (another goroutine may barge in first, as in Go). With handoff the unit goes straight to the
  waiter (Go's ticket) and the releaser yields to the local queue so the waiter runs next;
  sync.Mutex uses this in starvation mode.

Both are called from runtime code on a G: the caller holds its P's claim (proc.py) and keeps it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .proc import gopark, goready, goyield
from .runtime2 import Sema, waitReasonSemacquire

if TYPE_CHECKING:
    from .runtime2 import G, M

__all__ = ["Sema", "semacquire", "semrelease"]

# gp.param of a waiter that semrelease gave the unit directly (Go's sudog.ticket == 1).
_TICKET = object()


def _unlock(gp: G, lock: Any) -> bool:
    lock.release()
    return True


def semacquire(mp: M, s: Sema, reason: str = waitReasonSemacquire, lifo: bool = False) -> None:
    """Take one unit of s, parking until one is available."""
    lock: threading.Lock = s.lock
    gp = mp.curg
    assert gp is not None
    while True:
        lock.acquire()
        if s.count > 0:
            s.count -= 1
            lock.release()
            return
        if lifo:
            s.waiters.appendleft(gp)
        else:
            s.waiters.append(gp)
        gp.param = None
        try:
            gopark(mp, _unlock, lock, reason)
        except BaseException:  # killed while parked (the program is ending): leave no trace
            with lock:
                try:
                    s.waiters.remove(gp)
                except ValueError:
                    pass
            raise
        if gp.param is _TICKET:
            gp.param = None
            return


def semrelease(mp: M, s: Sema, handoff: bool = False) -> None:
    """Return one unit to s and ready the first waiter, if any."""
    lock = s.lock
    lock.acquire()
    if not s.waiters:
        s.count += 1
        lock.release()
        return
    gp = s.waiters.popleft()
    if handoff:
        gp.param = _TICKET
    else:
        s.count += 1
    lock.release()
    goready(mp, gp)
    if handoff:
        goyield(mp)
