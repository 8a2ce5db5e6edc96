"""The real server's priority and skip handlers (internal/api/priority.go, internal/api/api.go:1368-1388).

Each decodes the request struct, checks what the Go handler checks, gives the core
the input it maps to, and answers from the translator's priority rows (the real
``priority_sources`` table): the row ids, ``preempted``, what is left after a
release. What the real database would not find is the real 500.
"""

from quart import Response

from playout import TIMELINE_ACTIONS, Emitted, InputRejected, inputs
from playout.profiles import grimnir_payloads as real
from playout.profiles.base import wire_event

from ..rest.go_wire import GoRefusal, go_answer
from ..service import StationService
from .go_audit import body, found, pg_uuid, publish_audit, station_key, translator

OVERRIDE = TIMELINE_ACTIONS["override"]
NO_PREEMPTION = {"message": "Cannot preempt current priority source", "status": "no_preemption"}


async def emergency(service: StationService) -> Response:
    """``handlePriorityEmergency`` (internal/api/priority.go:42-83)."""
    req = await body({"station_id": str, "media_id": str, "mount_id": str, "metadata": dict})
    if not req["station_id"] or not req["media_id"]:
        raise GoRefusal(400, "station_id_and_media_id_required")
    station = station_key(service, req["station_id"], "emergency_insertion_failed")
    station_id = service.scenario.station(station).id
    media = found(service.directory.track, req["media_id"], "emergency_insertion_failed")
    profile = translator(service)
    rows = profile.priority
    before = rows.active(station_id)
    given = inputs.InsertEmergency(station=station, media=media)
    try:
        with profile.request_metadata(given, req["metadata"]):
            await service.runner.submit(given)
    except InputRejected:
        raise GoRefusal(500, "emergency_insertion_failed") from None
    new = rows.active(station_id)
    assert new is not None
    publish_audit(
        service,
        "priority.emergency",
        station_id,
        {
            "station_id": req["station_id"],
            "resource_type": "priority_source",
            "resource_id": new.id,
            "media_id": req["media_id"],
            "mount_id": req["mount_id"],
        },
    )
    answer = {"status": "emergency_activated", "preempted": before is not None, "source_id": new.id}
    return go_answer(200, answer | {"transition_type": "emergency"})


async def override(service: StationService) -> Response:
    """``handlePriorityOverride`` (internal/api/priority.go:86-150): media, or a DJ's session (the core's
    handover of that DJ where it can make one; the rows' transition whatever it does)."""
    req = await body(
        {"station_id": str, "mount_id": str, "source_type": str, "source_id": str, "metadata": dict}
    )
    if not req["station_id"] or not req["source_id"]:
        raise GoRefusal(400, "station_id_and_source_id_required")
    if req["source_type"] not in ("live", "media"):
        raise GoRefusal(400, "invalid_source_type")
    station = station_key(service, req["station_id"], "override_start_failed")
    station_id = service.scenario.station(station).id
    profile = translator(service)
    rows = profile.priority
    before = rows.active(station_id)
    if before is not None and before.priority <= 1:
        return go_answer(409, NO_PREEMPTION)  # Transition: only a strictly higher priority takes over
    given: inputs.Input
    if req["source_type"] == "live":
        session = pg_uuid(req["source_id"])
        if session is None:
            raise GoRefusal(500, "override_start_failed")  # the row's insert fails (22P02)
        given = inputs.HandOver(
            station=station,
            session=session,
            priority=1,
            transition=OVERRIDE.defaults["transition"],
            announce_override=True,
        )
    else:
        media = found(service.directory.track, req["source_id"], "override_start_failed")
        given = inputs.StartOverride(
            station=station,
            name=f"media-{media}",
            media=media,
            transition=OVERRIDE.defaults["transition"],
            must_preempt=True,
        )
    try:
        with profile.request_metadata(given, req["metadata"]):
            await service.runner.submit(given)
    except InputRejected as exc:
        if not isinstance(given, inputs.HandOver):
            if exc.code in ("no_preemption", "conflict"):
                return go_answer(409, NO_PREEMPTION)
            raise GoRefusal(500, "override_start_failed") from None
        # A DJ on air already, outranked on the core's ladder, or not connected at all: the real
        # service makes the rows' transition all the same (it looks no session up).
        core = service.runner.core
        with profile.request_metadata(given, req["metadata"]):
            messages, _ = profile.handover(given, core.clock.stamp(core.now_ms))
        service.hub.publish([Emitted(service.runner.station_now_ms(), message) for message in messages])
    new = rows.active(station_id)
    if new is None or new is before:
        return go_answer(409, NO_PREEMPTION)
    publish_audit(
        service,
        "priority.override",
        station_id,
        {
            "station_id": req["station_id"],
            "resource_type": "priority_source",
            "resource_id": new.id,
            "source_type": req["source_type"],
            "source_id": req["source_id"],
            "mount_id": req["mount_id"],
        },
    )
    preempted = before is not None
    answer = {"status": "override_activated", "preempted": preempted, "requires_fade": preempted}
    return go_answer(
        200, answer | {"source_id": new.id, "transition_type": "preempt" if preempted else "switch"}
    )


