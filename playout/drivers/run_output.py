"""What ``grimnir-sim run`` writes: its lines (wire messages or the human timeline) and, on a terminal,
its progress."""

import sys
import time
from collections.abc import Callable
from typing import IO

from ..protocol import wire
from ..protocol.stationtime import format_duration
from ..scenario.model import Scenario
from ..station.outcomes import Emitted
from .textlog import TextLog


def line_writer(
    scenario: Scenario, out: IO[bytes], wanted: frozenset[str] | None, *, text: bool, with_time: bool
) -> Callable[[list[Emitted]], None]:
    """Writes each batch's events of the ``wanted`` types (all when None) to ``out``, one a line: the
    human timeline (``text``), or wire messages, with the station time as ``at`` (``with_time``)."""
    timeline = TextLog(scenario) if text else None
    stamp = scenario.clock.stamp

    def write(batch: list[Emitted]) -> None:
        lines = []
        for emitted in batch:
            if wanted is not None and emitted.event.TYPE not in wanted:
                continue
            if timeline is not None:
                lines.append(timeline.line(emitted).encode() + b"\n")
            elif with_time:
                lines.append(wire.encode_stamped(stamp(emitted.at_ms), emitted.event) + b"\n")
            else:
                lines.append(wire.encode(emitted.event) + b"\n")
        if lines:
            out.write(b"".join(lines))

    return write


class Progress:
    """Shows station-time progress on a terminal's stderr when a run takes a while."""

    def __init__(self, until_ms: int, enabled: bool) -> None:
        self.until_ms = until_ms
        self.enabled = enabled
        self.began = time.monotonic()
        self.last = self.began
        self.shown = False

    def update(self, station_ms: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5 or now - self.began < 1.0:
            return
        self.last = now
        self.shown = True
        percent = 100 * station_ms / self.until_ms if self.until_ms else 100
        sys.stderr.write(
            f"\r  {format_duration(station_ms)} of {format_duration(self.until_ms)} ({percent:.0f}%)"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
