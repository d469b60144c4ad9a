"""latency: p99 lateness of a 1 ms ticker beside a goroutine blocked in a 1 s call, one P.

What a blocking call costs the timers of the goroutines around it. A task reads a 1 ms ticker
N = 1,000 times (about 1 s) and records, for every tick it receives, how late it got it: the
time of the receive minus the time that tick was due on the ticker's schedule (t0 + k x 1 ms,
t0 the ticker's start), clamped at 0. Reported is the 99th percentile (nearest rank: the 10th
largest of 1,000) of those latenesses, in microseconds: the harness shows a time either per
operation in µs or per run in seconds (which would print 0.00 here), so each peer returns the
p99 multiplied by N and the table's "µs per tick" column is the p99 lateness in µs (1,000 µs
is 1 ms; ``--json`` records those µs as ``values``, and p99 x N as the raw ``seconds``).

Beside the ticker, another task spends the whole run in a blocking call, ``time.sleep(1)``
(C code that releases the GIL and blocks its thread), in a loop: its first call begins before
the ticker starts and its second at about the time the ticker ends. gosched runs with one P
(``gosched.run(main, gomaxprocs=1)``), so the ticker's goroutine can only run while the
sleeper does not hold that P.

Which tick a receive got. Go 1.22's tickers (and gosched's) drop ticks for a slow reader: the
channel holds one tick, a tick that finds it full is lost, and a timer that fires late skips
the ticks it missed and goes on at the next point of the 1 ms grid after it fired. So the k-th
receive is not the k-th tick, and ``round((now - t0) / 1 ms)`` would call a tick that comes
8 ms late a punctual one. The gosched peers follow the ticker's own rule instead. Each tick
carries the time the runtime fired it (the value sent on the channel). After a fire at f the
timer is next due at the first grid point after f, and that is the due time of the next tick
received, unless a tick fired in between was dropped. A tick is dropped only if it finds the
one before it unread in the channel's buffer, so only if the last tick received had gone into
the buffer (it fired before the tick before it was received) and was read on or after that
grid point; then the due time is taken from the tick's own fire time, the latest grid point at
or before it. Every lateness is exact but in one case: after such a possible drop, a tick
that itself fired a period or more late is undercounted by whole periods. The grid is t0 + k x
1 ms with t0 read just before the Ticker is made, at most the 15-40 µs that call takes before
the runtime's own start, which can only add those µs to a lateness. The asyncio peers have no
ticks to lose: their task sleeps until each due time of the same grid itself and measures
against that; a due time it overslept by a period or more is skipped, as the ticker's timer
skips it.

- gosched-alone: the ticker alone: main starts the ticker's goroutine and waits for it.
- gosched: the ticker beside a goroutine S that loops ``gosched.blocking(time.sleep, 1)``
  until the ticker is done: the call form runs the sleep on a helper thread while S is parked.
  The issue's target is for this peer.
- gosched-with: S loops ``with gosched.blocking(): time.sleep(1)``: the context form, S hands
  its P off as it enters and sleeps on its own M.
- gosched-plain: S loops a plain ``time.sleep(1)``: nothing tells the runtime; sysmon finds the
  P held by a thread in C and hands it off after 0.2 ms (``minSyscallNS``), and again after
  each time S comes back and calls again. A goroutine runs only on the thread it started on
  (its greenlet), so here the ticker's goroutine must not start on S's thread: S itself starts
  it (``go``, into the runnext of its P, unstarted) just before its first call, and it starts
  on the M that sysmon hands the P to. (Had main started it first, it would share S's M and
  tick only between S's sleeps; main, which did start S, waits in a channel receive bound to
  S's thread, and runs again once S has returned for good.)
- asyncio-alone: an asyncio task sleeping (``asyncio.sleep``) to each due time of a 1 ms grid,
  alone on a stock event loop.
- asyncio-to_thread: the same beside a task that loops ``await asyncio.to_thread(time.sleep,
  1)``, its first call begun before the ticking task starts.

In the gosched peers with a sleeper, S starts the ticker's goroutine (into runnext) and then
makes its call, so the ticker starts after the call has begun and ticks on another thread; the
ticker waits until the call has started (the call records its start time on the thread that
sleeps) before it makes its Ticker. Once the ticker has its N ticks it stops its Ticker and
sets a flag; S sees it when its current sleep ends (up to 1 s later, outside the
measurement) and ends; main waits for both.

Every peer proves it did the work: the ticker must have received N ticks, each later than the
one before; with a sleeper, its first call must have begun before the ticker started and still
have been asleep when it started, every call must have returned, and the calls must have slept
on another thread than the ticker's (the hand-off happened). The gosched peers check that
sysmon's M is there (``gosched.debug.snapshot()``).

Target (from the issue that asked for ``gosched.blocking`` and sysmon): the ticker's p99
lateness beside the blocking call within 2 ms of its p99 lateness alone, i.e. ``gosched``'s
median at most ``gosched-alone``'s plus 2,000 µs. The harness's targets are a bound on
gosched's median (``max``) or on its ratio to another peer (``vs``), not a difference, so the
table checks the absolute form of it instead, ``max`` 3,000 µs (gosched-alone's p99 measures
well under 1 ms on a 2-core machine); compare the two rows for the issue's form.

Run it by hand with ``python benchmarks/latency.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Sequence

import _harness
from _harness import Peer, check

UNIT = "tick"
DEFAULT_N = 1_000
# From the issue: the ticker's p99 lateness beside a blocking call within 2 ms of its p99
# alone. Not expressible as a ratio: checked here as an absolute bound of 3 ms (gosched-alone
# measures well under 1 ms); compare the gosched and gosched-alone rows for the form.
TARGETS = {"max": 3_000.0}

PERIOD = 0.001  # the ticker's period, seconds
SLEEP = 1.0  # the sleeper's blocking call, seconds
POLL = 0.0005  # how often the ticker looks whether the sleeper's call has begun


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile of values by nearest rank (q = 99: the value that 99% of them are at
    or below; the 10th largest of 1,000)."""
    if not values:
        raise ValueError("percentile of nothing")
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def as_table_us(seconds: float, n: int) -> float:
    """What a peer returns for the table (per_op, µs) to show seconds as µs: the harness
    divides by N, so multiply by it."""
    return seconds * n


