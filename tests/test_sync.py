"""gosched.sync: Mutex, RWMutex, Once, Cond, Semaphore (WaitGroup is exercised everywhere).

Orderings that Go pins at GOMAXPROCS=1 are checked against real Go in
conformance/test_sync_ordering.py; here: the contract (API.md), Go's state machines where they
are observable, misuse messages, wait reasons, deadlock detection, and mutual exclusion with
1, 2 and 4 Ps.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest

import gosched
from gosched import sync
from gosched.sync import Cond, Mutex, Once, RWMutex, Semaphore, WaitGroup

from .conftest import STRESS

PROCS = [1, 2, 4]


# --- helpers ----------------------------------------------------------------------------------


def run(main: Callable[[], Any], procs: int = 1) -> Any:
    return gosched.run(main, gomaxprocs=procs)


def until(cond: Callable[[], bool], tries: int = 100_000) -> None:
    """Yield until cond() holds (other goroutines get to run in between)."""
    for _ in range(tries):
        if cond():
            return
        gosched.gosched()
    raise AssertionError("condition never became true")


def waitreasons() -> dict[int, str]:
    """goid -> wait reason of every waiting goroutine."""
    return {
        g["goid"]: g["waitreason"]
        for g in gosched.debug.snapshot()["allgs"]
        if g["status"] == "waiting"
    }


def hold(seconds: float) -> None:
    """Keep the processor without yielding (a lock holder that computes)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        pass


def nwaiters(mu: Mutex) -> int:
    return mu._state >> sync.mutexWaiterShift


def go_all(wg: WaitGroup, n: int, fn: Callable[[int], None]) -> None:
    for i in range(n):
        wg.go(fn, i)


# --- Mutex ------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_mutex_mutual_exclusion(procs: int) -> None:
    """Goroutines that yield inside the critical section never overlap and lose no update."""

    def main() -> tuple[int, int]:
        mu = Mutex()
        wg = WaitGroup()
        state = {"n": 0, "inside": 0, "max": 0}

        def worker(_: int) -> None:
            for _ in range(30):
                mu.lock()
                state["inside"] += 1
                state["max"] = max(state["max"], state["inside"])
                v = state["n"]
                gosched.gosched()
                state["n"] = v + 1
                state["inside"] -= 1
                mu.unlock()

        go_all(wg, 20, worker)
        wg.wait()
        return state["n"], state["max"]

    assert run(main, procs) == (600, 1)


def test_mutex_try_lock() -> None:
    def main() -> list[bool]:
        mu = Mutex()
        got = [mu.try_lock(), mu.try_lock()]
        mu.unlock()
        got.append(mu.try_lock())
        mu.unlock()
        return got

    assert run(main) == [True, False, True]


def test_mutex_context_manager_unlocks_on_exception() -> None:
    def main() -> bool:
        mu = Mutex()
        with pytest.raises(ValueError), mu:
            assert not mu.try_lock()
            raise ValueError("boom")
        ok = mu.try_lock()
        mu.unlock()
        return ok

    assert run(main) is True


def test_mutex_unlocked_by_another_goroutine() -> None:
    """A locked Mutex is not tied to a goroutine (Go allows unlocking from another)."""

    def main() -> bool:
        mu = Mutex()
        mu.lock()
        wg = WaitGroup()
        wg.go(mu.unlock)
        wg.wait()
        return mu.try_lock()

    assert run(main) is True


@pytest.mark.parametrize("procs", PROCS)
def test_mutex_unlock_of_unlocked_is_fatal_even_if_caught(procs: int) -> None:
    """Go's fatal error (tests/conformance/go/fatal_unlock.go): the program ends even though
    main catches it; main stops where it is, so neither its except nor its finally runs (Go
    runs no deferred call); the error carries the goroutine dump, main first and running. The
    check comes before the state changes."""
    ran: list[str] = []
    mu = Mutex()

    def main() -> None:
        try:
            mu.unlock()
        except BaseException:
            ran.append("except")
        finally:
            ran.append("finally")
        ran.append("after")

    with pytest.raises(gosched.FatalError) as ei:
        run(main, procs)
    assert str(ei.value) == "sync: unlock of unlocked mutex"
    assert not isinstance(ei.value, gosched.RuntimePanic)
    assert ran == []
    assert ei.value.dump.startswith("goroutine 1 [running]:\n"), ei.value.dump
    assert mu._state == 0


def test_mutex_unlock_of_unlocked_in_another_goroutine_ends_the_program() -> None:
    """Any goroutine's fatal error ends the program; the others are killed as at any end."""
    ran: list[str] = []

    def bad() -> None:
        try:
            Mutex().unlock()
        finally:
            ran.append("bad's finally")

    def main() -> None:
        gosched.go(bad)
        try:
            gosched.sleep(10)
        finally:
            ran.append("main killed")

    with pytest.raises(gosched.FatalError) as ei:
        run(main)
    assert str(ei.value) == "sync: unlock of unlocked mutex"
    assert ran == ["main killed"]
    assert ei.value.dump.startswith("goroutine 2 [running]:\n"), ei.value.dump
    assert "\n\ngoroutine 1 [sleep]:\n" in ei.value.dump, ei.value.dump


