"""gosched trace view: one execution-trace file made into one self-contained HTML viewer.

The contract is docs/trace.md, and only it: the file is Chrome Trace Event JSON, P tracks on
pid 1 (tid = P id + 1), M tracks on pid 2 (tid = M id + 1), the scheduler's instants on pid 3
tid 1, flows and counters. Whatever else a file holds (other pids, unknown event names, args
or phases) is ignored, so the recorder may grow without breaking the viewer, and a file another
tool wrote opens too (with little to show). Only what is not a trace at all is rejected, with
:class:`TraceFormatError`.

The work is split between Python and the page:

- :func:`load` reads the file once and converts it to a compact columnar model. Chrome's
  events are objects with repeated keys; the page gets numbers in arrays (times in integer
  nanoseconds, sorted and delta-coded where that makes them short), strings in one table, and
  the scheduler's instants as one flat integer stream. A million events become a few tens of
  megabytes of JSON that the browser parses in well under a second. The per-goroutine totals
  and the tables built from them (per start function, per wait reason) are computed here too:
  they need one pass over the instants and are plain to test in Python.
- :func:`render` embeds the model in ``_traceview.html`` (package data: inline JS and CSS, no
  network) as ``<script type="application/json">``, which the browser neither executes nor
  builds a DOM for, and which ``JSON.parse`` reads faster than the same data as a JS literal.
- The page replays the instants to show the scheduler's state at any instant. It keeps a
  checkpoint of the whole state every few thousand instants, so a click replays at most that
  many; the replay is not done here because its result (every queue at every instant) is far
  larger than its input.

Times: the file's ``ts``/``dur`` are microseconds with nanosecond decimals; the model holds
integer nanoseconds on the file's own clock (not rebased), so an instant the page shows, or
takes in its URL (``#t=<µs>``), is the file's ``ts``.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = [
    "GoroutineStats",
    "Level",
    "TraceFormatError",
    "TraceModel",
    "Track",
    "load",
    "main",
    "render",
]

# docs/trace.md, "Tracks".
PID_PS = 1
PID_MS = 2
PID_RUNTIME = 3

# The scheduler's instants (docs/trace.md, "Instants") and how each is stored: the args the
# replay reads, each with the column it lands in and its type, and the name of a list arg.
# Columns: g (a goroutine), p (a P; -1 for null), m (an M), x (a number: gfree, next, n,
# RunqSteal's `from` P, or State's index in the model's states), y (a second goroutine, parent
# or by, or a string index: a reason, a kind). In the page's stream a record is the op's index,
# its columns in this order, then, for an op with a list, the list's length and items. The page
# decodes the stream from this table, which is embedded in the model, so this is the one place
# the layout is written down. State is the one op whose args are a structure: they go, checked
# and made compact (_state), to the model's ``states``, and its record holds their index.
INT, BOOL, STR, STATE = "int", "bool", "str", "state"
SCHED_OPS: dict[str, tuple[tuple[tuple[str, str, str], ...], str | None]] = {
    "State": ((("state", "x", STATE),), None),
    "GoCreate": (
        (("g", "g", INT), ("p", "p", INT), ("gfree", "x", INT), ("parent", "y", INT)),
        None,
    ),
    "GoUnblock": ((("g", "g", INT), ("by", "y", INT)), None),
    "RunqPut": ((("g", "g", INT), ("p", "p", INT), ("next", "x", BOOL)), None),
    "GoStart": ((("g", "g", INT), ("p", "p", INT), ("m", "m", INT)), None),
    "GoStop": ((("g", "g", INT), ("reason", "y", STR)), None),
    "GoBlock": ((("g", "g", INT), ("reason", "y", STR)), None),
    "GoDestroy": ((("g", "g", INT), ("p", "p", INT), ("gfree", "x", INT)), None),
    "GFree": ((("p", "p", INT), ("gfree", "x", INT)), None),
    "GoSyscallBegin": ((("g", "g", INT), ("m", "m", INT), ("kind", "y", STR)), None),
    "GoSyscallEnd": ((("g", "g", INT), ("m", "m", INT)), None),
    "GoSyscallEndBlocked": ((("g", "g", INT), ("m", "m", INT)), None),
    "GlobalPut": ((("g", "g", INT),), None),
    "RunqSpill": ((("p", "p", INT),), "gs"),
    "GlobalGet": ((("p", "p", INT),), "gs"),
    "RunqSteal": ((("p", "p", INT), ("from", "x", INT)), "gs"),
    "ProcStart": ((("p", "p", INT), ("m", "m", INT)), None),
    "ProcStop": ((("p", "p", INT), ("m", "m", INT)), None),
    "ProcSteal": ((("p", "p", INT), ("m", "m", INT)), None),
    "ProcsChange": ((("n", "x", INT),), "gs"),
    "MStart": ((("m", "m", INT),), None),
    "MStop": ((("m", "m", INT),), None),
}
OP_NAMES = tuple(SCHED_OPS)
_OP_INDEX = {name: i for i, name in enumerate(OP_NAMES)}

# A goroutine's state between two instants, for its time totals (what go tool trace's
# goroutine analysis sums): from the op that starts each state to the next op naming it.
# GoSyscallEnd is followed by the GoStart that gives the G its P back.
_NONE, _RUNNABLE, _RUNNING, _BLOCKED, _SYSCALL, _DEAD = range(6)
_ENTERS: dict[str, int] = {
    "GoCreate": _RUNNABLE,
    "GoUnblock": _RUNNABLE,
    "RunqPut": _RUNNABLE,
    "GoStart": _RUNNING,
    "GoStop": _RUNNABLE,
    "GoBlock": _BLOCKED,
    "GoDestroy": _DEAD,
    "GoSyscallBegin": _SYSCALL,
    "GoSyscallEnd": _RUNNABLE,
    "GoSyscallEndBlocked": _RUNNABLE,
    "GlobalPut": _RUNNABLE,
    "RunqSpill": _RUNNABLE,
    "GlobalGet": _RUNNABLE,
    "RunqSteal": _RUNNABLE,
    "ProcsChange": _RUNNABLE,
}
# A State's goroutine statuses (the recorder writes Go's: waiting for a parked G).
_STATUSES = {
    "runnable": _RUNNABLE,
    "running": _RUNNING,
    "waiting": _BLOCKED,
    "blocked": _BLOCKED,
    "syscall": _SYSCALL,
}

# Slice levels by category (docs/trace.md, "Slices"): the M holding a P (or the P an M
# holds), the goroutine running, and on M tracks a syscall.
LEVELS = ("proc", "goroutine", "syscall")

PERCENTILES = (50, 90, 99)
METRICS = ("running", "runnable", "blocked", "syscall")


class TraceFormatError(ValueError):
    """The file is not a gosched trace (Chrome Trace Event JSON); the message names the file
    and what is wrong with it."""


class _Malformed(Exception):
    """An event of a known kind with an arg of the wrong type: the event is skipped."""


# --------------------------------------------------------------------------------------------------
# The model


@dataclass
class Level:
    """One level of one track's slices, sorted by start: columns of equal length. ``c`` is a
    string index: a goroutine slice's ``end``, a syscall's ``kind``; ``r`` a goroutine
    slice's ``reason`` (-1: none); ``o`` a proc slice's other end (the M on a P track, the P
    on an M track); ``g`` the goroutine of a goroutine or syscall slice."""

    kind: str
    start: list[int] = field(default_factory=list)  # ns
    dur: list[int] = field(default_factory=list)  # ns
    g: list[int] = field(default_factory=list)
    c: list[int] = field(default_factory=list)
    r: list[int] = field(default_factory=list)
    o: list[int] = field(default_factory=list)


@dataclass
class Track:
    kind: str  # "P" or "M"
    id: int
    name: str
    levels: dict[str, Level] = field(default_factory=dict)


@dataclass
class GoroutineStats:
    """One goroutine's totals over the trace, in ns. ``parent`` is the creator's goid, 0 when
    the runtime created it, -1 when the trace does not say (created before it started)."""

    goid: int
    fn: str
    parent: int
    running: int = 0
    runnable: int = 0
    blocked: int = 0
    syscall: int = 0
    blocked_by: dict[str, list[int]] = field(default_factory=dict)  # reason -> [count, ns]


@dataclass
class TraceModel:
    """What :func:`load` makes of a trace file, and :func:`render` shows."""

    path: str
    meta: dict[str, str]
    start: int  # ns: the first event's time
    end: int  # ns: the last event's end
    nprocs: int  # GOMAXPROCS at the start
    strings: list[str]
    tracks: list[Track]
    # The scheduler's instants, sorted by time (stable: the file's order among equal times).
    inst_t: list[int]
    inst_stream: list[int]
    states: list[dict[str, Any]]  # the State instants' args (_state), by their index x
    goroutines: dict[int, GoroutineStats]
    flows: list[tuple[int, int, int, int, int]]  # (name sid, t0, track0, t1, track1)
    counters: list[tuple[str, list[str], list[int], list[list[float]]]]  # name, series, t, values
    events: int  # traceEvents in the file
    skipped: int  # events of a known kind that were malformed


class _Strings:
    """A string table: each string once, referred to by its index."""

    def __init__(self, table: Sequence[str] = ()) -> None:
        self.table: list[str] = list(table)
        self.index: dict[str, int] = {s: i for i, s in enumerate(self.table)}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


# --------------------------------------------------------------------------------------------------
# Loading


def _kind(v: object) -> str:
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    return "null"


_NUMBERS = (int, float)


def _ns(v: Any) -> int:
    """A ts or dur (µs with ns decimals) as integer ns."""
    # The hot path of load(): an exact class test (a bool is no time) and v - v == 0, which
    # holds for finite numbers only (inf - inf and nan - nan are nan).
    if v.__class__ in _NUMBERS and v - v == 0:
        return round(v * 1000)
    raise _Malformed


def _int(v: object) -> int:
    """An id or count; null (a P that is none) is -1."""
    if v is None:
        return -1
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise _Malformed


def load(path: str | os.PathLike[str]) -> TraceModel:
    """Read one trace file (only that file: the parts of a split trace are each a whole trace)
    into the viewer's model. Raises OSError if it cannot be read, TraceFormatError if it is not
    a trace."""
    name = os.fspath(path)
    with open(name, "rb") as f:
        raw = f.read()
    if not raw.strip():
        raise TraceFormatError(f"{name}: empty file, not a trace")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError
        raise TraceFormatError(f"{name}: not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise TraceFormatError(
            f"{name}: not a trace: the JSON is {_kind(doc)}, not an object with traceEvents"
        )
    if "traceEvents" not in doc:
        raise TraceFormatError(f"{name}: not a trace: no traceEvents")
    events = doc["traceEvents"]
    if not isinstance(events, list):
        raise TraceFormatError(f"{name}: not a trace: traceEvents is {_kind(events)}, not an array")
    return _Builder(name, doc.get("otherData")).build(events)


class _Builder:
    def __init__(self, path: str, other: object) -> None:
        self.path = path
        self.meta: dict[str, str] = {}
        if isinstance(other, dict):
            for k, v in other.items():
                if isinstance(v, (str, int, float, bool)):
                    self.meta[str(k)] = str(v)
        self.strings = _Strings()
        self.names: dict[tuple[int, int], str] = {}
        self.track_ids: set[tuple[int, int]] = set()  # (pid, tid) of every P and M track
        # (pid, tid, level) -> rows (start, dur, g, c, r, o)
        self.slices: dict[tuple[int, int, str], list[tuple[int, int, int, int, int, int]]] = {}
        self.instants: list[tuple[int, int, str, dict[str, Any]]] = []  # (t, seq, name, args)
        self.states: list[dict[str, Any]] = []  # State instants' args, as _state() makes them
        self.flow_src: dict[object, tuple[int, int]] = {}  # id -> (t, P tid)
        self.flow_dst: list[tuple[object, str, int, int]] = []  # (id, name, t, P tid)
        self.counters: dict[str, tuple[list[str], list[tuple[int, dict[str, Any]]]]] = {}
        self.fn_seen: dict[int, str] = {}  # goid -> fn, from slices
        self.tmin = math.inf
        self.tmax = -math.inf
        self.skipped = 0

    def when(self, t: int, end: int | None = None) -> None:
        self.tmin = min(self.tmin, t)
        self.tmax = max(self.tmax, t if end is None else end)

    def build(self, events: list[Any]) -> TraceModel:
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                raise TraceFormatError(
                    f"{self.path}: not a trace: traceEvents[{i}] is {_kind(ev)}, not an object"
                )
            try:
                self.event(ev, i)
            except _Malformed:
                self.skipped += 1
        return self.model(len(events))

    def event(self, ev: dict[str, Any], seq: int) -> None:
        ph = ev.get("ph")
        pid = ev.get("pid")
        if ph == "X":
            if pid in (PID_PS, PID_MS):
                self.slice(ev, pid)
        elif ph in ("i", "I"):  # tuples, not sets: a malformed ph may be unhashable
            name = ev.get("name")
            if pid == PID_RUNTIME and isinstance(name, str) and name in SCHED_OPS:
                args = ev.get("args")
                t = _ns(ev.get("ts"))
                self.when(t)
                self.instants.append((t, seq, name, args if isinstance(args, dict) else {}))
        elif ph == "M":
            args = ev.get("args")
            if ev.get("name") == "thread_name" and isinstance(args, dict):
                tid = ev.get("tid")
                if pid in (PID_PS, PID_MS) and isinstance(tid, int) and tid >= 1:
                    self.names[(pid, tid)] = str(args.get("name", ""))
                    self.track_ids.add((pid, tid))
        elif ph in ("s", "f"):
            if pid == PID_PS:
                self.flow(ev, ph)
        elif ph == "C" and pid == PID_RUNTIME:
            self.counter(ev)

    def slice(self, ev: dict[str, Any], pid: int) -> None:
        level = ev.get("cat")
        tid = ev.get("tid")
        if level not in LEVELS or not isinstance(tid, int) or tid < 1:
            return
        t = _ns(ev.get("ts"))
        d = _ns(ev.get("dur"))
        if d < 0:
            raise _Malformed
        self.when(t, t + d)
        args = ev.get("args")
        if not isinstance(args, dict):
            args = {}
        g = c = r = o = -1
        if level == "proc":
            o = _int(args.get("m" if pid == PID_PS else "p"))
        elif level == "goroutine":
            g = _int(args.get("g"))
            c = self.strings(str(args.get("end", "")))
            reason = args.get("reason")
            if reason is not None:
                r = self.strings(str(reason))
            fn = args.get("fn")
            if isinstance(fn, str) and g not in self.fn_seen:
                self.fn_seen[g] = fn
        else:
            g = _int(args.get("g"))
            c = self.strings(str(args.get("kind", "")))
        key = (pid, tid, level)
        rows = self.slices.get(key)
        if rows is None:
            rows = self.slices[key] = []
            self.track_ids.add((pid, tid))
        rows.append((t, d, g, c, r, o))

    def flow(self, ev: dict[str, Any], ph: str) -> None:
        tid = ev.get("tid")
        fid = ev.get("id")
        if not isinstance(tid, int) or tid < 1 or not isinstance(fid, (int, str)):
            return
        t = _ns(ev.get("ts"))
        if ph == "s":
            self.flow_src[fid] = (t, tid)
        else:
            self.flow_dst.append((fid, str(ev.get("name", "")), t, tid))

    def counter(self, ev: dict[str, Any]) -> None:
        name = ev.get("name")
        args = ev.get("args")
        if not isinstance(name, str) or not isinstance(args, dict):
            return
        t = _ns(ev.get("ts"))
        series, samples = self.counters.setdefault(name, ([], []))
        for k, v in args.items():
            if k not in series and isinstance(v, (int, float)) and not isinstance(v, bool):
                series.append(k)
        samples.append((t, args))

    # ----------------------------------------------------------------------------------------------

    def model(self, nevents: int) -> TraceModel:
        s = self.strings
        start = 0 if self.tmin == math.inf else int(self.tmin)
        end = start if self.tmax == -math.inf else int(self.tmax)
        tracks = self.tracks()
        row = {(PID_PS if tr.kind == "P" else PID_MS, tr.id + 1): i for i, tr in enumerate(tracks)}
        self.instants.sort(key=lambda e: (e[0], e[1]))
        inst_t, stream = self.encode_instants()
        flows = []
        for fid, name, t1, tid1 in self.flow_dst:
            src = self.flow_src.get(fid)
            if src is None:
                continue
            r0, r1 = row.get((PID_PS, src[1])), row.get((PID_PS, tid1))
            if r0 is not None and r1 is not None:
                flows.append((s(name), src[0], r0, t1, r1))
        flows.sort(key=lambda f: f[1])
        counters = []
        for name, (series, samples) in self.counters.items():
            samples.sort(key=lambda x: x[0])
            values = [[_number(a.get(k)) for _, a in samples] for k in series]
            counters.append((name, series, [t for t, _ in samples], values))
        gomaxprocs = self.meta.get("gomaxprocs", "")
        nprocs = (
            int(gomaxprocs) if gomaxprocs.isdigit() else sum(1 for tr in tracks if tr.kind == "P")
        )
        return TraceModel(
            path=self.path,
            meta=self.meta,
            start=start,
            end=end,
            nprocs=nprocs,
            strings=s.table,
            tracks=tracks,
            inst_t=inst_t,
            inst_stream=stream,
            states=self.states,
            goroutines=self.goroutine_stats(end),
            flows=flows,
            counters=counters,
            events=nevents,
            skipped=self.skipped,
        )

    def tracks(self) -> list[Track]:
        out = []
        for pid, tid in sorted(self.track_ids):
            kind = "P" if pid == PID_PS else "M"
            tr = Track(kind, tid - 1, self.names.get((pid, tid)) or f"{kind}{tid - 1}")
            for name in LEVELS:
                rows = self.slices.get((pid, tid, name))
                if not rows:
                    continue
                rows.sort()
                lv = Level(name)
                for t, d, g, c, r, o in rows:
                    lv.start.append(t)
                    lv.dur.append(d)
                    lv.g.append(g)
                    lv.c.append(c)
                    lv.r.append(r)
                    lv.o.append(o)
                tr.levels[name] = lv
            out.append(tr)
        return out

    def encode_instants(self) -> tuple[list[int], list[int]]:
        """The instants as the page's stream (see SCHED_OPS); a malformed one is skipped."""
        times: list[int] = []
        stream: list[int] = []
        s = self.strings
        for t, _, name, args in self.instants:
            cols, listarg = SCHED_OPS[name]
            rec = [_OP_INDEX[name]]
            try:
                for arg, _col, typ in cols:
                    v = args.get(arg)
                    if typ == STR:
                        rec.append(s(str(v)) if v is not None else -1)
                    elif typ == STATE:
                        rec.append(len(self.states))
                        self.states.append(_state(args))
                    else:
                        rec.append(_int(v))
                if listarg is not None:
                    gs = args.get(listarg)
                    if not isinstance(gs, list):
                        raise _Malformed
                    rec.append(len(gs))
                    rec.extend(_int(g) for g in gs)
            except _Malformed:
                self.skipped += 1
                continue
            times.append(t)
            stream.extend(rec)
        return times, stream

    def goroutine_stats(self, end: int) -> dict[int, GoroutineStats]:
        """Each goroutine's time in each state, from the instants (in time order): a state
        lasts from the op that enters it to the next op that names the goroutine, the last
        one to the trace's end. Before its first instant a goroutine is counted nowhere."""
        stats: dict[int, GoroutineStats] = {}
        # goid -> [state, since, reason]
        cur: dict[int, list[Any]] = {}

        def enter(g: int, state: int, t: int, reason: str = "") -> GoroutineStats:
            st = stats.get(g)
            if st is None:
                st = stats[g] = GoroutineStats(g, self.fn_seen.get(g, ""), -1)
            c = cur.get(g)
            if c is not None:
                _account(st, c[0], t - c[1], c[2])
                c[0], c[1], c[2] = state, t, reason
            else:
                cur[g] = [state, t, reason]
            return st

        for t, _, name, args in self.instants:
            if name == "State":
                # Replay starts again from here: every goroutine listed is in its status now,
                # one not listed is gone.
                listed = set()
                gs = args.get("gs")
                for x in gs if isinstance(gs, list) else ():
                    try:
                        g = _int(x.get("g")) if isinstance(x, dict) else -1
                    except _Malformed:
                        continue
                    if g < 0:
                        continue
                    listed.add(g)
                    reason = str(x.get("reason") or "")
                    st = enter(g, _STATUSES.get(str(x.get("status")), _NONE), t, reason)
                    fn = x.get("fn")
                    if isinstance(fn, str) and fn and not st.fn:
                        st.fn = fn
                for g in cur:
                    if g not in listed:
                        enter(g, _DEAD, t)
                continue
            state = _ENTERS.get(name)
            if state is None:
                continue
            try:
                if SCHED_OPS[name][1] is not None:
                    gs = args.get("gs")
                    for g in gs if isinstance(gs, list) else ():
                        enter(_int(g), state, t)
                    continue
                g = _int(args.get("g"))
            except _Malformed:
                continue
            if g < 0:
                continue
            reason = str(args.get("reason", "")) if state == _BLOCKED else ""
            st = enter(g, state, t, reason)
            if state == _BLOCKED:
                st.blocked_by.setdefault(reason, [0, 0])[0] += 1
            if name == "GoCreate":
                st = stats[g]
                fn = args.get("fn")
                if isinstance(fn, str):
                    st.fn = fn
                try:
                    st.parent = _int(args.get("parent"))
                except _Malformed:
                    pass
        for g, c in cur.items():
            _account(stats[g], c[0], end - c[1], c[2])
        for g, fn in self.fn_seen.items():  # seen running, never in an instant
            if g >= 0 and g not in stats:
                stats[g] = GoroutineStats(g, fn, -1)
        return dict(sorted(stats.items()))


