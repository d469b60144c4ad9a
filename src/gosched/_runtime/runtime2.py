"""The scheduler's structures: G, M, P and schedt. Follows go/src/runtime/runtime2.go.

Every struct is a slotted class with Go's field names; the comment on each field says who may
write it. Three kinds of ownership cover almost everything:

- "owner M" fields of a P are written only by the M that owns the P (``pp.m``). Ownership moves
  only through ``acquirep``/``releasep`` or by taking the owner's claim token (below).
- "sched.lock" fields are written with ``sched.lock`` held. Some are read without it, as in Go,
  where a stale value only costs a retry (``sched.npidle``, ``sched.runqsize``).
- G fields are written by whoever owns the G in its current status (see the status table).

The claim token (DESIGN decision 4). Python code between two runtime calls cannot be interrupted,
so the runtime treats it as Go treats a syscall: when an M switches into a goroutine it puts its P
into ``mp.psyscall`` (a list of at most one element), and every runtime entry pops it back
(``exitsyscall``'s fast path, one atomic list operation). Whoever pops the token owns the P: the M
itself on its way back into the runtime, or, with ``sched.lock`` held, a thread that retakes the P
(stop-the-world, the runtime's exit, and sysmon). An M whose token was taken finds the list empty
and goes the slow way (``exitsyscall_slow``). Because the list belongs to the M, no other M's token
can ever be found in it, so there is no ABA problem.

While the token is out, the P's ``status`` stays ``_Prunning`` and the G's ``_Grunning``: leaving
and entering the runtime costs two list operations and nothing else. Go's entersyscall marks the
P ``_Psyscall`` and the G ``_Gsyscall`` at once; here whoever takes the token does that marking
instead (``proc._taketoken``): sysmon, at its first look at a P whose M is in user code (Go's
sysmon stamps a syscall at its first look too, and retakes it at a later one), stop-the-world and
the exit. So a G is ``_Gsyscall`` exactly while it runs user code with its token taken, and its
next runtime entry (exitsyscall_slow) makes it ``_Grunning`` again, on its old P if that P is
still ``_Psyscall``, else on any idle P, else it waits as Go's exitsyscall0 does.

Goroutine stacks are greenlets bound to the thread that first runs them (DESIGN decision 2), so a
started G carries ``boundm``: only that M may resume it. Anyone else who finds it runnable hands it
over with ``startlockedm`` (proc.py), exactly as Go does for goroutines locked to a thread.

Lock order
----------
This is the one place the lock order is written down.

1. ``sched.lock``, then ``sched.gFree_lock`` or a P's ``timersLock`` (procresize moves timers
   with sched.lock held). Nothing else is taken while ``gFree_lock`` or a ``timersLock`` is held.
2. A channel's ``lock``, a ``Sema``'s ``lock`` and a notify list's ``lock`` (sema.py) are leaves:
   nothing is taken while one is held, and whoever wakes a goroutine found under one drops it
   first (goready takes sched.lock). The one exception: a select holds the locks of all its
   channels at once, taken in ascending ``id()`` order (select.py's lock order), so two selects
   can never take them in opposite orders.
3. The state locks of the public modules (sync.py, context.py) are leaves too, and are never held
   while entering the runtime: their types park and wake goroutines only after dropping them.
4. trace.py's ``fnlock`` is a leaf: taken with nothing else taken inside it, under whatever
   lock the goroutine's creator holds.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from types import CodeType
from typing import TYPE_CHECKING, Any

from .os_thread import Note

if TYPE_CHECKING:
    from .stack import Stack

# G status (runtime2.go:37). Who owns the G and its stack in each status:
#   _Gidle      just allocated by malg, not initialised; owner: the allocating M.
#   _Grunnable  on a run queue, a mailbox or being handed over; not running; owner: the queue.
#   _Grunning   executing on gp.m, which owns it; its M holds a P (possibly as a claim token
#               while user code runs).
#   _Gsyscall   runs user code on gp.m, whose token was taken (see above) or which handed its P
#               off (gosched.blocking); has an M and no P; its own M makes it _Grunning again.
#   _Gwaiting   parked by gopark; whoever parked it (the wait queue) must ready it.
#   _Gdead      on a free list or being created/destroyed; owner: the P or list holding it.
_Gidle = 0
_Grunnable = 1
_Grunning = 2
_Gsyscall = 3
_Gwaiting = 4
_Gdead = 6

GSTATUS_NAMES = {
    _Gidle: "idle",
    _Grunnable: "runnable",
    _Grunning: "running",
    _Gsyscall: "syscall",
    _Gwaiting: "waiting",
    _Gdead: "dead",
}

# Legal status transitions, checked by casgstatus (proc.go's casgstatus throws on others).
LEGAL_TRANSITIONS: dict[int, frozenset[int]] = {
    _Gidle: frozenset({_Gdead}),
    _Gdead: frozenset({_Grunnable, _Gsyscall}),  # _Gsyscall: needm's extra G (cgocall.py)
    _Grunnable: frozenset({_Grunning}),
    _Grunning: frozenset({_Gwaiting, _Grunnable, _Gsyscall, _Gdead}),
    _Gwaiting: frozenset({_Grunnable}),
    _Gsyscall: frozenset({_Grunning, _Grunnable, _Gdead}),  # _Gdead: its plain thread ended
}

# P status (runtime2.go:107).
_Pidle = 0  # on sched.pidle with an empty run queue (runnext may hold nothing either)
_Prunning = 1  # owned by p.m; only the owner changes the status
_Psyscall = 2  # its M's token was taken by sysmon; no M owns it; sysmon may hand it off
_Pgcstop = 3  # halted by stop-the-world (and before the first procresize)
_Pdead = 4  # dropped by a GOMAXPROCS shrink; never used again

PSTATUS_NAMES = {
    _Pidle: "idle",
    _Prunning: "running",
    _Psyscall: "syscall",
    _Pgcstop: "gcstop",
    _Pdead: "dead",
}

# Wait reasons (runtime2.go waitReason strings) that this package and its users park with.
waitReasonZero = ""
waitReasonSemacquire = "semacquire"
waitReasonSyncWaitGroupWait = "sync.WaitGroup.Wait"
waitReasonChanReceive = "chan receive"
waitReasonChanSend = "chan send"
waitReasonChanReceiveNilChan = "chan receive (nil chan)"
waitReasonChanSendNilChan = "chan send (nil chan)"
waitReasonSelect = "select"
waitReasonSelectNoCases = "select (no cases)"
waitReasonSleep = "sleep"
waitReasonSyncMutexLock = "sync.Mutex.Lock"
waitReasonSyncRWMutexRLock = "sync.RWMutex.RLock"
waitReasonSyncRWMutexLock = "sync.RWMutex.Lock"
waitReasonSyncCondWait = "sync.Cond.Wait"
waitReasonIOWait = "IO wait"
waitReasonSyscall = "syscall"  # gosched.blocking(fn): parked while a helper thread runs fn
waitReasonPanicWait = "panicwait"  # main returned while another goroutine panics

# Local run queue capacity (len(p.runq) in Go).
RUNQ_SIZE = 256

# goid cache batch (proc.go _GoidCacheBatch).
GOID_CACHE_BATCH = 16


class G:
    """A goroutine (runtime2.go g)."""

    __slots__ = (
        "goid",  # set by newproc1 from the creating P's goid cache; never reused
        "atomicstatus",  # changed only through casgstatus
        "stack",  # worker greenlet (stack.Stack) or None; kept across gfput/gfget
        "boundm",  # M whose thread holds this G's frames; None until it first runs
        "m",  # M running it; set by execute, cleared by dropg
        "fn",  # the goroutine's function (Go's startpc) and arguments; cleared by gdestroy
        "args",
        "kwargs",
        "gocode",  # code object of the function whose go statement created it (None: runtime)
        "gopc",  # bytecode offset (f_lasti) of that go statement, Go's gopc
        "parentGoid",
        "waitreason",  # why it is _Gwaiting; written by gopark before parking
        "param",  # value passed to the G by whoever readies it
        "lockedm",  # M it is locked to by lock_os_thread; owner: the G itself
        "panic",  # exception that escaped the goroutine's function, read by goexit0
        # Goexit was called (Go's g._panic with goexit set): the G ends even if its unwinding is
        # caught (proc.goexiting). Owner: the G; reset when it ends.
        "goexiting",
        # What this G is parked on, for abortpark (proc.py): its Sudog (a channel operation),
        # its select's sudogs, a Sema, a notify list, its sleep timer, or waitForever. Set by
        # whoever parks it, before gopark; owner: the G.
        "waiting",
        # An exception the G raises where it resumes (stack.py): set by whoever took its wait
        # away from its waker (a Ctrl-C for goroutine 1) or kills it at exit; cleared on raise.
        "wakeexc",
        "killed",  # the runtime is ending and has raised GreenletExit in it (exit.py)
        "selectDone",  # [token] while a select is parked: whoever pops it wins (Go's CAS)
        # It last parked or yielded with an exception in hand (an except or a finally block):
        # maybe a panic running its deferred calls (runtime_main, Go's runningPanicDefers).
        "inexc",
        "timer",  # the runtime timer gosched.sleep reuses; owner: the G
        "sudog",  # the sudog a plain channel operation reuses (Go's per-P sudog cache)
        "inblocking",  # depth of `with blocking()` bodies: sysmon does not preempt them
        "waitsince",  # when it began to wait or its syscall began (nanotime), for dumps
    )

    def __init__(self) -> None:
        self.goid = 0
        self.atomicstatus = _Gidle
        self.stack: Stack | None = None
        self.boundm: M | None = None
        self.m: M | None = None
        self.fn: Callable[..., Any] | None = None
        self.args: tuple[Any, ...] = ()
        self.kwargs: dict[str, Any] = {}
        self.gocode: CodeType | None = None
        self.gopc = 0
        self.parentGoid = 0
        self.waitreason = waitReasonZero
        self.param: Any = None
        self.lockedm: M | None = None
        self.panic: BaseException | None = None
        self.goexiting = False
        self.waiting: Any = None
        self.wakeexc: BaseException | None = None
        self.killed = False
        self.inexc = False
        self.selectDone: list[bool] | None = None  # made by the goroutine's first select
        self.timer: Any = None
        self.sudog: Sudog | None = None
        self.inblocking = 0
        self.waitsince = 0

    def __repr__(self) -> str:
        return f"<G {self.goid} {GSTATUS_NAMES.get(self.atomicstatus, self.atomicstatus)}>"


class Sudog:
    """A goroutine waiting on a channel (runtime2.go sudog). One per channel operation a parked
    goroutine is queued for; a select has one per case, linked through waitlink from
    gp.waiting. Guarded by the channel's lock while queued; after that by the goroutine that
    owns it."""

    __slots__ = (
        "g",  # the waiting goroutine
        "elem",  # value sent, or where a received value is left
        "c",  # the channel it is queued on
        "isSelect",  # part of a select: the waker must win g.selectDone first
        "success",  # True: a value was passed; False: woken by close
        "casi",  # the select case this sudog stands for
        "waitlink",  # the next sudog of the same select (Go's g.waiting list)
    )

    def __init__(self, g: G, c: Any, elem: Any, isSelect: bool, casi: int) -> None:
        self.g = g
        self.c = c
        self.elem = elem
        self.isSelect = isSelect
        self.success = False
        self.casi = casi
        self.waitlink: Sudog | None = None

    def abortwait(self, gp: G) -> bool:
        """proc.abortpark for a channel operation or a select: take gp's sudogs off their
        channels, unless a waker got to it first (a select: won its selectDone)."""
        sgs: list[Sudog] = []
        sg: Sudog | None = self
        while sg is not None:
            sgs.append(sg)
            sg = sg.waitlink
        byid = {id(sg.c): sg.c for sg in sgs}
        locks = [byid[k].lock for k in sorted(byid)]  # select's lock order
        for lk in locks:
            lk.acquire()
        try:
            if not self.isSelect:
                return self.dequeueSudoG()  # False: a waker dequeued it and has gp
            try:
                gp.selectDone.pop()  # type: ignore[union-attr]
            except IndexError:  # a waker won the select
                return False
            for sg in sgs:
                sg.dequeueSudoG()
            return True
        finally:
            for lk in reversed(locks):
                lk.release()

    def dequeueSudoG(self) -> bool:
        """Take this sudog off its channel's queue (recvq or sendq), if it is still there (Go's
        waitq.dequeueSudoG). The channel's lock is held."""
        c = self.c
        try:
            c.recvq.remove(self)
        except ValueError:
            try:
                c.sendq.remove(self)
            except ValueError:  # a waker dequeued it
                return False
        return True


