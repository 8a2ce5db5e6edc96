"""The edge-case library: what users of radio systems keep reporting, each pinned exactly."""

import itertools
from datetime import datetime, timedelta

from playout import Playout
from tests.support import kinds, log, shipped


def at(clock: str, day: str = "2026-01-19") -> str:
    return f"{day}T{clock}Z"


def summary(rows):
    """(time, type, the one payload detail that matters) for each event."""
    detail_keys = ("title", "username", "failed_url", "recovered_url", "previous_priority", "entries_added")
    out = []
    for when, kind, payload in rows:
        detail = next((payload[k] for k in detail_keys if k in payload), None)
        if kind == "priority.released":
            detail = (payload["previous_priority"], payload["new_priority"])
        if kind == "live.handover":
            detail = (payload["username"], payload["priority"], payload["transition_type"])
        out.append((when, kind, detail))
    return out


def test_dj_one_second_before_a_track_ends_goes_on_air_at_the_boundary():
    rows = log(shipped("edge-dj-before-track-end"), skip=("schedule_update",))
    assert summary(rows) == [
        (at("10:00:00"), "now_playing", "First Light"),
        (at("10:02:59"), "dj_connect", "DJ Mike"),
        (at("10:03:00"), "live.handover", ("DJ Mike", 1, "delayed")),  # one second later, not a track later
        (at("10:03:00"), "now_playing", "DJ Mike live"),
        (at("10:08:00"), "dj_disconnect", "DJ Mike"),
        (at("10:08:00"), "live.released", "DJ Mike"),
        (at("10:08:00"), "priority.released", (1, 3)),
        (at("10:08:00"), "now_playing", "Second Wind"),
    ]
    assert rows[4][2]["duration_seconds"] == 301.0


def test_dj2_connecting_the_instant_dj1_drops_gets_every_event():
    rows = log(shipped("edge-dj-instant-swap"), skip=("schedule_update",))
    assert summary([r for r in rows if r[0] == at("10:20:00")]) == [
        (at("10:20:00"), "dj_disconnect", "DJ Mike"),
        (at("10:20:00"), "dj_connect", "DJ Sarah"),
        (at("10:20:00"), "live.released", "DJ Mike"),
        (at("10:20:00"), "priority.released", (1, 1)),
        (at("10:20:00"), "live.handover", ("DJ Sarah", 1, "immediate")),
        (at("10:20:00"), "now_playing", "DJ Sarah live"),  # no automation track in between
    ]
    assert summary(rows)[-4:] == [
        (at("10:28:00"), "dj_disconnect", "DJ Sarah"),
        (at("10:28:00"), "live.released", "DJ Sarah"),
        (at("10:28:00"), "priority.released", (1, 3)),
        (at("10:28:00"), "now_playing", "Third Rail"),
    ]


def test_a_flapping_dj_connection_is_announced_in_full_every_time():
    rows = log(shipped("edge-flapping-dj"), skip=("schedule_update",))
    live = [r for r in rows if r[0] != at("10:00:00") and r[0] < at("10:02:30")]
    cycle = [
        "dj_connect",
        "live.handover",
        "now_playing",
        "dj_disconnect",
        "live.released",
        "priority.released",
        "now_playing",
    ]
    assert [k for _, k, _ in live] == cycle * 4
    connects = [w for w, k, _ in live if k == "dj_connect"]
    assert connects == [at("10:00:30"), at("10:01:00"), at("10:01:30"), at("10:02:00")]
    assert {p["duration_seconds"] for _, k, p in live if k == "dj_disconnect"} == {20.0}
    # Each drop gives a fresh automation track, never the one the DJ interrupted.
    titles = [p["title"] for _, k, p in live if k == "now_playing" and "media_id" in p]
    assert titles == ["Second Wind", "Third Rail", "First Light", "Second Wind"]


def test_a_flapping_primary_stream_cannot_make_the_station_flap():
    scenario = shipped("edge-flapping-stream")
    rows = log(scenario, skip=("schedule_update",))
    primary, backup = scenario.webstreams["relay"].urls
    day = "2026-01-20"
    assert [(w, k, p.get("url") or p.get("failed_url") or p.get("recovered_url")) for w, k, p in rows] == [
        (at("02:00:00", day), "now_playing", primary),
        # Down 02:05-02:07: fails at :05:00, :05:30, :06:00, then the 5 s grace.
        (at("02:06:05", day), "webstream.failover", primary),
        (at("02:06:05", day), "now_playing", backup),
        # Up one minute in three: two passes at a time are not enough to go back.
        # After the last outage (02:20-02:22) it passes 02:22:00, :22:30, :23:00.
        (at("02:23:00", day), "webstream.recovered", primary),
        (at("02:23:00", day), "now_playing", primary),
    ]


