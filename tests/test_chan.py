"""Channels (API.md "Channels"; facts sheet sections 7, 11, 13, 18): hand-off, buffering, close,
the nil channel, Go's panic messages, wait reasons and deadlock reports.

Orderings that depend on runnext are checked at GOMAXPROCS=1; the rules that must hold whatever
the interleaving run under 1, 2 and 4 Ps. tests/conformance/test_chan_ordering.py pins the same
mechanics to what real Go prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest

import gosched
from gosched import Chan, Deadlock, RuntimePanic, nilchan
from gosched.sync import WaitGroup

PROCS = [1, 2, 4]

_HEADER = re.compile(r"^goroutine (\d+) \[([^\]]+)\]:$", re.MULTILINE)


# --- helpers (also used by test_select.py and test_time.py) ----------------------------------


def headers(dump: str) -> dict[int, str]:
    """goid -> the bracket of its "goroutine N [...]:" header line in a Go-format dump."""
    out: dict[int, str] = {}
    for m in _HEADER.finditer(dump):
        goid = int(m.group(1))
        assert goid not in out, f"goroutine {goid} dumped twice:\n{dump}"
        out[goid] = m.group(2)
    return out


def gstates() -> dict[int, tuple[str, str]]:
    """goid -> (status, wait reason) of every live goroutine, from debug.snapshot()."""
    return {
        g["goid"]: (g["status"], g["waitreason"])
        for g in gosched.debug.snapshot()["allgs"]
        if g["status"] != "dead"
    }


def wait_parked(goids: Iterable[int], reason: str | None = None, timeout: float = 10.0) -> None:
    """Yield until every goroutine in goids is parked (with that wait reason, if given)."""
    goids = list(goids)
    deadline = time.monotonic() + timeout
    while True:
        st = gstates()
        if all(
            g in st and st[g][0] == "waiting" and (reason is None or st[g][1] == reason)
            for g in goids
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"goroutines {goids} not parked ({reason}): {st}")
        gosched.gosched()


def spawn(fn: Callable[..., Any], *args: Any) -> int:
    """go fn(*args) and return the new goroutine's id."""
    ids = Chan[int](1)

    def body() -> None:
        ids.send(gosched.goid())
        fn(*args)

    gosched.go(body)
    goid = ids.recv()
    assert goid is not None
    return goid


def run(main: Callable[[], Any], procs: int = 1) -> Any:
    return gosched.run(main, gomaxprocs=procs)


# --- make, len, cap ---------------------------------------------------------------------------


def test_make_len_cap() -> None:
    def main() -> None:
        u = Chan()
        assert u.cap == 0 and len(u) == 0
        b = Chan[int](3)
        assert b.cap == 3 and len(b) == 0
        b.send(1)
        b.send(2)
        assert len(b) == 2 and b.cap == 3
        b.recv()
        assert len(b) == 1
        b.close()
        assert len(b) == 1 and b.cap == 3  # close keeps the buffered value
        assert nilchan.cap == 0 and len(nilchan) == 0

    run(main)


@pytest.mark.parametrize("size", [-1, -100])
def test_make_negative_size_panics(size: int) -> None:
    def main() -> None:
        with pytest.raises(RuntimePanic) as ei:
            Chan(size)
        assert str(ei.value) == "makechan: size out of range"
        assert isinstance(ei.value, RuntimeError)

    run(main)


@pytest.mark.parametrize("bad", ["x", 1.5, None, [1]])
def test_make_non_int_size_is_type_error(bad: object) -> None:
    def main() -> None:
        with pytest.raises(TypeError):
            Chan(bad)  # type: ignore[arg-type]

    run(main)


# --- unbuffered: direct hand-off ---------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_unbuffered_send_waits_for_receiver(procs: int) -> None:
    def main() -> list[str]:
        ch = Chan[int]()
        out: list[str] = []

        def sender() -> None:
            ch.send(7)
            out.append("sent")

        g = spawn(sender)
        wait_parked([g], "chan send")
        assert out == [] and len(ch) == 0
        out.append(f"recv {ch.recv()}")
        while len(out) < 2:
            gosched.gosched()
        return out

    assert sorted(run(main, procs)) == ["recv 7", "sent"]


