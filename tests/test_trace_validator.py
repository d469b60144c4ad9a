"""The trace validator (trace_validator.py) on hand-made traces.

A validator that reports nothing passes every trace, so besides the valid traces below, every rule
in RULES has a broken trace of its own that it must report, by event index and rule id;
test_every_rule_has_a_failing_trace keeps that list complete as rules are added.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .trace_validator import RULES, instants, slices_by_track, validate, validate_file

Event = dict[str, Any]
Trace = dict[str, Any]


# --- a small consistent gosched trace -------------------------------------------------------------


def meta(kind: str, pid: int, tid: int | None = None, **args: Any) -> Event:
    e: Event = {"ph": "M", "name": kind, "pid": pid, "args": args}
    if tid is not None:
        e["tid"] = tid
    return e


def instant(ts: float, name: str, **args: Any) -> Event:
    return {"ph": "i", "s": "t", "pid": 3, "tid": 1, "ts": ts, "name": name, "args": args}


def xslice(pid: int, tid: int, ts: float, dur: float, name: str, cat: str, **args: Any) -> Event:
    return {
        "ph": "X",
        "pid": pid,
        "tid": tid,
        "ts": ts,
        "dur": dur,
        "name": name,
        "cat": cat,
        "args": args,
    }


def gslice(
    pid: int, tid: int, ts: float, dur: float, g: int, fn: str, end: str, **extra: Any
) -> Event:
    return xslice(
        pid, tid, ts, dur, f"G{g} {fn}", "goroutine", g=g, fn=fn, m=0, p=0, end=end, **extra
    )


def counter(ts: float, name: str, **values: float) -> Event:
    return {"ph": "C", "pid": 3, "tid": 1, "ts": ts, "name": name, "args": values}


def flow(ph: str, ts: float, name: str, fid: int) -> Event:
    e: Event = {"ph": ph, "pid": 1, "tid": 1, "ts": ts, "name": name, "cat": "flow", "id": fid}
    if ph == "f":
        e["bp"] = "e"
    return e


def state(ts: float, *gs: tuple[int, str, str]) -> Event:
    """A State with P0 idle, M0 and M1 (sysmon) without a P, the goroutines ``gs`` (g, fn,
    status) live and those runnable in the global queue."""
    return instant(
        ts,
        "State",
        ps=[{"p": 0, "status": "idle", "m": None, "runnext": None, "runq": [], "gfree": 0}],
        ms=[
            {"m": 0, "p": None, "curg": None, "idle": False},
            {"m": 1, "p": None, "curg": None, "idle": False},
        ],
        gs=[{"g": g, "fn": fn, "status": status, "reason": ""} for g, fn, status in gs],
        **{"global": [g for g, _, status in gs if status == "runnable"]},
    )


def gosched_trace() -> Trace:
    """One P, run by M0 from 0 to 5 us; M1 is sysmon. g1 (main, runnable when the trace started)
    creates g2 and blocks; g2 unblocks g1 and exits; g1 runs until it enters a blocking syscall,
    handing off its P; the trace ends at 6 us."""
    events: list[Event] = [
        meta("process_name", 1, name="Ps"),
        meta("process_sort_index", 1, sort_index=1),
        meta("process_name", 2, name="Ms"),
        meta("process_sort_index", 2, sort_index=2),
        meta("process_name", 3, name="Runtime"),
        meta("process_sort_index", 3, sort_index=0),
        meta("thread_name", 1, 1, name="P0"),
        meta("thread_sort_index", 1, 1, sort_index=0),
        meta("thread_name", 2, 1, name="M0"),
        meta("thread_sort_index", 2, 1, sort_index=0),
        meta("thread_name", 2, 2, name="M1 (sysmon)"),
        meta("thread_sort_index", 2, 2, sort_index=1),
        meta("thread_name", 3, 1, name="scheduler"),
        meta("thread_sort_index", 3, 1, sort_index=0),
        # The goroutine and run-queue events, in time order, from the state at the start.
        state(0.0, (1, "main.main", "runnable")),
        instant(0.0, "ProcStart", p=0, m=0),
        instant(0.5, "GoStart", g=1, p=0, m=0),
        instant(1.0, "GoCreate", g=2, parent=1, p=0, fn="main.worker", gfree=0),
        instant(1.0, "RunqPut", g=2, p=0, next=True),
        instant(2.0, "GoBlock", g=1, reason="chan receive"),
        instant(2.0, "GoStart", g=2, p=0, m=0),
        instant(3.0, "GoUnblock", g=1, by=2),
        instant(3.0, "RunqPut", g=1, p=0, next=True),
        instant(4.0, "GoDestroy", g=2, p=0, gfree=1),
        instant(4.0, "GoStart", g=1, p=0, m=0),
        instant(5.0, "GoSyscallBegin", g=1, m=0, kind="blocking"),
        instant(5.0, "ProcStop", p=0, m=0),
        # What sysmon samples.
        counter(0.0, "runqueue", **{"global": 0, "P0": 0}),
        counter(0.0, "procs", idle=0, running=1),
        counter(0.0, "threads", total=2, idle=0, syscall=0),
    ]
    # P0's track and M0's track show the same goroutine slices, inside the P held by M0.
    for pid, tid in ((1, 1), (2, 1)):
        if pid == 1:
            events.append(xslice(pid, tid, 0.0, 5.0, "M0", "proc", p=0, m=0))
        else:
            events.append(xslice(pid, tid, 0.0, 5.0, "P0", "proc", p=0, m=0))
        events += [
            gslice(pid, tid, 0.5, 1.5, 1, "main.main", "block", reason="chan receive"),
            gslice(pid, tid, 2.0, 2.0, 2, "main.worker", "destroy"),
            gslice(pid, tid, 4.0, 1.0, 1, "main.main", "syscall"),
        ]
    # The P is gone: the syscall slice stands on its own on M0's track.
    events.append(xslice(2, 1, 5.0, 1.0, "syscall", "syscall", g=1, kind="blocking"))
    events += [
        flow("s", 1.0, "create", 1),  # from g1's slice (GoCreate) to g2's first slice
        flow("f", 2.0, "create", 1),
        flow("s", 3.0, "unblock", 2),  # from g2's slice (GoUnblock) to g1's next slice
        flow("f", 4.0, "unblock", 2),
    ]
    return {
        "traceEvents": events,
        "displayTimeUnit": "ns",
        "otherData": {
            "producer": "gosched 0.1.0",
            "format": "gosched-trace/1",
            "python": "3.11.7",
            "gomaxprocs": "1",
            "part": "0",
        },
    }


def generic_trace() -> list[Event]:
    """A non-gosched trace in the JSON Array Format using phases gosched does not write: none of
    the gosched rules apply to it."""
    return [
        meta("process_name", 7, name="browser"),
        meta("thread_name", 7, 9, name="main"),
        {"ph": "B", "pid": 7, "tid": 9, "ts": 10, "name": "outer"},
        {"ph": "B", "pid": 7, "tid": 9, "ts": 11, "name": "inner", "args": {"a": 1}},
        {"ph": "E", "pid": 7, "tid": 9, "ts": 12},
        {"ph": "X", "pid": 7, "tid": 9, "ts": 12, "dur": 3, "name": "work"},
        {"ph": "E", "pid": 7, "tid": 9, "ts": 20, "name": "outer"},
        {"ph": "I", "pid": 7, "tid": 9, "ts": 13, "name": "mark", "s": "g"},
        {"ph": "C", "pid": 7, "tid": 9, "ts": 13, "name": "heap", "args": {"used": 1.5, "free": 2}},
        {"ph": "s", "pid": 7, "tid": 9, "ts": 11, "name": "req", "cat": "c", "id": "0x1"},
        {"ph": "t", "pid": 7, "tid": 9, "ts": 12, "name": "req", "cat": "c", "id": "0x1"},
        {
            "ph": "f",
            "pid": 7,
            "tid": 9,
            "ts": 13,
            "name": "req",
            "cat": "c",
            "id": "0x1",
            "bp": "e",
        },
        {"ph": "b", "pid": 7, "tid": 9, "ts": 14, "name": "async", "cat": "c", "id": 5},
        {"ph": "e", "pid": 7, "tid": 9, "ts": 15, "name": "async", "cat": "c", "id": 5},
    ]


def find(
    trace: Trace, ph: str, called: str | None = None, pid: int | None = None, nth: int = 0
) -> int:
    """The index of the nth event with this phase (and name, pid)."""
    hits = [
        i
        for i, e in enumerate(trace["traceEvents"])
        if e.get("ph") == ph
        and (called is None or e.get("name") == called)
        and (pid is None or e.get("pid") == pid)
    ]
    return hits[nth]


def add(trace: Trace, event: Event) -> int:
    trace["traceEvents"].append(event)
    return len(trace["traceEvents"]) - 1


# --- valid traces ---------------------------------------------------------------------------------


def test_gosched_trace_is_valid() -> None:
    assert validate(gosched_trace()) == []


def test_generic_trace_is_valid() -> None:
    assert validate(generic_trace()) == []
    assert validate({"traceEvents": generic_trace(), "displayTimeUnit": "ms"}) == []


def test_empty_traces_are_valid() -> None:
    assert validate([]) == []
    assert validate({"traceEvents": []}) == []


def test_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps(gosched_trace()))
    assert validate_file(path) == []


def test_slices_nest_at_shared_boundaries() -> None:
    # A child starting with its parent, one ending with it, a zero-length slice at a parent's end,
    # and siblings that touch: all nest (Perfetto sorts by ts, the longer first).
    events = [
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0.0, "dur": 1.0, "name": "first child"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0.0, "dur": 3.0, "name": "parent"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.0, "name": "last child"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 3.0, "dur": 0.0, "name": "after"},
        # Float sums: 0.1 + 0.2 != 0.3, within the epsilon.
        {"ph": "X", "pid": 1, "tid": 1, "ts": 10.1, "dur": 0.2, "name": "p"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 10.2, "dur": 0.1, "name": "c"},
    ]
    assert validate(events) == []


# --- helpers --------------------------------------------------------------------------------------


def test_slices_by_track() -> None:
    trace = gosched_trace()
    tracks = slices_by_track(trace)
    assert sorted(tracks) == [(1, 1), (2, 1)]
    p0 = tracks[(1, 1)]
    assert [s["name"] for s in p0] == ["M0", "G1 main.main", "G2 main.worker", "G1 main.main"]
    assert p0[0] is trace["traceEvents"][find(trace, "X", "M0")]  # the file's own event
    assert [s["name"] for s in tracks[(2, 1)]][-1] == "syscall"


def test_slices_by_track_pairs_begin_end() -> None:
    tracks = slices_by_track(generic_trace())
    assert [(s["name"], s["ts"], s["dur"]) for s in tracks[(7, 9)]] == [
        ("outer", 10, 10),
        ("inner", 11, 1),
        ("work", 12, 3),
    ]
    assert tracks[(7, 9)][1]["args"] == {"a": 1}


def test_instants() -> None:
    trace = gosched_trace()
    assert len(instants(trace)) == 13
    assert [e["args"]["g"] for e in instants(trace, "GoStart")] == [1, 2, 1]
    assert len(instants(trace, "GoCreate")) == len(instants(trace, "GoDestroy")) == 1
    assert instants(generic_trace(), "mark")[0]["s"] == "g"


# --- one broken trace per rule --------------------------------------------------------------------

# rule -> functions each returning a trace that breaks it and the index of the event to blame
# (None: the trace as a whole).
Case = Callable[[], tuple[Any, int | None]]
CASES: dict[str, list[Case]] = {}
DELETE = object()  # edit()'s value for "remove this key"


def case(rule: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES.setdefault(rule, []).append(fn)
        return fn

    return register


def gosched_with(change: Callable[[Trace], int | None]) -> tuple[Trace, int | None]:
    """The valid gosched trace changed by ``change``, which returns the index to blame."""
    trace = gosched_trace()
    return trace, change(trace)


def edit(
    trace: Trace,
    ph: str,
    called: str | None = None,
    pid: int | None = None,
    nth: int = 0,
    **fields: Any,
) -> int:
    """Set fields of the nth matching event (args={...}: fields of its args); a field set to
    DELETE is removed. Returns the event's index."""
    i = find(trace, ph, called, pid, nth)
    event = trace["traceEvents"][i]
    arg_changes = fields.pop("args", {})
    for target, changes in ((event, fields), (event.setdefault("args", {}), arg_changes)):
        for key, value in changes.items():
            if value is DELETE:
                del target[key]
            else:
                target[key] = value
    return i


