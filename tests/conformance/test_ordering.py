"""Scheduling order at GOMAXPROCS=1 is what real Go prints.

Each test is the Python twin of a Go program in go/ (same structure, statement for statement);
go/NAME.out is that program's output under Go 1.22.10 with GOMAXPROCS=1, checked to be the same
on repeated runs. To re-check against Go: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gosched
from gosched.sync import WaitGroup

GO = Path(__file__).parent / "go"


def expected(name: str) -> str:
    return (GO / f"{name}.out").read_text()


def golist(xs: list[int]) -> str:
    """fmt.Println of a []int."""
    return "[" + " ".join(map(str, xs)) + "]\n"


def run1(main: object) -> str:
    out = gosched.run(main, gomaxprocs=1)  # type: ignore[arg-type]
    assert isinstance(out, str)
    return out


def test_five() -> None:
    def main() -> str:
        wg = WaitGroup()
        order: list[int] = []
        for i in range(5):
            wg.add(1)

            def f(i: int) -> None:
                order.append(i)
                wg.done()

            gosched.go(f, i)
        wg.wait()
        return golist(order)

    assert run1(main) == expected("five")


def test_gosched_abc() -> None:
    def main() -> str:
        wg = WaitGroup()
        out: list[str] = []
        for name in ["A", "B", "C"]:
            wg.add(1)

            def f(name: str) -> None:
                out.append(name + "1")
                gosched.gosched()
                out.append(name + "2")
                wg.done()

            gosched.go(f, name)
        wg.wait()
        return " ".join(out) + "\n"

    assert run1(main) == expected("gosched_abc")


def test_nested() -> None:
    def main() -> str:
        wg = WaitGroup()
        out: list[str] = []
        wg.add(1)

        def a() -> None:
            try:
                for name in ["B", "C", "D"]:
                    wg.add(1)

                    def child(name: str) -> None:
                        out.append(name)
                        wg.done()

                    gosched.go(child, name)
                out.append("A1")
                gosched.gosched()
                out.append("A2")
            finally:
                wg.done()

        gosched.go(a)
        wg.wait()
        return " ".join(out) + "\n"

    assert run1(main) == expected("nested")


def sync_tick() -> None:
    """Twin of syncTick in go/runq300.go: leaves schedtick = 1 (mod 61), queues empty."""
    while True:
        ran = [False]
        wg = WaitGroup()
        wg.add(1)

        def f() -> None:
            ran[0] = True
            wg.done()

        gosched.go(f)
        gosched.gosched()
        first = not ran[0]
        wg.wait()
        if first:
            return


def runq300() -> str:
    """Twin of main in go/runq300.go."""
    sync_tick()
    wg = WaitGroup()
    order: list[int] = []
    for i in range(300):
        wg.add(1)

        def f(i: int) -> None:
            order.append(i)
            wg.done()

        gosched.go(f, i)
    wg.wait()
    return golist(order)


def test_runq300() -> None:
    got = run1(runq300)
    assert got == expected("runq300")
    # The mechanics the order comes from, spelled out: 299 from runnext; 128.. from the ring
    # (0-127 and 256 overflowed to the global queue); a global G every 61 schedticks.
    order = [int(x) for x in got.strip("[]\n").split()]
    assert order[0] == 299
    assert order[1:61] == list(range(128, 188))
    assert order[61] == 0


@pytest.mark.parametrize("start", [0, 5, 60, 61, 100])
def test_runq300_independent_of_start_tick(start: int) -> None:
    """sync_tick makes the order independent of how many schedticks came before it."""

    def main() -> str:
        for _ in range(start):
            gosched.gosched()  # each is one non-inherited execute: schedtick += 1
        return runq300()

    assert run1(main) == expected("runq300")


def test_main_starts_at_schedtick_1() -> None:
    """Go's runtime.main parks once during init and main.main starts with schedtick 1."""

    def main() -> int:
        snap = gosched.debug.snapshot()
        tick = snap["allp"][0]["schedtick"]
        assert isinstance(tick, int)
        return tick

    assert gosched.run(main, gomaxprocs=1) == 1