def _state(args: dict[str, Any]) -> dict[str, Any]:
    """A State's args, checked, as the page's replay loads them: ``ps`` as [p, held (0/1), m,
    runnext, gfree, runq], ``ms`` as [m, p, curg, idle (0/1), curg in a syscall (0/1)],
    ``global`` as goids; -1 for a null P or M, 0 for a null goroutine. Raises _Malformed."""
    ps_in, ms_in, gq, gs = args.get("ps"), args.get("ms"), args.get("global"), args.get("gs")
    if not (isinstance(ps_in, list) and isinstance(ms_in, list) and isinstance(gq, list)):
        raise _Malformed
    insyscall = set()
    for x in gs if isinstance(gs, list) else ():
        if isinstance(x, dict) and x.get("status") == "syscall":
            insyscall.add(_int(x.get("g")))
    ps = []
    for x in ps_in:
        if not isinstance(x, dict) or not isinstance(x.get("runq"), list):
            raise _Malformed
        p = _int(x.get("p"))
        if p < 0:
            raise _Malformed
        held = 1 if x.get("status") == "running" else 0
        runq = [_int(g) for g in x["runq"]]
        ps.append(
            [
                p,
                held,
                _int(x.get("m")),
                max(_int(x.get("runnext")), 0),
                max(_int(x.get("gfree")), 0),
                runq,
            ]
        )
    ms = []
    for x in ms_in:
        if not isinstance(x, dict):
            raise _Malformed
        m = _int(x.get("m"))
        if m < 0:
            raise _Malformed
        curg = max(_int(x.get("curg")), 0)
        ms.append([m, _int(x.get("p")), curg, 1 if x.get("idle") else 0, int(curg in insyscall)])
    return {"ps": ps, "global": [_int(g) for g in gq], "ms": ms}


