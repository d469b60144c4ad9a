"""The ``gosched bench`` driver (src/gosched/_bench.py, benchmarks/README.md): ``--baseline DIR``
adds a ``<peer>@base`` twin of every gosched peer that runs the same benchmark with DIR's gosched.

Fast: nothing here times anything. The driver runs in-process; its measurements are real
subprocesses, of a tiny benchmark written here or of the suite's ``spawn`` with N = 50.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import gosched
from gosched import _bench

ROOT = Path(__file__).resolve().parents[1]

# A benchmark whose peers report, instead of a time, which gosched they imported: 1.0 for the
# one under test, 2.0 for the fake baseline below (its BENCH_PROBE), and 3.0 for a non-gosched
# peer.
PROBE = '''\
"""probe: which gosched a peer imports."""

import _harness
from _harness import Peer


def bench_gosched(n):
    import gosched

    return float(getattr(gosched, "BENCH_PROBE", 1.0))


def bench_other(n):
    return 3.0


PEERS = [
    Peer("gosched", bench_gosched, "reports its gosched", ("gosched",)),
    Peer("gosched-two", bench_gosched, "the same again", ("gosched",)),
    Peer("other", bench_other, "no gosched"),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit="probe", default_n=10, peers=PEERS, targets={})
    )
'''


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A suite of one benchmark, probe.py, next to the real _harness.py; the driver uses it."""
    d = tmp_path / "suite"
    d.mkdir()
    (d / "_harness.py").write_text((ROOT / "benchmarks" / "_harness.py").read_text())
    (d / "probe.py").write_text(PROBE)
    monkeypatch.setenv(_bench.ENV_VAR, str(d))
    return d


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """A fake baseline checkout: DIR/src/gosched is a package that only says it is the base."""
    pkg = tmp_path / "base" / "src" / "gosched"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('__version__ = "0.0.0+base"\nBENCH_PROBE = 2.0\n')
    return tmp_path / "base"


def _peers(out: Path) -> dict[str, dict[str, object]]:
    (bench,) = json.loads(out.read_text())["benchmarks"]
    return {p["name"]: p for p in bench["peers"]}


def test_baseline_twin_runs_the_base_gosched(
    suite: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    args = ["probe", "--n", "50", "--rounds", "1", "--baseline", str(base), "--json", str(out)]
    assert _bench.main(args) == 0
    peers = _peers(out)
    # Each gosched* peer is followed by its twin; other peers get none.
    assert list(peers) == ["gosched", "gosched@base", "gosched-two", "gosched-two@base", "other"]
    assert peers["gosched"]["seconds"] == [1.0]
    assert peers["gosched@base"]["seconds"] == [2.0]
    assert peers["gosched-two@base"]["seconds"] == [2.0]
    assert peers["other"]["seconds"] == [3.0]
    assert peers["gosched@base"]["base_of"] == "gosched"
    assert peers["gosched@base"]["ratio_to_gosched"] == 2.0
    data = json.loads(out.read_text())
    assert data["base"]["version"] == "0.0.0+base"
    assert data["base"]["src"] == str((base / "src").resolve())
    assert data["benchmarks"][0]["vs_base"] == {"gosched": 0.5, "gosched-two": 0.5}
    text = capsys.readouterr().out
    assert "gosched@base rows: gosched 0.0.0+base from" in text
    assert "gosched / gosched@base: 0.50" in text


def test_baseline_twins_follow_peers(
    suite: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--peers gosched keeps gosched@base; a twin can also be named on its own."""
    out = tmp_path / "out.json"
    common = ["probe", "--n", "50", "--rounds", "2", "--baseline", str(base), "--json", str(out)]
    assert _bench.main([*common, "--peers", "gosched"]) == 0
    peers = _peers(out)
    assert list(peers) == ["gosched", "gosched@base"]
    assert peers["gosched@base"]["seconds"] == [2.0, 2.0]  # in every round
    assert _bench.main([*common, "--peers", "gosched-two@base,other"]) == 0
    assert list(_peers(out)) == ["gosched-two@base", "other"]


def test_baseline_must_be_a_checkout(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _bench.main(["probe", "--baseline", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "--baseline" in err
    assert "not a gosched checkout (no src/gosched/__init__.py)" in err


def test_run_suite_interleaves_twins() -> None:
    """Twins are measured in the same rounds, as their own peer name's job, with the base env."""
    info = _bench.PeerInfo("gosched", "", ("gosched",), True, {})
    other = _bench.PeerInfo("asyncio", "", (), True, {})
    bench = _bench.Benchmark("b", Path("b.py"), "b: x", "op", 10, {}, (info, other))
    twinned = _bench.with_base_twins(bench, Path("/base"))
    calls: list[tuple[str, str]] = []

    def fake(b: _bench.Benchmark, peer: str, n: int, env: dict[str, str]) -> float:
        calls.append((peer, env["WHICH"]))
        return 1.0

    results = _bench.run_suite(
        [twinned],
        rounds=2,
        n=None,
        peers={"gosched"},
        env={"WHICH": "head"},
        base_env={"WHICH": "base"},
        progress=None,
        measure_fn=fake,
    )
    assert [r.peer.name for r in results[0].peers] == ["gosched", "gosched@base"]
    # Round 2 starts one peer later, as for any peers.
    assert calls == [("gosched", "head"), ("gosched", "base")] + [
        ("gosched", "base"),
        ("gosched", "head"),
    ]
    with pytest.raises(ValueError, match="base_env"):
        _bench.run_suite([twinned], rounds=1, n=None, peers=None, env={}, progress=None)


def test_baseline_with_the_real_suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's spawn, N = 50, against the checkout of the gosched under test itself."""
    checkout = Path(gosched.__file__).resolve().parents[2]
    if not (checkout / "src" / "gosched" / "__init__.py").is_file():
        pytest.skip("gosched is not imported from a source checkout")
    monkeypatch.setenv(_bench.ENV_VAR, str(ROOT / "benchmarks"))
    monkeypatch.delenv("GOMAXPROCS", raising=False)
    out = tmp_path / "out.json"
    args = ["spawn", "--n", "50", "--rounds", "1", "--peers", "gosched"]
    assert _bench.main([*args, "--baseline", os.fspath(checkout), "--json", str(out)]) == 0
    peers = _peers(out)
    assert list(peers) == ["gosched", "gosched@base"]
    assert all(p["status"] == "ok" for p in peers.values())
