"""The worker side of the gosched benchmark suite: what runs inside each measured subprocess.

Every benchmark is one file, ``benchmarks/<name>.py``, that defines its peers (gosched and the
libraries it is compared with, each doing the same job) and ends with::

    if __name__ == "__main__":
        raise SystemExit(
            _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
        )

``gosched bench`` (``src/gosched/_bench.py``) never imports a benchmark file. It talks to it
through this small command line, so that each measurement starts from a fresh interpreter and
imports only what its own peer needs:

``python benchmarks/<name>.py describe``
    prints one JSON object: summary, doc, unit, default_n, metric, per_op, max_rounds,
    targets, and the peers in table order (name, description, requires, available, versions).

``python benchmarks/<name>.py run PEER N``
    runs PEER once with N operations and prints one JSON object on its last stdout line:
    ``{"peer": ..., "n": N, "seconds": elapsed}`` (the key is the benchmark's metric:
    ``"seconds"``, or ``"bytes"`` for a memory benchmark). A peer whose library is missing
    exits 3.

A peer function takes N and returns what it measured in the benchmark's metric. For
``"seconds"`` (the default) that is the elapsed seconds of its timed region, measured with
``time.perf_counter``. The timed region covers the job itself (spawning, running, waiting) and
leaves out the framework's one-off setup and teardown (``gosched.run``, an event loop, gevent's
hub), which every peer pays once per program rather than once per task (except in
``teardown``, whose job is the framework's ending of N parked tasks). For ``"bytes"`` it is
the growth of the process's resident set over the measured region (see ``rss_bytes``).

``per_op`` (default True) says whether the table divides the value by N (microseconds per
message, KiB per goroutine) or shows it whole (seconds per run, for a job such as the prime
sieve whose N is a size, not a count of equal operations). ``max_rounds`` (default None: as
many as asked) caps the rounds of a benchmark whose rounds all measure the same figure.

This module is imported by the benchmark files only, with their directory first on sys.path
(as Python sets it when it runs a script); it must not import gosched or any peer library.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Exit code of a "run" whose peer library is not importable.
EXIT_NOT_INSTALLED = 3

# What a peer function can return: elapsed seconds, or bytes of resident memory.
METRICS = ("seconds", "bytes")


@dataclass(frozen=True)
class Peer:
    """One implementation of a benchmark's job.

    fn(n) does the job n times and returns the elapsed seconds of the timed region. requires
    names the top-level modules that must be importable for the peer to run; the peer imports
    them itself, inside fn, so that describing the suite imports none of them.
    """

    name: str
    fn: Callable[[int], float]
    description: str
    requires: tuple[str, ...] = field(default=())

    def missing(self) -> list[str]:
        """The required modules that cannot be imported here."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]


class Countdown:
    """The minimal shared counter a task decrements to say it ran.

    The peers that have no WaitGroup of their own give each task ``countdown.done`` as its
    body, so every peer runs a bound-method call per task, as gosched's ``wg.done`` is.
    """

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def done(self) -> None:
        self.n -= 1

    def check(self) -> None:
        """Raise if some task did not run: a peer that skips work must not look fast."""
        if self.n != 0:
            raise AssertionError(f"{self.n} tasks did not run")


def check(what: str, got: object, want: object) -> None:
    """Raise unless a peer's result is what the job must produce: a broken peer fails instead
    of looking fast."""
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def run_loop(new_event_loop: Callable[[], Any], main: Callable[[], Any]) -> Any:
    """Run the coroutine main() on a fresh event loop (asyncio's or uvloop's) and close it.

    As ``asyncio.run`` does (which takes no loop factory before Python 3.12): once main has
    returned, every task still pending is cancelled and run to its end (its ``finally`` blocks
    run), then async generators are shut down and the loop closed. Benchmarks whose tasks have
    all ended by then pay nothing for it; ``teardown`` measures it."""
    import asyncio

    loop = new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        try:
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            for task in left:
                if not task.cancelled() and task.exception() is not None:
                    raise AssertionError(f"{task!r} failed") from task.exception()
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def rss_bytes() -> int:
    """The resident set size of this process now, from /proc/self/statm (Linux)."""
    with open("/proc/self/statm", "rb") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _version(module: str) -> str | None:
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(
    doc: str,
    *,
    unit: str,
    default_n: int,
    peers: Sequence[Peer],
    targets: Mapping[str, object],
    metric: str = "seconds",
    per_op: bool = True,
    max_rounds: int | None = None,
) -> dict[str, object]:
    """The JSON-able description of a benchmark that ``gosched bench`` reads."""
    text = doc.strip()
    return {
        "summary": text.splitlines()[0] if text else "",
        "doc": text,
        "unit": unit,
        "default_n": default_n,
        "metric": metric,
        "per_op": per_op,
        "max_rounds": max_rounds,
        "targets": dict(targets),
        "peers": [
            {
                "name": p.name,
                "description": p.description,
                "requires": list(p.requires),
                "available": not p.missing(),
                "versions": {m: _version(m) for m in p.requires},
            }
            for p in peers
        ],
    }


def main(
    doc: str | None,
    *,
    unit: str,
    default_n: int,
    peers: Sequence[Peer],
    targets: Mapping[str, object],
    metric: str = "seconds",
    per_op: bool = True,
    max_rounds: int | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    """The benchmark file's command line: ``describe`` or ``run PEER N`` (see module doc).

    metric is what the peer functions return (one of METRICS); per_op whether the table shows
    it per operation (divided by N) or per run; max_rounds the most rounds worth running.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
    args = list(sys.argv[1:] if argv is None else argv)
    by_name = {p.name: p for p in peers}
    if args == ["describe"]:
        desc = describe(
            doc or "",
            unit=unit,
            default_n=default_n,
            peers=peers,
            targets=targets,
            metric=metric,
            per_op=per_op,
            max_rounds=max_rounds,
        )
        print(json.dumps(desc))
        return 0
    if len(args) == 3 and args[0] == "run" and args[1] in by_name and args[2].isdigit():
        peer, n = by_name[args[1]], int(args[2])
        missing = peer.missing()
        if missing:
            print(f"{peer.name}: not installed: {', '.join(missing)}", file=sys.stderr)
            return EXIT_NOT_INSTALLED
        value = peer.fn(n)
        print(json.dumps({"peer": peer.name, "n": n, metric: value}))
        return 0
    names = "|".join(by_name)
    print(f"usage: {sys.argv[0]} describe | run {{{names}}} N", file=sys.stderr)
    return 2
