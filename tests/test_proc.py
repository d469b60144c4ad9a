"""The scheduler's mechanics (proc.py), observed through the public API and debug.snapshot."""

from __future__ import annotations

import gc
import sys
import threading
import time
from typing import Any

import pytest

import gosched
from gosched import debug
from gosched._runtime import proc
from gosched._runtime.runtime2 import G, _Gdead, _Grunnable, _Grunning, _Gwaiting
from gosched._runtime.stack import Stack
from gosched.sync import WaitGroup

from .conftest import run_program


def spin_until(cond: Any, what: str, limit: float = 10.0) -> None:
    """Wait in user code (holding the P) until another M makes cond true."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.0005)


# --- goids ----------------------------------------------------------------------------------


def test_goids_come_in_batches_of_16_per_p() -> None:
    def main() -> tuple[list[int], list[int]]:
        wg = WaitGroup()
        ids: list[int] = []
        for _ in range(20):
            wg.add(1)
            gosched.go(lambda: (ids.append(gosched.goid()), wg.done()))
        wg.wait()
        return ids, [p["goidcache"] for p in debug.snapshot()["allp"]]

    ids, _ = gosched.run(main, gomaxprocs=1)
    assert sorted(ids) == list(range(2, 22))  # main is 1; one P: consecutive across batches


def test_second_p_takes_the_next_batch() -> None:
    """A goroutine on P1 gets its children's ids from a fresh batch (17-32), while main on P0
    keeps using 1-16."""

    def main() -> dict[str, list[int]]:
        started = threading.Event()
        release = threading.Event()
        got: dict[str, list[int]] = {}
        wg = WaitGroup()
        wg.add(1)

        def x() -> None:
            started.set()
            kids = WaitGroup()
            ids: list[int] = []
            for _ in range(3):
                kids.add(1)
                gosched.go(lambda: (ids.append(gosched.goid()), kids.done()))
            kids.wait()
            got["x"] = sorted(ids)
            wg.done()

        gosched.go(x)  # goid 2, in P0's runnext; the spinning M on P1 steals it
        spin_until(started.is_set, "x to start on the other P")
        mine: list[int] = []
        for _ in range(3):
            wg.add(1)
            gosched.go(lambda: (mine.append(gosched.goid()), wg.done()))
        release.set()
        wg.wait()
        got["main"] = sorted(mine)
        return got

    got = gosched.run(main, gomaxprocs=2)
    assert got["main"] == [3, 4, 5]
    assert got["x"] == [17, 18, 19]


# --- free lists -----------------------------------------------------------------------------


def test_gfput_spills_at_64_and_gfget_refills_32() -> None:
    def main() -> list[tuple[int, int]]:
        seen = []

        def counts() -> tuple[int, int]:
            s = debug.snapshot()
            return s["allp"][0]["gfreecnt"], s["sched"]["gfree_stack"] + s["sched"]["gfree_nostack"]

        wg = WaitGroup()
        gate = WaitGroup()
        gate.add(1)
        for _ in range(64):
            wg.add(1)
            gosched.go(lambda: (gate.wait(), wg.done()))
        seen.append(counts())  # 64 live goroutines, nothing free yet
        gate.done()
        wg.wait()
        seen.append(counts())  # the 64th gfput spilled: 31 stay, 33 went global
        for _ in range(31):
            wg.add(1)
            gosched.go(gate.wait)  # gate is open: they finish at once, but not before we look
        seen.append(counts())  # the local list is used up
        wg.add(1)
        gosched.go(wg.done)
        seen.append(counts())  # gfget moved 32 from global, then took one
        for _ in range(31):
            wg.done()
        wg.wait()
        return seen

    assert gosched.run(main, gomaxprocs=1) == [(0, 0), (31, 33), (0, 33), (31, 1)]


def _stacks_of_this_run() -> int:
    """Stacks of this run's Ms (an earlier test's abandoned goroutines keep theirs alive)."""
    gc.collect()
    ms = set(map(id, proc.sched.allm))
    return sum(1 for o in gc.get_objects() if isinstance(o, Stack) and id(o.m) in ms)


def _sequential_spawns() -> int:
    wg = WaitGroup()
    for _ in range(100_000):
        wg.add(1)
        gosched.go(wg.done)
        wg.wait()
    gc.collect()
    return _stacks_of_this_run()


def test_sequential_spawns_reuse_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 goroutines, one after another: the Gs and their greenlets are reused.

    Without sysmon they never overlap. With it, main and each new goroutine hand the P to each
    other through runnext in one time slice, and sysmon preempts the pair every 10 ms: a
    goroutine preempted just after it readied main waits in the global queue, alive with its
    stack, until the fairness check or main's own preemption drains the queue (as in Go). Then
    a few more stacks live at once, but their number must not grow with the spawns."""
    monkeypatch.setenv("GODEBUG", "sysmonoff=1")
    assert gosched.run(_sequential_spawns, gomaxprocs=1) <= 4
    monkeypatch.delenv("GODEBUG")
    assert gosched.run(_sequential_spawns, gomaxprocs=1) <= 32


