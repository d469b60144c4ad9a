"""The gosched command (API.md, "CLI"): `gosched run` runs a script as __main__ in goroutine 1
and reports panics, fatal errors, SystemExit and Ctrl-C as Go does; `gosched version`.

Every test runs the real command in a subprocess, both as ``python -m gosched`` and as the
installed ``gosched`` console script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

import gosched

_CONSOLE = shutil.which("gosched", path=os.path.dirname(sys.executable)) or shutil.which("gosched")

LAUNCHERS = {
    "module": [sys.executable, "-m", "gosched"],
    "script": [_CONSOLE or "gosched-console-script-not-installed"],
}


@pytest.fixture(params=sorted(LAUNCHERS))
def launcher(request: pytest.FixtureRequest) -> list[str]:
    """How to start the command: ``python -m gosched`` or the console script."""
    if request.param == "script" and _CONSOLE is None:
        pytest.fail("the gosched console script is not installed next to sys.executable or on PATH")
    return LAUNCHERS[request.param]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    e = dict(os.environ)
    e.pop("GOMAXPROCS", None)
    e.pop("GODEBUG", None)
    e.pop("GOSCHED_TRACE", None)
    if extra:
        e.update(extra)
    return e


def gosched_cmd(
    launcher: Sequence[str], *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*launcher, *args], capture_output=True, text=True, env=_env(env), timeout=timeout
    )


def write_script(tmp_path: Path, source: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _line_of(path: Path, needle: str) -> int:
    """The 1-based number of the only line of path containing needle."""
    hits = [i for i, s in enumerate(path.read_text().splitlines(), 1) if needle in s]
    assert len(hits) == 1, hits
    return hits[0]


def _traceback_files(stderr: str) -> list[str]:
    return re.findall(r'^  File "([^"]+)", line \d+', stderr, re.MULTILINE)


# --- running a script -------------------------------------------------------------------------


def test_run_script_as_main_in_goroutine_1(launcher: list[str], tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        """
        import json, sys
        import gosched

        child = []
        wg = gosched.sync.WaitGroup()
        wg.add(1)
        def f(x):
            child.append((x, gosched.goid()))
            wg.done()
        gosched.go(f, "top-level go")
        wg.wait()
        print(json.dumps({
            "argv": sys.argv,
            "name": __name__,
            "goid": gosched.goid(),
            "child": child,
        }))
        """,
    )
    r = gosched_cmd(launcher, "run", str(script), "a", "b")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    out = json.loads(r.stdout)
    assert out["argv"] == [str(script), "a", "b"]
    assert out["name"] == "__main__"
    assert out["goid"] == 1
    assert len(out["child"]) == 1
    assert out["child"][0][0] == "top-level go"
    assert out["child"][0][1] > 1


def test_run_script_args_that_look_like_options(launcher: list[str], tmp_path: Path) -> None:
    """Everything after SCRIPT belongs to the script, including its own options."""
    script = write_script(tmp_path, "import sys; print(sys.argv[1:])\n")
    r = gosched_cmd(launcher, "run", str(script), "--gomaxprocs", "7", "-h")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['--gomaxprocs', '7', '-h']\n"


def test_run_script_directory_is_importable(launcher: list[str], tmp_path: Path) -> None:
    (tmp_path / "helper_mod_for_cli.py").write_text("VALUE = 'from helper'\n")
    script = write_script(tmp_path, "import helper_mod_for_cli; print(helper_mod_for_cli.VALUE)\n")
    r = gosched_cmd(launcher, "run", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "from helper\n"


# --- SystemExit -----------------------------------------------------------------------------

EXIT_SCRIPT = """
import sys
import gosched

how = sys.argv[1]
where = sys.argv[2]

def leave():
    if how == "none":
        sys.exit()
    if how == "3":
        sys.exit(3)
    sys.exit(how)

if where == "main":
    leave()
else:
    wg = gosched.sync.WaitGroup()
    wg.add(1)
    gosched.go(leave)
    wg.wait()
