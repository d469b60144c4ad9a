"""Go's sync package for goroutines. Follows go/src/sync (mutex.go, rwmutex.go, once.go, cond.go,
waitgroup.go), runtime/sema.go's notifyList for Cond, and golang.org/x/sync/semaphore for the
weighted Semaphore.

Every type here parks the calling goroutine (not its thread): through the runtime's semaphores
(sema.py: semacquire/semrelease), or with gopark/goready where Go keeps its own queue of waiters
(Cond's notifyList, the Semaphore's FIFO of weighted requests).

The state words
---------------
Go keeps each type's state in words it changes with atomic adds and compare-and-swap loops.
Here each type guards its state with a small ``threading.Lock`` (the "state lock"). A critical
section under it is exactly one of Go's atomic steps, or a CAS loop's successful iteration: it
reads the state, decides, writes the new state and releases the lock, *then* parks or wakes (a
CAS publishes the state before semacquire too). A CAS can no longer fail, so the retry branches
of Go's loops disappear; the rest of each algorithm, and every observable state transition, is
Go's. Rules:

- The state lock is never held while parking, waking (goready takes sched.lock) or calling user
  code, and never together with a Sema's lock; where a waiter queue lives under the state lock
  (notifyList, Semaphore), gopark releases it only after the G is _Gwaiting (unlockf), so a
  waker that finds the G in the queue can always goready it.
- The claim token (proc.py) is taken only around runtime calls: ``mp = getm(...)``, then
  ``exitsyscall(mp)``, semacquire/semrelease/gopark/goready, and ``entersyscall(mp)`` in a
  finally. User code (a Cond's lock, Once's fn) runs with the token out.
- Fast paths (an uncontended lock or unlock) do not enter the runtime. A slow path calls getm
  before it changes any state, so the RuntimeError raised outside a goroutine leaves the object
  as it was.

Misuse that Go treats as fatal (unlocking an unlocked mutex) raises FatalError and, as Go, panics
(RuntimePanic) where Go panics. Both are checked before the state changes.

Why there is no spinning
------------------------
Go's Mutex spins a few times (runtime_canSpin) before parking, when other Ps are running and
the lock holder may release it within nanoseconds. Under the GIL nobody releases anything while
this thread spins, so spinning would only waste the time slice; runtime_canSpin is always false
here (as it is in Go at GOMAXPROCS=1). The woken flag, which spinning would also set, keeps its
meaning: "a waiter has been woken and will try again; unlock need not wake another".
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._runtime import proc as _proc
from ._runtime.chan import Chan
from ._runtime.panic import FatalError, RuntimePanic, throw
from ._runtime.runtime2 import (
    Sema,
    waitReasonChanReceiveNilChan,
    waitReasonSelect,
    waitReasonSyncCondWait,
    waitReasonSyncMutexLock,
    waitReasonSyncRWMutexLock,
    waitReasonSyncRWMutexRLock,
    waitReasonSyncWaitGroupWait,
)
from ._runtime.select import default, select
from ._runtime.sema import KILLED_WOKEN, semacquire, semrelease

if TYPE_CHECKING:
    from types import TracebackType

    from ._runtime.runtime2 import G, M

__all__ = ["Cond", "Locker", "Mutex", "Once", "RLocker", "RWMutex", "Semaphore", "WaitGroup"]

_nanotime = time.monotonic_ns


def _unlock(gp: G, lock: Any) -> bool:
    """gopark's unlockf: release the state lock once gp is _Gwaiting."""
    lock.release()
    return True


def _semacquire_user(
    mp: M,
    s: Sema,
    reason: str,
    lifo: bool = False,
    onkill: Callable[[int], None] | None = None,
) -> None:
    """semacquire from user code: enter the runtime (take the claim), wait, leave it."""
    _proc.exitsyscall(mp)
    try:
        semacquire(mp, s, reason, lifo, onkill)
    finally:
        _proc.entersyscall(mp)


