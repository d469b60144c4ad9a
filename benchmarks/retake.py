"""retake: how soon sysmon hands the P of a thread blocked in C to another (median of N = 200).

sysmon's retake, measured alone: how long the runtime leaves its only P with a thread that has
blocked in C without saying so, before another thread runs the goroutine waiting for it. With
one P (``gosched.run(main, gomaxprocs=1)``), N = 200 times one after another in one run:

```python
def h(i, wg):  # spawned by g, into its P's runnext, unstarted
    t1[i] = time.monotonic()  # runs on the thread that got the P
    wg.done()


def g(i, wg):
    gosched.go(h, i, wg)
    t0[i] = time.monotonic()
    time.sleep(0.05)  # plain: blocks this thread, the P with it, nothing tells the runtime
    wg.done()


def main():
    for i in range(N):
        gosched.gosched()  # a time slice of its own for each round (see below)
        wg = gosched.sync.WaitGroup()
        wg.add(2)
        gosched.go(g, i, wg)
        wg.wait()
```

The retake delay of round i is ``t1[i] - t0[i]``: from just before g's sleep to h's first line.
h cannot run on g's thread (it is blocked) nor wait for it (h has not started, so it may start
on any thread), so the delay is what it takes sysmon to see the P held by a thread in C, wait
``minSyscallNS`` (0.2 ms: it must not mistake a goroutine waiting for the GIL for a blocked
one), hand the P off (handoffp), and for the new M to take the GIL and start h. Without sysmon
(``GODEBUG=sysmonoff=1``) h would wait for the whole 50 ms sleep.

main yields (``gosched.gosched()``) before each round, so that each round starts a time slice
of its own. Without it the whole run is one slice: g starts from main's runnext, h from g's,
main is readied into runnext again, and runnext hands the slice on (Go's inheritTime), while
sysmon counts the slice's 10 ms (forcePreemptNS) from when it first saw its schedtick,
including the 50 ms the P spends idle in every round. So sysmon would ask g to yield at its
``go(h)`` (a safe point) in a few rounds out of 200, and h would run on g's thread before g
even slept (the check below fails such a round). The yield is outside the delay measured.

Reported is the median of the N delays, in µs (the table's "µs per retake"); the harness shows
a time either per operation in µs or per run in seconds, so the peer returns the median
multiplied by N. ``retake_p99`` (benchmarks/retake_p99.py) runs the same job and reports the
99th percentile instead: one table has one figure per peer and one target for gosched.

- gosched: the plain ``time.sleep(0.05)`` above: the hand-off is sysmon's.
- gosched-blocking: ``with gosched.blocking(): time.sleep(0.05)``: g hands its P off as it
  enters (entersyscallblock), without waiting for sysmon: the floor of a hand-off, a thread
  wake-up and a GIL hand-over.
- gosched-asyncpreemptoff: as gosched, with ``GODEBUG=asyncpreemptoff=1`` (set by the peer
  function, since ``gosched bench`` removes GODEBUG from its children's environment). The
  same as gosched on 3.11, which has no async preemption. On 3.12+ it shows what async
  preemption does to retake: while g's thread is in C without a P, sysmon cannot tell it from
  a Python loop that only async preemption can stop, so it does not sleep deeply while the P
  is idle; it keeps looking, and its sleep between looks grows to 10 ms while it finds nothing
  to retake. g, back from a call whose P was handed off, wakes sysmon from such a sleep
  (sysmon.kick), so that the next round's retake does not wait for those looks (before that,
  rounds took 0.4 or 9 ms depending on where sysmon's sleep fell, and a run's median was
  either). With async preemption off, sysmon sleeps deeply while the P is idle and is woken,
  looking every 20 µs again, when g gets the P back.

Every peer proves it did the work: all N rounds must have recorded t0 and t1, each t1 after its
t0, and every sleep must have returned after at least 50 ms; sysmon's M must be there
(``gosched.debug.snapshot()``; the peer removes ``GODEBUG`` from its environment, in case it
is set, before ``gosched.run`` reads it). A round in which no retake happened is not an error:
h then runs once g is done, and its delay, 50 ms or more, is what the table shows.

Targets (from the issue that asked for sysmon): the median retake delay at most 1 ms, i.e.
``gosched`` at most 1,000 µs here; the p99 at most 15 ms (``retake_p99``).

Run it by hand with ``python benchmarks/retake.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import _harness
from _harness import Peer, check

UNIT = "retake"
DEFAULT_N = 200
# From the issue: the median retake delay at most 1 ms (the p99 is retake_p99's).
TARGETS = {"max": 1_000.0}

SLEEP = 0.05  # g's blocking call, seconds


def retake_delays(n: int, announced: bool, asyncpreempt: bool = True) -> list[float]:
    """Run the job (module docstring) N times on one P; return the N retake delays in
    seconds. announced: g sleeps in ``with gosched.blocking()`` instead of plainly;
    asyncpreempt false: with ``GODEBUG=asyncpreemptoff=1`` (sysmon on either way)."""
    import gosched
    from preempt import check_asyncpreempt, set_asyncpreempt
    from sysmon_spawn import check_sysmon

    set_asyncpreempt(asyncpreempt)
    t0 = [0.0] * n
    t1 = [0.0] * n
    slept: list[float] = []
    mono = time.monotonic
    go = gosched.go
    blocking = gosched.blocking

    def h(i: int, wg: gosched.sync.WaitGroup) -> None:
        t1[i] = mono()
        wg.done()

    def g(i: int, wg: gosched.sync.WaitGroup) -> None:
        go(h, i, wg)  # into runnext, unstarted
        start = t0[i] = mono()
        if announced:
            with blocking():
                time.sleep(SLEEP)
        else:
            time.sleep(SLEEP)
        slept.append(mono() - start)
        wg.done()

    def main() -> None:
        for i in range(n):
            gosched.gosched()  # a fresh time slice (schedtick) for the round: module docstring
            wg = gosched.sync.WaitGroup()
            wg.add(2)
            go(g, i, wg)
            wg.wait()
        check_sysmon(True)
        check_asyncpreempt(asyncpreempt)

    gosched.run(main, gomaxprocs=1)
    check("rounds with t0", sum(1 for t in t0 if t), n)
    check("rounds with t1", sum(1 for t in t1 if t), n)
    check("sleeps returned", len(slept), n)
    if n and min(slept) < SLEEP:
        raise AssertionError(f"a sleep of {SLEEP} s returned after {min(slept):.4f} s")
    delays = [b - a for a, b in zip(t0, t1, strict=True)]
    if delays and min(delays) <= 0:
        raise AssertionError("h ran before g's t0")
    return delays


def bench_gosched(n: int) -> float:
    return statistics.median(retake_delays(n, False)) * n  # the table divides by N


def bench_gosched_blocking(n: int) -> float:
    return statistics.median(retake_delays(n, True)) * n


def bench_gosched_asyncpreemptoff(n: int) -> float:
    return statistics.median(retake_delays(n, False, asyncpreempt=False)) * n


def peers(gosched: Any, blocking: Any, off: Any = None) -> list[Peer]:
    """The table's rows, in order (the first is the one the others are compared with): this
    figure's and retake_p99.py's, which times the same runs with another statistic (and has no
    asyncpreemptoff row: ``off`` None)."""
    rows = [
        Peer(
            "gosched",
            gosched,
            "g blocks in plain time.sleep(0.05); sysmon hands the P to the M that starts h",
            ("gosched",),
        ),
        Peer(
            "gosched-blocking",
            blocking,
            "with gosched.blocking(): time.sleep(0.05) - the P is handed off at once",
            ("gosched",),
        ),
    ]
    if off is not None:
        rows.append(
            Peer(
                "gosched-asyncpreemptoff",
                off,
                "as gosched, with GODEBUG=asyncpreemptoff=1 (the same as gosched on 3.11)",
                ("gosched",),
            )
        )
    return rows


PEERS = peers(bench_gosched, bench_gosched_blocking, bench_gosched_asyncpreemptoff)

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
