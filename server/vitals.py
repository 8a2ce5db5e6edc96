"""How the serving process itself is doing: event-loop stalls, and a garbage collector kept out of the way.

A full collection walks every tracked object; at 10,000 connections that is
about a million objects and a second of stalled loop (performance notes). The
objects a connection keeps live as long as it does, so after each burst of
connections they are frozen (``gc.freeze``: moved out of the collector's sight,
which costs nothing) and later collections only walk what is new. When most of
them have gone again they are unfrozen, so cycles left by closed connections are
still collected. Everything alive when serving starts is frozen at once.
"""

import gc
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import trio

TICK_SECONDS = 0.01
STALL_RECORD_MS = 20.0
"""Stalls at least this long are kept (with their CLOCK_MONOTONIC time) for benchmarks to attribute."""
FREEZE_EVERY = 500
"""Connections added since the last freeze that trigger the next one."""


class Vitals:
    def __init__(self, connections: Callable[[], int]) -> None:
        self._connections = connections
        self.max_stall_ms = 0.0
        self.stalls: deque[tuple[float, float]] = deque(maxlen=200)
        """Recent stalls of at least STALL_RECORD_MS: (monotonic time the loop woke, stall in ms)."""
        self._frozen_at = 0
        self.freezes = 0

    async def run(self) -> None:
        """Measure the loop's lateness every tick and apply the freeze policy; runs until cancelled."""
        # What is alive once serving starts (modules, the app, the scenario) lives for good:
        # collected once now, while no client waits, and kept out of every later collection.
        gc.collect()
        gc.freeze()
        while True:
            expected = time.monotonic() + TICK_SECONDS
            await trio.sleep(TICK_SECONDS)
            woke = time.monotonic()
            stall_ms = (woke - expected) * 1000
            if stall_ms > self.max_stall_ms:
                self.max_stall_ms = stall_ms
            if stall_ms >= STALL_RECORD_MS:
                self.stalls.append((woke, round(stall_ms, 1)))
            self._steer_gc(self._connections())

    def _steer_gc(self, connections: int) -> None:
        if connections >= self._frozen_at + FREEZE_EVERY:
            gc.freeze()
            self._frozen_at = connections
            self.freezes += 1
        elif connections < self._frozen_at // 2:
            gc.unfreeze()
            self._frozen_at = connections

    def snapshot(self) -> dict[str, Any]:
        return {
            "monotonic_now": time.monotonic(),
            "loop": {"max_stall_ms": round(self.max_stall_ms, 1), "recent_stalls": list(self.stalls)},
            "gc": {"frozen_objects": gc.get_freeze_count(), "freezes": self.freezes, "stats": gc.get_stats()},
        }