print("not reached")
"""


@pytest.mark.parametrize("where", ["main", "goroutine"])
@pytest.mark.parametrize(
    "case", [("none", 0, ""), ("3", 3, ""), ("bye", 1, "bye\n")], ids=["none", "3", "bye"]
)
def test_sys_exit(
    launcher: list[str], tmp_path: Path, where: str, case: tuple[str, int, str]
) -> None:
    """sys.exit() -> 0, sys.exit(3) -> 3, sys.exit("bye") -> 1 with "bye" on stderr, from main
    or from any goroutine (as os.Exit in Go)."""
    how, code, stderr = case
    script = write_script(tmp_path, EXIT_SCRIPT)
    r = gosched_cmd(launcher, "run", str(script), how, where)
    assert r.returncode == code, r.stderr
    assert r.stdout == ""
    assert r.stderr == stderr


# --- panics and fatal errors --------------------------------------------------------------------


def test_panic_in_main(launcher: list[str], tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        """
        import gosched

        def fail():
            raise ValueError("boom")

        def helper():
            fail()

        helper()
        print("not reached")
        """,
    )
    r = gosched_cmd(launcher, "run", str(script))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("panic: ValueError: boom\n\ngoroutine 1 [running]:\n"), r.stderr
    raise_line = _line_of(script, 'raise ValueError("boom")')
    assert f'File "{script}", line {raise_line}, in fail\n' in r.stderr
    assert 'raise ValueError("boom")' in r.stderr
    assert f'File "{script}", line {_line_of(script, "    fail()")}, in helper\n' in r.stderr
    assert set(_traceback_files(r.stderr)) == {str(script)}, r.stderr
    assert "_runtime" not in r.stderr
    assert r.stderr.rstrip("\n").endswith("ValueError: boom")


def test_panic_in_goroutine(launcher: list[str], tmp_path: Path) -> None:
    script = write_script(
        tmp_path,
        """
        import gosched

        def worker(started):
            started.done()
            raise KeyError("in goroutine " + str(gosched.goid()))

        def main():
            started = gosched.sync.WaitGroup()
            started.add(1)
            block = gosched.sync.WaitGroup()
            block.add(1)
            gosched.go(worker, started)
            block.wait()
            print("not reached")

        main()
        """,
    )
    r = gosched_cmd(launcher, "run", "--gomaxprocs", "1", str(script))
    assert r.returncode == 2
    assert r.stdout == ""
    m = re.match(
        r"panic: KeyError: 'in goroutine (\d+)'\n\ngoroutine (\d+) \[running\]:\n", r.stderr
    )
    assert m, r.stderr
    assert m.group(1) == m.group(2)
    assert int(m.group(2)) > 1
    raise_line = _line_of(script, "raise KeyError")
    assert f'File "{script}", line {raise_line}, in worker\n' in r.stderr
    assert set(_traceback_files(r.stderr)) == {str(script)}, r.stderr
    assert "_runtime" not in r.stderr
    # Go's last lines: who started the goroutine, and where (go/panic_created.go).
    go_line = _line_of(script, "gosched.go(worker")
    assert r.stderr.endswith(f"created by __main__.main in goroutine 1\n\t{script}:{go_line}\n"), (
        r.stderr
    )


def test_panic_runtime_panic_message(launcher: list[str], tmp_path: Path) -> None:
    """A runtime panic reports Go's message after the type name."""
    script = write_script(
        tmp_path,
        """
        import gosched
        gosched.sync.WaitGroup().done()
        """,
    )
    r = gosched_cmd(launcher, "run", str(script))
    assert r.returncode == 2
    assert r.stderr.startswith(
        "panic: RuntimePanic: sync: negative WaitGroup counter\n\ngoroutine 1 [running]:\n"
    ), r.stderr


