"""The REST API of a served station, declared: every endpoint and the schemas of its answers.

The handlers (server/app.py, server/control.py) are bound to these declarations,
which check each request before the handler runs (see :mod:`server.rest`), and
the OpenAPI 3.1 document served at ``GET /api/v1/openapi.json`` (and kept in
``docs/openapi.json``, a test fails when it is stale) is written from them.
Adding an endpoint is one ``API.endpoint(…)`` here and its handler.

``python -m server.api`` prints the document.
"""

import functools
import json
import sys
import typing
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import attrs

from playout import EVENT_CLASSES, EVENT_TYPES, events, payload_schema
from playout.drivers.harbor import HarborCounters
from playout.protocol.stationtime import DURATION_HINT
from playout.station.ladder import SourceKind, SourceState

from .hub import DEFAULT_TYPES
from .relay.entries import SKIP_REASONS
from .rest.answers import RETRY_AFTER, Answer, Schema, refusal
from .rest.endpoint import Auth, Body, Param
from .rest.openapi import Api

API = Api()

# -- schemas --------------------------------------------------------------------------------------

UUID: Schema = {"type": "string", "format": "uuid"}
INSTANT: Schema = {"type": "string", "format": "date-time", "description": "UTC, RFC 3339 with Z"}
TEXT: Schema = {"type": "string"}
ID: Schema = {"type": "string", "minLength": 1, "description": "a UUID or the scenario's short id"}
COUNT: Schema = {"type": "integer", "minimum": 0}
PRIORITY: Schema = {"type": "integer", "minimum": 0, "maximum": 4}
HEALTH_STATUS: Schema = {"enum": list(typing.get_args(events.HealthStatus))}
TRANSITION: Schema = {"enum": list(typing.get_args(events.Transition))}


def _literal(values: Any) -> Schema:
    return {"enum": list(typing.get_args(values))}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _event_schemas() -> tuple[Schema, Schema]:
    """Each event class's payload as a named schema; returns the wire message's and now playing's schemas."""
    envelopes = []
    now_playing = []
    for cls in EVENT_CLASSES:
        payload = API.schema(cls.__name__, payload_schema(cls))
        envelopes.append(_object({"type": {"const": cls.TYPE}, "payload": payload}))
        if cls.TYPE == "now_playing":
            now_playing.append(payload)
    message = API.schema(
        "EventMessage",
        {
            "description": "A wire message, as on GET /api/v1/events (docs/asyncapi.yaml).",
            "oneOf": envelopes,
        },
    )
    return message, {"oneOf": now_playing}


EVENT_MESSAGE, NOW_PLAYING_PAYLOAD = _event_schemas()
EVENTS_LIST: Schema = {**_array(EVENT_MESSAGE), "description": "The events the change emitted, in order."}