def _account(st: GoroutineStats, state: int, dt: int, reason: str) -> None:
    if dt <= 0:
        return
    if state == _RUNNING:
        st.running += dt
    elif state == _RUNNABLE:
        st.runnable += dt
    elif state == _BLOCKED:
        st.blocked += dt
        st.blocked_by.setdefault(reason, [0, 0])[1] += dt
    elif state == _SYSCALL:
        st.syscall += dt


def _number(v: object) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return v
    return 0


# --------------------------------------------------------------------------------------------------
# Tables


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """The nearest-rank q-th percentile of ascending values (0 for none)."""
    if not sorted_values:
        return 0
    k = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[k]


def by_function(goroutines: Iterable[GoroutineStats]) -> list[dict[str, Any]]:
    """Goroutines grouped by start function (golang/go #29103): count, and per metric the
    p50/p90/p99 and total across the group. Sorted by total running time, largest first."""
    groups: dict[str, list[GoroutineStats]] = {}
    for st in goroutines:
        groups.setdefault(st.fn, []).append(st)
    out = []
    for fn, gs in groups.items():
        row: dict[str, Any] = {"fn": fn, "count": len(gs)}
        for metric in METRICS:
            values = sorted(getattr(st, metric) for st in gs)
            row[metric] = [percentile(values, q) for q in PERCENTILES] + [sum(values)]
        out.append(row)
    out.sort(key=lambda r: (-r["running"][-1], r["fn"]))
    return out


