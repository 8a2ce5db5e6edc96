"""Odd REST requests get a JSON 4xx, never a 5xx or a redirect: deep nesting, huge numbers, odd paths."""

import re

import pytest
from quart.testing.connections import WebsocketResponseError

from server import api
from server.app import create_app
from server.relay.follower import StreamFollower
from server.service import EdgeService
from tests.server_support import ADMIN, KEY, served, token
from tests.support import HITS_ALL_DAY, focused, shipped

WITH_BODIES = [endpoint for endpoint in api.API.endpoints if endpoint.body is not None]
DEEP = b"[" * 10_000 + b"]" * 10_000


def concrete(path: str) -> str:
    """A declared path with every {parameter} filled in with a value it accepts."""
    return re.sub(r"\{([^}]+)\}", lambda m: {"change": "down"}.get(m.group(1), "0"), path)


def template(path: str) -> str:
    """A declared path as a regular expression: each {parameter} is one segment."""
    return "/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/"))


@pytest.mark.parametrize("endpoint", WITH_BODIES, ids=lambda e: f"{e.method} {e.path}")
async def test_json_nested_ten_thousand_deep_is_a_400_on_every_endpoint(endpoint, autojump_clock):
    async with served(shipped("webstream-failover"), manual_clock=True) as station:
        response = await station.client.open(
            concrete(endpoint.path),
            method=endpoint.method,
            data=DEEP,
            headers={**ADMIN, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert (await response.get_json())["error"] == "invalid_json"


@pytest.mark.parametrize(
    ("number", "error"),
    [("9" * 400, "invalid_json"), ("1e400", "invalid_json"), ("9" * 30, "invalid_request")],
)
async def test_numbers_beyond_a_double_or_any_duration_are_a_400(number, error, autojump_clock):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        status, body = await station.post("/api/v1/sim/advance", raw=f'{{"by": {number}}}')
        assert (status, body["error"]) == (400, error)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/live/sessions/%2F/handover", "/api//v1/health"],
)
async def test_a_path_with_an_empty_or_slash_segment_is_a_json_404_not_a_redirect(path, autojump_clock):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        status, body = await station.post(path, {"to_user_id": "mike"})
        assert (status, body["error"]) == (404, "not_found")


@pytest.mark.parametrize("endpoint", [e for e in api.API.endpoints if e.path_params], ids=lambda e: e.path)
async def test_a_path_parameter_the_route_cannot_take_is_the_documented_404(endpoint, autojump_clock):
    untakeable = {"index": ["x", "-1"], "change": ["sideways"]}
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        for param in endpoint.path_params:
            for value in ["%2F", *untakeable.get(param.name, [])]:
                path = concrete(endpoint.path.replace(f"{{{param.name}}}", value))
                for method in (endpoint.method, "OPTIONS"):
                    response = await station.client.open(path, method=method, headers=ADMIN)
                    assert response.status_code == 404, (method, path)
                    assert (await response.get_json())["error"] == "not_found"


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH"])
async def test_a_method_a_path_does_not_have_is_a_405_that_names_the_ones_it_has(method, autojump_clock):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        for path in {concrete(endpoint.path) for endpoint in api.API.endpoints}:
            # /api/v1/priority/emergency is also DELETE /api/v1/priority/{source_id}
            methods = {e.method for e in api.API.endpoints if re.fullmatch(template(e.path), path)}
            response = await station.client.open(path, method=method, headers=ADMIN)
            assert response.status_code == 405, path
            assert (await response.get_json())["error"] == "method_not_allowed"
            allowed = set(response.headers["Allow"].split(", "))
            assert methods <= allowed <= methods | {"HEAD", "OPTIONS"}, path


async def test_options_is_a_204_with_allow_on_every_path_and_head_the_gets_answer_without_a_body(
    autojump_clock,
):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        for path in {concrete(endpoint.path) for endpoint in api.API.endpoints}:  # the stream's too
            methods = {e.method for e in api.API.endpoints if re.fullmatch(template(e.path), path)}
            response = await station.client.options(path)  # no token: OPTIONS needs none
            assert response.status_code == 204, path
            head = {"HEAD"} if "GET" in methods else set()
            assert set(response.headers["Allow"].split(", ")) == methods | head | {"OPTIONS"}, path
            assert await response.get_data() == b""  # (the wire's headers: tests/test_schemathesis.py)
        for endpoint in api.API.endpoints:
            if endpoint.method == "GET" and not endpoint.websocket:
                path = concrete(endpoint.path) + "?station_id=main"
                got = await station.client.get(path, headers=ADMIN)
                head = await station.client.head(path, headers=ADMIN)
                assert (head.status_code, head.content_type) == (got.status_code, got.content_type), path
        # The stream's path takes only the upgrade: a plain GET or HEAD is its documented 400.
        for method in ("GET", "HEAD"):
            response = await station.client.open(api.EVENTS.path, method=method)
            assert response.status_code == 400


async def test_the_streams_path_answers_options_with_the_methods_its_405_names(autojump_clock):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        wrong = await station.client.post(api.EVENTS.path, headers=ADMIN)
        assert wrong.status_code == 405
        options = await station.client.options(api.EVENTS.path)
        assert options.status_code == 204
        assert options.headers["Allow"] == wrong.headers["Allow"]
        assert set(options.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
        # A CORS preflight is answered as on every path (a browser sends none for a WebSocket).
        preflight = await station.client.options(
            api.EVENTS.path,
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


async def upgrade_refusal(client, path: str):
    """The HTTP answer to a WebSocket upgrade to ``path`` (which must be refused)."""
    refused = None
    try:
        async with client.websocket(path) as ws:
            await ws.receive()
    except* WebsocketResponseError as group:
        refused = group.exceptions[0].response
    assert refused is not None, f"the upgrade to {path} was not refused"
    return refused


UNKNOWN_UPGRADE_PATHS = ["/api/v1/event", "/api/v1/events/", "/api/v1/health", "/", "/nope"]


async def test_an_upgrade_to_a_path_without_the_stream_is_a_json_404_like_plain_http(autojump_clock):
    async with served(shipped("dj-takeover"), manual_clock=True) as station:
        for path in UNKNOWN_UPGRADE_PATHS:
            refused = await upgrade_refusal(station.client, f"{path}?token={token()}")
            assert refused.status_code == 404, path
            assert (await refused.get_json())["error"] == "not_found", path
    # An edge sends every other plain request to the station; an upgrade it cannot serve is a 404.
    edge = create_app(EdgeService(StreamFollower("redis://127.0.0.1:9"), KEY)).test_client()
    for path in UNKNOWN_UPGRADE_PATHS:
        refused = await upgrade_refusal(edge, f"{path}?token={token()}")
        assert refused.status_code == 404, path


class TestStationClaim:
    """A token's station_id claim limits what it may change (the real server's station scope)."""

    async def test_a_claim_for_another_station_cannot_change_this_one(self, autojump_clock):
        async with served(shipped("dj-takeover"), manual_clock=True) as station:
            foreign = {"Authorization": f"Bearer {token(roles=('admin',), station_id='elsewhere')}"}
            status, body = await station.post("/api/v1/playout/skip", {}, headers=foreign)
            assert (status, body["error"]) == (403, "station_forbidden")
            status, body = await station.post("/api/v1/sim/advance", {"by": "1m"}, headers=foreign)
            assert (status, body["error"]) == (403, "station_forbidden")

    async def test_a_claim_for_this_station_by_id_or_key_may_change_it(self, autojump_clock):
        scenario = shipped("dj-takeover")
        async with served(scenario, manual_clock=True) as station:
            for claimed in (scenario.stations[0].id, scenario.stations[0].key):
                own = {"Authorization": f"Bearer {token(roles=('admin',), station_id=claimed)}"}
                status, _ = await station.post("/api/v1/playout/skip", {"station_id": "main"}, headers=own)
                assert status == 200


@pytest.mark.parametrize("raw", [b'{"station_id":"m\xff"}', b"\xff\xfe\x00"])
async def test_a_body_that_is_not_utf8_is_400(raw, autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        response = await station.client.post(
            "/api/v1/playout/skip", data=raw, headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert (response.status_code, (await response.get_json())["error"]) == (400, "invalid_json")
