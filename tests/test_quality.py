"""The code base's standing checks, run with the tests: ruff (lint, format) and strict mypy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "benchmarks", "examples"]


def _tool(name: str) -> list[str]:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return [exe]


def check(cmd: list[str]) -> None:
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"


def test_ruff_lint() -> None:
    check(_tool("ruff") + ["check", *PATHS])


def test_ruff_format() -> None:
    check(_tool("ruff") + ["format", "--check", *PATHS])


def test_mypy_strict() -> None:
    check(_tool("mypy"))
