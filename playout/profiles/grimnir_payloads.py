"""The real Grimnir server's payloads, one builder per message it publishes.

Read from friendsincode/grimnir_radio at commit 4b8b2c5f (2026-08-22); each
builder names the Go code it follows. The real server has no payload types:
every publisher builds a ``map[string]any``, so a payload here is a plain dict
whose keys :func:`~playout.protocol.wire.go_json` sorts when it is sent. Numbers
that Go holds as ``float64`` go out without ``.0`` when integral
(:func:`go_number`). docs/fidelity.md lists every difference from the documented
protocol and the test that pins it.
"""

from typing import Any

import attrs

Payload = dict[str, Any]

GRIMNIR_TYPES = (
    "now_playing",
    "health",
    "priority.emergency",
    "priority.override",
    "priority.change",
    "priority.released",
    "live.handover",
    "live.released",
    "dj_connect",
    "dj_disconnect",
    "webstream.failover",
    "webstream.recovered",
    "webstream.health",
)
"""What this translator publishes (the real bus has more types: internal/events/bus.go:14-76)."""


def go_number(value: float) -> int | float:
    """A ``float64`` as Go's ``encoding/json`` writes it: ``3600``, not ``3600.0``."""
    return int(value) if float(value).is_integer() else value


@attrs.frozen
class Entry:
    """The schedule entry a ``now_playing`` carries (the real server's ``schedule_entries`` row)."""

    id: str
    station_id: str
    mount_id: str
    source_type: str
    source_id: str
    starts_at: str
    ends_at: str


def now_playing_entry(entry: Entry, extras: Payload) -> Payload:
    """``publishNowPlaying`` (internal/playout/director.go:4249-4270): the entry's keys, its metadata
    (none here: ``{}``), then the caller's extras."""
    return {
        "entry_id": entry.id,
        "station_id": entry.station_id,
        "mount_id": entry.mount_id,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "starts_at": entry.starts_at,
        "ends_at": entry.ends_at,
        "metadata": {},
        **extras,
    }


def track_extras(media_id: str, title: str, artist: str, album: str) -> Payload:
    """``playMedia`` (director.go:3043-3056): the track's own fields; no ``duration``."""
    return {"album": album, "artist": artist, "media_id": media_id, "title": title}


def now_playing_live(station_id: str, mount_id: str, artist: str, title: str, started_at: str) -> Payload:
    """The harbor's live ``now_playing`` (internal/harbor/server.go:280-289, and :598-607 for a
    source client's metadata update, with the song's artist and title)."""
    return {
        "station_id": station_id,
        "mount_id": mount_id,
        "artist": artist,
        "title": title,
        "source_type": "live",
        "type": "live",
        "is_live_dj": True,
        "started_at": started_at,
    }


def now_playing_skipped(station_id: str, mount_id: str) -> Payload:
    """``POST /api/v1/playout/skip`` (internal/api/api.go:1382-1386)."""
    return {"mount_id": mount_id, "skipped": True, "station_id": station_id}


def health_snapshot(
    station_id: str, mount_id: str, entry_id: str, media_id: str, started_at: str, ends_at: str
) -> Payload:
    """``emitHealthSnapshot`` (director.go:4232-4247): one per playing mount at every 250 ms tick;
    ``starts_at`` repeats ``started_at``."""
    return {
        "station_id": station_id,
        "mount_id": mount_id,
        "entry_id": entry_id,
        "media_id": media_id,
        "status": "playing",
        "started_at": started_at,
        "starts_at": started_at,
        "ends_at": ends_at,
    }


@attrs.define
class Row:
    """A priority source row (``priority_sources``): at most one per station is active."""

    id: str
    source_id: str
    """What it plays: the media id, or the DJ's session id."""
    priority: int
    source_type: str
    metadata: Payload
    handle: tuple[str, str] | None
    """How a scripted release names it: ("emergency", media key), ("override", name); None for a
    DJ's rows, which a release names by the session id they play."""
    active: bool = True


def priority_event(
    station_id: str,
    transition_type: str,
    old: Row | None,
    new: Row | None,
    *,
    preempted: bool,
    requires_fade: bool,
) -> Payload:
    """``publishEvent`` (internal/priority/service.go:212-246): the transition, the old row, the new
    row and its metadata merged in last."""
    payload: Payload = {
        "station_id": station_id,
        "transition_type": transition_type,
        "preempted": preempted,
        "requires_fade": requires_fade,
    }
    if old is not None:
        payload |= {
            "old_source_id": old.id,
            "old_priority": old.priority,
            "old_source_type": old.source_type,
        }
    if new is not None:
        payload |= {
            "new_source_id": new.id,
            "new_priority": new.priority,
            "new_source_type": new.source_type,
            "new_media_id": new.source_id,
        }
        payload |= new.metadata
    return payload


