"""How the runtime stops. Follows the end of go/src/runtime/proc.go's main and panic.go's fatal
paths (Go has no counterpart for the killing: it just exits the process).

Why the program ends
--------------------
``sched.exiting`` holds the first reason (an ExitReason): main returned (runtime_main), a
goroutine panicked (goexit0), or a fatal error (throw on g0, checkdead's deadlock). startexit
sets it once, under sched.lock, then asks every M to stop at its next safe point
(``mp.safepoint``), takes the claim token of every P whose M is in user code (so that the M's
next runtime entry takes the slow path) and wakes every M that sleeps.

What happens to the other goroutines
------------------------------------
Go exits the process and its goroutines just stop. Python programs expect their ``finally``
blocks to run, so every goroutine that has started is killed instead, on its own thread (a
greenlet cannot be resumed elsewhere):

- a goroutine that is parked or runnable is resumed by its M's g0 (killstacks) with
  GreenletExit as its wake exception, raised where it parked;
- a goroutine running on another M gets GreenletExit at its next runtime call, in or out
  (``dying``): the door's way in finds its token taken, the way out sees mp.safepoint.

Either way ``gp.killed`` is set first, and the kill unwinds the goroutine through its finally
blocks with its claim token held by the runtime, so that its next runtime entry cannot take the
fast path. A killed goroutine that enters the runtime again (a channel operation or a
``gosched()`` in a finally block, or any call after it caught GreenletExit) is abandoned: it
switches to g0 for good and its remaining frames never run, as Go runs no deferred calls when
the program exits. Its greenlet is kept in ``_graveyard`` until its thread has ended, since
dropping a suspended greenlet on its own live thread would resume it to kill it. An exception
that a killed goroutine's finally block raises goes to sys.unraisablehook ("Exception ignored
in: goroutine N").

Why killing is cheap
--------------------
100,000 parked goroutines must end in well under a second. Resuming a greenlet with switch and
raising in Python costs ~1 µs (greenlet's throw ~6 µs), and ending a greenlet frees its frame
stack (~5 µs on 3.11+), so a killed goroutine must cost little else. In particular it does not
take itself off the queue it waited on: a deque removal is O(n) and, with 4 Ms killing in
parallel, made the old teardown quadratic (10 s for 100,000). Wakers running on other Ms during
the exit may still ready a dying goroutine, harmlessly: nothing runs it. When every M has
ended, ``sweep`` takes the killed waiters off every channel and semaphore they were queued on,
in one pass each, so that objects that outlive gosched.run work in the next run.
"""

from __future__ import annotations

import collections
import inspect
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

from greenlet import GreenletExit

from . import proc
from . import stack as _stack
from .panic import ExitReason, FatalError, throw
from .runtime2 import M_EXTRA, Sema, Sudog, _Prunning, safepoints, sched

if TYPE_CHECKING:
    from .runtime2 import G, M

# Greenlets of abandoned goroutines, with the thread they belong to; kept until it has ended.
_graveyard: list[tuple[_stack.Stack, threading.Thread]] = []

# The goroutines killed in this run, for sweep (list.append is atomic: every M kills at once).
_killed: list[G] = []


def startexit(reason: ExitReason) -> None:
    """Stop the runtime (the first reason wins)."""
    with sched.lock:
        first = _startexit_locked(reason)
    if first:
        # A goroutine in a Python loop never reaches the door: preempt it (3.12+).
        from . import preempt

        preempt.killrunning()


def fatal_locked(exc: FatalError) -> None:
    """A fatal error found with sched.lock held (checkdead: no goroutine is running)."""
    _startexit_locked(ExitReason(ExitReason.FATAL, exc=exc))


def _startexit_locked(reason: ExitReason) -> bool:
    if sched.exiting is not None:
        return False
    sched.exiting = reason
    for pp in sched.allp:
        owner = pp.m
        if owner is not None and pp.status == _Prunning:
            proc._taketoken(owner, pp)
    for mp in sched.allm:
        mp.safepoint = True  # after the reason, as proc.safepoint requires
        mp.park.wakeup()
    safepoints.requested = True
    sched.stopnote.wakeup()
    return True


