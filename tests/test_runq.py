"""Run-queue mechanics (runq.py) on bare P and G structs, without a running scheduler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gosched._runtime import runq
from gosched._runtime.runtime2 import RUNQ_SIZE, G, M, P, RandomOrder, sched


@pytest.fixture(autouse=True)
def clean_sched() -> Iterator[None]:
    sched.reset()
    sched.gomaxprocs = 1
    yield
    sched.reset()


def gs(n: int, start: int = 1) -> list[G]:
    out = []
    for i in range(n):
        g = G()
        g.goid = start + i
        out.append(g)
    return out


def ids(xs: object) -> list[int]:
    return [g.goid for g in xs]  # type: ignore[attr-defined]


def test_runnext_kicks_old_to_tail() -> None:
    pp = P(0)
    a, b, c = gs(3)
    runq.runqput(pp, a, True)
    runq.runqput(pp, b, True)
    runq.runqput(pp, c, True)
    assert ids(pp.runnext) == [3]
    assert ids(pp.runq) == [1, 2]
    assert runq.runqget(pp) == (c, True)
    assert runq.runqget(pp) == (a, False)
    assert runq.runqget(pp) == (b, False)
    assert runq.runqget(pp) == (None, False)


def test_full_ring_moves_half_plus_one_to_global_tail() -> None:
    pp = P(0)
    many = gs(RUNQ_SIZE + 1)
    for g in many[:RUNQ_SIZE]:
        runq.runqput(pp, g, False)
    assert len(pp.runq) == RUNQ_SIZE
    runq.runqput(pp, many[RUNQ_SIZE], False)
    assert ids(sched.runq) == list(range(1, 129)) + [257]
    assert ids(pp.runq) == list(range(129, 257))


@pytest.mark.parametrize(
    ("size", "procs", "maxn", "want"),
    [
        (10, 1, 0, 10),  # size/procs + 1 = 11, capped at size
        (10, 2, 0, 6),  # 10/2 + 1
        (10, 4, 1, 1),  # max
        (1000, 1, 0, 128),  # half a local queue
        (0, 1, 0, 0),
    ],
)
def test_globrunqget_batch(size: int, procs: int, maxn: int, want: int) -> None:
    sched.gomaxprocs = procs
    pp = P(0)
    sched.runq.extend(gs(size))
    gp = runq.globrunqget(pp, maxn)
    if want == 0:
        assert gp is None
        return
    assert gp is not None and gp.goid == 1
    assert ids(pp.runq) == list(range(2, want + 1))
    assert len(sched.runq) == size - want


def test_steal_takes_half_from_head_and_returns_last() -> None:
    victim, thief = P(0), P(1)
    victim.status = thief.status = 1
    for g in gs(10):
        runq.runqput(victim, g, False)
    m = M()
    gp = runq.runqsteal(thief, victim, m, False)
    assert gp is not None and gp.goid == 5
    assert ids(thief.runq) == [1, 2, 3, 4]
    assert ids(victim.runq) == [6, 7, 8, 9, 10]


def test_steal_skips_goroutines_started_on_other_ms() -> None:
    victim, thief = P(0), P(1)
    other, me = M(), M()
    started = gs(4)
    fresh = gs(4, start=11)
    for a, b in zip(started, fresh):
        a.boundm = other
        runq.runqput(victim, a, False)
        runq.runqput(victim, b, False)
    mine = G()
    mine.goid = 99
    mine.boundm = me
    runq.runqput(victim, mine, False)
    gp = runq.runqsteal(thief, victim, me, False)
    taken = ids(thief.runq) + [gp.goid]  # type: ignore[union-attr]
    # 5 stealable (4 fresh + 1 bound to the thief): take 3 from the head, in order.
    assert taken == [11, 12, 13]
    assert all(g.boundm is not other for g in thief.runq)
    assert ids(victim.runq) == [1, 2, 3, 4, 14, 99]


def test_runnext_stolen_only_on_last_pass() -> None:
    victim, thief = P(0), P(1)
    victim.status = 0  # idle victim: no grace sleep
    (g,) = gs(1)
    runq.runqput(victim, g, True)
    m = M()
    assert runq.runqsteal(thief, victim, m, False) is None
    assert runq.runqsteal(thief, victim, m, True) is g
    assert victim.runnext == []


def test_runnext_of_another_m_is_not_stolen() -> None:
    victim, thief = P(0), P(1)
    victim.status = 0
    (g,) = gs(1)
    g.boundm = M()
    runq.runqput(victim, g, True)
    assert runq.runqsteal(thief, victim, M(), True) is None
    assert victim.runnext == [g]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 7, 12])
def test_random_order_visits_every_p_once(n: int) -> None:
    order = RandomOrder()
    order.reset(n)
    for r in range(50):
        assert sorted(order.start(r * 7919)) == list(range(n))
