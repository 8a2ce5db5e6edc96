"""JSON Schemas (draft 2020-12) of every message the ``grimnir`` profile sends: the real server's wire.

One :class:`~playout.protocol.schemas.MessageShape` per payload shape, read from
friendsincode/grimnir_radio at 4b8b2c5f like the builders in
:mod:`playout.profiles.grimnir_payloads` (each shape names its Go source). A
payload is closed (``additionalProperties: false``) where the real map is fixed,
and open where the real server merges metadata keys into it: a schedule entry's
metadata into ``now_playing`` (``publishNowPlaying``), the new priority source's
into the ``priority.*`` events (``publishEvent``); the keys it merges that are
known are listed as optional properties. Shapes of one type exclude each other
(a ``const``, a key one requires and another forbids), so a message matches
exactly one. ``grimnir-sim schema --profile grimnir`` prints them
(docs/asyncapi-grimnir.yaml).
"""

from typing import Any

from ..protocol.schemas import UUID_PATTERN, MessageShape, messages_document

Schema = dict[str, Any]

TITLE = "GrimnirServerMessage"
"""The document's title, and the TypeScript union of its messages."""
_RFC3339_NANO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?(Z|[+-]\d{2}:\d{2})$"
"""Go's ``time.RFC3339Nano``: trailing zeros of the fraction trimmed, ``Z`` or an offset."""

