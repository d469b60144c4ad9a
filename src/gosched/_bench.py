"""``gosched bench``: run the benchmark suite side by side with its peers and print a table.

The suite lives outside the package, in ``benchmarks/`` at the root of a source checkout: one
file per benchmark (``spawn.py``, ...), each defining the same job done by gosched and by its
peers (raw greenlet, asyncio, uvloop, gevent, trio), plus ``_harness.py``, the small command
line every benchmark file answers to (``describe``; ``run PEER N``). This module is only the
driver; it never imports a benchmark file.

Method, and why:

- Every (benchmark, peer) measurement is its own fresh subprocess (``python FILE run PEER N``):
  the heap, the GC generations, free lists and caches one peer leaves behind do not bias the
  next, and each process imports only its own peer's library.
- Peers are interleaved across rounds (round 1 runs every peer once, then round 2, ...), and
  each round starts one peer later than the previous one, so a slow stretch of a shared, noisy
  machine spreads over all peers instead of landing on one. The table reports the median of the
  rounds, with min and max to show the spread.
- The numbers that matter are the ratios within one run: absolute times on a shared machine
  swing by 2x from one run to the next, ratios measured side by side much less.
- ``GOSCHED_TRACE`` and ``GODEBUG`` are removed from the children's environment (tracing would
  be measured too); ``GOMAXPROCS`` is passed through and shown in the header.
- A benchmark measures either time (``metric`` "seconds", the default) or resident memory
  ("bytes"), and shows it per operation (µs per message, KiB per goroutine) or, with
  ``per_op`` false, per run (seconds for the whole prime sieve); see ``DISPLAY``.
- A benchmark may cap its rounds (``max_rounds``) when more would only repeat the same figure:
  ``memory``'s RSS growth comes out the same to the byte in every round.
- ``--baseline DIR`` measures a change against another commit in the same run: every peer whose
  name starts with ``gosched`` gets a twin, ``<name>@base``, that runs the same benchmark file
  and peer function with ``DIR/src`` first on the child's ``PYTHONPATH`` (DIR is a checkout or
  ``git worktree`` of that commit), so it imports DIR's gosched. The twins take part in the
  interleaved rounds like any peer; a twin is selected whenever its peer is (``--peers
  gosched`` keeps ``gosched@base``), or when ``--peers`` names it.

Locating the suite: ``$GOSCHED_BENCHMARKS``; else ``benchmarks/`` in the current directory or
any parent; else ``benchmarks/`` next to the ``src/`` this package was imported from. A
directory counts as the suite only if it holds ``_harness.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import gosched

ENV_VAR = "GOSCHED_BENCHMARKS"
SUITE_DIR = "benchmarks"
MARKER = "_harness.py"  # present in the suite directory, and only there

BASELINE = "gosched"  # the peer every ratio is taken against
BASE_SUFFIX = "@base"  # --baseline: the twin of peer P that runs DIR's gosched is P + BASE_SUFFIX
REFERENCE = "asyncio"  # the peer gosched's ratio is also shown against
DEFAULT_ROUNDS = 5
RUN_TIMEOUT = 300.0  # seconds for one measurement subprocess; a hang becomes an error
EXIT_NOT_INSTALLED = 3  # a benchmark file's exit code for a peer whose library is missing

# Variables that would make the children measure something else than the job itself.
_DROPPED_ENV = ("GOSCHED_TRACE", "GODEBUG")

OK = "ok"
NOT_INSTALLED = "not installed"
ERROR = "error"

# How a benchmark's raw values are shown: (metric, per_op) -> (symbol, factor). The table shows
# raw * factor, divided by N when per_op.
DISPLAY: dict[tuple[str, bool], tuple[str, float]] = {
    ("seconds", True): ("µs", 1e6),
    ("seconds", False): ("s", 1.0),
    ("bytes", True): ("KiB", 1 / 1024),
    ("bytes", False): ("MiB", 1 / 1024**2),
}


class BenchError(Exception):
    """A problem that stops the whole run (suite not found, a benchmark that cannot describe
    itself, bad arguments); main prints it and returns 2."""


# ---------------------------------------------------------------------------------------------
# Finding and describing the suite


def find_suite(cwd: Path | None = None) -> Path:
    """The benchmarks directory, by the rules in the module docstring; BenchError if none."""
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if (path / MARKER).is_file():
            return path.resolve()
        raise BenchError(f"${ENV_VAR} is {env!r}, which is not a benchmark suite (no {MARKER})")
    start = (cwd or Path.cwd()).resolve()
    looked = []
    for d in (start, *start.parents):
        looked.append(d / SUITE_DIR)
        if (d / SUITE_DIR / MARKER).is_file():
            return d / SUITE_DIR
    pkg = Path(gosched.__file__).resolve().parents[2] / SUITE_DIR
    looked.append(pkg)
    if (pkg / MARKER).is_file():
        return pkg
    raise BenchError(
        f"benchmark suite not found: set ${ENV_VAR}, or run from a gosched source checkout.\n"
        f"looked for a {SUITE_DIR}/ directory holding {MARKER} in:\n"
        + "\n".join(f"  {p}" for p in looked)
    )


def child_env() -> dict[str, str]:
    """The environment for measurement subprocesses.

    They import the same gosched as this process: when it was imported from outside the
    interpreter's site-packages (a source checkout), its directory goes first on PYTHONPATH.
    """
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    root = Path(gosched.__file__).resolve().parents[1]
    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    if root not in site:
        old = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(root) + (os.pathsep + old if old else "")
    return env


@dataclass(frozen=True)
class PeerInfo:
    name: str
    description: str
    requires: tuple[str, ...]
    available: bool
    versions: dict[str, str | None]
    # For a --baseline twin ("gosched@base"): the benchmark file's peer it runs ("gosched"),
    # with the baseline's gosched first on PYTHONPATH. None for the file's own peers.
    base_of: str | None = None

    @property
    def runs(self) -> str:
        """The peer name the benchmark file is asked to run."""
        return self.base_of or self.name


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: Path
    summary: str
    unit: str
    default_n: int
    targets: dict[str, Any]
    peers: tuple[PeerInfo, ...]
    metric: str = "seconds"  # what a run reports: "seconds" or "bytes"
    per_op: bool = True  # shown divided by N (per op) or whole (per run)
    max_rounds: int | None = None  # at most this many rounds, whatever --rounds says

    def rounds(self, asked: int) -> int:
        """How many rounds this benchmark runs when asked for that many."""
        return asked if self.max_rounds is None else min(asked, self.max_rounds)

    def peer_names(self) -> list[str]:
        return [p.name for p in self.peers]

    @property
    def symbol(self) -> str:
        """The unit the table shows values in: µs, s, KiB or MiB."""
        return DISPLAY[self.metric, self.per_op][0]

    @property
    def label(self) -> str:
        """What one number in the table is: "µs/message", "s/run", "KiB/goroutine"."""
        return f"{self.symbol}/{self.unit if self.per_op else 'run'}"

    def scale(self, n: int) -> float:
        """The factor from a raw value measured with N = n to the table's unit."""
        factor = DISPLAY[self.metric, self.per_op][1]
        return factor / n if self.per_op else factor