def fatal(msg: str) -> NoReturn:
    """Go's fatal (sync's fatal, throwTypeUser): misuse by the user's code that no program may
    survive ("sync: unlock of unlocked mutex", "go of nil func value"). Called from user code,
    with the caller's token out.

    On a goroutine the program ends with FatalError(msg), whose dump has every goroutine, this
    one first and running, and this goroutine stops where it is, for good: it is abandoned as a
    killed goroutine that enters the runtime, so none of its ``except`` or ``finally`` blocks
    runs (Go runs no deferred call and recovers nothing). A plain thread cannot be stopped: the
    program ends and the thread gets the FatalError. With no program running there is nothing
    to end: the FatalError is raised.
    """
    from .traceback import goroutineDump

    if not proc.running():
        raise FatalError(msg)
    gp = proc.getg()
    exc = FatalError(msg, goroutineDump(sys._getframe(1)))
    startexit(ExitReason(ExitReason.FATAL, exc=exc))
    if gp is None or gp.m is None or gp.m.kind == M_EXTRA:
        raise exc  # a plain thread (an M of its own or not yet)
    mp = gp.m
    try:
        mp.psyscall.pop()  # back into the runtime, if startexit has not taken the token
    except IndexError:
        pass
    if not gp.killed:
        gp.killed = True
        _killed.append(gp)
    dying(mp, True)  # abandons gp: never returns
    throw(f"fatal: goroutine {gp.goid} went on after {msg!r}")


class PanicText:
    """A panic as Go prints it, made in the panicking goroutine (printpanics) and read by the
    report (cli.py): ``header`` is Go's ``panic: ...`` lines, ``exc_line`` the exception's last
    traceback line, ``createdby`` Go's ``created by`` lines."""

    __slots__ = ("createdby", "exc_line", "header")

    def __init__(self, header: str, exc_line: str, createdby: str) -> None:
        self.header = header
        self.exc_line = exc_line
        self.createdby = createdby


def printpanics(exc: BaseException, gp: G) -> None:
    """Go's preprintpanics, in the goroutine whose function exc escaped, before the runtime
    stops: every panic value is made text here, once (a ``__str__`` with side effects runs once,
    and one that calls the runtime can), and kept on exc for the report (``__gosched_panic__``).

    The chain is exc's causes and contexts, oldest first, as Go's printpanics prints a panic
    raised while another was being handled: ``panic: first [recovered]``, then a tab and
    ``panic: second``. Python cannot tell an exception being handled by an ``except`` from one
    unwinding through a ``finally``, so every earlier one is marked recovered. Goexit's
    unwinding is left out, as Go leaves out goexit panics. A ``__str__`` that raises is Go's
    fatal error ``panic while printing panic value``: the program ends with it (exit 2)."""
    from .panic import GoexitUnwind
    from .traceback import _createdby

    chain: list[BaseException] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if not isinstance(e, GoexitUnwind):
            chain.append(e)
        e = (
            e.__cause__
            if e.__cause__ is not None
            else (None if e.__suppress_context__ else e.__context__)
        )
    chain.reverse()
    lines = []
    msg = ""
    for k, e in enumerate(chain):
        try:
            msg = str(e)
        except Exception as bad:
            fatal(f"panic while printing panic value: type {_typename(type(bad))}")
        value = f"{type(e).__name__}: {msg}" if msg else type(e).__name__
        recovered = " [recovered]" if k < len(chain) - 1 else ""
        lines.append(("\t" if k else "") + f"panic: {value}{recovered}")
    name = _typename(type(exc))
    text = PanicText("\n".join(lines), f"{name}: {msg}" if msg else name, "\n".join(_createdby(gp)))
    try:
        exc.__gosched_panic__ = text  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass  # an exception type without a __dict__: the report formats it itself


def _typename(t: type) -> str:
    """A type as Python's tracebacks name it: qualified by its module unless builtin or
    __main__'s."""
    mod = t.__module__
    if mod in ("builtins", "__main__"):
        return t.__qualname__
    return f"{mod}.{t.__qualname__}"


