"""Goexit orderings are what real Go prints (GOMAXPROCS=1).

Each test is the Python twin of a Go program in go/; go/NAME.out is its output under Go
1.22.10. To re-check: `GOMAXPROCS=1 go run go/NAME.go | diff - go/NAME.out`.
"""

from __future__ import annotations

import gosched
from gosched import RuntimePanic

from .test_ordering import expected, run1


def test_goexit_survives_a_recovered_panic() -> None:
    """Twin of go/goexit_recovered.go: a finally block (a deferred call) raises while Goexit
    unwinds, an except (recover) catches it, and the goroutine still exits: its outer finally
    blocks run and the code after them does not. Python runs plain code up to the goroutine's
    next runtime call (here gosched(), which Go never reaches either)."""

    def main() -> str:
        out: list[str] = []
        done = gosched.Chan[str]()

        def g() -> None:
            try:
                try:
                    try:
                        gosched.goexit()
                    finally:
                        raise RuntimePanic("from deferred call")
                except RuntimePanic as e:
                    out.append(f"recovered: {e}")
                gosched.gosched()  # the goroutine ends here at the latest
                out.append("went on after Goexit")
            finally:
                done.send("g's last deferred call ran")

        gosched.go(g)
        out.append(str(done.recv()))
        return "".join(s + "\n" for s in out)

    assert run1(main) == expected("goexit_recovered")
