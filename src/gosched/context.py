"""Go's context package for goroutines. Follows go/src/context/context.go (Go 1.22).

A Context carries a cancellation signal, a deadline and request-scoped values across API
boundaries and goroutines::

    ctx, cancel = context.with_timeout(context.background(), 0.05)
    try:
        i, _ = gosched.select(ctx.done().recv, results.recv)
    finally:
        cancel()

``ctx.done()`` is a channel that is closed when the context is cancelled (its parent was
cancelled, ``cancel()`` was called, or the deadline passed); ``ctx.err()`` is then a
``Canceled`` or ``DeadlineExceeded`` instance, and None before. background() and todo() are
never cancelled: their done() is ``gosched.nilchan``, which blocks forever and is never ready
in a select (Go's nil channel).

The tree
--------
Each cancelable context (cancelCtx; timerCtx adds a deadline and its timer) is registered in
its nearest cancelable ancestor's ``_children`` when that ancestor is a context of this module
(found through ``value(_cancel_ctx_key)``, as Go's parentCancelCtx). Cancelling a context
cancels its whole subtree, depth first, before cancel returns, and removes the context from
its parent. A parent of another implementation (any object with done/err/value/deadline, Go's
"foreign" Context) that has an ``after_func(f) -> stop`` method (Go 1.21's afterFuncer) is
asked to call f, which cancels the child with the parent's err() and cause, when it is done;
the child keeps stop in a ``_StopCtx`` that becomes its parent, as Go's stopCtx, and calls it
when it ends first (Go's removeChild). Any other foreign parent gets one goroutine per child
that waits in a select on the parent's done() and the child's done(), as Go's propagateCancel
does.

Locks and the runtime
---------------------
Go closes the done channel and cancels the children under the context's mutex. Here the
mutable state of a cancelCtx (``_done``, ``_children``, ``_err``, ``_cause``, a timerCtx's
``_timer``) is guarded by a ``threading.Lock`` (``_mu``) held only for bookkeeping: closing a
channel enters the runtime (it takes the claim token and readies goroutines, which takes
sched.lock), and the rule of sync.py holds here too: no state lock is held while parking,
waking or calling user code. So cancel works in two phases:

1. Under the locks (ancestor before descendant, as Go's recursion takes them), every context
   of the subtree is *claimed*: ``_err`` and ``_cause`` are set, the children are taken, a
   context whose done channel was never made gets the shared closed channel, a timer is taken
   to be stopped.
2. With no lock held, the done channels that exist are closed, descendants first, then the
   timers are stopped and after_func's functions started.

Go's contract "Err returns nil while Done is not closed, non-nil once it is" is kept by
publishing the error with the channel: err() returns ``_err`` only once ``_done`` is closed
(Chan.closed is set under the channel's lock before any waiter is woken). A claimed context
whose channel is not closed yet is being cancelled by another goroutine: a second cancel of
it (or of an ancestor) waits on its done channel, so that when any cancel call returns, the
context and its whole subtree are cancelled, as in Go, where the second caller waits on the
mutex.

Outside the runtime
-------------------
background(), todo(), with_value(), with_cancel() and without_cancel() need no runtime: they
can build contexts before gosched.run, and done() makes its channel lazily (a plain object);
with_cancel() of a foreign parent needs a goroutine only for the watcher (not for a parent
that is already done, nor for an afterFuncer).
with_deadline() with a deadline still ahead arms a runtime timer, so it must be called from a
goroutine; so must after_func(). A cancel function may be called from any goroutine, and
outside gosched.run when no run is active (then no goroutine can be waiting on a done
channel, and closing it is just setting its flag); from a foreign thread while a run is
active it raises RuntimeError, since nobody could wake the goroutines waiting on the channel.

Where this differs from Go
--------------------------
- Errors are exceptions: a fresh ``Canceled`` / ``DeadlineExceeded`` per cancellation
  (shared by the subtree it cancels), not package-level values; test with isinstance or
  ``except``. DeadlineExceeded is a TimeoutError.
- Values are looked up by key with Go's interface equality: same type and ``==`` (so the key
  1 does not find a value stored under True or 1.0).
- Deadlines are seconds on gosched.time.now()'s monotonic clock, not wall times. The string
  of a timerCtx renders the deadline as Go's Time.String does: the local wall time it falls at
  (computed from the time left), then ``m=`` and the deadline itself, which is gosched's
  monotonic reading as Go's ``m=`` is Go's (Go's counts from the program's start).
- Type names in strings have no ``*``: Python has no pointer types. Exceptions define
  ``__str__``, so an exception as a value prints its message, where a Go error that is not
  also a Stringer prints ``<not Stringer>``.
- Go calls an afterFuncer's AfterFunc holding the child's lock; here no lock is held while
  user code runs (see _after_funcer).

Strings
-------
``str(ctx)`` is Go's String (contextName, stringify): a context of another type is named by
its ``__str__`` if its class defines one (Go's Stringer), else by its type as Go's reflect
names types: ``main.T`` for a class of a script run as ``__main__``, the module's name for the
others, the bare name for builtins (``int``; Go's ``string`` is ``str`` here). Values print
with their ``__str__`` if their class defines one (bytes and bytearray do not count: theirs
only serves ``-b``), strings as they are, anything else as ``<not Stringer>``. A child of an
afterFuncer parent names its parent ``context.stopCtx``, as Go does. ``repr(ctx)`` has the
same form, kept useful for debugging: values shown with repr() (strings as they are), type
names without their module, and the afterFuncer parent instead of ``context.stopCtx``. Both
walk the chain in a loop: chains longer than the recursion limit print.
"""

