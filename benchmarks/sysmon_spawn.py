"""sysmon_spawn: spawn's job with sysmon on and off; what sysmon costs the spawn hot path.

sysmon is the runtime's monitor thread (src/gosched/_runtime/sysmon.py): it wakes every 20 µs
to 10 ms while goroutines run, to hand off the P of a thread stuck in a blocking call and to
preempt a goroutine past its time slice (on CPython 3.12+, through sys.monitoring). Each look
takes the GIL, and the runtime keeps the state sysmon reads up to date on its hot paths; this
benchmark measures what that costs a program that never blocks. The job is spawn's
(benchmarks/spawn.py): main starts N = 100,000 goroutines that each call ``wg.done()``, then
``wg.wait()``; reported in microseconds per goroutine.

- gosched: sysmon on (the default).
- gosched-sysmonoff: the same with ``GODEBUG=sysmonoff=1``, which starts no sysmon (and so no
  hand-off and no preemption). The runtime reads GODEBUG when a run starts, and ``gosched
  bench`` removes GODEBUG from its children's environment, so each peer function sets it
  (or, for gosched, removes it) itself, before ``gosched.run``.

sysmon changes the schedule of this job as well as adding its own cost: it preempts main once
main has spawned for 10 ms (forcePreemptNS), so the goroutines queued by then run and end, and
later ones reuse their Gs. With sysmon off, main spawns all N before any runs, as in Go
without preemption, and every goroutine needs a G of its own (with one P: about 14,000 Gs
made for 100,000 goroutines with sysmon on, 100,001 with it off). That reuse makes the job
cheaper, so this pair measures sysmon's net effect on spawn, which can favour sysmon;
sysmon_pingpong, whose goroutines block at every step, measures its cost alone.

Every peer proves it did the work: ``wg.wait()`` returns only once all N goroutines have called
``wg.done()``; and, after the clock, main checks with ``gosched.debug.snapshot()`` that sysmon's
M is there (gosched) or not (gosched-sysmonoff), so that each row measures what its name says.

benchmarks/sysmon_pingpong.py measures the same pair on pingpong's job.

Run it by hand with ``python benchmarks/sysmon_spawn.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import os
import time

import _harness
from _harness import Peer, check

UNIT = "goroutine"
DEFAULT_N = 100_000
# From the issue that asked for sysmon: sysmon costs the hot paths at most 3%, i.e. gosched's
# median at most 1.03x gosched-sysmonoff's.
TARGETS = {"vs": {"gosched-sysmonoff": 1.03}}


def set_sysmon(on: bool) -> None:
    """Make the next gosched.run start sysmon (on) or not: GODEBUG, read when a run starts."""
    if on:
        os.environ.pop("GODEBUG", None)
    else:
        os.environ["GODEBUG"] = "sysmonoff=1"


def check_sysmon(on: bool) -> None:
    """Raise unless this run has sysmon's M exactly when on (call it inside gosched.run)."""
    import gosched

    ms = gosched.debug.snapshot()["allm"]
    check("sysmon running", any(m["kind"] == "sysmon" for m in ms), on)


def _spawn(n: int, sysmon: bool) -> float:
    import gosched

    set_sysmon(sysmon)

    def main() -> float:
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go, done = gosched.go, wg.done
        t0 = time.perf_counter()
        for _ in range(n):
            go(done)
        wg.wait()
        elapsed = time.perf_counter() - t0
        check_sysmon(sysmon)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def bench_gosched(n: int) -> float:
    return _spawn(n, True)


def bench_gosched_sysmonoff(n: int) -> float:
    return _spawn(n, False)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "gosched.go(wg.done) x N, then wg.wait(); sysmon on (the default)",
        ("gosched",),
    ),
    Peer(
        "gosched-sysmonoff",
        bench_gosched_sysmonoff,
        "the same with GODEBUG=sysmonoff=1: no sysmon thread",
        ("gosched",),
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
