"""The ``grimnir`` profile: the real server's messages for the core's decisions.

Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins
(docs/fidelity.md lists them all). The core runs unchanged; the translator shapes
what goes on the wire.
"""

import json
import subprocess
import sys

from playout import Playout, inputs, wire
from playout.profiles import GRIMNIR, PROFILES
from playout.profiles.grimnir import GrimnirTranslator
from playout.protocol.wire import WireEvent
from tests.support import ROOT, shipped


class Wire:
    """A core and its grimnir translator, driven by hand; ``messages`` is everything sent."""

    def __init__(self, name: str, *, health_tick_ms: int = 0) -> None:
        self.core = Playout(shipped(name), keep_applied=True)
        self.translator = GrimnirTranslator(self.core.scenario, health_tick_ms=health_tick_ms)
        self.messages: list[dict] = []
        self.raw: list[bytes] = []

    def _keep(self, batch) -> list[dict]:
        new = []
        for emitted in batch:
            assert isinstance(emitted.event, WireEvent)
            encoded = wire.encode(emitted.event)
            self.raw.append(encoded)
            new.append(json.loads(encoded))
        self.messages += new
        return new

    def advance(self, until_ms: int) -> list[dict]:
        new = []
        while (deadline := self._next()) is not None and deadline <= until_ms:
            new += self._step(deadline)
        return new + self._step(until_ms)

    def _next(self) -> int | None:
        times = [t for t in (self.core.next_deadline(), self.translator.next_tick()) if t is not None]
        return min(times, default=None)

    def _step(self, at_ms: int) -> list[dict]:
        batch = self.core.advance(at_ms)
        new = self._keep(self.translator.translate(batch, self.core.drain_applied(), self.core))
        tick = self.translator.next_tick()
        if tick is not None and tick <= at_ms:
            new += self._keep(self.translator.tick(at_ms, self.core))
        return new

    def submit(self, given: inputs.Input) -> list[dict]:
        batch = self.core.submit(given)
        return self._keep(self.translator.translate(batch, self.core.drain_applied(), self.core))


def types(messages: list[dict]) -> list[str]:
    return [m["type"] for m in messages]


def test_the_envelope_is_a_go_map_sorted_payload_first_html_escaped():
    """internal/api/api.go:1722-1732 (writeEvent marshals map[string]any{"type","payload"}): keys sorted,
    so "payload" comes first; encoding/json escapes <, > and & in strings."""
    station = Wire("dj-takeover")
    station.advance(0)
    first = station.raw[0]
    assert first.startswith(b'{"payload":{"album":') and first.endswith(b',"type":"now_playing"}')
    payload = json.loads(first)["payload"]
    assert list(payload) == sorted(payload)
    event = WireEvent("now_playing", {"title": "Simon & <Garfunkel>"}, go=True)
    assert (
        wire.encode(event)
        == b'{"payload":{"title":"Simon \\u0026 \\u003cGarfunkel\\u003e"},"type":"now_playing"}'
    )


def test_a_playlist_track_carries_its_schedule_entry_and_no_duration():
    """internal/playout/director.go:4249-4270 publishNowPlaying (entry keys, metadata) with the extras of
    playMediaWithState :3266-3280 (first track: position 0 and the playlist's id, name and size) and
    playNextFromState :3935-3941 (later tracks: position only); starts_at is the entry's start."""
    station = Wire("dj-takeover")
    first, second = [m["payload"] for m in station.advance(4 * 60_000) if m["type"] == "now_playing"][:2]
    assert "duration" not in first
    assert first["source_type"] == "playlist" and first["position"] == 0 and first["total_items"] == 3
    assert {"playlist_id", "playlist_name", "entry_id", "ends_at", "metadata"} <= set(first)
    assert second["position"] == 1 and "playlist_id" not in second
    assert first["entry_id"] == second["entry_id"] and first["starts_at"] == second["starts_at"]


def test_a_dj_connect_is_the_priority_event_then_dj_connect_then_live_now_playing():
    """internal/live/service.go:223-271 (priority.override for a tier-1 DJ before dj_connect, whose keys have
    user_id, priority, preempted and no source_ip) and internal/harbor/server.go:280-289 (now_playing
    "Live DJ"); never live.handover on a connect (internal/live/handover.go:182 is the handover API's)."""
    station = Wire("dj-takeover")
    station.advance(5 * 60_000 - 1)
    sent = station.advance(5 * 60_000)
    assert types(sent) == ["priority.override", "dj_connect", "now_playing"]
    override, connect, playing = (m["payload"] for m in sent)
    assert override["transition_type"] == "switch" and override["new_priority"] == 1
    assert override["new_media_id"] == connect["session_id"] == override["session_id"]
    assert set(connect) == {
        "mount_id",
        "preempted",
        "priority",
        "session_id",
        "station_id",
        "user_id",
        "username",
    }
    assert connect["priority"] == 1 and connect["preempted"] is False
    assert playing["title"] == "Live DJ" and playing["is_live_dj"] is True and playing["type"] == "live"


