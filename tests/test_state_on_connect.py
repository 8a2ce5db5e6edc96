"""State on connect: ``snapshot=true`` sends each station's current ``now_playing`` before anything live."""

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import trio
from websockets.sync.client import connect

from playout import Playout, parse_entry_point, place, wire
from playout.protocol.stationtime import parse_instant
from server.hub import Hub
from server.service import ServerSettings
from tests.serve_support import Server
from tests.server_support import served
from tests.support import ROOT, shipped
from tests.test_server_protocol import receive_json, refusal


def now_playing_of(scenario, until_ms):
    """Each station's last now_playing message in the bare core's run up to ``until_ms``."""
    latest = {}
    for emitted in Playout(scenario).advance(until_ms):
        if emitted.event.TYPE == "now_playing":
            latest[emitted.event.station_id] = wire.to_message(emitted.event)
    return list(latest.values())


class TestHub:
    def test_a_subscriber_asking_for_the_snapshot_gets_the_latest_now_playing_first(self):
        hub = Hub()
        batch = Playout(shipped("dj-takeover")).advance(20 * 60_000)
        hub.publish(batch)
        subscriber = hub.subscribe({"now_playing", "health"}, snapshot=True)
        plain = hub.subscribe({"now_playing"})
        queued = subscriber._receive.receive_nowait()
        last = [e for e in batch if e.event.TYPE == "now_playing"][-1]
        assert json.loads(queued) == wire.to_message(last.event)
        with pytest.raises(trio.WouldBlock):
            subscriber._receive.receive_nowait()  # one station, one message
        with pytest.raises(trio.WouldBlock):
            plain._receive.receive_nowait()

    def test_without_now_playing_among_its_types_there_is_no_snapshot(self):
        hub = Hub()
        hub.publish(Playout(shipped("dj-takeover")).advance(60_000))
        subscriber = hub.subscribe({"health", "dj_connect"}, snapshot=True)
        with pytest.raises(trio.WouldBlock):
            subscriber._receive.receive_nowait()

    def test_remembered_events_are_not_sent_but_become_the_snapshot(self):
        hub = Hub()
        early = hub.subscribe({"now_playing"})
        batch = Playout(shipped("dj-takeover")).advance(20 * 60_000)
        hub.remember(batch)
        with pytest.raises(trio.WouldBlock):
            early._receive.receive_nowait()  # a fast-forward is silent
        late = hub.subscribe({"now_playing"}, snapshot=True)
        last = [e for e in batch if e.event.TYPE == "now_playing"][-1]
        assert json.loads(late._receive.receive_nowait()) == wire.to_message(last.event)

    def test_an_edge_remembers_what_its_stream_carried_and_skips_what_it_cannot_read(self):
        hub = Hub()
        message = now_playing_of(shipped("dj-takeover"), 60_000)[-1]
        hub.publish_encoded([("now_playing", json.dumps(message).encode()), ("now_playing", b"not json")])
        subscriber = hub.subscribe({"now_playing"}, snapshot=True)
        assert json.loads(subscriber._receive.receive_nowait()) == message
        with pytest.raises(trio.WouldBlock):
            subscriber._receive.receive_nowait()


