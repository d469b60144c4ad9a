"""select. Follows go/src/runtime/select.go (selectgo, sellock, selunlock, selparkcommit).

``select(*cases)`` takes ``ch.recv``, ``ch.recv_ok``, ``(ch.send, value)`` and ``default``;
it returns ``(index, value)``: the index of the chosen case among the arguments and the value
received (a ``(value, ok)`` pair for ``recv_ok``; None for a send or default).

selectgo, as in Go:
1. Drop cases on the nil channel (never ready). Shuffle the rest into a uniformly random poll
   order, and sort their channels into a fixed lock order (by identity), so that two selects
   over the same channels can never lock them in opposite orders.
2. Lock every channel. Pass 1: the first case in poll order that can proceed wins: a parked
   partner, buffer room or a buffered value, a closed channel (a receive gets the zero value,
   a send panics).
3. Nothing ready: with a default case, take it. Otherwise pass 2: queue a sudog on every
   channel in lock order, arm the goroutine's selectDone token, and park ("select"); park_m
   unlocks the channels once the goroutine is parked. Go's lock order is a heap sort of the
   poll order by channel address, so cases on one channel are queued in random order and a
   partner that comes later completes a uniformly random one of them; here the lock order is
   the poll order sorted stably by channel identity, which gives the same.
4. Woken: the waker popped selectDone (so exactly one case wins) and left its sudog in
   gp.param. Pass 3: lock everything again and take our other sudogs off their queues.

A case that is ready in pass 1 is completed with chan.py's send and recv, as in Go. A parked
select ends only by a waker, except that proc.abortpark may take all its sudogs off (Ctrl-C for
goroutine 1; runtime2.Sudog.abortwait wins selectDone first), and a goroutine killed at exit
leaves them queued for exit.sweep: either way gopark raises and nothing here needs undoing.

``select()`` with no cases parks forever ("select (no cases)"); one case plus default is a
non-blocking send or receive.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from . import proc
from .chan import (
    Chan,
    FutureError,
    NilChan,
    chanrecv,
    chansend,
    dequeue,
    nilchan,
    park_forever,
    recv,
    send,
)
from .panic import RuntimePanic, throw
from .runtime2 import (
    Sudog,
    waitReasonChanReceiveNilChan,
    waitReasonChanSendNilChan,
    waitReasonSelect,
    waitReasonSelectNoCases,
)

if TYPE_CHECKING:
    from .runtime2 import G, M

_SEND = 0
_RECV = 1
_RECV_OK = 2


class _Default:
    """The default case of a select: chosen when no other case is ready."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "gosched.default"


default = _Default()

_rand = random.Random()
_random = _rand.random

# Chan methods (and the nil channel's overrides) that name a select case, mapped to its kind.
_KINDS: dict[Any, int] = {
    Chan.recv: _RECV,
    Chan.recv_ok: _RECV_OK,
    Chan.send: _SEND,
    NilChan.recv: _RECV,
    NilChan.recv_ok: _RECV_OK,
    NilChan.send: _SEND,
}


def selectable(cls: type[Chan[Any]]) -> None:
    """Let select take the receive methods of cls, a Chan subclass that overrides them
    (cgocall.FutureChan, which raises a future's exception from them, as select does too)."""
    _KINDS[cls.recv] = _RECV
    _KINDS[cls.recv_ok] = _RECV_OK


def _badcase(i: int, case: Any) -> NoReturn:
    raise TypeError(
        f"select: case {i} is not a channel operation: {case!r} "
        "(use ch.recv, ch.recv_ok, (ch.send, value) or gosched.default)"
    )


def _parse(
    cases: tuple[Any, ...],
) -> tuple[list[tuple[int, Chan[Any], int, Any]], int, bool]:
    """[(argument index, channel, kind, value to send)], the default's index or -1, and whether
    any case is on the nil channel."""
    scases = []
    dflt = -1
    nilcases = False
    for i, case in enumerate(cases):
        if case is default:
            if dflt >= 0:
                raise TypeError("select: multiple defaults")
            dflt = i
            continue
        value = None
        op = case
        if type(case) is tuple:
            if len(case) != 2:
                _badcase(i, case)
            op, value = case
            kind = _KINDS.get(getattr(op, "__func__", None))
            if kind != _SEND:
                _badcase(i, case)
        else:
            kind = _KINDS.get(getattr(op, "__func__", None))
            if kind is None or kind == _SEND:
                _badcase(i, case)
        c = op.__self__
        if c is nilchan:
            nilcases = True
        elif not isinstance(c, Chan):
            _badcase(i, case)
        scases.append((i, c, kind, value))
    return scases, dflt, nilcases


def select(*cases: Any) -> tuple[int, Any]:
    """Go's select statement: see the module docstring."""
    scases, dflt, nilcases = _parse(cases)
    r = proc.runtimecall("select", selectgo, scases, dflt, nilcases)
    v = r[1]
    if v is not None:
        if type(v) is FutureError:
            raise v.exc
        if type(v) is tuple and type(v[0]) is FutureError:
            raise v[0].exc
    return r


def selunlock(locks: list[Any]) -> None:
    """Unlock the channels of a select, in the reverse of the lock order (Go's selunlock)."""
    for lk in reversed(locks):
        lk.release()


def _selunlockf(gp: G, locks: Any) -> bool:
    """gopark's unlockf for a parked select."""
    selunlock(locks)
    return True