def test_mutex_unlock_of_unlocked_in_a_plain_thread_ends_the_program() -> None:
    """A plain thread's fatal error ends the program too; the thread itself, which cannot be
    stopped where it is, gets the FatalError."""
    import threading

    mu = Mutex()
    got: list[str] = []

    def plain() -> None:
        try:
            mu.unlock()
        except gosched.FatalError as e:
            got.append(str(e))

    def main() -> None:
        t = threading.Thread(target=plain)
        t.start()
        t.join()
        gosched.sleep(10)  # killed here: the program is ending

    with pytest.raises(gosched.FatalError, match=r"^sync: unlock of unlocked mutex$"):
        run(main)
    assert got == ["sync: unlock of unlocked mutex"]


def test_mutex_unlock_of_unlocked_outside_a_run_raises() -> None:
    """With no program running there is nothing to end: FatalError is an exception."""
    mu = Mutex()
    with pytest.raises(gosched.FatalError, match=r"^sync: unlock of unlocked mutex$") as ei:
        mu.unlock()
    assert ei.value.dump == ""


def test_mutex_wait_reason() -> None:
    def main() -> str:
        mu = Mutex()
        mu.lock()
        wg = WaitGroup()

        def waiter() -> None:
            mu.lock()
            mu.unlock()

        wg.go(waiter)
        until(lambda: nwaiters(mu) == 1)
        reasons = waitreasons()
        mu.unlock()
        wg.wait()
        return reasons[2]

    assert run(main) == "sync.Mutex.Lock"


def test_mutex_deadlock_is_detected() -> None:
    """Everyone waits on a Mutex that nobody will unlock: checkdead reports it."""

    def main() -> None:
        mu = Mutex()
        mu.lock()
        for _ in range(3):
            gosched.go(mu.lock)
        mu.lock()

    with pytest.raises(gosched.Deadlock) as ei:
        run(main)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    assert ei.value.dump.count("[sync.Mutex.Lock]") == 4


def test_mutex_normal_mode_woken_waiter_competes() -> None:
    """Normal mode: unlock wakes the first waiter and sets mutexWoken, but does not hand it the
    mutex; the unlocker can take it again first. The woken waiter, beaten, requeues at the head
    (LIFO) and, having waited less than the threshold, leaves the mutex in normal mode."""

    def main() -> list[str]:
        mu = Mutex()
        wg = WaitGroup()
        order: list[str] = []
        mu.lock()

        def waiter(i: int) -> None:
            mu.lock()
            order.append(f"w{i}")
            mu.unlock()

        for i in (1, 2):
            wg.go(waiter, i)
            until(lambda i=i: nwaiters(mu) == i)  # type: ignore[misc]
        mu.unlock()  # wakes w1
        assert mu._state == sync.mutexWoken | 1 << sync.mutexWaiterShift
        assert mu.try_lock()  # barges in ahead of w1
        gosched.gosched()  # w1 runs, finds the mutex locked and requeues at the head
        assert mu._state == sync.mutexLocked | 2 << sync.mutexWaiterShift  # not starving
        mu.unlock()  # wakes w1 again: it is at the head, ahead of w2
        order.append("main")
        wg.wait()
        return order

    sync_threshold = sync.starvationThresholdNs
    try:
        sync.starvationThresholdNs = 10**12  # a slow machine must not make this starvation
        assert run(main) == ["main", "w1", "w2"]
    finally:
        sync.starvationThresholdNs = sync_threshold


def test_mutex_starvation_mode_hands_off_in_arrival_order() -> None:
    """The mutex is held for more than 1 ms while waiters queue; the first waiter is woken, finds
    it taken again and switches it to starvation mode. From then on unlock hands the mutex to
    the waiters in arrival order, a goroutine that arrives meanwhile queues at the tail instead
    of barging in, and the last waiter switches the mutex back to normal mode."""

    def main() -> list[str]:
        mu = Mutex()
        wg = WaitGroup()
        order: list[str] = []
        mu.lock()

        def waiter(i: int) -> None:
            mu.lock()
            order.append(f"w{i}")
            mu.unlock()

        for i in range(1, 6):
            wg.go(waiter, i)
            until(lambda i=i: nwaiters(mu) == i)  # type: ignore[misc]
        hold(0.003)  # every waiter has now waited more than 1 ms
        mu.unlock()  # normal mode: wakes w1
        mu.lock()  # barges in
        gosched.gosched()  # w1 finds it locked: starvation mode, requeued at the head
        assert mu._state == sync.mutexLocked | sync.mutexStarving | 5 << sync.mutexWaiterShift

        def barger() -> None:
            for _ in range(3):
                mu.lock()  # starvation mode: queues at the tail, no barging
                order.append("b")
                mu.unlock()

        wg.go(barger)
        until(lambda: nwaiters(mu) == 6)
        assert not mu.try_lock()
        mu.unlock()  # hands off to w1
        wg.wait()
        assert mu._state == 0
        return order

    assert run(main) == ["w1", "w2", "w3", "w4", "w5", "b", "b", "b"]


