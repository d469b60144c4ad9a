"""Panic and fatal-error reports are Go's (panicreport.py says what is compared and how).

Each test runs the Python twin of go/NAME.go under ``gosched run`` at GOMAXPROCS 1 and 4; Go's
panic values are RuntimePanic messages here, Go's error values exceptions whose ``__str__`` is
the Error method.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .panicreport import normalize, run_twin
from .test_ordering import expected

TWINS = {
    "panic_chain": """
        from gosched import RuntimePanic

        try:
            raise RuntimePanic("first")
        except RuntimePanic as r:
            raise RuntimePanic(f"second, after recovering {r}")
    """,
    "panic_created": """
        import gosched
        from gosched import RuntimePanic

        def worker():
            raise RuntimePanic("in worker")

        def main():
            gosched.go(worker)
            gosched.sleep(1)

        main()
    """,
    "panic_print_fails": """
        class Bad(Exception):
            def __str__(self):
                raise ValueError("Error method fails")

        raise Bad()
    """,
    "panic_value_once": """
        import gosched

        calls = 0

        class Loud(Exception):
            def __str__(self):
                global calls
                calls += 1
                gosched.gosched()
                return f"loud #{calls}"

        def worker():
            raise Loud()

        def main():
            gosched.go(worker)
            gosched.sleep(1)

        main()
    """,
    "panic_main_waits": """
        import gosched
        from gosched import RuntimePanic

        def bad():
            try:
                raise RuntimePanic("boom")
            finally:
                gosched.gosched()

        def main():
            gosched.go(bad)
            gosched.gosched()
            print("main returns")

        main()
    """,
    "panic_main_long": """
        import gosched
        from gosched import RuntimePanic

        def bad():
            try:
                raise RuntimePanic("boom")
            finally:
                gosched.sleep(0.1)

        def main():
            gosched.go(bad)
            gosched.sleep(0.02)
            print("main returns")

        main()
    """,
}


@pytest.mark.parametrize("procs", ["1", "4"])
@pytest.mark.parametrize("name", sorted(TWINS))
def test_panic_report_twin(tmp_path: Path, name: str, procs: str) -> None:
    if name == "panic_main_waits" and procs != "1":
        pytest.skip("with more Ps, main may return before bad panics, in Go too: a race")
    r = run_twin(tmp_path, name, TWINS[name], procs)
    assert r.stdout + normalize(r.stderr, r.returncode) == expected(name), r.stderr
    assert "Traceback" not in r.stderr.split("goroutine", 1)[0], r.stderr
