"""select (API.md "Channels"; facts sheet section 14): default, the nil channel, readiness of each
kind of case, parking on several channels and being woken by exactly one, closed channels,
uniformly random choice among ready cases, and misuse."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import gosched
from gosched import Chan, Deadlock, RuntimePanic, default, nilchan, select
from gosched.sync import WaitGroup

from .test_chan import PROCS, headers, run, spawn, wait_parked

# --- default -------------------------------------------------------------------------------------


def test_default_when_nothing_is_ready() -> None:
    def main() -> None:
        empty, full, unbuf = Chan[int](1), Chan[int](1), Chan[int]()
        full.send(1)
        assert select(empty.recv, default) == (1, None)
        assert select(default, empty.recv_ok) == (0, None)
        assert select((full.send, 2), default) == (1, None)
        assert select(unbuf.recv, (unbuf.send, 3), default) == (2, None)
        assert select(empty.recv, default, (full.send, 2), unbuf.recv) == (1, None)
        # Nothing was taken or added by the cases not chosen.
        assert len(empty) == 0 and len(full) == 1 and full.recv() == 1

    run(main)


def test_ready_case_beats_default() -> None:
    def main() -> None:
        ch = Chan[int](1)
        for i in range(200):
            assert select(default, (ch.send, i)) == (1, None)
            assert len(ch) == 1
            assert select(ch.recv, default) == (0, i)

    run(main)


def test_one_case_and_default_is_a_nonblocking_operation() -> None:
    def main() -> None:
        unbuf = Chan[int]()
        # A parked receiver makes a non-blocking send succeed (direct hand-off)...
        got: list[int | None] = []
        g = spawn(lambda: got.append(unbuf.recv()))
        wait_parked([g], "chan receive")
        assert select((unbuf.send, 5), default) == (0, None)
        # ... and a parked sender a non-blocking receive.
        g = spawn(lambda: unbuf.send(6))
        wait_parked([g], "chan send")
        assert select(unbuf.recv_ok, default) == (0, (6, True))
        while not got:
            gosched.gosched()
        assert got == [5]

    run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_select_recv_from_full_buffer_with_parked_sender(procs: int) -> None:
    def main() -> None:
        ch = Chan[int](2)
        ch.send(1)
        ch.send(2)
        done: list[bool] = []

        def sender() -> None:
            ch.send(3)
            done.append(True)

        g = spawn(sender)
        wait_parked([g], "chan send")
        assert select(ch.recv, default) == (0, 1)  # the head...
        assert len(ch) == 2  # ... and the parked sender's value went to the tail
        assert [ch.recv(), ch.recv()] == [2, 3]
        while not done:
            gosched.gosched()

    run(main, procs)


# --- kinds of case -------------------------------------------------------------------------------


def test_case_values_and_indices() -> None:
    def main() -> None:
        a, b = Chan[str](1), Chan[str](1)
        a.send("x")
        assert select(b.recv, a.recv) == (1, "x")
        a.send("y")
        assert select(b.recv_ok, a.recv_ok) == (1, ("y", True))
        assert select(a.recv, (b.send, "z")) == (1, None)
        assert b.recv() == "z"

    run(main)


def test_closed_channel_is_ready_for_receive() -> None:
    def main() -> None:
        closed, empty = Chan[int](), Chan[int]()
        closed.close()
        assert select(empty.recv, closed.recv_ok) == (1, (None, False))
        assert select(closed.recv, empty.recv) == (0, None)
        assert select(closed.recv, default) == (0, None)
        buffered = Chan[int](2)
        buffered.send(4)
        buffered.close()
        assert select(empty.recv, buffered.recv_ok) == (1, (4, True))  # drained first
        assert select(empty.recv, buffered.recv_ok) == (1, (None, False))

    run(main)


@pytest.mark.parametrize("with_default", [False, True])
def test_send_case_on_closed_channel_panics(with_default: bool) -> None:
    def main() -> None:
        closed, empty = Chan[int](1), Chan[int]()
        closed.close()
        cases: list[Any] = [empty.recv, (closed.send, 1)]
        if with_default:
            cases.append(default)
        with pytest.raises(RuntimePanic) as ei:
            select(*cases)
        assert str(ei.value) == "send on closed channel"
        with pytest.raises(RuntimePanic) as ei:
            select((closed.send, 1), default)
        assert str(ei.value) == "send on closed channel"

    run(main)


def test_same_channel_in_two_cases() -> None:
    def main() -> None:
        ch = Chan[int](1)
        ch.send(1)
        i, v = select(ch.recv, ch.recv_ok)
        assert (i, v) in ((0, 1), (1, (1, True)))
        i, v = select(ch.recv, (ch.send, 2))  # empty buffer: only the send can proceed
        assert (i, v) == (1, None) and len(ch) == 1

    run(main)


# --- the nil channel -----------------------------------------------------------------------------


def test_nil_channel_cases_are_never_chosen() -> None:
    def main() -> None:
        ready = Chan[int](1)
        for i in range(500):
            ready.send(i)
            assert select(nilchan.recv, ready.recv, (nilchan.send, 1), nilchan.recv_ok) == (1, i)
            assert select((nilchan.send, 1), (ready.send, i), nilchan.recv) == (1, None)
            assert ready.recv() == i
            assert select(nilchan.recv, (nilchan.send, 1), default) == (2, None)

    run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_select_of_only_nil_cases_deadlocks(procs: int) -> None:
    def main() -> None:
        select(nilchan.recv, (nilchan.send, 1))

    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    assert list(headers(ei.value.dump)) == [1]


def test_select_of_only_nil_cases_waits_in_select() -> None:
    """Go 1.22 (checked): `select { case <-a: case b <- 1: }` with a, b nil shows
    "goroutine 1 [select]:" in the deadlock dump."""

    def main() -> None:
        select(nilchan.recv, (nilchan.send, 1))

    with pytest.raises(Deadlock) as ei:
        run(main)
    assert headers(ei.value.dump) == {1: "select"}, ei.value.dump


# --- no cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_select_with_no_cases_deadlocks(procs: int) -> None:
    def main() -> None:
        select()

    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    assert headers(ei.value.dump) == {1: "select (no cases)"}
    assert ei.value.dump.startswith("goroutine 1 [select (no cases)]:\n")


@pytest.mark.parametrize("procs", PROCS)
def test_select_with_no_cases_blocks_only_its_goroutine(procs: int) -> None:
    killed: list[bool] = []

    def main() -> str:
        def forever() -> None:
            try:
                select()
            finally:
                killed.append(True)

        g = spawn(forever)
        wait_parked([g], "select (no cases)")
        return "main returned"

    assert run(main, procs) == "main returned"
    assert killed == [True]


# --- parking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("which", [0, 1, 2])
def test_parked_select_woken_by_a_sender(procs: int, which: int) -> None:
    def main() -> None:
        chans = [Chan[int](), Chan[int](1), Chan[int]()]
        res: list[tuple[int, Any]] = []

        def selector() -> None:
            res.append(select(chans[0].recv, chans[1].recv_ok, chans[2].recv))

        g = spawn(selector)
        wait_parked([g], "select")
        chans[which].send(40 + which)
        while not res:
            gosched.gosched()
        expect = (40 + which, True) if which == 1 else 40 + which
        assert res == [(which, expect)]
        # The select took its waiters off the other channels: nobody receives there now.
        for k, c in enumerate(chans):
            assert select((c.send, 0), default) == ((0, None) if k == 1 else (1, None)), k

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("which", [0, 1])
def test_parked_select_woken_by_a_receiver(procs: int, which: int) -> None:
    def main() -> None:
        chans = [Chan[str](), Chan[str]()]
        res: list[tuple[int, Any]] = []

        def selector() -> None:
            res.append(select((chans[0].send, "a"), (chans[1].send, "b")))

        g = spawn(selector)
        wait_parked([g], "select")
        assert chans[which].recv() == "ab"[which]
        while not res:
            gosched.gosched()
        assert res == [(which, None)]
        for c in chans:  # no sender left behind
            assert select(c.recv, default) == (1, None)

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
def test_parked_select_woken_by_close(procs: int) -> None:
    def main() -> None:
        a, b, s = Chan[int](), Chan[int](), Chan[int]()
        res: list[object] = []
        wg = WaitGroup()
        wg.add(3)

        def recv_ok() -> None:
            res.append(("recv_ok", select(a.recv_ok, b.recv)))
            wg.done()

        def recv() -> None:
            res.append(("recv", select(b.recv, a.recv)))
            wg.done()

        def send() -> None:
            try:
                res.append(("send", select(b.recv, (s.send, 1))))
            except RuntimePanic as e:
                res.append(("send", str(e)))
            wg.done()

        gs = [spawn(recv_ok), spawn(recv), spawn(send)]
        wait_parked(gs, "select")
        a.close()
        s.close()
        wg.wait()
        assert sorted(map(repr, res)) == sorted(
            map(
                repr,
                [
                    ("recv_ok", (0, (None, False))),
                    ("recv", (1, None)),
                    ("send", "send on closed channel"),
                ],
            )
        )
        assert select(b.recv, (b.send, 1), default) == (2, None)  # no waiter left on b

    run(main, procs)


def test_select_send_to_parked_receiver_readies_it_into_runnext() -> None:
    def main() -> list[str]:
        ch = Chan[int]()
        empty = Chan[int]()
        out: list[str] = []
        wg = WaitGroup()
        wg.add(2)

        def receiver() -> None:
            out.append(f"receiver {ch.recv()}")
            wg.done()

        def other() -> None:
            out.append("other")
            wg.done()

        g = spawn(receiver)
        wait_parked([g], "chan receive")
        gosched.go(other)
        assert select(empty.recv, (ch.send, 3)) == (1, None)
        out.append("main")
        wg.wait()
        return out

    assert run(main) == ["main", "receiver 3", "other"]


def test_woken_select_runs_next() -> None:
    def main() -> list[str]:
        a, b = Chan[int](), Chan[int]()
        out: list[str] = []
        wg = WaitGroup()
        wg.add(2)

        def selector() -> None:
            out.append(f"select {select(a.recv, b.recv)}")
            wg.done()

        def other() -> None:
            out.append("other")
            wg.done()

        g = spawn(selector)
        wait_parked([g], "select")
        gosched.go(other)
        b.send(8)
        out.append("main")
        wg.wait()
        return out

    assert run(main) == ["main", "select (1, 8)", "other"]


@pytest.mark.parametrize("procs", PROCS)
def test_racing_wakers_win_a_select_exactly_once(procs: int) -> None:
    """Two senders race to complete one parked select: exactly one value goes to the select,
    the other sender stays blocked until someone else receives."""
    rounds = 200

    def main() -> None:
        for _ in range(rounds):
            a, b = Chan[int](), Chan[int]()
            res: list[tuple[int, Any]] = []
            done = WaitGroup()
            done.add(3)

            def selector() -> None:
                res.append(select(a.recv, b.recv))
                done.done()

            def sender(c: Chan[int], v: int) -> None:
                c.send(v)
                done.done()

            g = spawn(selector)
            wait_parked([g], "select")
            gosched.go(sender, a, 1)
            gosched.go(sender, b, 2)
            while not res:
                gosched.gosched()
            i, v = res[0]
            assert (i, v) in ((0, 1), (1, 2))
            other = b if i == 0 else a
            assert other.recv() == (2 if i == 0 else 1)
            done.wait()

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
def test_selects_compete_for_values(procs: int) -> None:
    n, k = 3000, 6

    def main() -> None:
        a, b = Chan[int](), Chan[int](3)
        got: list[list[int]] = []
        wg = WaitGroup()

        def consumer() -> None:
            mine: list[int] = []
            open_ = {0: a, 1: b}
            while open_:
                cases = [c.recv_ok for c in open_.values()]
                i, (v, ok) = select(*cases)
                key = list(open_)[i]
                if not ok:
                    del open_[key]
                else:
                    mine.append(v)
            got.append(mine)
            wg.done()

        for _ in range(k):
            wg.add(1)
            gosched.go(consumer)
        for v in range(n):
            select((a.send, 2 * v), (b.send, 2 * v + 1))
        a.close()
        b.close()
        wg.wait()
        allv = [v for mine in got for v in mine]
        assert len(allv) == n
        assert sorted(v // 2 for v in allv) == list(range(n))  # each value exactly once
        for mine in got:  # each consumer sees each channel's values in send order
            for parity in (0, 1):
                seq = [v for v in mine if v % 2 == parity]
                assert seq == sorted(seq)

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
def test_select_timeout_with_after(procs: int) -> None:
    def main() -> None:
        ch = Chan[int]()
        t0 = time.monotonic()
        assert select(ch.recv, gosched.time.after(0.05).recv)[0] == 1
        assert time.monotonic() - t0 >= 0.05 - 1e-6

    run(main, procs)


# --- fairness --------------------------------------------------------------------------------


def _bounds(n: int, p: float) -> tuple[float, float]:
    """n*p +- 5 sigma of a binomial count."""
    sigma = math.sqrt(n * p * (1 - p))
    return n * p - 5 * sigma, n * p + 5 * sigma


@pytest.mark.parametrize("procs", [1, 4])
def test_fairness_two_ready_receives(procs: int) -> None:
    n = 10_000

    def main() -> Counter[int]:
        a, b = Chan[int](1), Chan[int](1)
        a.send(0)
        b.send(1)
        counts: Counter[int] = Counter()
        for _ in range(n):
            i, v = select(a.recv, b.recv)
            assert v == i
            counts[i] += 1
            (a if i == 0 else b).send(i)
        return counts

    counts = run(main, procs)
    lo, hi = _bounds(n, 0.5)
    assert sum(counts.values()) == n
    for i in (0, 1):
        assert lo <= counts[i] <= hi, counts


def test_fairness_closed_channels_and_mixed_kinds() -> None:
    n = 10_000

    def main() -> tuple[Counter[int], Counter[int]]:
        c1, c2 = Chan[int](), Chan[int]()
        c1.close()
        c2.close()
        closed: Counter[int] = Counter(select(c1.recv, c2.recv_ok)[0] for _ in range(n))
        room, full = Chan[int](1), Chan[int](1)
        full.send(0)
        mixed: Counter[int] = Counter()
        for _ in range(n):
            i, _ = select((room.send, 1), full.recv, default)
            mixed[i] += 1
            if i == 0:
                room.recv()
            else:
                full.send(0)
        return closed, mixed

    closed, mixed = run(main)
    lo, hi = _bounds(n, 0.5)
    for counts in (closed, mixed):
        assert sorted(counts) == [0, 1], counts  # default never chosen
        for i in (0, 1):
            assert lo <= counts[i] <= hi, counts


def test_fairness_three_ready_cases() -> None:
    n = 10_000

    def main() -> Counter[int]:
        cs = [Chan[int](), Chan[int](), Chan[int]()]
        for c in cs:
            c.close()
        return Counter(select(nilchan.recv, *(c.recv for c in cs))[0] for _ in range(n))

    counts = run(main)
    lo, hi = _bounds(n, 1 / 3)
    assert sorted(counts) == [1, 2, 3], counts
    for i in (1, 2, 3):
        assert lo <= counts[i] <= hi, counts


@pytest.mark.parametrize("procs", [1, 4])
def test_fairness_parked_select_with_duplicate_cases(procs: int) -> None:
    """A parked select queues its cases in lock order, which Go builds from the random poll
    order; so a partner that comes later completes a uniformly random one of several cases on
    one channel, not the first one written (go/select_dup.go checks Go's counts the same way:
    more than 10 sigma off is unfair, Go's own TestSelectFairness criterion; 5 sigma here)."""
    n = 2000

    def main() -> tuple[Counter[int], Counter[int], Counter[int]]:
        c = Chan[int]()
        sent: Counter[int] = Counter()
        chosen: Counter[int] = Counter()
        three: Counter[int] = Counter()
        for _ in range(n):
            goid = spawn(select, (c.send, 1), (c.send, 0))
            wait_parked([goid], "select")
            sent[c.recv()] += 1
            result = Chan[int](1)
            goid = spawn(lambda: result.send(select(c.recv, c.recv)[0]))
            wait_parked([goid], "select")
            c.send(7)
            chosen[result.recv()] += 1
            goid = spawn(lambda: result.send(select(c.recv, c.recv, c.recv)[0]))
            wait_parked([goid], "select")
            c.send(7)
            three[result.recv()] += 1
        return sent, chosen, three

    sent, chosen, three = run(main, procs)
    lo, hi = _bounds(n, 0.5)
    for counts in (sent, chosen):
        assert sorted(counts) == [0, 1], counts
        for i in (0, 1):
            assert lo <= counts[i] <= hi, counts
    lo, hi = _bounds(n, 1 / 3)
    assert sorted(three) == [0, 1, 2], three
    for i in (0, 1, 2):
        assert lo <= three[i] <= hi, three


# --- misuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_cases",
    [
        lambda ch: (42,),
        lambda ch: (ch,),
        lambda ch: (ch.send,),  # a send without its value
        lambda ch: ((ch.recv, 1),),  # a receive with a value
        lambda ch: ((ch.send, 1, 2),),
        lambda ch: (ch.close,),
        lambda ch: (default, ch.recv, default),
        lambda ch: (print,),
    ],
    ids=["int", "chan", "bare-send", "recv-tuple", "3-tuple", "close", "two-defaults", "func"],
)
def test_bad_cases_are_type_errors(make_cases: Callable[[Chan[int]], tuple[Any, ...]]) -> None:
    def main() -> None:
        ch = Chan[int](1)
        with pytest.raises(TypeError):
            select(*make_cases(ch))
        assert len(ch) == 0  # nothing happened

    run(main)


def test_select_outside_run_raises() -> None:
    ch = Chan[int](1)
    with pytest.raises(RuntimeError):
        select(ch.recv, default)
