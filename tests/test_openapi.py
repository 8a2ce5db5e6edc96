"""The REST contract: docs/openapi.json is generated from the endpoint declarations, current, a
valid OpenAPI 3.1 document, served, and what the routes check."""

import json

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from server import api
from server.api import API, openapi_document, openapi_json
from server.app import create_app
from server.relay import StreamFollower
from server.rest import Answer, Api, Auth, Endpoint
from server.service import EdgeService, StationService
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
        assert ("403" in responses) == (endpoint.auth is Auth.ADMIN), endpoint.path
        assert ("413" in responses) == (endpoint.body is not None), endpoint.path
        assert ("307" in responses) == endpoint.station_only, endpoint.path
    events = paths["/api/v1/events"]["get"]
    assert {"types", "token"} <= {p["name"] for p in events["parameters"]}
    assert set(events["responses"]) == {"101", "400", "401", "429", "503"}
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
