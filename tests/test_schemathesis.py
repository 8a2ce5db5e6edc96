"""Schemathesis against ``grimnir-sim serve``: every operation of docs/openapi.json, over a real socket.

For each operation in the document, Schemathesis (https://schemathesis.readthedocs.io)
sends the document's examples, its coverage cases (boundaries, and each constraint
broken in turn: missing and mistyped fields, values out of range, wrong content
types, undeclared methods) and random valid and invalid requests, to a station
served by Hypercorn in a subprocess on loopback, with an admin token. Every
answer must be in the document (status, content type, body schema, required
headers), nothing may be a 5xx, a valid request must not be refused with 400, an
invalid one must be refused with a 4xx, and a method the path does not have must
be a 405 with Allow. The suite's own openapi-core checker (tests/openapi_support.py)
is run on every answer too.

Each request to a guarded operation is then sent again by a caller who may not
make it, each in turn: no token, a malformed one, one signed with another key, an
expired one, other credentials, and (on the control operations) a token without
the admin role. Their answers are held to the same document and must be the
refusal that comes before any handler (401, or 403 insufficient_role), never an
answer only a handler gives.

Deterministic: a fixed seed, Hypothesis derandomized, no example database; the
station's clock is manual, so what it answers depends only on the requests.

Nothing is left out, and two checks cannot apply everywhere:

- ``/api/v1/events`` is fuzzed like the rest, but over plain HTTP, which cannot
  complete a WebSocket upgrade: every GET or HEAD to it is the documented 400 (not
  an upgrade), so the check that a valid request is accepted cannot apply there
  (its OPTIONS is the 204 of every path, and is held to every check). Its
  101 and its refusals before the upgrade (401, 429, 503) are tested with
  WebSocket clients in tests/test_server_protocol.py, tests/test_e2e_server.py and
  tests/test_open_files.py.
- ``POST /api/v1/sim/advance`` takes ``by``, a duration such as ``1h30m`` or a
  number of seconds, at most 7d. The schema says string or number: a bound on a
  sum of units cannot be said in JSON Schema, so a schema-valid ``by`` (``""``,
  ``"8d"``) can be the documented 400 ``invalid_request``, and the check that a
  valid request is accepted cannot apply. Every other check does, and the
  refusals are pinned in tests/test_server_rest.py and tests/test_odd_requests.py.
"""

import copy
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from server import api
from server.auth import SigningKey, mint
from tests.openapi_support import contract
from tests.serve_support import KEY, Server
from tests.support import shipped

SCENARIO = shipped("community-week")
SIGNING_KEY = SigningKey(KEY, generated=False)
SEED = 20260119
EXAMPLES_PER_OPERATION = 10
"""Random examples per operation, beyond the document's examples and the coverage cases."""


def _known_ids() -> dict[str, list[str]]:
    """The scenario's ids, short and UUID, so that some requests name what exists (and get a 200)."""
    station = SCENARIO.stations[0]
    tracks = [t for t in SCENARIO.tracks.values() if not t.rotation] + list(SCENARIO.tracks.values())[:2]
    media = [i for track in tracks for i in (track.key, track.id)]
    webstreams = [i for stream in SCENARIO.webstreams.values() for i in (stream.key, stream.id)]
    return {
        "stations": [station.key, station.id],
        "mounts": [i for mount in station.mounts for i in (mount.key, mount.id)],
        "djs": list(SCENARIO.djs),
        "users": [dj.user_id for dj in SCENARIO.djs.values()],
        "media": media,
        "webstreams": webstreams,
        "sources": media + webstreams,
    }


def _binding(dictionary: str) -> dict[str, Any]:
    # Half the values the scenario's, half generated: what exists and what does not.
    return {"dictionary": dictionary, "probability": 0.5}


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid requests and invalid ones
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
        "dictionaries": {name: {"values": values} for name, values in _known_ids().items()},
        "parameters": {
            "query.station_id": _binding("stations"),
            "body.station_id": _binding("stations"),
            "body.mount_id": _binding("mounts"),
            "body.media_id": _binding("media"),
            "body.source_id": _binding("sources"),
            "body.dj": _binding("djs"),
            "body.user_id": _binding("users"),
            "path.source_id": _binding("sources"),
            "path.webstream_id": _binding("webstreams"),
        },
    }
)


def schemathesis_copy(document: dict[str, Any]) -> dict[str, Any]:
    """The document as given to Schemathesis: the same, but for the one tuple (``prefixItems``).

    Schemathesis (4.32) turns ``prefixItems`` into a Draft 4 ``items`` list even for an
    OpenAPI 3.1 document, then builds a Draft 2020-12 validator from it, which refuses
    that list: every answer of GET /api/v1/sim/server would be reported as a schema
    error (its issues #3842 and #4099 are of this kind). Its copy spells the pair as an
    array of exactly two numbers; the exact schema is still checked on every answer by
    :func:`agrees_with_the_suites_checker`.
    """
    changed = copy.deepcopy(document)
    stalls = changed["components"]["schemas"]["SimServer"]["properties"]["loop"]["properties"]
    pair = stalls["recent_stalls"]["items"]
    assert pair["prefixItems"] == [{"type": "number"}, {"type": "number", "minimum": 0}], pair
    del pair["prefixItems"]
    pair.update(items={"type": "number"}, minItems=2, maxItems=2)
    return changed


schema = schemathesis.openapi.from_dict(schemathesis_copy(api.openapi_document()), config=CONFIG)


