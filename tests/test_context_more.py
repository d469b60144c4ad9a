"""gosched.context, Go semantics II: afterFuncer parents (Go 1.21's propagateCancel), the
str()/repr() forms of contexts (Go's String methods, contextName, stringify), and the argument
checks of the deadline functions.

Ports of Go's tests (go/src/context: afterfunc_test.go's TestCustomContextAfterFunc*,
x_test.go's TestCustomContextPropagation, TestCustomContextCause, TestAfterFunc*,
context_test.go's XTestCustomContextGoroutines) where they make sense here; what Go prints at
GOMAXPROCS=1 is pinned against real Go in conformance/test_context_ordering.py.
Scheduling-dependent tests run at 1, 2 and 4 Ps.
"""

from __future__ import annotations

import re
import threading
import time as _time
from collections.abc import Callable
from typing import Any

import pytest

import gosched
from gosched import Chan, context, nilchan
from gosched.context import Canceled, Context, DeadlineExceeded
from gosched.time import after, now

from .conftest import run_program

PROCS = [1, 2, 4]
LONG = 3600.0  # Go's veryLongDuration: never reached in a test


def _wait_done(ctx: Context, limit: float = 5.0) -> bool:
    """Wait for ctx.done() for at most limit seconds; report whether it closed."""
    i, _ = gosched.select(ctx.done().recv, after(limit).recv)
    return i == 0


class AfterFuncContext:
    """Go's afterFuncContext (afterfunc_test.go): a context of another type with an
    after_func(f) -> stop method. cancel runs the registered functions, each in its own
    goroutine (sync=False, as Go's test does) or in the caller in registration order."""

    def __init__(self, sync: bool = False) -> None:
        self.mu = threading.Lock()
        self.after_funcs: dict[int, Callable[[], None]] = {}
        self.ch: Chan[None] = Chan()
        self._err: Exception | None = None
        self.sync = sync
        self.registered = 0
        self.stops: list[tuple[int, bool]] = []  # (key, result) of every stop call
        self._next = 0

    def deadline(self) -> float | None:
        return None

    def done(self) -> Chan[Any]:
        return self.ch

    def err(self) -> Exception | None:
        with self.mu:
            return self._err

    def value(self, key: object) -> Any:
        return "afc-value" if key == "afc" else None

    def after_func(self, f: Callable[[], None]) -> Callable[[], bool]:
        with self.mu:
            self._next += 1
            k = self._next
            self.after_funcs[k] = f
            self.registered += 1

        def stop() -> bool:
            with self.mu:
                ok = self.after_funcs.pop(k, None) is not None
                self.stops.append((k, ok))
            return ok

        return stop

    def cancel(self, err: Exception) -> None:
        with self.mu:
            if self._err is not None:
                return
            self._err = err
            fs = list(self.after_funcs.values())
            self.after_funcs = {}
        self.ch.close()
        for f in fs:
            if self.sync:
                f()
            else:
                gosched.go(f)


# --- afterFuncer: Go's afterfunc_test.go ----------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_custom_context_after_func_cancel(procs: int) -> None:
    """TestCustomContextAfterFuncCancel: the child hears of the parent through after_func,
    with the parent's err and cause, and no goroutine watches the parent."""

    def main() -> None:
        ctx0 = AfterFuncContext()
        before = gosched.num_goroutine()
        ctx1, cancel = context.with_cancel(ctx0)
        grandchild, _ = context.with_cancel(context.with_value(ctx1, "k", 1))
        assert gosched.num_goroutine() == before  # no watcher goroutine
        assert ctx0.registered == 1  # the grandchild registered in ctx1, not in ctx0
        assert ctx1.value("afc") == "afc-value" and grandchild.value("k") == 1
        err = KeyError("parent gone")
        ctx0.cancel(err)
        assert _wait_done(grandchild)
        assert ctx1.err() is err and grandchild.err() is err
        assert context.cause(ctx1) is err  # Cause of a foreign parent is its err()
        cancel()
        assert ctx0.stops == []  # cancelled by the parent: a cancelCtx does not call stop

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_custom_context_after_func_timeout(procs: int) -> None:
    """TestCustomContextAfterFuncTimeout."""

    def main() -> None:
        ctx0 = AfterFuncContext()
        ctx1, cancel = context.with_timeout(ctx0, LONG)
        assert ctx0.registered == 1
        ctx0.cancel(Canceled())
        assert _wait_done(ctx1)
        assert isinstance(ctx1.err(), Canceled)
        cancel()
        # A timerCtx calls stop on every cancel (Go's timerCtx.cancel): f has run, so False.
        assert ctx0.stops == [(1, False)]

    gosched.run(main, gomaxprocs=procs)


