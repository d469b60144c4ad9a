"""The lifecycle contract of gosched.run and goroutines (API.md, "Package and entry points" and
"Goroutines and the scheduler"): arguments and results, re-entry, killing the rest at main's
return, panics, goexit, deadlock reports and the goroutine count, observed through the public API.
"""

from __future__ import annotations

import gc
import itertools
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import gosched
from gosched._runtime import exit as exit_
from gosched._runtime.stack import Stack
from gosched.sync import WaitGroup

PROCS = [1, 2, 4]

ALREADY_RUNNING = "already running"


def _here() -> int:
    """The caller's current line: ``line = _here() + 1`` names the next source line."""
    return sys._getframe(1).f_lineno


def _m_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("gosched-M")]


def _stacks() -> list[Stack]:
    """Every goroutine stack (greenlet) object still reachable, dead or alive, but those that the
    runtime keeps on purpose: the stacks of goroutines abandoned at exit on a thread that is
    still alive (exit.py: dropping one would resume it, and its frames must never run)."""
    gc.collect()
    kept = {id(st) for st, _ in exit_._graveyard}
    return [o for o in gc.get_objects() if isinstance(o, Stack) and id(o) not in kept]


def _local(outer: str) -> str:
    """How dumps name a function defined inside test function outer: Python 3.11+ frames carry
    the qualified name (co_qualname); 3.10's carry only the function's own name."""
    if sys.version_info >= (3, 11):
        return f"{__name__}.{outer}.<locals>"
    return __name__


def _blocker() -> WaitGroup:
    """A WaitGroup that nobody finishes: wait() on it parks forever."""
    wg = WaitGroup()
    wg.add(1)
    return wg


# --- Go's goroutine dump format (facts sheet, section 18) -----------------------------------

_HEADER = re.compile(r"goroutine (\d+) \[([^\]]+)\]:")
_FRAME = re.compile(r"(\S+)\((?:\.\.\.)?\)")
_CREATED = re.compile(r"created by (\S+) in goroutine (\d+)")
_FILELINE = re.compile(r"\t(.+):(\d+)")


@dataclass
class DumpedG:
    reason: str
    frames: list[tuple[str, str, int]]  # (module.func, file, line), innermost first
    created: tuple[str, int, str, int] | None  # (module.func, parent goid, file, line)


def parse_dump(dump: str) -> dict[int, DumpedG]:
    """Check that dump is in Go's format and return its goroutines by goid."""
    assert dump.strip(), "empty goroutine dump"
    out: dict[int, DumpedG] = {}
    for block in dump.rstrip("\n").split("\n\n"):
        lines = block.split("\n")
        header = _HEADER.fullmatch(lines[0])
        assert header, f"bad header line {lines[0]!r} in dump:\n{dump}"
        body = lines[1:]
        assert len(body) % 2 == 0, f"frames must come in (name, file:line) pairs:\n{block}"
        frames: list[tuple[str, str, int]] = []
        created = None
        for i in range(0, len(body), 2):
            name, where = body[i], body[i + 1]
            loc = _FILELINE.fullmatch(where)
            assert loc, f"bad file:line line {where!r} in:\n{block}"
            file, line = loc.group(1), int(loc.group(2))
            cb = _CREATED.fullmatch(name)
            if cb:
                assert i == len(body) - 2, f"'created by' must come last:\n{block}"
                created = (cb.group(1), int(cb.group(2)), file, line)
                continue
            fr = _FRAME.fullmatch(name)
            assert fr, f"bad frame line {name!r} in:\n{block}"
            frames.append((fr.group(1), file, line))
        goid = int(header.group(1))
        assert goid not in out, f"goroutine {goid} dumped twice:\n{dump}"
        out[goid] = DumpedG(header.group(2), frames, created)
    return out


# --- run: arguments, result, validation ---------------------------------------------------


def test_run_returns_mains_value() -> None:
    sentinel = object()
    assert gosched.run(lambda: sentinel) is sentinel
    assert gosched.run(lambda: None) is None