class _WaitForever:
    """gp.waiting of a goroutine that nothing can wake (the nil channel, ``select {}``)."""

    __slots__ = ()

    def abortwait(self, gp: G) -> bool:
        return True

    def __repr__(self) -> str:
        return "waitForever"


waitForever = _WaitForever()


class M:
    """An OS thread that runs goroutines (runtime2.go m)."""

    __slots__ = (
        "id",  # from sched.mnext under sched.lock
        "g0",  # the greenlet running schedule() on this thread
        "curg",  # G running on this M; owner: this M
        "p",  # P this M owns, or None; owner: this M (or a retaker under sched.lock)
        "nextp",  # P handed to this M before waking it; written under sched.lock
        "oldp",  # P this M held when its token was taken (for the exitsyscall slow path)
        "psyscall",  # claim token: [P] while a goroutine runs user code, else []
        "thread",  # threading.Thread, or None for m0
        "spinning",  # looking for work without having found it; nmspinning counts these
        "blocked",  # parked on its note
        "park",  # Note the M sleeps on when idle
        "idle",  # on sched.midle; guarded by sched.lock
        "lockedidle",  # parked in stoplockedm (counted in nmidlelocked); guarded by sched.lock
        "mailbox",  # runnable Gs bound to this M handed over by other Ms; appended under sched.lock
        "lockedg",  # G locked to this thread by lock_os_thread
        "lockedExt",  # lock_os_thread nesting count
        "retired",  # a locked G exited on it: it runs only its bound Gs, then its thread ends
        "nbound",  # live Gs bound to this M (started, not yet dead); owner: this M
        "freestacks",  # started worker greenlets of this thread with no G; appended by any thread
        "waitunlockf",  # gopark's unlock function, run by park_m on g0
        "waitlock",
        # A request that the goroutine running here stop at its next safe point (the runtime
        # door, proc.leave; an idle M: its next look around). Only a flag: the reasons are
        # sched.exiting (every M) and sched.sigint (m0). Set by whoever makes a reason, after
        # making it; cleared only by this M, before it re-reads the reasons (proc.safepoint).
        "safepoint",
        "tid",  # thread ident, for dumps of running goroutines
        "exited",  # the thread has finished; guarded by sched.lock
        # sysmon asks the goroutine running here to yield (Go's gp.preempt): the schedtick of
        # the time slice to end, or -1, and the goroutine it saw running. Kept on the M so that
        # execute need not clear it (Go clears gp.preempt there): the request lapses when another
        # goroutine reaches the safe point first, or a new slice began, and sysmon asks again at
        # its next look if the slice is still stale. So the goroutine that yields is whichever
        # was running when sysmon looked, as in Go, not whichever leaves the runtime next (a
        # partner that readied its runnext pair and yields would leave the pair running on in
        # the old slice). Set with mp.safepoint by sysmon's preemptone; read and cleared by
        # proc.safepoint.
        "preempt",
        "preemptg",
        "syscallwhen",  # when sysmon took this M's token (nanotime); written under sched.lock
        "kind",  # what the thread is for: M_GOROUTINES, M_SYSMON or M_HELPER (blocking(fn))
        "helperjob",  # M_HELPER: the blocking(fn) call to run next (blocking.Job)
        # Execution-trace events (trace.py), flat: ts, code, args, ts, ... Extended without a
        # lock (one extend is atomic), by this M's thread and now and then by sysmon.
        "tracebuf",
    )

    def __init__(self) -> None:
        self.id = -1
        self.g0: Any = None
        self.curg: G | None = None
        self.p: P | None = None
        self.nextp: P | None = None
        self.oldp: P | None = None
        self.psyscall: list[P] = []
        self.thread: threading.Thread | None = None
        self.spinning = False
        self.blocked = False
        self.park = Note()
        self.idle = False
        self.lockedidle = False
        self.mailbox: collections.deque[G] = collections.deque()
        self.lockedg: G | None = None
        self.lockedExt = 0
        self.retired = False
        self.nbound = 0
        self.freestacks: list[Stack] = []
        self.waitunlockf: Callable[[G, Any], bool] | None = None
        self.waitlock: Any = None
        self.safepoint = False
        self.tid = 0
        self.exited = False
        self.preempt = -1
        self.preemptg: G | None = None
        self.syscallwhen = 0
        self.kind = M_GOROUTINES
        self.helperjob: Any = None
        self.tracebuf: list[Any] = []

    def __repr__(self) -> str:
        return f"<M {self.id}>"


