"""interrupt: Ctrl-C in an idle program; the time from SIGINT to main's except KeyboardInterrupt.

How long a program that is waiting for something takes to notice Ctrl-C: its main is blocked,
every other task is blocked too, and SIGINT arrives. Measured N = 20 times per run, in one
process: each time the program settles into that idle state, a helper thread (a plain
``threading.Thread``, started just before main blocks) sleeps 30 ms, records
``t0 = time.perf_counter()`` and sends SIGINT to the process with ``os.kill(os.getpid(),
SIGINT)``: process-directed, as a terminal's Ctrl-C is, so the kernel may deliver it to any
thread that does not block it (Linux picks the main thread when it can). The program's main
code catches ``KeyboardInterrupt`` and records ``t1``; the latency is ``t1 - t0``. The peer
returns the sum of the N latencies; the table shows microseconds per interrupt (divide by
1,000 for ms). Each interrupt ends the program: gosched.run, asyncio.run and trio.run return
(with KeyboardInterrupt) and the next interrupt starts a new one; gevent's hub and the threads
peer go on in the same program. Between two interrupts every peer checks that the process is
back where it started: SIGINT has Python's default handler, no signal wakeup fd is set, and no
thread is left over (the helper thread and the peer's own are joined, gosched's Ms stopped).

Every peer proves it did the work: main must catch exactly N KeyboardInterrupts, each from the
SIGINT sent for it, within 5 s of it. A watchdog keeps a lost interrupt from hanging the run:
if main has not caught it 5 s after the SIGINT, the helper thread sends a second SIGINT and the
run fails once main has caught that one (and if that is lost too, the helper ends the process
with status 1 after 5 more seconds). The run starts by giving SIGINT Python's default handler
(``signal.default_int_handler``), in case the process inherited it ignored (a background job,
``nohup``), where every SIGINT would be discarded.

Where t1 is taken follows where each framework hands Ctrl-C to the program's main code:

- gosched: ``gosched.run(main, gomaxprocs=1)``; main starts one goroutine that sleeps 100 s
  (``gosched.sleep``), waits until it is asleep, then blocks in ``ch.recv()`` on an unbuffered
  channel nobody sends on. With one P and nothing runnable, m0 (the only M) sleeps until the
  sleeper's timer. gosched raises KeyboardInterrupt in goroutine 1 where it is blocked
  (docs/lifecycle.md, "Ctrl-C"): main catches it around ``ch.recv()`` and records t1 there,
  then returns; run kills the sleeper and returns (outside the clock).
- gosched-p4: the same with ``gomaxprocs=4`` and, besides the sleeper, 3 goroutines each
  blocked in ``recv()`` on a channel of its own after 5 ms of pure-Python work, started
  before main blocks. The work holds their P long enough for Ms to start for the others (2 or
  3 besides m0 in practice): threads of the process that sleep idle in their notes while main
  waits, so the signal may land on one of them rather than on m0.
- asyncio: ``asyncio.run(main())``; main starts a task that sleeps 100 s
  (``asyncio.sleep``) and awaits an ``asyncio.Event`` nobody sets. On Python 3.11+,
  ``asyncio.run`` puts its own SIGINT handler in place, which cancels the main task; the runner
  then cancels the sleeper, closes the loop and raises KeyboardInterrupt (on 3.10, Python's
  handler raises it in the event loop, which ends the same way). The main code catches it
  around ``asyncio.run``, so asyncio's figure includes that ending of the run, which is about
  half of it (on a 2-core machine the main coroutine saw its cancellation after 0.9 ms at the
  median, ``asyncio.run`` raised after 1.8 ms); gosched's does not include ``gosched.run``'s.
- trio: ``trio.run(main)``; main opens a nursery, starts a task that sleeps 100 s
  (``trio.sleep``) and blocks in ``trio.sleep_forever()``. trio's SIGINT handler raises
  KeyboardInterrupt in the main task at that checkpoint; leaving the nursery cancels the
  sleeper and ``trio.run`` raises it, wrapped in an exception group by the nursery. Caught
  around ``trio.run``, as for asyncio, as a group of nothing but KeyboardInterrupt (what
  ``except* KeyboardInterrupt`` catches on 3.11+).
- gevent: the main greenlet blocks in ``Event().wait()`` on an event nobody sets while another
  greenlet is in ``gevent.sleep(100)``. The hub, which runs the event loop, is what runs
  Python code on the main thread when the signal arrives: Python's handler raises
  KeyboardInterrupt in the hub, which prints it to stderr (``KeyboardInterrupt`` and a
  timestamp: part of the figure) and hands it on to the main greenlet (``Hub.handle_error``
  throws system errors into its parent), where ``wait()`` raises it. The main greenlet catches
  it there; then it kills the sleeper and goes on with the next interrupt on the same hub.
- threads: plain Python; the main thread blocks in ``threading.Event().wait()`` while a worker
  thread is blocked on another ``threading.Event``; Python raises KeyboardInterrupt in the main
  thread's wait. Then the worker's event is set and the worker joined. The floor: no
  framework.

Run it by hand with ``python benchmarks/interrupt.py run PEER N`` (see _harness.py).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import _harness
from _harness import Peer, check

UNIT = "interrupt"
DEFAULT_N = 20
TARGETS: dict[str, object] = {}  # none declared: an idle program should notice well within 100 ms

# How long the helper thread lets the program settle before it sends SIGINT.
DELAY = 0.030
# How long an interrupt may take before it counts as lost: the watchdog then sends a second
# SIGINT (and gives up on the process after as long again).
WATCHDOG = 5.0
# GOMAXPROCS of the gosched-p4 peer, and how many goroutines it blocks besides the sleeper.
P4 = 4
BLOCKED_P4 = 3
# How long each of those runs before it blocks, so that they do not all end up on one M.
BUSY = 0.005
# How long the other task sleeps in every peer: longer than any run.
SLEEP = 100.0


class Interrupter:
    """One Ctrl-C: a helper thread that waits DELAY, records t0 and sends SIGINT to the
    process, with a watchdog for an interrupt that never reaches main.

    Start it right before main blocks; once main has caught KeyboardInterrupt, call
    ``caught(time.perf_counter())``, which joins the thread and returns the latency."""

    __slots__ = ("t0", "lost", "_done", "_thread")

    def __init__(self) -> None:
        self.t0 = 0.0
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._send, name="interrupter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _send(self) -> None:
        time.sleep(DELAY)
        self.t0 = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)
        if self._done.wait(WATCHDOG):
            return
        # Not caught within WATCHDOG: lost, or far too slow. A second Ctrl-C gets main out of
        # its wait, so that the run fails (caught() raises) instead of hanging.
        self.lost = True
        os.kill(os.getpid(), signal.SIGINT)
        if self._done.wait(WATCHDOG):
            return
        print(
            f"interrupt: neither SIGINT reached main within {WATCHDOG:.0f} s; giving up",
            file=sys.stderr,
            flush=True,
        )
        os._exit(1)

    def caught(self, t1: float) -> float:
        """main caught KeyboardInterrupt at t1: the latency since the SIGINT was sent."""
        self._done.set()
        self._thread.join()
        if self.lost:
            raise AssertionError(
                f"KeyboardInterrupt not caught within {WATCHDOG:.0f} s of SIGINT: main caught "
                f"one only {t1 - self.t0:.3f} s after it, once the watchdog had sent another"
            )
        return t1 - self.t0


class Tally:
    """The latencies of the KeyboardInterrupts main caught."""

    __slots__ = ("latencies",)

    def __init__(self) -> None:
        self.latencies: list[float] = []

    def add(self, latency: float) -> None:
        self.latencies.append(latency)

    def verify(self, n: int) -> float:
        """Raise unless main caught all n interrupts, each within WATCHDOG; return their sum."""
        check("KeyboardInterrupts caught in main", len(self.latencies), n)
        bad = [t for t in self.latencies if not 0.0 < t <= WATCHDOG]
        if bad:
            raise AssertionError(f"latencies out of (0, {WATCHDOG:.0f}] s: {bad}")
        return sum(self.latencies)


def _prepare() -> int:
    """Give SIGINT Python's default handler (it may have been inherited ignored); return the
    thread count to come back to after every interrupt."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _check_clean(threading.active_count())
    return threading.active_count()


