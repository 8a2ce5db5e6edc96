"""The JSON Schema a scenario file's TOML document must satisfy: structure, types and ranges.

References between tables, overlaps and other meaning are checked afterwards by
:mod:`playout.scenario.builder`; this schema catches unknown keys, missing keys, wrong
types and values out of range, and lets :func:`playout.scenario.loader.load_scenario`
report all of them. A timeline entry's own keys are its action's, declared in
:mod:`playout.scenario.actions`.

Every number, duration and list in a scenario has a range, so that nothing
``check`` accepts can crash or stall ``run`` or ``serve`` (docs/scenarios.md has
the table and the reasons). Durations are strings, so their ranges are the one
keyword of our own, ``durationRange`` (milliseconds); the rest is JSON Schema.
"""

from typing import Any

from .actions import TIMELINE_ACTIONS
from .fields import KEY, TEXT, duration, integer

MIN_SPEED = 0.001
"""Station seconds per wall second, at least: a minute of station time in 17 hours. Below it the
runner's wall-clock deadlines stop being finite numbers (at 5e-324 every one is infinite)."""
MAX_SPEED = 1_000_000.0
"""Station seconds per wall second, at most (the same as ``serve --speed``'s): a week in 0.6 s."""
MAX_FILE_BYTES = 512 * 1024
"""A scenario file (or catalog) larger than this is refused unread: checking is linear in its size."""
MAX_NESTING = 16
"""Tables and lists within each other; a scenario needs 4. Checked before parsing (tomllib recurses)."""
MAX_RECURRING_PER_DAY = 30_000
"""Health beats, track changes, scripted checks, timeline repeats and schedule refreshes in a day of
station time, each counted at its worst: a 7-day ``run`` is then at most about 200,000 instants."""

MAX_STATIONS = 20
MAX_MOUNTS = 20
MAX_TRACKS = 5_000
MAX_GENERATED = 10_000
MAX_PLAYLISTS = 100
MAX_PLAYLIST_TRACKS = 10_000
MAX_DJS = 1_000
MAX_WEBSTREAMS = 100
MAX_URLS = 10
MAX_SCHEDULE = 500
MAX_TIMELINE = 5_000
MAX_REPEATS = 1_000_000
MAX_HARBOR_SOURCES = 1_000
MAX_HARBOR_PENDING = 1_000
"""Unauthenticated harbor connections at once: each holds a file descriptor and up to a head."""
MAX_HARBOR_HEAD_BYTES = 65_536
"""The longest harbor request head a scenario may allow: with the most pending, 62.5 MiB at worst."""
MAX_TRACKED_ADDRESSES = 50_000
"""Addresses the harbor remembers failures, lockouts or logins of: about 1.5 KB each with 20
failures (a deque and its times), so some 80 MB at worst, trusted addresses included."""