def discover(suite: Path) -> list[Path]:
    """The benchmark files in suite, by name: every *.py not starting with an underscore.

    A file named like a standard library module (select.py, queue.py) is refused: run as a
    script, its directory comes first on sys.path, so it would shadow that module (asyncio
    imports select) for every benchmark in the suite."""
    files = sorted(p for p in suite.glob("*.py") if not p.name.startswith("_"))
    clash = [p.name for p in files if p.stem in sys.stdlib_module_names]
    if clash:
        raise BenchError(
            f"{', '.join(clash)} in {suite}: named like a standard library module, which it "
            "would shadow for every benchmark there; rename it"
        )
    return files


def describe(path: Path, env: dict[str, str]) -> Benchmark:
    """Ask the benchmark file at path to describe itself (in a subprocess)."""
    proc = subprocess.run(
        [sys.executable, str(path), "describe"],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    try:
        if proc.returncode != 0:
            raise ValueError(f"exit status {proc.returncode}")
        d = json.loads(proc.stdout.strip().splitlines()[-1])
        metric, per_op = str(d.get("metric", "seconds")), bool(d.get("per_op", True))
        if (metric, per_op) not in DISPLAY:
            raise ValueError(f"unknown metric {metric!r}")
        return Benchmark(
            name=path.stem,
            path=path,
            summary=str(d["summary"]),
            unit=str(d["unit"]),
            default_n=int(d["default_n"]),
            targets=dict(d.get("targets") or {}),
            metric=metric,
            per_op=per_op,
            max_rounds=int(d["max_rounds"]) if d.get("max_rounds") else None,
            peers=tuple(
                PeerInfo(
                    name=str(p["name"]),
                    description=str(p["description"]),
                    requires=tuple(p["requires"]),
                    available=bool(p["available"]),
                    versions=dict(p["versions"]),
                )
                for p in d["peers"]
            ),
        )
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise BenchError(
            f"{path}: cannot describe itself ({e}):\n{_tail(proc.stderr or proc.stdout)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# --baseline: the same peers with another commit's gosched


def base_src(base: Path) -> Path:
    """The src/ directory of the baseline checkout base; BenchError unless it holds gosched."""
    src = base.expanduser() / "src"
    if not (src / "gosched" / "__init__.py").is_file():
        raise BenchError(
            f"--baseline {base}: not a gosched checkout (no src/gosched/__init__.py); give the "
            "root of a worktree of the commit to compare with, e.g. "
            "`git worktree add /tmp/base HEAD~1`"
        )
    return src.resolve()


def base_env(env: dict[str, str], src: Path) -> dict[str, str]:
    """env, with src first on PYTHONPATH: a child started with it imports src's gosched (the
    benchmark file's own directory still comes before it, as for every script)."""
    out = dict(env)
    old = out.get("PYTHONPATH")
    out["PYTHONPATH"] = str(src) + (os.pathsep + old if old else "")
    return out


def base_info(base: Path, src: Path) -> dict[str, Any]:
    """What the results should say about the baseline: where it is, its gosched version, and
    (best effort, when it is a git checkout) its commit and whether it has local changes."""
    text = (src / "gosched" / "__init__.py").read_text(encoding="utf-8", errors="replace")
    m = re.search(r"^__version__\s*=\s*[\"']([^\"']*)[\"']", text, re.MULTILINE)
    info: dict[str, Any] = {
        "dir": str(base.expanduser().resolve()),
        "src": str(src),
        "version": m.group(1) if m else None,
        "commit": None,
        "dirty": None,
    }

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(src.parent), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    out = (git("rev-parse", "--show-toplevel", "HEAD") or "").splitlines()
    # Only DIR's own repository: not one that merely contains it.
    if len(out) == 2 and Path(out[0]).resolve() == src.parent:
        info["commit"] = out[1]
        status = git("status", "--porcelain", "--untracked-files=no")
        info["dirty"] = None if status is None else bool(status)
    return info


def with_base_twins(bench: Benchmark, base: Path) -> Benchmark:
    """bench with a twin after every peer whose name starts with gosched: the same peer
    function, named P@base, run with the baseline's gosched (see base_env)."""
    peers: list[PeerInfo] = []
    for p in bench.peers:
        peers.append(p)
        if p.name.startswith(BASELINE) and p.base_of is None:
            peers.append(
                dataclasses.replace(
                    p,
                    name=p.name + BASE_SUFFIX,
                    description=f"{p.name} with the gosched of {base}",
                    base_of=p.name,
                )
            )
    return dataclasses.replace(bench, peers=tuple(peers))


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class PeerResult:
    """One peer's measurements in one benchmark: raw[i] is round i's value in the benchmark's
    metric (seconds of the timed region, or bytes), scale the factor to the table's unit."""

    peer: PeerInfo
    n: int
    scale: float
    status: str = OK
    raw: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def values(self) -> list[float]:
        """Every round's value in the table's unit (e.g. µs per op)."""
        return [v * self.scale for v in self.raw]

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.raw else None


@dataclass
class BenchResult:
    bench: Benchmark
    n: int
    peers: list[PeerResult]

    def get(self, name: str) -> PeerResult | None:
        for r in self.peers:
            if r.peer.name == name:
                return r
        return None

    def base_pairs(self) -> list[tuple[str, str]]:
        """(peer, its --baseline twin) for every twin measured here with its peer."""
        return [
            (r.peer.base_of, r.peer.name)
            for r in self.peers
            if r.peer.base_of is not None and self.get(r.peer.base_of) is not None
        ]

    def median(self, name: str) -> float | None:
        r = self.get(name)
        return r.median if r is not None and r.status == OK else None

    def ratio(self, name: str, to: str = BASELINE) -> float | None:
        """Median of peer name over median of peer to, when both were measured."""
        a, b = self.median(name), self.median(to)
        return a / b if a is not None and b else None

    def targets(self) -> list[tuple[str, float | None, float, bool | None]]:
        """(what, measured, limit, met) for each target the benchmark declares for gosched;
        met is None when it could not be measured.

        Targets: "max" is gosched's median in the table's unit ("us_per_op", the older name, is
        the same); "vs" maps a peer to the most gosched's median may be over that peer's."""
        out: list[tuple[str, float | None, float, bool | None]] = []
        t = self.bench.targets
        limit = t.get("max", t.get("us_per_op"))
        if limit is not None:
            got, lim = self.median(BASELINE), float(limit)
            out.append(
                (f"{BASELINE} {self.bench.label}", got, lim, None if got is None else got <= lim)
            )
        for other, lim in dict(t.get("vs") or {}).items():
            got = self.ratio(BASELINE, str(other))
            out.append(
                (
                    f"{BASELINE} / {other}",
                    got,
                    float(lim),
                    None if got is None else got <= float(lim),
                )
            )
        return out


def measure(bench: Benchmark, peer: str, n: int, env: dict[str, str]) -> float:
    """Run one measurement in a fresh subprocess; return its raw value (bench.metric).

    Raises LookupError when the peer's library is missing there, RuntimeError on any failure.
    """
    try:
        proc = subprocess.run(
            [sys.executable, str(bench.path), "run", peer, str(n)],
            capture_output=True,
            text=True,
            env=env,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {RUN_TIMEOUT:.0f}s") from None
    if proc.returncode == EXIT_NOT_INSTALLED:
        raise LookupError(proc.stderr.strip())
    if proc.returncode != 0:
        raise RuntimeError(f"exit status {proc.returncode}:\n{_tail(proc.stderr)}")
    try:
        value = float(json.loads(proc.stdout.strip().splitlines()[-1])[bench.metric])
    except (ValueError, KeyError, TypeError, IndexError):
        raise RuntimeError(f"unreadable result:\n{_tail(proc.stdout)}") from None
    return value


def run_suite(
    benches: Sequence[Benchmark],
    *,
    rounds: int,
    n: int | None,
    peers: set[str] | None,
    env: dict[str, str],
    progress: TextIO | None,
    measure_fn: Callable[[Benchmark, str, int, dict[str, str]], float] = measure,
    base_env: dict[str, str] | None = None,
) -> list[BenchResult]:
    """Measure every selected (benchmark, peer) rounds times, interleaved (module docstring).

    peers selects by name (None: all); a --baseline twin (see with_base_twins) is selected with
    its peer, or by its own name. Twins run their peer with base_env instead of env."""

    def selected(p: PeerInfo) -> bool:
        return peers is None or p.name in peers or (p.base_of is not None and p.base_of in peers)

    if base_env is None and any(p.base_of for b in benches for p in b.peers if selected(p)):
        raise ValueError("run_suite: a baseline twin needs base_env")
    results = [
        BenchResult(
            b,
            n or b.default_n,
            [
                PeerResult(
                    p,
                    n or b.default_n,
                    b.scale(n or b.default_n),
                    OK if p.available else NOT_INSTALLED,
                )
                for p in b.peers
                if selected(p)
            ],
        )
        for b in benches
    ]
    for rnd in range(rounds):
        for res in results:
            live = [r for r in res.peers if r.status == OK]
            if not live or rnd >= res.bench.rounds(rounds):
                continue
            k = rnd % len(live)
            if progress:
                progress.write(f"[round {rnd + 1}/{res.bench.rounds(rounds)}] {res.bench.name}:")
                progress.flush()
            for r in live[k:] + live[:k]:
                penv = env if r.peer.base_of is None else base_env
                assert penv is not None
                try:
                    r.raw.append(measure_fn(res.bench, r.peer.runs, res.n, penv))
                    shown = f"{r.values[-1]:.2f}"
                except LookupError as e:
                    r.status, r.error, shown = NOT_INSTALLED, str(e), NOT_INSTALLED
                except RuntimeError as e:
                    r.status, r.error, shown = ERROR, str(e), ERROR
                if progress:
                    progress.write(f" {r.peer.name} {shown}")
                    progress.flush()
            if progress:
                progress.write("\n")
    return results


# ---------------------------------------------------------------------------------------------
# Reporting


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _fmt(x: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "-" if x is None else f"{x:{spec}}{suffix}"


def format_result(res: BenchResult, rounds: int) -> str:
    """The table for one benchmark, with its ratio and target lines."""
    b = res.bench
    per = f"per {b.unit}" if b.per_op else "per run"
    lines = [
        f"{b.name}: {b.summary.removeprefix(b.name + ':').strip()}",
        f"n={res.n:,} {b.unit}s per run, {_plural(b.rounds(rounds), 'round')}; "
        f"{b.symbol} {per}, lower is better; 'x {BASELINE}' = peer median / {BASELINE} median",
        "",
    ]
    w = max([len("peer"), *(len(r.peer.name) for r in res.peers)])
    lines.append(f"{'peer':<{w}}  {'median':>9}  {'min':>9}  {'max':>9}  {'x ' + BASELINE:>10}")
    for r in res.peers:
        name = r.peer.name
        if r.status != OK:
            lines.append(f"{name:<{w}}  {r.status}")
            continue
        vs = r.values
        lines.append(
            f"{name:<{w}}  {_fmt(r.median):>9}  {_fmt(min(vs)):>9}  {_fmt(max(vs)):>9}  "
            f"{_fmt(res.ratio(name), '.2f', 'x'):>10}"
        )
    extra = []
    if res.get(REFERENCE) is not None and not any(
        what == f"{BASELINE} / {REFERENCE}" for what, *_ in res.targets()
    ):
        extra.append(f"{BASELINE} / {REFERENCE}: {_fmt(res.ratio(BASELINE, REFERENCE))}")
    for what, got, lim, met in res.targets():
        verdict = "not measured" if met is None else ("met" if met else "MISSED")
        extra.append(f"{what}: {_fmt(got)}  (target <= {lim:g}: {verdict})")
    for name, twin in res.base_pairs():
        extra.append(
            f"{name} / {twin}: {_fmt(res.ratio(name, twin))}  (below 1: better than the base)"
        )
    if extra:
        lines += ["", *extra]
    for r in res.peers:
        if r.status == ERROR:
            lines += ["", f"{r.peer.name} failed: {r.error}"]
    return "\n".join(lines)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"gosched": gosched.__version__}
    for dist in ("greenlet", "uvloop", "gevent", "trio"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _gil_enabled() -> bool:
    probe: Callable[[], bool] | None = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else probe()


def environment(suite: Path, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a reader of the results needs to know about where they were measured; base is
    base_info() of the --baseline checkout, if any."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gil_enabled": _gil_enabled(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": _versions(),
        "gosched_path": str(Path(gosched.__file__).resolve().parent),
        "suite": str(suite),
        "GOMAXPROCS": os.environ.get("GOMAXPROCS"),
        "base": base,
    }


def header(env: dict[str, Any], rounds: int) -> str:
    v = env["versions"]
    gil = "" if env["gil_enabled"] else ", free-threaded"
    gmp = f", GOMAXPROCS={env['GOMAXPROCS']}" if env["GOMAXPROCS"] else ""
    line = (
        f"gosched bench: gosched {v['gosched']}, {env['implementation']} {env['python']}{gil}, "
        f"greenlet {v['greenlet']}, {env['cpu_count']} CPUs{gmp}, {_plural(rounds, 'round')}, "
        f"{env['date']}"
    )
    base = env.get("base")
    if not base:
        return line
    commit = ""
    if base["commit"]:
        commit = f", commit {base['commit'][:12]}" + (
            " with uncommitted changes" if base["dirty"] else ""
        )
    return (
        f"{line}\n{BASELINE}{BASE_SUFFIX} rows: gosched {base['version']} from {base['src']}"
        f"{commit}; the others: gosched from {env['gosched_path']}"
    )


def to_json(results: Iterable[BenchResult], env: dict[str, Any], rounds: int) -> dict[str, Any]:
    """The machine-readable results: environment, then per benchmark and peer the raw rounds."""
    return {
        "schema": 2,
        **env,
        "rounds": rounds,
        "baseline": BASELINE,
        "benchmarks": [
            {
                "name": res.bench.name,
                "summary": res.bench.summary,
                "unit": res.bench.unit,
                "n": res.n,
                "rounds": res.bench.rounds(rounds),
                "metric": res.bench.metric,
                "per_op": res.bench.per_op,
                "display_unit": res.bench.label,
                "targets": [
                    {"what": what, "measured": got, "limit": lim, "met": met}
                    for what, got, lim, met in res.targets()
                ],
                f"{BASELINE}_vs_{REFERENCE}": res.ratio(BASELINE, REFERENCE),
                "vs_base": {name: res.ratio(name, twin) for name, twin in res.base_pairs()},
                "peers": [
                    {
                        "name": r.peer.name,
                        "description": r.peer.description,
                        "versions": r.peer.versions,
                        "status": r.status,
                        "error": r.error,
                        res.bench.metric: r.raw,
                        "values": r.values,
                        "median": r.median,
                        "min": min(r.values) if r.raw else None,
                        "max": max(r.values) if r.raw else None,
                        f"ratio_to_{BASELINE}": res.ratio(r.peer.name),
                        "base_of": r.peer.base_of,
                    }
                    for r in res.peers
                ],
            }
            for res in results
        ],
    }


def format_list(benches: Sequence[Benchmark]) -> str:
    lines = []
    for b in benches:
        lines.append(f"{b.name}  (n={b.default_n:,} {b.unit}s)  {b.path}")
        lines.append(f"  {b.summary}")
        w = max(len(p.name) for p in b.peers)
        for p in b.peers:
            state = "" if p.available else f"  [not installed: {', '.join(p.requires)}]"
            lines.append(f"    {p.name:<{w}}  {p.description}{state}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Command line


def _positive_int(s: str) -> int:
    try:
        v = int(s.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gosched bench",
        description="Run the benchmark suite (benchmarks/) side by side with its peers, each "
        "measurement in a fresh subprocess, rounds interleaved; print the medians.",
        epilog=f"The suite is found through ${ENV_VAR}, else benchmarks/ in the current "
        "directory or a parent, else next to the gosched source tree.",
    )
    p.add_argument(
        "names", nargs="*", metavar="NAME", help="benchmarks to run (default: all; see --list)"
    )
    p.add_argument(
        "--rounds",
        type=_positive_int,
        default=DEFAULT_ROUNDS,
        metavar="R",
        help=f"measurements per peer, interleaved (default {DEFAULT_ROUNDS})",
    )
    p.add_argument(
        "--n",
        type=_positive_int,
        default=None,
        metavar="N",
        help="N per measurement, in each benchmark's unit (default: each benchmark's own)",
    )
    p.add_argument(
        "--peers",
        default=None,
        metavar="P1,P2",
        help="only these peers (comma-separated; default: all)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the results, with every round's raw value, as JSON",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also run every gosched* peer as <peer>@base with the gosched of the checkout DIR "
        "(DIR/src first on PYTHONPATH; e.g. a `git worktree add DIR HEAD~1`), in the same "
        "interleaved rounds; --peers gosched keeps gosched@base",
    )
    p.add_argument(
        "--list", action="store_true", help="list the benchmarks and their peers, then exit"
    )
    return p


def main(argv: Sequence[str]) -> int:
    """Entry point of ``gosched bench``; returns the exit status (0 ok, 1 a peer failed,
    2 usage error or no suite)."""
    args = list(argv)
    if args[:1] == ["--"]:  # `gosched bench -- --rounds 1`: argparse.REMAINDER keeps the `--`
        args = args[1:]
    try:
        ns = build_parser().parse_args(args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    try:
        return _main(ns)
    except BenchError as e:
        print(f"gosched bench: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gosched bench --list | head`: stop quietly, as cat would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(ns: argparse.Namespace) -> int:
    src = None if ns.baseline is None else base_src(ns.baseline)
    suite = find_suite()
    env = child_env()
    files = {p.stem: p for p in discover(suite)}
    if not files:
        raise BenchError(f"no benchmarks in {suite}")
    unknown = [n for n in ns.names if n not in files]
    if unknown:
        raise BenchError(f"unknown benchmark {', '.join(unknown)} (have: {', '.join(files)})")
    benches = [describe(files[name], env) for name in (ns.names or files)]
    benv: dict[str, str] | None = None
    binfo: dict[str, Any] | None = None
    if src is not None:
        benv, binfo = base_env(env, src), base_info(ns.baseline, src)
        benches = [with_base_twins(b, src.parent) for b in benches]
    if ns.list:
        print(format_list(benches))
        return 0

    peers: set[str] | None = None
    if ns.peers:
        peers = {s.strip() for s in ns.peers.split(",") if s.strip()}
        known = {name for b in benches for name in b.peer_names()}
        if peers - known:
            bad, have = ", ".join(sorted(peers - known)), ", ".join(sorted(known))
            raise BenchError(f"unknown peer {bad} (have: {have})")

    info = environment(suite, binfo)
    print(header(info, ns.rounds), flush=True)
    t0 = time.monotonic()
    results = run_suite(
        benches,
        rounds=ns.rounds,
        n=ns.n,
        peers=peers,
        env=env,
        progress=sys.stderr,
        base_env=benv,
    )
    for res in results:
        print()
        print(format_result(res, ns.rounds))
    print(f"\n({time.monotonic() - t0:.0f}s)")
    if ns.json is not None:
        ns.json.write_text(
            json.dumps(to_json(results, info, ns.rounds), indent=2, ensure_ascii=False) + "\n"
        )
        print(f"results written to {ns.json}")
    return 1 if any(r.status == ERROR for res in results for r in res.peers) else 0
