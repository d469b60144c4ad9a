"""sysmon, the system monitor. Follows go/src/runtime/proc.go: sysmon, retake, preemptone, and
sysmon's call to schedtrace (GODEBUG=schedtrace=MS; the printing is schedtrace.py's).

sysmon runs on an M of its own with no P (``M_SYSMON``), started by runtime_main as Go's
runtime.main starts it, and left out of checkdead (``sched.nmsys``). It sleeps 20 µs between
looks while it finds work; after 50 looks in a row that found none it doubles the sleep each
time, up to 10 ms. While every P is idle (or the world is stopped) it sleeps deeply, until the
next timer, or until ``acquirep`` wakes it (``sched.sysmonwait``): nothing can need it before some
P is running again. A goroutine back from a blocking call whose P was handed off also cuts a
sleep of 1 ms or more short (``kick``), and the looks start again at 20 µs. With
GODEBUG=schedtrace=MS it never sleeps deeply (Go: "so that it can print that information at
the right time"), and after a look at least MS ms after the last line it prints the next one
(the first at its first look: ``SCHED 0ms``).

Each look (retake)
------------------
- A P whose M runs user code (its token is out, runtime2.py) is in what Go would call a
  syscall: sysmon takes the token and marks the P ``_Psyscall`` and the G ``_Gsyscall``
  (proc._taketoken). This is Go's first look at a syscall, which only stamps it: the G goes on
  running, and its next runtime entry takes the P back (exitsyscall_slow) unless...
- ... a later look finds the P still ``_Psyscall``, with the same syscalltick, at least
  ``minSyscallNS`` after the first: then sysmon hands it to another M (handoffp), unless the P
  has nothing queued, some M spins or some P is idle, and the syscall began less than 10 ms ago
  (Go's retake conditions, word for word; Go waits one look, not 0.2 ms). The G's M
  keeps running the user code; when it comes back it takes an idle P, or queues its G and waits
  (exitsyscall0).
- A P whose schedtick has not moved for ``forcePreemptNS`` (10 ms) runs a goroutine, or a chain
  of goroutines handing it on through runnext, that has had its time slice: preemptone asks its
  M to yield at its next safe point (the door, proc.safepoint), and the goroutine goes to the
  global queue as Go's gopreempt_m sends it. Go retakes a P in ``_Psyscall`` instead, having
  no M to ask; sysmon asks the M of the syscall (sysmon marks a P whenever it catches its
  goroutine between two runtime calls, so the mark says little about how long it has run).
- On CPython 3.12+, a goroutine that has been in user code for 10 ms and is running Python
  (not blocked in C) is preempted asynchronously (preempt.py).

sysmon never runs goroutines and never holds a P; it takes sched.lock only for the moments Go
takes it. It reads P and M fields without locks where Go reads them atomically: a stale value
only delays a decision to the next look.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import preempt, proc
from . import time as _time
from . import trace as _trace
from .godebug import debug
from .os_thread import newosproc
from .runtime2 import M_GOROUTINES, M_SYSMON, M, _Gsyscall, _Pidle, _Prunning, _Psyscall, sched
from .schedtrace import schedtrace
from .trace import EV_PROCSTEAL

if TYPE_CHECKING:
    from .runtime2 import P

nanotime = time.monotonic_ns

# How long a goroutine (or a runnext chain) may run before it is asked to yield (proc.go).
forcePreemptNS = 10_000_000

# How long a P must stay in a syscall before sysmon hands it off. Go: one sysmon look (20 µs
# at least). A GIL hand-over takes that long and more: the goroutine sysmon looked at may not
# have had the GIL back yet (see retake).
minSyscallNS = 200_000

# Deep sleep lasts at most this long (Go's forcegcperiod / 2).
_DEEP_SLEEP_NS = 60_000_000_000


def newsysmon() -> M:
    """Start sysmon on an M of its own (runtime_main, as Go's runtime.main does)."""
    mp = M()
    mp.kind = M_SYSMON
    with sched.lock:
        proc.mcommoninit(mp, -1)
        sched.nmsys += 1
        sched.sysmonm = mp
        proc.checkdead()
    newosproc(f"gosched-M{mp.id} sysmon", lambda: _sysmon_thread(mp), mp)
    return mp


def _sysmon_thread(mp: M) -> None:
    try:
        sysmon(mp)
    except BaseException as e:  # a runtime bug on sysmon's thread ends the program
        from .exit import startexit
        from .panic import ExitReason, FatalError

        kind = ExitReason.FATAL if isinstance(e, FatalError) else ExitReason.PANIC
        startexit(ExitReason(kind, exc=e))
    finally:
        preempt.disarmall()
        with sched.lock:
            sched.nmsys -= 1
            sched.sysmonm = None
            sched.sysmonwait = False
        from .exit import mexit

        mexit(mp)


def sysmon(mp: M) -> None:
    """The monitor's loop (Go's sysmon); returns when the runtime stops."""
    idle = 0  # looks in a row that retook nothing
    lasttrace = 0  # when the last schedtrace line was printed (nanotime); 0: none yet
    starttime = 0  # when the first one was (Go's schedtrace starttime)
    delay = 0  # µs
    delay_next = 0  # µs: this look's sleep, shortened for a preemption due (preempt.check)
    note = mp.park
    gilwait = 0  # how long sysmon waited for the GIL after its sleeps lately (ns)
    global _lastlook
    _lastlook = nanotime()  # slices seen at the first look began after this
    while True:
        if idle == 0:
            delay = 20
        elif idle > 50:
            delay *= 2
        delay = min(delay, 10_000)
        want = (min(delay, delay_next) if delay_next else delay) * 1000
        longnap = want >= _LONGNAP
        if longnap:
            sched.sysmonnap = True
        slept = nanotime()
        if note.tsleep(want / 1e9):
            # A goroutine came back from a blocking call whose P was handed off (kick):
            # more may follow, so look often again.
            idle = 0
            delay = 20
        else:
            # What sleeping cost past its time: getting the GIL back (check).
            gilwait = (gilwait + max(0, nanotime() - slept - want)) // 2
        if longnap:
            sched.sysmonnap = False
        delay_next = 0
        if sched.exiting is not None:
            return
        now = nanotime()
        if sched.deadlockpending:
            # checkdead found no M running but waits for a thread or a future (cgocall.py).
            with sched.lock:
                proc.checkdead()
            if sched.exiting is not None:
                return
        if (
            debug.schedtrace <= 0
            and (sched.gcwaiting or sched.npidle == sched.gomaxprocs)
            and not sched.deadlockpending
        ):
            # A goroutine running user code with no P may be a Python loop only sysmon can
            # preempt: sleep lightly then, but still as one that acquirep wakes (so that the
            # next blocking call is retaken as promptly as after a deep sleep).
            light = preempt.enabled and _runninguser()
            sleep = 0
            with sched.lock:
                if (sched.gcwaiting or sched.npidle == sched.gomaxprocs) and sched.exiting is None:
                    nxt = _time.nextTimer()
                    if nxt == 0 or nxt > now:
                        sched.sysmonwait = True
                        sleep = _DEEP_SLEEP_NS if nxt == 0 else min(nxt - now, _DEEP_SLEEP_NS)
                        if light:
                            sleep = min(sleep, delay * 1000)
            if sleep:
                if not light:
                    preempt.disarmall()
                woken = note.tsleep(sleep / 1e9)
                with sched.lock:
                    sched.sysmonwait = False
                _lastlook = nanotime()  # no P ran a slice meanwhile
                if sched.exiting is not None:
                    return
                if woken:
                    # A P became busy again: bet that it will need retaking soon, as Go does.
                    idle = 0
                    delay = 20
            now = nanotime()
        if retake(now):
            idle = 0
        else:
            idle += 1
        _lastlook = now
        if sched.tracing:
            _trace.sysmontick(mp, now)
        if debug.schedtrace > 0 and lasttrace + debug.schedtrace * 1_000_000 <= now:
            lasttrace = now
            if starttime == 0:
                starttime = now
            schedtrace((now - starttime) // 1_000_000, debug.scheddetail > 0)
        nap = delay
        if preempt.enabled:
            due = preempt.check(now, gilwait)
            if due:
                # Wake a GIL wait before a loop's slice ends: the loop holds the GIL, and sysmon
                # gets it only when the interpreter's switch interval forces it out.
                d = due - preempt.AIM - gilwait - now
                nap = max(20, min(nap, d // 1000))
        delay_next = nap


def _runninguser() -> bool:
    """Some goroutine runs user code with no P (its P was handed off): Go would let a syscall
    be, but this may be a Python loop that only async preemption can stop."""
    for mp in sched.allm:
        gp = mp.curg
        if gp is not None and gp.atomicstatus == _Gsyscall and mp.p is None and not gp.inblocking:
            return True
    return False


_lastlook = 0  # when retake last looked (nanotime)


def retake(now: int) -> int:
    """One look at every P (Go's retake). Returns how many Ps were handed off."""
    n = 0
    for pp in sched.allp:  # replaced only with the world stopped: a stale list costs nothing
        pd = pp.sysmontick
        s = pp.status
        if s in (_Prunning, _Psyscall):
            # Preempt a G that has run on the same schedtick for too long: one long-running
            # goroutine, or goroutines handing the P on through runnext (one time slice).
            t = pp.schedtick
            if pd.schedtick != t:
                # The slice began since the last look: at a preemption if there was one since
                # (preempt.lastyield), else take the last look as its start (Go's sysmon
                # takes the look that sees it, which lets slices run a look longer).
                pd.schedtick = t
                start = _lastlook or now
                y = preempt.lastyield
                if start < y <= now:
                    start = y
                pd.schedwhen = start
            elif pd.schedwhen + forcePreemptNS <= now:
                # Go retakes a P in a syscall here (``sysretake``): it has no M to ask. Here a
                # P is _Psyscall whenever sysmon happened to look while its goroutine ran a few
                # bytecodes, so its M is asked like any other (and the P retaken only as below).
                preemptone(pp)
        if s == _Prunning:
            _marksyscall(pp, now)
            continue
        if s == _Psyscall:
            # Retake a P that has been in the same syscall since the last look (≥ 20 µs).
            t = pp.syscalltick
            if pd.syscalltick != t:
                pd.syscalltick = t
                pd.syscallwhen = now
                continue
            # Python differs from Go here: a goroutine that has just run a few bytecodes may
            # still be waiting for the GIL, which sysmon itself held a moment ago, so one look
            # is not enough to call it blocked.
            if pd.syscallwhen + minSyscallNS > now:
                continue
            # Don't retake a P with nothing to do while others could take new work, but do
            # retake it eventually (it keeps sysmon from sleeping deeply).
            # Go hands off a P with work queued at once, and one without after 10 ms. Here
            # work is what another M could run (greenlets cannot change threads): goroutines
            # that started on this M can only run here, another M would only hand the P back,
            # and a hand-off would start a new time slice each time, so that a pair passing the
            # P on among such goroutines would never be preempted. The P stays put.
            if not _workforanotherm(pp, now):
                continue
            with sched.lock:
                if pp.status != _Psyscall:
                    continue  # its M came back meanwhile
                pp.status = _Pidle
                pp.syscalltick += 1
            n += 1
            if sched.tracing:
                owner = _syscallm(pp)
                if owner is not None:
                    _trace.evany(EV_PROCSTEAL, pp.id, owner.id)
            proc.handoffp(pp)
            _spare()
    return n


def _spare() -> None:
    """After a hand-off, keep one idle M ready for the next. Go starts an M in tens of µs;
    a Python thread takes 0.4 ms here to start and reach the GIL, on the path from one
    blocked thread to the next goroutine running. Started now, while sysmon would wait the
    next look anyway, an idle M makes the next hand-off a wake-up. Never past the thread
    limit, and never while the run ends."""
    with sched.lock:
        if sched.nmidle or sched.exiting is not None or proc.mcount() + 1 > sched.maxmcount:
            return
        id = proc.mReserveID()
    proc.newm(None, False, id)


def _syscallm(pp: P) -> M | None:
    """The M whose goroutine's syscall pp is (sysmon took its token: proc._taketoken)."""
    for m in sched.allm:
        if m.oldp is pp and m.p is None and m.kind == M_GOROUTINES:
            return m
    return None


def _workforanotherm(pp: P, now: int) -> bool:
    """Another M could run something if it had pp: a goroutine in pp's queues or at the head of
    the global queue that has not started yet or started on another M than pp's syscall, or
    a timer due on pp (its goroutine may be anywhere)."""
    w = pp.timer0When
    if w != 0 and w <= now:
        return True
    mp = _syscallm(pp)
    for q in (pp.runnext, pp.runq, sched.runq):
        for k, gp in enumerate(list(q)):
            if k == 64:
                return True  # a long queue: assume so, without reading it all
            bm = gp.boundm
            if bm is None or bm is not mp:
                return True
    return False


def _marksyscall(pp: P, now: int) -> None:
    """pp's M runs user code (its token is out): do what Go's entersyscall did for it (see the
    module docstring). The G's next runtime entry takes the P back."""
    owner = pp.m
    if owner is None or not owner.psyscall:
        return
    with sched.lock:
        if pp.m is not owner or pp.status != _Prunning or sched.exiting is not None:
            return
        if sched.gcwaiting or not proc._taketoken(owner, pp):
            return
        pp.status = _Psyscall
        owner.syscallwhen = now
        pd = pp.sysmontick
        pd.syscalltick = pp.syscalltick
        pd.syscallwhen = now


def preemptone(pp: P) -> bool:
    """Ask the goroutine running on pp to yield at its next safe point (Go's preemptone). The
    request is for that goroutine and pp's current time slice: another goroutine that reaches
    a safe point first, or a new slice, is not asked. A P in a syscall is asked through the M
    whose syscall it is."""
    mp = pp.m
    if mp is None and pp.status == _Psyscall:
        mp = _syscallm(pp)
    if mp is None:
        return False
    gp = mp.curg
    if gp is None:
        return False
    mp.preemptg = gp
    mp.preempt = pp.schedtick
    mp.safepoint = True  # after the reason, as proc.safepoint requires
    return True


# A sleep between looks this long may be cut short by kick.
_LONGNAP = 1_000_000


def kick() -> None:
    """A goroutine is back from a blocking call whose P sysmon handed off (exitsyscall_slow),
    while sysmon sleeps long between looks: wake it, so that it looks every 20 µs again and the
    next blocking call is retaken as promptly as the first. Go's exitsyscall does the same for
    a sysmon in its deep sleep (exitsyscallfast_pidle). Here sysmon may instead be in a long
    sleep between looks: on 3.12+ it cannot tell a goroutine in C from a Python loop, so it
    does not sleep deeply while one runs without a P."""
    sched.sysmonnap = False
    _wake()


def wakesysmon() -> None:
    """A P became busy while sysmon sleeps deeply (acquirep)."""
    sched.sysmonwait = False
    _wake()


def _wake() -> None:
    mp = sched.sysmonm
    if mp is not None:
        mp.park.wakeup()
