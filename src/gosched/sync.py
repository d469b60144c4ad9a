"""Go's sync package for goroutines. Follows go/src/sync (mutex.go, rwmutex.go, once.go, cond.go,
waitgroup.go, map.go, pool.go, oncefunc.go), runtime/sema.go's notifyList for Cond, and
golang.org/x/sync/semaphore for the weighted Semaphore.

Every type here parks the calling goroutine (not its thread), through what the runtime offers
Go's sync package: its semaphores (sync_runtime_Semacquire/Semrelease) and notify lists
(notifyListAdd/Wait/NotifyOne/NotifyAll, behind Cond). The weighted Semaphore is built on
channels and select, as golang.org/x/sync's is.

The state words
---------------
Go keeps each type's state in words it changes with atomic adds and compare-and-swap loops.
Here each type guards its state with a small ``threading.Lock`` (the "state lock"). A critical
section under it is exactly one of Go's atomic steps, or a CAS loop's successful iteration: it
reads the state, decides, writes the new state and releases the lock, *then* parks or wakes (a
CAS publishes the state before semacquire too). A CAS can no longer fail, so the retry branches
of Go's loops disappear; the rest of each algorithm, and every observable state transition, is
Go's. Rules:

- The state lock is never held while entering the runtime (to park or to wake), or while
  calling user code.
- Fast paths (an uncontended lock or unlock) do not enter the runtime. A slow path checks that
  it runs in a goroutine (checkgoroutine) before it changes any state, so the RuntimeError
  raised outside one leaves the object as it was.

Waits that end early
--------------------
A goroutine parked here leaves its wait without the lock (or the unit) in two ways: a Ctrl-C
takes goroutine 1 off it (KeyboardInterrupt, the program may go on), or the program ends and
kills it (GreenletExit). The runtime tells the semaphore's user how the wait ended (``onleave``:
still queued, or already woken), and each type puts its state word right, without entering the
runtime, so that the object keeps working: a Mutex forgets the waiter, a WaitGroup its waiter,
an RWMutex reader its place among the readers. An RWMutex writer that was waiting for readers
also lets in the readers it held back and releases the writer lock, which wakes goroutines: it
does that only after a KeyboardInterrupt; a writer killed at exit leaves the RWMutex
write-locked (HACKING.md: objects that outlive a run).

Misuse that Go treats as fatal (unlocking an unlocked mutex) ends the program with FatalError, even
if the caller catches it (the face's ``fatal``), and, as Go, panics
(RuntimePanic) where Go panics. Both are checked before the state changes.

Arguments
---------
Counts and weights are ints (or objects with ``__index__``); a bool, a float or a str is a
TypeError and a negative weight a ValueError, both naming the argument, raised before anything
changes. Go's compiler rejects the first; x/sync would let a negative weight corrupt the count.

Why there is no spinning
------------------------
Go's Mutex spins a few times (runtime_canSpin) before parking, when other Ps are running and
the lock holder may release it within nanoseconds. Under the GIL nobody releases anything while
this thread spins, so spinning would only waste the time slice; runtime_canSpin is always false
here (as it is in Go at GOMAXPROCS=1). The woken flag, which spinning would also set, keeps its
meaning: "a waiter has been woken and will try again; unlock need not wake another".
"""

from __future__ import annotations

import gc
import operator
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from greenlet import GreenletExit

from ._runtime import (
    LEFT_QUEUED,
    LEFT_WOKEN,
    Chan,
    RuntimePanic,
    Sema,
    checkgoroutine,
    checkpoint,
    default,
    fatal,
    newproc,
    nilchan,
    notifyList,
    notifyListAdd,
    notifyListForget,
    notifyListNotifyAll,
    notifyListNotifyOne,
    notifyListWait,
    safepoints,
    select,
    sync_runtime_Semacquire,
    sync_runtime_Semrelease,
    throw,
    usercaller,
    waitReasonSyncMutexLock,
    waitReasonSyncRWMutexLock,
    waitReasonSyncRWMutexRLock,
    waitReasonSyncWaitGroupWait,
)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "Cond",
    "Locker",
    "Map",
    "Mutex",
    "Once",
    "Pool",
    "RLocker",
    "RWMutex",
    "Semaphore",
    "WaitGroup",
    "once_func",
    "once_value",
    "once_values",
]

_nanotime = time.monotonic_ns

_T = TypeVar("_T")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")