def test_run_passes_args_and_kwargs_but_keeps_gomaxprocs() -> None:
    def main(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any], int]:
        return args, kwargs, gosched.gomaxprocs(0)

    args, kwargs, procs = gosched.run(main, 1, "two", x=3, main=4, gomaxprocs=2)
    assert args == (1, "two")
    assert kwargs == {"x": 3, "main": 4}
    assert procs == 2


@pytest.mark.parametrize("bad", [0, -1, "2", True, 2.0])
def test_run_rejects_invalid_gomaxprocs(bad: object) -> None:
    called = []
    with pytest.raises(ValueError, match="gomaxprocs") as ei:
        gosched.run(lambda: called.append(1), gomaxprocs=bad)  # type: ignore[arg-type]
    assert repr(bad) in str(ei.value)
    assert called == []


@pytest.mark.parametrize("main", [None, 42, "main"])
def test_run_rejects_non_callable_main(main: object) -> None:
    with pytest.raises(TypeError, match="callable"):
        gosched.run(main)  # type: ignore[arg-type]


# --- re-entry ---------------------------------------------------------------------------------


def test_run_again_after_it_returns() -> None:
    def main(i: int) -> int:
        wg = WaitGroup()
        out: list[int] = []
        for j in range(3):
            wg.go(out.append, j)
        wg.wait()
        return i * 10 + len(out)

    assert [gosched.run(main, i) for i in range(5)] == [3, 13, 23, 33, 43]
    assert _m_threads() == []


def test_run_again_after_panic_and_deadlock() -> None:
    def bad() -> None:
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        gosched.run(bad)
    with pytest.raises(gosched.Deadlock):
        gosched.run(lambda: _blocker().wait())
    assert gosched.run(lambda: gosched.goid()) == 1


def test_run_from_another_thread_after_first_run() -> None:
    assert gosched.run(lambda: "m0 is the main thread") == "m0 is the main thread"
    got: list[object] = []

    def thread() -> None:
        try:
            got.append(gosched.run(lambda: (gosched.goid(), threading.current_thread().name)))
        except BaseException as e:
            got.append(e)

    t = threading.Thread(target=thread, name="second-runner")
    t.start()
    t.join(10)
    assert not t.is_alive()
    assert got == [(1, "second-runner")]


def test_nested_run_in_main_raises() -> None:
    inner_ran = []

    def main() -> str:
        with pytest.raises(RuntimeError) as ei:
            gosched.run(lambda: inner_ran.append(1))
        return str(ei.value)

    msg = gosched.run(main)
    assert ALREADY_RUNNING in msg
    assert inner_ran == []


def test_nested_run_in_goroutine_raises() -> None:
    def main() -> list[str]:
        msgs: list[str] = []

        def g() -> None:
            try:
                gosched.run(lambda: None)
            except RuntimeError as e:
                msgs.append(str(e))

        wg = WaitGroup()
        wg.go(g)
        wg.wait()
        return msgs

    msgs = gosched.run(main)
    assert len(msgs) == 1
    assert ALREADY_RUNNING in msgs[0]


def test_run_from_second_thread_while_active_raises() -> None:
    def main() -> list[object]:
        got: list[object] = []

        def thread() -> None:
            try:
                got.append(gosched.run(lambda: "should not run"))
            except BaseException as e:
                got.append(e)

        t = threading.Thread(target=thread)
        t.start()
        t.join(10)
        return got

    got = gosched.run(main)
    assert len(got) == 1
    assert isinstance(got[0], RuntimeError), got
    assert ALREADY_RUNNING in str(got[0])


# --- the API outside a goroutine ---------------------------------------------------------------

OUTSIDE: list[tuple[str, Callable[[], object]]] = [
    ("go", lambda: gosched.go(print)),
    ("gosched", gosched.gosched),
    ("goexit", gosched.goexit),
    ("goid", gosched.goid),
    ("gomaxprocs", gosched.gomaxprocs),
    ("lock_os_thread", gosched.lock_os_thread),
]