def _list(items: dict[str, Any], maximum: int, minimum: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": items, "maxItems": maximum}
    if minimum:
        schema["minItems"] = minimum
    return schema


_UUID = {"type": "string", "format": "uuid"}
_CROSSFADE = duration(maximum="30s")
_DAYS = {
    "maxItems": 7,  # more is never valid; here, not in the list's branch, the count check sees it
    "anyOf": [
        {"enum": ["daily", "weekdays", "weekends"]},
        {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        },
    ],
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
    "every": duration("5s"),
    "count": integer(1, MAX_REPEATS),
    "action": {"type": "string"},
    "note": {"type": "string"},
}


def timeline_action_schema(action: str) -> dict[str, Any]:
    """One timeline entry of ``action``: its own keys and the ones every entry has."""
    declared = TIMELINE_ACTIONS[action]
    return _table({**_TIMELINE_COMMON, **declared.properties}, ("at", "action", *declared.required))


TIMELINE_ENTRY_COMMON: dict[str, Any] = {
    "type": "object",
    "required": ["at", "action"],
    "properties": {**_TIMELINE_COMMON, "action": {"enum": list(TIMELINE_ACTIONS)}},
}
"""What every timeline entry must be, whatever its action (also the schema of one with no valid action)."""


def _timeline_entry() -> dict[str, Any]:
    branches = [
        {
            "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
            "then": timeline_action_schema(action),
        }
        for action in TIMELINE_ACTIONS
    ]
    return {**TIMELINE_ENTRY_COMMON, "allOf": branches}


DOCUMENT_SCHEMA: dict[str, Any] = _table(
    {
        "scenario": _table(
            {
                "name": KEY,
                "description": {"type": "string"},
                "start": {"type": "string"},
                "duration": duration(longer_than_zero=True),
                "speed": {"type": "number", "minimum": MIN_SPEED, "maximum": MAX_SPEED},
                "seed": integer(),
                "schedule_window": duration("1m"),
                "schedule_refresh": duration("1m"),
            },
            ("name", "start"),
        ),
        "stations": _list(
            _table(
                {
                    "id": KEY,
                    "uuid": _UUID,
                    "name": TEXT,
                    "crossfade": _CROSSFADE,
                    "health_interval": duration("5s", "1d", off=True),
                    "mounts": _list(
                        _table(
                            {"id": KEY, "uuid": _UUID, "path": {"type": "string", "pattern": "^/"}}, ("id",)
                        ),
                        MAX_MOUNTS,
                        minimum=1,
                    ),
                },
                ("id", "name"),
            ),
            MAX_STATIONS,
            minimum=1,
        ),
        "library": _table(
            {
                "generate": integer(0, MAX_GENERATED),
                "tracks": _list(
                    _table(
                        {
                            "id": KEY,
                            "uuid": _UUID,
                            "title": TEXT,
                            "artist": {"type": "string"},
                            "album": {"type": "string"},
                            "duration": duration("1s", "1d"),
                            "rotation": {"type": "boolean"},
                        },
                        ("id", "title", "duration"),
                    ),
                    MAX_TRACKS,
                ),
            }
        ),
        "playlists": _list(
            _table(
                {
                    "id": KEY,
                    "uuid": _UUID,
                    "name": TEXT,
                    "tracks": _list(KEY, MAX_PLAYLIST_TRACKS),
                    "pick": integer(1, MAX_PLAYLIST_TRACKS),
                    "shuffle": {"type": "boolean"},
                },
                ("id",),
            ),
            MAX_PLAYLISTS,
        ),
        "djs": _list(
            _table(
                {"id": KEY, "uuid": _UUID, "username": TEXT, "password": TEXT},
                ("id", "username"),
            ),
            MAX_DJS,
        ),
        "webstreams": _list(
            _table(
                {
                    "id": KEY,
                    "uuid": _UUID,
                    "name": TEXT,
                    "urls": _list({"type": "string", "pattern": "^https?://"}, MAX_URLS, minimum=1),
                    "probe": {"enum": ["scripted", "http"]},
                    "interval": duration("1s", "1d"),
                    "connect_timeout": duration("100ms", "1m"),
                    "sample_window": duration("100ms", "1m"),
                    "min_bytes": integer(0, 16 * 1024 * 1024),
                    "stall_timeout": duration("100ms", "1m"),
                    "failure_threshold": integer(1, 100),
                    "grace": duration(maximum="1h"),
                    "recovery_checks": integer(1, 100),
                },
                ("id", "name", "urls"),
            ),
            MAX_WEBSTREAMS,
        ),
        "schedule": _list(
            _table(
                {
                    "station": KEY,
                    "days": _DAYS,
                    "start": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
                    "at": {"type": "string"},
                    "duration": duration(maximum="7d", longer_than_zero=True),
                    "playlist": KEY,
                    "webstream": KEY,
                    "dj": KEY,
                    "title": TEXT,
                    "crossfade": _CROSSFADE,
                },
                ("duration",),
            ),
            MAX_SCHEDULE,
        ),
        "timeline": _list(_timeline_entry(), MAX_TIMELINE),
        "harbor": _table(
            {
                "port": integer(0, 65535),
                "host": TEXT,
                "max_sources": integer(1, MAX_HARBOR_SOURCES),
                "source_timeout": duration("1s", "1h"),
                "max_pending": integer(1, MAX_HARBOR_PENDING),
                "max_pending_per_address": integer(1, MAX_HARBOR_PENDING),
                "head_timeout": duration("1s", "1m"),
                "max_head_bytes": integer(1_024, MAX_HARBOR_HEAD_BYTES),
                "address_failures": integer(1, 20),
                "mount_failures": integer(2, 1_000),
                "failure_window": duration("1s", "1d"),
                "address_lockout": duration("1s", "7d"),
                "mount_lockout": duration("1s", "7d"),
                "trusted_addresses": integer(1, MAX_TRACKED_ADDRESSES),
                "tracked_addresses": integer(1, MAX_TRACKED_ADDRESSES),
            }
        ),
    },
    ("scenario", "stations"),
)
