"""A synthetic gosched execution trace, consistent by construction, that follows docs/trace.md.

The viewer (gosched._traceview) must open the real recorder's files, so it depends on nothing but
docs/trace.md; this generator is held to the same contract. It is a small discrete-event model of
the scheduler, not a copy of it: Ps held by Ms, goroutines created into their P's runnext (the G
there kicked to the local tail), run slices that end in a block (with a wait reason), a Gosched,
a preemption, a syscall or the goroutine's end; unblocks into runnext, the local tail or (by a
timer) the global queue; a full local queue spilling half of itself to the global queue;
findRunnable's order (runnext, local head, a batch from the global queue, a steal of half of
another P's queue); Ps handed off when their M enters a syscall (``blocking``) or taken by
sysmon (``retake``); idle Ps and Ms, woken when work appears; free-G lists trimmed.

The model runs a while before the trace starts, so the trace opens mid-run with a ``State``
instant, as a trace started from a running program does. From then on every change is an
instant of the table in docs/trace.md, emitted in the order the model makes it, so replaying
the instants rebuilds the model's queues exactly. The model can record its own state at chosen
instants (:func:`synthetic_trace_and_states`), which is what a replay must show there: the tests
compare the viewer's state panel with it.

Conventions the model shares with the viewer's replay (docs/trace.md leaves them open): the idle
P and idle M lists are Go's stacks, listed head (most recently idled) first; a State lists Ps
and Ms by id, so at a State the model puts its idle lists in id order (head: the lowest id).

Times are integer nanoseconds inside the model; the file has microseconds with nanosecond
decimals, as the recorder writes them. An action's instant is strictly later than the previous
action's, so "the state at an action's instant" is unambiguous.
"""

from __future__ import annotations

import heapq
import random
from typing import Any

FUNCS = (
    "__main__.worker",
    "__main__.producer",
    "__main__.consumer",
    "__main__.handler",
    "srv.Server.serve",
    "__main__.sleeper",
)
REASONS = (
    "chan receive",
    "chan send",
    "select",
    "sleep",
    "sync.Mutex.Lock",
    "sync.WaitGroup.Wait",
    "syscall",
)
LOCAL_CAP = 256  # Go's len(p.runq)
GFREE_MAX = 64  # a P's free-G list past this is trimmed by half (Go's gfput)
COUNTER_PERIOD = 10_000_000  # sysmon samples the counters every 10 ms
WARMUP = 300  # actions before the trace starts

Event = dict[str, Any]
State = dict[str, Any]


def _us(t: int) -> float:
    return t / 1000


class _P:
    __slots__ = ("id", "m", "runnext", "runq", "gfree", "curg", "gstart", "pstart", "token")

    def __init__(self, pid: int) -> None:
        self.id = pid
        self.m: int | None = None  # the M holding this P
        self.runnext = 0
        self.runq: list[int] = []
        self.gfree = 0
        self.curg = 0  # the G running on this P (0: none)
        self.gstart = 0  # when curg's slice began
        self.pstart = 0  # when m took this P
        self.token = 0  # bumped when curg's slice ends: pending actions of the old slice are stale


class _M:
    __slots__ = ("id", "p", "curg", "sysstart", "syskind")

    def __init__(self, mid: int) -> None:
        self.id = mid
        self.p: int | None = None
        self.curg = 0
        self.sysstart = -1  # when its syscall slice (no P) began; -1: none
        self.syskind = ""


class _G:
    __slots__ = ("id", "fn", "status", "reason", "flows")

    def __init__(self, gid: int, fn: str) -> None:
        self.id = gid
        self.fn = fn
        self.status = "runnable"  # runnable, running, waiting, syscall, dead
        self.reason = ""
        self.flows: list[tuple[str, int, int]] = []  # (name, ts, source P) bound to its next slice


