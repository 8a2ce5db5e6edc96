"""The canonical sequences of docs/protocol.md, on the shipped focused scenarios: exact order and payloads."""

from tests.support import kinds, log, shipped


def ids(name: str):
    scenario = shipped(name)
    station = scenario.stations[0]
    return scenario, station.id, station.mounts[0].id


def media(scenario, station_id, mount_id, key, starts_at):
    track = scenario.tracks[key]
    return {
        "station_id": station_id,
        "mount_id": mount_id,
        "media_id": track.id,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "duration": track.duration_ms / 1000,
        "starts_at": starts_at,
    }


def test_unscheduled_dj_connects_and_disconnects():
    scenario, station, mount = ids("dj-takeover")
    rows = log(scenario)
    mike = scenario.djs["mike"]
    assert rows[0] == (
        "2026-01-19T10:00:00Z",
        "schedule_update",
        {"station_id": station, "entries_added": 3, "timestamp": "2026-01-19T10:00:00Z"},
    )
    assert rows[1] == (
        "2026-01-19T10:00:00Z",
        "now_playing",
        media(scenario, station, mount, "one", "2026-01-19T10:00:00Z"),
    )
    assert rows[2] == (
        "2026-01-19T10:03:00Z",
        "now_playing",
        media(scenario, station, mount, "two", "2026-01-19T10:03:00Z"),
    )
    connect = rows[3][2]
    session = connect["session_id"]
    assert rows[3:7] == [
        (
            "2026-01-19T10:05:00Z",
            "dj_connect",
            {
                "station_id": station,
                "mount_id": mount,
                "session_id": session,
                "username": "DJ Mike",
                "source_ip": "203.0.113.7",
            },
        ),
        (
            "2026-01-19T10:05:00Z",
            "live.handover",
            {
                "station_id": station,
                "session_id": session,
                "user_id": mike.user_id,
                "username": "DJ Mike",
                "priority": 1,
                "transition_type": "faded",
                "handover_at": "2026-01-19T10:05:00Z",
            },
        ),
        (
            "2026-01-19T10:05:00Z",
            "now_playing",
            {
                "station_id": station,
                "mount_id": mount,
                "session_id": session,
                "user_id": mike.user_id,
                "username": "DJ Mike",
                "title": "DJ Mike live",
                "artist": "DJ Mike",
                "starts_at": "2026-01-19T10:05:00Z",
            },
        ),
        (
            "2026-01-19T10:35:00Z",
            "dj_disconnect",
            {"station_id": station, "session_id": session, "username": "DJ Mike", "duration_seconds": 1800.0},
        ),
    ]
    assert rows[7:10] == [
        (
            "2026-01-19T10:35:00Z",
            "live.released",
            {
                "station_id": station,
                "session_id": session,
                "user_id": mike.user_id,
                "username": "DJ Mike",
                "released_at": "2026-01-19T10:35:00Z",
            },
        ),
        (
            "2026-01-19T10:35:00Z",
            "priority.released",
            {
                "station_id": station,
                "previous_priority": 1,
                "new_priority": 3,
                "released_at": "2026-01-19T10:35:00Z",
            },
        ),
        # Automation resumes with a fresh track (the playlist's next), not the interrupted one.
        (
            "2026-01-19T10:35:00Z",
            "now_playing",
            media(scenario, station, mount, "three", "2026-01-19T10:35:00Z"),
        ),
    ]


