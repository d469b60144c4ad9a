"""Channels. Follows go/src/runtime/chan.go (makechan, chansend, chanrecv, closechan).

A Chan is Go's hchan. Its lock guards every field:

- ``buf`` is the ring buffer of a buffered channel (a deque of at most ``dataqsiz`` values;
  Go's qcount is its length, sendx/recvx are the deque's ends);
- ``recvq`` / ``sendq`` are the goroutines parked in recv / send, as sudogs, FIFO;
- ``closed`` is set once, by close.

Invariants (Go's): at least one of recvq and sendq is empty; a non-empty sendq means the buffer
is full; a non-empty recvq means the buffer is empty.

The protocol, as in Go:
- send: closed -> panic "send on closed channel"; a parked receiver -> hand the value straight
  to it and ready it into the sender's runnext; room in the buffer -> append; else park
  ("chan send") until a receiver takes the value (or close wakes us to panic).
- recv: closed and empty -> zero value, ok=False; a parked sender -> take its value (unbuffered)
  or take the buffer's head and append the sender's value at the tail (full buffer), ready the
  sender; a non-empty buffer -> pop; else park ("chan receive").
- close: wake every parked receiver (zero, ok=False) and sender (which then panics).
- a nil channel (``nilchan``) blocks forever and panics on close.

A sudog of a select may be queued here too: whoever dequeues it must first win the select by
popping its goroutine's selectDone token; a loser just drops the sudog (select.py removes its
others).

Every function here runs in runtime code: the caller holds its P's claim (proc.py). The public
methods enter and leave the runtime themselves. goready runs after the channel's lock is
dropped, so a channel lock is never held while taking sched.lock.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from greenlet import getcurrent

from . import proc
from .panic import RuntimePanic, throw
from .runtime2 import (
    Sudog,
    waitReasonChanReceive,
    waitReasonChanReceiveNilChan,
    waitReasonChanSend,
    waitReasonChanSendNilChan,
)

if TYPE_CHECKING:
    from .runtime2 import G, M

T = TypeVar("T")

_gopark = proc.gopark
_goready = proc.goready
_exitsyscall_slow = proc.exitsyscall_slow


def _unlock(gp: G, lock: Any) -> bool:
    lock.release()
    return True


def _sudog(gp: G, c: Chan[Any], elem: Any) -> Sudog:
    """gp's cached sudog for a plain (non-select) channel operation: a goroutine waits on one
    such operation at a time, and the sudog leaves every queue before the operation returns."""
    sg = gp.sudog
    if sg is None:
        sg = gp.sudog = Sudog(gp, c, elem, False, 0)
    else:
        sg.c = c
        sg.elem = elem
        sg.success = False
    return sg


def _unqueue(c: Chan[Any], q: collections.deque[Sudog], sg: Sudog) -> None:
    """Take sg off q, if it is still there (a goroutine killed while parked: a channel that
    outlives gosched.run must not keep it)."""
    with c.lock:
        try:
            q.remove(sg)
        except ValueError:
            pass


def dequeue(q: collections.deque[Sudog]) -> Sudog | None:
    """The first sudog of q whose goroutine can take it: a select's sudog only if we win the
    select (pop its selectDone token). The channel's lock is held."""
    while q:
        sg = q.popleft()
        if sg.isSelect:
            try:
                sg.g.selectDone.pop()  # type: ignore[union-attr]
            except IndexError:  # another case of that select won already
                continue
        return sg
    return None


def _getm(what: str) -> M:
    try:
        mp: M = getcurrent().m  # type: ignore[attr-defined]
    except AttributeError:
        proc.notgoroutine(what)
    return mp