from __future__ import annotations

import math
import threading
import time as _time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

from ._runtime import (
    Chan,
    RuntimePanic,
    checkgoroutine,
    default,
    ingoroutine,
    newproc,
    nilchan,
    running,
    select,
)
from .time import Timer, now
from .time import after_func as _timer_func

__all__ = [
    "CancelCauseFunc",
    "CancelFunc",
    "Canceled",
    "Context",
    "DeadlineExceeded",
    "after_func",
    "background",
    "cause",
    "todo",
    "with_cancel",
    "with_cancel_cause",
    "with_deadline",
    "with_deadline_cause",
    "with_timeout",
    "with_timeout_cause",
    "with_value",
    "without_cancel",
]


class Canceled(Exception):
    """The error of a context cancelled by its cancel function (Go's context.Canceled)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context canceled",)))


class DeadlineExceeded(TimeoutError):
    """The error of a context whose deadline passed (Go's context.DeadlineExceeded)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("context deadline exceeded",)))


@runtime_checkable
class Context(Protocol):
    """What every context provides (Go's context.Context interface). Safe to call from any
    goroutine. Implement these four methods to make a context of your own."""

    def deadline(self) -> float | None:
        """When work done for this context should be cancelled (a gosched.time.now() value),
        or None if there is no deadline."""
        ...

    def done(self) -> Chan[Any]:
        """A channel closed when the context is cancelled; the nil channel if it never can be.
        Successive calls return the same channel."""
        ...

    def err(self) -> Exception | None:
        """None while done() is open; then why the context was cancelled (Canceled or
        DeadlineExceeded), the same error on every call."""
        ...

    def value(self, key: object) -> Any:
        """The value associated with key, or None."""
        ...


CancelFunc = Callable[[], None]
"""Cancels a context (Go's CancelFunc): idempotent, from any goroutine."""


class CancelCauseFunc(Protocol):
    """Cancels a context and records why (Go's CancelCauseFunc): err() becomes Canceled and
    cause(ctx) the given exception (Canceled if None). Only the first call has an effect."""

    def __call__(self, cause: Exception | None = None) -> None: ...


# Key under which value() returns the nearest cancelCtx (Go's &cancelCtxKey).
_cancel_ctx_key = object()

# The done channel of a context cancelled before anyone asked for its channel (Go's
# closedchan). A fresh channel has no waiters, so closing it is just setting its flag; this
# runs at import, outside any runtime.
_closedchan: Chan[None] = Chan()
_closedchan.closed = True


def _outside_goroutine() -> bool:
    """True when the caller is not a goroutine and no run is active (channels can be closed
    without waking anyone); False in a goroutine, or in a plain thread while a run is active
    (its runtime calls make it an M, cgocall.py)."""
    return not (ingoroutine() or running())


def _close_outside(d: Chan[Any]) -> None:
    """Close d outside the runtime: no run is active, so no goroutine can be parked on it
    (a goroutine killed at the end of a run may have left a stale entry in its queue; a closed
    channel never looks at its queues again)."""
    with d.lock:
        d.closed = True


# ---------------------------------------------------------------------------------------------
# background, todo, without_cancel: never cancelled


class _EmptyCtx:
    __slots__ = ()

    def deadline(self) -> float | None:
        return None

    def done(self) -> Chan[Any]:
        return nilchan

    def err(self) -> Exception | None:
        return None

    def value(self, key: object) -> Any:
        return None


class _BackgroundCtx(_EmptyCtx):
    __slots__ = ()

    def __str__(self) -> str:
        return "context.Background"

    __repr__ = __str__


class _TodoCtx(_EmptyCtx):
    __slots__ = ()

    def __str__(self) -> str:
        return "context.TODO"

    __repr__ = __str__


_background = _BackgroundCtx()
_todo = _TodoCtx()


def background() -> Context:
    """The root context: never cancelled, no values, no deadline (Go's context.Background)."""
    return _background


def todo() -> Context:
    """Like background(), to mark code that does not know yet which context to use."""
    return _todo


class _WithoutCancelCtx(_EmptyCtx):
    __slots__ = ("_parent",)

    def __init__(self, parent: Context) -> None:
        self._parent = parent

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __str__(self) -> str:
        return _string(self, True)

    def __repr__(self) -> str:
        return _string(self, False)


def without_cancel(parent: Context) -> Context:
    """A context with parent's values that is never cancelled and has no deadline (Go 1.21)."""
    _check_parent(parent)
    return _WithoutCancelCtx(parent)


def _check_parent(parent: object) -> None:
    if parent is None:
        raise RuntimePanic("cannot create context from nil parent")


# ---------------------------------------------------------------------------------------------
# with_value


class _ValueCtx:
    __slots__ = ("_parent", "_key", "_val")

    def __init__(self, parent: Context, key: object, val: object) -> None:
        self._parent = parent
        self._key = key
        self._val = val

    def deadline(self) -> float | None:
        return _deadline(self._parent)

    def done(self) -> Chan[Any]:
        return _skip_values(self._parent).done()

    def err(self) -> Exception | None:
        return _skip_values(self._parent).err()

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __str__(self) -> str:
        return _string(self, True)

    def __repr__(self) -> str:
        return _string(self, False)


def with_value(parent: Context, key: object, val: object) -> Context:
    """A child of parent in which value(key) is val (Go's WithValue). Keys compare as Go's
    interface values do: same type and equal. Use a private type (or object()) for keys."""
    _check_parent(parent)
    if key is None:
        raise RuntimePanic("nil key")
    try:
        hash(key)
    except TypeError:
        raise RuntimePanic("key is not comparable") from None
    return _ValueCtx(parent, key, val)


def _skip_values(c: Context) -> Context:
    while type(c) is _ValueCtx:
        c = c._parent
    return c


def _value(c: Context, key: object) -> Any:
    """Look key up from c towards the root (Go's value(): a loop, so long chains of contexts
    do not recurse)."""
    while True:
        t = type(c)
        if t is _ValueCtx:
            k = c._key  # type: ignore[attr-defined]
            if k is key or (type(k) is type(key) and k == key):
                return c._val  # type: ignore[attr-defined]
            c = c._parent  # type: ignore[attr-defined]
        elif t is _CancelCtx or t is _TimerCtx:
            if key is _cancel_ctx_key:
                return c
            c = c._parent  # type: ignore[attr-defined]
        elif t is _WithoutCancelCtx:
            if key is _cancel_ctx_key:
                return None
            c = c._parent  # type: ignore[attr-defined]
        elif t is _BackgroundCtx or t is _TodoCtx:
            return None
        else:
            return c.value(key)


def _deadline(c: Context) -> float | None:
    while True:
        t = type(c)
        if t is _TimerCtx:
            d: float = c._deadline  # type: ignore[attr-defined]
            return d
        if t is _ValueCtx or t is _CancelCtx:
            c = c._parent  # type: ignore[attr-defined]
        elif t is _WithoutCancelCtx or t is _BackgroundCtx or t is _TodoCtx:
            return None
        else:
            return c.deadline()


# ---------------------------------------------------------------------------------------------
# cancelCtx

# What _claim found.
_CLAIMED = 0  # this call cancelled the context
_CANCELLED = 1  # cancelled before, and published (done is closed)
_IN_PROGRESS = 2  # another call claimed it and is closing its done channel now


class _CancelCtx:
    """A context that can be cancelled (Go's cancelCtx); cancelling it cancels its children."""

    __slots__ = ("_parent", "_mu", "_done", "_children", "_err", "_cause")

    # Whether cancel(remove_from_parent=True) removes the context from its parent even when
    # the context was cancelled before: Go's cancelCtx.cancel returns early then, while
    # timerCtx.cancel and afterFuncCtx.cancel call removeChild on every such call (which
    # shows: an afterFuncer parent's stop function is called again).
    _remove_always = False

    def __init__(self, parent: Context) -> None:
        # Set before the context is published and not changed after, except that
        # _propagate_cancel replaces an afterFuncer parent by its _StopCtx (Go's c.Context).
        self._parent: Context = parent
        self._mu = threading.Lock()  # guards the fields below (Go's mu)
        # Made lazily by done(); _closedchan if cancelled before that. Closed once, by the
        # call that claimed the cancellation, after the locks are released.
        self._done: Chan[None] | None = None
        self._children: dict[_CancelCtx, None] | None = None  # None once cancelled
        self._err: Exception | None = None  # set once, by the claiming call
        self._cause: Exception | None = None  # set with _err

    def deadline(self) -> float | None:
        return _deadline(self._parent)

    def done(self) -> Chan[None]:
        d = self._done
        if d is not None:
            return d
        mu = self._mu
        mu.acquire()
        d = self._done
        if d is None:
            d = self._done = Chan()
        mu.release()
        return d

    def err(self) -> Exception | None:
        e = self._err
        if e is None:
            return None
        d = self._done
        # Published with the channel: None while the claiming call has not closed it yet.
        return e if d is not None and d.closed else None

    def value(self, key: object) -> Any:
        return _value(self, key)

    def __str__(self) -> str:
        return _string(self, True)

    def __repr__(self) -> str:
        return _string(self, False)

    def _claim(
        self, err: Exception, cause: Exception | None, outside: bool, after: list[Any]
    ) -> tuple[int, list[_CancelCtx] | None]:
        """Phase 1 of cancel for this context. self._mu is held. Returns what it found and,
        if this call claimed the cancellation, the children to cancel. Work that must wait
        for the locks to be released goes to after (callables)."""
        if self._err is not None:
            d = self._done
            assert d is not None
            return (_CANCELLED if d.closed else _IN_PROGRESS), None
        self._err = err
        self._cause = cause if cause is not None else err
        d = self._done
        if d is None:
            self._done = _closedchan
        elif outside:
            _close_outside(d)
        children = self._children
        self._children = None
        return _CLAIMED, (list(children) if children else None)

    def _cancel(
        self, remove_from_parent: bool, err: Exception, cause: Exception | None, outside: bool
    ) -> None:
        """Cancel this context and its subtree with err and cause; when it returns, all of them
        are cancelled (done closed). outside: see _outside_goroutine."""
        waits: list[tuple[bool, _CancelCtx]] = []  # (wait instead of close, ctx), post-order
        after: list[Any] = []
        mu = self._mu
        mu.acquire()
        try:
            state, children = self._claim(err, cause, outside, after)
            if children:
                _cancel_children(children, err, cause, outside, waits, after)
            _phase2(self, state, waits)
        finally:
            mu.release()
        for wait, c in waits:
            d = c._done
            assert d is not None
            if wait:
                d.recv()  # the other call closes it
            else:
                d.close()
        for f in after:
            f()
        if remove_from_parent and (state == _CLAIMED or self._remove_always):
            _remove_child(self._parent, self)


def _phase2(c: _CancelCtx, state: int, waits: list[tuple[bool, _CancelCtx]]) -> None:
    """Note what phase 2 does for c, which this call found in state. c._mu is held."""
    if state == _CLAIMED:
        d = c._done
        if d is not None and not d.closed:
            waits.append((False, c))
    elif state == _IN_PROGRESS:
        waits.append((True, c))


def _cancel_children(
    children: list[_CancelCtx],
    err: Exception,
    cause: Exception | None,
    outside: bool,
    waits: list[tuple[bool, _CancelCtx]],
    after: list[Any],
) -> None:
    """Claim the subtrees of children, depth first, each context's lock held until its own
    children are done (Go's recursion, as a loop: chains of contexts can be longer than
    Python's recursion limit). Their parent's lock is held by the caller. Channels go to
    waits in post-order: a context's channel closes after its descendants'."""
    stack = [iter(children)]
    held: list[_CancelCtx] = []  # the contexts of stack[1:], locked
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            if held:
                c = held.pop()
                _phase2(c, _CLAIMED, waits)
                c._mu.release()
            continue
        child._mu.acquire()
        state, grandchildren = child._claim(err, cause, outside, after)
        if grandchildren:
            held.append(child)
            stack.append(iter(grandchildren))
            continue
        _phase2(child, state, waits)
        child._mu.release()


def _parent_cancel_ctx(parent: Context) -> _CancelCtx | None:
    """parent's nearest cancelCtx if it is one of ours and parent.done() is its channel (Go's
    parentCancelCtx). Calls parent's methods: no lock may be held."""
    done = parent.done()
    if done is None or done is nilchan or done is _closedchan:
        return None
    p = _value(parent, _cancel_ctx_key)
    if not isinstance(p, _CancelCtx) or p._done is not done:
        return None
    return p


def _remove_child(parent: Context, child: _CancelCtx) -> None:
    """Go's removeChild. Calls user code (a stop function, parent's methods): no lock may be
    held."""
    if type(parent) is _StopCtx:
        parent._stop()
        return
    p = _parent_cancel_ctx(parent)
    if p is None:
        return
    mu = p._mu
    mu.acquire()
    if p._children:
        p._children.pop(child, None)
    mu.release()


def _propagate_cancel(parent: Context, child: _CancelCtx, what: str) -> None:
    """Arrange for child to be cancelled when parent is (Go's propagateCancel)."""
    done = parent.done()
    if done is None or done is nilchan:
        return  # the parent is never cancelled
    if done.closed:
        # Go's select with a default case on done, without the runtime: closed is set before
        # any waiter is woken, and never unset.
        child._cancel(False, _parent_err(parent), cause(parent), _outside())
        return
    p = _parent_cancel_ctx(parent)
    if p is not None:
        mu = p._mu
        mu.acquire()
        err = p._err
        if err is None:
            if p._children is None:
                p._children = {}
            p._children[child] = None
            mu.release()
            return
        pcause = p._cause
        mu.release()
        # child is new: nobody has seen it, so it may be cancelled after p's lock is dropped.
        child._cancel(False, err, pcause, _outside())
        return
    register = getattr(parent, "after_func", None)
    if register is not None:
        _after_funcer(parent, register, child, what)
        return
    # A foreign parent: watch it from a goroutine. The select catches a parent done since the
    # check above (and takes a value from a buffered done channel, as Go's select does).
    checkgoroutine(what)
    if select(done.recv, default)[0] == 0:
        child._cancel(False, _parent_err(parent), cause(parent), False)
        return
    newproc(_watch_foreign, (parent, done, child), {}, 0)


def _after_funcer(
    parent: Context, register: Callable[[Callable[[], None]], Any], child: _CancelCtx, what: str
) -> None:
    """Go's afterFuncer case of propagateCancel: parent calls f once it is done; child keeps
    the stop function in its _StopCtx, for _remove_child. Go holds the child's lock around
    the call; here no lock is held while user code runs (register may call f at once). That
    is safe because f cancels with remove_from_parent False, which never reads _parent, and
    the child is not published until this returns."""

    def f() -> None:
        child._cancel(False, _parent_err(parent), cause(parent), _outside_goroutine())

    stop = register(f)
    if not callable(stop):
        raise TypeError(
            f"{what}: the parent's after_func returned {type(stop).__name__}, not a stop function"
        )
    child._parent = _StopCtx(parent, stop)


class _StopCtx:
    """The parent of a context whose parent is an afterFuncer (Go's stopCtx): that parent,
    whose methods it forwards, and the stop function of the child's registration."""

    __slots__ = ("_parent", "_stop")

    def __init__(self, parent: Context, stop: Callable[[], object]) -> None:
        self._parent = parent  # immutable
        self._stop = stop  # immutable

    def deadline(self) -> float | None:
        return self._parent.deadline()

    def done(self) -> Chan[Any]:
        return self._parent.done()

    def err(self) -> Exception | None:
        return self._parent.err()

    def value(self, key: object) -> Any:
        return self._parent.value(key)

    def __str__(self) -> str:
        return _string(self, True)

    def __repr__(self) -> str:
        return _string(self, False)


def _watch_foreign(parent: Context, done: Chan[Any], child: _CancelCtx) -> None:
    """The goroutine that cancels child when its foreign parent is done, or ends when child
    is cancelled first."""
    if select(done.recv, child.done().recv)[0] == 0:
        child._cancel(False, _parent_err(parent), cause(parent), False)


def _parent_err(parent: Context) -> Exception:
    err = parent.err()
    if err is None:
        raise RuntimePanic("context: internal error: missing cancel error")
    return err


def _outside() -> bool:
    """Creating a context from a cancelled parent: the new context has no done channel and
    no children yet, so cancelling it needs no runtime, even from a foreign thread."""
    return not ingoroutine()


def with_cancel(parent: Context) -> tuple[Context, CancelFunc]:
    """A child of parent with its own done channel, closed when cancel() is called or parent
    is cancelled, whichever happens first (Go's WithCancel). Call cancel when the work is done,
    to release the child from its parent."""
    _check_parent(parent)
    c = _CancelCtx(parent)
    _propagate_cancel(parent, c, "context.with_cancel")

    def cancel() -> None:
        c._cancel(True, Canceled(), None, _outside_goroutine())

    return c, cancel


def with_cancel_cause(parent: Context) -> tuple[Context, CancelCauseFunc]:
    """Like with_cancel, but cancel(cause) records cause, which cause(ctx) returns; err() is
    still Canceled (Go 1.20's WithCancelCause)."""
    _check_parent(parent)
    c = _CancelCtx(parent)
    _propagate_cancel(parent, c, "context.with_cancel_cause")

    def cancel(cause: Exception | None = None) -> None:
        _check_cause(cause, "context.with_cancel_cause: cancel")
        c._cancel(True, Canceled(), cause, _outside_goroutine())

    return c, cancel


def cause(ctx: Context) -> Exception | None:
    """Why ctx was cancelled (Go 1.20's Cause): the cause given to a CancelCauseFunc or to
    with_deadline_cause, else ctx.err(); None while ctx is not cancelled."""
    cc = _value(ctx, _cancel_ctx_key)
    if isinstance(cc, _CancelCtx):
        mu = cc._mu
        mu.acquire()
        c = cc._cause
        d = cc._done
        mu.release()
        return c if d is not None and d.closed else None
    return ctx.err()


# ---------------------------------------------------------------------------------------------
# timerCtx


class _TimerCtx(_CancelCtx):
    """A cancelCtx with a deadline, and the timer that cancels it then (Go's timerCtx)."""

    __slots__ = ("_deadline", "_timer")

    _remove_always = True

    def __init__(self, parent: Context, deadline: float) -> None:
        super().__init__(parent)
        self._deadline = deadline  # immutable
        self._timer: Timer | None = None  # guarded by _mu; None once cancelled

    def deadline(self) -> float | None:
        return self._deadline

    def _claim(
        self, err: Exception, cause: Exception | None, outside: bool, after: list[Any]
    ) -> tuple[int, list[_CancelCtx] | None]:
        r = super()._claim(err, cause, outside, after)
        t = self._timer
        if t is not None:
            self._timer = None
            after.append(t.stop)
        return r


def with_deadline(parent: Context, d: float) -> tuple[Context, CancelFunc]:
    """A child of parent that is also cancelled, with DeadlineExceeded, at d (a
    gosched.time.now() value). If parent's deadline is earlier, this is with_cancel(parent)
    (Go's WithDeadline). A deadline ahead arms a timer: call from a goroutine."""
    return _with_deadline(parent, d, None, "context.with_deadline")


def with_deadline_cause(
    parent: Context, d: float, cause: Exception | None
) -> tuple[Context, CancelFunc]:
    """with_deadline, with cause(ctx) = cause when the deadline passes (Go 1.21)."""
    return _with_deadline(parent, d, cause, "context.with_deadline_cause")


def _with_deadline(
    parent: Context, d: float, cause: Exception | None, what: str
) -> tuple[Context, CancelFunc]:
    """Go's WithDeadlineCause; what names the public function for errors."""
    _check_parent(parent)
    d = _seconds(d, what, "d", "a gosched.time.now() value")
    _check_cause(cause, what)
    cur = parent.deadline()
    if cur is not None and cur < d:
        # The current deadline is already sooner than the new one.
        return with_cancel(parent)
    c = _TimerCtx(parent, d)
    dur = d - now()
    if dur > 0:
        checkgoroutine(what)  # the timer needs a goroutine; check first
    _propagate_cancel(parent, c, what)
    if dur <= 0:
        c._cancel(True, DeadlineExceeded(), cause, _outside())

        def cancel_expired() -> None:
            c._cancel(False, Canceled(), None, _outside_goroutine())

        return c, cancel_expired

    def expire() -> None:
        c._cancel(True, DeadlineExceeded(), cause, False)

    if c._err is None:  # not cancelled at birth by its parent
        # Armed with no lock held (it enters the runtime), then stored unless a cancel came
        # in between, which could not stop it: then it is stopped here.
        t: Timer | None = _timer_func(dur, expire)
        mu = c._mu
        mu.acquire()
        if c._err is None:
            c._timer = t
            t = None
        mu.release()
        if t is not None:
            t.stop()

    def cancel() -> None:
        c._cancel(True, Canceled(), None, _outside_goroutine())

    return c, cancel


def with_timeout(parent: Context, seconds: float) -> tuple[Context, CancelFunc]:
    """with_deadline(parent, now() + seconds) (Go's WithTimeout)."""
    _check_parent(parent)
    what = "context.with_timeout"
    return _with_deadline(parent, now() + _seconds(seconds, what, "seconds", ""), None, what)


def with_timeout_cause(
    parent: Context, seconds: float, cause: Exception | None
) -> tuple[Context, CancelFunc]:
    """with_deadline_cause(parent, now() + seconds, cause) (Go 1.21)."""
    _check_parent(parent)
    what = "context.with_timeout_cause"
    return _with_deadline(parent, now() + _seconds(seconds, what, "seconds", ""), cause, what)


def _seconds(x: object, what: str, name: str, kind: str) -> float:
    """x, a time in seconds given to what as its argument name, as a float. Go's times are
    int64 nanoseconds and its arithmetic saturates: an infinity (or an int too large for a
    float) stands for the far end, but NaN is no time at all."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        kind = f" ({kind})" if kind else ""
        raise TypeError(f"{what}: {name} must be a number{kind}, not {type(x).__name__}")
    try:
        f = float(x)
    except OverflowError:
        f = math.inf if x > 0 else -math.inf
    if math.isnan(f):
        raise ValueError(f"{what}: {name} is NaN")
    return f


def _check_cause(cause: object, what: str) -> None:
    if cause is not None and not isinstance(cause, Exception):
        raise TypeError(f"{what}: cause must be an exception or None, not {type(cause).__name__}")


# ---------------------------------------------------------------------------------------------
# after_func (Go 1.21)


class _AfterFuncCtx(_CancelCtx):
    """Starts f in a goroutine when its parent is cancelled, unless stopped first."""

    __slots__ = ("_f", "_once")

    _remove_always = True

    def __init__(self, parent: Context, f: Callable[[], object]) -> None:
        super().__init__(parent)
        self._f = f
        self._once = False  # guarded by _mu: f was started, or stop() won (Go's once)

    def _claim(
        self, err: Exception, cause: Exception | None, outside: bool, after: list[Any]
    ) -> tuple[int, list[_CancelCtx] | None]:
        r = super()._claim(err, cause, outside, after)
        if not self._once:
            self._once = True
            after.append(self._start)
        return r

    def _start(self) -> None:
        if not ingoroutine():
            raise RuntimeError(
                "gosched.context.after_func: the context was cancelled outside gosched.run, "
                "so its function cannot start"
            )
        newproc(self._f, (), {}, 0)


def after_func(ctx: Context, f: Callable[[], object]) -> Callable[[], bool]:
    """Run f() in its own goroutine once ctx is cancelled (at once if it already is); Go
    1.21's AfterFunc. Returns stop(): True if it stopped f from being started, False if f
    has been started or stop was already called."""
    if not callable(f):
        raise TypeError("context.after_func: f must be callable")
    _check_parent(ctx)
    checkgoroutine("context.after_func")
    a = _AfterFuncCtx(ctx, f)
    _propagate_cancel(ctx, a, "context.after_func")

    def stop() -> bool:
        mu = a._mu
        mu.acquire()
        stopped = not a._once
        a._once = True
        mu.release()
        if stopped:
            a._cancel(True, Canceled(), None, _outside_goroutine())
        return stopped

    return stop


# ---------------------------------------------------------------------------------------------
# String forms: Go's String methods, contextName and stringify (see "Strings" above)


def _string(c: object, go: bool) -> str:
    """str(c) (go) or repr(c) of one of this module's contexts. Walks to the first context
    of another type (or the root) in a loop, collecting each context's part."""
    parts: list[str] = []
    while True:
        t = type(c)
        if t is _CancelCtx or t is _AfterFuncCtx:
            parts.append(".WithCancel")
        elif t is _TimerCtx:
            parts.append(f".WithDeadline({_deadline_string(c._deadline)})")  # type: ignore[attr-defined]
        elif t is _ValueCtx:
            parts.append(_value_string(c, go))  # type: ignore[arg-type]
        elif t is _WithoutCancelCtx:
            parts.append(".WithoutCancel")
        elif t is _BackgroundCtx:
            parts.append("context.Background")
            break
        elif t is _TodoCtx:
            parts.append("context.TODO")
            break
        elif t is _StopCtx:
            if go:
                parts.append("context.stopCtx")  # Go's stopCtx is no Stringer
                break
        else:
            parts.append(_context_name(c, go))
            break
        c = c._parent  # type: ignore[attr-defined]
    return "".join(reversed(parts))


def _context_name(c: object, go: bool) -> str:
    """Go's contextName of a context of another type: str(c) if its class defines __str__
    (Go's Stringer), else its type's name; for repr, repr(c) if its class defines __repr__."""
    t = type(c)
    if go:
        return str(c) if _stringer(c) else _typename(t, True)
    return repr(c) if t.__repr__ is not object.__repr__ else _typename(t, False)


def _value_string(c: _ValueCtx, go: bool) -> str:
    """The part of a valueCtx (Go's valueCtx.String, with stringify for str)."""
    val = c._val
    if go:
        shown = str(val) if _stringer(val) else "<not Stringer>"
    else:
        shown = val if isinstance(val, str) else repr(val)
    return f".WithValue(type {_typename(type(c._key), go)}, val {shown})"


# __str__ methods that do not make a Stringer: object's, and bytes' (only there for -b).
_NOT_STRINGER = (object.__str__, bytes.__str__, bytearray.__str__)


def _stringer(v: object) -> bool:
    """Whether v's class defines __str__ (Go's Stringer interface). str is one, so strings
    print as they are either way, as in Go's stringify."""
    return type(v).__str__ not in _NOT_STRINGER


def _typename(t: type, qualified: bool) -> str:
    """Type t named as Go's reflect names a type (qualified): with its package, ``main`` for
    a script run as __main__; builtins bare, as Go's predeclared types. A class defined in a
    function is named without it, as Go names a type declared in a function."""
    name = t.__qualname__.rpartition("<locals>.")[2]
    mod = t.__module__
    if not qualified or mod == "builtins":
        return name
    return ("main" if mod == "__main__" else mod) + "." + name


_NS_MAX = (1 << 63) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ns(seconds: float) -> int:
    """seconds as int64 nanoseconds, saturated as Go's time arithmetic saturates."""
    x = seconds * 1e9
    if x >= _NS_MAX:
        return _NS_MAX
    if x <= -_NS_MAX - 1:
        return -_NS_MAX - 1
    return round(x)


def _deadline_string(d: float) -> str:
    """Go's d.String() + " [" + time.Until(d).String() + "]" for a deadline d on gosched's
    monotonic clock: the local wall time d falls at (now's wall time plus the time left, to
    the nanosecond, trailing zeros dropped), the zone's offset and name, and ``m=`` with d,
    the monotonic reading, as ``2009-11-10 23:00:05.5 +0000 UTC m=+12.000000001 [4.99s]``."""
    left = _ns(d - now())
    sec, nsec = divmod(_time.time_ns() + left, 1_000_000_000)
    t = _EPOCH + timedelta(seconds=sec)
    try:
        t = t.astimezone()  # Go's time.Local
    except (OverflowError, OSError, ValueError):
        pass  # out of the platform's range: stays UTC
    offset = t.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    frac = f".{nsec:09d}".rstrip("0") if nsec else ""
    mono = _ns(d)
    msec, mnsec = divmod(abs(mono), 1_000_000_000)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f"{frac} {zone} {t.tzname() or zone} m={'-' if mono < 0 else '+'}{msec}.{mnsec:09d}"
        f" [{_duration_string(left)}]"
    )


# ---------------------------------------------------------------------------------------------
# Go's time.Duration.String, for a timerCtx's string


def _duration_string(ns: int) -> str:
    """ns formatted as Go's Duration.String: "1h2m3.5s", "49.99ms", "2µs", "0s"."""
    neg = ns < 0
    u = -ns if neg else ns
    if u < 1_000_000_000:
        if u == 0:
            return "0s"
        if u < 1_000:
            s = f"{u}ns"
        elif u < 1_000_000:
            frac, u = _frac(u, 3)
            s = f"{u}{frac}µs"
        else:
            frac, u = _frac(u, 6)
            s = f"{u}{frac}ms"
    else:
        frac, u = _frac(u, 9)
        s = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            s = f"{u % 60}m{s}"
            u //= 60
            if u > 0:
                s = f"{u}h{s}"
    return "-" + s if neg else s


def _frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of v / 10**prec without trailing zeros ("" if zero), and the
    integer part."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    return ("." + "".join(reversed(digits)) if printed else ""), v