@pytest.mark.parametrize("procs", ["1", "2"])
def test_deadlock(launcher: list[str], tmp_path: Path, procs: str) -> None:
    script = write_script(
        tmp_path,
        """
        import gosched

        def worker(started, block):
            started.done()
            block.wait()

        block = gosched.sync.WaitGroup()
        block.add(1)
        started = gosched.sync.WaitGroup()
        started.add(1)
        gosched.go(worker, started, block)
        started.wait()
        block.wait()
        print("not reached")
        """,
    )
    r = gosched_cmd(launcher, "run", "--gomaxprocs", procs, str(script))
    assert r.returncode == 2
    assert r.stdout == ""
    err = r.stderr
    assert err.startswith("fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 ["), (
        err
    )
    assert "goroutine 1 [sync.WaitGroup.Wait]:\n" in err
    lines = script.read_text().splitlines()
    top_wait = max(i for i, s in enumerate(lines, 1) if s == "block.wait()")
    assert f"__main__.<module>()\n\t{script}:{top_wait}\n" in err
    assert re.search(r"\n\ngoroutine \d+ \[sync\.WaitGroup\.Wait\]:\n", err), err
    assert f"__main__.worker(...)\n\t{script}:{_line_of(script, '    block.wait()')}\n" in err
    go_line = _line_of(script, "gosched.go(worker")
    assert f"created by __main__.<module> in goroutine 1\n\t{script}:{go_line}\n" in err
    assert "_runtime" not in err


# --- GOMAXPROCS ---------------------------------------------------------------------------------

PRINT_PROCS = "import gosched; print(gosched.gomaxprocs(0))\n"


