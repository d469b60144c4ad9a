"""gosched trace view (src/gosched/_traceview.py, _traceview.html): the trace file's model, the
tables computed from it, the HTML it becomes, the command, and the page in a real browser.

The browser tests drive Debian's chromium (/usr/bin/chromium) through Playwright; they check the
page against traces whose scheduler state is known: small hand-made ones (the state is known by
construction) and tests/_tracegen.py's synthetic ones (its model records its own queues, which
the page's replay must rebuild exactly). Screenshots go to $GOSCHED_TEST_ARTIFACTS (default:
the test's tmp_path).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from gosched import _traceview as tv

from ._tracegen import process_meta, synthetic_trace, synthetic_trace_and_states, thread_meta

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# --------------------------------------------------------------------------------------------------
# Hand-made traces


def inst(ts: float, name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "ph": "i", "s": "t", "pid": 3, "tid": 1, "ts": ts, "args": args}


def xslice(
    pid: int, tid: int, name: str, cat: str, ts: float, until: float, **args: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "cat": cat,
        "ph": "X",
        "pid": pid,
        "tid": tid,
        "ts": ts,
        "dur": until - ts,
        "args": args,
    }


def gslices(
    g: int, fn: str, p: int, m: int, ts: float, end: float, how: str, reason: str = ""
) -> list[dict[str, Any]]:
    """A goroutine's slice on its P's track and its M's track."""
    args: dict[str, Any] = {"g": g, "fn": fn, "m": m, "p": p, "end": how}
    if reason:
        args["reason"] = reason
    name = f"G{g} {fn}"
    return [
        xslice(1, p + 1, name, "goroutine", ts, end, **args),
        xslice(2, m + 1, name, "goroutine", ts, end, **args),
    ]


def held(p: int, m: int, ts: float, end: float) -> list[dict[str, Any]]:
    return [
        xslice(1, p + 1, f"M{m}", "proc", ts, end, p=p, m=m),
        xslice(2, m + 1, f"P{p}", "proc", ts, end, p=p, m=m),
    ]


