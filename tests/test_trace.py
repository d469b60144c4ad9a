"""Execution traces (gosched.trace, GOSCHED_TRACE, gosched run --trace): what a known program
records, the file's validity (tests/trace_validator.py, written from the format's rules), the
run-queue replay against the runtime's own state, splitting, the flight recorder, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import gosched
import gosched.trace
from gosched import debug
from gosched._runtime import proc as rproc
from gosched._runtime import trace as rtrace
from gosched.sync import WaitGroup
from tests.trace_validator import instants, slices_by_track, validate, validate_file


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _valid(path: str) -> dict:
    problems = validate_file(path)
    assert problems == [], "\n".join(problems[:20])
    return _load(path)


def _worker(i: int, ch: gosched.Chan) -> None:
    ch.send(i * i)


def _fanout(n: int) -> int:
    """n workers, each created, sending once and ended; the sum of what they sent."""
    ch = gosched.Chan()
    for i in range(n):
        gosched.go(_worker, i, ch)
    return sum(ch.recv() for _ in range(n))


@pytest.mark.parametrize("procs", [1, 4])
def test_known_program_counts_and_validity(tmp_path, procs):
    """N goroutines, each created and ended inside the trace: exactly N GoCreate and N
    GoDestroy, every goroutine slice inside a proc slice, the file valid."""
    path = str(tmp_path / "t.json")
    n = 40

    def main():
        gosched.trace.start(path)
        total = _fanout(n)
        wg = WaitGroup()
        for _ in range(5):
            wg.go(gosched.sleep, 0.001)
        wg.wait()
        assert gosched.trace.stop() == [path]
        return total

    assert gosched.run(main, gomaxprocs=procs) == sum(i * i for i in range(n))
    obj = _valid(path)
    assert len(instants(obj, "GoCreate")) == n + 5
    assert len(instants(obj, "GoDestroy")) == n + 5
    created = {e["args"]["g"] for e in instants(obj, "GoCreate")}
    assert {e["args"]["g"] for e in instants(obj, "GoDestroy")} == created
    for e in instants(obj, "GoCreate"):
        assert e["args"]["parent"] == 1
        assert e["args"]["fn"] in ("tests.test_trace._worker", "gosched.sync.WaitGroup._run")
    assert instants(obj, "State")[0]["ts"] == 0
    # Every worker ran: each has a slice on a P track and on an M track, ending "destroy".
    ends = {}
    for (pid, _tid), slices in slices_by_track(obj).items():
        for s in slices:
            if s.get("cat") == "goroutine" and s["args"]["end"] == "destroy":
                ends.setdefault(s["args"]["g"], set()).add(pid)
    assert set(ends) == created
    assert all(v == {1, 2} for v in ends.values())
    # main blocked on the channel with Go's wait reason, and was unblocked by workers.
    reasons = {e["args"]["reason"] for e in instants(obj, "GoBlock") if e["args"]["g"] == 1}
    assert "chan receive" in reasons
    bys = {e["args"]["by"] for e in instants(obj, "GoUnblock") if e["args"]["g"] == 1}
    assert bys & created
    flows = [e for e in obj["traceEvents"] if e["ph"] in ("s", "f")]
    assert {e["name"] for e in flows} >= {"create", "unblock"}
    other = obj["otherData"]
    assert other["format"] == "gosched-trace/1" and other["gomaxprocs"] == str(procs)
    tids = {(e.get("pid"), e.get("tid")) for e in obj["traceEvents"] if "tid" in e}
    assert all(tid != 0 for _, tid in tids)


def _replay(obj: dict) -> dict:
    """The run queues rebuilt from the instants, by docs/trace.md's table (what the viewer
    does)."""
    runnext: dict[int, int | None] = {}
    runq: dict[int, list[int]] = {}
    glob: list[int] = []

    def remove(g):
        for p, r in runnext.items():
            if r == g:
                runnext[p] = None
        for q in runq.values():
            if g in q:
                q.remove(g)
        if g in glob:
            glob.remove(g)

    for e in obj["traceEvents"]:
        if e["ph"] != "i":
            continue
        a = e["args"]
        name = e["name"]
        if name == "State":
            runnext = {p["p"]: p["runnext"] for p in a["ps"]}
            runq = {p["p"]: list(p["runq"]) for p in a["ps"]}
            glob = list(a["global"])
        elif name == "RunqPut":
            g, p = a["g"], a["p"]
            remove(g)
            if a["next"]:
                old = runnext.get(p)
                runnext[p] = g
                if old is not None:
                    runq.setdefault(p, []).append(old)
            else:
                runq.setdefault(p, []).append(g)
        elif name == "GlobalPut":
            remove(a["g"])
            glob.append(a["g"])
        elif name == "GoStart":
            remove(a["g"])
        elif name == "RunqSpill":
            for g in a["gs"]:
                remove(g)
                glob.append(g)
        elif name in ("GlobalGet", "RunqSteal"):
            for g in a["gs"]:
                remove(g)
                runq.setdefault(a["p"], []).append(g)
        elif name == "ProcsChange":
            for g in a["gs"]:
                remove(g)
            glob[:0] = a["gs"]
    return {"runnext": runnext, "runq": runq, "global": glob}


def _idle() -> None:
    pass


def test_replay_matches_the_runtime(tmp_path):
    """At P=1, main creates goroutines, yields, creates more; the queues replayed from the
    trace equal debug.snapshot()'s at the moment the trace stops."""
    path = str(tmp_path / "t.json")
    snap = {}

    def main():
        gosched.trace.start(path)
        for _ in range(3):
            gosched.go(_idle)
        gosched.gosched()  # they run; main goes to the global queue and comes back
        for _ in range(300):  # more than a local queue holds: a spill to the global queue
            gosched.go(_idle)
        snap.update(debug.snapshot())
        gosched.trace.stop()
        gosched.gosched()

    gosched.run(main, gomaxprocs=1)
    obj = _valid(path)
    assert instants(obj, "RunqSpill"), "300 goroutines in a 256-slot queue must spill"
    got = _replay(obj)
    p0 = snap["allp"][0]
    assert got["runnext"][0] == p0["runnext"]
    assert got["runq"][0] == p0["runq"]
    assert got["global"] == snap["sched"]["runq"]


