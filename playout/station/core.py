"""The station core's facade: inputs with an explicit time in, documented events out.

No trio, no clock, no I/O. :class:`Playout` owns the state of every station of a
scenario (:class:`~playout.station.state.CoreState`); a driver calls
:meth:`Playout.advance` with the station time it has reached and
:meth:`Playout.submit` with inputs from outside, and gets back the events in the
order the station emitted them. Each input and timeline item is handed to the room
that owns it: ``priority_sources`` (DJs, overrides, emergencies), ``programming``
(slots and automation's content), ``webstream_reactions`` (webstream health),
``on_air`` (what the ladder decides); ``views`` is the read model. The canonical
sequences are listed in ``docs/protocol.md``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..protocol import inputs
from ..protocol.stationtime import StationClock
from ..scenario.model import Happening, Scenario
from . import on_air, priority_sources, programming, webstream_reactions
from .outcomes import Applied, Emitted, InputRejected, Notice
from .state import CoreState, StationState
from .timeline import Rank
from .views import StationSnapshot, take_snapshot
from .webstreams import WebstreamHealth


class Playout:
    """Every station of one scenario, advanced by explicit station time."""

    def __init__(
        self, scenario: Scenario, *, anchor: datetime | None = None, keep_applied: bool = False
    ) -> None:
        """``anchor`` is the instant the wire shows for station millisecond 0 (default: the scenario's
        start); the program itself always follows the scenario's calendar. With ``keep_applied``
        the inputs applied are kept for :meth:`drain_applied` (a wire profile reads them)."""
        clock = scenario.clock if anchor is None else StationClock(anchor)
        self.state = CoreState(scenario, clock, keep_applied=keep_applied)
        timeline = self.state.timeline
        timeline.push(0, Rank.REFRESH, None)
        for happening in scenario.timeline:
            timeline.push(happening.at_ms, Rank.HAPPENING, (happening, 1))

    # -- what the state holds, read-only ---------------------------------------------------------

    @property
    def scenario(self) -> Scenario:
        return self.state.scenario

    @property
    def clock(self) -> StationClock:
        """Station milliseconds ↔ the instants the wire shows."""
        return self.state.clock

    @property
    def now_ms(self) -> int:
        """The station time the core has reached (ms since the scenario's start)."""
        return self.state.now_ms

    @property
    def stations(self) -> dict[str, StationState]:
        return self.state.stations

    @property
    def webstreams(self) -> dict[str, WebstreamHealth]:
        return self.state.webstreams

    @property
    def notices(self) -> list[Notice]:
        """The scripted inputs skipped so far, because they could not apply."""
        return self.state.notices

    def station(self, key: str) -> StationState:
        """The station ``key``; :class:`InputRejected` if there is none."""
        return self.state.station(key)

    # -- driving ---------------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        """The station time of the next scheduled happening, or ``None``."""
        return self.state.timeline.next_time()

    def advance(self, now_ms: int) -> list[Emitted]:
        """Run everything due up to ``now_ms``; return the events in emission order."""
        state = self.state
        if now_ms < state.now_ms:
            raise ValueError(f"time runs forward: {now_ms} < {state.now_ms}")
        timeline = state.timeline
        handlers = _TIMELINE_HANDLERS
        while (due := timeline.pop_due(now_ms)) is not None:
            at_ms, rank, item = due
            state.now_ms = at_ms
            deferred_health = []
            while True:
                if rank is Rank.HEALTH:
                    deferred_health.append(item)
                else:
                    handlers[rank](state, item)
                upcoming = timeline.next_time()
                if upcoming != at_ms:
                    break
                _, rank, item = timeline.pop_due(at_ms)  # type: ignore[misc]
            on_air.reconcile_all(state)
            for station_key in deferred_health:
                on_air.status_beat(state, station_key)
        state.now_ms = now_ms
        return state.drain()

    def submit(self, given: inputs.Input) -> list[Emitted]:
        """Apply one input from outside at the current station time.

        Call :meth:`advance` first to bring the core up to the input's time. Raises
        :class:`InputRejected` when the input cannot apply; then nothing changed.
        """
        apply_input(self.state, given)
        on_air.reconcile_all(self.state)
        return self.state.drain()

    def drain_applied(self) -> list[Applied]:
        """The inputs applied since the last call (from outside and from the timeline), when kept."""
        return self.state.drain_applied()

    def snapshot(self) -> StationSnapshot:
        """Every station's ladder, on-air source, DJs and the webstreams' health, as typed views."""
        return take_snapshot(self.state)


def apply_input(core: CoreState, given: inputs.Input) -> None:
    """Hand ``given`` to the room that owns it; :class:`InputRejected` when it cannot apply."""
    match given:
        case inputs.ConnectDj():
            priority_sources.connect(core, given)
        case inputs.DisconnectDj():
            priority_sources.disconnect(core, given)
        case inputs.UrlDown() | inputs.UrlUp():
            webstream_reactions.set_url(core, given)
        case inputs.ProbeResult():
            webstream_reactions.probe_result(core, given)
        case inputs.ForceFailover():
            webstream_reactions.force_failover(core, given)
        case inputs.ResetWebstream():
            webstream_reactions.reset(core, given)
        case inputs.InsertEmergency():
            priority_sources.insert_emergency(core, given)
        case inputs.StartOverride():
            priority_sources.start_override(core, given)
        case inputs.Release():
            priority_sources.manual_release(core, given)
        case inputs.HandOver():
            priority_sources.operator_handover(core, given)
        case inputs.UpdateMetadata():
            priority_sources.update_metadata(core, given)
        case inputs.Skip():
            programming.skip(core, given)
        case _:  # pragma: no cover - the union is closed
            raise TypeError(f"not an input: {given!r}")
    if core.applied is not None:
        core.applied.append(Applied(core.now_ms, given))


def _happening(core: CoreState, item: tuple[Happening, int]) -> None:
    """A scripted input (the timeline's ``HAPPENING``); one that cannot apply becomes a :class:`Notice`."""
    happening, occurrence = item
    if happening.every_ms and (happening.count is None or occurrence < happening.count):
        core.timeline.push(core.now_ms + happening.every_ms, Rank.HAPPENING, (happening, occurrence + 1))
    try:
        apply_input(core, happening.input)
    except InputRejected as exc:
        core.notices.append(Notice(core.now_ms, happening.index, exc.detail))


def _wake(core: CoreState, item: str) -> None:
    """Only makes the stations reconcile at this instant (a track's boundary)."""


_TIMELINE_HANDLERS: dict[Rank, Callable[[CoreState, Any], None]] = {
    Rank.REFRESH: programming.refresh_schedule,
    Rank.SLOT_END: programming.slot_end,
    Rank.SLOT_START: programming.slot_start,
    Rank.MEDIA_END: priority_sources.media_end,
    Rank.HAPPENING: _happening,
    Rank.PROBE: webstream_reactions.probe_check,
    Rank.GRACE: webstream_reactions.grace_over,
    Rank.WAKE: _wake,
}
"""Who runs each timeline item; ``HEALTH`` beats run after the stations reconcile (``advance``)."""
