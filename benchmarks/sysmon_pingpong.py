"""sysmon_pingpong: pingpong's job with sysmon on and off; what sysmon costs a message exchange.

The same pair as benchmarks/sysmon_spawn.py (see its docstring: what sysmon is, why it costs
anything, how each peer turns it on or off) on pingpong's job (benchmarks/pingpong.py): main
and an echo goroutine bounce a counter over two unbuffered channels, N = 100,000 round trips
(two sends, two receives, two goroutine switches each); reported in microseconds per round
trip. The echo goroutine is started before the clock; the clock stops once it has ended.

- gosched: sysmon on (the default).
- gosched-sysmonoff: the same with ``GODEBUG=sysmonoff=1``: no sysmon thread.

Every peer proves it did the work: the counter comes back incremented once per round trip, so
main ends with exactly N, and the echo goroutine has ended; after the clock, main checks with
``gosched.debug.snapshot()`` that sysmon's M is there (gosched) or not (gosched-sysmonoff).

Run it by hand with ``python benchmarks/sysmon_pingpong.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import time
from typing import Any

import _harness
from _harness import Peer, check
from sysmon_spawn import check_sysmon, set_sysmon

UNIT = "round trip"
DEFAULT_N = 100_000
# From the issue that asked for sysmon: sysmon costs the hot paths at most 3%, i.e. gosched's
# median at most 1.03x gosched-sysmonoff's.
TARGETS = {"vs": {"gosched-sysmonoff": 1.03}}


def _pingpong(n: int, sysmon: bool) -> float:
    import gosched

    set_sysmon(sysmon)

    def echo(ping: gosched.Chan[int], pong: gosched.Chan[int], done: gosched.Chan[None]) -> None:
        recv, send = ping.recv, pong.send
        for _ in range(n):
            send(recv() + 1)  # type: ignore[operator]
        done.close()

    def main() -> float:
        ping: gosched.Chan[int] = gosched.Chan()
        pong: gosched.Chan[int] = gosched.Chan()
        done: gosched.Chan[None] = gosched.Chan()
        gosched.go(echo, ping, pong, done)
        send, recv = ping.send, pong.recv
        v: Any = 0
        t0 = time.perf_counter()
        for _ in range(n):
            send(v)
            v = recv()
        check("echo ended", done.recv_ok(), (None, False))
        elapsed = time.perf_counter() - t0
        check("final counter", v, n)
        check_sysmon(sysmon)
        return elapsed

    elapsed: float = gosched.run(main)
    return elapsed


def bench_gosched(n: int) -> float:
    return _pingpong(n, True)


def bench_gosched_sysmonoff(n: int) -> float:
    return _pingpong(n, False)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "two goroutines, two unbuffered Chan: ping.send / pong.recv; sysmon on (the default)",
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