@pytest.mark.parametrize("procs", PROCS)
def test_custom_context_after_func_after_func(procs: int) -> None:
    """TestCustomContextAfterFuncAfterFunc: context.after_func registers through the parent's
    after_func; f runs in a goroutine of its own."""

    def main() -> None:
        ctx0 = AfterFuncContext()
        donec = Chan[int]()
        stop = context.after_func(ctx0, lambda: donec.close())
        assert ctx0.registered == 1
        ctx0.cancel(Canceled())
        i, _ = gosched.select(donec.recv, after(5).recv)
        assert i == 0
        assert stop() is False

    gosched.run(main, gomaxprocs=procs)


def test_custom_context_after_func_unregister_cancel() -> None:
    """TestCustomContextAfterFuncUnregisterCancel: a child cancelled first unregisters."""
    ctx0 = AfterFuncContext()
    _, cancel1 = context.with_cancel(ctx0)
    _, cancel2 = context.with_cancel(ctx0)
    assert len(ctx0.after_funcs) == 2
    cancel1()
    cancel2()
    assert len(ctx0.after_funcs) == 0
    assert ctx0.stops == [(1, True), (2, True)]
    cancel1()  # already cancelled: a cancelCtx does not call stop again
    assert ctx0.stops == [(1, True), (2, True)]


def test_custom_context_after_func_unregister_timeout() -> None:
    """TestCustomContextAfterFuncUnregisterTimeout."""

    def main() -> None:
        ctx0 = AfterFuncContext()
        _, cancel = context.with_timeout(ctx0, LONG)
        assert len(ctx0.after_funcs) == 1
        cancel()
        assert len(ctx0.after_funcs) == 0
        cancel()  # a timerCtx calls stop again, as Go's does
        assert ctx0.stops == [(1, True), (1, False)]

    gosched.run(main)


def test_custom_context_after_func_unregister_after_func() -> None:
    """TestCustomContextAfterFuncUnregisterAfterFunc."""

    def main() -> None:
        ctx0 = AfterFuncContext()
        ran: list[int] = []
        stop = context.after_func(ctx0, lambda: ran.append(1))
        assert len(ctx0.after_funcs) == 1
        assert stop() is True
        assert len(ctx0.after_funcs) == 0
        assert stop() is False
        ctx0.cancel(Canceled())
        gosched.sleep(0.01)
        assert ran == []

    gosched.run(main)


def test_expired_deadline_unregisters_at_once() -> None:
    # Go's WithDeadline registers (propagateCancel), then cancels with removeFromParent.
    ctx0 = AfterFuncContext()
    ctx, cancel = context.with_deadline(ctx0, now() - 1)
    assert isinstance(ctx.err(), DeadlineExceeded)
    assert ctx0.registered == 1 and ctx0.stops == [(1, True)]
    cancel()  # Go's cancel of an expired context does not remove it again
    assert ctx0.stops == [(1, True)]


def test_timer_of_a_child_of_an_after_funcer_is_stopped() -> None:
    def main() -> None:
        ctx0 = AfterFuncContext(sync=True)
        ctx, cancel = context.with_timeout(ctx0, 0.05)
        ctx0.cancel(ValueError("first"))
        assert isinstance(ctx.err(), ValueError)  # synchronous f: already cancelled
        gosched.sleep(0.1)  # the deadline passes: nothing changes
        assert isinstance(ctx.err(), ValueError)
        cancel()

    gosched.run(main)


