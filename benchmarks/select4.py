"""select4: a receive loop selecting over 4 channels, each fed by its own sender goroutine.

The fan-in multiplexer: 4 sender goroutines each send their share of N values on their own
unbuffered channel; main runs ``select(c0.recv, c1.recv, c2.recv, c3.recv)`` N times and takes
one value per select. Reported in microseconds per select (= per value received). The senders
are started before the clock starts, the clock stops when main has all N values and every
sender has ended.

This is the realistic mix, not select alone: with 4 parked senders a select finds one or more
cases ready and takes one at random (Go's rule) without blocking, which readies that sender;
once no sender is parked, the select parks on all 4 channels until one comes. So the figure
includes the senders' sends and the goroutine switches, as a program's select loop would see.
The ``gosched-recv`` row is the same fan-in without select (the 4 senders share one channel,
main calls ``recv()``), to show what the 4-case select costs over a plain receive.

Every peer proves it did the work: sender k sends the values k, k+4, k+8, ... below N, so main
must receive every value in 0..N-1 once (their sum), each on the right case (per case counts).

- asyncio / uvloop: 4 ``asyncio.Queue(maxsize=1)`` fed by 4 producer tasks; main keeps one
  ``create_task(q.get())`` per queue and calls ``asyncio.wait(..., return_when=
  FIRST_COMPLETED)`` on the 4; it takes one finished get per wait (any one of them, as a
  select takes one case) and starts a new get for that queue. The idiomatic select of asyncio.
- gevent: 4 ``gevent.queue.Channel`` (unbuffered) fed by 4 producer greenlets; main keeps one
  getter greenlet (``spawn(ch.get)``) per channel and calls ``gevent.wait(getters, count=1)``;
  one value per wait, then a new getter for that channel.
- trio has no select: its structured equivalent (a task per case in a nursery, cancelling the
  losers) is not something a trio program would write in a loop, so trio is not a peer here.

(Named select4, not select: a ``benchmarks/select.py`` would shadow the standard library's
select module, which asyncio imports, for every benchmark in the directory.)

Run it by hand with ``python benchmarks/select4.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "select"
DEFAULT_N = 50_000
# The issue that asked for this benchmark sets no target: it is reported only.
TARGETS: dict[str, object] = {}

CASES = 4


def _verify(n: int, counts: list[int], total: int) -> None:
    check("values per case", counts, [len(range(k, n, CASES)) for k in range(CASES)])
    check("sum of the values received", total, n * (n - 1) // 2)


def bench_gosched(n: int) -> float:
    import gosched

    def sender(ch: gosched.Chan[int], k: int, wg: gosched.sync.WaitGroup) -> None:
        send = ch.send
        for v in range(k, n, CASES):
            send(v)
        wg.done()

    def main() -> float:
        chans: list[gosched.Chan[int]] = [gosched.Chan() for _ in range(CASES)]
        wg = gosched.sync.WaitGroup()
        wg.add(CASES)
        for k, ch in enumerate(chans):
            gosched.go(sender, ch, k, wg)
        cases = [ch.recv for ch in chans]
        select = gosched.select
        counts = [0] * CASES
        total = 0
        t0 = time.perf_counter()
        for _ in range(n):
            i, v = select(*cases)
            counts[i] += 1
            total += v
        wg.wait()
        elapsed = time.perf_counter() - t0
        _verify(n, counts, total)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def bench_gosched_recv(n: int) -> float:
    import gosched

    def sender(ch: gosched.Chan[int], k: int, wg: gosched.sync.WaitGroup) -> None:
        send = ch.send
        for v in range(k, n, CASES):
            send(v)
        wg.done()

    def main() -> float:
        ch: gosched.Chan[int] = gosched.Chan()
        wg = gosched.sync.WaitGroup()
        wg.add(CASES)
        for k in range(CASES):
            gosched.go(sender, ch, k, wg)
        recv = ch.recv
        counts = [0] * CASES
        total = 0
        t0 = time.perf_counter()
        for _ in range(n):
            v: Any = recv()
            counts[v % CASES] += 1
            total += v
        wg.wait()
        elapsed = time.perf_counter() - t0
        _verify(n, counts, total)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def _asyncio(n: int, new_event_loop: Callable[[], Any]) -> float:
    import asyncio

    async def sender(q: asyncio.Queue[int], k: int) -> None:
        put = q.put
        for v in range(k, n, CASES):
            await put(v)

    async def main() -> float:
        queues: list[asyncio.Queue[int]] = [asyncio.Queue(maxsize=1) for _ in range(CASES)]
        senders = [asyncio.create_task(sender(q, k)) for k, q in enumerate(queues)]
        create_task, wait, first = asyncio.create_task, asyncio.wait, asyncio.FIRST_COMPLETED
        counts = [0] * CASES
        total = 0
        t0 = time.perf_counter()
        getters = {create_task(q.get()): k for k, q in enumerate(queues)}
        for _ in range(n):
            done, _pending = await wait(getters, return_when=first)
            got = done.pop()  # one case per select; any others stay for the next wait
            k = getters.pop(got)
            counts[k] += 1
            total += got.result()
            getters[create_task(queues[k].get())] = k
        await asyncio.gather(*senders)
        elapsed = time.perf_counter() - t0
        for t in getters:  # the last gets, with nothing left to get
            t.cancel()
        await asyncio.gather(*getters, return_exceptions=True)
        _verify(n, counts, total)
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

    def sender(ch: Channel, k: int) -> None:
        put = ch.put
        for v in range(k, n, CASES):
            put(v)

    chans = [Channel() for _ in range(CASES)]
    spawn, wait = gevent.spawn, gevent.wait
    senders = [spawn(sender, ch, k) for k, ch in enumerate(chans)]
    counts = [0] * CASES
    total = 0
    t0 = time.perf_counter()
    getters = {spawn(ch.get): k for k, ch in enumerate(chans)}
    for _ in range(n):
        got = wait(getters, count=1)[0]  # one case per select
        k = getters.pop(got)
        counts[k] += 1
        total += got.value
        getters[spawn(chans[k].get)] = k
    gevent.joinall(senders, raise_error=True)
    elapsed = time.perf_counter() - t0
    gevent.killall(list(getters))
    _verify(n, counts, total)
    return elapsed


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "select(c0.recv, ..., c3.recv) x N, 4 sender goroutines, unbuffered Chan",
        ("gosched",),
    ),
    Peer(
        "gosched-recv",
        bench_gosched_recv,
        "no select: the 4 senders share one Chan, main calls recv() x N",
        ("gosched",),
    ),
    Peer(
        "asyncio",
        bench_asyncio,
        "asyncio.wait(FIRST_COMPLETED) over 4 q.get() tasks, Queue(maxsize=1), stock loop",
    ),
    Peer("uvloop", bench_uvloop, "the same on uvloop's event loop", ("uvloop",)),
    Peer(
        "gevent",
        bench_gevent,
        "gevent.wait(count=1) over 4 getter greenlets on gevent.queue.Channel",
        ("gevent",),
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
