"""The ``grimnir`` profile's now-playing: ``handleAnalyticsNowPlaying`` (internal/api/api.go:1409-1523).

The real server answers from its newest ``play_history`` row (written by
``recordPlayHistory``, internal/playout/director.go:4272-4340, and the harbor,
internal/harbor/server.go:265-276); the simulator builds that row from what is on
air. Both paths (``/analytics/now-playing``, which the real dashboard script reads,
and ``/public/now-playing``) are public.
"""

import datetime
import uuid
from typing import Any

from quart import Response, request

from playout import StationView, events

from .directory import canonical
from .rest.endpoint import Auth, Endpoint
from .rest.go_wire import GoRefusal, go_answer
from .service import StationService

HEALTHZ = Endpoint(
    "GET",
    "/healthz",
    operation_id="grimnirHealthz",
    summary="The real server's liveness probe (only under --profile grimnir; not in docs/openapi.json)",
    tag="grimnir",
    auth=Auth.NONE,
    answers={},
)


async def healthz() -> Response:
    """``handleHealthz`` (internal/server/server.go:205-224, :870): written raw, no newline; no
    ``leader`` field (no leader election here)."""
    return Response(b'{"status":"ok"}', status=200, content_type="application/json")


WEBSTREAM_ROW_MS = 5 * 60 * 1000
"""A webstream's history row ends 5 minutes after it starts (director.go:4311-4320)."""


async def now_playing(service: StationService) -> Response:
    """No ``station_id``: 400; not a UUID: the database's 500; no row (or another server's station): idle."""
    wanted = request.args.get("station_id", "")
    if not wanted:
        raise GoRefusal(400, "station_id_required")
    try:
        uuid.UUID(wanted)
    except ValueError:
        raise GoRefusal(500, "db_error") from None
    snapshot = await service.runner.snapshot()
    station = next((s for s in snapshot.stations if s.id == canonical(wanted)), None)
    body = None if station is None else history_row(station, snapshot.station_time)
    return go_answer(200, {"status": "idle"} if body is None else body)


def history_row(station: StationView, now: str) -> dict[str, Any] | None:
    """The newest play-history row of ``station`` as the handler answers it (keys sorted on the wire)."""
    playing = station.now_playing
    if playing is None:
        return None
    kind, media_id, album, ended_at = "", "", "", station.ends_at
    match playing:
        case events.NowPlayingMedia():
            artist, title, media_id, album = playing.artist, playing.title, playing.media_id, playing.album
            started = playing.starts_at
        case events.NowPlayingWebstream():
            artist, title, started = playing.webstream_name, "On Air", station.since
            ended_at = _later(started, WEBSTREAM_ROW_MS)
        case _:
            artist, title, started, ended_at = playing.username, "Live DJ", playing.starts_at, None
            kind = "live"
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.UUID(station.id), f"play/{started}/{media_id}")),
        "station_id": station.id,
        "mount_id": playing.mount_id,
        "media_id": media_id,
        "artist": artist,
        "title": title,
        "album": album,
        "started_at": started,
        "ended_at": ended_at,
        "status": "playing" if ended_at is None or _instant(ended_at) > _instant(now) else "idle",
        "type": kind,
        "source_type": kind,
        "is_live_dj": kind == "live",
    }
    if station.djs:  # an active live session makes the row live, whatever plays (api.go:1451-1470)
        body |= {"is_live_dj": True, "source_type": "live", "session_started_at": station.djs[0].connected_at}
    return body


def _instant(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _later(stamp: str, ms: int) -> str:
    moved = _instant(stamp) + datetime.timedelta(milliseconds=ms)
    return moved.isoformat(timespec="milliseconds" if moved.microsecond else "seconds").replace("+00:00", "Z")
