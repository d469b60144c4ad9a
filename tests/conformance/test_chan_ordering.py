"""Channel, select and timer orderings at GOMAXPROCS=1 are what real Go prints.

Each test is the Python twin of a Go program in go/ (same structure, statement for statement);
go/NAME.out is that program's output under Go 1.22.10 with GOMAXPROCS=1, the same on repeated
runs. To re-check against Go: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.

What the orderings pin: a send to a parked receiver (or a receive from a parked sender) readies
the partner into runnext without yielding; close readies the goroutines it wakes in reverse
dequeue order (Go collects them on a gList, a stack), each kicking the previous one out of
runnext; a timer readies its goroutine into runnext of the P that ran it.
"""

from __future__ import annotations

import time

import pytest

import gosched
from gosched import RuntimePanic, default, nilchan, select
from gosched.sync import WaitGroup

from .test_ordering import expected, run1, sync_tick


def lines(out: list[str]) -> str:
    """for _, s := range out { fmt.Println(s) }"""
    return "".join(s + "\n" for s in out)


def gostr(v: object) -> str:
    """fmt.Sprint of an int or a bool; None is the zero value of the Go twin's chan int."""
    if v is None:
        return "0"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def hold(seconds: float) -> None:
    """Keep the processor for `seconds` without yielding (hold in the Go twins)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        pass


def test_unbuffered_handoff() -> None:
    """Twin of go/chan_handoff.go (the trace in the facts sheet, section 7)."""

    def main() -> str:
        out: list[str] = []
        ch = gosched.Chan[int]()
        done = gosched.Chan[bool]()

        def receiver() -> None:
            out.append("other goroutine runs")
            for _ in range(3):
                v = ch.recv()
                out.append(f"recv {v}")
            done.send(True)

        gosched.go(receiver)
        for i in range(3):
            ch.send(i)
            out.append(f"sent {i}")
        done.recv()
        return lines(out)

    assert run1(main) == expected("chan_handoff")


def test_buffered_handoff_and_close() -> None:
    """Twin of go/chan_buffered_close.go."""

    def main() -> str:
        out: list[str] = []
        ch = gosched.Chan[int](2)

        def producer() -> None:
            for i in range(5):
                ch.send(i)
                out.append(f"sent {i} len {len(ch)}")
            ch.close()
            out.append("closed")

        gosched.go(producer)
        for v in ch:
            out.append(f"recv {v} len {len(ch)}")
        v, ok = ch.recv_ok()
        assert v is None
        out.append(f"after close {gostr(v)} {gostr(ok)}")
        return lines(out)

    assert run1(main) == expected("chan_buffered_close")


def test_sleepers_wake_in_deadline_order() -> None:
    """Twin of go/chan_sleepers.go."""

    def main() -> str:
        out: list[str] = []
        wg = WaitGroup()
        for ms in [30, 10, 20]:
            wg.add(1)

            def f(ms: int) -> None:
                gosched.sleep(ms / 1000)
                out.append(f"woke {ms}")
                wg.done()

            gosched.go(f, ms)
        wg.wait()
        return lines(out)

    assert run1(main) == expected("chan_sleepers")


def test_select_default_nil_and_wakeup() -> None:
    """Twin of go/chan_select.go."""

    def main() -> str:
        out: list[str] = []
        nilch = nilchan
        ch = gosched.Chan[int](1)
        i, v = select(ch.recv, default)
        if i == 0:
            out.append(f"recv {v}")
        else:
            out.append("default: empty")
        i, _ = select(nilch.recv, (nilch.send, 1), default)
        if i == 0:
            out.append("nil recv")
        elif i == 1:
            out.append("nil send")
        else:
            out.append("default: only nil cases")
        ch.send(7)
        i, _ = select((ch.send, 8), (nilch.send, 1), default)
        if i == 0:
            out.append("sent 8")
        elif i == 1:
            out.append("nil send")
        else:
            out.append("default: full")
        for _ in range(20):
            i, v = select(nilch.recv, ch.recv)
            if i == 0:
                out.append(f"nil recv {v}")
            else:
                out.append(f"recv {v}")
                ch.send(v + 1)
        ch.recv()
        unbuf = gosched.Chan[int]()

        def sender() -> None:
            out.append("sender runs")
            unbuf.send(42)
            out.append("sender done")

        gosched.go(sender)
        i, v = select(unbuf.recv, nilch.recv)
        if i == 0:
            out.append(f"select recv {v}")
        else:
            out.append("nil recv")
        out.append("main after select")
        ch.close()
        i, r = select(ch.recv_ok, nilch.recv)
        if i == 0:
            v, ok = r
            assert v is None
            out.append(f"closed recv {gostr(v)} {gostr(ok)}")
        else:
            out.append("nil recv")
        i, _ = select(unbuf.recv, gosched.time.after(0.005).recv)
        if i == 0:
            out.append("recv")
        else:
            out.append("timeout")
        return lines(out)

    assert run1(main) == expected("chan_select")


def test_parked_receivers_and_senders_are_served_fifo() -> None:
    """Twin of go/chan_recv_fifo.go."""

    def main() -> str:
        sync_tick()
        out: list[str] = []
        wg = WaitGroup()
        ch = gosched.Chan[int]()
        for i in range(1, 4):
            wg.add(1)

            def r(i: int) -> None:
                out.append(f"r{i} waits")
                v = ch.recv()
                out.append(f"r{i} got {v}")
                wg.done()

            gosched.go(r, i)
            gosched.gosched()
        for v in range(1, 4):
            ch.send(v)
        out.append("main sent")
        wg.wait()
        for i in range(1, 4):
            wg.add(1)

            def s(i: int) -> None:
                out.append(f"s{i} sends")
                ch.send(10 * i)
                out.append(f"s{i} done")
                wg.done()

            gosched.go(s, i)
            gosched.gosched()
        for _ in range(3):
            out.append(f"main got {ch.recv()}")
        wg.wait()
        return lines(out)

    assert run1(main) == expected("chan_recv_fifo")


def test_close_wakes_parked_goroutines_in_gs_order() -> None:
    """Twin of go/chan_close_wakes.go: close readies the woken goroutines last-dequeued first,
    so with three parked the run order is 1, 3, 2 (as in Go), not 3, 1, 2."""

    def main() -> str:
        sync_tick()
        out: list[str] = []
        wg = WaitGroup()
        rch = gosched.Chan[int]()
        for i in range(1, 4):
            wg.add(1)

            def r(i: int) -> None:
                v, ok = rch.recv_ok()
                assert v is None
                out.append(f"r{i} {gostr(v)} {gostr(ok)}")
                wg.done()

            gosched.go(r, i)
            gosched.gosched()
        rch.close()
        out.append("closed rch")
        wg.wait()
        sch = gosched.Chan[int]()
        for i in range(1, 4):
            wg.add(1)

            def s(i: int) -> None:
                try:
                    sch.send(i)
                except RuntimePanic as e:
                    out.append(f"s{i} {e}")
                finally:
                    wg.done()

            gosched.go(s, i)
            gosched.gosched()
        sch.close()
        out.append("closed sch")
        wg.wait()
        return lines(out)

    assert run1(main) == expected("chan_close_wakes")


def test_timer_readies_into_runnext(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twin of go/chan_timer_runnext.go. Without sysmon: main's 3 ms hold is user code, which
    sysmon treats as Go treats a syscall, and a sysmon that got the GIL twice in it would hand
    main's P to another M for the unstarted goroutine; Go does not for a hold shorter than its
    10 ms slice (test_time's twin of this flaked so in CI once)."""
    monkeypatch.setenv("GODEBUG", "sysmonoff=1")

    def main() -> str:
        sync_tick()
        out: list[str] = []
        wg = WaitGroup()
        wg.add(2)

        def sleeper() -> None:
            out.append("sleeper sleeps")
            gosched.sleep(0.001)
            out.append("sleeper woke")
            wg.done()

        gosched.go(sleeper)
        gosched.gosched()

        def other() -> None:
            out.append("other runs")
            wg.done()

        gosched.go(other)
        hold(0.003)
        out.append("main yields")
        gosched.gosched()
        out.append("main back")
        wg.wait()
        return lines(out)

    assert run1(main) == expected("chan_timer_runnext")