def test_send_to_parked_receiver_readies_it_into_runnext() -> None:
    """Go's send hands the value to the parked receiver and readies it with runqput(next=true):
    it runs before a goroutine that was in runnext (kicked to the tail), and the sender goes on
    without yielding."""

    def main() -> list[str]:
        ch = Chan[int]()
        done = WaitGroup()
        out: list[str] = []

        def receiver() -> None:
            out.append(f"receiver got {ch.recv()}")
            done.done()

        def other() -> None:
            out.append("other")
            done.done()

        done.add(2)
        g = spawn(receiver)
        wait_parked([g], "chan receive")
        gosched.go(other)  # other is in runnext
        ch.send(42)  # receiver takes runnext, other goes to the tail
        out.append("sender goes on")
        done.wait()
        return out

    assert run(main) == ["sender goes on", "receiver got 42", "other"]


def test_recv_from_parked_sender_readies_it_into_runnext() -> None:
    def main() -> list[str]:
        ch = Chan[int]()
        done = WaitGroup()
        out: list[str] = []

        def sender() -> None:
            ch.send(5)
            out.append("sender resumed")
            done.done()

        def other() -> None:
            out.append("other")
            done.done()

        done.add(2)
        g = spawn(sender)
        wait_parked([g], "chan send")
        gosched.go(other)
        out.append(f"main got {ch.recv()}")
        done.wait()
        return out

    assert run(main) == ["main got 5", "sender resumed", "other"]


@pytest.mark.parametrize("procs", PROCS)
def test_parked_receivers_are_served_fifo(procs: int) -> None:
    def main() -> dict[int, int | None]:
        ch = Chan[int]()
        got: dict[int, int | None] = {}
        wg = WaitGroup()

        def receiver(i: int) -> None:
            got[i] = ch.recv()
            wg.done()

        for i in range(5):
            wg.add(1)
            g = spawn(receiver, i)
            wait_parked([g], "chan receive")  # recvq order = i
        for v in range(5):
            ch.send(100 + v)
        wg.wait()
        return got

    assert run(main, procs) == {i: 100 + i for i in range(5)}


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("cap", [0, 1, 3])
def test_parked_senders_are_served_fifo(procs: int, cap: int) -> None:
    def main() -> list[int | None]:
        ch = Chan[int](cap)
        for v in range(cap):
            ch.send(v)  # fill the buffer
        wg = WaitGroup()
        for i in range(4):
            wg.add(1)

            def sender(i: int) -> None:
                ch.send(10 * (i + 1))
                wg.done()

            g = spawn(sender, i)
            wait_parked([g], "chan send")  # sendq order = i
        got = [ch.recv() for _ in range(cap + 4)]
        wg.wait()
        assert len(ch) == 0
        return got

    assert run(main, procs) == [*range(cap), 10, 20, 30, 40]


@pytest.mark.parametrize("procs", PROCS)
def test_ping_pong(procs: int) -> None:
    n = 2000

    def main() -> list[int]:
        ping, pong = Chan[int](), Chan[int]()
        got: list[int] = []

        def echo() -> None:
            for v in ping:
                pong.send(v + 1)
            pong.close()

        gosched.go(echo)
        for i in range(n):
            ping.send(2 * i)
            v = pong.recv()
            assert v is not None
            got.append(v)
        ping.close()
        assert pong.recv_ok() == (None, False)
        return got

    assert run(main, procs) == [2 * i + 1 for i in range(n)]


# --- buffered ------------------------------------------------------------------------------------


