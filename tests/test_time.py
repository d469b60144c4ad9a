"""gosched.time (API.md "gosched.time"; facts sheet sections 11 and 15): sleep, after, tick,
Timer, Ticker and after_func on the runtime's timer heaps, and how pending timers interact with
deadlock detection.

Timing assertions have a lower bound that must hold exactly (a timer never fires early) and an
upper bound that is generous, since the machine is shared.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

import gosched
from gosched import Chan, Deadlock, RuntimePanic, default, nilchan, select
from gosched.sync import WaitGroup
from gosched.time import Ticker, Timer, after, after_func, now, since, tick

from .test_chan import PROCS, gstates, headers, run, spawn, wait_parked

SLACK = 1.0  # the upper bound on any lateness we accept (a loaded CI machine)
EPS = 1e-6  # float rounding of nanosecond clocks and durations


def drained(c: Chan[Any]) -> int:
    """Receive every value c holds without blocking; return how many there were."""
    n = 0
    while select(c.recv, default)[0] == 0:
        n += 1
    return n


# --- sleep ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0, 0.0, -1, -0.5])
def test_sleep_non_positive_returns_without_yielding(seconds: float) -> None:
    def main() -> list[str]:
        out: list[str] = []
        gosched.go(out.append, "other")  # in runnext: any yield would run it
        gosched.sleep(seconds)
        gosched.time.sleep(seconds)
        out.append("main")
        gosched.sleep(0.001)  # a real sleep parks: now the other one runs
        return out

    assert run(main) == ["main", "other"]


@pytest.mark.parametrize("procs", PROCS)
def test_sleep_lasts_at_least_its_duration(procs: int) -> None:
    def main() -> list[float]:
        out = []
        for d in (0.001, 0.02, 0.05):
            t0 = time.monotonic()
            gosched.sleep(d)
            out.append(time.monotonic() - t0 - d)
        return out

    for late in run(main, procs):
        assert -EPS <= late < SLACK


@pytest.mark.parametrize("procs", PROCS)
def test_sleepers_wake_in_deadline_order(procs: int) -> None:
    """Many sleepers with random short durations: all wake, none early, and in the order of
    their deadlines wherever two deadlines are further apart than the tolerance."""
    rng = random.Random(1234 + procs)
    durations = [rng.uniform(0.0, 0.15) for _ in range(60)]
    tolerance = 0.04

    def main() -> list[tuple[float, float, float]]:
        woke: list[tuple[float, float, float]] = []
        wg = WaitGroup()
        t0 = time.monotonic()

        def sleeper(d: float) -> None:
            # The deadline counts from this sleep, not from t0: on a loaded machine the last of
            # 60 goroutines may start tens of milliseconds after the first.
            deadline = time.monotonic() - t0 + d
            gosched.sleep(d)
            woke.append((d, deadline, time.monotonic() - t0))
            wg.done()

        for d in durations:
            wg.add(1)
            gosched.go(sleeper, d)
        wg.wait()
        return woke

    woke = run(main, procs)
    assert sorted(d for d, _, _ in woke) == sorted(durations)
    for _, deadline, at in woke:
        assert deadline - EPS <= at < deadline + SLACK
    order = [deadline for _, deadline, _ in woke]
    for i, d in enumerate(order):
        for later in order[i + 1 :]:
            assert later > d - tolerance, (
                f"woke at deadline {later:.3f} after deadline {d:.3f}: {woke}"
            )


def test_sleep_wait_reason() -> None:
    def main() -> None:
        g = spawn(gosched.sleep, 30)
        wait_parked([g], "sleep")
        assert headers(gosched.debug.stack())[g] == "sleep"

    run(main)


def test_timer_readies_sleeper_into_runnext(monkeypatch: pytest.MonkeyPatch) -> None:
    """GOMAXPROCS=1: main parks after the sleeper's deadline has passed; checkTimers at the top
    of findRunnable readies the sleeper into runnext, ahead of the goroutine that was there.

    Without sysmon: main's 5 ms loop is user code, which sysmon treats as Go treats a syscall,
    and a sysmon that got the GIL twice in it would hand main's P to another M for the
    unstarted goroutine; Go does not for a loop shorter than its 10 ms slice. It did once in
    CI, where the switch interval let sysmon in early."""
    monkeypatch.setenv("GODEBUG", "sysmonoff=1")

    def main() -> list[str]:
        out: list[str] = []
        ch = Chan[int]()

        def sleeper() -> None:
            gosched.sleep(0.001)
            out.append("sleeper")

        def other() -> None:
            out.append("other")
            ch.send(1)

        g = spawn(sleeper)
        wait_parked([g], "sleep")
        gosched.go(other)  # runnext
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.005:  # hold the P past the deadline
            pass
        ch.recv()
        out.append("main")
        return out

    assert run(main) == ["sleeper", "other", "main"]


def test_now_and_since() -> None:
    def main() -> None:
        t0 = now()
        assert isinstance(t0, float)
        gosched.sleep(0.02)
        t1 = now()
        assert t1 - t0 >= 0.02 - EPS
        assert since(t0) >= t1 - t0
        assert now() >= t1

    run(main)


# --- after, Timer --------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_after_sends_the_time_once(procs: int) -> None:
    def main() -> None:
        t0 = now()
        c = after(0.03)
        assert c.cap == 1 and len(c) == 0
        v = c.recv()
        assert isinstance(v, float)
        assert t0 + 0.03 - EPS <= v <= now()
        gosched.sleep(0.05)
        assert len(c) == 0  # only one value, ever

    run(main, procs)


def test_timer_fires_once() -> None:
    def main() -> None:
        t = Timer(0.02)
        assert t.c is not None and t.c.cap == 1
        t0 = now()
        v = t.c.recv()
        assert isinstance(v, float) and v >= t0
        gosched.sleep(0.05)
        assert len(t.c) == 0

    run(main)


def test_timer_zero_fires_at_once() -> None:
    def main() -> None:
        for d in (0, -1):
            t = Timer(d)
            assert t.c is not None
            t0 = time.monotonic()
            t.c.recv()
            assert time.monotonic() - t0 < SLACK

    run(main)


def test_timer_stop_before_it_fires() -> None:
    def main() -> None:
        t = Timer(0.03)
        assert t.c is not None
        assert t.stop() is True  # it was active
        assert t.stop() is False  # already stopped
        gosched.sleep(0.06)
        assert len(t.c) == 0  # never fired

    run(main)


def test_timer_stop_after_it_fired() -> None:
    def main() -> None:
        t = Timer(0.01)
        assert t.c is not None
        gosched.sleep(0.03)
        assert t.stop() is False
        assert len(t.c) == 1  # Go 1.22: Stop does not drain a value already sent

    run(main)


def test_timer_reset_return_values() -> None:
    def main() -> None:
        t = Timer(60)
        assert t.c is not None
        t0 = now()
        assert t.reset(0.02) is True  # it was active: re-armed sooner
        v = t.c.recv()
        assert v is not None and v >= t0 + 0.02 - EPS and now() - t0 < SLACK
        assert t.reset(0.02) is False  # it had fired
        assert t.c.recv() is not None  # and fires again
        assert t.stop() is False
        assert t.reset(60) is False  # stopped timers are not active either
        assert t.reset(0.01) is True
        assert t.c.recv() is not None

    run(main)


def test_timer_refire_into_a_full_channel_is_dropped() -> None:
    """Go 1.22: the channel holds one value; a timer that fires again before it was read drops
    the new value and the old one stays."""

    def main() -> None:
        t = Timer(0.01)
        assert t.c is not None
        gosched.sleep(0.03)
        assert len(t.c) == 1
        t1 = now()
        assert t.reset(0.01) is False
        gosched.sleep(0.03)
        assert len(t.c) == 1
        v = t.c.recv()
        assert v is not None and v < t1  # the first firing's value
        assert drained(t.c) == 0

    run(main)


def test_timer_reset_to_later() -> None:
    def main() -> None:
        t = Timer(0.01)
        assert t.c is not None
        assert t.reset(0.08) is True
        gosched.sleep(0.04)
        assert len(t.c) == 0  # the first deadline no longer counts
        t0 = now()
        t.c.recv()
        assert now() - t0 < SLACK

    run(main)


@pytest.mark.parametrize("procs", PROCS)
def test_timer_stop_result_matches_what_fired(procs: int) -> None:
    """Racing stop against firing: stop() is True exactly when the timer never fires (nothing
    is ever sent on c, the after_func never runs), False exactly when it fired."""
    rng = random.Random(99 + procs)
    plan = [(rng.uniform(0, 0.02), rng.uniform(0, 0.02), k % 2 == 0) for k in range(120)]

    def main() -> list[str]:
        errors: list[str] = []
        wg = WaitGroup()

        def one(d: float, wait: float, func: bool) -> None:
            ran = Chan[int](1)
            t = after_func(d, lambda: ran.send(1)) if func else Timer(d)
            gosched.sleep(wait)
            stopped = t.stop()
            gosched.sleep(0.05)  # long after any firing
            c = ran if func else t.c
            assert c is not None
            fired = len(c)
            if fired != (0 if stopped else 1):
                errors.append(f"d={d} wait={wait} func={func}: stop={stopped} fired={fired}")
            wg.done()

        for d, wait, func in plan:
            wg.add(1)
            gosched.go(one, d, wait, func)
        wg.wait()
        return errors

    assert run(main, procs) == []


# --- after_func ---------------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_after_func_runs_in_a_new_goroutine(procs: int) -> None:
    def main() -> None:
        ch = Chan[tuple[int, float]](1)
        t0 = now()
        t = after_func(0.02, lambda: ch.send((gosched.goid(), now())))
        assert isinstance(t, Timer) and t.c is None
        goid, at = ch.recv()  # type: ignore[misc]
        assert goid not in (1, gosched.goid())
        assert at >= t0 + 0.02 - EPS
        assert t.stop() is False  # it had fired
        gosched.sleep(0.03)
        assert len(ch) == 0  # once

    run(main, procs)


@pytest.mark.parametrize("procs", PROCS)
def test_after_func_goroutines_are_distinct(procs: int) -> None:
    def main() -> None:
        ch = Chan[int](10)
        for _ in range(10):
            after_func(0.001, lambda: ch.send(gosched.goid()))
        ids = {ch.recv() for _ in range(10)}
        assert len(ids) == 10 and 1 not in ids

    run(main, procs)


def test_after_func_stopped_before_it_fires_never_runs() -> None:
    ran: list[bool] = []

    def main() -> None:
        t = after_func(0.02, lambda: ran.append(True))
        assert t.stop() is True
        assert t.stop() is False
        gosched.sleep(0.05)

    run(main)
    assert ran == []


def test_after_func_reset() -> None:
    def main() -> None:
        ch = Chan[int](2)
        t = after_func(60, lambda: ch.send(1))
        t0 = now()
        assert t.reset(0.01) is True
        ch.recv()
        assert now() - t0 < SLACK
        assert t.reset(0.01) is False
        ch.recv()  # runs again

    run(main)


# --- Ticker, tick -----------------------------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_ticker_ticks_periodically(procs: int) -> None:
    def main() -> None:
        period = 0.02
        t0 = now()
        tk = Ticker(period)
        assert tk.c.cap == 1
        ticks = [tk.c.recv() for _ in range(4)]
        tk.stop()
        for k, v in enumerate(ticks, 1):
            assert isinstance(v, float)
            assert v >= t0 + k * period - EPS  # the k-th tick is due at t0 + k*period
        assert now() - t0 < 4 * period + SLACK

    run(main, procs)


def test_ticker_drops_ticks_for_a_slow_reader() -> None:
    def main() -> None:
        t0 = now()
        tk = Ticker(0.01)
        gosched.sleep(0.2)  # about twenty periods
        assert len(tk.c) == 1  # capacity 1: the rest were dropped
        first = tk.c.recv()
        assert first is not None and first < t0 + 0.1  # the first tick stayed, later ones went
        assert drained(tk.c) == 0
        t1 = now()
        v = tk.c.recv()  # the next tick is a new one, not a backlog
        assert v is not None and v >= t1
        tk.stop()

    run(main)


def test_ticker_stop() -> None:
    def main() -> None:
        tk = Ticker(0.01)
        tk.c.recv()
        tk.stop()
        drained(tk.c)  # a tick sent before stop stays (Go 1.22)
        gosched.sleep(0.05)
        assert len(tk.c) == 0

    run(main)


def test_ticker_reset_changes_the_period() -> None:
    def main() -> None:
        tk = Ticker(60)
        t0 = now()
        tk.reset(0.01)
        for _ in range(3):
            tk.c.recv()
        assert now() - t0 < 0.03 + SLACK
        tk.reset(60)
        drained(tk.c)
        gosched.sleep(0.05)
        assert len(tk.c) == 0  # the short period is gone
        tk.stop()

    run(main)


@pytest.mark.parametrize("seconds", [0, -1, -0.001])
def test_ticker_non_positive_interval_panics(seconds: float) -> None:
    def main() -> None:
        with pytest.raises(RuntimePanic) as ei:
            Ticker(seconds)
        assert str(ei.value) == "non-positive interval for NewTicker"
        tk = Ticker(60)
        with pytest.raises(RuntimePanic) as ei:
            tk.reset(seconds)
        assert str(ei.value) == "non-positive interval for Ticker.Reset"
        tk.stop()

    run(main)


def test_ticker_reset_after_stop_restarts_it() -> None:
    def main() -> None:
        tk = Ticker(0.01)
        tk.stop()
        gosched.sleep(0.03)
        assert len(tk.c) == 0
        tk.reset(0.01)
        t0 = now()
        v = tk.c.recv()
        assert v is not None and v >= t0 + 0.01 - EPS
        tk.stop()

    run(main)


def test_tick() -> None:
    def main() -> None:
        c = tick(0.01)
        t0 = now()
        c.recv()
        c.recv()
        assert now() - t0 >= 0.02 - EPS
        assert tick(0) is nilchan  # Go's time.Tick returns nil for d <= 0
        assert tick(-1) is nilchan

    # The ticker is never stopped: it would keep the runtime busy, but main returns.
    run(main)


# --- timers and deadlock detection ---------------------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
def test_deadlock_reported_after_sleep_not_before(procs: int) -> None:
    def main() -> None:
        gosched.sleep(0.2)
        Chan[int]().recv()

    t0 = time.monotonic()
    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    elapsed = time.monotonic() - t0
    assert str(ei.value) == "all goroutines are asleep - deadlock!"
    assert 0.2 <= elapsed < 0.2 + SLACK
    assert headers(ei.value.dump) == {1: "chan receive"}


@pytest.mark.parametrize("procs", PROCS)
def test_pending_timer_postpones_deadlock_until_it_fires(procs: int) -> None:
    def main() -> None:
        Timer(0.3)  # nobody receives from it, and it is not stopped
        Chan[int]().recv()

    t0 = time.monotonic()
    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert 0.3 <= time.monotonic() - t0 < 0.3 + SLACK
    assert headers(ei.value.dump) == {1: "chan receive"}


@pytest.mark.parametrize("procs", PROCS)
def test_stopped_timer_does_not_postpone_deadlock(procs: int) -> None:
    def main() -> None:
        t = Timer(0.3)
        assert t.stop() is True
        a = after_func(0.3, lambda: None)
        assert a.stop() is True
        Chan[int]().recv()

    t0 = time.monotonic()
    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert headers(ei.value.dump) == {1: "chan receive"}
    assert time.monotonic() - t0 < 0.25


@pytest.mark.parametrize("procs", PROCS)
def test_pending_after_func_saves_a_blocked_program(procs: int) -> None:
    def main() -> int | None:
        ch = Chan[int]()
        after_func(0.1, lambda: ch.send(7))
        return ch.recv()  # everybody is blocked until the timer starts the sender

    t0 = time.monotonic()
    assert run(main, procs) == 7
    assert time.monotonic() - t0 >= 0.1


@pytest.mark.parametrize("procs", PROCS)
def test_sleeper_in_another_goroutine_postpones_deadlock(procs: int) -> None:
    def main() -> None:
        ch = Chan[int]()

        def late() -> None:
            gosched.sleep(0.15)
            ch.send(1)

        gosched.go(late)
        assert ch.recv() == 1
        ch.recv()  # now nothing can wake us

    t0 = time.monotonic()
    with pytest.raises(Deadlock) as ei:
        run(main, procs)
    assert time.monotonic() - t0 >= 0.15
    assert headers(ei.value.dump) == {1: "chan receive"}


# --- timers across Ps ----------------------------------------------------------------------------


@pytest.mark.parametrize("procs", [2, 4])
def test_timers_armed_on_every_p(procs: int) -> None:
    """Goroutines on several Ps each arm timers (so each P's heap holds some); all fire."""

    def main() -> None:
        n = 40
        done = Chan[int](n)
        wg = WaitGroup()
        for i in range(n):
            wg.add(1)

            def worker(i: int) -> None:
                for _ in range(3):
                    gosched.sleep(0.001 * (i % 7))
                    select(after(0.002).recv)
                    tm = Timer(0.001)
                    assert tm.c is not None
                    tm.c.recv()
                done.send(i)
                wg.done()

            gosched.go(worker, i)
        wg.wait()
        assert sorted(done.recv() for _ in range(n)) == list(range(n))  # type: ignore[type-var]
        assert gstates()[1] == ("running", "")

    run(main, procs)


@pytest.mark.parametrize("procs", [2, 4])
def test_gomaxprocs_change_keeps_timers(procs: int) -> None:
    """Timers on a P destroyed by gomaxprocs(1) move to a surviving P and still fire."""

    def main() -> None:
        ch = Chan[int](procs * 4)
        wg = WaitGroup()
        for i in range(procs * 4):
            wg.add(1)

            def sleeper(i: int) -> None:
                gosched.sleep(0.05)
                ch.send(i)
                wg.done()

            gosched.go(sleeper, i)
        gosched.sleep(0.01)  # every sleeper armed its timer, on whatever P ran it
        assert gosched.gomaxprocs(1) == procs
        wg.wait()
        assert len(ch) == procs * 4

    run(main, procs)


# --- durations Go would overflow, and bad ones --------------------------------------------


@pytest.mark.parametrize("procs", PROCS)
@pytest.mark.parametrize("seconds", [1e10, 1e300, float("inf"), 2**80])
def test_huge_durations_mean_never(procs: int, seconds: float) -> None:
    """Go clamps a deadline past int64 to "never" (time.Sleep(math.MaxInt64) parks for good):
    a sleep, a Timer, a reset, after() and after_func with a huge duration park or wait
    quietly, and the runtime's idle wait on such a deadline does not overflow (here main
    sleeps on one while a goroutine ends the run)."""

    def main() -> tuple[bool, bool, bool, int]:
        t = Timer(seconds)
        r = Timer(0.001)
        reset_active = r.reset(seconds)
        fired = [False]
        f = after_func(seconds, lambda: fired.__setitem__(0, True))
        c = after(seconds)
        gosched.go(gosched.sleep, seconds)
        done = Chan[int]()

        def ender() -> None:
            gosched.sleep(0.05)
            done.send(1)

        gosched.go(ender)
        i, _ = select(c.recv, t.c.recv, done.recv)  # type: ignore[union-attr]
        return t.stop(), reset_active, f.stop() and not fired[0], i

    assert run(main, procs) == (True, True, True, 2)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: gosched.sleep(float("nan")), ValueError, "sleep: seconds is NaN"),
        (lambda: Timer(float("nan")), ValueError, "Timer: seconds is NaN"),
        (lambda: Timer(1).reset(float("nan")), ValueError, "Timer.reset: seconds is NaN"),
        (lambda: after("x"), TypeError, "after: seconds must be a number, not str"),
        (lambda: after_func(None, print), TypeError, "after_func: seconds must be a number"),
        (lambda: gosched.sleep(True), TypeError, "sleep: seconds must be a number, not bool"),
    ],
)
def test_bad_durations_name_the_call(call: Any, exc: type, message: str) -> None:
    def main() -> str:
        with pytest.raises(exc) as ei:
            call()
        return str(ei.value)

    assert run(main).startswith(message)