def test_after_funcer_already_done_is_not_asked() -> None:
    # Go's propagateCancel looks at Done first: a parent already done cancels the child at
    # birth, and its AfterFunc is not called.
    ctx0 = AfterFuncContext()
    err = ValueError("gone")
    gosched.run(lambda: ctx0.cancel(err))
    child, cancel = context.with_cancel(ctx0)
    assert child.err() is err and ctx0.registered == 0
    assert str(child) == f"{__name__}.AfterFuncContext.WithCancel"  # not a stopCtx
    cancel()
    assert ctx0.stops == []


def test_after_funcer_needs_no_goroutine() -> None:
    """Outside a run no goroutine could watch a foreign parent; an afterFuncer needs none
    (XTestCustomContextGoroutines: no goroutine for a parent that can register)."""
    ctx0 = AfterFuncContext(sync=True)
    child, cancel = context.with_cancel(ctx0)
    done = child.done()
    assert ctx0.registered == 1
    err = OSError("closed")
    gosched.run(lambda: ctx0.cancel(err))
    assert done.closed and child.err() is err
    cancel()

    class Plain:  # a foreign parent without after_func still needs a goroutine
        def __init__(self) -> None:
            self.ch: Chan[None] = Chan()

        def deadline(self) -> float | None:
            return None

        def done(self) -> Chan[Any]:
            return self.ch

        def err(self) -> Exception | None:
            return None

        def value(self, key: object) -> Any:
            return None

    with pytest.raises(RuntimeError, match=r"context\.with_cancel.*not called from a goroutine"):
        context.with_cancel(Plain())


def test_wrapper_of_our_context_is_used_before_after_func() -> None:
    # Go's parentCancelCtx comes before the afterFuncer case: a wrapper whose done() is its
    # inner context's channel registers directly, even if it has after_func.
    class Wrapper(AfterFuncContext):
        def __init__(self, inner: Context) -> None:
            super().__init__()
            self.inner = inner

        def done(self) -> Chan[Any]:
            return self.inner.done()

        def err(self) -> Exception | None:
            return self.inner.err()

        def value(self, key: object) -> Any:
            return self.inner.value(key)

    inner, cancel = context.with_cancel(context.background())
    w = Wrapper(inner)
    child, _ = context.with_cancel(w)
    assert w.registered == 0
    assert list(inner._children) == [child]  # type: ignore[attr-defined]
    cancel()
    assert isinstance(child.err(), Canceled)


@pytest.mark.parametrize("procs", PROCS)
def test_custom_context_propagation_with_after_func(procs: int) -> None:
    """TestCustomContextPropagation, with an afterFuncer: a parent of another type wrapping a
    with_cancel_cause context, with its own done channel; the child gets the inner cause."""

    class CustomDone(AfterFuncContext):
        def __init__(self, inner: Context) -> None:
            super().__init__()
            self.inner = inner

        def err(self) -> Exception | None:
            return self.inner.err()

        def value(self, key: object) -> Any:
            return self.inner.value(key)

    def main() -> None:
        why = ConnectionAbortedError("TestCustomContextPropagation")
        ctx1, cancel1 = context.with_cancel_cause(context.background())
        ctx2 = CustomDone(ctx1)
        ctx3, cancel3 = context.with_cancel(ctx2)
        assert ctx2.registered == 1
        cancel1(why)
        ctx2.cancel(Canceled())  # runs the registered f; err() is ctx1's
        assert _wait_done(ctx3)
        assert isinstance(ctx3.err(), Canceled)
        assert context.cause(ctx3) is why
        cancel3()

    gosched.run(main, gomaxprocs=procs)


def test_custom_context_cause_with_after_func() -> None:
    """TestCustomContextCause: a child's own cause does not reach the custom parent."""

    def main() -> None:
        ctx0 = AfterFuncContext(sync=True)
        ctx, cancel = context.with_cancel_cause(ctx0)
        why = ValueError("TestCustomContextCause")
        cancel(why)
        assert isinstance(ctx.err(), Canceled) and context.cause(ctx) is why
        assert ctx0.err() is None and context.cause(ctx0) is None
        assert ctx0.stops == [(1, True)]
        ctx0.cancel(Canceled())
        assert context.cause(ctx) is why
        assert isinstance(context.cause(ctx0), Canceled)

    gosched.run(main)


