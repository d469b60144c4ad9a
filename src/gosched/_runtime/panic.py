"""Panics, fatal errors and the runtime's reasons to stop. Follows go/src/runtime/panic.go.

Go keeps two kinds of failure apart, and so does gosched:
- a panic is the user's error: an exception escaping a goroutine's function, or a RuntimePanic
  that the runtime raises in the goroutine that misused it (Go's exact messages). It unwinds that
  goroutine (its finally blocks run) and then stops the whole program, as an unrecovered Go panic
  does; gosched.run re-raises the same exception object.
- a fatal error is unrecoverable: FatalError, raised for misuse Go treats as fatal ("sync: unlock
  of unlocked mutex"), for deadlock (Deadlock), and by throw() when the runtime finds one of its
  own invariants broken. throw names the invariant.

ExitReason records why the runtime is stopping; the first reason set wins (proc.startexit).
"""

from __future__ import annotations

from typing import Any, NoReturn


class RuntimePanic(RuntimeError):
    """A Go runtime error panic, with Go's exact message (e.g. "send on closed channel")."""


class FatalError(Exception):
    """A Go fatal error ("fatal error: <msg>"): the program cannot continue.

    ``dump`` holds every goroutine in Go's traceback format when the program ended on it
    (empty for a fatal error raised where no program runs).
    """

    def __init__(self, message: str, dump: str = "") -> None:
        super().__init__(message)
        self.dump = dump


class Deadlock(FatalError):
    """Every goroutine is blocked and nothing can wake one (Go's checkdead)."""


class GoexitUnwind(BaseException):
    """Raised by goexit() to unwind the goroutine through its finally blocks.

    A BaseException so that ``except Exception`` in user code does not swallow it.
    """


def throw(msg: str) -> NoReturn:
    """A broken runtime invariant (Go's throw): fatal, names the invariant."""
    raise FatalError(msg)


def add_note(exc: BaseException, note: str) -> None:
    """BaseException.add_note, also on Python 3.10 (where notes are kept but not printed)."""
    adder = getattr(exc, "add_note", None)
    if adder is not None:
        adder(note)
    else:
        notes = getattr(exc, "__notes__", None)
        if notes is None:
            notes = []
            exc.__notes__ = notes  # type: ignore[attr-defined]
        notes.append(note)


class ExitReason:
    """Why the runtime stops."""

    __slots__ = ("kind", "value", "exc", "goid")

    MAIN_RETURNED = "main returned"
    PANIC = "panic"
    FATAL = "fatal"

    def __init__(
        self, kind: str, value: Any = None, exc: BaseException | None = None, goid: int = 0
    ) -> None:
        self.kind = kind
        self.value = value
        self.exc = exc
        self.goid = goid
