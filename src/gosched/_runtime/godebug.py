"""The GODEBUG settings the runtime reads. Follows go/src/runtime/runtime1.go (dbgvars,
parsedebugvars, parsegodebug) and string.go's atoi.

GODEBUG is a comma-separated list of ``name=value`` pairs, read when a run starts (Go reads it
once, at startup). As in Go: fields are applied left to right, so a later one wins; a field
without ``=``, an unknown name or a value that is not a decimal integer (an optional ``-``, then
digits) is ignored, silently.

Invariant: ``debug`` is written only by ``parsedebugvars``, on the thread that calls
gosched.run, before any other runtime thread starts; everything else only reads it.
"""

from __future__ import annotations

import os


class DebugVars:
    """The runtime's debug variables (Go's ``debug`` struct): the ones gosched acts on."""

    __slots__ = ("asyncpreemptoff", "schedtrace", "scheddetail", "sysmonoff")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # Go's: on CPython 3.12+, sysmon preempts Python code that runs past its time slice.
        self.asyncpreemptoff = 0
        # Go's: every N ms, sysmon prints the scheduler's summary line (and, with scheddetail=1,
        # every P, M and G).
        self.schedtrace = 0
        self.scheddetail = 0
        # gosched's own: 1 starts no sysmon (no hand-off of a P stuck in user code, no
        # preemption), to measure what sysmon costs.
        self.sysmonoff = 0


debug = DebugVars()

_NAMES = frozenset(DebugVars.__slots__)


def atoi32(s: str) -> int | None:
    """Go's atoi32: a decimal integer that fits in an int32, else None."""
    neg = s.startswith("-")
    digits = s[1:] if neg else s
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    n = -int(digits) if neg else int(digits)
    if not -(2**31) <= n < 2**31:
        return None
    return n


def parsedebugvars(godebug: str | None = None) -> None:
    """Reset the debug variables and apply GODEBUG (the environment's unless given)."""
    debug.reset()
    if godebug is None:
        godebug = os.environ.get("GODEBUG", "")
    for field in godebug.split(","):
        key, eq, value = field.partition("=")
        if not eq or key not in _NAMES:
            continue
        n = atoi32(value)
        if n is not None:
            setattr(debug, key, n)
