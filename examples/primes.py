"""Go's concurrent prime sieve, goroutine for goroutine.

    gosched run examples/primes.py [N]      # print the first N primes (default 100)

A generator goroutine sends 2, 3, 4, ... down an unbuffered channel; every prime found adds a
filter goroutine to the chain that drops the multiples of that prime. This is the program from
Go's tour and test suite (go/test/chan/sieve1.go).
"""

from __future__ import annotations

import sys

import gosched
from gosched import Chan


def generate(ch: Chan[int]) -> None:
    """Send 2, 3, 4, ... to ch."""
    i = 2
    while True:
        ch.send(i)
        i += 1


def filter_(src: Chan[int], dst: Chan[int], prime: int) -> None:
    """Copy values from src to dst, dropping the multiples of prime."""
    for i in src:
        if i % prime != 0:
            dst.send(i)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    ch: Chan[int] = Chan()
    gosched.go(generate, ch)
    primes = []
    for _ in range(n):
        prime = ch.recv()
        assert prime is not None
        primes.append(prime)
        ch1: Chan[int] = Chan()
        gosched.go(filter_, ch, ch1, prime)
        ch = ch1
    print(" ".join(map(str, primes)))
    print(f"{n} primes, {gosched.num_goroutine()} goroutines in the chain")


main()
