"""The template thread (Go's templateThread, newmHandoff): a thread locked to a goroutine never
starts a thread itself, since the new thread would inherit the OS state that the goroutine gave
it (a thread name, an unshared working directory). The template thread, started clean by the
run's first lock_os_thread, starts it instead. It is left out of deadlock detection and ends
with the run (Go's TestLockOSThreadAvoidsStatePropagation, TestLockOSThreadTemplateThreadRace).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import gosched
from gosched import debug
from gosched.sync import WaitGroup

PROCS = [1, 4]

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="per-thread OS state is read and set with Linux's /proc, prctl and unshare",
)

PR_SET_NAME = 15
CLONE_FS = 0x200
TAINT = "gs-tainted"  # an OS thread name has at most 15 bytes


def _m_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gosched-M")]


def _template_threads() -> int:
    return sum(1 for name in _m_threads() if name.endswith(" template"))


def _blocker() -> WaitGroup:
    """A WaitGroup that nobody finishes: wait() on it parks forever."""
    wg = WaitGroup()
    wg.add(1)
    return wg


# --- per-thread OS state ---------------------------------------------------------------------


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def thread_name() -> str:
    """The calling thread's name as the kernel knows it (threading's names are Python's)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/comm") as f:
        return f.read().strip()


def taint_name() -> str | None:
    if _libc().prctl(PR_SET_NAME, TAINT.encode(), 0, 0, 0) != 0:
        return f"prctl(PR_SET_NAME) failed: {os.strerror(ctypes.get_errno())}"
    return None


def unshare_fs() -> str | None:
    """Give the calling thread a working directory of its own; None, or why it cannot."""
    try:
        unshare = getattr(os, "unshare", None)  # 3.12+
        if unshare is not None:
            unshare(os.CLONE_FS)  # type: ignore[attr-defined]
        elif _libc().unshare(CLONE_FS) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    except OSError as e:
        return f"unshare(CLONE_FS) is not permitted here: {e}"
    return None


def from_plain_thread(fn: Callable[[], str]) -> str:
    """fn() on a plain thread that the calling thread starts."""
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def _spread(
    procs: int, taint: Callable[[], str | None], probe: Callable[[], str]
) -> dict[str, Any]:
    """A goroutine taints its locked thread, then threads get started while it is locked and
    after it exited; ``probe`` reads the state on each of them.

    main locks m0 first, so that the tainted goroutine runs on an M of its own: m0 is the test's
    thread, whose state must not change. Threads are started from the tainted thread in every
    way there is: its first blocking(fn) starts the run's first helper thread; the goroutines it
    starts (wakep) and its own wait (its locked M hands its P off: stoplockedm, handoffp, startm)
    start Ms; then it exits locked, and its retired thread hands its P off before it ends. The
    workers block in time.sleep, in C, so that sysmon hands their Ps off and more Ms start.
    (Only one blocking(fn) call: concurrent first calls can start two threads for one helper,
    blocking._handjob's own race, which leaves a helper thread behind the run.)

    The run starts with one P and the tainted goroutine raises it to ``procs`` once tainted: no
    idle M is left over from the start-up then, so the first Ms the workers need are started
    from the tainted thread (without the template they inherit its state in every run).
    """

    def main() -> dict[str, Any]:
        gosched.lock_os_thread()
        res: dict[str, Any] = {}
        done = WaitGroup()
        done.add(1)

        def tainted() -> None:
            try:
                gosched.lock_os_thread()
                if threading.current_thread() is threading.main_thread():
                    raise RuntimeError("the tainted goroutine must not run on the test's thread")
                why = taint()
                if why is not None:
                    res["skip"] = why
                    return
                res["self"] = probe()
                res["plain thread"] = from_plain_thread(probe)
                res["helper"] = gosched.blocking(probe)
                gosched.gomaxprocs(procs)
                seen: list[str] = []
                wg = WaitGroup()
                for _ in range(16):
                    wg.add(1)

                    def worker() -> None:
                        seen.append(probe())
                        time.sleep(0.002)  # in C: sysmon hands its P off
                        seen.append(probe())
                        wg.done()

                    gosched.go(worker)
                wg.wait()
                res["workers"] = seen
            finally:
                done.done()
            # ... and it exits while locked: its thread ends.

        gosched.go(tainted)
        done.wait()
        if "skip" in res:
            return res
        after: list[str] = []
        wg = WaitGroup()
        for _ in range(16):
            wg.add(1)

            def later() -> None:
                after.append(probe())
                time.sleep(0.001)
                after.append(probe())
                wg.done()

            gosched.go(later)
        wg.wait()
        res["after"] = after
        res["main"] = probe()
        return res

    res: dict[str, Any] = gosched.run(main, gomaxprocs=1)
    if "skip" in res:
        pytest.skip(res["skip"])
    return res


def _check_no_leak(res: dict[str, Any], tainted: str) -> None:
    assert res["self"] == tainted
    if res["plain thread"] != tainted:
        pytest.skip("a thread does not inherit this state here: a leak could not be seen")
    assert res["helper"] != tainted, "a blocking() helper was started from the locked thread"
    assert res["workers"]
    assert tainted not in res["workers"], "an M was started from the locked thread"
    assert res["after"]
    assert tainted not in res["after"], "an M was started from the exiting locked thread"
    assert res["main"] != tainted


