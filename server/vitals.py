"""How the serving process itself is doing: event-loop stalls, and a garbage collector kept out of the way.

A stall is one pass of trio's run loop that took long: from the moment it
stopped waiting for I/O to the moment it waits again, no timer fires and no
socket is read. A trio instrument times every pass (two clock reads each), so
stalls are measured without a task waking up to look for them: an idle
server stays idle.

A full collection walks every tracked object; at 10,000 connections that is
about a million objects and a second of stalled loop (performance notes). The
objects a connection keeps live as long as it does, so after every
FREEZE_EVERY arrivals the young generations are collected (a short pause) and
everything left is frozen (``gc.freeze``:
moved out of the collector's sight, which costs nothing), so later
collections only walk what is new. Everything alive when serving starts is
frozen at once. ``freezes`` counts every freeze: that first one, one after every
FREEZE_EVERY arrivals, and one after each full collection.

Frozen objects are never collected, so garbage cycles left by connections that
have gone would stay. None are left: the hub breaks the one cycle of its own
(subscriber and writer), :mod:`server.transport.hypercorn_cycles` Hypercorn's, and
:mod:`server.transport.one_task_websocket` has none; a departed connection is freed
by refcounting, frozen or not. That is checked rather than assumed: the hub
hands over a weak reference to each departed connection's writer, and one
LINGER_SECONDS later a connection still alive counts as lingering (in a
cycle, or still closing). Once as many have lingered since the last freeze as
half of those frozen then (at least FREEZE_EVERY), everything is unfrozen,
collected once (a single pause, proportional to what is alive: 110-190 ms at
10,000 connections, docs/performance.md) and frozen again. When serving
stops, everything is unfrozen.
"""

import gc
import time
from collections import deque
from typing import Any

import trio

from .hub import Departed, Hub

POLICY_SECONDS = 0.25
"""How often the collector policy looks at arrivals and departures."""
STALL_RECORD_MS = 20.0
"""Stalls at least this long are kept (with their CLOCK_MONOTONIC time) for benchmarks to attribute."""
FREEZE_EVERY = 200
"""Connections arrived since the last freeze that trigger the next one. What is not frozen yet
is walked by the collector's own full collections: about 40,000 objects at most, some 40 ms."""
LINGER_SECONDS = 1.0
"""How long after its departure a connection must be gone (freed) not to count as lingering."""


class _LoopPasses(trio.abc.Instrument):
    """Times each pass of the run loop between two waits for I/O; keeps the long ones."""

    def __init__(self, vitals: "Vitals") -> None:
        self._vitals = vitals
        self._running_since: float | None = None

    def after_io_wait(self, timeout: float) -> None:
        self._running_since = time.monotonic()

    def before_io_wait(self, timeout: float) -> None:
        if self._running_since is not None:
            now = time.monotonic()
            self._vitals.record_pass(now, (now - self._running_since) * 1000)


class Vitals:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.max_stall_ms = 0.0
        self.stalls: deque[tuple[float, float]] = deque(maxlen=200)
        """Recent stalls of at least STALL_RECORD_MS: (monotonic time the pass ended, its length in ms)."""
        self._frozen_at = 0
        """Connections alive at the last freeze."""
        self._arrived_at_freeze = 0
        self._lingered_at_freeze = 0
        self._departing: deque[tuple[float, Departed]] = deque()
        """Departed connections not checked yet: (monotonic time seen, weak reference or None)."""
        self.lingered = 0
        """Departed connections still alive LINGER_SECONDS after, in all (None counts: unknown)."""
        self.freezes = 0
        self.collections = 0

    async def run(self) -> None:
        """Time the loop's passes and apply the collector policy; runs until cancelled."""
        # What is alive once serving starts (modules, the app, the scenario) lives for good:
        # collected once now, while no client waits, and kept out of every later collection.
        gc.collect()
        self._freeze(len(self._hub), len(self._hub) + self._hub.departed, self.lingered)
        passes = _LoopPasses(self)
        trio.lowlevel.add_instrument(passes)
        try:
            while True:
                await trio.sleep(POLICY_SECONDS)
                self._check_departures(time.monotonic())
                self._steer_gc(len(self._hub), len(self._hub) + self._hub.departed, self.lingered)
        finally:
            trio.lowlevel.remove_instrument(passes)
            gc.unfreeze()  # (in a test process, the next served app starts afresh)

    def record_pass(self, ended: float, ms: float) -> None:
        """One pass of the run loop, ``ms`` long, that ended at ``ended`` (CLOCK_MONOTONIC)."""
        if ms > self.max_stall_ms:
            self.max_stall_ms = ms
        if ms >= STALL_RECORD_MS:
            self.stalls.append((ended, round(ms, 1)))

    def _check_departures(self, now: float) -> None:
        departures = self._hub.departures
        while departures:
            self._departing.append((now, departures.popleft()))
        while self._departing and now - self._departing[0][0] >= LINGER_SECONDS:
            _, departed = self._departing.popleft()
            if departed is None or departed() is not None:
                self.lingered += 1

    def _steer_gc(self, connections: int, arrived: int, lingered: int) -> None:
        """Freeze after every FREEZE_EVERY arrivals; collect everything once enough have lingered.

        ``arrived`` and ``lingered`` are totals since serving started.
        """
        if arrived - self._arrived_at_freeze >= FREEZE_EVERY:
            # The young generations only: their garbage (a request's cycles) is not frozen with the
            # rest. Not a full collection: walking even the unfrozen connections' objects costs
            # about 1 µs each on a big heap (references into the frozen ones miss the cache).
            gc.collect(1)
            self._freeze(connections, arrived, lingered)
        elif lingered - self._lingered_at_freeze >= max(FREEZE_EVERY, self._frozen_at // 2):
            gc.unfreeze()
            gc.collect()
            self.collections += 1
            self._freeze(connections, arrived, lingered)

    def _freeze(self, connections: int, arrived: int, lingered: int) -> None:
        gc.freeze()
        self._frozen_at = connections
        self._arrived_at_freeze = arrived
        self._lingered_at_freeze = lingered
        self.freezes += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "monotonic_now": time.monotonic(),
            "loop": {"max_stall_ms": round(self.max_stall_ms, 1), "recent_stalls": list(self.stalls)},
            "gc": {
                "frozen_objects": gc.get_freeze_count(),
                "freezes": self.freezes,
                "full_collections_after_churn": self.collections,
                "lingering_departures": self.lingered,
                "stats": gc.get_stats(),
            },
        }
