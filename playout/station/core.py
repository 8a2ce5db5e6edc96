"""The station core: inputs with an explicit time in, documented events out.

No trio, no clock, no I/O. :class:`Playout` owns the state of every station of a
scenario (:class:`~playout.station.state.CoreState`); a driver calls
:meth:`Playout.advance` with the station time it has reached and
:meth:`Playout.submit` with inputs from outside, and gets back the events in the
order the station emitted them. Each input and timeline item goes to a function
that takes the state. The canonical sequences are listed in ``docs/protocol.md``;
each comment below names the rule it implements.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..protocol import events as ev
from ..protocol import inputs
from ..protocol.stationtime import StationClock
from ..scenario.loader import Happening, Scenario
from . import announce, priority_sources, programming, webstream_reactions
from .ladder import PREEMPTED, Departure, Source, Switch, decide, stream_moves
from .outcomes import Emitted, InputRejected, Notice
from .priority_sources import announce_live_released
from .programming import crossfade_ms, keep_going, start_automation, start_priority_track, start_webstream
from .state import CoreState, LivePlay, Session, StationState, TrackPlay, WebstreamPlay
from .timeline import Rank
from .views import StationSnapshot, take_snapshot
from .webstreams import WebstreamHealth


class Playout:
    """Every station of one scenario, advanced by explicit station time."""

    def __init__(self, scenario: Scenario, *, anchor: datetime | None = None) -> None:
        """``anchor`` is the instant the wire shows for station millisecond 0 (default: the scenario's
        start); the program itself always follows the scenario's calendar."""
        self.state = CoreState(scenario, scenario.clock if anchor is None else StationClock(anchor))
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
            reconcile_all(state)
            for station_key in deferred_health:
                status_beat(state, station_key)
        state.now_ms = now_ms
        return state.drain()

    def submit(self, given: inputs.Input) -> list[Emitted]:
        """Apply one input from outside at the current station time.

        Call :meth:`advance` first to bring the core up to the input's time. Raises
        :class:`InputRejected` when the input cannot apply; then nothing changed.
        """
        apply_input(self.state, given)
        reconcile_all(self.state)
        return self.state.drain()

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


# -- on air: applying what the ladder decides --------------------------------------------------------


def reconcile_all(core: CoreState) -> None:
    for station in core.stations.values():
        reconcile(core, station)


def reconcile(core: CoreState, station: StationState) -> None:
    """Apply what the ladder decides (``ladder.py``); then keep automation's content going."""
    webstreams = core.webstreams
    entry = station.entry
    automation_stream = entry.slot.target if entry is not None and entry.slot.kind == "webstream" else None
    for source, event in stream_moves(
        station.ladder, automation_stream, lambda key: webstreams[key].active is not None
    ):
        source.fire(event)
    play = station.play
    decision = decide(
        station.ladder,
        station.on_air,
        core.now_ms,
        boundary_ms=play.boundary_ms if isinstance(play, TrackPlay) else None,
        crossfade=crossfade_ms(station) > 0,
    )
    if isinstance(decision, Switch):
        _switch(core, station, decision)
    else:
        # Stay, or a delayed handover waiting for the boundary (the WAKE pushed with the
        # track reconciles again then).
        keep_going(core, station)
    station.cut = False


def _switch(core: CoreState, station: StationState, decision: Switch) -> None:
    best = decision.to
    current = station.on_air
    previous_play = station.play
    if current is not None:
        assert decision.departure is not None
        _leave(core, station, current, best, decision.departure)
    station.on_air = best
    scenario = core.scenario
    if best.kind == "emergency":
        track = core.track(best.media or "")
        core.emit(announce.priority_emergency(station, track, core.stamp()))
        start_priority_track(core, station, best, track)
    elif best.kind == "override":
        if best.media is not None:
            core.emit(
                announce.priority_override(
                    station, "media", scenario.tracks[best.media].id, decision.transition
                )
            )
            start_priority_track(core, station, best, scenario.tracks[best.media])
        else:
            webstream = best.webstream or ""
            core.emit(
                announce.priority_override(
                    station, "webstream", scenario.webstreams[webstream].id, decision.transition
                )
            )
            start_webstream(core, station, webstream)
    elif best.kind == "live":
        session = best.session
        assert isinstance(session, Session)
        if best.announce_override:
            best.announce_override = False  # announced once, not again after an emergency
            core.emit(announce.priority_override(station, "live", session.id, best.transition))
        _hand_over(core, station, session, best, decision.transition)
    else:
        start_automation(
            core, station, best, crossfade=decision.transition == "faded", previous=previous_play
        )


def _leave(
    core: CoreState, station: StationState, current: Source, incoming: Source, departure: Departure
) -> None:
    """``current`` gives the air to ``incoming`` as ``departure`` says (``ladder.DEPARTURES``)."""
    if departure is PREEMPTED:
        current.play_token = None  # its pending end-of-track no longer applies
        return
    if departure.announce:
        if current.kind == "live":
            session = current.session
            assert isinstance(session, Session)
            session.source = None
            announce_live_released(core, station, session, current)
        core.emit(announce.priority_released(station, current, incoming, core.stamp()))
    if departure.remove:
        station.ladder.remove(current)


def _hand_over(
    core: CoreState, station: StationState, session: Session, source: Source, transition: ev.Transition
) -> None:
    source.handed_over = True
    core.emit(announce.live_handover(station, session, transition, core.stamp()))
    station.play = LivePlay(session)
    core.emit_now_playing(station, announce.now_playing_live(station, session, core.stamp()))


def status_beat(core: CoreState, station_key: str) -> None:
    """The periodic ``health`` status of a station (the timeline's ``HEALTH`` item), and the next one."""
    station = core.stations[station_key]
    on_air = station.on_air
    assert on_air is not None
    play = station.play
    stream = core.webstreams[play.webstream] if isinstance(play, WebstreamPlay) else None
    core.emit(announce.health_status(station, on_air, stream, core.stamp()))
    core.timeline.push(core.now_ms + station.spec.health_interval_ms, Rank.HEALTH, station.spec.key)


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
