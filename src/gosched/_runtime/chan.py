"""Channels. Follows go/src/runtime/chan.go (makechan, chansend, chanrecv, send, recv,
closechan).

A Chan is Go's hchan. Its lock guards every field:

- ``buf`` is the ring buffer of a buffered channel (a deque of at most ``dataqsiz`` values;
  Go's qcount is its length, sendx/recvx are the deque's ends);
- ``recvq`` / ``sendq`` are the goroutines parked in recv / send, as sudogs, FIFO;
- ``closed`` is set once, by close.

Invariants (Go's): a non-empty sendq means the buffer is full; a non-empty recvq means the
buffer is empty. At least one of recvq and sendq is empty, except while a select with both a
send and a receive case on one unbuffered channel is parked: its sudogs wait in both queues,
and no other goroutine can be waiting on that channel at the same time, or it would have been
matched.

The protocol, as in Go:
- send: closed -> panic "send on closed channel"; a parked receiver -> hand the value straight
  to it and ready it into the sender's runnext (``send``); room in the buffer -> append; else
  park ("chan send") until a receiver takes the value (or close wakes us to panic).
- recv: closed and empty -> zero value, ok=False; a parked sender -> take its value (unbuffered)
  or take the buffer's head and append the sender's value at the tail (full buffer), ready the
  sender (``recv``); a non-empty buffer -> pop; else park ("chan receive").
- close: wake every parked receiver (zero, ok=False) and sender (which then panics).
- a nil channel (``nilchan``) blocks forever and panics on close.

A sudog of a select may be queued here too: whoever dequeues it must first win the select by
popping its goroutine's selectDone token; a loser just drops the sudog (select.py removes its
others).

A parked operation ends only by its partner or close, except that proc.abortpark may take it
off its queue (Ctrl-C for goroutine 1) and a goroutine killed at exit stays queued until
exit.sweep: either way gopark raises, and nothing here needs undoing.

Every function here runs in runtime code: the caller holds its P's claim. The public methods
enter and leave the runtime through the door (proc.py); Chan.send, recv, recv_ok and iteration
keep inline copies of it, and chansend and chanrecv of send, recv and chanpark (HACKING.md
lists them, with the benchmark figures that pay for them). goready runs after the channel's
lock is dropped.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from greenlet import getcurrent

from .panic import RuntimePanic, throw
from .proc import (
    exitsyscall_slow,
    gopark,
    goready,
    needm,
    runtimecall,
    safepoint,
)
from .runtime2 import (
    Sudog,
    waitForever,
    waitReasonChanReceive,
    waitReasonChanReceiveNilChan,
    waitReasonChanSend,
    waitReasonChanSendNilChan,
)

if TYPE_CHECKING:
    from .runtime2 import G, M

T = TypeVar("T")


def _unlock(gp: G, lock: Any) -> bool:
    lock.release()
    return True


def _sudog(gp: G, c: Chan[Any], elem: Any) -> Sudog:
    """gp's cached sudog for a plain (non-select) channel operation: a goroutine waits on one
    such operation at a time, and the sudog leaves every queue before the operation returns
    (or, if the goroutine was killed, the goroutine never runs again)."""
    sg = gp.sudog
    if sg is None:
        sg = gp.sudog = Sudog(gp, c, elem, False, 0)
    else:
        sg.c = c
        sg.elem = elem
        sg.success = False
    return sg


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


def send(sg: Sudog, v: Any) -> None:
    """Go's send: hand v to the parked receiver sg. c is locked and sg already dequeued from
    c.recvq; the caller then unlocks c (selectgo: every channel of the select) and readies
    sg.g, which Go's send does itself through its unlockf."""
    sg.elem = v
    sg.success = True
    gp = sg.g
    gp.param = sg


def recv(c: Chan[Any], sg: Sudog) -> Any:
    """Go's recv: take a value from the parked sender sg, whose channel c is full (or
    unbuffered), and return it: the sender's own value, or the buffer's head while the
    sender's value goes to the tail. c is locked and sg already dequeued from c.sendq; the
    caller unlocks and readies sg.g, as after send."""
    if c.dataqsiz == 0:
        v = sg.elem
    else:
        buf = c.buf
        v = buf.popleft()
        buf.append(sg.elem)
    sg.elem = None
    sg.success = True
    gp = sg.g
    gp.param = sg
    return v


def chanpark(
    mp: M, lock: threading.Lock, q: collections.deque[Sudog], sg: Sudog, reason: str
) -> None:
    """Queue sg, the current goroutine's, on q (its channel's recvq or sendq) and park until a
    partner or close takes it off. The channel's lock is held; it is unlocked once the goroutine
    is parked (unlockf)."""
    gp = sg.g
    gp.waiting = sg
    gp.param = None
    q.append(sg)
    gopark(mp, _unlock, lock, reason)
    gp.waiting = None
    gp.param = None