def test_mutex_try_lock_fails_while_starving() -> None:
    """In starvation mode the mutex belongs to the queue: try_lock fails even when unlocked."""

    def main() -> tuple[bool, bool]:
        mu = Mutex()
        wg = WaitGroup()
        mu.lock()
        seen: list[bool] = []

        def first() -> None:
            mu.lock()
            # Unlocking hands the mutex to `second` (starving) and yields to it; when we come
            # back, it has it.
            mu.unlock()

        def second() -> None:
            mu.lock()
            mu.unlock()

        wg.go(first)
        until(lambda: nwaiters(mu) == 1)
        wg.go(second)
        until(lambda: nwaiters(mu) == 2)
        hold(0.002)
        mu.unlock()  # wakes first
        mu.lock()
        gosched.gosched()  # first: starving, requeued at the head
        assert mu._state & sync.mutexStarving
        # Unlocked but starving: the state a newcomer sees between a hand-off and the waiter.
        mu._lock.acquire()
        mu._state -= sync.mutexLocked
        mu._lock.release()
        seen.append(mu.try_lock())
        mu._lock.acquire()
        mu._state += sync.mutexLocked
        mu._lock.release()
        mu.unlock()
        wg.wait()
        seen.append(mu.try_lock())
        mu.unlock()
        return seen[0], seen[1]

    assert run(main) == (False, True)


def test_mutex_contended_outside_a_goroutine_raises_and_keeps_state() -> None:
    """Fast paths need no runtime; a slow path outside a goroutine raises RuntimeError before it
    changes anything."""
    mu = Mutex()
    mu.lock()
    with pytest.raises(RuntimeError, match="not called from a goroutine"):
        mu.lock()
    assert mu._state == sync.mutexLocked
    mu.unlock()
    assert mu._state == 0


# --- RWMutex ----------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_rwmutex_readers_share_writers_exclude(procs: int) -> None:
    def main() -> tuple[int, int, int]:
        rw = RWMutex()
        wg = WaitGroup()
        st = {"readers": 0, "writers": 0, "maxreaders": 0, "n": 0}

        def reader(_: int) -> None:
            for _ in range(10):
                rw.rlock()
                assert st["writers"] == 0
                st["readers"] += 1
                st["maxreaders"] = max(st["maxreaders"], st["readers"])
                gosched.gosched()
                assert st["writers"] == 0
                st["readers"] -= 1
                rw.runlock()

        def writer(_: int) -> None:
            for _ in range(10):
                with rw:
                    assert st["readers"] == 0 and st["writers"] == 0
                    st["writers"] += 1
                    v = st["n"]
                    gosched.gosched()
                    st["n"] = v + 1
                    assert st["readers"] == 0 and st["writers"] == 1
                    st["writers"] -= 1

        go_all(wg, 8, reader)
        go_all(wg, 3, writer)
        wg.wait()
        return st["n"], st["writers"], st["readers"]

    assert run(main, procs) == (30, 0, 0)


def test_rwmutex_readers_hold_it_together() -> None:
    def main() -> int:
        rw = RWMutex()
        wg = WaitGroup()
        inside = [0]
        top = [0]

        def reader(_: int) -> None:
            with rw.rlocker():
                inside[0] += 1
                top[0] = max(top[0], inside[0])
                until(lambda: top[0] == 5)  # everyone is inside at once
                inside[0] -= 1

        go_all(wg, 5, reader)
        wg.wait()
        return top[0]

    assert run(main) == 5


@pytest.mark.parametrize("procs", PROCS)
def test_rwmutex_writer_not_starved_by_readers(procs: int) -> None:
    """Readers overlap continuously (there is always one inside); a writer still gets in: once
    it has called lock, readers arriving later wait for it."""

    def main() -> tuple[bool, int]:
        rw = RWMutex()
        wg = WaitGroup()
        writer_done = [False]
        rounds = [0]
        limit = 2000

        def reader(_: int) -> None:
            for _ in range(limit):
                if writer_done[0]:
                    return
                rw.rlock()
                rounds[0] += 1
                gosched.gosched()
                rw.runlock()

        def writer() -> None:
            until(lambda: rounds[0] >= 20)  # the readers are streaming
            rw.lock()
            writer_done[0] = True
            rw.unlock()

        go_all(wg, 4, reader)
        wg.go(writer)
        wg.wait()
        return writer_done[0], rounds[0]

    done, rounds = run(main, procs)
    assert done
    assert rounds < 4 * 2000  # the readers did not run out their loops first
    if procs == 1:
        # Deterministic: 20 rounds, then the four readers inside finish theirs.
        assert rounds <= 24


def test_rwmutex_try_variants() -> None:
    def main() -> list[bool]:
        rw = RWMutex()
        got = []
        got.append(rw.try_rlock())  # True
        got.append(rw.try_rlock())  # True: readers share
        got.append(rw.try_lock())  # False: read-locked
        rw.runlock()
        rw.runlock()
        got.append(rw.try_lock())  # True
        got.append(rw.try_rlock())  # False: write-locked
        got.append(rw.try_lock())  # False
        rw.unlock()
        got.append(rw.try_lock())  # True
        rw.unlock()
        return got

    assert run(main) == [True, True, False, True, False, False, True]


