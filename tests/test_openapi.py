"""The REST contract: docs/openapi.json is generated from the endpoint declarations, current, a
valid OpenAPI 3.1 document, served, and what the routes check; the suite's answers are held to it."""

import json

import httpx
import pytest
import websockets.client
import websockets.uri
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from quart.testing.connections import WebsocketResponseError

from server import api
from server.api import API, openapi_document, openapi_json
from server.app import create_app
from server.limits import Refusal
from server.relay.follower import StreamFollower
from server.rest.answers import Answer
from server.rest.endpoint import Auth, Endpoint
from server.rest.openapi import Api
from server.service import EdgeService, StationService
from tests.openapi_support import ContractViolation, RestContract
from tests.server_support import ADMIN, KEY, LISTENER, served
from tests.support import HITS_ALL_DAY, ROOT, focused

SAMPLE_PATH_VALUES = {"index": "0", "change": "up", "webstream_id": "relay"}
RELAY_ALL_DAY = '\n[[schedule]]\ndays = "daily"\nstart = "00:00"\nduration = "24h"\nwebstream = "relay"\n'


def sample_path(endpoint) -> str:
    path = endpoint.path
    for param in endpoint.path_params:
        path = path.replace(f"{{{param.name}}}", SAMPLE_PATH_VALUES.get(param.name, "x"))
    return path


def station_app():
    return create_app(StationService(focused(HITS_ALL_DAY), KEY, manual_clock=True))


def edge_app():
    return create_app(EdgeService(StreamFollower("redis://127.0.0.1:9"), KEY))


def test_the_openapi_file_is_current():
    assert (ROOT / "docs" / "openapi.json").read_bytes() == openapi_json(), (
        "run: python -m server.api > docs/openapi.json"
    )


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)


