"""Ctrl-C, and SIGQUIT under `gosched run`. Follows the part of go/src/runtime/signal_unix.go
that matters here: a signal is noted by a handler that does almost nothing, and acted on by the
runtime at a safe point; SIGQUIT (sigtable: ``_SigThrow``) dumps every goroutine and exits 2.

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

SIGQUIT
-------
Go's SIGQUIT (Ctrl-\\) is fatal: the handler itself prints ``SIGQUIT: quit``, then ``PC=0x...
m=N sigcode=N`` and every goroutine's traceback, without stopping the world, and exits 2
(sighandler: fatalsignal, tracebackothers, ``exit(2)``). Under `gosched run` only
(``sched.script``: a library has no business taking the process's signals) the handler does
the same, minus the PC line, which has no counterpart in Python: ``SIGQUIT: quit``, a blank
line, the dump a fatal error prints
(traceback.goroutineDump, the goroutine m0 was running first, from the frame the signal
interrupted), then ``os._exit(2)``. It takes no lock (it may run on m0 in the middle of code
that holds sched.lock): the dump reads lists it copies first. Like Ctrl-C's, it runs on the main
thread between bytecodes, and the wakeup fd on m0's note wakes m0 wherever it sleeps.
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
    SIGINT still has Python's default handler; under `gosched run`, SIGQUIT too (see the module
    docstring). Returns what restore() needs.

    The kernel may deliver a signal to any thread, and Python runs the handler on the main
    thread only once that thread runs Python code again: m0 asleep on its note (an idle M, or
    the one sleeping until a timer) would not notice for as long as it sleeps. So m0's note
    becomes a pipe whose write end is the signal wakeup fd (signal.set_wakeup_fd): the signal's
    arrival, on whichever thread, writes to it and wakes m0, which then runs the handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    sigint = _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler
    # Go installs its SIGQUIT handler over an inherited SIG_IGN too (sigInstallGoHandler keeps
    # only SIGHUP's and SIGINT's): a shell's background job inherits SIGQUIT ignored.
    sigquit = sched.script and _signal.getsignal(_signal.SIGQUIT) in (
        _signal.SIG_DFL,
        _signal.SIG_IGN,
    )
    if not sigint and not sigquit:
        return None
    mp = proc.m0
    assert mp is not None
    mp.park.close()
    mp.park = Note(pipe=True)
    oldfd = _signal.set_wakeup_fd(mp.park.wakeup_fd, warn_on_full_buffer=False)
    oldint = _signal.signal(_signal.SIGINT, _handler) if sigint else None
    oldquit = _signal.signal(_signal.SIGQUIT, _quit) if sigquit else None
    return (oldint, oldfd, oldquit)


def restore(saved: Any) -> None:
    if saved is not None:
        oldint, oldfd, oldquit = saved
        if oldint is not None:
            _signal.signal(_signal.SIGINT, oldint)
        if oldquit is not None:
            _signal.signal(_signal.SIGQUIT, oldquit)
        _signal.set_wakeup_fd(oldfd)


def _quit(signum: int, frame: Any) -> NoReturn:
    """SIGQUIT under `gosched run` (see the module docstring): Go's fatalsignal for
    ``SIGQUIT: quit``, then exit 2. The frame is where the main thread was interrupted: the
    Python code of the goroutine m0 runs, if it runs one."""
    from .traceback import goroutineDump

    _flush()
    data = ("SIGQUIT: quit\n\n" + goroutineDump(frame)).encode(errors="replace")
    try:
        while data:
            data = data[os.write(2, data) :]
    except OSError:
        pass
    os._exit(2)


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
    _flush()
    os._exit(130)


def _flush() -> None:
    """What the program wrote so far, before the process ends without Python's cleanup."""
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except BaseException:  # the interrupted code may be writing to it right now
            pass


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
