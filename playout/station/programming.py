"""Programming: the schedule's slots coming and going, and automation's content.

Automation (tier 3) plays the slot in force (a playlist or a webstream), else the
rotation; fallback (tier 4) plays the rotation. Tracks follow each other at their
boundary (the end less the crossfade), never the same one twice in a row.
"""

from ..protocol import inputs
from ..scenario.model import Track
from . import announce
from .ladder import LIVE_SCHEDULED, Source
from .outcomes import InputRejected
from .priority_sources import live_source, release
from .schedule import Entry, entries_between
from .state import CoreState, Play, StationState, TrackCursor, TrackPlay, WebstreamPlay
from .timeline import Rank

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
