"""GET /api/v1/events: auth, filters, heartbeat, envelope and order, limits, slow clients.

In process (Quart's test client) with the station on trio's autojump clock, so
minutes of heartbeats and station time pass in milliseconds.
"""

import json
import time
from datetime import datetime

import jwt
import pytest
import trio
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from playout import Playout, wire
from server.auth import KEY_ENV, SigningKey, verify
from server.hub import Hub
from server.limits import Admission
from server.service import ServerSettings
from tests.server_support import KEY, served, token
from tests.support import HITS_ALL_DAY, focused, shipped


async def refusal(connection):
    """The HTTP response of a refused upgrade."""
    refused = None
    try:
        async with connection as ws:
            await ws.receive()
    except* WebsocketResponseError as group:
        refused = group.exceptions[0].response
    assert refused is not None, "the upgrade was not refused"
    return refused


async def receive_json(ws):
    return json.loads(await ws.receive())


def forged(claims, key="a-wrong-key-that-is-long-enough-for-hs256", algorithm="HS256"):
    return jwt.encode(claims, key, algorithm=algorithm)


NOW = int(time.time())
GOOD_CLAIMS = {"uid": "u1", "sub": "u1", "roles": ["admin"], "iat": NOW, "exp": NOW + 3600}


def signed(**changes):
    """A token with the right key and :data:`GOOD_CLAIMS` changed as given."""
    return jwt.encode({**GOOD_CLAIMS, **changes}, KEY.secret, algorithm="HS256")


class TestAuth:
    async def test_query_token_and_bearer_header_both_work(self, autojump_clock):
        async with served(shipped("dj-takeover")) as station:
            async with station.client.websocket(f"/api/v1/events?types=dj_connect&token={token()}") as ws:
                assert await receive_json(ws) == {"type": "ping"}
            headers = {"Authorization": f"Bearer {token()}"}
            async with station.client.websocket("/api/v1/events?types=dj_connect", headers=headers) as ws:
                assert await receive_json(ws) == {"type": "ping"}

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(None, id="missing"),
            pytest.param("not-a-jwt", id="malformed"),
            pytest.param(forged(GOOD_CLAIMS), id="wrong-signature"),
            pytest.param(
                jwt.encode({**GOOD_CLAIMS, "exp": NOW - 10}, KEY.secret, algorithm="HS256"), id="expired"
            ),
            pytest.param(jwt.encode(GOOD_CLAIMS, None, algorithm="none"), id="alg-none"),
            pytest.param(jwt.encode(GOOD_CLAIMS, KEY.secret * 2, algorithm="HS512"), id="other-algorithm"),
            pytest.param(
                jwt.encode({"sub": "u1", "exp": NOW + 60}, KEY.secret, algorithm="HS256"), id="no-uid"
            ),
            pytest.param(signed(uid=""), id="empty-uid"),
            pytest.param(signed(uid="  "), id="blank-uid"),
            pytest.param(signed(iat=NOW + 86_400), id="iat-a-day-ahead"),
            pytest.param(signed(iat="yesterday"), id="iat-not-a-time"),
            # A station_id claim that cannot be read is refused, never taken for "every station"
            *[
                pytest.param(signed(station_id=claim), id=f"station-claim-{name}")
                for name, claim in [
                    ("empty", ""),
                    ("blank", " "),
                    ("number", 123),
                    ("list", ["main"]),
                    ("object", {"id": "main"}),
                    ("true", True),
                    ("null", None),
                ]
            ],
        ],
    )
    async def test_bad_tokens_get_401_before_the_upgrade(self, bad, autojump_clock):
        async with served(shipped("dj-takeover")) as station:
            query = "" if bad is None else f"?token={bad}"
            response = await refusal(station.client.websocket(f"/api/v1/events{query}"))
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert await response.get_data() == b'{"error":"unauthorized"}'
            assert len(station.service.hub) == 0

    def test_an_iat_within_a_minute_ahead_is_clock_skew_and_accepted(self):
        ahead = jwt.encode({**GOOD_CLAIMS, "iat": NOW + 59}, KEY.secret, algorithm="HS256")
        assert verify(KEY, ahead, now=NOW) is not None
        too_far = jwt.encode({**GOOD_CLAIMS, "iat": NOW + 61}, KEY.secret, algorithm="HS256")
        assert verify(KEY, too_far, now=NOW) is None

    def test_the_key_comes_from_the_environment(self):
        assert SigningKey.from_environment({KEY_ENV: "s3cret"}) == SigningKey("s3cret", generated=False)
        assert SigningKey.from_environment({}) is None