def _semrelease_user(mp: M, s: Sema, handoff: bool = False, n: int = 1) -> None:
    """semrelease n times from user code, holding the claim meanwhile."""
    _proc.exitsyscall(mp)
    try:
        for _ in range(n):
            semrelease(mp, s, handoff)
    finally:
        _proc.entersyscall(mp)


class Locker(Protocol):
    """An object that can be locked and unlocked (Go's sync.Locker): Mutex, RWMutex, rlocker()."""

    def lock(self) -> None: ...

    def unlock(self) -> None: ...


# ---------------------------------------------------------------------------------------------
# Mutex (mutex.go)

mutexLocked = 1  # the mutex is locked
mutexWoken = 2  # a waiter has been woken and will try again; unlock wakes nobody else
mutexStarving = 4  # starvation mode: unlock hands the mutex to the first waiter
mutexWaiterShift = 3  # the rest of the word counts the waiters
mutexWaiter = 1 << mutexWaiterShift

# A waiter that has waited longer than this switches the mutex to starvation mode.
starvationThresholdNs = 1_000_000


class Mutex:
    """A mutual exclusion lock (Go's sync.Mutex). The zero value is unlocked.

    lock() parks the goroutine until the mutex is free. with mu: ... locks and unlocks (also
    when the block raises). A locked Mutex is not tied to a goroutine: one goroutine may lock
    it and another unlock it.

    Fairness, as Go's: in normal mode waiters queue FIFO, but a woken waiter competes with
    goroutines that are just arriving (and usually loses: they are already running). A waiter
    that fails to get the mutex for more than 1 ms switches it to starvation mode: unlock then
    hands the mutex straight to the waiter at the head of the queue, arriving goroutines queue
    at the tail without trying, and the waiter that got it switches back to normal mode if it
    is the last one or waited less than 1 ms.
    """

    __slots__ = ("_lock", "_state", "_sema")

    def __init__(self) -> None:
        self._lock = threading.Lock()  # state lock: guards _state (Go's state word)
        self._state = 0
        self._sema = Sema(0)

    def __repr__(self) -> str:
        s = self._state
        flags = "".join(
            f" {name}"
            for bit, name in ((mutexWoken, "woken"), (mutexStarving, "starving"))
            if s & bit
        )
        locked = "locked" if s & mutexLocked else "unlocked"
        return f"<gosched.sync.Mutex {locked} waiters={s >> mutexWaiterShift}{flags}>"

    def lock(self) -> None:
        """Lock the mutex, parking the goroutine ("sync.Mutex.Lock") while it is locked."""
        lock = self._lock
        lock.acquire()
        if self._state == 0:
            self._state = mutexLocked
            lock.release()
            return
        lock.release()
        self._lock_slow()

    def try_lock(self) -> bool:
        """Lock the mutex if that needs no waiting; report whether it did."""
        lock = self._lock
        lock.acquire()
        old = self._state
        if old & (mutexLocked | mutexStarving):
            lock.release()
            return False
        self._state = old | mutexLocked
        lock.release()
        return True

    def _lock_slow(self) -> None:
        mp = _proc.getm("sync.Mutex.lock")
        lock = self._lock
        wait_start = 0
        starving = False
        awoke = False
        lock.acquire()
        while True:
            old = self._state
            new = old
            # Do not try to take a starving mutex: it belongs to the queue.
            if not old & mutexStarving:
                new |= mutexLocked
            if old & (mutexLocked | mutexStarving):
                new += mutexWaiter
            # Switch to starvation mode only while the mutex is locked: unlock expects waiters
            # in starvation mode, and an unlocked mutex may have none.
            if starving and old & mutexLocked:
                new |= mutexStarving
            if awoke:
                # We were woken, so the flag is ours to clear.
                if not new & mutexWoken:
                    lock.release()
                    throw("sync: inconsistent mutex state")
                new &= ~mutexWoken
            self._state = new
            lock.release()
            if not old & (mutexLocked | mutexStarving):
                return  # locked it
            # Requeue at the head if we have waited before (Go's queueLifo).
            lifo = wait_start != 0
            if wait_start == 0:
                wait_start = _nanotime()
            _semacquire_user(mp, self._sema, waitReasonSyncMutexLock, lifo, self._killed)
            starving = starving or _nanotime() - wait_start > starvationThresholdNs
            lock.acquire()
            old = self._state
            if old & mutexStarving:
                # The unlocker handed the mutex to us; it is unlocked with us counted as a
                # waiter. Take it and leave starvation mode if we are the last waiter or did
                # not wait long (past the threshold the mode would flap and cost hand-offs).
                if old & (mutexLocked | mutexWoken) or old >> mutexWaiterShift == 0:
                    lock.release()
                    throw("sync: inconsistent mutex state")
                delta = mutexLocked - mutexWaiter
                if not starving or old >> mutexWaiterShift == 1:
                    delta -= mutexStarving
                self._state = old + delta
                lock.release()
                return
            awoke = True

    def _killed(self, how: int) -> None:
        """A waiter was killed at the end of the program: take it out of the state word, so
        that a Mutex outliving gosched.run goes on working (a mutex held by a killed goroutine
        stays held, as in Go)."""
        with self._lock:
            state = self._state
            if how == KILLED_WOKEN:
                state &= ~mutexWoken  # the unlocker counted us out and we never cleared it
            else:  # still queued, or handed the mutex in starvation mode: still counted
                state -= mutexWaiter
            if state >> mutexWaiterShift == 0:
                state &= ~mutexStarving
            self._state = state

    def unlock(self) -> None:
        """Unlock the mutex. Unlocking an unlocked mutex is fatal (FatalError)."""
        lock = self._lock
        lock.acquire()
        old = self._state
        if old == mutexLocked:
            self._state = 0
            lock.release()
            return
        lock.release()
        if not old & mutexLocked:
            raise FatalError("sync: unlock of unlocked mutex")
        self._unlock_slow()

    def _unlock_slow(self) -> None:
        mp = _proc.getm("sync.Mutex.unlock")
        lock = self._lock
        lock.acquire()
        old = self._state
        if not old & mutexLocked:
            lock.release()
            raise FatalError("sync: unlock of unlocked mutex")
        new = old - mutexLocked
        if new & mutexStarving:
            # Starvation mode: hand the mutex to the first waiter and yield to it. The mutex
            # stays "unlocked" with the starving bit set, so arriving goroutines queue instead
            # of taking it; the waiter sets mutexLocked itself.
            self._state = new
            lock.release()
            _semrelease_user(mp, self._sema, True)
            return
        # Normal mode. Wake a waiter unless there is none or one has been woken already. (Go
        # also returns if another goroutine locked the mutex between its atomic add and its
        # CAS; here both are one step, so no one can.)
        if new >> mutexWaiterShift == 0 or new & mutexWoken:
            self._state = new
            lock.release()
            return
        self._state = (new - mutexWaiter) | mutexWoken
        lock.release()
        _semrelease_user(mp, self._sema, False)

    def __enter__(self) -> None:
        lock = self._lock
        lock.acquire()
        if self._state == 0:
            self._state = mutexLocked
            lock.release()
            return
        lock.release()
        self._lock_slow()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()


