"""The ``grimnir`` profile's webstream checks and what plays after a release or at a live entry's start.

Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins
(docs/fidelity.md lists them all).
"""

from collections import Counter

from playout import inputs
from tests.test_profile_grimnir import Wire, types

PRIMARY, BACKUP = "http://primary.example.org/stream", "http://backup.example.org/stream"


def at(station: Wire, seconds: float) -> list[dict]:
    """Everything sent at station time ``seconds`` (station time at the last ``advance``)."""
    return station.advance(int(seconds * 1000))


def health_per_instant(station: Wire, until_ms: int) -> Counter:
    """How many ``webstream.health`` each instant up to ``until_ms`` sent, per webstream."""
    counts: Counter = Counter()
    while (deadline := station._next()) is not None and deadline <= until_ms:
        for message in station._step(deadline):
            if message["type"] == "webstream.health":
                counts[(deadline, message["payload"]["webstream_id"])] += 1
    return counts


# -- automatic recovery, failover and checks ------------------------------------------------------


def test_an_automatic_recovery_is_the_checks_health_of_the_backup_then_recovered_from_it():
    """internal/webstream/health_checker.go:180-237 handleSuccessfulCheck: the passing check of the URL in
    use publishes webstream.health (:198-203, the backup's URL: GetCurrentURL before the reset), then
    the recovery publishes webstream.recovered from that URL (ws.CurrentURL) to the primary (:218-234)."""
    station = Wire("webstream-failover")
    station.advance(2160_000 - 1)
    sent = at(station, 2160)
    assert types(sent) == ["webstream.health", "webstream.recovered"]
    health, recovered = sent[0]["payload"], sent[1]["payload"]
    assert (health["status"], health["url"]) == ("healthy", BACKUP)
    assert (recovered["from_url"], recovered["to_url"], recovered["auto"]) == (BACKUP, PRIMARY, True)
    assert types(at(station, 2190)) == ["webstream.health"]  # the next check, an interval on


def test_an_automatic_failover_is_published_alone_and_the_next_check_names_the_backup():
    """internal/webstream/health_checker.go:375-413 triggerFailover: MarkHealthy and webstream.failover, no
    webstream.health in that check; the next passing check publishes the backup's (:198-203)."""
    station = Wire("webstream-failover")
    station.advance(665_000 - 1)
    assert types(at(station, 665)) == ["webstream.failover"]
    checked = at(station, 690)
    assert [(m["payload"]["status"], m["payload"]["url"]) for m in checked] == [("healthy", BACKUP)]


def test_when_every_url_failed_the_primary_passing_again_is_one_health_and_no_recovery():
    """internal/webstream/health_checker.go:357-372: with the next URL failing too, the checker moves on
    silently (FailoverToNext, no event), so it checks whichever URL passes again; a pass on the primary
    (CurrentIndex 0, :208) publishes its webstream.health alone, once per check (:198-203)."""
    station = Wire("edge-all-urls-down")
    counts = health_per_instant(station, 20 * 60_000)
    assert max(counts.values()) == 1
    assert "webstream.recovered" not in types(station.messages)
    health = [m["payload"] for m in station.messages if m["type"] == "webstream.health"]
    checks = [(payload["status"], payload["url"]) for payload in health]
    assert checks[checks.index(("unhealthy", PRIMARY)) + 1] == ("healthy", PRIMARY)


def test_when_every_url_failed_a_backup_passing_again_is_no_failover_from_the_primary():
    """internal/webstream/health_checker.go:357-372 (the silent moves while every URL fails) and :402-412
    (a failover names the URL in use as from_url): the backup that comes back first is its check's
    webstream.health, not a webstream.failover claiming to come from the primary."""
    station = Wire("webstream-all-down")
    station.advance(1080_000 - 1)
    sent = at(station, 1080)
    assert [(m["type"], m["payload"]["status"], m["payload"]["url"]) for m in sent] == [
        ("webstream.health", "healthy", BACKUP)
    ]
    assert "webstream.failover" not in types(station.messages)
    recovered = at(station, 1260)[-1]["payload"]
    assert (recovered["from_url"], recovered["to_url"]) == (BACKUP, PRIMARY)


# -- manual failover ------------------------------------------------------------------------------


