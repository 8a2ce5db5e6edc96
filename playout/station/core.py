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
from ..scenario.loader import Happening, Scenario, Track
from . import announce, priority_sources, webstream_reactions
from .ladder import LIVE_SCHEDULED, PREEMPTED, Departure, Source, Switch, decide, stream_moves
from .outcomes import Emitted, InputRejected, Notice
from .priority_sources import announce_live_released, live_source, release
from .schedule import Entry, entries_between
from .state import CoreState, LivePlay, Play, Session, StationState, TrackCursor, TrackPlay, WebstreamPlay
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
            skip(core, given)
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


# -- programming: slots and automation's content -----------------------------------------------------


WEEK_MS = 7 * 86_400_000


def refresh_schedule(core: CoreState, _: object) -> None:
    """Keep a rolling window of entries ahead and announce what was added (``schedule_update``)."""
    scenario = core.scenario
    first = core.window_end_ms == 0 and core.now_ms == 0
    begin = -WEEK_MS if first else core.window_end_ms
    end = core.now_ms + scenario.schedule_window_ms
    added: dict[str, int] = {}
    for entry in entries_between(scenario, scenario.slots, begin, end):
        if entry.end_ms <= 0:
            continue
        core.timeline.push(max(entry.start_ms, 0), Rank.SLOT_START, entry)
        core.timeline.push(entry.end_ms, Rank.SLOT_END, entry)
        added[entry.slot.station] = added.get(entry.slot.station, 0) + 1
    core.window_end_ms = end
    for key, station in core.stations.items():
        if added.get(key):
            core.emit(announce.schedule_update(station, added[key], core.stamp()))
    core.timeline.push(core.now_ms + scenario.schedule_refresh_ms, Rank.REFRESH, None)


def slot_start(core: CoreState, entry: Entry) -> None:
    station = core.stations[entry.slot.station]
    station.entry = entry
    if entry.slot.kind == "live":
        # A scheduled show's DJ, connected with a priority-2 session, may now take the air.
        session = station.sessions.get(entry.slot.target)
        if session is not None and session.priority == LIVE_SCHEDULED:
            if session.source is None:
                session.source = live_source(core, session)
                station.ladder.add(session.source)
            session.source.fire("admit")
    else:
        station.cut = True


def slot_end(core: CoreState, entry: Entry) -> None:
    station = core.stations[entry.slot.station]
    if station.entry is entry:
        station.entry = None
    if entry.slot.kind == "webstream":
        station.cut = True
    elif entry.slot.kind == "live":
        # The show is over: its DJ is released even when still connected.
        session = station.sessions.get(entry.slot.target)
        if session is not None and session.priority == LIVE_SCHEDULED and session.source is not None:
            release(core, station, session.source)


def skip(core: CoreState, given: inputs.Skip) -> None:
    """An operator skips automation's track: the next one starts now, without a crossfade."""
    station = core.station(given.station)
    on_air = station.on_air
    if (
        on_air is None
        or on_air.kind not in ("automation", "fallback")
        or not isinstance(station.play, TrackPlay)
    ):
        raise InputRejected("conflict", "only an automation track can be skipped")
    start_automation(core, station, on_air, crossfade=False, previous=station.play)


def keep_going(core: CoreState, station: StationState) -> None:
    """Nothing changes hands: advance automation's track, or follow its webstream's URL."""
    on_air = station.on_air
    assert on_air is not None
    play = station.play
    slot_changed = station.cut and on_air.kind == "automation"
    track_done = isinstance(play, TrackPlay) and play.boundary_ms <= core.now_ms
    if on_air.kind in ("automation", "fallback") and (slot_changed or track_done):
        start_automation(core, station, on_air, crossfade=True, previous=play)
    if isinstance(play, WebstreamPlay) and station.play is play:
        health = core.webstreams[play.webstream]
        if health.url is not None and health.url != play.url:
            start_webstream(core, station, play.webstream)


def crossfade_ms(station: StationState) -> int:
    """The slot's crossfade when it sets one, else the station's."""
    entry = station.entry
    if entry is not None and entry.slot.crossfade_ms is not None:
        return entry.slot.crossfade_ms
    return station.spec.crossfade_ms


def start_automation(
    core: CoreState, station: StationState, source: Source, *, crossfade: bool, previous: Play | None = None
) -> None:
    """A fresh item of automation (tier 3: the slot's content, else rotation) or fallback (tier 4)."""
    entry = station.entry
    if source.kind == "automation" and entry is not None and entry.slot.kind == "webstream":
        start_webstream(core, station, entry.slot.target)
        return
    if source.kind == "automation" and entry is not None and entry.slot.kind == "playlist":
        playlist = core.scenario.playlists[entry.slot.target]
        cursor = station.playlists.get(playlist.key)
        if cursor is None:
            cursor = station.playlists[playlist.key] = TrackCursor(
                playlist.tracks, playlist.shuffle, station.rng
            )
    else:
        cursor = station.rotation
    key = cursor.next()
    if isinstance(previous, TrackPlay) and key == previous.track.key:
        key = cursor.next()  # never the same track twice in a row (a one-track list excepted)
    track = core.scenario.tracks[key]
    fade_ms = min(crossfade_ms(station), track.duration_ms // 2)
    start_track(core, station, source, track, fade_ms)
    # The documented crossfade notice follows the incoming track's now_playing.
    if crossfade and fade_ms > 0 and isinstance(previous, TrackPlay) and previous.end_ms > core.now_ms:
        core.emit(announce.health_crossfade(station, previous.track, track, core.stamp()))


def start_priority_track(core: CoreState, station: StationState, source: Source, track: Track) -> None:
    """An emergency's or override's track, released when it ends (``MEDIA_END``)."""
    play = start_track(core, station, source, track, 0)
    core.timeline.push(play.end_ms, Rank.MEDIA_END, (station.spec.key, source, source.play_token))


def start_track(
    core: CoreState, station: StationState, source: Source, track: Track, fade_ms: int
) -> TrackPlay:
    now = core.now_ms
    station.track_count += 1
    source.play_token = station.track_count
    play = TrackPlay(track, now, now + track.duration_ms - fade_ms, now + track.duration_ms)
    station.play = play
    if source.kind in ("automation", "fallback"):
        core.timeline.push(play.boundary_ms, Rank.WAKE, station.spec.key)
    core.emit_now_playing(station, announce.now_playing_media(station, track, core.stamp()))
    return play


def start_webstream(core: CoreState, station: StationState, key: str) -> None:
    health = core.webstreams[key]
    url = health.url or health.spec.urls[0]
    station.play = WebstreamPlay(key, url)
    core.emit_now_playing(station, announce.now_playing_webstream(station, health, url))


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
    Rank.REFRESH: refresh_schedule,
    Rank.SLOT_END: slot_end,
    Rank.SLOT_START: slot_start,
    Rank.MEDIA_END: priority_sources.media_end,
    Rank.HAPPENING: _happening,
    Rank.PROBE: webstream_reactions.probe_check,
    Rank.GRACE: webstream_reactions.grace_over,
    Rank.WAKE: _wake,
}
"""Who runs each timeline item; ``HEALTH`` beats run after the stations reconcile (``advance``)."""