def bare(**fields: Any) -> tuple[list[Event], int]:
    """A one-event trace in the JSON Array Format: a well-formed X slice with ``fields`` changed."""
    event: Event = {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 1, "name": "a"}
    event.update(fields)
    return [{k: v for k, v in event.items() if v is not DELETE}], 0


# 1. Chrome Trace Event Format.


@case("top-level")
def _no_trace_events() -> tuple[Any, int | None]:
    return {"events": []}, None


@case("top-level")
def _not_an_object() -> tuple[Any, int | None]:
    return "trace", None


@case("top-level")
def _bad_time_unit() -> tuple[Any, int | None]:
    return {"traceEvents": [], "displayTimeUnit": "us"}, None


@case("top-level")
def _bad_other_data() -> tuple[Any, int | None]:
    return {"traceEvents": [], "otherData": ["gosched"]}, None


@case("event-object")
def _event_not_object() -> tuple[Any, int | None]:
    return [bare()[0][0], ["X"]], 1


@case("ph")
def _unknown_phase() -> tuple[Any, int | None]:
    return bare(ph="Z")


@case("ph")
def _missing_phase() -> tuple[Any, int | None]:
    return bare(ph=DELETE)


@case("name")
def _missing_name() -> tuple[Any, int | None]:
    return bare(name=DELETE)