# ---------------------------------------------------------------------------------------------
# RWMutex (rwmutex.go)

rwmutexMaxReaders = 1 << 30


class RWMutex:
    """A reader/writer mutual exclusion lock (Go's sync.RWMutex).

    Any number of readers (rlock) or one writer (lock). A writer is not starved by a stream of
    readers: once a writer calls lock, readers that arrive later wait until it has had the lock,
    and the writer waits only for the readers already inside. A reader must therefore not rlock
    again while it holds a read lock (it can deadlock against a waiting writer), as in Go.
    with rw: ... takes the write lock; rlocker() gives a Locker for the read side.
    """

    __slots__ = ("_w", "_lock", "_reader_count", "_reader_wait", "_writer_sem", "_reader_sem")

    def __init__(self) -> None:
        self._w = Mutex()  # held if there are pending writers
        # State lock: guards _reader_count (pending readers; minus rwmutexMaxReaders while a
        # writer is pending or holds the lock) and _reader_wait (readers the pending writer
        # still waits for), Go's two atomic words.
        self._lock = threading.Lock()
        self._reader_count = 0
        self._reader_wait = 0
        self._writer_sem = Sema(0)  # the writer waits here for departing readers
        self._reader_sem = Sema(0)  # readers wait here for the writer to unlock

    def __repr__(self) -> str:
        rc = self._reader_count
        if rc < 0:
            return (
                f"<gosched.sync.RWMutex writer readers={rc + rwmutexMaxReaders} "
                f"departing={self._reader_wait}>"
            )
        return f"<gosched.sync.RWMutex readers={rc}>"

    def rlock(self) -> None:
        """Lock for reading, parking ("sync.RWMutex.RLock") while a writer is pending or holds
        the lock."""
        lock = self._lock
        lock.acquire()
        if self._reader_count >= 0:
            self._reader_count += 1
            lock.release()
            return
        lock.release()
        mp = _proc.getm("sync.RWMutex.rlock")
        lock.acquire()
        r = self._reader_count + 1
        self._reader_count = r
        lock.release()
        if r < 0:
            # A writer is pending: wait for its unlock, which releases one unit per reader.
            _semacquire_user(mp, self._reader_sem, waitReasonSyncRWMutexRLock)

    def try_rlock(self) -> bool:
        """Lock for reading if that needs no waiting; report whether it did."""
        lock = self._lock
        lock.acquire()
        if self._reader_count < 0:
            lock.release()
            return False
        self._reader_count += 1
        lock.release()
        return True

    def runlock(self) -> None:
        """Undo one rlock. Fatal (FatalError) if the RWMutex is not read-locked."""
        lock = self._lock
        lock.acquire()
        r = self._reader_count - 1
        if r >= 0:
            self._reader_count = r
            lock.release()
            return
        lock.release()
        if r + 1 == 0 or r + 1 == -rwmutexMaxReaders:
            raise FatalError("sync: RUnlock of unlocked RWMutex")
        # A writer is pending and waits for us among the departing readers.
        mp = _proc.getm("sync.RWMutex.runlock")
        lock.acquire()
        r = self._reader_count - 1
        if r + 1 == 0 or r + 1 == -rwmutexMaxReaders:
            lock.release()
            raise FatalError("sync: RUnlock of unlocked RWMutex")
        self._reader_count = r
        last = False
        if r < 0:
            self._reader_wait -= 1
            last = self._reader_wait == 0
        lock.release()
        if last:
            # The last departing reader lets the writer in.
            _semrelease_user(mp, self._writer_sem, False)

    def lock(self) -> None:
        """Lock for writing, parking ("sync.RWMutex.Lock") while readers or a writer hold it."""
        # First, resolve competition with other writers.
        self._w.lock()
        lock = self._lock
        lock.acquire()
        if self._reader_count == 0:
            self._reader_count = -rwmutexMaxReaders
            lock.release()
            return
        lock.release()
        try:
            mp = _proc.getm("sync.RWMutex.lock")
        except BaseException:
            self._w.unlock()
            raise
        lock.acquire()
        # Announce the pending writer: readers arriving from now on wait on _reader_sem.
        r = self._reader_count
        self._reader_count = r - rwmutexMaxReaders
        wait = 0
        if r != 0:
            self._reader_wait += r
            wait = self._reader_wait
        lock.release()
        if wait != 0:
            # Wait for the active readers to leave; the last one releases _writer_sem.
            _semacquire_user(mp, self._writer_sem, waitReasonSyncRWMutexLock)

    def try_lock(self) -> bool:
        """Lock for writing if that needs no waiting; report whether it did."""
        if not self._w.try_lock():
            return False
        lock = self._lock
        lock.acquire()
        if self._reader_count != 0:
            lock.release()
            self._w.unlock()
            return False
        self._reader_count = -rwmutexMaxReaders
        lock.release()
        return True

    def unlock(self) -> None:
        """Unlock for writing, letting in the readers that waited, then the next writer. Fatal
        (FatalError) if the RWMutex is not write-locked."""
        lock = self._lock
        lock.acquire()
        r = self._reader_count + rwmutexMaxReaders
        if r == 0:
            # Announce to readers there is no active writer; none waits.
            self._reader_count = 0
            lock.release()
            self._w.unlock()
            return
        lock.release()
        if r >= rwmutexMaxReaders:
            raise FatalError("sync: Unlock of unlocked RWMutex")
        mp = _proc.getm("sync.RWMutex.unlock")
        lock.acquire()
        r = self._reader_count + rwmutexMaxReaders
        if r >= rwmutexMaxReaders:
            lock.release()
            raise FatalError("sync: Unlock of unlocked RWMutex")
        self._reader_count = r
        lock.release()
        # Unblock the readers that arrived while the writer was pending or held the lock.
        if r:
            _semrelease_user(mp, self._reader_sem, False, n=r)
        # Allow other writers to proceed.
        self._w.unlock()

    def rlocker(self) -> RLocker:
        """A Locker whose lock/unlock are this RWMutex's rlock/runlock (Go's RLocker)."""
        return RLocker(self)

    def __enter__(self) -> None:
        self.lock()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()


