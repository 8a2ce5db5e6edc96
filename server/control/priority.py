"""Overrides and emergencies: the priority tiers an operator puts on and takes off the ladder."""

from typing import Any

from quart import Response, request

from playout import TIMELINE_ACTIONS, Emitted, InputRejected, events, inputs, override_transition

from ..directory import canonical
from ..responses import ok
from ..service import StationService
from .scope import claimed_station, source_uuid, station_of

OVERRIDE = TIMELINE_ACTIONS["override"]


async def insert_emergency(service: StationService, body: dict[str, Any]) -> Response:
    """Emergency media on air: priority 0, which nothing preempts."""
    station = station_of(service, body, required=True)
    media = service.directory.track(body["media_id"])
    _, snapshot = await service.runner.submit_and_snapshot(
        inputs.InsertEmergency(station=station, media=media)
    )
    on_air = snapshot.station(station).on_air
    return ok(
        {
            "status": "emergency_activated",
            "preempted": True,
            "transition_type": "immediate",
            "source_id": None if on_air is None else on_air.source_id,
        }
    )


async def start_override(service: StationService, body: dict[str, Any]) -> Response:
    """An override of media or a webstream, or a connected DJ handed the air as one (priority 1)."""
    station = station_of(service, body, required=True)
    source_type = body.get("source_type", "media")
    transition = body.get("transition_type", OVERRIDE.defaults["transition"])
    if source_type == "live":
        given: inputs.Input = inputs.HandOver(
            station=station,
            session=canonical(body["source_id"]),
            priority=1,
            transition=transition,
            announce_override=True,
        )
    else:
        target = service.directory.track if source_type == "media" else service.directory.webstream
        key = target(body["source_id"])
        given = inputs.StartOverride(
            station=station,
            name=body.get("name", f"{source_type}-{key}"),
            media=key if source_type == "media" else None,
            webstream=key if source_type == "webstream" else None,
            transition=transition,
            must_preempt=True,
        )
    emitted, snapshot = await service.runner.submit_and_snapshot(given)
    if isinstance(given, inputs.HandOver):
        source_id = given.session  # a live override's source is the DJ's session
    else:
        ladder = snapshot.station(station).ladder
        source_id = next(s.source_id for s in reversed(ladder) if s.name == given.name)
    return ok(
        {
            "status": "override_activated",
            "preempted": any(e.event.TYPE in ("priority.override", "live.handover") for e in emitted),
            "transition_type": override_transition(transition),
            "requires_fade": transition == "faded",
            "source_id": source_id,
        }
    )


async def release_priority(service: StationService, given: dict[str, Any], source_id: str) -> Response:
    """A priority source off the ladder, on the station named in the query or body, else wherever it is."""
    body = {**request.args, **given}
    claimed = claimed_station()
    if "station_id" in body:
        stations = [station_of(service, body, required=True)]
    elif claimed is not None:  # a token for one station releases only there
        stations = [claimed]
    else:
        stations = [s.key for s in service.scenario.stations]
    wanted = source_uuid(service, source_id)
    for station in stations:
        try:
            emitted, snapshot = await service.runner.submit_and_snapshot(
                inputs.Release(station=station, target="source", name=wanted)
            )
        except InputRejected as exc:
            if exc.code == "not_found" and station != stations[-1]:
                continue
            raise
        on_air = snapshot.station(station).on_air
        released: dict[str, Any] = {"status": "released", "transition_type": _transition_of(emitted)}
        if on_air is not None and on_air.source_id:
            released["next_source_id"] = on_air.source_id
        released["next_priority"] = None if on_air is None else on_air.priority
        return ok(released)
    raise InputRejected("not_found", f"no priority source '{source_id}'")  # pragma: no cover


def _transition_of(emitted: list[Emitted]) -> str:
    for item in emitted:
        if isinstance(item.event, events.LiveHandover):
            return item.event.transition_type
    return "immediate"