@case("name")
def _name_not_string() -> tuple[Any, int | None]:
    return bare(name=3)


@case("ts")
def _negative_ts() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "M0", ts=-1.0))


@case("ts")
def _ts_not_number() -> tuple[Any, int | None]:
    return bare(ts="5")


@case("ts")
def _ts_infinite() -> tuple[Any, int | None]:
    return bare(ts=float("inf"))


@case("ts")
def _ts_missing() -> tuple[Any, int | None]:
    return bare(ts=DELETE)


@case("pid-tid")
def _pid_string() -> tuple[Any, int | None]:
    return bare(pid="1")  # Perfetto interns a string pid as a name: a hack, not the format


@case("pid-tid")
def _tid_missing() -> tuple[Any, int | None]:
    return bare(tid=DELETE)


@case("pid-tid")
def _tid_bool() -> tuple[Any, int | None]:
    return bare(tid=True)


@case("args")
def _args_list() -> tuple[Any, int | None]:
    return bare(args=[1])


@case("x-dur")
def _negative_dur() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "M0", dur=-1.0))


@case("x-dur")
def _missing_dur() -> tuple[Any, int | None]:
    return bare(dur=DELETE)


@case("instant-scope")
def _bad_scope() -> tuple[Any, int | None]:
    return bare(ph="i", dur=DELETE, s="x")


