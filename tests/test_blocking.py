"""gosched.blocking() in both forms, and debug.set_max_threads (API.md, "Goroutines and the
scheduler" and "gosched.debug additions"; Go's entersyscallblock and debug.SetMaxThreads).

Time bounds are behaviour with wide margins (serialised, 1,000 sleeps of 0.2 s would take
200 s; behind a 32-thread pool, 6.4 s); the speed targets are in benchmarks/blocking*.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

import gosched
from gosched import debug
from gosched._runtime import blocking as _blocking
from gosched._runtime import proc
from gosched._runtime.runtime2 import GSTATUS_NAMES, sched
from gosched.sync import WaitGroup


def test_returns_the_value_on_a_helper_thread() -> None:
    def main() -> tuple[Any, int, int]:
        where: list[int] = []

        def fn(a: int, *, b: int) -> int:
            where.append(threading.get_ident())
            return a + b

        return gosched.blocking(fn, 1, b=2), where[0], threading.get_ident()

    value, helper, caller = gosched.run(main)
    assert value == 3
    assert helper != caller


def test_raises_the_exception_with_its_traceback() -> None:
    def fails() -> None:
        raise ValueError("from the helper")

    def main() -> list[str]:
        try:
            gosched.blocking(fails)
        except ValueError as e:
            return [f.name for f in traceback.extract_tb(e.__traceback__)]
        raise AssertionError("not raised")

    names = gosched.run(main)
    assert names[0] == "main" and names[-1] == "fails"


@pytest.mark.parametrize("bad", [None, 42, "time.sleep"])
def test_a_non_callable_is_a_type_error(bad: Any) -> None:
    def main() -> str:
        with pytest.raises(
            TypeError, match=f"blocking: fn must be callable, not {type(bad).__name__}"
        ):
            gosched.blocking(bad)
        with pytest.raises(TypeError, match="takes a function"):
            gosched.blocking(timeout=1)
        return "ok"

    assert gosched.run(main) == "ok"


def test_outside_a_goroutine() -> None:
    with pytest.raises(RuntimeError, match="not called from a goroutine"):
        gosched.blocking(len, "x")
    with pytest.raises(RuntimeError, match="not called from a goroutine"):
        with gosched.blocking():
            pass


def test_a_thousand_calls_get_a_thousand_threads() -> None:
    """No pool: 1,000 calls in flight run at once, each on a helper of its own. Each call
    waits until all 1,000 are in (behind a 32-thread pool they never would be)."""

    def main() -> tuple[int, int, int]:
        wg = WaitGroup()
        lock = threading.Lock()
        inflight = 0
        peak = 0
        everyone = threading.Event()

        def call_body() -> None:
            nonlocal inflight, peak
            with lock:
                inflight += 1
                peak = max(peak, inflight)
                if inflight == 1000:
                    everyone.set()
            everyone.wait(20)
            with lock:
                inflight -= 1

        def call() -> None:
            gosched.blocking(call_body)
            wg.done()

        for _ in range(1000):
            wg.add(1)
            gosched.go(call)
        wg.wait()
        kinds = [m["kind"] for m in debug.snapshot()["allm"]]
        return peak, kinds.count("helper"), len({m for m in kinds})

    peak, helpers, _ = gosched.run(main, gomaxprocs=1)
    assert peak == 1000
    assert helpers == 1000  # idle now, kept for the next calls


def test_the_caller_s_thread_runs_its_other_goroutines() -> None:
    """The cure for the sibling stall: a ticker that started on main's thread keeps ticking
    while main waits for its blocking call (at GOMAXPROCS=1 there is no other thread for it)."""

    def main() -> tuple[int, int]:
        ticks = 0
        stop = gosched.Chan[None]()

        def ticker() -> None:
            nonlocal ticks
            t = gosched.time.Ticker(0.01)
            while True:
                i, _ = gosched.select(stop.recv, t.c.recv)
                if i == 0:
                    break
                ticks += 1
            t.stop()

        gosched.go(ticker)
        gosched.gosched()  # the ticker starts on this thread
        gosched.blocking(time.sleep, 0.3)
        stop.close()
        return ticks, threading.get_ident()

    ticks, _ = gosched.run(main, gomaxprocs=1)
    assert ticks >= 15  # 30 at most


def test_helpers_are_reused_and_idle_ones_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_blocking, "HELPER_IDLE", 0.1)

    def main() -> tuple[set[int], list[str], list[str]]:
        idents = {gosched.blocking(threading.get_ident) for _ in range(20)}
        during = [m["kind"] for m in debug.snapshot()["allm"]]
        gosched.sleep(0.4)
        after = [m["kind"] for m in debug.snapshot()["allm"]]
        return idents, during, after

    idents, during, after = gosched.run(main, gomaxprocs=1)
    assert len(idents) == 1
    assert during.count("helper") == 1
    assert "helper" not in after


def test_the_context_form_hands_the_p_off_at_once() -> None:
    """``with blocking()``: the P goes to another M before the body starts, so a goroutine
    that has not started runs there at once (sysmon would take 0.2 ms or more to notice), and
    the goroutine shows as in a syscall; afterwards it has a P again on its own thread."""

    def main() -> dict[str, Any]:
        info: dict[str, Any] = {}
        ran = threading.Event()

        def other() -> None:
            info["other"] = threading.get_ident()
            ran.set()

        gosched.go(other)
        with gosched.blocking():
            info["ran_inside"] = ran.wait(5)
            info["status"] = next(g for g in debug.snapshot()["allgs"] if g["goid"] == 1)["status"]
            info["dump"] = debug.stack()
        # Read inside the door: in user code sysmon may have marked it a syscall again.
        info["after"] = proc.runtimecall("test", lambda mp: GSTATUS_NAMES[mp.curg.atomicstatus])
        info["main"] = threading.get_ident()
        return info

    info = gosched.run(main, gomaxprocs=1)
    assert info["ran_inside"] is True
    assert info["other"] != info["main"]
    assert info["status"] == "syscall"
    assert info["after"] == "running"
    assert "goroutine 1 [running]:" in info["dump"]  # the caller of stack() runs, as in Go


def test_the_context_form_passes_exceptions_and_takes_the_p_back() -> None:
    def main() -> str:
        with pytest.raises(KeyError):
            with gosched.blocking():
                raise KeyError("inside")
        ch = gosched.Chan[str](1)
        ch.send("the P is back")
        return ch.recv() or ""

    assert gosched.run(main, gomaxprocs=1) == "the P is back"


# --- no false deadlock, and a real one still reported -----------------------------------------


def test_no_deadlock_while_in_either_form_or_a_plain_blocking_call() -> None:
    """Every other goroutine waits forever while main is in a blocking call: not a deadlock,
    since main will come back."""

    def main() -> str:
        gosched.go(gosched.Chan[int]().recv)
        gosched.blocking(time.sleep, 0.1)
        with gosched.blocking():
            time.sleep(0.1)
        time.sleep(0.1)
        return "no deadlock"

    assert gosched.run(main, gomaxprocs=1) == "no deadlock"


def test_a_real_deadlock_is_still_reported_after_blocking_calls() -> None:
    def main() -> None:
        gosched.blocking(time.sleep, 0.05)
        with gosched.blocking():
            time.sleep(0.05)
        gosched.Chan[int]().recv()

    with pytest.raises(gosched.Deadlock, match="all goroutines are asleep - deadlock!"):
        gosched.run(main, gomaxprocs=1)


def test_a_helper_still_running_at_the_end_is_abandoned() -> None:
    """main returns while a goroutine waits for a 0.5 s blocking call: the program ends at
    once; the helper finishes its call later and ends without touching the next run."""
    release = threading.Event()

    def main() -> str:
        gosched.go(gosched.blocking, release.wait, 5)
        gosched.sleep(0.05)
        return "ended"

    t0 = time.monotonic()
    assert gosched.run(main) == "ended"
    assert time.monotonic() - t0 < 2.0
    # The next run is not disturbed when the abandoned call returns.
    helpers = [t for t in threading.enumerate() if t.name.endswith(" helper")]

    def main2() -> str:
        release.set()
        for t in helpers:
            t.join(5)
        return "clean"

    assert gosched.run(main2) == "clean"
    assert not any(t.is_alive() for t in helpers)


# --- the thread limit ---------------------------------------------------------------------------


def test_set_max_threads_returns_the_old_limit_and_outlives_a_run() -> None:
    old = debug.set_max_threads(500)
    try:
        assert old == 10000
        assert gosched.run(lambda: sched.maxmcount) == 500
        assert debug.set_max_threads(10000) == 500
    finally:
        debug.set_max_threads(old)
    with pytest.raises(TypeError, match="must be an int"):
        debug.set_max_threads("10")  # type: ignore[arg-type]


def test_exceeding_the_thread_limit_is_go_s_fatal_error(tmp_path: Path) -> None:
    """Go's message and exit status: `runtime: program exceeds 8-thread limit`, then `fatal
    error: thread exhaustion`, exit 2."""
    script = tmp_path / "threads.py"
    script.write_text(
        "import time\n"
        "import gosched\n"
        "gosched.debug.set_max_threads(8)\n"
        "wg = gosched.sync.WaitGroup()\n"
        "for _ in range(20):\n"
        "    wg.go(gosched.blocking, time.sleep, 0.5)\n"
        "wg.wait()\n"
        "print('not reached')\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "gosched", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert "runtime: program exceeds 8-thread limit" in r.stderr
    assert "fatal error: thread exhaustion" in r.stderr
    assert "not reached" not in r.stdout


# --- dumps ----------------------------------------------------------------------------------------


def test_dump_shows_syscalls_their_minutes_and_goroutines_waiting_for_a_busy_m() -> None:
    """Go's `goroutine 1 [syscall, 2 minutes]:` with the blocking call's frame on top, and a
    goroutine that started on that thread shown runnable, waiting for its M (the sibling
    stall that blocking(fn) cures)."""

    def main() -> Any:
        wake = gosched.Chan[None](1)
        out = gosched.Chan[tuple[str, int]](1)

        def sibling() -> None:
            wake.recv()

        def dumper() -> None:
            gosched.sleep(0.05)  # main is in time.sleep by now
            m0 = next(m for m in sched.allm if m.id == 0)
            m0.syscallwhen -= 150 * 10**9  # as if main had been in its call for 2.5 minutes
            wake.send(None)  # sibling is runnable now, but its thread is busy
            out.send((debug.stack(), debug.snapshot()["sched"]["nstalled"]))

        gosched.go(sibling)
        gosched.gosched()  # sibling starts on this thread and parks
        gosched.go(dumper)  # has not started: runs on the M the P is handed to
        with gosched.blocking():
            time.sleep(0.3)  # the blocking call
        return out.recv()

    dump, stalled = gosched.run(main, gomaxprocs=1)
    assert stalled == 1  # the snapshot counts it (schedtrace will print it)
    blocks = {b.splitlines()[0]: b for b in dump.strip().split("\n\n")}
    main_block = blocks["goroutine 1 [syscall, 2 minutes]:"]
    top = main_block.splitlines()[1]  # main's own frame: 3.10 has no qualified names
    assert top.startswith("tests.test_blocking.") and "main()" in top, top
    assert "time.sleep(0.3)" not in main_block  # frames, not source
    assert "goroutine 2 [runnable, waiting for M0]:" in blocks
    assert "goroutine 3 [running]:" in blocks


def test_lowering_the_thread_limit_below_the_count_is_fatal_even_if_caught(
    tmp_path: Path,
) -> None:
    """Go's SetMaxThreads below the current count: the program dies at once, and catching the
    FatalError does not keep it alive (the caller's except never runs)."""
    script = tmp_path / "lower.py"
    script.write_text(
        "import gosched\n"
        "try:\n"
        "    gosched.debug.set_max_threads(1)\n"
        "except BaseException as e:\n"
        "    print('caught', e)\n"
        "print('still running')\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "gosched", "run", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert r.stdout == "", r.stdout
    assert r.stderr.startswith(
        "runtime: program exceeds 1-thread limit\nfatal error: thread exhaustion\n\n"
        "goroutine 1 [running]:\n"
    ), r.stderr