class Chan(Generic[T]):
    """A Go channel: ``Chan()`` unbuffered, ``Chan(n)`` with room for n values.

    send(v) / recv() / recv_ok() block the calling goroutine (not its thread); close() wakes
    every waiter; ``for v in ch`` receives until the channel is closed and drained. Go's panics
    (RuntimePanic): "send on closed channel", "close of closed channel",
    "makechan: size out of range".
    """

    __slots__ = ("dataqsiz", "buf", "closed", "recvq", "sendq", "lock", "__weakref__")

    def __init__(self, cap: int = 0) -> None:
        if isinstance(cap, bool) or not isinstance(cap, int):
            raise TypeError(f"Chan: capacity must be an int, not {type(cap).__name__}")
        if cap < 0:
            raise RuntimePanic("makechan: size out of range")
        self.dataqsiz = cap
        self.buf: collections.deque[T] = collections.deque()
        self.closed = False
        self.recvq: collections.deque[Sudog] = collections.deque()
        self.sendq: collections.deque[Sudog] = collections.deque()
        self.lock = threading.Lock()

    # --- public API: each enters the runtime (claim), works, leaves ----------------------------

    def send(self, v: T) -> None:
        """Send v, blocking until a receiver takes it or the buffer has room."""
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            proc.notgoroutine("Chan.send")
        try:
            mp.psyscall.pop()
        except IndexError:
            _exitsyscall_slow(mp)
        try:
            chansend(mp, self, v, True)
        finally:
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]

    def recv(self) -> T | None:
        """Receive a value, blocking until one is available; None once closed and drained."""
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            proc.notgoroutine("Chan.recv")
        try:
            mp.psyscall.pop()
        except IndexError:
            _exitsyscall_slow(mp)
        try:
            v: T | None = chanrecv(mp, self, True)[1]
            return v
        finally:
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]

    def recv_ok(self) -> tuple[T | None, bool]:
        """Receive (value, True), or (None, False) once the channel is closed and drained."""
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            proc.notgoroutine("Chan.recv_ok")
        try:
            mp.psyscall.pop()
        except IndexError:
            _exitsyscall_slow(mp)
        try:
            _, v, ok = chanrecv(mp, self, True)
            return v, ok
        finally:
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]

    def close(self) -> None:
        """Close the channel: receivers drain the buffer, then get (None, False); senders panic."""
        mp = _getm("Chan.close")
        proc.exitsyscall(mp)
        try:
            closechan(mp, self)
        finally:
            proc.entersyscall(mp)

    @property
    def cap(self) -> int:
        return self.dataqsiz

    def __len__(self) -> int:
        return len(self.buf)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            proc.notgoroutine("Chan.__next__")
        try:
            mp.psyscall.pop()
        except IndexError:
            _exitsyscall_slow(mp)
        try:
            _, v, ok = chanrecv(mp, self, True)
        finally:
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
        if not ok:
            raise StopIteration
        return v  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<Chan cap={self.dataqsiz} len={len(self.buf)}{state}>"


