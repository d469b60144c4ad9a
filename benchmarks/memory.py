"""memory: resident memory per parked goroutine, N goroutines each blocked on its own channel.

How much a goroutine that exists but waits costs in memory: N = 100,000 goroutines each block
in ``ch.recv()`` on a channel of its own. Reported in KiB (1,024 bytes) of resident set (RSS,
``/proc/self/statm``) per parked goroutine.

Method, the same for every peer, each in a fresh process:

1. make the N things the tasks will wait on (gosched: N unbuffered channels; asyncio: N
   futures; gevent and trio: N events; raw greenlet: nothing) and a list for the tasks;
2. ``gc.collect()``, read RSS (the baseline: the interpreter, the peer's library, its loop or
   runtime, and the N channels are in it);
3. start the N tasks and let each run until it blocks; a shared counter checks all N got there;
4. ``gc.collect()``, read RSS again; the difference over N is the figure;
5. then (not measured) wake every task with its index, and check that each woke exactly once
   (the sum of the indexes), so that a peer whose tasks never parked fails.

What is counted is everything a parked task holds beyond its channel: for gosched the G, its
greenlet and the slice of C stack greenlet saved for it, the Python frames it is blocked in
(its function, ``recv`` and the runtime below it), the sudog that queues it on the channel, and
whatever the runtime keeps per G. For asyncio, the Task, its coroutine frame and the callback
on its future. Memory that the allocator takes from the OS in pages is counted when touched, so
the figure is an average over N that includes allocator overhead, as a program would see it.

- greenlet: a raw greenlet that switched back to main after starting (``main.switch()`` in its
  body), kept alive in the list: the floor for a greenlet-based runtime.
- asyncio: ``create_task`` of a coroutine awaiting its own future (uvloop would not change the
  tasks' memory, so it is not a peer here).
- gevent: ``gevent.spawn`` of a function waiting on its own ``gevent.event.Event``.
- trio: ``nursery.start_soon`` of a task waiting on its own ``trio.Event``.

Run it by hand with ``python benchmarks/memory.py run PEER N`` (see _harness.py); it prints
the RSS growth in bytes.
"""

from __future__ import annotations

import gc

import _harness
from _harness import Peer, check, rss_bytes

UNIT = "goroutine"
DEFAULT_N = 100_000
# From the issue that asked for this benchmark: gosched's RSS per parked goroutine at most 1.3x
# a raw parked greenlet's.
TARGETS = {"vs": {"greenlet": 1.3}}
# The RSS growth comes out the same to the byte in every round (one allocation pattern, no
# timing in it): three rounds show that, more would only repeat it.
MAX_ROUNDS = 3


