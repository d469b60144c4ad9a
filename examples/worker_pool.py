"""A worker pool with results: N workers take jobs from one channel and send results on
another; main collects them, then closes the job channel so the workers return.

    gosched run examples/worker_pool.py
    gosched run --gomaxprocs 4 examples/worker_pool.py
    GODEBUG=schedtrace=10 gosched run examples/worker_pool.py   # watch the run queues

Go's "worker pools" pattern (Go by Example), statement for statement.
"""

from __future__ import annotations

import hashlib

import gosched
from gosched.sync import WaitGroup

WORKERS = 4
JOBS = 40


def work(n: int) -> str:
    """Some CPU work: a few rounds of SHA-256."""
    h = str(n).encode()
    for _ in range(2_000):
        h = hashlib.sha256(h).digest()
    return h.hex()[:12]


def worker(wid: int, jobs: gosched.Chan[int], results: gosched.Chan[tuple[int, int, str]]) -> None:
    for n in jobs:  # until jobs is closed and drained
        results.send((n, wid, work(n)))


def main() -> None:
    jobs: gosched.Chan[int] = gosched.Chan(JOBS)
    results: gosched.Chan[tuple[int, int, str]] = gosched.Chan(JOBS)
    wg = WaitGroup()
    for wid in range(1, WORKERS + 1):
        wg.go(worker, wid, jobs, results)
    for n in range(JOBS):
        jobs.send(n)
    jobs.close()
    wg.wait()
    results.close()
    got = sorted(results)
    by_worker: dict[int, int] = {}
    for _, wid, _ in got:
        by_worker[wid] = by_worker.get(wid, 0) + 1
    for n, wid, digest in got[:3]:
        print(f"job {n:2d} by worker {wid}: {digest}")
    print("...")
    print(f"{len(got)} results from {len(by_worker)} workers")


if __name__ == "__main__":
    gosched.run(main)
