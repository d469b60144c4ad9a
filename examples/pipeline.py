"""A pipeline with context cancellation: a generator feeds a square stage, which feeds a sink
that stops after it has seen enough and cancels the context; every stage returns, none leaks.

    gosched run examples/pipeline.py
    gosched run --gomaxprocs 2 examples/pipeline.py

Go's pipeline pattern (the Go blog's "Go Concurrency Patterns: Pipelines and cancellation"),
with a context.Context for the done channel.
"""

from __future__ import annotations

import gosched
from gosched import context
from gosched.sync import WaitGroup


def generate(ctx: context.Context, out: gosched.Chan[int]) -> None:
    n = 0
    try:
        while True:
            n += 1
            i, _ = gosched.select((out.send, n), ctx.done().recv)
            if i == 1:
                return
    finally:
        out.close()
        print(f"generate: stopped after {n} numbers")


def square(ctx: context.Context, inp: gosched.Chan[int], out: gosched.Chan[int]) -> None:
    try:
        for n in inp:
            i, _ = gosched.select((out.send, n * n), ctx.done().recv)
            if i == 1:
                return
    finally:
        out.close()
        print("square: stopped")


def main() -> None:
    ctx, cancel = context.with_cancel(context.background())
    numbers: gosched.Chan[int] = gosched.Chan()
    squares: gosched.Chan[int] = gosched.Chan()
    wg = WaitGroup()
    wg.go(generate, ctx, numbers)
    wg.go(square, ctx, numbers, squares)
    total = 0
    for k, sq in enumerate(squares, 1):
        total += sq
        if total > 1_000:
            print(f"sink: {k} squares sum to {total}, cancelling")
            cancel()
            break
    wg.wait()  # every stage has returned: nothing leaks
    print(f"goroutines left: {gosched.num_goroutine()}, ctx.err(): {ctx.err()!r}")


if __name__ == "__main__":
    gosched.run(main)
