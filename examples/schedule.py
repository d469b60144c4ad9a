"""Watch Go's scheduler decide who runs next.

    gosched run examples/schedule.py            # one P, as on a GIL build by default
    gosched run --gomaxprocs 2 examples/schedule.py

Every ordering printed here is what a Go program with GOMAXPROCS=1 prints too (see
tests/conformance/go/ for the Go twins).
"""

from __future__ import annotations

import gc
import threading
import time

import gosched
from gosched import debug
from gosched._runtime.stack import Stack
from gosched.sync import WaitGroup


def section(title: str) -> None:
    print(f"\n== {title}")


def runnext() -> None:
    section("five goroutines: the newest runs first")
    wg = WaitGroup()
    order: list[int] = []
    for i in range(5):
        wg.add(1)

        def f(i: int) -> None:
            order.append(i)
            wg.done()

        gosched.go(f, i)
    print("queues before main waits:", queues())
    wg.wait()
    print("ran in order:", order, " (4 sat in runnext; 0-3 in the local queue)")


def yielding() -> None:
    section("gosched() sends a goroutine to the back of the global queue")
    wg = WaitGroup()
    out: list[str] = []
    for name in "ABC":
        wg.add(1)

        def f(name: str) -> None:
            out.append(name + "1")
            gosched.gosched()
            out.append(name + "2")
            wg.done()

        gosched.go(f, name)
    wg.wait()
    print(" ".join(out))


def spawning() -> None:
    section("100,000 goroutines, created before any of them runs")
    n = 100_000
    wg = WaitGroup()
    wg.add(n)
    t0 = time.perf_counter()
    for _ in range(n):
        gosched.go(wg.done)
    made = time.perf_counter()
    snap = debug.snapshot()
    wg.wait()
    t1 = time.perf_counter()
    p0 = snap["allp"][0]
    print(
        f"after the go statements: runnext={p0['runnext']}, local queue={len(p0['runq'])}, "
        f"global queue={snap['sched']['runqsize']}"
    )
    print(
        f"created in {(made - t0) / n * 1e6:.2f} µs each, all done after "
        f"{(t1 - t0) / n * 1e6:.2f} µs each"
    )
    gc.collect()
    stacks = sum(1 for o in gc.get_objects() if isinstance(o, Stack))
    print(f"greenlets (goroutine stacks) alive now: {stacks} (stacks are reused, as Go reuses Gs)")


def threads() -> None:
    section(f"GOMAXPROCS={gosched.gomaxprocs(0)}: which OS threads ran goroutines")
    wg = WaitGroup()
    seen: dict[int, int] = {}
    lock = threading.Lock()
    for _ in range(2000):
        wg.add(1)

        def f() -> None:
            for _ in range(3):
                with lock:
                    ident = threading.get_ident()
                    seen[ident] = seen.get(ident, 0) + 1
                gosched.gosched()
            wg.done()

        gosched.go(f)
    wg.wait()
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, count in seen.items():
        print(f"  {names.get(ident, 'thread ' + str(ident)):>14}: {count} goroutine steps")


def queues() -> str:
    p0 = debug.snapshot()["allp"][0]
    return f"runnext={p0['runnext']} runq={p0['runq']}"


print(f"main is goroutine {gosched.goid()}, GOMAXPROCS={gosched.gomaxprocs(0)}")
runnext()
yielding()
spawning()
threads()
print(f"\nlive goroutines at the end: {gosched.num_goroutine()}")