@pytest.mark.parametrize("call", [c for _, c in OUTSIDE], ids=[n for n, _ in OUTSIDE])
def test_api_outside_run_says_call_run(call: Callable[[], object]) -> None:
    with pytest.raises(RuntimeError, match=r"gosched\.run"):
        call()


# What a plain thread may not do even while a runtime is up: it has no goroutine of its own.
NOT_FROM_THREADS = [c for n, c in OUTSIDE if n in ("goexit", "goid", "lock_os_thread")]


@pytest.mark.parametrize("call", NOT_FROM_THREADS)
def test_api_from_foreign_thread_during_run(call: Callable[[], object]) -> None:
    """A plain thread is not a goroutine even while a runtime is up (tests/test_threads.py: it
    may use channels, select, sync, contexts, go, gosched and gomaxprocs)."""

    def main() -> list[BaseException]:
        errs: list[BaseException] = []

        def thread() -> None:
            try:
                call()
            except BaseException as e:
                errs.append(e)

        t = threading.Thread(target=thread)
        t.start()
        t.join(10)
        return errs

    errs = gosched.run(main)
    assert len(errs) == 1
    assert isinstance(errs[0], RuntimeError), errs
    assert "gosched.run" in str(errs[0]) or "plain thread" in str(errs[0])


@pytest.mark.parametrize("fn", [42, "main", [print]])
def test_go_of_non_callable_raises_at_call_site(fn: object) -> None:
    """A TypeError naming the type comes out of the go() call itself; no goroutine is created;
    it is an ordinary exception (Go cannot compile it at all), so main goes on."""

    def main() -> tuple[int, int, str, int, int, str]:
        before = gosched.num_goroutine()
        line = _here() + 2
        try:
            gosched.go(fn)  # type: ignore[arg-type]
        except TypeError as e:
            tb = e.__traceback__
            assert tb is not None
            wg = WaitGroup()
            out: list[str] = []
            wg.go(out.append, "still fine")
            wg.wait()
            return before, gosched.num_goroutine(), str(e), tb.tb_lineno, line, out[0]
        raise AssertionError("go(non-callable) did not raise")

    before, after, msg, lineno, line, fine = gosched.run(main)
    assert msg == f"gosched.go: fn must be callable, not {type(fn).__name__}"
    assert lineno == line
    assert before == after == 1
    assert fine == "still fine"


@pytest.mark.parametrize("procs", PROCS)
def test_go_of_none_is_fatal(procs: int) -> None:
    """go(None) is Go's fatal error `go of nil func value` (go/fatal_nilgo.go): the program
    ends even if main catches it, main's except and finally never run, and the error carries
    the goroutine dump, main first and running."""
    ran: list[str] = []

    def main() -> None:
        try:
            gosched.go(None)  # type: ignore[arg-type]
        except BaseException:
            ran.append("except")
        finally:
            ran.append("finally")
        ran.append("after")

    with pytest.raises(gosched.FatalError) as ei:
        gosched.run(main, gomaxprocs=procs)
    assert str(ei.value) == "go of nil func value"
    assert ran == []
    assert ei.value.dump.startswith("goroutine 1 [running]:\n"), ei.value.dump
    assert _local("test_go_of_none_is_fatal") in ei.value.dump


# --- main returns: the rest are killed ----------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_main_return_kills_the_rest(procs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if procs == 1:
        # `never` must not start before main returns: sysmon would hand the P to another M if
        # main spent 0.5 ms in Python after starting it (its return is longer than Go's).
        monkeypatch.setenv("GODEBUG", "sysmonoff=1")
    log: list[str] = []
    seen_stacks: list[int] = []

    def parked(started: WaitGroup) -> None:
        try:
            started.done()
            _blocker().wait()
            log.append("parked woke")
        finally:
            log.append("parked finally")

    def yielder(started: WaitGroup) -> None:
        started.done()
        try:
            while True:
                gosched.gosched()
        finally:
            log.append("yielder finally")

    def never() -> None:
        log.append("never ran")

    def main() -> str:
        started = WaitGroup()
        started.add(3)
        gosched.go(parked, started)
        gosched.go(parked, started)
        gosched.go(yielder, started)
        started.wait()
        seen_stacks.append(len([s for s in _stacks() if not s.dead]))
        if procs == 1:
            # Only one P and main never yields again: this one cannot start before main returns.
            gosched.go(never)
        return "main's value"

    assert gosched.run(main, gomaxprocs=procs) == "main's value"
    assert sorted(log) == ["parked finally", "parked finally", "yielder finally"]
    assert _m_threads() == []
    assert seen_stacks[0] >= 4, "the stack scan must see live goroutine stacks during run"
    assert _stacks() == []


