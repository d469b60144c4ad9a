"""spawn: start N goroutines that each call wg.done(); main waits for all of them.

The cost of one short-lived goroutine from go() to its end: allocating (or reusing) the G,
queueing it, starting it on a stack, running a trivial body, and retiring it. Main spawns all
N first and then waits, so with one P and sysmon off the N goroutines exist at the same time
and none is recycled within the run (sysmon, on by default, preempts main after 10 ms; the
goroutines queued by then run, and their Gs are reused: see sysmon_spawn.py). Reported in
microseconds per goroutine. (A runtime may run one finished goroutine's successor on the same
stack without a switch; spawn counts that in. Switch cost proper is for a ping-pong benchmark
to show.)

Peers do the same job with their own primitive; every task body is one bound-method call that
decrements a shared counter (gosched's is ``wg.done``, the others' ``Countdown.done``):

- greenlet-new and greenlet-pool are raw greenlet with no scheduler at all, the floor any
  greenlet-based runtime sits on: a new greenlet per task, or a few long-lived workers reused.
- asyncio and uvloop: ``create_task`` per coroutine, then ``gather``.
- gevent: ``gevent.spawn`` per task, then ``gevent.joinall``.
- trio: ``nursery.start_soon`` per task; leaving the nursery waits for them.

Run it by hand with ``python benchmarks/spawn.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Countdown, Peer

UNIT = "goroutine"
DEFAULT_N = 100_000
# From the issue that asked for this benchmark: gosched at most 2.5 µs per goroutine and at
# most 0.3x the time asyncio takes for the same job.
TARGETS = {"max": 2.5, "vs": {"asyncio": 0.3}}

# Workers in the greenlet-pool peer: a handful, as a worker pool would have.
POOL_SIZE = 8


def bench_gosched(n: int) -> float:
    import gosched

    def main() -> float:
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go, done = gosched.go, wg.done
        t0 = time.perf_counter()
        for _ in range(n):
            go(done)
        wg.wait()
        return time.perf_counter() - t0

    elapsed: float = gosched.run(main)
    return elapsed


def bench_greenlet_new(n: int) -> float:
    from greenlet import greenlet

    cd = Countdown(n)
    done = cd.done
    t0 = time.perf_counter()
    for _ in range(n):
        greenlet(done).switch()
    elapsed = time.perf_counter() - t0
    cd.check()
    return elapsed


def bench_greenlet_pool(n: int) -> float:
    from greenlet import GreenletExit, getcurrent, greenlet

    hub = getcurrent()

    def worker(task: Callable[[], None]) -> None:
        # Each switch in brings the next task; each switch back to the hub says it is done.
        while True:
            task()
            task = hub.switch()

    workers = [greenlet(worker) for _ in range(POOL_SIZE)]
    cd = Countdown(n)
    done = cd.done
    t0 = time.perf_counter()
    for i in range(n):
        workers[i % POOL_SIZE].switch(done)
    elapsed = time.perf_counter() - t0
    cd.check()
    for w in workers:
        w.throw(GreenletExit)
    return elapsed


def _spawn_gather(n: int, new_event_loop: Callable[[], Any]) -> float:
    """The asyncio job, on the event loop new_event_loop() makes (stock or uvloop)."""
    import asyncio

    cd = Countdown(n)
    done = cd.done

    async def task() -> None:
        done()

    async def main() -> float:
        create_task = asyncio.create_task
        t0 = time.perf_counter()
        tasks = [create_task(task()) for _ in range(n)]
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0

    elapsed: float = _harness.run_loop(new_event_loop, main)
    cd.check()
    return elapsed


def bench_asyncio(n: int) -> float:
    import asyncio

    return _spawn_gather(n, asyncio.new_event_loop)


def bench_uvloop(n: int) -> float:
    import uvloop

    return _spawn_gather(n, uvloop.new_event_loop)


def bench_gevent(n: int) -> float:
    import gevent

    gevent.get_hub()  # the hub is made once per thread: setup, not per-task cost
    cd = Countdown(n)
    done, spawn = cd.done, gevent.spawn
    t0 = time.perf_counter()
    glets = [spawn(done) for _ in range(n)]
    gevent.joinall(glets)
    elapsed = time.perf_counter() - t0
    cd.check()
    return elapsed


def bench_trio(n: int) -> float:
    import trio

    cd = Countdown(n)
    done = cd.done

    async def task() -> None:
        done()

    async def main() -> float:
        t0 = time.perf_counter()
        async with trio.open_nursery() as nursery:
            start_soon = nursery.start_soon
            for _ in range(n):
                start_soon(task)
        return time.perf_counter() - t0

    elapsed: float = trio.run(main)
    cd.check()
    return elapsed


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer("gosched", bench_gosched, "gosched.go(wg.done) x N, then wg.wait()", ("gosched",)),
    Peer(
        "greenlet-new",
        bench_greenlet_new,
        "greenlet(task).switch() x N: a new greenlet per task, no scheduler",
        ("greenlet",),
    ),
    Peer(
        "greenlet-pool",
        bench_greenlet_pool,
        f"{POOL_SIZE} looping worker greenlets, one switch in and out per task: the floor",
        ("greenlet",),
    ),
    Peer("asyncio", bench_asyncio, "create_task x N + gather, stock event loop"),
    Peer("uvloop", bench_uvloop, "create_task x N + gather on uvloop's event loop", ("uvloop",)),
    Peer("gevent", bench_gevent, "gevent.spawn x N + gevent.joinall", ("gevent",)),
    Peer("trio", bench_trio, "nursery.start_soon x N, nursery exit waits", ("trio",)),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