SERVICE_STATUS = API.schema("ServiceStatus", _object({"status": {"const": "ok"}}))
PUBLIC_NOW_PLAYING_BODY = API.schema(
    "PublicNowPlaying",
    {
        "description": (
            'What is on air, in the real server\'s shape; {"status":"idle"} before anything played.'
        ),
        "oneOf": [
            _object({"status": {"const": "idle"}}),
            _object(
                {
                    "id": UUID,
                    "station_id": UUID,
                    "mount_id": UUID,
                    "media_id": {
                        **TEXT,
                        "description": "the media's UUID; empty for a live DJ or a webstream",
                    },
                    "artist": TEXT,
                    "title": {**TEXT, "description": "the track's title, or the webstream's name"},
                    "album": TEXT,
                    "started_at": INSTANT,
                    "ended_at": _nullable(INSTANT),
                    "status": {"const": "playing"},
                    "type": {"enum": ["media", "live", "webstream"]},
                    "source_type": {"enum": ["media", *typing.get_args(SourceKind)]},
                    "is_live_dj": {"type": "boolean"},
                    "session_started_at": {**INSTANT, "description": "a live DJ only"},
                    "webstream_id": {**UUID, "description": "a webstream only"},
                    "url": {**TEXT, "description": "a webstream only: the URL playing"},
                },
                optional=("session_started_at", "webstream_id", "url"),
            ),
        ],
    },
)
LADDER_SOURCE = API.schema(
    "LadderSource",
    _object(
        {
            "priority": PRIORITY,
            "kind": _literal(SourceKind),
            "state": _literal(SourceState),
            "on_air": {"type": "boolean"},
            "source_id": UUID,
            "name": TEXT,
            "media_id": UUID,
            "webstream_id": UUID,
            "username": TEXT,
        },
        optional=("source_id", "name", "media_id", "webstream_id", "username"),
    ),
)
HARBOR_COUNTERS = _object({name: COUNT for name in attrs.fields_dict(HarborCounters)})
URL_HEALTH = API.schema(
    "UrlHealth", _object({"url": TEXT, "status": HEALTH_STATUS, "consecutive_failures": COUNT})
)
STATION = API.schema(
    "StationState",
    _object(
        {
            "id": UUID,
            "key": TEXT,
            "name": TEXT,
            "mounts": _array(_object({"id": UUID, "key": TEXT, "path": TEXT})),
            "on_air": _nullable(LADDER_SOURCE),
            "now_playing": _nullable(NOW_PLAYING_PAYLOAD),
            "since": INSTANT,
            "ends_at": _nullable(INSTANT),
            "ladder": _array(LADDER_SOURCE),
            "djs": _array(
                _object(
                    {
                        "key": TEXT,
                        "username": TEXT,
                        "user_id": UUID,
                        "session_id": UUID,
                        "mount_id": UUID,
                        "source_ip": TEXT,
                        "priority": {"enum": [1, 2]},
                        "connected_at": INSTANT,
                        "on_air": {"type": "boolean"},
                    }
                )
            ),
            "schedule_entry": _nullable(
                _object(
                    {
                        "kind": {"enum": ["playlist", "webstream", "live"]},
                        "target": TEXT,
                        "title": TEXT,
                        "starts_at": INSTANT,
                        "ends_at": INSTANT,
                    }
                )
            ),
        }
    ),
)
SIM_STATE_BODY = API.schema(
    "SimState",
    _object(
        {
            "station_time": INSTANT,
            "elapsed_seconds": {"type": "number", "minimum": 0},
            "stations": _array(STATION),
            "webstreams": _array(
                _object(
                    {
                        "id": UUID,
                        "key": TEXT,
                        "name": TEXT,
                        "health_status": HEALTH_STATUS,
                        "active_url": _nullable(TEXT),
                        "urls": _array(URL_HEALTH),
                    }
                )
            ),
            "clock": _object(
                {
                    "speed": {"type": "number", "exclusiveMinimum": 0},
                    "manual": {"type": "boolean"},
                    "scenario_start": INSTANT,
                    "clock": {
                        "enum": ["wall", "scenario"],
                        "description": "wall: the wire shows the current UTC time; scenario: its calendar",
                    },
                    "station_time": {**INSTANT, "description": "the station's time, as the wire shows it"},
                    "scenario_time": {**INSTANT, "description": "where the station is in its scenario"},
                    "entered_at": {**INSTANT, "description": "the scenario instant the station entered at"},
                    "repeats_every": {
                        **_nullable(COUNT),
                        "description": "seconds after which a whole-week scenario starts over (wall clock)",
                    },
                    "repeats": {**COUNT, "description": "times the scenario has started over"},
                }
            ),
            "harbor": _object(
                {
                    "port": _nullable(COUNT),
                    "max_sources": COUNT,
                    "sources": _array(
                        _object(
                            {
                                "dj": TEXT,
                                "username": TEXT,
                                "station_id": UUID,
                                "mount": TEXT,
                                "session_id": {
                                    **_nullable(UUID),
                                    "description": "null until the station has accepted the DJ",
                                },
                                "source_ip": TEXT,
                                "content_type": TEXT,
                                "bytes_received": COUNT,
                                "connected_seconds": {"type": "number", "minimum": 0},
                            }
                        )
                    ),
                    "pending": {**COUNT, "description": "connections not yet past their credentials"},
                    "locked": _object({"addresses": COUNT, "mounts": COUNT}),
                    "counters": HARBOR_COUNTERS,
                }
            ),
            "catalog": _object(
                {
                    "djs": _array(_object({"key": TEXT, "username": TEXT})),
                    "emergency_media": _array(_object({"key": TEXT, "title": TEXT})),
                    "webstreams": _array(_object({"key": TEXT, "name": TEXT, "urls": _array(TEXT)})),
                }
            ),
            "clients": _object({"connected": COUNT, "events_published": COUNT, "events_dropped": COUNT}),
        },
        optional=("harbor",),
    ),
)
SIM_SERVER_BODY = API.schema(
    "SimServer",
    _object(
        {
            "connections": COUNT,
            "on_the_fast_path": COUNT,
            "fast_path": {
                **_object({"available": {"type": "boolean"}, "missing": _array(TEXT)}),
                "description": "whether the installed Hypercorn, Quart and Quart-Trio have every internal "
                "the fast path and its patches use (checked at startup, see docs/architecture.md); each "
                "missing piece is named with what is off because of it, and was logged once as a warning",
            },
            "events_published": COUNT,
            "events_dropped": COUNT,
            "last_published_monotonic": _nullable({"type": "number"}),
            "connection_failures": {
                **_object({"rest": COUNT, "websocket": COUNT}),
                "description": "requests (500 internal_error) and WebSocket connections (1011) ended by an "
                "unexpected error of the server's, each logged once; nothing else is affected",
            },
            "harbor": {
                **_nullable(HARBOR_COUNTERS),
                "description": "the harbor's counts since it started (connections, refusals, lockouts, "
                "failures: connections closed by an unexpected error, each logged once); null without one",
            },
            "relay": _nullable(
                {
                    "oneOf": [
                        _object(
                            {
                                "role": {"const": "station"},
                                "stream": TEXT,
                                "appended": COUNT,
                                "lost": COUNT,
                            }
                        ),
                        _object(
                            {
                                "role": {"const": "edge"},
                                "stream": TEXT,
                                "received": COUNT,
                                "skipped": COUNT,
                                "skipped_by_reason": _object({reason: COUNT for reason in SKIP_REASONS}),
                                "last_id": _nullable(TEXT),
                            }
                        ),
                    ]
                }
            ),
            "monotonic_now": {"type": "number"},
            "loop": _object(
                {
                    "max_stall_ms": {"type": "number", "minimum": 0},
                    "recent_stalls": _array(
                        {
                            "type": "array",
                            "description": "[monotonic time a long loop pass ended, its length in ms]",
                            "prefixItems": [{"type": "number"}, {"type": "number", "minimum": 0}],
                            "items": False,
                            "minItems": 2,
                        }
                    ),
                }
            ),
            "gc": _object(
                {
                    "frozen_objects": COUNT,
                    "freezes": COUNT,
                    "full_collections_after_churn": COUNT,
                    "lingering_departures": {
                        **COUNT,
                        "description": "departed connections still not freed a second after (in a "
                        "reference cycle, or still closing); enough of them call for a full collection",
                    },
                    "stats": {
                        **_array({"type": "object", "additionalProperties": {"type": "number"}}),
                        "description": "gc.get_stats(): one object of counters per generation",
                    },
                }
            ),
        }
    ),
)
WEBSTREAM = API.schema(
    "Webstream",
    _object(
        {
            "id": UUID,
            "name": TEXT,
            "urls": _array(TEXT),
            "active": {"const": True},
            "failover_enabled": {"const": True},
            "auto_recover_enabled": {"const": True},
            "current_url": {**TEXT, "description": "empty when no URL is usable"},
            "current_index": {"type": "integer", "minimum": -1},
            "health_status": HEALTH_STATUS,
            "url_health": _array(URL_HEALTH),
        }
    ),
)
SOURCE_INFO = API.schema(
    "SourceInfo",
    _object(
        {
            "priority": PRIORITY,
            "source_type": {"enum": ["media", "webstream", "live", "emergency", "fallback"]},
            "source_id": TEXT,
        }
    ),
)
EMERGENCY_ACTIVATED = API.schema(
    "EmergencyActivated",
    _object(
        {
            "status": {"const": "emergency_activated"},
            "preempted": {"const": True},
            "transition_type": {"const": "immediate"},
            "source_id": _nullable(UUID),
        }
    ),
)
OVERRIDE_ACTIVATED = API.schema(
    "OverrideActivated",
    _object(
        {
            "status": {"const": "override_activated"},
            "preempted": {"type": "boolean"},
            "transition_type": _literal(events.OverrideTransition),
            "requires_fade": {"type": "boolean"},
            "source_id": _nullable(UUID),
        }
    ),
)
SOURCE_RELEASED = API.schema(
    "SourceReleased",
    _object(
        {
            "status": {"const": "released"},
            "transition_type": TRANSITION,
            "next_source_id": UUID,
            "next_priority": _nullable(PRIORITY),
        },
        optional=("next_source_id",),
    ),
)
HANDED_OVER = API.schema(
    "HandedOver",
    _object(
        {
            "success": {"const": True},
            "session_id": UUID,
            "handover_at": _nullable(INSTANT),
            "transition_type": {"enum": ["immediate", "faded"]},
            "previous_source": _nullable(SOURCE_INFO),
            "new_source": _nullable(SOURCE_INFO),
        }
    ),
)


