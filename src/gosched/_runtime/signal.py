"""Ctrl-C. Follows the part of go/src/runtime/signal_unix.go that matters here: a signal is
noted by a handler that does almost nothing, and acted on by the runtime at a safe point.

What a Python programmer expects
--------------------------------
In a plain Python program Ctrl-C raises KeyboardInterrupt in the main thread, wherever it is:
in a loop, in ``time.sleep``, in ``queue.get``. main can catch it and clean up. The gosched
equivalent of the main thread is goroutine 1, so that is where KeyboardInterrupt goes:

- goroutine 1 running Python code: raised right there, as Python would;
- goroutine 1 parked in the runtime (a channel, select, sleep, Mutex, Cond, WaitGroup, a
  ticker...): the blocking call raises it, and goroutine 1 is off that wait (a Mutex it was
  waiting for stays usable, a channel keeps its other waiters);
- goroutine 1 runnable or inside a runtime call: raised on its way out of the runtime.

If main lets it escape, the program ends like any panic of main (gosched.run raises it, and
``gosched run`` exits 130). If main catches it, the program goes on.

Why a handler, and why the delay
--------------------------------
Python raises KeyboardInterrupt between any two bytecodes of the main thread, which is m0 (the
thread that called gosched.run, and the only one goroutine 1 ever runs on). Inside runtime code
that could leave a lock held or a run queue half updated. So while gosched.run is active (on
the main thread, with Python's default handler in place; a program's own handler is left
alone) the handler raises only where Python code of goroutine 1 runs: m0's claim token is out
and m0 runs goroutine 1. Anywhere else it notes the interrupt in ``sched.sigint``, asks m0 to
stop at its next safe point (``m0.safepoint``) and wakes m0 if it sleeps. The handler takes no
lock: it runs on m0 itself, possibly in the middle of code that holds one.

At m0's safe points the interrupt is acted on:

- on g0 (the top of schedule, an idle M waking up): ``deliver`` takes goroutine 1 off whatever
  it is parked on (proc.abortpark) and readies it with KeyboardInterrupt as its wake exception
  (stack.py raises it where goroutine 1 parked);
- at the door's way out: goroutine 1 raises it (``raise_in_main``); any other goroutine
  yields to g0, which delivers it.

If m0 runs another goroutine's Python code that never enters the runtime, there is no safe
point to wait for: a second Ctrl-C while the first is still pending raises KeyboardInterrupt in
that code, as Python would in whatever the main thread runs.

Once the program is ending (sched.exiting: main returned or raised, and goroutines' finally
blocks run), Ctrl-C ends the process at once with status 130.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, NoReturn

from . import preempt as _preempt
from . import proc
from .os_thread import Note
from .panic import ExitReason
from .runtime2 import _Gdead, _Grunnable, _Gsyscall, _Gwaiting, safepoints, sched

if TYPE_CHECKING:
    from .runtime2 import M


def install() -> Any:
    """Route Ctrl-C through the handler while run is active, if run is on the main thread and
    SIGINT still has Python's default handler. Returns what restore() needs.

    The kernel may deliver SIGINT to any thread, and Python runs the handler on the main thread
    only once that thread runs Python code again: m0 asleep on its note (an idle M, or the one
    sleeping until a timer) would not notice for as long as it sleeps. So m0's note becomes a
    pipe whose write end is the signal wakeup fd (signal.set_wakeup_fd): the signal's arrival,
    on whichever thread, writes to it and wakes m0, which then runs the handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    if _signal.getsignal(_signal.SIGINT) is not _signal.default_int_handler:
        return None
    mp = proc.m0
    assert mp is not None
    mp.park.close()
    mp.park = Note(pipe=True)
    oldfd = _signal.set_wakeup_fd(mp.park.wakeup_fd, warn_on_full_buffer=False)
    _signal.signal(_signal.SIGINT, _handler)
    return (_signal.default_int_handler, oldfd)


def restore(saved: Any) -> None:
    if saved is not None:
        handler, oldfd = saved
        _signal.signal(_signal.SIGINT, handler)
        _signal.set_wakeup_fd(oldfd)


def _handler(signum: int, frame: Any) -> None:
    if sched.exiting is not None:
        _hardexit()
    mp = proc.m0
    if mp is None:
        raise KeyboardInterrupt
    # m0 runs Python code (its token is out, or sysmon took it: _Gsyscall) of goroutine 1, or of
    # another goroutine while the first Ctrl-C still waits for a safe point: raised right here.
    if (mp.curg is sched.maing or sched.sigint) and (mp.psyscall or _insyscall(mp, frame)):
        sched.sigint = False
        proc.sigint_cleared(mp)
        raise KeyboardInterrupt
    sched.sigint = True
    mp.safepoint = True  # after the reason, as proc.safepoint requires
    safepoints.requested = True
    mp.park.wakeup()


def _insyscall(mp: M, frame: Any) -> bool:
    """m0 runs user code whose token was taken, and was interrupted in user code, not in
    exitsyscall_slow on its way back in (preempt.safepoint tells them apart by the frames)."""
    gp = mp.curg
    return (
        gp is not None
        and gp.atomicstatus == _Gsyscall
        and mp.p is None
        and _preempt.safepoint(frame)
    )


def _hardexit() -> NoReturn:
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:  # the interrupted code may be writing to it right now
            pass
    os._exit(130)


def deliverable() -> bool:
    """A Ctrl-C waits, and m0's g0 can act on it: goroutine 1 is parked, or gone."""
    if not sched.sigint:
        return False
    gp = sched.maing
    return gp is None or gp.atomicstatus in (_Gwaiting, _Gdead)


def deliver(mp: M) -> None:
    """On m0's g0, with or without a P: raise the pending Ctrl-C in goroutine 1 if it is
    parked, by taking it off its wait and readying it with KeyboardInterrupt to raise. If it is
    runnable it raises the interrupt on its own way out of the runtime (raise_in_main)."""
    if mp is not proc.m0 or not sched.sigint:
        return
    gp = sched.maing
    if gp is None or gp.atomicstatus == _Gdead:
        # main called goexit: there is no goroutine 1 to raise it in, so it ends the program.
        sched.sigint = False
        proc.sigint_cleared(mp)
        from .exit import startexit

        startexit(ExitReason(ExitReason.PANIC, exc=KeyboardInterrupt()))
        return
    if gp.atomicstatus != _Gwaiting:
        return
    if not proc.abortpark(gp):
        # A waker dequeued it and is about to ready it: let that thread run.
        time.sleep(20e-6)
        return
    sched.sigint = False
    proc.sigint_cleared(mp)
    gp.wakeexc = KeyboardInterrupt()
    proc.casgstatus(gp, _Gwaiting, _Grunnable)
    gp.waitreason = ""
    with sched.lock:
        if mp.p is not None:
            mp.mailbox.appendleft(gp)  # findRunnable looks here first
            return
        # No P: goroutine 1 is bound to m0, so whoever takes it from the global queue hands it
        # back together with a P (startlockedm).
        sched.runq.appendleft(gp)
    proc.wakep()


def raise_in_main(mp: M) -> NoReturn:
    """Goroutine 1, on its way out of the runtime (its token is out), with a Ctrl-C pending."""
    sched.sigint = False
    proc.sigint_cleared(mp)
    raise KeyboardInterrupt