def test_concurrent_spawns_share_few_stacks() -> None:
    """Goroutines that never block run one after another on the stack the previous one freed."""

    def main() -> int:
        wg = WaitGroup()
        wg.add(20_000)
        for _ in range(20_000):
            gosched.go(wg.done)
        wg.wait()
        gc.collect()
        return _stacks_of_this_run()

    assert gosched.run(main, gomaxprocs=1) <= 4


# --- gomaxprocs -----------------------------------------------------------------------------


def test_gomaxprocs_returns_previous_and_queries() -> None:
    def main() -> list[int]:
        return [
            gosched.gomaxprocs(0),
            gosched.gomaxprocs(-1),
            gosched.gomaxprocs(3),
            gosched.gomaxprocs(0),
            gosched.gomaxprocs(3),  # same value: no stop-the-world, returns current
            gosched.gomaxprocs(1),
            gosched.gomaxprocs(),
            len(debug.snapshot()["allp"]),
        ]

    assert gosched.run(main, gomaxprocs=2) == [2, 2, 2, 3, 3, 3, 1, 1]


def test_gomaxprocs_rejects_non_int() -> None:
    def main() -> None:
        with pytest.raises(TypeError, match="gomaxprocs"):
            gosched.gomaxprocs("2")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="gomaxprocs"):
            gosched.gomaxprocs(2.0)  # type: ignore[arg-type]

    gosched.run(main, gomaxprocs=1)


def test_shrink_moves_queues_to_global_head_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """P1's queue (runnext first, then its ring in order) goes to the head of the global queue,
    and every goroutine on it still runs exactly once. (sysmon is off: it would hand P1, and
    its queue, to another M while x holds it in user code.)"""
    monkeypatch.setenv("GODEBUG", "sysmonoff=1")

    def main() -> tuple[list[int], list[int], list[int]]:
        ready = threading.Event()
        shrunk = threading.Event()
        order: list[int] = []
        kids: list[int] = []
        wg = WaitGroup()
        wg.add(1)

        def x() -> None:
            for i in range(10):
                wg.add(1)

                def kid(i: int) -> None:
                    order.append(i)
                    wg.done()

                gosched.go(kid, i)
            kids.extend(debug.snapshot()["allp"][1]["runq"])
            ready.set()
            spin_until(shrunk.is_set, "the shrink")  # holding P1 in user code
            wg.done()

        gosched.go(x)
        spin_until(ready.is_set, "x to queue its children on P1")
        assert gosched.gomaxprocs(1) == 2
        globalq = debug.snapshot()["sched"]["runq"]
        shrunk.set()
        wg.wait()
        return order, globalq, kids

    order, globalq, kids = gosched.run(main, gomaxprocs=2)
    assert sorted(order) == list(range(10))
    # The ring held kids 0-8 (goids kids), runnext kid 9: at the head, runnext first.
    assert len(kids) == 9
    assert globalq[:10] == [kids[-1] + 1, *kids]
    assert order == [9, 0, 1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    ("env", "want"),
    [("3", 3), ("1", 1), ("abc", 1), ("0", 1), ("-2", 1), ("", 1), ("2.5", 1), (" 2 ", 2)],
)
def test_gomaxprocs_env(env: str, want: int) -> None:
    r = run_program(
        "import gosched; print(gosched.run(gosched.gomaxprocs, 0))", env={"GOMAXPROCS": env}
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(want)


def test_run_gomaxprocs_overrides_env() -> None:
    r = run_program(
        "import gosched; print(gosched.run(gosched.gomaxprocs, 0, gomaxprocs=2))",
        env={"GOMAXPROCS": "4"},
    )
    assert r.stdout.strip() == "2", r.stderr


# --- snapshot and dumps ---------------------------------------------------------------------


def test_snapshot_shows_the_queues() -> None:
    def main() -> dict[str, Any]:
        gate = WaitGroup()
        gate.add(1)
        for _ in range(3):
            gosched.go(gate.wait)
        s = debug.snapshot()
        gate.done()
        return s

    s = gosched.run(main, gomaxprocs=1)
    p0 = s["allp"][0]
    assert s["gomaxprocs"] == 1
    assert p0["status"] == "running" and p0["m"] == 0
    assert p0["runnext"] == 4 and p0["runq"] == [2, 3]
    # Newest first, as Go's allm list; sysmon is M1, started by runtime.main before main.main.
    assert [(m["id"], m["kind"]) for m in s["allm"]] == [(1, "sysmon"), (0, "goroutines")]
    assert s["allm"][1]["curg"] == 1 and s["allm"][0]["curg"] is None
    g1 = s["allgs"][0]
    assert g1["goid"] == 1 and g1["status"] == "running" and g1["m"] == 0
    assert [g["status"] for g in s["allgs"][1:]] == ["runnable"] * 3
    assert set(s["sched"]) >= {"runqsize", "npidle", "nmidle", "nmspinning", "gfree_stack"}
    import json

    json.dumps(s)


def test_snapshot_outside_run_raises() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        debug.snapshot()


def test_stack_dump_format() -> None:
    def parked(wg: WaitGroup) -> None:
        wg.wait()

    def main() -> str:
        wg = WaitGroup()
        wg.add(1)
        gosched.go(parked, wg)
        gosched.gosched()
        out = debug.stack()
        wg.done()
        return out

    out = gosched.run(main, gomaxprocs=1)
    blocks = out.strip().split("\n\n")
    # Frames carry qualified names from Python 3.11 (co_qualname); 3.10 has only co_name.
    loc = "test_stack_dump_format.<locals>." if sys.version_info >= (3, 11) else ""
    assert blocks[0].startswith("goroutine 1 [running]:\n")
    assert f"tests.test_proc.{loc}main()" in blocks[0]
    b = blocks[1].splitlines()
    assert b[0] == "goroutine 2 [sync.WaitGroup.Wait]:"
    assert b[1] == "gosched.sync.WaitGroup.wait(...)"
    assert b[2].startswith("\t") and b[2].endswith("sync.py:" + b[2].rsplit(":", 1)[1])
    assert b[3] == f"tests.test_proc.{loc}parked(...)"
    assert b[5] == f"created by tests.test_proc.{loc}main in goroutine 1"
    assert b[6].startswith("\t") and "test_proc.py:" in b[6]


# --- status transitions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"), [(_Grunning, _Grunning), (_Gdead, _Gwaiting), (_Gwaiting, _Grunning)]
)
def test_casgstatus_rejects_illegal_transitions(old: int, new: int) -> None:
    gp = G()
    gp.atomicstatus = old
    with pytest.raises(gosched.FatalError, match="casgstatus: bad transition"):
        proc.casgstatus(gp, old, new)


