"""gosched.context (API.md, "gosched.context"; Go's context.go): cancellation through the tree,
errors and their messages, deadlines and their timers, values, foreign parents, Go 1.20/1.21
extras (cause, with_cancel_cause, without_cancel, after_func), and use outside gosched.run."""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Callable
from typing import Any

import pytest

import gosched
from gosched import Chan, context, nilchan
from gosched.context import Canceled, Context, DeadlineExceeded
from gosched.sync import WaitGroup
from gosched.time import after, now

PROCS = [1, 2, 4]


def _is_closed(ch: Chan[Any]) -> bool:
    """Whether a receive from ch is ready and reports a closed channel (non-blocking)."""
    i, v = gosched.select(ch.recv_ok, gosched.default)
    return i == 0 and v == (None, False)


def _wait_done(ctx: Context, limit: float = 5.0) -> bool:
    """Wait for ctx.done() for at most limit seconds; report whether it closed."""
    i, _ = gosched.select(ctx.done().recv, after(limit).recv)
    return i == 0


class Foreign:
    """A Context of another implementation (Go's "foreign" context): its own done channel, no
    cancelCtx inside, so children need a goroutine to hear about its cancellation."""

    def __init__(self) -> None:
        self.ch: Chan[None] = Chan()
        self._err: Exception | None = None

    def deadline(self) -> float | None:
        return None

    def done(self) -> Chan[Any]:
        return self.ch

    def err(self) -> Exception | None:
        return self._err

    def value(self, key: object) -> Any:
        return "foreign-value" if key == "fk" else None

    def cancel(self, err: Exception) -> None:
        self._err = err
        self.ch.close()


# --- errors, reprs, the empty contexts ------------------------------------------------------


def test_error_types_and_messages() -> None:
    assert str(Canceled()) == "context canceled"
    assert str(DeadlineExceeded()) == "context deadline exceeded"
    assert issubclass(DeadlineExceeded, TimeoutError)
    assert not issubclass(DeadlineExceeded, Canceled)
    assert not issubclass(Canceled, DeadlineExceeded)
    with pytest.raises(TimeoutError, match=r"^context deadline exceeded$"):
        raise DeadlineExceeded()


@pytest.mark.parametrize("make", [context.background, context.todo])
def test_empty_contexts_are_never_cancelled(make: Callable[[], Context]) -> None:
    ctx = make()
    assert ctx is make()
    assert ctx.done() is nilchan
    assert ctx.err() is None
    assert ctx.deadline() is None
    assert ctx.value("anything") is None
    assert context.cause(ctx) is None
    assert isinstance(ctx, Context)


def test_reprs_follow_go_string() -> None:
    bg = context.background()
    assert repr(bg) == "context.Background"
    assert repr(context.todo()) == "context.TODO"
    c, cancel = context.with_cancel(bg)
    assert repr(c) == "context.Background.WithCancel"
    v = context.with_value(c, "k", "v1")
    assert repr(v) == "context.Background.WithCancel.WithValue(type str, val v1)"
    assert repr(context.with_value(bg, 1, 2)) == "context.Background.WithValue(type int, val 2)"
    assert repr(context.without_cancel(v)).endswith("WithValue(type str, val v1).WithoutCancel")
    c2, _ = context.with_cancel(context.todo())
    assert repr(c2) == "context.TODO.WithCancel"
    # A foreign parent without a repr of its own is named by its type.
    c3, _ = context.with_cancel_cause(_NeverDone())
    assert repr(c3) == "_NeverDone.WithCancel"
    cancel()
    expired, _ = context.with_deadline(bg, now() - 1)
    assert repr(expired).startswith("context.Background.WithDeadline(")
    assert repr(expired).endswith("s])")


class _NeverDone:
    def deadline(self) -> float | None:
        return None

    def done(self) -> Chan[Any]:
        return nilchan

    def err(self) -> Exception | None:
        return None

    def value(self, key: object) -> Any:
        return None


@pytest.mark.parametrize(
    ("ns", "want"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1100, "1.1µs"),
        (2_200_000, "2.2ms"),
        (3_300_000_000, "3.3s"),
        ((4 * 60 + 5) * 10**9, "4m5s"),
        (4 * 60 * 10**9 + 5_001_000_000, "4m5.001s"),
        ((5 * 3600 + 6 * 60) * 10**9 + 7_001_000_000, "5h6m7.001s"),
        (8 * 60 * 10**9 + 1, "8m0.000000001s"),
        ((1 << 63) - 1, "2562047h47m16.854775807s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
        (-1_500_000, "-1.5ms"),
    ],
)
def test_deadline_repr_uses_go_duration_format(ns: int, want: str) -> None:
    # Go's time.Duration.String test table (time_test.go durationTests).
    assert context._duration_string(ns) == want


