"""A stream scoped to one station: a token's ``station_id`` claim, or ``?station_id=``.

Two stations on one server, each with a DJ, status beats and track or webstream
changes, and one webstream failover (an event of no station). A client scoped to
one station must get exactly that station's events and the failover, in order, on
Quart's in-memory path (the test client) and on the fast path (``grimnir-sim
serve`` over real sockets), and its state on connect is its station's alone.
"""

import json
import time

import pytest
import trio
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from playout import EVENT_TYPES, Playout, parse_scenario, wire
from server.auth import SigningKey, mint
from server.hub import STATIONLESS_TYPES, Hub
from tests import serve_support
from tests.serve_support import Server
from tests.server_support import served, token
from tests.test_relay import Redis
from tests.test_server_protocol import receive_json, refusal

TWO_STATIONS = """
[scenario]
name = "two-stations"
start = "2026-01-19T10:00:00Z"
duration = "1h"

[[stations]]
id = "main"
name = "Focus FM"
health_interval = "1m"

[[stations]]
id = "second"
name = "Second FM"
health_interval = "1m"

[[library.tracks]]
id = "one"
title = "First Light"
artist = "Ada Larsen"
duration = "3m"

[[library.tracks]]
id = "two"
title = "Second Wind"
artist = "The Paper Boats"
duration = "3m20s"

[[library.tracks]]
id = "three"
title = "Third Rail"
artist = "Signal Club"
duration = "4m"

[[playlists]]
id = "hits"
tracks = ["one", "two", "three"]

[[djs]]
id = "mike"
username = "DJ Mike"

[[djs]]
id = "sarah"
username = "DJ Sarah"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://primary.example.org/s", "http://backup.example.org/s"]

[[schedule]]
station = "main"
days = "daily"
start = "00:00"
duration = "24h"
playlist = "hits"

[[schedule]]
station = "second"
days = "daily"
start = "00:00"
duration = "24h"
webstream = "relay"

[[timeline]]
at = "+2m"
action = "dj_connect"
station = "main"
dj = "mike"

[[timeline]]
at = "+3m"
action = "dj_connect"
station = "second"
dj = "sarah"

[[timeline]]
at = "+5m"
action = "dj_disconnect"
station = "second"
dj = "sarah"

[[timeline]]
at = "+6m"
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "5m"
"""
SCENARIO = parse_scenario(TWO_STATIONS, "two-stations.toml")
MAIN, SECOND = (station.id for station in SCENARIO.stations)
EVERY_TYPE = "types=" + ",".join(EVENT_TYPES)
MINUTES = 20


def station_of(message: dict) -> str | None:
    return message["payload"].get("station_id")


def scoped(messages: list[dict], station: str) -> list[dict]:
    """What a client scoped to ``station`` should get of ``messages``: its own and those of no station."""
    return [m for m in messages if station_of(m) in (station, None)]


def emitted(until_minutes: int = MINUTES) -> list[dict]:
    """Every message of the two stations' first ``until_minutes``, instant 0 left out."""
    return [
        wire.to_message(e.event) for e in Playout(SCENARIO).advance(until_minutes * 60_000) if e.at_ms > 0
    ]


def test_the_scenario_gives_both_stations_every_kind_of_event_and_one_of_no_station():
    messages = emitted()
    for station in (MAIN, SECOND):
        kinds = {m["type"] for m in messages if station_of(m) == station}
        assert {"now_playing", "health", "dj_connect", "live.handover"} <= kinds
    assert {"dj_disconnect", "live.released", "priority.released"} <= {
        m["type"] for m in messages if station_of(m) == SECOND
    }
    assert [m["type"] for m in messages if station_of(m) is None] == [
        "webstream.failover",
        "webstream.recovered",
    ]
    assert {"webstream.failover", "webstream.recovered"} == STATIONLESS_TYPES