def test_rwmutex_try_rlock_fails_while_a_writer_waits() -> None:
    def main() -> tuple[bool, dict[int, str]]:
        rw = RWMutex()
        wg = WaitGroup()
        rw.rlock()

        def writer() -> None:
            rw.lock()
            rw.unlock()

        wg.go(writer)
        until(lambda: rw._reader_count < 0)  # the writer is pending
        got = rw.try_rlock()
        reasons = waitreasons()
        rw.runlock()
        wg.wait()
        return got, reasons

    got, reasons = run(main)
    assert got is False
    assert reasons == {2: "sync.RWMutex.Lock"}


def test_rwmutex_wait_reasons() -> None:
    def main() -> dict[int, str]:
        rw = RWMutex()
        wg = WaitGroup()
        rw.lock()

        def reader() -> None:
            rw.rlock()
            rw.runlock()

        def writer() -> None:
            rw.lock()
            rw.unlock()

        wg.go(reader)  # goroutine 2
        wg.go(writer)  # goroutine 3
        until(lambda: len(waitreasons()) == 2)
        reasons = waitreasons()
        rw.unlock()
        wg.wait()
        return reasons

    # The second writer waits on the writers' mutex: Go shows it as sync.Mutex.Lock.
    assert run(main) == {2: "sync.RWMutex.RLock", 3: "sync.Mutex.Lock"}


def test_rwmutex_rlocker() -> None:
    def main() -> list[bool]:
        rw = RWMutex()
        rl = rw.rlocker()
        got = []
        rl.lock()
        got.append(rw.try_rlock())  # True: a second reader
        rw.runlock()
        got.append(rw.try_lock())  # False: read-locked through rlocker
        rl.unlock()
        got.append(rw.try_lock())  # True
        rw.unlock()
        with rl:
            got.append(rw.try_lock())  # False
        got.append(rw.try_lock())  # True
        rw.unlock()
        return got

    assert run(main) == [True, False, True, False, True]


@pytest.mark.parametrize(
    ("misuse", "message"),
    [
        ("runlock", "sync: RUnlock of unlocked RWMutex"),
        ("runlock_write_locked", "sync: RUnlock of unlocked RWMutex"),
        ("unlock", "sync: Unlock of unlocked RWMutex"),
        ("unlock_read_locked", "sync: Unlock of unlocked RWMutex"),
    ],
)
def test_rwmutex_misuse_is_fatal(misuse: str, message: str) -> None:
    """Go's fatal errors (go/fatal_rwunlock.go): the program ends even if main catches it, and
    the RWMutex is left as it was (the check comes before the state changes)."""
    rw = RWMutex()
    seen: list[str] = []

    def main() -> None:
        if misuse == "runlock_write_locked":
            rw.lock()
        elif misuse == "unlock_read_locked":
            rw.rlock()
        seen.append(repr(rw))
        try:
            rw.runlock() if misuse.startswith("runlock") else rw.unlock()
        except BaseException:
            seen.append("caught")

    with pytest.raises(gosched.FatalError) as ei:
        run(main)
    assert str(ei.value) == message
    assert seen == [repr(rw)]  # unchanged, and the except never ran


def test_rwmutex_recursive_read_lock_deadlocks_with_a_waiting_writer() -> None:
    """Go's documented hazard: a reader that read-locks again while a writer waits blocks."""

    def main() -> None:
        rw = RWMutex()
        rw.rlock()

        def writer() -> None:
            rw.lock()

        gosched.go(writer)
        until(lambda: rw._reader_count < 0)
        rw.rlock()

    with pytest.raises(gosched.Deadlock) as ei:
        run(main)
    assert "[sync.RWMutex.RLock]" in ei.value.dump
    assert "[sync.RWMutex.Lock]" in ei.value.dump


# --- Once -------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_once_runs_once_and_callers_wait_for_it(procs: int) -> None:
    def main() -> tuple[int, list[bool]]:
        once = Once()
        wg = WaitGroup()
        calls = [0]
        finished = [False]
        seen: list[bool] = []

        def fn() -> None:
            calls[0] += 1
            for _ in range(5):
                gosched.gosched()  # the other callers arrive meanwhile
            finished[0] = True

        def caller(_: int) -> None:
            once.do(fn)
            seen.append(finished[0])  # do returned only after fn did

        go_all(wg, 10, caller)
        wg.wait()
        return calls[0], seen

    calls, seen = run(main, procs)
    assert calls == 1
    assert seen == [True] * 10


def test_once_concurrent_callers_park_on_its_mutex() -> None:
    def main() -> dict[int, str]:
        once = Once()
        wg = WaitGroup()
        release = [False]

        def fn() -> None:
            until(lambda: release[0])

        wg.go(once.do, fn)
        wg.go(once.do, fn)  # one of the two runs fn, the other waits
        until(lambda: len(waitreasons()) == 1)
        reasons = waitreasons()
        release[0] = True
        wg.wait()
        return reasons

    assert list(run(main).values()) == ["sync.Mutex.Lock"]