@attrs.frozen
class DjSession:
    """What the real server's ``live_sessions`` row holds of a DJ's connection; the row stays when the
    DJ leaves, inactive (``HandleDisconnect``, internal/live/service.go:296-318)."""

    session_id: str
    station_id: str
    mount_id: str
    user_id: str
    username: str
    active: bool = True


def dj_connect(session: DjSession, priority: int, preempted: bool) -> Payload:
    """``HandleConnect`` (internal/live/service.go:263-271): no ``source_ip``."""
    return {
        "session_id": session.session_id,
        "station_id": session.station_id,
        "mount_id": session.mount_id,
        "user_id": session.user_id,
        "username": session.username,
        "priority": priority,
        "preempted": preempted,
    }


def dj_disconnect(session: DjSession, duration_seconds: float) -> Payload:
    """``HandleDisconnect`` (internal/live/service.go:340-347)."""
    return {
        "session_id": session.session_id,
        "station_id": session.station_id,
        "mount_id": session.mount_id,
        "user_id": session.user_id,
        "username": session.username,
        "duration_seconds": go_number(duration_seconds),
    }


def live_handover(session: DjSession, priority: int, transition_type: str, at: str) -> Payload:
    """``StartHandover`` (internal/live/handover.go:182-190): no ``mount_id``."""
    return {
        "session_id": session.session_id,
        "station_id": session.station_id,
        "user_id": session.user_id,
        "username": session.username,
        "priority": priority,
        "transition_type": transition_type,
        "handover_at": at,
    }


def handover_transition(immediate: bool, kind: str | None) -> str:
    """A handover's ``transition_type`` (internal/live/handover.go:162-168): ``immediate`` when asked
    or when it preempts, ``delayed`` when the priority transition made none, else ``faded``."""
    if immediate or kind == "preempt":
        return "immediate"
    return "delayed" if kind is None else "faded"


def live_released(session: DjSession, at: str) -> Payload:
    """``ReleaseHandover`` (internal/live/handover.go:238-244)."""
    return {
        "session_id": session.session_id,
        "station_id": session.station_id,
        "user_id": session.user_id,
        "username": session.username,
        "released_at": at,
    }


def failover_auto(
    webstream_id: str, station_id: str, name: str, urls: tuple[str, ...], from_index: int, to_index: int
) -> Payload:
    """``triggerFailover`` (internal/webstream/health_checker.go:402-412)."""
    return {
        "webstream_id": webstream_id,
        "station_id": station_id,
        "name": name,
        "from_url": urls[from_index],
        "to_url": urls[to_index],
        "from_index": from_index,
        "to_index": to_index,
        "auto": True,
        "reason": "health_check_failed",
    }


def failover_manual(
    webstream_id: str, station_id: str, urls: tuple[str, ...], from_index: int, to_index: int
) -> Payload:
    """``TriggerFailover`` (internal/webstream/service.go:311-319): ``current_index`` is the new one."""
    return {
        "webstream_id": webstream_id,
        "station_id": station_id,
        "from_url": urls[from_index],
        "to_url": urls[to_index],
        "from_index": from_index,
        "current_index": to_index,
        "manual": True,
    }


def recovered_auto(webstream_id: str, station_id: str, from_url: str, to_url: str) -> Payload:
    """Automatic recovery (internal/webstream/health_checker.go:228-234)."""
    return {
        "webstream_id": webstream_id,
        "station_id": station_id,
        "from_url": from_url,
        "to_url": to_url,
        "auto": True,
    }


def recovered_reset(webstream_id: str, station_id: str, url: str) -> Payload:
    """``ResetToPrimary`` (internal/webstream/service.go:351-355): always, even on the primary."""
    return {"webstream_id": webstream_id, "station_id": station_id, "url": url}


def webstream_health(webstream_id: str, station_id: str, status: str, url: str) -> Payload:
    """A health check's result (internal/webstream/health_checker.go:198-203, 260-265, 288-293)."""
    return {"webstream_id": webstream_id, "station_id": station_id, "status": status, "url": url}