def test_blocking_calls_are_recorded(tmp_path):
    path = str(tmp_path / "t.json")

    def main():
        gosched.trace.start(path)
        with gosched.blocking():
            time.sleep(0.02)
        gosched.blocking(time.sleep, 0.02)
        gosched.trace.stop()

    gosched.run(main, gomaxprocs=1)
    obj = _valid(path)
    begins = instants(obj, "GoSyscallBegin")
    assert [(e["args"]["g"], e["args"]["kind"]) for e in begins] == [(1, "blocking")]
    sys_slices = [
        s for sl in slices_by_track(obj).values() for s in sl if s.get("cat") == "syscall"
    ]
    assert len(sys_slices) == 1 and sys_slices[0]["dur"] >= 15_000
    assert sys_slices[0]["pid"] == 2
    blocks = [e["args"]["reason"] for e in instants(obj, "GoBlock") if e["args"]["g"] == 1]
    assert "syscall" in blocks  # blocking(fn) parks the goroutine


def test_start_twice_and_stop_without_start(tmp_path):
    def main():
        assert gosched.trace.stop() == []  # Go's Stop with no trace: nothing
        gosched.trace.start(tmp_path / "a.json")
        with pytest.raises(RuntimeError, match=r"^tracing is already enabled$"):
            gosched.trace.start(tmp_path / "b.json")
        assert gosched.trace.stop() == [str(tmp_path / "a.json")]
        assert gosched.trace.stop() == []

    gosched.run(main)
    _valid(str(tmp_path / "a.json"))