def test_once_fn_raising_still_counts() -> None:
    def main() -> list[str]:
        once = Once()
        out: list[str] = []

        def boom() -> None:
            out.append("boom")
            raise KeyError("x")

        with pytest.raises(KeyError):
            once.do(boom)
        once.do(boom)  # done: nothing happens
        once.do(lambda: out.append("other"))
        return out

    assert run(main) == ["boom"]


def test_once_fn_goexit_still_counts() -> None:
    def main() -> list[str]:
        once = Once()
        out: list[str] = []
        wg = WaitGroup()

        def quit_() -> None:
            out.append("fn")
            gosched.goexit()

        wg.go(once.do, quit_)
        wg.wait()
        once.do(lambda: out.append("again"))
        return out

    assert run(main) == ["fn"]


def test_once_recursive_do_deadlocks() -> None:
    def main() -> None:
        once = Once()
        once.do(lambda: once.do(lambda: None))

    with pytest.raises(gosched.Deadlock):
        run(main)


# --- Cond -------------------------------------------------------------------------------------


def _start_waiters(
    c: Cond, mu: Mutex, wg: WaitGroup, n: int, woke: list[int], waiting: list[int]
) -> None:
    """Start n goroutines that wait on c one after another (in order 0..n-1)."""

    def waiter(i: int) -> None:
        mu.lock()
        waiting[0] += 1
        c.wait()
        woke.append(i)
        mu.unlock()

    for i in range(n):
        wg.go(waiter, i)
        until(lambda i=i: waiting[0] == i + 1)  # type: ignore[misc]


@pytest.mark.parametrize("procs", PROCS)
def test_cond_signal_wakes_one_in_fifo_order(procs: int) -> None:
    def main() -> list[int]:
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()
        woke: list[int] = []
        waiting = [0]
        _start_waiters(c, mu, wg, 5, woke, waiting)
        for k in range(1, 6):
            mu.lock()
            c.signal()
            mu.unlock()
            until(lambda k=k: len(woke) == k)  # type: ignore[misc]
        wg.wait()
        return woke

    assert run(main, procs) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("procs", PROCS)
def test_cond_broadcast_wakes_all(procs: int) -> None:
    def main() -> list[int]:
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()
        woke: list[int] = []
        waiting = [0]
        _start_waiters(c, mu, wg, 6, woke, waiting)
        c.broadcast()
        wg.wait()
        return sorted(woke)

    assert run(main, procs) == list(range(6))


def test_cond_broadcast_wake_order_at_one_p() -> None:
    """Each goready puts the woken waiter in runnext: the last waiter runs first, then the
    others in wait order (conformance/go/sync_cond.go pins this against Go)."""

    def main() -> list[int]:
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()
        woke: list[int] = []
        waiting = [0]
        _start_waiters(c, mu, wg, 4, woke, waiting)
        c.broadcast()
        wg.wait()
        return woke

    assert run(main) == [3, 0, 1, 2]


def test_cond_signal_without_waiters_is_lost() -> None:
    def main() -> list[str]:
        mu = Mutex()
        c = Cond(mu)
        out: list[str] = []
        c.signal()
        c.broadcast()

        def waiter() -> None:
            with mu:
                c.wait()
                out.append("woken")

        wg = WaitGroup()
        wg.go(waiter)
        until(lambda: waitreasons().get(2) == "sync.Cond.Wait")
        out.append("still waiting")
        c.signal()
        wg.wait()
        return out

    assert run(main) == ["still waiting", "woken"]


def test_cond_wait_relocks_before_returning() -> None:
    """A woken waiter returns from wait only once it has the lock again."""

    def main() -> list[str]:
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()
        out: list[str] = []
        waiting = [0]

        def waiter() -> None:
            mu.lock()
            waiting[0] += 1
            c.wait()
            out.append("waiter has the lock")
            mu.unlock()

        wg.go(waiter)
        until(lambda: waiting[0] == 1)
        mu.lock()
        c.signal()
        until(lambda: nwaiters(mu) == 1)  # woken, now blocked relocking mu
        reasons = waitreasons()
        out.append(f"waiter blocked on {reasons[2]}")
        mu.unlock()
        wg.wait()
        return out

    assert run(main) == ["waiter blocked on sync.Mutex.Lock", "waiter has the lock"]


def test_cond_ticket_taken_before_unlock_is_not_lost() -> None:
    """Go's notifyList: the waiter takes its ticket before it unlocks L, so a signal that comes
    between the unlock and the park still wakes it (it then does not park at all)."""

    class YieldingLocker:
        """A Locker whose unlock lets other goroutines run before the waiter parks."""

        def __init__(self) -> None:
            self.mu = Mutex()

        def lock(self) -> None:
            self.mu.lock()

        def unlock(self) -> None:
            self.mu.unlock()
            gosched.gosched()

    def main() -> list[str]:
        lk = YieldingLocker()
        c = Cond(lk)
        wg = WaitGroup()
        out: list[str] = []
        signalled = [False]

        def waiter() -> None:
            lk.lock()
            c.wait()  # ticket 0; unlock yields to main, which signals
            out.append(f"returned, signalled={signalled[0]}")
            lk.unlock()

        wg.go(waiter)
        until(lambda: c._notify.wait == 1)  # the waiter holds ticket 0, not parked
        assert c._notify.waiters == {}
        c.signal()
        signalled[0] = True
        wg.wait()
        return out

    assert run(main) == ["returned, signalled=True"]


