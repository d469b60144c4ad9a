"""gosched's runtime: Go's runtime package, file by file (see HACKING.md, "Layout").

This module is the runtime's face: the one list of what it offers the public modules, which
import from here and nowhere else in this package (tests/test_structure.py checks it), as
trio's _core/__init__.py is for trio. Everything here either runs in the caller's goroutine and
goes through the door into the runtime itself (proc.runtimecall), or needs no runtime at all
(the structs a public type embeds, the wait reasons, the panics). Nothing here hands out the
scheduler's G, M or P.

The names are Go's where Go has the function (time.Sleep is the runtime's timeSleep, sync's
semaphores are sync_runtime_Semacquire, ...), and PEP 8 names for what only gosched has.
"""

from .blocking import SetMaxThreads, blockingcall, entersyscallblock, exitsyscall
from .cgocall import from_future
from .chan import Chan, NilChan, nilchan
from .exit import fatal
from .panic import Deadlock, FatalError, RuntimePanic, add_note, throw
from .preempt import usercaller
from .proc import (
    GOMAXPROCS,
    Goexit,
    Gosched,
    LockOSThread,
    NumGoroutine,
    UnlockOSThread,
    checkgoroutine,
    checkpoint,
    go,
    goid,
    ingoroutine,
    newproc,
    run,
    running,
)
from .runtime2 import (
    Sema,
    safepoints,
    waitReasonChanReceiveNilChan,
    waitReasonSelect,
    waitReasonSemacquire,
    waitReasonSyncCondWait,
    waitReasonSyncMutexLock,
    waitReasonSyncRWMutexLock,
    waitReasonSyncRWMutexRLock,
    waitReasonSyncWaitGroupWait,
)
from .schedtrace import snapshot
from .select import default, select
from .sema import (
    LEFT_HANDOFF,
    LEFT_QUEUED,
    LEFT_WOKEN,
    notifyList,
    notifyListAdd,
    notifyListForget,
    notifyListNotifyAll,
    notifyListNotifyOne,
    notifyListWait,
    sync_runtime_Semacquire,
    sync_runtime_Semrelease,
)
from .time import (
    goFunc,
    nanotime,
    newTimer,
    resetTimer,
    sendTime,
    stopTimer,
    timer,
    timeSleep,
)
from .trace import (
    StartFlightRecorder,
    StartTrace,
    StopFlightRecorder,
    StopTrace,
    WriteFlightRecorder,
    checkpath,
)
from .traceback import goroutineDump

__all__ = [
    "GOMAXPROCS",
    "LEFT_HANDOFF",
    "LEFT_QUEUED",
    "LEFT_WOKEN",
    "Chan",
    "Deadlock",
    "FatalError",
    "Goexit",
    "Gosched",
    "LockOSThread",
    "NilChan",
    "NumGoroutine",
    "RuntimePanic",
    "Sema",
    "SetMaxThreads",
    "StartFlightRecorder",
    "StartTrace",
    "StopFlightRecorder",
    "StopTrace",
    "UnlockOSThread",
    "WriteFlightRecorder",
    "add_note",
    "blockingcall",
    "checkgoroutine",
    "checkpath",
    "checkpoint",
    "default",
    "entersyscallblock",
    "exitsyscall",
    "from_future",
    "go",
    "goFunc",
    "goid",
    "goroutineDump",
    "ingoroutine",
    "nanotime",
    "newTimer",
    "newproc",
    "nilchan",
    "notifyList",
    "notifyListAdd",
    "notifyListForget",
    "notifyListNotifyAll",
    "notifyListNotifyOne",
    "notifyListWait",
    "resetTimer",
    "run",
    "running",
    "safepoints",
    "select",
    "sendTime",
    "snapshot",
    "stopTimer",
    "sync_runtime_Semacquire",
    "sync_runtime_Semrelease",
    "throw",
    "fatal",
    "usercaller",
    "timeSleep",
    "timer",
    "waitReasonChanReceiveNilChan",
    "waitReasonSelect",
    "waitReasonSemacquire",
    "waitReasonSyncCondWait",
    "waitReasonSyncMutexLock",
    "waitReasonSyncRWMutexLock",
    "waitReasonSyncRWMutexRLock",
    "waitReasonSyncWaitGroupWait",
]
