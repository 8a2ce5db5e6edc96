"""Live sources: DJs connecting to the harbor (simulated), handed the air and taken off it."""

from typing import Any

from quart import Response, request

from playout import TIMELINE_ACTIONS, Emitted, InputRejected, SourceView, events, inputs

from ..directory import canonical
from ..responses import error, ok
from ..service import StationService
from .scope import allowed, messages, station_of

DJ_CONNECT = TIMELINE_ACTIONS["dj_connect"]


async def live_handover(service: StationService, body: dict[str, Any]) -> Response:
    """The air to a connected DJ, at the priority the body gives."""
    station = station_of(service, body, required=True)
    before = (await service.runner.snapshot()).station(station).on_air
    transition = "immediate" if body.get("immediate") else "faded"
    session = canonical(body["session_id"])
    emitted, snapshot = await service.runner.submit_and_snapshot(
        inputs.HandOver(
            station=station,
            session=session,
            priority=int(body["priority"]),
            transition=transition,
        )
    )
    after = snapshot.station(station).on_air
    handover = next((e for e in emitted if isinstance(e.event, events.LiveHandover)), None)
    response: dict[str, Any] = {
        "success": True,
        "session_id": session,
        "handover_at": handover.event.handover_at if handover else None,
        "transition_type": transition,
        "previous_source": _source_info(before),
        "new_source": _source_info(after),
    }
    return ok(response)


async def live_release(service: StationService, session_id: str) -> Response:
    """A DJ off the ladder, on whichever station they are connected to; they stay connected."""
    session_id = canonical(session_id)
    for station in service.scenario.stations:
        state = (await service.runner.snapshot()).station(station.key)
        if any(dj.session_id == session_id for dj in state.djs):
            allowed(station.key)
            try:
                await service.runner.submit(
                    inputs.Release(station=station.key, target="source", name=session_id)
                )
            except InputRejected as exc:
                if exc.code != "not_found":
                    raise
                raise InputRejected(
                    "conflict", "the DJ is connected but holds no place on the ladder"
                ) from None
            return ok({"status": "released"})
    return error(404, "session_not_found", f"no connected session '{session_id}'")


async def dj_connect(service: StationService, body: dict[str, Any]) -> Response:
    """A DJ's encoder connects, from the caller's address unless the body gives one."""
    station = station_of(service, body, required=False)
    directory = service.directory
    published: list[Emitted] = []
    emitted = await service.runner.submit(
        inputs.ConnectDj(
            station=station,
            dj=directory.dj(body["dj"]),
            mount=directory.mount(station, body["mount_id"]) if "mount_id" in body else None,
            source_ip=body.get("source_ip", request.remote_addr or DJ_CONNECT.defaults["source_ip"]),
            transition=body.get("transition", DJ_CONNECT.defaults["transition"]),
            priority=int(body["priority"]) if "priority" in body else None,
        ),
        published=published,
    )
    connect = next(e.event for e in emitted if isinstance(e.event, events.DjConnect))
    return ok({"status": "connected", "session_id": connect.session_id, "events": messages(published)})


async def dj_disconnect(service: StationService, body: dict[str, Any]) -> Response:
    """A DJ's encoder disconnects."""
    station = station_of(service, body, required=False)
    published: list[Emitted] = []
    await service.runner.submit(
        inputs.DisconnectDj(station=station, dj=service.directory.dj(body["dj"])), published=published
    )
    return ok({"status": "disconnected", "events": messages(published)})


def _source_info(source: SourceView | None) -> dict[str, Any] | None:
    if source is None:
        return None
    source_type = {"automation": "media", "override": "media"}.get(source.kind, source.kind)
    if source.webstream_id is not None:
        source_type = "webstream"
    return {
        "priority": source.priority,
        "source_type": source_type,
        "source_id": source.source_id or "",
    }
