"""The real server's live handover and webstream handlers (internal/api/live.go, internal/api/webstream.go).

The translator's sessions stand for the ``live_sessions`` table, its priority rows
for ``priority_sources``; what they would not find is the real handler's 500.
"""

from typing import Any

from quart import Response

from playout import Emitted, InputRejected, inputs
from playout.profiles import grimnir_payloads as real

from ..rest.go_wire import GoRefusal, Struct, go_answer
from ..service import StationService
from .go_audit import body, found, pg_uuid, publish_audit, translator

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time``: the ``handover_at`` of a handover refused before it started."""
HANDOVER_FIELDS = {
    "session_id": str,
    "station_id": str,
    "mount_id": str,
    "user_id": str,
    "priority": int,
    "immediate": bool,
    "fade_time_ms": int,
    "rollback_on_error": bool,
}
"""``liveStartHandoverRequest`` (internal/api/live.go:301-310)."""


def _handover_failed(session_id: str, error: str, at: str = ZERO_TIME) -> GoRefusal:
    """The 500 with ``liveHandoverResponse``'s set fields only (internal/api/live.go:371-378)."""
    answer = Struct(success=False, session_id=session_id, handover_at=at, transition_type="", error=error)
    return GoRefusal(500, "handover_failed", answer)


def _source(row: real.Row) -> Struct:
    """``prioritySourceInfo`` (internal/api/live.go:322-327): ``metadata`` omitted when empty."""
    info = Struct(priority=row.priority, source_type=row.source_type, source_id=row.source_id)
    if row.metadata:
        info["metadata"] = row.metadata
    return info


async def handover(service: StationService) -> Response:
    """``handleLiveStartHandover`` (internal/api/live.go:329-423), ``StartHandover``
    (internal/live/handover.go:61-216)."""
    req = await body(HANDOVER_FIELDS)
    if not all(req[name] for name in ("session_id", "station_id", "mount_id", "user_id")):
        raise GoRefusal(400, "session_station_mount_user_required")
    if req["priority"] not in (1, 2):
        raise GoRefusal(400, "invalid_priority")
    profile = translator(service)
    wanted = pg_uuid(req["session_id"])
    if wanted is None:  # GetSession's query fails (internal/live/service.go:369-378)
        syntax = f'invalid input syntax for type uuid: "{req["session_id"]}" (SQLSTATE 22P02)'
        raise _handover_failed(req["session_id"], f"session not found: query session: ERROR: {syntax}")
    session = profile.sessions.get(wanted)
    if session is None:
        raise _handover_failed(req["session_id"], "session not found: live session not found")
    if not session.active:
        raise _handover_failed(req["session_id"], "session is not active")
    if session.user_id != req["user_id"]:
        raise _handover_failed(req["session_id"], "user mismatch")
    station = next(s.key for s in service.scenario.stations if s.id == session.station_id)
    previous = profile.priority.active(session.station_id)
    core = service.runner.core
    started = core.clock.stamp(core.now_ms)
    given = inputs.HandOver(
        station=station,
        session=session.session_id,
        priority=req["priority"],
        transition="immediate" if req["immediate"] else "faded",
    )
    try:
        await service.runner.submit(given)
    except InputRejected as exc:
        if exc.code not in ("no_preemption", "conflict"):
            failure = f"priority transition failed: {exc.detail}"
            raise _handover_failed(req["session_id"], failure, started) from None
        # The DJ outranked, or on air already: the real service makes its transition all the same.
        messages, _ = profile.handover(given, started)
        now_ms = service.runner.station_now_ms()
        service.hub.publish([Emitted(now_ms, message) for message in messages])
    new = profile.priority.active(session.station_id)
    if new is None or new is previous:
        kind = None
    else:
        started = str(new.metadata.get("handover_at", started))
        kind = "switch" if previous is None else "preempt"
    transition = real.handover_transition(req["immediate"], kind)
    publish_audit(
        service,
        "live.handover",
        session.station_id,
        {
            "station_id": req["station_id"],
            "resource_type": "live_session",
            "resource_id": req["session_id"],
            "mount_id": req["mount_id"],
            "priority": req["priority"],
            "transition_type": transition,
        },
    )
    answer = Struct(
        success=True, session_id=req["session_id"], handover_at=started, transition_type=transition
    )
    if previous is not None:
        answer["previous_source"] = _source(previous)
    answer["new_source"] = Struct(
        priority=req["priority"],
        source_type="live",
        source_id=req["session_id"],
        metadata={"user_id": req["user_id"], "username": session.username},
    )
    return go_answer(200, answer)