def _intarg(what: str, name: str, value: object) -> int:
    """value as an int, else TypeError naming the argument. A bool is refused although it is an
    int to Python: Go has no implicit bool-to-int conversion, and wg.add(True) is a bug."""
    if type(value) is int:
        return value
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise TypeError(f"{what}: {name} must be an int, not {type(value).__name__}")


def _weight(what: str, value: object) -> int:
    """A semaphore weight: an int >= 0 (see "Arguments")."""
    n = _intarg(what, "n", value)
    if n < 0:
        raise ValueError(f"{what}: n must not be negative, got {n}")
    return n


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
        if safepoints.requested:
            checkpoint()
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
        if safepoints.requested:
            checkpoint()
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
        checkgoroutine("sync.Mutex.lock")
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
            sync_runtime_Semacquire(
                self._sema, "sync.Mutex.lock", waitReasonSyncMutexLock, lifo, self._left
            )
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

    def _left(self, how: int) -> None:
        """A waiter left without the mutex (see "Waits that end early"): take it out of the
        state word (a mutex held by a killed goroutine stays held, as in Go)."""
        with self._lock:
            state = self._state
            if how == LEFT_WOKEN:
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
            fatal("sync: unlock of unlocked mutex")
        self._unlock_slow()

    def _unlock_slow(self) -> None:
        checkgoroutine("sync.Mutex.unlock")
        lock = self._lock
        lock.acquire()
        old = self._state
        if not old & mutexLocked:
            lock.release()
            fatal("sync: unlock of unlocked mutex")
        new = old - mutexLocked
        if new & mutexStarving:
            # Starvation mode: hand the mutex to the first waiter and yield to it. The mutex
            # stays "unlocked" with the starving bit set, so arriving goroutines queue instead
            # of taking it; the waiter sets mutexLocked itself.
            self._state = new
            lock.release()
            sync_runtime_Semrelease(self._sema, "sync.Mutex.unlock", True)
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
        sync_runtime_Semrelease(self._sema, "sync.Mutex.unlock", False)

    __enter__ = lock

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
        if safepoints.requested:
            checkpoint()
        lock = self._lock
        lock.acquire()
        if self._reader_count >= 0:
            self._reader_count += 1
            lock.release()
            return
        lock.release()
        checkgoroutine("sync.RWMutex.rlock")
        lock.acquire()
        r = self._reader_count + 1
        self._reader_count = r
        lock.release()
        if r < 0:
            # A writer is pending: wait for its unlock, which releases one unit per reader.
            sync_runtime_Semacquire(
                self._reader_sem,
                "sync.RWMutex.rlock",
                waitReasonSyncRWMutexRLock,
                onleave=self._reader_left,
            )

    def _reader_left(self, how: int) -> None:
        """A reader left its wait without the read lock: it no longer counts among the readers
        (still queued: the writer's unlock will release one unit fewer; woken at exit: it was
        an active reader, leaving without waking a writer)."""
        with self._lock:
            r = self._reader_count - 1
            self._reader_count = r
            if how == LEFT_WOKEN and r < 0 and self._reader_wait > 0:
                self._reader_wait -= 1

    def try_rlock(self) -> bool:
        """Lock for reading if that needs no waiting; report whether it did."""
        if safepoints.requested:
            checkpoint()
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
            fatal("sync: RUnlock of unlocked RWMutex")
        # A writer is pending and waits for us among the departing readers.
        checkgoroutine("sync.RWMutex.runlock")
        lock.acquire()
        r = self._reader_count - 1
        if r + 1 == 0 or r + 1 == -rwmutexMaxReaders:
            lock.release()
            fatal("sync: RUnlock of unlocked RWMutex")
        self._reader_count = r
        last = False
        if r < 0:
            self._reader_wait -= 1
            last = self._reader_wait == 0
        lock.release()
        if last:
            # The last departing reader lets the writer in.
            sync_runtime_Semrelease(self._writer_sem, "sync.RWMutex.runlock")

    def lock(self) -> None:
        """Lock for writing, parking ("sync.RWMutex.Lock") while readers or a writer hold it."""
        if safepoints.requested:
            checkpoint()
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
            checkgoroutine("sync.RWMutex.lock")
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
            left: list[int] = []
            try:
                sync_runtime_Semacquire(
                    self._writer_sem,
                    "sync.RWMutex.lock",
                    waitReasonSyncRWMutexLock,
                    onleave=left.append,
                )
            except GreenletExit:
                raise  # the program is ending: the RWMutex stays as it is (see above)
            except BaseException:
                if left == [LEFT_QUEUED]:
                    self._cancel_writer()
                elif left == [LEFT_WOKEN]:
                    self.unlock()  # the last reader let us in: we held the lock
                raise

    def _cancel_writer(self) -> None:
        """A pending writer gives up before its readers left: undo its announcement, let in the
        readers that arrived meanwhile (blocked on _reader_sem) and release the writer lock."""
        lock = self._lock
        lock.acquire()
        r = self._reader_count + rwmutexMaxReaders  # active readers + blocked ones
        blocked = r - self._reader_wait
        self._reader_count = r
        self._reader_wait = 0
        lock.release()
        if blocked:
            sync_runtime_Semrelease(self._reader_sem, "sync.RWMutex.lock", n=blocked)
        self._w.unlock()

    def try_lock(self) -> bool:
        """Lock for writing if that needs no waiting; report whether it did."""
        if safepoints.requested:
            checkpoint()
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
            fatal("sync: Unlock of unlocked RWMutex")
        checkgoroutine("sync.RWMutex.unlock")
        lock.acquire()
        r = self._reader_count + rwmutexMaxReaders
        if r >= rwmutexMaxReaders:
            lock.release()
            fatal("sync: Unlock of unlocked RWMutex")
        self._reader_count = r
        lock.release()
        # Unblock the readers that arrived while the writer was pending or held the lock.
        if r:
            sync_runtime_Semrelease(self._reader_sem, "sync.RWMutex.unlock", n=r)
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
        if safepoints.requested:
            checkpoint()
        if not self._done:
            self._do_slow(fn)

    @usercaller  # holds only a Mutex, which a preempted goroutine may hold
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


