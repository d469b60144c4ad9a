"""trace_view: how fast the page `gosched trace view` writes opens a large trace.

One measurement: an N-event trace (N = 1,000,000 by default; tests/_tracegen.py's synthetic
trace, which follows docs/trace.md as the recorder does, with 4 Ps) is turned into its viewer
as `gosched trace view` does, outside the clock; the viewer is then opened in headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright, never a downloaded browser) and
the figure is the page's own load time, ``document.body.dataset.loadms``: from navigation
start until the page has parsed its model, built its replay checkpoints and tables, and drawn
the timeline. Reported in seconds per open.

- gosched: the viewer of the N-event trace. It needs chromium and Playwright (the ``[test]``
  extra); without them the peer shows "not installed".

No other tool shows a gosched trace's scheduler state, so there is no peer to compare with;
the target is the issue's absolute one. After the clock the peer checks that the page drew
without an error and that it holds as many scheduler instants as the trace, so that a page
that gave up early cannot look fast.

Target (from the issue that asked for the viewer): 1,000,000 events open in at most 5 s.

Run it by hand with ``python benchmarks/trace_view.py run gosched N`` (see _harness.py).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import _harness
from _harness import Peer, check

UNIT = "event"
DEFAULT_N = 1_000_000
TARGETS = {"max": 5.0}

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def bench_gosched(n: int) -> float:
    if not os.path.exists(CHROMIUM):
        raise SystemExit(_harness.EXIT_NOT_INSTALLED)
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests._tracegen import synthetic_trace

    from gosched import _traceview

    with tempfile.TemporaryDirectory() as tmp:
        src, html = Path(tmp) / "trace.json", Path(tmp) / "trace.html"
        doc = synthetic_trace(n, nprocs=4)
        instants = sum(1 for e in doc["traceEvents"] if e.get("ph") == "i")
        with open(src, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        del doc
        html.write_text(_traceview.render(_traceview.load(src)), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(html.as_uri())
            page.wait_for_function(
                "document.body.dataset.ready === '1' || document.body.dataset.error !== undefined",
                timeout=120_000,
            )
            check("page error", page.evaluate("document.body.dataset.error"), None)
            loadms = int(page.evaluate("document.body.dataset.loadms"))
            check("instants in the page", page.evaluate("gtrace.model.sched.t.length"), instants)
            browser.close()
    return loadms / 1000


PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "gosched trace view's page opening an N-event trace in headless Chromium",
        ("gosched", "playwright"),
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(
            __doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS, per_op=False
        )
    )