async def release_handover(service: StationService, session_id: str) -> Response:
    """``handleLiveReleaseHandover`` (internal/api/live.go:425-443): every failure is 500
    ``release_failed`` (its 404 branch compares a wrapped error with ``==``). ``ReleaseHandover``
    (internal/live/handover.go:218-246) releases a row of the session whatever its state, so a
    second release is the same answer and messages again; the DJ leaves the core's ladder once.
    A session whose DJ has left is still in the real table: its row is released again, and the
    messages go out, with nothing for the core to do."""
    profile = translator(service)
    session = profile.sessions.get(pg_uuid(session_id) or "")
    if session is None or profile.priority.find(session.station_id, session.session_id) is None:
        raise GoRefusal(500, "release_failed")
    if not session.active:
        core = service.runner.core
        messages = profile.release_handover(session, core.clock.stamp(core.now_ms))
        service.hub.publish([Emitted(service.runner.station_now_ms(), message) for message in messages])
        return go_answer(200, {"status": "released"})
    station = next(s.key for s in service.scenario.stations if s.id == session.station_id)
    dj = next(d.key for d in service.scenario.djs.values() if d.user_id == session.user_id)
    try:
        given = inputs.Release(station=station, target="dj", name=dj, missing_ok=True)
        await service.runner.submit(given)
    except InputRejected:
        raise GoRefusal(500, "release_failed") from None
    return go_answer(200, {"status": "released"})


async def failover(service: StationService, webstream_id: str) -> Response:
    """``handleTriggerWebstreamFailover`` (internal/api/webstream.go:302-333): ``FailoverToNext``
    (internal/models/webstream.go:138-161) takes the URL after the one in use whatever its health,
    every URL down too, and with auto-recover on (as the answers say) the primary after the last."""
    key = found(service.directory.webstream, webstream_id, "failover_failed")
    urls = service.scenario.webstreams[key].urls
    if len(urls) < 2:
        raise GoRefusal(500, "failover_failed")
    following = (translator(service).webstreams.index(key) + 1) % len(urls)
    try:
        await service.runner.submit(inputs.ForceFailover(webstream=key, to=following))
    except InputRejected:
        raise GoRefusal(500, "failover_failed") from None
    answer = await webstream_response(service, key)
    publish_audit(
        service,
        "webstream.failover",
        answer["station_id"],
        {
            "station_id": answer["station_id"],
            "resource_type": "webstream",
            "resource_id": answer["id"],
            "name": answer["name"],
            "new_url": answer["current_url"],
            "new_index": answer["current_index"],
        },
    )
    return go_answer(200, answer)


async def reset(service: StationService, webstream_id: str) -> Response:
    """``handleResetWebstreamToPrimary`` (internal/api/webstream.go:335-356): no audit message."""
    key = found(service.directory.webstream, webstream_id, "reset_failed")
    try:
        await service.runner.submit(inputs.ResetWebstream(webstream=key))
    except InputRejected:
        raise GoRefusal(500, "reset_failed") from None
    return go_answer(200, await webstream_response(service, key))


async def webstream_response(service: StationService, key: str) -> Struct:
    """``toWebstreamResponse`` (internal/api/webstream.go:62-89, :360-389), the model's defaults where
    the scenario has nothing (internal/models/webstream.go:30-65); the URL in use and the stored health
    status as the real server keeps them (the translator's ``WebstreamWire``)."""
    spec = service.scenario.webstreams[key]
    snapshot = await service.runner.snapshot()
    real_state = translator(service).webstreams
    fields: dict[str, Any] = {
        "id": spec.id,
        "station_id": real_state.station[key],
        "name": spec.name,
        "description": "",
        "urls": list(spec.urls),
        "health_check_enabled": True,
        "health_check_interval_sec": spec.probe.interval_ms // 1000,
        "health_check_timeout_sec": spec.probe.connect_timeout_ms // 1000,
        "health_check_method": "GET",
        "failover_enabled": True,
        "failover_grace_ms": spec.probe.grace_ms,
        "auto_recover_enabled": True,
        "preflight_check": False,
        "buffer_size_ms": 2000,
        "reconnect_delay_ms": 1000,
        "max_reconnect_attempts": 5,
        "passthrough_metadata": True,
        "override_metadata": False,
        "active": True,
        "current_url": real_state.url(key),
        "current_index": real_state.index(key),
        "health_status": real_state.health_status(key),
    }
    checked = real_state.last_check_ms(key, service.runner.core.now_ms)
    if checked is not None:  # *time.Time, omitempty (internal/api/webstream.go:86)
        fields["last_health_check"] = service.runner.core.clock.stamp(checked)
    fields["created_at"] = service.runner.core.clock.stamp(0)
    fields["updated_at"] = snapshot.station_time
    return Struct(fields)