def _status(name: str, value: str, **more: Schema) -> Schema:
    return API.schema(name, _object({"status": {"const": value}, **more}))


SESSION_RELEASED = _status("SessionReleased", "released")
SKIPPED = _status("Skipped", "skipped")
DJ_CONNECTED = _status("DjConnected", "connected", session_id=UUID, events=EVENTS_LIST)
DJ_DISCONNECTED = _status("DjDisconnected", "disconnected", events=EVENTS_LIST)
ADVANCED = API.schema("Advanced", _object({"station_time": INSTANT, "events": EVENTS_LIST}))

# -- answers and parameters shared by several endpoints -------------------------------------------

STATION_ID_QUERY = Param("station_id", "a station's UUID or id", required=True)
WEBSTREAM_ID = Param("webstream_id", "the webstream's UUID or id")
WEBSTREAM_ANSWERS = {200: Answer("The webstream after the change.", WEBSTREAM)}
MOUNT_ID = "a mount's UUID: the station it belongs to"
STATION_IN_BODY = {"station_id": ID, "mount_id": {**ID, "description": MOUNT_ID}}
STATION_OF_BODY_REFUSED = {
    400: refusal(
        "station_id_required",
        description="station_id_required: no station_id or mount_id, and the scenario has several stations.",
    ),
    404: refusal("station_not_found", "mount_not_found", description="No such station, or mount."),
}
STATION_NOT_FOUND = refusal("station_not_found", description="No such station.")
NOW_PLAYING_ANSWERS = {
    200: Answer("What is on air.", PUBLIC_NOW_PLAYING_BODY),
    400: refusal("station_id_required", description="No ?station_id=."),
    404: STATION_NOT_FOUND,
}