class RLocker:
    """The read side of an RWMutex as a Locker (RWMutex.rlocker()); also a context manager."""

    __slots__ = ("_rw",)

    def __init__(self, rw: RWMutex) -> None:
        self._rw = rw

    def lock(self) -> None:
        """rlock the RWMutex."""
        self._rw.rlock()

    def unlock(self) -> None:
        """runlock the RWMutex."""
        self._rw.runlock()

    def __enter__(self) -> None:
        self._rw.rlock()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._rw.runlock()


# ---------------------------------------------------------------------------------------------
# Once (once.go)


class Once:
    """Runs a function once (Go's sync.Once).

    do(fn) calls fn() if and only if do is called for the first time on this Once. Callers that
    arrive while the first call runs wait for it to return, so when do returns, fn has run.
    If fn raises (or calls goexit), the exception propagates and the Once is still done: later
    calls do nothing. fn must not call do on the same Once (it would deadlock, as in Go).
    """

    __slots__ = ("_done", "_m")

    def __init__(self) -> None:
        # _done is only set with _m held; a plain bool read is Go's atomic load (a stale False
        # only sends the caller to the slow path, which checks again under _m).
        self._done = False
        self._m = Mutex()

    def do(self, fn: Callable[[], object]) -> None:
        """Call fn() if this is the first call of do on this Once."""
        if not self._done:
            self._do_slow(fn)

    def _do_slow(self, fn: Callable[[], object]) -> None:
        m = self._m
        m.lock()
        try:
            if not self._done:
                try:
                    fn()
                finally:
                    self._done = True
        finally:
            m.unlock()


