"""retake_p99: retake's job (sysmon hands off a P blocked in C), p99 of N = 200 delays.

The same job, peers and checks as benchmarks/retake.py (whose functions this file reuses): one
P, N = 200 rounds in which a goroutine g spawns h (unstarted, into its P's runnext), records
t0 and blocks in ``time.sleep(0.05)``; h records t1 when it runs on the thread the P was handed
to; the delay is ``t1 - t0``. Reported here is the 99th percentile of the N delays (nearest
rank: the 2nd largest of 200) in µs, the table's "µs per retake" (the peer returns the p99
multiplied by N, as the harness divides by N). A separate file because a table has one figure
per peer and one target for gosched; ``retake`` reports the median.

- gosched: plain ``time.sleep(0.05)``: sysmon's retake, after ``minSyscallNS`` (0.5 ms) and
  however long sysmon itself slept before it looked (20 µs while it finds work, backing off to
  10 ms while it finds none).
- gosched-blocking: ``with gosched.blocking(): time.sleep(0.05)``: handed off at once.

Target (from the issue that asked for sysmon): the p99 retake delay at most 15 ms, i.e.
``gosched`` at most 15,000 µs.

Run it by hand with ``python benchmarks/retake_p99.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import _harness
from latency import percentile
from retake import DEFAULT_N, UNIT, peers, retake_delays

# From the issue: the p99 retake delay at most 15 ms.
TARGETS = {"max": 15_000.0}


def bench_gosched(n: int) -> float:
    return percentile(retake_delays(n, False), 99) * n  # the table divides by N


def bench_gosched_blocking(n: int) -> float:
    return percentile(retake_delays(n, True), 99) * n


PEERS = peers(bench_gosched, bench_gosched_blocking)

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
