"""Validate the Chrome Trace Event JSON files gosched writes (docs/trace.md is the contract).

``validate(obj)`` returns the problems of a loaded trace, ``validate_file(path)`` those of a file;
an empty list means valid. Each problem is one line naming where it is and the rule it breaks::

    event 12: [x-dur] dur must be a finite number >= 0, got -1 (X "G3 f" pid 1 tid 2 ts 5.0)

``event N`` is the index in ``traceEvents``; ``trace`` and ``file`` are the whole. ``RULES`` lists
every rule. They come in three layers:

1. The Chrome Trace Event Format (Google's "Trace Event Format" document): the shape of the file
   and of each event, balanced B/E, flows whose ends match.
2. What Perfetto's JSON importer (google/perfetto src/trace_processor/importers/json/) needs to
   show the trace as written: no tid 0, and slices on a thread track that nest. Perfetto keeps one
   stack of open slices per track; a slice that starts inside another and ends after it does not
   fit on it (an import error: it is not shown as written), and chrome://tracing draws the two
   over each other.
3. gosched's own contract, when ``otherData.format`` starts with ``gosched-trace``: the tracks and
   their names, the two slice levels, the goroutine slices' args, the scheduler instants and their
   args (a State first, then time order), the life of each goroutine (created once, before
   anything else happens to it; destroyed at most once, nothing after), the create/unblock flows,
   the counters.

A cross-event check (pairing, nesting, flows, goroutine lives) only looks at the events that passed
the per-event checks: a malformed event is reported once, by its own rule, and then left out. What
leaned on it may still be reported (the goroutine slices of a proc slice with a negative dur are
then in no proc slice).

``slices_by_track(obj)`` and ``instants(obj, name)`` read a trace for the recorder's tests (count
the GoCreate instants, find a goroutine's slices); they skip malformed events silently, so a test
should also assert ``validate(obj) == []``.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

# Slices nest when one's end is at most the other's, compared with this slack: the writer rounds
# every ts and dur to 3 decimals (nanoseconds), so ts + dur can be off by float rounding only.
EPS = 1e-6

RULES: dict[str, str] = {
    # 1. Chrome Trace Event Format.
    "json": "the file is readable JSON without NaN/Infinity (which JSON does not have)",
    "top-level": "an object with a list traceEvents (or a bare list of events); displayTimeUnit "
    "'ms' or 'ns'; otherData and metadata objects",
    "event-object": "every event is a JSON object",
    "ph": "ph is a known phase",
    "name": "name is a string (optional on E events only)",
    "ts": "ts is a finite number >= 0 in microseconds (optional on M events)",
    "pid-tid": "pid and tid are integers (tid optional on process metadata)",
    "args": "args, when present, is an object",
    "x-dur": "an X event has a finite dur >= 0",
    "instant-scope": "an instant's scope s is g, p or t",
    "counter-args": "a C event's args is an object of finite numbers",
    "metadata": "an M event is process_name, process_labels, process_sort_index, thread_name or "
    "thread_sort_index, with its arg (name, labels, sort_index) of the right type",
    "begin-end": "B and E events balance per (pid, tid), an E's name matches its B, E after B",
    "flow-id": "flow events (s, t, f) have an id, a string or an integer",
    "flow-bp": "a flow event's bp, when present, is 'e'",
    "flow-start": "each flow id (with its cat and name) starts once, and a step or finish of it "
    "has that start",
    "flow-order": "a flow's start is at or before its steps and its finish",
    "flow-finish": "a flow finishes at most once",
    # 2. Perfetto.
    "tid-0": "no event uses tid 0 (Perfetto folds it into the process's main thread)",
    "nesting": "slices (X, B/E pairs) on a (pid, tid) track nest: each lies within the enclosing "
    "slice or starts at or after its end",
    # 3. gosched (docs/trace.md).
    "gosched-header": "displayTimeUnit 'ns'; otherData's producer, format, python, gomaxprocs, "
    "part are strings",
    "gosched-phase": "X on pids 1-2, s/f on pid 1, i and C on pid 3, M anywhere; no other phase",
    "gosched-tracks": "pids 1 Ps, 2 Ms, 3 Runtime; pid 1 tid n+1 named Pn, pid 2 tid n+1 named "
    "Mn..., pid 3 tid 1 scheduler; every track named and sort-indexed",
    "gosched-slice": "slice names, cats and args: proc M<m> {p, m} / P<p>, goroutine G<g> <fn> "
    "{g, fn, m, p, end}, syscall {g, kind}",
    "gosched-levels": "proc slices at the top of a track, goroutine slices inside a proc slice (of "
    "the same M or P), syscall slices on their own",
    "gosched-end": "a goroutine slice's end is one of docs/trace.md's, with a reason when 'block'",
    "gosched-instant": "pid 3 instants are on tid 1 with s 't', named as in docs/trace.md's table, "
    "with its args (State: its records)",
    "gosched-order": "pid 3 instants are in time order, a State first (the viewer replays them in "
    "file order, from a State)",
    "gosched-create": "a goroutine's GoCreate, if any, comes before anything else about it",
    "gosched-destroy": "GoDestroy at most once per goroutine and nothing about it afterwards; a "
    "slice that ends with 'destroy' has its GoDestroy",
    "gosched-flow": "flows are named create/unblock, cat 'flow', both ends in the file, the start "
    "inside a slice, the finish (bp 'e') where a goroutine slice starts",
    "gosched-counter": "counters runqueue {global, P<n>...}, procs {idle, running}, threads "
    "{total, idle, syscall}",
}

# The Trace Event Format's phases, deprecated ones included (S/T/p/F async, I instant).
PHASES = frozenset(
    ["B", "E", "X", "i", "I", "C", "b", "n", "e", "S", "T", "p", "F", "s", "t", "f"]
    + ["P", "N", "O", "D", "M", "V", "v", "R", "c", "(", ")"]
)
FLOW_PHASES = ("s", "t", "f")
INSTANT_PHASES = ("i", "I")
# Metadata events and the arg each carries; the process ones may omit tid.
METADATA_ARGS = {
    "process_name": "name",
    "process_labels": "labels",
    "process_sort_index": "sort_index",
    "thread_name": "name",
    "thread_sort_index": "sort_index",
}
PROCESS_METADATA = frozenset({"process_name", "process_labels", "process_sort_index"})

# --- gosched's contract (docs/trace.md) ---------------------------------------------------------

GOSCHED_FORMAT = "gosched-trace"
GOSCHED_OTHERDATA = ("producer", "format", "python", "gomaxprocs", "part")
PID_P, PID_M, PID_RUNTIME = 1, 2, 3
PROCESS_NAMES = {PID_P: "Ps", PID_M: "Ms", PID_RUNTIME: "Runtime"}
SCHEDULER_TID = 1
# Which phases go on which pids: slices on the P and M tracks, flows between P tracks, instants
# and counters on the Runtime process.
PHASE_PIDS = {
    "X": (PID_P, PID_M),
    "s": (PID_P,),
    "f": (PID_P,),
    "i": (PID_RUNTIME,),
    "C": (PID_RUNTIME,),
    "M": (PID_P, PID_M, PID_RUNTIME),
}
SLICE_ENDS = frozenset({"block", "gosched", "preempted", "destroy", "syscall", "trace end"})
SYSCALL_KINDS = frozenset({"blocking", "retake"})
GOROUTINE_ARGS = ("g", "fn", "m", "p", "end")
M_TRACK_NAME = re.compile(r"M(\d+)(?: |$)")  # "M0", "M1 (sysmon)"
P_SLICE_NAME = re.compile(r"P(\d+)$")
# The instants' table: name -> required args.
INSTANT_ARGS: dict[str, tuple[str, ...]] = {
    "State": ("ps", "global", "ms", "gs"),
    "GoCreate": ("g", "parent", "p", "fn", "gfree"),
    "GoUnblock": ("g", "by"),
    "RunqPut": ("g", "p", "next"),
    "GoStart": ("g", "p", "m"),
    "GoStop": ("g", "reason"),
    "GoBlock": ("g", "reason"),
    "GoDestroy": ("g", "p", "gfree"),
    "GFree": ("p", "gfree"),
    "GoSyscallBegin": ("g", "m", "kind"),
    "GoSyscallEnd": ("g", "m"),
    "GoSyscallEndBlocked": ("g", "m"),
    "GlobalPut": ("g",),
    "RunqSpill": ("p", "gs"),
    "GlobalGet": ("p", "gs"),
    "RunqSteal": ("p", "from", "gs"),
    "ProcStart": ("p", "m"),
    "ProcStop": ("p", "m"),
    "ProcSteal": ("p", "m"),
    "ProcsChange": ("n", "gs"),
    "MStart": ("m",),
    "MStop": ("m",),
}
GOSTOP_REASONS = frozenset({"runtime.Gosched", "preempted"})
FLOW_NAMES = frozenset({"create", "unblock"})
COUNTER_KEYS: dict[str, frozenset[str] | None] = {
    "runqueue": None,  # global and P0, P1, ...: checked by _runqueue_keys
    "procs": frozenset({"idle", "running"}),
    "threads": frozenset({"total", "idle", "syscall"}),
}


# --- values --------------------------------------------------------------------------------------


def _integer(v: object) -> TypeGuard[int]:
    # JSON true/false load as bool, a subclass of int: not an integer here.
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: object) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _goid(v: object) -> bool:
    return _integer(v) and v >= 1


def _natural(v: object) -> bool:
    return _integer(v) and v >= 0


def _text(v: object) -> bool:
    return isinstance(v, str) and v != ""


def _goids(v: object) -> bool:
    return isinstance(v, list) and all(_goid(x) for x in v)


def _maybe(check: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda v: v is None or check(v)


def _boolean(v: object) -> bool:
    return isinstance(v, bool)


_Fields = dict[str, tuple[Callable[[object], bool], str]]

# State's records (docs/trace.md): its ps, ms and gs are lists of these.
STATE_RECORDS: dict[str, _Fields] = {
    "ps": {
        "p": (_natural, "an integer >= 0"),
        "status": (lambda v: v in ("running", "idle"), "running or idle"),
        "m": (_maybe(_natural), "an integer >= 0 or null"),
        "runnext": (_maybe(_goid), "a goroutine id or null"),
        "runq": (_goids, "a list of goroutine ids"),
        "gfree": (_natural, "an integer >= 0"),
    },
    "ms": {
        "m": (_natural, "an integer >= 0"),
        "p": (_maybe(_natural), "an integer >= 0 or null"),
        "curg": (_maybe(_goid), "a goroutine id or null"),
        "idle": (_boolean, "a boolean"),
    },
    "gs": {
        "g": (_goid, "a goroutine id"),
        "fn": (_text, "a non-empty string"),
        "status": (_text, "a non-empty string"),
        "reason": (lambda v: isinstance(v, str), "a string"),
    },
}


def _records_problem(name: str, value: object) -> str | None:
    """What is wrong with a State list of records, or None."""
    fields = STATE_RECORDS[name]
    if not isinstance(value, list):
        return f"args.{name} must be a list, got {value!r}"
    for i, record in enumerate(value):
        if not isinstance(record, dict) or set(record) != set(fields):
            return f"args.{name}[{i}] must be an object with {', '.join(fields)}, got {record!r}"
        for key, (check, kind) in fields.items():
            if not check(record[key]):
                return f"args.{name}[{i}].{key} must be {kind}, got {record[key]!r}"
    return None


# The instants' arg types: goroutine ids are >= 1 (0 is "the runtime" in parent and by).
INSTANT_ARG_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "g": (_goid, "a goroutine id >= 1"),
    "parent": (_natural, "an integer >= 0"),
    "by": (_natural, "an integer >= 0"),
    "p": (_natural, "an integer >= 0"),
    "m": (_natural, "an integer >= 0"),
    "from": (_natural, "an integer >= 0"),
    "gfree": (_natural, "an integer >= 0"),
    "n": (_goid, "an integer >= 1"),
    "fn": (_text, "a non-empty string"),
    "reason": (_text, "a non-empty string"),
    "next": (_boolean, "a boolean"),
    "kind": (lambda v: v in SYSCALL_KINDS, "blocking or retake"),
    "gs": (_goids, "a list of goroutine ids"),
    "global": (_goids, "a list of goroutine ids"),
}


# --- the report ----------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: int | str, rule: str, text: str) -> None:
        assert rule in RULES, rule  # a typo in a rule id would make its tests pass vacuously
        head = f"event {where}" if isinstance(where, int) else where
        self.lines.append(f"{head}: [{rule}] {text}")


def _desc(raw: dict[str, Any]) -> str:
    """``(X "G3 main.worker" pid 1 tid 2 ts 5)``: enough to find the event in the file."""
    parts = [str(raw.get("ph"))]
    if "name" in raw:
        parts.append(json.dumps(raw["name"]))
    for key in ("pid", "tid", "ts"):
        if key in raw:
            parts.append(f"{key} {raw[key]!r}")
    return "(" + " ".join(parts) + ")"


@dataclass(frozen=True)
class _Event:
    """An event that passed the per-event checks: its fields have their types."""

    index: int
    ph: str
    name: str | None
    pid: int
    tid: int | None
    ts: float  # 0 for an M event without ts
    args: dict[str, Any]  # {} when it has none
    raw: dict[str, Any]

    @property
    def track(self) -> tuple[int, int | None]:
        return (self.pid, self.tid)


@dataclass(frozen=True)
class _Slice:
    """An X event, or a B/E pair (index: the B's)."""

    index: int
    pid: int
    tid: int
    ts: float
    dur: float
    name: str
    cat: object
    args: dict[str, Any]

    @property
    def end(self) -> float:
        return self.ts + self.dur

    def describe(self) -> str:
        return (
            f"event {self.index} ({json.dumps(self.name)} [{self.ts:g}, {self.end:g}] "
            f"on pid {self.pid} tid {self.tid})"
        )

    def as_event(self) -> dict[str, Any]:
        return {
            "ph": "X",
            "name": self.name,
            "cat": self.cat,
            "pid": self.pid,
            "tid": self.tid,
            "ts": self.ts,
            "dur": self.dur,
            "args": self.args,
        }


# --- the public API ------------------------------------------------------------------------------


def validate_file(path: str | Path) -> list[str]:
    """The problems of the trace file at ``path``; a file that is not JSON is one problem."""

    def no_constant(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    try:
        text = Path(path).read_text(encoding="utf-8")
        obj = json.loads(text, parse_constant=no_constant)
    except (OSError, ValueError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return [f"file: [json] {path}: {e}"]
    return validate(obj)


def validate(obj: object) -> list[str]:
    """The problems of a loaded trace (what ``json.load`` returns); ``[]`` when it is valid."""
    p = _Problems()
    raw_events = _top_level(obj, p)
    if raw_events is None:
        return p.lines
    events = [e for i, raw in enumerate(raw_events) if (e := _check_event(i, raw, p)) is not None]

    # Chrome: pairs and flows.
    slices = [_x_slice(e) for e in events if e.ph == "X"] + _pair_begin_end(events, p)
    starts, finishes = _check_flows(events, p)
    # Perfetto: nesting per track.
    parents, overlapped = _check_nesting(slices, p)

    if _is_gosched(obj):
        assert isinstance(obj, dict)
        _gosched_header(obj, p)
        _gosched_phases(events, p)
        _gosched_tracks(events, p)
        _gosched_slices(slices, parents, overlapped, p)
        lives = _gosched_instants(events, p)
        _gosched_lives(lives, slices, p)
        _gosched_flows(events, slices, starts, finishes, p)
        _gosched_counters(events, p)
    return p.lines


def slices_by_track(obj: object) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The slices of each (pid, tid) track, X events and B/E pairs (as X events), sorted as
    Perfetto nests them: by ts, the longer first at equal ts."""
    p = _Problems()  # the problems are validate()'s business
    events = [e for i, raw in enumerate(_events_of(obj)) if (e := _check_event(i, raw, p))]
    slices = [_x_slice(e) for e in events if e.ph == "X"] + _pair_begin_end(events, p)
    # X events are returned as they are in the file, so a test may compare them by identity.
    by_index = {e.index: e.raw for e in events if e.ph == "X"}
    return {
        track: [by_index.get(s.index) or s.as_event() for s in ss]
        for track, ss in _by_track(slices).items()
    }


def instants(obj: object, name: str | None = None) -> list[dict[str, Any]]:
    """The instant events (ph i or I), in file order; only those named ``name`` if given."""
    return [
        raw
        for raw in _events_of(obj)
        if isinstance(raw, dict)
        and raw.get("ph") in INSTANT_PHASES
        and (name is None or raw.get("name") == name)
    ]


def _events_of(obj: object) -> list[Any]:
    if isinstance(obj, list):
        return obj
    events = obj.get("traceEvents") if isinstance(obj, dict) else None
    return events if isinstance(events, list) else []


def _is_gosched(obj: object) -> bool:
    if not isinstance(obj, dict):
        return False
    other = obj.get("otherData")
    return (
        isinstance(other, dict)
        and isinstance(other.get("format"), str)
        and other["format"].startswith(GOSCHED_FORMAT)
    )


# --- 1. Chrome Trace Event Format ----------------------------------------------------------------


def _top_level(obj: object, p: _Problems) -> list[Any] | None:
    # The JSON Array Format is a bare list; the JSON Object Format holds it in traceEvents.
    if isinstance(obj, list):
        return obj
    if not isinstance(obj, dict):
        p.add("trace", "top-level", f"a trace is an object or a list, got {type(obj).__name__}")
        return None
    events = obj.get("traceEvents")
    if not isinstance(events, list):
        p.add("trace", "top-level", f"traceEvents must be a list, got {type(events).__name__}")
        return None
    unit = obj.get("displayTimeUnit")
    if "displayTimeUnit" in obj and unit not in ("ms", "ns"):
        p.add("trace", "top-level", f"displayTimeUnit must be 'ms' or 'ns', got {unit!r}")
    for key in ("otherData", "metadata"):
        if key in obj and not isinstance(obj[key], dict):
            p.add("trace", "top-level", f"{key} must be an object, got {type(obj[key]).__name__}")
    return events


def _check_event(i: int, raw: object, p: _Problems) -> _Event | None:
    """The per-event rules; the event, typed, if later checks can read it."""
    if not isinstance(raw, dict):
        p.add(i, "event-object", f"an event must be an object, got {type(raw).__name__}")
        return None
    ph = raw.get("ph")
    if not isinstance(ph, str) or ph not in PHASES:
        p.add(i, "ph", f"ph must be one of the format's phases, got {ph!r} {_desc(raw)}")
        return None
    ok = True

    name = raw.get("name")
    # Only an E may leave its name to its B.
    if ("name" in raw or ph != "E") and not isinstance(name, str):
        p.add(i, "name", f"name must be a string, got {name!r} {_desc(raw)}")
        ok = False

    ts = raw.get("ts", 0.0 if ph == "M" else None)
    if not _number(ts) or ts < 0:
        p.add(i, "ts", f"ts must be a finite number >= 0 (microseconds), got {ts!r} {_desc(raw)}")
        ok = False

    pid = raw.get("pid")
    if not _integer(pid):
        p.add(i, "pid-tid", f"pid must be an integer, got {pid!r} {_desc(raw)}")
        ok = False
    tid = raw.get("tid")
    if "tid" not in raw and ph == "M" and name in PROCESS_METADATA:
        pass  # process metadata names the process: no thread needed
    elif not _integer(tid):
        p.add(i, "pid-tid", f"tid must be an integer, got {tid!r} {_desc(raw)}")
        ok = False
    elif tid == 0:
        # Perfetto takes tid 0 for Linux's idle task and folds it into the process's main
        # thread: the track would vanish into another.
        p.add(i, "tid-0", f"tid 0 is not a track of its own in Perfetto {_desc(raw)}")

    if "args" in raw and not isinstance(raw["args"], dict):
        p.add(i, "args", f"args must be an object, got {type(raw['args']).__name__} {_desc(raw)}")
        ok = False

    if ph == "X":
        dur = raw.get("dur")
        if not _number(dur) or dur < 0:
            p.add(i, "x-dur", f"dur must be a finite number >= 0, got {dur!r} {_desc(raw)}")
            ok = False
    elif ph in INSTANT_PHASES:
        if "s" in raw and raw["s"] not in ("g", "p", "t"):
            p.add(i, "instant-scope", f"scope s must be g, p or t, got {raw['s']!r} {_desc(raw)}")
    elif ph == "C":
        ok &= _check_counter_args(i, raw, p)
    elif ph == "M":
        ok &= _check_metadata(i, raw, p)
    elif ph in FLOW_PHASES:
        fid = raw.get("id")
        if not (_integer(fid) or isinstance(fid, str)):
            p.add(i, "flow-id", f"a flow event needs an id (string or integer), got {fid!r}")
            ok = False
        if "bp" in raw and raw["bp"] != "e":
            p.add(i, "flow-bp", f"bp must be 'e' (bind to the enclosing slice), got {raw['bp']!r}")

    if not ok:
        return None
    assert isinstance(ts, (int, float)) and isinstance(pid, int)
    return _Event(i, ph, name, pid, tid, float(ts), raw.get("args", {}), raw)


def _check_counter_args(i: int, raw: dict[str, Any], p: _Problems) -> bool:
    args = raw.get("args")
    if not isinstance(args, dict) or not args:
        p.add(i, "counter-args", f"a counter needs args, an object of its values {_desc(raw)}")
        return False
    bad = {k: v for k, v in args.items() if not _number(v)}
    if bad:
        p.add(i, "counter-args", f"counter values must be finite numbers, got {bad!r} {_desc(raw)}")
    return not bad


def _check_metadata(i: int, raw: dict[str, Any], p: _Problems) -> bool:
    name = raw.get("name")
    if name not in METADATA_ARGS:
        p.add(i, "metadata", f"unknown metadata name {name!r} (one of {sorted(METADATA_ARGS)})")
        return False
    key = METADATA_ARGS[name]
    value = raw.get("args", {}).get(key) if isinstance(raw.get("args"), dict) else None
    wanted = _integer if key == "sort_index" else (lambda v: isinstance(v, str))
    if not wanted(value):
        kind = "an integer" if key == "sort_index" else "a string"
        p.add(i, "metadata", f"{name} needs args.{key}, {kind}, got {value!r} {_desc(raw)}")
        return False
    return True


def _x_slice(e: _Event) -> _Slice:
    assert e.tid is not None and e.name is not None
    return _Slice(
        e.index, e.pid, e.tid, e.ts, float(e.raw["dur"]), e.name, e.raw.get("cat"), e.args
    )


def _pair_begin_end(events: list[_Event], p: _Problems) -> list[_Slice]:
    """Pair the B and E events of each track into slices, reporting the unbalanced ones."""
    tracks: dict[tuple[int, int | None], list[_Event]] = defaultdict(list)
    for e in events:
        if e.ph in ("B", "E"):
            tracks[e.track].append(e)
    slices = []
    for (pid, tid), evs in tracks.items():
        assert tid is not None
        # Viewers sort by ts; the stable sort keeps the file's order at equal ts, as Perfetto's.
        evs.sort(key=lambda e: e.ts)
        stack: list[_Event] = []
        for e in evs:
            if e.ph == "B":
                stack.append(e)
                continue
            if not stack:
                p.add(
                    e.index, "begin-end", f"E with no open B on pid {pid} tid {tid} {_desc(e.raw)}"
                )
                continue
            b = stack.pop()
            if e.name is not None and e.name != b.name:
                # Perfetto ignores an E whose name differs from the open slice's.
                p.add(
                    e.index,
                    "begin-end",
                    f"E named {e.name!r} ends B {b.name!r} (event {b.index}) {_desc(e.raw)}",
                )
            assert b.name is not None
            slices.append(
                _Slice(
                    b.index, pid, tid, b.ts, e.ts - b.ts, b.name, b.raw.get("cat"), b.args | e.args
                )
            )
        for b in stack:
            p.add(b.index, "begin-end", f"B never ended on pid {pid} tid {tid} {_desc(b.raw)}")
    return slices


_FlowKey = tuple[object, object, object]


def _flow_key(e: _Event) -> _FlowKey:
    # Perfetto matches v1 flow events by (id, cat, name), so two flows may share an id.
    return (e.raw.get("cat"), e.name, e.raw["id"])


def _check_flows(
    events: list[_Event], p: _Problems
) -> tuple[dict[_FlowKey, _Event], dict[_FlowKey, _Event]]:
    """Flow starts and finishes by key, reporting unmatched, repeated and backwards ones."""
    starts: dict[_FlowKey, _Event] = {}
    finishes: dict[_FlowKey, _Event] = {}
    flows = [e for e in events if e.ph in FLOW_PHASES]
    for e in flows:
        if e.ph == "s":
            if (first := starts.get(_flow_key(e))) is not None:
                p.add(
                    e.index,
                    "flow-start",
                    f"flow id {e.raw['id']!r} started again (first: event {first.index})",
                )
            else:
                starts[_flow_key(e)] = e
    for e in flows:
        if e.ph == "f":
            if (first := finishes.get(_flow_key(e))) is not None:
                p.add(
                    e.index,
                    "flow-finish",
                    f"flow id {e.raw['id']!r} finished again (first: event {first.index}) "
                    f"{_desc(e.raw)}",
                )
                continue
            finishes[_flow_key(e)] = e
    for e in flows:
        if e.ph == "s":
            continue
        start = starts.get(_flow_key(e))
        what = "finish" if e.ph == "f" else "step"
        if start is None:
            p.add(
                e.index,
                "flow-start",
                f"flow {what} of id {e.raw['id']!r} that never started {_desc(e.raw)}",
            )
        elif e.ts < start.ts - EPS:
            p.add(
                e.index,
                "flow-order",
                f"flow {what} at ts {e.ts:g} before its start at ts {start.ts:g} "
                f"(event {start.index})",
            )
        if e.ph == "t" and (fin := finishes.get(_flow_key(e))) is not None and e.ts > fin.ts + EPS:
            p.add(
                e.index,
                "flow-order",
                f"flow step at ts {e.ts:g} after its finish (event {fin.index})",
            )
    return starts, finishes


# --- 2. Perfetto ---------------------------------------------------------------------------------


def _by_track(slices: Iterable[_Slice]) -> dict[tuple[int, int], list[_Slice]]:
    tracks: dict[tuple[int, int], list[_Slice]] = defaultdict(list)
    for s in slices:
        tracks[(s.pid, s.tid)].append(s)
    for ss in tracks.values():
        # The order Perfetto nests them in: by start, the longer (the parent) first.
        ss.sort(key=lambda s: (s.ts, -s.dur, s.index))
    return dict(tracks)


def _check_nesting(slices: list[_Slice], p: _Problems) -> tuple[dict[int, _Slice | None], set[int]]:
    """Each slice's parent (the innermost slice enclosing it), by index; the indexes of slices that
    partially overlap another, reported (both named) and left out of the parent map."""
    parents: dict[int, _Slice | None] = {}
    overlapped: set[int] = set()
    for ss in _by_track(slices).values():
        stack: list[_Slice] = []
        for s in ss:
            # Close the slices that ended by the time s starts: s begins at or after their end.
            while stack and stack[-1].end <= s.ts + EPS:
                stack.pop()
            if stack and s.end > stack[-1].end + EPS:
                top = stack[-1]
                p.add(
                    s.index,
                    "nesting",
                    f"slice {s.describe()} starts inside slice {top.describe()} and ends after it",
                )
                overlapped.update((s.index, top.index))
                continue
            parents[s.index] = stack[-1] if stack else None
            stack.append(s)
    return parents, overlapped


# --- 3. gosched ----------------------------------------------------------------------------------


def _gosched_header(obj: dict[str, Any], p: _Problems) -> None:
    if obj.get("displayTimeUnit") != "ns":
        p.add(
            "trace",
            "gosched-header",
            f"displayTimeUnit must be 'ns', got {obj.get('displayTimeUnit')!r}",
        )
    other = obj["otherData"]
    for key in GOSCHED_OTHERDATA:
        if not isinstance(other.get(key), str):
            p.add(
                "trace",
                "gosched-header",
                f"otherData.{key} must be a string, got {other.get(key)!r}",
            )
    if not str(other.get("producer", "")).startswith("gosched "):
        p.add(
            "trace",
            "gosched-header",
            f"otherData.producer must be 'gosched <version>', got {other.get('producer')!r}",
        )
    for key in ("gomaxprocs", "part"):
        if isinstance(other.get(key), str) and not other[key].isdigit():
            p.add(
                "trace",
                "gosched-header",
                f"otherData.{key} must be a decimal number, got {other[key]!r}",
            )


def _gosched_phases(events: list[_Event], p: _Problems) -> None:
    for e in events:
        pids = PHASE_PIDS.get(e.ph)
        if pids is None:
            p.add(e.index, "gosched-phase", f"gosched writes no {e.ph!r} events {_desc(e.raw)}")
        elif e.pid in PROCESS_NAMES and e.pid not in pids:
            p.add(
                e.index,
                "gosched-phase",
                f"{e.ph!r} events belong on pid {' or '.join(map(str, pids))} {_desc(e.raw)}",
            )


def _gosched_tracks(events: list[_Event], p: _Problems) -> None:
    process_names: dict[int, _Event] = {}
    thread_names: dict[tuple[int, int | None], _Event] = {}
    process_sorted: set[int] = set()
    thread_sorted: set[tuple[int, int | None]] = set()
    for e in events:
        if e.ph != "M":
            continue
        if e.name == "process_name":
            if (old := process_names.get(e.pid)) is not None and old.args["name"] != e.args["name"]:
                p.add(
                    e.index,
                    "gosched-tracks",
                    f"pid {e.pid} renamed {e.args['name']!r} (was {old.args['name']!r})",
                )
            process_names[e.pid] = e
        elif e.name == "thread_name":
            if (old := thread_names.get(e.track)) is not None and old.args["name"] != e.args[
                "name"
            ]:
                p.add(
                    e.index,
                    "gosched-tracks",
                    f"pid {e.pid} tid {e.tid} renamed {e.args['name']!r} "
                    f"(was {old.args['name']!r})",
                )
            thread_names[e.track] = e
        elif e.name == "process_sort_index":
            process_sorted.add(e.pid)
        elif e.name == "thread_sort_index":
            thread_sorted.add(e.track)

    for pid, e in process_names.items():
        if PROCESS_NAMES.get(pid, e.args["name"]) != e.args["name"]:
            p.add(
                e.index,
                "gosched-tracks",
                f"pid {pid} must be named {PROCESS_NAMES[pid]!r}, got {e.args['name']!r}",
            )
        if pid not in process_sorted:
            p.add(e.index, "gosched-tracks", f"pid {pid} has no process_sort_index")
    for (pid, tid), e in thread_names.items():
        if (want := _thread_name_problem(pid, tid, e.args["name"])) is not None:
            p.add(e.index, "gosched-tracks", f"pid {pid} tid {tid}: {want}")
        if (pid, tid) not in thread_sorted:
            p.add(e.index, "gosched-tracks", f"pid {pid} tid {tid} has no thread_sort_index")

    # Every track that holds events is named, and lives in one of gosched's three processes.
    seen: set[tuple[int, int | None]] = set()
    for e in events:
        if e.ph == "M" or e.track in seen:
            continue
        seen.add(e.track)
        if e.pid not in PROCESS_NAMES:
            p.add(
                e.index,
                "gosched-tracks",
                f"pid {e.pid} is none of gosched's (1 Ps, 2 Ms, 3 Runtime) {_desc(e.raw)}",
            )
            continue
        if e.pid not in process_names:
            p.add(e.index, "gosched-tracks", f"pid {e.pid} has no process_name {_desc(e.raw)}")
        if e.track not in thread_names:
            p.add(
                e.index,
                "gosched-tracks",
                f"pid {e.pid} tid {e.tid} has no thread_name {_desc(e.raw)}",
            )


def _thread_name_problem(pid: int, tid: int | None, name: str) -> str | None:
    """What is wrong with a thread's name, or None."""
    if tid is None:
        return "a thread_name needs a tid"
    if pid == PID_P and name != f"P{tid - 1}":
        return f"the P track of tid {tid} must be named 'P{tid - 1}' (tid = P id + 1), got {name!r}"
    if pid == PID_M:
        m = M_TRACK_NAME.match(name)
        if m is None or int(m.group(1)) != tid - 1:
            return (
                f"the M track of tid {tid} must be named 'M{tid - 1}...' (tid = M id + 1), "
                f"got {name!r}"
            )
    if pid == PID_RUNTIME and (tid, name) != (SCHEDULER_TID, "scheduler"):
        return f"the Runtime process has one thread, tid 1 'scheduler', got tid {tid} {name!r}"
    return None


def _gosched_slices(
    slices: list[_Slice], parents: dict[int, _Slice | None], overlapped: set[int], p: _Problems
) -> None:
    for s in slices:
        if s.pid not in (PID_P, PID_M):
            continue  # reported by _gosched_phases
        if s.cat == "proc":
            _proc_slice(s, p)
        elif s.cat == "goroutine":
            _goroutine_slice(s, p)
        elif s.cat == "syscall" and s.pid == PID_M:
            _syscall_slice(s, p)
        else:
            cats = "proc or goroutine" if s.pid == PID_P else "proc, goroutine or syscall"
            p.add(s.index, "gosched-slice", f"cat must be {cats}, got {s.cat!r}: {s.describe()}")
            continue
        if s.index not in overlapped:
            _slice_level(s, parents[s.index], p)


def _proc_slice(s: _Slice, p: _Problems) -> None:
    n = s.tid - 1  # this track's P or M id
    if s.pid == PID_P:
        # M<m> {p, m}: the P (this track's) is held by M m.
        m = s.args.get("m")
        if not _natural(m) or s.args.get("p") != n:
            p.add(
                s.index,
                "gosched-slice",
                f"a proc slice on P{n}'s track needs args p {n} and m, got {s.args!r}",
            )
        elif s.name != f"M{m}":
            p.add(
                s.index,
                "gosched-slice",
                f"a proc slice of M{m} must be named 'M{m}', got {s.name!r}",
            )
    elif P_SLICE_NAME.match(s.name) is None:
        p.add(
            s.index,
            "gosched-slice",
            f"a proc slice on an M track must be named 'P<p>', got {s.name!r}",
        )


def _goroutine_slice(s: _Slice, p: _Problems) -> None:
    missing = [k for k in GOROUTINE_ARGS if k not in s.args]
    if missing:
        p.add(
            s.index,
            "gosched-slice",
            f"a goroutine slice needs args {', '.join(missing)}: {s.describe()}",
        )
        return
    g, fn, m, pid_p, end = (s.args[k] for k in GOROUTINE_ARGS)
    if not (_goid(g) and _text(fn) and _natural(m) and _natural(pid_p)):
        p.add(
            s.index,
            "gosched-slice",
            f"goroutine slice args g, fn, m, p have wrong types: {s.args!r}",
        )
        return
    if s.name != f"G{g} {fn}":
        p.add(
            s.index,
            "gosched-slice",
            f"a goroutine slice of g {g} must be named 'G{g} {fn}', got {s.name!r}",
        )
    n = s.tid - 1
    if s.pid == PID_P and pid_p != n:
        p.add(s.index, "gosched-slice", f"a goroutine slice on P{n}'s track has args.p {pid_p}")
    if s.pid == PID_M and m != n:
        p.add(s.index, "gosched-slice", f"a goroutine slice on M{n}'s track has args.m {m}")
    if end not in SLICE_ENDS:
        p.add(
            s.index,
            "gosched-end",
            f"end must be one of {sorted(SLICE_ENDS)}, got {end!r}: {s.describe()}",
        )
    elif end == "block" and not _text(s.args.get("reason")):
        p.add(
            s.index, "gosched-end", f"end 'block' needs a reason (Go's wait reason): {s.describe()}"
        )


def _syscall_slice(s: _Slice, p: _Problems) -> None:
    if s.name != "syscall" or not _goid(s.args.get("g")) or s.args.get("kind") not in SYSCALL_KINDS:
        p.add(
            s.index,
            "gosched-slice",
            f"a syscall slice is named 'syscall' with args g and kind blocking or retake, got "
            f"{s.name!r} {s.args!r}",
        )


def _slice_level(s: _Slice, parent: _Slice | None, p: _Problems) -> None:
    """docs/trace.md's levels: proc slices at the top, goroutine slices in a proc slice, syscall
    slices alone (the M holds no P meanwhile)."""
    inside = f"inside {parent.describe()}" if parent is not None else "at the top of its track"
    if s.cat == "proc" and parent is not None:
        p.add(
            s.index,
            "gosched-levels",
            f"proc slice {s.describe()} {inside}: proc slices never overlap",
        )
    elif s.cat == "goroutine":
        if parent is None or parent.cat != "proc":
            p.add(
                s.index,
                "gosched-levels",
                f"goroutine slice {s.describe()} {inside}, not in a proc slice",
            )
        elif s.pid == PID_P and parent.args.get("m") != s.args.get("m"):
            p.add(
                s.index,
                "gosched-levels",
                f"goroutine slice {s.describe()} ran on M{s.args.get('m')} inside the proc "
                f"slice of M{parent.args.get('m')} {parent.describe()}",
            )
        elif s.pid == PID_M and parent.name != f"P{s.args.get('p')}":
            p.add(
                s.index,
                "gosched-levels",
                f"goroutine slice {s.describe()} ran on P{s.args.get('p')} "
                f"inside {parent.describe()}",
            )
    elif s.cat == "syscall" and parent is not None:
        p.add(
            s.index,
            "gosched-levels",
            f"syscall slice {s.describe()} {inside}: a goroutine in a syscall holds no P",
        )


def _gosched_instants(events: list[_Event], p: _Problems) -> list[_Event]:
    """Check the Runtime instants; return the well-formed ones for the lives check."""
    good = []
    last: _Event | None = None
    for e in events:
        if e.pid != PID_RUNTIME or e.ph != "i":
            continue
        # The viewer replays them in file order, so that order must be time order.
        if last is not None and e.ts < last.ts - EPS:
            p.add(
                e.index,
                "gosched-order",
                f"ts {e.ts:g} is before the previous instant's {last.ts:g} (event {last.index})",
            )
        if last is None and e.name != "State":
            p.add(e.index, "gosched-order", f"the first instant must be a State, got {e.name!r}")
        last = e
        problems = []
        if e.tid != SCHEDULER_TID or e.raw.get("s") != "t":
            problems.append("must be on tid 1 with s 't'")
        spec = INSTANT_ARGS.get(e.name or "")
        if spec is None:
            problems.append(f"unknown name (one of {', '.join(INSTANT_ARGS)})")
        else:
            for key in spec:
                value = e.args.get(key)
                if key not in e.args:
                    problems.append(f"needs args.{key}")
                elif e.name == "State" and key in STATE_RECORDS:
                    if (problem := _records_problem(key, value)) is not None:
                        problems.append(problem)
                elif not INSTANT_ARG_TYPES[key][0](value):
                    problems.append(
                        f"args.{key} must be {INSTANT_ARG_TYPES[key][1]}, got {value!r}"
                    )
            reason = e.args.get("reason")
            if e.name == "GoStop" and "reason" in e.args and reason not in GOSTOP_REASONS:
                problems.append(
                    f"a GoStop's reason is runtime.Gosched or preempted, got {reason!r}"
                )
        if problems:
            p.add(e.index, "gosched-instant", f"{'; '.join(problems)} {_desc(e.raw)}")
        else:
            good.append(e)
    return good


def _goroutines_in(e: _Event) -> list[int]:
    """The goroutines an instant is about: its g, gs, and the parent/by that acted (0 is the
    runtime, not a goroutine)."""
    a = e.args
    if e.name == "State":
        # Every goroutine the state names: queued, running, or live at all.
        gs = list(a["global"]) + [x["g"] for x in a["gs"]]
        gs += [x["curg"] for x in a["ms"] if x["curg"] is not None]
        for pp in a["ps"]:
            gs += pp["runq"] + ([pp["runnext"]] if pp["runnext"] is not None else [])
        return gs
    spec = INSTANT_ARGS[e.name or ""]
    gs = [a[k] for k in ("g", "parent", "by") if k in spec and _goid(a[k])]
    return gs + (a["gs"] if "gs" in spec else [])


def _gosched_lives(lives: list[_Event], slices: list[_Slice], p: _Problems) -> None:
    """Created before anything else happens to it (or before the trace: never created in it),
    destroyed at most once, then gone."""
    first_seen: dict[int, _Event] = {}
    created: dict[int, _Event] = {}
    destroyed: dict[int, _Event] = {}
    for e in lives:
        g: Any = e.args.get("g")
        if e.name == "GoDestroy" and g in destroyed:
            p.add(
                e.index,
                "gosched-destroy",
                f"g {g} destroyed again (first GoDestroy: event {destroyed[g].index})",
            )
            continue
        about = _goroutines_in(e)
        for x in about:
            if x in destroyed:
                p.add(
                    e.index,
                    "gosched-destroy",
                    f"{e.name} is about g {x} after its GoDestroy (event {destroyed[x].index})",
                )
        if e.name == "GoCreate":
            if g in first_seen:
                # A goroutine first seen doing something else existed before the trace started
                # (or the flight recorder's window): it cannot be created afterwards.
                first = first_seen[g]
                p.add(
                    e.index,
                    "gosched-create",
                    f"GoCreate of g {g} after its first appearance in {first.name} "
                    f"(event {first.index})",
                )
            else:
                created[g] = e
        for x in about:
            first_seen.setdefault(x, e)
        if e.name == "GoDestroy":
            destroyed[g] = e

    # The slices agree: none before the GoCreate or after the GoDestroy, and a slice that ends
    # with "destroy" has its GoDestroy.
    for s in slices:
        g = s.args.get("g")
        if s.pid not in (PID_P, PID_M) or s.cat not in ("goroutine", "syscall") or not _goid(g):
            continue
        if (c := created.get(g)) is not None and s.ts < c.ts - EPS:
            p.add(
                s.index,
                "gosched-create",
                f"slice {s.describe()} starts before g {g}'s GoCreate at ts {c.ts:g} "
                f"(event {c.index})",
            )
        if (d := destroyed.get(g)) is not None and s.ts > d.ts + EPS:
            p.add(
                s.index,
                "gosched-destroy",
                f"slice {s.describe()} starts after g {g}'s GoDestroy at ts {d.ts:g} "
                f"(event {d.index})",
            )
        if s.cat == "goroutine" and s.args.get("end") == "destroy" and g not in destroyed:
            p.add(
                s.index,
                "gosched-destroy",
                f"slice {s.describe()} ends with 'destroy' but g {g} has no GoDestroy",
            )


def _gosched_flows(
    events: list[_Event],
    slices: list[_Slice],
    starts: dict[_FlowKey, _Event],
    finishes: dict[_FlowKey, _Event],
    p: _Problems,
) -> None:
    tracks: dict[tuple[int, int | None], _Boundaries] = {
        track: _Boundaries(ss) for track, ss in _by_track(slices).items()
    }
    nowhere = _Boundaries([])
    for e in events:
        if e.ph not in FLOW_PHASES or e.pid != PID_P:
            continue  # other pids and the t phase: reported by _gosched_phases
        problems = []
        if e.name not in FLOW_NAMES:
            problems.append(f"name must be create or unblock, got {e.name!r}")
        if e.raw.get("cat") != "flow":
            problems.append(f"cat must be 'flow', got {e.raw.get('cat')!r}")
        track = tracks.get((e.pid, e.tid), nowhere)
        if e.ph == "s":
            # Perfetto binds a start to the slice open at its ts; with none the arrow is lost.
            if not track.covers(e.ts):
                problems.append(f"the start at ts {e.ts:g} is inside no slice of its track")
            if _flow_key(e) not in finishes:
                problems.append("the flow never finishes (both ends are in the same file)")
        elif e.ph == "f":
            if e.raw.get("bp") != "e":
                problems.append("a finish needs bp 'e'")
            if not track.goroutine_starts_at(e.ts):
                problems.append(f"no goroutine slice of its track starts at its ts {e.ts:g}")
        if problems:
            p.add(e.index, "gosched-flow", f"{'; '.join(problems)} {_desc(e.raw)}")


class _Boundaries:
    """A track's slices, indexed to answer the flow checks in log time (a trace holds as many
    flows as goroutine switches, scanning the track for each would be quadratic)."""

    def __init__(self, ss: list[_Slice]) -> None:  # ss sorted by ts, as _by_track returns them
        self.starts = [s.ts for s in ss]
        # reach[i]: the latest end among the first i + 1 slices.
        self.reach = list(itertools.accumulate((s.end for s in ss), max))
        self.goroutine_starts = [s.ts for s in ss if s.cat == "goroutine"]

    def covers(self, ts: float) -> bool:
        """Some slice starts at or before ts and ends at or after it."""
        i = bisect.bisect_right(self.starts, ts + EPS)
        return i > 0 and self.reach[i - 1] >= ts - EPS

    def goroutine_starts_at(self, ts: float) -> bool:
        i = bisect.bisect_left(self.goroutine_starts, ts - EPS)
        return i < len(self.goroutine_starts) and self.goroutine_starts[i] <= ts + EPS


def _gosched_counters(events: list[_Event], p: _Problems) -> None:
    for e in events:
        if e.ph != "C" or e.pid != PID_RUNTIME:
            continue
        if e.name not in COUNTER_KEYS:
            p.add(
                e.index,
                "gosched-counter",
                f"unknown counter {e.name!r} (one of {', '.join(COUNTER_KEYS)})",
            )
            continue
        keys = set(e.args)
        want = COUNTER_KEYS[e.name]
        if want is None:
            ok = "global" in keys and all(k == "global" or re.fullmatch(r"P\d+", k) for k in keys)
            want_text = "global and P0, P1, ..."
        else:
            ok = keys == want
            want_text = ", ".join(sorted(want))
        if not ok:
            p.add(
                e.index,
                "gosched-counter",
                f"counter {e.name} has {sorted(keys)}, wants {want_text}",
            )
