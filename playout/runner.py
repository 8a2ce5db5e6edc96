"""The trio driver: one task owns the core, sleeps until its next deadline, takes inputs.

Station time = scenario start + elapsed station milliseconds, where elapsed is
trio's clock times ``speed``. Under ``trio.testing.MockClock(autojump_threshold=0)``
the clock jumps straight to the next deadline, so a simulated week runs in a
second or two; in real time the same code paces itself by the wall clock.
"""

import math
from collections.abc import Callable

import attrs
import trio

from . import inputs
from .core import Emitted, InputRejected, Playout
from .scenario import Scenario

Publish = Callable[[list[Emitted]], None]


@attrs.define
class _Request:
    given: inputs.Input
    done: trio.Event = attrs.Factory(trio.Event)
    emitted: list[Emitted] = attrs.Factory(list)
    error: InputRejected | None = None


class StationRunner:
    """Runs one scenario's :class:`Playout` on the trio clock and publishes its events."""

    def __init__(self, scenario: Scenario, publish: Publish, *, speed: float | None = None) -> None:
        self.scenario = scenario
        self.core = Playout(scenario)
        self.speed = speed if speed is not None else scenario.speed
        if not self.speed > 0:
            raise ValueError("speed must be greater than 0")
        self._publish = publish
        self._send, self._receive = trio.open_memory_channel[_Request](64)
        self._t0: float | None = None

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def station_now_ms(self) -> int:
        """Station milliseconds elapsed by the trio clock (never behind the core)."""
        if self._t0 is None:
            return 0
        elapsed = (trio.current_time() - self._t0) * 1000 * self.speed
        return max(self.core.now_ms, math.floor(elapsed + 1e-6))

    def _clock_at(self, station_ms: int) -> float:
        assert self._t0 is not None
        return self._t0 + station_ms / 1000 / self.speed

    async def submit(self, given: inputs.Input) -> list[Emitted]:
        """Hand an input to the owning task; return its events or raise :class:`InputRejected`."""
        request = _Request(given)
        await self._send.send(request)
        await request.done.wait()
        if request.error is not None:
            raise request.error
        return request.emitted

    async def run(self, *, until_ms: int | None = None, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Own the core until ``until_ms`` station time (forever if ``None``)."""
        core = self.core
        self._t0 = trio.current_time()
        task_status.started()
        while True:
            deadline = core.next_deadline()
            final = until_ms is not None and (deadline is None or deadline > until_ms)
            if final:
                deadline = until_ms
            wake_at = math.inf if deadline is None else self._clock_at(deadline)
            request = None
            with trio.move_on_at(wake_at):
                request = await self._receive.receive()
            if request is None:
                assert deadline is not None
                self._publish(core.advance(deadline))
                if final:
                    return
                continue
            self._publish(core.advance(self.station_now_ms()))
            try:
                request.emitted = core.submit(request.given)
            except InputRejected as exc:
                request.error = exc
            self._publish(request.emitted)
            request.done.set()
