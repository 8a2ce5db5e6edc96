"""Putting on air what the ladder decides, and the status beat of what is on air.

Each station reconciles once per instant: the ladder (``ladder.py``) decides, this
module applies the decision (the leaving source leaves as its ``Departure`` says, the
arriving one is announced and starts playing), and automation's content goes on
(``programming``).
"""

from ..protocol import events as ev
from . import announce
from .ladder import PREEMPTED, Departure, Source, Switch, decide, stream_moves
from .priority_sources import announce_live_released
from .programming import crossfade_ms, keep_going, start_automation, start_priority_track, start_webstream
from .state import CoreState, LivePlay, Session, StationState, TrackPlay, WebstreamPlay
from .timeline import Rank


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