def _dequeue_all(sgs: list[Sudog], won: Sudog) -> None:
    """Take every sudog but won off its channel's queue. All the channels are locked."""
    for sg in sgs:
        if sg is not won:
            sg.dequeueSudoG()  # False: a waker dequeued it and lost the select


# _PERMS[n]: every permutation of range(n), for small n: one random draw picks the poll order.
_PERMS: tuple[tuple[tuple[int, ...], ...], ...] = tuple(
    tuple(itertools.permutations(range(n))) for n in range(6)
)


def selectgo(
    mp: M, scases: list[tuple[int, Chan[Any], int, Any]], dflt: int, nilcases: bool = True
) -> tuple[int, Any]:
    """The select itself; the caller holds its P's claim."""
    # Go compiles a select of one case and no default as the plain channel operation (so it
    # parks with that operation's wait reason, nil-channel forms included).
    if len(scases) == 1 and dflt < 0:
        i, c, kind, value = scases[0]
        if c is nilchan:
            park_forever(
                mp, waitReasonChanSendNilChan if kind == _SEND else waitReasonChanReceiveNilChan
            )
        if kind == _SEND:
            chansend(mp, c, value, True)
            return i, None
        _, v, ok = chanrecv(mp, c, True)
        return i, ((v, ok) if kind == _RECV_OK else v)

    # Cases on the nil channel are never ready.
    live = [sc for sc in scases if sc[1] is not nilchan] if nilcases else scases
    if not live:
        if dflt >= 0:
            return dflt, None
        # select {} parks with "select (no cases)"; a select whose cases are all on the nil
        # channel parks as any select, with none of its cases able to wake it.
        park_forever(mp, waitReasonSelectNoCases if not scases else waitReasonSelect)

    # Go compiles one case and a default as a non-blocking operation.
    if len(live) == 1 and dflt >= 0:
        i, c, kind, value = live[0]
        if kind == _SEND:
            if chansend(mp, c, value, False):
                return i, None
            return dflt, None
        selected, v, ok = chanrecv(mp, c, False)
        if not selected:
            return dflt, None
        return i, ((v, ok) if kind == _RECV_OK else v)

    # Poll order: a uniformly random permutation.
    n = len(live)
    if n < len(_PERMS):
        perms = _PERMS[n]
        pollorder = perms[int(_random() * len(perms))]
    else:  # inside-out Fisher-Yates, as Go's
        order = [0] * n
        for k in range(1, n):
            j = int(_random() * (k + 1))
            order[k] = order[j]
            order[j] = k
        pollorder = tuple(order)
    # Lock order: by channel identity, each channel once.
    byid = {id(sc[1]): sc[1] for sc in live}
    locks = [byid[k].lock for k in sorted(byid)]
    for lk in locks:
        lk.acquire()

    # Pass 1: the first ready case in poll order.
    for k in pollorder:
        i, c, kind, value = live[k]
        if kind == _SEND:
            if c.closed:
                selunlock(locks)
                raise RuntimePanic("send on closed channel")
            sg = dequeue(c.recvq) if c.recvq else None
            if sg is not None:
                send(sg, value)
                selunlock(locks)
                proc.goready(mp, sg.g)
                return i, None
            if len(c.buf) < c.dataqsiz:
                c.buf.append(value)
                selunlock(locks)
                return i, None
        else:
            sg = dequeue(c.sendq) if c.sendq else None
            if sg is not None:
                v = recv(c, sg)
                selunlock(locks)
                proc.goready(mp, sg.g)
                return i, ((v, True) if kind == _RECV_OK else v)
            if c.buf:
                v = c.buf.popleft()
                selunlock(locks)
                return i, ((v, True) if kind == _RECV_OK else v)
            if c.closed:
                selunlock(locks)
                return i, ((None, False) if kind == _RECV_OK else None)

    if dflt >= 0:
        selunlock(locks)
        return dflt, None

    # Pass 2: queue on every channel, in lock order (module docstring), and park.
    me: G = mp.curg  # type: ignore[assignment]
    sgs: list[Sudog] = []
    prev: Sudog | None = None
    # Only cases that share a channel need the order: each channel gets one sudog otherwise.
    enqueue: Sequence[int] = (
        range(n) if len(byid) == n else sorted(pollorder, key=lambda k: id(live[k][1]))
    )
    for k in enqueue:
        i, c, kind, value = live[k]
        sg = Sudog(me, c, value if kind == _SEND else None, True, k)
        if prev is not None:
            prev.waitlink = sg
        prev = sg
        sgs.append(sg)
        (c.sendq if kind == _SEND else c.recvq).append(sg)
    me.waiting = sgs[0]
    me.param = None
    done = me.selectDone
    if done is None:
        done = me.selectDone = []
    done.clear()
    done.append(True)
    proc.gopark(mp, _selunlockf, locks, waitReasonSelect)

    # Pass 3: woken by the case in me.param; take every other sudog off its queue.
    for lk in locks:
        lk.acquire()
    won = me.param
    me.param = None
    me.waiting = None
    if not isinstance(won, Sudog):
        selunlock(locks)
        throw("selectgo: woken without a winning case")
    _dequeue_all(sgs, won)
    selunlock(locks)
    i, c, kind, value = live[won.casi]
    if kind == _SEND:
        if not won.success:
            raise RuntimePanic("send on closed channel")
        return i, None
    v = won.elem
    won.elem = None
    if kind == _RECV_OK:
        return i, (v, won.success)
    return i, v