def test_nil_parent_and_bad_keys_panic() -> None:
    for make in (
        lambda: context.with_cancel(None),  # type: ignore[arg-type]
        lambda: context.with_cancel_cause(None),  # type: ignore[arg-type]
        lambda: context.with_value(None, "k", 1),  # type: ignore[arg-type]
        lambda: context.without_cancel(None),  # type: ignore[arg-type]
        lambda: context.with_deadline(None, 0.0),  # type: ignore[arg-type]
    ):
        with pytest.raises(gosched.RuntimePanic, match=r"^cannot create context from nil parent$"):
            make()
    bg = context.background()
    with pytest.raises(gosched.RuntimePanic, match=r"^nil key$"):
        context.with_value(bg, None, 1)
    with pytest.raises(gosched.RuntimePanic, match=r"^key is not comparable$"):
        context.with_value(bg, [1], 1)


# --- values ---------------------------------------------------------------------------------


def test_value_lookup_through_the_chain() -> None:
    def main() -> None:
        k1, k2 = object(), object()
        bg = context.background()
        a = context.with_value(bg, k1, "a1")
        b, cancel_b = context.with_cancel(a)
        c = context.with_value(b, k2, "c2")
        d, cancel_d = context.with_timeout(c, 60)
        e = context.with_value(d, k1, "e1")  # shadows a's value for k1
        f = context.without_cancel(e)
        assert a.value(k1) == "a1" and a.value(k2) is None
        assert b.value(k1) == "a1"
        assert c.value(k1) == "a1" and c.value(k2) == "c2"
        assert d.value(k2) == "c2"
        assert e.value(k1) == "e1" and e.value(k2) == "c2"
        assert f.value(k1) == "e1" and f.value(k2) == "c2"
        assert f.value("missing") is None
        # Through a foreign context too.
        g = context.with_value(Foreign(), "x", 1)
        assert g.value("fk") == "foreign-value" and g.value("x") == 1
        cancel_d()
        cancel_b()

    gosched.run(main)


def test_value_keys_compare_like_go_interfaces() -> None:
    bg = context.background()
    ctx = context.with_value(bg, 1, "int")
    assert ctx.value(1) == "int"
    assert ctx.value(True) is None  # True == 1, but a bool is not an int key
    assert ctx.value(1.0) is None
    s = context.with_value(bg, "key", "str")
    assert s.value("".join(["k", "ey"])) == "str"  # equal, not identical


def test_long_chains_do_not_recurse() -> None:
    # Go walks values (and cancels subtrees) in loops; so must we, past the recursion limit.
    n = 5000
    root, cancel = context.with_cancel(context.background())
    ctx: Context = root
    for i in range(n):
        ctx = context.with_value(ctx, i, i)
        ctx, _ = context.with_cancel(ctx)
    assert ctx.value(0) == 0 and ctx.value(n - 1) == n - 1 and ctx.value(n) is None
    assert ctx.deadline() is None
    ctx.done()  # a channel for the deepest one, so that cancel has one to close
    cancel()
    assert isinstance(ctx.err(), Canceled)
    assert ctx.done().closed