def test_every_url_failing_falls_back_to_the_library_not_silence():
    rows = log(shipped("edge-all-urls-down"), skip=("schedule_update",))
    day = "2026-01-24"
    assert summary([r for r in rows if "media_id" not in r[2]]) == [
        (at("03:00:00", day), "now_playing", None),
        (at("03:03:05", day), "priority.released", (3, 4)),
        (at("03:13:00", day), "webstream.recovered", "http://primary.example.org/stream"),
        (at("03:13:00", day), "now_playing", None),
    ]
    fallback = [r for r in rows if "media_id" in r[2]]
    assert fallback[0][0] == at("03:03:05", day)  # the library starts the same instant: no dead air
    assert all(at("03:03:05", day) <= w < at("03:13:00", day) for w, _, _ in fallback)


def test_a_show_ending_releases_its_dj_who_stays_connected():
    scenario = shipped("edge-show-ends-dj-stays")
    rows = log(scenario, skip=("schedule_update",))
    day = "2026-01-21"
    assert summary(rows)[:7] == [
        (at("19:58:00", day), "now_playing", "Second Wind"),
        (at("19:59:00", day), "dj_connect", "DJ Sarah"),
        (at("20:00:00", day), "live.handover", ("DJ Sarah", 2, "faded")),
        (at("20:00:00", day), "now_playing", "Short Session"),
        (at("20:20:00", day), "live.released", "DJ Sarah"),
        (at("20:20:00", day), "priority.released", (2, 3)),
        (at("20:20:00", day), "now_playing", "Third Rail"),
    ]
    assert "dj_disconnect" not in [k for _, k, _ in rows]
    core = Playout(scenario)
    core.advance(scenario.duration_ms)
    (sarah,) = core.snapshot().stations[0].djs
    assert (sarah.username, sarah.on_air) == ("DJ Sarah", False)  # connected, off the air


def test_an_emergency_during_a_live_show_hands_the_air_back():
    rows = log(shipped("edge-emergency-in-show"), skip=("schedule_update",))
    day = "2026-01-21"
    assert summary(rows) == [
        (at("19:59:00", day), "now_playing", "Second Wind"),
        (at("20:01:00", day), "dj_connect", "DJ Sarah"),
        (at("20:01:00", day), "live.handover", ("DJ Sarah", 2, "faded")),
        (at("20:01:00", day), "now_playing", "Wednesday Night Session"),
        (at("20:10:00", day), "priority.emergency", None),
        (at("20:10:00", day), "now_playing", "Severe Weather Alert"),
        (at("20:10:45", day), "priority.released", (0, 2)),
        (at("20:10:45", day), "live.handover", ("DJ Sarah", 2, "immediate")),
        (at("20:10:45", day), "now_playing", "Wednesday Night Session"),
    ]
    handovers = [p["session_id"] for _, k, p in rows if k == "live.handover"]
    assert handovers[0] == handovers[1]


def test_a_gap_in_the_schedule_is_filled_without_dead_air():
    rows = log(shipped("edge-schedule-gap"), skip=("schedule_update",))
    assert kinds(rows) == [(w, "now_playing") for w, _, _ in rows]
    assert [(w[11:19], p["title"]) for w, _, p in rows] == [
        ("06:00:00", "First Light"),
        ("06:03:00", "Second Wind"),
        ("06:06:20", "Third Rail"),
        ("06:10:20", "Second Wind"),  # the gap (06:10-06:20): the rotation, never a repeat
        ("06:13:40", "First Light"),
        ("06:16:40", "Third Rail"),
        ("06:20:00", "First Light"),  # the next entry starts on time, cutting the rotation
        ("06:23:00", "Second Wind"),
        ("06:26:20", "Third Rail"),
    ]
    for (when, _, playing), (following, _, _) in itertools.pairwise(rows):
        ends = datetime.fromisoformat(playing["starts_at"]) + timedelta(seconds=playing["duration"])
        assert datetime.fromisoformat(following) <= ends, f"silence after {playing['title']} at {when}"
