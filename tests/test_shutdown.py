"""The end of a program (API.md, "gosched.run"): when main returns, raises or is interrupted,
every other goroutine is killed. One that is parked or runnable gets greenlet.GreenletExit at
its blocking call; one running on another thread gets it at its next gosched call, even one
that never blocks. Its finally blocks run, and run returns (or raises) within 100 ms plus the
time they take.

- A killed goroutine that enters the runtime again (it swallowed GreenletExit, or its finally
  block calls gosched) is abandoned, not killed again: its remaining frames never run, as Go
  exits without running deferred calls.
- An exception raised by a killed goroutine's finally block goes to sys.unraisablehook
  ("Exception ignored in: goroutine N" and the traceback); the outcome is unchanged.
- gosched.run works again in the same process after each of these endings.

Every program runs in a fresh process (tests/_child.py) and prints a time.monotonic() stamp as
main ends; the process must end within DEADLINE (3 s; the contract's 100 ms, with room for a
noisy machine) of it, where the bugs this pins take forever. Goroutines that loop without ever
parking are started GOMAXPROCS - 1 at a time, so that each runs on a thread of its own (see
start_loopers in tests/_child.py).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from ._child import DEADLINE, HANG, LOOP_SHAPES, Child, stamp, write_program

LOOPERS = """
def looper(i, started, loop):
    try:
        started.put(i)
        loop()
    except BaseException as e:
        say("looper", i, "got", type(e).__name__)
        raise
    finally:
        say("looper", i, "killed")


def main(shape, ending):
    n = gosched.gomaxprocs() - 1
    start_loopers(n, looper, LOOPS[shape])
    if ending == "sigint":
        try:
            say("ready", now())
            gosched.sleep(100)
        except KeyboardInterrupt:
            say("caught", now())
            raise
    say("ending", now())
    if ending == "raise":
        raise ValueError("main failed")
    return "main's value"


main(sys.argv[1], sys.argv[2])
"""


@pytest.mark.parametrize("ending", ["return", "raise", "sigint"])
@pytest.mark.parametrize("procs", [2, 4])
@pytest.mark.parametrize("shape", LOOP_SHAPES)
def test_looping_goroutines_are_killed(tmp_path: Path, shape: str, procs: int, ending: str) -> None:
    """Goroutines on other threads loop forever on operations that never park (a buffered
    channel, a select with a ready case or a default, gosched(), an uncontended Mutex). Main
    returns (exit 0), raises (exit 2, a panic) or is interrupted (exit 130): each looper gets
    GreenletExit at its next operation, its finally block runs, the process ends at once."""
    _loopers_are_killed(tmp_path, shape, procs, ending)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="preemption needs sys.monitoring (3.12+)")
@pytest.mark.parametrize("ending", ["return", "raise", "sigint"])
@pytest.mark.parametrize("procs", [2, 4])
def test_pure_python_loops_are_killed(tmp_path: Path, procs: int, ending: str) -> None:
    """Goroutines on other threads run pure-Python loops that never call gosched, each on its
    own thread, when main returns, raises or is interrupted: each loop is preempted at once and
    gets GreenletExit there (not only loops that happened to be preempted already: a loop
    running when the program ends kept the process alive for good), and its finally block runs
    to its end (a preemption in it would abandon the goroutine)."""
    _loopers_are_killed(tmp_path, "pure", procs, ending)


def _loopers_are_killed(tmp_path: Path, shape: str, procs: int, ending: str) -> None:
    script = write_program(tmp_path, LOOPERS)
    with Child.gosched_run(script, procs, shape, ending) as c:
        if ending == "sigint":
            c.wait_for("ready")
            since = c.interrupt()
            what = "SIGINT"
        else:
            since = stamp(c.wait_for("ending"))
            what = f"main's {ending}"
        took = c.finish(since, what)
        assert took <= DEADLINE, (
            f"the process ended {took:.3f} s after {what} (contract: 100 ms)\n{c.report()}"
        )
        code = {"return": 0, "raise": 2, "sigint": 130}[ending]
        assert c.returncode == code, c.report()
        if ending == "raise":
            assert "panic: ValueError: main failed" in c.stderr, c.report()
        if ending == "sigint":
            caught = c.line("caught")
            assert caught is not None, (
                f"main did not get KeyboardInterrupt in gosched.sleep\n{c.report()}"
            )
            assert stamp(caught) - since <= DEADLINE, c.report()
        for i in range(procs - 1):
            assert c.count(f"looper {i} got GreenletExit") == 1, c.report()
            assert c.count(f"looper {i} killed") == 1, c.report()


SWALLOW = """
def parked(started):
    ch = gosched.Chan()
    n = 0
    started.done()
    while True:
        try:
            ch.recv()
        except:  # swallows GreenletExit
            n += 1
            if n <= 3:
                say("parked swallowed")


