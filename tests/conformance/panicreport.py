"""How a panic or fatal report is compared with Go's (tests/conformance/test_panic.py).

Go prints the panic value; gosched prints the exception's type before its message, names
``__main__`` where Go names ``main``, and numbers goroutines its own way (Go's runtime starts
a few goroutines of its own before main's first ``go``). ``normalize`` keeps what both must
agree on: the ``panic:``/``fatal error:`` lines (type prefixes dropped), the first goroutine's
header (number, and the ``gp=... m=...`` details a runtime throw adds, dropped), the
``created by`` line (goroutine number dropped), and the exit status. go/NAME.out holds Go
1.22.10's output through the same function: ``python -m tests.conformance.panicreport NAME [GO]``
rebuilds it from a Go toolchain.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

GO = Path(__file__).parent / "go"


def normalize(stderr: str, status: int) -> str:
    out: list[str] = []
    lines = stderr.splitlines()
    k = 0
    while k < len(lines) and lines[k].lstrip("\t").startswith(("panic: ", "fatal error: ")):
        s = lines[k]
        s = re.sub(r"^(\t?panic: )[A-Za-z_][\w.]*: ", r"\1", s)
        s = re.sub(r": type \S+$", ": type T", s)  # Go's *errors.errorString, a Python type
        out.append(s)
        k += 1
    first = next((i for i in range(k, len(lines)) if lines[i].startswith("goroutine ")), None)
    block: list[str] = []
    if first is not None:
        header = re.sub(r"^goroutine \d+ (gp=\S+ m=\S+ (mp=\S+ )?)?", "goroutine N ", lines[first])
        out.append(header)
        end = next((i for i in range(first, len(lines)) if not lines[i]), len(lines))
        block = lines[first:end]
    created = next((s for s in block if s.startswith("created by ")), None)
    if created is not None:
        created = re.sub(r"in goroutine \d+$", "in goroutine N", created)
        out.append(created.replace("__main__.", "main."))
    out.append(f"exit status {status}")
    return "\n".join(out) + "\n"


def run_twin(
    tmp_path: Path, name: str, source: str, procs: str
) -> subprocess.CompletedProcess[str]:
    """Run a Python twin's source under ``gosched run --gomaxprocs procs``, with the
    environment's GOMAXPROCS and GODEBUG left out."""
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if k not in ("GOMAXPROCS", "GODEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "gosched", "run", "--gomaxprocs", procs, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _regenerate(name: str) -> None:  # pragma: no cover (needs Go)
    go = sys.argv[2] if len(sys.argv) > 2 else "go"
    exe = f"/tmp/{name}.bin"
    subprocess.run([go, "build", "-o", exe, str(GO / f"{name}.go")], check=True)
    r = subprocess.run([exe], capture_output=True, text=True)
    (GO / f"{name}.out").write_text(r.stdout + normalize(r.stderr, r.returncode))


if __name__ == "__main__":  # pragma: no cover
    _regenerate(sys.argv[1])