def _default_procs() -> int:
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None and not gil():
        return len(os.sched_getaffinity(0))
    return 1


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--gomaxprocs", "2"], None, 2),
        ([], {"GOMAXPROCS": "3"}, 3),
        (["--gomaxprocs", "2"], {"GOMAXPROCS": "3"}, 2),
        ([], None, _default_procs()),
        ([], {"GOMAXPROCS": "0"}, _default_procs()),
        ([], {"GOMAXPROCS": "-2"}, _default_procs()),
        ([], {"GOMAXPROCS": "many"}, _default_procs()),
    ],
    ids=["flag", "env", "flag-over-env", "default", "env-0", "env-negative", "env-junk"],
)
def test_gomaxprocs(
    launcher: list[str],
    tmp_path: Path,
    args: list[str],
    env: dict[str, str] | None,
    expected: int,
) -> None:
    script = write_script(tmp_path, PRINT_PROCS)
    r = gosched_cmd(launcher, "run", *args, str(script), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{expected}\n"


@pytest.mark.parametrize(("value", "problem"), [("0", "0"), ("-1", "-1"), ("x", "'x'")])
def test_gomaxprocs_flag_invalid(
    launcher: list[str], tmp_path: Path, value: str, problem: str
) -> None:
    script = write_script(tmp_path, "print('not reached')\n")
    r = gosched_cmd(launcher, "run", "--gomaxprocs", value, str(script))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("usage: gosched run"), r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "--gomaxprocs" in last
    assert problem in last


def test_missing_script(launcher: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "no_such_script.py"
    r = gosched_cmd(launcher, "run", str(missing))
    assert r.returncode == 2
    assert r.stdout == ""
    assert str(missing) in r.stderr


def test_run_without_script_is_usage_error(launcher: list[str]) -> None:
    r = gosched_cmd(launcher, "run")
    assert r.returncode == 2
    assert "usage: gosched run" in r.stderr


# --- version ------------------------------------------------------------------------------------


def test_version(launcher: list[str]) -> None:
    r = gosched_cmd(launcher, "version")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"gosched {gosched.__version__}")


# --- Ctrl-C ---------------------------------------------------------------------------------------

SPIN_SCRIPT = """
import time
import gosched

def spin():
    while True:
        gosched.gosched()
        time.sleep(0.002)

block = gosched.sync.WaitGroup()
block.add(1)
gosched.go(spin)
gosched.go(spin)
print("ready", flush=True)
block.wait()
print("not reached", flush=True)
"""


@pytest.mark.parametrize("procs", ["1", "2"])
def test_ctrl_c_exits_130(launcher: list[str], tmp_path: Path, procs: str) -> None:
    script = write_script(tmp_path, SPIN_SCRIPT)
    p = subprocess.Popen(
        [*launcher, "run", "--gomaxprocs", procs, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert p.stdout is not None
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"gosched run did not stop within 10 s of SIGINT; stderr:\n{err}")
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 130, err
    assert "not reached" not in out


BUSY_SCRIPT = """
import gosched

def pinger(a, b):
    while True:
        a.send(1)
        b.recv()
        gosched.gosched()

def ponger(a, b):
    while True:
        b.send(a.recv())

a, b = gosched.Chan(), gosched.Chan()
gosched.go(pinger, a, b)
gosched.go(ponger, a, b)
print("ready", flush=True)
gosched.select()
"""


@pytest.mark.slow
@pytest.mark.parametrize("procs", ["1", "2"])
def test_ctrl_c_at_random_moments(tmp_path: Path, procs: str) -> None:
    """SIGINT lands at arbitrary points of a program that is mostly inside the runtime
    (channel hand-offs, gosched). It must never leave a lock held or a queue half-updated:
    every run exits 130 promptly. (Before the runtime routed SIGINT through its own handler,
    about one run in eight hung here.)"""
    import random

    from .conftest import STRESS

    script = write_script(tmp_path, BUSY_SCRIPT)
    rng = random.Random(1234)
    for _ in range(15 * STRESS):
        p = subprocess.Popen(
            [sys.executable, "-m", "gosched", "run", "--gomaxprocs", procs, str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        try:
            assert p.stdout is not None
            assert p.stdout.readline() == "ready\n"
            time_to_signal = rng.random() * 0.05
            try:
                p.communicate(timeout=time_to_signal)
            except subprocess.TimeoutExpired:
                pass
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("gosched run did not stop within 10 s of SIGINT")
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        assert p.returncode == 130, err


# --- first contact: one script, both launchers --------------------------------------------------


@pytest.mark.parametrize("procs", ["1", "4"])
def test_script_calling_run_works_under_gosched_run(
    launcher: list[str], tmp_path: Path, procs: str
) -> None:
    """A script written for `python script.py` (it calls gosched.run(main)) also runs under
    `gosched run`: there it is goroutine 1 already, and gosched.run(main) just calls main and
    returns its value (API.md). The README's first snippet is such a script."""
    script = write_script(
        tmp_path,
        """\
        import gosched
        from gosched.sync import WaitGroup

        def main(n, *, label):
            wg = WaitGroup()
            out = []
            for i in range(n):
                wg.go(out.append, i)
            wg.wait()
            return label, sorted(out), gosched.goid()

        print(gosched.run(main, 3, label="done"))
        print("after run")
        """,
    )
    for argv in (
        [sys.executable, str(script)],
        [*launcher, "run", "--gomaxprocs", procs, str(script)],
    ):
        r = subprocess.run(argv, capture_output=True, text=True, env=_env(), timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "('done', [0, 1, 2], 1)"
        assert r.stdout.splitlines()[1] == "after run"


def test_run_in_another_goroutine_of_gosched_run_still_raises(
    launcher: list[str], tmp_path: Path
) -> None:
    """Only goroutine 1 of `gosched run` may call gosched.run; anywhere else it is nested."""
    script = write_script(
        tmp_path,
        """\
        import gosched
        from gosched.sync import WaitGroup

        def g():
            try:
                gosched.run(print, "inner")
            except RuntimeError as e:
                print("raised:", e)

        wg = WaitGroup()
        wg.go(g)
        wg.wait()
        """,
    )
    r = gosched_cmd(launcher, "run", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("raised: gosched.run: the runtime is already running"), r.stdout
    assert "inner" not in r.stdout


def test_gosched_run_script_under_plain_python_says_how_to_start_it(tmp_path: Path) -> None:
    """A script written for `gosched run` (goroutines at module level) run with plain python
    fails with one clear line that says how to start it, not a chained AttributeError."""
    script = write_script(
        tmp_path,
        """\
        import gosched

        gosched.go(print, "hello")
        """,
    )
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(), timeout=30
    )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: gosched.go: not called from a goroutine"), r.stderr
    assert "gosched.run(main)" in last and "gosched run SCRIPT" in last, r.stderr
    assert "AttributeError" not in r.stderr
    assert "During handling of the above exception" not in r.stderr
