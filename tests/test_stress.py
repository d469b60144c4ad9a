"""Stress: many goroutines under 1, 2 and 4 Ps. Bounded for CI; GOSCHED_STRESS=N scales them up.

What must hold whatever the interleaving: every goroutine runs exactly once; a goroutine that has
started is only ever resumed on the thread that started it (DESIGN decision 2); no goroutine runs
on two threads at once; nothing is left behind (conftest checks threads and state).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

import gosched
from gosched.sync import WaitGroup

from .conftest import STRESS

pytestmark = pytest.mark.slow

PROCS = [1, 2, 4]


class Tracker:
    """Records where each goroutine runs; checks it never changes thread and never overlaps."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: Counter[int] = Counter()
        self.thread: dict[int, int] = {}
        self.active: set[int] = set()
        self.errors: list[str] = []

    def enter(self, key: int) -> None:
        me = threading.get_ident()
        with self.lock:
            if key in self.active:
                self.errors.append(f"{key} runs on two threads at once")
            self.active.add(key)
            first = self.thread.setdefault(key, me)
            if first != me:
                self.errors.append(f"{key} resumed on another thread")

    def leave(self, key: int) -> None:
        with self.lock:
            self.active.discard(key)

    def yield_(self, key: int, how: object) -> None:
        self.leave(key)
        how()  # type: ignore[operator]
        self.enter(key)


@pytest.mark.parametrize("procs", PROCS)
def test_spawning_tree_runs_each_goroutine_once(procs: int) -> None:
    depth, fanout = 6, 4 + STRESS  # 5,461 goroutines by default
    t = Tracker()

    def main() -> None:
        wg = WaitGroup()

        def node(d: int, key: int) -> None:
            t.enter(key)
            with t.lock:
                t.runs[key] += 1
            if d < depth:
                for k in range(fanout):
                    wg.add(1)
                    gosched.go(node, d + 1, key * fanout + k)
            if d % 2 == 0:
                t.yield_(key, gosched.gosched)
            t.leave(key)
            wg.done()

        wg.add(1)
        gosched.go(node, 0, 1)
        wg.wait()

    gosched.run(main, gomaxprocs=procs)
    expected = sum(fanout**d for d in range(depth + 1))
    assert len(t.runs) == expected
    assert set(t.runs.values()) == {1}
    assert t.errors == []


@pytest.mark.parametrize("procs", PROCS)
def test_handoffs_across_ms(procs: int) -> None:
    """Rings of goroutines passing a baton: runner i waits for it, then hands it to i+1. The
    waker is often on another M than the sleeper, so readied goroutines travel back to their
    own M (startlockedm, mailboxes). The baton's path must be exactly the ring's order."""
    rings, length, laps = 16, 8, 20 * STRESS
    t = Tracker()
    paths: dict[int, list[int]] = {r: [] for r in range(rings)}

    def main() -> None:
        done = WaitGroup()
        for r in range(rings):
            # token[i][lap] is released when runner i may take its turn in that lap.
            token = [[WaitGroup() for _ in range(laps)] for _ in range(length)]
            for row in token:
                for w in row:
                    w.add(1)
            token[0][0].done()

            def runner(r: int, i: int, token: list[list[WaitGroup]]) -> None:
                key = r * 1000 + i
                t.enter(key)
                for lap in range(laps):
                    t.yield_(key, token[i][lap].wait)
                    paths[r].append(i)
                    if i + 1 < length:
                        token[i + 1][lap].done()
                    elif lap + 1 < laps:
                        token[0][lap + 1].done()
                t.leave(key)
                done.done()

            for i in range(length):
                done.add(1)
                gosched.go(runner, r, i, token)
        done.wait()

    gosched.run(main, gomaxprocs=procs)
    assert t.errors == []
    for r in range(rings):
        assert paths[r] == list(range(length)) * laps


@pytest.mark.parametrize("procs", PROCS)
def test_ping_pong_pairs(procs: int) -> None:
    """Pairs of goroutines alternating strictly through two one-shot WaitGroups per round."""
    pairs, rounds = 12, 30 * STRESS
    t = Tracker()
    count = Counter[int]()

    def main() -> None:
        done = WaitGroup()
        for p in range(pairs):
            pings = [WaitGroup() for _ in range(rounds)]
            pongs = [WaitGroup() for _ in range(rounds)]
            for w in pings + pongs:
                w.add(1)

            def ping(p: int, pings: list[WaitGroup], pongs: list[WaitGroup]) -> None:
                key = 2 * p
                t.enter(key)
                for r in range(rounds):
                    pings[r].done()
                    t.yield_(key, pongs[r].wait)
                    count[key] += 1
                t.leave(key)
                done.done()

            def pong(p: int, pings: list[WaitGroup], pongs: list[WaitGroup]) -> None:
                key = 2 * p + 1
                t.enter(key)
                for r in range(rounds):
                    t.yield_(key, pings[r].wait)
                    count[key] += 1
                    pongs[r].done()
                t.leave(key)
                done.done()

            done.add(2)
            gosched.go(ping, p, pings, pongs)
            gosched.go(pong, p, pings, pongs)
        done.wait()

    gosched.run(main, gomaxprocs=procs)
    assert t.errors == []
    assert set(count.values()) == {rounds} and len(count) == 2 * pairs


def test_gomaxprocs_changes_under_load() -> None:
    """Resizing again and again while goroutines spawn, yield and park: all still run once."""
    t = Tracker()
    n = 400 * STRESS

    def main() -> None:
        wg = WaitGroup()
        for i in range(n):
            wg.add(1)

            def work(i: int) -> None:
                t.enter(i)
                with t.lock:
                    t.runs[i] += 1
                for _ in range(3):
                    t.yield_(i, gosched.gosched)
                t.leave(i)
                wg.done()

            gosched.go(work, i)
            if i % 50 == 0:
                gosched.gomaxprocs([1, 4, 2, 3][(i // 50) % 4])
        wg.wait()

    gosched.run(main, gomaxprocs=2)
    assert len(t.runs) == n and set(t.runs.values()) == {1}
    assert t.errors == []
