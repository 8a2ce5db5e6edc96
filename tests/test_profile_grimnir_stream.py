"""The ``grimnir`` profile's event stream rules, served: ``GET /api/v1/events`` as the real handler keeps it.

Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins
(docs/fidelity.md, "Stream"). In process (Quart's test client) on trio's autojump
clock, except the shutdown, which needs a real socket to show that no close frame
comes.
"""

import json
import signal
import time

import pytest
import trio
from quart.testing.connections import WebsocketDisconnectError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from playout import parse_scenario, wire
from playout.profiles import DOCUMENTED, GRIMNIR
from playout.profiles.stream import go_type_names
from server.hub import parse_types
from server.service import ServerSettings
from server.shutdown import DRAIN_AT_MOST_SECONDS
from tests.serve_support import Server
from tests.server_support import served, token
from tests.support import shipped
from tests.test_server_protocol import refusal
from tests.test_station_scope import TWO_STATIONS

PING = '{"type":"ping"}'


def grimnir(**settings) -> ServerSettings:
    return ServerSettings(profile="grimnir", **{"health_tick_ms": 60_000, **settings})


async def collect(ws, seconds: float) -> list[str]:
    """Every message for ``seconds`` of station time, pings included."""
    got = []
    with trio.move_on_after(seconds):
        while True:
            got.append(await ws.receive())
    return got


def types_of(messages: list[str]) -> list[str]:
    return [json.loads(m)["type"] for m in messages]


def grimnir_types(*values: str) -> tuple[str, ...]:
    return parse_types(values, frozenset(GRIMNIR.event_types), GRIMNIR.default_types, GRIMNIR.stream)


def test_types_is_read_as_parse_event_types():
    """internal/api/api.go:2272-2285 (parseEventTypes): split on ",", empty parts skipped *before*
    trimming, then trimmed; no dedupe; :1672-1675: only the first ``types``, empty means the defaults."""
    assert go_type_names(["now_playing, ,health"]) == ["now_playing", "", "health"]
    assert go_type_names([" now_playing ,health,health"]) == ["now_playing", "health", "health"]
    assert grimnir_types("health,health") == ("health", "health")
    assert grimnir_types("dj_connect", "health") == ("dj_connect",)  # the first value only
    assert grimnir_types(" ") == ()  # [""]: not empty, so no defaults; "" is published by no one
    assert grimnir_types("NOW_PLAYING,bogus") == ()  # case-sensitive, unvalidated: nothing comes
    defaults = {"now_playing", "health", "webstream.health"}
    for empty in ((), ("",), (",",), (",,",), ("", "dj_connect")):
        assert set(grimnir_types(*empty)) == defaults
    # The documented page reads the same values its own way.
    documented = DOCUMENTED.stream
    assert set(parse_types([" "], rules=documented)) == {"now_playing", "health"}
    assert parse_types(["health,health"], rules=documented) == ("health",)
    assert set(parse_types(["dj_connect", "health"], rules=documented)) == {"dj_connect", "health"}


async def test_a_blank_types_subscribes_to_nothing_and_gets_only_the_heartbeat(autojump_clock):
    """internal/api/api.go:2279-2281 (a blank part is kept as ""), :1673 (only an empty list means the
    defaults), :1687 (the ticker: a ping every 15 s from the upgrade, whatever else is sent)."""
    async with served(shipped("dj-takeover"), grimnir(health_tick_ms=1000)) as station:
        async with station.events("types=%20") as ws:
            opened = trio.current_time()
            beats = []
            for _ in range(3):
                assert await ws.receive() == PING
                beats.append(trio.current_time() - opened)
        assert beats == pytest.approx([15, 30, 45])
        async with station.events("types=") as ws:  # empty: the defaults, health among them
            assert "health" in types_of([m for m in await collect(ws, 5) if m != PING])