def test_cond_wait_without_the_lock_is_fatal() -> None:
    """Go's Cond.Wait unlocks its Locker: without the lock that is a fatal error, which ends the
    program even if caught. The failed wait's ticket does not swallow a later signal: the Cond
    works in the next run."""
    mu = Mutex()
    c = Cond(mu)
    caught: list[str] = []

    def bad() -> None:
        try:
            c.wait()
        except BaseException:
            caught.append("caught")

    with pytest.raises(gosched.FatalError, match=r"^sync: unlock of unlocked mutex$"):
        run(bad)
    assert caught == []

    def main() -> list[str]:
        out: list[str] = []
        wg = WaitGroup()

        def waiter() -> None:
            with mu:
                c.wait()
                out.append("woken")

        wg.go(waiter)
        until(lambda: len(c._notify.waiters) == 1)
        c.signal()
        wg.wait()
        return out

    assert run(main) == ["woken"]


def test_cond_with_rlocker() -> None:
    def main() -> list[int]:
        rw = RWMutex()
        c = Cond(rw.rlocker())
        wg = WaitGroup()
        woke: list[int] = []
        waiting = [0]

        def waiter(i: int) -> None:
            rw.rlock()
            waiting[0] += 1
            c.wait()
            woke.append(i)
            rw.runlock()

        go_all(wg, 3, waiter)
        until(lambda: waiting[0] == 3)
        with rw:  # readers have all left the lock while waiting
            c.broadcast()
        wg.wait()
        return sorted(woke)

    assert run(main) == [0, 1, 2]


def test_cond_needs_a_locker() -> None:
    with pytest.raises(TypeError, match=r"sync\.Cond: lock must have lock\(\) and unlock\(\)"):
        Cond(object())  # type: ignore[arg-type]


@pytest.mark.parametrize("procs", PROCS)
def test_cond_producer_consumer(procs: int) -> None:
    def main() -> list[int]:
        mu = Mutex()
        nonempty = Cond(mu)
        queue: list[int] = []
        got: list[int] = []
        wg = WaitGroup()

        def consumer(_: int) -> None:
            while True:
                with mu:
                    while not queue:
                        nonempty.wait()
                    v = queue.pop(0)
                if v < 0:
                    return
                got.append(v)

        go_all(wg, 3, consumer)
        for v in range(60):
            with mu:
                queue.append(v)
                nonempty.signal()
            if v % 7 == 0:
                gosched.gosched()
        with mu:
            queue.extend([-1, -1, -1])
            nonempty.broadcast()
        wg.wait()
        return sorted(got)

    assert run(main, procs) == list(range(60))


def test_cond_wait_reason() -> None:
    def main() -> dict[int, str]:
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()

        def waiter() -> None:
            with mu:
                c.wait()

        wg.go(waiter)
        until(lambda: 2 in waitreasons())
        reasons = waitreasons()
        c.signal()
        wg.wait()
        return reasons

    assert run(main) == {2: "sync.Cond.Wait"}


# --- Semaphore --------------------------------------------------------------------------------


def test_semaphore_weights_and_try_acquire() -> None:
    def main() -> list[bool]:
        s = Semaphore(10)
        s.acquire(n=3)
        s.acquire(None, 3)
        s.acquire(n=3)
        got = [s.try_acquire(2), s.try_acquire(1), s.try_acquire()]
        s.release(5)
        got.append(s.try_acquire(5))
        s.release(10)
        got.append(s.try_acquire(10))
        return got

    assert run(main) == [False, True, False, True, True]


def test_semaphore_large_request_blocks_later_small_ones() -> None:
    """FIFO: a request that does not fit blocks the smaller ones behind it, even those that
    would fit; try_acquire fails while anyone waits."""

    def main() -> list[str]:
        s = Semaphore(4)
        wg = WaitGroup()
        out: list[str] = []
        s.acquire(n=3)

        def acq(name: str, n: int) -> None:
            s.acquire(n=n)
            out.append(name)

        wg.go(acq, "big4", 4)
        until(lambda: len(s._waiters) == 1)
        wg.go(acq, "small1", 1)
        until(lambda: len(s._waiters) == 2)
        out.append(f"try1={s.try_acquire(1)}")  # one unit is free, but big4 waits
        s.release(3)  # big4 fits now; small1 does not (4 held)
        until(lambda: "big4" in out)
        out.append(f"waiters={len(s._waiters)}")
        s.release(4)
        wg.wait()
        s.release(1)
        return out

    assert run(main) == ["try1=False", "big4", "waiters=1", "small1"]


