"""The programs in examples/ run as their docstrings say."""

from __future__ import annotations

import importlib.util
import os
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
