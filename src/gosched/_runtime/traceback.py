"""Goroutine dumps in Go's format. Follows go/src/runtime/traceback.go (goroutineheader,
traceback, printcreatedby).

    goroutine 7 [chan receive, locked to thread]:
    __main__.worker(...)
    <TAB>/path/to/script.py:12
    created by __main__.main in goroutine 1
    <TAB>/path/to/script.py:20

Frames are listed innermost first, as Go prints them. The runtime's own frames are left out, as
Go leaves out runtime frames unless GOTRACEBACK=system: everything in gosched._runtime, the
private helpers of gosched's public modules, the command line's wrapper and runpy. The public
functions of gosched's modules stay, as Go shows sync.(*WaitGroup).Wait.

Where the frames come from: a parked or runnable-but-started G from its greenlet's gr_frame
(readable from any thread); a running G from its thread's current frame
(sys._current_frames), or the caller's frame when it dumps itself; an unstarted G shows its
function's first line. The frames of a G running on another thread are a snapshot of a moving
target, as in Go.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any

from .runtime2 import GSTATUS_NAMES, G, M, _Gdead, _Grunnable, _Grunning, _Gsyscall, _Gwaiting

_HIDDEN = ("gosched._runtime", "gosched.cli", "runpy", "greenlet")


def _hidden(modname: str, name: str) -> bool:
    """The runtime's own frames: gosched._runtime and friends, and the private helpers (one
    leading underscore) of gosched's public modules. Their public methods stay, as Go shows
    sync.(*WaitGroup).Wait."""
    if modname.startswith(_HIDDEN):
        return True
    return modname.startswith("gosched.") and name.startswith("_") and not name.startswith("__")


def _qualname(code: CodeType) -> str:
    return getattr(code, "co_qualname", code.co_name)


def _modname_for_file(filename: str) -> str:
    for name, mod in list(sys.modules.items()):
        if getattr(mod, "__file__", None) == filename:
            return name
    if sys.argv and sys.argv[0] and os.path.abspath(sys.argv[0]) == os.path.abspath(filename):
        # The script `gosched run` ran, once runpy has put its own __main__ back (a report
        # made after the script's top level returned).
        return "__main__"
    return filename.rsplit("/", 1)[-1].removesuffix(".py")


def _frameline(modname: str, code: CodeType, qualname: str | None = None) -> str:
    args = "(...)" if code.co_argcount or code.co_kwonlyargcount else "()"
    return f"{modname}.{qualname or _qualname(code)}{args}"


def _frame_qualname(f: FrameType) -> str:
    code = f.f_code
    qualname = getattr(code, "co_qualname", None)
    if qualname is not None:
        return str(qualname)
    # Python 3.10: no co_qualname; a method still shows its class through self or cls.
    if code.co_argcount and code.co_varnames[0] in ("self", "cls"):
        first = f.f_locals.get(code.co_varnames[0])
        owner = first if isinstance(first, type) else type(first)
        if first is not None:
            return f"{owner.__qualname__}.{code.co_name}"
    return code.co_name


def _walk(f: FrameType | None) -> list[str]:
    out = []
    while f is not None:
        modname = f.f_globals.get("__name__", "?")
        if not _hidden(modname, f.f_code.co_name):
            out.append(_frameline(modname, f.f_code, _frame_qualname(f)))
            out.append(f"\t{f.f_code.co_filename}:{f.f_lineno}")
        f = f.f_back
    return out


def goroutineheader(gp: G, isself: bool = False) -> str:
    """Go's goroutineheader: ``goroutine N [status]:``, the wait reason for a parked goroutine,
    ``, N minutes`` once it has waited or been in a syscall that long, and ``, locked to
    thread``. gosched adds ``, waiting for M<id>`` to a runnable goroutine whose thread is
    busy in a blocking call (it started there and can run nowhere else: the sibling stall)."""
    status = gp.atomicstatus
    if isself:
        s = "running"
    elif status == _Gwaiting and gp.waitreason:
        s = gp.waitreason
    else:
        s = GSTATUS_NAMES.get(status, str(status))
    since = 0
    if status == _Gsyscall and not isself:
        mp = gp.m
        since = mp.syscallwhen if mp is not None else 0
    elif status == _Gwaiting:
        since = gp.waitsince
    if since:
        minutes = (time.monotonic_ns() - since) // 60_000_000_000
        if minutes >= 1:
            s += f", {minutes} minutes"
    if gp.lockedm is not None:
        s += ", locked to thread"
    else:
        bm = stalledon(gp)
        if bm is not None:
            s += f", waiting for M{bm.id}"
    return f"goroutine {gp.goid} [{s}]:"


def stalledon(gp: G) -> M | None:
    """The M a runnable gp waits for while that M is busy in a blocking call (gp started
    there and can run nowhere else: the sibling stall), or None."""
    if gp.atomicstatus != _Grunnable:
        return None
    bm = gp.boundm
    busy = None if bm is None else bm.curg
    if busy is not None and busy is not gp and busy.atomicstatus == _Gsyscall:
        return bm
    return None


def _frames(gp: G, self_frame: FrameType | None) -> list[str]:
    st = gp.stack
    if gp.atomicstatus in (_Grunning, _Gsyscall):
        mp = gp.m
        if mp is not None and mp.tid == threading.get_ident():
            return _walk(self_frame)
        if mp is not None:
            return _walk(sys._current_frames().get(mp.tid))
        return []
    if gp.boundm is not None and st is not None and not st.dead:
        return _walk(st.gr_frame)
    return _entry(gp.fn)


def _entry(fn: Any) -> list[str]:
    """The first line of a goroutine that has not started."""
    if fn is None:
        return []
    code = getattr(fn, "__code__", None)
    if code is None:
        return [f"{getattr(fn, '__qualname__', repr(fn))}(...)"]
    modname = getattr(fn, "__module__", None) or _modname_for_file(code.co_filename)
    return [_frameline(modname, code), f"\t{code.co_filename}:{code.co_firstlineno}"]


def line_of(code: CodeType, lasti: int) -> int:
    """The source line of bytecode offset lasti (what f_lineno computes, done only for dumps)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end and line is not None:
            return line
    return code.co_firstlineno


