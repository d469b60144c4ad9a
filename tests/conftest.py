"""Test fixtures: every test must leave no runtime, M thread or goroutine behind, and a test that
hangs prints the goroutine dump before pytest-timeout stops it."""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import gosched
from gosched._runtime import proc
from gosched._runtime.runtime2 import sched

STRESS = int(os.environ.get("GOSCHED_STRESS", "1"))


def _gosched_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("gosched-M")]


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    timeout = _timeout_of(request)
    watchdog = None
    if timeout:
        watchdog = threading.Timer(max(timeout - 5, timeout * 0.8), _dump_hang)
        watchdog.daemon = True
        watchdog.start()
    yield
    if watchdog is not None:
        watchdog.cancel()
    assert not proc.running(), "the runtime is still running after the test"
    left = _gosched_threads()
    assert not left, f"M threads outlived gosched.run: {left}"
    assert sched.allgs == [] and sched.allm == [], "scheduler state was not reset"


def _timeout_of(request: pytest.FixtureRequest) -> float:
    marker = request.node.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(request.config.getini("timeout") or 0)
    except (ValueError, KeyError):
        return 0.0


def _dump_hang() -> None:
    sys.stderr.write("\n=== test about to time out: goroutine dump ===\n")
    if proc.running():
        try:
            sys.stderr.write(gosched.debug.stack())
        except Exception as e:  # the dump is best effort while things are stuck
            sys.stderr.write(f"(goroutine dump failed: {e!r})\n")
    sys.stderr.write("=== thread stacks ===\n")
    faulthandler.dump_traceback(all_threads=True)


def run_program(
    code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter (crash programs, exit codes, env variables)."""
    e = dict(os.environ)
    e.pop("GOMAXPROCS", None)
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=timeout,
    )