# M kinds. Only M_GOROUTINES Ms run goroutines and hold Ps. sysmon, the template thread and
# blocking()'s helper threads are Ms too (they count towards the thread limit and schedtrace's
# threads=), as Go's sysmon, templateThread and an M in a syscall are; checkdead leaves out
# sysmon and the template (nmsys) and idle helpers.
M_GOROUTINES = 0
M_SYSMON = 1
M_HELPER = 2
M_EXTRA = 3  # a plain thread that called into the runtime (cgocall.py), locked to its own G
M_TEMPLATE = 4  # starts the Ms that a locked thread asks for (proc.templateThread)
M_KINDS = {
    M_GOROUTINES: "goroutines",
    M_SYSMON: "sysmon",
    M_HELPER: "helper",
    M_EXTRA: "extra",
    M_TEMPLATE: "template",
}


class P:
    """A processor: the right to run goroutines, with its queues (runtime2.go p)."""

    __slots__ = (
        "id",
        "status",  # owner M, or sched.lock holder for idle/gcstop/dead Ps
        "m",  # owning M; changed by acquirep/releasep or a retaker under sched.lock
        "schedtick",  # incremented on every non-inherited execute
        "syscalltick",  # incremented each time its M comes back from user code after sysmon
        # marked the P _Psyscall, and each time the P is retaken (Go's: per syscall exit)
        "sysmontick",  # what sysmon saw at its last look (SysmonTick); sysmon's thread only
        "goidcache",  # next goid to hand out; owner M
        "goidcacheend",
        "runq",  # deque of runnable Gs, at most RUNQ_SIZE; owner appends/pops left, stealers remove
        "runnext",  # [G] or []: the G to run next, inheriting the time slice
        "gFree",  # dead Gs (with their stacks) for gfget; owner M
        "timers",  # heap of (when, seq, gen, timer); guarded by timersLock
        "timersLock",
        "timer0When",  # when of the heap's top entry (may be stale-early), 0 if empty
        "ntimers",  # active timers in the heap (stale entries excluded); guarded by timersLock
    )

    def __init__(self, id: int) -> None:
        self.id = id
        self.status = _Pgcstop
        self.m: M | None = None
        self.schedtick = 0
        self.syscalltick = 0
        self.sysmontick = SysmonTick()
        self.goidcache = 0
        self.goidcacheend = 0
        self.runq: collections.deque[G] = collections.deque()
        self.runnext: list[G] = []
        self.gFree: list[G] = []
        self.timers: list[Any] = []
        self.timersLock = threading.Lock()
        self.timer0When = 0
        self.ntimers = 0

    def __repr__(self) -> str:
        return f"<P {self.id} {PSTATUS_NAMES.get(self.status, self.status)}>"