def agrees_with_the_suites_checker(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """The answer passes tests/openapi_support.py too: openapi-core, and the 404/405 of what is not in it."""
    sent = response.request
    headers = {name: ", ".join(values) for name, values in response.headers.items()}
    violation = contract().check(
        sent.method or case.method, sent.url or "", response.status_code, headers, response.content
    )
    if violation is not None:
        raise violation


CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    agrees_with_the_suites_checker,
]
CHECKS = [
    *CONFORMANCE,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
]
NOT_APPLICABLE = {
    **{(api.EVENTS.path, method): [positive_data_acceptance] for method in ("GET", "HEAD")},
    (api.ADVANCE.path, "POST"): [positive_data_acceptance],
}
"""Checks that cannot apply to an operation; the reasons are in the module's docstring."""
BEFORE_THE_TOKEN = {
    "not_found": 404,  # the path is not the operation's after all (an invalid path parameter)
    "method_not_allowed": 405,
    "bad_request": 400,  # refused before routing (a malformed head), or not a WebSocket upgrade
}
"""Refusals that come before the token is read, so a caller without a valid one may get them too."""
UNKNOWN_PATH = "The requested URL was not found on the server"
"""How Werkzeug's 404 detail starts (a handler's not_found says what it did not find)."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    served = Server(SCENARIO.name, "--manual-clock", "--harbor-port", "0")
    yield served
    assert served.stop() == 0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def outsiders(admin_only: bool) -> dict[str, dict[str, str]]:
    """Who may not call a guarded operation, by name: the headers each sends."""
    callers = {
        "no token": {},
        "not a JWT": bearer("not-a-jwt"),
        "another key": bearer(mint(SigningKey("another-signing-key-0123456789abcdef", generated=False))),
        "expired": bearer(mint(SIGNING_KEY, ttl_seconds=60, now=time.time() - 3600)),
        "other credentials": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    }
    if admin_only:
        callers["a listener"] = bearer(mint(SIGNING_KEY, roles=("dj",)))
    return callers


@pytest.fixture
def reached(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """How far the admin's requests to one operation got; each operation must reach its handler.

    (Function-scoped: one operation's whole run. A run in which every request was refused
    before any handler, say because the token was not sent, would test little.)
    """
    seen: Counter[str] = Counter()
    yield seen
    label = request.node.name.partition("[")[2].rstrip("]")
    if label.split(" ", 1)[1] != api.EVENTS.path:  # over plain HTTP, only its routing answers
        assert seen["by the handler"], f"{label}: no request got past the checks: {dict(seen)}"


def how_far(response: schemathesis.Response) -> str:
    if response.status_code < 300:
        return "by the handler"
    body = response.json() if response.content else None
    code = body.get("error") if isinstance(body, dict) else None
    if response.status_code == 401 or (code in BEFORE_THE_TOKEN and not handler_not_found(code, body)):
        return "before any handler"
    if body is None and response.status_code in BEFORE_THE_TOKEN.values():
        return "before any handler"  # a HEAD: without a body, counted as the earlier refusal
    return "by the handler"


def handler_not_found(code: str | None, body: Any) -> bool:
    """A handler's not_found ("no such source"), not the router's unknown path."""
    return code == "not_found" and not body["detail"].startswith(UNKNOWN_PATH)


@schema.parametrize()
# `reached` counts over one operation's whole run on purpose: nothing in it is per example.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, server: Server, reached: Counter[str]
) -> None:
    operation = case.operation.definition.raw
    admin = bearer(server.token)
    excluded = NOT_APPLICABLE.get((case.operation.path, case.operation.method.upper()), [])
    answered = case.call(base_url=server.url, headers=admin)
    reached[how_far(answered)] += 1
    case.validate_response(answered, checks=[c for c in CHECKS if c not in excluded], headers=admin)
    requirements = operation.get("security", [])
    if not requirements or case.method != case.operation.method.upper():
        return  # public, or a probe with a method the path does not have (its 405 needs no token)
    admin_only = any(scopes for requirement in requirements for scopes in requirement.values())
    # One outsider per case, in turn: each meets the operation many times, at a sixth of the cost.
    callers = outsiders(admin_only)
    who = list(callers)[sum(reached.values()) % len(callers)]
    refused = case.call(base_url=server.url, headers=callers[who])
    case.validate_response(refused, checks=CONFORMANCE, headers=callers[who])
    assert_refused_before_any_handler(who, callers[who], refused)


def assert_refused_before_any_handler(
    who: str, headers: dict[str, str], response: schemathesis.Response
) -> None:
    body = response.json() if response.content else None
    code = body.get("error") if isinstance(body, dict) else None
    expected = {"unauthorized": 401, **BEFORE_THE_TOKEN}
    # A case that leaves the Authorization header out on purpose sends none, whoever asks.
    sent = response.request.headers.get("Authorization")
    if who == "a listener" and sent == headers["Authorization"]:
        expected = {"insufficient_role": 403, **BEFORE_THE_TOKEN}
    shown = f"{response.request.method} {response.request.url} by {who}: {response.status_code} {body}"
    if response.request.method == "HEAD":  # no body to tell the refusals apart
        assert response.status_code in set(expected.values()), shown
        return
    assert expected.get(code) == response.status_code, shown
    assert not handler_not_found(code, body), shown  # that comes after the token


def test_options_is_a_bare_204_on_the_wire(server: Server) -> None:
    """What the fuzzing found: OPTIONS was a 200 with an empty text/html body; a 204 has neither header."""
    with socket.create_connection(server.address, timeout=10) as client:
        client.sendall(b"OPTIONS /api/v1/sim/advance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    assert status.startswith("HTTP/1.1 204 "), status
    assert set(headers["allow"].split(", ")) == {"POST", "OPTIONS"} and body == b""
    assert "content-type" not in headers and "content-length" not in headers, headers
