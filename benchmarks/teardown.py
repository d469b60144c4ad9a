"""teardown: N tasks parked forever, then the program ends; the time to end them all.

What a program pays at its end for the tasks still blocked: N = 100,000 tasks each wait on
something nobody will ever complete, inside ``try``/``finally``; then main is done, and the
framework has to end every one of them (run its ``finally`` block) before it returns.
Reported in microseconds per task. The clock starts when main is done (every task parked,
nothing else left to do) and stops when the framework has returned: unlike the other
benchmarks, the framework's own ending is the job here, so it is inside the timed region.

Every peer proves it did the work: each task's ``finally`` block marks a shared counter
(``Ended.done``, a bound-method call, as in ``spawn``), which must count exactly N once the
framework has returned. The wait never completes, so only the framework ending the task runs
that block. (The counter appends to a list, which is safe when the blocks run on several
threads at once, as with ``gosched-p4``; ``n += 1`` is not.)

- gosched: main starts N goroutines, each blocked in ``ch.recv()`` on one unbuffered channel
  nobody sends on; main waits until all have got there and returns; ``gosched.run`` kills every
  goroutine (its ``finally`` runs) and returns. The clock runs from main's return to
  ``gosched.run``'s.
- gosched-p4: the same with ``gosched.run(main, gomaxprocs=4)``: the goroutines are spread
  over 4 threads, each of which ends its own.
- greenlet: N raw greenlets, each switched into once and parked in ``hub.switch()``; the
  program kills them one by one with ``g.throw(GreenletExit)``. No scheduler: the floor.
- asyncio: N tasks each awaiting a future that never completes; the main coroutine returns;
  the runner (as ``asyncio.run`` does) cancels every remaining task and runs it to its end,
  then closes the loop. The clock runs from main's return to the runner's.
- uvloop: the same on uvloop's event loop.
- gevent: N greenlets blocked in ``Event.wait()`` on one event nobody sets;
  ``gevent.killall(greenlets)`` (which blocks until all have died).
- trio: N tasks in a nursery, each in ``trio.sleep_forever()``; the body cancels the
  nursery's cancel scope; the clock runs from there to ``trio.run``'s return.

Run it by hand with ``python benchmarks/teardown.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "task"
DEFAULT_N = 100_000
# From the issue that asked for this benchmark: "100,000 parked goroutines end in under 1 s",
# i.e. gosched at most 10 µs per goroutine.
TARGETS = {"max": 10.0}

# GOMAXPROCS of the gosched-p4 peer.
P4 = 4


class Ended:
    """How many tasks got to their wait, and the tasks whose finally block ran.

    ``done`` appends to a list rather than counting with ``n += 1``: list.append is atomic,
    so it stays exact when finally blocks run on several threads at once (gosched-p4)."""

    __slots__ = ("parked", "marks")

    def __init__(self) -> None:
        self.parked = 0
        self.marks: list[None] = []

    def done(self) -> None:
        self.marks.append(None)

    def verify(self, n: int) -> None:
        """Raise unless all n tasks parked and all n were ended (their finally ran)."""
        check("tasks parked", self.parked, n)
        check("finally blocks run", len(self.marks), n)


def _teardown_gosched(n: int, gomaxprocs: int | None) -> float:
    import gosched

    ended = Ended()
    done = ended.done
    t0 = 0.0

    def task(ch: gosched.Chan[None], wg: gosched.sync.WaitGroup) -> None:
        try:
            wg.done()
            ch.recv()  # nobody sends: only the end of the program ends this
        finally:
            done()

    def main() -> None:
        nonlocal t0
        ch: gosched.Chan[None] = gosched.Chan()
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go = gosched.go
        for _ in range(n):
            go(task, ch, wg)
        wg.wait()  # every task is past wg.done(), at or right before its recv
        gosched.gosched()  # the last ones into their recv
        gosched.gosched()
        if gosched.gomaxprocs() > 1:
            gosched.sleep(0.01)  # and those on the other threads too
        ended.parked = n  # wg.wait() has checked that every task got there
        check("finally blocks run before the end", len(ended.marks), 0)
        t0 = time.perf_counter()

    gosched.run(main, gomaxprocs=gomaxprocs)
    elapsed = time.perf_counter() - t0
    ended.verify(n)
    return elapsed


def bench_gosched(n: int) -> float:
    return _teardown_gosched(n, None)  # GOMAXPROCS from the environment, as in the others


def bench_gosched_p4(n: int) -> float:
    return _teardown_gosched(n, P4)


def bench_greenlet(n: int) -> float:
    from greenlet import GreenletExit, getcurrent, greenlet

    hub = getcurrent()
    ended = Ended()
    done = ended.done

    def task() -> None:
        try:
            ended.parked += 1
            hub.switch()  # nobody switches back: only the throw below ends this
        finally:
            done()

    glets = [greenlet(task) for _ in range(n)]
    for g in glets:
        g.switch()
    t0 = time.perf_counter()
    for g in glets:
        g.throw(GreenletExit)
    elapsed = time.perf_counter() - t0
    ended.verify(n)
    check("greenlets dead", sum(g.dead for g in glets), n)
    return elapsed


def _teardown_loop(n: int, new_event_loop: Callable[[], Any]) -> float:
    """The asyncio job, on the event loop new_event_loop() makes (stock or uvloop)."""
    import asyncio

    ended = Ended()
    done = ended.done
    t0 = 0.0

    async def task(fut: asyncio.Future[None]) -> None:
        try:
            ended.parked += 1
            await fut  # never completed: only the runner's cancel ends this
        finally:
            done()

    async def main() -> None:
        nonlocal t0
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        create_task = asyncio.create_task
        for _ in range(n):
            create_task(task(fut))
        while ended.parked < n:  # let every task run up to its await
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        check("finally blocks run before the end", len(ended.marks), 0)
        t0 = time.perf_counter()

    _harness.run_loop(new_event_loop, main)  # cancels what is left, as asyncio.run does
    elapsed = time.perf_counter() - t0
    ended.verify(n)
    return elapsed


def bench_asyncio(n: int) -> float:
    import asyncio

    return _teardown_loop(n, asyncio.new_event_loop)


def bench_uvloop(n: int) -> float:
    import uvloop

    return _teardown_loop(n, uvloop.new_event_loop)


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.event import Event

    gevent.get_hub()
    ended = Ended()
    done = ended.done
    never = Event()  # nobody sets it

    def task() -> None:
        try:
            ended.parked += 1
            never.wait()
        finally:
            done()

    spawn = gevent.spawn
    glets = [spawn(task) for _ in range(n)]
    while ended.parked < n:  # let every greenlet run up to its wait
        gevent.sleep(0)
    gevent.sleep(0)
    check("finally blocks run before the end", len(ended.marks), 0)
    t0 = time.perf_counter()
    gevent.killall(glets)  # block=True: returns when all have died
    elapsed = time.perf_counter() - t0
    ended.verify(n)
    check("greenlets dead", sum(g.dead for g in glets), n)
    return elapsed


def bench_trio(n: int) -> float:
    import trio

    ended = Ended()
    done = ended.done
    t0 = 0.0

    async def task() -> None:
        try:
            ended.parked += 1
            await trio.sleep_forever()
        finally:
            done()

    async def main() -> None:
        nonlocal t0
        async with trio.open_nursery() as nursery:
            start_soon = nursery.start_soon
            for _ in range(n):
                start_soon(task)
            while ended.parked < n:  # let every task run up to its sleep
                await trio.sleep(0)
            await trio.sleep(0)
            check("finally blocks run before the end", len(ended.marks), 0)
            t0 = time.perf_counter()
            nursery.cancel_scope.cancel()

    trio.run(main)
    elapsed = time.perf_counter() - t0
    ended.verify(n)
    return elapsed


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "N goroutines in ch.recv(), main returns, gosched.run kills them",
        ("gosched",),
    ),
    Peer(
        "gosched-p4",
        bench_gosched_p4,
        f"the same with gomaxprocs={P4}: goroutines spread over {P4} threads",
        ("gosched",),
    ),
    Peer(
        "greenlet",
        bench_greenlet,
        "N raw greenlets parked in hub.switch(), g.throw(GreenletExit) each: the floor",
        ("greenlet",),
    ),
    Peer(
        "asyncio",
        bench_asyncio,
        "N tasks awaiting a future, main returns, the runner cancels them",
    ),
    Peer("uvloop", bench_uvloop, "the same on uvloop's event loop", ("uvloop",)),
    Peer("gevent", bench_gevent, "N greenlets in Event.wait(), gevent.killall", ("gevent",)),
    Peer(
        "trio",
        bench_trio,
        "N tasks in trio.sleep_forever(), cancel the nursery's scope",
        ("trio",),
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