@case("counter-args")
def _counter_string() -> tuple[Any, int | None]:
    return bare(ph="C", dur=DELETE, args={"v": "many"})


@case("counter-args")
def _counter_no_args() -> tuple[Any, int | None]:
    return bare(ph="C", dur=DELETE)


@case("metadata")
def _unknown_metadata() -> tuple[Any, int | None]:
    return [meta("thread_colour", 1, 1, name="red")], 0


@case("metadata")
def _thread_name_not_string() -> tuple[Any, int | None]:
    return [meta("thread_name", 1, 1, name=5)], 0


@case("metadata")
def _sort_index_missing() -> tuple[Any, int | None]:
    return [meta("process_sort_index", 1, index=5)], 0


@case("begin-end")
def _unmatched_end() -> tuple[Any, int | None]:
    return [{"ph": "E", "pid": 1, "tid": 1, "ts": 1}], 0


@case("begin-end")
def _unended_begin() -> tuple[Any, int | None]:
    return [{"ph": "B", "pid": 1, "tid": 1, "ts": 1, "name": "a"}], 0


@case("begin-end")
def _end_of_another() -> tuple[Any, int | None]:
    return [
        {"ph": "B", "pid": 1, "tid": 1, "ts": 1, "name": "a"},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 2, "name": "b"},
    ], 1


@case("begin-end")
def _end_on_another_thread() -> tuple[Any, int | None]:
    return [
        {"ph": "B", "pid": 1, "tid": 1, "ts": 1, "name": "a"},
        {"ph": "E", "pid": 1, "tid": 2, "ts": 2, "name": "a"},
    ], 1


