"""The trio driver: one task owns the core, sleeps until its next deadline, takes requests.

Station time = the entry point + elapsed station milliseconds, where elapsed is
trio's clock times ``speed``; a :class:`~playout.station.placement.Placement` says where the
station enters its scenario and which instant the wire shows (the scenario's own
calendar by default, the wall clock for a served station). Under
``trio.testing.MockClock(autojump_threshold=0)`` the clock jumps straight to the
next deadline, so a simulated week runs in about half a second; in real time the
same code paces itself by the wall clock. With ``manual_clock`` station time
stands still until :meth:`StationRunner.advance`.

Every other task talks to the core through :meth:`submit`, :meth:`advance` (or
:meth:`step_toward`, one instant at a time), :meth:`snapshot` and :meth:`restart` (a fresh
core at the entry point: ``POST /api/v1/sim/reset``, ``serve --reload``); the owning task
serves them one at a time, in arrival order. :meth:`trio_time_at` says when, on trio's clock,
a running station reaches a given station time.
"""

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

import attrs
import trio

from ..profiles.base import Translator
from ..protocol import inputs
from ..protocol.events import HealthStatusReport
from ..scenario.model import Scenario
from ..station.core import Playout
from ..station.outcomes import Emitted, InputRejected
from ..station.placement import Placement
from ..station.views import StationSnapshot
from .probes import probe_webstreams

Publish = Callable[[list[Emitted]], None]
MakeTranslator = Callable[[Scenario], Translator | None]