def wait_reasons(
    goroutines: Iterable[GoroutineStats],
) -> tuple[list[tuple[str, int, int]], list[tuple[str, str, int, int]]]:
    """Blocked time by wait reason (golang/go #29104): (reason, count, ns) over all
    goroutines, and (fn, reason, count, ns) per start function; each largest first."""
    total: dict[str, list[int]] = {}
    per_fn: dict[tuple[str, str], list[int]] = {}
    for st in goroutines:
        for reason, (n, ns) in st.blocked_by.items():
            t = total.setdefault(reason, [0, 0])
            t[0] += n
            t[1] += ns
            f = per_fn.setdefault((st.fn, reason), [0, 0])
            f[0] += n
            f[1] += ns
    reasons = sorted(((r, n, ns) for r, (n, ns) in total.items()), key=lambda x: (-x[2], x[0]))
    fns = sorted(
        ((fn, r, n, ns) for (fn, r), (n, ns) in per_fn.items()), key=lambda x: (-x[3], x[0], x[1])
    )
    return reasons, fns


# --------------------------------------------------------------------------------------------------
# Rendering


def _deltas(values: Sequence[int]) -> list[int]:
    out = []
    prev = 0
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def page_data(model: TraceModel) -> dict[str, Any]:
    """The model as the page reads it (see _traceview.html's decode()): sorted times as
    deltas, strings as indexes into ``strings``."""
    sid = _Strings(model.strings)  # the model's table, and the strings only the tables use
    tracks = []
    for tr in model.tracks:
        levels = []
        for lv in tr.levels.values():
            d: dict[str, Any] = {"kind": lv.kind, "t": _deltas(lv.start), "d": lv.dur}
            if lv.kind == "proc":
                d["o"] = lv.o
            else:
                d["g"] = lv.g
                d["c"] = lv.c
                if lv.kind == "goroutine":
                    d["r"] = lv.r
            levels.append(d)
        tracks.append({"kind": tr.kind, "id": tr.id, "name": tr.name, "levels": levels})
    gs = list(model.goroutines.values())
    goroutines = {
        "g": [st.goid for st in gs],
        "fn": [sid(st.fn) for st in gs],
        "parent": [st.parent for st in gs],
        **{metric: [getattr(st, metric) for st in gs] for metric in METRICS},
    }
    reasons, reasons_fn = wait_reasons(gs)
    flows = model.flows
    return {
        "version": 1,
        "file": os.path.basename(model.path),
        "meta": model.meta,
        "span": [model.start, model.end],
        "nprocs": model.nprocs,
        "events": model.events,
        "skipped": model.skipped,
        "tracks": tracks,
        "sched": {
            "ops": [
                [
                    name,
                    [col for _, col, _ in cols],
                    [arg for arg, _, _ in cols],
                    [typ for _, _, typ in cols],
                    lst,
                ]
                for name, (cols, lst) in SCHED_OPS.items()
            ],
            "t": _deltas(model.inst_t),
            "s": model.inst_stream,
            "states": model.states,
        },
        "goroutines": goroutines,
        "byfn": [
            {"fn": sid(r["fn"]), "count": r["count"], **{m: r[m] for m in METRICS}}
            for r in by_function(gs)
        ],
        "reasons": [[sid(r), n, ns] for r, n, ns in reasons],
        "reasons_fn": [[sid(fn), sid(r), n, ns] for fn, r, n, ns in reasons_fn],
        "flows": {
            "k": [f[0] for f in flows],
            "t0": _deltas([f[1] for f in flows]),
            "r0": [f[2] for f in flows],
            "dt": [f[3] - f[1] for f in flows],
            "r1": [f[4] for f in flows],
        },
        "counters": [
            {"name": name, "series": series, "t": _deltas(ts), "v": values}
            for name, series, ts, values in model.counters
        ],
        "strings": sid.table,
    }