def drain_texts(subscriber) -> list[str]:
    """What an in-memory subscriber has queued."""
    got = []
    while True:
        try:
            got.append(subscriber._receive.receive_nowait())
        except trio.WouldBlock:
            return got


def drain(subscriber) -> list[dict]:
    return [json.loads(text) for text in drain_texts(subscriber)]


class TestHub:
    def test_a_scoped_subscriber_gets_its_stations_events_and_those_of_no_station(self):
        hub = Hub(queue_size=10_000)
        everyone = hub.subscribe(EVENT_TYPES)
        main, second = hub.subscribe(EVENT_TYPES, station=MAIN), hub.subscribe(EVENT_TYPES, station=SECOND)
        nowhere = hub.subscribe(EVENT_TYPES, station="no-such-station")
        hub.publish(Playout(SCENARIO).advance(MINUTES * 60_000))
        messages = emitted()
        got_all = drain(everyone)
        assert got_all[len(got_all) - len(messages) :] == messages
        assert drain(main)[-len(scoped(messages, MAIN)) :] == scoped(messages, MAIN)
        assert {station_of(m) for m in drain(second)} == {SECOND, None}
        assert [m["type"] for m in drain(nowhere)] == ["webstream.failover", "webstream.recovered"]

    def test_an_edge_scopes_by_the_events_json_and_gives_a_scoped_subscriber_nothing_unreadable(self):
        hub = Hub(queue_size=10_000)
        everyone, main = hub.subscribe(EVENT_TYPES), hub.subscribe(EVENT_TYPES, station=MAIN)
        messages = emitted()
        odd = [
            ("now_playing", b"not json"),
            ("health", b'{"type":"health","payload":{"mount_id":"x"}}'),  # no station_id
            ("dj_connect", b'{"type":"dj_connect","payload":{"station_id":7}}'),
            ("dj_connect", b'{"type":"dj_connect","payload":[]}'),
        ]
        hub.publish_encoded(
            [(m["type"], json.dumps(m, separators=(",", ":")).encode()) for m in messages] + odd
        )
        assert drain(main) == scoped(messages, MAIN)
        assert len(drain_texts(everyone)) == len(messages) + len(odd)

    def test_the_snapshot_of_a_scoped_subscriber_is_its_stations_now_playing_only(self):
        hub = Hub()
        batch = Playout(SCENARIO).advance(4 * 60_000)
        hub.publish(batch)
        latest = {}
        for e in batch:
            if e.event.TYPE == "now_playing":
                latest[e.event.station_id] = wire.to_message(e.event)
        assert set(latest) == {MAIN, SECOND}
        assert drain(hub.subscribe({"now_playing"}, snapshot=True, station=SECOND)) == [latest[SECOND]]
        assert drain(hub.subscribe({"now_playing"}, snapshot=True, station="no-such-station")) == []
        assert drain(hub.subscribe({"now_playing"}, snapshot=True)) == [latest[MAIN], latest[SECOND]]

    def test_scoped_subscribers_that_leave_leave_nothing_behind(self):
        hub = Hub()
        subscribers = [hub.subscribe(EVENT_TYPES, station=f"station-{n}") for n in range(100)]
        subscribers += [hub.subscribe({"now_playing"}, station=MAIN) for _ in range(3)]
        for subscriber in subscribers:
            hub.unsubscribe(subscriber)
        assert hub._by_station == {name: {} for name in EVENT_TYPES}
        assert len(hub) == 0


async def collect(station, query: str, seconds: float) -> list[dict]:
    """The messages other than pings a client gets in ``seconds`` of station time (speed 1)."""
    got = []
    async with station.client.websocket(f"/api/v1/events?{query}") as ws:
        with trio.move_on_after(seconds):
            while True:
                message = await receive_json(ws)
                if message != {"type": "ping"}:
                    got.append(message)
    return got


