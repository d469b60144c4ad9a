"""Property: random programs of send / receive / select / close over several channels, run by
several goroutines, agree with a sequential model of Go's channels.

A generated program has
- data channels (buffered or not), each with at least one receiver goroutine that keeps
  receiving until the channel is closed (range, a recv_ok loop, a select over several channels,
  or a select with default that falls back to a blocking select);
- sender goroutines, each running a list of operations: a send, a select over sends on several
  channels, a non-blocking send (select with default), a yield;
- a closer that waits for every sender and then closes the data channels in a generated order;
- sink channels: buffered, written by one goroutine (never more values than they hold) and read
  by nobody until main drains them at the end.
Every send completes because a receiver is always either parked on its channel or about to get
back to it, so the program cannot deadlock, unless the generator adds one on purpose ("stuck":
a data channel that is never closed, or a sink sent one value more than it holds); then the
model says Deadlock, and run must raise it.

What is checked against the model, per channel: the multiset received equals the multiset sent
(minus what is left buffered, which main drains: nothing is lost or duplicated); each receiver
sees each sender's values in send order (a channel is FIFO); a sink gives back exactly what was
sent, in order; after close and drain recv_ok is (None, False) forever, send and close panic.

Deterministic: hypothesis is derandomized and has no example database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gosched
from gosched import Chan, Deadlock, RuntimePanic, default, select
from gosched.sync import WaitGroup

from .test_chan import headers

# A failing example makes hypothesis import its patch writer, which imports a deprecated
# mypy_extensions name; with filterwarnings=error that warning would hide the failure report.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

Value = tuple[int, int]  # (sender id, sequence number of that sender)


@dataclass(frozen=True)
class Program:
    caps: tuple[int, ...]  # data channels
    senders: tuple[tuple[tuple[Any, ...], ...], ...]  # per sender: ("send", c) ...
    receivers: tuple[tuple[str, tuple[int, ...]], ...]  # (kind, channels)
    close_order: tuple[int, ...]
    sinks: tuple[tuple[int, int], ...]  # (cap, number of values sent, <= cap)
    stuck: str | None  # None, "unclosed" or "overfull": the model's deadlock


@st.composite
def programs(draw: st.DrawFn) -> Program:
    nchan = draw(st.integers(1, 4))
    caps = tuple(draw(st.lists(st.integers(0, 3), min_size=nchan, max_size=nchan)))
    chan = st.integers(0, nchan - 1)
    some_chans = st.lists(chan, min_size=1, max_size=nchan, unique=True).map(tuple)
    op = st.one_of(
        st.tuples(st.just("send"), chan),
        st.tuples(st.just("select_send"), some_chans),
        st.tuples(st.just("try_send"), chan),
        st.tuples(st.just("yield")),
    )
    senders = tuple(
        tuple(ops) for ops in draw(st.lists(st.lists(op, max_size=10), min_size=1, max_size=4))
    )
    recv = st.one_of(
        st.tuples(st.sampled_from(["range", "recv_ok"]), chan.map(lambda c: (c,))),
        st.tuples(st.sampled_from(["select", "poll"]), some_chans),
    )
    receivers = list(draw(st.lists(recv, max_size=4)))
    covered = {c for _, cs in receivers for c in cs}
    receivers += [("range", (c,)) for c in range(nchan) if c not in covered]
    close_order = tuple(draw(st.permutations(range(nchan))))
    sinks = tuple(
        draw(
            st.lists(
                st.integers(1, 3).flatmap(lambda cap: st.tuples(st.just(cap), st.integers(0, cap))),
                max_size=2,
            )
        )
    )
    stuck = draw(st.sampled_from([None, None, None, None, "unclosed", "overfull"]))
    return Program(caps, senders, tuple(receivers), close_order, sinks, stuck)


@dataclass
class Trace:
    sent: list[list[Value]]  # per data channel, in the order each send completed
    received: list[list[tuple[int, Value]]]  # per receiver: (channel, value) in order
    sink_sent: list[list[int]]
    sink_got: list[list[tuple[Any, bool]]]
    final: list[str]  # what main saw checking the closed channels


def execute(prog: Program, procs: int) -> Trace:
    nchan = len(prog.caps)
    tr = Trace(
        sent=[[] for _ in range(nchan)],
        received=[[] for _ in prog.receivers],
        sink_sent=[[] for _ in prog.sinks],
        sink_got=[[] for _ in prog.sinks],
        final=[],
    )

    def main() -> None:
        chans = [Chan[Value](cap) for cap in prog.caps]
        sinks = [Chan[int](cap) for cap, _ in prog.sinks]
        senders_done = WaitGroup()
        everyone = WaitGroup()

        def sender(sid: int, ops: tuple[tuple[Any, ...], ...]) -> None:
            seq = 0
            for op in ops:
                v = (sid, seq)
                if op[0] == "send":
                    chans[op[1]].send(v)
                    tr.sent[op[1]].append(v)
                elif op[0] == "select_send":
                    i, r = select(*[(chans[c].send, v) for c in op[1]])
                    assert r is None
                    tr.sent[op[1][i]].append(v)
                elif op[0] == "try_send":
                    i, _ = select((chans[op[1]].send, v), default)
                    if i == 0:
                        tr.sent[op[1]].append(v)
                else:
                    gosched.gosched()
                seq += 1
            senders_done.done()

        def receiver(rid: int, kind: str, cs: tuple[int, ...]) -> None:
            got = tr.received[rid]
            if kind == "range":
                for v in chans[cs[0]]:
                    got.append((cs[0], v))
            elif kind == "recv_ok":
                while True:
                    v, ok = chans[cs[0]].recv_ok()
                    if not ok:
                        assert v is None
                        break
                    got.append((cs[0], v))
            else:
                live = list(cs)
                while live:
                    cases: list[Any] = [chans[c].recv_ok for c in live]
                    i, r = select(*cases, default) if kind == "poll" else (-1, None)
                    if i in (-1, len(live)):  # no default, or default taken: block
                        i, r = select(*cases)
                    v, ok = r
                    if ok:
                        got.append((live[i], v))
                    else:
                        assert v is None
                        del live[i]
            everyone.done()

        def closer() -> None:
            senders_done.wait()
            for c in prog.close_order:
                if prog.stuck == "unclosed" and c == 0:
                    continue
                chans[c].close()
            everyone.done()

        def sink_writer(k: int, n: int) -> None:
            for i in range(n):
                sinks[k].send(i)
                tr.sink_sent[k].append(i)
            everyone.done()

        for rid, (kind, cs) in enumerate(prog.receivers):
            everyone.add(1)
            gosched.go(receiver, rid, kind, cs)
        for sid, ops in enumerate(prog.senders):
            senders_done.add(1)
            gosched.go(sender, sid, ops)
        everyone.add(1)
        gosched.go(closer)
        for k, (_, n) in enumerate(prog.sinks):
            everyone.add(1)
            gosched.go(sink_writer, k, n)
        if prog.stuck == "overfull":
            over = Chan[int](1)
            everyone.add(1)
            gosched.go(sink_writer_over, over, everyone)
        everyone.wait()

        # Every data channel is closed and drained now.
        for c in chans:
            tr.final.append(f"len {len(c)} recv_ok {c.recv_ok()} recv {c.recv()}")
            for op in (lambda: c.send((-1, -1)), c.close):
                try:
                    op()
                    tr.final.append("no panic")
                except RuntimePanic as e:
                    tr.final.append(str(e))
        # Sinks still hold what was sent; closing them keeps it receivable.
        for k, s in enumerate(sinks):
            tr.final.append(f"sink len {len(s)}")
            s.close()
            while True:
                v, ok = s.recv_ok()
                tr.sink_got[k].append((v, ok))
                if not ok:
                    break

    gosched.run(main, gomaxprocs=procs)
    return tr


def sink_writer_over(ch: Chan[int], wg: WaitGroup) -> None:
    """Sends one value more than ch holds, with nobody receiving: parks forever."""
    for i in range(ch.cap + 1):
        ch.send(i)
    wg.done()


def check(prog: Program, tr: Trace) -> None:
    """Compare a finished run with the sequential model."""
    nchan = len(prog.caps)
    recv_on: list[list[Value]] = [[] for _ in range(nchan)]
    for got in tr.received:
        for c, v in got:
            recv_on[c].append(v)
    for c in range(nchan):
        # Nothing lost, nothing duplicated (everything was drained before close ended the loops).
        assert Counter(recv_on[c]) == Counter(tr.sent[c]), f"channel {c}"
        # Only values that were offered on c arrive on c.
        for sid, seq in recv_on[c]:
            op = prog.senders[sid][seq]
            assert op[0] != "yield" and (op[1] == c or (op[0] == "select_send" and c in op[1]))
    # FIFO: each receiver sees each sender's values on each channel in send order.
    for got in tr.received:
        last: dict[tuple[int, int], int] = {}
        for c, (sid, seq) in got:
            assert seq > last.get((c, sid), -1), f"reordered on channel {c}: {got}"
            last[(c, sid)] = seq
    # Plain sends always complete; a select send completes on exactly one of its channels.
    for sid, ops in enumerate(prog.senders):
        for seq, op in enumerate(ops):
            n = sum(tr.sent[c].count((sid, seq)) for c in range(nchan))
            want = {"send": 1, "select_send": 1, "try_send": n, "yield": 0}[op[0]]
            assert n == want and n <= 1, (op, n)
    # After close and drain: the zero value with ok=False, and Go's panics.
    per_chan = [
        "len 0 recv_ok (None, False) recv None",
        "send on closed channel",
        "close of closed channel",
    ]
    assert tr.final[: 3 * nchan] == per_chan * nchan
    # Sinks: a sequential FIFO of what was sent, still delivered after close.
    assert tr.final[3 * nchan :] == [f"sink len {n}" for _, n in prog.sinks]
    for k, (_, n) in enumerate(prog.sinks):
        assert tr.sink_sent[k] == list(range(n))
        assert tr.sink_got[k] == [(i, True) for i in range(n)] + [(None, False)]


@pytest.mark.parametrize("procs", [1, 4])
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(prog=programs())
def test_channels_match_the_sequential_model(procs: int, prog: Program) -> None:
    if prog.stuck is None:
        check(prog, execute(prog, procs))
        return
    with pytest.raises(Deadlock) as ei:
        execute(prog, procs)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    hs = headers(ei.value.dump)
    assert hs.get(1) == "sync.WaitGroup.Wait", ei.value.dump
    allowed = {"chan receive", "chan send", "select", "sync.WaitGroup.Wait"}
    assert set(hs.values()) <= allowed, ei.value.dump
    if prog.stuck == "overfull":
        assert "chan send" in hs.values(), ei.value.dump
    else:  # the receivers of the channel never closed
        assert {"chan receive", "select"} & set(hs.values()), ei.value.dump