class Cond:
    """A condition variable (Go's sync.Cond): goroutines wait for an event, with a Locker L
    held while the condition is checked or changed.

    wait() must be called with L locked: it unlocks L, parks ("sync.Cond.Wait") until signal()
    or broadcast() wakes it, and locks L again before returning. Since other goroutines may run
    between the wake-up and the relock, wait in a loop: ``while not cond(): c.wait()``.
    signal() wakes the longest-waiting goroutine, broadcast() wakes all; neither needs L held,
    and a signal with no waiter is lost. Wake-ups go in wait order, each into runnext (Go's
    goready), so after a broadcast the last waiter runs first. A wait that ends with
    KeyboardInterrupt (goroutine 1, Ctrl-C) locks L again before it propagates, as
    threading.Condition does, so that ``with L:`` around it stays balanced.
    """

    __slots__ = ("L", "_notify")

    def __init__(self, lock: Locker) -> None:
        if not (callable(getattr(lock, "lock", None)) and callable(getattr(lock, "unlock", None))):
            raise TypeError(
                "sync.Cond: lock must have lock() and unlock() methods (a Mutex, an RWMutex or "
                f"an RWMutex.rlocker()), not {type(lock).__name__}"
            )
        self.L = lock  # held while observing or changing the condition (Go's c.L)
        self._notify = notifyList()

    def wait(self) -> None:
        """Unlock L, park until woken by signal or broadcast, lock L again."""
        if safepoints.requested:
            checkpoint()
        notify = self._notify
        L = self.L
        if type(L) is Mutex and not L._state & mutexLocked:
            # Fatal (it ends the program, and this goroutine never runs again): fail before
            # taking a ticket, which no one would give back, so that the Cond still works in
            # a later run.
            L.unlock()
        t = notifyListAdd(notify)
        try:
            L.unlock()
        except BaseException:
            notifyListForget(notify, t)
            raise
        try:
            notifyListWait(notify, t)
        except BaseException:
            # As Go's Wait, return with L locked. A goroutine killed at exit is abandoned right
            # here instead (lock enters the runtime), before it changes L's state.
            self.L.lock()
            raise
        self.L.lock()

    def signal(self) -> None:
        """Wake one goroutine waiting on the Cond, the one that has waited longest."""
        if safepoints.requested:
            checkpoint()
        notifyListNotifyOne(self._notify)

    def broadcast(self) -> None:
        """Wake every goroutine waiting on the Cond."""
        if safepoints.requested:
            checkpoint()
        notifyListNotifyAll(self._notify)