# --- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_cancel_propagates_through_several_levels(procs: int) -> None:
    def main() -> None:
        root, cancel = context.with_cancel(context.background())
        levels: list[Context] = [root]
        for i in range(6):
            parent = context.with_value(levels[-1], "level", i) if i % 2 else levels[-1]
            child, _ = context.with_cancel(parent)
            levels.append(child)
        woke: Chan[int] = Chan(len(levels) * 3)
        wg = WaitGroup()
        for i, ctx in enumerate(levels):
            for _ in range(3):

                def waiter(i: int = i, ctx: Context = ctx) -> None:
                    ctx.done().recv()
                    woke.send(i)

                wg.go(waiter)
        for _ in range(10):
            gosched.gosched()
        assert len(woke) == 0
        assert all(c.err() is None for c in levels)
        cancel()
        # When cancel returns the whole subtree is cancelled, with the root's error.
        err = root.err()
        assert isinstance(err, Canceled)
        for c in levels:
            assert c.err() is err
            assert context.cause(c) is err
            assert _is_closed(c.done())
        wg.wait()
        assert sorted(woke.recv() or 0 for _ in range(len(woke))) == sorted(
            i for i in range(len(levels)) for _ in range(3)
        )

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_cancel_reaches_the_whole_tree(procs: int) -> None:
    def main() -> None:
        root, cancel = context.with_cancel(context.background())
        # (context, its cancel function, the index of its ancestor at depth 0)
        tree: list[tuple[Context, Callable[[], None], int]] = []
        level: list[tuple[Context, int]] = [(root, -1)]
        for depth in range(4):
            nxt: list[tuple[Context, int]] = []
            for parent, top in level:
                for k in range(3):
                    p = context.with_value(parent, depth, k) if k == 1 else parent
                    if (depth + k) % 3 == 0:
                        child, cancel_child = context.with_timeout(p, 60 + depth)
                    else:
                        child, cancel_child = context.with_cancel(p)
                    t = k if depth == 0 else top
                    tree.append((child, cancel_child, t))
                    nxt.append((child, t))
            level = nxt
        assert len(tree) == 3 + 9 + 27 + 81
        wg = WaitGroup()
        for c, _, _ in tree[::2]:  # done channels on half of them, waited on
            wg.go(c.done().recv)
        for _ in range(5):
            gosched.gosched()
        # The subtree under tree[1] is cancelled first and keeps its own error.
        first_ctx, first_cancel, _ = tree[1]
        first_cancel()
        first_err = first_ctx.err()
        cancel()
        wg.wait()
        err = root.err()
        assert isinstance(err, Canceled) and isinstance(first_err, Canceled)
        for c, _, top in tree:
            assert c.err() is (first_err if top == 1 else err)
            assert _is_closed(c.done())
            assert c._children is None  # type: ignore[attr-defined]
            if type(c).__name__ == "_TimerCtx":
                assert c._timer is None  # type: ignore[attr-defined]

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_cancel_of_child_does_not_cancel_parent(procs: int) -> None:
    def main() -> None:
        parent, cancel_parent = context.with_cancel(context.background())
        child, cancel_child = context.with_cancel(parent)
        sibling, cancel_sibling = context.with_cancel(parent)
        grandchild, _ = context.with_cancel(child)
        assert len(parent._children) == 2  # type: ignore[attr-defined]
        cancel_child()
        assert isinstance(child.err(), Canceled) and isinstance(grandchild.err(), Canceled)
        assert parent.err() is None and sibling.err() is None
        assert not _is_closed(parent.done()) and not _is_closed(sibling.done())
        # cancel removed the child from its parent; the sibling is still there.
        assert list(parent._children) == [sibling]  # type: ignore[attr-defined]
        cancel_sibling()
        assert parent._children == {}  # type: ignore[attr-defined]
        cancel_parent()
        assert parent._children is None  # type: ignore[attr-defined]

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_done_closes_exactly_once(procs: int) -> None:
    def main() -> None:
        parent, cancel_parent = context.with_cancel(context.background())
        ctx, cancel = context.with_cancel(parent)
        done = ctx.done()
        assert ctx.done() is done and ctx.err() is None
        wg = WaitGroup()
        # Many goroutines cancel at once, the parent too: no "close of closed channel" panic,
        # and every cancel call returns only once the context is cancelled.
        for i in range(40):

            def canceller(i: int = i) -> None:
                if i % 2:
                    gosched.gosched()
                (cancel_parent if i % 5 == 0 else cancel)()
                assert ctx.err() is not None

            wg.go(canceller)
        wg.wait()
        assert ctx.done() is done
        assert done.recv_ok() == (None, False)
        err = ctx.err()
        assert isinstance(err, Canceled)
        cancel()
        cancel_parent()
        assert ctx.err() is err  # the same error on every call
        with pytest.raises(gosched.RuntimePanic, match="close of closed channel"):
            done.close()

    gosched.run(main, gomaxprocs=procs)


def test_done_after_cancel_is_closed_without_a_channel_of_its_own() -> None:
    def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        cancel()  # before anyone asked for done(): Go's shared closedchan
        assert _is_closed(ctx.done())
        other, cancel2 = context.with_cancel(context.background())
        cancel2()
        assert other.done() is ctx.done()
        # A child of a cancelled context is cancelled at birth with the parent's error.
        child, _ = context.with_cancel(ctx)
        assert child.err() is ctx.err()

    gosched.run(main)