async def test_station_and_edge_serve_the_document_without_a_token(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        response = await station.client.get("/api/v1/openapi.json")
        assert (response.status_code, response.content_type) == (200, "application/json")
        served_bytes = await response.get_data()
    assert served_bytes == (ROOT / "docs" / "openapi.json").read_bytes()
    validate(json.loads(served_bytes), cls=OpenAPIV31SpecValidator)
    response = await edge_app().test_client().get("/api/v1/openapi.json")  # nothing started: no Redis needed
    assert response.status_code == 200 and await response.get_data() == served_bytes


def test_every_route_is_declared_and_every_declaration_is_served():
    declared = {(e.method, e.rule) for e in API.endpoints}
    for service_app, wanted in (
        (station_app(), declared),
        (edge_app(), {(e.method, e.rule) for e in API.endpoints if not e.station_only}),
    ):
        routes = set()
        for rule in service_app.url_map.iter_rules():
            if rule.rule.startswith("/api/"):
                methods = {"GET"} if rule.websocket else set(rule.methods or ()) - {"HEAD", "OPTIONS"}
                routes |= {(method, rule.rule) for method in methods}
        assert routes == wanted


def test_a_declaration_gives_the_route_its_rule_and_refuses_mistakes():
    assert (
        api.WEBSTREAM_URL.rule
        == "/api/v1/sim/webstreams/<webstream_id>/urls/<int:index>/<any(down, up):change>"
    )
    assert api.RELEASE_PRIORITY.rule == "/api/v1/priority/<source_id>"
    answers = {200: Answer("fine", {"type": "object"})}
    with pytest.raises(ValueError, match="path parameters"):
        Endpoint("GET", "/api/v1/x/{name}", "x", "x", "x", Auth.NONE, answers)
    with pytest.raises(ValueError, match="WebSocket"):
        Endpoint("POST", "/api/v1/x", "x", "x", "x", Auth.STREAM, answers, websocket=True)
    declared = Api()
    declared.endpoint(
        "GET", "/api/v1/x", operation_id="x", summary="x", tag="x", auth=Auth.NONE, answers=answers
    )
    with pytest.raises(ValueError, match="declared twice"):
        declared.endpoint(
            "GET", "/api/v1/x", operation_id="y", summary="x", tag="x", auth=Auth.NONE, answers=answers
        )
    with pytest.raises(ValueError, match="declared already"):
        declared.schema("Error", {})


def test_the_shared_answers_follow_from_each_declaration():
    paths = openapi_document()["paths"]
    for endpoint in API.endpoints:
        responses = paths[endpoint.path][endpoint.method.lower()]["responses"]
        assert ("401" in responses) == (endpoint.auth is not Auth.NONE), endpoint.path
        assert ("403" in responses) == (endpoint.auth in (Auth.ADMIN, Auth.STREAM)), endpoint.path
        assert ("413" in responses) == (endpoint.body is not None), endpoint.path
        assert ("307" in responses) == endpoint.station_only, endpoint.path
    for path, operations in paths.items():
        assert "options" in operations, path  # the framework answers OPTIONS on every path
        if "get" in operations:
            head = operations["head"]["responses"]
            assert set(head) == ({"400"} if path == api.EVENTS.path else set(operations["get"]["responses"]))
            assert not any("content" in answer for answer in head.values()), path
    events = paths["/api/v1/events"]["get"]
    assert {"types", "token", "station_id"} <= {p["name"] for p in events["parameters"]}
    assert set(events["responses"]) == {"101", "400", "401", "403", "404", "429", "500", "503"}
    assert events["security"] == [{"bearer": []}, {"queryToken": []}]
    assert set(openapi_document()["components"]["securitySchemes"]) == {"bearer", "queryToken"}


async def test_the_routes_check_what_the_declarations_say(autojump_clock):
    async with served(focused(RELAY_ALL_DAY), manual_clock=True) as station:
        for endpoint in API.endpoints:
            if endpoint.websocket:
                continue
            path = sample_path(endpoint)
            anonymous = await station.client.open(path, method=endpoint.method)
            if endpoint.auth is Auth.NONE:
                assert anonymous.status_code != 401, path
                continue
            assert anonymous.status_code == 401, path
            listener = await station.client.open(path, method=endpoint.method, headers=LISTENER)
            assert (listener.status_code == 403) == (endpoint.auth is Auth.ADMIN), path
            if endpoint.body is not None and endpoint.body.required:
                response = await station.client.open(path, method=endpoint.method, headers=ADMIN, json={})
                assert response.status_code == 400, path
                assert await response.get_json() == {
                    "error": "invalid_request",
                    "detail": f"body: {endpoint.body.required[0]!r} is a required property",
                }


@pytest.fixture(scope="module")
def checker() -> RestContract:
    """A checker of its own, so the violations these tests provoke are not the suite's."""
    return RestContract(openapi_document())


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "body"),
    [
        pytest.param("GET", "/api/v1/health", 418, JSON, b'{"status":"ok"}', id="undocumented-status"),
        pytest.param("GET", "/api/v1/health", 200, JSON, b'{"status":"fine"}', id="body-off-schema"),
        pytest.param("GET", "/api/v1/health", 200, {"Content-Type": "text/plain"}, b"ok", id="media-type"),
        pytest.param("GET", "/api/v1/sim/state", 401, JSON, b'{"error":"unauthorized"}', id="missing-header"),
        pytest.param(
            "POST",
            "/api/v1/playout/skip",
            404,
            JSON,
            b'{"error":"dj_not_found","detail":"x"}',
            id="error-code",
        ),
        pytest.param("GET", "/api/v1/nope", 200, JSON, b'{"status":"ok"}', id="unknown-path-answered"),
        pytest.param(
            "PUT", "/api/v1/health", 404, JSON, b'{"error":"not_found","detail":"x"}', id="wrong-method"
        ),
        pytest.param(
            "PUT",
            "/api/v1/health",
            405,
            JSON,
            b'{"error":"method_not_allowed","detail":"x"}',
            id="wrong-method-without-allow",
        ),
        pytest.param("OPTIONS", "/api/v1/health", 200, {"Allow": "GET"}, b"", id="options-not-204"),
        pytest.param("OPTIONS", "/api/v1/health", 204, {}, b"", id="options-without-allow"),
        pytest.param("HEAD", "/api/v1/sim/state", 401, JSON, b"", id="head-401-without-www-authenticate"),
        pytest.param(
            "PUT",
            "/api/v1/health",
            405,
            {**JSON, "Allow": "get"},
            b'{"error":"method_not_allowed","detail":"x"}',
            id="wrong-method-with-a-bad-allow",
        ),
    ],
)
def test_the_checker_refuses_what_the_document_does_not_say(checker, method, path, status, headers, body):
    violation = checker.check(method, path, status, headers, body)
    assert isinstance(violation, ContractViolation)
    assert checker.violations[-1] is violation


