"""gosched.sync orderings at GOMAXPROCS=1 are what real Go prints.

Each test is the Python twin of a Go program in go/ (same structure, statement for statement);
go/NAME.out is that program's output under Go 1.22.10 with GOMAXPROCS=1, the same on repeated
runs. To re-check against Go: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.
"""

from __future__ import annotations

import time

import gosched
from gosched.sync import Cond, Mutex, RWMutex, WaitGroup

from .test_ordering import expected, run1, sync_tick


def golist(xs: list[str]) -> str:
    """fmt.Println of a []string."""
    return "[" + " ".join(xs) + "]\n"


def hold(seconds: float) -> None:
    """Keep the processor for `seconds` without yielding (hold in the Go twins)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        pass


def test_mutex_starvation_mode() -> None:
    """Twin of go/sync_mutex_starve.go."""

    def main() -> str:
        sync_tick()
        mu = Mutex()
        wg = WaitGroup()
        order: list[str] = []
        mu.lock()
        for i in range(1, 5):
            wg.add(1)

            def f(i: int) -> None:
                try:
                    mu.lock()
                    order.append(f"w{i}")
                    mu.unlock()
                finally:
                    wg.done()

            gosched.go(f, i)
        gosched.gosched()  # every waiter runs and queues on the mutex
        hold(0.003)
        mu.unlock()  # normal mode: wakes the first waiter
        mu.lock()  # main barges in ahead of it
        gosched.gosched()  # the woken waiter finds the mutex locked: starvation mode
        order.append("main unlocks")
        mu.unlock()  # hands the mutex to the waiter at the head
        mu.lock()  # queues behind every earlier waiter
        order.append("main")
        mu.unlock()
        wg.wait()
        return golist(order)

    assert run1(main) == expected("sync_mutex_starve")


def test_cond_signal_broadcast_order() -> None:
    """Twin of go/sync_cond.go."""

    def main() -> str:
        sync_tick()
        mu = Mutex()
        c = Cond(mu)
        wg = WaitGroup()
        out: list[str] = []
        waiting = [0]
        c.signal()  # nobody waits yet: lost
        for i in range(1, 6):
            wg.add(1)

            def f(i: int) -> None:
                try:
                    mu.lock()
                    out.append(f"wait{i}")
                    waiting[0] += 1
                    c.wait()
                    out.append(f"w{i}")
                    mu.unlock()
                finally:
                    wg.done()

            gosched.go(f, i)
        mu.lock()
        while waiting[0] < 5:
            mu.unlock()
            gosched.gosched()
            mu.lock()
        c.signal()
        gosched.gosched()  # the woken waiter blocks on mu, which main holds
        out.append("signal")
        mu.unlock()
        gosched.gosched()
        mu.lock()
        c.signal()
        c.signal()
        out.append("signal2")
        mu.unlock()
        gosched.gosched()
        mu.lock()
        c.broadcast()
        out.append("broadcast")
        mu.unlock()
        wg.wait()
        return golist(out)

    assert run1(main) == expected("sync_cond")


def test_rwmutex_writer_and_readers_order() -> None:
    """Twin of go/sync_rwmutex.go."""

    def main() -> str:
        sync_tick()
        rw = RWMutex()
        wg = WaitGroup()
        out: list[str] = []

        def late() -> None:
            try:
                rw.rlock()
                out.append("late")
                rw.runlock()
            finally:
                wg.done()

        def reader(name: str, spawn_late: bool) -> None:
            try:
                rw.rlock()
                out.append(name)
                if spawn_late:
                    wg.add(1)
                    gosched.go(late)
                gosched.gosched()
                out.append(name + " done")
                rw.runlock()
            finally:
                wg.done()

        def writer() -> None:
            try:
                rw.lock()
                out.append("w3")
                rw.unlock()
            finally:
                wg.done()

        rw.lock()
        for i in range(1, 5):
            wg.add(1)
            name = f"r{i}"
            if i == 3:
                gosched.go(writer)
            else:
                gosched.go(reader, name, i == 4)
        gosched.gosched()  # everyone queues
        out.append("main unlocks")
        rw.unlock()
        wg.wait()
        return golist(out)

    assert run1(main) == expected("sync_rwmutex")