def test_second_cancel_waits_for_the_first_to_close_done() -> None:
    # The first cancel claims the context and closes its channel with no lock held; a second
    # cancel arriving in between must not return before the channel is closed. A done
    # channel whose close() parks for a moment holds the first canceller in that window.
    class SlowClose(Chan[None]):
        __slots__ = ()

        def close(self) -> None:
            gosched.sleep(0.02)
            super().close()

    def main() -> None:
        parent, cancel_parent = context.with_cancel(context.background())
        ctx, cancel = context.with_cancel(parent)
        ctx._done = SlowClose()  # type: ignore[attr-defined]
        order: list[str] = []

        def first() -> None:
            cancel_parent()
            order.append("first returned")

        wg = WaitGroup()
        wg.go(first)
        gosched.gosched()  # first is now inside close()
        assert ctx._err is not None, "first has claimed the context"  # type: ignore[attr-defined]
        assert ctx.err() is None, "err() must stay None until done is closed"
        assert context.cause(ctx) is None
        start = now()
        cancel()
        assert now() - start >= 0.01, "the second cancel waited for the first one's close"
        assert isinstance(ctx.err(), Canceled)
        assert _is_closed(ctx.done())
        wg.wait()
        assert order == ["first returned"]

    gosched.run(main)


def test_contexts_work_outside_run() -> None:
    # Creating and cancelling contexts needs no runtime (done channels are made lazily).
    parent, cancel_parent = context.with_cancel(context.background())
    child, _ = context.with_cancel(context.with_value(parent, "k", "v"))
    done = child.done()
    cancel_parent()
    assert isinstance(child.err(), Canceled)
    assert done.closed

    def main() -> None:
        assert _is_closed(done)
        assert child.value("k") == "v"

    gosched.run(main)
    # An expired deadline arms no timer, so it works outside run too.
    expired, cancel = context.with_deadline(context.background(), now() - 1)
    assert isinstance(expired.err(), DeadlineExceeded)
    cancel()
    assert isinstance(expired.err(), DeadlineExceeded)


def test_cancel_after_run_of_a_context_waited_on_in_that_run() -> None:
    ctx, cancel = context.with_cancel(context.background())

    def main() -> None:
        gosched.go(ctx.done().recv)  # parked on done when main returns, then killed
        gosched.gosched()

    gosched.run(main)
    cancel()
    assert ctx.done().closed and isinstance(ctx.err(), Canceled)
    assert gosched.run(lambda: _is_closed(ctx.done()))


def test_timer_and_after_func_need_a_goroutine() -> None:
    with pytest.raises(RuntimeError, match="not called from a goroutine"):
        context.with_timeout(context.background(), 1)
    with pytest.raises(RuntimeError, match="not called from a goroutine"):
        context.after_func(context.background(), lambda: None)


def test_cancel_from_a_plain_thread_during_run_wakes_goroutines() -> None:
    """API.md: a plain thread may cancel a context while a run is active."""

    def main() -> list[Any]:
        ctx, cancel = context.with_cancel(context.background())
        woke = gosched.Chan[str](1)
        gosched.go(lambda: (ctx.done().recv(), woke.send("woken")))
        t = threading.Thread(target=lambda: (_time.sleep(0.05), cancel()))
        t.start()
        got = woke.recv()
        t.join()
        return [got, type(ctx.err()).__name__]

    assert gosched.run(main) == ["woken", "Canceled"]


