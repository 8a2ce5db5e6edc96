"""What plays and when: skipping the automation track, moving a manual clock forward, starting over."""

from typing import Any

from quart import Response

from playout import DURATION_HINT, Emitted, inputs, parse_duration

from ..responses import ok
from ..rest.routes import BadRequest
from ..service import StationService
from .scope import messages, station_of

MAX_ADVANCE_MS = 7 * 86_400_000


async def skip(service: StationService, body: dict[str, Any]) -> Response:
    """The next track, now."""
    await service.runner.submit(inputs.Skip(station=station_of(service, body, required=False)))
    return ok({"status": "skipped"})


async def advance(service: StationService, body: dict[str, Any]) -> Response:
    """A manual clock forward by ``by`` (at most 7 days), and what happened on the way."""
    try:
        by_ms = parse_duration(body["by"])
    except ValueError:
        raise BadRequest("invalid_request", f"by: {body['by']!r} is not {DURATION_HINT}") from None
    if by_ms > MAX_ADVANCE_MS:
        raise BadRequest("invalid_request", "by: at most 7d at a time")
    published: list[Emitted] = []
    await service.runner.advance(by_ms, published=published)
    snapshot = await service.runner.snapshot()
    return ok({"station_time": snapshot.station_time, "events": messages(published)})


async def reset(service: StationService) -> Response:
    """The station back at its entry point with a fresh timeline; its clients stay connected."""
    snapshot = await service.reset()
    return ok({"status": "reset", "station_time": snapshot.station_time})
