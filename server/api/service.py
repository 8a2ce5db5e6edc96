"""The serving process's endpoints: health, this document, the event stream, the process's vitals."""

from playout import EVENT_TYPES

from ..hub import DEFAULT_TYPES
from ..rest.answers import RETRY_AFTER, Answer, refusal
from ..rest.endpoint import Auth, Endpoint, Param
from .answer_schemas import SERVICE_STATUS, SIM_SERVER_BODY

HEALTH = Endpoint(
    "GET",
    "/api/v1/health",
    operation_id="getHealth",
    summary="Whether the process serves",
    tag="service",
    auth=Auth.NONE,
    station_only=False,
    answers={200: Answer("The process serves.", SERVICE_STATUS)},
)
OPENAPI = Endpoint(
    "GET",
    "/api/v1/openapi.json",
    operation_id="getOpenApi",
    summary="This document",
    tag="service",
    auth=Auth.NONE,
    station_only=False,
    answers={
        200: Answer(
            "The OpenAPI 3.1 document of this API (docs/openapi.json).",
            {"type": "object", "required": ["openapi", "info", "paths"]},
        )
    },
)
EVENTS = Endpoint(
    "GET",
    "/api/v1/events",
    operation_id="openEventStream",
    summary="The event stream (WebSocket)",
    tag="events",
    auth=Auth.STREAM,
    station_only=False,
    websocket=True,
    description=(
        "A WebSocket upgrade. The messages are described by the AsyncAPI document (docs/asyncapi.yaml): "
        'each event as {"type": ..., "payload": {...}} in emission order, and {"type":"ping"} every 15 s. '
        "Limits are checked first, then the token and its station, all before the upgrade. A GET or HEAD "
        "without the upgrade is refused with 400; OPTIONS answers 204 with Allow, as on every path."
    ),
    query=(
        Param(
            "types",
            "Comma-separated event types; blanks trimmed, empty parts skipped, unknown names ignored; "
            "given more than once, every occurrence counts. Absent or empty: "
            + ",".join(t for t in EVENT_TYPES if t in DEFAULT_TYPES)
            + ".",
            {"type": "string", "examples": ["now_playing,live.handover,live.released"]},
        ),
        Param("token", "A JWT, instead of the Authorization header.", {"type": "string"}),
        Param(
            "snapshot",
            "State on connect (not in the real server): true or 1 sends each station's current "
            "now_playing first, when now_playing is among the types; false or 0 (or absent, unless the "
            "server runs with --snapshot) sends only live events.",
            {"type": "string", "enum": ["true", "false", "1", "0"]},
        ),
        Param(
            "station_id",
            "One station's events only (not in the real server), by UUID or id; the events of no "
            "station (webstream.failover, webstream.recovered) and the heartbeat still come. A token "
            "with a station_id claim gets only that station's events whether or not it is given, and "
            "may name no other. On an edge, the station's UUID as the events carry it.",
            {"type": "string"},
        ),
    ),
    answers={
        101: Answer("Switching Protocols: the WebSocket is open and events follow.", None),
        400: refusal(
            "bad_request",
            "invalid_snapshot",
            description="Not a WebSocket upgrade request, or a snapshot value other than true/false/1/0.",
        ),
        403: refusal(
            "station_forbidden",
            description="The token's station_id claim names a station this server does not run, or the "
            "station_id parameter names another station than the claim.",
        ),
        404: refusal(
            "station_not_found",
            description="The station_id parameter names no station this server runs (a token without a "
            "station_id claim).",
        ),
        429: refusal(
            "rate_limited",
            description="Too many new connections from this IP in the last minute.",
            headers=RETRY_AFTER,
        ),
        500: refusal(
            "internal_error",
            description="A defect of the server's, met by this upgrade before it was accepted: it is logged "
            "and counted (websocket in /api/v1/sim/server's connection_failures), and nothing else is "
            "affected.",
        ),
        503: refusal(
            "too_many_connections",
            description="too_many_connections: the connection limit is reached.",
            headers=RETRY_AFTER,
        ),
    },
)
SIM_SERVER = Endpoint(
    "GET",
    "/api/v1/sim/server",
    operation_id="getServerVitals",
    summary="The serving process: connections, event loop, garbage collector, relay",
    tag="simulation",
    auth=Auth.TOKEN,
    station_only=False,
    answers={200: Answer("The serving process's figures (not the station's).", SIM_SERVER_BODY)},
)