def dying(mp: M, entering: bool) -> None:
    """The goroutine on mp is at the door (on its way in, or out) while the program ends.

    The first time, it is killed: GreenletExit is raised here. Afterwards it is unwinding from
    that kill: its way out lets the unwinding go on, and its way in abandons it (never
    returns). Either way its token stays with the runtime.
    """
    gp: G = mp.curg  # type: ignore[assignment]
    if not entering:
        try:
            mp.psyscall.pop()  # the way out had just put it out
        except IndexError:
            pass  # startexit took it meanwhile
    if not gp.killed:
        gp.killed = True
        _killed.append(gp)
        raise GreenletExit
    if entering:
        _forget_exceptions()
        _stack.mcall(mp, abandon_m, gp)
        throw(f"exit: abandoned goroutine {gp.goid} was resumed")


_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _forget_exceptions() -> None:
    """An abandoned goroutine's frames stay alive for good, and with them the exceptions it is
    handling (its kill, at least) and their tracebacks: clear the locals of the frames those went
    through and left, which would otherwise keep other goroutines' stacks alive. Frames still
    running are left alone, and so are generators' (clearing one would finalize it)."""
    exc = sys.exc_info()[1]
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            f = tb.tb_frame
            if not f.f_code.co_flags & _GENERATOR_FLAGS:
                try:
                    f.clear()
                except RuntimeError:  # still running
                    pass
            tb = tb.tb_next
        exc = exc.__context__


def abandon_m(mp: M, gp: G) -> None:
    """On g0: gp entered the runtime again while dying; it never runs again."""
    st = gp.stack
    if st is not None:
        _graveyard.append((st, threading.current_thread()))
    gp.stack = None
    if gp.boundm is mp:
        gp.boundm = None
        mp.nbound -= 1
    if mp.curg is gp:
        mp.curg = None
    gp.m = None


def mexit(mp: M) -> None:
    """mp's thread is about to end: kill its stacks, then count it out (Go's mexit)."""
    killstacks(mp)
    with sched.lock:
        mp.exited = True
        if mp in sched.allm:
            sched.allm.remove(mp)
            sched.freem.append(mp)
            sched.nmfreed += 1
        if sched.exiting is None:
            proc.checkdead()


def killstacks(mp: M) -> None:
    """On mp's g0: end every live stack of mp's thread, running goroutines' finally blocks.

    Each goroutine is mp's current G while it dies, so goid() and the like work in its finally
    blocks. A stack with no goroutine (a free one) ends at its switch point.
    """
    gogo = _stack.gogo
    killed = _killed
    for gp in list(sched.allgs):
        st = gp.stack
        if st is None or st.m is not mp:
            continue
        if gp.boundm is not mp or gp.killed:
            if not st.dead:
                _stack.kill(st, GreenletExit())  # a free stack, cached with a dead G
            continue
        gp.killed = True
        killed.append(gp)
        gp.wakeexc = GreenletExit()
        mp.curg = gp
        gp.m = mp
        req = gogo(st, gp)
        if type(req) is tuple:
            fn, arg = req
            fn(mp, arg)  # gkilled_m: it ended; abandon_m: it entered the runtime again
        else:  # GreenletExit escaped its body (it was in the runtime after its function)
            proc.gkilled_m(mp, gp)
    mp.curg = None
    for st in mp.freestacks:
        if not st.dead:
            _stack.kill(st, GreenletExit())
    mp.freestacks.clear()


def teardown(m0: M, restore: Any) -> ExitReason | None:
    """The end of gosched.run, on m0 after its scheduler returned: kill m0's goroutines, wait
    for every other M's thread to end, sweep the queues, and put Ctrl-C back as it was.
    Returns why the runtime stopped."""
    from . import signal as _signal

    try:
        killstacks(m0)
        _join_ms()
        sweep()
    finally:
        _signal.restore(restore)  # before m0's note, the signal wakeup fd, is closed
        from .cgocall import detachall

        detachall()
        with sched.lock:
            ms = sched.allm + sched.freem
        for mp in ms:
            if mp.kind != M_EXTRA:  # a plain thread may still be on its way out of it
                mp.park.close()
        if _graveyard:
            _unlink()
            _graveyard[:] = [e for e in _graveyard if e[1].is_alive()]
        _killed.clear()
    reason: ExitReason | None = sched.exiting
    return reason