def test_scheduled_show_starts_and_ends_with_its_dj_connected():
    scenario, station, _mount = ids("show-with-dj")
    rows = log(scenario)
    sarah = scenario.djs["sarah"]
    live = [
        r for r in rows if r[1] != "now_playing" or "session_id" in r[2] or r[0] == "2026-01-21T22:00:00Z"
    ]
    session = next(r[2]["session_id"] for r in rows if r[1] == "dj_connect")
    assert kinds(live[:8]) == [
        ("2026-01-21T19:50:00Z", "schedule_update"),
        # A priority-2 (show) token before the show: connected, waiting, not on air.
        ("2026-01-21T19:54:00Z", "dj_connect"),
        ("2026-01-21T20:00:00Z", "live.handover"),
        ("2026-01-21T20:00:00Z", "now_playing"),
        # The show ends while the DJ is still connected: released all the same.
        ("2026-01-21T22:00:00Z", "live.released"),
        ("2026-01-21T22:00:00Z", "priority.released"),
        ("2026-01-21T22:00:00Z", "now_playing"),
        ("2026-01-21T22:05:00Z", "dj_disconnect"),
    ]
    assert live[2][2] == {
        "station_id": station,
        "session_id": session,
        "user_id": sarah.user_id,
        "username": "DJ Sarah",
        "priority": 2,
        "transition_type": "faded",
        "handover_at": "2026-01-21T20:00:00Z",
    }
    assert live[3][2]["title"] == "Wednesday Night Session"
    assert live[5][2] == {
        "station_id": station,
        "previous_priority": 2,
        "new_priority": 3,
        "released_at": "2026-01-21T22:00:00Z",
    }
    assert "media_id" in live[6][2] and live[6][2]["starts_at"] == "2026-01-21T22:00:00Z"
    assert live[7][2] == {
        "station_id": station,
        "session_id": session,
        "username": "DJ Sarah",
        "duration_seconds": 7860.0,
    }
    # Nothing live happens between the handover and the show's end.
    assert not [r for r in rows if "2026-01-21T20:00:00Z" < r[0] < "2026-01-21T22:00:00Z"]


def test_scheduled_show_without_its_dj_keeps_automation_then_dj_arrives_late():
    scenario, station, _ = ids("show-without-dj")
    rows = log(scenario)
    # 20:00: the show's slot starts with no DJ: automation carries on, no live events.
    assert [r for r in rows if r[1] != "now_playing" and r[0] < "2026-01-21T20:10:00Z"] == [
        (
            "2026-01-21T19:55:00Z",
            "schedule_update",
            {"station_id": station, "entries_added": 1, "timestamp": "2026-01-21T19:55:00Z"},
        )
    ]
    not_tracks = [(w, k) for w, k, p in rows if not (k == "now_playing" and "media_id" in p)]
    assert not_tracks == [
        ("2026-01-21T19:55:00Z", "schedule_update"),
        ("2026-01-21T20:10:00Z", "dj_connect"),
        ("2026-01-21T20:10:00Z", "live.handover"),
        ("2026-01-21T20:10:00Z", "now_playing"),
        ("2026-01-21T20:20:00Z", "dj_disconnect"),
        ("2026-01-21T20:20:00Z", "live.released"),
        ("2026-01-21T20:20:00Z", "priority.released"),
    ]
    handover = next(p for _, k, p in rows if k == "live.handover")
    assert handover["priority"] == 2  # connected inside the show: the scheduled tier
    released = next(p for _, k, p in rows if k == "priority.released")
    assert (released["previous_priority"], released["new_priority"]) == (2, 3)