@pytest.mark.parametrize("procs", [2, 4])
def test_after_funcer_calling_f_from_a_plain_thread(procs: int) -> None:
    """The parent may call f anywhere: from a plain thread while a run is active, f closes the
    child's done channel through the runtime and wakes its waiter."""

    def main() -> str:
        ctx0 = AfterFuncContext(sync=True)
        child, cancel = context.with_cancel(ctx0)
        woke = Chan[str](1)
        gosched.go(lambda: (child.done().recv(), woke.send("woken")))
        t = threading.Thread(target=lambda: (_time.sleep(0.05), ctx0.cancel(EOFError("eof"))))
        t.start()
        got = woke.recv()
        t.join()
        cancel()
        assert isinstance(child.err(), EOFError)
        return got

    assert gosched.run(main, gomaxprocs=procs) == "woken"


def test_after_func_returning_no_stop_function() -> None:
    class Bad(AfterFuncContext):
        def after_func(self, f: Callable[[], None]) -> Any:  # type: ignore[override]
            return None

    with pytest.raises(TypeError, match=r"^context\.with_cancel: the parent's after_func returned"):
        context.with_cancel(Bad())


def test_after_func_hook_is_not_asked_for_never_done_parents() -> None:
    # Go returns before the afterFuncer case when Done() is nil.
    class Never(AfterFuncContext):
        def done(self) -> Chan[Any]:
            return nilchan

    p = Never()
    child, cancel = context.with_cancel(p)
    assert p.registered == 0
    assert str(child) == f"{__name__}.Never.WithCancel"  # its parent is not a stopCtx
    cancel()


# --- str() and repr() -----------------------------------------------------------------------


class Key:
    pass


class Name(str):
    pass


class Stringer:
    def __str__(self) -> str:
        return "I am a Stringer"


class Reprs:
    def __repr__(self) -> str:
        return "Reprs()"


def test_str_follows_go_string() -> None:
    bg = context.background()
    assert str(bg) == repr(bg) == "context.Background"
    assert str(context.todo()) == "context.TODO"
    c, cancel = context.with_cancel(bg)
    assert str(c) == repr(c) == "context.Background.WithCancel"
    mod = __name__
    assert str(context.with_value(c, Key(), "v1")) == (
        f"context.Background.WithCancel.WithValue(type {mod}.Key, val v1)"
    )
    # Go's stringify: a Stringer's String(), a string as it is, anything else is not shown.
    for val, shown in [
        (42, "<not Stringer>"),
        (True, "<not Stringer>"),
        (None, "<not Stringer>"),
        (1.5, "<not Stringer>"),
        ([1, 2], "<not Stringer>"),
        (b"bytes", "<not Stringer>"),
        (Reprs(), "<not Stringer>"),
        (Stringer(), "I am a Stringer"),
        (Name("n"), "n"),
        ("", ""),
    ]:
        assert str(context.with_value(bg, 1, val)) == (
            f"context.Background.WithValue(type int, val {shown})"
        ), val
    assert str(context.with_value(bg, Name("k"), 1)) == (
        f"context.Background.WithValue(type {mod}.Name, val <not Stringer>)"
    )
    assert str(context.with_value(bg, "k", 1)) == (
        "context.Background.WithValue(type str, val <not Stringer>)"
    )

    class Local:
        pass

    # Go names a type declared in a function without the function.
    assert str(context.with_value(bg, Local(), "x")) == (
        f"context.Background.WithValue(type {mod}.Local, val x)"
    )
    assert str(context.without_cancel(c)) == "context.Background.WithCancel.WithoutCancel"
    cancel()
    assert str(c) == "context.Background.WithCancel"  # cancelled: the same


def test_repr_shows_values() -> None:
    bg = context.background()
    assert repr(context.with_value(bg, Key(), 42)) == (
        "context.Background.WithValue(type Key, val 42)"
    )
    assert repr(context.with_value(bg, 1, [1, "a"])) == (
        "context.Background.WithValue(type int, val [1, 'a'])"
    )
    assert repr(context.with_value(bg, 1, "as is")) == (
        "context.Background.WithValue(type int, val as is)"
    )
    ctx0 = AfterFuncContext()
    child, cancel = context.with_cancel(ctx0)
    assert str(child) == "context.stopCtx.WithCancel"  # as Go names it
    assert repr(child) == "AfterFuncContext.WithCancel"  # the parent it forwards to
    grandchild, _ = context.with_cancel(child)
    assert str(grandchild) == "context.stopCtx.WithCancel.WithCancel"
    cancel()


