"""What a control request reaches: the station it may change, the source it names.

A token with a ``station_id`` claim changes that station only (403 ``station_forbidden``
for any other); ``Routes`` puts the claimed station's key in ``g.token_station``.
"""

from typing import Any

from quart import g

from playout import Emitted, wire

from ..directory import NotFound, canonical
from ..rest.routes import BadRequest, Forbidden
from ..service import StationService


def station_of(service: StationService, body: dict[str, Any], *, required: bool) -> str:
    """The station a request changes; never one outside its token's ``station_id`` claim.

    A body may name it by ``station_id`` or by ``mount_id``; naming both, the mount must be the
    station's (else 404 ``mount_not_found``, or 400 ``mount_mismatch`` for another station's).
    """
    directory = service.directory
    if "station_id" in body:
        station = directory.station(body["station_id"])
        if "mount_id" in body:
            _mount_of(service, station, body)
    elif "mount_id" in body:
        station = directory.station_of_mount(body["mount_id"])
    elif not required and len(service.scenario.stations) == 1:
        station = service.scenario.stations[0].key
    else:
        raise BadRequest("station_id_required", "give station_id (a station's UUID or id)")
    return allowed(station)


def _mount_of(service: StationService, station: str, body: dict[str, Any]) -> None:
    """Refuses a body whose ``mount_id`` is no mount of ``station``, the one its ``station_id`` names."""
    mount_id = body["mount_id"]
    try:
        service.directory.mount(station, mount_id)
    except NotFound:
        owner = service.directory.station_of_mount(mount_id)  # NotFound: no station has it (404)
        raise BadRequest(
            "mount_mismatch",
            f"mount_id {mount_id!r} is a mount of station '{owner}', but station_id "
            f"{body['station_id']!r} names station '{station}'",
        ) from None


def allowed(station: str) -> str:
    """``station``, when the token's ``station_id`` claim (if any) names it; else 403."""
    claimed = claimed_station()
    if claimed is not None and station != claimed:
        raise Forbidden("station_forbidden", f"this token may change station '{claimed}' only")
    return station


def claimed_station() -> str | None:
    """The key of the station the request's token is limited to, None when it may change any."""
    return g.get("token_station")


def source_uuid(service: StationService, source_id: str) -> str:
    """Short ids of media and webstreams name the override that plays them; a UUID in lower case."""
    for find, table in (
        (service.directory.track, service.scenario.tracks),
        (service.directory.webstream, service.scenario.webstreams),
    ):
        try:
            return table[find(source_id)].id
        except NotFound:
            continue
    return canonical(source_id)


def messages(emitted: list[Emitted]) -> list[dict[str, Any]]:
    """The events a call produced, as the wire sends them (the simulation's answers list them)."""
    return [wire.to_message(e.event) for e in emitted]