class SysmonTick:
    """What sysmon last saw of a P (Go's sysmontick): its ticks, and when each last changed."""

    __slots__ = ("schedtick", "schedwhen", "syscalltick", "syscallwhen")

    def __init__(self) -> None:
        self.schedtick = 0
        self.schedwhen = 0
        self.syscalltick = 0
        self.syscallwhen = 0


class Sched:
    """Global scheduler state (runtime2.go schedt), plus Go's package-level scheduler globals."""

    __slots__ = (
        "lock",
        "goidgen",  # guarded by lock
        "lastpoll",
        "midle",  # idle Ms, LIFO; guarded by lock
        "nmidle",
        "nmidlelocked",
        "mnext",
        "maxmcount",
        "nmfreed",
        "nmsys",  # Ms that never run goroutines and are left out of checkdead: sysmon
        "sysmonwait",  # sysmon sleeps deeply (every P idle); acquirep wakes it; under lock
        # sysmon sleeps 1 ms or more between looks (sysmon.py). No lock: set and cleared by
        # sysmon around the sleep, cleared by kick; a stale value costs a wake-up or a look.
        "sysmonnap",
        "sysmonm",  # sysmon's M, or None when GODEBUG turns it off
        "pidle",  # idle Ps, LIFO; guarded by lock
        "npidle",  # read without lock for fast checks
        "nmspinning",  # guarded by lock
        "needspinning",
        "runq",  # global run queue; guarded by lock
        "gFree_lock",  # guards gFree_stack and gFree_noStack (Go's sched.gFree.lock)
        "gFree_stack",  # global free Gs with stacks
        "gFree_noStack",
        "gcwaiting",  # stop-the-world requested
        "stopwait",  # Ps still to stop
        "stopnote",  # the stop-the-world initiator sleeps here
        "worldsema",  # Sema(1) that serialises stop-the-world; parks the waiting G
        "gomaxprocs",  # Go's global gomaxprocs
        "ncpu",
        "mainStarted",
        "exiting",  # why the runtime is stopping (an ExitReason), or None; set once, under lock
        "sigint",  # a Ctrl-C not yet raised in goroutine 1 (signal.py); set by the handler
        "maing",  # goroutine 1 (Go's main goroutine), which Ctrl-C is raised in
        "script",  # goroutine 1 runs a script for `gosched run`: run() there just calls main
        "allgs",  # every G ever allocated, in creation order; list.append is atomic, readers copy
        "allm",  # every live M, newest first; guarded by lock
        "freem",  # Ms whose thread has ended (mexit); guarded by lock
        "allp",  # Ps by id; replaced only with the world stopped
        "stealOrder",
        "pollerm",  # the M sleeping until the next timer (Go's netpoll-blocked M); under lock
        "pollUntil",  # when that M will wake, 0 if none
        "helpersidle",  # idle blocking(fn) helpers (M_HELPER), LIFO; guarded by lock
        "nmidlehelper",  # len(helpersidle): left out of checkdead, as idle Ms are
        "maxthreads",  # debug.set_max_threads: for the process's life, maxmcount at each start
        "epoch",  # a new object each run: a helper abandoned by a finished run knows it
        "nfutures",  # from_future channels whose future is not done; under lock
        # The Thread objects alive when the run began (checkdead): objects, not idents, which
        # pthread reuses once a thread ends, so a new thread could pass for an old one.
        "threadsatstart",
        "deadlockpending",  # checkdead saw no M running, but a thread or future may help
        # Goroutines whose function an exception escaped in this run (Go's panicking, never
        # lowered): main's return waits for good once it is set (proc._waitpanics). Raised
        # under sched.lock; read without it.
        "panicking",
        "nextradead",  # Gs of plain threads that ended (in allgs, dead, never reused)
        # An execution trace is recording (trace.py): the one flag event sites test. Written
        # under lock by trace.start/stop; read without it (an event more or less at the edges).
        "tracing",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gFree_lock = threading.Lock()
        self.stopnote = Note()
        self.maxthreads = 10000
        self.reset()

    def reset(self) -> None:
        """Back to the state before schedinit, so that gosched.run can be called again."""
        safepoints.requested = False
        self.goidgen = 0
        self.lastpoll = 0
        self.midle: list[M] = []
        self.nmidle = 0
        self.nmidlelocked = 0
        self.mnext = 0
        self.maxmcount = self.maxthreads
        self.nmfreed = 0
        self.nmsys = 0
        self.sysmonwait = False
        self.sysmonnap = False
        self.sysmonm: M | None = None
        self.pidle: list[P] = []
        self.npidle = 0
        self.nmspinning = 0
        self.needspinning = 0
        self.runq: collections.deque[G] = collections.deque()
        self.gFree_stack: list[G] = []
        self.gFree_noStack: list[G] = []
        self.gcwaiting = False
        self.stopwait = 0
        self.gomaxprocs = 0
        self.ncpu = 1
        self.mainStarted = False
        self.exiting: Any = None
        self.sigint = False
        self.maing: G | None = None
        self.script = False
        self.allgs: list[G] = []
        self.allm: list[M] = []
        self.freem: list[M] = []
        self.allp: list[P] = []
        self.stealOrder = RandomOrder()
        self.pollerm: M | None = None
        self.pollUntil = 0
        self.worldsema = Sema(1)
        self.helpersidle: list[M] = []
        self.nmidlehelper = 0
        self.epoch = object()
        self.nfutures = 0
        self.threadsatstart: set[threading.Thread] = set()
        self.deadlockpending = False
        self.panicking = 0
        self.nextradead = 0
        self.tracing = False


class Sema:
    """A semaphore that parks goroutines: Go's sema.go semaRoot, one per semaphore instead of one
    per hashed address. ``lock`` guards both fields; sema.py holds the operations."""

    __slots__ = ("lock", "count", "waiters")

    def __init__(self, count: int = 0) -> None:
        self.lock = threading.Lock()
        self.count = count
        self.waiters: collections.deque[G] = collections.deque()

    def abortwait(self, gp: G) -> bool:
        """proc.abortpark for a goroutine in semacquire: out of the queue, unless released."""
        with self.lock:
            try:
                self.waiters.remove(gp)
            except ValueError:
                return False
        return True


class RandomOrder:
    """Visits every P once in a pseudo-random order (proc.go randomOrder).

    reset(n) keeps every i in 1..n coprime with n; start(r) walks from r % n with a stride
    chosen by r.
    """

    __slots__ = ("count", "coprimes")

    def __init__(self) -> None:
        self.count = 0
        self.coprimes: list[int] = []

    def reset(self, count: int) -> None:
        import math

        self.count = count
        self.coprimes = [i for i in range(1, count + 1) if math.gcd(i, count) == 1]

    def start(self, r: int) -> list[int]:
        count = self.count
        pos = r % count
        inc = self.coprimes[r // count % len(self.coprimes)]
        order = []
        for _ in range(count):
            order.append(pos)
            pos = (pos + inc) % count
        return order


class SafePoints:
    """Whether any M is asked to stop at its next safe point (some M's ``safepoint`` is set):
    the runtime is ending, or a Ctrl-C waits for goroutine 1. The door reads its M's own flag;
    the fast paths of the public modules that never enter the runtime (an uncontended
    Mutex.lock, WaitGroup.done, ...) read this one, and then pass through the door
    (proc.checkpoint), so that a goroutine looping on them still stops."""

    __slots__ = ("requested",)

    def __init__(self) -> None:
        self.requested = False  # set after a reason is made; settled when one is cleared


safepoints = SafePoints()

# The one scheduler of this process, as Go's `sched` is one global. schedinit resets it.
sched = Sched()