class _Sim:
    def __init__(self, n_events: int, nprocs: int, seed: int, snapshot_every: int) -> None:
        self.rng = random.Random(seed)
        self.target = n_events
        self.nprocs = nprocs
        self.snapshot_every = snapshot_every
        self.recording = False
        self.t0 = 0  # when the trace started
        self.events: list[Event] = []
        self.meta: list[Event] = []
        self.snapshots: list[State] = []
        self.ps = [_P(i) for i in range(nprocs)]
        self.ms: list[_M] = []
        self.gs: dict[int, _G] = {}
        self.glob: list[int] = []
        self.pidle = list(range(nprocs - 1, -1, -1))  # a stack: the head is the last item
        self.midle: list[int] = []
        self.blocked: list[int] = []  # goroutines parked on something another G readies
        self.live = 0
        self.max_live = max(8, n_events // 400)
        self.next_goid = 1
        self.next_flow = 1
        self.heap: list[tuple[int, int, str, tuple[int, ...]]] = []
        self.seq = 0
        self.pending = 0  # scheduled actions other than counter samples
        self.now = 0
        self.actions = 0

    # ---------------------------------------------------------------------------------------
    # emission (nothing before the trace starts)

    def instant(self, name: str, **args: Any) -> None:
        if self.recording:
            self.events.append(
                {
                    "name": name,
                    "ph": "i",
                    "s": "t",
                    "pid": 3,
                    "tid": 1,
                    "ts": _us(self.now),
                    "args": args,
                }
            )

    def xslice(
        self, pid: int, tid: int, name: str, cat: str, start: int, args: dict[str, Any]
    ) -> None:
        if self.recording and self.now > self.t0:
            start = max(start, self.t0)  # begun before the trace: it starts with it
            self.events.append(
                {
                    "name": name,
                    "cat": cat,
                    "ph": "X",
                    "pid": pid,
                    "tid": tid,
                    "ts": _us(start),
                    "dur": _us(self.now - start),
                    "args": args,
                }
            )

    def new_m(self, name: str | None = None) -> _M:
        mp = _M(len(self.ms))
        self.ms.append(mp)
        self.meta += thread_meta(2, mp.id + 1, name or f"M{mp.id}")
        return mp

    def close_g(self, pp: _P, end: str, reason: str = "") -> None:
        """End the running G's slices (P and M tracks) now."""
        g = self.gs[pp.curg]
        assert pp.m is not None
        args: dict[str, Any] = {"g": g.id, "fn": g.fn, "m": pp.m, "p": pp.id, "end": end}
        if reason:
            args["reason"] = reason
        name = f"G{g.id} {g.fn}"
        self.xslice(1, pp.id + 1, name, "goroutine", pp.gstart, args)
        self.xslice(2, pp.m + 1, name, "goroutine", pp.gstart, dict(args))
        pp.curg = 0
        pp.token += 1

    def close_proc(self, pp: _P) -> None:
        assert pp.m is not None
        args = {"p": pp.id, "m": pp.m}
        self.xslice(1, pp.id + 1, f"M{pp.m}", "proc", pp.pstart, args)
        self.xslice(2, pp.m + 1, f"P{pp.id}", "proc", pp.pstart, dict(args))

    def close_syscall(self, mp: _M) -> None:
        self.xslice(
            2, mp.id + 1, "syscall", "syscall", mp.sysstart, {"g": mp.curg, "kind": mp.syskind}
        )
        mp.sysstart = -1

    def schedule(self, dt: int, kind: str, *args: int) -> None:
        self.seq += 1
        self.pending += kind != "counter"
        heapq.heappush(self.heap, (self.now + max(1, dt), self.seq, kind, args))

    # ---------------------------------------------------------------------------------------
    # the queues (each change preceded by the instant that names it)

    def spill_if_full(self, pp: _P) -> None:
        """A local queue past its capacity moves its first half and its tail G (the one that
        did not fit) to the global queue (runqputslow)."""
        if len(pp.runq) > LOCAL_CAP:
            batch = pp.runq[: LOCAL_CAP // 2] + [pp.runq[-1]]
            del pp.runq[: LOCAL_CAP // 2]
            pp.runq.pop()
            self.instant("RunqSpill", p=pp.id, gs=batch)
            self.glob.extend(batch)

    def runqput(self, pp: _P, g: int, nxt: bool) -> None:
        self.instant("RunqPut", g=g, p=pp.id, next=nxt)
        if nxt:
            old, pp.runnext = pp.runnext, g
            if old:
                pp.runq.append(old)
        else:
            pp.runq.append(g)
        self.spill_if_full(pp)

    def globalput(self, g: int) -> None:
        self.instant("GlobalPut", g=g)
        self.glob.append(g)

    def proc_start(self, pp: _P, mp: _M) -> None:
        self.instant("ProcStart", p=pp.id, m=mp.id)
        self.pidle.remove(pp.id)
        pp.m, mp.p, pp.pstart = mp.id, pp.id, self.now

    def proc_stop(self, pp: _P, name: str = "ProcStop", g_end: str = "") -> None:
        """The P's M drops it (ProcStop) or sysmon takes it (ProcSteal): the P is idle. With
        g_end, the running G's slice ends too: written after the proc slice, which holds it
        (the two may span the same time)."""
        assert pp.m is not None
        self.instant(name, p=pp.id, m=pp.m)
        self.close_proc(pp)
        if g_end:
            self.close_g(pp, g_end)
        self.ms[pp.m].p = None
        pp.m = None
        self.pidle.append(pp.id)

    def get_m(self) -> _M:
        if self.midle:
            mp = self.ms[self.midle.pop()]
            self.instant("MStart", m=mp.id)
            return mp
        return self.new_m()

    def wakep(self) -> None:
        """New work and an idle P: start an M on it (Go's wakep, without the spinning limit)."""
        if self.pidle:
            pp = self.ps[self.pidle[-1]]
            self.proc_start(pp, self.get_m())
            self.schedule(self.rng.randint(2_000, 10_000), "run", pp.id)

    def handoffp(self, pp: _P) -> None:
        """A P released with work on it gets an M at once; without, it stays idle."""
        if pp.runnext or pp.runq or self.glob:
            self.proc_start(pp, self.get_m())
            self.schedule(self.rng.randint(1_000, 5_000), "run", pp.id)

    # ---------------------------------------------------------------------------------------
    # actions

    def start(self) -> None:
        for pid, name in ((1, "Ps"), (2, "Ms"), (3, "Runtime")):
            self.meta += process_meta(pid, name, pid)
        self.meta += thread_meta(3, 1, "scheduler")
        for i in range(self.nprocs):
            self.meta += thread_meta(1, i + 1, f"P{i}")
        m0 = self.new_m()
        self.new_m("M1 (sysmon)")  # sysmon holds no P and runs no G
        p0 = self.ps[0]
        self.proc_start(p0, m0)
        self.create(p0, parent=0, fn="__main__.main")
        self.schedule(1_000, "run", 0)

    def begin_trace(self) -> None:
        """The trace starts here, with the whole state (a State instant)."""
        self.recording = True
        self.t0 = self.now
        self.pidle.sort(reverse=True)
        self.midle.sort(reverse=True)
        self.instant("State", **self.state_args())
        self.schedule(COUNTER_PERIOD, "counter")

    def state_args(self) -> dict[str, Any]:
        return {
            "ps": [
                {
                    "p": pp.id,
                    "status": "idle" if pp.m is None else "running",
                    "m": pp.m,
                    "runnext": pp.runnext or None,
                    "runq": list(pp.runq),
                    "gfree": pp.gfree,
                }
                for pp in self.ps
            ],
            "global": list(self.glob),
            "ms": [
                {"m": m.id, "p": m.p, "curg": m.curg or None, "idle": m.id in self.midle}
                for m in self.ms
            ],
            "gs": [
                {"g": g.id, "fn": g.fn, "status": g.status, "reason": g.reason}
                for g in self.gs.values()
                if g.status != "dead"
            ],
        }

    def create(self, pp: _P, parent: int, fn: str) -> None:
        g = _G(self.next_goid, fn)
        self.next_goid += 1
        self.gs[g.id] = g
        self.live += 1
        if pp.gfree:
            pp.gfree -= 1
        self.instant("GoCreate", g=g.id, parent=parent, p=pp.id, fn=fn, gfree=pp.gfree)
        self.runqput(pp, g.id, True)
        if parent:
            g.flows.append(("create", self.now, pp.id))
        self.wakep()

    def run(self, pid: int) -> None:
        """findRunnable on P pid, then execute, or the P and its M go idle."""
        pp = self.ps[pid]
        if pp.m is None or pp.curg:
            return  # taken away meanwhile
        if pp.runnext:
            g = pp.runnext
            pp.runnext = 0
        elif pp.runq:
            g = pp.runq.pop(0)
        elif self.glob:
            n = min(len(self.glob), len(self.glob) // self.nprocs + 1, LOCAL_CAP // 2)
            batch = self.glob[:n]
            del self.glob[:n]
            self.instant("GlobalGet", p=pid, gs=batch)
            pp.runq.extend(batch)
            g = pp.runq.pop(0)
        else:
            victims = [q for q in self.ps if q is not pp and (q.runq or q.runnext)]
            if not victims:
                mp = self.ms[pp.m]
                self.proc_stop(pp)
                self.midle.append(mp.id)
                self.instant("MStop", m=mp.id)
                return
            vp = self.rng.choice(victims)
            if vp.runq:
                n = (len(vp.runq) + 1) // 2
                batch = vp.runq[:n]
                del vp.runq[:n]
            else:
                batch = [vp.runnext]
                vp.runnext = 0
            self.instant("RunqSteal", p=pid, **{"from": vp.id}, gs=batch)
            pp.runq.extend(batch)
            g = pp.runq.pop()  # runqsteal runs the last G it took
        self.execute(pp, g)

    def execute(self, pp: _P, gid: int) -> None:
        assert pp.m is not None
        g = self.gs[gid]
        mp = self.ms[pp.m]
        self.instant("GoStart", g=gid, p=pp.id, m=mp.id)
        g.status, g.reason = "running", ""
        pp.curg = mp.curg = gid
        pp.gstart = self.now
        for name, ts, src in g.flows:
            if not self.recording or ts < self.t0:
                continue  # both ends of a flow are in the trace
            fid = self.next_flow
            self.next_flow += 1
            base = {"name": name, "cat": "flow", "id": fid, "pid": 1}
            self.events.append({**base, "ph": "s", "tid": src + 1, "ts": _us(ts)})
            self.events.append(
                {**base, "ph": "f", "bp": "e", "tid": pp.id + 1, "ts": _us(self.now)}
            )
        g.flows.clear()
        dur = int(min(self.rng.expovariate(1 / 20_000), 400_000)) + 500
        for _ in range(self.rng.choice((0, 0, 1, 1, 2))):
            self.schedule(self.rng.randint(1, dur - 1), "mid", pp.id, pp.token)
        self.schedule(dur, "end", pp.id, pp.token)

    def mid(self, pid: int, token: int) -> None:
        """The running G creates goroutines or readies a blocked one."""
        pp = self.ps[pid]
        if token != pp.token:
            return
        if self.rng.random() < 0.004 and self.live < 4 * self.max_live:
            # A fan-out loop: more goroutines than a local queue holds, so it spills.
            fn = self.rng.choice(FUNCS)
            for _ in range(LOCAL_CAP + 64):
                self.create(pp, parent=pp.curg, fn=fn)
        elif self.live < self.max_live and (not self.blocked or self.rng.random() < 0.5):
            self.create(pp, parent=pp.curg, fn=self.rng.choice(FUNCS))
        elif self.blocked:
            self.unblock(self.blocked_pop(), by=pp.curg, pp=pp, nxt=self.rng.random() < 0.5)

    def blocked_pop(self) -> int:
        i = self.rng.randrange(len(self.blocked))
        self.blocked[i], self.blocked[-1] = self.blocked[-1], self.blocked[i]
        return self.blocked.pop()

    def unblock(self, gid: int, by: int, pp: _P | None, nxt: bool) -> None:
        g = self.gs[gid]
        g.status, g.reason = "runnable", ""
        self.instant("GoUnblock", g=gid, by=by)
        if pp is None:
            self.globalput(gid)
        else:
            if by:
                g.flows.append(("unblock", self.now, pp.id))
            self.runqput(pp, gid, nxt)
        self.wakep()

    def end(self, pid: int, token: int) -> None:
        """The running G's slice ends: it blocks, yields, is preempted, exits or makes a
        syscall."""
        pp = self.ps[pid]
        if token != pp.token:
            return
        assert pp.m is not None
        g = self.gs[pp.curg]
        mp = self.ms[pp.m]
        roll = self.rng.random()
        crowded = self.live > self.max_live // 2
        if g.id != 1 and roll < (0.35 if crowded else 0.12):
            self.instant("GoDestroy", g=g.id, p=pid, gfree=pp.gfree + 1)
            self.close_g(pp, "destroy")
            pp.gfree += 1
            if pp.gfree > GFREE_MAX:
                pp.gfree //= 2
                self.instant("GFree", p=pid, gfree=pp.gfree)
            g.status = "dead"
            self.live -= 1
        elif roll < 0.6:
            reason = self.rng.choice(REASONS)
            self.instant("GoBlock", g=g.id, reason=reason)
            self.close_g(pp, "block", reason)
            g.status, g.reason = "waiting", reason
            if reason == "sleep":
                self.schedule(self.rng.randint(5_000, 300_000), "timer", g.id)
            else:
                self.blocked.append(g.id)
        elif roll < 0.88:
            preempted = roll >= 0.75
            self.instant("GoStop", g=g.id, reason="preempted" if preempted else "runtime.Gosched")
            self.close_g(pp, "preempted" if preempted else "gosched")
            self.globalput(g.id)
            g.status = "runnable"
        else:
            kind = "blocking" if roll < 0.94 else "retake"
            self.instant("GoSyscallBegin", g=g.id, m=mp.id, kind=kind)
            g.status = "syscall"
            mp.syskind = kind
            if kind == "blocking":  # entersyscallblock: the P is handed off at once
                self.proc_stop(pp, g_end="syscall")
                mp.curg = g.id
                mp.sysstart = self.now
                self.handoffp(pp)
                self.schedule(self.rng.randint(5_000, 200_000), "sysexit", mp.id)
            else:  # the G keeps its P until sysmon retakes it
                steal = self.rng.randint(10_000, 20_000)
                self.schedule(steal, "retake", pid, pp.token)
                self.schedule(steal + self.rng.randint(1_000, 100_000), "sysexit", mp.id)
            return
        mp.curg = 0
        self.schedule(self.rng.randint(100, 1_000), "run", pid)

    def retake(self, pid: int, token: int) -> None:
        pp = self.ps[pid]
        assert token == pp.token and pp.m is not None
        mp = self.ms[pp.m]
        self.proc_stop(pp, "ProcSteal", g_end="syscall")
        mp.sysstart = self.now
        self.handoffp(pp)

    def sysexit(self, mid: int) -> None:
        mp = self.ms[mid]
        g = self.gs[mp.curg]
        self.close_syscall(mp)
        if self.pidle:  # exitsyscall's fast path: an idle P
            self.instant("GoSyscallEnd", g=g.id, m=mid)
            pp = self.ps[self.pidle[-1]]
            self.proc_start(pp, mp)
            self.execute(pp, g.id)
            return
        self.instant("GoSyscallEndBlocked", g=g.id, m=mid)
        self.globalput(g.id)
        g.status = "runnable"
        mp.curg = 0
        self.midle.append(mid)
        self.instant("MStop", m=mid)

    def timer(self, gid: int) -> None:
        self.unblock(gid, by=0, pp=None, nxt=False)

    def counter(self) -> None:
        rq: dict[str, int] = {"global": len(self.glob)}
        for pp in self.ps:
            rq[f"P{pp.id}"] = len(pp.runq) + (1 if pp.runnext else 0)
        for name, args in (
            ("runqueue", rq),
            ("procs", {"idle": len(self.pidle), "running": self.nprocs - len(self.pidle)}),
            (
                "threads",
                {
                    "total": len(self.ms),
                    "idle": len(self.midle),
                    "syscall": sum(1 for m in self.ms if m.sysstart >= 0),
                },
            ),
        ):
            self.events.append(
                {"name": name, "ph": "C", "pid": 3, "tid": 1, "ts": _us(self.now), "args": args}
            )
        self.schedule(COUNTER_PERIOD, "counter")

    # ---------------------------------------------------------------------------------------

    def snapshot(self) -> State:
        """The state after every event at or before now, as the viewer's panel shows it."""
        return {
            "t_ns": self.now,
            "ps": [
                {
                    "p": pp.id,
                    "status": "idle" if pp.m is None else "running",
                    "m": pp.m,
                    "runnext": pp.runnext,
                    "runq": list(pp.runq),
                    "gfree": pp.gfree,
                }
                for pp in self.ps
            ],
            "global": list(self.glob),
            "ms": [
                {"m": m.id, "curg": m.curg, "p": m.p, "idle": m.id in self.midle} for m in self.ms
            ],
            "pidle": self.pidle[::-1],
            "midle": self.midle[::-1],
        }

    def run_all(self) -> None:
        self.start()
        last = 0
        while self.heap and len(self.events) + len(self.meta) < self.target:
            t, _, kind, args = heapq.heappop(self.heap)
            self.pending -= kind != "counter"
            self.now = max(t, last + 1)  # strictly after the previous action
            last = self.now
            if not self.recording and self.actions == WARMUP:
                self.begin_trace()
            getattr(self, kind)(*args)
            if self.pending == 0 and self.blocked:
                # Nothing left to run anything: the runtime readies a parked G (netpoll, say).
                self.unblock(self.blocked_pop(), by=0, pp=None, nxt=False)
            self.actions += 1
            if self.recording and self.snapshot_every and self.actions % self.snapshot_every == 0:
                self.snapshots.append(self.snapshot())
        self.finish(last + 1_000)

    def finish(self, t: int) -> None:
        """Close every open slice at the trace's end."""
        self.now = t
        for pp in self.ps:
            if pp.m is not None:
                self.close_proc(pp)
            if pp.curg:
                self.close_g(pp, "trace end")
        for mp in self.ms:
            if mp.sysstart >= 0:
                self.close_syscall(mp)


def process_meta(pid: int, name: str, order: int) -> list[Event]:
    # Process metadata has no tid: no event uses tid 0.
    return [
        {"name": "process_name", "ph": "M", "pid": pid, "args": {"name": name}},
        {"name": "process_sort_index", "ph": "M", "pid": pid, "args": {"sort_index": order}},
    ]


def thread_meta(pid: int, tid: int, name: str) -> list[Event]:
    # Tracks sort by id: P3 before P10, M2 after M1 (sysmon).
    return [
        {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}},
        {
            "name": "thread_sort_index",
            "ph": "M",
            "pid": pid,
            "tid": tid,
            "args": {"sort_index": tid},
        },
    ]


def _trace(sim: _Sim) -> dict[str, Any]:
    return {
        "traceEvents": sim.meta + sim.events,
        "displayTimeUnit": "ns",
        "otherData": {
            "producer": "gosched (tests/_tracegen.py)",
            "format": "gosched-trace/1",
            "python": "synthetic",
            "gomaxprocs": str(sim.nprocs),
            "part": "0",
        },
    }


def synthetic_trace(n_events: int, nprocs: int = 4, seed: int = 0) -> dict[str, Any]:
    """A trace of about ``n_events`` events (it stops at the first action past the count and
    closes the open slices) on ``nprocs`` Ps, the same for the same seed."""
    sim = _Sim(n_events, nprocs, seed, 0)
    sim.run_all()
    return _trace(sim)


def synthetic_trace_and_states(
    n_events: int, nprocs: int = 4, seed: int = 0, every: int = 50
) -> tuple[dict[str, Any], list[State]]:
    """The trace of :func:`synthetic_trace` and the model's state after every ``every``-th
    action: ``t_ns`` (the instant, in ns), each P's status, M, runnext (0: none), local queue
    and free-G count, the global queue, each M's curg (0: none), P and idleness, and the idle
    P and M lists, head first."""
    sim = _Sim(n_events, nprocs, seed, every)
    sim.run_all()
    return _trace(sim), sim.snapshots