class TestFilters:
    async def collect(self, station, query, seconds):
        """Every message a client gets in ``seconds`` of station time (speed 1)."""
        got = []
        async with station.events(query) as ws:
            with trio.move_on_after(seconds):
                while True:
                    got.append((await receive_json(ws))["type"])
        return got

    async def test_no_types_means_now_playing_and_health(self, autojump_clock):
        scenario = focused(HITS_ALL_DAY + '\n[[timeline]]\nat = "+1m"\naction = "dj_connect"\ndj = "mike"\n')
        async with served(scenario) as station:
            got = await self.collect(station, "", 400)
        assert set(got) == {"now_playing", "ping"}  # health is off in this scenario; no dj_connect
        assert got.count("ping") == 26

    @pytest.mark.parametrize("blank", ["types=", "types=%20", "types=,%20,"])
    async def test_a_types_parameter_with_no_name_in_it_means_the_default(self, blank, autojump_clock):
        scenario = focused(HITS_ALL_DAY)
        async with served(scenario) as station:
            got = await self.collect(station, blank, 200)
        assert "now_playing" in got

    async def test_types_are_trimmed_deduplicated_and_case_sensitive(self, autojump_clock):
        scenario = focused(HITS_ALL_DAY + '\n[[timeline]]\nat = "+1m"\naction = "dj_connect"\ndj = "mike"\n')
        async with served(scenario) as station:
            got = await self.collect(
                station, "types=%20dj_connect%20,,dj_connect,NOW_PLAYING,live.handover", 100
            )
        assert [t for t in got if t != "ping"] == ["dj_connect", "live.handover"]

    async def test_every_types_parameter_counts(self, autojump_clock):
        scenario = focused(HITS_ALL_DAY + '\n[[timeline]]\nat = "+1m"\naction = "dj_connect"\ndj = "mike"\n')
        async with served(scenario) as station:
            got = await self.collect(station, "types=dj_connect&types=&types=bogus,live.handover", 100)
        assert [t for t in got if t != "ping"] == ["dj_connect", "live.handover"]

    async def test_all_unknown_types_get_only_the_heartbeat(self, autojump_clock):
        async with served(shipped("dj-takeover")) as station:
            got = await self.collect(station, "types=bogus,also.bogus", 61)
        assert got == ["ping", "ping", "ping", "ping"]


class TestHeartbeat:
    @pytest.mark.parametrize("speed", [1, 600])
    async def test_ping_every_15_seconds_of_wall_clock_whatever_the_speed(self, speed, autojump_clock):
        async with (
            served(shipped("dj-takeover"), speed=speed) as station,
            station.events("types=bogus") as ws,
        ):
            opened = trio.current_time()
            beats = []
            for _ in range(3):
                assert await ws.receive() == '{"type":"ping"}'
                beats.append(trio.current_time() - opened)
        assert beats == pytest.approx([15, 30, 45])

    async def test_client_messages_are_read_and_ignored(self, autojump_clock):
        async with served(shipped("dj-takeover")) as station, station.events("types=bogus") as ws:
            for _ in range(50):  # more than any buffer between us and the server
                await ws.send('{"type":"pong"}')
            await ws.send(b"\x00binary")
            assert await ws.receive() == '{"type":"ping"}'


async def test_events_arrive_in_emission_order_in_the_documented_envelope(autojump_clock):
    scenario = shipped("emergency")
    expected = [wire.encode(e.event).decode() for e in Playout(scenario).advance(scenario.duration_ms)]
    every_type = "types=" + ",".join(sorted({json.loads(m)["type"] for m in expected}))
    async with served(scenario) as station, station.events(every_type) as ws:
        got = []
        with trio.move_on_after(scenario.duration_ms / 1000):
            while True:
                message = await ws.receive()
                if message != '{"type":"ping"}':
                    got.append(message)
    # The client connects after the station's first instant; from then on, every event, in order.
    assert got == expected[len(expected) - len(got) :]
    assert len(got) >= len(expected) - 2
    assert all(list(json.loads(m)) == ["type", "payload"] for m in got)


class TestLimits:
    async def test_the_connection_after_the_limit_gets_503(self, autojump_clock):
        settings = ServerSettings(max_connections=2)
        async with served(shipped("dj-takeover"), settings) as station:
            async with station.events("types=bogus") as first, station.events("types=bogus") as second:
                assert await first.receive() == await second.receive() == '{"type":"ping"}'
                response = await refusal(station.events())
                assert response.status_code == 503
                assert int(response.headers["Retry-After"]) > 0
                assert (await response.get_json())["error"] == "too_many_connections"
            # Both gone: room again.
            async with station.events("types=bogus") as third:
                assert await third.receive() == '{"type":"ping"}'

    async def test_new_connections_per_ip_per_minute(self, autojump_clock):
        settings = ServerSettings(per_ip_per_minute=3)
        async with served(shipped("dj-takeover"), settings) as station:
            for _ in range(3):
                async with station.events("types=bogus"):
                    pass
            response = await refusal(station.events())
            assert response.status_code == 429
            assert 0 < int(response.headers["Retry-After"]) <= 60
            other_ip = await station.client.websocket(
                f"/api/v1/events?types=bogus&token={token()}", scope_base={"client": ("127.0.0.9", 4000)}
            ).__aenter__()
            assert await other_ip.receive() == '{"type":"ping"}'
            await other_ip.__aexit__(None, None, None)
            await trio.sleep(60)
            async with station.events("types=bogus") as again:
                assert await again.receive() == '{"type":"ping"}'


