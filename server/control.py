"""Control endpoints: the real server's paths where it has them, and simulation-only ones.

Every call becomes one input to the station core, so it produces exactly the events
the same happening produces when scripted in a scenario. A bad request (malformed
JSON, unknown ids, wrong types, an impossible change) gets 400/404/409 with
``{"error": <code>, "detail": …}`` and changes nothing. Each endpoint is declared in
:mod:`server.api`; the admin role and the body's schema are checked from there
before a handler here runs.
"""

from typing import Any

from quart import Response, g, request

from playout import Emitted, InputRejected, SourceView, StationView, events, inputs, parse_duration, wire
from playout.protocol.stationtime import DURATION_HINT

from . import api
from .directory import NotFound
from .responses import error, ok
from .rest.routes import BadRequest, Forbidden, Routes
from .service import StationService

MAX_ADVANCE_MS = 7 * 86_400_000


def bind_control(route: Routes, service: StationService) -> None:
    """Bind the control endpoints' handlers to their declarations in :mod:`server.api`."""
    runner = service.runner
    directory = service.directory

    def _source_uuid(source_id: str) -> str:
        """Short ids of media and webstreams name the override that plays them."""
        for find, table in (
            (directory.track, service.scenario.tracks),
            (directory.webstream, service.scenario.webstreams),
        ):
            try:
                return table[find(source_id)].id
            except NotFound:
                continue
        return source_id

    def station_of(body: dict[str, Any], *, required: bool) -> str:
        """The station a request changes; never one outside its token's ``station_id`` claim."""
        if "station_id" in body:
            station = directory.station(body["station_id"])
        elif "mount_id" in body:
            station = directory.station_of_mount(body["mount_id"])
        elif not required and len(service.scenario.stations) == 1:
            station = service.scenario.stations[0].key
        else:
            raise BadRequest("station_id_required", "give station_id (a station's UUID or id)")
        return allowed(station)

    def allowed(station: str) -> str:
        """``station``, when the token's ``station_id`` claim (if any) names it; else 403."""
        claimed = g.get("token_station")
        if claimed is not None and station != claimed:
            raise Forbidden("station_forbidden", f"this token may change station '{claimed}' only")
        return station

    async def station_state(station: str) -> StationView:
        return (await runner.snapshot()).station(station)

    async def webstream_state(key: str) -> dict[str, Any]:
        found = (await runner.snapshot()).webstream(key)
        urls = [u.url for u in found.urls]
        return {
            "id": found.id,
            "name": found.name,
            "urls": urls,
            "active": True,
            "failover_enabled": True,
            "auto_recover_enabled": True,
            "current_url": found.active_url or "",
            "current_index": urls.index(found.active_url) if found.active_url else -1,
            "health_status": found.health_status,
            "url_health": [u.as_json() for u in found.urls],
        }

    # -- priority ---------------------------------------------------------------------------

    @route(api.INSERT_EMERGENCY)
    async def insert_emergency(body: dict[str, Any]) -> Response:
        station = station_of(body, required=True)
        media = directory.track(body["media_id"])
        _, snapshot = await runner.submit_and_snapshot(inputs.InsertEmergency(station=station, media=media))
        on_air = snapshot.station(station).on_air
        return ok(
            {
                "status": "emergency_activated",
                "preempted": True,
                "transition_type": "immediate",
                "source_id": None if on_air is None else on_air.source_id,
            }
        )

    @route(api.START_OVERRIDE)
    async def start_override(body: dict[str, Any]) -> Response:
        station = station_of(body, required=True)
        source_type = body.get("source_type", "media")
        transition = body.get("transition_type", "immediate")
        if source_type == "live":
            given: inputs.Input = inputs.HandOver(
                station=station,
                session=body["source_id"],
                priority=1,
                transition=transition,
                announce_override=True,
            )
        else:
            target = directory.track if source_type == "media" else directory.webstream
            key = target(body["source_id"])
            given = inputs.StartOverride(
                station=station,
                name=body.get("name", f"{source_type}-{key}"),
                media=key if source_type == "media" else None,
                webstream=key if source_type == "webstream" else None,
                transition=transition,
                must_preempt=True,
            )
        emitted, snapshot = await runner.submit_and_snapshot(given)
        if isinstance(given, inputs.HandOver):
            source_id = body["source_id"]  # a live override's source is the DJ's session
        else:
            ladder = snapshot.station(station).ladder
            source_id = next(s.source_id for s in reversed(ladder) if s.name == given.name)
        return ok(
            {
                "status": "override_activated",
                "preempted": any(e.event.TYPE in ("priority.override", "live.handover") for e in emitted),
                "transition_type": "preempt" if transition == "immediate" else transition,
                "requires_fade": transition == "faded",
                "source_id": source_id,
            }
        )

    @route(api.RELEASE_PRIORITY)
    async def release_priority(given: dict[str, Any], source_id: str) -> Response:
        body = {**request.args, **given}
        claimed = g.get("token_station")
        if "station_id" in body:
            stations = [station_of(body, required=True)]
        elif claimed is not None:  # a token for one station releases only there
            stations = [claimed]
        else:
            stations = [s.key for s in service.scenario.stations]
        wanted = _source_uuid(source_id)
        for station in stations:
            try:
                emitted, snapshot = await runner.submit_and_snapshot(
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

    # -- live ---------------------------------------------------------------------------------

    @route(api.LIVE_HANDOVER)
    async def live_handover(body: dict[str, Any]) -> Response:
        station = station_of(body, required=True)
        before = (await station_state(station)).on_air
        transition = "immediate" if body.get("immediate") else "faded"
        emitted, snapshot = await runner.submit_and_snapshot(
            inputs.HandOver(
                station=station,
                session=body["session_id"],
                priority=int(body["priority"]),
                transition=transition,
            )
        )
        after = snapshot.station(station).on_air
        handover = next((e for e in emitted if isinstance(e.event, events.LiveHandover)), None)
        response: dict[str, Any] = {
            "success": True,
            "session_id": body["session_id"],
            "handover_at": handover.event.handover_at if handover else None,
            "transition_type": transition,
            "previous_source": _source_info(before),
            "new_source": _source_info(after),
        }
        return ok(response)

    @route(api.LIVE_RELEASE)
    async def live_release(session_id: str) -> Response:
        for station in service.scenario.stations:
            state = await station_state(station.key)
            if any(dj.session_id == session_id for dj in state.djs):
                allowed(station.key)
                try:
                    await runner.submit(inputs.Release(station=station.key, target="source", name=session_id))
                except InputRejected as exc:
                    if exc.code != "not_found":
                        raise
                    raise InputRejected(
                        "conflict", "the DJ is connected but holds no place on the ladder"
                    ) from None
                return ok({"status": "released"})
        return error(404, "session_not_found", f"no connected session '{session_id}'")

    # -- webstreams and playout -----------------------------------------------------------------

    @route(api.WEBSTREAM_FAILOVER)
    async def webstream_failover(webstream_id: str) -> Response:
        key = directory.webstream(webstream_id)
        await runner.submit(inputs.ForceFailover(webstream=key))
        return ok(await webstream_state(key))

    @route(api.WEBSTREAM_RESET)
    async def webstream_reset(webstream_id: str) -> Response:
        key = directory.webstream(webstream_id)
        await runner.submit(inputs.ResetWebstream(webstream=key))
        return ok(await webstream_state(key))

    @route(api.SKIP)
    async def skip(body: dict[str, Any]) -> Response:
        await runner.submit(inputs.Skip(station=station_of(body, required=False)))
        return ok({"status": "skipped"})

    # -- simulation only ----------------------------------------------------------------------

    @route(api.DJ_CONNECT)
    async def dj_connect(body: dict[str, Any]) -> Response:
        station = station_of(body, required=False)
        emitted = await runner.submit(
            inputs.ConnectDj(
                station=station,
                dj=directory.dj(body["dj"]),
                mount=directory.mount(station, body["mount_id"]) if "mount_id" in body else None,
                source_ip=body.get("source_ip", request.remote_addr or "127.0.0.1"),
                transition=body.get("transition", "faded"),
                priority=int(body["priority"]) if "priority" in body else None,
            )
        )
        connect = next(e.event for e in emitted if isinstance(e.event, events.DjConnect))
        return ok({"status": "connected", "session_id": connect.session_id, "events": _wire(emitted)})

    @route(api.DJ_DISCONNECT)
    async def dj_disconnect(body: dict[str, Any]) -> Response:
        station = station_of(body, required=False)
        emitted = await runner.submit(inputs.DisconnectDj(station=station, dj=directory.dj(body["dj"])))
        return ok({"status": "disconnected", "events": _wire(emitted)})

    @route(api.WEBSTREAM_URL)
    async def webstream_url(body: dict[str, Any], webstream_id: str, index: int, change: str) -> Response:
        key = directory.webstream(webstream_id)
        if change == "down":
            given: inputs.Input = inputs.UrlDown(
                webstream=key, url=index, reason=body.get("reason", "connection_timeout")
            )
        else:
            given = inputs.UrlUp(webstream=key, url=index)
        await runner.submit(given)
        return ok(await webstream_state(key))

    @route(api.ADVANCE)
    async def advance(body: dict[str, Any]) -> Response:
        try:
            by_ms = parse_duration(body["by"])
        except ValueError:
            raise BadRequest("invalid_request", f"by: {body['by']!r} is not {DURATION_HINT}") from None
        if by_ms > MAX_ADVANCE_MS:
            raise BadRequest("invalid_request", "by: at most 7d at a time")
        emitted = await runner.advance(by_ms)
        snapshot = await runner.snapshot()
        return ok({"station_time": snapshot.station_time, "events": _wire(emitted)})


def _wire(emitted: list[Emitted]) -> list[dict[str, Any]]:
    return [wire.to_message(e.event) for e in emitted]


def _transition_of(emitted: list[Emitted]) -> str:
    for item in emitted:
        if isinstance(item.event, events.LiveHandover):
            return item.event.transition_type
    return "immediate"


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