def looping(i, started):
    c = gosched.Chan(1)
    n = 0
    while True:
        # On 3.12+ a looper may be preempted, and then killed, at any line (docs/lifecycle.md):
        # every line after started.put, which lets main end, is inside the try until the kill.
        try:
            if started is not None:
                started.put(i)
                started = None
            while True:
                c.send(1)
                c.recv()
        except:  # swallows GreenletExit
            n += 1
            if n <= 3:
                say("looper", i, "swallowed")


def main():
    started = sync.WaitGroup()
    started.add(1)
    gosched.go(parked, started)
    started.wait()
    start_loopers(gosched.gomaxprocs() - 1, looping)
    say("ending", now())


main()
"""


@pytest.mark.parametrize("procs", [1, 4])
def test_goroutine_that_swallows_its_kill_is_abandoned(tmp_path: Path, procs: int) -> None:
    """A goroutine that catches GreenletExit with a bare except and enters the runtime again
    (parked in ch.recv(); at P=4 also loopers on other threads) is abandoned there: killed
    once, never again, and its frames never run again (not even at interpreter exit).
    The program ends normally."""
    script = write_program(tmp_path, SWALLOW)
    with Child.gosched_run(script, procs) as c:
        since = stamp(c.wait_for("ending"))
        took = c.finish(since, "main's return")
        assert took <= DEADLINE, f"the process ended {took:.3f} s after main\n{c.report()}"
        assert c.returncode == 0, c.report()
        assert c.count("parked swallowed") == 1, c.report()
        for i in range(procs - 1):
            assert c.count(f"looper {i} swallowed") == 1, c.report()


FINALLY_CALLS_RUNTIME = """
def call(how):
    if how == "recv":
        gosched.Chan().recv()
    else:
        gosched.gosched()


def parked(started, how):
    ch = gosched.Chan()
    try:
        started.done()
        ch.recv()
    finally:
        say("a parked")
        call(how)
        say("b parked")


def looper(i, started, how):
    try:
        started.put(i)
        loop_chan()
    finally:
        say("a looper", i)
        call(how)
        say("b looper", i)


def main(how):
    started = sync.WaitGroup()
    started.add(1)
    gosched.go(parked, started, how)
    started.wait()
    start_loopers(gosched.gomaxprocs() - 1, looper, how)
    say("ending", now())


main(sys.argv[1])
"""


@pytest.mark.parametrize("how", ["recv", "gosched"])
@pytest.mark.parametrize("procs", [1, 4])
def test_runtime_call_in_finally_of_killed_goroutine_abandons_it(
    tmp_path: Path, procs: int, how: str
) -> None:
    """A killed goroutine's finally block runs up to its first runtime call (a ch.recv() that
    would block, or gosched() that would not); there it is abandoned, and the rest of the block
    never runs. Applies to a parked goroutine and (P=4) to loopers on other threads."""
    script = write_program(tmp_path, FINALLY_CALLS_RUNTIME)
    with Child.gosched_run(script, procs, how) as c:
        since = stamp(c.wait_for("ending"))
        took = c.finish(since, "main's return")
        assert took <= DEADLINE, f"the process ended {took:.3f} s after main\n{c.report()}"
        assert c.returncode == 0, c.report()
        assert c.count("a parked") == 1, c.report()
        assert c.line("b parked") is None, c.report()
        for i in range(procs - 1):
            assert c.count(f"a looper {i}") == 1, c.report()
            assert c.line(f"b looper {i}") is None, c.report()


FINALLY_RAISES = """
def parked(started):
    ch = gosched.Chan()
    try:
        say("parked goroutine", gosched.goid())
        started.done()
        ch.recv()
    finally:
        raise ValueError("from finally")