class TestEventsRoute:
    @pytest.mark.parametrize("claim", ["main", MAIN])
    async def test_a_token_for_one_station_never_gets_anothers_events(self, claim, autojump_clock):
        async with served(SCENARIO) as station:
            got = await collect(station, f"{EVERY_TYPE}&token={token(station_id=claim)}", MINUTES * 60 + 0.05)
        expected = scoped(emitted(), MAIN)
        assert got == expected  # the client connects after instant 0: from then on, everything, in order
        assert {"webstream.failover", "webstream.recovered"} <= {m["type"] for m in got}

    async def test_a_token_without_a_claim_may_ask_for_one_station(self, autojump_clock):
        async with served(SCENARIO) as station:
            query = f"{EVERY_TYPE}&station_id=second&token={token()}"
            got = await collect(station, query, MINUTES * 60 + 0.05)
        assert got == scoped(emitted(), SECOND)

    async def test_a_token_for_one_station_may_name_it_by_id_or_key(self, autojump_clock):
        async with served(SCENARIO) as station:
            for asked in ("main", MAIN):
                query = f"types=now_playing&station_id={asked}&token={token(station_id=MAIN)}"
                async with station.client.websocket(f"/api/v1/events?{query}") as ws:
                    assert await receive_json(ws) == {"type": "ping"}

    async def test_a_scoped_snapshot_is_that_stations_now_playing_only(self, autojump_clock):
        latest = {}
        for message in emitted(4):
            if message["type"] == "now_playing":
                latest[station_of(message)] = message
        async with served(SCENARIO) as station:
            await trio.sleep(4 * 60)
            query = f"types=now_playing&snapshot=true&token={token(station_id='second')}"
            async with station.client.websocket(f"/api/v1/events?{query}") as ws:
                assert await receive_json(ws) == latest[SECOND]
                assert await receive_json(ws) == {"type": "ping"}  # 15 s later: nothing of main's between
            async with station.events("types=now_playing&snapshot=true") as ws:
                assert [await receive_json(ws) for _ in range(2)] == [latest[MAIN], latest[SECOND]]

    @pytest.mark.parametrize(
        ("claim", "asked", "status", "error"),
        [
            pytest.param("main", "second", 403, "station_forbidden", id="claim-for-another-station"),
            pytest.param(MAIN, SECOND, 403, "station_forbidden", id="claim-for-another-station-by-uuid"),
            pytest.param("main", "elsewhere", 403, "station_forbidden", id="claim-and-an-unknown-station"),
            pytest.param("main", "", 403, "station_forbidden", id="claim-and-an-empty-station"),
            pytest.param("elsewhere", None, 403, "station_forbidden", id="claim-for-a-station-not-run-here"),
            pytest.param(None, "elsewhere", 404, "station_not_found", id="an-unknown-station"),
            pytest.param(None, "", 404, "station_not_found", id="an-empty-station"),
        ],
    )
    async def test_a_station_outside_the_token_or_the_server_is_refused_before_the_upgrade(
        self, claim, asked, status, error, autojump_clock
    ):
        async with served(SCENARIO) as station:
            query = f"token={token(station_id=claim)}"
            if asked is not None:
                query += f"&station_id={asked}"
            response = await refusal(station.client.websocket(f"/api/v1/events?{query}"))
            assert response.status_code == status
            assert (await response.get_json())["error"] == error
            assert len(station.service.hub) == 0


