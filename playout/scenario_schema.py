"""The JSON Schema a scenario file's TOML document must satisfy (structure and types only).

References between tables, overlaps and other meaning are checked afterwards in
:mod:`playout.scenario`; this schema catches unknown keys, missing keys and
wrong types, and lets :func:`playout.scenario.load_scenario` report all of them.
"""

import typing
from typing import Any

from .events import FailoverReason, Transition

_KEY = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}
_DURATION = {"type": ["string", "number"], "format": "duration"}
_UUID = {"type": "string", "format": "uuid"}
_TEXT = {"type": "string", "minLength": 1}
_TRANSITION = {"enum": list(typing.get_args(Transition))}
_REASON = {"enum": list(typing.get_args(FailoverReason))}
_POSITIVE = {"type": "integer", "minimum": 1}
_DAYS = {
    "anyOf": [
        {"enum": ["daily", "weekdays", "weekends"]},
        {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        },
    ]
}


def _table(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_TIMELINE_COMMON = {
    "at": {"type": "string", "minLength": 1},
    "every": _DURATION,
    "count": _POSITIVE,
    "action": {"type": "string"},
    "note": {"type": "string"},
}

TIMELINE_ACTIONS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "dj_connect": (
        {
            "station": _KEY,
            "dj": _KEY,
            "mount": _KEY,
            "source_ip": _TEXT,
            "transition": _TRANSITION,
            "priority": {"enum": [1, 2]},
        },
        ("dj",),
    ),
    "dj_disconnect": ({"station": _KEY, "dj": _KEY}, ("dj",)),
    "webstream_outage": (
        {"webstream": _KEY, "url": {"type": ["integer", "string"]}, "duration": _DURATION, "reason": _REASON},
        ("webstream", "url"),
    ),
    "webstream_restore": ({"webstream": _KEY, "url": {"type": ["integer", "string"]}}, ("webstream", "url")),
    "webstream_failover": ({"webstream": _KEY}, ("webstream",)),
    "webstream_reset": ({"webstream": _KEY}, ("webstream",)),
    "emergency": ({"station": _KEY, "media": _KEY}, ("media",)),
    "override": (
        {"station": _KEY, "name": _KEY, "media": _KEY, "webstream": _KEY, "transition": _TRANSITION},
        ("name",),
    ),
    "release": (
        {"station": _KEY, "override": _KEY, "dj": _KEY, "emergency": {"const": True}},
        (),
    ),
    "skip": ({"station": _KEY}, ()),
}


def _timeline_entry() -> dict[str, Any]:
    branches = []
    for action, (properties, required) in TIMELINE_ACTIONS.items():
        branches.append(
            {
                "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
                "then": _table({**_TIMELINE_COMMON, **properties}, required),
            }
        )
    return {
        "type": "object",
        "required": ["at", "action"],
        "properties": {**_TIMELINE_COMMON, "action": {"enum": list(TIMELINE_ACTIONS)}},
        "allOf": branches,
    }


DOCUMENT_SCHEMA: dict[str, Any] = _table(
    {
        "scenario": _table(
            {
                "name": _KEY,
                "description": {"type": "string"},
                "start": {"type": "string"},
                "duration": _DURATION,
                "speed": {"type": "number", "exclusiveMinimum": 0},
                "seed": {"type": "integer"},
                "schedule_window": _DURATION,
                "schedule_refresh": _DURATION,
            },
            ("name", "start"),
        ),
        "stations": {
            "type": "array",
            "minItems": 1,
            "items": _table(
                {
                    "id": _KEY,
                    "uuid": _UUID,
                    "name": _TEXT,
                    "crossfade": _DURATION,
                    "health_interval": _DURATION,
                    "mounts": {
                        "type": "array",
                        "minItems": 1,
                        "items": _table(
                            {"id": _KEY, "uuid": _UUID, "path": {"type": "string", "pattern": "^/"}}, ("id",)
                        ),
                    },
                },
                ("id", "name"),
            ),
        },
        "library": _table(
            {
                "generate": {"type": "integer", "minimum": 0, "maximum": 100_000},
                "tracks": {
                    "type": "array",
                    "items": _table(
                        {
                            "id": _KEY,
                            "uuid": _UUID,
                            "title": _TEXT,
                            "artist": {"type": "string"},
                            "album": {"type": "string"},
                            "duration": _DURATION,
                            "rotation": {"type": "boolean"},
                        },
                        ("id", "title", "duration"),
                    ),
                },
            }
        ),
        "playlists": {
            "type": "array",
            "items": _table(
                {
                    "id": _KEY,
                    "uuid": _UUID,
                    "name": _TEXT,
                    "tracks": {"type": "array", "items": _KEY},
                    "pick": _POSITIVE,
                    "shuffle": {"type": "boolean"},
                },
                ("id",),
            ),
        },
        "djs": {
            "type": "array",
            "items": _table(
                {"id": _KEY, "uuid": _UUID, "username": _TEXT, "password": _TEXT},
                ("id", "username"),
            ),
        },
        "webstreams": {
            "type": "array",
            "items": _table(
                {
                    "id": _KEY,
                    "uuid": _UUID,
                    "name": _TEXT,
                    "urls": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "^https?://"},
                    },
                    "probe": {"enum": ["scripted", "http"]},
                    "interval": _DURATION,
                    "connect_timeout": _DURATION,
                    "sample_window": _DURATION,
                    "min_bytes": {"type": "integer", "minimum": 0},
                    "stall_timeout": _DURATION,
                    "failure_threshold": _POSITIVE,
                    "grace": _DURATION,
                    "recovery_checks": _POSITIVE,
                },
                ("id", "name", "urls"),
            ),
        },
        "schedule": {
            "type": "array",
            "items": _table(
                {
                    "station": _KEY,
                    "days": _DAYS,
                    "start": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
                    "at": {"type": "string"},
                    "duration": _DURATION,
                    "playlist": _KEY,
                    "webstream": _KEY,
                    "dj": _KEY,
                    "title": _TEXT,
                    "crossfade": _DURATION,
                },
                ("duration",),
            ),
        },
        "timeline": {"type": "array", "items": _timeline_entry()},
        "harbor": _table(
            {
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "host": _TEXT,
                "max_sources": _POSITIVE,
                "source_timeout": _DURATION,
            }
        ),
    },
    ("scenario", "stations"),
)
