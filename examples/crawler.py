"""A crawler that calls plain blocking HTTP code (urllib) from goroutines, against a small
site it serves itself on 127.0.0.1. Each fetch runs in gosched.blocking(...), so a goroutine
waiting for the network gives its P away and the others go on; a semaphore-like channel
limits the fetches in flight, and a context gives the whole crawl a deadline.

    gosched run examples/crawler.py
    gosched run --gomaxprocs 2 examples/crawler.py
"""

from __future__ import annotations

import http.server
import re
import threading
import time
import urllib.request

import gosched
from gosched import context
from gosched.sync import Mutex, WaitGroup

PAGES = {f"/p{i}": [f"/p{(i * 3 + k) % 30}" for k in (1, 2, 5)] for i in range(30)}
DELAY = 0.02  # each page takes this long to serve
MAX_IN_FLIGHT = 8


class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        links = PAGES.get(self.path)
        if links is None:
            self.send_error(404)
            return
        time.sleep(DELAY)
        body = "".join(f'<a href="{u}">{u}</a>\n' for u in links).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    ctx, cancel = context.with_timeout(context.background(), 10)
    seen = {"/p0"}
    mu = Mutex()
    slots: gosched.Chan[None] = gosched.Chan(MAX_IN_FLIGHT)
    wg = WaitGroup()
    t0 = time.monotonic()

    def crawl(path: str) -> None:
        if ctx.err() is not None:
            return
        slots.send(None)
        try:
            page = gosched.blocking(fetch, base + path)
        finally:
            slots.recv()
        for link in re.findall(r'href="([^"]+)"', page):
            with mu:
                new = link not in seen
                seen.add(link)
            if new:
                wg.go(crawl, link)

    wg.go(crawl, "/p0")
    wg.wait()
    cancel()
    took = time.monotonic() - t0
    server.shutdown()
    serial = len(seen) * DELAY
    print(f"crawled {len(seen)} pages in {took:.2f} s (one at a time: at least {serial:.2f} s)")


if __name__ == "__main__":
    gosched.run(main)