def test_casgstatus_rejects_wrong_current_status() -> None:
    gp = G()
    gp.atomicstatus = _Grunnable
    with pytest.raises(gosched.FatalError, match=r"runnable \(expected running\)"):
        proc.casgstatus(gp, _Grunning, _Gwaiting)


# --- bootstrap and ticks --------------------------------------------------------------------


def test_bootstrap_state() -> None:
    """schedinit/procresize: P0 on m0, the other Ps idle and handed out P1, P2, ... in order;
    goroutine 1 is main; Ms are listed newest first."""

    def main() -> tuple[dict[str, Any], dict[str, Any]]:
        first = debug.snapshot()
        wg = WaitGroup()
        for _ in range(40):
            wg.add(1)
            gosched.go(lambda: (gosched.gosched(), wg.done()))
        wg.wait()
        return first, debug.snapshot()

    first, later = gosched.run(main, gomaxprocs=4)
    assert first["gomaxprocs"] == 4
    assert [p["status"] for p in first["allp"]] == ["running", "idle", "idle", "idle"]
    assert first["allp"][0]["m"] == 0
    assert first["sched"]["pidle"] == [1, 2, 3]
    assert [m["id"] for m in first["allm"]] == [1, 0]  # M1 is sysmon, as in Go
    assert first["allgs"][0]["goid"] == 1 and first["sched"]["mainstarted"] is True
    ids = [m["id"] for m in later["allm"]]
    assert ids == sorted(ids, reverse=True) and ids[-1] == 0 and len(ids) > 1


def test_schedtick_counts_only_fresh_time_slices() -> None:
    """execute increments schedtick only when the G does not inherit the time slice: a G taken
    from runnext inherits it, one taken from the local queue does not."""

    def tick() -> int:
        t = debug.snapshot()["allp"][0]["schedtick"]
        assert isinstance(t, int)
        return t

    def main() -> list[int]:
        ticks: list[int] = []
        wg = WaitGroup()
        wg.add(2)
        gosched.go(lambda: (ticks.append(tick()), wg.done()))  # kicked to the local queue
        gosched.go(lambda: (ticks.append(tick()), wg.done()))  # runnext
        before = tick()
        wg.wait()
        return [before, *ticks, tick()]

    before, from_runnext, from_queue, main_again = gosched.run(main, gomaxprocs=1)
    assert from_runnext == before  # inherited
    assert from_queue == before + 1  # a fresh time slice
    assert main_again == from_queue  # main was readied into runnext: inherited