def test_semaphore_release_wakes_as_many_as_fit() -> None:
    def main() -> tuple[list[int], int, list[int]]:
        s = Semaphore(5)
        wg = WaitGroup()
        woke: list[int] = []
        s.acquire(n=5)
        weights = [1, 1, 2, 3, 1]

        def acq(i: int) -> None:
            s.acquire(n=weights[i])
            woke.append(i)

        for i in range(len(weights)):
            wg.go(acq, i)
            until(lambda i=i: len(s._waiters) == i + 1)  # type: ignore[misc]
        s.release(5)  # 1 + 1 + 2 fit; 3 does not, and 1 behind it waits too
        until(lambda: len(woke) == 3)
        first = sorted(woke)
        left = len(s._waiters)
        s.release(4)  # the first three release theirs: 3, then 1 fit
        wg.wait()
        return first, left, woke[3:]

    first, left, rest = run(main)
    assert first == [0, 1, 2]
    assert left == 2
    assert rest == [4, 3]  # both readied in FIFO order; the last readied runs first (runnext)


def test_semaphore_over_release_panics() -> None:
    def main() -> tuple[type, str, bool]:
        s = Semaphore(3)
        s.acquire(n=2)
        with pytest.raises(gosched.RuntimePanic) as ei:
            s.release(3)
        # Unchanged: two units are still held.
        ok = s.try_acquire(1) and not s.try_acquire(1)
        return type(ei.value), str(ei.value), ok

    assert run(main) == (gosched.RuntimePanic, "semaphore: released more than held", True)


def test_semaphore_request_larger_than_size_blocks_forever() -> None:
    """x/sync waits for ctx.Done() instead of queueing a doomed request; with ctx=None
    (context.Background) that is forever, and it does not block the smaller requests."""

    def main() -> None:
        s = Semaphore(2)
        got: list[bool] = []

        def doomed() -> None:
            s.acquire(n=3)
            got.append(True)

        gosched.go(doomed)
        until(lambda: 2 in waitreasons())
        assert s.try_acquire(2)  # not queued behind the doomed request
        assert not got
        s.acquire()  # deadlock: nobody releases

    with pytest.raises(gosched.Deadlock) as ei:
        run(main)
    assert "goroutine 2 [chan receive (nil chan)]:" in ei.value.dump
    assert "goroutine 1 [select]:" in ei.value.dump


@pytest.mark.parametrize("procs", PROCS)
def test_semaphore_acquire_with_context(procs: int) -> None:
    """x/sync's Acquire(ctx, n): a done context fails at once even if units are free; a wait
    ends with ctx.err() when the context is done first, and the waiter leaves the queue,
    unblocking the smaller requests behind it; a request larger than the size waits for ctx."""
    from gosched import context

    def main() -> list[object]:
        out: list[object] = []
        s = Semaphore(3)
        bg = context.background()
        s.acquire(bg, 1)  # a context that is never done: plain acquire
        done_ctx, cancel = context.with_cancel(bg)
        cancel()
        try:
            s.acquire(done_ctx, 1)
        except context.Canceled:
            out.append("done before: Canceled")
        assert s.try_acquire(2)  # nothing was taken by the failed call: 1 + 2 = 3 held
        # A big request times out at the head of the queue; a small one behind it then fits.
        s.release(2)  # 1 held, 2 free
        wg = WaitGroup()
        wg.add(2)

        def big() -> None:
            ctx, cancel = context.with_timeout(bg, 0.05)
            try:
                s.acquire(ctx, 3)
            except context.DeadlineExceeded:
                out.append("big: DeadlineExceeded")
            finally:
                cancel()
                wg.done()

        def small() -> None:
            gosched.sleep(0.01)  # queue behind big
            s.acquire(None, 2)
            out.append("small: acquired")
            s.release(2)
            wg.done()

        gosched.go(big)
        gosched.go(small)
        wg.wait()
        # Larger than the semaphore: waits for the context, then fails.
        ctx, cancel = context.with_timeout(bg, 0.02)
        try:
            s.acquire(ctx, 4)
        except context.DeadlineExceeded:
            out.append("too big: DeadlineExceeded")
        cancel()
        s.release(1)
        out.append(s.try_acquire(3))
        return out

    assert run(main, procs) == [
        "done before: Canceled",
        "big: DeadlineExceeded",
        "small: acquired",
        "too big: DeadlineExceeded",
        True,
    ]


def test_semaphore_acquire_with_context_granted() -> None:
    """A ctx waiter that gets its units before the context is done holds them."""
    from gosched import context

    def main() -> bool:
        s = Semaphore(1)
        s.acquire()
        ctx, cancel = context.with_cancel(context.background())
        wg = WaitGroup()
        wg.add(1)
        got: list[bool] = []

        def waiter() -> None:
            s.acquire(ctx, 1)
            got.append(True)
            wg.done()

        gosched.go(waiter)
        gosched.gosched()  # waiter queues
        s.release(1)
        wg.wait()
        cancel()
        return got == [True] and not s.try_acquire(1)

    assert run(main) is True