def test_emergency_during_automation_and_during_a_live_show():
    scenario, station, mount = ids("emergency")
    rows = log(scenario)
    alert = scenario.tracks["eas-test"]
    noon = [r for r in rows if "2026-01-23T12:00:00Z" <= r[0] <= "2026-01-23T12:01:00Z"]
    assert noon == [
        (
            "2026-01-23T12:00:00Z",
            "priority.emergency",
            {
                "station_id": station,
                "media_id": alert.id,
                "priority": 0,
                "source_type": "emergency",
                "inserted_at": "2026-01-23T12:00:00Z",
            },
        ),
        (
            "2026-01-23T12:00:00Z",
            "now_playing",
            media(scenario, station, mount, "eas-test", "2026-01-23T12:00:00Z"),
        ),
        (
            "2026-01-23T12:01:00Z",
            "priority.released",
            {
                "station_id": station,
                "previous_priority": 0,
                "new_priority": 3,
                "released_at": "2026-01-23T12:01:00Z",
            },
        ),
        # Fresh track: "one" was interrupted at 12:00, automation resumes with "two".
        (
            "2026-01-23T12:01:00Z",
            "now_playing",
            media(scenario, station, mount, "two", "2026-01-23T12:01:00Z"),
        ),
    ]
    during_show = [(w, k) for w, k, _ in rows if "2026-01-23T12:20:00Z" <= w <= "2026-01-23T12:45:00Z"]
    assert during_show == [
        ("2026-01-23T12:20:00Z", "dj_connect"),
        ("2026-01-23T12:20:00Z", "live.handover"),
        ("2026-01-23T12:20:00Z", "now_playing"),
        ("2026-01-23T12:30:00Z", "priority.emergency"),
        ("2026-01-23T12:30:00Z", "now_playing"),
        # The DJ, still connected, takes the air back: a new handover, same session.
        ("2026-01-23T12:31:00Z", "priority.released"),
        ("2026-01-23T12:31:00Z", "live.handover"),
        ("2026-01-23T12:31:00Z", "now_playing"),
        ("2026-01-23T12:45:00Z", "dj_disconnect"),
        ("2026-01-23T12:45:00Z", "live.released"),
        ("2026-01-23T12:45:00Z", "priority.released"),
        ("2026-01-23T12:45:00Z", "now_playing"),
    ]
    by_time = {(w, k): p for w, k, p in rows}
    assert by_time[("2026-01-23T12:31:00Z", "priority.released")]["new_priority"] == 1
    first = by_time[("2026-01-23T12:20:00Z", "live.handover")]
    again = by_time[("2026-01-23T12:31:00Z", "live.handover")]
    assert again["session_id"] == first["session_id"]
    assert (first["transition_type"], again["transition_type"]) == ("immediate", "immediate")


def test_webstream_fails_over_and_recovers():
    scenario, station, mount = ids("webstream-failover")
    relay = scenario.webstreams["relay"]
    rows = log(scenario)

    def playing(url, status):
        return {
            "station_id": station,
            "mount_id": mount,
            "webstream_id": relay.id,
            "webstream_name": "Public Radio Relay",
            "url": url,
            "health_status": status,
        }

    primary, backup = relay.urls
    assert rows == [
        (
            "2026-01-20T02:00:00Z",
            "schedule_update",
            {"station_id": station, "entries_added": 3, "timestamp": "2026-01-20T02:00:00Z"},
        ),
        ("2026-01-20T02:00:00Z", "now_playing", playing(primary, "healthy")),
        # Down at 02:10:00; checks every 30 s fail at :00, :30, 02:11:00; 5 s grace.
        (
            "2026-01-20T02:11:05Z",
            "webstream.failover",
            {
                "webstream_id": relay.id,
                "webstream_name": "Public Radio Relay",
                "failed_url": primary,
                "failover_url": backup,
                "reason": "connection_timeout",
                "timestamp": "2026-01-20T02:11:05Z",
            },
        ),
        ("2026-01-20T02:11:05Z", "now_playing", playing(backup, "degraded")),
        # Up at 02:35:00; three passing checks (hysteresis) before recovery.
        (
            "2026-01-20T02:36:00Z",
            "webstream.recovered",
            {
                "webstream_id": relay.id,
                "webstream_name": "Public Radio Relay",
                "recovered_url": primary,
                "timestamp": "2026-01-20T02:36:00Z",
            },
        ),
        ("2026-01-20T02:36:00Z", "now_playing", playing(primary, "healthy")),
    ]