def trace(nprocs: int, nms: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    meta: list[dict[str, Any]] = []
    for pid, name in ((1, "Ps"), (2, "Ms"), (3, "Runtime")):
        meta += process_meta(pid, name, pid)
    tracks = [(3, 1, "scheduler")] + [(1, p + 1, f"P{p}") for p in range(nprocs)]
    tracks += [(2, m + 1, "M1 (sysmon)" if m == 1 else f"M{m}") for m in range(nms)]
    for pid, tid, name in tracks:
        meta += thread_meta(pid, tid, name)
    return {
        "traceEvents": meta + events,
        "displayTimeUnit": "ns",
        "otherData": {
            "producer": "gosched (test)",
            "format": "gosched-trace/1",
            "python": "3",
            "gomaxprocs": str(nprocs),
            "part": "0",
        },
    }


def state(
    ps: list[tuple[int, int | None, int | None, list[int]]],
    ms: list[tuple[int, int | None, int | None, bool]],
    glob: list[int] = [],  # never mutated
    gs: list[tuple[int, str, str, str]] = [],
) -> dict[str, Any]:
    """A State's args: ps as (p, m, runnext, runq), ms as (m, p, curg, idle), gs as (g, fn,
    status, reason)."""
    return {
        "ps": [
            {
                "p": p,
                "status": "idle" if m is None else "running",
                "m": m,
                "runnext": rn,
                "runq": q,
                "gfree": 0,
            }
            for p, m, rn, q in ps
        ],
        "global": glob,
        "ms": [{"m": m, "p": p, "curg": g, "idle": idle} for m, p, g, idle in ms],
        "gs": [{"g": g, "fn": fn, "status": st, "reason": r} for g, fn, st, r in gs],
    }


def create(ts: float, g: int, parent: int, p: int, fn: str = "main.worker") -> list[dict[str, Any]]:
    """GoCreate and the RunqPut into the creator's runnext that follows it."""
    return [
        inst(ts, "GoCreate", g=g, parent=parent, p=p, fn=fn, gfree=0),
        inst(ts, "RunqPut", g=g, p=p, next=True),
    ]


def fanout_trace() -> dict[str, Any]:
    """P0 runs G1 on M0; G1 creates G2..G5 (runnext G5, local G2 G3 G4: each creation kicks the
    previous runnext to the tail). Later M2 starts P1 and steals G2 G3, runs G3; G1 blocks,
    G5 runs and readies G1 into runnext; G3 yields to the global queue; G2 runs.

    Known states: at 50 µs P0 runnext 5, local 2 3 4, P1 idle; at 75 µs P0 runnext 5, local 4,
    P1 held by M2 with local 2, M2 running G3; at 97 µs P0 runnext 1, local 4, global 3."""
    ev = [
        inst(
            0,
            "State",
            **state(
                [(0, None, None, []), (1, None, None, [])],
                [(0, None, None, False), (1, None, None, False), (2, None, None, False)],
            ),
        ),
        inst(0, "ProcStart", p=0, m=0),
        *create(1, 1, 0, 0, "main.main"),
        inst(2, "GoStart", g=1, p=0, m=0),
    ]
    for i, g in enumerate((2, 3, 4, 5)):
        ev += create(10 + 10 * i, g, 1, 0)
    ev += [
        inst(60, "ProcStart", p=1, m=2),
        inst(70, "RunqSteal", p=1, gs=[2, 3], **{"from": 0}),
        inst(71, "GoStart", g=3, p=1, m=2),
        inst(80, "GoBlock", g=1, reason="chan receive"),
        inst(81, "GoStart", g=5, p=0, m=0),
        inst(90, "GoUnblock", g=1, by=5),
        inst(90, "RunqPut", g=1, p=0, next=True),
        inst(95, "GoStop", g=3, reason="runtime.Gosched"),
        inst(95, "GlobalPut", g=3),
        inst(96, "GoStart", g=2, p=1, m=2),
    ]
    ev += held(0, 0, 0, 110) + held(1, 2, 60, 110)
    ev += gslices(1, "main.main", 0, 0, 2, 80, "block", "chan receive")
    ev += gslices(5, "main.worker", 0, 0, 81, 110, "trace end")
    ev += gslices(3, "main.worker", 1, 2, 71, 95, "gosched")
    ev += gslices(2, "main.worker", 1, 2, 96, 110, "trace end")
    ev += [
        {"name": "create", "cat": "flow", "ph": "s", "id": 1, "pid": 1, "tid": 1, "ts": 40},
        {
            "name": "create",
            "cat": "flow",
            "ph": "f",
            "bp": "e",
            "id": 1,
            "pid": 1,
            "tid": 1,
            "ts": 81,
        },
    ]
    return trace(2, 3, ev)


def every_op_trace() -> dict[str, Any]:
    """Every op of the table, with the state after each step known by construction (see
    test_browser_every_op)."""
    idle3 = [(0, None, None, []), (1, None, None, []), (2, None, None, [])]
    ms3 = [(0, None, None, False), (1, None, None, False), (2, None, None, False)]
    ev = [
        inst(0, "State", **state(idle3, ms3)),
        inst(0, "ProcStart", p=0, m=0),
        *create(0, 1, 0, 0, "main.main"),
        inst(1, "GoStart", g=1, p=0, m=0),
        *create(5, 2, 1, 0),
        *create(5, 3, 1, 0),
        inst(6, "ProcStart", p=2, m=2),
        *create(7, 4, 1, 2),
        *create(7, 5, 1, 2),
        inst(8, "ProcStop", p=2, m=2),
        inst(8, "MStop", m=2),
        inst(10, "ProcsChange", n=2, gs=[4, 5]),
        inst(20, "GoStop", g=1, reason="preempted"),
        inst(20, "GlobalPut", g=1),
        inst(21, "GlobalGet", p=0, gs=[4, 5]),
        inst(22, "GoStart", g=3, p=0, m=0),
        inst(30, "ProcsChange", n=3, gs=[]),
        inst(31, "MStart", m=2),
        inst(31, "ProcStart", p=2, m=2),
        inst(32, "RunqSteal", p=2, gs=[2, 4], **{"from": 0}),
        inst(33, "GoStart", g=4, p=2, m=2),
        inst(40, "GoSyscallBegin", g=4, m=2, kind="retake"),
        inst(45, "ProcSteal", p=2, m=2),
        inst(50, "GoSyscallEndBlocked", g=4, m=2),
        inst(50, "GlobalPut", g=4),
        inst(50, "MStop", m=2),
        *create(55, 7, 3, 0),
        inst(56, "GoBlock", g=3, reason="select"),
        inst(57, "GoUnblock", g=3, by=0),
        inst(57, "GlobalPut", g=3),
        inst(60, "GoStart", g=7, p=0, m=0),
        inst(61, "GoDestroy", g=7, p=0, gfree=1),
        inst(63, "GFree", p=0, gfree=0),
        inst(
            70,
            "State",
            **state(
                [(0, 0, 9, [10, 11]), (1, None, None, []), (2, 2, None, [])],
                [
                    (0, 0, 8, False),
                    (1, None, None, False),
                    (2, 2, 13, False),
                    (3, None, None, True),
                ],
                [12],
                [(13, "main.w", "syscall", "")],
            ),
        ),
        *held(0, 0, 0, 80),
        *gslices(1, "main.main", 0, 0, 1, 20, "preempted"),
    ]
    return trace(3, 4, ev)


# --------------------------------------------------------------------------------------------------
# load: the model


def write(tmp_path: Path, doc: object, name: str = "t.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_load_tracks_and_levels(tmp_path: Path) -> None:
    m = tv.load(write(tmp_path, fanout_trace()))
    assert [(t.kind, t.id, t.name) for t in m.tracks] == [
        ("P", 0, "P0"),
        ("P", 1, "P1"),
        ("M", 0, "M0"),
        ("M", 1, "M1 (sysmon)"),
        ("M", 2, "M2"),
    ]
    p0 = m.tracks[0].levels
    assert list(p0) == ["proc", "goroutine"]
    assert p0["goroutine"].start == [2_000, 81_000]
    assert p0["goroutine"].dur == [78_000, 29_000]
    assert p0["goroutine"].g == [1, 5]
    assert [m.strings[c] for c in p0["goroutine"].c] == ["block", "trace end"]
    assert m.strings[p0["goroutine"].r[0]] == "chan receive"
    assert p0["proc"].o == [0]  # held by M0
    assert m.tracks[4].levels["proc"].o == [1]  # M2 holds P1
    assert (m.start, m.end, m.nprocs) == (0, 110_000, 2)
    assert len(m.inst_t) == 23
    assert m.states == [
        {
            "ps": [[0, 0, -1, 0, 0, []], [1, 0, -1, 0, 0, []]],
            "global": [],
            "ms": [[0, -1, 0, 0, 0], [1, -1, 0, 0, 0], [2, -1, 0, 0, 0]],
        }
    ]
    assert m.flows == [(m.strings.index("create"), 40_000, 0, 81_000, 0)]


def test_goroutine_times(tmp_path: Path) -> None:
    """Each goroutine's running, runnable, blocked and syscall time, from the instants."""
    ev = [
        inst(0, "ProcStart", p=0, m=0),
        *create(0, 7, 0, 0, "main.w"),
        inst(10, "GoStart", g=7, p=0, m=0),
        inst(30, "GoBlock", g=7, reason="chan receive"),
        inst(50, "GoUnblock", g=7, by=0),
        inst(50, "GlobalPut", g=7),
        inst(60, "GoStart", g=7, p=0, m=0),
        inst(70, "GoSyscallBegin", g=7, m=0, kind="blocking"),
        inst(70, "ProcStop", p=0, m=0),
        inst(75, "GoSyscallEnd", g=7, m=0),
        inst(75, "ProcStart", p=0, m=0),
        inst(75, "GoStart", g=7, p=0, m=0),
        inst(80, "GoBlock", g=7, reason="sleep"),
        inst(85, "GoUnblock", g=7, by=0),
        inst(85, "RunqPut", g=7, p=0, next=True),
        inst(86, "GoStart", g=7, p=0, m=0),
        inst(100, "GoDestroy", g=7, p=0, gfree=1),
        *create(100, 8, 7, 0, "main.w"),  # runnable to the end
        inst(110, "GoBlock", g=9, reason="select"),  # existed before the trace: fn from its slice
        *gslices(9, "main.old", 0, 0, 105, 110, "block", "select"),
    ]
    m = tv.load(write(tmp_path, trace(1, 1, ev)))
    g7, g8, g9 = m.goroutines[7], m.goroutines[8], m.goroutines[9]
    ns = 1000
    assert (g7.running, g7.runnable, g7.blocked, g7.syscall) == (49 * ns, 21 * ns, 25 * ns, 5 * ns)
    assert g7.blocked_by == {"chan receive": [1, 20 * ns], "sleep": [1, 5 * ns]}
    assert (g7.fn, g7.parent) == ("main.w", 0)
    assert (g8.runnable, g8.parent) == (10 * ns, 7)
    assert (g9.fn, g9.parent, g9.blocked, g9.blocked_by) == ("main.old", -1, 0, {"select": [1, 0]})


def test_goroutine_times_from_states(tmp_path: Path) -> None:
    """A State gives each live goroutine its status (a blocked one its wait reason, counted
    as time, not as a block); one a later State does not list is gone."""
    ps = [(0, 0, None, [])]
    ev = [
        inst(
            0,
            "State",
            **state(
                ps,
                [(0, 0, 21, False)],
                gs=[(20, "main.a", "waiting", "chan send"), (21, "main.b", "running", "")],
            ),
        ),
        inst(10, "GoUnblock", g=20, by=21),
        inst(10, "RunqPut", g=20, p=0, next=False),
        inst(30, "State", **state(ps, [(0, 0, 20, False)], gs=[(20, "main.a", "syscall", "")])),
    ]
    m = tv.load(write(tmp_path, trace(1, 1, ev + gslices(20, "main.a", 0, 0, 30, 40, "trace end"))))
    g20, g21 = m.goroutines[20], m.goroutines[21]
    assert (g20.fn, g20.blocked, g20.runnable, g20.syscall) == ("main.a", 10_000, 20_000, 10_000)
    assert g20.blocked_by == {"chan send": [0, 10_000]}
    assert (g21.fn, g21.running) == ("main.b", 30_000)


def test_by_function_percentiles_and_wait_reasons() -> None:
    gs = [
        tv.GoroutineStats(
            i, "main.a", 1, running=r, blocked=10 * r, blocked_by={"sleep": [1, 10 * r]}
        )
        for i, r in enumerate(range(1, 101), start=2)
    ]
    gs.append(
        tv.GoroutineStats(200, "main.b", 1, running=5, blocked=7, blocked_by={"select": [2, 7]})
    )
    a, b = tv.by_function(gs)
    assert a["fn"] == "main.a" and a["count"] == 100
    assert a["running"] == [50, 90, 99, sum(range(1, 101))]  # nearest rank
    assert a["blocked"][:3] == [500, 900, 990]
    assert b == {
        "fn": "main.b",
        "count": 1,
        "running": [5, 5, 5, 5],
        "runnable": [0, 0, 0, 0],
        "blocked": [7, 7, 7, 7],
        "syscall": [0, 0, 0, 0],
    }
    reasons, per_fn = tv.wait_reasons(gs)
    assert reasons == [("sleep", 100, 10 * sum(range(1, 101))), ("select", 2, 7)]
    assert per_fn == [("main.a", "sleep", 100, 50500), ("main.b", "select", 2, 7)]
    assert tv.percentile([], 50) == 0
    assert [tv.percentile([1, 2, 3, 4], q) for q in (25, 50, 51, 100)] == [1, 2, 3, 4]


def test_unknown_events_and_args_are_ignored(tmp_path: Path) -> None:
    """The format may grow: unknown names, phases, pids and args are ignored; a known event
    with a wrong-typed arg is skipped and counted."""
    doc = fanout_trace()
    doc["traceEvents"] += [
        inst(5, "GoFutureThing", g=1, what={"nested": [1, 2]}),
        {"name": "x", "ph": "Z", "pid": 3, "ts": 1},
        xslice(9, 1, "elsewhere", "goroutine", 0, 5, g=1),
        xslice(1, 1, "odd", "newcat", 0, 5),
        {"name": "GoStart", "ph": "i", "pid": 4, "tid": 1, "ts": 3, "args": {"g": 1}},
        inst(3, "GoBlock", g="not a goid", reason="x"),
        inst(3, "State", ps={"not": "a list"}, ms=[], gs=[]),
        {"name": ["unhashable"], "ph": "i", "pid": 3, "tid": 1, "ts": 3},
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "tid 0"}},
    ]
    doc["traceEvents"][3]["args"]["newarg"] = "ignored"
    m = tv.load(write(tmp_path, doc))
    assert m.skipped == 2
    assert len(m.inst_t) == 23
    assert [t.name for t in m.tracks] == ["P0", "P1", "M0", "M1 (sysmon)", "M2"]


