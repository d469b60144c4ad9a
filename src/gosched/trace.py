"""Execution traces (Go's runtime/trace): record the scheduler's events to a Chrome Trace Event
JSON file that Perfetto opens, or keep the last seconds of them in memory (Go 1.25's flight
recorder). The file format and the viewer are in docs/trace.md."""

from __future__ import annotations

import math
import os
from typing import Any

from ._runtime import (
    StartFlightRecorder,
    StartTrace,
    StopFlightRecorder,
    StopTrace,
    WriteFlightRecorder,
)

__all__ = ["FlightRecorder", "start", "stop"]


def start(path: str | os.PathLike[str]) -> None:
    """Record the scheduler's events until stop() (or the end of the run), then write them to
    path. Call it inside a goroutine. A trace already recording: RuntimeError, Go's
    "tracing is already enabled". The file is created now, so a bad path fails here."""
    StartTrace(path)


def stop() -> list[str]:
    """Stop recording and write the trace; returns the files written (the trace splits at
    100 MiB into path, path.1.json, ...), [] when none was recording (as Go's Stop, a no-op)."""
    return StopTrace()


class FlightRecorder:
    """Keeps the last ``seconds`` of the scheduler's events in memory (Go's FlightRecorder),
    to write when something worth looking at happens. Under `gosched run --trace FILE` a
    panic or a fatal error also writes its window to FILE.flight.json."""

    def __init__(self, seconds: float = 10) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(
                f"FlightRecorder: seconds must be a number, not {type(seconds).__name__}"
            )
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"FlightRecorder: seconds must be finite and > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self._on = False

    def start(self) -> None:
        """Start recording. One flight recorder at a time: RuntimeError("tracing is already
        enabled") for a second one (a full trace may record at the same time)."""
        if self._on:
            raise RuntimeError("FlightRecorder: already started")
        StartFlightRecorder(self.seconds)
        self._on = True

    def write_to(self, path: str | os.PathLike[str]) -> list[str]:
        """Write what the recorder holds now (from the start of the oldest generation that
        covers the window, so that the viewer can replay the queues); recording goes on.
        Returns the files written."""
        if not self._on:
            raise RuntimeError("FlightRecorder: not started")
        return WriteFlightRecorder(path)

    def stop(self) -> None:
        """Stop recording; what it held is dropped."""
        if self._on:
            self._on = False
            StopFlightRecorder()

    @property
    def enabled(self) -> bool:
        return self._on

    def __enter__(self) -> FlightRecorder:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
