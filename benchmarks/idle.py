"""idle: CPU seconds a program burns while N = 1,000 tasks are parked and main sleeps 2 s.

What an idle program costs the machine: N = 1,000 tasks each wait for a value on a channel (or
future, queue, ...) of its own, and main sleeps 2 s with its framework's own sleep; nothing is
runnable. Measured is the process's CPU time (``time.process_time()``: user + system time of
every thread of the process, the runtime's and the framework's included) over those 2 s; the
table shows it in CPU seconds per run (so 0.02 is 1% of one core). An idle runtime should sleep
in the kernel until its next timer; one that polls, spins or wakes up on a short period burns
CPU here. The figure does not grow with N for any peer here: parked tasks cost memory
(benchmarks/memory.py), not CPU.

Each peer, in its fresh process: makes the N mailboxes, starts the N tasks and waits until all
have got to their wait, sleeps 50 ms more so that every task is parked and the start-up is
over (outside the measurement), then takes ``c0 = time.process_time()``, sleeps 2 s, and
returns ``time.process_time() - c0``. Afterwards, outside the measurement, main sends each task
its index and waits for all of them to end.

Every peer proves it did the work: all N tasks must have reached their wait before the
measurement, and afterwards each must have received its own index once (every index 0..N-1,
each exactly once) and ended. The gosched peers also check, with ``gosched.debug.snapshot()``,
that sysmon's M is there or not, as the peer's name says.

- gosched: N goroutines each in ``ch.recv()`` on an unbuffered ``gosched.Chan`` of its own;
  main in ``gosched.sleep(2)``. ``gosched.run(main)`` with the default GOMAXPROCS (the CPU
  count, or the ``GOMAXPROCS`` environment variable): the runtime's threads are m0, the Ms
  started for the other Ps, and sysmon's, which sleeps deeply while every P is idle.
- gosched-sysmonoff: the same with ``GODEBUG=sysmonoff=1`` (no sysmon thread; set by the peer
  function itself, since ``gosched bench`` removes GODEBUG from its children's environment).
- asyncio: N tasks each awaiting a future of its own; main ``await asyncio.sleep(2)``; stock
  event loop (in ``epoll_wait`` until the timer).
- uvloop: the same on uvloop's event loop.
- threads: N ``threading.Thread`` each blocked in ``get()`` on a ``queue.SimpleQueue`` of its
  own (a lock wait in C, with no timeout); the main thread in ``time.sleep(2)``.
- gevent: N greenlets each in ``get()`` on a ``gevent.event.AsyncResult`` of its own; main
  ``gevent.sleep(2)``.
- trio: N tasks each in ``receive()`` on a memory channel of its own (``max_buffer_size=0``);
  main ``await trio.sleep(2)``.

Run it by hand with ``python benchmarks/idle.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "goroutine"
DEFAULT_N = 1_000
# From the issue that asked for sysmon: an idle program (1,000 parked goroutines, main asleep
# for 2 s) uses less than 0.05 s of CPU over those 2 s.
TARGETS = {"max": 0.05}

# How long main sleeps while it is measured, and how long it lets the tasks settle before.
IDLE = 2.0
SETTLE = 0.05


class Tally:
    """Which tasks got to their wait, and the values the tasks received once woken.

    Both are lists (list.append is atomic, so they stay exact when tasks run on several
    threads at once)."""

    __slots__ = ("parked", "received")

    def __init__(self) -> None:
        self.parked: list[int] = []
        self.received: list[int] = []

    def check_parked(self, n: int) -> None:
        """Raise unless every task got to its wait (before the measurement)."""
        check("tasks at their wait", len(self.parked), n)

    def verify(self, n: int, cpu: float) -> float:
        """Raise unless each task received its own index once; return cpu."""
        check("values received", len(self.received), n)
        check("values", sorted(self.received), list(range(n)))
        return cpu


def _gosched(n: int, sysmon: bool) -> float:
    import gosched
    from sysmon_spawn import check_sysmon, set_sysmon

    set_sysmon(sysmon)
    tally = Tally()

    def waiter(i: int, ch: gosched.Chan[int], wg: gosched.sync.WaitGroup) -> None:
        tally.parked.append(i)
        wg.done()
        tally.received.append(ch.recv())  # type: ignore[arg-type]

    def main() -> float:
        chans: list[gosched.Chan[int]] = [gosched.Chan() for _ in range(n)]
        parked, ended = gosched.sync.WaitGroup(), gosched.sync.WaitGroup()
        parked.add(n)
        ended.add(n)

        def task(i: int, ch: gosched.Chan[int]) -> None:
            try:
                waiter(i, ch, parked)
            finally:
                ended.done()

        for i, ch in enumerate(chans):
            gosched.go(task, i, ch)
        parked.wait()
        gosched.sleep(SETTLE)  # every goroutine into its recv, every M asleep
        tally.check_parked(n)
        c0 = time.process_time()
        gosched.sleep(IDLE)
        cpu = time.process_time() - c0
        for i, ch in enumerate(chans):
            ch.send(i)
        ended.wait()
        check_sysmon(sysmon)
        return cpu

    cpu: float = gosched.run(main)
    return tally.verify(n, cpu)


def bench_gosched(n: int) -> float:
    return _gosched(n, True)


def bench_gosched_sysmonoff(n: int) -> float:
    return _gosched(n, False)


def _loop(n: int, new_event_loop: Callable[[], Any]) -> float:
    """The asyncio job, on the event loop new_event_loop() makes (stock or uvloop)."""
    import asyncio

    tally = Tally()

    async def waiter(i: int, fut: asyncio.Future[int]) -> None:
        tally.parked.append(i)
        tally.received.append(await fut)

    async def main() -> float:
        create_future = asyncio.get_running_loop().create_future
        futs: list[asyncio.Future[int]] = [create_future() for _ in range(n)]
        tasks = [asyncio.create_task(waiter(i, f)) for i, f in enumerate(futs)]
        await asyncio.sleep(SETTLE)
        tally.check_parked(n)
        c0 = time.process_time()
        await asyncio.sleep(IDLE)
        cpu = time.process_time() - c0
        for i, f in enumerate(futs):
            f.set_result(i)
        await asyncio.gather(*tasks)
        return cpu

    cpu: float = _harness.run_loop(new_event_loop, main)
    return tally.verify(n, cpu)


def bench_asyncio(n: int) -> float:
    import asyncio

    return _loop(n, asyncio.new_event_loop)


def bench_uvloop(n: int) -> float:
    import uvloop

    return _loop(n, uvloop.new_event_loop)


def bench_threads(n: int) -> float:
    import queue
    import threading

    tally = Tally()

    def waiter(i: int, q: queue.SimpleQueue[int]) -> None:
        tally.parked.append(i)
        tally.received.append(q.get())

    queues: list[queue.SimpleQueue[int]] = [queue.SimpleQueue() for _ in range(n)]
    threads = [threading.Thread(target=waiter, args=(i, q)) for i, q in enumerate(queues)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10.0
    while len(tally.parked) < n and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(SETTLE)
    tally.check_parked(n)
    c0 = time.process_time()
    time.sleep(IDLE)
    cpu = time.process_time() - c0
    for i, q in enumerate(queues):
        q.put(i)
    for t in threads:
        t.join()
    return tally.verify(n, cpu)


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.event import AsyncResult

    gevent.get_hub()
    tally = Tally()

    def waiter(i: int, r: AsyncResult) -> None:
        tally.parked.append(i)
        tally.received.append(r.get())

    results = [AsyncResult() for _ in range(n)]
    glets = [gevent.spawn(waiter, i, r) for i, r in enumerate(results)]
    gevent.sleep(SETTLE)
    tally.check_parked(n)
    c0 = time.process_time()
    gevent.sleep(IDLE)
    cpu = time.process_time() - c0
    for i, r in enumerate(results):
        r.set(i)
    gevent.joinall(glets, raise_error=True)
    return tally.verify(n, cpu)


def bench_trio(n: int) -> float:
    import trio

    tally = Tally()

    async def waiter(i: int, rx: trio.MemoryReceiveChannel[int]) -> None:
        tally.parked.append(i)
        tally.received.append(await rx.receive())

    async def main() -> float:
        async with trio.open_nursery() as nursery:
            senders = []
            for i in range(n):
                tx, rx = trio.open_memory_channel[int](0)
                senders.append(tx)
                nursery.start_soon(waiter, i, rx)
            await trio.sleep(SETTLE)
            tally.check_parked(n)
            c0 = time.process_time()
            await trio.sleep(IDLE)
            cpu = time.process_time() - c0
            for i, tx in enumerate(senders):
                await tx.send(i)
        return cpu  # the nursery has waited for every task to end

    cpu: float = trio.run(main)
    return tally.verify(n, cpu)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "N goroutines in ch.recv(), main in gosched.sleep(2); sysmon on (the default)",
        ("gosched",),
    ),
    Peer(
        "gosched-sysmonoff",
        bench_gosched_sysmonoff,
        "the same with GODEBUG=sysmonoff=1: no sysmon thread",
        ("gosched",),
    ),
    Peer("asyncio", bench_asyncio, "N tasks awaiting a future each, main in asyncio.sleep(2)"),
    Peer("uvloop", bench_uvloop, "the same on uvloop's event loop", ("uvloop",)),
    Peer(
        "threads",
        bench_threads,
        "N threads in SimpleQueue.get(), the main thread in time.sleep(2)",
    ),
    Peer(
        "gevent",
        bench_gevent,
        "N greenlets in AsyncResult.get(), main in gevent.sleep(2)",
        ("gevent",),
    ),
    Peer(
        "trio",
        bench_trio,
        "N tasks in receive() on a memory channel each, main in trio.sleep(2)",
        ("trio",),
    ),
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