def test_main_return_with_goroutines_never_started() -> None:
    ran: list[int] = []

    def main() -> int:
        for i in range(50):
            gosched.go(ran.append, i)
        return gosched.num_goroutine()

    assert gosched.run(main, gomaxprocs=1) == 51
    assert ran == []
    assert _stacks() == []


@pytest.mark.parametrize("procs", PROCS)
def test_killed_goroutine_finally_can_wake_others(procs: int) -> None:
    """wg.go's done() runs in the killed goroutines' finally blocks; the waiter it would wake is
    being killed too, and nothing hangs or leaks."""
    log: list[str] = []

    def parked(started: WaitGroup) -> None:
        started.done()
        try:
            _blocker().wait()
        finally:
            log.append("parked")

    def waiter(wg: WaitGroup, started: WaitGroup) -> None:
        started.done()
        try:
            wg.wait()
        finally:
            log.append("waiter")

    def main() -> None:
        started = WaitGroup()
        started.add(3)
        wg = WaitGroup()
        wg.go(parked, started)
        wg.go(parked, started)
        gosched.go(waiter, wg, started)
        started.wait()

    gosched.run(main, gomaxprocs=procs)
    assert sorted(log) == ["parked", "parked", "waiter"]
    assert _m_threads() == []


def test_goid_in_finally_of_killed_goroutine() -> None:
    got: list[object] = []

    def parked(started: WaitGroup) -> None:
        try:
            started.done()
            _blocker().wait()
        finally:
            try:
                got.append(gosched.goid())
            except BaseException as e:
                got.append(e)

    def main() -> None:
        started = WaitGroup()
        started.add(1)
        gosched.go(parked, started)
        started.wait()

    gosched.run(main, gomaxprocs=1)
    assert got == [2]


# --- panics -------------------------------------------------------------------------------------


def _panic_program(exc: BaseException, log: list[str], in_main: bool) -> Callable[[], None]:
    """main starts two goroutines that park, then exc escapes main or a third goroutine."""

    def parked(started: WaitGroup) -> None:
        try:
            started.done()
            _blocker().wait()
            log.append("parked woke")
        finally:
            log.append("parked finally")

    def bad(started: WaitGroup) -> None:
        started.wait()
        raise exc

    def main() -> None:
        started = WaitGroup()
        started.add(2)
        gosched.go(parked, started)  # goroutine 2
        gosched.go(parked, started)  # goroutine 3
        if in_main:
            started.wait()
            raise exc
        gosched.go(bad, started)  # goroutine 4
        _blocker().wait()
        log.append("main went on")

    return main


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("in_main", [False, True], ids=["goroutine", "main"])
def test_exception_stops_the_program(procs: int, in_main: bool) -> None:
    boom = ValueError("boom")
    log: list[str] = []
    with pytest.raises(ValueError) as ei:
        gosched.run(_panic_program(boom, log, in_main), gomaxprocs=procs)
    assert ei.value is boom
    goid = 1 if in_main else 4
    assert boom.__notes__ == [f"goroutine {goid} [running]"]
    assert log == ["parked finally", "parked finally"]
    assert _m_threads() == []
    # The exception's traceback holds the frames it went through; once it is gone, nothing of
    # the runtime may keep a goroutine stack alive.
    del ei, boom
    assert _stacks() == []


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize(
    "make", [lambda: SystemExit(3), KeyboardInterrupt], ids=["SystemExit", "KeyboardInterrupt"]
)
@pytest.mark.parametrize("in_main", [False, True], ids=["goroutine", "main"])
def test_base_exception_stops_the_program(
    procs: int, make: Callable[[], BaseException], in_main: bool
) -> None:
    exc = make()
    log: list[str] = []
    with pytest.raises(BaseException) as ei:
        gosched.run(_panic_program(exc, log, in_main), gomaxprocs=procs)
    assert ei.value is exc
    assert exc.__notes__ == [f"goroutine {1 if in_main else 4} [running]"]
    assert log == ["parked finally", "parked finally"]
    if isinstance(exc, SystemExit):
        assert exc.code == 3