def _check_clean(threads: int) -> None:
    """Raise unless the process is back to its state before the interrupt."""
    check("SIGINT handler", signal.getsignal(signal.SIGINT), signal.default_int_handler)
    fd = signal.set_wakeup_fd(-1)
    check("signal wakeup fd", fd, -1)
    check("threads", threading.active_count(), threads)


def _interrupt_gosched(n: int, gomaxprocs: int, blocked: int) -> float:
    import gosched

    threads = _prepare()
    tally = Tally()

    def sleeper(wg: gosched.sync.WaitGroup) -> None:
        wg.done()
        gosched.sleep(SLEEP)

    def waiter(ch: gosched.Chan[None], wg: gosched.sync.WaitGroup) -> None:
        end = time.perf_counter() + BUSY
        while time.perf_counter() < end:  # hold the P a while, so that Ms start for the others
            pass
        wg.done()
        ch.recv()  # nobody sends: the end of the program ends it

    def main(intr: Interrupter) -> None:
        ch: gosched.Chan[None] = gosched.Chan()
        wg = gosched.sync.WaitGroup()
        wg.add(1 + blocked)
        gosched.go(sleeper, wg)
        for _ in range(blocked):
            gosched.go(waiter, gosched.Chan(), wg)
        wg.wait()  # all past wg.done(), at or right before their wait
        gosched.gosched()  # and into it (those on other Ms have DELAY to get there)
        intr.start()
        try:
            ch.recv()  # nobody sends: only Ctrl-C ends this
        except KeyboardInterrupt:
            tally.add(intr.caught(time.perf_counter()))

    for _ in range(n):
        gosched.run(main, Interrupter(), gomaxprocs=gomaxprocs)
        _check_clean(threads)
    return tally.verify(n)