async def release(service: StationService, source_id: str) -> Response:
    """``handlePriorityRelease`` (internal/api/priority.go:153-196): the row is found by what it plays,
    whatever its state; the core releases what it still has of it (an emergency's media may have
    ended, a row may be released again), while the row is released as the real one is."""
    req = await body({"station_id": str, "source_id": str})
    if not req["station_id"]:
        raise GoRefusal(400, "station_id_required")
    station = station_key(service, req["station_id"], "release_failed")
    station_id = service.scenario.station(station).id
    rows = translator(service).priority
    source = pg_uuid(source_id)
    if source is None or rows.find(station_id, source) is None:
        raise GoRefusal(500, "release_failed")
    given = inputs.Release(station=station, target="source", name=source, missing_ok=True)
    try:
        await service.runner.submit(given)
    except InputRejected:
        raise GoRefusal(500, "release_failed") from None
    publish_audit(
        service,
        "priority.released",
        station_id,
        {"station_id": req["station_id"], "resource_type": "priority_source", "resource_id": source_id},
    )
    following = rows.active(station_id)
    if following is None:
        return go_answer(200, {"status": "released", "transition_type": "fallback"})
    answer = {"status": "released", "transition_type": "release"}
    return go_answer(200, answer | {"next_source_id": following.id, "next_priority": following.priority})


async def skip(service: StationService) -> Response:
    """``handlePlayoutSkip`` (internal/api/api.go:1368-1388): no existence checks, always 200.

    ``StopPipeline`` (internal/playout/manager.go:129-140) looks the pipeline up in a map by the mount id
    as given: only a mount's UUID exactly as the server has it (lower case) stops one, never a key nor
    the UUID in another case. The ``now_playing {skipped}`` is the handler's own message, with the ids
    as given (``station_id`` ``""`` when none is); for a mount the simulator runs, the core skips its
    track and the profile sends that message first.
    """
    req = await body({"station_id": str, "mount_id": str, "launch": str})
    if not req["mount_id"]:
        raise GoRefusal(400, "mount_id_required")
    payload = real.now_playing_skipped(req["station_id"], req["mount_id"])
    stations = service.scenario.stations
    running = next((s.key for s in stations if any(m.id == req["mount_id"] for m in s.mounts)), None)
    if running is not None:
        given = inputs.Skip(station=running)
        try:
            with translator(service).request_metadata(given, payload):
                await service.runner.submit(given)
            return go_answer(200, {"status": "skipped"})
        except InputRejected:
            pass  # StopPipeline's error is only logged; the message goes out
    message = wire_event("now_playing", payload, req["station_id"] or None)
    service.hub.publish([Emitted(service.runner.station_now_ms(), message)])
    return go_answer(200, {"status": "skipped"})
