"""Fan work out to a Dask cluster from goroutines, and collect it with select and a deadline.

    pip install -e '.[dask]'
    gosched run examples/dask_fanout.py

A LocalCluster starts worker processes on this machine; the same code runs against a real
cluster by giving Client its address. Each goroutine submits one task and waits on
gosched.from_future(future), a channel that receives the task's result (or raises its error)
and is then closed. No thread waits for a future: Dask's own callback sends into the channel.
Main collects the results with select against a context deadline, so a cluster that is slow
or lost cannot hang the program: whatever has not arrived by then is reported as missing.
"""

from __future__ import annotations

import logging
import time

import gosched
from gosched import context


def collatz_steps(n: int) -> int:
    """CPU work for a worker process: the length of n's Collatz sequence."""
    steps = 0
    while n != 1:
        n = 3 * n + 1 if n % 2 else n // 2
        steps += 1
    return steps


def fails(n: int) -> int:
    raise ValueError(f"task {n} failed on purpose")


def main() -> None:
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # the failing task's report is printed below
        ) as cluster,
        Client(cluster) as client,
    ):
        numbers = [27, 97, 871, 6171, 77031, 837799]
        results = gosched.Chan[tuple[int, object]](len(numbers) + 1)

        def submit(n: int, fn: object) -> None:
            # Each goroutine waits on its own future; a failed task raises here.
            done = gosched.from_future(client.submit(fn, n, pure=False))
            try:
                results.send((n, done.recv()))
            except ValueError as e:
                results.send((n, e))

        for n in numbers:
            gosched.go(submit, n, collatz_steps)
        gosched.go(submit, -1, fails)

        ctx, cancel = context.with_timeout(context.background(), 30)
        got: dict[int, object] = {}
        t0 = time.perf_counter()
        while len(got) < len(numbers) + 1:
            i, v = gosched.select(results.recv, ctx.done().recv)
            if i == 1:
                break  # the deadline: stop waiting
            n, value = v  # type: ignore[misc]
            got[n] = value
        cancel()
        for n in numbers:
            print(f"collatz({n}) = {got.get(n, 'missing')} steps")
        print(f"failing task: {got.get(-1, 'missing')!r}")
        print(f"{len(got)} of {len(numbers) + 1} results in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    gosched.run(main)