def test_exception_from_goroutine_created_by_goroutine() -> None:
    """The note names the goroutine the exception escaped, not its creator or main."""

    def inner() -> None:
        raise LookupError(gosched.goid())

    def outer() -> None:
        gosched.go(inner)
        _blocker().wait()

    def main() -> None:
        gosched.go(outer)
        _blocker().wait()

    with pytest.raises(LookupError) as ei:
        gosched.run(main, gomaxprocs=1)
    goid = ei.value.args[0]
    assert goid > 2
    assert ei.value.__notes__ == [f"goroutine {goid} [running]"]


# --- goexit -------------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_goexit_runs_finally_and_ends_goroutine(procs: int) -> None:
    log: list[str] = []

    def deep() -> None:
        try:
            gosched.goexit()
        except Exception:
            log.append("swallowed by except Exception")
        log.append("after goexit")

    def g(i: int) -> None:
        try:
            deep()
            log.append("after deep")
        finally:
            log.append(f"finally {i}")

    def main() -> tuple[str, int]:
        wg = WaitGroup()
        for i in range(3):
            wg.go(g, i)  # done() runs from wg.go's own finally
        wg.wait()
        return "main done", gosched.goid()

    assert gosched.run(main, gomaxprocs=procs) == ("main done", 1)
    assert sorted(log) == ["finally 0", "finally 1", "finally 2"]


@pytest.mark.parametrize("procs", PROCS)
def test_goexit_in_main_waits_for_others_then_deadlock(procs: int) -> None:
    """The workers can only finish after main's goexit has begun (its finally releases them):
    the program goes on without main, then reports Go's Goexit deadlock."""
    log: list[str] = []

    def worker(release: WaitGroup) -> None:
        release.wait()
        for _ in range(3):
            gosched.gosched()
        log.append("worker finished")

    def main() -> str:
        release = WaitGroup()
        release.add(1)
        gosched.go(worker, release)
        gosched.go(worker, release)
        try:
            gosched.goexit()
        except Exception:
            log.append("swallowed")
        finally:
            log.append("main finally")
            release.done()
        log.append("after goexit")
        return "unreachable"

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=procs)
    assert str(ei.value) == "no goroutines (main called runtime.Goexit) - deadlock!"
    assert log == ["main finally", "worker finished", "worker finished"]


def test_goexit_in_main_alone() -> None:
    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(gosched.goexit)
    assert str(ei.value) == "no goroutines (main called runtime.Goexit) - deadlock!"


def test_goexit_in_main_with_others_blocked_forever() -> None:
    """Go's checkdead: with a waiting goroutine left it is the ordinary deadlock."""

    def main() -> None:
        gosched.go(lambda: _blocker().wait())
        gosched.goexit()

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=1)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    dumped = parse_dump(ei.value.dump)
    assert sorted(dumped) == [2]
    assert dumped[2].reason == "sync.WaitGroup.Wait"