_DATA = "{{DATA}}"
_TITLE = "{{TITLE}}"


def render(model: TraceModel) -> str:
    """The viewer for ``model``: one HTML document, no external references."""
    template = resources.files(__package__).joinpath("_traceview.html").read_text(encoding="utf-8")
    head, sep, tail = template.partition(_DATA)
    if not sep or _DATA in tail:
        raise RuntimeError("_traceview.html must hold {{DATA}} exactly once")
    data = json.dumps(page_data(model), separators=(",", ":"), ensure_ascii=False)
    # In a <script> element only "</script" and "<!--" end or change the raw text, and both
    # start with "<", which JSON holds only inside strings, where \u003c means the same.
    # Slashes are escaped too (JSON's \/), so no data string reads as a URL in the file.
    data = data.replace("<", "\\u003c").replace("/", "\\/")
    title = html.escape(os.path.basename(model.path))
    return head.replace(_TITLE, title) + data + tail


# --------------------------------------------------------------------------------------------------
# The command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a trace file (docs/trace.md)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.html",
        default=None,
        help="where to write the viewer (default: FILE with .html instead of .json)",
    )


def default_output(path: str) -> str:
    root, ext = os.path.splitext(path)
    return (root if ext.lower() == ".json" else path) + ".html"


def run(ns: argparse.Namespace) -> int:
    """Write the viewer for ``ns.file``; print its path. Exit status 2 for a file that cannot
    be read or is not a trace, 1 when the viewer cannot be written."""
    prog = "gosched trace view"
    path: str = ns.file
    out: str = ns.output or default_output(path)
    try:
        model = load(path)
    except TraceFormatError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError:
        print(f"{prog}: {path}: no such file", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{prog}: {path}: {(e.strerror or str(e)).lower()}", file=sys.stderr)
        return 2
    if os.path.exists(out) and os.path.samefile(out, path):
        print(f"{prog}: {out}: the output would overwrite the trace; use -o", file=sys.stderr)
        return 2
    page = render(model)
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as e:
        print(f"{prog}: {out}: {(e.strerror or str(e)).lower()}", file=sys.stderr)
        return 1
    print(out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``gosched trace view FILE [-o OUT.html]`` on its own (the CLI builds the same parser)."""
    parser = argparse.ArgumentParser(
        prog="gosched trace view", description="Write a trace file's HTML viewer."
    )
    add_arguments(parser)
    return run(parser.parse_args(list(sys.argv[1:] if argv is None else argv)))