@pytest.fixture(scope="module")
def two_stations(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "two-stations.toml"
    path.write_text(TWO_STATIONS)
    server = Server(str(path), "--manual-clock")
    yield server
    server.stop()


def served_token(**claims) -> str:
    return mint(SigningKey(serve_support.KEY, generated=False), roles=("dj",), **claims)


def receive_all(ws, count: int) -> list[dict]:
    """``count`` messages other than pings, then nothing more for a moment."""
    got = []
    deadline = time.monotonic() + 10
    while len(got) < count:
        message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        if message != {"type": "ping"}:
            got.append(message)
    with pytest.raises(TimeoutError):
        while True:
            message = json.loads(ws.recv(timeout=0.5))
            if message != {"type": "ping"}:
                got.append(message)
                break
    return got


class TestOnTheFastPath:
    def test_each_client_gets_its_stations_events_and_snapshot_over_real_sockets(self, two_stations):
        server = two_stations
        url = f"{server.ws}?{EVERY_TYPE}"
        with (
            connect(f"{url}&token={served_token(station_id='main')}") as main,
            connect(f"{url}&token={served_token()}&station_id={SECOND}") as second,
            connect(f"{url}&token={served_token()}") as everyone,
        ):
            vitals = server.http.get("/api/v1/sim/server").json()
            assert vitals["connections"] == vitals["on_the_fast_path"] == 3
            response = server.http.post("/api/v1/sim/advance", json={"by": f"{MINUTES}m"})
            assert response.status_code == 200
            messages = response.json()["events"]
            assert {station_of(m) for m in messages} == {MAIN, SECOND, None}
            assert receive_all(main, len(scoped(messages, MAIN))) == scoped(messages, MAIN)
            assert receive_all(second, len(scoped(messages, SECOND))) == scoped(messages, SECOND)
            assert receive_all(everyone, len(messages)) == messages
        latest = {}
        for message in messages:
            if message["type"] == "now_playing":
                latest[station_of(message)] = message
        with connect(
            f"{server.ws}?types=now_playing&snapshot=true&token={served_token(station_id=MAIN)}"
        ) as ws:
            assert receive_all(ws, 1) == [latest[MAIN]]

    def test_a_station_id_other_than_the_claim_is_refused_before_the_upgrade(self, two_stations):
        query = f"types=now_playing&token={served_token(station_id='main')}&station_id=second"
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{two_stations.ws}?{query}")
        assert refused.value.response.status_code == 403
        assert json.loads(refused.value.response.body)["error"] == "station_forbidden"


def test_an_edge_scopes_its_clients_by_the_events_station_id(tmp_path):
    """An edge runs no scenario: a claim (or ``?station_id=``) is matched with the events' UUIDs as is."""
    path = tmp_path / "two-stations.toml"
    path.write_text(TWO_STATIONS)
    redis = Redis(tmp_path)
    station = edge = None
    try:
        station = Server(str(path), "--manual-clock", "--redis", redis.url, "--role", "station")
        edge = Server("--redis", redis.url, "--role", "edge")
        url = f"{edge.ws}?{EVERY_TYPE}"
        with (
            connect(f"{url}&token={served_token(station_id=MAIN)}") as main,
            connect(f"{url}&token={served_token()}&station_id={SECOND}") as second,
            connect(f"{url}&token={served_token(station_id='main')}") as by_key,
        ):
            response = station.http.post("/api/v1/sim/advance", json={"by": f"{MINUTES}m"})
            messages = response.json()["events"]
            assert receive_all(main, len(scoped(messages, MAIN))) == scoped(messages, MAIN)
            assert receive_all(second, len(scoped(messages, SECOND))) == scoped(messages, SECOND)
            # An edge cannot know which UUID the key "main" stands for: only what belongs to no station.
            assert [m["type"] for m in receive_all(by_key, 2)] == [
                "webstream.failover",
                "webstream.recovered",
            ]
        query = f"types=now_playing&token={served_token(station_id=MAIN)}&station_id=main"
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{edge.ws}?{query}")
        assert refused.value.response.status_code == 403
    finally:
        for server in (edge, station):
            if server is not None:
                server.stop()
        redis.stop()


class TestControlAcrossStations:
    """A token for one station changes nothing on another, whatever the request leaves unsaid."""

    async def test_releasing_without_a_station_only_looks_at_the_claimed_one(self, autojump_clock):
        # Regression (review): DELETE /priority/{id} without station_id tried every station.
        async with served(SCENARIO, manual_clock=True) as station:
            admin = {"Authorization": f"Bearer {token()}"}
            for_main = {"Authorization": f"Bearer {token(station_id='main')}"}
            override = {"station_id": "second", "source_id": "two", "name": "on second"}
            status, _ = await station.post("/api/v1/priority/override", override, headers=admin)
            assert status == 200
            response = await station.client.delete("/api/v1/priority/two", headers=for_main)
            assert response.status_code == 404
            assert "second" not in (await response.get_data(as_text=True))  # names no other station
            response = await station.client.delete("/api/v1/priority/two", headers=admin)
            assert response.status_code == 200  # it was there all along, on the other station

    async def test_a_live_session_on_another_station_cannot_be_released(self, autojump_clock):
        # Regression (review): DELETE /live/sessions/{id}/handover did not look at the claim at all.
        async with served(SCENARIO, manual_clock=True) as station:
            admin = {"Authorization": f"Bearer {token()}"}
            status, body = await station.post(
                "/api/v1/sim/djs/connect", {"dj": "mike", "station_id": "second"}, headers=admin
            )
            assert status == 200
            path = f"/api/v1/live/sessions/{body['session_id']}/handover"
            for_main = {"Authorization": f"Bearer {token(station_id='main')}"}
            response = await station.client.delete(path, headers=for_main)
            assert response.status_code == 403
            assert (await response.get_json())["error"] == "station_forbidden"


MAIN_MOUNT, SECOND_MOUNT = (station.mounts[0].id for station in SCENARIO.stations)
WITH_A_STATION_AND_A_MOUNT = [
    ("/api/v1/playout/skip", {}),
    ("/api/v1/sim/djs/connect", {"dj": "mike"}),
    ("/api/v1/sim/djs/disconnect", {"dj": "mike"}),
    ("/api/v1/priority/emergency", {"media_id": "one"}),
    ("/api/v1/priority/override", {"source_id": "two"}),
    ("/api/v1/live/sessions/handover", {"session_id": "x", "priority": 1}),
]


class TestStationAndMount:
    """A body naming a station_id and a mount_id: the mount must be that station's, or nothing happens."""

    @pytest.mark.parametrize(("path", "body"), WITH_A_STATION_AND_A_MOUNT, ids=lambda v: str(v))
    async def test_a_mount_of_another_station_is_a_400_that_names_both(self, path, body, autojump_clock):
        async with served(SCENARIO, manual_clock=True) as station:
            _, before = await station.get("/api/v1/sim/state")
            status, refused = await station.post(
                path, {**body, "station_id": "main", "mount_id": SECOND_MOUNT}
            )
            assert (status, refused["error"]) == (400, "mount_mismatch")
            assert SECOND_MOUNT in refused["detail"] and "'second'" in refused["detail"]
            assert "'main'" in refused["detail"]
            _, after = await station.get("/api/v1/sim/state")
            assert before == after, "a refused request changed the station"

    @pytest.mark.parametrize(("path", "body"), WITH_A_STATION_AND_A_MOUNT, ids=lambda v: str(v))
    async def test_a_mount_no_station_has_is_a_404_with_a_station_id_too(self, path, body, autojump_clock):
        async with served(SCENARIO, manual_clock=True) as station:
            status, refused = await station.post(path, {**body, "station_id": "main", "mount_id": "nope"})
            assert (status, refused["error"]) == (404, "mount_not_found")

    async def test_a_mount_of_the_named_station_is_taken(self, autojump_clock):
        async with served(SCENARIO, manual_clock=True) as station:
            for station_id, mount_id in (("main", MAIN_MOUNT), (MAIN.upper(), MAIN_MOUNT.upper())):
                status, _ = await station.post(
                    "/api/v1/playout/skip", {"station_id": station_id, "mount_id": mount_id}
                )
                assert status == 200
            status, connected = await station.post(
                "/api/v1/sim/djs/connect", {"dj": "sarah", "station_id": "second", "mount_id": SECOND_MOUNT}
            )
            assert status == 200, connected
