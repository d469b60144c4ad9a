"""blocking: N goroutines each make a blocking C call, time.sleep(0.2), on one P; total seconds.

What a blocking call costs the goroutines around it: N = 100 goroutines each call
``time.sleep(0.2)`` (C code that releases the GIL and blocks its thread, as a blocking socket
read or a database driver does) and main waits for all of them. gosched runs with one P
(``gosched.run(main, gomaxprocs=1)``), so the sleeps can only overlap if the runtime hands the P
to another thread while a goroutine is blocked. Reported in seconds for the whole run: the
floor is one sleep, 0.2 s, however large N is; a runtime that runs the calls one after another
takes N x 0.2 s (20 s for N = 100). The clock runs from before the first task is started to
after main has seen the last one end.

Every peer proves it did the work: each task appends its index to a shared list after its
sleep has returned (list.append is atomic, so the list stays exact when tasks end on several
threads at once), and the run fails unless the list holds every index 0..N-1 exactly once and
the timed region lasted at least one sleep.

- gosched: the goroutines call ``time.sleep(0.2)`` directly. Nothing tells the runtime about
  the call: sysmon finds the P held by a thread in user code, and after a look or two
  (``minSyscallNS``, 0.2 ms) hands the P to another M, which runs the next goroutine, which
  blocks in turn; so the N sleeps start about 0.5 ms apart, each on a thread of its own.
- gosched-blocking: ``with gosched.blocking(): time.sleep(0.2)``, the context form: the
  goroutine gives its P up as it enters the block, without waiting for sysmon.
- gosched-blocking-fn: ``gosched.blocking(time.sleep, 0.2)``, the call form: the call runs on
  a helper thread while the goroutine is parked, and its P runs other goroutines meanwhile.
- threads: N ``threading.Thread`` each calling ``time.sleep(0.2)``, started, then joined. No
  scheduler: the floor, plus the cost of starting N threads.
- gevent: N greenlets calling ``time.sleep(0.2)``, unpatched (no monkey-patching): the C call
  blocks the hub's thread, so the sleeps run one after another, N x 0.2 s (20 s for N = 100).
  What an event loop does with a blocking call it was not told about.
- asyncio: N tasks calling ``time.sleep(0.2)`` inside ``async def``: the call stalls the event
  loop, so the sleeps run one after another too, N x 0.2 s.
- asyncio-to_thread: N tasks each ``await asyncio.to_thread(time.sleep, 0.2)``: the calls run
  on the loop's default executor, a pool of ``min(32, os.cpu_count() + 4)`` threads, so they
  run in ceil(N / pool) waves of 0.2 s (3.4 s for N = 100 on a 2-core machine: the latency
  cliff of a bounded pool).

benchmarks/blocking_fn.py is the call form at scale (N = 1,000).

Run it by hand with ``python benchmarks/blocking.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "goroutine"
DEFAULT_N = 100
# From the issue that asked for gosched.blocking and sysmon: "100 plain sleeps of 0.2 s
# <= 0.3 s", i.e. gosched (the plain time.sleep peer) at most 0.3 s for N = 100.
TARGETS = {"max": 0.3}

# How long each task's blocking call sleeps, in seconds.
SLEEP = 0.2


class Finished:
    """The indexes of the tasks whose blocking call has returned.

    ``done`` appends to a list rather than counting with ``n += 1``: list.append is atomic, so
    it stays exact when tasks end on several threads at once (a goroutine whose sleep has
    returned may run Python code on its M before it gets a P back)."""

    __slots__ = ("ended",)

    def __init__(self) -> None:
        self.ended: list[int] = []

    def done(self, i: int) -> None:
        self.ended.append(i)

    def verify(self, n: int, elapsed: float) -> float:
        """Raise unless every task 0..n-1 ended exactly once and the timed region lasted at
        least one sleep; return elapsed."""
        check("tasks ended", len(self.ended), n)
        check("task indexes", sorted(self.ended), list(range(n)))
        if n and elapsed < SLEEP:
            raise AssertionError(f"{n} sleeps of {SLEEP} s took only {elapsed:.3f} s")
        return elapsed


def _gosched(n: int, task: Callable[[int, Finished], None]) -> float:
    """Run task(i, finished) in N goroutines on one P; main waits for them with a WaitGroup."""
    import gosched

    finished = Finished()

    def body(i: int, wg: gosched.sync.WaitGroup) -> None:
        task(i, finished)
        wg.done()

    def main() -> float:
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go = gosched.go
        t0 = time.perf_counter()
        for i in range(n):
            go(body, i, wg)
        wg.wait()
        return time.perf_counter() - t0

    elapsed: float = gosched.run(main, gomaxprocs=1)
    return finished.verify(n, elapsed)


def plain_sleep(i: int, finished: Finished) -> None:
    time.sleep(SLEEP)
    finished.done(i)


def bench_gosched(n: int) -> float:
    return _gosched(n, plain_sleep)


def bench_gosched_blocking(n: int) -> float:
    import gosched

    blocking = gosched.blocking

    def task(i: int, finished: Finished) -> None:
        with blocking():
            time.sleep(SLEEP)
        finished.done(i)

    return _gosched(n, task)


def bench_gosched_blocking_fn(n: int) -> float:
    import gosched

    blocking = gosched.blocking

    def task(i: int, finished: Finished) -> None:
        blocking(time.sleep, SLEEP)
        finished.done(i)

    return _gosched(n, task)


def bench_threads(n: int) -> float:
    import threading

    finished = Finished()
    Thread = threading.Thread
    t0 = time.perf_counter()
    threads = [Thread(target=plain_sleep, args=(i, finished)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return finished.verify(n, elapsed)


def bench_gevent(n: int) -> float:
    import gevent

    gevent.get_hub()  # the hub is made once per thread: setup, not per-task cost
    finished = Finished()
    spawn = gevent.spawn
    t0 = time.perf_counter()
    glets = [spawn(plain_sleep, i, finished) for i in range(n)]
    gevent.joinall(glets, raise_error=True)
    elapsed = time.perf_counter() - t0
    return finished.verify(n, elapsed)


def _asyncio(n: int, task: Callable[[int, Finished], Any]) -> float:
    """Run the coroutine task(i, finished) in N tasks on a fresh stock event loop; gather."""
    import asyncio

    finished = Finished()

    async def main() -> float:
        create_task = asyncio.create_task
        t0 = time.perf_counter()
        tasks = [create_task(task(i, finished)) for i in range(n)]
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0

    elapsed: float = _harness.run_loop(asyncio.new_event_loop, main)
    return finished.verify(n, elapsed)


async def _stalling_sleep(i: int, finished: Finished) -> None:
    time.sleep(SLEEP)  # blocks the event loop's thread: nothing else runs meanwhile
    finished.done(i)


async def _to_thread_sleep(i: int, finished: Finished) -> None:
    import asyncio

    await asyncio.to_thread(time.sleep, SLEEP)
    finished.done(i)


def bench_asyncio(n: int) -> float:
    return _asyncio(n, _stalling_sleep)


def bench_asyncio_to_thread(n: int) -> float:
    return _asyncio(n, _to_thread_sleep)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "gomaxprocs=1, plain time.sleep(0.2) in each goroutine: sysmon hands the P off",
        ("gosched",),
    ),
    Peer(
        "gosched-blocking",
        bench_gosched_blocking,
        "with gosched.blocking(): time.sleep(0.2) - the P is handed off at once",
        ("gosched",),
    ),
    Peer(
        "gosched-blocking-fn",
        bench_gosched_blocking_fn,
        "gosched.blocking(time.sleep, 0.2) - runs on a helper thread, the goroutine parks",
        ("gosched",),
    ),
    Peer("threads", bench_threads, "N threading.Thread calling time.sleep(0.2), joined"),
    Peer(
        "gevent",
        bench_gevent,
        "N greenlets calling time.sleep(0.2), unpatched: serialised, N x 0.2 s",
        ("gevent",),
    ),
    Peer(
        "asyncio",
        bench_asyncio,
        "N tasks calling time.sleep(0.2): stalls the loop, serialised, N x 0.2 s",
    ),
    Peer(
        "asyncio-to_thread",
        bench_asyncio_to_thread,
        "N tasks awaiting asyncio.to_thread(time.sleep, 0.2): default pool, in waves",
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