@pytest.mark.parametrize("procs", PROCS)
def test_semaphore_bounds_concurrency(procs: int) -> None:
    def main() -> tuple[int, int]:
        s = Semaphore(3)
        wg = WaitGroup()
        st = {"inside": 0, "max": 0, "done": 0}

        def worker(i: int) -> None:
            n = 1 + i % 3
            for _ in range(5):
                s.acquire(n=n)
                st["inside"] += n
                st["max"] = max(st["max"], st["inside"])
                gosched.gosched()
                st["inside"] -= n
                s.release(n)
            st["done"] += 1

        go_all(wg, 12, worker)
        wg.wait()
        return st["max"], st["done"]

    top, done = run(main, procs)
    assert top <= 3
    assert done == 12


# --- objects that outlive gosched.run ---------------------------------------------------------


def test_semaphore_outliving_run_forgets_killed_waiters() -> None:
    """Goroutines killed at exit while queued leave the queue; one killed after release granted
    it units (readied, not yet run) gives them back."""
    s = Semaphore(2)

    def first() -> None:
        s.acquire(n=2)
        gosched.go(lambda: s.acquire(n=1))
        gosched.go(lambda: s.acquire(n=2))
        until(lambda: len(s._waiters) == 2)

    run(first)
    assert (s._cur, len(s._waiters)) == (2, 0)  # main's units stay held: it never released

    def second() -> None:
        gosched.go(lambda: s.acquire(n=2))
        until(lambda: len(s._waiters) == 1)
        s.release(2)  # grants the waiter 2 units; main returns before it runs

    run(second, 2)
    assert (s._cur, len(s._waiters)) == (0, 0)

    def third() -> bool:
        s.acquire(n=2)
        s.release(2)
        return s.try_acquire(2)

    assert run(third) is True


def test_cond_outliving_run_forgets_killed_waiters() -> None:
    mu = Mutex()
    c = Cond(mu)

    def first() -> None:
        for _ in range(3):
            gosched.go(lambda: (mu.lock(), c.wait()))
        until(lambda: len(c._notify.waiters) == 3)

    run(first)
    assert c._notify.waiters == {}
    assert c._notify.abandoned == {0, 1, 2}

    def second() -> str:
        out: list[str] = []
        wg = WaitGroup()

        def waiter() -> None:
            with mu:
                c.wait()
                out.append("woken")

        c.signal()  # the killed waiters' tickets are served: nobody to wake
        wg.go(waiter)
        until(lambda: len(c._notify.waiters) == 1)
        c.signal()
        wg.wait()
        return out[0]

    assert run(second) == "woken"


def test_waitgroup_outliving_run_after_a_wake_in_flight() -> None:
    """main's done() readies the waiter (semrelease adds a unit to count for it to take) and
    main returns before the waiter runs: the waiter is killed, the unit stays, and in the next
    run wait() returns at once while the counter is 1."""
    wg = WaitGroup()

    def first() -> None:
        wg.add(1)
        gosched.go(wg.wait)
        gosched.gosched()  # the waiter parks
        wg.done()  # readies it; main returns before it runs

    run(first)

    def second() -> list[int]:
        done: list[int] = []
        wg.add(1)

        def worker() -> None:
            for _ in range(3):
                gosched.gosched()
            done.append(1)
            wg.done()

        gosched.go(worker)
        wg.wait()
        return done

    assert run(second) == [1]


def test_mutex_outliving_run_forgets_killed_waiters() -> None:
    mu = Mutex()

    def first() -> None:
        mu.lock()
        gosched.go(mu.lock)
        until(lambda: nwaiters(mu) == 1)

    run(first)
    assert mu._sema.waiters == deque()  # sema.py removed the killed G
    assert mu._state == sync.mutexLocked  # main still holds it; nobody waits


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("procs", PROCS)
def test_stress_mutex_and_rwmutex(procs: int) -> None:
    n_goroutines = 50 * STRESS
    rounds = 40

    def main() -> tuple[int, int]:
        mu = Mutex()
        rw = RWMutex()
        wg = WaitGroup()
        st = {"n": 0, "w": 0, "inside_w": 0, "bad": 0}

        def worker(i: int) -> None:
            for r in range(rounds):
                with mu:
                    v = st["n"]
                    if r % 5 == 0:
                        gosched.gosched()
                    st["n"] = v + 1
                if i % 4 == 0:
                    with rw:
                        st["inside_w"] += 1
                        if st["inside_w"] != 1:
                            st["bad"] += 1
                        st["w"] += 1
                        gosched.gosched()
                        st["inside_w"] -= 1
                else:
                    with rw.rlocker():
                        if st["inside_w"]:
                            st["bad"] += 1
                        gosched.gosched()

        go_all(wg, n_goroutines, worker)
        wg.wait()
        return st["n"], st["bad"]

    n, bad = run(main, procs)
    assert n == n_goroutines * rounds
    assert bad == 0


def test_waitgroup_negative_counter_panics() -> None:
    """Go's "sync: negative WaitGroup counter" (a RuntimePanic), raised at the call site; a
    WaitGroup whose add() panicked keeps its counter."""

    def main() -> list[str]:
        out = []
        wg = WaitGroup()
        for call in (wg.done, lambda: wg.add(-1)):
            try:
                call()
            except gosched.RuntimePanic as e:
                out.append(str(e))
        wg.add(2)
        wg.done()
        wg.done()
        wg.wait()
        return out

    assert run(main) == ["sync: negative WaitGroup counter"] * 2