@pytest.mark.parametrize("procs", PROCS)
def test_goexit_is_not_lost_when_its_unwinding_is_caught(procs: int) -> None:
    """Go remembers on the G that Goexit runs (go/goexit_recovered.go): a finally block that
    raises and an except that catches it leave goroutine 1 exiting. Its runtime calls while it
    unwinds or handles that exception are ordinary (release.done() in the finally, ch.send in
    the except); the first one after ends it once it has done its work (the send to `late`
    happens: a call in a finally block on normal completion looks the same, and must not be
    lost), and main's return would not end the program either: it goes on without main."""
    log: list[str] = []
    late = gosched.Chan[int](1)

    def worker(release: WaitGroup) -> None:
        release.wait()
        log.append(f"worker got {late.recv()}")

    def main() -> str:
        release = WaitGroup()
        release.add(1)
        gosched.go(worker, release)
        handled = gosched.Chan[int](1)
        try:
            try:
                try:
                    gosched.goexit()
                finally:
                    release.done()
                    raise ValueError("from finally")
            except ValueError:
                handled.send(1)
                log.append(f"caught, handled={len(handled)}")
            late.send(7)
            log.append("after goexit")
        finally:
            log.append("main's outer finally")
        return "main returned"

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=procs)
    assert str(ei.value) == "no goroutines (main called runtime.Goexit) - deadlock!"
    assert "after goexit" not in log, log
    assert sorted(log) == ["caught, handled=1", "main's outer finally", "worker got 7"], log
    assert log.index("caught, handled=1") < log.index("main's outer finally"), log


@pytest.mark.parametrize("procs", PROCS)
def test_goexit_caught_and_returned_from_still_ends_as_goexit(procs: int) -> None:
    """A main that swallows its Goexit and returns with no runtime call after: the return is
    Goexit's end, not main's (the program goes on without main)."""

    def main() -> str:
        try:
            gosched.goexit()
        except BaseException:
            pass
        return "main returned"

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=procs)
    assert str(ei.value) == "no goroutines (main called runtime.Goexit) - deadlock!"


@pytest.mark.parametrize("procs", PROCS)
def test_goexit_swallowed_in_wg_go_still_calls_done(procs: int) -> None:
    """docs/caveats.md's example: a function run by wg.go swallows its Goexit and returns; the
    wrapper's done() still happens (then the Goexit ends the goroutine), so wait() returns."""
    log: list[str] = []

    def swallows() -> None:
        try:
            gosched.goexit()
        except BaseException as e:
            log.append(f"swallowed {type(e).__name__}")
        log.append("still running")

    def main() -> list[str]:
        wg = WaitGroup()
        wg.go(swallows)
        wg.wait()
        return log

    assert gosched.run(main, gomaxprocs=procs) == ["swallowed GoexitUnwind", "still running"]


# --- deadlock -----------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_deadlock_main_alone(procs: int) -> None:
    lines: list[int] = []

    def main() -> None:
        wg = _blocker()
        lines.append(_here() + 1)
        wg.wait()

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=procs)
    e = ei.value
    assert str(e) == "all goroutines are asleep - deadlock!"
    assert isinstance(e, gosched.FatalError)
    assert "goroutine 1 [sync.WaitGroup.Wait]:" in e.dump
    assert _local("test_deadlock_main_alone") in e.dump
    assert __file__ in e.dump
    dumped = parse_dump(e.dump)
    assert sorted(dumped) == [1]
    g1 = dumped[1]
    assert g1.created is None
    assert (f"{_local('test_deadlock_main_alone')}.main", __file__, lines[0]) in g1.frames


@pytest.mark.parametrize("procs", PROCS)
def test_deadlock_dump_shows_every_goroutine(procs: int) -> None:
    lines: dict[str, int] = {}

    def worker(started: WaitGroup, wg: WaitGroup) -> None:
        started.done()
        lines["worker"] = _here() + 1
        wg.wait()

    def main() -> None:
        wg = _blocker()
        started = WaitGroup()
        started.add(2)
        lines["go2"] = _here() + 1
        gosched.go(worker, started, wg)
        lines["go3"] = _here() + 1
        gosched.go(worker, started, wg)
        started.wait()
        lines["main"] = _here() + 1
        wg.wait()

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=procs)
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    dump = ei.value.dump
    dumped = parse_dump(dump)
    assert sorted(dumped) == [1, 2, 3], dump
    assert dump.startswith("goroutine 1 [sync.WaitGroup.Wait]:\n")
    prefix = _local("test_deadlock_dump_shows_every_goroutine")
    assert dumped[1].created is None
    assert (f"{prefix}.main", __file__, lines["main"]) in dumped[1].frames
    for goid, go_line in ((2, lines["go2"]), (3, lines["go3"])):
        g = dumped[goid]
        assert g.reason == "sync.WaitGroup.Wait"
        assert (f"{prefix}.worker", __file__, lines["worker"]) in g.frames, dump
        assert g.created == (f"{prefix}.main", 1, __file__, go_line), dump
    assert f"created by {prefix}.main in goroutine 1\n\t{__file__}:{lines['go2']}" in dump


