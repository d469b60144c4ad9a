"""The programs in examples/ run as their docstrings say."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _gosched_run(name: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("GOMAXPROCS", None)
    env.pop("GODEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gosched", "run", str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="needs Dask's distributed scheduler: pip install -e '.[dask]'",
)
def test_dask_fanout_collects_every_result_before_the_deadline() -> None:
    r = _gosched_run("dask_fanout.py", timeout=110)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "collatz(27) = 111 steps" in lines
    assert "collatz(837799) = 524 steps" in lines
    assert "failing task: ValueError('task -1 failed on purpose')" in lines
    assert lines[-1].startswith("7 of 7 results in ")


def _gosched_run_procs(name: str, procs: int) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("GOMAXPROCS", None)
    env.pop("GODEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gosched", "run", "--gomaxprocs", str(procs), str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("procs", [1, 4])
def test_worker_pool_collects_every_result(procs: int) -> None:
    r = _gosched_run_procs("worker_pool.py", procs)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"40 results from [1-4] workers", lines[-1]), r.stdout
    assert re.fullmatch(r"job  0 by worker [1-4]: [0-9a-f]{12}", lines[0]), r.stdout


@pytest.mark.parametrize("procs", [1, 2])
def test_pipeline_cancels_every_stage(procs: int) -> None:
    r = _gosched_run_procs("pipeline.py", procs)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "sink: 14 squares sum to 1015, cancelling", r.stdout
    # The generator may have made one more number before it saw the cancel (so may Go's).
    stops = sorted(lines[1:3])
    assert re.fullmatch(r"generate: stopped after 1[5-7] numbers", stops[0]), r.stdout
    assert stops[1] == "square: stopped", r.stdout
    assert lines[3] == "goroutines left: 1, ctx.err(): Canceled('context canceled')", r.stdout


@pytest.mark.parametrize("procs", [1, 2])
def test_crawler_fetches_every_reachable_page(procs: int) -> None:
    r = _gosched_run_procs("crawler.py", procs)
    assert r.returncode == 0, r.stderr
    assert re.match(r"crawled 21 pages in ", r.stdout), r.stdout


def test_examples_also_run_under_plain_python() -> None:
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / "pipeline.py")], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "goroutines left: 1" in r.stdout


def test_primes_prints_the_first_100_primes() -> None:
    r = _gosched_run("primes.py", timeout=60)
    assert r.returncode == 0, r.stderr
    first, last = r.stdout.splitlines()
    primes = [int(p) for p in first.split()]
    assert len(primes) == 100
    assert primes[:5] == [2, 3, 5, 7, 11]
    assert primes[-1] == 541
    assert last == "100 primes, 102 goroutines in the chain"


def test_schedule_prints_go_s_orderings() -> None:
    r = _gosched_run("schedule.py", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ran in order: [4, 0, 1, 2, 3]" in r.stdout
    assert "C1 A1 B1 C2 A2 B2" in r.stdout
    assert r.stdout.rstrip().endswith("live goroutines at the end: 1")


@pytest.mark.parametrize(
    ("name", "procs"),
    [("worker_pool.py", 4), ("pipeline.py", 1), ("crawler.py", 2), ("primes.py", 1)],
)
def test_examples_trace_as_the_readme_says(tmp_path: Path, name: str, procs: int) -> None:
    """examples/README.md's commands: `gosched run --trace FILE` writes a valid trace of the
    example, and `gosched trace view FILE` makes its viewer."""
    from tests.trace_validator import instants, validate_file

    out = tmp_path / "t.json"
    env = dict(os.environ)
    for k in ("GOMAXPROCS", "GODEBUG", "GOSCHED_TRACE"):
        env.pop(k, None)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "gosched",
            "run",
            "--trace",
            str(out),
            "--gomaxprocs",
            str(procs),
            str(EXAMPLES / name),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert validate_file(str(out)) == []
    import json

    obj = json.loads(out.read_text())
    assert len(instants(obj, "GoCreate")) >= 2
    v = subprocess.run(
        [sys.executable, "-m", "gosched", "trace", "view", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert v.returncode == 0, v.stderr
    assert (tmp_path / "t.html").stat().st_size > 0