def test_buffered_fifo_without_blocking() -> None:
    def main() -> None:
        ch = Chan[int](5)
        for i in range(5):
            ch.send(i)  # room: never parks (a park here would deadlock: nobody else runs)
            assert len(ch) == i + 1
        for i in range(5):
            assert ch.recv() == i
            assert len(ch) == 4 - i

    run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_buffered_send_parks_when_full(procs: int) -> None:
    def main() -> None:
        ch = Chan[int](2)
        sent: list[int] = []

        def sender() -> None:
            for i in range(3):
                ch.send(i)
                sent.append(i)

        g = spawn(sender)
        wait_parked([g], "chan send")
        assert sent == [0, 1] and len(ch) == 2
        assert [ch.recv(), ch.recv(), ch.recv()] == [0, 1, 2]
        while sent != [0, 1, 2]:
            gosched.gosched()

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
def test_recv_from_full_buffer_takes_head_and_queues_parked_senders_value(procs: int) -> None:
    def main() -> None:
        ch = Chan[str](2)
        ch.send("a")
        ch.send("b")
        resumed: list[bool] = []

        def sender() -> None:
            ch.send("c")
            resumed.append(True)

        g = spawn(sender)
        wait_parked([g], "chan send")
        assert ch.recv() == "a"  # the head
        # The parked sender's value went to the tail, so the buffer is full again and the sender
        # was readied: nothing else is waiting for room.
        assert len(ch) == 2
        st = gstates().get(g)
        assert st is None or st[0] != "waiting" or st[1] != "chan send", st
        assert ch.recv() == "b"
        assert ch.recv() == "c"
        assert len(ch) == 0
        while not resumed:
            gosched.gosched()

    run(main, procs)


def test_none_is_a_value_distinct_from_closed() -> None:
    def main() -> None:
        ch = Chan[Any](2)
        ch.send(None)
        ch.close()
        assert ch.recv_ok() == (None, True)
        assert ch.recv_ok() == (None, False)

    run(main)


# --- close ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("cap", [0, 4])
def test_close_wakes_every_parked_receiver(procs: int, cap: int) -> None:
    def main() -> list[object]:
        ch = Chan[int](cap)
        got: list[object] = []
        wg = WaitGroup()
        goids = []
        for i in range(6):
            wg.add(1)

            def receiver(i: int) -> None:
                got.append(ch.recv_ok() if i % 2 else ("recv", ch.recv()))
                wg.done()

            goids.append(spawn(receiver, i))
        wait_parked(goids, "chan receive")
        ch.close()
        wg.wait()
        return got

    got = run(main, procs)
    assert sorted(map(repr, got)) == sorted([repr((None, False))] * 3 + [repr(("recv", None))] * 3)


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("cap", [0, 2])
def test_close_makes_every_parked_sender_panic(procs: int, cap: int) -> None:
    def main() -> list[str]:
        ch = Chan[int](cap)
        for v in range(cap):
            ch.send(v)
        errors: list[str] = []
        wg = WaitGroup()
        goids = []
        for i in range(5):
            wg.add(1)

            def sender(i: int) -> None:
                try:
                    ch.send(i)
                    errors.append("no panic")
                except RuntimePanic as e:
                    errors.append(str(e))
                finally:
                    wg.done()

            goids.append(spawn(sender, i))
        wait_parked(goids, "chan send")
        ch.close()
        wg.wait()
        # The values buffered before close are still there; the parked senders' are not.
        assert [ch.recv_ok() for _ in range(cap + 1)] == [(v, True) for v in range(cap)] + [
            (None, False)
        ]
        return errors

    assert run(main, procs) == ["send on closed channel"] * 5


@pytest.mark.parametrize("procs", PROCS)
def test_buffered_values_delivered_after_close(procs: int) -> None:
    def main() -> None:
        ch = Chan[int](3)
        ch.send(1)
        ch.send(2)
        ch.close()
        assert len(ch) == 2
        assert ch.recv_ok() == (1, True)
        assert ch.recv() == 2
        assert len(ch) == 0
        for _ in range(3):
            assert ch.recv_ok() == (None, False)
            assert ch.recv() is None

    run(main, procs)


def test_send_on_closed_channel_panics() -> None:
    def main() -> None:
        for cap in (0, 3):
            ch = Chan[int](cap)
            ch.close()
            with pytest.raises(RuntimePanic) as ei:
                ch.send(1)
            assert str(ei.value) == "send on closed channel"
            assert len(ch) == 0  # nothing was buffered

    run(main)


def test_close_of_closed_channel_panics() -> None:
    def main() -> None:
        ch = Chan[int](1)
        ch.close()
        with pytest.raises(RuntimePanic) as ei:
            ch.close()
        assert str(ei.value) == "close of closed channel"

    run(main)