def test_every_url_of_a_webstream_fails_and_the_station_falls_back():
    scenario, station, _mount = ids("webstream-all-down")
    relay = scenario.webstreams["relay"]
    primary, backup = relay.urls
    rows = log(scenario)
    # While in fallback the library plays on: tracks only, until the relay returns.
    later_tracks = [r for r in rows if "2026-01-24T03:01:05Z" < r[0] < "2026-01-24T03:13:00Z"]
    assert later_tracks and all(k == "now_playing" and "media_id" in p for _, k, p in later_tracks)
    rows = [r for r in rows if r not in later_tracks]
    assert kinds(rows) == [
        ("2026-01-24T02:55:00Z", "schedule_update"),
        ("2026-01-24T02:55:00Z", "now_playing"),
        # Both down at 03:00; after three failures and the grace, no usable URL is left.
        ("2026-01-24T03:01:05Z", "priority.released"),
        ("2026-01-24T03:01:05Z", "now_playing"),
        # The backup is up at 03:12 and passes three checks first: back on air via the backup.
        ("2026-01-24T03:13:00Z", "webstream.failover"),
        ("2026-01-24T03:13:00Z", "now_playing"),
        # The primary is up at 03:15 and passes three checks: recovered.
        ("2026-01-24T03:16:00Z", "webstream.recovered"),
        ("2026-01-24T03:16:00Z", "now_playing"),
    ]
    assert rows[2][2] == {
        "station_id": station,
        "previous_priority": 3,
        "new_priority": 4,
        "released_at": "2026-01-24T03:01:05Z",
    }
    assert "media_id" in rows[3][2]  # the fallback plays the library
    assert rows[4][2] == {
        "webstream_id": relay.id,
        "webstream_name": "Public Radio Relay",
        "failed_url": primary,
        "failover_url": backup,
        "reason": "connection_refused",
        "timestamp": "2026-01-24T03:13:00Z",
    }
    assert rows[5][2]["url"] == backup and rows[5][2]["health_status"] == "degraded"
    assert rows[7][2]["url"] == primary and rows[7][2]["health_status"] == "healthy"


def test_crossfaded_track_changes():
    scenario, station, mount = ids("crossfade")
    rows = log(scenario)
    one, two, three = (scenario.tracks[k] for k in ("one", "two", "three"))
    assert rows[1:5] == [
        (
            "2026-01-19T10:00:00Z",
            "now_playing",
            media(scenario, station, mount, "one", "2026-01-19T10:00:00Z"),
        ),
        # The next track starts 5 s (the crossfade) before the last one ends...
        (
            "2026-01-19T10:02:55Z",
            "now_playing",
            media(scenario, station, mount, "two", "2026-01-19T10:02:55Z"),
        ),
        # ...and the crossfade notice follows its now_playing.
        (
            "2026-01-19T10:02:55Z",
            "health",
            {
                "station_id": station,
                "mount_id": mount,
                "event": "crossfade",
                "previous_media": one.id,
                "current_media": two.id,
                "timestamp": "2026-01-19T10:02:55Z",
            },
        ),
        (
            "2026-01-19T10:06:10Z",
            "now_playing",
            media(scenario, station, mount, "three", "2026-01-19T10:06:10Z"),
        ),
    ]
    assert rows[5][2]["previous_media"] == two.id and rows[5][2]["current_media"] == three.id


def test_schedule_refresh_announces_added_entries():
    scenario, _station, _mount = ids("schedule-refresh")
    updates = [(w, p["entries_added"]) for w, k, p in log(scenario) if k == "schedule_update"]
    # 48 h ahead of Mon 08:30: Mon+Tue 09:00 (weekdays) and Mon+Tue 11:00 (daily).
    # Each hourly refresh adds what enters the window: Wed 09:00, the Wed 10:00
    # one-off, Wed 11:00; the 12:30 refresh adds nothing and stays silent.
    assert updates == [
        ("2026-01-19T08:30:00Z", 4),
        ("2026-01-19T09:30:00Z", 1),
        ("2026-01-19T10:30:00Z", 1),
        ("2026-01-19T11:30:00Z", 1),
    ]
