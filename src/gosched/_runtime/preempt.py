"""Asynchronous preemption of Python code, on CPython 3.12+. Follows go/src/runtime/preempt.go and
the signal half of it in signal_unix.go (preemptM, doSigPreempt, asyncPreempt).

Go's sysmon preempts a goroutine that runs for 10 ms without reaching a safe point by sending its
thread a signal; the handler checks that the goroutine is at an async safe point and makes it
call asyncPreempt, which switches to g0 and queues the goroutine (gopreempt_m). Python code
cannot be interrupted from another thread either, but ``sys.monitoring`` gives the same shape:

- sysmon (``check``) finds a goroutine that has run user code for ``forcePreemptNS`` with its
  token taken (``_Gsyscall``: it has not entered the runtime since sysmon's first look at it) and
  arms local LINE and JUMP events on the code objects of that goroutine's frames (read with
  ``sys._current_frames``). Local events cost nothing to code that is not armed, so a goroutine
  blocked in C costs nobody anything while armed; the frames are read again at every look, so
  Python code that C calls back (``map`` with a lambda) is armed as soon as it is seen.
- The callback runs on whichever thread executes armed code. On any thread but the target's,
  or in any greenlet but the target's, it returns at once. On the target, it checks that the
  goroutine is at a safe point: the event fired in user code, and every gosched frame below it
  is one that calls user code with nothing held (``usercaller``; the goroutine body at the
  base). The runtime's own code and the public modules are never safe points: their raw locks
  must not be held across a switch. Then it disarms and goes through the door into the runtime,
  which yields as Gosched does (proc.asyncpreempt): the goroutine goes to the global queue and
  its M schedules.
- The callback never returns DISABLE for user code (that would disable the location for every
  thread until restart_events). It does return it for gosched's own code, which is never a
  safe point.

Two facts about CPython shape the callback (measured on 3.12.1 and 3.13.0, see HACKING.md):

- A monitoring callback runs with the thread state's tracing counter raised, which suppresses
  every event on the thread. A greenlet switch does not save that counter, so a goroutine that
  switched away inside the callback would leave every other goroutine of its thread
  unmonitored. The callback lowers the counter around the switch (PyThreadState_LeaveTracing /
  EnterTracing, public C API since 3.11, through ctypes) and raises it again when resumed.
- An exception raised by a JUMP (or BRANCH) callback skips the except and finally blocks of the
  frame it fires in; from a LINE or INSTRUCTION callback it does not. A preempted goroutine may
  have to raise when it resumes (it is killed at exit, or goroutine 1 gets a Ctrl-C): after a
  LINE event it raises in the callback; after a JUMP it arms a local INSTRUCTION event on that
  frame's code and raises from there, at the next instruction.

At the end of the program (``killrunning``, from startexit) every goroutine still running user
code is armed at once: a loop that never calls gosched is killed where it runs, in a ``with``
body too (the kill is raised in place, with no switch, so a lock it holds is released by the
unwinding), and a goroutine that is already dying is never preempted, so that its finally
blocks run to their end (a preemption would take it into the runtime, which abandons it).

Invariants: ``_targets`` and ``_armed`` are changed under ``_lock`` (sysmon arms, the target's
thread disarms); the callback reads ``_targets`` without the lock (one dict lookup, the common
case). A goroutine is armed only while it is ``_Gsyscall``; sysmon disarms it as soon as it is
not, and every look re-arms from the current frames.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from . import proc
from . import sysmon as _sysmon  # sysmon imports this module: read its names at call time
from .godebug import debug
from .runtime2 import M_GOROUTINES, _Gsyscall, _Psyscall, sched

if TYPE_CHECKING:
    from .runtime2 import G

# Where gosched's own code lives: never a safe point.
_PKGDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

# Code objects of gosched functions that call user code holding nothing (goroutine bodies and
# the wrappers of the public modules, see usercaller): a goroutine may be preempted in user code
# that they called.
_SAFE_CALLERS: set[CodeType] = set()

_monitoring: Any = getattr(sys, "monitoring", None)

enabled = False  # this run preempts: 3.12+, GODEBUG allows it, and a tool id was free
_tool = -1
_EVENTS = 0
_DISABLE: Any = None

_lock = threading.Lock()
_targets: dict[int, G] = {}  # thread ident -> the goroutine to preempt there
_armed: dict[CodeType, int] = {}  # code object -> how many targets armed it
# thread ident -> what to raise after a JUMP, in which code object's next instruction
_raises: dict[int, tuple[G, BaseException, CodeType]] = {}

_get_ident = threading.get_ident
_nanotime = time.monotonic_ns

_api: Any = None


_F = TypeVar("_F")


def usercaller(fn: _F) -> _F:
    """Mark a gosched function that calls user code with no lock held (a decorator): user code
    it calls may be preempted (module docstring)."""
    _SAFE_CALLERS.add(fn.__code__)  # type: ignore[attr-defined]
    return fn


def _load_api() -> Any:
    import ctypes

    api = ctypes.pythonapi
    api.PyThreadState_Get.restype = ctypes.c_void_p
    api.PyThreadState_Get.argtypes = []
    api.PyThreadState_EnterTracing.restype = None
    api.PyThreadState_EnterTracing.argtypes = [ctypes.c_void_p]
    api.PyThreadState_LeaveTracing.restype = None
    api.PyThreadState_LeaveTracing.argtypes = [ctypes.c_void_p]
    return api


def start() -> None:
    """At the start of a run (schedinit): take a free sys.monitoring tool id, if this Python
    has sys.monitoring and GODEBUG=asyncpreemptoff=1 is not set."""
    global enabled, _tool, _EVENTS, _DISABLE, _api
    enabled = False
    if _monitoring is None or debug.asyncpreemptoff or debug.sysmonoff:
        return
    if _api is None:
        try:
            _api = _load_api()
        except (ImportError, AttributeError, OSError):
            return
    mon = _monitoring
    for tool in (4, 3, 5, 2, 1, 0):  # the free ids first, then the ones tools rarely take
        if mon.get_tool(tool) is None:
            break
    else:
        return
    mon.use_tool_id(tool, "gosched preemption")
    ev = mon.events
    _EVENTS = ev.LINE | ev.JUMP
    _DISABLE = mon.DISABLE
    mon.register_callback(tool, ev.LINE, _line)
    mon.register_callback(tool, ev.JUMP, _jump)
    mon.register_callback(tool, ev.INSTRUCTION, _instruction)
    _tool = tool
    enabled = True


def stop() -> None:
    """At the end of a run: disarm everything and give the tool id back."""
    global enabled, _tool
    if _tool < 0:
        return
    mon = _monitoring
    with _lock:
        for tid in list(_targets):
            _disarm_locked(tid)
        pending = [code for _, _, code in _raises.values()]
        _raises.clear()
    for code in pending:
        try:
            mon.set_local_events(_tool, code, 0)
        except ValueError:
            pass
    mon.free_tool_id(_tool)
    _tool = -1
    enabled = False


# ---------------------------------------------------------------------------------------------
# sysmon's side


def check(now: int, gilwait: int = 0) -> int:
    """One look (from sysmon): arm the goroutines whose time slice is over, or will be over
    before sysmon could look again (see below), and that have been running user code since
    sysmon's first look at them (``_Gsyscall``: no runtime call since); disarm the ones that
    came back. Returns when the next slice not yet armed ends (0 if none), for sysmon to plan
    its next look.

    A slice starts when its P's schedtick changed (sysmon's sysmontick, which takes a preemption
    as the start of the next slice); a goroutine whose P was handed off meanwhile has no slice,
    and counts from sysmon's first look at it instead.

    sysmon cannot look when it likes: while a loop holds the GIL, sysmon gets it back only when
    the interpreter's switch interval forces the loop to let go (5 ms, and up to twice that on a
    busy machine). ``gilwait`` is how long that took lately. A slice that ends within ``_EARLY``,
    or too soon for a look after this one to come within ``_EARLY`` of its end, is preempted
    now: a slice ends up to a GIL wait short rather than a GIL wait long."""
    forcePreemptNS = _sysmon.forcePreemptNS
    cands: dict[int, G] = {}
    nextdue = 0
    window = max(_EARLY, gilwait - _EARLY)
    for mp in list(sched.allm):
        if mp.kind != M_GOROUTINES:
            continue
        gp = mp.curg
        if gp is None or gp.atomicstatus != _Gsyscall or gp.inblocking:
            continue
        pp = mp.oldp
        if pp is not None and pp.status == _Psyscall and pp.m is None:
            start = max(pp.sysmontick.schedwhen, 1)
        else:
            start = mp.syscallwhen
        due = start + forcePreemptNS
        if due - window > now:
            if nextdue == 0 or due < nextdue:
                nextdue = due
            continue
        cands[mp.tid] = gp
    if not cands and not _targets:
        return nextdue
    with _lock:
        if sched.exiting is not None:
            return 0  # killrunning's arms stay
        for tid, gp in list(_targets.items()):
            if cands.get(tid) is not gp:
                _disarm_locked(tid)
    if not cands:
        return nextdue
    frames = sys._current_frames()
    for tid, gp in cands.items():
        f = frames.get(tid)
        if f is not None:
            _arm(tid, gp, f)
    del frames
    # A goroutine is about to be switched out: the next one's slice starts then, and may be a
    # loop too. Look in time for its end.
    soon = now + forcePreemptNS
    return soon if nextdue == 0 or soon < nextdue else nextdue


# A slice that ends within this of a look is preempted at that look (check).
_EARLY = 1_000_000
# sysmon plans its look this long before a slice's end: a GIL wait a little shorter than the
# last ones then still finds the slice within _EARLY of its end, not over it.
AIM = 500_000
lastyield = 0  # when a goroutine was last preempted (nanotime): the next slice starts then


def _arm(tid: int, gp: G, f: FrameType | None, everyuserframe: bool = False) -> None:
    """Arm the code objects of the user frames from f down to the first gosched frame that is
    no safe point (or of all of them), for the goroutine gp on thread tid."""
    codes = []
    while f is not None:
        code = f.f_code
        if code.co_filename.startswith(_PKGDIR):
            if code not in _SAFE_CALLERS and not everyuserframe:
                break
        else:
            codes.append(code)
        f = f.f_back
    mon = _monitoring
    with _lock:
        if _targets.get(tid) is not gp:
            if tid in _targets:
                _disarm_locked(tid)
            _targets[tid] = gp
            _armedby[tid] = []
        mine = _armedby[tid]
        for code in codes:
            if code in mine:
                continue
            mine.append(code)
            n = _armed.get(code, 0)
            _armed[code] = n + 1
            if n == 0:
                mon.set_local_events(_tool, code, _events(code))


_armedby: dict[int, list[CodeType]] = {}  # thread ident -> the code objects armed for it


def _disarm_locked(tid: int) -> None:
    _targets.pop(tid, None)
    mon = _monitoring
    for code in _armedby.pop(tid, ()):
        n = _armed[code] - 1
        if n:
            _armed[code] = n
        else:
            del _armed[code]
            mon.set_local_events(_tool, code, _events(code))


def _events(code: CodeType) -> int:
    """The local events code needs (under _lock): LINE and JUMP while a target armed it, and
    INSTRUCTION while a thread has an exception to raise at its next instruction. Code objects
    are shared by every thread that runs them (loopers of one function), so one thread's
    disarming must not drop what another thread still waits for."""
    ev = _EVENTS if code in _armed else 0
    for _, _, c in _raises.values():
        if c is code:
            return ev | _INSTRUCTION()
    return ev


def disarmall() -> None:
    """Disarm every goroutine (sysmon sleeps deeply, or ends); not while the program ends, when
    the goroutines still running are armed to be killed (killrunning)."""
    if not _targets or sched.exiting is not None:
        return
    with _lock:
        for tid in list(_targets):
            _disarm_locked(tid)


def killrunning() -> None:
    """The program is ending (startexit): arm every goroutine that may be running user code,
    due at once, so that a loop that never enters the runtime gets its kill where it runs.
    One that is in the runtime gets it at the door first, and is never preempted after."""
    if not enabled:
        return
    frames = sys._current_frames()
    for mp in list(sched.allm):
        gp = mp.curg
        if mp.kind != M_GOROUTINES or gp is None or gp.killed or gp.inblocking:
            continue
        # Its own frames, whether it runs (its thread's) or is switched out (its greenlet's):
        # the thread may be in the runtime, or in a callback of this module, on its way back
        # to the loop. Every user frame of it is armed, not only those above the innermost
        # gosched frame: the loop is below that one then.
        st = gp.stack
        f = st.gr_frame if st is not None else None
        if f is None:
            f = frames.get(mp.tid)
        if f is not None:
            _arm(mp.tid, gp, f, everyuserframe=True)
    del frames


# ---------------------------------------------------------------------------------------------
# The target's side: the callbacks


def _line(code: CodeType, line: int) -> Any:
    gp = _targets.get(_get_ident())
    if gp is None:
        return None
    return _event(gp, code, False)


def _jump(code: CodeType, src: int, dst: int) -> Any:
    gp = _targets.get(_get_ident())
    if gp is None:
        return None
    return _event(gp, code, True)


def _event(gp: G, code: CodeType, jump: bool) -> Any:
    if code.co_filename.startswith(_PKGDIR):
        return _DISABLE  # never a safe point, for any thread: stop firing here
    from greenlet import getcurrent

    if getcurrent() is not gp.stack:
        return None
    tid = _get_ident()
    if gp.killed:  # dying: its finally blocks run to their end (module docstring)
        with _lock:
            if _targets.get(tid) is gp:
                _disarm_locked(tid)
        return None
    f = sys._getframe(2)
    if not safepoint(f):
        return None
    if sched.exiting is None and inwith(f):
        return None
    with _lock:
        if _targets.get(tid) is not gp:
            return None
        _disarm_locked(tid)
    global lastyield
    lastyield = _nanotime()
    api = _api
    ts = api.PyThreadState_Get()
    api.PyThreadState_LeaveTracing(ts)
    try:
        exc = proc.asyncpreempt(gp)
    finally:
        api.PyThreadState_EnterTracing(ts)
    if exc is None:
        return None
    if not jump:
        raise exc
    # Raised here it would skip this frame's handlers (module docstring): raise it at the
    # frame's next instruction instead.
    with _lock:
        _raises[tid] = (gp, exc, code)
        _monitoring.set_local_events(_tool, code, _events(code))
    return None


def _INSTRUCTION() -> int:
    return int(_monitoring.events.INSTRUCTION)


def _instruction(code: CodeType, offset: int) -> Any:
    tid = _get_ident()
    pending = _raises.get(tid)
    if pending is None:
        return None
    from greenlet import getcurrent

    gp, exc, where = pending
    if getcurrent() is not gp.stack or code is not where:
        return None
    with _lock:
        del _raises[tid]
        _monitoring.set_local_events(_tool, code, _events(code))
    raise exc


def inwith(f: FrameType | None) -> bool:
    """Whether a frame from f down is in the body of a ``with`` statement. Its context manager
    may be a thread's lock (``with threading.Lock():``, logging's handlers, queue.Queue):
    switched out while holding it, the goroutine would leave it held, and the next goroutine of
    its thread that takes it would block the thread, with the holder unable to run again on it.
    So a loop inside a ``with`` is not preempted (one that calls acquire() and release() itself
    still can be: the documented hazard)."""
    while f is not None:
        code = f.f_code
        if not code.co_filename.startswith(_PKGDIR):
            ranges = _withranges.get(code)
            if ranges is None:
                ranges = _withranges[code] = _with_ranges(code)
            lasti = f.f_lasti
            for start, end in ranges:
                if start <= lasti < end:
                    return True
        f = f.f_back
    return False


_withranges: dict[CodeType, tuple[tuple[int, int], ...]] = {}


def _with_ranges(code: CodeType) -> tuple[tuple[int, int], ...]:
    """The bytecode ranges of code's ``with`` bodies: exception-table entries whose handler
    begins PUSH_EXC_INFO, WITH_EXCEPT_START (3.11-3.13), each stretched over the call of
    ``__exit__`` that follows the body (a LINE event fires before it, the lock still held)."""
    import dis

    bc = dis.Bytecode(code)
    ops = [(i.offset, i.opname) for i in bc]
    index = {off: k for k, (off, _) in enumerate(ops)}
    out = []
    for e in bc.exception_entries:  # type: ignore[attr-defined]
        k = index.get(e.target)
        if k is None or not any(op == "WITH_EXCEPT_START" for _, op in ops[k : k + 3]):
            continue
        end = e.end
        j = next((i for i, (off, _) in enumerate(ops) if off >= e.end), len(ops))
        for off, op in ops[j : j + 8]:
            if op == "CALL":
                end = off + 2
                break
        out.append((e.start, end))
    return tuple(out)


def safepoint(f: FrameType | None) -> bool:
    """Whether a goroutine whose innermost frame is f may be preempted there: every gosched
    frame from f down to the goroutine's base calls user code holding nothing."""
    while f is not None:
        code = f.f_code
        if code.co_filename.startswith(_PKGDIR) and code not in _SAFE_CALLERS:
            return False
        f = f.f_back
    return True
