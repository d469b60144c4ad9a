"""Semaphores that park goroutines, and notify lists. Follows go/src/runtime/sema.go
(semacquire1, semrelease1, notifyListAdd/Wait/NotifyOne/NotifyAll, and the
sync_runtime_* functions that the sync package reaches them by).

Semaphores. Go hashes semaphore addresses into 251 semaRoots, each a treap of waiters under one
lock; here every Sema is its own root (runtime2.Sema). The protocol is Go's:

- semacquire takes a unit if there is one; otherwise it queues the G (at the tail, or at the head
  when lifo) and parks with the Sema's lock released by park_m's unlockf, after the G is
  _Gwaiting, so a releaser that finds it in the queue can always goready it.
- semrelease adds a unit and readies the first waiter, which then competes for the unit again
  (another goroutine may barge in first, as in Go). With handoff the unit goes straight to the
  waiter (Go's ticket) and the releaser yields to the local queue so the waiter runs next;
  sync.Mutex uses this in starvation mode.

A waiter's gp.param says how its wait is going: None while queued, _WOKEN once a plain release
readied it, _TICKET once a hand-off gave it the unit. A wait can also end without the unit: the
goroutine is taken off the queue by proc.abortpark (Ctrl-C for goroutine 1), or killed at exit,
when it stays queued until exit.sweep and releases skip it. Then semacquire forgets any unit a
release added for it and tells its caller how it left (``onleave``), so that sync's types put
their state words right and an object that outlives the wait (or gosched.run) keeps working.

Notify lists (Go's notifyList, behind sync.Cond). A ticket is taken (notifyListAdd) before the
Cond's lock is released, so a signal sent after that and before the waiter parks is not lost:
notifyListNotifyOne advances ``notify`` and the late waiter sees its ticket is already served.

The functions named sync_runtime_* and notifyList* are sync's door into the runtime: they find
the calling goroutine and enter and leave the runtime around the operation (proc.runtimecall).
The others are called from runtime code holding a P.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .proc import gopark, goready, goyield, runtimecall
from .runtime2 import Sema, waitReasonSemacquire, waitReasonSyncCondWait

if TYPE_CHECKING:
    from .runtime2 import G, M

# gp.param of a waiter: readied by a plain release, or given the unit (Go's sudog.ticket == 1).
_WOKEN = object()
_TICKET = object()

# How a semacquire ended without the unit (onleave's argument): still queued (or taken off the
# queue by abortpark), readied by a plain release, or handed the unit by a hand-off release.
LEFT_QUEUED = 0
LEFT_WOKEN = 1
LEFT_HANDOFF = 2


def _unlock(gp: G, lock: Any) -> bool:
    lock.release()
    return True


def semacquire(
    mp: M,
    s: Sema,
    reason: str = waitReasonSemacquire,
    lifo: bool = False,
    onleave: Callable[[int], None] | None = None,
) -> None:
    """Take one unit of s, parking until one is available (see the module docstring for waits
    that end without it)."""
    lock: threading.Lock = s.lock
    gp: G = mp.curg  # type: ignore[assignment]
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
        gp.waiting = s
        try:
            gopark(mp, _unlock, lock, reason)
        except BaseException:
            with lock:
                how = gp.param
                gp.param = None
                if how is _TICKET:
                    left = LEFT_HANDOFF
                elif how is _WOKEN:
                    left = LEFT_WOKEN
                    if s.count > 0:
                        s.count -= 1  # the unit the release added for us
                else:
                    left = LEFT_QUEUED
            if onleave is not None:
                onleave(left)
            raise
        gp.waiting = None
        how = gp.param
        gp.param = None
        if how is _TICKET:
            return


def semrelease(mp: M, s: Sema, handoff: bool = False) -> None:
    """Return one unit to s and ready the first waiter, if any."""
    lock = s.lock
    lock.acquire()
    waiters = s.waiters
    while waiters:
        gp = waiters.popleft()
        if gp.killed:
            continue  # left here by the runtime's exit (exit.sweep)
        if handoff:
            gp.param = _TICKET
        else:
            s.count += 1
            gp.param = _WOKEN
        lock.release()
        goready(mp, gp)
        if handoff:
            goyield(mp)
        return
    s.count += 1
    lock.release()


def sync_runtime_Semacquire(
    s: Sema,
    what: str,
    reason: str = waitReasonSemacquire,
    lifo: bool = False,
    onleave: Callable[[int], None] | None = None,
) -> None:
    """semacquire for the sync package, from user code (Go's sync_runtime_Semacquire,
    SemacquireMutex, SemacquireRWMutex and SemacquireRWMutexR, by reason). ``what`` names the
    operation in the RuntimeError raised outside a goroutine."""
    runtimecall(what, semacquire, s, reason, lifo, onleave)


def sync_runtime_Semrelease(s: Sema, what: str, handoff: bool = False, n: int = 1) -> None:
    """semrelease n times for the sync package, from user code (Go's sync_runtime_Semrelease)."""
    runtimecall(what, _semreleasen, s, handoff, n)


def _semreleasen(mp: M, s: Sema, handoff: bool, n: int) -> None:
    for _ in range(n):
        semrelease(mp, s, handoff)


# ---------------------------------------------------------------------------------------------
# notifyList (sync.Cond)


class notifyList:
    """Go's notifyList: a ticket-based list of goroutines waiting on a Cond."""

    __slots__ = ("lock", "wait", "notify", "waiters", "abandoned")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # guards all fields
        self.wait = 0  # the ticket of the next waiter
        self.notify = 0  # the ticket of the next waiter to notify
        # Parked waiters by ticket, in the order they parked (Go's sudog list).
        self.waiters: dict[int, G] = {}
        # Unserved tickets whose holders will never wait: taken off by abortpark, killed at
        # exit (not in Go, where the process ends), or Cond.wait's unlock raised. notifyOne
        # skips them, so no signal is spent on them.
        self.abandoned: set[int] = set()

    def abortwait(self, gp: G) -> bool:
        """proc.abortpark for a goroutine waiting on this list."""
        with self.lock:
            for t, w in self.waiters.items():
                if w is gp:
                    del self.waiters[t]
                    self.abandoned.add(t)
                    return True
        return False

    def __repr__(self) -> str:
        return f"<notifyList wait={self.wait} notify={self.notify}>"


def notifyListAdd(nl: notifyList) -> int:
    """Take the next ticket; needs no goroutine."""
    lock = nl.lock
    lock.acquire()
    t = nl.wait
    nl.wait = t + 1
    lock.release()
    return t


def notifyListForget(nl: notifyList, t: int) -> None:
    """The holder of ticket t will not wait after all (or no longer waits): drop it."""
    lock = nl.lock
    lock.acquire()
    if t >= nl.notify:
        nl.waiters.pop(t, None)
        nl.abandoned.add(t)
    lock.release()


def notifyListWait(nl: notifyList, t: int) -> None:
    """Park until ticket t is notified (at once if it was already)."""
    runtimecall("sync.Cond.wait", _notifyListWait, nl, t)


def _notifyListWait(mp: M, nl: notifyList, t: int) -> None:
    lock = nl.lock
    lock.acquire()
    if t < nl.notify:
        lock.release()
        return
    gp: G = mp.curg  # type: ignore[assignment]
    nl.waiters[t] = gp
    gp.waiting = nl
    try:
        gopark(mp, _unlock, lock, waitReasonSyncCondWait)
    except BaseException:  # taken off by abortpark, or killed at exit
        notifyListForget(nl, t)
        raise
    gp.waiting = None


def notifyListNotifyOne(nl: notifyList) -> None:
    """Wake the waiter with the oldest unserved ticket."""
    # Fast path: no new waiters since the last notification (read without the lock, as
    # Go's atomic loads: a waiter racing with us took its ticket concurrently).
    if nl.wait == nl.notify:
        return
    runtimecall("sync.Cond.signal", _notifyListNotifyOne, nl)


def _notifyListNotifyOne(mp: M, nl: notifyList) -> None:
    lock = nl.lock
    lock.acquire()
    t = nl.notify
    wait = nl.wait
    abandoned = nl.abandoned
    while abandoned and t != wait and t in abandoned:
        abandoned.discard(t)
        t += 1
    if t == wait:
        nl.notify = t
        lock.release()
        return
    nl.notify = t + 1
    # The waiter with ticket t may not have parked yet: then it sees t < notify and does not.
    gp = nl.waiters.pop(t, None)
    lock.release()
    if gp is not None:
        goready(mp, gp)


def notifyListNotifyAll(nl: notifyList) -> None:
    """Wake every waiter, in ticket order."""
    if nl.wait == nl.notify:
        return
    runtimecall("sync.Cond.broadcast", _notifyListNotifyAll, nl)


def _notifyListNotifyAll(mp: M, nl: notifyList) -> None:
    lock = nl.lock
    lock.acquire()
    waiters = nl.waiters
    nl.waiters = {}
    # Waiters that took a ticket but have not parked yet will see they were notified.
    nl.notify = nl.wait
    nl.abandoned.clear()
    lock.release()
    for gp in waiters.values():
        goready(mp, gp)
