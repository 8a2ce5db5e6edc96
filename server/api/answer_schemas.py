"""The schemas of the endpoints' answers, each named in the document (``components/schemas``).

They are declared in the document's order: what the service and the state
endpoints answer, then what each control endpoint answers.
"""

import typing

import attrs

from playout import PROFILES, HarborCounters, SourceKind, SourceState, events

from ..relay.entries import SKIP_REASONS
from ..rest.answers import Schema
from .schemas import (
    API,
    COUNT,
    EVENTS_LIST,
    HEALTH_STATUS,
    INSTANT,
    NOW_PLAYING_PAYLOAD,
    PRIORITY,
    TEXT,
    TRANSITION,
    UUID,
    _array,
    _literal,
    _nullable,
    _object,
)

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
MANUAL_FAILOVER = {
    "type": "boolean",
    "description": "true from a manual failover until a reset: held off the primary URL, whatever its health",
}
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
                        "manual_failover": MANUAL_FAILOVER,
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
            "profile": {
                "enum": list(PROFILES),
                "description": "the wire profile it serves (what `grimnir-sim record` notes in a recording)",
            },
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
                    "freezes": {
                        **COUNT,
                        "description": "gc.freeze() calls since serving started: the one at start-up, "
                        "one after every 200 arrivals, one after each full collection",
                    },
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
            "manual_failover": MANUAL_FAILOVER,
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
RESET_DONE = _status("Reset", "reset", station_time=INSTANT)
