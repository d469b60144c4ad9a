"""gosched.blocking(): code that blocks its thread, announced. Follows go/src/runtime/proc.go
(entersyscallblock, exitsyscall, injectglist) and, for the helper threads, cgocall.go's idea of
a call that leaves the scheduler's world, and debug.SetMaxThreads (setMaxThreads).

Two forms, as API.md says:

- ``with blocking():`` is Go's entersyscallblock: the goroutine gives its P away at once
  (releasep + handoffp) and runs the body with none, ``_Gsyscall``, like a goroutine whose P
  sysmon retook. The way out is the door's (exitsyscall_slow): its old P if idle, any idle P,
  else it queues and its M waits. sysmon does not preempt the body (``gp.inblocking``): Go
  does not preempt a syscall either.
- ``blocking(fn, ...)`` parks the goroutine (wait reason ``syscall``) and runs fn on a helper
  thread. A helper is an M of kind M_HELPER: in allm, counted against the thread limit and in
  schedtrace's threads, never running goroutines or holding a P. Helpers are made on demand
  (no pool limit but maxmcount: 1,000 calls in flight are 1,000 threads), kept idle for
  ``HELPER_IDLE`` seconds for the next call, then end.

The helper readies the goroutine from its own thread, which has no P (Go's injectglist): to
its M directly with an idle P when that M is idle, else through the global queue and wakep;
whoever takes it there hands it to its M (startlockedm), since a started goroutine cannot move.

Invariants:
- A Job is handed to a helper only after its goroutine has parked (gopark's unlockf), so the
  helper can never ready a goroutine that is still running.
- ``job.state`` goes RUNNING -> DONE (the helper readies the goroutine) or RUNNING -> ABANDONED
  (proc.abortpark: Ctrl-C, or the program ends), under sched.lock, exactly once: whoever
  changes it owns the goroutine's wake-up. The result of an abandoned job is dropped.
- checkdead counts a busy helper as a running M (its goroutine will be readied), an idle one
  not (``sched.nmidlehelper``).
- At the end of a run idle helpers end with it; a busy one is abandoned (its thread is a
  daemon, and teardown does not wait for it): when fn returns, it sees that its run is over
  (``job.epoch``) and ends without touching the scheduler.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from . import proc
from . import trace as _trace
from .os_thread import newosproc
from .panic import throw
from .runtime2 import (
    M_HELPER,
    M,
    _Grunnable,
    _Grunning,
    _Gsyscall,
    _Gwaiting,
    sched,
    waitReasonSyscall,
)
from .trace import EV_GLOBALPUT, EV_GOUNBLOCK, EV_SYSCALLBEGIN

if TYPE_CHECKING:
    from collections.abc import Callable

    from .runtime2 import G

# How long an idle helper waits for the next call before its thread ends.
HELPER_IDLE = 10.0

# Go's debug.SetMaxThreads is for the process's life: it outlives a run (Sched.reset reads it).
_RUNNING, _DONE, _ABANDONED = 0, 1, 2


class Job:
    """One blocking(fn) call: what to run, for whom, and how it ended. It is the goroutine's
    wait record (gp.waiting) while it is parked."""

    __slots__ = ("fn", "args", "kwargs", "gp", "result", "exc", "state", "epoch")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], gp: G
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.gp = gp
        self.result: Any = None
        self.exc: BaseException | None = None
        self.state = _RUNNING
        self.epoch = sched.epoch

    def abortwait(self, gp: G) -> bool:
        """proc.abortpark: the goroutine stops waiting (Ctrl-C, or the end of the program); the
        helper goes on with fn and drops its result. False if the helper is readying it."""
        with sched.lock:
            if self.state != _RUNNING:
                return False
            self.state = _ABANDONED
            return True


# ---------------------------------------------------------------------------------------------
# with blocking(): entersyscallblock / exitsyscall


def entersyscallblock() -> None:
    """The goroutine is about to block its thread: hand its P to another M now."""
    mp = proc.enter("blocking")
    gp: G = mp.curg  # type: ignore[assignment]
    gp.inblocking += 1
    if sched.tracing:
        _trace.ev(mp, EV_SYSCALLBEGIN, gp.goid, mp.id, "blocking")
    with sched.lock:
        pp = proc.releasep(mp)
        pp.syscalltick += 1
        mp.oldp = pp
        mp.syscallwhen = proc.nanotime()
        proc.casgstatus(gp, _Grunning, _Gsyscall)
    proc.handoffp(pp)
    # No token goes out: the P is gone, and the door's way back in is exitsyscall_slow.


def exitsyscall() -> None:
    """The body of ``with blocking()`` is over: take a P back (the door's slow path)."""
    gp = proc.getg()
    if gp is not None:
        gp.inblocking -= 1
    proc.leave(proc.enter("blocking"))


# ---------------------------------------------------------------------------------------------
# blocking(fn): a helper thread runs fn while the goroutine parks


def blockingcall(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    mp = proc.enter("blocking")
    try:
        gp: G = mp.curg  # type: ignore[assignment]
        job = Job(fn, args, kwargs, gp)
        helper = _helperget()
        gp.waiting = job
        proc.gopark(mp, _handjob, (helper, job), waitReasonSyscall)
        gp.waiting = None
    finally:
        proc.leave(mp)
    exc = job.exc
    if exc is not None:
        job.exc = None
        raise exc
    return job.result


def _helperget() -> M:
    """An idle helper, or a new one (not started yet: _handjob starts it). The thread limit is
    checked here, in the caller's goroutine, so that exceeding it is the caller's fatal error."""
    with sched.lock:
        if sched.helpersidle:
            hp = sched.helpersidle.pop()
            sched.nmidlehelper -= 1
            return hp
        hp = M()
        hp.kind = M_HELPER
        proc.mcommoninit(hp, -1)  # checkmcount: Go's "thread exhaustion"
        return hp


def _handjob(gp: G, arg: tuple[M, Job]) -> bool:
    """gopark's unlockf: gp is parked, so the helper may ready it from now on."""
    hp, job = arg
    hp.helperjob = job
    if hp.thread is None:
        try:
            newosproc(f"gosched-M{hp.id} helper", lambda: _helper(hp), hp)
        except RuntimeError as e:  # the OS would not give us a thread
            throw(f"newosproc: cannot start a helper thread: {e}")
    else:
        hp.park.wakeup()
    return True


def _helper(hp: M) -> None:
    """A helper's thread: run the job it was handed, ready its goroutine, wait for the next."""
    hp.tid = threading.get_ident()
    epoch = sched.epoch
    while True:
        job = hp.helperjob
        if job is not None:
            try:
                job.result = job.fn(*job.args, **job.kwargs)
            except BaseException as e:
                job.exc = e
            if not _complete(hp, job):
                break
        # Idle (or taken off the idle list, with the job on its way): wait.
        woken = hp.park.tsleep(HELPER_IDLE)
        if epoch is not sched.epoch:
            return
        with sched.lock:
            idle = hp in sched.helpersidle
            if sched.exiting is not None or (idle and not woken and hp.helperjob is None):
                if idle:
                    sched.helpersidle.remove(hp)
                    sched.nmidlehelper -= 1
                break
    _helperexit(hp, epoch)


def _helperexit(hp: M, epoch: object) -> None:
    """The helper's thread ends (exit.mexit, for an M with no stacks), unless its run is over:
    then nothing of the scheduler is its own any more."""
    with sched.lock:
        if epoch is not sched.epoch:
            return
        hp.exited = True
        if hp in sched.allm:
            sched.allm.remove(hp)
            sched.freem.append(hp)
            sched.nmfreed += 1
        if sched.exiting is None:
            proc.checkdead()


def _complete(hp: M, job: Job) -> bool:
    """fn returned or raised: ready the goroutine from the helper's thread (no P), and put the
    helper on the idle list in the same breath, so that the goroutine's next call finds it.
    Returns False if the run is over (the helper ends)."""
    wake = None
    with sched.lock:
        hp.helperjob = None
        if job.epoch is not sched.epoch or sched.exiting is not None:
            job.result = job.exc = None
            return False
        sched.helpersidle.append(hp)
        sched.nmidlehelper += 1
        if job.state != _RUNNING:
            # Its goroutine stopped waiting (Ctrl-C): this may have been the last M running.
            job.result = job.exc = None
            proc.checkdead()
            return True
        job.state = _DONE
        wake = injectg(job.gp)
    if wake is not None:
        wake.park.wakeup()
    else:
        proc.wakep()
    return True


def injectg(gp: G) -> M | None:
    """Ready gp, parked, from a thread that holds no P (Go's injectglist for one G). sched.lock
    held. Returns the M to wake if gp went straight to its idle M with an idle P; otherwise gp
    is on the global queue and the caller must wakep() once the lock is released."""
    proc.casgstatus(gp, _Gwaiting, _Grunnable)
    gp.waitreason = ""
    if sched.tracing:
        _trace.evany(EV_GOUNBLOCK, gp.goid, 0)
    owner = gp.boundm
    if owner is not None and owner.idle and sched.pidle:
        sched.midle.remove(owner)
        sched.nmidle -= 1
        owner.idle = False
        owner.mailbox.append(gp)
        owner.nextp = proc.pidleget()
        return owner
    if sched.tracing:
        _trace.evany(EV_GLOBALPUT, gp.goid)
    sched.runq.append(gp)
    return None


# ---------------------------------------------------------------------------------------------
# debug.set_max_threads


def SetMaxThreads(n: int) -> int:
    """Go's debug.SetMaxThreads: the new limit on Ms (goroutine Ms, sysmon and helpers); returns
    the old one. Past it the program dies (``thread exhaustion``), now if it already is."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_max_threads: n must be an int, not {type(n).__name__}")
    with sched.lock:
        old = sched.maxthreads
        sched.maxthreads = min(n, 0x7FFFFFFF)
        sched.maxmcount = sched.maxthreads
        if proc.running():
            if proc.mcount() > sched.maxmcount:
                print(f"runtime: program exceeds {sched.maxmcount}-thread limit", file=sys.stderr)
                fatal = True
            else:
                fatal = False
        else:
            fatal = False
    if fatal:
        from .exit import fatal as _fatal

        _fatal("thread exhaustion")  # the program ends even if the caller catches it
    return old