def _unlink() -> None:
    """Drop what links this run's Gs, Ms and Ps to each other and to their stacks. The frames
    of an abandoned goroutine stay alive (_graveyard) and hold its G and M: this keeps them from
    holding the whole scheduler of a finished run."""
    for mp in sched.allm + sched.freem:
        mp.freestacks.clear()
        mp.mailbox.clear()
        mp.p = mp.nextp = mp.oldp = None
        mp.curg = mp.lockedg = None
    for pp in sched.allp:
        pp.runq.clear()
        pp.runnext.clear()
        pp.gFree.clear()
        pp.m = None
    for gp in sched.allgs:
        gp.stack = None
        gp.m = gp.boundm = gp.lockedm = None
        gp.waiting = None


def _join_ms() -> None:
    while True:
        with sched.lock:
            # A helper still in its blocking(fn) call is abandoned (blocking.py): the call may
            # never return, and the thread is a daemon.
            threads = [
                m.thread
                for m in sched.allm + sched.freem
                if m.thread is not None and m.thread.is_alive() and m.helperjob is None
            ]
        if not threads:
            return
        for t in threads:
            # In slices: a Ctrl-C delivered to another thread runs its handler on this one,
            # between two bytecodes (signal.py: the process ends at once).
            while t.is_alive():
                t.join(0.05)


def sweep() -> None:
    """Take killed goroutines off every channel queue and semaphore they were parked on (see
    the module docstring). Every M has ended; the locks are taken for plain threads."""
    chans: dict[int, Any] = {}
    semas: dict[int, Sema] = {}
    for gp in _killed:
        w = gp.waiting
        if isinstance(w, Sudog):
            sg: Sudog | None = w
            while sg is not None:
                chans[id(sg.c)] = sg.c
                sg = sg.waitlink
        elif isinstance(w, Sema):
            semas[id(w)] = w
    for c in chans.values():
        with c.lock:
            for q in (c.recvq, c.sendq):
                _filter(q, lambda sg: not sg.g.killed)
    for s in semas.values():
        with s.lock:
            _filter(s.waiters, lambda gp: not gp.killed)


def _filter(q: collections.deque[Any], keep: Any) -> None:
    kept = [x for x in q if keep(x)]
    if len(kept) != len(q):
        q.clear()
        q.extend(kept)


# ---------------------------------------------------------------------------------------------
# sys.unraisablehook


class _Goroutine:
    """What an unraisable report names: "Exception ignored in: goroutine N"."""

    __slots__ = ("goid",)

    def __init__(self, goid: int) -> None:
        self.goid = goid

    def __repr__(self) -> str:
        return f"goroutine {self.goid}"


class _Probe(Exception):
    pass


class _ProbeObject:
    def __del__(self) -> None:
        raise _Probe


_hookargs_type: Any = None


def _unraisable_hook_args_type() -> Any:
    """sys.UnraisableHookArgs, which CPython does not export: the type of what the hook gets
    for an exception in a __del__. Anything else the hook would have seen meanwhile (another
    thread's report) is passed on to it."""
    global _hookargs_type
    if _hookargs_type is None:
        seen: list[Any] = []
        hook = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            _ProbeObject()
        finally:
            sys.unraisablehook = hook
        for args in seen:
            if args.exc_type is _Probe:
                _hookargs_type = type(args)
            else:
                hook(args)
    return _hookargs_type


def unraisable(exc: BaseException, gp: G) -> None:
    """Report exc, raised by the finally blocks of gp while it was being killed, through
    sys.unraisablehook, as CPython reports an exception it cannot raise anywhere."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is proc.goroutine_body.__code__:
        tb = tb.tb_next  # the runtime's frame, where it was caught: the report starts in user code
    args = _unraisable_hook_args_type()((type(exc), exc, tb, None, _Goroutine(gp.goid)))
    # Every M kills its goroutines at once: one report at a time keeps each readable.
    with _reportlock:
        try:
            sys.unraisablehook(args)
        except BaseException:  # as CPython: a failing hook must not break the exit
            sys.stderr.write(f"Exception ignored in sys.unraisablehook: {sys.unraisablehook!r}\n")


_reportlock = threading.Lock()
