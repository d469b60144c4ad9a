"""sieve: Go's concurrent prime sieve (the daisy chain of filter goroutines), first N primes.

Go's classic example, the same job for every peer. A generator goroutine sends 2, 3, 4, ... on
an unbuffered channel. Main receives the first value, a prime p, and puts a filter goroutine
for p between the chain's end and itself: the filter receives from the old end and forwards
only the numbers p does not divide, on a new channel that becomes the end. Repeated N times,
there are N filters in a row at the end; every number passes the filters of the primes
smaller than its least prime factor. Reported in seconds for the whole run (N = 1,000 primes,
as in the issue: 1,001 goroutines in a row at the end). With N = 1,000 that is 517,383 sends.

One change from Go's program makes the work exactly the same for every peer: Go's generator
never stops, so how far the numbers after the 1,000th prime get before main returns depends on
scheduling. Here the generator stops after the N-th prime (7,919 for N = 1,000; computed up
front, outside the clock) and closes its channel; each filter, when its input is closed,
closes its output and ends; main, after its N-th prime, receives the close at the end of the
chain. So the clock stops when every goroutine has ended, and every run makes the same sends.

Every peer proves it did the work: the primes must be the first N primes, and the sends
(counted by each generator and filter and added up when it ends) must be exactly the number
the chain needs (517,383 for N = 1,000).

- asyncio / uvloop: ``asyncio.Queue(maxsize=1)`` per link (asyncio has no unbuffered queue:
  maxsize=0 means unbounded; a one-slot queue is the closest), ``None`` marks the end.
- gevent: ``gevent.queue.Channel`` per link (unbuffered), ``None`` marks the end.
- trio: a memory channel with ``max_buffer_size=0`` per link, closed at the end (``async
  with``), as gosched's are.

Run it by hand with ``python benchmarks/sieve.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "prime"
DEFAULT_N = 1_000
# From the issue that asked for this benchmark: gosched at most 0.8 s for 1,000 primes and at
# most 0.5x the time of asyncio on uvloop.
TARGETS = {"max": 0.8, "vs": {"uvloop": 0.5}}

# Go's version makes this many sends for the first 1,000 primes.
GO_SENDS_1000 = 517_383


def expected(n: int) -> tuple[list[int], int]:
    """The first n primes, and the sends the daisy chain makes to find them.

    Every number x from 2 to the n-th prime is sent by the generator and then by the filter of
    every prime below x's least prime factor, so it costs k sends if that factor is the k-th
    prime (a prime x reaches main after the filters of all smaller primes).
    """
    limit = 16
    while True:  # a plain sieve of Eratosthenes with least prime factors, grown until big enough
        lpf = [0] * (limit + 1)
        primes: list[int] = []
        for x in range(2, limit + 1):
            if lpf[x] == 0:
                primes.append(x)
                for m in range(x, limit + 1, x):
                    if lpf[m] == 0:
                        lpf[m] = x
        if len(primes) >= n:
            break
        limit *= 2
    primes = primes[:n]
    index = {p: k for k, p in enumerate(primes, 1)}
    sends = sum(index[lpf[x]] for x in range(2, primes[-1] + 1))
    if n == 1_000 and sends != GO_SENDS_1000:
        raise AssertionError(f"{sends} sends for 1,000 primes; Go's sieve makes {GO_SENDS_1000}")
    return primes, sends


class Tally:
    """Sends counted by the goroutines, each adding its own count once, when it ends."""

    __slots__ = ("sends",)

    def __init__(self) -> None:
        self.sends = 0


def _verify(n: int, primes: list[int], tally: Tally, want: tuple[list[int], int]) -> None:
    check("primes", primes, want[0])
    check("sends", tally.sends, want[1])


def bench_gosched(n: int) -> float:
    import gosched

    want = expected(n)
    last = want[0][-1]
    tally = Tally()

    def generate(ch: gosched.Chan[int]) -> None:
        send = ch.send
        for i in range(2, last + 1):
            send(i)
        tally.sends += last - 1
        ch.close()

    def filter_(src: gosched.Chan[int], dst: gosched.Chan[int], prime: int) -> None:
        send = dst.send
        sends = 0
        for i in src:
            if i % prime:
                send(i)
                sends += 1
        tally.sends += sends
        dst.close()

    def main() -> float:
        go, Chan = gosched.go, gosched.Chan
        primes = []
        t0 = time.perf_counter()
        ch: gosched.Chan[int] = Chan()
        go(generate, ch)
        for _ in range(n):
            prime: Any = ch.recv()
            primes.append(prime)
            ch1: gosched.Chan[int] = Chan()
            go(filter_, ch, ch1, prime)
            ch = ch1
        check("end of the chain", ch.recv_ok(), (None, False))
        elapsed = time.perf_counter() - t0
        _verify(n, primes, tally, want)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def _asyncio(n: int, new_event_loop: Callable[[], Any]) -> float:
    import asyncio

    want = expected(n)
    last = want[0][-1]
    tally = Tally()

    async def generate(q: asyncio.Queue[int | None]) -> None:
        put = q.put
        for i in range(2, last + 1):
            await put(i)
        tally.sends += last - 1
        await put(None)

    async def filter_(
        src: asyncio.Queue[int | None], dst: asyncio.Queue[int | None], prime: int
    ) -> None:
        get, put = src.get, dst.put
        sends = 0
        while (i := await get()) is not None:
            if i % prime:
                await put(i)
                sends += 1
        tally.sends += sends
        await put(None)

    async def main() -> float:
        create_task, Queue = asyncio.create_task, asyncio.Queue
        tasks = []
        primes = []
        t0 = time.perf_counter()
        q: asyncio.Queue[int | None] = Queue(maxsize=1)
        tasks.append(create_task(generate(q)))
        for _ in range(n):
            prime: Any = await q.get()
            primes.append(prime)
            q1: asyncio.Queue[int | None] = Queue(maxsize=1)
            tasks.append(create_task(filter_(q, q1, prime)))
            q = q1
        check("end of the chain", await q.get(), None)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        _verify(n, primes, tally, want)
        return elapsed

    elapsed: float = _harness.run_loop(new_event_loop, main)
    return elapsed


def bench_asyncio(n: int) -> float:
    import asyncio

    return _asyncio(n, asyncio.new_event_loop)


def bench_uvloop(n: int) -> float:
    import uvloop

    return _asyncio(n, uvloop.new_event_loop)


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.queue import Channel

    gevent.get_hub()
    want = expected(n)
    last = want[0][-1]
    tally = Tally()

    def generate(ch: Channel) -> None:
        put = ch.put
        for i in range(2, last + 1):
            put(i)
        tally.sends += last - 1
        put(None)

    def filter_(src: Channel, dst: Channel, prime: int) -> None:
        get, put = src.get, dst.put
        sends = 0
        while (i := get()) is not None:
            if i % prime:
                put(i)
                sends += 1
        tally.sends += sends
        put(None)

    spawn = gevent.spawn
    glets = []
    primes = []
    t0 = time.perf_counter()
    ch = Channel()
    glets.append(spawn(generate, ch))
    for _ in range(n):
        prime = ch.get()
        primes.append(prime)
        ch1 = Channel()
        glets.append(spawn(filter_, ch, ch1, prime))
        ch = ch1
    check("end of the chain", ch.get(), None)
    gevent.joinall(glets, raise_error=True)
    elapsed = time.perf_counter() - t0
    _verify(n, primes, tally, want)
    return elapsed


def bench_trio(n: int) -> float:
    import trio

    want = expected(n)
    last = want[0][-1]
    tally = Tally()

    async def generate(dst: trio.MemorySendChannel[int]) -> None:
        async with dst:
            send = dst.send
            for i in range(2, last + 1):
                await send(i)
        tally.sends += last - 1

    async def filter_(
        src: trio.MemoryReceiveChannel[int], dst: trio.MemorySendChannel[int], prime: int
    ) -> None:
        sends = 0
        async with src, dst:
            send = dst.send
            async for i in src:
                if i % prime:
                    await send(i)
                    sends += 1
        tally.sends += sends

    async def main() -> float:
        open_channel = trio.open_memory_channel
        primes = []
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            start_soon = nursery.start_soon
            tx, rx = open_channel(0)
            start_soon(generate, tx)
            for _ in range(n):
                prime = await rx.receive()
                primes.append(prime)
                tx1, rx1 = open_channel(0)
                start_soon(filter_, rx, tx1, prime)
                rx = rx1
            async with rx:
                rest = [i async for i in rx]
            check("end of the chain", rest, [])
        elapsed = time.perf_counter() - t0  # the nursery has waited for every task to end
        _verify(n, primes, tally, want)
        return elapsed

    elapsed: float = trio.run(main)
    return elapsed


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "generator + a filter goroutine per prime, unbuffered Chan, close at the end",
        ("gosched",),
    ),
    Peer("asyncio", bench_asyncio, "a task per filter, asyncio.Queue(maxsize=1), stock loop"),
    Peer("uvloop", bench_uvloop, "the same on uvloop's event loop", ("uvloop",)),
    Peer("gevent", bench_gevent, "a greenlet per filter, gevent.queue.Channel", ("gevent",)),
    Peer("trio", bench_trio, "a task per filter, memory channels with buffer 0", ("trio",)),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(
            __doc__,
            unit=UNIT,
            default_n=DEFAULT_N,
            peers=PEERS,
            targets=TARGETS,
            per_op=False,
        )
    )