def looper(i, started):
    try:
        say("looping goroutine", gosched.goid())
        started.put(i)
        loop_chan()
    finally:
        raise ValueError("from the finally of a looper")


def main():
    started = sync.WaitGroup()
    started.add(1)
    gosched.go(parked, started)
    started.wait()
    start_loopers(gosched.gomaxprocs() - 1, looper)
    say("ending", now())
    return "main's value"


if __name__ == "__main__" and sys.argv[1:2] == ["hook"]:
    seen = []

    def hook(args):
        seen.append(args)

    sys.unraisablehook = hook
    say("run returned", gosched.run(main, gomaxprocs=int(sys.argv[2])))
    for args in seen:
        say("hook", type(args.exc_value).__name__, "|", args.exc_value, "|",
            f"{args.err_msg} {args.object!r}")
else:
    main()
"""


def _goids(c: Child) -> dict[int, str]:
    """goroutine id -> the message its finally raises."""
    out = {}
    for s in c.lines:
        if s.startswith("parked goroutine "):
            out[int(s.split()[-1])] = "from finally"
        elif s.startswith("looping goroutine "):
            out[int(s.split()[-1])] = "from the finally of a looper"
    return out


@pytest.mark.parametrize("procs", [1, 4])
def test_exception_in_finally_of_killed_goroutine_is_unraisable(tmp_path: Path, procs: int) -> None:
    """An exception raised by a killed goroutine's finally block (parked; at P=4 also loopers
    on other threads) is reported by sys.unraisablehook: "Exception ignored in: goroutine N"
    and its traceback on stderr. The outcome is unchanged: exit 0 after main returned."""
    script = write_program(tmp_path, FINALLY_RAISES)
    with Child.gosched_run(script, procs) as c:
        since = stamp(c.wait_for("ending"))
        took = c.finish(since, "main's return")
        assert took <= DEADLINE, f"the process ended {took:.3f} s after main\n{c.report()}"
        assert c.returncode == 0, c.report()
        goids = _goids(c)
        assert len(goids) == procs, c.report()
        reports = re.split(r"^(?=Exception ignored in)", c.stderr, flags=re.MULTILINE)
        for goid, msg in goids.items():
            mine = [r for r in reports if re.match(rf"Exception ignored in: goroutine {goid}\b", r)]
            assert len(mine) == 1, f"goroutine {goid}: no single report\n{c.report()}"
            report = mine[0]
            tb = report.find("Traceback (most recent call last):")
            assert tb > 0, c.report()
            assert f"ValueError: {msg}\n" in report[tb:], c.report()


@pytest.mark.parametrize("procs", [1, 4])
def test_custom_unraisablehook_gets_exception_from_finally(tmp_path: Path, procs: int) -> None:
    """A sys.unraisablehook installed by the program gets the exception of a killed
    goroutine's finally block, naming the goroutine; run still returns main's value."""
    script = write_program(tmp_path, FINALLY_RAISES)
    with Child.python(script, "hook", str(procs)) as c:
        since = stamp(c.wait_for("ending"))
        took = c.finish(since, "main's return")
        assert took <= DEADLINE, f"the process ended {took:.3f} s after main\n{c.report()}"
        assert c.returncode == 0, c.report()
        assert c.line("run returned main's value") is not None, c.report()
        goids = _goids(c)
        assert len(goids) == procs, c.report()
        hooks = [s.split(" | ") for s in c.lines if s.startswith("hook ")]
        assert len(hooks) == procs, c.report()
        for goid, msg in goids.items():
            mine = [h for h in hooks if re.search(rf"goroutine {goid}\b", h[2])]
            assert len(mine) == 1, f"goroutine {goid}: no single hook call\n{c.report()}"
            assert mine[0][:2] == ["hook ValueError", msg], c.report()


RUN_AGAIN = """
def parked(tag, started):
    ch = gosched.Chan()
    try:
        started.done()
        ch.recv()
    finally:
        say(tag, "parked killed")