# ---------------------------------------------------------------------------------------------
# Cond (cond.go; the notifyList of runtime/sema.go)


class _NotifyList:
    """Go's notifyList: a ticket-based list of goroutines waiting on a Cond.

    wait(t) returns at once if ticket t has been notified; otherwise it parks until notify_one
    or notify_all readies it. A ticket is taken (add) before the Cond's lock is released, so a
    signal sent after that and before the waiter parks is not lost: notify_one advances
    ``notify`` and the late waiter sees its ticket is already served.
    """

    __slots__ = ("lock", "wait", "notify", "waiters", "abandoned")

    def __init__(self) -> None:
        self.lock = threading.Lock()  # guards all fields
        self.wait = 0  # the ticket of the next waiter
        self.notify = 0  # the ticket of the next waiter to notify
        # Parked waiters by ticket, in the order they parked (Go's sudog list).
        self.waiters: dict[int, G] = {}
        # Unserved tickets whose holders will never wait: killed at exit (not in Go, where the
        # process ends), or Cond.wait's unlock raised. notify_one skips them, so no signal is
        # spent on them (and a Cond outliving gosched.run works in the next run).
        self.abandoned: set[int] = set()

    def add(self) -> int:
        lock = self.lock
        lock.acquire()
        t = self.wait
        self.wait = t + 1
        lock.release()
        return t

    def wait_ticket(self, t: int) -> None:
        mp = _proc.getm("sync.Cond.wait")
        lock = self.lock
        _proc.exitsyscall(mp)
        try:
            lock.acquire()
            if t < self.notify:
                lock.release()
                return
            gp = mp.curg
            assert gp is not None
            self.waiters[t] = gp
            try:
                _proc.gopark(mp, _unlock, lock, waitReasonSyncCondWait)
            except BaseException:  # killed while parked: the program is ending
                self.forget(t)
                raise
        finally:
            _proc.entersyscall(mp)

    def forget(self, t: int) -> None:
        """The holder of ticket t stops waiting before it was notified: drop its ticket."""
        lock = self.lock
        lock.acquire()
        if t >= self.notify:
            self.waiters.pop(t, None)
            self.abandoned.add(t)
        lock.release()

    def notify_one(self) -> None:
        # Fast path: no new waiters since the last notification (read without the lock, as
        # Go's atomic loads: a waiter racing with us took its ticket concurrently).
        if self.wait == self.notify:
            return
        mp = _proc.getm("sync.Cond.signal")
        lock = self.lock
        lock.acquire()
        t = self.notify
        wait = self.wait
        abandoned = self.abandoned
        while abandoned and t != wait and t in abandoned:
            abandoned.discard(t)
            t += 1
        if t == wait:
            self.notify = t
            lock.release()
            return
        self.notify = t + 1
        # The waiter with ticket t may not have parked yet: then it sees t < notify and does not.
        gp = self.waiters.pop(t, None)
        lock.release()
        if gp is not None:
            _proc.exitsyscall(mp)
            try:
                _proc.goready(mp, gp)
            finally:
                _proc.entersyscall(mp)

    def notify_all(self) -> None:
        if self.wait == self.notify:
            return
        mp = _proc.getm("sync.Cond.broadcast")
        lock = self.lock
        lock.acquire()
        waiters = self.waiters
        self.waiters = {}
        # Waiters that took a ticket but have not parked yet will see they were notified.
        self.notify = self.wait
        self.abandoned.clear()
        lock.release()
        if waiters:
            _proc.exitsyscall(mp)
            try:
                for gp in waiters.values():
                    _proc.goready(mp, gp)
            finally:
                _proc.entersyscall(mp)


