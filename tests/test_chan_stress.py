"""Stress: 64 producers x 64 consumers over unbuffered and buffered channels and select, under
GOMAXPROCS=4. Bounded for CI (100,000 values per test); GOSCHED_STRESS=N multiplies that, up
to exactly 1,000,000 values from GOSCHED_STRESS=10 on.

Whatever the interleaving: the multiset received equals the multiset sent (every value exactly
once), each consumer sees each producer's values in the order they were sent, and close wakes
every parked goroutine (receivers get (None, False), senders panic).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

import gosched
from gosched import Chan, RuntimePanic, select
from gosched.sync import WaitGroup

from .conftest import STRESS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120 + 30 * STRESS)]

PRODUCERS = 64
CONSUMERS = 64
TOTAL = 100_000 * max(1, min(STRESS, 10))  # 1,000,000 at GOSCHED_STRESS >= 10


def values_of(p: int) -> range:
    """Producer p sends p, p + PRODUCERS, p + 2*PRODUCERS, ... (below TOTAL), in that order."""
    return range(p, TOTAL, PRODUCERS)


def check(received: Iterable[list[int]], nchan: int = 1) -> None:
    """received: per consumer, what it got in order, each value v from channel c as v*8 + c.
    A channel is FIFO, so a consumer sees each producer's values on each channel in order (not
    across channels: a value can wait in one channel's buffer while a later one goes through
    another)."""
    seen = bytearray(TOTAL)
    n = 0
    for got in received:
        last = [-1] * (PRODUCERS * nchan)
        for x in got:
            v, c = x >> 3, x & 7
            assert 0 <= v < TOTAL and c < nchan, (v, c)
            assert not seen[v], f"value {v} received twice"
            seen[v] = 1
            k = (v % PRODUCERS) * nchan + c
            assert v > last[k], f"producer {v % PRODUCERS} reordered on {c}: {last[k]}, {v}"
            last[k] = v
        n += len(got)
    assert n == TOTAL, f"{TOTAL - n} values lost"


@pytest.mark.parametrize("cap", [0, 1, 64], ids=["unbuffered", "cap1", "cap64"])
def test_producers_consumers_one_channel(cap: int) -> None:
    def main() -> list[list[int]]:
        ch = Chan[int](cap)
        producers, consumers = WaitGroup(), WaitGroup()
        received: list[list[int]] = []

        def producer(p: int) -> None:
            send = ch.send
            for v in values_of(p):
                send(v)
            producers.done()

        def consumer() -> None:
            got: list[int] = []
            for v in ch:
                got.append(v << 3)
            received.append(got)
            consumers.done()

        for _ in range(CONSUMERS):
            consumers.add(1)
            gosched.go(consumer)
        for p in range(PRODUCERS):
            producers.add(1)
            gosched.go(producer, p)
        producers.wait()
        ch.close()
        consumers.wait()
        assert ch.recv_ok() == (None, False)
        return received

    received = gosched.run(main, gomaxprocs=4)
    assert len(received) == CONSUMERS
    check(received)


def test_producers_consumers_select() -> None:
    """Producers select a send over four channels (two unbuffered, two buffered); consumers
    select a receive over all four until every one is closed."""

    def main() -> list[list[int]]:
        chans = [Chan[int](0), Chan[int](1), Chan[int](0), Chan[int](16)]
        producers, consumers = WaitGroup(), WaitGroup()
        received: list[list[int]] = []

        def producer(p: int) -> None:
            for v in values_of(p):
                select(*[(c.send, v) for c in chans])
            producers.done()

        def consumer() -> None:
            got: list[int] = []
            live = list(range(len(chans)))
            while live:
                cases: list[Any] = [chans[c].recv_ok for c in live]
                i, (v, ok) = select(*cases)
                if ok:
                    got.append(v << 3 | live[i])
                else:
                    del live[i]
            received.append(got)
            consumers.done()

        for _ in range(CONSUMERS):
            consumers.add(1)
            gosched.go(consumer)
        for p in range(PRODUCERS):
            producers.add(1)
            gosched.go(producer, p)
        producers.wait()
        for c in chans:
            c.close()
        consumers.wait()
        return received

    received = gosched.run(main, gomaxprocs=4)
    assert len(received) == CONSUMERS
    check(received, nchan=4)


@pytest.mark.parametrize("procs", [2, 4])
def test_producers_consumers_mixed(procs: int) -> None:
    """Half the producers send plainly on a buffered channel, half select over it and an
    unbuffered one; consumers range over one channel or select over both."""

    def main() -> list[list[int]]:
        a, b = Chan[int](8), Chan[int]()
        producers, consumers = WaitGroup(), WaitGroup()
        received: list[list[int]] = []

        def producer(p: int) -> None:
            if p % 2:
                for v in values_of(p):
                    a.send(v)
            else:
                for v in values_of(p):
                    select((a.send, v), (b.send, v))
            producers.done()

        def consumer(k: int) -> None:
            got: list[int] = []
            if k % 3 == 0:
                got.extend(v << 3 for v in a)
            elif k % 3 == 1:
                got.extend(v << 3 | 1 for v in b)
            else:
                live = [0, 1]
                while live:
                    cases: list[Any] = [(a, b)[c].recv_ok for c in live]
                    i, (v, ok) = select(*cases)
                    if ok:
                        got.append(v << 3 | live[i])
                    else:
                        del live[i]
            received.append(got)
            consumers.done()

        for k in range(CONSUMERS):
            consumers.add(1)
            gosched.go(consumer, k)
        for p in range(PRODUCERS):
            producers.add(1)
            gosched.go(producer, p)
        producers.wait()
        a.close()
        b.close()
        consumers.wait()
        return received

    check(gosched.run(main, gomaxprocs=procs), nchan=2)


def test_close_wakes_everyone_repeatedly() -> None:
    """Rounds of parked receivers (plain and in select) and parked senders on one channel each,
    then close; under 4 Ps the wakers race the parkers."""
    rounds = 300 * STRESS

    def main() -> None:
        for _ in range(rounds):
            rch, sch = Chan[int](), Chan[int]()
            wg = WaitGroup()
            results: list[object] = []

            def receiver(k: int) -> None:
                if k % 2:
                    results.append(rch.recv_ok())
                else:
                    results.append(select(rch.recv_ok, Chan[int]().recv)[1])
                wg.done()

            def sender(k: int) -> None:
                try:
                    if k % 2:
                        sch.send(k)
                    else:
                        select((sch.send, k), Chan[int]().recv)
                    results.append("sent")
                except RuntimePanic as e:
                    results.append(str(e))
                wg.done()

            for k in range(8):
                wg.add(2)
                gosched.go(receiver, k)
                gosched.go(sender, k)
            gosched.gosched()  # some park before close, some after: both must work
            rch.close()
            sch.close()
            wg.wait()
            assert sorted(map(str, results)) == sorted(
                ["(None, False)"] * 8 + ["send on closed channel"] * 8
            )

    gosched.run(main, gomaxprocs=4)
