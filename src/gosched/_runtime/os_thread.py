"""OS threads for Ms, and the note an idle M sleeps on. Follows go/src/runtime/os_linux.go
(newosproc) and lock_futex.go (notesleep/notewakeup).

An M is a threading.Thread whose first greenlet becomes its g0. An idle M blocks in its Note, an
eventfd (a pipe where os.eventfd is missing): the write releases the GIL before the sleeper
wakes, which makes it the cheapest cross-thread wake-up measured here (~6 µs round trip against
14 µs for a lock pair and 20-66 µs for threading.Event). The same fd can later sit in the
netpoller's epoll set, so one fd per M serves both "wake this M" and "break the poll".

A thread must not end while greenlets parked in it are still needed: their finally blocks could
never run. proc.mexit kills the stacks of its M before the thread returns.

A thread is started from a clean thread: one that a goroutine has locked (or whose locked
goroutine exited) may carry that goroutine's OS state, which a new thread would inherit, so
newosproc hands the start to the template thread then (proc.py, Go's newm and templateThread).

The runtime's threads block SIGINT and SIGQUIT, so that the kernel gives those signals to the
main thread (m0, or the program's own threads), where Python runs its handlers. Delivered to
an M instead, a Ctrl-C could not reach goroutine 1 blocked in a C call on m0 (`time.sleep`):
Python only notes the signal there, and nothing interrupts the main thread's call. Go sends a
signal on to the thread that should see it; blocking it where it must not land is Python's
nearest way.
"""

from __future__ import annotations

import math
import os
import select
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runtime2 import M

_FD_SETSIZE = 1024


class Note:
    """A one-shot sleep/wake-up for one M (Go's note), on an eventfd or a pipe.

    notewakeup may come before notesleep, from any thread; the sleeper returns at once then.
    Wake-ups do not queue: two before one sleep wake it once. Callers re-check their condition
    under sched.lock after waking, so a stale wake-up only costs a loop.
    """

    __slots__ = ("_rfd", "_wfd", "_eventfd", "_poll")
    _rfd: int
    _wfd: int

    def __init__(self, pipe: bool = False) -> None:
        """A pipe instead of an eventfd when asked (m0 while Ctrl-C is the runtime's: signal.py
        makes its write end the signal wakeup fd, which takes single bytes)."""
        self._poll: select.poll | None = None
        eventfd = getattr(os, "eventfd", None)
        if eventfd is not None and not pipe:
            fd = eventfd(0, os.EFD_CLOEXEC)
            self._rfd = self._wfd = fd
            self._eventfd = True
        else:
            self._rfd, self._wfd = os.pipe()
            os.set_blocking(self._wfd, False)
            self._eventfd = False

    def wakeup(self) -> None:
        if self._eventfd:
            os.eventfd_write(self._wfd, 1)
        else:
            try:
                os.write(self._wfd, b"\0")
            except BlockingIOError:  # the pipe is full of wake-ups: one more changes nothing
                pass

    @property
    def wakeup_fd(self) -> int:
        """The fd a wake-up writes to."""
        return self._wfd

    def sleep(self) -> None:
        while True:
            try:
                if self._eventfd:
                    os.eventfd_read(self._rfd)
                else:
                    os.read(self._rfd, 512)
                return
            except InterruptedError:
                # A signal handler ran (Ctrl-C on m0, see signal.py) without raising:
                # os.eventfd_read does not retry by itself as PEP 475 calls do. Callers re-check
                # their conditions after sleeping, so going back to sleep is right.
                continue

    def tsleep(self, seconds: float) -> bool:
        """Sleep at most ``seconds``; return whether a wake-up arrived. select's timeout has
        microseconds (sysmon sleeps 20 µs), but it takes no fd past 1023, which a thousand
        blocking() helpers reach: those poll, to the millisecond."""
        fd = self._rfd
        if fd < _FD_SETSIZE:
            if not select.select([fd], [], [], seconds)[0]:
                return False
        else:
            p = self._poll
            if p is None:
                p = self._poll = select.poll()
                p.register(fd, select.POLLIN)
            if not p.poll(max(0, math.ceil(seconds * 1000))):
                return False
        self.sleep()
        return True

    def close(self) -> None:
        os.close(self._rfd)
        if self._wfd != self._rfd:
            os.close(self._wfd)


# Signals only the main thread may take (see the module docstring).
_MASKED = frozenset(s for s in (signal.SIGINT, getattr(signal, "SIGQUIT", None)) if s is not None)


def _masked(target: Callable[[], None]) -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _MASKED)
    target()


def newosproc(name: str, target: Callable[[], None], mp: M) -> threading.Thread:
    """Start an OS thread for mp (daemon, so that a wedged M cannot keep the process alive
    after gosched.run has given up on it). ``mp.thread`` is set before the thread starts: the
    new thread may finish its first work and be handed more (an idle helper) before this
    returns, and whoever hands it must see that it has a thread.

    A new thread inherits its creator's OS state, so a thread locked to a goroutine does not
    start one: the thread object is made here and the template thread starts it
    (proc.handoffnewm). It may then not be alive yet when this returns.
    """
    from . import proc  # proc imports this module

    t = threading.Thread(target=_masked, args=(target,), name=name, daemon=True)
    mp.thread = t
    if not proc.handoffnewm(t):
        t.start()
    return t