def ticker_lateness(t0: float, fired: Sequence[float], received: Sequence[float]) -> list[float]:
    """The lateness of each received tick of a ticker started at t0 (module docstring): tick j
    was fired (sent) at fired[j] and received at received[j]."""
    out: list[float] = []
    due = t0 + PERIOD  # the timer's next due time after the last fire seen: the first tick's
    no_drop = True  # no tick can have been dropped since the last one received
    prev_received = -math.inf
    for f, r in zip(fired, received, strict=True):
        floor_due = t0 + PERIOD * math.floor((f - t0) / PERIOD)  # latest grid point <= f
        d = min(due, floor_due) if no_drop else floor_due
        out.append(max(0.0, r - d))
        # The timer is next due at the first grid point after f. A tick fired before then is
        # dropped only if it finds this one in the channel's buffer: this one went there (it
        # fired before the one before it was received) and was read on or after that point.
        due = floor_due + PERIOD
        no_drop = not f < prev_received or r < due
        prev_received = r
    return out


class Sleeper:
    """The blocking task's record: when and on which thread each call began, and how many
    returned. Lists, so that appends from several threads stay exact."""

    __slots__ = ("began", "ended", "stop")

    def __init__(self) -> None:
        self.began: list[tuple[int, float]] = []  # (thread ident, time.monotonic())
        self.ended: list[float] = []
        self.stop = False

    def nap(self) -> None:
        """The blocking call: time.sleep(1), recording where and when it began."""
        self.began.append((threading.get_ident(), time.monotonic()))
        time.sleep(SLEEP)
        self.ended.append(time.monotonic())

    def verify(self, t0: float, ticker_thread: int) -> None:
        """Raise unless the first call began before the ticker (t0) and was still asleep then,
        every call returned, and no call slept on the ticker's thread."""
        if not self.began:
            raise AssertionError("the sleeper made no call")
        check("sleeper calls returned", len(self.ended), len(self.began))
        first = self.began[0][1]
        if not first < t0 < first + SLEEP:
            raise AssertionError(f"the ticker started {t0 - first:+.3f} s after the first call")
        on_ticker = [t for t, _ in self.began if t == ticker_thread]
        check("calls that slept on the ticker's thread", len(on_ticker), 0)


def _verify_ticks(n: int, lateness: Sequence[float], received: Sequence[float]) -> None:
    check("ticks received", len(received), n)
    check("lateness values", len(lateness), n)
    if any(b <= a for a, b in itertools.pairwise(received)):
        raise AssertionError("ticks not received in order")


# ---------------------------------------------------------------------------------------------
# gosched