@pytest.mark.parametrize(
    "content, problem",
    [
        ("", "empty file, not a trace"),
        ("{not json", "not JSON (Expecting property name enclosed in double quotes: line 1"),
        (b"\xff\xfe\x00garbage", "not JSON ("),
        ("[]", "not a trace: the JSON is an array, not an object with traceEvents"),
        ('"trace"', "not a trace: the JSON is a string, not an object with traceEvents"),
        ('{"events": []}', "not a trace: no traceEvents"),
        ('{"traceEvents": {}}', "not a trace: traceEvents is an object, not an array"),
        (
            '{"traceEvents": [{"ph": "X"}, 3]}',
            "not a trace: traceEvents[1] is a number, not an object",
        ),
    ],
)
def test_not_a_trace(tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(tv.TraceFormatError) as e:
        tv.load(path)
    assert isinstance(e.value, ValueError)
    assert str(e.value).startswith(f"{path}: {problem}")


def test_empty_and_foreign_traces_load(tmp_path: Path) -> None:
    """A Chrome trace without gosched's tracks is a trace: it opens, with nothing to show."""
    for doc in (
        {"traceEvents": []},
        {"traceEvents": [{"ph": "X", "pid": 77, "tid": 2, "ts": 1, "dur": 2}]},
    ):
        m = tv.load(write(tmp_path, doc))
        assert (m.tracks, m.inst_t, m.goroutines) == ([], [], {})
        assert "<html" in tv.render(m)


# --------------------------------------------------------------------------------------------------
# render: one self-contained file


def embedded(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def test_render_is_self_contained(tmp_path: Path) -> None:
    page = tv.render(tv.load(write(tmp_path, synthetic_trace(3000, seed=5))))
    assert page.startswith("<!doctype html>")
    low = page.lower()
    for ref in ("http://", "https://", "<script src", "<link", "@import", "url(", "src="):
        assert ref not in low, ref
    assert page.count("{{") == 0
    data = embedded(page)
    assert data["file"] == "t.json"
    assert data["nprocs"] == 4


def test_render_escapes_the_data(tmp_path: Path) -> None:
    """Strings from the trace cannot end the script element or read as links."""
    doc = fanout_trace()
    evil = "</script><script>alert(1)</script><!-- https://example.com/x"
    doc["traceEvents"] += create(5, 99, 1, 0, evil)
    path = write(tmp_path, doc, name="<b>&.json")
    page = tv.render(tv.load(path))
    assert "alert(1)" in page and "</script><script>alert" not in page
    assert "https://" not in page
    assert "<title>&lt;b&gt;&amp;.json" in page
    data = embedded(page)
    assert evil in data["strings"]


def test_traces_follow_the_recorders_validator() -> None:
    """The traces these tests use pass tests/trace_validator.py, the recorder's reading of
    docs/trace.md: the generator and the hand-made traces hold to the same contract."""
    try:
        from .trace_validator import validate
    except ImportError:
        pytest.skip("tests/trace_validator.py is not there")
    for doc in (fanout_trace(), every_op_trace()):
        assert validate(doc) == []
    for nprocs, seed in ((4, 1), (1, 2), (8, 3)):
        assert validate(synthetic_trace(30_000, nprocs=nprocs, seed=seed)) == []


def test_page_handles_every_op() -> None:
    """The page's replay has a handler for each op the model's stream can hold."""
    page = resources.files("gosched").joinpath("_traceview.html").read_text(encoding="utf-8")
    for name in tv.SCHED_OPS:
        assert re.search(rf"^  op{name}\((i)?\) {{", page, re.M), name


def test_model_round_trips_through_the_page_data(tmp_path: Path) -> None:
    m = tv.load(write(tmp_path, synthetic_trace(5000, seed=2)))
    data = tv.page_data(m)
    t = 0
    starts = []
    for d in data["tracks"][0]["levels"][1]["t"]:
        t += d
        starts.append(t)
    assert starts == m.tracks[0].levels["goroutine"].start
    assert sum(data["sched"]["t"]) == m.inst_t[-1]
    assert data["goroutines"]["g"] == sorted(m.goroutines)
    blocked = [ns for _, _, ns in data["reasons"]]
    assert blocked == sorted(blocked, reverse=True)
    assert sum(blocked) == sum(st.blocked for st in m.goroutines.values())


# --------------------------------------------------------------------------------------------------
# The command


def gosched(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gosched", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_writes_the_viewer(tmp_path: Path) -> None:
    src = write(tmp_path, fanout_trace(), name="run.json")
    r = gosched("trace", "view", str(src))
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f"{tmp_path / 'run.html'}\n"
    assert (tmp_path / "run.html").read_text().startswith("<!doctype html>")
    out = tmp_path / "sub" / "x.html"
    out.parent.mkdir()
    r = gosched("trace", "view", str(src), "-o", str(out))
    assert (r.returncode, r.stdout) == (0, f"{out}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.html", "run.json", "sub"]


def test_cli_rejects_what_is_not_a_trace(tmp_path: Path) -> None:
    bad = write(tmp_path, "[1, 2]", name="bad.json")
    r = gosched("trace", "view", str(bad))
    assert r.returncode == 2
    assert r.stderr == (
        f"gosched trace view: {bad}: not a trace: the JSON is an array, "
        "not an object with traceEvents\n"
    )
    assert r.stdout == ""
    assert not (tmp_path / "bad.html").exists()
    r = gosched("trace", "view", str(write(tmp_path, "nope", name="n.json")))
    assert r.returncode == 2
    assert r.stderr.startswith(f"gosched trace view: {tmp_path / 'n.json'}: not JSON (")


def test_cli_missing_file(tmp_path: Path) -> None:
    r = gosched("trace", "view", str(tmp_path / "missing.json"))
    assert r.returncode == 2
    assert r.stderr == f"gosched trace view: {tmp_path / 'missing.json'}: no such file\n"
    assert tv.main([str(tmp_path)]) == 2  # a directory


def test_cli_default_output_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tv.default_output("a/b.json") == "a/b.html"
    assert tv.default_output("a/b.JSON") == "a/b.html"
    assert tv.default_output("a/trace") == "a/trace.html"
    assert tv.default_output("a/b.1.json") == "a/b.1.html"
    src = write(tmp_path, fanout_trace(), name="t.html")
    assert tv.main([str(src)]) == 0  # t.html.html
    assert tv.main([str(src), "-o", str(src)]) == 2  # would overwrite its input
    assert "the output would overwrite the trace" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The page in a real browser


def _no_browser(reason: str) -> None:
    """Skip, with the reason, where no browser can be had; fail where one must be (.ci/run
    sets GOSCHED_REQUIRE_BROWSER=1 after installing chromium)."""
    if os.environ.get("GOSCHED_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the browser tests must run here: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        _no_browser(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("playwright is not installed (pip install -e '.[test]')")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
    finally:
        pw.stop()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    d = Path(os.environ.get("GOSCHED_TEST_ARTIFACTS") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


class Viewer:
    def __init__(self, browser: Any, html: Path, hash_: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(html.as_uri() + hash_)
        self.page.wait_for_function(
            "document.body.dataset.ready === '1' || document.body.dataset.error !== undefined",
            timeout=60_000,
        )
        assert self.errors == []
        assert self.page.evaluate("document.body.dataset.error") is None

    def text(self, selector: str) -> str:
        t: str = self.page.locator(selector).text_content(timeout=5000) or ""
        return t.strip()

    def goto_instant(self, t_us: float) -> None:
        self.page.evaluate(f"location.hash = '#t={t_us}'")
        self.page.wait_for_function(f"document.getElementById('state').dataset.t === '{t_us}'")

    def p_state(self, p: int) -> dict[str, str]:
        row = f"#state [data-p='{p}']"
        return {k: self.text(f"{row} .{k}") for k in ("status", "m", "runnext", "runq", "gfree")}

    def close(self) -> None:
        assert self.errors == []
        self.page.close()


def viewer_for(browser: Any, tmp_path: Path, doc: dict[str, Any], hash_: str = "") -> Viewer:
    src = write(tmp_path, doc)
    html = tmp_path / "t.html"
    assert tv.main([str(src), "-o", str(html)]) == 0
    return Viewer(browser, html, hash_)


def test_browser_state_at_instants(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    v = viewer_for(browser, tmp_path, fanout_trace(), "#t=50")
    page = v.page
    assert page.get_attribute("#state", "data-t") == "50"
    assert v.p_state(0) == {
        "status": "running",
        "m": "0",
        "runnext": "5",
        "runq": "2 3 4",
        "gfree": "0",
    }
    assert v.p_state(1) == {"status": "idle", "m": "", "runnext": "", "runq": "", "gfree": "0"}
    assert v.text("#globalq") == ""
    assert v.text("#pidle") == "1"
    assert int(page.evaluate("document.body.dataset.loadms")) > 0

    # The P rows are drawn: the goroutine band of P0 has coloured pixels where G1 ran.
    painted = page.evaluate(
        """() => {
        const c = document.getElementById('timeline'), ctx = c.getContext('2d');
        const dpr = window.devicePixelRatio || 1, top = gtrace.rowTop('P0');
        const x0 = Math.round(gtrace.xOf(10) * dpr), x1 = Math.round(gtrace.xOf(70) * dpr);
        const d = ctx.getImageData(x0, Math.round((top + 15) * dpr), x1 - x0, 1).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (d[i] < 235 || d[i + 1] < 235)) n++;
        return [n, x1 - x0];
    }"""
    )
    assert painted[0] >= painted[1] * 0.9, painted
    assert page.locator("#labels [data-row='P1']").count() == 1

    # Click the timeline, in P0's row, at 75 µs: the instant is picked and the panel follows.
    box = page.locator("#timeline").bounding_box()
    x = page.evaluate("gtrace.xOf(75)")
    y = page.evaluate("gtrace.rowTop('P0')") + 18
    page.mouse.click(box["x"] + x, box["y"] + y)
    t = float(page.get_attribute("#state", "data-t"))
    per_px = page.evaluate("(gtrace.view.t1 - gtrace.view.t0) / gtrace.view.w / 1000")
    assert abs(t - 75) <= per_px
    assert page.evaluate("location.hash") == f"#t={page.get_attribute('#state', 'data-t')}"
    assert v.p_state(0) == {
        "status": "running",
        "m": "0",
        "runnext": "5",
        "runq": "4",
        "gfree": "0",
    }
    assert v.p_state(1) == {"status": "running", "m": "2", "runnext": "", "runq": "2", "gfree": "0"}
    assert v.text("#state [data-m='2'] .curg") == "3"
    assert v.text("#state [data-m='0'] .curg") == "1"
    assert v.text("#pidle") == ""
    assert "G1 main.main" in v.text("#selinfo")  # the click selected G1's slice
    page.screenshot(path=str(artifacts / "traceview-fanout.png"), full_page=True)

    # Zoom and pan: the wheel zooms around the pointer, a drag pans, Fit shows it all.
    def span() -> tuple[float, float]:
        t0, t1 = page.evaluate("[gtrace.view.t0, gtrace.view.t1]")
        return t0, t1

    whole = span()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(50)
    zoomed = span()
    assert zoomed[1] - zoomed[0] < (whole[1] - whole[0]) / 2
    assert zoomed[0] < 75_000 < zoomed[1]  # around the pointer
    page.mouse.move(box["x"] + 400, box["y"] + y)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + y, steps=5)
    page.mouse.up()
    panned = span()
    assert panned[0] > zoomed[0] and abs((panned[1] - panned[0]) - (zoomed[1] - zoomed[0])) < 1
    assert page.get_attribute("#state", "data-t") == f"{t:g}"  # a drag picks no instant
    page.click("#zoom-fit")
    assert span()[1] - span()[0] >= 110_000

    v.goto_instant(97)
    assert v.p_state(0)["runnext"] == "1" and v.p_state(0)["runq"] == "4"
    assert v.text("#globalq") == "3"
    assert v.text("#state [data-m='2'] .curg") == "2"

    # The tables.
    assert page.locator("#gtable tbody tr").count() == 5
    assert v.text("#gtable tr[data-g='1'] td.fn") == "main.main"
    assert v.text("#reasons-all tbody tr td.reason") == "chan receive"
    assert page.locator("#ftable tbody tr").count() == 2
    v.close()


def test_browser_every_op(browser: Any, tmp_path: Path) -> None:
    """ProcsChange (shrinking, then growing), GlobalGet, RunqSteal, ProcSteal, syscalls,
    GlobalPut, MStart/MStop, GoUnblock to the global queue, GoDestroy's and GFree's free-G
    counts, and a State in the middle of the trace that replaces everything."""
    v = viewer_for(browser, tmp_path, every_op_trace(), "#t=12")
    page = v.page

    def summary() -> dict[str, Any]:
        return {
            "ps": page.locator("#state [data-p]").count(),
            "p0": v.p_state(0),
            "global": v.text("#globalq"),
            "pidle": v.text("#pidle"),
            "midle": v.text("#midle"),
        }

    def m_state(m: int, *keys: str) -> list[str]:
        return [v.text(f"#state [data-m='{m}'] .{k}") for k in keys]

    idle = {"status": "idle", "m": "", "runnext": "", "runq": "", "gfree": "0"}
    run0 = {"status": "running", "m": "0", "gfree": "0"}
    assert summary() == {
        "ps": 2,
        "p0": {**run0, "runnext": "3", "runq": "2"},
        "global": "4 5",
        "pidle": "1",
        "midle": "2",
    }
    v.goto_instant(25)
    assert summary() == {
        "ps": 2,
        "p0": {**run0, "runnext": "", "runq": "2 4 5"},
        "global": "1",
        "pidle": "1",
        "midle": "2",
    }
    assert m_state(0, "curg") == ["3"]
    v.goto_instant(30)
    assert summary()["ps"] == 3 and v.p_state(2) == idle and summary()["pidle"] == "2 1"
    v.goto_instant(34)
    assert summary() == {
        "ps": 3,
        "p0": {**run0, "runnext": "", "runq": "5"},
        "global": "1",
        "pidle": "1",
        "midle": "",
    }
    assert v.p_state(2) == {"status": "running", "m": "2", "runnext": "", "runq": "2", "gfree": "0"}
    assert m_state(2, "curg") == ["4"]
    v.goto_instant(46)
    assert v.p_state(2)["status"] == "idle" and summary()["pidle"] == "2 1"
    assert m_state(2, "curg", "p", "syscall") == ["4", "", "G4"]
    v.goto_instant(52)
    assert summary()["global"] == "1 4" and summary()["midle"] == "2"
    assert m_state(2, "curg", "idle", "syscall") == ["", "idle", ""]
    v.goto_instant(58)
    assert summary()["global"] == "1 4 3" and v.p_state(0)["runnext"] == "7"
    v.goto_instant(62)
    assert v.p_state(0) == {**run0, "runnext": "", "runq": "5", "gfree": "1"}
    assert m_state(0, "curg") == [""]
    v.goto_instant(64)
    assert v.p_state(0)["gfree"] == "0"
    v.goto_instant(71)
    assert summary() == {
        "ps": 3,
        "p0": {**run0, "runnext": "9", "runq": "10 11"},
        "global": "12",
        "pidle": "1",
        "midle": "3",
    }
    assert m_state(2, "curg", "p", "syscall") == ["13", "2", "G13"]
    v.close()


# The state the page's replay holds, in the form _tracegen's snapshots take (as one JSON
# string: Playwright moves a string far faster than the objects it holds).
STATE_JS = """(ts) => JSON.stringify(ts.map((t) => { const s = gtrace.stateAt(t); return {
  ps: Array.from({length: s.nprocs}, (_, p) => ({p, status: s.pm[p] >= 0 ? 'running' : 'idle',
      m: s.pm[p] >= 0 ? s.pm[p] : null, runnext: s.runnext[p], runq: s.runq[p].slice(),
      gfree: s.gfree[p]})),
  global: s.gq.slice(s.gqHead),
  ms: s.mp.map((p, m) => ({m, curg: s.mcurg[m], p: p >= 0 ? p : null, idle: s.midle.includes(m)})),
  pidle: s.pidle.slice().reverse(), midle: s.midle.slice().reverse()}; }))"""


@pytest.mark.parametrize("nprocs, seed", [(4, 1), (1, 2), (8, 3)])
def test_browser_replay_matches_the_model(
    browser: Any, tmp_path: Path, nprocs: int, seed: int
) -> None:
    """At hundreds of instants of a synthetic run, the page's replay holds exactly the
    generator's queues, Ps and Ms (through checkpoints: K ops apart); and the panel shows them."""
    doc, states = synthetic_trace_and_states(40_000, nprocs=nprocs, seed=seed, every=11)
    v = viewer_for(browser, tmp_path, doc)
    assert v.page.evaluate("gtrace.model.sched.t.length") > 4 * 2048  # several checkpoints
    got = json.loads(v.page.evaluate(STATE_JS, [s["t_ns"] for s in states]))
    assert len(got) == len(states) > 500
    for want, have in zip(states, got):
        want = {k: x for k, x in want.items() if k != "t_ns"}
        # The page knows an M once an instant names it (sysmon, M1, only by a later M).
        want["ms"] = want["ms"][: len(have["ms"])]
        assert have == want, want
    for want in states[:: len(states) // 6]:
        v.goto_instant(want["t_ns"] / 1000)
        for ps in want["ps"]:
            shown = v.p_state(ps["p"])
            assert shown["runq"] == " ".join(map(str, ps["runq"]))
            assert shown["runnext"] == (str(ps["runnext"]) if ps["runnext"] else "")
            assert shown["status"] == ps["status"]
        assert v.text("#globalq") == " ".join(map(str, want["global"]))
    v.close()


def test_browser_large_trace_stays_usable(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    """200,000 events open, and zooming and picking instants work all over them (how fast is
    benchmarks/trace_view.py's job, on 1,000,000 events: speed is measured there, not here)."""
    v = viewer_for(browser, tmp_path, synthetic_trace(200_000, seed=7))
    page = v.page
    assert int(page.evaluate("document.body.dataset.loadms")) > 0
    picked = page.evaluate(
        """() => {
        const [a, b] = gtrace.model.span, out = [];
        gtrace.redraw();
        gtrace.zoomTo(a / 1000 + (b - a) / 1000 * 0.4, a / 1000 + (b - a) / 1000 * 0.401);
        for (let i = 0; i < 20; i++) {
            const t = Math.round((a + (b - a) * i / 20) / 1000);
            gtrace.setInstant(t);
            out.push([t, Number(document.getElementById('state').dataset.t)]);
        }
        return out;
    }"""
    )
    assert all(want == got for want, got in picked), picked
    page.screenshot(path=str(artifacts / "traceview-200k.png"))
    v.close()


def _recorded_fanout(path: Path) -> None:
    """A real trace at GOMAXPROCS=1: main creates G2..G6 without yielding, then blocks on a
    channel. At that instant, as in Go, the newest is in runnext and the others are queued
    in order: runnext 6, local queue 2 3 4 5."""
    import gosched
    import gosched.trace

    def worker(ch: Any) -> None:
        ch.send(gosched.goid())

    def main() -> None:
        gosched.trace.start(path)
        ch = gosched.Chan()
        for _ in range(5):
            gosched.go(worker, ch)
        for _ in range(5):
            ch.recv()
        gosched.trace.stop()

    gosched.run(main, gomaxprocs=1)


def test_browser_state_of_a_recorded_trace(browser: Any, tmp_path: Path, artifacts: Path) -> None:
    src = tmp_path / "rec.json"
    _recorded_fanout(src)
    doc = json.loads(src.read_text())
    block = next(
        e for e in doc["traceEvents"]
        if e["ph"] == "i" and e["name"] == "GoBlock" and e["args"]["g"] == 1
    )  # fmt: skip
    html = tmp_path / "rec.html"
    assert tv.main([str(src), "-o", str(html)]) == 0
    t = block["ts"]
    v = Viewer(browser, html, f"#t={t}")
    assert v.p_state(0) == {
        "status": "running",
        "m": "0",
        "runnext": "6",
        "runq": "2 3 4 5",
        "gfree": "0",
    }
    assert v.text("#globalq") == ""
    # Once they have all run and main has its five values, the queues are empty again.
    end = max(e["ts"] for e in doc["traceEvents"] if e["ph"] == "i")
    v.goto_instant(end)
    assert v.p_state(0)["runq"] == "" and v.p_state(0)["runnext"] == ""
    assert v.p_state(0)["gfree"] == "5"
    assert v.page.locator("#gtable tbody tr").count() == 6
    v.page.screenshot(path=str(artifacts / "traceview-recorded.png"), full_page=True)
    v.close()