def test_a_dj_disconnect_releases_the_priority_row_then_says_dj_disconnect_and_no_live_released():
    """internal/live/service.go:296-350 HandleDisconnect: Release (priority.released, "fallback" with no
    source left) then dj_disconnect with mount_id and user_id; no live.released."""
    station = Wire("dj-takeover")
    station.advance(35 * 60_000 - 1)
    sent = station.advance(35 * 60_000)
    assert types(sent)[:2] == ["priority.released", "dj_disconnect"]
    assert "live.released" not in types(station.messages)
    released, left = sent[0]["payload"], sent[1]["payload"]
    assert released["transition_type"] == "fallback" and "new_priority" not in released
    assert released["requires_fade"] is True and released["preempted"] is False
    assert left["duration_seconds"] == 1800 and b'"duration_seconds":1800,' in station.raw[-len(sent) + 1]


def test_no_schedule_update_and_no_documented_health_beats():
    """schedule_update is published only by schedule edits (internal/api/api.go:1307-1319,
    internal/web/pages_schedule.go), none by the scheduler; health comes from the director's tick only."""
    station = Wire("schedule-refresh")
    station.advance(6 * 3600_000)
    assert "schedule_update" not in types(station.messages)
    assert all("event" not in m["payload"] for m in station.messages if m["type"] == "health")


def test_every_playing_mount_gets_a_health_snapshot_each_tick():
    """internal/playout/director.go:244 (a 250 ms ticker) and :4232-4247 emitHealthSnapshot:
    status "playing", starts_at repeating started_at, no timestamp."""
    station = Wire("dj-takeover", health_tick_ms=250)
    station.advance(1000)
    snapshots = [m["payload"] for m in station.messages if m["type"] == "health"]
    assert len(snapshots) == 4
    assert all(s["status"] == "playing" and s["starts_at"] == s["started_at"] for s in snapshots)
    assert set(snapshots[0]) == {
        "ends_at", "entry_id", "media_id", "mount_id", "started_at", "starts_at", "station_id", "status"
    }  # fmt: skip


def test_an_emergency_is_one_priority_event_and_its_end_releases_nothing():
    """internal/priority/service.go:46-62 InsertEmergency and :212-246 publishEvent (transition "emergency",
    requires_fade false); rows are released only by DELETE /priority, a handover release or a DJ's
    disconnect (service.go:175-190), so the end of the media publishes no priority.released."""
    station = Wire("emergency")
    station.advance(3 * 3600_000)
    emergencies = [m["payload"] for m in station.messages if m["type"] == "priority.emergency"]
    assert emergencies and emergencies[0]["transition_type"] == "emergency"
    assert emergencies[0]["requires_fade"] is False and emergencies[0]["new_priority"] == 0
    sent = types(station.messages)
    releases = [i for i, kind in enumerate(sent) if kind == "priority.released"]
    assert all(sent[i + 1] == "dj_disconnect" for i in releases)  # a DJ's disconnect, never the media's end
    assert "live.released" not in sent


def test_skip_publishes_the_skipped_now_playing():
    """internal/api/api.go:1382-1386: now_playing {mount_id, skipped: true, station_id}."""
    station = Wire("dj-takeover")
    station.advance(60_000)
    sent = station.submit(inputs.Skip(station="main"))
    assert sent[0]["type"] == "now_playing" and set(sent[0]["payload"]) == {
        "mount_id",
        "skipped",
        "station_id",
    }


def test_a_manual_failover_and_a_reset_have_the_real_shapes():
    """internal/webstream/service.go:311-319 (manual failover: from_index, current_index, manual) and
    :351-355 (reset: webstream.recovered {station_id, url, webstream_id}, always, even on the primary)."""
    station = Wire("webstream-failover")
    station.advance(60_000)
    key = next(iter(station.core.scenario.webstreams))
    reset = station.submit(inputs.ResetWebstream(webstream=key))
    assert types(reset) == ["webstream.recovered"]
    assert set(reset[0]["payload"]) == {"station_id", "url", "webstream_id"}
    moved = station.submit(inputs.ForceFailover(webstream=key))
    failover = next(m["payload"] for m in moved if m["type"] == "webstream.failover")
    assert failover["manual"] is True and failover["from_index"] == 0 and failover["current_index"] == 1
    assert "reason" not in failover and "timestamp" not in failover


def test_an_automatic_failover_has_the_health_checkers_shape():
    """internal/webstream/health_checker.go:402-412: auto, from_index, to_index, name, reason
    "health_check_failed"; and webstream.health when the URL in use starts failing (:280-294)."""
    station = Wire("webstream-failover")
    station.advance(4 * 3600_000)
    failovers = [m["payload"] for m in station.messages if m["type"] == "webstream.failover"]
    assert failovers and failovers[0]["auto"] is True and failovers[0]["reason"] == "health_check_failed"
    assert {"from_index", "to_index", "from_url", "to_url", "name"} <= set(failovers[0])
    statuses = [m["payload"]["status"] for m in station.messages if m["type"] == "webstream.health"]
    assert "degraded" in statuses or "unhealthy" in statuses


