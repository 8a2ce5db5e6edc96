"""How the serving process itself is doing: event-loop stalls, and a garbage collector kept out of the way.

A full collection walks every tracked object; at 10,000 connections that is
about a million objects and a second of stalled loop (performance notes). The
objects a connection keeps live as long as it does, so after each burst of
connections they are frozen (``gc.freeze``: moved out of the collector's sight,
which costs nothing) and later collections only walk what is new. Everything
alive when serving starts is frozen at once.

Frozen objects are never collected, so garbage cycles left by connections that
have gone would stay. The hub breaks the one cycle of its own (subscriber and
writer), and once as many connections have gone since the last freeze as half
of those frozen then (at least FREEZE_EVERY), everything is unfrozen, collected
once (a single pause, proportional to what is alive: 110-190 ms at 10,000
connections, docs/performance.md) and frozen again. When serving stops,
everything is unfrozen.
"""

import gc
import time
from collections import deque
from typing import Any

import trio

from .hub import Hub

TICK_SECONDS = 0.01
STALL_RECORD_MS = 20.0
"""Stalls at least this long are kept (with their CLOCK_MONOTONIC time) for benchmarks to attribute."""
FREEZE_EVERY = 500
"""Connections added since the last freeze that trigger the next one."""


class Vitals:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.max_stall_ms = 0.0
        self.stalls: deque[tuple[float, float]] = deque(maxlen=200)
        """Recent stalls of at least STALL_RECORD_MS: (monotonic time the loop woke, stall in ms)."""
        self._frozen_at = 0
        self._departed_at_freeze = 0
        self.freezes = 0
        self.collections = 0

    async def run(self) -> None:
        """Measure the loop's lateness every tick and apply the freeze policy; runs until cancelled."""
        # What is alive once serving starts (modules, the app, the scenario) lives for good:
        # collected once now, while no client waits, and kept out of every later collection.
        gc.collect()
        gc.freeze()
        try:
            await self._watch()
        finally:
            gc.unfreeze()  # (in a test process, the next served app starts afresh)

    async def _watch(self) -> None:
        while True:
            expected = time.monotonic() + TICK_SECONDS
            await trio.sleep(TICK_SECONDS)
            woke = time.monotonic()
            stall_ms = (woke - expected) * 1000
            if stall_ms > self.max_stall_ms:
                self.max_stall_ms = stall_ms
            if stall_ms >= STALL_RECORD_MS:
                self.stalls.append((woke, round(stall_ms, 1)))
            self._steer_gc(len(self._hub), self._hub.departed)

    def _steer_gc(self, connections: int, departed: int) -> None:
        if connections >= self._frozen_at + FREEZE_EVERY:
            self._freeze(connections, departed)
        elif departed - self._departed_at_freeze >= max(FREEZE_EVERY, self._frozen_at // 2):
            gc.unfreeze()
            gc.collect()
            self.collections += 1
            self._freeze(connections, departed)

    def _freeze(self, connections: int, departed: int) -> None:
        gc.freeze()
        self._frozen_at = connections
        self._departed_at_freeze = departed
        self.freezes += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "monotonic_now": time.monotonic(),
            "loop": {"max_stall_ms": round(self.max_stall_ms, 1), "recent_stalls": list(self.stalls)},
            "gc": {
                "frozen_objects": gc.get_freeze_count(),
                "freezes": self.freezes,
                "full_collections_after_churn": self.collections,
                "stats": gc.get_stats(),
            },
        }
