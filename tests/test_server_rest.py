"""REST: health, public now-playing, sim state, every control endpoint, errors and CORS.

The station runs with a manual clock, so each test decides when station time moves.
"""

import json

import pytest
import trio

from playout import Playout, wire
from server.cors import allowed_origin
from server.event_stream import _station_uuid
from server.relay.follower import StreamFollower
from server.service import EdgeService, ServerSettings
from tests.serve_support import Server
from tests.server_support import ADMIN, KEY, LISTENER, served, token
from tests.support import HITS_ALL_DAY, focused, shipped

ALL_TYPES = (
    "now_playing,live.handover,live.released,dj_connect,dj_disconnect,webstream.failover,"
    "webstream.recovered,priority.emergency,priority.override,priority.released,health,schedule_update"
)
RELAY_ALL_DAY = '\n[[schedule]]\ndays = "daily"\nstart = "00:00"\nduration = "24h"\nwebstream = "relay"\n'


def scripted(body: str, action: str, at: str = "+1m") -> list[dict]:
    """The wire messages a scripted happening produces at its instant."""
    scenario = focused(body + f'\n[[timeline]]\nat = "{at}"\n{action}\n')
    emitted = Playout(scenario).advance(60_000)
    return [wire.to_message(e.event) for e in emitted if e.at_ms == 60_000]


async def heard(station, action):
    """Run ``action`` with a client listening to every type; return what the client got."""
    got = []
    async with station.events(f"types={ALL_TYPES}") as ws:
        result = await action()
        with trio.move_on_after(1):
            while True:
                message = json.loads(await ws.receive())
                if message != {"type": "ping"}:
                    got.append(message)
    return result, got


async def at_one_minute(station):
    status, _ = await station.post("/api/v1/sim/advance", {"by": "1m"})
    assert status == 200


class TestReadOnly:
    async def test_health_needs_no_token(self, autojump_clock):
        async with served(shipped("dj-takeover"), manual_clock=True) as station:
            assert await station.get("/api/v1/health", headers={}) == (200, {"status": "ok"})

    async def test_public_now_playing_in_the_real_servers_shape(self, autojump_clock):
        scenario = shipped("dj-takeover")
        async with served(scenario, manual_clock=True) as station:
            assert (await station.get("/api/v1/public/now-playing", headers={}))[0] == 400
            status, body = await station.get("/api/v1/public/now-playing?station_id=nope", headers={})
            assert (status, body["error"]) == (404, "station_not_found")
            station_id = scenario.stations[0].id
            status, body = await station.get(
                f"/api/v1/public/now-playing?station_id={station_id}", headers={}
            )
            assert status == 200
            assert set(body) == {
                "id",
                "station_id",
                "mount_id",
                "media_id",
                "artist",
                "title",
                "album",
                "started_at",
                "ended_at",
                "status",
                "type",
                "source_type",
                "is_live_dj",
            }
            assert (body["title"], body["started_at"], body["ended_at"]) == (
                "First Light",
                "2026-01-19T10:00:00Z",
                "2026-01-19T10:03:00Z",
            )
            assert (body["status"], body["type"], body["is_live_dj"]) == ("playing", "media", False)
            await station.post("/api/v1/sim/djs/connect", {"dj": "mike", "transition": "immediate"})
            _, live = await station.get("/api/v1/public/now-playing?station_id=main", headers={})
            assert (live["is_live_dj"], live["type"], live["source_type"]) == (True, "live", "live")
            assert live["session_started_at"] == "2026-01-19T10:00:00Z"

    async def test_analytics_now_playing_answers_like_public_now_playing(self, autojump_clock):
        """The real server serves both; its dashboard (internal/web/static/js/app.js) reads this one."""
        async with served(shipped("dj-takeover"), manual_clock=True) as station:
            for query in ("", "?station_id=nope", "?station_id=main"):
                public = await station.get(f"/api/v1/public/now-playing{query}", headers={})
                assert await station.get(f"/api/v1/analytics/now-playing{query}", headers={}) == public
            await station.post("/api/v1/sim/advance", {"by": "4m"})
            _, public = await station.get("/api/v1/public/now-playing?station_id=main", headers={})
            _, analytics = await station.get("/api/v1/analytics/now-playing?station_id=main", headers={})
            assert analytics == public and analytics["title"] == "Second Wind"

    async def test_sim_state_shows_ladder_djs_webstreams_and_clock(self, autojump_clock):
        async with served(shipped("webstream-failover"), manual_clock=True) as station:
            assert (await station.get("/api/v1/sim/state", headers={}))[0] == 401
            status, state = await station.get("/api/v1/sim/state", headers=LISTENER)  # any valid token reads
            assert status == 200
            assert state["station_time"] == "2026-01-20T02:00:00Z"
            assert state["clock"] == {
                "speed": 1.0,
                "manual": True,
                "scenario_start": "2026-01-20T02:00:00Z",
                "clock": "scenario",
                "station_time": "2026-01-20T02:00:00Z",
                "scenario_time": "2026-01-20T02:00:00Z",
                "entered_at": "2026-01-20T02:00:00Z",
                "repeats_every": None,
                "repeats": 0,
            }
            (main,) = state["stations"]
            assert main["on_air"]["kind"] == "automation" and main["now_playing"]["url"].startswith(
                "http://primary"
            )
            assert [s["priority"] for s in main["ladder"]] == [3, 4]
            (relay,) = state["webstreams"]
            assert (
                relay["health_status"] == "healthy"
                and relay["active_url"] == "http://primary.example.org/stream"
            )