def test_foreign_context_names() -> None:
    class Named(AfterFuncContext):
        def __str__(self) -> str:
            return "named"

    class Shown(AfterFuncContext):
        def __repr__(self) -> str:
            return "Shown(...)"

    mod = __name__
    with_str = context.with_value(Named(), Key(), "v")
    assert str(with_str) == f"named.WithValue(type {mod}.Key, val v)"
    assert repr(with_str) == "Named.WithValue(type Key, val v)"  # no __repr__ of its own
    with_repr = context.with_value(Shown(), Key(), "v")
    assert str(with_repr) == f"{mod}.Shown.WithValue(type {mod}.Key, val v)"
    assert repr(with_repr) == "Shown(...).WithValue(type Key, val v)"


def test_main_module_types_are_package_main() -> None:
    # Go's `type main.key1`: a class of a script run as __main__ is in package main.
    code = (
        "from gosched import context\n"
        "class key1: pass\n"
        "class myCtx:\n"
        "    def deadline(self): return None\n"
        "    def done(self): return context.background().done()\n"
        "    def err(self): return None\n"
        "    def value(self, key): return None\n"
        "print(context.with_value(context.background(), key1(), 'v'))\n"
        "print(context.with_value(myCtx(), 1, 2))\n"
    )
    r = run_program(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "context.Background.WithValue(type main.key1, val v)\n"
        "main.myCtx.WithValue(type int, val <not Stringer>)\n"
    )


_DEADLINE = re.compile(
    r"^context\.Background\.WithDeadline\("
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d{0,8}[1-9])? ([+-]\d{4}) (\S+) "
    r"m=([+-]\d+\.\d{9}) \[(-?[0-9hmsµn.]+)\]\)$"
)


@pytest.mark.parametrize("offset", [-3600.0, -2.5, 7200.0])
def test_deadline_string(offset: float) -> None:
    def main() -> None:
        d = now() + offset
        wall = _time.time() + offset
        ctx, cancel = context.with_deadline(context.background(), d)
        s = str(ctx)
        assert repr(ctx).startswith("context.Background.WithDeadline(")
        cancel()
        m = _DEADLINE.match(s)
        assert m, s
        when, frac, zone, name, mono, left = m.groups()
        got = _time.mktime(_time.strptime(when, "%Y-%m-%d %H:%M:%S")) + float(frac or 0)
        assert abs(got - wall) < 5, (s, wall)
        assert abs(float(mono) - d) < 1e-6
        assert zone == _time.strftime("%z", _time.localtime(got))
        assert name == _time.strftime("%Z", _time.localtime(got))
        sign = "-" if offset < 0 else ""
        assert left.startswith(sign) and left.endswith("s")

    gosched.run(main)


@pytest.mark.parametrize(
    ("tz", "zone"),
    [
        ("UTC", r"\+0000 UTC"),
        ("Asia/Kolkata", r"\+0530 IST"),
        ("America/New_York", r"-0[45]00 E[DS]T"),
    ],
)
def test_deadline_string_uses_the_local_zone(tz: str, zone: str) -> None:
    # As Go's Time.String, in time.Local (TZ).
    r = run_program(
        "from gosched import context\n"
        "from gosched.time import now\n"
        "print(context.with_deadline(context.background(), now() - 1)[0])\n",
        env={"TZ": tz},
    )
    assert r.returncode == 0, r.stderr
    assert re.search(rf"\.WithDeadline\(\S+ \S+ {zone} m=\+", r.stdout), r.stdout