async def test_a_client_that_never_reads_slows_nobody_and_is_cut_off(autojump_clock):
    scenario = shipped("community-week")
    settings = ServerSettings(queue_size=8, max_dropped=32)
    async with served(scenario, settings) as station:
        hub = station.service.hub
        async with (
            station.events("types=now_playing,health") as slow,
            station.events("types=now_playing,health") as fast,
        ):
            opened = trio.current_time()  # = the station's start: no virtual time passed since
            received = 0
            closed_at = None
            # Three station hours (180 status beats, many tracks); the end falls between events
            # (they come on 100 ms steps) so no event races it.
            with trio.move_on_after(3 * 3600 + 30.05):
                while True:
                    message = await fast.receive()
                    if message != '{"type":"ping"}':
                        received += 1
                        payload = json.loads(message)["payload"]
                        if "timestamp" in payload:  # on time: received at its station instant
                            stamp = datetime.fromisoformat(payload["timestamp"])
                            assert trio.current_time() - opened == (stamp - scenario.start).total_seconds()
                    # The slow client's queue never holds more than its bound.
                    assert all(s._send.statistics().current_buffer_used <= 8 for s in hub._subscribers)
                    if closed_at is None and len(hub) == 1:
                        closed_at = trio.current_time()
            # The reader missed nothing it subscribed to after it connected (at station time 0).
            wanted = [
                e
                for e in Playout(scenario).advance(3 * 3_600_000 + 30_050)
                if e.at_ms > 0 and e.event.TYPE in ("now_playing", "health")
            ]
            assert received == len(wanted)
            assert closed_at is not None, "the client that never reads was never cut off"
            closed = None
            try:
                while True:  # what the slow client finds when it finally reads
                    await slow.receive()
            except* WebsocketDisconnectError as group:
                closed = group.exceptions[0]
            assert closed is not None and closed.args == (1008,)


def test_the_hub_drops_for_a_full_queue_and_closes_after_too_many_drops():
    hub = Hub(queue_size=4, max_dropped=6)
    slow, reader = hub.subscribe({"now_playing"}), hub.subscribe({"now_playing"})
    batch = [e for e in Playout(shipped("crossfade")).advance(12 * 60_000) if e.event.TYPE == "now_playing"]
    assert len(batch) == 4
    for _ in range(3):
        hub.publish(batch)
        while True:  # the reader keeps up
            try:
                reader._receive.receive_nowait()
            except trio.WouldBlock:
                break
    assert slow._send.statistics().current_buffer_used == 4  # bounded: the first four only
    # 12 offered, 4 queued, 8 lost; the sixth loss in a row closes it with 1008.
    assert slow.dropped_in_a_row == 8 and slow.close_code == 1008
    assert reader.close_code is None
    assert hub.dropped == 8


async def test_a_long_manual_advance_does_not_cut_off_a_prompt_reader(autojump_clock):
    async with served(shipped("community-week"), manual_clock=True) as station:
        got = []
        async with station.events("types=now_playing,health") as ws:

            async def read():
                while True:
                    message = json.loads(await ws.receive())
                    if message != {"type": "ping"}:
                        got.append(message)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                status, body = await station.post("/api/v1/sim/advance", {"by": "6h"})
                await trio.sleep(1)
                nursery.cancel_scope.cancel()
        assert status == 200
        wanted = [m for m in body["events"] if m["type"] in ("now_playing", "health")]
        assert len(wanted) > 300  # six hours: 360 status beats and the overnight relay
        assert got == wanted  # every event, none lost, the reader never closed with 1008


def test_addresses_that_stopped_connecting_are_forgotten():
    now = [0.0]
    admission = Admission(clock=lambda: now[0])
    for n in range(50_000):
        ip = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        assert admission.check(ip) is None
        admission.admit(ip)
        admission.release()
    assert admission.remembered() == 50_000
    now[0] = 121.0
    admission.check("127.0.0.1")
    assert admission.remembered() == 0


def test_tokens_with_an_audience_or_an_iat_slightly_ahead_are_accepted():
    now = int(time.time())
    for extra in ({"aud": "grimnir"}, {"iat": now + 30}):
        credential = jwt.encode(
            {"uid": "u", "roles": [], "exp": now + 60, **extra}, KEY.secret, algorithm="HS256"
        )
        assert verify(KEY, credential) is not None