class NilChan(Chan[Any]):
    """The nil channel: send and receive block forever, close panics, never ready in select."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(0)

    def send(self, v: Any) -> NoReturn:
        mp = _getm("Chan.send")
        proc.exitsyscall(mp)
        _park_forever(mp, waitReasonChanSendNilChan)

    def recv(self) -> NoReturn:
        mp = _getm("Chan.recv")
        proc.exitsyscall(mp)
        _park_forever(mp, waitReasonChanReceiveNilChan)

    def recv_ok(self) -> NoReturn:
        mp = _getm("Chan.recv_ok")
        proc.exitsyscall(mp)
        _park_forever(mp, waitReasonChanReceiveNilChan)

    def close(self) -> NoReturn:
        _getm("Chan.close")
        raise RuntimePanic("close of nil channel")

    def __next__(self) -> NoReturn:
        mp = _getm("Chan.__next__")
        proc.exitsyscall(mp)
        _park_forever(mp, waitReasonChanReceiveNilChan)

    def __repr__(self) -> str:
        return "<nilchan>"


nilchan = NilChan()


def _park_forever(mp: M, reason: str) -> NoReturn:
    """Block forever (only the end of the program, or a deadlock report, ends it)."""
    _gopark(mp, None, None, reason)
    throw("unreachable: a goroutine parked forever was woken")


# --- the runtime side (claim held) --------------------------------------------------------------


def chansend(mp: M, c: Chan[Any], v: Any, block: bool) -> bool:
    """Send v on c. Returns False only when not block and it would have had to wait."""
    if not block and not c.closed and not c.recvq and len(c.buf) >= c.dataqsiz:
        return False  # fast path without the lock, as Go's full(c) check
    lock = c.lock
    lock.acquire()
    if c.closed:
        lock.release()
        raise RuntimePanic("send on closed channel")
    q = c.recvq
    if q:
        head = q.popleft()
        if head.isSelect:  # a select's sudog: it must be won first (dequeue)
            q.appendleft(head)
            waiter = dequeue(q)
        else:
            waiter = head
        if waiter is not None:
            # A waiting receiver: hand the value over directly.
            waiter.elem = v
            waiter.success = True
            gp = waiter.g
            gp.param = waiter
            lock.release()
            _goready(mp, gp)
            return True
    buf = c.buf
    if len(buf) < c.dataqsiz:
        buf.append(v)
        lock.release()
        return True
    if not block:
        lock.release()
        return False
    me = mp.curg
    assert me is not None
    sg = _sudog(me, c, v)
    me.waiting = sg
    me.param = None
    c.sendq.append(sg)
    try:
        _gopark(mp, _unlock, lock, waitReasonChanSend)
    except BaseException:  # killed while parked (the program is ending): leave no trace here
        _unqueue(c, c.sendq, sg)
        raise
    me.waiting = None
    me.param = None
    if not sg.success:
        if not c.closed:
            throw("chansend: spurious wakeup")
        raise RuntimePanic("send on closed channel")
    return True


def chanrecv(mp: M, c: Chan[Any], block: bool) -> tuple[bool, Any, bool]:
    """Receive from c: (selected, value, ok). Not selected only when not block and it would
    have had to wait; ok is False for the zero value of a closed, drained channel."""
    if not block and not c.sendq and not c.buf:
        if not c.closed:
            return False, None, False
        # Closed: it stays closed, so it is enough that the buffer is still empty.
        if not c.buf:
            return True, None, False
    lock = c.lock
    lock.acquire()
    if c.closed and not c.buf:
        lock.release()
        return True, None, False
    q = c.sendq
    if q:
        head = q.popleft()
        if head.isSelect:  # a select's sudog: it must be won first (dequeue)
            q.appendleft(head)
            waiter = dequeue(q)
        else:
            waiter = head
        if waiter is not None:
            # A waiting sender: the buffer is full (or there is none).
            if c.dataqsiz == 0:
                v = waiter.elem
            else:
                buf = c.buf
                v = buf.popleft()
                buf.append(waiter.elem)
            waiter.elem = None
            waiter.success = True
            gp = waiter.g
            gp.param = waiter
            lock.release()
            _goready(mp, gp)
            return True, v, True
    buf = c.buf
    if buf:
        v = buf.popleft()
        lock.release()
        return True, v, True
    if not block:
        lock.release()
        return False, None, False
    me = mp.curg
    assert me is not None
    sg = _sudog(me, c, None)
    me.waiting = sg
    me.param = None
    c.recvq.append(sg)
    try:
        _gopark(mp, _unlock, lock, waitReasonChanReceive)
    except BaseException:  # killed while parked (the program is ending): leave no trace here
        _unqueue(c, c.recvq, sg)
        raise
    me.waiting = None
    me.param = None
    v = sg.elem
    sg.elem = None
    return True, v, sg.success


def closechan(mp: M, c: Chan[Any]) -> None:
    if isinstance(c, NilChan):
        raise RuntimePanic("close of nil channel")
    lock = c.lock
    lock.acquire()
    if c.closed:
        lock.release()
        raise RuntimePanic("close of closed channel")
    c.closed = True
    glist: list[G] = []
    for q in (c.recvq, c.sendq):
        while True:
            sg = dequeue(q)
            if sg is None:
                break
            sg.elem = None
            sg.success = False
            gp = sg.g
            gp.param = sg
            glist.append(gp)
    lock.release()
    # Go collects them on a gList, a stack, so they are readied last first: each goready takes
    # runnext and kicks the previous one to the tail, and the first receiver runs first.
    for gp in reversed(glist):
        _goready(mp, gp)