@pytest.mark.parametrize(
    ("method", "path", "status", "headers", "body"),
    [
        ("GET", "/api/v1/health", 200, JSON, b'{"status":"ok"}'),
        ("GET", "/api/v1/nope", 404, JSON, b'{"error":"not_found","detail":"x"}'),
        (
            "PUT",
            "/api/v1/health",
            405,
            {**JSON, "Allow": "GET, HEAD, OPTIONS"},
            b'{"error":"method_not_allowed","detail":"x"}',
        ),
        ("GET", "/dashboard/dashboard.js", 200, {"Content-Type": "text/javascript"}, b""),
        ("OPTIONS", "/api/v1/playout/skip", 204, {"Allow": "POST, OPTIONS"}, b""),
        ("HEAD", "/api/v1/sim/state", 401, {**JSON, "WWW-Authenticate": "Bearer"}, b""),
        ("OPTIONS", "/api/v1/events", 204, {"Allow": "GET, HEAD, OPTIONS"}, b""),
        ("HEAD", "/api/v1/events", 400, JSON, b""),
    ],
)
def test_the_checker_passes_what_the_document_says(checker, method, path, status, headers, body):
    assert checker.check(method, path, status, headers, body) is None


def test_an_upgrade_is_an_operation_only_on_the_event_streams_path(checker):
    not_found = b'{"error":"not_found","detail":"x"}'
    assert checker.check("GET", "/api/v1/events", 101, {}, b"", upgrade=True) is None
    assert checker.check("GET", "/api/v1/health", 404, JSON, not_found, upgrade=True) is None
    assert checker.check("GET", "/api/v1/event", 404, JSON, not_found, upgrade=True) is None
    refused = checker.check("GET", "/api/v1/health", 200, JSON, b'{"status":"ok"}', upgrade=True)
    assert isinstance(refused, ContractViolation)


async def test_the_suites_quart_client_is_checked(rest_contract, autojump_clock, monkeypatch):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        app = station.client.app

        async def undocumented():
            return {"status": "ok"}

        app.add_url_rule("/api/v1/undocumented", "undocumented", undocumented)
        with pytest.raises(ContractViolation, match="GET /api/v1/undocumented answered 200"):
            await station.client.get("/api/v1/undocumented")
        monkeypatch.setattr(station.service.admission, "check", lambda ip: Refusal(418, "teapot", "short", 1))
        async with station.events() as ws:
            with pytest.raises(WebsocketResponseError) as refused:
                await ws.receive()
        assert refused.value.response.status_code == 418
    found = [str(v).splitlines()[0] for v in rest_contract.violations]
    rest_contract.violations.clear()
    assert found == [
        "GET /api/v1/undocumented answered 200: not in the document, so it must be 404 (UnknownPath), "
        "not 200",
        "GET /api/v1/events answered 418: ResponseNotFound: Unknown response http status: 418",
    ]


async def test_the_suites_httpx_clients_are_checked(rest_contract):
    def teapot(request: httpx.Request) -> httpx.Response:
        return httpx.Response(418, json={"error": "teapot", "detail": "short and stout"})

    with (
        httpx.Client(transport=httpx.MockTransport(teapot), base_url="http://grimnir.test") as client,
        pytest.raises(ContractViolation, match="GET /api/v1/health answered 418"),
    ):
        client.get("/api/v1/health")
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(teapot), base_url="http://grimnir.test"
    ) as client:
        with pytest.raises(ContractViolation, match="POST /api/v1/playout/skip answered 418"):
            await client.post("/api/v1/playout/skip")
        assert (await client.get("/stream")).status_code == 418  # not the API: not checked
    assert len(rest_contract.violations) == 2
    rest_contract.violations.clear()


def test_the_suites_websockets_handshakes_are_checked(rest_contract):
    protocol = websockets.client.ClientProtocol(
        websockets.uri.parse_uri("ws://grimnir.test/api/v1/events?token=x")
    )
    protocol.send_request(protocol.connect())
    protocol.receive_data(
        b"HTTP/1.1 418 I'm a teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    (violation,) = rest_contract.violations
    rest_contract.violations.clear()
    assert str(violation).startswith("GET /api/v1/events answered 418")