class Cond:
    """A condition variable (Go's sync.Cond): goroutines wait for an event, with a Locker L
    held while the condition is checked or changed.

    wait() must be called with L locked: it unlocks L, parks ("sync.Cond.Wait") until signal()
    or broadcast() wakes it, and locks L again before returning. Since other goroutines may run
    between the wake-up and the relock, wait in a loop: ``while not cond(): c.wait()``.
    signal() wakes the longest-waiting goroutine, broadcast() wakes all; neither needs L held,
    and a signal with no waiter is lost. Wake-ups go in wait order, each into runnext (Go's
    goready), so after a broadcast the last waiter runs first.
    """

    __slots__ = ("L", "_notify")

    def __init__(self, lock: Locker) -> None:
        if not (callable(getattr(lock, "lock", None)) and callable(getattr(lock, "unlock", None))):
            raise TypeError(
                "sync.Cond: lock must have lock() and unlock() methods (a Mutex, an RWMutex or "
                f"an RWMutex.rlocker()), not {type(lock).__name__}"
            )
        self.L = lock  # held while observing or changing the condition (Go's c.L)
        self._notify = _NotifyList()

    def wait(self) -> None:
        """Unlock L, park until woken by signal or broadcast, lock L again."""
        notify = self._notify
        t = notify.add()
        try:
            self.L.unlock()
        except BaseException:
            notify.forget(t)
            raise
        notify.wait_ticket(t)
        self.L.lock()

    def signal(self) -> None:
        """Wake one goroutine waiting on the Cond, the one that has waited longest."""
        self._notify.notify_one()

    def broadcast(self) -> None:
        """Wake every goroutine waiting on the Cond."""
        self._notify.notify_all()