class TestControlMatchesScripted:
    async def test_emergency(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            await at_one_minute(station)
            (status, body), got = await heard(
                station,
                lambda: station.post(
                    "/api/v1/priority/emergency", {"station_id": "main", "media_id": "alert"}
                ),
            )
        assert status == 200
        assert body["status"] == "emergency_activated" and body["preempted"] is True
        assert got == scripted(HITS_ALL_DAY, 'action = "emergency"\nmedia = "alert"')
        assert body["source_id"]

    async def test_override_media_and_its_release(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            await at_one_minute(station)
            track = station.service.scenario.tracks["three"].id
            (status, body), got = await heard(
                station,
                lambda: station.post(
                    "/api/v1/priority/override",
                    {"station_id": "main", "source_id": track, "source_type": "media"},
                ),
            )
            assert (status, body["status"], body["transition_type"]) == (200, "override_activated", "preempt")
            assert got == scripted(HITS_ALL_DAY, 'action = "override"\nname = "x"\nmedia = "three"')
            response = await station.client.delete(f"/api/v1/priority/{body['source_id']}", headers=ADMIN)
            released = await response.get_json()
            assert response.status_code == 200 and released["status"] == "released"
            assert released["next_priority"] == 3

    async def test_dj_connect_and_disconnect(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            await at_one_minute(station)
            (status, body), got = await heard(
                station,
                lambda: station.post(
                    "/api/v1/sim/djs/connect",
                    {"dj": "mike", "source_ip": "203.0.113.7", "transition": "immediate"},
                ),
            )
            assert status == 200
            assert (
                got
                == body["events"]
                == scripted(
                    HITS_ALL_DAY,
                    'action = "dj_connect"\ndj = "mike"\nsource_ip = "203.0.113.7"\ntransition = "immediate"',
                )
            )
            status, body = await station.post("/api/v1/sim/djs/disconnect", {"dj": "mike"})
            assert status == 200
            assert [m["type"] for m in body["events"]] == [
                "dj_disconnect",
                "live.released",
                "priority.released",
                "now_playing",
            ]

    async def test_webstream_outage_failover_and_reset(self, autojump_clock):
        async with served(focused(RELAY_ALL_DAY), manual_clock=True) as station:
            status, body = await station.post(
                "/api/v1/sim/webstreams/relay/urls/0/down", {"reason": "read_stall"}
            )
            # Down at 10:00:00, a point of the 30 s check grid: checked (and failed) at once.
            assert status == 200 and body["health_status"] == "degraded"
            status, advanced = await station.post("/api/v1/sim/advance", {"by": "70s"})
            failover = [m for m in advanced["events"] if m["type"] == "webstream.failover"]
            assert [m["payload"]["reason"] for m in failover] == ["read_stall"]
            assert advanced["station_time"] == "2026-01-19T10:01:10Z"
            status, body = await station.post("/api/v1/webstreams/relay/reset")
            assert status == 200 and body["current_index"] == 0
            status, body = await station.post("/api/v1/webstreams/relay/failover")
            assert status == 200 and body["current_index"] == 1 and body["health_status"] == "degraded"
            _, state = await station.get("/api/v1/sim/state")
            assert state["webstreams"][0]["active_url"] == "http://backup.example.org/s"

    async def test_skip_and_live_override(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            (status, _), got = await heard(
                station, lambda: station.post("/api/v1/playout/skip", {"station_id": "main"})
            )
            assert status == 200 and [m["payload"]["title"] for m in got] == ["Second Wind"]
            _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 2})
            session = connected["session_id"]
            (status, body), got = await heard(
                station,
                lambda: station.post(
                    "/api/v1/priority/override",
                    {"station_id": "main", "source_id": session, "source_type": "live"},
                ),
            )
            assert status == 200 and body["preempted"] is True
            assert [m["type"] for m in got] == ["priority.override", "live.handover", "now_playing"]
            assert got[0]["payload"] == {
                "station_id": station.service.scenario.stations[0].id,
                "priority": 1,
                "source_type": "live",
                "source_id": session,
                "transition_type": "preempt",
            }
            status, body = await station.post("/api/v1/playout/skip", {"station_id": "main"})
            assert (status, body["error"]) == (409, "conflict")
            response = await station.client.delete(f"/api/v1/live/sessions/{session}/handover", headers=ADMIN)
            assert (response.status_code, await response.get_json()) == (200, {"status": "released"})

    async def test_live_handover_endpoint(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 2})
            body = {
                "session_id": connected["session_id"],
                "station_id": "main",
                "priority": 2,
                "immediate": True,
            }
            status, result = await station.post("/api/v1/live/sessions/handover", body)
            assert status == 200 and result["success"] is True
            assert (
                result["transition_type"] == "immediate" and result["handover_at"] == "2026-01-19T10:00:00Z"
            )
            assert result["previous_source"]["priority"] == 3 and result["new_source"]["priority"] == 2


class TestBadRequests:
    async def unchanged(self, station, call):
        _, before = await station.get("/api/v1/sim/state")
        outcome = await call()
        _, after = await station.get("/api/v1/sim/state")
        assert before == after, "a refused request changed the station"
        return outcome

    @pytest.mark.parametrize(
        ("path", "body", "raw", "status", "code"),
        [
            ("/api/v1/priority/emergency", None, "{not json", 400, "invalid_json"),
            ("/api/v1/priority/emergency", None, "[1, 2]", 400, "invalid_json"),
            ("/api/v1/priority/emergency", {"station_id": "main"}, None, 400, "invalid_request"),
            (
                "/api/v1/priority/emergency",
                {"station_id": 5, "media_id": "alert"},
                None,
                400,
                "invalid_request",
            ),
            (
                "/api/v1/priority/emergency",
                {"station_id": "nope", "media_id": "alert"},
                None,
                404,
                "station_not_found",
            ),
            (
                "/api/v1/priority/emergency",
                {"station_id": "main", "media_id": "nope"},
                None,
                404,
                "media_not_found",
            ),
            (
                "/api/v1/priority/override",
                {"station_id": "main", "source_id": "one", "source_type": "jingle"},
                None,
                400,
                "invalid_request",
            ),
            ("/api/v1/sim/djs/connect", {"dj": "nobody"}, None, 404, "dj_not_found"),
            ("/api/v1/sim/djs/disconnect", {"dj": "mike"}, None, 409, "conflict"),
            ("/api/v1/sim/webstreams/relay/urls/9/down", None, None, 404, "not_found"),
            ("/api/v1/webstreams/nope/failover", None, None, 404, "webstream_not_found"),
            ("/api/v1/sim/advance", {"by": "soon"}, None, 400, "invalid_request"),
            (
                "/api/v1/live/sessions/handover",
                {"session_id": "x", "station_id": "main", "priority": 1},
                None,
                404,
                "not_found",
            ),
        ],
    )
    async def test_refused_and_nothing_changes(self, path, body, raw, status, code, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            got_status, got = await self.unchanged(station, lambda: station.post(path, body, raw=raw))
            assert (got_status, got["error"]) == (status, code)
            assert got["detail"]

    async def test_override_that_cannot_preempt_is_409(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            await station.post("/api/v1/sim/djs/connect", {"dj": "mike"})
            status, body = await self.unchanged(
                station,
                lambda: station.post("/api/v1/priority/override", {"station_id": "main", "source_id": "two"}),
            )
            assert (status, body["error"]) == (409, "no_preemption")

    async def test_unknown_priority_source_and_session(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            response = await station.client.delete("/api/v1/priority/nope", headers=ADMIN)
            assert response.status_code == 404
            response = await station.client.delete("/api/v1/live/sessions/nope/handover", headers=ADMIN)
            assert (response.status_code, (await response.get_json())["error"]) == (404, "session_not_found")

    async def test_control_needs_a_token_and_the_admin_role(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            status, body = await station.post("/api/v1/playout/skip", {}, headers={"Authorization": ""})
            assert (status, body) == (401, {"error": "unauthorized"})
            status, body = await station.post("/api/v1/playout/skip", {}, headers=LISTENER)
            assert (status, body["error"]) == (403, "insufficient_role")
            platform = {"Authorization": f"Bearer {token(roles=('platform_admin',))}"}
            assert (await station.post("/api/v1/playout/skip", {}, headers=platform))[0] == 200

    async def test_advancing_a_running_clock_is_409(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY)) as station:
            status, body = await station.post("/api/v1/sim/advance", {"by": "5m"})
            assert (status, body["error"]) == (409, "conflict")


class TestCors:
    @pytest.mark.parametrize(
        "origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080"]
    )
    async def test_loopback_origins_may_call_the_api(self, origin, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            response = await station.client.options(
                "/api/v1/playout/skip",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )
            assert response.headers["Access-Control-Allow-Origin"] == origin
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
            assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()

    async def test_other_origins_get_no_cors_headers(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            response = await station.client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
            assert "Access-Control-Allow-Origin" not in response.headers

    async def test_a_page_may_read_retry_after_allow_and_www_authenticate(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            response = await station.client.get(
                "/api/v1/sim/state", headers={"Origin": "http://localhost:3000"}
            )
            assert response.status_code == 401 and response.headers["Access-Control-Allow-Origin"]
            exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
            assert set(exposed) == {"Retry-After", "Allow", "WWW-Authenticate"}

    async def test_the_wildcard_allows_every_origin(self, autojump_clock):
        settings = ServerSettings(cors_origins=("*",))
        async with served(focused(HITS_ALL_DAY), settings, manual_clock=True) as station:
            for origin in ("https://app.example", "http://localhost:3000"):
                response = await station.client.options(
                    "/api/v1/playout/skip",
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": "POST",
                        "Access-Control-Request-Headers": "authorization,content-type",
                    },
                )
                assert response.headers["Access-Control-Allow-Origin"] == "*"
                # A wildcard in Allow-Headers would not cover Authorization: it is named.
                assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize(
    ("given", "allowed"),
    [
        ("http://localhost:3000/", "http://localhost:3000"),
        ("https://App.Example", "https://app.example"),
        ("HTTPS://app.example:443/", "https://app.example"),
        ("http://app.example:80", "http://app.example"),
        ("http://app.example:8080", "http://app.example:8080"),
        ("http://[::1]:5173/", "http://[::1]:5173"),
        ("*", "*"),
    ],
)
def test_an_allowed_origin_is_written_as_browsers_send_it(given, allowed):
    assert allowed_origin(given) == allowed


def test_a_cors_origin_given_with_a_trailing_slash_matches_on_a_served_station():
    server = Server("dj-takeover", "--manual-clock", "--cors-origin", "https://app.example/")
    try:
        response = server.http.get("/api/v1/health", headers={"Origin": "https://app.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    finally:
        assert server.stop() == 0


class TestControlAnswers:
    async def test_advance_is_capped(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            status, body = await station.post("/api/v1/sim/advance", {"by": "3650d"})
            assert (status, body["error"]) == (400, "invalid_request")

    async def test_a_float_priority_reaches_the_wire_as_an_integer(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            status, body = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 1.0})
            assert status == 200
            handover = next(m for m in body["events"] if m["type"] == "live.handover")
            assert handover["payload"]["priority"] == 1 and isinstance(handover["payload"]["priority"], int)

    async def test_control_answers_with_the_state_of_its_own_change(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            alert = station.service.scenario.tracks["alert"].id
            results = {}

            async def insert():
                results["post"] = await station.post(
                    "/api/v1/priority/emergency", {"station_id": "main", "media_id": alert}
                )

            async def release():
                response = await station.client.delete(f"/api/v1/priority/{alert}", headers=ADMIN)
                results["delete"] = response.status_code

            async with trio.open_nursery() as nursery:
                nursery.start_soon(insert)
                nursery.start_soon(release)
            assert results["post"][0] == 200  # never a 500 after the change was made
            assert results["delete"] in (200, 404)

    async def test_short_ids_json_errors_and_a_released_dj(self, autojump_clock):
        async with served(focused(RELAY_ALL_DAY), manual_clock=True) as station:
            status, _ = await station.post(
                "/api/v1/priority/override",
                {"station_id": "main", "source_id": "one", "source_type": "media"},
            )
            assert status == 200
            response = await station.client.delete(
                "/api/v1/priority/one", headers=ADMIN
            )  # the media's short id
            assert response.status_code == 200
            for method, path, status in (
                ("GET", "/api/v1/nope", 404),
                ("GET", "/api/v1/priority/emergency", 405),
            ):
                response = await station.client.open(path, method=method, headers=ADMIN)
                body = await response.get_json()
                assert response.status_code == status and set(body) == {"error", "detail"}
            response = await station.client.post("/api/v1/playout/skip", data=b"x" * 70_000, headers=ADMIN)
            assert (
                response.status_code == 413
                and (await response.get_json())["error"] == "request_entity_too_large"
            )
            _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "mike"})
            session = connected["session_id"]
            path = f"/api/v1/live/sessions/{session}/handover"
            assert (await station.client.delete(path, headers=ADMIN)).status_code == 200
            response = await station.client.delete(path, headers=ADMIN)  # connected, already released
            assert (response.status_code, (await response.get_json())["error"]) == (409, "conflict")

    async def test_a_delayed_live_override_returns_its_session_as_the_source(self, autojump_clock):
        async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
            _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 2})
            status, body = await station.post(
                "/api/v1/priority/override",
                {
                    "station_id": "main",
                    "source_id": connected["session_id"],
                    "source_type": "live",
                    "transition_type": "delayed",
                },
            )
            assert status == 200 and body["source_id"] == connected["session_id"]


class TestUuidCase:
    """UUIDs are case-insensitive (RFC 9562): an upper-case one names the same thing, and answers
    carry the canonical lower-case form."""

    async def test_upper_case_uuids_in_bodies_paths_queries_and_claims(self, autojump_clock):
        scenario = focused(HITS_ALL_DAY)
        station_id, up = scenario.stations[0].id, str.upper
        mount_id = scenario.stations[0].mounts[0].id
        alert, mike = scenario.tracks["alert"].id, scenario.djs["mike"].user_id
        async with served(scenario, manual_clock=True) as station:
            status, body = await station.get(f"/api/v1/public/now-playing?station_id={up(station_id)}")
            assert (status, body["station_id"]) == (200, station_id)
            status, connected = await station.post(
                "/api/v1/sim/djs/connect",
                {"dj": up(mike), "station_id": up(station_id), "mount_id": up(mount_id), "priority": 2},
            )
            assert status == 200
            session = connected["session_id"]
            status, body = await station.post(
                "/api/v1/live/sessions/handover",
                {"session_id": up(session), "station_id": up(station_id), "priority": 1, "immediate": True},
            )
            assert (status, body["session_id"]) == (200, session)
            released = await station.client.delete(
                f"/api/v1/live/sessions/{up(session)}/handover", headers=ADMIN
            )
            assert released.status_code == 200
            status, body = await station.post(
                "/api/v1/priority/override",
                {"station_id": up(station_id), "source_id": up(session), "source_type": "live"},
            )
            assert (status, body["source_id"]) == (200, session)
            status, _ = await station.post(
                "/api/v1/priority/emergency", {"station_id": up(station_id), "media_id": up(alert)}
            )
            assert status == 200
            path = f"/api/v1/priority/{up(alert)}?station_id={up(station_id)}"
            assert (await station.client.delete(path, headers=ADMIN)).status_code == 200
            claim = {"Authorization": f"Bearer {token(roles=('admin',), station_id=up(station_id))}"}
            status, _ = await station.post("/api/v1/sim/advance", {"by": "1s"}, headers=claim)
            assert status == 200
            async with station.events(f"types=now_playing&snapshot=true&station_id={up(station_id)}") as ws:
                message = json.loads(await ws.receive())  # the upgrade was not refused
                assert message["payload"]["station_id"] == station_id

    def test_an_edge_matches_an_upper_case_station_uuid_as_the_events_carry_it(self):
        edge = EdgeService(StreamFollower("redis://127.0.0.1:9"), KEY)
        station_id = "5cb4d2db-968e-5a43-8abd-f10c30c67944"
        assert _station_uuid(edge, station_id.upper()) == station_id