def test_the_profiles_and_their_default_types():
    """internal/api/api.go:1673-1675: no types means now_playing, health and webstream.health."""
    assert set(PROFILES) == {"documented", "grimnir"}
    assert GRIMNIR.default_types == {"now_playing", "health", "webstream.health"}


def grimnir_sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "playout", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_run_speaks_the_profile_and_an_unknown_one_is_one_line():
    done = grimnir_sim("run", "dj-takeover", "--profile", "grimnir", "--until", "10m", "--health-tick", "5m")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["type"] for m in lines].count("health") == 2
    assert "dj_connect" in {m["type"] for m in lines}
    bad = grimnir_sim("run", "dj-takeover", "--profile", "grimnr")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "documented" in bad.stderr and "grimnir" in bad.stderr
    wrong = grimnir_sim("run", "dj-takeover", "--types", "webstream.health")
    assert wrong.returncode == 2 and "documented profile sends no webstream.health" in wrong.stderr


async def test_serve_speaks_the_profile_and_subscribes_webstream_health_by_default(autojump_clock):
    """internal/api/api.go:1673-1675 (no types: now_playing, health, webstream.health); the messages are
    the translator's, marshalled as Go marshals a map."""
    import trio

    from server.service import ServerSettings
    from tests.server_support import served

    settings = ServerSettings(profile="grimnir", health_tick_ms=60_000)
    async with served(shipped("dj-takeover"), settings) as station:
        assert station.service.hub.default_types == {"now_playing", "health", "webstream.health"}
        async with station.events("types=dj_connect,priority.override") as ws:
            got = []
            with trio.move_on_after(6 * 60):
                while len(got) < 2:
                    message = await ws.receive()
                    if message != '{"type":"ping"}':
                        got.append(message)
    assert [json.loads(m)["type"] for m in got] == ["priority.override", "dj_connect"]
    assert all(m.startswith('{"payload":{') for m in got)
    assert "source_ip" not in json.loads(got[1])["payload"]


def test_run_says_first_when_the_real_snapshots_will_be_many(monkeypatch, capsys):
    """internal/playout/director.go:244: a snapshot per playing mount every 250 ms is 14,400 an hour;
    run says so before a long one, and not when health is filtered out."""
    from playout.drivers import cli

    monkeypatch.setattr(cli, "MANY_SNAPSHOTS", 100)
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", "dj-takeover", "--profile", "grimnir", "--until", "1m"]) == 0
    assert "note: 240 health snapshots, one per playing mount every 250ms" in capsys.readouterr().err
    assert (
        cli.main(["run", "dj-takeover", "--profile", "grimnir", "--until", "1m", "--types", "dj_connect"])
        == 0
    )
    assert "note:" not in capsys.readouterr().err
    assert cli.main(["run", "dj-takeover", "--until", "1m", "--health-tick", "1m"]) == 0
    assert "--health-tick does nothing: the documented profile sends no snapshots" in capsys.readouterr().err


def test_a_playlist_position_is_the_index_in_its_sequence_and_wraps():
    """internal/playout/director.go:3606, :3620: nextPos := (state.Position + 1) % state.TotalItems, so
    position stays below total_items; only the block's first track carries the playlist's extras."""
    station = Wire("dj-takeover")
    playing = [m["payload"] for m in station.advance(3 * 3600_000) if m["type"] == "now_playing"]
    positions = [p["position"] for p in playing if p.get("source_type") == "playlist"]
    assert len(positions) > 20 and max(positions) == 2  # the playlist holds 3 tracks
    assert [positions[i + 1] for i, at in enumerate(positions[:-1]) if at == 2] == [0] * positions[:-1].count(
        2
    )
    assert ["playlist_id" in p for p in playing if p.get("source_type") == "playlist"].count(True) == 1


def test_a_rotation_track_spans_its_own_start_and_end():
    """A track between entries has no schedule row (docs/fidelity.md, stand-ins), so its ``now_playing``
    spans the track itself: ``ends_at`` is where the ``health`` snapshot of the same track says it
    ends (internal/playout/director.go:4232-4247), not ``starts_at`` again."""
    station = Wire("edge-schedule-gap", health_tick_ms=10_000)
    station.advance(6 * 3600 * 1000)
    rotation = [
        m["payload"]
        for m in station.messages
        if m["type"] == "now_playing" and m["payload"].get("entry_id") == ""
    ]
    assert rotation
    for track in rotation:
        assert track["ends_at"] > track["starts_at"]
        snapshots = [
            m["payload"]
            for m in station.messages
            if m["type"] == "health"
            and m["payload"]["media_id"] == track["media_id"]
            and m["payload"]["started_at"] == track["starts_at"]
        ]
        assert snapshots and {s["ends_at"] for s in snapshots} == {track["ends_at"]}