def test_close_of_nil_channel_panics() -> None:
    def main() -> None:
        with pytest.raises(RuntimePanic) as ei:
            nilchan.close()
        assert str(ei.value) == "close of nil channel"

    run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_uncaught_send_on_closed_channel_ends_the_program(procs: int) -> None:
    def main() -> None:
        ch = Chan[int]()
        ch.close()
        gosched.go(ch.send, 1)
        Chan[int]().recv()  # main blocks; the panic ends the program first

    with pytest.raises(RuntimePanic) as ei:
        run(main, procs)
    assert str(ei.value) == "send on closed channel"
    assert any("goroutine 2" in n for n in getattr(ei.value, "__notes__", [])), ei.value


# --- iteration -----------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("cap", [0, 1, 7])
def test_iteration_until_closed_and_drained(procs: int, cap: int) -> None:
    def main() -> list[int]:
        ch = Chan[int](cap)

        def producer() -> None:
            for i in range(50):
                ch.send(i)
            ch.close()

        gosched.go(producer)
        got = list(ch)
        assert list(ch) == []  # a closed, drained channel ends every later loop at once
        return got

    assert run(main, procs) == list(range(50))


def test_iteration_of_closed_buffered_channel_drains_it() -> None:
    def main() -> list[int]:
        ch = Chan[int](4)
        for i in range(3):
            ch.send(i)
        ch.close()
        return [v for v in ch]

    assert run(main) == [0, 1, 2]


# --- the nil channel -----------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize(
    ("op", "reason"),
    [
        ("send", "chan send (nil chan)"),
        ("recv", "chan receive (nil chan)"),
        ("recv_ok", "chan receive (nil chan)"),
        ("iter", "chan receive (nil chan)"),
    ],
)
def test_nilchan_blocks_forever_deadlock(procs: int, op: str, reason: str) -> None:
    def main() -> None:
        if op == "send":
            nilchan.send(1)
        elif op == "iter":
            for _ in nilchan:
                pass
        else:
            getattr(nilchan, op)()
        raise AssertionError("nil channel operation returned")

    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    assert headers(ei.value.dump) == {1: reason}, ei.value.dump


@pytest.mark.parametrize("procs", PROCS)
def test_nilchan_blocks_only_its_goroutine(procs: int) -> None:
    finished: list[str] = []

    def main() -> int:
        def blocked(op: str) -> None:
            try:
                if op == "send":
                    nilchan.send(1)
                else:
                    nilchan.recv()
                finished.append("returned")
            finally:
                finished.append("killed")

        g1 = spawn(blocked, "send")
        g2 = spawn(blocked, "recv")
        wait_parked([g1], "chan send (nil chan)")
        wait_parked([g2], "chan receive (nil chan)")
        ch = Chan[int]()
        gosched.go(ch.send, 9)
        v = ch.recv()
        assert v is not None
        return v

    assert run(main, procs) == 9
    assert finished == ["killed", "killed"]  # killed when main returned, never woken


# --- wait reasons ----------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_wait_reasons_in_stack_and_snapshot(procs: int) -> None:
    def main() -> None:
        full = Chan[int](1)
        full.send(0)
        empty = Chan[int](1)
        unbuf_s, unbuf_r = Chan[int](), Chan[int]()
        ops: list[tuple[str, Callable[[], Any]]] = [
            ("chan send", lambda: unbuf_s.send(1)),
            ("chan send", lambda: full.send(1)),
            ("chan receive", unbuf_r.recv),
            ("chan receive", empty.recv_ok),
            ("chan send (nil chan)", lambda: nilchan.send(1)),
            ("chan receive (nil chan)", nilchan.recv),
            ("chan receive (nil chan)", nilchan.recv_ok),
            ("select", lambda: gosched.select(empty.recv, (unbuf_s.send, 1))),
            ("select", lambda: gosched.select(unbuf_r.recv_ok, nilchan.recv)),
            ("select (no cases)", gosched.select),
            ("sleep", lambda: gosched.sleep(60)),
        ]
        goids = [(reason, spawn(op)) for reason, op in ops]
        for reason, g in goids:
            wait_parked([g], reason)
        dump = gosched.debug.stack()
        hs = headers(dump)
        assert hs[1] == "running", dump
        st = gstates()
        for reason, g in goids:
            assert hs[g] == reason, dump
            assert st[g] == ("waiting", reason)

    run(main, procs)