async def test_a_type_listed_twice_is_delivered_twice(autojump_clock):
    """internal/api/api.go:1677-1680: one bus.Subscribe per listed name, so two channels for a name
    listed twice, each sent (:1701-1712); internal/events/bus.go:104-115 publishes to each."""
    got = {}

    async def read(name, ws):
        got[name] = [m for m in await collect(ws, 150) if m != PING]

    async with (
        served(shipped("dj-takeover"), grimnir()) as station,
        station.events("types=health") as once,
        station.events("types=health,health") as twice,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(read, "once", once)
        nursery.start_soon(read, "twice", twice)
    assert len(got["once"]) >= 2
    assert got["twice"] == [message for message in got["once"] for _ in range(2)]  # each one twice in a row


async def test_each_listed_type_queues_8_and_a_slow_client_loses_events_but_is_never_closed(autojump_clock):
    """internal/events/bus.go:96-102 (make(Subscriber, 8) per Subscribe), :104-115 (a non-blocking
    send: a full channel drops the event for that client, silently); internal/api/api.go:1701-1713
    (the writer takes a message out, then blocks in conn.Write; no write deadline, and nothing
    closes a slow client)."""
    async with served(shipped("dj-takeover"), grimnir()) as station:
        hub = station.service.hub
        async with station.events("types=live.handover,webstream.recovered") as ws:
            await trio.testing.wait_all_tasks_blocked()

            async def publish(kind: str, n: int) -> None:
                hub.publish_encoded([(kind, json.dumps({"payload": {"n": n}, "type": kind}).encode())])
                await trio.testing.wait_all_tasks_blocked()  # the connection sends what it can

            # The client reads nothing: the socket fills, then each type's 8 slots, then events drop,
            # well past the documented profile's 256 losses in a row that close a client (1008).
            for n in range(1, 331):
                await publish("live.handover", n)
            for n in range(1, 31):
                await publish("webstream.recovered", n)
            got = [json.loads(m) for m in await collect(ws, 1)]
            handovers = [m["payload"]["n"] for m in got if m["type"] == "live.handover"]
            recovered = [m["payload"]["n"] for m in got if m["type"] == "webstream.recovered"]
            # What got into the socket before it filled, then the 8 that waited: the first ones, in order.
            assert handovers == list(range(1, len(handovers) + 1)) and len(handovers) > 8
            assert recovered == list(range(1, 9))  # the socket was full: only its 8 slots
            assert hub.dropped == (330 - len(handovers)) + (30 - 8)
            # Not closed: the next event comes.
            await publish("webstream.recovered", 31)
            assert json.loads(await ws.receive())["payload"] == {"n": 31}
            assert len(hub) == 1


async def test_no_connection_limit_and_no_rate_limit(autojump_clock):
    """No limiter in internal/server or internal/api (internal/api/api.go:1653-1719 refuses only
    when live updates are switched off): the simulator's 503 and 429 limits are off."""
    settings = grimnir(max_connections=1, per_ip_per_minute=1)
    async with served(shipped("dj-takeover"), settings) as station:
        async with (
            station.events("types=%20") as first,
            station.events("types=%20") as second,
            station.events("types=%20") as third,
        ):
            for ws in (first, second, third):
                assert await ws.receive() == PING
        assert station.service.admission is None


async def test_the_token_is_still_required(autojump_clock):
    """internal/auth/middleware.go:25-64: no usable token is 401 {"error":"unauthorized"} with
    WWW-Authenticate: Bearer, before any upgrade."""
    async with served(shipped("dj-takeover"), grimnir()) as station:
        response = await refusal(station.client.websocket("/api/v1/events?types=health"))
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert await response.get_data() == b'{"error":"unauthorized"}'


async def test_any_valid_token_gets_every_stations_events_and_station_id_is_ignored(autojump_clock):
    """internal/api/api.go:1653-1719 filters nothing by station and reads no parameter but ``types``:
    a token's station_id claim scopes its REST roles, not the stream; ?station_id= is ignored."""
    scoped = token(station_id="main")
    async with served(parse_scenario(TWO_STATIONS, "two-stations.toml"), grimnir()) as station:
        query = f"/api/v1/events?types=health&station_id=nowhere&token={scoped}"
        async with station.client.websocket(query) as ws:
            got = [json.loads(m) for m in await collect(ws, 65) if m != PING]
    stations = {m["payload"]["station_id"] for m in got}
    assert len(stations) == 2, stations


async def test_no_snapshot_on_connect_whatever_is_asked(autojump_clock):
    """internal/api/api.go:1653-1719 reads only ``types`` (no snapshot on connect; ?snapshot is an
    unknown parameter, ignored, even when it is not a boolean): only events published after."""
    settings = grimnir(snapshot_by_default=True)
    async with served(shipped("dj-takeover"), settings) as station:
        await trio.sleep(1)  # the station has played its first track: a documented snapshot would send it
        for asked in ("snapshot=true", "snapshot=maybe", ""):
            async with station.events(f"types=now_playing&{asked}") as ws:
                assert await collect(ws, 16) == [PING], asked


async def test_a_stop_closes_no_stream_with_1001(autojump_clock):
    """cmd/grimnirradio/main.go:129 (http.Server.Shutdown leaves hijacked connections alone) and
    internal/api/api.go:1692-1694 (only the request context's end sends 1000, and Shutdown does not
    end it): a stopping server sends no close frame; the in-process client reads it as 1006."""
    closed = None
    async with served(shipped("dj-takeover"), grimnir()) as station:
        try:
            async with station.events("types=%20") as ws:
                station.service.hub.close_all()
                await ws.receive()
        except* WebsocketDisconnectError as group:
            closed = group.exceptions[0]
    assert closed is not None and closed.args == (1006,)


def test_a_stopping_server_drops_its_streams_without_a_close_frame():
    """cmd/grimnirradio/main.go:121-133: on SIGTERM, http.Server.Shutdown, which leaves hijacked
    connections (every WebSocket) alone, then the process exits: the client gets no close frame
    (and the access log says so, with ``types`` as the stream read it)."""
    served_ = Server("dj-takeover", "--profile", "grimnir", "--access-log")
    try:
        connect_url = next(line.split()[1] for line in served_.banner if "connect:" in line)
        assert "snapshot" not in connect_url  # the banner offers nothing the profile ignores
        assert (
            "types=now_playing,dj_connect,dj_disconnect,priority.override,priority.released&" in connect_url
        )
        assert "speaking the grimnir profile's wire" in served_.banner[0]
        with connect(f"{served_.ws}?types=health,health&token={served_.token}") as client:
            signalled_at = time.monotonic()
            served_.process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    client.recv(timeout=10)
            assert closed.value.rcvd is None  # no close frame: the browser's 1006
            assert time.monotonic() - signalled_at < DRAIN_AT_MOST_SECONDS  # dropped at once
        assert served_.process.wait(timeout=10) == 0
        log = served_.process.stderr.read()
        assert "Traceback" not in log
        # The access log says what happened: two subscriptions, and an end with no close frame.
        assert " WS open /api/v1/events types=health,health\n" in log
        assert " WS close 1006 by server after " in log
    finally:
        served_.stop()


async def test_a_long_manual_advance_loses_nothing_for_a_prompt_reader(autojump_clock):
    """The 8 slots of internal/events/bus.go:96-102 hold a burst no real clock makes: a manual
    advance waits, instant by instant, for each subscription to drain to half (server.hub.settle)."""
    async with served(shipped("dj-takeover"), grimnir(), manual_clock=True) as station:
        got, published = [], []
        station.service.hub.taps.append(lambda batch: published.extend(wire.encode(e.event) for e in batch))
        async with station.events("types=health,now_playing") as ws:

            async def read():
                while True:
                    message = json.loads(await ws.receive())
                    if message != {"type": "ping"}:
                        got.append(message)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                status, _ = await station.post("/api/v1/sim/advance", {"by": "6h"})
                await trio.sleep(1)
                nursery.cancel_scope.cancel()
        assert status == 200
        wanted = [m for m in map(json.loads, published) if m["type"] in ("health", "now_playing")]
        assert len(wanted) > 300  # six hours: a health snapshot a minute, and the tracks
        assert got == wanted
        assert station.service.hub.dropped == 0


def test_serve_says_which_options_the_grimnir_stream_ignores():
    """The real server has no connection limits and no state on connect (G:internal/api/api.go:1653-1719),
    so serve says that the options for them do nothing under --profile grimnir, one line each."""
    from playout.drivers.cli import build_parser
    from server.cli.serve import ignored_by_profile

    def ignored(*options: str) -> list[str]:
        return ignored_by_profile(build_parser().parse_args(["serve", *options]))

    assert ignored("--profile", "grimnir") == []
    assert ignored("--health-tick", "1m") == [
        "--health-tick does nothing: the documented profile sends no snapshots"
    ]
    assert ignored("--profile", "grimnir", "--health-tick", "1m") == []
    assert ignored("--snapshot", "--max-connections", "5", "--per-ip-per-minute", "7") == []
    assert ignored(
        "--profile", "grimnir", "--snapshot", "--max-connections", "5", "--per-ip-per-minute", "7"
    ) == [
        "--snapshot does nothing: the grimnir profile's stream has no state on connect",
        "--max-connections does nothing: the grimnir profile's stream has no connection limits",
        "--per-ip-per-minute does nothing: the grimnir profile's stream has no connection limits",
    ]


def test_serve_says_how_to_have_fewer_snapshots_when_its_speed_makes_many():
    """The director's 250 ms tick (G:internal/playout/director.go:244) is in station time, so --speed 60
    makes 240 snapshots a wall-clock second per mount; serve says so once, with the fix."""
    from playout.drivers.cli import build_parser
    from server.cli.serve import snapshot_rate_note

    def note(*options: str, stations: int = 1) -> str | None:
        return snapshot_rate_note(build_parser().parse_args(["serve", *options]), stations)

    assert note("--profile", "grimnir", "--speed", "60") == (
        "at --speed 60 the grimnir profile sends 240 health snapshots a second (one per playing mount every "
        "250ms of station time); --health-tick 1m for one a second per mount, or leave health out of a "
        "client's types"
    )
    assert note("--profile", "grimnir", "--speed", "2", stations=2) is None  # 16 a second: not many
    assert note("--profile", "grimnir", "--speed", "3", stations=2) is not None  # 24
    assert note("--profile", "grimnir", "--speed", "60", "--health-tick", "1m") is None
    assert note("--profile", "grimnir") is None
    assert note("--speed", "60") is None


async def test_the_stream_admits_what_the_real_middleware_admits(autojump_clock):
    """internal/auth/middleware.go:25-94 admits the stream as every route: an X-API-Key (no fallback to
    the token when it is wrong), a token without uid (internal/auth/jwt.go:38-56 requires no claim),
    a Bearer header before ?token= (no fallback when the header's token is bad); its 401 is text."""
    import jwt as pyjwt

    from server.auth import ALGORITHM
    from tests.server_support import KEY

    no_uid = pyjwt.encode(
        {"roles": ["admin"], "exp": int(time.time()) + 3600}, KEY.secret, algorithm=ALGORITHM
    )
    async with served(shipped("dj-takeover"), grimnir(api_keys=("k-123",))) as station:
        for query, headers in (
            (f"token={no_uid}", {}),
            ("", {"X-API-Key": "k-123"}),
            ("", {"Authorization": f"Bearer {no_uid}"}),
        ):
            async with station.client.websocket(
                f"/api/v1/events?types=health&{query}", headers=headers
            ) as ws:
                assert await ws.receive() == PING  # admitted: the heartbeat comes
        for query, headers in (
            (f"token={token()}", {"X-API-Key": "wrong"}),
            (f"token={token()}", {"Authorization": "Bearer not-a-jwt"}),
        ):
            response = await refusal(station.client.websocket(f"/api/v1/events?{query}", headers=headers))
            assert response.status_code == 401 and response.headers["Content-Type"].startswith("text/plain")


async def test_an_advance_is_refused_when_its_health_snapshots_would_be_too_many(autojump_clock):
    """The director's 250 ms tick (G:internal/playout/director.go:244) makes 14,400 snapshots an hour per
    mount; an advance listing millions of them froze the server, so one advance may make 20,000 at
    most, and the refusal says how far it may go and how to go further."""
    from server.control.playback import MAX_ADVANCE_MS, longest_advance_ms

    async with served(shipped("dj-takeover"), grimnir(health_tick_ms=250), manual_clock=True) as station:
        status, body = await station.post("/api/v1/sim/advance", {"by": "2h"})
        assert status == 400 and body["error"] == "invalid_request"
        assert body["detail"].startswith("by: at most 1h23m20s at a time here")
        assert "--health-tick 1m" in body["detail"]
        assert longest_advance_ms(station.service) == 5_000_000
        status, body = await station.post("/api/v1/sim/advance", {"by": "10m"})
        assert status == 200 and sum(m["type"] == "health" for m in body["events"]) == 2_400
    async with served(shipped("dj-takeover"), grimnir(health_tick_ms=60_000), manual_clock=True) as station:
        assert longest_advance_ms(station.service) == MAX_ADVANCE_MS