# ---------------------------------------------------------------------------------------------
# Semaphore (golang.org/x/sync/semaphore: Weighted)


class _Waiter:
    __slots__ = ("n", "ready", "granted")

    def __init__(self, n: int) -> None:
        self.n = n  # the weight it asked for
        self.ready: Chan[Any] = Chan()  # closed once it holds its units
        self.granted = False  # it holds its units (set under the state lock, before the close)


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
        n = _weight("sync.Semaphore", n)
        self._lock = threading.Lock()  # guards _cur, _waiters and w.granted (Go's s.mu)
        self._size = n
        self._cur = 0  # units held
        self._waiters: deque[_Waiter] = deque()

    def __repr__(self) -> str:
        return (
            f"<gosched.sync.Semaphore size={self._size} held={self._cur} "
            f"waiters={len(self._waiters)}>"
        )

    def acquire(self, ctx: Any = None, n: int = 1) -> None:
        """Acquire n units, parking until they are available.

        With a context (gosched.context), the wait ends early when ctx is done: acquire then
        raises ctx.err() (Canceled or DeadlineExceeded) and holds nothing, as x/sync returns
        ctx.Err(); a ctx that is done already fails even if the units are free. Without one, it
        waits as long as it takes (Go's context.Background(), whose done channel is nil).

        As x/sync's Acquire: queue with a ready channel, then select on it and ctx.done().
        """
        n = _weight("sync.Semaphore.acquire", n)
        if safepoints.requested:
            checkpoint()
        done: Chan[Any] = nilchan if ctx is None else ctx.done()
        if done is not nilchan and select(done.recv, default)[0] == 0:
            raise ctx.err()  # done "happened before" the call: fail even if free
        lock = self._lock
        lock.acquire()
        if self._size - self._cur >= n and not self._waiters:
            self._cur += n
            lock.release()
            return
        lock.release()
        checkgoroutine("sync.Semaphore.acquire")
        if n > self._size:
            # Don't make other acquire calls block on one that is doomed: wait for ctx.
            done.recv()
            raise ctx.err()
        w = _Waiter(n)
        lock.acquire()
        if self._size - self._cur >= n and not self._waiters:
            self._cur += n
            lock.release()
            return
        self._waiters.append(w)
        lock.release()
        try:
            chosen, _ = select(done.recv, w.ready.recv)
        except BaseException as e:
            self._leave(w, not isinstance(e, GreenletExit))
            raise
        if chosen == 1:
            # Acquired; but if ctx is done by now, give the units back and fail.
            if select(done.recv, default)[0] == 0:
                self.release(n)
                raise ctx.err()
            return
        self._leave(w, True)
        raise ctx.err()

    def _leave(self, w: _Waiter, wake: bool) -> None:
        """w stops waiting without using its units: its context is done, or the wait ended
        early (see "Waits that end early"). If it was granted them meanwhile they go back; if it
        was at the head of the queue, the waiters behind it may fit now. Waking them enters the
        runtime, which a goroutine being killed at exit must not do (``wake``)."""
        lock = self._lock
        lock.acquire()
        woken: list[_Waiter] = []
        if w.granted:
            self._cur -= w.n
            woken = self._notify_waiters()
        else:
            front = self._waiters[0] is w
            self._waiters.remove(w)
            if front and self._size > self._cur:
                woken = self._notify_waiters()
        lock.release()
        if wake:
            self._wake(woken)

    def _wake(self, woken: list[_Waiter]) -> None:
        """Wake the waiters _notify_waiters granted units to (the state lock is not held)."""
        for w in woken:
            w.ready.close()

    def try_acquire(self, n: int = 1) -> bool:
        """Acquire n units if they are available and nobody waits; report whether it did."""
        n = _weight("sync.Semaphore.try_acquire", n)
        if safepoints.requested:
            checkpoint()
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
        n = _weight("sync.Semaphore.release", n)
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
        checkgoroutine("sync.Semaphore.release")  # waking needs a goroutine: fail before changing
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
            w.granted = True
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

    __slots__ = ("_lock", "_v", "_w", "_stray", "_sema")

    def __init__(self) -> None:
        # Guards _v (counter) and _w (waiters), Go's state word, and _stray.
        self._lock = threading.Lock()
        self._v = 0
        self._w = 0
        # Units on their way to _sema for waiters that left early (see _left).
        self._stray = 0
        self._sema = Sema(0)

    def add(self, delta: int = 1) -> None:
        """Add delta (may be negative) to the counter; at zero, release every waiter.

        A negative delta needs a goroutine, or a plain thread while a run is active, even when
        it wakes nobody (done() is add(-1)): outside a run it raises RuntimeError and leaves
        the counter as it was."""
        if type(delta) is not int:
            delta = _intarg("sync.WaitGroup.add", "delta", delta)
        if delta > 0:
            if safepoints.requested:  # a release (done) is not a safe point
                checkpoint()
        elif delta < 0:
            checkgoroutine("sync.WaitGroup.add")
        self._add(delta)

    def _add(self, delta: int) -> None:
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
        sync_runtime_Semrelease(self._sema, "WaitGroup.add", n=w)

    def done(self) -> None:
        """Decrement the counter by one (RuntimeError outside a run, counter unchanged)."""
        checkgoroutine("sync.WaitGroup.done")
        lock = self._lock
        lock.acquire()
        v = self._v - 1
        if v > 0:
            self._v = v
            lock.release()
            return
        lock.release()
        self._add(-1)

    def wait(self) -> None:
        """Block until the counter is zero."""
        if safepoints.requested:
            checkpoint()
        checkgoroutine("WaitGroup.wait")
        lock = self._lock
        lock.acquire()
        stray = self._stray
        self._stray = 0
        if self._v == 0:
            lock.release()
            self._drain(stray)
            return
        self._w += 1
        lock.release()
        self._drain(stray)
        sync_runtime_Semacquire(
            self._sema, "WaitGroup.wait", waitReasonSyncWaitGroupWait, onleave=self._left
        )
        if self._v != 0:
            raise RuntimePanic("sync: WaitGroup is reused before previous Wait has returned")

    def _left(self, how: int) -> None:
        """A waiter left without being released (see "Waits that end early"). Still queued: it
        no longer counts among the waiters, unless the counter reached zero meanwhile and its
        unit is on the way (add reset the waiters and releases them after dropping the lock):
        the next wait takes that unit out of the way."""
        if how != LEFT_QUEUED:
            return  # released: semacquire forgot the unit
        with self._lock:
            if self._w > 0:
                self._w -= 1
            else:
                self._stray += 1

    def _drain(self, n: int) -> None:
        for _ in range(n):
            sync_runtime_Semacquire(self._sema, "WaitGroup.wait", waitReasonSyncWaitGroupWait)

    def go(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """add(1), then run fn(*args, **kwargs) in a new goroutine that calls done() at the end."""
        if not callable(fn):
            raise TypeError("go of nil func value")
        self.add(1)
        newproc(self._run, (fn, args, kwargs), {}, 1)

    @usercaller
    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            fn(*args, **kwargs)
        finally:
            self.done()


# ---------------------------------------------------------------------------------------------
# OnceFunc, OnceValue, OnceValues (oncefunc.go)


class _OnceCall(Generic[_T]):
    """The function once_func, once_value and once_values return (one implementation of Go's
    three closures). nvalues is 0 (OnceFunc: the result is None), 1 or 2 (f must return a
    2-tuple).

    _valid, _panic and _tb are written only by the call of _g that runs f, under the Once, and
    before the Once is done; _valid goes True last. A caller that reads _valid True without the
    Once sees _result; one that reads False goes through the Once, which makes it wait for a
    running f and then read the fields as f left them (Go's once.Do(g); if !valid: panic(p)).
    """

    __slots__ = ("_once", "_f", "_nvalues", "_what", "_valid", "_result", "_panic", "_tb")

    def __init__(self, f: Callable[[], Any], nvalues: int, what: str) -> None:
        if not callable(f):
            raise TypeError(f"{what}: f must be callable, not {type(f).__name__}")
        self._once = Once()
        self._f: Callable[[], Any] | None = f
        self._nvalues = nvalues
        self._what = what
        self._valid = False
        self._result: Any = None
        self._panic: Exception | None = None  # what f raised: re-raised on every call
        self._tb: TracebackType | None = None  # its traceback from f's frames down

    def __repr__(self) -> str:
        state = "done" if self._valid else "panicked" if self._panic is not None else "not run"
        return f"<gosched.sync.{self._what.removeprefix('sync.')} {state}>"

    def __call__(self) -> _T:
        if self._valid:
            return cast(_T, self._result)
        self._once.do(self._g)
        if not self._valid:
            p = self._panic
            if p is None:
                # f ended without raising an Exception: it called goexit (or was interrupted).
                # Go's deferred panic(p) with p == nil panics with a PanicNilError.
                raise RuntimePanic("panic called with nil argument")
            # The same object, as Go panics with the same value; its traceback restarts at f's
            # frames each time rather than growing by the frames of every failed call.
            raise p.with_traceback(self._tb)
        return cast(_T, self._result)

    @usercaller  # holds only the Once's Mutex
    def _g(self) -> None:
        f = self._f
        self._f = None  # do not keep f alive after calling it (Go's f = nil)
        assert f is not None  # the Once calls _g once
        try:
            r = f()
            if self._nvalues == 0:
                r = None
            elif self._nvalues == 2 and not (isinstance(r, tuple) and len(r) == 2):
                raise TypeError(
                    f"{self._what}: f must return a tuple of 2 values, not {type(r).__name__}"
                )
        except Exception as e:
            # A GoexitUnwind, GreenletExit or KeyboardInterrupt is not a panic: it propagates
            # and later calls raise Go's PanicNilError message (see __call__).
            self._panic = e
            self._tb = e.__traceback__
            raise
        self._result = r
        self._valid = True


def once_func(f: Callable[[], object]) -> Callable[[], None]:
    """A function that calls f() only the first time it is called (Go 1.21's sync.OnceFunc).

    It may be called from any goroutine; callers that arrive while f runs wait for it. If f
    raises an exception, every call raises that same exception object (Go re-panics with the
    same value), and f is still never called again. If f calls goexit, later calls raise
    RuntimePanic("panic called with nil argument"), as Go's do.
    """
    call: _OnceCall[None] = _OnceCall(f, 0, "sync.once_func")
    return call


def once_value(f: Callable[[], _T]) -> Callable[[], _T]:
    """A function that calls f() only the first time it is called and returns its value every
    time (Go 1.21's sync.OnceValue). Exceptions as in once_func."""
    call: _OnceCall[_T] = _OnceCall(f, 1, "sync.once_value")
    return call


def once_values(f: Callable[[], tuple[_T1, _T2]]) -> Callable[[], tuple[_T1, _T2]]:
    """A function that calls f() only the first time it is called and returns its two values
    every time (Go 1.21's sync.OnceValues). f returns them as a tuple; anything else raises
    TypeError (which counts as f's exception). Exceptions as in once_func."""
    call: _OnceCall[tuple[_T1, _T2]] = _OnceCall(f, 2, "sync.once_values")
    return call


# ---------------------------------------------------------------------------------------------
# Map (map.go)


class _Absent:
    """The marker of a missing key (Go's !ok), distinct from every value a user stores."""

    __slots__ = ()


_absent = _Absent()


def _checkhashable(key: object) -> None:
    """Raise Go's panic if key cannot be hashed; return if it can (then a TypeError raised
    while looking it up came from elsewhere: its __eq__, say)."""
    try:
        hash(key)
    except TypeError:
        raise RuntimePanic(f"runtime error: hash of unhashable type {type(key).__name__}") from None


def _get(m: dict[Any, Any], key: Any) -> Any:
    """m's value for key, or _absent; an unhashable key raises _checkhashable's TypeError."""
    try:
        return m.get(key, _absent)
    except TypeError:
        _checkhashable(key)
        raise


def _found(v: Any) -> tuple[Any, bool]:
    """Go's (value, ok) for what _get returned."""
    return (None, False) if v is _absent else (v, True)


class Map:
    """A map safe for concurrent use by goroutines without further locking (Go's sync.Map).

    Keys must be hashable (unhashable ones raise Go's RuntimePanic("runtime error: hash of
    unhashable type list")); values are anything and are compared with == by compare_and_swap
    and compare_and_delete. A missing key loads as (None, False); a stored None loads as
    (None, True).

    How: one dict. Loads are a single dict lookup, with no lock (Go's read-only map, which
    loads without locking). Every change takes _mu, so a compare-and-swap's compare and its
    write are one step to every other change; a change that is one dict operation is atomic to
    a concurrent load. _mu is a Mutex, not a thread lock, because the keys' __hash__ and __eq__
    and the values' __eq__ are user code that runs while it is held: such code may park the
    goroutine, and a thread lock would then block every goroutine of the thread that waits for
    it. Hence also: that code must not call the same Map (it would deadlock on _mu).

    range(f) calls f(key, value) for the keys present when it starts, with each key's value at
    the moment f is called; keys deleted meanwhile are skipped, keys stored meanwhile may be
    left out, no key is visited twice. f may call any method of the Map; range holds no lock
    while f runs. It stops when f returns False (None goes on: a callback that only collects
    need not return True).
    """

    __slots__ = ("_mu", "_m")

    def __init__(self) -> None:
        self._mu = Mutex()  # held by every change of _m (see the docstring)
        self._m: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"<gosched.sync.Map len={len(self._m)}>"

    def load(self, key: Any) -> tuple[Any, bool]:
        """The value stored for key and True, or (None, False) if there is none."""
        return _found(_get(self._m, key))

    def store(self, key: Any, value: Any) -> None:
        """Set the value for key."""
        with self._mu:
            try:
                self._m[key] = value
            except TypeError:
                _checkhashable(key)
                raise

    def load_or_store(self, key: Any, value: Any) -> tuple[Any, bool]:
        """The existing value for key and True if there is one; otherwise store value and
        return it with False."""
        v, ok = self.load(key)  # a value that is there is loaded without the lock (as Go)
        if ok:
            return v, True
        with self._mu:
            m = self._m
            v = m.get(key, _absent)
            if v is not _absent:
                return v, True
            m[key] = value
            return value, False

    def load_and_delete(self, key: Any) -> tuple[Any, bool]:
        """Delete key, returning its previous value and True, or (None, False) if absent."""
        with self._mu:
            try:
                v = self._m.pop(key, _absent)
            except TypeError:
                _checkhashable(key)
                raise
        return _found(v)

    def delete(self, key: Any) -> None:
        """Delete the value for key (nothing happens if there is none)."""
        self.load_and_delete(key)

    def swap(self, key: Any, value: Any) -> tuple[Any, bool]:
        """Store value for key; return the previous value and True, or (None, False)."""
        with self._mu:
            m = self._m
            v = _get(m, key)
            m[key] = value
        return _found(v)

    def compare_and_swap(self, key: Any, old: Any, new: Any) -> bool:
        """Store new for key if its value == old; report whether it did. A missing key never
        matches (not even old=None)."""
        with self._mu:
            m = self._m
            v = _get(m, key)
            # == as the contract says (Go's interface ==), not !=: a value's __ne__ may not be
            # the negation of its __eq__.
            if v is _absent or not v == old:  # noqa: SIM201
                return False
            m[key] = new
            return True

    def compare_and_delete(self, key: Any, old: Any) -> bool:
        """Delete key if its value == old; report whether it did. A missing key never matches
        (not even old=None)."""
        with self._mu:
            m = self._m
            v = _get(m, key)
            if v is _absent or not v == old:  # noqa: SIM201 (as in compare_and_swap)
                return False
            del m[key]
            return True

    @usercaller  # holds no lock while f runs
    def range(self, f: Callable[[Any, Any], object]) -> None:
        """Call f(key, value) for each key and value present, until f returns False."""
        # The keys are listed under _mu: listing hashes nothing, and no change can run while
        # the dict is being walked (on a free-threaded build as well).
        with self._mu:
            keys = list(self._m)
        m = self._m
        for k in keys:
            v = m.get(k, _absent)
            if v is _absent:
                continue  # deleted since
            if f(k, v) is False:
                return


# ---------------------------------------------------------------------------------------------
# Pool (pool.go)


class _PoolCleanup:
    """Go's poolCleanup, run at Python's full collections (generation 2: gc.collect(), or an
    automatic one), which play the part of Go's garbage collections for pools.

    The gc callback may run on any thread at any allocation, even one made while a pool's lock
    (or this registry's) is held by that very thread, so it never waits for a lock: it counts
    the collection, and ages each pool whose lock it can take at once. A pool it skipped, busy
    at that moment, ages itself at its next get or put (it compares the count with its own).
    """

    __slots__ = ("n", "_lock", "_pools", "_registered")

    def __init__(self) -> None:
        self.n = 0  # full collections; written only by the callback (one collection at a time)
        self._lock = threading.Lock()  # guards _pools and _registered
        # Every pool created, weakly (a pool is not kept alive by having been created); the
        # dead references are dropped at the next collection.
        self._pools: set[weakref.ref[Pool]] = set()
        self._registered = False

    def add(self, pool: Pool) -> None:
        """Register a new pool (Go's pinSlow adds a pool to allPools at its first use), and the
        callback with the first one."""
        with self._lock:
            if not self._registered:
                gc.callbacks.append(self._callback)
                self._registered = True
            self._pools.add(weakref.ref(pool))

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        self.n += 1
        if not self._lock.acquire(blocking=False):
            return
        try:
            for ref in list(self._pools):
                pool = ref()
                if pool is None:
                    self._pools.discard(ref)
                else:
                    pool._cleanup()
        finally:
            self._lock.release()


_poolcleanup = _PoolCleanup()


class Pool:
    """A set of temporary objects that may be saved and retrieved (Go's sync.Pool).

    put(x) adds x (put(None) does nothing, as Go's Put(nil)); get() removes and returns some
    object from the pool, or, if it is empty, returns new() when new is set, else None. Callers
    should assume no relation between what they put and what they get. new may be set later
    (``pool.new = fn``), as Go's New field.

    As in Go, a pool forgets its objects over two garbage collections: at a full collection
    (generation 2, as gc.collect() runs) the objects become the victim cache, from which get
    still takes them; at the next they are dropped (see _PoolCleanup).

    At one P Go's order is kept: the first object put is kept aside (Go's per-P private slot)
    and comes out first; the rest come out last in, first out; the victim cache serves its
    private object, then its others first in, first out. Go keeps one such set per P and
    steals between them; here every goroutine shares one set.
    """

    __slots__ = ("_new", "_lock", "_private", "_shared", "_victim", "_cycle", "__weakref__")

    def __init__(self, new: Callable[[], Any] | None = None) -> None:
        self.new = new
        # _lock guards _private, _shared, _victim and _cycle; it is never held while user code
        # runs (new() is called after it is released).
        self._lock = threading.Lock()
        self._private: Any = None  # None: empty
        self._shared: list[Any] = []  # a stack: put pushes, get pops
        self._victim: deque[Any] = deque()  # the objects of the last cycle, in get order
        self._cycle = _poolcleanup.n  # the collection count the contents belong to
        _poolcleanup.add(self)

    @property
    def new(self) -> Callable[[], Any] | None:
        """Called by get() on an empty pool (None: get returns None). Go's Pool.New."""
        return self._new

    @new.setter
    def new(self, fn: Callable[[], Any] | None) -> None:
        if fn is not None and not callable(fn):
            raise TypeError(f"sync.Pool: new must be callable or None, not {type(fn).__name__}")
        self._new = fn

    def __repr__(self) -> str:
        n = (self._private is not None) + len(self._shared)
        return f"<gosched.sync.Pool objects={n} victims={len(self._victim)}>"

    def _cleanup(self) -> None:
        """Age the pool now unless its lock is held (the gc callback: see _PoolCleanup)."""
        lock = self._lock
        if lock.acquire(blocking=False):
            if self._cycle != _poolcleanup.n:
                self._age()
            lock.release()

    def _age(self) -> None:
        """Apply the collections since the contents were put (Go's poolCleanup: the objects
        become the victims, the victims are dropped). _lock is held."""
        n = _poolcleanup.n  # read once: a collection may start while this allocates
        if n - self._cycle == 1:
            victim: deque[Any] = deque(self._shared)
            if self._private is not None:
                victim.appendleft(self._private)
            self._victim = victim
        else:
            self._victim = deque()
        self._private = None
        self._shared = []
        self._cycle = n

    def put(self, x: Any) -> None:
        """Add x to the pool."""
        if x is None:
            return
        lock = self._lock
        lock.acquire()
        if self._cycle != _poolcleanup.n:
            self._age()
        if self._private is None:
            self._private = x
        else:
            self._shared.append(x)
        lock.release()

    @usercaller  # calls new with no lock held
    def get(self) -> Any:
        """Remove an object from the pool and return it; if the pool is empty, new() when new
        is set, else None."""
        lock = self._lock
        lock.acquire()
        if self._cycle != _poolcleanup.n:
            self._age()
        x = self._private
        if x is not None:
            self._private = None
        elif self._shared:
            x = self._shared.pop()
        elif self._victim:
            x = self._victim.popleft()
        lock.release()
        if x is None:
            new = self._new
            if new is not None:
                return new()
        return x