# -- service ---------------------------------------------------------------------------------------

HEALTH = API.endpoint(
    "GET",
    "/api/v1/health",
    operation_id="getHealth",
    summary="Whether the process serves",
    tag="service",
    auth=Auth.NONE,
    station_only=False,
    answers={200: Answer("The process serves.", SERVICE_STATUS)},
)
OPENAPI = API.endpoint(
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
EVENTS = API.endpoint(
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
        "Limits are checked first, then the token and its station, all before the upgrade. A request "
        "without the upgrade is refused with 400."
    ),
    query=(
        Param(
            "types",
            "Comma-separated event types; blanks trimmed, empty parts skipped, unknown names ignored. "
            "Absent or empty: " + ",".join(t for t in EVENT_TYPES if t in DEFAULT_TYPES) + ".",
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
        503: refusal(
            "too_many_connections",
            description="too_many_connections: the connection limit is reached.",
            headers=RETRY_AFTER,
        ),
    },
)
SIM_SERVER = API.endpoint(
    "GET",
    "/api/v1/sim/server",
    operation_id="getServerVitals",
    summary="The serving process: connections, event loop, garbage collector, relay",
    tag="simulation",
    auth=Auth.TOKEN,
    station_only=False,
    answers={200: Answer("The serving process's figures (not the station's).", SIM_SERVER_BODY)},
)

# -- the station's state ----------------------------------------------------------------------------

PUBLIC_NOW_PLAYING = API.endpoint(
    "GET",
    "/api/v1/public/now-playing",
    operation_id="getPublicNowPlaying",
    summary="What is on air, in the real server's shape",
    tag="public",
    auth=Auth.NONE,
    query=(STATION_ID_QUERY,),
    answers=NOW_PLAYING_ANSWERS,
)
ANALYTICS_NOW_PLAYING = API.endpoint(
    "GET",
    "/api/v1/analytics/now-playing",
    operation_id="getAnalyticsNowPlaying",
    summary="What is on air: the same answer as /api/v1/public/now-playing",
    description="The real server serves both paths; its own dashboard reads this one.",
    tag="public",
    auth=Auth.NONE,
    query=(STATION_ID_QUERY,),
    answers=NOW_PLAYING_ANSWERS,
)
SIM_STATE = API.endpoint(
    "GET",
    "/api/v1/sim/state",
    operation_id="getSimState",
    summary="Every station's ladder, on-air source, DJs and schedule; webstream health; the clock",
    tag="simulation",
    auth=Auth.TOKEN,
    answers={200: Answer("The station's state now.", SIM_STATE_BODY)},
)

# -- control: the real server's paths ----------------------------------------------------------------

INSERT_EMERGENCY = API.endpoint(
    "POST",
    "/api/v1/priority/emergency",
    operation_id="insertEmergency",
    summary="Put emergency media on air (priority 0)",
    tag="priority",
    auth=Auth.ADMIN,
    body=Body(
        "The station and the media to play.",
        {"station_id": ID, "media_id": ID, "mount_id": ID},
        ("station_id", "media_id"),
    ),
    answers={
        200: Answer("The emergency is on air.", EMERGENCY_ACTIVATED),
        404: refusal("station_not_found", "media_not_found", description="No such station, or media."),
    },
)
START_OVERRIDE = API.endpoint(
    "POST",
    "/api/v1/priority/override",
    operation_id="startOverride",
    summary="Override what plays (priority 1): media, a webstream, or a connected DJ",
    tag="priority",
    auth=Auth.ADMIN,
    body=Body(
        "The station and the source; a live source_id is a connected DJ's session_id.",
        {
            "station_id": ID,
            "source_id": ID,
            "source_type": {"enum": ["media", "webstream", "live"], "default": "media"},
            "mount_id": ID,
            "transition_type": {**TRANSITION, "default": "immediate"},
            "name": ID,
        },
        ("station_id", "source_id"),
    ),
    answers={
        200: Answer("The override is on the ladder.", OVERRIDE_ACTIVATED),
        404: refusal(
            "station_not_found",
            "media_not_found",
            "webstream_not_found",
            "not_found",
            description="No such station, media or webstream; not_found: no such connected session.",
        ),
        409: refusal(
            "conflict",
            "no_preemption",
            description="conflict: an override of that name is active, or the DJ is on air already; "
            "no_preemption: the source on air outranks it.",
        ),
    },
)
RELEASE_PRIORITY = API.endpoint(
    "DELETE",
    "/api/v1/priority/{source_id}",
    operation_id="releasePrioritySource",
    summary="Take a priority source off the ladder",
    tag="priority",
    auth=Auth.ADMIN,
    path_params=(Param("source_id", "the source's id, or the id of its media, webstream or DJ session"),),
    query=(Param("station_id", "a station's UUID or id (also accepted in the body); absent: every station"),),
    body=Body(
        "Optional; station_id as in the query.",
        {"station_id": {"description": "a station's UUID or id"}},
        optional=True,
    ),
    answers={
        200: Answer("The source is released.", SOURCE_RELEASED),
        404: refusal(
            "station_not_found", "not_found", description="No such station, or no such priority source."
        ),
    },
)
LIVE_HANDOVER = API.endpoint(
    "POST",
    "/api/v1/live/sessions/handover",
    operation_id="handOverToLive",
    summary="Hand the air to a connected DJ",
    tag="live",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ's session, the station and the priority to take the air at.",
        {
            "session_id": ID,
            "station_id": ID,
            "mount_id": ID,
            "user_id": ID,
            "priority": {"enum": [1, 2]},
            "immediate": {"type": "boolean", "default": False},
        },
        ("session_id", "station_id", "priority"),
    ),
    answers={
        200: Answer("The handover.", HANDED_OVER),
        404: refusal("station_not_found", "not_found", description="No such station, or connected session."),
        409: refusal(
            "conflict",
            "no_preemption",
            description="conflict: the DJ is on air already; no_preemption: the source on air outranks it.",
        ),
    },
)
LIVE_RELEASE = API.endpoint(
    "DELETE",
    "/api/v1/live/sessions/{session_id}/handover",
    operation_id="releaseLiveSession",
    summary="Take a DJ off the air (the DJ stays connected)",
    tag="live",
    auth=Auth.ADMIN,
    path_params=(Param("session_id", "the DJ's session id"),),
    answers={
        200: Answer("The DJ is off the ladder.", SESSION_RELEASED),
        404: refusal("session_not_found", description="No connected session with this id."),
        409: refusal("conflict", description="The DJ is connected but holds no place on the ladder."),
    },
)
WEBSTREAM_FAILOVER = API.endpoint(
    "POST",
    "/api/v1/webstreams/{webstream_id}/failover",
    operation_id="failOverWebstream",
    summary="Move a webstream to its next usable URL",
    tag="webstreams",
    auth=Auth.ADMIN,
    path_params=(WEBSTREAM_ID,),
    answers={
        **WEBSTREAM_ANSWERS,
        404: refusal("webstream_not_found", description="No such webstream."),
        409: refusal("conflict", description="No other URL is usable."),
    },
)
WEBSTREAM_RESET = API.endpoint(
    "POST",
    "/api/v1/webstreams/{webstream_id}/reset",
    operation_id="resetWebstream",
    summary="Put a webstream back on its primary URL",
    tag="webstreams",
    auth=Auth.ADMIN,
    path_params=(WEBSTREAM_ID,),
    answers={**WEBSTREAM_ANSWERS, 404: refusal("webstream_not_found", description="No such webstream.")},
)
SKIP = API.endpoint(
    "POST",
    "/api/v1/playout/skip",
    operation_id="skipTrack",
    summary="Skip the automation track on air",
    tag="playout",
    auth=Auth.ADMIN,
    body=Body("Optional with one station.", STATION_IN_BODY, optional=True),
    answers={
        200: Answer("The next track plays.", SKIPPED),
        **STATION_OF_BODY_REFUSED,
        409: refusal("conflict", description="No automation track is on air."),
    },
)