@case("flow-id")
def _flow_without_id() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "s", "create", id=DELETE))


@case("flow-id")
def _flow_id_object() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "f", "create", id={"local": 1}))


@case("flow-bp")
def _flow_bad_bp() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "f", "create", bp="x"))


@case("flow-start")
def _finish_without_start() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "f", "unblock", id=99))


@case("flow-start")
def _started_twice() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, flow("s", 1.5, "create", 1)))


@case("flow-order")
def _finish_before_start() -> tuple[Any, int | None]:
    return [
        {"ph": "s", "pid": 1, "tid": 1, "ts": 5, "name": "a", "id": 1},
        {"ph": "f", "pid": 1, "tid": 1, "ts": 4, "name": "a", "id": 1},
    ], 1


@case("flow-finish")
def _finished_twice() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, flow("f", 4.0, "create", 1)))


# 2. Perfetto.


@case("tid-0")
def _tid_zero() -> tuple[Any, int | None]:
    return bare(tid=0)


@case("nesting")
def _partial_overlap() -> tuple[Any, int | None]:
    # A slice of g1 on P0 running 0.5 us past the end of M0's proc slice.
    return gosched_with(lambda t: add(t, gslice(1, 1, 4.5, 1.0, 1, "main.main", "gosched")))


@case("nesting")
def _begin_end_overlap() -> tuple[Any, int | None]:
    # B/E pairs and X slices share the track's stack.
    return [
        {"ph": "B", "pid": 1, "tid": 1, "ts": 0, "name": "a"},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 1, "dur": 5, "name": "b"},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 2},
    ], 1


# 3. gosched.


@case("gosched-header")
def _time_unit_ms() -> tuple[Any, int | None]:
    return gosched_with(lambda t: t.update(displayTimeUnit="ms"))


@case("gosched-header")
def _other_data_number() -> tuple[Any, int | None]:
    return gosched_with(lambda t: t["otherData"].update(gomaxprocs=1))


@case("gosched-header")
def _other_data_missing() -> tuple[Any, int | None]:
    def change(t: Trace) -> None:
        del t["otherData"]["python"]

    return gosched_with(change)


@case("gosched-phase")
def _begin_end_in_gosched() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        b = add(t, {"ph": "B", "pid": 1, "tid": 1, "ts": 5.2, "name": "x"})
        add(t, {"ph": "E", "pid": 1, "tid": 1, "ts": 5.5})
        return b

    return gosched_with(change)


@case("gosched-phase")
def _instant_on_p_track() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(1.0, "GoStart", g=1, p=0, m=0) | {"pid": 1}))


@case("gosched-tracks")
def _p_track_misnamed() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "M", "thread_name", pid=1, args={"name": "P1"}))


@case("gosched-tracks")
def _m_track_off_by_one() -> tuple[Any, int | None]:
    return gosched_with(
        lambda t: edit(t, "M", "thread_name", pid=2, nth=1, args={"name": "M2 (sysmon)"})
    )


@case("gosched-tracks")
def _unnamed_track() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, xslice(1, 2, 0.0, 1.0, "M0", "proc", p=1, m=0)))


@case("gosched-tracks")
def _foreign_pid() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, xslice(4, 1, 0.0, 1.0, "M0", "proc", p=0, m=0)))


@case("gosched-tracks")
def _process_misnamed() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "M", "process_name", pid=3, args={"name": "runtime"}))


@case("gosched-tracks")
def _no_sort_index() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        del t["traceEvents"][find(t, "M", "thread_sort_index", pid=2, nth=1)]
        return find(t, "M", "thread_name", pid=2, nth=1)

    return gosched_with(change)


@case("gosched-slice")
def _goroutine_slice_without_fn() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G2 main.worker", args={"fn": DELETE}))


@case("gosched-slice")
def _goroutine_slice_misnamed() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G2 main.worker", name="G3 main.worker"))


@case("gosched-slice")
def _goroutine_slice_on_wrong_p() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G2 main.worker", pid=1, args={"p": 1}))


@case("gosched-slice")
def _proc_slice_wrong_p() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "M0", args={"p": 1}))


