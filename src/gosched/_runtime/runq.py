"""Run queues: a P's local queue and runnext, the global queue, and work stealing. Follows the
run-queue half of go/src/runtime/proc.go (runqput, runqputslow, runqget, runqgrab, runqsteal,
globrunqput, globrunqget).

Go's local queue is a 256-slot lock-free ring: the owner P pushes at the tail and pops at the
head, stealers CAS the head. Here the ring is a collections.deque capped at RUNQ_SIZE, and runnext
is a list of at most one element. Every single deque or list operation is atomic (under the GIL,
and under the per-object locks of free-threaded builds), which gives the same guarantees as Go's
atomics:

Invariant: only the P's owner appends to ``pp.runq`` or ``pp.runnext``; anyone may pop. Each G is
therefore taken by exactly one party, the queue never exceeds RUNQ_SIZE (only the owner makes it
grow, and it checks the length first), and runnext never holds two Gs (the owner pops before it
appends).

Stealing follows Go (half of the victim's queue from its head; runnext only on the last pass)
with one restriction from DESIGN decision 2: a started G can run only on its own M, so a stealer
takes only unstarted Gs and Gs bound to itself. The global queue is guarded by sched.lock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import trace as _trace
from .runtime2 import RUNQ_SIZE, _Prunning, sched
from .trace import EV_GLOBALGET, EV_GLOBALPUT, EV_RUNQPUT, EV_RUNQSPILL, EV_RUNQSTEAL

if TYPE_CHECKING:
    from .runtime2 import G, M, P

_HALF = RUNQ_SIZE // 2
nanotime = time.monotonic_ns


def runqput(pp: P, gp: G, next: bool) -> None:
    """Put gp on pp's local queue; with next, into runnext, kicking the old runnext to the tail.

    Owner M only. A full queue moves half of itself and gp to the global queue. Written without
    early returns so that go() and goready() can keep inline copies of it (HACKING.md).
    """
    if sched.tracing:
        pp.m.tracebuf.extend((nanotime(), EV_RUNQPUT, gp.goid, pp.id, next))  # type: ignore[union-attr]
    if next:
        slot = pp.runnext
        if slot:
            try:
                kicked = slot.pop()
            except IndexError:  # a stealer took it just now
                kicked = None
            slot.append(gp)
        else:
            slot.append(gp)
            kicked = None
    else:
        kicked = gp
    if kicked is not None:
        q = pp.runq
        if len(q) < RUNQ_SIZE:
            q.append(kicked)
        else:
            runqputslow(pp, kicked)


def runqputslow(pp: P, gp: G) -> None:
    """Move the first half of pp's full queue, then gp, to the tail of the global queue."""
    q = pp.runq
    batch = []
    for _ in range(_HALF):
        try:
            batch.append(q.popleft())
        except IndexError:  # stealers emptied it meanwhile
            break
    batch.append(gp)
    if sched.tracing:
        _trace.evany(EV_RUNQSPILL, pp.id, tuple(g.goid for g in batch))
    with sched.lock:
        sched.runq.extend(batch)


def runqget(pp: P) -> tuple[G | None, bool]:
    """Take a G from pp's local queue: runnext first (inheriting the time slice), then the head.

    Owner M only.
    """
    slot = pp.runnext
    if slot:
        try:
            return slot.pop(), True
        except IndexError:
            pass
    q = pp.runq
    if q:
        try:
            return q.popleft(), False
        except IndexError:
            pass
    return None, False


def runqempty(pp: P) -> bool:
    return not pp.runq and not pp.runnext


def _stealable(gp: G, mp: M) -> bool:
    bm = gp.boundm
    return bm is None or bm is mp


def runqgrab(victim: P, mp: M, steal_runnext: bool) -> list[G]:
    """Take half of victim's stealable Gs from the head of its queue (runnext on the last pass).

    Go counts half of the whole queue; here the half is of the Gs mp may run, since the others
    could only be handed back to their own M.
    """
    cands = [gp for gp in list(victim.runq) if _stealable(gp, mp)]
    n = len(cands)
    n -= n // 2
    grabbed: list[G] = []
    if n == 0:
        if not steal_runnext:
            return grabbed
        slot = victim.runnext
        if not slot:
            return grabbed
        if victim.status == _Prunning:
            # As Go: give a running victim a moment to schedule the G it just readied.
            time.sleep(3e-6)
        try:
            peek = slot[0]
        except IndexError:
            return grabbed
        if not _stealable(peek, mp):
            return grabbed
        try:
            gp = slot.pop()
        except IndexError:
            return grabbed
        if gp is not peek and not _stealable(gp, mp):
            # The owner swapped runnext between our look and our pop; its new runnext belongs
            # to another M. The global queue is the one place we may put it without the owner.
            globrunqput(gp)
            return grabbed
        grabbed.append(gp)
        return grabbed
    q = victim.runq
    for gp in cands[:n]:
        try:
            q.remove(gp)
        except ValueError:  # its owner ran it, or another stealer took it
            continue
        grabbed.append(gp)
    return grabbed


def runqsteal(pp: P, victim: P, mp: M, steal_runnext: bool) -> G | None:
    """Steal from victim into pp; return one G to run (the last one grabbed), queue the rest."""
    grabbed = runqgrab(victim, mp, steal_runnext)
    if not grabbed:
        return None
    if sched.tracing:  # all of them, the one run at once last (its GoStart follows)
        mp.tracebuf.extend(
            (nanotime(), EV_RUNQSTEAL, pp.id, victim.id, tuple(g.goid for g in grabbed))
        )
    gp = grabbed.pop()
    q = pp.runq
    for g in grabbed:
        if len(q) < RUNQ_SIZE:
            q.append(g)
        else:
            runqputslow(pp, g)
    return gp


def globrunqput(gp: G) -> None:
    """Put gp at the tail of the global queue."""
    if sched.tracing:
        _trace.evany(EV_GLOBALPUT, gp.goid)
    with sched.lock:
        sched.runq.append(gp)


def globrunqputhead(gp: G) -> None:
    """Put gp at the head of the global queue. sched.lock must be held."""
    sched.runq.appendleft(gp)


def globrunqget(pp: P, max: int) -> G | None:
    """Take a batch from the global queue: return the first G, move the rest to pp's tail.

    sched.lock must be held. Batch size is Go's: runqsize/gomaxprocs + 1, at most runqsize,
    at most max when max > 0, at most half a local queue.
    """
    gq = sched.runq
    size = len(gq)
    if size == 0:
        return None
    n = min(size // sched.gomaxprocs + 1, size, _HALF)
    if max > 0:
        n = min(n, max)
    gp = gq.popleft()
    q = pp.runq
    # The batch fits: callers come here with an empty local queue (or take one G), as in Go.
    n = min(n - 1, RUNQ_SIZE - len(q))
    append = q.append
    popleft = gq.popleft
    for _ in range(n):
        append(popleft())
    if sched.tracing:  # the batch with the one run at once first (its GoStart follows)
        moved = list(q)[len(q) - n :] if n > 0 else []
        _trace.evany(EV_GLOBALGET, pp.id, (gp.goid, *(g.goid for g in moved)))
    return gp
