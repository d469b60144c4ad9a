"""Plain threads that call into the runtime, and futures that feed channels. Follows
go/src/runtime/proc.go (needm, dropm, oneNewExtraM) and cgocall.go (cgocallbackg): Go lets a
thread it did not create call into Go by making it an M for the call, locked to a G of its own.

- needm: a thread that is not an M (a ``threading.Thread``, an executor's worker, a future's
  callback) calls a runtime operation. It becomes an M of kind M_EXTRA, for good: its current
  greenlet is the stack of an extra G, locked to the M (lockedg), and a new greenlet on the
  thread is the M's g0, which runs the scheduler whenever the G has to wait (stoplockedm: the
  M only ever runs its own G, as Go's callback M does). The greenlet's ``m`` attribute is set,
  so the thread's next calls take the door's fast way in, as a goroutine's do.
- dropm: on the way out of every operation the extra M gives its P back (``mp.safepoint`` stays
  set for an extra M, so the door's way out always comes here): the thread goes on with code
  the runtime knows nothing about, holding no P; the G is ``_Gsyscall`` until the next call.
- The thread's end (a thread-local finalizer) takes the M and its G out of the scheduler, and
  checkdead looks again. At the end of a run a waiting thread gets RuntimeError from its
  operation, and every thread's greenlet loses its ``m``.

checkdead and threads (proc.checkdead, ``deferdead``): an attached thread between calls runs,
as far as the scheduler knows, so no deadlock is reported while it lives. A thread started
during the run that has not called in yet may still do so: while one is alive, and while a
``from_future`` channel waits for its future, a deadlock is not reported but looked at again by
sysmon every 10 ms; once they are done, it is reported.

from_future(fut): the future's done-callback, run by whichever thread completes it (or at once,
if it is done), sends the result (or a wrapper of its exception) into a channel of capacity 1
and closes it; it needs no thread of its own, so 10,000 outstanding futures cost 10,000
callbacks and no threads. A receive of the wrapper raises the future's exception (FutureChan,
and select).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from greenlet import getcurrent, greenlet

from . import proc
from .chan import Chan, FutureError
from .panic import throw
from .runtime2 import (
    M_EXTRA,
    G,
    M,
    _Gdead,
    _Gidle,
    _Grunning,
    _Gsyscall,
    _Pidle,
    _Psyscall,
    sched,
)
from .select import selectable

if TYPE_CHECKING:
    from .runtime2 import P

_tls = threading.local()


class _ThreadEnd:
    """Kept in a thread-local: CPython drops it when the thread ends."""

    __slots__ = ("mp", "epoch")

    def __init__(self, mp: M, epoch: object) -> None:
        self.mp = mp
        self.epoch = epoch

    def __del__(self) -> None:
        _threadend(self.mp, self.epoch)


def needm(what: str) -> M:
    """The calling thread is not an M: make it one (Go's needm). RuntimeError, naming ``what``,
    when the runtime is not running."""
    if not proc.running():
        proc.notgoroutine(what)
    cur = getcurrent()
    mp = M()
    mp.kind = M_EXTRA
    mp.tid = threading.get_ident()
    mp.safepoint = True  # never cleared: the way out is dropm (proc.safepoint)
    gp = G()
    gp.stack = cur  # type: ignore[assignment]
    gp.boundm = mp
    gp.m = mp
    gp.lockedm = mp
    mp.curg = gp
    mp.lockedg = gp
    mp.lockedExt = 1
    mp.nbound = 1
    mp.g0 = greenlet(lambda fn, g: _g0(mp, fn, g), cur)
    with sched.lock:
        if sched.exiting is not None:
            raise RuntimeError(f"gosched.{what}: the runtime is ending")
        proc.mcommoninit(mp, -1)
        sched.goidgen += 1
        gp.goid = sched.goidgen
        proc.casgstatus(gp, _Gidle, _Gdead)
        proc.casgstatus(gp, _Gdead, _Gsyscall)
        sched.allgs.append(gp)
    cur.m = mp  # type: ignore[attr-defined]
    _tls.end = _ThreadEnd(mp, sched.epoch)
    return mp


def _g0(mp: M, fn: Any, gp: G) -> G:
    """The extra M's g0: serve the G's first mcall, then schedule (only ever the G itself).
    When the runtime ends, the G's pending operation raises RuntimeError."""
    nxt = fn(mp, gp)
    if nxt is not None:
        throw("extra M: mcall handed back a G")
    proc.schedule(mp)
    gp.wakeexc = RuntimeError("gosched: the runtime ended while this thread waited in it")
    return gp


def dropm(mp: M) -> None:
    """The extra M's way out of an operation: give the P back (Go's dropm, except that the M
    stays the thread's, to be used again)."""
    with sched.lock:
        try:
            pp: P | None = mp.psyscall.pop()
        except IndexError:
            # sysmon marked it in a syscall (or the run is ending): take the P back from
            # that state, or it would stay _Psyscall with no M to come back for it.
            pp = _reclaim_locked(mp)
            if pp is None:
                return
        else:
            if pp is None or mp.p is not pp:
                return  # the run ended while the thread waited: it has no P
            gp: G = mp.curg  # type: ignore[assignment]
            proc.releasep(mp)
            proc.casgstatus(gp, _Grunning, _Gsyscall)
    proc.handoffp(pp)


def _reclaim_locked(mp: M) -> P | None:
    """mp's P, if sysmon marked it _Psyscall and nobody has taken it since; made idle for a
    hand-off. sched.lock held."""
    pp = mp.oldp
    mp.oldp = None
    if pp is None or pp.status != _Psyscall or sched.exiting is not None:
        return None
    pp.status = _Pidle
    pp.syscalltick += 1
    return pp


def _threadend(mp: M, epoch: object) -> None:
    pp = None
    with sched.lock:
        if epoch is not sched.epoch or mp not in sched.allm:
            return
        pp = _reclaim_locked(mp)
        sched.allm.remove(mp)
        sched.freem.append(mp)
        sched.nmfreed += 1
        mp.exited = True
        gp = mp.curg
        if gp is not None and gp.atomicstatus == _Gsyscall:
            proc.casgstatus(gp, _Gsyscall, _Gdead)
            sched.nextradead += 1
        if sched.exiting is None and pp is None:
            proc.checkdead()
    if pp is not None:
        proc.handoffp(pp)  # whoever goes idle after it runs checkdead


def detachall() -> None:
    """The end of a run: the threads' greenlets forget their Ms (teardown)."""
    for mp in list(sched.allm) + list(sched.freem):
        if mp.kind != M_EXTRA:
            continue
        # A thread parked in the runtime that has not woken since startexit would, after
        # sched.reset, see no exit going on: tell it it is detached, and wake it again.
        with sched.lock:
            mp.exited = True
        mp.park.wakeup()
        gp = mp.lockedg
        st = None if gp is None else gp.stack
        if st is not None and getattr(st, "m", None) is mp:
            try:
                del st.m
            except AttributeError:
                pass


# ---------------------------------------------------------------------------------------------
# from_future


class FutureChan(Chan[Any]):
    """The channel of from_future: receiving the future's exception raises it."""

    def recv(self) -> Any:
        v = Chan.recv(self)
        if type(v) is FutureError:
            raise v.exc
        return v

    def recv_ok(self) -> tuple[Any, bool]:
        v, ok = Chan.recv_ok(self)
        if type(v) is FutureError:
            raise v.exc
        return v, ok

    def __next__(self) -> Any:
        v = Chan.__next__(self)
        if type(v) is FutureError:
            raise v.exc
        return v

    def __repr__(self) -> str:
        return "<FutureChan " + Chan.__repr__(self)[6:]


selectable(FutureChan)


def from_future(fut: Any) -> FutureChan:
    """A channel that receives the result of ``fut`` (a concurrent.futures.Future, or any future
    with add_done_callback and result: Dask's, Ray's ObjectRef.future()) and is then closed;
    receiving raises the future's exception instead if it failed (CancelledError if it was
    cancelled). Usable in select; a goroutine that waits on it is not a deadlock while the
    future is pending. No thread waits for it: the future's own callback sends."""
    add = getattr(fut, "add_done_callback", None)
    if not callable(add) or not callable(getattr(fut, "result", None)):
        raise TypeError(
            "from_future: expected a concurrent.futures.Future (an object with "
            f"add_done_callback and result), not {type(fut).__name__}"
        )
    if not proc.running():
        proc.notgoroutine("from_future")
    ch = FutureChan(1)
    with sched.lock:
        sched.nfutures += 1
    epoch = sched.epoch
    add(lambda f: _deliver(ch, f, epoch))
    return ch


def _deliver(ch: FutureChan, fut: Any, epoch: object) -> None:
    """The future's done-callback, on whichever thread completed it."""
    with sched.lock:
        if epoch is not sched.epoch:
            return  # its run is over
    try:
        exc = fut.exception()
    except BaseException as e:  # cancelled
        exc = e
    v = FutureError(exc) if exc is not None else fut.result()
    try:
        ch.send(v)
        ch.close()
    except RuntimeError:
        pass  # the run ended meanwhile
    finally:
        with sched.lock:
            if epoch is sched.epoch:
                sched.nfutures -= 1