UUID: Schema = {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
ECHOED: Schema = {"type": "string", "format": "uuid"}
"""A UUID the real handler echoes as the request sent it: Postgres reads one in any case."""
TIME: Schema = {"type": "string", "format": "date-time", "pattern": _RFC3339_NANO}
TEXT: Schema = {"type": "string"}
INDEX: Schema = {"type": "integer", "minimum": 0}
PRIORITY_LEVEL: Schema = {"type": "integer", "minimum": 0, "maximum": 4}
LIVE_PRIORITY: Schema = {"type": "integer", "enum": [1, 2]}
BOOLEAN: Schema = {"type": "boolean"}
PRIORITY_SOURCE_TYPES = ["media", "live", "webstream", "emergency", "fallback"]
"""internal/models/priority.go:36-42."""
ABSENT = False
"""A key a shape forbids, to tell it from a shape of the same type that has it."""
_AS_SENT: Schema = {"type": "string", "description": 'The request body\'s value, unchecked ("" if absent)'}
"""A value the real handler echoes from the request without looking it up (no UUID check)."""


def const(value: Any) -> Schema:
    kind = {bool: "boolean", int: "integer", str: "string"}[type(value)]
    return {"type": kind, "const": value}


def described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def payload(
    name: str, description: str, required: Schema, optional: Schema | None = None, *, merged: bool = False
) -> Schema:
    """An object with ``required`` and ``optional`` properties, keys sorted as Go sends them; open
    (``merged``) where the real server merges metadata keys in."""
    properties = {**required, **(optional or {})}
    return {
        "type": "object",
        "title": name,
        "description": description,
        "properties": dict(sorted(properties.items())),
        "required": sorted(required),
        "additionalProperties": merged,
    }


def shape(
    type_: str,
    name: str,
    summary: str,
    source: str,
    description: str,
    required: Schema,
    optional: Schema | None = None,
    *,
    merged: bool = False,
) -> MessageShape:
    """A message's shape: ``summary`` says when it is sent, ``source`` the Go code that sends it,
    ``description`` what its payload holds."""
    schema = payload(name, description, required, optional, merged=merged)
    return MessageShape(type_, name, f"A {type_} message: {summary} ({source}).", schema)


# -- now_playing ---------------------------------------------------------------------------------

_ENTRY = {
    "ends_at": described(TIME, "The schedule entry's end"),
    "entry_id": described(UUID, "The schedule entry's id"),
    "metadata": {
        "type": ["object", "null"],
        "description": "The entry's metadata (its keys also at top level)",
    },
    "mount_id": UUID,
    "source_id": TEXT,
    "starts_at": described(TIME, "The schedule entry's start: the same for every track of the entry"),
    "station_id": UUID,
}
_TRACK = {"album": TEXT, "artist": TEXT, "media_id": UUID, "title": TEXT}
_PLAYLIST_EXTRAS = {
    "playlist_id": described(UUID, "On the entry's first track only"),
    "playlist_name": TEXT,
    "total_items": {"type": "integer", "minimum": 0},
}
_POSITION = {"position": described(INDEX, "The track's index in the playlist")}
_LIVE = {
    "artist": described(TEXT, "The DJ's username on connect; the song's artist on a metadata update"),
    "is_live_dj": const(True),
    "mount_id": UUID,
    "source_type": const("live"),
    "started_at": TIME,
    "station_id": UUID,
    "title": described(TEXT, '"Live DJ" on connect; the song\'s title on a metadata update'),
    "type": const("live"),
}

NOW_PLAYING = [
    shape(
        "now_playing", "NowPlayingEntryTrack",
        "a media entry's track, or a fill track while a webstream entry's URLs are all down (the "
        "simulator also fills a live show's slot while its DJ is away)",
        "internal/playout/director.go:4249-4270, :3043-3056, :4176-4181",
        "The schedule entry's keys and metadata, then the track's; no duration.",
        {**_ENTRY, **_TRACK, "source_type": {"type": "string", "enum": ["media", "webstream", "live"]}},
        merged=True,
    ),
    shape(
        "now_playing", "NowPlayingRotationTrack",
        "a track of the rotation between entries (the simulator's; no schedule row, so no entry id)",
        "internal/playout/director.go:4249-4270, :3043-3056",
        "A track with no entry: entry_id and source_id empty, starts_at and ends_at the track's own.",
        {**_ENTRY, **_TRACK, "entry_id": const(""), "source_id": const(""), "source_type": const("media")},
        merged=True,
    ),
    shape(
        "now_playing", "NowPlayingPlaylistFirstTrack", "the first track of a playlist entry",
        "internal/playout/director.go:3266-3280, :2246-2250",
        "The entry's keys, the track's, its position and the playlist's id, name and size.",
        {**_ENTRY, **_TRACK, **_POSITION, **_PLAYLIST_EXTRAS, "source_type": const("playlist")}, merged=True,
    ),
    shape(
        "now_playing", "NowPlayingPlaylistNextTrack", "a later track of a playlist entry",
        "internal/playout/director.go:3935-3941",
        "The entry's keys, the track's and its position; no playlist_id, playlist_name, total_items.",
        {**_ENTRY, **_TRACK, **_POSITION, "source_type": const("playlist")},
        {key: ABSENT for key in _PLAYLIST_EXTRAS}, merged=True,
    ),
    shape(
        "now_playing", "NowPlayingWebstream", "a webstream entry starts",
        "internal/playout/director.go:1480-1494, :1541",
        'The entry\'s keys, the webstream\'s name as artist, title "On Air", its URL in use and health.',
        {
            **_ENTRY,
            "artist": described(TEXT, "The webstream's name"),
            "health_status": {"type": "string", "enum": ["unknown", "healthy", "degraded", "unhealthy"]},
            "source_type": const("webstream"), "title": TEXT, "url": TEXT,
            "webstream_id": UUID, "webstream_name": TEXT,
        },
        merged=True,
    ),
    shape(
        "now_playing", "NowPlayingLiveEntry", "a live entry comes into force, whether its DJ is there or not",
        "internal/playout/director.go:1171-1174, :4249-4270",
        'The entry\'s keys and metadata and type "live"; nothing of a DJ or a track.',
        {**_ENTRY, "source_type": const("live"), "type": const("live")},
        merged=True,
    ),
    shape(
        "now_playing", "NowPlayingLive", "a DJ connects, or sends a metadata update",
        "internal/harbor/server.go:280-289, :598-607", "The harbor's live shape: no entry, no session id.",
        _LIVE,
    ),
    shape(
        "now_playing", "NowPlayingSkipped", "POST /api/v1/playout/skip", "internal/api/api.go:1382-1386",
        "The skip itself; the next track's now_playing follows.",
        {"mount_id": _AS_SENT, "skipped": const(True), "station_id": _AS_SENT},
    ),
    shape(
        "health", "HealthSnapshot", "every playing mount, each director tick (250 ms)",
        "internal/playout/director.go:4232-4247", "What a mount plays; starts_at repeats started_at.",
        {
            "ends_at": TIME,
            "entry_id": {
                "anyOf": [UUID, const(""), {"type": "string", "pattern": "^live:" + UUID_PATTERN[1:]}],
                "description": 'The entry\'s id; "live:<mount_id>" for a DJ; "" in the rotation',
            },
            "media_id": {"anyOf": [UUID, const("")], "description": 'The track or webstream; "" for a DJ'},
            "mount_id": UUID, "started_at": TIME, "starts_at": TIME, "station_id": UUID,
            "status": const("playing"),
        },
    ),
]  # fmt: skip

# -- priority ------------------------------------------------------------------------------------

_OLD = {
    "old_priority": PRIORITY_LEVEL,
    "old_source_id": described(UUID, "The row's id"),
    "old_source_type": {"type": "string", "enum": PRIORITY_SOURCE_TYPES},
}
_NO_OLD = {key: ABSENT for key in _OLD}
_MERGED = {
    "handover_at": described(TIME, "Merged: an operator's handover"),
    "session_id": described(UUID, "Merged: a DJ's"),
    "user_id": described(UUID, "Merged: a DJ's"),
    "username": described(TEXT, "Merged: a DJ's"),
}
"""The metadata keys the simulator's sources carry (a request's metadata may add any)."""


def _new(priority: Schema, source_type: Schema) -> Schema:
    return {
        "new_media_id": described(
            ECHOED, "What it plays: the media id (as requested), or the DJ's session id"
        ),
        "new_priority": priority,
        "new_source_id": described(UUID, "The new row's id"),
        "new_source_type": source_type,
    }


def _priority(
    type_: str,
    name: str,
    summary: str,
    lines: str,
    transition: str,
    preempted: bool,
    fade: bool,
    keys: Schema,
) -> MessageShape:
    """``publishEvent``'s map: the transition, the old row's and the new row's fields (``ABSENT``: a
    shape without them), and the new row's metadata merged in last."""
    has_new = keys.get("new_source_id", ABSENT) is not ABSENT
    required = {
        "preempted": const(preempted),
        "requires_fade": const(fade),
        "station_id": described(ECHOED, "As requested, or the DJ's station"),
        "transition_type": const(transition),
        **{key: schema for key, schema in keys.items() if schema is not ABSENT},
    }
    optional = {key: schema for key, schema in keys.items() if schema is ABSENT}
    if has_new:
        optional |= {key: schema for key, schema in _MERGED.items() if key not in required}
    what = "The transition and the rows' fields" + (
        ", the new source's metadata merged in." if has_new else "."
    )
    source = f"internal/priority/service.go:212-246, {lines}"
    return shape(type_, name, summary, source, what, required, optional, merged=has_new)


_EMERGENCY = _new(const(0), const("emergency"))
_OVERRIDE = _new(const(1), {"type": "string", "enum": ["media", "live", "webstream"]})
_CHANGE = _new(const(2), const("live"))
# No priority.change "preempt": a tier-2 source preempts only rows of priority 3 or 4, which nothing
# creates (ActivateAutomation, service.go:151-172, has no caller).
_RELEASED = _new(PRIORITY_LEVEL, {"type": "string", "enum": PRIORITY_SOURCE_TYPES})
PRIORITY = [
    _priority("priority.emergency", "PriorityEmergency", "an emergency while nothing was active",
              ":46-62", "emergency", False, False, {**_NO_OLD, **_EMERGENCY}),
    _priority("priority.emergency", "PriorityEmergencyPreempting", "an emergency replaces the active source",
              ":46-62", "emergency", True, False, {**_OLD, **_EMERGENCY}),
    _priority("priority.override", "PriorityOverrideSwitch", "a tier-1 source while nothing was active",
              ":74-101", "switch", False, False, {**_NO_OLD, **_OVERRIDE}),
    _priority("priority.override", "PriorityOverridePreempt", "a tier-1 source preempts the active one",
              ":74-101", "preempt", True, True, {**_OLD, **_OVERRIDE}),
    _priority("priority.change", "PriorityChangeSwitch", "a tier-2 DJ while nothing was active",
              ":112-139", "switch", False, False, {**_NO_OLD, **_CHANGE}),
    _priority("priority.released", "PriorityReleasedFallback", "a release that leaves nothing active",
              ":175-190", "fallback", False, True, {**_OLD, **{key: ABSENT for key in _RELEASED}}),
    _priority("priority.released", "PriorityReleasedRelease", "a release while another row stays active",
              ":175-190", "release", False, True, {**_OLD, **_RELEASED}),
]  # fmt: skip

# -- live and webstreams -------------------------------------------------------------------------

_SESSION = {"session_id": UUID, "station_id": UUID, "user_id": UUID, "username": TEXT}
_HANDOVER_TRANSITION = {"type": "string", "enum": ["immediate", "delayed", "faded"]}
_WEBSTREAM = {"station_id": UUID, "webstream_id": UUID}
LIVE_AND_WEBSTREAMS = [
    shape(
        "live.handover", "LiveHandover", "an operator's handover (never on a DJ's connect)",
        "internal/live/handover.go:182-190",
        "The session, the requested priority and how the handover went; no mount_id.",
        {**_SESSION, "handover_at": TIME, "priority": LIVE_PRIORITY, "transition_type": _HANDOVER_TRANSITION},
    ),
    shape(
        "live.released", "LiveReleased", "an operator releases a handover (never on a DJ's disconnect)",
        "internal/live/handover.go:238-244", "The session and when it was released.",
        {**_SESSION, "released_at": TIME},
    ),
    shape(
        "dj_connect", "DjConnect", "a DJ connects, after the priority event",
        "internal/live/service.go:263-271",
        "The session, the token's priority and whether it preempted; no source_ip.",
        {**_SESSION, "mount_id": UUID, "preempted": BOOLEAN, "priority": LIVE_PRIORITY},
    ),
    shape(
        "dj_disconnect", "DjDisconnect", "a DJ disconnects, after priority.released",
        "internal/live/service.go:340-347", "The session and how long it lasted (Go float64 seconds).",
        {**_SESSION, "mount_id": UUID, "duration_seconds": {"type": "number", "minimum": 0}},
    ),
    shape(
        "webstream.failover", "WebstreamFailoverAuto", "the health checker moves off a failing URL",
        "internal/webstream/health_checker.go:402-412", "From which URL to which, by index too, and why.",
        {
            **_WEBSTREAM, "auto": const(True), "from_index": INDEX, "from_url": TEXT,
            "name": described(TEXT, "The webstream's name"), "reason": const("health_check_failed"),
            "to_index": INDEX, "to_url": TEXT,
        },
    ),
    shape(
        "webstream.failover", "WebstreamFailoverManual", "POST /api/v1/webstreams/{id}/failover",
        "internal/webstream/service.go:311-319", "From which URL to which; current_index is the new one.",
        {
            **_WEBSTREAM, "current_index": INDEX, "from_index": INDEX, "from_url": TEXT,
            "manual": const(True), "to_url": TEXT,
        },
    ),
    shape(
        "webstream.recovered", "WebstreamRecoveredAuto", "the health checker returns to the primary",
        "internal/webstream/health_checker.go:228-234", "From the backup in use back to the primary.",
        {**_WEBSTREAM, "auto": const(True), "from_url": TEXT, "to_url": TEXT},
    ),
    shape(
        "webstream.recovered", "WebstreamRecoveredReset",
        "POST /api/v1/webstreams/{id}/reset, always, even on the primary",
        "internal/webstream/service.go:351-355", "The primary's URL.", {**_WEBSTREAM, "url": TEXT},
    ),
    shape(
        "webstream.health", "WebstreamHealth",
        "a passing check, the first failure of a run, or a turn to unhealthy",
        "internal/webstream/health_checker.go:198-203, :260-265, :288-293", "The URL in use and its status.",
        {**_WEBSTREAM, "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
         "url": TEXT},
    ),
]  # fmt: skip

# -- the REST handlers' audit duplicates ---------------------------------------------------------

_AUDIT_CONTEXT = {
    "ip_address": described(TEXT, "The caller's address (host:port, or a forwarding header's value)"),
    "user_agent": described(TEXT, 'The request\'s User-Agent ("" if none)'),
    "user_id": described(TEXT, 'The token\'s uid ("" if none)'),
}
_USER_EMAIL = {"user_email": described(TEXT, "Only when a user with that id exists")}


def _audit(type_: str, name: str, source: str, keys: Schema, optional: Schema | None = None) -> MessageShape:
    """``publishAuditEvent``: the request's context (``auditContext``) and the handler's keys."""
    return shape(
        type_, name, f"the REST handler's audit duplicate, after the service's {type_}",
        f"internal/api/api.go:2298-2328, {source}", "The request's context and the handler's keys.",
        {**_AUDIT_CONTEXT, **keys}, {**_USER_EMAIL, **(optional or {})},
    )  # fmt: skip


_SESSION_USER = {"mount_id": UUID, "session_user": TEXT, "station_id": UUID}


def _resource(kind: str, what: str, id_: Schema = UUID) -> Schema:
    return {"resource_id": described(id_, f"The {what}'s id"), "resource_type": const(kind)}


AUDITS = [
    _audit("priority.emergency", "PriorityEmergencyAudit", "internal/api/priority.go:69-75",
           {**_resource("priority_source", "new row"), "media_id": ECHOED, "mount_id": _AS_SENT,
            "station_id": ECHOED}),
    _audit("priority.override", "PriorityOverrideAudit", "internal/api/priority.go:134-141",
           {**_resource("priority_source", "new row"), "mount_id": _AS_SENT, "source_id": ECHOED,
            "source_type": {"type": "string", "enum": ["media", "live"]}, "station_id": ECHOED}),
    _audit("priority.released", "PriorityReleasedAudit", "internal/api/priority.go:179-183",
           {**_resource("priority_source", "path", ECHOED), "station_id": ECHOED}),
    _audit("live.handover", "LiveHandoverAudit", "internal/api/live.go:386-393",
           {**_resource("live_session", "session", ECHOED), "mount_id": _AS_SENT, "priority": LIVE_PRIORITY,
            "station_id": _AS_SENT, "transition_type": _HANDOVER_TRANSITION}),
    _audit("webstream.failover", "WebstreamFailoverAudit", "internal/api/webstream.go:323-330",
           {**_resource("webstream", "webstream", ECHOED), "name": TEXT, "new_index": INDEX, "new_url": TEXT,
            "station_id": UUID}),
    _audit("dj_connect", "DjConnectAudit", "internal/api/live.go:178-184 (POST /api/v1/live/connect)",
           {**_resource("live_session", "session"), **_SESSION_USER, "mount_id": ECHOED,
            "station_id": ECHOED}),
    _audit("dj_disconnect", "DjDisconnectAudit",
           "internal/api/live.go:221-230 (DELETE /api/v1/live/sessions/{id})",
           _resource("live_session", "session"), _SESSION_USER),
]  # fmt: skip
"""One per REST handler that calls ``publishAuditEvent``; ``run``'s scripted inputs have no caller."""

SHAPES: list[MessageShape] = [*NOW_PLAYING, *PRIORITY, *LIVE_AND_WEBSTREAMS, *AUDITS]


def grimnir_messages_schema() -> Schema:
    """One JSON Schema that every message of the real server's wire matches, the heartbeat included."""
    return messages_document(
        TITLE,
        "A message on the real Grimnir server's /api/v1/events (friendsincode/grimnir_radio at 4b8b2c5f): "
        "an event envelope or the heartbeat.",
        SHAPES,
    )


def grimnir_payload_fields() -> dict[str, frozenset[str]]:
    """Every payload key a type's shapes name: what a test's matcher may ask for in this profile."""
    fields: dict[str, set[str]] = {}
    for shape in SHAPES:
        named = (key for key, schema in shape.payload["properties"].items() if schema is not ABSENT)
        fields.setdefault(shape.type, set()).update(named)
    return {type_: frozenset(keys) for type_, keys in fields.items()}