@attrs.define
class _Request:
    kind: Literal["input", "advance", "snapshot", "restart"]
    given: inputs.Input | None = None
    fresh: tuple[Scenario, MakeTranslator] | None = None
    by_ms: int = 0
    with_snapshot: bool = False
    done: trio.Event = attrs.Factory(trio.Event)
    emitted: list[Emitted] = attrs.Factory(list)
    published: list[Emitted] | None = None
    """Filled with what was published for this request (the wire profile's messages), if given."""
    snapshot: StationSnapshot | None = None
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
        placement: Placement | None = None,
        quietly: Publish | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        translator: Translator | None = None,
    ) -> None:
        """``translator``: a wire profile's (``playout/profiles``); what is published is its messages,
        while :meth:`submit` and :meth:`advance` still return the core's own events."""
        self.scenario = scenario
        self.placement = placement or Placement("scenario", 0, scenario.start, None)
        self._translator = translator
        self.core = Playout(scenario, anchor=self.placement.anchor, keep_applied=translator is not None)
        self.repeats = 0
        """Times a repeating (whole-week, wall-clock) scenario has started over."""
        self._speed = speed
        self.speed = speed if speed is not None else scenario.speed
        if not self.speed > 0:
            raise ValueError("speed must be greater than 0")
        self.manual_clock = manual_clock
        self._real_probes = real_probes
        self.real_probes = real_probes and any(w.probe.kind == "http" for w in scenario.webstreams.values())
        self._drivers: trio.Nursery | None = None
        self._probes = trio.CancelScope()
        self._publish = publish
        self._capturing: list[Emitted] | None = None
        """The serving request's ``published`` list, while one is served."""
        self._settle = settle or trio.lowlevel.checkpoint
        """Awaited between the instants of a manual advance, so readers can keep up."""
        self._quietly = quietly or (lambda batch: None)
        """Given the events of the silent fast-forward to the entry point (the hub keeps its state)."""
        self._wall_clock = wall_clock
        self._send, self._receive = trio.open_memory_channel[_Request](64)
        self._t0: float | None = None
        self._base_ms = 0
        """The core's milliseconds at trio time ``_t0``."""

    @property
    def translator(self) -> Translator | None:
        """The wire profile's translator of the current core (a fresh one after :meth:`restart`)."""
        return self._translator

    def station_now_ms(self) -> int:
        """The core's milliseconds now (never behind the core; frozen with a manual clock)."""
        if self._t0 is None or self.manual_clock:
            return self.core.now_ms
        elapsed = (trio.current_time() - self._t0) * 1000 * self.speed
        return max(self.core.now_ms, self._base_ms + math.floor(elapsed + 1e-6))

    def clock_view(self) -> dict[str, Any]:
        """Both times of the station: what the wire shows, and where it is in its scenario."""
        placement = self.placement
        now_ms = self.core.now_ms
        return {
            "clock": placement.clock,
            "station_time": self.core.clock.stamp(now_ms),
            "scenario_time": self.scenario.clock.stamp(now_ms),
            "entered_at": self.scenario.clock.stamp(placement.entry_ms),
            "repeats_every": None if placement.period_ms is None else placement.period_ms // 1000,
            "repeats": self.repeats,
        }

    def trio_time_at(self, station_ms: int) -> float:
        """The trio clock's time at which station time reaches ``station_ms``, once :meth:`run` has begun.

        A deadline for ``trio.move_on_at`` when the clock runs by itself (with a manual clock
        station time does not follow trio's).
        """
        if self._t0 is None:
            raise RuntimeError("the runner has not started: station time has no trio time yet")
        return self._t0 + (station_ms - self._base_ms) / 1000 / self.speed

    async def _ask(self, request: _Request) -> _Request:
        await self._send.send(request)
        await request.done.wait()
        if request.error is not None:
            raise request.error
        return request

    async def submit(self, given: inputs.Input, *, published: list[Emitted] | None = None) -> list[Emitted]:
        """Apply an input now; return its events or raise :class:`InputRejected` (nothing changed).

        ``published``, when given, is filled with what went out on the wire for it: the same
        events in the documented profile, another profile's messages otherwise.
        """
        return (await self._ask(_Request("input", given=given, published=published))).emitted

    async def submit_and_snapshot(self, given: inputs.Input) -> tuple[list[Emitted], StationSnapshot]:
        """:meth:`submit`, and the state right after it, taken in the same turn (no other request between)."""
        request = await self._ask(_Request("input", given=given, with_snapshot=True))
        assert request.snapshot is not None
        return request.emitted, request.snapshot

    async def advance(self, by_ms: int, *, published: list[Emitted] | None = None) -> list[Emitted]:
        """With a manual clock, move station time forward by ``by_ms``; return what happened
        (``published``, when given, is filled with what went out on the wire, as for :meth:`submit`)."""
        self._refuse_unless_manual()
        return (await self._ask(_Request("advance", by_ms=by_ms, published=published))).emitted

    async def step_toward(self, target_ms: int) -> list[Emitted]:
        """With a manual clock, move to the next deadline or to ``target_ms``, whichever comes first.

        Returns what happened. One instant per call, so a caller waiting for something (the test
        station's ``expect``) can stop the clock at the instant it happens, not at ``target_ms``.
        """
        self._refuse_unless_manual()
        now_ms = self.station_now_ms()
        if target_ms < now_ms:
            raise ValueError(f"station time is already at {now_ms} ms, past {target_ms} ms")
        upcoming = self._next_deadline()
        step_ms = target_ms if upcoming is None else min(upcoming, target_ms)
        return (await self._ask(_Request("advance", by_ms=step_ms - now_ms))).emitted

    def _refuse_unless_manual(self) -> None:
        if not self.manual_clock:
            raise InputRejected(
                "conflict", "the station clock runs by itself; only a manual clock is advanced"
            )

    async def snapshot(self) -> StationSnapshot:
        """The core's state, brought up to the current station time first."""
        snapshot = (await self._ask(_Request("snapshot"))).snapshot
        assert snapshot is not None
        return snapshot

    async def restart(self, scenario: Scenario, make_translator: MakeTranslator) -> StationSnapshot:
        """Start over at the entry point with a fresh core (and translator) of ``scenario``.

        ``scenario``: the runner's own (a reset) or a reloaded one. The fresh core is built and
        fast-forwarded to the entry point before anything is swapped; what it sends on the way
        goes to ``quietly`` (the hub keeps the state and hands it to whoever asked for it on
        connect). On the wall clock the wire's instants start again from now. If the fresh
        station cannot be built, :class:`InputRejected` says why and the running one goes on.
        Returns the fresh station's state.
        """
        snapshot = (await self._ask(_Request("restart", fresh=(scenario, make_translator)))).snapshot
        assert snapshot is not None
        return snapshot

    async def run(self, *, until_ms: int | None = None, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Own the core until ``until_ms`` station time (forever if ``None``)."""
        core = self.core
        placement = self.placement
        if placement.entry_ms == 0:
            self._out(core.advance(0))  # the first instant happens at start, whatever the clock
        else:
            self._out(core.advance(placement.entry_ms), quietly=True)
            self._base_ms = placement.entry_ms
        self._start_clock()
        async with trio.open_nursery() as drivers:
            self._drivers = drivers
            if self.real_probes:
                await drivers.start(self._run_probes)
            task_status.started()
            await self._own(until_ms)
            drivers.cancel_scope.cancel()

    def _start_clock(self) -> None:
        """Station time starts at the entry point now (trio's clock)."""
        behind = 0.0
        placement = self.placement
        if placement.clock == "wall" and not self.manual_clock:
            # The wire shows the wall clock: catch up with the time since the placement was made
            # (the fast-forward, the server's start).
            lag = self._wall_clock() - placement.wall_of(placement.entry_ms)
            behind = max(0.0, lag.total_seconds()) / self.speed
        self._t0 = trio.current_time() - behind

    async def _run_probes(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The real webstream checks of the current scenario, until :meth:`restart` replaces them."""
        with trio.CancelScope() as self._probes:
            await probe_webstreams(self.scenario, self.submit, speed=self.speed, task_status=task_status)

    async def _own(self, until_ms: int | None) -> None:
        while True:
            period_ms = self.placement.period_ms  # (a reloaded scenario may have another)
            deadline = None if self.manual_clock else self._next_deadline()
            if period_ms is not None and not self.manual_clock and (deadline is None or deadline > period_ms):
                deadline = period_ms  # the scenario's end: it starts over
            final = (
                until_ms is not None and not self.manual_clock and (deadline is None or deadline > until_ms)
            )
            if final:
                deadline = until_ms
            wake_at = math.inf if deadline is None else self.trio_time_at(deadline)
            request = None
            with trio.move_on_at(wake_at):
                request = await self._receive.receive()
            if request is None:
                assert deadline is not None
                self._advance_to(deadline)
                if final:
                    return
                continue
            self._advance_to(self.station_now_ms())
            self._capturing = request.published
            try:
                if request.kind == "advance":
                    await self._advance_by(request)
                elif request.kind == "restart":
                    self._restart(request)
                else:
                    self._serve(request)
            finally:
                self._capturing = None
            request.done.set()

    def _advance_to(self, now_ms: int) -> list[Emitted]:
        """Advance and publish up to ``now_ms``, starting the scenario over at its period's end."""
        emitted = []
        period_ms = self.placement.period_ms
        while period_ms is not None and now_ms >= period_ms:
            emitted += self._start_over()
            now_ms -= period_ms
        if self._translator is not None:
            return emitted + self._step_to(now_ms)
        batch = self.core.advance(now_ms)
        self._put_out(batch)
        return emitted + batch

    def _put_out(self, batch: list[Emitted]) -> None:
        """Publish ``batch``; a request being served that asked for it gets a copy."""
        self._publish(batch)
        if self._capturing is not None:
            self._capturing += batch

    def _next_deadline(self) -> int | None:
        """The core's next deadline, or the profile's next tick if that comes first."""
        deadline = self.core.next_deadline()
        tick = None if self._translator is None else self._translator.next_tick()
        if tick is None or (deadline is not None and deadline <= tick):
            return deadline
        return tick

    def _step_to(self, now_ms: int) -> list[Emitted]:
        """Advance to ``now_ms`` one deadline at a time, the profile's ticks in their places."""
        emitted = []
        while (deadline := self._next_deadline()) is not None and deadline <= now_ms:
            emitted += self._advance_core(deadline)
        return emitted + self._advance_core(now_ms)

    def _advance_core(self, now_ms: int) -> list[Emitted]:
        """One step of the core, published (with the profile's tick, when one is due by then)."""
        batch = self.core.advance(now_ms)
        self._out(batch)
        translator = self._translator
        if translator is not None and (tick := translator.next_tick()) is not None and tick <= now_ms:
            self._put_out(translator.tick(now_ms, self.core))
        return batch

    def _out(self, batch: list[Emitted], *, core: Playout | None = None, quietly: bool = False) -> None:
        """Publish one batch of ``core``'s events (the runner's own core by default), through the
        profile when there is one; ``quietly``: to the silent fast-forward's receiver instead."""
        publish = self._quietly if quietly else self._put_out
        if self._translator is None:
            publish(batch)
            return
        core = core or self.core
        publish(self._translator.translate(batch, core.drain_applied(), core))

    def _start_over(self) -> list[Emitted]:
        """A repeating scenario's end: its last instant, then a fresh core one period later on the wire.

        What is due at the period's end belongs to the next period's start, where the fresh core
        begins again; station time runs on without a jump.
        """
        period_ms = self.placement.period_ms
        assert period_ms is not None
        old = self.core
        emitted = old.advance(period_ms - 1)
        self._out(emitted, core=old)
        # A fresh core's status beats start one interval in; the one due at the period's end is
        # the old core's, taken after that instant's changes (as `run` has it), so none is skipped.
        beats = [
            attrs.evolve(late, at_ms=0)
            for late in old.advance(period_ms)
            if late.at_ms == period_ms and isinstance(late.event, HealthStatusReport)
        ]
        if self._t0 is not None:
            self._t0 = self.trio_time_at(period_ms)
        self._base_ms = 0
        self.core = Playout(
            self.scenario, anchor=old.clock.instant(period_ms), keep_applied=self._translator is not None
        )
        self.repeats += 1
        batch = self.core.advance(0) + beats
        self._out(batch)
        return emitted + batch

    def _restart(self, request: _Request) -> None:
        """Build the fresh station, then swap it in, in one step (no await between)."""
        assert request.fresh is not None
        scenario, make_translator = request.fresh
        try:
            placement = self.placement.again(scenario, self._wall_clock())
            translator = make_translator(scenario)
            core = Playout(scenario, anchor=placement.anchor, keep_applied=translator is not None)
            entered = core.advance(placement.entry_ms)
            if translator is not None:
                entered = translator.translate(entered, core.drain_applied(), core)
            speed = self._speed if self._speed is not None else scenario.speed
        # Whatever goes wrong building it, the running station must go on: the caller hears why.
        except Exception as exc:
            request.error = InputRejected("conflict", f"the station was not restarted: {exc}")
            return
        renewed = scenario is not self.scenario
        self.scenario, self.placement, self.core, self._translator = scenario, placement, core, translator
        self.speed = speed
        self.repeats = 0
        self._base_ms = placement.entry_ms
        self._start_clock()
        self._quietly(entered)
        request.snapshot = core.snapshot()
        if renewed and self._drivers is not None:
            self._probes.cancel()
            self.real_probes = self._real_probes and any(
                w.probe.kind == "http" for w in scenario.webstreams.values()
            )
            if self.real_probes:
                self._drivers.start_soon(self._run_probes)

    def _serve(self, request: _Request) -> None:
        core = self.core
        if request.kind == "input":
            assert request.given is not None
            try:
                request.emitted = core.submit(request.given)
            except InputRejected as exc:
                request.error = exc
            if request.with_snapshot:
                request.snapshot = core.snapshot()
        else:
            request.snapshot = core.snapshot()
        self._out(request.emitted)

    async def _advance_by(self, request: _Request) -> None:
        """Move a manual clock instant by instant, letting other tasks run between instants.

        Each instant is published on its own and followed by ``settle`` (the server's hub
        waits there for the connections to drain), as the events would come in real time.
        """
        target = self.core.now_ms + request.by_ms
        period_ms = self.placement.period_ms
        while True:
            last = target if period_ms is None else min(target, period_ms - 1)
            while (deadline := self._next_deadline()) is not None and deadline <= last:
                request.emitted += self._advance_core(deadline)
                await self._settle()
            if period_ms is None or target < period_ms:
                break
            request.emitted += self._start_over()
            target -= period_ms
            await self._settle()
        request.emitted += self._advance_core(target)
