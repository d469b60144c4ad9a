"""gosched.sync's Map, Pool and once_func/once_value/once_values against real Go.

Each test is the Python twin of a Go program in go/ (same structure, statement for statement);
go/NAME.out is that program's output under Go 1.22.10 with GOMAXPROCS=1, the same on repeated
runs. To re-check against Go: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.

Go's panic("x") is an exception whose str() is "x" here; Go's runtime.GC() is gc.collect()
(a full collection, which is what ages a Pool); a Go []int key is a Python list, and the type
name in the unhashable-key message is translated back to Go's before comparing (the only line
that is not gosched's output verbatim). fmt.Println's formatting is gofmt below.
"""

from __future__ import annotations

import gc
from typing import Any

import gosched
from gosched.sync import Map, Pool, WaitGroup, once_func, once_value, once_values

from .test_ordering import expected, run1, sync_tick


def gofmt(*vals: Any) -> str:
    """fmt.Println's text for vals (nil, bools, ints, strings and []string)."""

    def one(v: Any) -> str:
        if v is None:
            return "<nil>"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + " ".join(map(one, v)) + "]"
        return str(v)

    return " ".join(map(one, vals)) + "\n"


def goroutine_try(out: list[str], label: str, f: Any) -> None:
    """try() in the Go twin: call f, print what it raised (Go's recovered value)."""
    r = None
    try:
        f()
    except Exception as e:
        r = str(e)
    out.append(gofmt(label, "recovered:", r))


def test_oncefunc_panics_values_and_waiters() -> None:
    """Twin of go/sync_oncefunc.go."""

    def main() -> str:
        sync_tick()
        text: list[str] = []
        calls = [0]

        def fx() -> None:
            calls[0] += 1
            raise ValueError("x")

        f = once_func(fx)
        goroutine_try(text, "first", f)
        goroutine_try(text, "second", f)
        text.append(gofmt("calls", calls[0]))

        boom = ValueError("boom")
        got: list[BaseException] = []

        def fv() -> int:
            raise boom

        v = once_value(fv)
        for _ in range(2):
            try:
                v()
            except ValueError as e:
                got.append(e)
        text.append(gofmt("same value", got[0] is boom and got[1] is boom))

        out: list[str] = []
        n = [0]

        def fvs() -> tuple[int, str]:
            n[0] += 1
            out.append("f start")
            gosched.gosched()
            out.append("f end")
            return 7, "seven"

        vs = once_values(fvs)
        wg = WaitGroup()
        for i in range(1, 4):
            wg.add(1)

            def g(i: int) -> None:
                try:
                    out.append(f"g{i} calls")
                    a, b = vs()
                    out.append(f"g{i} got {a} {b}")
                finally:
                    wg.done()

            gosched.go(g, i)
        wg.wait()
        a, b = vs()
        text.append(gofmt(out))
        text.append(gofmt("main got", a, b, "calls", n[0]))

        gcalls = [0]

        def fexit() -> None:
            gcalls[0] += 1
            gosched.goexit()

        ge = once_func(fexit)
        wg.add(1)

        def h() -> None:
            try:
                ge()
                text.append("not reached\n")
            finally:
                wg.done()

        gosched.go(h)
        wg.wait()
        goroutine_try(text, "after goexit", ge)
        text.append(gofmt("gcalls", gcalls[0]))
        return "".join(text)

    assert run1(main) == expected("sync_oncefunc")


def contents(m: Map) -> list[str]:
    kv: list[str] = []

    def f(k: Any, v: Any) -> bool:
        kv.append(f"{k}={v}")
        return True

    m.range(f)
    return sorted(kv)


GO_TYPE = {"list": "[]int"}


def test_map_and_pool() -> None:
    """Twin of go/sync_map_pool.go."""

    def main() -> str:
        sync_tick()
        text: list[str] = []

        def p(*vals: Any) -> None:
            text.append(gofmt(*vals))

        m = Map()
        p(*m.load("a"))
        m.store("a", 1)
        p(*m.load("a"))
        p(*m.load_or_store("a", 2))
        p(*m.load_or_store("b", 2))
        p(*m.swap("b", 3))
        p(*m.swap("c", 4))
        p(m.compare_and_swap("c", 5, 6), m.compare_and_swap("c", 4, 6))
        p(m.compare_and_swap("missing", None, 1), m.compare_and_delete("missing", None))
        m.store("n", None)
        p(*m.load("n"))
        p(m.compare_and_delete("n", 0), m.compare_and_delete("n", None))
        p(*m.load_and_delete("a"))
        p(*m.load_and_delete("a"))
        m.delete("nothing")
        p(contents(m))
        visits = [0]

        def stop(k: Any, v: Any) -> bool:
            visits[0] += 1
            return False

        m.range(stop)
        p("visits", visits[0])

        def outer(key: Any, value: Any) -> bool:
            def inner(key: Any, value: Any) -> bool:
                v, ok = m.load(key)
                _, loaded = m.load_or_store(42, "dummy")
                m.store(42, "sync.Map")
                d, deleted = m.load_and_delete(42)
                if not ok or v != value or loaded or not deleted or d != "sync.Map":
                    p("nested range saw", key, v, ok, loaded, d, deleted)
                return True

            m.range(inner)
            m.delete(key)
            return True

        m.range(outer)
        p("after nested range", contents(m))

        wg = WaitGroup()
        out: list[str] = []
        for i in range(1, 4):
            wg.add(1)

            def g(i: int) -> None:
                try:
                    v, loaded = m.load_or_store("w", i)
                    out.append(gofmt(f"g{i}", v, loaded).rstrip("\n"))
                finally:
                    wg.done()

            gosched.go(g, i)
        wg.wait()
        p(out)

        for op in (lambda: m.load([1]), lambda: m.store([1], 1)):
            try:
                op()
            except gosched.RuntimePanic as e:
                prefix, _, name = str(e).rpartition(" ")
                p(prefix, GO_TYPE[name])
        p(contents(m))

        gc.disable()
        try:
            pool = Pool()
            p(pool.get())
            pool.put("a")
            pool.put("b")
            pool.put("c")
            p(pool.get(), pool.get(), pool.get(), pool.get())
            pool.put(None)
            p(pool.get())
            n = [0]

            def new() -> int:
                n[0] += 1
                return n[0]

            pool.new = new
            p(pool.get(), pool.get())
            pool.put(42)
            p(pool.get(), pool.get())
            pool.new = None
            for i in range(100):
                pool.put(f"c{i}")
            gc.collect()
            p(pool.get(), pool.get(), pool.get())
            gc.collect()
            p(pool.get())
        finally:
            gc.enable()
        return "".join(text)

    assert run1(main) == expected("sync_map_pool")