def bench_gosched(n: int) -> float:
    return _interrupt_gosched(n, 1, 0)


def bench_gosched_p4(n: int) -> float:
    return _interrupt_gosched(n, P4, BLOCKED_P4)


def bench_asyncio(n: int) -> float:
    import asyncio

    threads = _prepare()
    tally = Tally()

    async def main(intr: Interrupter) -> None:
        never = asyncio.Event()  # nobody sets it
        sleeper = asyncio.create_task(asyncio.sleep(SLEEP))
        await asyncio.sleep(0)  # the sleeper into its sleep
        intr.start()
        await never.wait()
        sleeper.cancel()

    for _ in range(n):
        intr = Interrupter()
        try:
            asyncio.run(main(intr))
        except KeyboardInterrupt:
            tally.add(intr.caught(time.perf_counter()))
        _check_clean(threads)
    return tally.verify(n)


def bench_trio(n: int) -> float:
    import trio

    threads = _prepare()
    tally = Tally()

    async def main(intr: Interrupter) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.sleep, SLEEP)
            await trio.sleep(0)  # the sleeper into its sleep
            intr.start()
            await trio.sleep_forever()

    for _ in range(n):
        intr = Interrupter()
        try:
            trio.run(main, intr)
        except BaseException as exc:  # on 3.11+ a trio program says except* KeyboardInterrupt
            t1 = time.perf_counter()
            if not _only_keyboard_interrupts(exc):
                raise
            tally.add(intr.caught(t1))
        _check_clean(threads)
    return tally.verify(n)


def _only_keyboard_interrupts(exc: BaseException) -> bool:
    """exc is a KeyboardInterrupt, or an exception group of nothing else (trio's nursery wraps
    what its body raises in one)."""
    group = getattr(exc, "exceptions", None)
    if group is None:
        return isinstance(exc, KeyboardInterrupt)
    return bool(group) and all(_only_keyboard_interrupts(e) for e in group)


def bench_gevent(n: int) -> float:
    import gevent
    from gevent.event import Event

    threads = _prepare()
    gevent.get_hub()
    tally = Tally()
    for _ in range(n):
        intr = Interrupter()
        sleeper = gevent.spawn(gevent.sleep, SLEEP)
        gevent.sleep(0)  # the sleeper into its sleep
        intr.start()
        try:
            Event().wait()  # nobody sets it
        except KeyboardInterrupt:
            tally.add(intr.caught(time.perf_counter()))
        sleeper.kill()  # block=True: returns when it has died
        check("sleeper dead", sleeper.dead, True)
        _check_clean(threads)
    return tally.verify(n)


def bench_threads(n: int) -> float:
    threads = _prepare()
    tally = Tally()
    for _ in range(n):
        intr = Interrupter()
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait, name="worker")
        worker.start()
        intr.start()
        try:
            threading.Event().wait()  # nobody sets it
        except KeyboardInterrupt:
            tally.add(intr.caught(time.perf_counter()))
        stop.set()
        worker.join()
        _check_clean(threads)
    return tally.verify(n)


# Table order; the first peer is the one the others are compared with.
PEERS = [
    Peer(
        "gosched",
        bench_gosched,
        "gomaxprocs=1: main in ch.recv(), one goroutine in sleep(100); caught in main",
        ("gosched",),
    ),
    Peer(
        "gosched-p4",
        bench_gosched_p4,
        f"the same with gomaxprocs={P4} and {BLOCKED_P4} more goroutines in recv()",
        ("gosched",),
    ),
    Peer(
        "asyncio",
        bench_asyncio,
        "main awaits an Event, a task in sleep(100); caught around asyncio.run",
    ),
    Peer(
        "trio",
        bench_trio,
        "main in sleep_forever(), a task in sleep(100); caught around trio.run",
        ("trio",),
    ),
    Peer(
        "gevent",
        bench_gevent,
        "main greenlet in Event().wait(), one in sleep(100); the hub throws it into main",
        ("gevent",),
    ),
    Peer(
        "threads",
        bench_threads,
        "main thread in Event().wait(), a worker in another: plain Python, the floor",
    ),
]

if __name__ == "__main__":
    raise SystemExit(
        _harness.main(__doc__, unit=UNIT, default_n=DEFAULT_N, peers=PEERS, targets=TARGETS)
    )