# --- deadlines and timers -----------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_with_timeout_fires(procs: int) -> None:
    def main() -> None:
        start = now()
        ctx, cancel = context.with_timeout(context.background(), 0.03)
        assert ctx.deadline() == pytest.approx(start + 0.03, abs=0.01)
        child, _ = context.with_cancel(context.with_value(ctx, "k", 1))
        assert ctx.err() is None
        assert _wait_done(ctx)
        elapsed = now() - start
        assert 0.025 <= elapsed < 2.0
        err = ctx.err()
        assert isinstance(err, DeadlineExceeded) and isinstance(err, TimeoutError)
        assert str(err) == "context deadline exceeded"
        assert child.err() is err and _is_closed(child.done())
        assert context.cause(ctx) is err
        cancel()  # after the deadline: changes nothing
        assert ctx.err() is err

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_parent_deadline_cancels_children(procs: int) -> None:
    def main() -> None:
        parent, cancel_parent = context.with_timeout(context.background(), 0.03)
        children = [context.with_cancel(parent)[0] for _ in range(5)]
        longer, cancel_longer = context.with_timeout(parent, 30)
        results = Chan[bool](len(children) + 1)
        for c in [*children, longer]:
            gosched.go(lambda c=c: results.send(_wait_done(c)))
        assert all(results.recv() for _ in range(len(children) + 1))
        for c in [*children, longer]:
            assert isinstance(c.err(), DeadlineExceeded)
        cancel_longer()
        cancel_parent()

    gosched.run(main, gomaxprocs=procs)


def test_deadline_is_the_earlier_of_own_and_parents() -> None:
    def main() -> None:
        t = now()
        parent, cancel_parent = context.with_deadline(context.background(), t + 10)
        assert parent.deadline() == t + 10
        # A later deadline than the parent's: just a cancelCtx under the parent's deadline.
        later, cancel_later = context.with_deadline(parent, t + 20)
        assert later.deadline() == t + 10
        assert repr(later).endswith(".WithCancel")
        same, cancel_same = context.with_timeout(context.with_value(parent, "k", "v"), 60)
        assert same.deadline() == t + 10
        # An earlier one: its own timer and deadline.
        sooner, cancel_sooner = context.with_deadline(parent, t + 5)
        assert sooner.deadline() == t + 5
        assert ".WithDeadline(" in repr(sooner)
        assert context.with_value(sooner, 1, 2).deadline() == t + 5
        grandchild, _ = context.with_cancel(sooner)
        assert grandchild.deadline() == t + 5
        assert context.without_cancel(sooner).deadline() is None
        # Cancelling the parent cancels them all with Canceled, not DeadlineExceeded.
        cancel_parent()
        for c in (later, same, sooner, grandchild):
            assert isinstance(c.err(), Canceled)
        for cancel in (cancel_later, cancel_same, cancel_sooner):
            cancel()

    gosched.run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_deadline_already_past(procs: int) -> None:
    def main() -> None:
        bg = context.background()
        for ctx, cancel in (
            context.with_deadline(bg, now() - 1),
            context.with_deadline(bg, now()),
            context.with_timeout(bg, 0),
            context.with_timeout(bg, -5),
            context.with_deadline_cause(bg, now() - 1, KeyError("late")),
        ):
            assert isinstance(ctx.err(), DeadlineExceeded)
            assert _is_closed(ctx.done())
            cancel()
            assert isinstance(ctx.err(), DeadlineExceeded)
        parent, cancel_parent = context.with_cancel(bg)
        expired, _ = context.with_timeout(parent, -1)
        assert isinstance(expired.err(), DeadlineExceeded)
        assert parent._children == {}  # type: ignore[attr-defined]
        cancel_parent()

    gosched.run(main, gomaxprocs=procs)


def _time_to_deadlock(main: Callable[[], None]) -> float:
    start = _time.monotonic()
    with pytest.raises(gosched.Deadlock):
        gosched.run(main)
    return _time.monotonic() - start


def test_cancel_stops_the_timer() -> None:
    def main() -> None:
        ctx, cancel = context.with_timeout(context.background(), 30)
        t = ctx._timer  # type: ignore[attr-defined]
        assert t is not None
        cancel()
        assert isinstance(ctx.err(), Canceled)
        assert ctx._timer is None  # type: ignore[attr-defined]
        assert t.stop() is False  # cancel stopped it (it cannot have fired yet)

    gosched.run(main)


def test_cancelling_the_parent_stops_the_childrens_timers() -> None:
    def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        kids = [context.with_timeout(parent, 30 + i)[0] for i in range(3)]
        grandkid, _ = context.with_timeout(kids[0], 20)
        timers = [c._timer for c in [*kids, grandkid]]  # type: ignore[attr-defined]
        cancel()
        assert isinstance(grandkid.err(), Canceled)
        assert [t.stop() for t in timers] == [False] * 4

    gosched.run(main)


def test_expired_timer_cancels_and_is_forgotten() -> None:
    def main() -> None:
        ctx, cancel = context.with_timeout(context.background(), 0.01)
        assert _wait_done(ctx)
        assert ctx._timer is None  # type: ignore[attr-defined]
        cancel()

    gosched.run(main)


