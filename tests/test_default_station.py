"""The default week is a station a now-playing UI can be built against at any hour."""

from itertools import pairwise

from playout import Playout, load_catalog
from playout.protocol.events import NowPlayingMedia
from tests.support import ROOT, shipped

HOUR = 3_600_000
DEFAULT = shipped(load_catalog(ROOT / "scenarios.toml").default)


def test_something_renderable_is_on_air_at_every_hour_of_the_week():
    core = Playout(DEFAULT)
    silent = []
    for hour in range(DEFAULT.duration_ms // HOUR):
        core.advance(hour * HOUR)
        for station in core.snapshot().stations:
            playing = station.now_playing
            shown = playing and (getattr(playing, "title", "") or getattr(playing, "webstream_name", ""))
            if not shown:
                silent.append((hour // 24, hour % 24, station.key))
    assert silent == []


def test_tracks_change_every_few_minutes_in_daytime_automation():
    changes = [e for e in Playout(DEFAULT).advance(DEFAULT.duration_ms) if e.event.TYPE == "now_playing"]
    longest: dict[int, int] = {}  # hour of the week -> the longest a track stayed on air
    for track, following in pairwise(changes):
        hour = track.at_ms // HOUR
        if hour % 24 >= 6 and isinstance(track.event, NowPlayingMedia):
            longest[hour] = max(longest.get(hour, 0), following.at_ms - track.at_ms)
    daytime = [h for h in range(DEFAULT.duration_ms // HOUR) if h % 24 >= 6]
    without_tracks = [(h // 24, h % 24) for h in daytime if h not in longest]
    # Only the live shows and the Saturday relay hold the air for an hour or more.
    assert without_tracks == [(2, 20), (2, 21), (5, 14)]  # Wednesday's show, Saturday's relay
    assert max(longest.values()) <= 8 * 60_000, "a track change at least every 8 minutes"


def test_the_week_still_has_its_djs_shows_webstream_trouble_and_emergency_test():
    kinds = {e.event.TYPE for e in Playout(DEFAULT).advance(DEFAULT.duration_ms)}
    assert {
        "dj_connect",
        "dj_disconnect",
        "live.handover",
        "live.released",
        "webstream.failover",
        "webstream.recovered",
        "priority.emergency",
        "priority.override",
        "schedule_update",
    } <= kinds
