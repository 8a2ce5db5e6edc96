"""The twelve documented event types, one frozen class per payload shape.

Field names, order and JSON types follow ``websocket-events.txt``; where the page
is silent (the live ``now_playing`` variant, the periodic ``health`` status, the
failover reasons) the choice is recorded in ``docs/protocol.md``. The JSON
Schemas in :mod:`playout.protocol.schemas` are derived from these classes, so this module
is the single source of truth for the payloads.
"""

from typing import ClassVar, Literal, NewType

import attrs

Uuid = NewType("Uuid", str)
"""A UUID string such as ``0b8e…``."""
Timestamp = NewType("Timestamp", str)
"""A UTC RFC 3339 instant with ``Z``, e.g. ``2026-01-22T10:30:00Z``."""

Transition = Literal["immediate", "faded", "delayed"]
HealthStatus = Literal["healthy", "degraded", "unhealthy"]
FailoverReason = Literal[
    "connection_timeout",
    "connection_refused",
    "http_error",
    "insufficient_data",
    "read_stall",
    "manual",
]
SourceType = Literal["media", "live", "webstream", "emergency", "fallback"]
OverrideTransition = Literal["preempt", "faded", "delayed"]
StationStatus = Literal["ok", "degraded", "fallback"]

_event = attrs.frozen(kw_only=True, slots=True)


class Event:
    """Base of every event; ``TYPE`` is the wire name, ``VARIANT`` tells shapes of one type apart."""

    TYPE: ClassVar[str]
    VARIANT: ClassVar[str] = ""
    __slots__ = ()


@_event
class NowPlayingMedia(Event):
    """A track started playing (automation, fallback, emergency or override media)."""

    TYPE = "now_playing"
    VARIANT = "media"
    station_id: Uuid
    mount_id: Uuid
    media_id: Uuid
    title: str
    artist: str
    album: str
    duration: float
    starts_at: Timestamp


@_event
class NowPlayingWebstream(Event):
    """A relayed webstream is on air (again after a failover or recovery, with its new URL)."""

    TYPE = "now_playing"
    VARIANT = "webstream"
    station_id: Uuid
    mount_id: Uuid
    webstream_id: Uuid
    webstream_name: str
    url: str
    health_status: HealthStatus


@_event
class NowPlayingLive(Event):
    """A live DJ is on air (undocumented on the page; our choice, see docs/protocol.md)."""

    TYPE = "now_playing"
    VARIANT = "live"
    station_id: Uuid
    mount_id: Uuid
    session_id: Uuid
    user_id: Uuid
    username: str
    title: str
    artist: str
    starts_at: Timestamp


@_event
class LiveHandover(Event):
    TYPE = "live.handover"
    station_id: Uuid
    session_id: Uuid
    user_id: Uuid
    username: str
    priority: Literal[1, 2]
    transition_type: Transition
    handover_at: Timestamp


@_event
class LiveReleased(Event):
    TYPE = "live.released"
    station_id: Uuid
    session_id: Uuid
    user_id: Uuid
    username: str
    released_at: Timestamp


@_event
class DjConnect(Event):
    TYPE = "dj_connect"
    station_id: Uuid
    mount_id: Uuid
    session_id: Uuid
    username: str
    source_ip: str


@_event
class DjDisconnect(Event):
    TYPE = "dj_disconnect"
    station_id: Uuid
    session_id: Uuid
    username: str
    duration_seconds: float


@_event
class WebstreamFailover(Event):
    TYPE = "webstream.failover"
    webstream_id: Uuid
    webstream_name: str
    failed_url: str
    failover_url: str
    reason: FailoverReason
    timestamp: Timestamp


@_event
class WebstreamRecovered(Event):
    TYPE = "webstream.recovered"
    webstream_id: Uuid
    webstream_name: str
    recovered_url: str
    timestamp: Timestamp


@_event
class PriorityEmergency(Event):
    TYPE = "priority.emergency"
    station_id: Uuid
    media_id: Uuid
    priority: Literal[0]
    source_type: Literal["emergency"]
    inserted_at: Timestamp


@_event
class PriorityOverride(Event):
    TYPE = "priority.override"
    station_id: Uuid
    priority: Literal[1]
    source_type: Literal["media", "webstream", "live"]
    source_id: Uuid
    transition_type: OverrideTransition


@_event
class PriorityReleased(Event):
    TYPE = "priority.released"
    station_id: Uuid
    previous_priority: Literal[0, 1, 2, 3, 4]
    new_priority: Literal[0, 1, 2, 3, 4]
    released_at: Timestamp


@_event
class HealthCrossfade(Event):
    """The documented crossfade notice; follows the incoming track's ``now_playing``."""

    TYPE = "health"
    VARIANT = "crossfade"
    station_id: Uuid
    mount_id: Uuid
    event: Literal["crossfade"]
    previous_media: Uuid
    current_media: Uuid
    timestamp: Timestamp


@_event
class HealthStatusReport(Event):
    """The periodic status beat (undocumented shape; our choice, see docs/protocol.md)."""

    TYPE = "health"
    VARIANT = "status"
    station_id: Uuid
    mount_id: Uuid
    event: Literal["status"]
    status: StationStatus
    priority: Literal[0, 1, 2, 3, 4]
    source_type: SourceType
    timestamp: Timestamp


@_event
class ScheduleUpdate(Event):
    TYPE = "schedule_update"
    station_id: Uuid
    entries_added: int
    timestamp: Timestamp


EVENT_CLASSES: tuple[type[Event], ...] = (
    NowPlayingMedia,
    NowPlayingWebstream,
    NowPlayingLive,
    LiveHandover,
    LiveReleased,
    DjConnect,
    DjDisconnect,
    WebstreamFailover,
    WebstreamRecovered,
    PriorityEmergency,
    PriorityOverride,
    PriorityReleased,
    HealthCrossfade,
    HealthStatusReport,
    ScheduleUpdate,
)

EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(cls.TYPE for cls in EVENT_CLASSES))
"""The twelve wire names, in the protocol page's order."""
