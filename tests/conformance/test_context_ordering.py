"""gosched.context's strings and afterFuncer propagation at GOMAXPROCS=1 are what real Go
prints.

Each test is the Python twin of a Go program in go/ (same structure, statement for statement);
go/NAME.out is that program's output under Go 1.22.10 with GOMAXPROCS=1, the same on repeated
runs. To re-check against Go: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.

The types of the twins say ``__module__ = "__main__"``: Go names them ``main.T`` because they
are declared in package main, and so does gosched for a class of a script run as __main__.
Go's ``string`` key type would be ``str`` here, so the twins use keys of their own types and
ints. Deadlines print wall times: both twins mask them the same way (mask).
"""

from __future__ import annotations

import re
from typing import Any

import gosched
from gosched import Chan, context
from gosched.context import Canceled, Context
from gosched.time import now

from .test_ordering import expected, run1

HOUR = 3600.0


def mask(s: str) -> str:
    """mask in the Go twin: every run of digits becomes N, the zone ZONE, the signs of the
    monotonic reading ±."""
    return re.sub(r" [+-]N [^ ]+ m=[+-]", " ±N ZONE m=±", re.sub(r"[0-9]+", "N", s))


def gobool(b: bool) -> str:
    return "true" if b else "false"


# --- context_string.go ------------------------------------------------------------------------


class key1:
    __module__ = "__main__"


class key2(int):
    __module__ = "__main__"


class name(str):
    __module__ = "__main__"

    def __str__(self) -> str:
        return "name:" + str.__str__(self)


class plain:
    __module__ = "__main__"

    def __init__(self, x: int) -> None:
        self.x = x


class myCtx:
    """A context of another type that is not a Stringer (Go: embeds a Context)."""

    __module__ = "__main__"

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


class namedCtx(myCtx):
    __module__ = "__main__"

    def __str__(self) -> str:
        return "namedCtx"


def test_context_string() -> None:
    """Twin of go/context_string.go."""

    def main() -> str:
        out: list[str] = []
        bg = context.background()
        out.append(str(bg))
        out.append(str(context.todo()))
        c1, cancel1 = context.with_cancel(bg)
        out.append(str(c1))
        c2, cancel2 = context.with_cancel_cause(context.todo())
        out.append(str(c2))
        out.append(str(context.with_value(c1, key1(), "v1")))
        out.append(str(context.with_value(bg, key2(7), name("n"))))
        out.append(str(context.with_value(bg, key1(), 42)))
        out.append(str(context.with_value(bg, 1, True)))
        out.append(str(context.with_value(bg, key2(8), plain(1))))
        out.append(str(context.with_value(bg, key2(9), None)))
        out.append(str(context.without_cancel(context.with_value(c1, key1(), "v1"))))
        c3, cancel3 = context.with_cancel(myCtx(c1))
        out.append(str(c3))
        out.append(str(context.with_value(namedCtx(c1), key1(), "v2")))
        past, cancel_past = context.with_deadline(c1, now() - HOUR)
        out.append(mask(str(past)))
        future, cancel_future = context.with_timeout(bg, HOUR)
        out.append(mask(str(future)))
        later, cancel_later = context.with_timeout(future, 2 * HOUR)  # the parent's is sooner
        out.append(mask(str(later)))
        cancel1()
        out.append(f"{c1} {c3}")  # cancelled: the same
        cancel_later()
        cancel_future()
        cancel_past()
        cancel3()
        cancel2(None)
        return "\n".join(out) + "\n"

    assert run1(main) == expected("context_string")


# --- context_afterfuncer.go ---------------------------------------------------------------------


class parent:
    """A context that is not one of gosched's types, with an after_func method that records
    its functions in order and runs them when cancelled."""

    __module__ = "__main__"

    def __init__(self, out: list[str]) -> None:
        self.out = out
        self.ch: Chan[None] = Chan()
        self._err: Exception | None = None
        self.fs: dict[int, Any] = {}
        self.keys: list[int] = []
        self.n = 0

    def deadline(self) -> float | None:
        return None

    def done(self) -> Chan[Any]:
        return self.ch

    def err(self) -> Exception | None:
        return self._err

    def value(self, key: object) -> Any:
        return None

    def after_func(self, f: Any) -> Any:
        self.n += 1
        k = self.n
        self.out.append(f"p.AfterFunc {k}")
        self.fs[k] = f
        self.keys.append(k)

        def stop() -> bool:
            ok = self.fs.pop(k, None) is not None
            self.out.append(f"p.stop {k} {gobool(ok)}")
            return ok

        return stop

    def cancel(self, err: Exception) -> None:
        self.out.append("p.cancel")
        self._err = err
        self.ch.close()
        fs = self.fs
        self.fs = {}
        for k in self.keys:
            f = fs.get(k)
            if f is not None:
                self.out.append(f"p runs {k}")
                f()


def test_context_afterfuncer() -> None:
    """Twin of go/context_afterfuncer.go."""

    def main() -> str:
        out: list[str] = []
        p = parent(out)
        before = gosched.num_goroutine()
        c1, cancel1 = context.with_cancel(p)
        out.append(str(c1))
        c2, cancel2 = context.with_timeout(p, HOUR)
        c3, cancel3 = context.with_deadline(p, now() - 1)
        out.append(f"c3 {c3.err()}")
        c4, cancel4 = context.with_cancel_cause(p)
        g1, cancel_g1 = context.with_cancel(c4)  # a child of ours: registered in c4
        out.append(str(g1))
        ran = Chan[str](1)
        stop_f = context.after_func(p, lambda: ran.send("f ran"))
        stop_g = context.after_func(p, lambda: ran.send("g ran"))
        out.append(f"stopG {gobool(stop_g())}")
        out.append(f"goroutines {gosched.num_goroutine() - before}")
        cancel1()
        cancel1()
        cancel4(Exception("why4"))
        out.append(f"g1 {g1.err()} {context.cause(g1)}")
        p.cancel(Exception("parent gone"))
        out.append(f"c1 {c1.err()}")
        out.append(f"c2 {c2.err()} {context.cause(c2)}")
        cancel2()
        cancel3()
        out.append(str(ran.recv()))
        out.append(f"stopF {gobool(stop_f())}")
        c5, cancel5 = context.with_cancel(p)
        out.append(f"c5 {c5.err()} {c5}")
        cancel5()
        cancel_g1()
        assert isinstance(c1.err(), Canceled)
        out.append("end")
        return "\n".join(out) + "\n"

    assert run1(main) == expected("context_afterfuncer")