def test_a_manual_failover_leaves_the_health_status_and_a_second_wraps_to_the_primary():
    """internal/webstream/service.go:277-325 TriggerFailover: FailoverToNext (internal/models/webstream.go:
    138-161, wrapping to the primary with auto-recover on) and no Mark*: the stored health status stays;
    from_url/from_index are the URL in use."""
    station = Wire("webstream-failover")
    station.advance(60_000)
    key = next(iter(station.core.scenario.webstreams))
    wire = station.translator.webstreams
    first = station.submit(inputs.ForceFailover(webstream=key, to=1))
    assert [m["payload"]["current_index"] for m in first if m["type"] == "webstream.failover"] == [1]
    assert wire.health_status(key) == "healthy" and station.core.webstreams[key].status == "degraded"
    second = [m["payload"] for m in station.submit(inputs.ForceFailover(webstream=key, to=0))]
    assert [(p["from_index"], p["from_url"], p["current_index"], p["to_url"]) for p in second] == [
        (1, BACKUP, 0, PRIMARY)
    ]
    assert (wire.index(key), wire.url(key), wire.health_status(key)) == (0, PRIMARY, "healthy")
    assert station.core.webstreams[key].held  # the hold only a reset ends (issue 13)
    assert types(station.advance(20 * 60_000)).count("webstream.recovered") == 0


# -- now_playing after a release, and at a live entry's start -------------------------------------


def test_the_next_track_after_a_djs_show_ends_is_announced():
    """internal/playout/director.go:278-470 (tick: the next entry takes the mount under the default hard
    boundary, :753-783, and handleEntry publishes its now_playing) and :4914-4928 (the live source
    leaves the encoder): the stream's now_playing does not stay "Live DJ" after the show."""
    station = Wire("edge-show-ends-dj-stays")
    station.advance(1320_000 - 1)
    sent = at(station, 1320)
    playing = [m["payload"] for m in sent if m["type"] == "now_playing"]
    assert len(playing) == 1 and "media_id" in playing[0] and "is_live_dj" not in playing[0]


def test_after_a_dj_left_under_an_emergency_its_end_announces_automation():
    """internal/harbor/server.go:293-307 with internal/playout/director.go:4914-4928 and :475-525: a DJ's
    disconnect takes the live source off the encoder and automation resumes with a now_playing, which
    an emergency does not hold back (internal/executor/executor.go:481-498: priority never changes the
    real audio). A release by request alone changes nothing (no now_playing)."""
    station = Wire("dj-takeover")
    station.advance(6 * 60_000)
    alert = next(iter(station.core.scenario.tracks))
    station.submit(inputs.InsertEmergency(station="main", media=alert))
    station.submit(inputs.DisconnectDj(station="main", dj="mike"))
    assert station.messages[-1]["type"] == "dj_disconnect"
    ends_ms = 6 * 60_000 + station.core.scenario.tracks[alert].duration_ms
    assert "now_playing" not in types(station.advance(ends_ms - 1))
    playing = [m["payload"] for m in station.advance(ends_ms) if m["type"] == "now_playing"]
    assert len(playing) == 1 and "media_id" in playing[0] and "is_live_dj" not in playing[0]


def test_a_release_by_request_leaves_the_djs_now_playing():
    """internal/live/handover.go:219-246 ReleaseHandover: priority.released and live.released, the DJ
    stays connected and on the real air, so no now_playing follows."""
    station = Wire("dj-takeover")
    station.advance(6 * 60_000)
    sent = station.submit(inputs.Release(station="main", target="dj", name="mike"))
    assert "priority.released" in types(sent) and "now_playing" not in types(sent)


def test_a_live_entry_coming_into_force_sends_its_now_playing():
    """internal/playout/director.go:1171-1174 handleEntry: a "live" entry publishes now_playing with the
    entry's keys (publishNowPlaying, :4249-4270) and type "live", whether its DJ is there or not."""
    station = Wire("show-without-dj")
    station.advance(300_000 - 1)
    sent = at(station, 300)
    assert types(sent) == ["now_playing"]
    payload = sent[0]["payload"]
    assert set(payload) == {
        "ends_at", "entry_id", "metadata", "mount_id", "source_id", "source_type", "starts_at",
        "station_id", "type",
    }  # fmt: skip
    assert (payload["source_type"], payload["type"]) == ("live", "live")
    assert (payload["starts_at"], payload["ends_at"]) == ("2026-01-21T20:00:00Z", "2026-01-21T20:30:00Z")
    assert payload["source_id"] == station.core.scenario.djs["sarah"].user_id


def test_a_playlist_tracks_position_is_its_index_after_an_interruption_too():
    """internal/playout/director.go:3606-3613 (and :3266-3272): ``position`` is the index of the item
    played, ``items[nextPos]``, so it names the track whatever interrupted the playlist (here the
    emergencies and the live show of ``emergency``; its playlist is not shuffled)."""
    station = Wire("emergency")
    station.advance(station.core.scenario.duration_ms)
    scenario = station.core.scenario
    by_id = {track.id: key for key, track in scenario.tracks.items()}
    playlists = {playlist.id: playlist for playlist in scenario.playlists.values()}
    seen = 0
    for message in station.messages:
        payload = message["payload"]
        if message["type"] != "now_playing" or "position" not in payload:
            continue
        playlist = playlists[payload["source_id"]]
        assert not playlist.shuffle
        assert playlist.tracks[payload["position"]] == by_id[payload["media_id"]], payload
        seen += 1
    assert seen >= 10