def test_deadlock_created_by_names_the_creating_goroutine() -> None:
    lines: dict[str, int] = {}

    def leaf() -> None:
        _blocker().wait()

    def middle() -> None:
        lines["go_leaf"] = _here() + 1
        gosched.go(leaf)
        _blocker().wait()

    def main() -> None:
        gosched.go(middle)
        _blocker().wait()

    with pytest.raises(gosched.Deadlock) as ei:
        gosched.run(main, gomaxprocs=1)
    dumped = parse_dump(ei.value.dump)
    assert sorted(dumped) == [1, 2, 3]
    prefix = _local("test_deadlock_created_by_names_the_creating_goroutine")
    assert dumped[2].created is not None and dumped[2].created[:2] == (f"{prefix}.main", 1)
    assert dumped[3].created == (f"{prefix}.middle", 2, __file__, lines["go_leaf"])


# --- num_goroutine and goid ------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_num_goroutine_counts_live_goroutines(procs: int) -> None:
    k = 5

    def worker(started: WaitGroup, release: WaitGroup) -> None:
        started.done()
        release.wait()

    def main() -> list[int]:
        counts = [gosched.num_goroutine()]
        started = WaitGroup()
        started.add(k)
        release = WaitGroup()
        release.add(1)
        done = WaitGroup()
        for _ in range(k):
            done.go(worker, started, release)
        started.wait()
        counts.append(gosched.num_goroutine())
        release.done()
        done.wait()
        if procs > 1:
            # done() runs just before each goroutine's function returns; on other Ps the last
            # few may still be finishing. Give them the processor (bounded, no sleeping).
            for _ in range(10_000):
                if gosched.num_goroutine() == 1:
                    break
                gosched.gosched()
        counts.append(gosched.num_goroutine())
        return counts

    assert gosched.run(main, gomaxprocs=procs) == [1, 1 + k, 1]


def test_goids_main_is_1_and_goroutines_increase() -> None:
    def main() -> tuple[int, list[int]]:
        k = 40  # more than one 16-goid batch
        ids = [0] * k
        wg = WaitGroup()

        def g(i: int) -> None:
            ids[i] = gosched.goid()

        for i in range(k):
            wg.go(g, i)
        wg.wait()
        return gosched.goid(), ids

    main_id, ids = gosched.run(main, gomaxprocs=1)
    assert main_id == 1
    assert len(set(ids)) == len(ids)
    assert all(a < b for a, b in itertools.pairwise(ids)), ids
    assert ids[0] > 1


def test_goids_distinct_across_ps() -> None:
    def main() -> list[int]:
        ids: list[int] = []
        lock = threading.Lock()
        wg = WaitGroup()

        def leaf() -> None:
            with lock:
                ids.append(gosched.goid())

        def spawner() -> None:
            for _ in range(20):
                wg.go(leaf)

        for _ in range(4):
            wg.go(spawner)
        wg.wait()
        return ids

    ids = gosched.run(main, gomaxprocs=4)
    assert len(ids) == 80
    assert len(set(ids)) == 80
    assert 1 not in ids


# --- debug and locked threads across the lifecycle ---------------------------------------------


