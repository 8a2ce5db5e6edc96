"""What plays and when: skipping the automation track, moving a manual clock forward, starting over."""

from typing import Any

from quart import Response

from playout import DURATION_HINT, PROFILES, Emitted, format_duration, inputs, parse_duration

from ..responses import ok
from ..rest.routes import BadRequest
from ..service import StationService
from .scope import messages, station_of

MAX_ADVANCE_MS = 7 * 86_400_000
MAX_SNAPSHOTS_PER_ADVANCE = 20_000
"""A profile's ``health`` snapshots one advance may make (and list in its answer): 250 ms snapshots
over 7 days would be millions of messages, a frozen server and a body of gigabytes."""


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
    if by_ms > (most := longest_advance_ms(service)):
        tick = format_duration(service.settings.health_tick_ms)
        raise BadRequest(
            "invalid_request",
            f"by: at most {format_duration(most)} at a time here: the {service.settings.profile} profile "
            f"sends a health snapshot per station every {tick} (at most {MAX_SNAPSHOTS_PER_ADVANCE:,} an "
            "advance); advance in steps, or serve with --health-tick 1m for advances up to 7d",
        )
    published: list[Emitted] = []
    await service.runner.advance(by_ms, published=published)
    snapshot = await service.runner.snapshot()
    return ok({"station_time": snapshot.station_time, "events": messages(published)})


async def reset(service: StationService) -> Response:
    """The station back at its entry point with a fresh timeline; its clients stay connected."""
    snapshot = await service.reset()
    return ok({"status": "reset", "station_time": snapshot.station_time})


def longest_advance_ms(service: StationService) -> int:
    """How far one advance may go: 7 days, or less where the profile's snapshots would be too many."""
    tick = service.settings.health_tick_ms
    if PROFILES[service.settings.profile].translator is None or tick <= 0:
        return MAX_ADVANCE_MS
    stations = len(service.scenario.stations)
    return min(MAX_ADVANCE_MS, MAX_SNAPSHOTS_PER_ADVANCE * tick // stations)
