"""Goroutine stacks: worker greenlets, gogo and mcall. Follows go/src/runtime/stack.go and the
gogo/mcall half of asm_amd64.s.

This is the only module that switches greenlets (DESIGN decision 5); everything else asks it to.

A goroutine's stack is a Stack, a greenlet whose ``run`` is proc's goroutine body: a loop that
runs the current G's function and then calls mcall(goexit0) to hand the G back to the scheduler.
The stack stays alive across that call, so the next G that gfget hands out with this stack starts
by switching into the same greenlet (DESIGN decision 1): a new greenlet costs ~10 µs on CPython
3.11+, reusing one ~0.6 µs.

Invariants:
- ``st.m`` is the M whose thread runs the stack: newstack is called by that M's g0, which starts
  it at once, and greenlet binds a started greenlet to its thread for good. So a G that has begun
  running can only ever be resumed by st.m (proc.py hands it over with startlockedm), and an
  unstarted G picked up by another M is given a stack of that M (proc.stackget).
- Switches go g0 -> G (gogo), G -> g0 (mcall), and G -> G on the same M (switchto), the last
  only from gopark's fast path, which hands the M straight to the next G exactly where g0 would
  have after park_m (proc.py). Every stack's parent stays its M's g0, so an exception that
  escapes a stack lands in g0, and a stack that ends returns to g0.
- Whoever switches into a stack passes the G it is to run there: a new G for a reused stack,
  the resumed G itself for a stack parked in mcall or switchto. A stack passes back to g0 an
  mcall request ``(fn, gp)``, which g0 runs as fn(mp, gp); a stack that ends returns one too
  (proc.gkilled_m), so g0 handles both alike.
- A G resumes only in mcall or switchto, so those are the only places where a G raises the
  exception it was woken with (``gp.wakeexc``: KeyboardInterrupt for goroutine 1 after a Ctrl-C
  took it off its wait, GreenletExit when the program ends). Switching in and raising in Python
  costs ~1 µs against ~6 µs for greenlet's throw, which matters when 100,000 goroutines end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from greenlet import greenlet

if TYPE_CHECKING:
    from .runtime2 import G, M

# (fn, gp): g0 runs fn(mp, gp); fn may return a G to execute at once.
MCallRequest = tuple[Callable[["M", "G"], "G | None"], "G"]


class Stack(greenlet):
    """A goroutine stack: a worker greenlet bound to one M's thread once started."""

    __slots__ = ("m",)
    m: M


def newstack(body: Callable[[G], MCallRequest], mp: M) -> Stack:
    """A new stack running ``body``, to be started at once by mp's g0 (the malg half of Go's
    malg: a G's stack is made by the M that first runs it)."""
    st = Stack(body, mp.g0)
    st.m = mp
    return st


def gogo(st: Stack, arg: Any) -> MCallRequest:
    """On g0: run the goroutine on ``st`` until it mcalls back; return its request."""
    req: MCallRequest = st.switch(arg)
    return req


def mcall(mp: M, fn: Callable[[M, G], G | None], gp: G) -> G:
    """On gp's stack: switch to g0, which runs fn(mp, gp); return the G that this stack is
    resumed with (gp itself after a park or a yield, the next G to start after gp ended), after
    raising its wake exception if it has one."""
    ngp: G = mp.g0.switch(fn, gp)
    if ngp.wakeexc is not None:
        _raisewake(ngp)
    return ngp


def switchto(st: Stack, gp: G) -> G:
    """On a G's stack: switch straight to ``st`` (a stack of the same M) to run gp there; return
    what this stack is resumed with, as mcall does."""
    ngp: G = st.switch(gp)
    if ngp.wakeexc is not None:
        _raisewake(ngp)
    return ngp


def _raisewake(gp: G) -> NoReturn:
    """Raise gp's wake exception where gp resumed, and forget it: a frame that held it while its
    traceback holds the frame would keep both, and every stack the frame names, alive."""
    exc = gp.wakeexc
    gp.wakeexc = None
    try:
        raise exc  # type: ignore[misc]
    finally:
        del exc


def kill(st: Stack, exc: BaseException) -> Any:
    """On the stack's own thread: raise exc at the stack's switch point and run it until it
    switches back or ends (for stacks with no G: a G is killed through its wakeexc)."""
    return st.throw(exc)
