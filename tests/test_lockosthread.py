"""lock_os_thread / unlock_os_thread (Go's LockOSThread): nesting, exclusive use of the thread,
and a goroutine that exits while locked ends its thread."""

from __future__ import annotations

import threading
import time

import pytest

import gosched
from gosched import debug
from gosched.sync import WaitGroup


def me() -> dict[str, object]:
    s = debug.snapshot()
    g = next(g for g in s["allgs"] if g["goid"] == gosched.goid())
    return g


def test_nesting_counts() -> None:
    def main() -> list[object]:
        out = []
        gosched.lock_os_thread()
        gosched.lock_os_thread()
        out.append(me()["lockedm"])
        gosched.unlock_os_thread()
        out.append(me()["lockedm"])
        gosched.unlock_os_thread()
        out.append(me()["lockedm"])
        gosched.unlock_os_thread()  # unlocking an unlocked goroutine is a no-op, as in Go
        out.append(me()["lockedm"])
        return out

    assert gosched.run(main, gomaxprocs=1) == [0, 0, None, None]


@pytest.mark.parametrize("procs", [1, 2])
def test_locked_main_runs_alone_on_its_thread(procs: int) -> None:
    """While main is locked and blocked, other goroutines run, but never on main's thread."""

    def main() -> tuple[int, set[int], int]:
        gosched.lock_os_thread()
        mine = threading.get_ident()
        seen: set[int] = set()
        wg = WaitGroup()
        for _ in range(50):
            wg.add(1)

            def f() -> None:
                seen.add(threading.get_ident())
                gosched.gosched()
                seen.add(threading.get_ident())
                wg.done()

            gosched.go(f)
        wg.wait()
        back = threading.get_ident()
        gosched.unlock_os_thread()
        return mine, seen, back

    mine, seen, back = gosched.run(main, gomaxprocs=procs)
    assert back == mine
    assert mine not in seen
    assert seen


def test_locked_goroutine_stays_on_its_thread_across_parks() -> None:
    """A locked goroutine parks and resumes on one thread, and goroutines started after the lock
    never run there. (Goroutines that had already started on that thread, like main here, stay
    on it: their frames live there. See HACKING.md, "Thread binding".)"""

    def main() -> tuple[set[int], set[int]]:
        locked_threads: set[int] = set()
        later_threads: set[int] = set()
        gate = [WaitGroup() for _ in range(20)]
        for w in gate:
            w.add(1)
        done = WaitGroup()
        done.add(1)
        is_locked = WaitGroup()
        is_locked.add(1)

        def locked() -> None:
            gosched.lock_os_thread()
            is_locked.done()
            for w in gate:
                locked_threads.add(threading.get_ident())
                w.wait()
            locked_threads.add(threading.get_ident())
            done.done()

        gosched.go(locked)
        is_locked.wait()
        for w in gate:
            done.add(1)

            def later() -> None:
                later_threads.add(threading.get_ident())
                gosched.gosched()
                later_threads.add(threading.get_ident())
                done.done()

            gosched.go(later)
            gosched.gosched()
            w.done()
        done.wait()
        return locked_threads, later_threads

    locked_threads, later_threads = gosched.run(main, gomaxprocs=2)
    assert len(locked_threads) == 1
    assert later_threads
    assert not (locked_threads & later_threads)


def test_exit_while_locked_ends_the_thread() -> None:
    """Go kills the thread of a goroutine that exits while locked: it may be in a bad state."""

    def main() -> tuple[int, bool, int]:
        gosched.lock_os_thread()  # keep main's thread out of the way: f runs on another M
        wg = WaitGroup()
        wg.add(1)
        tid: list[int] = []

        def f() -> None:
            try:
                gosched.lock_os_thread()
                tid.append(threading.get_native_id())
            finally:
                wg.done()

        gosched.go(f)
        wg.wait()
        # Kernel thread ids: pthread reuses idents, and the next M (started by the template
        # thread once this one has ended) often gets the same one.
        deadline = time.monotonic() + 5
        alive = True
        while alive and time.monotonic() < deadline:
            alive = any(t.native_id == tid[0] for t in threading.enumerate())
            time.sleep(0.001)
        # The program goes on: new goroutines run on a new M.
        wg.add(1)
        gosched.go(wg.done)
        wg.wait()
        return tid[0], alive, debug.snapshot()["sched"]["nmfreed"]

    tid, alive, nmfreed = gosched.run(main, gomaxprocs=1)
    assert tid != threading.get_native_id()
    assert not alive
    assert nmfreed == 1


def test_exit_while_locked_on_main_thread_retires_it() -> None:
    """m0 cannot end (it returns from run); it keeps running only the goroutines that already
    live on it, such as main, and hands new work to other Ms."""

    def main() -> tuple[bool, set[int]]:
        wg = WaitGroup()
        wg.add(1)

        def f() -> None:
            gosched.lock_os_thread()
            wg.done()

        gosched.go(f)  # runs on m0 (GOMAXPROCS=1), locks it and exits: m0 retires
        wg.wait()
        retired = debug.snapshot()["allm"][-1]["retired"]
        seen: set[int] = set()
        for _ in range(10):
            wg.add(1)
            gosched.go(lambda: (seen.add(threading.get_ident()), wg.done()))
        wg.wait()
        return retired, seen

    retired, seen = gosched.run(main, gomaxprocs=1)
    assert retired is True
    assert threading.get_ident() not in seen


def test_dump_says_locked_to_thread() -> None:
    def main() -> str:
        wg = WaitGroup()
        wg.add(1)

        def f() -> None:
            gosched.lock_os_thread()
            wg.wait()

        gosched.go(f)
        gosched.gosched()
        out = debug.stack()
        wg.done()
        return out

    out = gosched.run(main, gomaxprocs=1)
    assert "goroutine 2 [sync.WaitGroup.Wait, locked to thread]:" in out


def test_resize_while_a_locked_goroutine_waits() -> None:
    """Stop-the-world while a locked M waits for its goroutine: the locked thread stays out of
    the idle pool (it must not be given other goroutines) and the program goes on."""

    def main() -> tuple[int, set[int]]:
        wg = WaitGroup()
        wg.add(1)
        tid: list[int] = []
        release = WaitGroup()
        release.add(1)

        def locked() -> None:
            gosched.lock_os_thread()
            tid.append(threading.get_ident())
            release.wait()  # parks: its M waits in stoplockedm
            tid.append(threading.get_ident())
            wg.done()

        gosched.go(locked)
        gosched.gosched()
        seen: set[int] = set()
        for n in (2, 3, 1, 2):
            gosched.gomaxprocs(n)
            for _ in range(20):
                wg.add(1)
                gosched.go(lambda: (seen.add(threading.get_ident()), wg.done()))
            gosched.gosched()
        release.done()
        wg.wait()
        assert tid[0] == tid[1]
        return tid[0], seen

    tid, seen = gosched.run(main, gomaxprocs=1)
    assert tid not in seen