def test_leaked_timer_postpones_deadlock() -> None:
    # What the tests above guard against: the runtime postpones deadlock detection while a
    # timer is pending, so a context timer that is never stopped keeps a deadlocked program
    # alive until it fires.
    def main() -> None:
        context.with_timeout(context.background(), 0.2)
        nilchan.recv()

    assert _time_to_deadlock(main) >= 0.2


def test_cancelled_timeout_does_not_postpone_deadlock() -> None:
    # The runtime postpones deadlock detection while a timer is pending: a cancelled
    # with_timeout whose timer leaked would keep this program "alive" for 30 s.
    def main() -> None:
        _, cancel = context.with_timeout(context.background(), 30)
        cancel()
        nilchan.recv()

    assert _time_to_deadlock(main) < 5


def test_cancelled_parent_does_not_leave_timers_postponing_deadlock() -> None:
    def main() -> None:
        parent, cancel = context.with_cancel(context.background())
        kid, _ = context.with_timeout(parent, 30)
        context.with_timeout(kid, 20)
        cancel()
        nilchan.recv()

    assert _time_to_deadlock(main) < 5


@pytest.mark.parametrize("procs", [2, 4])
def test_cancel_from_another_m_wakes_a_waiter_promptly(procs: int) -> None:
    # main waits in a select beside a far timer, so its M, with nothing else to run, sleeps
    # until that timer; the cancel comes from a goroutine on another M and must wake it at
    # once (proc.startlockedm hands main to its sleeping M).
    def main() -> float:
        ctx, cancel = context.with_cancel(context.background())
        started = threading.Event()

        def w() -> None:
            started.set()
            _time.sleep(0.1)  # W's M blocks in user code
            cancel()

        gosched.go(w)
        assert started.wait(2)  # W runs on another M
        far = after(2)
        start = _time.monotonic()
        i, _ = gosched.select(ctx.done().recv, far.recv)
        assert i == 0
        return _time.monotonic() - start

    assert gosched.run(main, gomaxprocs=procs) < 1


def test_cancelled_timeout_lets_run_return_promptly() -> None:
    def main() -> int:
        ctx, cancel = context.with_timeout(context.background(), 30)
        gosched.go(ctx.done().recv)
        gosched.gosched()
        cancel()
        return 7

    start = _time.monotonic()
    assert gosched.run(main) == 7
    assert _time.monotonic() - start < 5


# --- foreign parents ----------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_foreign_parent_propagates_through_a_goroutine(procs: int) -> None:
    def main() -> None:
        parent = Foreign()
        before = gosched.num_goroutine()
        child, cancel = context.with_cancel(parent)
        grandchild, _ = context.with_cancel(child)  # one of ours: no goroutine
        assert gosched.num_goroutine() == before + 1
        assert child.value("fk") == "foreign-value"
        gosched.gosched()
        assert child.err() is None
        err = KeyError("foreign cancelled")
        parent.cancel(err)
        assert _wait_done(grandchild)
        assert child.err() is err and grandchild.err() is err
        assert context.cause(child) is err  # Cause of a foreign parent is its err()
        _wait_for_goroutines(before)
        cancel()

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_foreign_parent_watcher_ends_when_the_child_is_cancelled(procs: int) -> None:
    def main() -> None:
        parent = Foreign()
        before = gosched.num_goroutine()
        child, cancel = context.with_cancel(parent)
        assert gosched.num_goroutine() == before + 1
        cancel()
        _wait_for_goroutines(before)
        assert isinstance(child.err(), Canceled)
        assert parent.err() is None

    gosched.run(main, gomaxprocs=procs)


def test_foreign_parent_already_done() -> None:
    def main() -> None:
        parent = Foreign()
        err = ValueError("gone")
        parent.cancel(err)
        before = gosched.num_goroutine()
        child, _ = context.with_cancel(parent)
        assert child.err() is err
        assert gosched.num_goroutine() == before

    gosched.run(main)


def test_gosched_parents_need_no_goroutine() -> None:
    def main() -> None:
        before = gosched.num_goroutine()
        root, cancel = context.with_cancel(context.background())
        a = context.with_value(root, "k", 1)
        b, _ = context.with_timeout(a, 30)
        c, _ = context.with_cancel(context.with_value(b, "j", 2))
        context.after_func(c, lambda: None)
        assert gosched.num_goroutine() == before
        cancel()
        assert isinstance(c.err(), Canceled)

    gosched.run(main)