@linux_only
@pytest.mark.parametrize("procs", PROCS)
def test_thread_name_does_not_leak(procs: int) -> None:
    res = _spread(procs, taint_name, thread_name)
    _check_no_leak(res, TAINT)
    assert _m_threads() == []


@linux_only
@pytest.mark.parametrize("procs", PROCS)
def test_unshared_working_directory_does_not_leak(procs: int) -> None:
    cwd = os.getcwd()
    private = tempfile.mkdtemp(prefix="gosched-template-")
    try:

        def taint() -> str | None:
            why = unshare_fs()
            if why is None:
                os.chdir(private)  # this thread's own working directory now
            return why

        res = _spread(procs, taint, os.getcwd)
        _check_no_leak(res, os.path.realpath(private))
        assert os.getcwd() == cwd
    finally:
        shutil.rmtree(private, ignore_errors=True)
    assert _m_threads() == []


# --- the template thread's life --------------------------------------------------------------


def test_started_by_the_first_lock_and_left_out_of_checkdead() -> None:
    """Only a run that locks a thread has a template; it is a system M (nmsys), like sysmon."""

    def main() -> tuple[int, int, int, int]:
        before = _template_threads()
        nmsys = debug.snapshot()["sched"]["nmsys"]
        gosched.lock_os_thread()
        gosched.unlock_os_thread()
        gosched.lock_os_thread()
        nmsys_after = debug.snapshot()["sched"]["nmsys"]
        return before, _template_threads(), nmsys, nmsys_after

    before, during, nmsys, nmsys_after = gosched.run(main, gomaxprocs=1)
    assert (before, during) == (0, 1)
    assert nmsys_after == nmsys + 1
    assert _m_threads() == []


@pytest.mark.parametrize("procs", PROCS)
def test_deadlock_is_still_reported(procs: int) -> None:
    """The template sleeps with nothing to do, as a parked M does: it must not hide a deadlock,
    also after it has started Ms and a locked goroutine's thread has ended."""

    def main() -> None:
        gosched.lock_os_thread()
        wg = WaitGroup()
        wg.add(2)

        def locked_exit() -> None:
            gosched.lock_os_thread()
            wg.done()

        gosched.go(locked_exit)
        gosched.go(wg.done)
        wg.wait()
        if _template_threads() != 1:
            raise AssertionError(f"no template thread: {_m_threads()}")
        _blocker().wait()

    with pytest.raises(gosched.Deadlock, match="all goroutines are asleep"):
        gosched.run(main, gomaxprocs=procs)
    assert _m_threads() == []


@pytest.mark.parametrize("procs", PROCS)
def test_ends_with_the_run_and_starts_again_in_the_next(procs: int) -> None:
    def main() -> tuple[int, int]:
        before = _template_threads()
        gosched.lock_os_thread()
        during = _template_threads()
        wg = WaitGroup()

        def worker() -> None:
            time.sleep(0.001)
            wg.done()

        for _ in range(20):
            wg.add(1)
            gosched.go(worker)
        wg.wait()  # the locked M hands its P to Ms the template starts
        return before, during

    for _ in range(3):
        assert gosched.run(main, gomaxprocs=procs) == (0, 1)
        assert _m_threads() == []


@pytest.mark.parametrize("procs", PROCS)
def test_ends_when_a_locked_goroutine_panics(procs: int) -> None:
    def main() -> None:
        gosched.lock_os_thread()
        wg = WaitGroup()
        wg.add(1)

        def bad() -> None:
            gosched.lock_os_thread()
            wg.done()
            raise ValueError("locked and panicking")

        gosched.go(bad)
        wg.wait()
        _blocker().wait()

    with pytest.raises(ValueError, match="locked and panicking"):
        gosched.run(main, gomaxprocs=procs)
    assert _m_threads() == []


def test_locks_racing_with_stop_the_world() -> None:
    """Go's TestLockOSThreadTemplateThreadRace: goroutines lock their threads for the first time
    while another stops the world over and over (gomaxprocs), each with a new goroutine queued so
    that its M's hand-offs start Ms. The template takes no part in stopping the world, so every
    M queued for it starts (the lockers finish); there is one template. (A locker may return
    from lock_os_thread before the template's thread has started: another one is starting it,
    and Ms queued meanwhile wait for it, as in Go.)"""

    def main() -> tuple[set[int], int]:
        stop = [False]
        stw = WaitGroup()
        stw.add(1)

        def stopper() -> None:
            n = 0
            while not stop[0]:
                gosched.gomaxprocs(4 if n % 2 else 2)
                n += 1
            stw.done()

        gosched.go(stopper)
        templates: set[int] = set()
        wg = WaitGroup()
        for _ in range(4):
            wg.add(1)

            def locker() -> None:
                gosched.go(lambda: None)
                gosched.lock_os_thread()
                templates.add(_template_threads())
                gosched.gosched()
                wg.done()

            gosched.go(locker)
        wg.wait()
        stop[0] = True
        stw.wait()
        return templates, _template_threads()

    for _ in range(5):
        seen, after = gosched.run(main, gomaxprocs=4)
        assert seen <= {0, 1}
        assert after == 1
        assert _m_threads() == []