@case("gosched-slice")
def _unknown_cat() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, xslice(1, 1, 1.0, 0.5, "gc", "gc")))


@case("gosched-slice")
def _syscall_bad_kind() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "syscall", args={"kind": "read"}))


@case("gosched-levels")
def _goroutine_outside_proc() -> tuple[Any, int | None]:
    # After M0's proc slice ended at 5 us no M holds P0.
    return gosched_with(lambda t: add(t, gslice(1, 1, 5.5, 0.5, 1, "main.main", "trace end")))


@case("gosched-levels")
def _proc_in_proc() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, xslice(1, 1, 1.0, 0.5, "M0", "proc", p=0, m=0)))


@case("gosched-levels")
def _goroutine_in_goroutine() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, gslice(1, 1, 2.5, 0.5, 1, "main.main", "gosched")))


@case("gosched-levels")
def _goroutine_on_another_m() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G2 main.worker", pid=1, args={"m": 1}))


@case("gosched-levels")
def _syscall_in_proc() -> tuple[Any, int | None]:
    # M0 holds P0 from 0 us, g1 runs from 0.5 us: a syscall in between is in no goroutine's slice.
    syscall = xslice(2, 1, 0.1, 0.2, "syscall", "syscall", g=1, kind="blocking")
    return gosched_with(lambda t: add(t, syscall))


@case("gosched-levels")
def _syscall_in_goroutine() -> tuple[Any, int | None]:
    # A goroutine in a syscall has let its P go, so its syscall slice is in no P's slices.
    syscall = xslice(2, 1, 0.6, 0.2, "syscall", "syscall", g=1, kind="blocking")
    return gosched_with(lambda t: add(t, syscall))


@case("gosched-end")
def _unknown_end() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G2 main.worker", args={"end": "exit"}))


@case("gosched-end")
def _block_without_reason() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "X", "G1 main.main", args={"reason": DELETE}))


@case("gosched-instant")
def _unknown_instant() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(5.5, "GoPark", g=1)))


@case("gosched-instant")
def _instant_missing_arg() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "i", "GoCreate", args={"gfree": DELETE}))


@case("gosched-instant")
def _instant_bad_arg() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(5.5, "RunqSpill", p=0, gs=1)))


@case("gosched-instant")
def _instant_process_scope() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "i", "ProcStop", s="p"))


@case("gosched-instant")
def _state_record_missing_field() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        i = find(t, "i", "State")
        del t["traceEvents"][i]["args"]["ps"][0]["gfree"]
        return i

    return gosched_with(change)


@case("gosched-instant")
def _state_global_not_goids() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "i", "State", args={"global": [{"g": 1}]}))


@case("gosched-instant")
def _gostop_reason() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(6.0, "GoStop", g=1, reason="yield")))


@case("gosched-instant")
def _syscall_begin_kind() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "i", "GoSyscallBegin", args={"kind": "read"}))


@case("gosched-order")
def _no_state_first() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        del t["traceEvents"][find(t, "i", "State")]
        return find(t, "i", "ProcStart")

    return gosched_with(change)


@case("gosched-order")
def _instants_out_of_order() -> tuple[Any, int | None]:
    # GoUnblock at 1.5 follows GoStart at 2.0 in the file.
    return gosched_with(lambda t: edit(t, "i", "GoUnblock", ts=1.5))


@case("gosched-create")
def _create_after_start() -> tuple[Any, int | None]:
    # g1 lived before the trace started (the State lists it): it cannot be created later.
    create = instant(6.0, "GoCreate", g=1, parent=0, p=0, fn="main.main", gfree=0)
    return gosched_with(lambda t: add(t, create))


@case("gosched-create")
def _slice_before_create() -> tuple[Any, int | None]:
    # g3, created by the runtime at 5.5 us, was in a syscall on sysmon's M at 1 us.
    def change(t: Trace) -> int:
        add(t, instant(5.5, "GoCreate", g=3, parent=0, p=0, fn="main.late", gfree=0))
        return add(t, xslice(2, 2, 1.0, 0.5, "syscall", "syscall", g=3, kind="blocking"))

    return gosched_with(change)