class TestEventsRoute:
    async def test_snapshot_true_sends_the_current_now_playing_before_anything_live(self, autojump_clock):
        scenario = shipped("dj-takeover")  # 10:00 to 11:00; DJ Mike connects at 10:05
        live = [
            wire.to_message(e.event)
            for e in Playout(scenario).advance(5 * 60_000)
            if e.at_ms > 2 * 60_000 and e.event.TYPE in ("now_playing", "dj_connect")
        ]
        async with served(scenario) as station:
            await trio.sleep(2 * 60)
            expected = now_playing_of(scenario, 2 * 60_000)
            async with station.events("types=now_playing,dj_connect&snapshot=true") as ws:
                assert [await receive_json(ws) for _ in expected] == expected
                # Then the live stream, as documented, with nothing lost or repeated in between.
                received = []
                while len(received) < len(live):
                    message = await receive_json(ws)
                    if message != {"type": "ping"}:
                        received.append(message)
                assert received == live
                assert [m["type"] for m in live].count("dj_connect") == 1

    async def test_without_snapshot_the_stream_is_the_documented_protocol(self, autojump_clock):
        async with served(shipped("dj-takeover")) as station:
            await trio.sleep(60)
            for query in ("types=now_playing", "types=now_playing&snapshot=false", "snapshot=0"):
                async with station.events(query) as ws:
                    with trio.move_on_after(14):
                        message = await receive_json(ws)
                        pytest.fail(f"{query}: got {message} before anything happened")

    async def test_serve_snapshot_makes_it_the_default_and_a_client_may_decline(self, autojump_clock):
        settings = ServerSettings(snapshot_by_default=True)
        scenario = shipped("dj-takeover")
        async with served(scenario, settings) as station:
            await trio.sleep(60)
            (expected,) = now_playing_of(scenario, 60_000)
            async with station.events("types=now_playing") as ws:
                assert await receive_json(ws) == expected
            async with station.events("types=now_playing&snapshot=false") as ws:
                assert await receive_json(ws) == {"type": "ping"}  # 15 s later: nothing before it

    @pytest.mark.parametrize("value", ["yes", "", "2", "true,false", "TRUE", "True", " true"])
    async def test_a_snapshot_value_other_than_true_false_1_0_is_refused(self, value, autojump_clock):
        async with served(shipped("dj-takeover")) as station:
            response = await refusal(station.events(f"snapshot={value}"))
            assert response.status_code == 400
            assert await response.get_json() == {
                "error": "invalid_snapshot",
                "detail": "snapshot takes true, false, 1 or 0",
            }

    async def test_the_snapshot_after_a_fast_forward_is_the_entry_points_state(self, autojump_clock):
        scenario = shipped("community-week")
        placement = place(scenario, parse_entry_point("Wed 21:00"), "scenario", scenario.start)
        async with served(scenario, placement=placement) as station:
            async with station.events("types=now_playing&snapshot=true") as ws:
                message = await receive_json(ws)
            assert message["payload"]["username"] == "DJ Sarah"
            assert message["payload"]["starts_at"] == "2026-01-21T20:00:00Z"


class TestServedOnTheWallClock:
    """``grimnir-sim serve`` as users start it: the default week, speed 1, the banner's connect URL."""

    def test_a_client_gets_the_current_now_playing_at_once_stamped_with_the_wall_clock(self):
        server = Server()
        try:
            connect_url = next(line.split()[1] for line in server.banner if "connect:" in line)
            assert "snapshot=true" in connect_url
            opened = time.monotonic()
            with connect(connect_url) as ws:
                message = json.loads(ws.recv(timeout=1.0))
            assert time.monotonic() - opened < 1.0
            now = datetime.now(UTC)
            assert message["type"] == "now_playing"
            payload = message["payload"]
            state = server.http.get("/api/v1/sim/state").json()
            # The documented webstream variant has no starts_at: the state's "since" says when it began.
            starts_at = parse_instant(payload.get("starts_at") or state["stations"][0]["since"])
            assert starts_at <= now
            if "duration" in payload:  # a track: it is still playing
                assert starts_at >= now - timedelta(seconds=payload["duration"])
            else:  # a webstream or a live DJ
                assert starts_at >= now - timedelta(days=1)
            station_time = parse_instant(state["station_time"])
            assert abs((station_time - datetime.now(UTC)).total_seconds()) < 2
            assert state["clock"]["clock"] == "wall" and state["clock"]["repeats_every"] == 7 * 24 * 3600
        finally:
            assert server.stop() == 0

    def test_the_scenario_clock_keeps_the_scenarios_own_calendar(self):
        server = Server("dj-takeover", "--clock", "scenario", "--manual-clock")
        try:
            assert server.http.get("/api/v1/sim/state").json()["station_time"] == "2026-01-19T10:00:00Z"
            assert any("(the scenario's own calendar)" in line for line in server.banner)
        finally:
            assert server.stop() == 0

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["dj-takeover", "--from", "+3h"],
                "error: --from +3h: the scenario 'dj-takeover' lasts 1h; 3h into it is past its end",
            ),
            (["--from", "someday"], "error: grimnir-sim serve: argument --from: 'someday' is not an entry"),
            (["--clock", "local"], "error: grimnir-sim serve: argument --clock: invalid choice: 'local'"),
        ],
    )
    def test_bad_clock_options_are_one_line_and_exit_2(self, args, message):
        result = subprocess.run(
            [sys.executable, "-m", "playout", "serve", *args, "--port", "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1  # one line
