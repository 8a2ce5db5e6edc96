"""The trio driver: one task owns the core, sleeps until its next deadline, takes requests.

Station time = scenario start + elapsed station milliseconds, where elapsed is
trio's clock times ``speed``. Under ``trio.testing.MockClock(autojump_threshold=0)``
the clock jumps straight to the next deadline, so a simulated week runs in about
half a second; in real time the same code paces itself by the wall clock. With
``manual_clock`` station time stands still until :meth:`StationRunner.advance`.

Every other task talks to the core through :meth:`submit`, :meth:`advance` and
:meth:`snapshot`; the owning task serves them one at a time, in arrival order.
"""

import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal

import attrs
import trio

from . import inputs
from .core import Emitted, InputRejected, Playout
from .probes import probe_webstreams
from .scenario import Scenario

Publish = Callable[[list[Emitted]], None]


@attrs.define
class _Request:
    kind: Literal["input", "advance", "snapshot"]
    given: inputs.Input | None = None
    by_ms: int = 0
    with_snapshot: bool = False
    done: trio.Event = attrs.Factory(trio.Event)
    emitted: list[Emitted] = attrs.Factory(list)
    result: Any = None
    error: InputRejected | None = None


class StationRunner:
    """Runs one scenario's :class:`Playout` on the trio clock and publishes its events."""

    def __init__(
        self,
        scenario: Scenario,
        publish: Publish,
        *,
        speed: float | None = None,
        manual_clock: bool = False,
        real_probes: bool = True,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.core = Playout(scenario)
        self.speed = speed if speed is not None else scenario.speed
        if not self.speed > 0:
            raise ValueError("speed must be greater than 0")
        self.manual_clock = manual_clock
        self.real_probes = real_probes and any(w.probe.kind == "http" for w in scenario.webstreams.values())
        self._publish = publish
        self._settle = settle or trio.lowlevel.checkpoint
        """Awaited between the instants of a manual advance, so readers can keep up."""
        self._send, self._receive = trio.open_memory_channel[_Request](64)
        self._t0: float | None = None

    def station_now_ms(self) -> int:
        """Station milliseconds elapsed (never behind the core; frozen with a manual clock)."""
        if self._t0 is None or self.manual_clock:
            return self.core.now_ms
        elapsed = (trio.current_time() - self._t0) * 1000 * self.speed
        return max(self.core.now_ms, math.floor(elapsed + 1e-6))

    def _clock_at(self, station_ms: int) -> float:
        assert self._t0 is not None
        return self._t0 + station_ms / 1000 / self.speed

    async def _ask(self, request: _Request) -> _Request:
        await self._send.send(request)
        await request.done.wait()
        if request.error is not None:
            raise request.error
        return request

    async def submit(self, given: inputs.Input) -> list[Emitted]:
        """Apply an input now; return its events or raise :class:`InputRejected` (nothing changed)."""
        return (await self._ask(_Request("input", given=given))).emitted

    async def submit_and_snapshot(self, given: inputs.Input) -> tuple[list[Emitted], dict[str, Any]]:
        """:meth:`submit`, and the state right after it, taken in the same turn (no other request between)."""
        request = await self._ask(_Request("input", given=given, with_snapshot=True))
        return request.emitted, request.result

    async def advance(self, by_ms: int) -> list[Emitted]:
        """With a manual clock, move station time forward by ``by_ms``; return what happened."""
        if not self.manual_clock:
            raise InputRejected(
                "conflict", "the station clock runs by itself; only a manual clock is advanced"
            )
        return (await self._ask(_Request("advance", by_ms=by_ms))).emitted

    async def snapshot(self) -> dict[str, Any]:
        """The core's state, brought up to the current station time first."""
        return (await self._ask(_Request("snapshot"))).result

    async def run(self, *, until_ms: int | None = None, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Own the core until ``until_ms`` station time (forever if ``None``)."""
        core = self.core
        self._t0 = trio.current_time()
        self._publish(core.advance(0))  # the first instant happens at start, whatever the clock
        async with trio.open_nursery() as drivers:
            if self.real_probes:
                await drivers.start(partial(probe_webstreams, self.scenario, self.submit, speed=self.speed))
            task_status.started()
            await self._own(until_ms)
            drivers.cancel_scope.cancel()

    async def _own(self, until_ms: int | None) -> None:
        core = self.core
        while True:
            deadline = None if self.manual_clock else core.next_deadline()
            final = (
                until_ms is not None and not self.manual_clock and (deadline is None or deadline > until_ms)
            )
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
            if request.kind == "advance":
                await self._advance_by(request)
            else:
                self._serve(request)
            request.done.set()

    def _serve(self, request: _Request) -> None:
        core = self.core
        if request.kind == "input":
            assert request.given is not None
            try:
                request.emitted = core.submit(request.given)
            except InputRejected as exc:
                request.error = exc
            if request.with_snapshot:
                request.result = core.snapshot()
        else:
            request.result = core.snapshot()
        self._publish(request.emitted)

    async def _advance_by(self, request: _Request) -> None:
        """Move a manual clock instant by instant, letting other tasks run between instants.

        Each instant is published on its own and followed by ``settle`` (the server's hub
        waits there for the connections to drain), as the events would come in real time.
        """
        core = self.core
        target = core.now_ms + request.by_ms
        while (deadline := core.next_deadline()) is not None and deadline <= target:
            batch = core.advance(deadline)
            self._publish(batch)
            request.emitted += batch
            await self._settle()
        batch = core.advance(target)
        self._publish(batch)
        request.emitted += batch