def test_bad_input(tmp_path):
    with pytest.raises(RuntimeError, match=r"gosched\.trace\.start"):
        gosched.trace.start(tmp_path / "x.json")  # not in a run
    assert not (tmp_path / "x.json").exists()

    def main():
        with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike, not int"):
            gosched.trace.start(42)
        with pytest.raises(FileNotFoundError):
            gosched.trace.start(tmp_path / "no" / "such" / "dir.json")
        # Nothing was left recording by the failures.
        gosched.trace.start(tmp_path / "ok.json")
        gosched.trace.stop()

    gosched.run(main)
    with pytest.raises(ValueError, match="seconds must be finite and > 0"):
        gosched.trace.FlightRecorder(0)
    with pytest.raises(TypeError, match="seconds must be a number, not str"):
        gosched.trace.FlightRecorder("1")


def test_trace_left_running_is_written_when_the_run_ends(tmp_path):
    path = str(tmp_path / "t.json")

    def main():
        gosched.trace.start(path)
        gosched.go(_idle)
        gosched.sleep(0.005)

    gosched.run(main)
    obj = _valid(path)
    assert len(instants(obj, "GoCreate")) == 1


def test_split_parts_are_whole_traces(tmp_path):
    """Past the split size the trace goes on in path.1.json, ...: each part is a valid trace
    with its own track names, and no flow arrow is cut in two."""
    path = str(tmp_path / "t.json")
    box = {}

    def main():
        gosched.trace.start(path)
        _fanout(300)
        # Take the events without writing them, to write them split small.
        box["r"] = rproc.runtimecall("test", lambda mp: rtrace.stop())

    gosched.run(main, gomaxprocs=2)
    paths = rtrace.write(path, box["r"], 2, split=64 * 1024)
    assert len(paths) >= 3
    assert paths[0] == path and paths[1] == str(tmp_path / "t.1.json")
    creates = 0
    last_start = -1.0
    for k, p in enumerate(paths):
        obj = _valid(p)
        assert obj["otherData"]["part"] == str(k)
        # Each part starts with its State; times count from the trace's start in every part.
        first = instants(obj, "State")[0]["ts"]
        assert first > last_start and (first == 0) == (k == 0)
        last_start = first
        # The mark, plus what a part adds at its start: the State (every live goroutine) and
        # the slices open then.
        state = instants(obj, "State")[0]
        assert os.path.getsize(p) <= 64 * 1024 + len(json.dumps(state)) + 8 * 1024
        names = {e["args"]["name"] for e in obj["traceEvents"] if e["name"] == "thread_name"}
        assert {"P0", "P1"} <= names
        creates += len(instants(obj, "GoCreate"))
    assert creates == 300


def test_flight_recorder_keeps_a_window(tmp_path):
    path = str(tmp_path / "f.json")

    def spin(stop):
        while not stop:
            gosched.sleep(0.002)

    def main():
        fr = gosched.trace.FlightRecorder(seconds=0.3)
        fr.start()
        with pytest.raises(RuntimeError, match=r"^tracing is already enabled$"):
            gosched.trace.FlightRecorder(1).start()
        stop = []
        gosched.go(spin, stop)
        t0 = time.monotonic()
        gosched.sleep(2.6)
        assert fr.write_to(path) == [path]
        stop.append(1)
        fr.stop()
        return time.monotonic() - t0

    gosched.run(main, gomaxprocs=2)
    obj = _valid(path)
    states = instants(obj, "State")
    assert states and states[0]["ts"] == 0  # the window starts at a generation's State
    span = max(e["ts"] for e in obj["traceEvents"] if "ts" in e and e["ph"] != "M")
    # The window (0.3 s) plus at most one generation (1 s) before it: not the whole 2.6 s.
    assert 300_000 <= span <= 1_300_000 + 200_000, span


def _cli(*args: str, env: dict | None = None, cwd: str | None = None):
    e = dict(os.environ)
    e.pop("GOSCHED_TRACE", None)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gosched", *args],
        capture_output=True,
        text=True,
        env=e,
        cwd=cwd,
        timeout=60,
    )


