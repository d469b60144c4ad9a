"""gosched.sync's Map, Pool, once_func/once_value/once_values, and the argument checks of
WaitGroup and Semaphore.

Ports of Go's tests (go/src/sync: map_test.go, pool_test.go, oncefunc_test.go) where they make
sense in Python, named after them; what Go prints at GOMAXPROCS=1 is pinned against real Go in
conformance/test_sync_more_ordering.py. Scheduling-dependent tests run at 1 and 4 Ps.
"""

from __future__ import annotations

import gc
import random
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import gosched
from gosched.sync import (
    Map,
    Pool,
    Semaphore,
    WaitGroup,
    once_func,
    once_value,
    once_values,
)

from .test_sync import run, until, waitreasons

PROCS = [1, 4]


@pytest.fixture
def gc_off() -> Iterator[None]:
    """No automatic collection (Go's debug.SetGCPercent(-1)): only gc.collect() ages a Pool."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def in_thread(fn: Callable[[], Any]) -> BaseException | None:
    """Run fn in a plain thread; return what it raised."""
    raised: list[BaseException] = []

    def body() -> None:
        try:
            fn()
        except BaseException as e:
            raised.append(e)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return raised[0] if raised else None


# --- WaitGroup and Semaphore arguments ----------------------------------------------------------


@pytest.mark.parametrize("delta", [1.5, "x", True, False, None, 1.0])
def test_waitgroup_add_rejects_what_is_not_an_int(delta: Any) -> None:
    def main() -> int:
        wg = WaitGroup()
        wg.add(1)
        with pytest.raises(TypeError) as ei:
            wg.add(delta)
        assert str(ei.value) == (
            f"sync.WaitGroup.add: delta must be an int, not {type(delta).__name__}"
        )
        return wg._v

    assert run(main) == 1


def test_waitgroup_add_takes_an_index() -> None:
    """An int-like object (numpy's integers) is an int, as range() takes it."""

    class Two:
        def __index__(self) -> int:
            return 2

    def main() -> int:
        wg = WaitGroup()
        wg.add(Two())  # type: ignore[arg-type]
        wg.done()
        return wg._v

    assert run(main) == 1


def test_waitgroup_done_outside_a_run_fails_and_keeps_the_counter() -> None:
    wg = WaitGroup()
    wg.add(2)  # a positive add needs no runtime
    with pytest.raises(RuntimeError, match=r"gosched\.sync\.WaitGroup\.done: not called from a"):
        wg.done()
    e = in_thread(wg.done)
    assert isinstance(e, RuntimeError)
    assert "sync.WaitGroup.done: not called from a goroutine" in str(e)
    with pytest.raises(RuntimeError, match=r"sync\.WaitGroup\.add: not called from a goroutine"):
        wg.add(-1)
    assert wg._v == 2

    def main() -> int:
        wg.done()
        in_thread(wg.done)  # a plain thread during a run may (API.md)
        wg.wait()
        return wg._v

    assert run(main) == 0


@pytest.mark.parametrize(
    ("n", "exc", "message"),
    [
        ("x", TypeError, "sync.Semaphore: n must be an int, not str"),
        (1.5, TypeError, "sync.Semaphore: n must be an int, not float"),
        (True, TypeError, "sync.Semaphore: n must be an int, not bool"),
        (-1, ValueError, "sync.Semaphore: n must not be negative, got -1"),
    ],
)
def test_semaphore_size_is_checked(n: Any, exc: type[Exception], message: str) -> None:
    with pytest.raises(exc) as ei:
        Semaphore(n)
    assert str(ei.value) == message


@pytest.mark.parametrize("procs", PROCS)
def test_semaphore_weights_are_checked_before_anything_changes(procs: int) -> None:
    def main() -> list[str]:
        s = Semaphore(3)
        s.acquire(n=1)
        out = []
        for call in (
            lambda: s.acquire(None, -1),
            lambda: s.acquire(n=-2),
            lambda: s.acquire(n="2"),
            lambda: s.try_acquire(-1),
            lambda: s.try_acquire(1.0),
            lambda: s.release(-1),
            lambda: s.release(False),
        ):
            try:
                call()
            except (TypeError, ValueError) as e:
                out.append(f"{type(e).__name__}: {e}")
        assert (s._cur, len(s._waiters)) == (1, 0)
        s.acquire(n=0)  # a weight of 0 is fine, as in x/sync
        assert s.try_acquire(0)
        s.release(0)
        s.release(1)
        assert s.try_acquire(3)
        return out

    assert run(main, procs) == [
        "ValueError: sync.Semaphore.acquire: n must not be negative, got -1",
        "ValueError: sync.Semaphore.acquire: n must not be negative, got -2",
        "TypeError: sync.Semaphore.acquire: n must be an int, not str",
        "ValueError: sync.Semaphore.try_acquire: n must not be negative, got -1",
        "TypeError: sync.Semaphore.try_acquire: n must be an int, not float",
        "ValueError: sync.Semaphore.release: n must not be negative, got -1",
        "TypeError: sync.Semaphore.release: n must be an int, not bool",
    ]


# --- once_func, once_value, once_values (oncefunc_test.go) --------------------------------------


def test_once_func() -> None:
    """TestOnceFunc, TestOnceValue, TestOnceValues."""

    def main() -> tuple[Any, ...]:
        calls = [0, 0, 0]

        def f() -> int:
            calls[0] += 1
            return 99  # once_func's function returns None all the same

        def fv() -> int:
            calls[1] += 1
            return calls[1]

        def fvs() -> tuple[int, int]:
            calls[2] += 1
            return calls[2], calls[2] + 1

        of, ov, ovs = once_func(f), once_value(fv), once_values(fvs)
        results = [(of(), ov(), ovs()) for _ in range(10)]
        assert results == [(None, 1, (1, 2))] * 10
        return tuple(calls)

    assert run(main) == (1, 1, 1)


@pytest.mark.parametrize("make", [once_func, once_value, once_values])
def test_once_panic_is_reraised_with_the_same_value(make: Callable[..., Any]) -> None:
    """TestOnceFuncPanic, TestOnceValuePanic, TestOnceValuesPanic; TestOnceFuncPanicTraceback:
    every traceback reaches f's frame, and it does not grow with the calls."""
    calls = [0]
    boom = KeyError("x")

    def once_panicking_f() -> Any:
        calls[0] += 1
        raise boom

    def main() -> list[int]:
        g = make(once_panicking_f)
        depths = []
        for _ in range(5):
            with pytest.raises(KeyError) as ei:
                g()
            assert ei.value is boom
            frames = [fs.name for fs in traceback.extract_tb(ei.value.__traceback__)]
            assert frames[-1] == "once_panicking_f"
            depths.append(len(frames))
        return depths

    depths = run(main)
    assert calls == [1]
    assert len(set(depths[1:])) == 1, depths


def test_once_func_reraises_in_every_goroutine() -> None:
    def main() -> list[str]:
        calls = [0]

        def f() -> None:
            calls[0] += 1
            raise ValueError("once")

        g = once_func(f)
        wg = WaitGroup()
        out: list[str] = []

        def caller() -> None:
            try:
                g()
            except ValueError as e:
                out.append(str(e))

        for _ in range(4):
            wg.go(caller)
        wg.wait()
        assert calls == [1]
        return out

    assert run(main) == ["once"] * 4


def test_once_func_goexit() -> None:
    """TestOnceFuncGoexit: f is not called twice. Go leaves the results unspecified; here the
    first caller exits, later calls raise Go's PanicNilError message."""

    def main() -> list[str]:
        calls = [0]
        out: list[str] = []

        def f() -> None:
            calls[0] += 1
            gosched.goexit()

        g = once_func(f)
        wg = WaitGroup()

        def caller() -> None:
            try:
                g()
                out.append("returned")
            except gosched.RuntimePanic as e:
                out.append(str(e))

        for _ in range(2):
            wg.go(caller)
            wg.wait()
        assert calls == [1]
        return out

    assert run(main) == ["panic called with nil argument"]


def test_once_values_needs_two_values() -> None:
    def main() -> list[str]:
        calls = [0]

        def f() -> Any:
            calls[0] += 1
            return [1, 2]

        g = once_values(f)
        out = []
        for _ in range(2):
            with pytest.raises(TypeError) as ei:
                g()
            out.append(str(ei.value))
        assert calls == [1]
        return out

    assert run(main) == ["sync.once_values: f must return a tuple of 2 values, not list"] * 2


@pytest.mark.parametrize("make", [once_func, once_value, once_values])
def test_once_needs_a_callable(make: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match=rf"sync\.{make.__name__}: f must be callable, not int"):
        make(3)


@pytest.mark.parametrize("make", [once_func, once_value, once_values])
def test_once_does_not_keep_f_alive(make: Callable[..., Any]) -> None:
    """TestOnceXGC: after the first call, neither f nor what it holds is kept."""

    class Buf:
        pass

    def wrap(buf: Buf) -> Callable[[], Any]:
        return make(lambda: (buf, None) and (None, None))

    def main() -> bool:
        buf = Buf()
        ref = weakref.ref(buf)
        g = wrap(buf)
        del buf
        gc.collect()
        assert ref() is not None, "collected too early"
        g()
        gc.collect()
        g()
        return ref() is None

    assert run(main) is True


@pytest.mark.parametrize("procs", PROCS)
def test_once_value_callers_wait_for_the_first_call(procs: int) -> None:
    def main() -> tuple[int, list[Any]]:
        calls = [0]
        finished = [False]

        def f() -> str:
            calls[0] += 1
            for _ in range(20):
                gosched.gosched()  # the other callers arrive meanwhile
            finished[0] = True
            return "v"

        g = once_value(f)
        wg = WaitGroup()
        seen: list[Any] = []

        def caller() -> None:
            v = g()
            seen.append((v, finished[0]))

        for _ in range(16):
            wg.go(caller)
        wg.wait()
        return calls[0], seen

    calls, seen = run(main, procs)
    assert calls == 1
    assert seen == [("v", True)] * 16


def test_once_value_waiters_park() -> None:
    """A caller that arrives while f runs parks the goroutine (on the Once's Mutex)."""

    def main() -> list[str]:
        release = [False]
        g = once_value(lambda: until(lambda: release[0]))
        wg = WaitGroup()
        wg.go(g)
        wg.go(g)
        until(lambda: len(waitreasons()) == 1)
        reasons = list(waitreasons().values())
        release[0] = True
        wg.wait()
        return reasons

    assert run(main) == ["sync.Mutex.Lock"]


# --- Map (map_test.go) ----------------------------------------------------------------------------


class RefMap:
    """A dict with Map's methods (map_reference_test.go's RWMutexMap; single goroutine)."""

    def __init__(self) -> None:
        self.d: dict[Any, Any] = {}

    def load(self, k: Any) -> tuple[Any, bool]:
        return (self.d[k], True) if k in self.d else (None, False)

    def store(self, k: Any, v: Any) -> None:
        self.d[k] = v

    def load_or_store(self, k: Any, v: Any) -> tuple[Any, bool]:
        if k in self.d:
            return self.d[k], True
        self.d[k] = v
        return v, False

    def load_and_delete(self, k: Any) -> tuple[Any, bool]:
        if k in self.d:
            return self.d.pop(k), True
        return None, False

    def delete(self, k: Any) -> None:
        self.d.pop(k, None)

    def swap(self, k: Any, v: Any) -> tuple[Any, bool]:
        prev = self.load(k)
        self.d[k] = v
        return prev

    def compare_and_swap(self, k: Any, old: Any, new: Any) -> bool:
        if k in self.d and self.d[k] == old:
            self.d[k] = new
            return True
        return False

    def compare_and_delete(self, k: Any, old: Any) -> bool:
        if k in self.d and self.d[k] == old:
            del self.d[k]
            return True
        return False

    def range(self, f: Callable[[Any, Any], object]) -> None:
        for k, v in list(self.d.items()):
            if f(k, v) is False:
                return


OPS = [
    "load",
    "store",
    "load_or_store",
    "load_and_delete",
    "delete",
    "swap",
    "compare_and_swap",
    "compare_and_delete",
]


def rand_value(r: random.Random) -> Any:
    """Go's randValue: a string of 0-3 letters; here also None now and then (Go's nil)."""
    if r.random() < 0.05:
        return None
    return "".join(r.choice("abc") for _ in range(r.randrange(4)))


def apply_calls(m: Any, calls: list[tuple[str, Any, Any, Any]]) -> tuple[list[Any], dict[Any, Any]]:
    """Go's applyCalls: every call's result, then the final contents through range."""
    results = []
    for op, k, v, new in calls:
        fn = getattr(m, op)
        if op in ("load", "load_and_delete", "delete"):
            results.append(fn(k))
        elif op == "compare_and_swap":
            results.append(fn(k, v, new))
        else:
            results.append(fn(k, v))
    final: dict[Any, Any] = {}

    def collect(k: Any, v: Any) -> bool:
        assert k not in final, "range visited a key twice"
        final[k] = v
        return True

    m.range(collect)
    return results, final


def test_map_matches_reference() -> None:
    """TestMapMatchesRWMutex: random call sequences give the same results and contents as a
    dict (seeded, so a failure repeats)."""
    r = random.Random(1234)

    def main() -> int:
        checked = 0
        for _ in range(300):
            calls = [
                (r.choice(OPS), rand_value(r), rand_value(r), rand_value(r))
                for _ in range(r.randrange(60))
            ]
            assert apply_calls(Map(), calls) == apply_calls(RefMap(), calls), calls
            checked += 1
        return checked

    assert run(main) == 300


def test_map_works_outside_a_run() -> None:
    m = Map()
    m.store(1, "a")
    assert m.load_or_store(1, "b") == ("a", True)
    assert m.compare_and_swap(1, "a", "c")
    assert m.load(1) == ("c", True)
    assert repr(m) == "<gosched.sync.Map len=1>"


def test_compare_and_swap_non_existing_key() -> None:
    """TestCompareAndSwap_NonExistingKey (issue 51972): a missing key is not a None value."""
    m = Map()
    assert not m.compare_and_swap(m, None, 42)
    assert not m.compare_and_delete(m, None)
    assert m.load(m) == (None, False)
    m.store(m, None)
    assert m.compare_and_swap(m, None, 42)
    assert m.load(m) == (42, True)


def test_compare_uses_eq() -> None:
    m = Map()
    m.store("k", [1, 2])
    assert not m.compare_and_swap("k", [1, 3], "x")
    assert m.compare_and_swap("k", [1, 2], 1.0)  # equal, not identical
    assert m.compare_and_delete("k", 1)  # 1 == 1.0
    assert m.load("k") == (None, False)
    m.store("nan", float("nan"))
    assert not m.compare_and_delete("nan", float("nan"))  # NaN != NaN, as in Go


@pytest.mark.parametrize(
    "op",
    [
        lambda m, k: m.load(k),
        lambda m, k: m.store(k, 1),
        lambda m, k: m.load_or_store(k, 1),
        lambda m, k: m.load_and_delete(k),
        lambda m, k: m.delete(k),
        lambda m, k: m.swap(k, 1),
        lambda m, k: m.compare_and_swap(k, 1, 2),
        lambda m, k: m.compare_and_delete(k, 1),
    ],
)
@pytest.mark.parametrize(("key", "name"), [([1], "list"), ({}, "dict"), ((1, {2}), "tuple")])
def test_map_unhashable_key_panics(op: Callable[[Map, Any], Any], key: Any, name: str) -> None:
    """Go: panic(runtime error: hash of unhashable type []int). The Map is unchanged and
    still usable (the Mutex was released)."""

    def main() -> list[str]:
        m = Map()
        m.store("a", 1)
        with pytest.raises(gosched.RuntimePanic) as ei:
            op(m, key)
        m.store("b", 2)
        return [str(ei.value), repr(sorted(contents(m).items()))]

    assert run(main) == [
        f"runtime error: hash of unhashable type {name}",
        "[('a', 1), ('b', 2)]",
    ]


def test_map_other_type_errors_pass_through() -> None:
    """A TypeError from a hashable key's __eq__ is not an unhashable key."""

    class Odd:
        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            raise TypeError("odd comparison")

    m = Map()
    m.store(Odd(), 1)
    with pytest.raises(TypeError, match="odd comparison"):
        m.load(Odd())
    with pytest.raises(TypeError, match="odd comparison"):
        m.swap(Odd(), 2)


def contents(m: Map) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    m.range(lambda k, v: out.__setitem__(k, v))  # None goes on
    return out


def test_map_range_stops_when_f_returns_false() -> None:
    m = Map()
    for i in range(10):
        m.store(i, i)
    seen: list[Any] = []
    m.range(lambda k, v: seen.append(k) or len(seen) < 3)
    assert len(seen) == 3
    seen.clear()
    m.range(lambda k, v: seen.append(k) or 0)  # only False stops it
    assert len(seen) == 10


def test_map_range_nested_call() -> None:
    """TestMapRangeNestedCall (issue 46399): f may call every method of the Map."""

    def main() -> dict[Any, Any]:
        m = Map()
        for i, v in enumerate(["hello", "world", "Go"]):
            m.store(i, v)

        def outer(key: Any, value: Any) -> bool:
            def inner(key: Any, value: Any) -> bool:
                assert m.load(key) == (value, True)
                assert m.load_or_store(42, "dummy") == ("dummy", False)
                m.store(42, "sync.Map")
                assert m.load_and_delete(42) == ("sync.Map", True)
                return True

            m.range(inner)
            m.delete(key)
            return True

        m.range(outer)
        return contents(m)

    assert run(main) == {}


def test_map_range_skips_keys_deleted_meanwhile() -> None:
    m = Map()
    for i in range(6):
        m.store(i, i)
    seen: list[tuple[Any, Any]] = []

    def f(k: Any, v: Any) -> bool:
        seen.append((k, v))
        for j in range(6):
            if j != k:
                m.delete(j) if j % 2 else m.store(j, -j)
        return True

    m.range(f)
    first = seen[0][0]
    assert all(k % 2 == 0 for k, _ in seen[1:])  # odd keys were gone when their turn came
    assert all(v == -k for k, v in seen[1:])  # with the value at the time f saw them
    assert len({k for k, _ in seen}) == len(seen) and first == 0


@pytest.mark.parametrize("procs", PROCS)
def test_concurrent_range(procs: int) -> None:
    """TestConcurrentRange: range while goroutines store multiples of each key sees only
    multiples, each key once, and every key."""
    map_size = 128

    def main() -> int:
        m = Map()
        for n in range(1, map_size + 1):
            m.store(n, n)
        done = gosched.Chan[None]()
        wg = WaitGroup()

        def writer(g: int) -> None:
            r = random.Random(g)
            i = 0
            while True:
                if gosched.select(done.recv, gosched.default)[0] == 0:
                    return
                for n in range(1, map_size):
                    if r.randrange(map_size // 4) == 0:
                        m.store(n, n * i * g)
                    else:
                        m.load(n)
                i += 1
                gosched.gosched()

        for g in range(4, 0, -1):
            wg.go(writer, g)
        ranges = 0
        for _ in range(30):
            seen: set[int] = set()

            def visit(k: int, v: int) -> bool:
                assert v % k == 0, f"while storing multiples of {k}, range saw {v}"
                assert k not in seen, f"range visited key {k} twice"
                seen.add(k)
                if k % 16 == 0:
                    gosched.gosched()  # let the writers in, mid-range
                return True

            m.range(visit)
            assert len(seen) == map_size
            ranges += 1
        done.close()
        wg.wait()
        return ranges

    assert run(main, procs) == 30


@pytest.mark.parametrize("procs", PROCS)
def test_map_compare_and_swap_counts_exactly(procs: int) -> None:
    """Goroutines increment shared counters with load + compare_and_swap loops, yielding
    between the two: no increment is lost; load_or_store has one winner per key."""
    n_goroutines, rounds, keys = 8, 40, 4

    def main() -> tuple[dict[Any, Any], dict[int, int]]:
        m = Map()
        wins: dict[int, int] = {}
        wg = WaitGroup()

        def worker(g: int) -> None:
            for i in range(rounds):
                k = i % keys
                _, loaded = m.load_or_store(k, 0)
                if not loaded:
                    wins[k] = wins.get(k, 0) + 1
                while True:
                    v, ok = m.load(k)
                    assert ok
                    if i % 3 == 0:
                        gosched.gosched()
                    if m.compare_and_swap(k, v, v + 1):
                        break

        for g in range(n_goroutines):
            wg.go(worker, g)
        wg.wait()
        return contents(m), wins

    counts, wins = run(main, procs)
    assert counts == {k: n_goroutines * rounds // keys for k in range(keys)}
    assert wins == {k: 1 for k in range(keys)}


@pytest.mark.parametrize("procs", PROCS)
def test_map_key_code_that_parks_parks_only_its_goroutine(procs: int) -> None:
    """A key's __eq__ runs with the Map's lock held and here waits on a channel: the other
    goroutines wanting the lock park (it is a Mutex), so the goroutine that unblocks __eq__
    still runs, also at one P on one thread."""

    def main() -> list[str]:
        m = Map()
        gate = gosched.Chan[None]()
        out: list[str] = []

        class SlowKey:
            def __hash__(self) -> int:
                return 7

            def __eq__(self, other: object) -> bool:
                gate.recv()  # parks with the Map's lock held
                return isinstance(other, SlowKey)

        m.store(SlowKey(), "first")
        wg = WaitGroup()
        wg.go(lambda: out.append(f"swap {m.swap(SlowKey(), 'second')}"))
        until(lambda: len(waitreasons()) == 1)
        wg.go(lambda: (m.store("other", 1), out.append("store")))
        until(lambda: sorted(waitreasons().values()) == ["chan receive", "sync.Mutex.Lock"])
        gate.close()
        wg.wait()
        return out

    assert run(main, procs) == ["swap ('first', True)", "store"]


# --- Pool (pool_test.go) --------------------------------------------------------------------------


def test_pool(gc_off: None) -> None:
    """TestPool: empty, put/get in Go's order at one P, the victim cache keeps objects over
    one collection and drops them at the second."""

    def main() -> list[Any]:
        p = Pool()
        out = [p.get()]
        p.put("a")
        p.put("b")
        out += [p.get(), p.get(), p.get()]
        for _ in range(100):
            p.put("c")
        gc.collect()
        out.append(p.get())
        gc.collect()
        out.append(p.get())
        return out

    assert run(main) == [None, "a", "b", None, "c", None]


def test_pool_new(gc_off: None) -> None:
    """TestPoolNew; new set after the pool was made, as Go's p.New = ...; put(None) is
    ignored, as Go's Put(nil)."""
    i = [0]

    def new() -> int:
        i[0] += 1
        return i[0]

    p = Pool()
    assert p.get() is None
    p.new = new
    assert (p.get(), p.get()) == (1, 2)
    p.put(42)
    p.put(None)
    assert (p.get(), p.get()) == (42, 3)
    p.new = None
    assert p.get() is None
    assert Pool(new).get() == 4


def test_pool_new_must_be_callable() -> None:
    with pytest.raises(TypeError, match=r"sync\.Pool: new must be callable or None, not int"):
        Pool(3)  # type: ignore[arg-type]
    p = Pool()
    with pytest.raises(TypeError, match=r"sync\.Pool: new must be callable or None, not str"):
        p.new = "x"  # type: ignore[assignment]
    assert p.new is None


def test_pool_new_runs_without_the_lock() -> None:
    p = Pool()

    def new() -> str:
        p.put("inner")  # would deadlock if get held the pool's lock
        return "made"

    p.new = new
    assert p.get() == "made"
    assert p.get() == "inner"


@pytest.mark.parametrize("drain", [True, False], ids=["gc", "release"])
def test_pool_releases_objects_after_two_collections(drain: bool, gc_off: None) -> None:
    """TestPoolGC, TestPoolRelease: a pool does not keep what it held once two collections
    have passed, without a further get or put."""

    class Obj:
        pass

    p = Pool()
    objs = [Obj() for _ in range(100)]
    refs = [weakref.ref(o) for o in objs]
    for o in objs:
        p.put(o)
    del objs, o
    if drain:
        for _ in range(100):
            p.get()
    gc.collect()
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


@pytest.mark.parametrize("procs", PROCS)
def test_pool_stress(procs: int) -> None:
    """TestPoolStress: goroutines put and get 0; nobody gets anything else."""
    rounds = 2000

    def main() -> int:
        p = Pool()
        wg = WaitGroup()
        bad = [0]

        def worker() -> None:
            v: Any = 0
            for j in range(rounds):
                if v is None:
                    v = 0
                p.put(v)
                v = p.get()
                if v is not None and v != 0:
                    bad[0] += 1
                if j % 50 == 0:
                    gosched.gosched()

        for _ in range(10):
            wg.go(worker)
        wg.wait()
        return bad[0]

    assert run(main, procs) == 0
