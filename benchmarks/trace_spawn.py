"""trace_spawn: spawn's job with an execution trace recording, against the same job untraced.

The job is spawn's (benchmarks/spawn.py): main starts N = 100,000 goroutines that each call
``wg.done()``, then ``wg.wait()``; reported in microseconds per goroutine.

- gosched: inside ``gosched.trace.start()`` ... ``stop()``. Only the recording is timed:
  ``stop()``, which turns the events into JSON and writes the file, runs after the clock
  stops (Go's trace writes as it goes; gosched formats nothing until the end).
- gosched-untraced: the same with no trace (each event site tests one flag and goes on).

A goroutine's life records four events here (GoCreate, RunqPut, GoStart, GoDestroy; the
queue moves of spills and global-queue batches add about 0.02 per goroutine), so the
difference of the two rows divided by 4 is the cost of one event. After the clock the traced
peer checks that the trace holds a GoCreate and a GoDestroy for every goroutine, so that the
row measures what its name says.

Run it by hand with ``python benchmarks/trace_spawn.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import os
import tempfile
import time

import _harness
from _harness import Peer, check

UNIT = "goroutine"
DEFAULT_N = 100_000
# From the observability issue: tracing on costs at most 2x on spawn (or 0.3 µs per event).
TARGETS = {"vs": {"gosched-untraced": 2.0}}


def _spawn(n: int, traced: bool) -> float:
    import gosched
    import gosched.trace

    fd, path = tempfile.mkstemp(suffix=".json", prefix="gosched-bench-")
    os.close(fd)
    paths: list[str] = []  # the trace splits at 100 MiB: path, path.1.json, ...

    def main() -> float:
        wg = gosched.sync.WaitGroup()
        wg.add(n)
        go, done = gosched.go, wg.done
        if traced:
            gosched.trace.start(path)
        t0 = time.perf_counter()
        for _ in range(n):
            go(done)
        wg.wait()
        elapsed = time.perf_counter() - t0
        if traced:
            paths.extend(gosched.trace.stop())
        return elapsed

    try:
        elapsed: float = gosched.run(main)
        if traced:
            import json

            names = []
            for p in paths:
                with open(p, encoding="utf-8") as f:
                    names += [e["name"] for e in json.load(f)["traceEvents"] if e["ph"] == "i"]
            check("GoCreate events", names.count("GoCreate"), n)
            check("GoDestroy events", names.count("GoDestroy"), n)
    finally:
        for p in {path, *paths}:
            os.unlink(p)
    return elapsed


def bench_gosched(n: int) -> float:
    return _spawn(n, False)


def bench_gosched_traced(n: int) -> float:
    return _spawn(n, True)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched_traced,
        "gosched.go(wg.done) x N, then wg.wait(), while gosched.trace records (the file is "
        "written after the clock)",
        ("gosched",),
    ),
    Peer("gosched-untraced", bench_gosched, "the same with no trace", ("gosched",)),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