def test_infinite_deadlines_saturate_as_go_durations() -> None:
    # Go's Time.Add saturates; Duration.String of the extremes.
    past, _ = context.with_deadline(context.background(), float("-inf"))
    assert str(past).endswith("m=-9223372036.854775808 [-2562047h47m16.854775808s])")
    assert isinstance(past.err(), DeadlineExceeded)

    def main() -> None:
        future, cancel = context.with_timeout(context.background(), float("inf"))
        assert str(future).endswith("m=+9223372036.854775807 [2562047h47m16.854775807s])")
        huge, cancel2 = context.with_timeout(context.background(), 10**400)
        assert huge.deadline() == float("inf")
        cancel2()
        cancel()

    gosched.run(main)


def test_long_chains_print_without_recursion() -> None:
    n = 5000
    ctx: Context = context.background()
    for i in range(n):
        ctx = context.with_value(ctx, i, "v")
        ctx, _ = context.with_cancel(ctx)
    s = str(ctx)
    assert s.startswith("context.Background.WithValue(type int, val v).WithCancel.")
    assert s.count(".WithCancel") == n
    assert repr(ctx).count(".WithValue(type int, val v)") == n


# --- argument checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda bg: context.with_timeout(bg, float("nan")),
            ValueError,
            r"^context\.with_timeout: seconds is NaN$",
        ),
        (
            lambda bg: context.with_timeout_cause(bg, float("nan"), None),
            ValueError,
            r"^context\.with_timeout_cause: seconds is NaN$",
        ),
        (
            lambda bg: context.with_deadline(bg, float("nan")),
            ValueError,
            r"^context\.with_deadline: d is NaN$",
        ),
        (
            lambda bg: context.with_deadline_cause(bg, float("nan"), None),
            ValueError,
            r"^context\.with_deadline_cause: d is NaN$",
        ),
        (
            lambda bg: context.with_deadline(bg, None),
            TypeError,
            r"^context\.with_deadline: d must be a number \(a gosched\.time\.now\(\) value\), "
            r"not NoneType$",
        ),
        (
            lambda bg: context.with_timeout(bg, "1"),
            TypeError,
            r"^context\.with_timeout: seconds must be a number, not str$",
        ),
        (
            lambda bg: context.with_timeout(bg, None),
            TypeError,
            r"^context\.with_timeout: seconds must be a number, not NoneType$",
        ),
        (
            lambda bg: context.with_timeout(bg, True),
            TypeError,
            r"^context\.with_timeout: seconds must be a number, not bool$",
        ),
        (
            lambda bg: context.with_timeout_cause(bg, 1, "why"),
            TypeError,
            r"^context\.with_timeout_cause: cause must be an exception or None, not str$",
        ),
        (
            lambda bg: context.with_deadline_cause(bg, 1, 3),
            TypeError,
            r"^context\.with_deadline_cause: cause must be an exception or None, not int$",
        ),
    ],
)
def test_deadline_arguments_are_checked(
    call: Callable[[Context], object], exc: type[Exception], message: str
) -> None:
    # Checked before anything else happens, outside a run too (no timer, no registration).
    ctx0 = AfterFuncContext()
    for parent in (context.background(), ctx0):
        with pytest.raises(exc, match=message):
            call(parent)
    assert ctx0.registered == 0


def test_nil_parent_comes_first() -> None:
    # Go panics on a nil parent before it looks at anything else.
    for make in (
        lambda: context.with_timeout(None, float("nan")),  # type: ignore[arg-type]
        lambda: context.with_timeout_cause(None, None, None),  # type: ignore[arg-type]
        lambda: context.with_deadline(None, None),  # type: ignore[arg-type]
        lambda: context.with_deadline_cause(None, 0.0, None),  # type: ignore[arg-type]
        lambda: context.after_func(None, lambda: None),  # type: ignore[arg-type]
    ):
        with pytest.raises(gosched.RuntimePanic, match=r"^cannot create context from nil parent$"):
            make()


def test_cancel_cause_is_checked() -> None:
    ctx, cancel = context.with_cancel_cause(context.background())
    with pytest.raises(
        TypeError,
        match=r"^context\.with_cancel_cause: cancel: cause must be an exception or None, not str$",
    ):
        cancel("why")  # type: ignore[arg-type]
    assert ctx.err() is None
    cancel()
    assert isinstance(ctx.err(), Canceled)
