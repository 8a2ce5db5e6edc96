"""``POST /api/v1/sim/reset``: the served station back at its entry point, its clients still connected.

A reset builds a fresh core (and, for the ``grimnir`` profile, a fresh translator), fast-forwards
it silently to the entry point, and swaps it in; the clients that asked for the state on connect
get the fresh station's ``now_playing`` as if they had just connected (docs/protocol.md, "Reset").
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
import trio

from playout import GRIMNIR, Playout, parse_entry_point, place, recording, wire
from playout.protocol.stationtime import parse_instant
from server.app import create_app
from server.hub import Hub
from server.service import ReplayService, ServerSettings
from tests.server_support import ADMIN, KEY, served
from tests.support import ROOT, shipped

TAKEOVER_START = "2026-01-19T10:00:00Z"  # dj-takeover: 10:00 to 11:00; DJ Mike connects at 10:05


async def messages_within(ws, seconds: float = 1.0) -> list[dict]:
    """Every message but pings a client gets within ``seconds`` (trio's clock)."""
    got = []
    with trio.move_on_after(seconds):
        while True:
            message = json.loads(await ws.receive())
            if message != {"type": "ping"}:
                got.append(message)
    return got


def first_now_playing(scenario) -> dict:
    """The station's state at the scenario's start, as the state on connect sends it."""
    batch = Playout(scenario).advance(0)
    return wire.to_message([e for e in batch if e.event.TYPE == "now_playing"][-1].event)


class TestHub:
    def test_a_reset_state_replaces_the_old_and_goes_to_those_that_asked_for_it(self):
        scenario = shipped("dj-takeover")
        hub = Hub()
        hub.publish(Playout(scenario).advance(10 * 60_000))
        asked = hub.subscribe({"now_playing"}, snapshot=True)
        asked._receive.receive_nowait()  # the state on connect: DJ Mike on air
        plain = hub.subscribe({"now_playing"})
        no_now_playing = hub.subscribe({"health"}, snapshot=True)
        hub.remember(Playout(scenario).advance(0))
        assert json.loads(asked._receive.receive_nowait()) == first_now_playing(scenario)
        for untouched in (asked, plain, no_now_playing):
            with pytest.raises(trio.WouldBlock):
                untouched._receive.receive_nowait()
        late = hub.subscribe({"now_playing"}, snapshot=True)
        assert json.loads(late._receive.receive_nowait()) == first_now_playing(scenario)


async def test_a_reset_starts_the_timeline_over_and_clients_stay(autojump_clock):
    scenario = shipped("dj-takeover")
    async with (
        served(scenario, manual_clock=True) as station,
        station.events("snapshot=true") as asked,
        station.events("types=now_playing,dj_connect") as plain,
    ):
        assert await messages_within(asked) == [first_now_playing(scenario)]
        status, body = await station.post("/api/v1/sim/advance", {"by": "6m"})
        assert status == 200 and "dj_connect" in [m["type"] for m in body["events"]]
        await messages_within(asked)
        await messages_within(plain)

        status, body = await station.post("/api/v1/sim/reset")
        assert (status, body) == (200, {"status": "reset", "station_time": TAKEOVER_START})
        assert await messages_within(asked) == [first_now_playing(scenario)]
        assert await messages_within(plain) == []  # no state asked for: the documented stream only

        status, state = await station.get("/api/v1/sim/state")
        assert state["clock"]["station_time"] == TAKEOVER_START
        assert all(s["djs"] == [] for s in state["stations"])
        # A fresh timeline: the DJ connects again five minutes in, and both clients hear it.
        status, body = await station.post("/api/v1/sim/advance", {"by": "6m"})
        assert "dj_connect" in [m["type"] for m in body["events"]]
        assert "dj_connect" in [m["type"] for m in await messages_within(plain)]
        assert {m["type"] for m in await messages_within(asked)} == {"now_playing"}


async def test_a_reset_of_a_running_clock_goes_back_to_the_entry_point(autojump_clock):
    scenario = shipped("community-week")
    placement = place(scenario, parse_entry_point("Mon 10:00"), "scenario", scenario.start)
    async with served(scenario, placement=placement, speed=60) as station:
        await trio.sleep(30)  # 30 minutes of station time
        _, state = await station.get("/api/v1/sim/state")
        assert state["clock"]["scenario_time"] > "2026-01-19T10:29"
        status, body = await station.post("/api/v1/sim/reset")
        assert status == 200 and body["station_time"] == "2026-01-19T10:00:00Z"
        await trio.sleep(1)
        _, state = await station.get("/api/v1/sim/state")
        assert "2026-01-19T10:00:59" <= state["clock"]["scenario_time"] < "2026-01-19T10:01:01"
        assert state["clock"]["repeats"] == 0


async def test_on_the_wall_clock_a_reset_starts_again_from_now(autojump_clock):
    scenario = shipped("dj-takeover")
    started = datetime.now(UTC) - timedelta(hours=2)  # as if serve had started two hours ago
    placement = place(scenario, parse_entry_point("+10m"), "wall", started)
    async with served(scenario, placement=placement, manual_clock=True) as station:
        _, state = await station.get("/api/v1/sim/state")
        assert parse_instant(state["clock"]["station_time"]) < datetime.now(UTC) - timedelta(hours=1)
        status, body = await station.post("/api/v1/sim/reset")
        assert status == 200
        assert abs(parse_instant(body["station_time"]) - datetime.now(UTC)) < timedelta(seconds=5)
        _, state = await station.get("/api/v1/sim/state")
        assert state["clock"]["scenario_time"] == "2026-01-19T10:10:00Z"  # the same entry point
        assert state["clock"]["station_time"] == body["station_time"]


async def test_a_reset_of_a_week_entered_now_enters_at_the_current_time_again(autojump_clock):
    scenario = shipped("community-week")
    started = datetime.now(UTC) - timedelta(hours=2)  # as if serve had started two hours ago
    placement = place(scenario, parse_entry_point("now"), "wall", started)
    async with served(
        scenario, ServerSettings(profile=GRIMNIR.name), placement=placement, manual_clock=True
    ) as station:
        status, body = await station.post("/api/v1/sim/reset")
        _, state = await station.get("/api/v1/sim/state")
    clock = state["clock"]
    assert (status, body["station_time"]) == (200, clock["station_time"])
    station_time, scenario_time = parse_instant(clock["station_time"]), parse_instant(clock["scenario_time"])
    assert abs(station_time - datetime.now(UTC)) < timedelta(seconds=5)
    # The scenario is where the wall clock is: the same weekday and time of day, not two hours behind.
    assert (scenario_time.weekday(), scenario_time.time()) == (station_time.weekday(), station_time.time())
    assert clock["entered_at"] == clock["scenario_time"]


async def test_a_grimnir_reset_has_a_fresh_translator(autojump_clock):
    scenario = shipped("dj-takeover")
    async with served(scenario, ServerSettings(profile=GRIMNIR.name), manual_clock=True) as station:
        before = station.service.translator
        await station.post("/api/v1/sim/advance", {"by": "6m"})
        status, body = await station.post("/api/v1/sim/reset")
        assert (status, body["station_time"]) == (200, TAKEOVER_START)
        assert station.service.translator is not before and station.service.translator is not None
        _, state = await station.get("/api/v1/sim/state")
        assert all(s["djs"] == [] for s in state["stations"])


async def test_a_station_that_cannot_be_built_again_keeps_running(autojump_clock, monkeypatch):
    scenario = shipped("dj-takeover")
    async with served(scenario, manual_clock=True) as station:
        await station.post("/api/v1/sim/advance", {"by": "6m"})
        core = station.service.runner.core

        def broken(scenario):
            raise RuntimeError("no translator today")

        monkeypatch.setattr(station.service, "_translator_for", broken)
        async with station.events("snapshot=true") as ws:
            await messages_within(ws)
            status, body = await station.post("/api/v1/sim/reset")
            assert (status, body["error"]) == (409, "conflict")
            assert "no translator today" in body["detail"]
            assert station.service.runner.core is core
            _, state = await station.get("/api/v1/sim/state")
            assert state["clock"]["station_time"] == "2026-01-19T10:06:00Z"
            monkeypatch.undo()
            status, _ = await station.post("/api/v1/sim/reset")
            assert status == 200
            assert await messages_within(ws) == [first_now_playing(scenario)]  # still connected


async def test_a_replay_has_no_station_to_reset(autojump_clock):
    line = recording.message_line(0, '{"type":"health","payload":{}}')
    header = recording.header_line("test", "documented", "2026-01-19T10:00:00Z")
    played = recording.read_recording([header, line])
    app = create_app(ReplayService(played, KEY))
    async with app.test_app() as test_app:
        response = await test_app.test_client().post("/api/v1/sim/reset", headers=ADMIN)
        body = await response.get_json()
        assert response.status_code == 404 and body["error"] == "not_found"
        assert body["detail"].startswith("no such path on a replay (serve --replay)")


def test_the_rest_table_gives_the_replay_answer_the_server_gives():
    (row,) = [
        line
        for line in (ROOT / "docs" / "protocol.md").read_text().splitlines()
        if line.startswith("| `POST /api/v1/sim/reset` |")
    ]
    assert "404 `not_found` under `serve --replay`" in row  # as test_a_replay_has_no_station_to_reset
    assert "409" not in row.partition("; 404")[2]
