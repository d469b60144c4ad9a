"""gosched.errgroup (API.md, "gosched.errgroup"; golang.org/x/sync/errgroup): wait, the first
error, context cancellation, the concurrency limit, try_go, and what is not an error."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import gosched
from gosched import Chan, context, errgroup
from gosched.context import Canceled
from gosched.time import after

PROCS = [1, 2, 4]


class Boom(Exception):
    pass


@pytest.mark.parametrize("procs", PROCS)
def test_wait_returns_after_all_goroutines(procs: int) -> None:
    def main() -> list[int]:
        g = errgroup.Group()
        out: list[int] = []
        lock = threading.Lock()

        def work(i: int, *, delay: float) -> None:
            gosched.sleep(delay)
            for _ in range(i % 3):
                gosched.gosched()
            with lock:
                out.append(i)

        for i in range(30):
            g.go(work, i, delay=0.001 * (i % 4))
        assert g.wait() is None  # type: ignore[func-returns-value]
        return out

    out = gosched.run(main, gomaxprocs=procs)
    assert sorted(out) == list(range(30))


def test_zero_value_group() -> None:
    def main() -> None:
        g = errgroup.Group()
        assert g.wait() is None  # type: ignore[func-returns-value]
        assert g.wait() is None  # type: ignore[func-returns-value]

    gosched.run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_first_error_is_raised_later_ones_ignored(procs: int) -> None:
    def main() -> None:
        # The later failures wait for the context, which is cancelled once the first error
        # has been recorded.
        g, ctx = errgroup.with_context(context.background())
        first = Boom("first")
        finished: list[int] = []

        def fail_first() -> None:
            raise first

        def fail_later() -> None:
            ctx.done().recv()
            raise KeyError("later")

        def ok(i: int) -> None:
            gosched.gosched()
            finished.append(i)

        g.go(fail_first)
        for i in range(5):
            g.go(ok, i)
        g.go(fail_later)
        g.go(fail_later)
        with pytest.raises(Boom) as ei:
            g.wait()
        assert ei.value is first
        assert sorted(finished) == list(range(5))  # wait waited for all of them
        with pytest.raises(Boom) as ei2:
            g.wait()  # every call reports it
        assert ei2.value is first

    gosched.run(main, gomaxprocs=procs)


def test_error_is_not_a_panic() -> None:
    # The goroutine's exception is the group's error, not a panic that ends the program.
    def main() -> str:
        g = errgroup.Group()
        g.go(lambda: 1 / 0)
        try:
            g.wait()
        except ZeroDivisionError as e:
            return type(e).__name__
        return "no error"

    assert gosched.run(main) == "ZeroDivisionError"


@pytest.mark.parametrize("procs", PROCS)
def test_with_context_cancels_on_first_error(procs: int) -> None:
    def main() -> None:
        parent, cancel_parent = context.with_cancel(context.background())
        g, ctx = errgroup.with_context(parent)
        assert ctx.err() is None
        saw: list[Any] = []
        lock = threading.Lock()

        def worker() -> None:
            ctx.done().recv()
            with lock:
                saw.append(ctx.err())

        for _ in range(4):
            g.go(worker)
        err = Boom("stop everything")

        def fail() -> None:
            gosched.sleep(0.01)
            raise err

        g.go(fail)
        ctx.done().recv()
        assert isinstance(ctx.err(), Canceled)
        assert context.cause(ctx) is err
        assert parent.err() is None  # the parent is not cancelled
        with pytest.raises(Boom):
            g.wait()
        assert len(saw) == 4
        assert all(isinstance(e, Canceled) for e in saw)
        cancel_parent()

    gosched.run(main, gomaxprocs=procs)


def test_with_context_cancelled_when_wait_returns() -> None:
    def main() -> None:
        g, ctx = errgroup.with_context(context.background())
        g.go(gosched.gosched)
        g.go(lambda: None)
        assert g.wait() is None  # type: ignore[func-returns-value]
        assert isinstance(ctx.err(), Canceled)
        assert context.cause(ctx) is ctx.err()

    gosched.run(main)


def test_with_context_cancelled_with_the_parent() -> None:
    def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        g, ctx = errgroup.with_context(parent)
        g.go(lambda: ctx.done().recv())
        cancel()
        assert g.wait() is None  # type: ignore[func-returns-value]
        assert ctx.err() is parent.err()

    gosched.run(main)


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("limit", [1, 3])
def test_set_limit_bounds_concurrency(procs: int, limit: int) -> None:
    def main() -> int:
        g = errgroup.Group()
        g.set_limit(limit)
        lock = threading.Lock()
        active = 0
        max_active = 0

        def work() -> None:
            nonlocal active, max_active
            with lock:
                active += 1
                max_active = max(max_active, active)
            for _ in range(5):
                gosched.gosched()
            with lock:
                active -= 1

        for _ in range(20):
            g.go(work)
            assert len(g._sem) <= limit  # type: ignore[arg-type]
        g.wait()
        assert active == 0
        return max_active

    max_active = gosched.run(main, gomaxprocs=procs)
    # With one P the workers interleave deterministically and fill every slot; with more,
    # a loaded machine may let some finish before others start.
    assert max_active == limit if procs == 1 else 1 <= max_active <= limit


@pytest.mark.parametrize("procs", PROCS)
def test_set_limit_admits_exactly_limit_at_a_time(procs: int) -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(3)
        started: Chan[int] = Chan(10)
        release: Chan[None] = Chan()

        def work(i: int) -> None:
            started.send(i)
            release.recv()

        def starter() -> None:
            for i in range(5):
                g.go(work, i)

        gosched.go(starter)
        first = {started.recv() for _ in range(3)}
        assert first == {0, 1, 2}
        i, _ = gosched.select(started.recv, after(0.05).recv)
        assert i == 1, "a fourth goroutine started while three were active"
        release.send(None)
        assert started.recv() == 3
        release.send(None)
        assert started.recv() == 4
        for _ in range(3):
            release.send(None)
        g.wait()

    gosched.run(main, gomaxprocs=procs)


def test_go_blocks_at_the_limit_until_a_slot_frees() -> None:
    def main() -> list[str]:
        g = errgroup.Group()
        g.set_limit(1)
        release = Chan[None]()
        log: list[str] = []

        def first() -> None:
            release.recv()
            log.append("first done")

        g.go(first)

        def starter() -> None:
            g.go(lambda: log.append("second ran"))
            log.append("second started")

        gosched.go(starter)
        gosched.sleep(0.01)
        assert log == []  # starter is blocked in g.go
        release.send(None)
        g.wait()
        gosched.sleep(0.01)
        return log

    log = gosched.run(main)
    assert log[0] == "first done"
    assert sorted(log[1:]) == ["second ran", "second started"]


@pytest.mark.parametrize("procs", PROCS)
def test_try_go_at_the_limit_returns_false(procs: int) -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(2)
        release = Chan[None]()
        ran: list[int] = []
        assert g.try_go(release.recv)
        assert g.try_go(release.recv)
        assert not g.try_go(ran.append, 3)
        release.close()
        g.wait()
        assert g.try_go(ran.append, 4)
        g.wait()
        assert ran == [4]

    gosched.run(main, gomaxprocs=procs)


def test_try_go_without_limit_always_starts() -> None:
    def main() -> list[int]:
        g = errgroup.Group()
        ran: list[int] = []
        for i in range(10):
            assert g.try_go(ran.append, i)
        g.wait()
        return ran

    assert sorted(gosched.run(main)) == list(range(10))


def test_set_limit_while_active_panics() -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(3)
        release = Chan[None]()
        g.go(release.recv)
        g.go(release.recv)
        with pytest.raises(gosched.RuntimePanic) as ei:
            g.set_limit(5)
        assert str(ei.value) == (
            "errgroup: modify limit while 2 goroutines in the group are still active"
        )
        release.close()
        g.wait()
        g.set_limit(5)  # nothing active: fine
        g.set_limit(-1)  # no limit
        for _ in range(10):
            assert g.try_go(gosched.gosched)
        g.set_limit(-1)  # removing the limit is allowed while active, as in x/sync
        g.wait()

    gosched.run(main)


def test_set_limit_zero_blocks_everything() -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(0)
        assert not g.try_go(lambda: None)
        assert g.wait() is None  # type: ignore[func-returns-value]

    gosched.run(main)


def test_go_of_non_callable_raises_at_call_site() -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(1)
        with pytest.raises(TypeError, match="go of nil func value"):
            g.go(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="go of nil func value"):
            g.try_go(42)  # type: ignore[arg-type]
        assert len(g._sem) == 0  # type: ignore[arg-type]

    gosched.run(main)


def test_goexit_in_a_group_goroutine_is_not_an_error() -> None:
    def main() -> None:
        g = errgroup.Group()
        g.set_limit(1)
        g.go(gosched.goexit)
        g.go(lambda: None)  # the slot was freed by goexit's unwinding
        assert g.wait() is None  # type: ignore[func-returns-value]

    gosched.run(main)


class Fatal(BaseException):
    pass


def test_base_exception_escapes_as_a_panic() -> None:
    def main() -> None:
        g = errgroup.Group()

        def die() -> None:
            raise Fatal("not an error")

        g.go(die)
        g.wait()
        gosched.sleep(10)

    with pytest.raises(Fatal, match="not an error"):
        gosched.run(main)


def test_repr() -> None:
    def main() -> None:
        g = errgroup.Group()
        assert repr(g) == "<gosched.errgroup.Group limit=none>"
        g.set_limit(2)
        release = Chan[None]()
        g.go(release.recv)
        assert repr(g) == "<gosched.errgroup.Group limit=1/2>"
        release.close()
        g.wait()

    gosched.run(main)