def _gosched(n: int, call: Callable[[Sleeper], None] | None) -> float:
    """The ticker's goroutine beside a sleeper goroutine that loops call(sleeper) (None: the
    ticker alone), on one P; returns p99 lateness x N (see as_table_us)."""
    import gosched
    from sysmon_spawn import check_sysmon, set_sysmon

    set_sysmon(True)
    sleeper = Sleeper()
    fired: list[float] = []
    received: list[float] = []
    start: list[tuple[int, float]] = []  # the ticker's thread and t0

    def ticker(done: gosched.Chan[None]) -> None:
        if call is not None:
            while not sleeper.began:  # the sleeper's call has begun on its thread
                gosched.sleep(POLL)
        mono = time.monotonic
        t0 = mono()
        tk = gosched.time.Ticker(PERIOD)
        recv = tk.c.recv
        for _ in range(n):
            f = recv()
            received.append(mono())
            fired.append(f)
        tk.stop()
        start.append((threading.get_ident(), t0))
        sleeper.stop = True
        done.close()

    def sleep_loop(done: gosched.Chan[None], ended: gosched.Chan[None]) -> None:
        assert call is not None
        gosched.go(ticker, done)  # into runnext, unstarted: it starts where the P goes next
        while not sleeper.stop:
            call(sleeper)
        ended.close()

    def main() -> None:
        done: gosched.Chan[None] = gosched.Chan()
        ended: gosched.Chan[None] = gosched.Chan()
        if call is None:
            gosched.go(ticker, done)
            ended.close()
        else:
            gosched.go(sleep_loop, done, ended)
        done.recv_ok()
        ended.recv_ok()
        check_sysmon(True)

    gosched.run(main, gomaxprocs=1)
    ((thread, t0),) = start
    lateness = ticker_lateness(t0, fired, received)
    _verify_ticks(n, lateness, received)
    if call is not None:
        sleeper.verify(t0, thread)
    return as_table_us(percentile(lateness, 99), n)


def bench_gosched_alone(n: int) -> float:
    return _gosched(n, None)


def bench_gosched(n: int) -> float:
    import gosched

    blocking = gosched.blocking
    return _gosched(n, lambda s: blocking(s.nap))


def bench_gosched_with(n: int) -> float:
    import gosched

    blocking = gosched.blocking

    def call(s: Sleeper) -> None:
        with blocking():
            s.nap()

    return _gosched(n, call)


def bench_gosched_plain(n: int) -> float:
    return _gosched(n, Sleeper.nap)


# ---------------------------------------------------------------------------------------------
# asyncio


def _asyncio(n: int, beside: bool) -> float:
    """A task sleeping to each due time of a 1 ms grid, alone or beside a task that loops
    asyncio.to_thread(time.sleep, 1); returns p99 lateness x N."""
    import asyncio

    sleeper = Sleeper()
    lateness: list[float] = []
    received: list[float] = []
    start: list[tuple[int, float]] = []

    async def ticker() -> None:
        mono = time.monotonic
        sleep = asyncio.sleep
        t0 = mono()
        due = t0 + PERIOD
        for _ in range(n):
            await sleep(max(0.0, due - mono()))
            now = mono()
            received.append(now)
            lateness.append(max(0.0, now - due))
            # The next due time after now: a due time overslept by a period or more is skipped.
            due += PERIOD * (1 + max(0, math.floor((now - due) / PERIOD)))
        start.append((threading.get_ident(), t0))
        sleeper.stop = True

    async def sleep_loop() -> None:
        while not sleeper.stop:
            await asyncio.to_thread(sleeper.nap)

    async def main() -> None:
        if not beside:
            await ticker()
            return
        task = asyncio.create_task(sleep_loop())
        while not sleeper.began:
            await asyncio.sleep(POLL)
        await ticker()
        await task

    _harness.run_loop(asyncio.new_event_loop, main)
    ((thread, t0),) = start
    _verify_ticks(n, lateness, received)
    if beside:
        sleeper.verify(t0, thread)
    return as_table_us(percentile(lateness, 99), n)


def bench_asyncio_alone(n: int) -> float:
    return _asyncio(n, False)


def bench_asyncio_to_thread(n: int) -> float:
    return _asyncio(n, True)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "1 ms Ticker beside a goroutine looping gosched.blocking(time.sleep, 1); gomaxprocs=1",
        ("gosched",),
    ),
    Peer(
        "gosched-alone",
        bench_gosched_alone,
        "the 1 ms Ticker alone, gomaxprocs=1",
        ("gosched",),
    ),
    Peer(
        "gosched-with",
        bench_gosched_with,
        "beside a goroutine looping `with gosched.blocking(): time.sleep(1)`",
        ("gosched",),
    ),
    Peer(
        "gosched-plain",
        bench_gosched_plain,
        "beside a goroutine looping plain time.sleep(1): sysmon hands the P off",
        ("gosched",),
    ),
    Peer("asyncio-alone", bench_asyncio_alone, "a task sleeping to a 1 ms grid, alone"),
    Peer(
        "asyncio-to_thread",
        bench_asyncio_to_thread,
        "the same beside a task looping await asyncio.to_thread(time.sleep, 1)",
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