@pytest.mark.parametrize("procs", [1, 2])
def test_debug_inside_run(procs: int) -> None:
    lines: dict[str, int] = {}

    def parked(started: WaitGroup) -> None:
        started.done()
        _blocker().wait()

    def main() -> tuple[str, dict[str, Any]]:
        started = WaitGroup()
        started.add(1)
        lines["go"] = _here() + 1
        gosched.go(parked, started)
        started.wait()
        lines["stack"] = _here() + 1
        return gosched.debug.stack(), gosched.debug.snapshot()

    dump, snap = gosched.run(main, gomaxprocs=procs)
    assert dump.startswith("goroutine 1 [running]:\n")
    dumped = parse_dump(dump)
    assert sorted(dumped) == [1, 2]
    prefix = _local("test_debug_inside_run")
    assert dumped[1].frames[0] == (f"{prefix}.main", __file__, lines["stack"])
    assert dumped[2].reason == "sync.WaitGroup.Wait"
    assert dumped[2].created == (f"{prefix}.main", 1, __file__, lines["go"])
    assert snap["gomaxprocs"] == procs
    assert len(snap["allp"]) == procs
    assert [g["goid"] for g in snap["allgs"]] == [1, 2]


@pytest.mark.parametrize("call", [gosched.debug.stack, gosched.debug.snapshot])
def test_debug_outside_run(call: Callable[[], object]) -> None:
    with pytest.raises(RuntimeError, match=r"gosched\.run"):
        call()


@pytest.mark.parametrize("procs", [1, 2])
def test_run_ends_cleanly_with_locked_goroutines(procs: int) -> None:
    """A goroutine that exits locked retires its thread; main returning while locked (nested
    twice) still lets run return and end every M."""

    def main() -> str:
        wg = WaitGroup()

        def g() -> None:
            gosched.lock_os_thread()
            gosched.lock_os_thread()

        wg.go(g)
        wg.wait()
        gosched.lock_os_thread()
        gosched.lock_os_thread()
        gosched.unlock_os_thread()
        return "locked main returned"

    assert gosched.run(main, gomaxprocs=procs) == "locked main returned"
    assert _m_threads() == []
    assert gosched.run(lambda: gosched.goid()) == 1


@pytest.mark.parametrize("procs", [1, 2])
@pytest.mark.parametrize("call", ["go", "gosched", "wait"])
def test_runtime_call_in_finally_of_killed_goroutine_abandons_it(procs: int, call: str) -> None:
    """While the program ends, a dying goroutine's finally blocks run, but a runtime call in
    them (go, gosched, WaitGroup.wait) abandons it: the rest of its frames never run, as Go
    runs no deferred calls when the program exits."""
    got: list[str] = []
    calls: dict[str, Callable[[], object]] = {
        "go": lambda: gosched.go(print),
        "gosched": gosched.gosched,
        "wait": _blocker().wait,
    }

    def parked(started: WaitGroup) -> None:
        try:
            started.done()
            _blocker().wait()
        finally:
            got.append("finally")
            try:
                calls[call]()
                got.append("returned")
            finally:
                got.append("inner finally")

    def main() -> None:
        started = WaitGroup()
        started.add(1)
        gosched.go(parked, started)
        started.wait()

    gosched.run(main, gomaxprocs=procs)
    assert got == ["finally"]
    assert gosched.run(gosched.goid) == 1


def test_num_goroutine_outside_run_raises() -> None:
    with pytest.raises(RuntimeError, match=r"gosched\.run"):
        gosched.num_goroutine()


@pytest.mark.parametrize("procs", [1, 2])
def test_channel_outliving_run_forgets_killed_waiters(procs: int) -> None:
    """Goroutines killed while parked on a channel leave its queues: a channel (or WaitGroup)
    that outlives gosched.run works normally in the next run."""
    ch: gosched.Chan[int] = gosched.Chan()
    wg = WaitGroup()
    wg.add(1)

    def first() -> None:
        started = WaitGroup()
        started.add(3)
        gosched.go(lambda: (started.done(), ch.recv()))
        gosched.go(lambda: (started.done(), ch.recv()))
        gosched.go(lambda: (started.done(), wg.wait()))
        started.wait()
        gosched.gosched()  # let the last one park too
        assert len(ch.recvq) == 2

    gosched.run(first, gomaxprocs=procs)
    assert not ch.recvq and not ch.sendq

    def second() -> int | None:
        gosched.go(ch.send, 42)
        wg.done()
        return ch.recv()

    assert gosched.run(second, gomaxprocs=procs) == 42
