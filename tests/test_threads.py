"""Plain threads and futures talk to goroutines (API.md: "Plain threads" and from_future; Go's
needm/dropm for threads it did not create)."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from typing import Any

import pytest

import gosched
from gosched import context
from gosched.sync import WaitGroup


def _thread(fn: Any, *args: Any) -> threading.Thread:
    t = threading.Thread(target=fn, args=args)
    t.start()
    return t


def test_a_thread_sends_to_a_waiting_goroutine_without_a_false_deadlock() -> None:
    """The goroutine waits before the thread has made any call: a thread started during the
    run may still end the wait, so it is not a deadlock."""

    def main() -> list[Any]:
        ch = gosched.Chan[str]()

        def worker() -> None:
            time.sleep(0.2)
            ch.send("from a thread")
            ch.close()

        t = _thread(worker)
        got = list(ch)
        t.join()
        return got

    assert gosched.run(main, gomaxprocs=1) == ["from a thread"]


def test_a_thread_blocks_its_own_thread_in_every_operation() -> None:
    def main() -> list[Any]:
        log: list[Any] = []
        to_thread = gosched.Chan[int]()
        from_thread = gosched.Chan[int](1)
        ctx, cancel = context.with_cancel(context.background())
        wg = WaitGroup()
        wg.add(1)

        def worker() -> None:
            log.append(("recv", to_thread.recv()))  # waits for main
            log.append(("recv_ok", to_thread.recv_ok()))
            i, v = gosched.select(to_thread.recv, (from_thread.send, 7))
            log.append(("select", i, v))
            cancel()
            wg.done()

        t = _thread(worker)
        to_thread.send(1)
        to_thread.send(2)
        ctx.done().recv()
        log.append(("ctx", type(ctx.err()).__name__))
        wg.wait()
        log.append(("main got", from_thread.recv()))
        t.join()
        return log

    assert gosched.run(main, gomaxprocs=1) == [
        ("recv", 1),
        ("recv_ok", (2, True)),
        ("select", 1, None),
        ("ctx", "Canceled"),
        ("main got", 7),
    ]


def test_threads_and_goroutines_at_several_ps() -> None:
    """Eight threads and eight goroutines pass 4,000 values through one channel."""

    def main() -> int:
        ch = gosched.Chan[int](4)
        total = 0
        wg = WaitGroup()

        def consume() -> None:
            nonlocal total
            for v in ch:
                total += v
            wg.done()

        for _ in range(8):
            wg.add(1)
            gosched.go(consume)
        threads = [
            _thread(lambda k=k: [ch.send(k * 1000 + i) for i in range(500)]) for k in range(8)
        ]
        for t in threads:
            t.join()
        ch.close()
        wg.wait()
        return total

    assert gosched.run(main, gomaxprocs=2) == sum(
        k * 1000 + i for k in range(8) for i in range(500)
    )


def test_a_real_deadlock_is_reported_once_the_thread_ends() -> None:
    def main() -> None:
        ch = gosched.Chan[int]()
        _thread(time.sleep, 0.2)  # may still call in: not a deadlock yet
        ch.recv()

    t0 = time.monotonic()
    with pytest.raises(gosched.Deadlock, match="all goroutines are asleep - deadlock!"):
        gosched.run(main, gomaxprocs=1)
    assert time.monotonic() - t0 >= 0.2


def test_a_thread_waiting_when_the_run_ends_gets_runtime_error() -> None:
    errors: list[str] = []
    waiting = threading.Event()

    def worker(ch: gosched.Chan[int]) -> None:
        try:
            waiting.set()
            ch.recv()
        except RuntimeError as e:
            errors.append(str(e))

    threads: list[threading.Thread] = []

    def main() -> str:
        ch = gosched.Chan[int]()
        threads.append(_thread(worker, ch))
        waiting.wait(5)
        gosched.sleep(0.1)  # the thread is parked in recv by now
        return "main returns"

    assert gosched.run(main) == "main returns"
    threads[0].join(5)
    assert errors == ["gosched: the runtime ended while this thread waited in it"]


def test_outside_a_run_a_thread_gets_the_usual_error() -> None:
    errors: list[str] = []

    def worker() -> None:
        try:
            gosched.Chan[int](1).send(1)
        except RuntimeError as e:
            errors.append(str(e))

    _thread(worker).join()
    assert errors and "not called from a goroutine" in errors[0]


def test_an_idle_attached_thread_is_not_a_goroutine() -> None:
    """num_goroutine counts a plain thread's G only while it is in a call (Go's extra G)."""

    def main() -> tuple[int, int]:
        ch = gosched.Chan[int]()
        go_on = threading.Event()

        sent = threading.Event()

        def worker() -> None:
            ch.send(1)
            sent.set()  # out of its call
            go_on.wait(5)

        t = _thread(worker)
        ch.recv()
        sent.wait(5)
        idle = gosched.num_goroutine()
        go_on.set()
        t.join()
        return idle, gosched.num_goroutine()

    assert gosched.run(main, gomaxprocs=1) == (1, 1)


# --- from_future --------------------------------------------------------------------------------


def test_from_future_delivers_one_value_then_closes() -> None:
    def main() -> tuple[Any, Any]:
        with cf.ThreadPoolExecutor(2) as ex:
            ch = gosched.from_future(ex.submit(lambda: (time.sleep(0.05), 42)[1]))
            return ch.recv(), ch.recv_ok()

    assert gosched.run(main) == (42, (None, False))


def test_from_future_raises_the_futures_exception() -> None:
    def fails() -> None:
        raise KeyError("in the executor")

    def main() -> list[str]:
        out = []
        with cf.ThreadPoolExecutor(1) as ex:
            for receive in ("recv", "select", "iterate"):
                ch = gosched.from_future(ex.submit(fails))
                try:
                    if receive == "recv":
                        ch.recv()
                    elif receive == "select":
                        gosched.select(ch.recv)
                    else:
                        list(ch)
                except KeyError as e:
                    out.append(f"{receive}: {e}")
        f: cf.Future[int] = cf.Future()
        f.cancel()
        try:
            gosched.from_future(f).recv()
        except cf.CancelledError:
            out.append("cancelled")
        return out

    assert gosched.run(main) == [
        "recv: 'in the executor'",
        "select: 'in the executor'",
        "iterate: 'in the executor'",
        "cancelled",
    ]


def test_from_future_in_select_with_a_context_deadline() -> None:
    def main() -> list[int]:
        chosen = []
        with cf.ThreadPoolExecutor(2) as ex:
            for delay in (0.01, 0.5):
                ctx, cancel = context.with_timeout(context.background(), 0.2)
                ch = gosched.from_future(ex.submit(time.sleep, delay))
                i, _ = gosched.select(ch.recv, ctx.done().recv)
                chosen.append(i)
                cancel()
        return chosen

    assert gosched.run(main) == [0, 1]


def test_ten_thousand_futures_need_no_threads_of_their_own() -> None:
    def main() -> tuple[int, int]:
        futs: list[cf.Future[int]] = [cf.Future() for _ in range(10_000)]
        chans = [gosched.from_future(f) for f in futs]
        before = threading.active_count()

        def complete() -> None:
            for k, f in enumerate(futs):
                f.set_result(k)

        t = _thread(complete)
        total = sum(c.recv() or 0 for c in chans)
        t.join()
        return total, before

    total, before = gosched.run(main, gomaxprocs=1)
    assert total == sum(range(10_000))
    assert before <= 1 + 2  # GOMAXPROCS + 2: main's thread (m0), sysmon, and this test's


def test_a_goroutine_waiting_on_a_pending_future_is_not_a_deadlock() -> None:
    def main() -> str:
        f: cf.Future[str] = cf.Future()
        threading.Timer(0.2, f.set_result, ("done",)).start()
        return gosched.from_future(f).recv() or ""

    assert gosched.run(main) == "done"


@pytest.mark.parametrize("bad", [42, None, "future"])
def test_from_future_of_a_non_future_is_a_type_error(bad: Any) -> None:
    def main() -> str:
        with pytest.raises(
            TypeError, match=f"expected a concurrent.futures.Future.*{type(bad).__name__}"
        ):
            gosched.from_future(bad)
        return "ok"

    assert gosched.run(main) == "ok"


def test_a_thread_starts_goroutines() -> None:
    def main() -> list[str]:
        out = gosched.Chan[str](3)

        def worker() -> None:
            for i in range(3):
                gosched.go(out.send, f"goroutine {i}")
            gosched.gosched()  # harmless from a thread

        _thread(worker).join()
        return sorted(out.recv() or "" for _ in range(3))

    assert gosched.run(main, gomaxprocs=1) == ["goroutine 0", "goroutine 1", "goroutine 2"]


def test_a_new_thread_with_a_reused_ident_holds_off_the_deadlock_report() -> None:
    """pthread reuses a thread's ident once it ends: a thread started during the run with the
    ident of one that was alive at its start (and has ended since) is still a new thread, and
    checkdead waits for it as for any other (it was reported as a deadlock every time)."""
    for _ in range(5):
        early = threading.Thread(target=time.sleep, args=(0.01,))
        early.start()

        def main() -> int | None:
            early.join()  # its ident is free again
            ch = gosched.Chan[int](1)
            t = threading.Thread(target=lambda: (time.sleep(0.05), ch.send(1)))
            t.start()
            got = ch.recv()
            t.join()
            return got

        assert gosched.run(main, gomaxprocs=2) == 1