def test_foreign_wrapper_of_a_gosched_context_is_recognised() -> None:
    # A wrapper whose done() is its inner context's channel and whose value() delegates is
    # treated as that context (Go's parentCancelCtx): no goroutine, direct registration.
    class Wrapper:
        def __init__(self, inner: Context) -> None:
            self.inner = inner

        def deadline(self) -> float | None:
            return self.inner.deadline()

        def done(self) -> Chan[Any]:
            return self.inner.done()

        def err(self) -> Exception | None:
            return self.inner.err()

        def value(self, key: object) -> Any:
            return self.inner.value(key)

    def main() -> None:
        inner, cancel = context.with_cancel(context.background())
        before = gosched.num_goroutine()
        child, _ = context.with_cancel(Wrapper(inner))
        assert gosched.num_goroutine() == before
        assert list(inner._children) == [child]  # type: ignore[attr-defined]
        cancel()
        assert isinstance(child.err(), Canceled)

    gosched.run(main)


def _wait_for_goroutines(n: int) -> None:
    for _ in range(500):
        if gosched.num_goroutine() <= n:
            return
        gosched.sleep(0.001)
    raise AssertionError(f"{gosched.num_goroutine()} goroutines, want {n}")


# --- Go 1.20/1.21: cause, with_cancel_cause, without_cancel, after_func -------------------


def test_with_cancel_cause() -> None:
    def main() -> None:
        ctx, cancel = context.with_cancel_cause(context.background())
        child, _ = context.with_cancel(context.with_value(ctx, "k", 1))
        assert context.cause(ctx) is None
        why = ConnectionResetError("peer went away")
        cancel(why)
        assert isinstance(ctx.err(), Canceled)
        assert context.cause(ctx) is why and context.cause(child) is why
        cancel(ValueError("later"))  # the first cause stays
        assert context.cause(ctx) is why
        plain, cancel_plain = context.with_cancel_cause(context.background())
        cancel_plain()
        assert context.cause(plain) is plain.err()

    gosched.run(main)


def test_with_timeout_cause() -> None:
    def main() -> None:
        why = TimeoutError("took too long")
        ctx, cancel = context.with_timeout_cause(context.background(), 0.02, why)
        assert _wait_done(ctx)
        assert isinstance(ctx.err(), DeadlineExceeded)
        assert context.cause(ctx) is why
        cancel()

    gosched.run(main)


def test_without_cancel() -> None:
    def main() -> None:
        parent, cancel = context.with_timeout(context.with_value(context.background(), 1, 2), 30)
        detached = context.without_cancel(parent)
        child, cancel_child = context.with_cancel(detached)
        cancel()
        assert isinstance(parent.err(), Canceled)
        assert detached.err() is None and detached.done() is nilchan
        assert detached.deadline() is None and detached.value(1) == 2
        assert context.cause(detached) is None
        assert child.err() is None
        cancel_child()

    gosched.run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_after_func_runs_f_in_a_goroutine_on_cancel(procs: int) -> None:
    def main() -> None:
        ctx, cancel = context.with_cancel(context.background())
        ran = Chan[tuple[int, Exception | None]](1)
        stop = context.after_func(ctx, lambda: ran.send((gosched.goid(), ctx.err())))
        gosched.gosched()
        assert len(ran) == 0
        cancel()
        goid, err = ran.recv()  # type: ignore[misc]
        assert goid != gosched.goid() and isinstance(err, Canceled)
        assert stop() is False  # f has been started
        # Already cancelled: f starts at once.
        again = Chan[int](1)
        assert context.after_func(ctx, lambda: again.send(1))() is False
        assert again.recv() == 1

    gosched.run(main, gomaxprocs=procs)


def test_after_func_stop_before_cancel() -> None:
    def main() -> None:
        ctx, cancel = context.with_timeout(context.background(), 0.01)
        ran: list[int] = []
        stop = context.after_func(ctx, lambda: ran.append(1))
        assert stop() is True
        assert stop() is False
        assert ctx._children == {}  # type: ignore[attr-defined]
        assert _wait_done(ctx)
        gosched.sleep(0.01)
        assert ran == []
        cancel()

    gosched.run(main)