# ---------------------------------------------------------------------------------------------
# Semaphore (golang.org/x/sync/semaphore: Weighted)


class _Waiter:
    __slots__ = ("n", "g", "ready")

    def __init__(self, n: int, gp: G | None, ready: Chan[Any] | None = None) -> None:
        self.n = n  # the weight it asked for
        self.g = gp  # parked on its own (acquire without a context): goready it
        self.ready = ready  # waiting in a select with its context: close this


class Semaphore:
    """A weighted semaphore (golang.org/x/sync/semaphore.Weighted) of size n.

    acquire(n=k) takes k units, parking until they are available; release(k) returns them;
    try_acquire(k) takes them only if that needs no waiting. Waiters are served strictly
    FIFO: a request that does not fit blocks every later one, even smaller ones that would fit,
    so that large requests are not starved. A release wakes as many waiters, in order, as now
    fit. A request larger than the size can never be served: it blocks until its context is
    done, which with ctx=None is forever (Go's context.Background()).
    """

    __slots__ = ("_lock", "_size", "_cur", "_waiters")

    def __init__(self, n: int) -> None:
        self._lock = threading.Lock()  # guards _cur and _waiters (Go's s.mu)
        self._size = n
        self._cur = 0  # units held
        self._waiters: deque[_Waiter] = deque()

    def __repr__(self) -> str:
        return (
            f"<gosched.sync.Semaphore size={self._size} held={self._cur} "
            f"waiters={len(self._waiters)}>"
        )

    def acquire(self, ctx: object = None, n: int = 1) -> None:
        """Acquire n units, parking until they are available.

        With a context (gosched.context), the wait ends early when ctx is done: acquire then
        raises ctx.err() (Canceled or DeadlineExceeded) and holds nothing, as x/sync returns
        ctx.Err(); a ctx that is done already fails even if the units are free. Without one, it
        waits as long as it takes (Go's context.Background()).
        """
        if ctx is not None:
            self._acquire_ctx(ctx, n)
            return
        lock = self._lock
        lock.acquire()
        if self._size - self._cur >= n and not self._waiters:
            self._cur += n
            lock.release()
            return
        lock.release()
        mp = _proc.getm("sync.Semaphore.acquire")
        _proc.exitsyscall(mp)
        try:
            lock.acquire()
            if self._size - self._cur >= n and not self._waiters:
                self._cur += n
                lock.release()
                return
            if n > self._size:
                # Don't make other acquire calls block on one that is doomed: wait for the
                # context instead of queueing (x/sync's <-ctx.Done(); a nil channel here).
                lock.release()
                _proc.gopark(mp, None, None, waitReasonChanReceiveNilChan)
                throw("sync.Semaphore: a request larger than the semaphore was woken")
            gp = mp.curg
            assert gp is not None
            w = _Waiter(n, gp)
            self._waiters.append(w)
            # x/sync waits in a select on ctx.Done() and its ready channel; release closes
            # ready after counting our units in _cur, so waking up means we hold them.
            try:
                _proc.gopark(mp, _unlock, lock, waitReasonSelect)
            except BaseException:
                self._leave(w)
                raise
        finally:
            _proc.entersyscall(mp)

    def _acquire_ctx(self, ctx: Any, n: int) -> None:
        """x/sync's Acquire: queue with a ready channel and select on it and ctx.done()."""
        done = ctx.done()
        lock = self._lock
        lock.acquire()
        try:
            if select(done.recv, default)[0] == 0:
                raise ctx.err()  # done "happened before" the call: fail even if free
            if self._size - self._cur >= n and not self._waiters:
                self._cur += n
                return
        finally:
            lock.release()
        if n > self._size:
            # Don't make other acquire calls block on one that is doomed: wait for ctx.
            done.recv()
            raise ctx.err()
        ready: Chan[Any] = Chan()
        w = _Waiter(n, None, ready)
        with lock:
            self._waiters.append(w)
        try:
            chosen, _ = select(done.recv, ready.recv)
        except BaseException:
            self._leave(w)
            raise
        if chosen == 1:
            # Acquired; but if ctx is done by now, give the units back and fail.
            if select(done.recv, default)[0] == 0:
                self.release(n)
                raise ctx.err()
            return
        woken: list[_Waiter] = []
        with lock:
            if select(ready.recv, default)[0] == 0:
                # Granted the units just as ctx was done: give them back.
                self._cur -= n
                woken = self._notify_waiters()
            else:
                front = self._waiters[0] is w
                self._waiters.remove(w)
                # If we were holding up the queue and there are units left, serve the rest.
                if front and self._size > self._cur:
                    woken = self._notify_waiters()
        self._wake(woken)
        raise ctx.err()

    def _wake(self, woken: list[_Waiter]) -> None:
        """Wake the waiters _notify_waiters granted units to (the state lock is not held)."""
        if not woken:
            return
        mp = _proc.getm("sync.Semaphore.release")
        for w in woken:
            if w.ready is not None:
                w.ready.close()
                continue
            _proc.exitsyscall(mp)
            try:
                _proc.goready(mp, w.g)  # type: ignore[arg-type]
            finally:
                _proc.entersyscall(mp)

    def _leave(self, w: _Waiter) -> None:
        """w stops waiting without having used its units: it was killed while parked (the
        program is ending). Undo its part so that a Semaphore outliving gosched.run works in the
        next run: out of the queue if it is still there, else give back what it was granted."""
        lock = self._lock
        lock.acquire()
        try:
            self._waiters.remove(w)
        except ValueError:
            self._cur -= w.n
        lock.release()

    def try_acquire(self, n: int = 1) -> bool:
        """Acquire n units if they are available and nobody waits; report whether it did."""
        lock = self._lock
        lock.acquire()
        ok = self._size - self._cur >= n and not self._waiters
        if ok:
            self._cur += n
        lock.release()
        return ok

    def release(self, n: int = 1) -> None:
        """Release n units and wake, in order, the waiters that now fit.

        Releasing more than is held panics (RuntimePanic) and leaves the semaphore unchanged.
        """
        lock = self._lock
        lock.acquire()
        cur = self._cur - n
        if cur < 0:
            lock.release()
            raise RuntimePanic("semaphore: released more than held")
        if not self._waiters:
            self._cur = cur
            lock.release()
            return
        lock.release()
        _proc.getm("sync.Semaphore.release")  # waking needs a goroutine: fail before changing
        lock.acquire()
        cur = self._cur - n
        if cur < 0:
            lock.release()
            raise RuntimePanic("semaphore: released more than held")
        self._cur = cur
        woken = self._notify_waiters()
        lock.release()
        self._wake(woken)

    def _notify_waiters(self) -> list[_Waiter]:
        """Grant units to the waiters at the head while they fit; return them to be woken.
        The state lock is held."""
        woken: list[_Waiter] = []
        waiters = self._waiters
        while waiters:
            w = waiters[0]
            if self._size - self._cur < w.n:
                # Not enough for the next waiter. Serving a smaller one behind it instead
                # could starve large requests forever (a semaphore of N used as a RW lock:
                # a writer taking N never gets in while readers keep taking 1).
                break
            self._cur += w.n
            waiters.popleft()
            woken.append(w)
        return woken


# ---------------------------------------------------------------------------------------------
# WaitGroup (waitgroup.go)


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
        _semrelease_user(mp, self._sema, n=w)

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
        _semacquire_user(mp, self._sema, waitReasonSyncWaitGroupWait)

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