_PROG = textwrap.dedent(
    """
    import gosched
    def work(ch):
        ch.send(1)
    ch = gosched.Chan()
    for _ in range(3):
        gosched.go(work, ch)
    for _ in range(3):
        ch.recv()
    if __import__("sys").argv[1:] == ["panic"]:
        raise ValueError("boom")
    """
)


def test_cli_trace_flag_and_env(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(_PROG)
    out = tmp_path / "run.json"
    r = _cli("run", "--trace", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    obj = _valid(str(out))
    assert len(instants(obj, "GoCreate")) == 3
    names = {g["fn"] for g in instants(obj, "State")[0]["args"]["gs"]}
    assert names == {"gosched.cli._run_script"}
    # A panic ends the run with exit 2, and the trace is still written.
    out2 = tmp_path / "panic.json"
    r = _cli("run", "--trace", str(out2), str(prog), "panic")
    assert r.returncode == 2 and "panic: ValueError: boom" in r.stderr
    _valid(str(out2))
    # GOSCHED_TRACE under plain python, for a gosched.run program.
    prog2 = tmp_path / "prog2.py"
    prog2.write_text("import gosched\ngosched.run(lambda: gosched.go(print, 'hi'))\n")
    out3 = tmp_path / "env.json"
    r = subprocess.run(
        [sys.executable, str(prog2)],
        capture_output=True,
        text=True,
        env={**os.environ, "GOSCHED_TRACE": str(out3)},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert len(instants(_valid(str(out3)), "GoCreate")) == 1


def test_cli_trace_bad_path(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(_PROG)
    r = _cli("run", "--trace", str(tmp_path / "nope" / "t.json"), str(prog))
    assert r.returncode == 2
    assert r.stderr.startswith("gosched run: --trace ")
    assert "No such file or directory" in r.stderr


def test_tracing_off_records_nothing():
    from gosched._runtime.runtime2 import sched

    bufs = []

    def main():
        for _ in range(10):
            gosched.go(_idle)
        gosched.sleep(0.002)
        assert not sched.tracing
        bufs.extend(len(m.tracebuf) for m in sched.allm)

    gosched.run(main, gomaxprocs=2)
    assert bufs and all(n == 0 for n in bufs)


def test_validator_rejects_a_broken_trace(tmp_path):
    """The checks above cannot pass vacuously: a real trace with one slice made to overlap
    its neighbour is rejected."""
    path = str(tmp_path / "t.json")

    def main():
        gosched.trace.start(path)
        for _ in range(3):
            gosched.go(_idle)
        gosched.sleep(0.002)
        gosched.trace.stop()

    gosched.run(main)
    obj = _load(path)
    assert validate(obj) == []
    gs = [e for e in obj["traceEvents"] if e["ph"] == "X" and e["cat"] == "goroutine"]
    gs[0]["dur"] += 10_000_000  # runs past its proc slice's end
    assert validate(obj) != []


def _spinner(ch: gosched.Chan) -> None:
    t = time.monotonic() + 0.03
    n = 0
    while time.monotonic() < t:  # Python code with no runtime call: sysmon retakes the P
        n += 1
    ch.send(n)


def _pinger(c1: gosched.Chan, c2: gosched.Chan, n: int) -> None:
    for i in range(n):
        c1.send(i)
        c2.recv()


@pytest.mark.parametrize("procs", [2, 4])
def test_a_busy_program_gives_a_valid_trace(tmp_path, procs):
    """Everything at once: Ps resized, a loop whose P is retaken, blocking calls, a ping-pong
    pair, timers, yields. The file is valid, the counters were sampled, and the sysmon
    hand-off and the GOMAXPROCS change are in it."""
    path = str(tmp_path / "busy.json")

    def main():
        gosched.trace.start(path)
        ch = gosched.Chan(8)
        for _ in range(3):
            gosched.go(_spinner, ch)
        c1, c2 = gosched.Chan(), gosched.Chan()
        gosched.go(_pinger, c1, c2, 200)
        for _ in range(200):
            c1.recv()
            c2.send(None)
        gosched.gomaxprocs(1)
        wg = WaitGroup()
        for i in range(20):
            wg.go(gosched.blocking, time.sleep, 0.001 * (i % 3))
        wg.go(gosched.gosched)
        wg.wait()
        gosched.gomaxprocs(procs)
        for _ in range(3):
            ch.recv()
        with gosched.blocking():
            time.sleep(0.02)
        gosched.sleep(0.03)
        gosched.trace.stop()

    gosched.run(main, gomaxprocs=procs)
    obj = _valid(path)
    assert {e["args"]["n"] for e in instants(obj, "ProcsChange")} >= {1, procs}
    counters = [e for e in obj["traceEvents"] if e["ph"] == "C" and e["name"] == "runqueue"]
    assert counters, "sysmon samples the run queues while tracing"
    assert len(instants(obj, "GoCreate")) == 3 + 1 + 21


def test_flight_recorder_is_written_on_a_panic(tmp_path):
    """Under `gosched run --trace FILE`, a panic writes a running flight recorder's window to
    FILE.flight.json, beside the whole trace in FILE."""
    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import gosched, gosched.trace
            fr = gosched.trace.FlightRecorder(seconds=5)
            fr.start()
            for _ in range(3):
                gosched.go(gosched.sleep, 0.001)
            gosched.sleep(0.01)
            raise RuntimeError("boom")
            """
        )
    )
    out = tmp_path / "t.json"
    r = _cli("run", "--trace", str(out), str(prog))
    assert r.returncode == 2 and "panic: RuntimeError: boom" in r.stderr
    whole = _valid(str(out))
    flight = _valid(str(tmp_path / "t.flight.json"))
    assert len(instants(whole, "GoCreate")) == 3
    assert len(instants(flight, "GoCreate")) == 3  # the window covers the whole short run
    # Without a panic there is no flight file.
    prog.write_text(prog.read_text().replace('raise RuntimeError("boom")', "fr.stop()"))
    out2 = tmp_path / "ok.json"
    r = _cli("run", "--trace", str(out2), str(prog))
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "ok.flight.json").exists()


def test_timestamps_survive_an_importers_conversion_to_ns(tmp_path):
    """Perfetto reads µs and multiplies by 1000, truncating to ns. Every timestamp the writer
    makes comes back as its own ns that way, so slices that nest here nest there: checked on
    a range of values and on a real trace's slices, in integer ns."""
    for ns in [*range(0, 200_000, 13), 1316080, 10**12 + 7, 2**53 // 1000]:
        assert int(rtrace._us(ns) * 1000) == ns
    path = str(tmp_path / "t.json")

    def main():
        gosched.trace.start(path)
        _fanout(50)
        gosched.trace.stop()

    gosched.run(main, gomaxprocs=2)
    for slices in slices_by_track(_valid(path)).values():
        open_ends: list[int] = []
        for s in slices:
            start = int(s["ts"] * 1000)
            end = start + int(s["dur"] * 1000)
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1], s
            open_ends.append(end)


def test_cli_trace_is_written_on_ctrl_c(tmp_path):
    """Ctrl-C ends `gosched run` with 130, as a Go program ends, and the trace of the run so
    far is still written."""
    import signal

    prog = tmp_path / "prog.py"
    prog.write_text(
        textwrap.dedent(
            """
            import sys, gosched
            def w():
                while True:
                    gosched.sleep(0.005)
            for _ in range(4):
                gosched.go(w)
            print("ready", flush=True)
            gosched.sleep(60)
            """
        )
    )
    out = tmp_path / "t.json"
    env = {k: v for k, v in os.environ.items() if k not in ("GOSCHED_TRACE", "GODEBUG")}
    p = subprocess.Popen(
        [sys.executable, "-m", "gosched", "run", "--trace", str(out), str(prog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert p.stdout is not None
    assert p.stdout.readline() == "ready\n"
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    obj = _valid(str(out))
    assert len(instants(obj, "GoCreate")) == 4
    assert len(instants(obj, "GoBlock")) > 8  # the sleepers ran for a while