def _createdby(gp: G) -> list[str]:
    code = gp.gocode
    if code is None:
        return []
    line = line_of(code, gp.gopc)
    modname = _modname_for_file(code.co_filename)
    parent = f" in goroutine {gp.parentGoid}" if gp.parentGoid else ""
    return [
        f"created by {modname}.{_qualname(code)}{parent}",
        f"\t{code.co_filename}:{line}",
    ]


def goroutine_traceback(gp: G, self_frame: FrameType | None = None) -> str:
    isself = self_frame is not None and gp.m is not None and gp.m.tid == threading.get_ident()
    isself = isself and gp.atomicstatus in (_Grunning, _Gsyscall)
    lines = [goroutineheader(gp, isself)]
    lines += _frames(gp, self_frame)
    lines += _createdby(gp)
    return "\n".join(lines)


def dumpall(gs: list[G], self_frame: FrameType | None = None) -> str:
    """Every live goroutine in gs, blank lines between them (Go's tracebackothers order)."""
    return (
        "\n\n".join(goroutine_traceback(gp, self_frame) for gp in gs if gp.atomicstatus != _Gdead)
        + "\n"
    )


def goroutineDump(self_frame: FrameType | None) -> str:
    """Every goroutine in Go's dump format, the calling goroutine first (Go's runtime.Stack
    with all=true); self_frame is where the caller's own frames start."""
    from .proc import getg
    from .runtime2 import sched

    gs = list(sched.allgs)
    gp = getg()
    if gp is not None and gp in gs:
        gs.remove(gp)
        gs.insert(0, gp)
    return dumpall(gs, self_frame)