class FutureError:
    """A future's exception in a from_future channel (cgocall.py): receiving it raises it,
    from FutureChan's receives and from select."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


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

    # The public operations, each through the door (inline copies on the hot ones).

    def send(self, v: T) -> None:
        """Send v, blocking until a receiver takes it or the buffer has room."""
        # inline-of: proc.enter(what="Chan.send")
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            mp = needm("Chan.send")
        try:
            pp = mp.psyscall.pop()
        except IndexError:
            pp = exitsyscall_slow(mp)  # noqa: F841 (go() uses pp)
        # end-inline
        try:
            chansend(mp, self, v, True)
        finally:
            # inline-of: proc.leave
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            if mp.safepoint:
                safepoint(mp)
            # end-inline

    def recv(self) -> T | None:
        """Receive a value, blocking until one is available; None once closed and drained."""
        # inline-of: proc.enter(what="Chan.recv")
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            mp = needm("Chan.recv")
        try:
            pp = mp.psyscall.pop()
        except IndexError:
            pp = exitsyscall_slow(mp)  # noqa: F841 (go() uses pp)
        # end-inline
        try:
            v: T | None = chanrecv(mp, self, True)[1]
            return v
        finally:
            # inline-of: proc.leave
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            if mp.safepoint:
                safepoint(mp)
            # end-inline

    def recv_ok(self) -> tuple[T | None, bool]:
        """Receive (value, True), or (None, False) once the channel is closed and drained."""
        # inline-of: proc.enter(what="Chan.recv_ok")
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            mp = needm("Chan.recv_ok")
        try:
            pp = mp.psyscall.pop()
        except IndexError:
            pp = exitsyscall_slow(mp)  # noqa: F841 (go() uses pp)
        # end-inline
        try:
            _, v, ok = chanrecv(mp, self, True)
            return v, ok
        finally:
            # inline-of: proc.leave
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            if mp.safepoint:
                safepoint(mp)
            # end-inline

    def close(self) -> None:
        """Close the channel: receivers drain the buffer, then get (None, False); senders panic."""
        runtimecall("Chan.close", closechan, self)

    @property
    def cap(self) -> int:
        return self.dataqsiz

    def __len__(self) -> int:
        return len(self.buf)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        # inline-of: proc.enter(what="Chan.__next__")
        try:
            mp: M = getcurrent().m  # type: ignore[attr-defined]
        except AttributeError:
            mp = needm("Chan.__next__")
        try:
            pp = mp.psyscall.pop()
        except IndexError:
            pp = exitsyscall_slow(mp)  # noqa: F841 (go() uses pp)
        # end-inline
        try:
            _, v, ok = chanrecv(mp, self, True)
        finally:
            # inline-of: proc.leave
            mp.psyscall.append(mp.p)  # type: ignore[arg-type]
            if mp.safepoint:
                safepoint(mp)
            # end-inline
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
        runtimecall("Chan.send", park_forever, waitReasonChanSendNilChan)

    def recv(self) -> NoReturn:
        runtimecall("Chan.recv", park_forever, waitReasonChanReceiveNilChan)

    def recv_ok(self) -> NoReturn:
        runtimecall("Chan.recv_ok", park_forever, waitReasonChanReceiveNilChan)

    def close(self) -> NoReturn:
        runtimecall("Chan.close", _closenil)

    def __next__(self) -> NoReturn:
        runtimecall("Chan.__next__", park_forever, waitReasonChanReceiveNilChan)

    def __repr__(self) -> str:
        return "<nilchan>"


nilchan = NilChan()


def park_forever(mp: M, reason: str) -> NoReturn:
    """Block forever (only the end of the program, a deadlock report, or a Ctrl-C for goroutine
    1 ends it, by raising)."""
    mp.curg.waiting = waitForever  # type: ignore[union-attr]
    gopark(mp, None, None, reason)
    throw("unreachable: a goroutine parked forever was woken")


def _closenil(mp: M) -> NoReturn:
    raise RuntimePanic("close of nil channel")


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
            sg = dequeue(q)
        else:
            sg = head
        if sg is not None:
            # A waiting receiver: hand the value over directly.
            # inline-of: chan.send
            sg.elem = v
            sg.success = True
            gp = sg.g
            gp.param = sg
            # end-inline
            lock.release()
            goready(mp, gp)
            return True
    buf = c.buf
    if len(buf) < c.dataqsiz:
        buf.append(v)
        lock.release()
        return True
    if not block:
        lock.release()
        return False
    sg = _sudog(mp.curg, c, v)  # type: ignore[arg-type]
    # inline-of: chan.chanpark(q=c.sendq, reason=waitReasonChanSend)
    gp = sg.g
    gp.waiting = sg
    gp.param = None
    c.sendq.append(sg)
    gopark(mp, _unlock, lock, waitReasonChanSend)
    gp.waiting = None
    gp.param = None
    # end-inline
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
            sg = dequeue(q)
        else:
            sg = head
        if sg is not None:
            # A waiting sender: the buffer is full (or there is none).
            # inline-of: chan.recv
            if c.dataqsiz == 0:
                v = sg.elem
            else:
                buf = c.buf
                v = buf.popleft()
                buf.append(sg.elem)
            sg.elem = None
            sg.success = True
            gp = sg.g
            gp.param = sg
            # end-inline
            lock.release()
            goready(mp, gp)
            return True, v, True
    buf = c.buf
    if buf:
        v = buf.popleft()
        lock.release()
        return True, v, True
    if not block:
        lock.release()
        return False, None, False
    sg = _sudog(mp.curg, c, None)  # type: ignore[arg-type]
    # inline-of: chan.chanpark(q=c.recvq, reason=waitReasonChanReceive)
    gp = sg.g
    gp.waiting = sg
    gp.param = None
    c.recvq.append(sg)
    gopark(mp, _unlock, lock, waitReasonChanReceive)
    gp.waiting = None
    gp.param = None
    # end-inline
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
        goready(mp, gp)
