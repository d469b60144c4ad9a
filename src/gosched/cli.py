"""The gosched command: run a script on the scheduler, report as Go does, run the benchmarks."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
from collections.abc import Sequence

from . import __version__, _traceview
from ._runtime import Deadlock, FatalError, checkpath, usercaller
from ._runtime import run as _run

# Frames of these files are the runtime's, not the user's: left out of panic tracebacks.
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_frames(tb: traceback.StackSummary) -> list[traceback.FrameSummary]:
    out = []
    for fs in tb:
        fn = fs.filename
        if fn.startswith(_RUNTIME_DIR) and not fn.endswith(("sync.py", "debug.py")):
            continue
        if "runpy" in fn:
            continue
        out.append(fs)
    return out


def _goroutine_of(exc: BaseException) -> str:
    for note in getattr(exc, "__notes__", ()):
        if isinstance(note, str) and note.startswith("goroutine ") and note.endswith("[running]"):
            return note
    return "goroutine 1 [running]"


def format_panic(exc: BaseException) -> str:
    """Go's panic report with a Python traceback: the panic lines, a blank line, the goroutine,
    its frames, and Go's ``created by`` lines. The text of the exceptions was made by the
    panicking goroutine (its ``__str__`` runs once, there); an exception that escaped before a
    goroutine ran (or cannot hold the text) is formatted here."""
    text = getattr(exc, "__gosched_panic__", None)
    if text is not None:
        lines = text.header.split("\n")
    else:
        s = str(exc)
        lines = [f"panic: {type(exc).__name__}: {s}" if s else f"panic: {type(exc).__name__}"]
    lines.append("")
    lines.append(_goroutine_of(exc) + ":")
    frames = _user_frames(traceback.extract_tb(exc.__traceback__))
    lines.append("Traceback (most recent call last):")
    lines.extend(s.rstrip("\n") for s in traceback.format_list(frames))
    if text is not None:
        lines.append(text.exc_line)
        if text.createdby:
            lines.extend(text.createdby.split("\n"))
    else:
        only = traceback.format_exception_only(type(exc), exc)
        notes = set(getattr(exc, "__notes__", ()))
        lines.extend(s.rstrip("\n") for s in only if s.rstrip("\n") not in notes)
    return "\n".join(lines) + "\n"


def format_fatal(exc: FatalError) -> str:
    out = f"fatal error: {exc}\n"
    dump = getattr(exc, "dump", "")
    if dump:
        out += "\n" + dump
    return out


@usercaller  # the script may be preempted
def _run_script(script: str, args: list[str]) -> None:
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


def cmd_run(ns: argparse.Namespace) -> int:
    script = ns.script
    if not os.path.exists(script):
        print(f"gosched run: {script}: no such file", file=sys.stderr)
        return 2
    trace = None
    if ns.trace is not None:
        try:
            trace = checkpath(ns.trace, "gosched run --trace")
        except OSError as e:
            print(f"gosched run: --trace {ns.trace}: {e.strerror or e}", file=sys.stderr)
            return 2
    try:
        _run(_run_script, (script, ns.args), {}, ns.gomaxprocs, script=True, trace=trace)
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Deadlock as e:
        sys.stderr.write(format_fatal(e))
        return 2
    except FatalError as e:
        sys.stderr.write(format_fatal(e))
        return 2
    except BaseException as e:  # any goroutine's uncaught exception: a Go panic
        sys.stderr.write(format_panic(e))
        return 2
    return 0


def cmd_version(ns: argparse.Namespace) -> int:
    import greenlet

    print(
        f"gosched {__version__} (python {sys.version.split()[0]}, greenlet {greenlet.__version__})"
    )
    return 0


def cmd_trace_view(ns: argparse.Namespace) -> int:
    return _traceview.run(ns)


def _positive_int(s: str) -> int:
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gosched", description="Go's goroutine runtime for Python.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run SCRIPT as __main__ in goroutine 1")
    r.add_argument(
        "--gomaxprocs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="number of Ps (default: $GOMAXPROCS, else 1 on GIL builds)",
    )
    r.add_argument(
        "--trace",
        default=None,
        metavar="FILE",
        help="record the run's execution trace to FILE (Chrome JSON; docs/trace.md)",
    )
    r.add_argument("script", metavar="SCRIPT")
    r.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("version", help="print the version")
    v.set_defaults(func=cmd_version)
    t = sub.add_parser("trace", help="execution traces (gosched trace view FILE)")
    tsub = t.add_subparsers(dest="trace_cmd", required=True)
    tv = tsub.add_parser("view", help="write FILE's viewer: one self-contained HTML file")
    _traceview.add_arguments(tv)
    tv.set_defaults(func=cmd_trace_view)
    # Listed for --help only: main() hands "bench ..." to the suite's own parser.
    sub.add_parser("bench", help="run the benchmark suite against peers (gosched bench -h)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "bench":
        # The suite parses its own options (argparse's REMAINDER drops leading options).
        from . import _bench

        return _bench.main(args[1:])
    ns = build_parser().parse_args(args)
    rc: int = ns.func(ns)
    return rc


if __name__ == "__main__":
    sys.exit(main())
