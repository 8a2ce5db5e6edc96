"""The ``grimnir`` profile's account of what plays: ``now_playing`` for scheduled and rotation audio and for
a live entry's start, and the director's ``health`` snapshot of every playing mount
(internal/playout/director.go)."""

import uuid

from ..protocol import events as ev
from ..protocol.wire import WireEvent
from ..scenario.model import Scenario
from ..station.core import Playout
from ..station.schedule import Entry
from ..station.state import LivePlay, StationState, TrackPlay, WebstreamPlay
from . import grimnir_payloads as real
from .base import wire_event
from .grimnir_webstreams import WebstreamWire

LIVE_ENDS_AFTER_MS = 24 * 3600 * 1000
"""A live DJ's snapshot ``ends_at``: connect time + 24 h (``InjectLiveSource``, director.go:4896-4903)."""


class PlayingWire:
    """``now_playing`` and ``health`` snapshots as the real director publishes them."""

    def __init__(self, scenario: Scenario, ids: uuid.UUID, webstreams: WebstreamWire) -> None:
        """``webstreams``: the URL in use and stored health status a webstream's ``now_playing`` names."""
        self._scenario = scenario
        self._ids = ids
        self._webstreams = webstreams
        self._stations = {spec.id: spec for spec in scenario.stations}
        self._first_tracks: dict[str, str] = {}
        """Each station's entry whose first track has been announced (with the playlist's keys)."""
        self._entries: dict[str, Entry | None] = {spec.key: None for spec in scenario.stations}

    def now_playing_media(self, event: ev.NowPlayingMedia, core: Playout) -> list[WireEvent]:
        station = self._station_state(core, event.station_id)
        if _priority_on_air(station):
            return []
        play = station.play
        this_track = isinstance(play, TrackPlay) and play.track.id == event.media_id
        ends = core.clock.stamp(play.end_ms) if this_track else event.starts_at
        entry = self._entry(station, core, event.starts_at, ends)
        extras = real.track_extras(event.media_id, event.title, event.artist, event.album)
        if entry.source_type == "playlist" and station.entry is not None:
            playlist = self._scenario.playlists[station.entry.slot.target]
            first = self._first_tracks.get(event.station_id) != entry.id
            self._first_tracks[event.station_id] = entry.id
            # The index in the playlist's sequence of the item played (director.go:3606-3613)
            extras["position"] = station.playlists[playlist.key].index
            if first:
                extras |= {
                    "playlist_id": playlist.id,
                    "playlist_name": playlist.name,
                    "total_items": len(playlist.tracks),
                }
        return [wire_event("now_playing", real.now_playing_entry(entry, extras), event.station_id)]

    def now_playing_webstream(self, event: ev.NowPlayingWebstream, core: Playout) -> list[WireEvent]:
        station = self._station_state(core, event.station_id)
        if _priority_on_air(station):
            return []
        entry = self._entry(station, core, core.clock.stamp(core.now_ms))
        key = self._webstreams.key_of(event.webstream_id)
        # The URL in use and the stored status, as the real row has them (director.go:1376, :1492).
        extras = {
            "artist": event.webstream_name,
            "health_status": self._webstreams.health_status(key),
            "title": "On Air",
            "url": self._webstreams.url(key),
            "webstream_id": event.webstream_id,
            "webstream_name": event.webstream_name,
        }
        return [wire_event("now_playing", real.now_playing_entry(entry, extras), event.station_id)]

    def entry_starts(self, core: Playout) -> list[WireEvent]:
        """A live entry's ``now_playing`` when it comes into force, whoever is on air (``handleEntry``,
        director.go:1171-1174): the entry's keys and ``type: "live"``, nothing of a DJ."""
        out = []
        for key, station in core.stations.items():
            entry = station.entry
            if entry == self._entries[key]:
                continue
            self._entries[key] = entry
            if entry is not None and entry.slot.kind == "live":
                payload = real.now_playing_entry(self._entry(station, core, ""), {"type": "live"})
                out.append(wire_event("now_playing", payload, station.spec.id))
        return out

    def snapshots(self, core: Playout) -> list[WireEvent]:
        """Every playing mount's ``health`` snapshot (``emitHealthSnapshot``, director.go:4232-4247)."""
        out = []
        for station in core.stations.values():
            spec, play = station.spec, station.play
            mount_id = spec.mounts[0].id
            entry = self._entry(station, core, core.clock.stamp(core.now_ms))
            match play:
                case TrackPlay():
                    started = core.clock.stamp(play.start_ms)
                    ends = entry.ends_at if entry.id else core.clock.stamp(play.end_ms)
                    payload = real.health_snapshot(spec.id, mount_id, entry.id, play.track.id, started, ends)
                case WebstreamPlay():
                    webstream_id = self._scenario.webstreams[play.webstream].id
                    payload = real.health_snapshot(
                        spec.id, mount_id, entry.id, webstream_id, entry.starts_at, entry.ends_at
                    )
                case LivePlay():
                    connected = play.session.connected_ms
                    payload = real.health_snapshot(
                        spec.id,
                        play.session.mount.id,
                        f"live:{play.session.mount.id}",
                        "",
                        core.clock.stamp(connected),
                        core.clock.stamp(connected + LIVE_ENDS_AFTER_MS),
                    )
                case _:
                    continue
            out.append(wire_event("health", payload, spec.id))
        return out

    def _entry(
        self, station: StationState, core: Playout, fallback_start: str, fallback_end: str | None = None
    ) -> real.Entry:
        """The entry in force, as the real server's row; automation between entries is an entry of its own
        (``source_type`` media, no id: the simulator's rotation has no schedule row), from
        ``fallback_start`` to ``fallback_end`` (a rotation track's own start and end)."""
        spec = station.spec
        entry = station.entry
        if entry is None:
            end = fallback_end or fallback_start
            return real.Entry("", spec.id, spec.mounts[0].id, "media", "", fallback_start, end)
        slot = entry.slot
        if slot.kind == "playlist":
            source_type, source_id = "playlist", self._scenario.playlists[slot.target].id
        elif slot.kind == "webstream":
            source_type, source_id = "webstream", self._scenario.webstreams[slot.target].id
        else:
            source_type, source_id = "live", self._scenario.djs[slot.target].user_id
        entry_id = str(uuid.uuid5(self._ids, f"entry/{spec.key}/{slot.index}/{entry.start_ms}"))
        return real.Entry(
            entry_id,
            spec.id,
            spec.mounts[0].id,
            source_type,
            source_id,
            core.clock.stamp(entry.start_ms),
            core.clock.stamp(entry.end_ms),
        )

    def _station_state(self, core: Playout, station_id: str) -> StationState:
        return core.stations[self._stations[station_id].key]


def _priority_on_air(station: StationState) -> bool:
    """Whether an emergency or an override plays: priority sources never reach the real server's audio
    (internal/executor/executor.go:481-498), so what they play is announced by no ``now_playing``."""
    return station.on_air is not None and station.on_air.kind in ("emergency", "override")