# --- deadlock ------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("kind", ["send", "receive"])
def test_deadlock_two_goroutines_on_each_others_channels(procs: int, kind: str) -> None:
    def left(a: Chan[int], b: Chan[int]) -> None:
        if kind == "send":
            a.send(1)  # right is sending on b, not receiving on a
            b.recv()
        else:
            a.recv()  # right is receiving on b, not sending on a
            b.send(1)

    def right(a: Chan[int], b: Chan[int]) -> None:
        if kind == "send":
            b.send(1)
            a.recv()
        else:
            b.recv()
            a.send(1)

    def main() -> None:
        a, b = Chan[int](), Chan[int]()
        done = Chan[None]()
        gosched.go(left, a, b)
        gosched.go(right, a, b)
        done.recv()

    t0 = time.monotonic()
    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert time.monotonic() - t0 < 5
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    dump = ei.value.dump
    reason = f"chan {kind}"
    assert headers(dump) == {1: "chan receive", 2: reason, 3: reason}, dump
    assert dump.startswith("goroutine 1 [chan receive]:\n"), dump
    assert f"goroutine 2 [{reason}]:\n" in dump and f"goroutine 3 [{reason}]:\n" in dump
    blocks = dump.split("\n\n")
    assert any(b.startswith("goroutine 2 ") and ".left(" in b for b in blocks), dump
    assert any(b.startswith("goroutine 3 ") and ".right(" in b for b in blocks), dump
    assert "created by " in dump and " in goroutine 1\n" in dump


@pytest.mark.parametrize("procs", PROCS)
def test_deadlock_after_everyone_else_finished(procs: int) -> None:
    """Workers finish; main then receives on a channel nobody will send on."""

    def main() -> None:
        ch = Chan[int](10)
        wg = WaitGroup()
        for i in range(10):
            wg.add(1)

            def worker(i: int) -> None:
                ch.send(i)
                wg.done()

            gosched.go(worker, i)
        wg.wait()
        assert sorted(ch.recv() for _ in range(10)) == list(range(10))  # type: ignore[type-var]
        ch.recv()

    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert headers(ei.value.dump) == {1: "chan receive"}


# --- channels that outlive a run --------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_channel_outlives_run_without_its_killed_waiters(procs: int) -> None:
    """Goroutines parked on channels are killed when main returns; the channels, used again in a
    later run, must not hand values to (or take them from) those dead goroutines."""
    r, s, sel_r, sel_s = Chan[int](), Chan[int](), Chan[int](), Chan[int]()

    def first() -> None:
        gs = [spawn(r.recv), spawn(s.send, 1)]
        g3 = spawn(gosched.select, sel_r.recv, (sel_s.send, 2))
        wait_parked(gs)
        wait_parked([g3], "select")

    run(first, procs)

    def second() -> list[object]:
        out: list[object] = [
            gosched.select((r.send, 1), gosched.default),
            gosched.select(s.recv, gosched.default),
            gosched.select((sel_r.send, 1), gosched.default),
            gosched.select(sel_s.recv, gosched.default),
        ]
        gosched.go(r.send, 5)  # and the channels still work
        out.append(r.recv())
        return out

    assert run(second, procs) == [(1, None)] * 4 + [5]


# --- misuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: Chan[int](1).send(1),
        lambda: Chan[int](1).recv(),
        lambda: Chan[int](1).recv_ok(),
        lambda: Chan[int](1).close(),
    ],
    ids=["send", "recv", "recv_ok", "close"],
)
def test_channel_operations_outside_run_raise(call: Callable[[], object]) -> None:
    with pytest.raises(RuntimeError):
        call()


@pytest.mark.parametrize("procs", PROCS)
def test_no_deadlock_report_while_a_goroutine_blocks_in_c(procs: int) -> None:
    """An M inside a blocking call counts as running (Go's checkdead: run > 0): everyone else
    waiting on it is not a deadlock."""
    import time as stdtime

    def main() -> str:
        ch: gosched.Chan[str] = gosched.Chan()

        def worker() -> None:
            stdtime.sleep(0.2)  # blocks its thread in C, outside the runtime
            ch.send("done")

        gosched.go(worker)
        v = ch.recv()
        assert v is not None
        return v

    assert run(main, procs) == "done"