@case("gosched-create")
def _create_after_first_seen() -> tuple[Any, int | None]:
    # g7, first seen made runnable, existed before the trace.
    def change(t: Trace) -> int:
        add(t, instant(6.0, "GlobalPut", g=7))
        return add(t, instant(6.0, "GoCreate", g=7, parent=1, p=0, fn="main.w", gfree=0))

    return gosched_with(change)


@case("gosched-destroy")
def _destroyed_twice() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(5.5, "GoDestroy", g=2, p=0, gfree=2)))


@case("gosched-destroy")
def _event_after_destroy() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, instant(5.5, "GlobalPut", g=2)))


@case("gosched-destroy")
def _moved_after_destroy() -> tuple[Any, int | None]:
    steal = instant(5.5, "RunqSteal", p=0, gs=[2], **{"from": 1})
    return gosched_with(lambda t: add(t, steal))


@case("gosched-destroy")
def _state_lists_destroyed() -> tuple[Any, int | None]:
    # A later State (a flight recorder's next generation) cannot list a destroyed goroutine.
    later = state(5.5, (1, "main.main", "syscall"), (2, "main.worker", "waiting"))
    return gosched_with(lambda t: add(t, later))


@case("gosched-destroy")
def _destroy_slice_without_destroy() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        del t["traceEvents"][find(t, "i", "GoDestroy")]
        return find(t, "X", "G2 main.worker")

    return gosched_with(change)


@case("gosched-flow")
def _flow_misnamed() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        start = add(t, flow("s", 3.0, "wake", 3))
        add(t, flow("f", 4.0, "wake", 3))
        return start

    return gosched_with(change)


@case("gosched-flow")
def _flow_never_finishes() -> tuple[Any, int | None]:
    def change(t: Trace) -> int:
        del t["traceEvents"][find(t, "f", "unblock")]
        return find(t, "s", "unblock")

    return gosched_with(change)


@case("gosched-flow")
def _flow_finish_between_slices() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "f", "unblock", ts=4.5))


@case("gosched-flow")
def _flow_finish_without_bp() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "f", "unblock", bp=DELETE))


@case("gosched-flow")
def _flow_start_outside_slices() -> tuple[Any, int | None]:
    # P0 has no slice after 5 us: Perfetto would have nothing to bind the arrow to.
    def change(t: Trace) -> int:
        start = add(t, flow("s", 5.5, "unblock", 7))
        add(t, flow("f", 5.5, "unblock", 7))
        return start

    return gosched_with(change)


@case("gosched-counter")
def _unknown_counter() -> tuple[Any, int | None]:
    return gosched_with(lambda t: add(t, counter(1.0, "heap", n=1)))


@case("gosched-counter")
def _counter_keys() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "C", "procs", args={"running": DELETE}))


@case("gosched-counter")
def _runqueue_keys() -> tuple[Any, int | None]:
    return gosched_with(lambda t: edit(t, "C", "runqueue", args={"p0": 1}))


@case("json")
def _not_json() -> tuple[Any, int | None]:
    raise AssertionError("a file's rule: test_validate_file_reports_bad_json")


ALL_CASES = [(rule, fn) for rule, fns in CASES.items() for fn in fns if rule != "json"]


def test_every_rule_has_a_failing_trace() -> None:
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize(
    ("rule", "make"), ALL_CASES, ids=[f"{r}:{fn.__name__.strip('_')}" for r, fn in ALL_CASES]
)
def test_broken_trace_is_reported(rule: str, make: Case) -> None:
    trace, index = make()
    problems = validate(trace)
    where = "trace" if index is None else f"event {index}"
    hits = [p for p in problems if p.startswith(f"{where}: [{rule}] ")]
    assert hits, f"expected a [{rule}] problem at {where}; got:\n" + "\n".join(problems)


def test_overlap_names_both_slices() -> None:
    trace = gosched_trace()
    late = add(trace, gslice(1, 1, 4.5, 1.0, 1, "main.main", "gosched"))
    # The innermost slice open at 4.5 us: g1's last slice on P0, [4, 5].
    running = find(trace, "X", "G1 main.main", pid=1, nth=1)
    (problem,) = [p for p in validate(trace) if "[nesting]" in p]
    assert problem.startswith(f"event {late}: [nesting] ")
    assert f"event {running} " in problem and "[4, 5]" in problem and "[4.5, 5.5]" in problem