class Tally:
    """How many tasks reached their wait, and the sum of the indexes they woke with."""

    __slots__ = ("parked", "woken", "total")

    def __init__(self) -> None:
        self.parked = 0
        self.woken = 0
        self.total = 0

    def verify(self, n: int) -> None:
        check("tasks woken", self.woken, n)
        check("sum of the indexes received", self.total, n * (n - 1) // 2)


def _rss() -> int:
    gc.collect()
    return rss_bytes()


def bench_gosched(n: int) -> float:
    import gosched

    tally = Tally()

    def waiter(ch: gosched.Chan[int], wg: gosched.sync.WaitGroup) -> None:
        tally.parked += 1
        v = ch.recv()
        tally.woken += 1
        tally.total += v  # type: ignore[operator]
        wg.done()

    def main() -> int:
        chans: list[gosched.Chan[int]] = [gosched.Chan() for _ in range(n)]
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go = gosched.go
        before = _rss()
        for ch in chans:
            go(waiter, ch, wg)
        while tally.parked < n:  # let them all run up to their recv
            gosched.gosched()
        gosched.gosched()  # and the last one into it
        grown = _rss() - before
        check("goroutines parked", tally.parked, n)
        for i, ch in enumerate(chans):
            ch.send(i)
        wg.wait()
        tally.verify(n)
        return grown

    grown: int = gosched.run(main)
    return grown


def bench_greenlet(n: int) -> float:
    from greenlet import getcurrent, greenlet

    main = getcurrent()
    tally = Tally()

    def waiter() -> None:
        tally.parked += 1
        v = main.switch()
        tally.woken += 1
        tally.total += v

    glets: list[greenlet | None] = [None] * n
    before = _rss()
    for i in range(n):
        g = greenlet(waiter)
        g.switch()
        glets[i] = g
    grown = _rss() - before
    check("greenlets parked", tally.parked, n)
    for i, parked in enumerate(glets):
        parked.switch(i)  # type: ignore[union-attr]
    tally.verify(n)
    return grown


def bench_asyncio(n: int) -> float:
    import asyncio

    tally = Tally()

    async def waiter(fut: asyncio.Future[int]) -> None:
        tally.parked += 1
        v = await fut
        tally.woken += 1
        tally.total += v

    async def main() -> int:
        create_future = asyncio.get_running_loop().create_future
        futs: list[asyncio.Future[int]] = [create_future() for _ in range(n)]
        tasks: list[asyncio.Task[None] | None] = [None] * n
        create_task = asyncio.create_task
        before = _rss()
        for i, fut in enumerate(futs):
            tasks[i] = create_task(waiter(fut))
        while tally.parked < n:
            await asyncio.sleep(0)
        grown = _rss() - before
        for i, fut in enumerate(futs):
            fut.set_result(i)
        await asyncio.gather(*tasks)  # type: ignore[arg-type]
        tally.verify(n)
        return grown

    return asyncio.run(main())


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.event import Event

    gevent.get_hub()
    tally = Tally()

    def waiter(ev: Event, i: int) -> None:
        tally.parked += 1
        ev.wait()
        tally.woken += 1
        tally.total += i

    events = [Event() for _ in range(n)]
    glets: list[gevent.Greenlet | None] = [None] * n
    spawn = gevent.spawn
    before = _rss()
    for i, ev in enumerate(events):
        glets[i] = spawn(waiter, ev, i)
    while tally.parked < n:
        gevent.sleep(0)
    grown = _rss() - before
    for ev in events:
        ev.set()
    gevent.joinall(glets, raise_error=True)
    tally.verify(n)
    return grown


def bench_trio(n: int) -> float:
    import trio

    tally = Tally()

    async def waiter(ev: trio.Event, i: int) -> None:
        tally.parked += 1
        await ev.wait()
        tally.woken += 1
        tally.total += i

    async def main() -> int:
        events = [trio.Event() for _ in range(n)]
        async with trio.open_nursery() as nursery:
            start_soon = nursery.start_soon
            before = _rss()
            for i, ev in enumerate(events):
                start_soon(waiter, ev, i)
            while tally.parked < n:
                await trio.sleep(0)
            await trio.sleep(0)  # the last ones into their wait
            grown = _rss() - before
            for ev in events:
                ev.set()
        tally.verify(n)
        return grown

    grown: int = trio.run(main)
    return grown


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched", bench_gosched, "go(waiter) x N, each blocked in its own ch.recv()", ("gosched",)
    ),
    Peer(
        "greenlet",
        bench_greenlet,
        "raw greenlets that switched back to main after starting: the floor",
        ("greenlet",),
    ),
    Peer("asyncio", bench_asyncio, "create_task x N, each awaiting its own future"),
    Peer("gevent", bench_gevent, "gevent.spawn x N, each waiting on its own Event", ("gevent",)),
    Peer("trio", bench_trio, "nursery.start_soon x N, each awaiting its own trio.Event", ("trio",)),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(
            __doc__,
            unit=UNIT,
            default_n=DEFAULT_N,
            peers=PEERS,
            targets=TARGETS,
            metric="bytes",
            max_rounds=MAX_ROUNDS,
        )
    )
