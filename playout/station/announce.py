"""Announcing: one function per documented event, building it from the station's state.

Pure: each returns the event and emits nothing. The payloads follow
``websocket-events.txt`` (``docs/protocol.md`` records our choices where it is
silent); :func:`override_transition` is the one place the wire's name of an
override's transition is chosen.
"""

from typing import Literal

from ..protocol import events as ev
from ..scenario.model import Track, Webstream
from .ladder import Source
from .state import Session, StationState
from .webstreams import Failover, WebstreamHealth


def override_transition(transition: ev.Transition) -> ev.OverrideTransition:
    """``priority.override`` calls an immediate takeover ``preempt``; the other names are the same."""
    return "preempt" if transition == "immediate" else transition


def schedule_update(station: StationState, added: int, at: ev.Timestamp) -> ev.ScheduleUpdate:
    return ev.ScheduleUpdate(station_id=ev.Uuid(station.spec.id), entries_added=added, timestamp=at)


def now_playing_media(station: StationState, track: Track, at: ev.Timestamp) -> ev.NowPlayingMedia:
    return ev.NowPlayingMedia(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(station.spec.mounts[0].id),
        media_id=ev.Uuid(track.id),
        title=track.title,
        artist=track.artist,
        album=track.album,
        duration=track.duration_ms / 1000,
        starts_at=at,
    )


def now_playing_webstream(station: StationState, health: WebstreamHealth, url: str) -> ev.NowPlayingWebstream:
    spec: Webstream = health.spec
    return ev.NowPlayingWebstream(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(station.spec.mounts[0].id),
        webstream_id=ev.Uuid(spec.id),
        webstream_name=spec.name,
        url=url,
        health_status=health.status,
    )


def now_playing_live(station: StationState, session: Session, at: ev.Timestamp) -> ev.NowPlayingLive:
    """The DJ's own metadata, else the title of their show in force, else "<DJ> live"."""
    entry = station.entry
    show = (
        entry.slot.title
        if entry and entry.slot.kind == "live" and entry.slot.target == session.dj.key
        else ""
    )
    return ev.NowPlayingLive(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(session.mount.id),
        session_id=ev.Uuid(session.id),
        user_id=ev.Uuid(session.dj.user_id),
        username=session.dj.username,
        title=session.title or show or f"{session.dj.username} live",
        artist=session.artist or session.dj.username,
        starts_at=at,
    )


def health_crossfade(
    station: StationState, previous: Track, current: Track, at: ev.Timestamp
) -> ev.HealthCrossfade:
    return ev.HealthCrossfade(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(station.spec.mounts[0].id),
        event="crossfade",
        previous_media=ev.Uuid(previous.id),
        current_media=ev.Uuid(current.id),
        timestamp=at,
    )


def health_status(
    station: StationState, on_air: Source, stream: WebstreamHealth | None, at: ev.Timestamp
) -> ev.HealthStatusReport:
    """The periodic status beat (our shape; docs/protocol.md); ``stream``: the webstream playing, if any."""
    status: ev.StationStatus = "ok"
    if on_air.kind == "fallback":
        status = "fallback"
    elif stream is not None and stream.status != "healthy":
        status = "degraded"
    source_type: ev.SourceType
    if on_air.kind in ("emergency", "fallback", "live"):
        source_type = on_air.kind  # type: ignore[assignment]
    else:
        source_type = "webstream" if stream is not None else "media"
    return ev.HealthStatusReport(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(station.spec.mounts[0].id),
        event="status",
        status=status,
        priority=int(on_air.priority),  # type: ignore[arg-type]
        source_type=source_type,
        timestamp=at,
    )


def priority_emergency(station: StationState, track: Track, at: ev.Timestamp) -> ev.PriorityEmergency:
    return ev.PriorityEmergency(
        station_id=ev.Uuid(station.spec.id),
        media_id=ev.Uuid(track.id),
        priority=0,
        source_type="emergency",
        inserted_at=at,
    )


def priority_override(
    station: StationState,
    source_type: Literal["media", "webstream", "live"],
    source_id: str,
    transition: ev.Transition,
) -> ev.PriorityOverride:
    return ev.PriorityOverride(
        station_id=ev.Uuid(station.spec.id),
        priority=1,
        source_type=source_type,
        source_id=ev.Uuid(source_id),
        transition_type=override_transition(transition),
    )


def priority_released(
    station: StationState, previous: Source, new: Source, at: ev.Timestamp
) -> ev.PriorityReleased:
    return ev.PriorityReleased(
        station_id=ev.Uuid(station.spec.id),
        previous_priority=int(previous.priority),  # type: ignore[arg-type]
        new_priority=int(new.priority),  # type: ignore[arg-type]
        released_at=at,
    )


def live_handover(
    station: StationState, session: Session, transition: ev.Transition, at: ev.Timestamp
) -> ev.LiveHandover:
    return ev.LiveHandover(
        station_id=ev.Uuid(station.spec.id),
        session_id=ev.Uuid(session.id),
        user_id=ev.Uuid(session.dj.user_id),
        username=session.dj.username,
        priority=int(session.priority),  # type: ignore[arg-type]
        transition_type=transition,
        handover_at=at,
    )


def live_released(station: StationState, session: Session, at: ev.Timestamp) -> ev.LiveReleased:
    return ev.LiveReleased(
        station_id=ev.Uuid(station.spec.id),
        session_id=ev.Uuid(session.id),
        user_id=ev.Uuid(session.dj.user_id),
        username=session.dj.username,
        released_at=at,
    )


def dj_connect(station: StationState, session: Session) -> ev.DjConnect:
    return ev.DjConnect(
        station_id=ev.Uuid(station.spec.id),
        mount_id=ev.Uuid(session.mount.id),
        session_id=ev.Uuid(session.id),
        username=session.dj.username,
        source_ip=session.source_ip,
    )


def dj_disconnect(station: StationState, session: Session, now_ms: int) -> ev.DjDisconnect:
    return ev.DjDisconnect(
        station_id=ev.Uuid(station.spec.id),
        session_id=ev.Uuid(session.id),
        username=session.dj.username,
        duration_seconds=(now_ms - session.connected_ms) / 1000,
    )


def webstream_failover(spec: Webstream, change: Failover, at: ev.Timestamp) -> ev.WebstreamFailover:
    return ev.WebstreamFailover(
        webstream_id=ev.Uuid(spec.id),
        webstream_name=spec.name,
        failed_url=spec.urls[change.failed],
        failover_url=spec.urls[change.to],
        reason=change.reason,
        timestamp=at,
    )


def webstream_recovered(spec: Webstream, at: ev.Timestamp) -> ev.WebstreamRecovered:
    """Back on the primary URL."""
    return ev.WebstreamRecovered(
        webstream_id=ev.Uuid(spec.id), webstream_name=spec.name, recovered_url=spec.urls[0], timestamp=at
    )