# -- control: simulation only --------------------------------------------------------------------------

DJ_CONNECT = API.endpoint(
    "POST",
    "/api/v1/sim/djs/connect",
    operation_id="connectDj",
    summary="A DJ's encoder connects to the harbor",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ; the rest is optional (source_ip defaults to the caller's).",
        {
            **STATION_IN_BODY,
            "dj": ID,
            "source_ip": ID,
            "transition": {**TRANSITION, "default": "faded"},
            "priority": {"enum": [1, 2]},
        },
        ("dj",),
    ),
    answers={
        200: Answer("The DJ is connected.", DJ_CONNECTED),
        400: STATION_OF_BODY_REFUSED[400],
        404: refusal(
            "station_not_found",
            "mount_not_found",
            "dj_not_found",
            description="No such station, mount or DJ.",
        ),
        409: refusal("conflict", description="The DJ is connected already."),
    },
)
DJ_DISCONNECT = API.endpoint(
    "POST",
    "/api/v1/sim/djs/disconnect",
    operation_id="disconnectDj",
    summary="A DJ's encoder disconnects",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ; the station as for connect.",
        {
            "dj": ID,
            "station_id": ID,
            # Not type-checked (connect's is): any value that is no mount's UUID is 404 mount_not_found.
            "mount_id": {"description": MOUNT_ID},
        },
        ("dj",),
    ),
    answers={
        200: Answer("The DJ is gone.", DJ_DISCONNECTED),
        400: STATION_OF_BODY_REFUSED[400],
        404: refusal(
            "station_not_found",
            "mount_not_found",
            "dj_not_found",
            description="No such station, mount or DJ.",
        ),
        409: refusal("conflict", description="The DJ is not connected."),
    },
)
WEBSTREAM_URL = API.endpoint(
    "POST",
    "/api/v1/sim/webstreams/{webstream_id}/urls/{index}/{change}",
    operation_id="setWebstreamUrl",
    summary="A webstream URL's checks fail (down) or pass (up) from now on",
    tag="simulation",
    auth=Auth.ADMIN,
    path_params=(
        WEBSTREAM_ID,
        Param("index", "the URL's position, from 0", {"type": "integer", "minimum": 0}),
        Param("change", "down or up", {"enum": ["down", "up"]}),
    ),
    body=Body(
        "Optional; down only: why its checks fail.",
        {"reason": {**_literal(events.FailoverReason), "default": "connection_timeout"}},
        optional=True,
    ),
    answers={
        **WEBSTREAM_ANSWERS,
        404: refusal(
            "webstream_not_found",
            "not_found",
            description="No such webstream; not_found: no URL at that index.",
        ),
    },
)
ADVANCE = API.endpoint(
    "POST",
    "/api/v1/sim/advance",
    operation_id="advanceClock",
    summary="Move a manual station clock forward",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "How far: " + DURATION_HINT + ", or a number of seconds; at most 7d.",
        {"by": {"type": ["string", "number"], "examples": ["90s", "15m", "1h30m", 3600]}},
        ("by",),
    ),
    answers={
        200: Answer("Station time now, and what happened on the way.", ADVANCED),
        400: refusal("invalid_request", description="invalid_request: by is not a duration, or is over 7d."),
        409: refusal("conflict", description="The clock runs by itself (serve without --manual-clock)."),
    },
)


# -- the document ------------------------------------------------------------------------------------


def _package_version() -> str:
    try:
        return version("grimnir-sim")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def openapi_document() -> Schema:
    return API.document(
        {
            "title": "grimnir-sim REST API",
            "version": _package_version(),
            "description": (
                "The REST side of a simulated Grimnir Radio station: health, public now-playing, the "
                "simulation's state, and control. Every refusal is JSON, "
                '{"error": "<code>", "detail": "<what and why>"}, except the 401, which is exactly '
                '{"error":"unauthorized"}. A path outside this document is 404 (components/responses/'
                "UnknownPath), a method a path does not have 405 (WrongMethod, with Allow). Every path "
                "answers OPTIONS (204 with Allow, no token needed; also the CORS preflight) and every GET "
                "answers HEAD (the GET's answer without its body). The event stream's messages are in the "
                "AsyncAPI document (docs/asyncapi.yaml). Generated from server/api.py; see docs/protocol.md."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        }
    )


@functools.cache
def openapi_json() -> bytes:
    """The document as served and as kept in docs/openapi.json."""
    return (json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n").encode()


if __name__ == "__main__":
    sys.stdout.buffer.write(openapi_json())
