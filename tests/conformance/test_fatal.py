"""Fatal errors end the program as in Go, even when the program catches them.

Each test runs the Python twin of a Go program in go/ under ``gosched run`` and compares what
both print: stdout, then the first three lines of stderr (``fatal error: ...``, a blank line,
the first goroutine's header), then the exit status. go/NAME.out holds Go 1.22.10's, made by
running the built program: ``./NAME > out 2> err; echo "exit status $?"`` (``go run`` prints
its own exit status line). Go's deferred calls and recover never run after a fatal error; the
twins' ``except`` and ``finally`` blocks must not either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .panicreport import run_twin
from .test_ordering import expected

TWINS = {
    "fatal_unlock": """
        import gosched
        from gosched import sync

        mu = sync.Mutex()
        try:
            try:
                mu.unlock()
                print("still running")
            except BaseException as e:
                print("recovered", e)
        finally:
            print("deferred")
    """,
    "fatal_nilgo": """
        import gosched

        f = None
        try:
            try:
                gosched.go(f)
                print("still running")
            except BaseException as e:
                print("recovered", e)
        finally:
            print("deferred")
    """,
    "fatal_rwunlock": """
        import gosched
        from gosched import sync

        rw = sync.RWMutex()
        try:
            try:
                rw.runlock()
                print("still running")
            except BaseException as e:
                print("recovered", e)
        finally:
            print("deferred")
    """,
}


@pytest.mark.parametrize("procs", ["1", "4"])
@pytest.mark.parametrize("name", sorted(TWINS))
def test_fatal_error_twin(tmp_path: Path, name: str, procs: str) -> None:
    r = run_twin(tmp_path, name, TWINS[name], procs)
    head = "".join(r.stderr.splitlines(keepends=True)[:3])
    got = r.stdout + head + f"exit status {r.returncode}\n"
    assert got == expected(name), r.stderr
