"""pingpong: two goroutines bounce a counter over two unbuffered channels, N round trips.

The cost of one message exchange between two goroutines: main sends v on ``ping``, the echo
goroutine receives it and sends v + 1 back on ``pong``, main receives it; that is one round trip
(two sends, two receives, two goroutine switches). Two unbuffered channels, one each way, as in
Go's canonical ping-pong. Reported in microseconds per round trip. The echo goroutine is started
before the clock starts; it ends by itself after N replies.

Every peer proves it did the work: the counter comes back incremented once per round trip, so
main ends with exactly N, and the echo side has ended.

- greenlet: two raw greenlets switching to each other directly, the value riding on
  ``switch``: no scheduler, no channel, no queue. The floor for any greenlet-based runtime.
- asyncio-futures / uvloop-futures: the cheapest asyncio ping-pong, "bare futures": each side
  creates the future it will wait on next (``loop.create_future``) before it wakes the other
  with ``set_result``, then ``await``s it. One future per message, no queue.
- asyncio-queue / uvloop-queue: two ``asyncio.Queue(maxsize=1)``, ``await put`` / ``await
  get``, the idiomatic version (with one message in flight, maxsize does not matter).
- gevent: two ``gevent.queue.Channel`` (gevent's unbuffered, synchronous queue), put / get.
- trio: two memory channels with ``max_buffer_size=0`` (unbuffered), send / receive.

Run it by hand with ``python benchmarks/pingpong.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "round trip"
DEFAULT_N = 100_000
# From the issue that asked for this benchmark: gosched at most 2.0 µs per round trip and at
# most 0.6x the time of the cheapest asyncio ping-pong (bare futures on uvloop).
TARGETS = {"max": 2.0, "vs": {"uvloop-futures": 0.6}}


def bench_gosched(n: int) -> float:
    import gosched

    def echo(ping: gosched.Chan[int], pong: gosched.Chan[int], done: gosched.Chan[None]) -> None:
        recv, send = ping.recv, pong.send
        for _ in range(n):
            send(recv() + 1)  # type: ignore[operator]
        done.close()

    def main() -> float:
        ping: gosched.Chan[int] = gosched.Chan()
        pong: gosched.Chan[int] = gosched.Chan()
        done: gosched.Chan[None] = gosched.Chan()
        gosched.go(echo, ping, pong, done)
        send, recv = ping.send, pong.recv
        v: Any = 0
        t0 = time.perf_counter()
        for _ in range(n):
            send(v)
            v = recv()
        check("echo ended", done.recv_ok(), (None, False))
        elapsed = time.perf_counter() - t0
        check("final counter", v, n)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def bench_greenlet(n: int) -> float:
    from greenlet import getcurrent, greenlet

    main = getcurrent()

    def echo(v: int) -> int:
        back = main.switch
        for _ in range(n - 1):
            v = back(v + 1)
        return v + 1  # the last reply: the greenlet ends and its parent (main) gets this

    g = greenlet(echo)
    switch = g.switch
    v = 0
    t0 = time.perf_counter()
    for _ in range(n):
        v = switch(v)
    elapsed = time.perf_counter() - t0
    check("final counter", v, n)
    check("echo greenlet ended", g.dead, True)
    return elapsed


def _futures(n: int, new_event_loop: Callable[[], Any]) -> float:
    """Bare futures: whoever waits next creates the future, the other side resolves it."""
    import asyncio

    async def main() -> float:
        create_future = asyncio.get_running_loop().create_future
        ping: asyncio.Future[int] = create_future()  # what echo waits on next
        pong: asyncio.Future[int] = create_future()  # what main waits on next

        async def echo() -> None:
            nonlocal ping
            for _ in range(n):
                v = await ping
                ping = create_future()  # ready before main can send again
                pong.set_result(v + 1)

        task = asyncio.create_task(echo())
        v = 0
        t0 = time.perf_counter()
        for _ in range(n):
            pong = create_future()  # ready before echo can reply
            ping.set_result(v)
            v = await pong
        await task
        elapsed = time.perf_counter() - t0
        check("final counter", v, n)
        return elapsed

    elapsed: float = _harness.run_loop(new_event_loop, main)
    return elapsed


def _queues(n: int, new_event_loop: Callable[[], Any]) -> float:
    import asyncio

    async def echo(ping: asyncio.Queue[int], pong: asyncio.Queue[int]) -> None:
        get, put = ping.get, pong.put
        for _ in range(n):
            await put(await get() + 1)

    async def main() -> float:
        ping: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        pong: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        task = asyncio.create_task(echo(ping, pong))
        put, get = ping.put, pong.get
        v = 0
        t0 = time.perf_counter()
        for _ in range(n):
            await put(v)
            v = await get()
        await task
        elapsed = time.perf_counter() - t0
        check("final counter", v, n)
        return elapsed

    elapsed: float = _harness.run_loop(new_event_loop, main)
    return elapsed


def bench_asyncio_futures(n: int) -> float:
    import asyncio

    return _futures(n, asyncio.new_event_loop)


def bench_uvloop_futures(n: int) -> float:
    import uvloop

    return _futures(n, uvloop.new_event_loop)


def bench_asyncio_queue(n: int) -> float:
    import asyncio

    return _queues(n, asyncio.new_event_loop)


def bench_uvloop_queue(n: int) -> float:
    import uvloop

    return _queues(n, uvloop.new_event_loop)


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.queue import Channel

    gevent.get_hub()
    ping: Channel = Channel()
    pong: Channel = Channel()

    def echo() -> None:
        get, put = ping.get, pong.put
        for _ in range(n):
            put(get() + 1)

    g = gevent.spawn(echo)
    put, get = ping.put, pong.get
    v = 0
    t0 = time.perf_counter()
    for _ in range(n):
        put(v)
        v = get()
    g.join()
    elapsed = time.perf_counter() - t0
    check("final counter", v, n)
    check("echo greenlet ended", g.successful(), True)
    return elapsed


def bench_trio(n: int) -> float:
    import trio

    async def echo(ping: trio.MemoryReceiveChannel[int], pong: trio.MemorySendChannel[int]) -> None:
        receive, send = ping.receive, pong.send
        for _ in range(n):
            await send(await receive() + 1)

    async def main() -> float:
        ping_send, ping_recv = trio.open_memory_channel(0)
        pong_send, pong_recv = trio.open_memory_channel(0)
        v = 0
        async with trio.open_nursery() as nursery:
            nursery.start_soon(echo, ping_recv, pong_send)
            send, receive = ping_send.send, pong_recv.receive
            t0 = time.perf_counter()
            for _ in range(n):
                await send(v)
                v = await receive()
        elapsed = time.perf_counter() - t0  # the nursery has waited for echo to end
        check("final counter", v, n)
        return elapsed

    elapsed: float = trio.run(main)
    return elapsed


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "two goroutines, two unbuffered Chan: ping.send / pong.recv",
        ("gosched",),
    ),
    Peer(
        "greenlet",
        bench_greenlet,
        "two raw greenlets switching to each other directly: the floor",
        ("greenlet",),
    ),
    Peer(
        "asyncio-futures",
        bench_asyncio_futures,
        "bare futures (create_future + set_result + await), stock event loop",
    ),
    Peer(
        "uvloop-futures",
        bench_uvloop_futures,
        "bare futures on uvloop's event loop",
        ("uvloop",),
    ),
    Peer("asyncio-queue", bench_asyncio_queue, "two asyncio.Queue(maxsize=1), stock event loop"),
    Peer(
        "uvloop-queue",
        bench_uvloop_queue,
        "two asyncio.Queue(maxsize=1) on uvloop's event loop",
        ("uvloop",),
    ),
    Peer("gevent", bench_gevent, "two gevent.queue.Channel (unbuffered)", ("gevent",)),
    Peer("trio", bench_trio, "two trio memory channels, max_buffer_size=0", ("trio",)),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