def test_one_broken_event_is_one_problem() -> None:
    # Cross-event checks skip an event the per-event checks rejected rather than tripping on it.
    trace = gosched_trace()
    i = edit(trace, "i", "GoCreate", ts="1.0")
    assert validate(trace) == [
        f"event {i}: [ts] ts must be a finite number >= 0 (microseconds), "
        f"got '1.0' (i \"GoCreate\" pid 3 tid 1 ts '1.0')"
    ]


def test_gosched_rules_only_for_gosched_traces() -> None:
    # pid 7, B/E and async phases gosched never writes: fine when the trace is not gosched's.
    trace = {"traceEvents": generic_trace(), "otherData": {"format": "other"}}
    assert validate(trace) == []
    trace["otherData"]["format"] = "gosched-trace/1"
    assert any("[gosched-" in p for p in validate(trace))


def test_pre_existing_goroutines_need_no_create() -> None:
    # g1 is in the State; a g seen first in a GoUnblock existed before the trace too.
    trace = gosched_trace()
    add(trace, instant(6.0, "GoUnblock", g=40, by=0))
    add(trace, instant(6.0, "GlobalPut", g=40))
    add(trace, instant(6.0, "GlobalGet", p=0, gs=[40]))
    assert validate(trace) == []


def test_flight_recorder_generations() -> None:
    # Each generation starts with a State: the live goroutines again, not created again.
    trace = gosched_trace()
    add(trace, state(5.5, (1, "main.main", "syscall")))
    add(trace, instant(5.8, "GoSyscallEndBlocked", g=1, m=0))
    add(trace, instant(5.8, "GlobalPut", g=1))
    assert validate(trace) == []


def test_validate_file_reports_bad_json(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(gosched_trace())[:-10])
    nan = tmp_path / "nan.json"
    nan.write_text(
        '{"traceEvents": [{"ph": "X", "pid": 1, "tid": 1, "ts": NaN, "dur": 1, "name": "a"}]}'
    )
    for path in (truncated, nan, tmp_path / "missing.json"):
        (problem,) = validate_file(path)
        assert problem.startswith("file: [json] ") and str(path) in problem


def test_validate_file_reports_trace_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bare(tid=0)[0]))
    (problem,) = validate_file(path)
    assert problem.startswith("event 0: [tid-0] ")


def chain_trace(n: int) -> Trace:
    """A longer valid trace: g1 creates g2 and exits, g2 creates g3 and exits, ... g<n> runs
    until the trace ends; each goroutine runs for 1 us on P0, held by M0 throughout."""
    trace = gosched_trace()
    keep = [e for e in trace["traceEvents"] if e["ph"] in ("M", "C")]
    events = [*keep, state(1.0, (1, "main.f", "runnable")), instant(1.0, "ProcStart", p=0, m=0)]
    events.append(instant(1.0, "GoStart", g=1, p=0, m=0))
    slices = [
        xslice(pid, 1, 1.0, n, name, "proc", p=0, m=0) for pid, name in ((1, "M0"), (2, "P0"))
    ]
    for g in range(1, n + 1):
        last = g == n
        if not last:
            events.append(
                instant(g + 0.5, "GoCreate", g=g + 1, parent=g, p=0, fn="main.f", gfree=0)
            )
            events.append(instant(g + 0.5, "RunqPut", g=g + 1, p=0, next=True))
            events += [flow("s", g + 0.5, "create", g), flow("f", g + 1, "create", g)]
            events.append(instant(g + 1, "GoDestroy", g=g, p=0, gfree=1))
            events.append(instant(g + 1, "GoStart", g=g + 1, p=0, m=0))
        for pid in (1, 2):
            slices.append(gslice(pid, 1, g, 1.0, g, "main.f", "trace end" if last else "destroy"))
    trace["traceEvents"] = events + slices
    return trace


def test_long_trace_is_valid_in_linear_time() -> None:
    # 20000 goroutines, as many flows: a check that scanned a track per event would take minutes.
    trace = chain_trace(20000)
    started = time.perf_counter()
    assert validate(trace) == []
    assert time.perf_counter() - started < 20
    assert len(instants(trace, "GoDestroy")) == 19999
    assert len(slices_by_track(trace)[(1, 1)]) == 20001
