"""The REST API of a served station, declared: every endpoint and the schemas of its answers.

The handlers (server/event_stream.py, server/reads.py, server/control/) are bound to these declarations,
which check each request before the handler runs (see :mod:`server.rest`), and
the OpenAPI 3.1 document served at ``GET /api/v1/openapi.json`` (and kept in
``docs/openapi.json``, a test fails when it is stale) is written from them.

The endpoints are declared by area: the serving process (``service``), reading
the station (``station``), the priority ladder (``priority``), live DJs
(``live``), webstreams (``webstreams``) and the simulation's clock (``clock``);
their answers' schemas in ``answer_schemas``, from the building blocks in
``schemas``. Adding an endpoint is its declaration in its area, its place in
``API.add`` below (the document's order) and its handler.

``python -m server.api`` prints the document.
"""

import functools
import json

from ..contract import package_version
from ..rest.answers import Schema
from .clock import ADVANCE, RESET
from .live import DJ_CONNECT, DJ_DISCONNECT, LIVE_HANDOVER, LIVE_RELEASE
from .priority import INSERT_EMERGENCY, RELEASE_PRIORITY, SKIP, START_OVERRIDE
from .schemas import API
from .service import EVENTS, HEALTH, OPENAPI, SIM_SERVER
from .station import ANALYTICS_NOW_PLAYING, PUBLIC_NOW_PLAYING, SIM_STATE
from .webstreams import WEBSTREAM_FAILOVER, WEBSTREAM_RESET, WEBSTREAM_URL

API.add(
    HEALTH,
    OPENAPI,
    EVENTS,
    SIM_SERVER,
    PUBLIC_NOW_PLAYING,
    ANALYTICS_NOW_PLAYING,
    SIM_STATE,
    # control, on the real server's paths
    INSERT_EMERGENCY,
    START_OVERRIDE,
    RELEASE_PRIORITY,
    LIVE_HANDOVER,
    LIVE_RELEASE,
    WEBSTREAM_FAILOVER,
    WEBSTREAM_RESET,
    SKIP,
    # control, the simulation's only
    DJ_CONNECT,
    DJ_DISCONNECT,
    WEBSTREAM_URL,
    ADVANCE,
    RESET,
)


def openapi_document() -> Schema:
    return API.document(
        {
            "title": "grimnir-sim REST API",
            "version": package_version(),
            "description": (
                "The REST side of a simulated Grimnir Radio station: health, public now-playing, the "
                "simulation's state, and control. Every refusal is JSON, "
                '{"error": "<code>", "detail": "<what and why>"}, except the 401, which is exactly '
                '{"error":"unauthorized"}. A path outside this document is 404 (components/responses/'
                "UnknownPath), a method a path does not have 405 (WrongMethod, with Allow). Every path "
                "answers OPTIONS (204 with Allow, no token needed; also the CORS preflight) and every GET "
                "answers HEAD (the GET's answer without its body). The event stream's messages are in the "
                "AsyncAPI document (docs/asyncapi.yaml). Generated from server/api/; see docs/protocol.md."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        }
    )


@functools.cache
def openapi_json() -> bytes:
    """The document as served and as kept in docs/openapi.json."""
    return (json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n").encode()