def looper(i, started, tag, loop):
    try:
        started.put(i)
        loop()
    finally:
        say(tag, "looper", i, "killed")


def parked_swallower(tag, started):
    ch = gosched.Chan()
    n = 0
    started.done()
    while True:
        try:
            ch.recv()
        except:  # swallows GreenletExit
            n += 1
            if n <= 3:
                say(tag, "parked swallowed")


def looping_swallower(i, started, tag):
    n = 0
    while True:
        # Every line after started.put is inside the try until the kill (see SWALLOW).
        try:
            if started is not None:
                started.put(i)
                started = None
            while True:
                gosched.select(gosched.Chan().recv, gosched.default)
        except:  # swallows GreenletExit
            n += 1
            if n <= 3:
                say(tag, "looper", i, "swallowed")


def setup(tag, first, body, *args):
    started = sync.WaitGroup()
    started.add(1)
    gosched.go(first, tag, started)
    started.wait()
    start_loopers(gosched.gomaxprocs() - 1, body, *args)


def returns():
    setup("returns", parked, looper, "returns", loop_chan)
    return "first value"


def raises():
    setup("raises", parked, looper, "raises", loop_select_default)
    raise ValueError("main failed")


def swallows():
    setup("swallows", parked_swallower, looping_swallower, "swallows")
    return "third value"


def finally_raises():
    def bad(started):
        try:
            started.done()
            gosched.Chan().recv()
        finally:
            raise ValueError("from finally")

    started = sync.WaitGroup()
    started.add(1)
    gosched.go(bad, started)
    started.wait()
    return "fourth value"


def last():
    ch = gosched.Chan()
    gosched.go(ch.send, 42)
    return ch.recv()


procs = int(sys.argv[1])
for name, main in [("returns", returns), ("raises", raises), ("swallows", swallows),
                   ("finally_raises", finally_raises), ("last", last)]:
    t0 = now()
    try:
        result = gosched.run(main, gomaxprocs=procs)
    except ValueError as e:
        result = f"raised {e}"
    say(name, "->", result, "|", now() - t0)
say("done")
"""


@pytest.mark.parametrize("procs", [1, 4])
def test_run_again_after_each_ending(tmp_path: Path, procs: int) -> None:
    """In one process: a run whose main returns (run returns its value), one whose main raises
    (run raises it), one whose goroutines swallow their kill, one whose goroutine's finally
    raises; each kills its goroutines (at P=4, loopers on other threads too), and run works
    again after each."""
    script = write_program(tmp_path, RUN_AGAIN)
    with Child.python(script, str(procs)) as c:
        c.wait_for("returns ->")
        for name in ("raises", "swallows", "finally_raises", "last"):
            c.wait_for(f"{name} ->", timeout=HANG)
        c.wait_for("done", timeout=HANG)
        c.finish(time.monotonic(), '"done"')
        assert c.returncode == 0, c.report()
        results = {}
        for s in c.lines:
            if " -> " in s:
                name, rest = s.split(" -> ")
                value, took = rest.split(" | ")
                results[name] = value
                assert float(took) <= DEADLINE, f"{name}: run took {took} s\n{c.report()}"
        assert results == {
            "returns": "first value",
            "raises": "raised main failed",
            "swallows": "third value",
            "finally_raises": "fourth value",
            "last": "42",
        }, c.report()
        for tag in ("returns", "raises"):
            assert c.count(f"{tag} parked killed") == 1, c.report()
            for i in range(procs - 1):
                assert c.count(f"{tag} looper {i} killed") == 1, c.report()
        assert c.count("swallows parked swallowed") == 1, c.report()
        for i in range(procs - 1):
            assert c.count(f"swallows looper {i} swallowed") == 1, c.report()
        assert "ValueError: from finally" in c.stderr, c.report()
