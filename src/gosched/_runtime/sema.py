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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .proc import gopark, goready, goyield
from .runtime2 import Sema, waitReasonSemacquire

if TYPE_CHECKING:
    from .runtime2 import G, M

__all__ = ["KILLED_HANDOFF", "KILLED_QUEUED", "KILLED_WOKEN", "Sema", "semacquire", "semrelease"]

# gp.param of a waiter that semrelease gave the unit directly (Go's sudog.ticket == 1).
_TICKET = object()


def _unlock(gp: G, lock: Any) -> bool:
    lock.release()
    return True


# How a wait ended when its goroutine was killed at the end of the program (semacquire's
# onkill): still queued, readied by a plain release, or handed the unit by a hand-off release.
KILLED_QUEUED = 0
KILLED_WOKEN = 1
KILLED_HANDOFF = 2


def semacquire(
    mp: M,
    s: Sema,
    reason: str = waitReasonSemacquire,
    lifo: bool = False,
    onkill: Callable[[int], None] | None = None,
) -> None:
    """Take one unit of s, parking until one is available.

    If the goroutine is killed while parked (the program is ending), s forgets it, including a
    unit a plain release had added for it, and onkill(how) lets the caller undo its own
    bookkeeping, so that an object that outlives gosched.run keeps working.
    """
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
        except BaseException:
            with lock:
                if gp.param is _TICKET:
                    how = KILLED_HANDOFF
                else:
                    try:
                        s.waiters.remove(gp)
                        how = KILLED_QUEUED
                    except ValueError:
                        how = KILLED_WOKEN
                        if s.count > 0:
                            s.count -= 1  # the unit semrelease added for us
            gp.param = None
            if onkill is not None:
                onkill(how)
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