def test_select_duplicate_cases_are_fair() -> None:
    """Twin of go/select_dup.go: a parked select whose cases share one channel; the partner
    that comes later completes a uniformly random one of them."""
    import math

    trials = 2000

    def fair(out: list[str], name: str, counts: list[int]) -> None:
        p = 1 / len(counts)
        sigma = math.sqrt(trials * p * (1 - p))
        verdict = "fair"
        for c in counts:
            if abs(c - trials * p) > 10 * sigma:
                verdict = "unfair"
        out.append(f"{name} {len(counts)} cases: {verdict}")

    def main() -> str:
        out: list[str] = []
        c = gosched.Chan[int]()
        sent = [0, 0]
        chosen = [0, 0]
        three = [0, 0, 0]
        result = gosched.Chan[int](1)
        for _ in range(trials):
            gosched.go(select, (c.send, 1), (c.send, 0))
            gosched.gosched()  # the select parks
            sent[c.recv()] += 1
            gosched.go(lambda: result.send(select(c.recv, c.recv)[0]))
            gosched.gosched()
            c.send(7)
            chosen[result.recv()] += 1
            gosched.go(lambda: result.send(select(c.recv, c.recv, c.recv)[0]))
            gosched.gosched()
            c.send(7)
            three[result.recv()] += 1
        fair(out, "send", sent)
        fair(out, "recv", chosen)
        fair(out, "recv", three)
        return lines(out)

    assert run1(main) == expected("select_dup")
