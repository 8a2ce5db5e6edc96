"""Control endpoints: the real server's paths where it has them, and simulation-only ones.

Every call becomes one input to the station core, so it produces exactly the events
the same happening produces when scripted in a scenario. A bad request (malformed
JSON, unknown ids, wrong types, an impossible change) gets 400/404/409 with
``{"error": <code>, "detail": …}`` and changes nothing.
"""

import functools
import json
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema
import jsonschema.protocols
from quart import Blueprint, Response, request

from playout import Emitted, InputRejected, events, inputs, parse_duration, wire
from playout.stationtime import DURATION_HINT

from .directory import NotFound
from .responses import error, ok
from .service import StationService

_ID = {"type": "string", "minLength": 1}
_TRANSITION = {"enum": ["immediate", "faded", "delayed"]}
MAX_ADVANCE_MS = 7 * 86_400_000
_REJECTION_STATUS = {"not_found": 404, "conflict": 409, "no_preemption": 409, "bad_request": 400}


class BadRequest(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(
        {"type": "object", "properties": properties, "required": list(required), "additionalProperties": True}
    )


async def _body(
    validator: jsonschema.protocols.Validator | None, *, optional: bool = False
) -> dict[str, Any]:
    raw = await request.get_data()
    if not raw.strip():
        if optional or validator is None:
            return {}
        raise BadRequest("invalid_json", "the request needs a JSON object body")
    try:
        body = json.loads(raw)  # bytes: UTF-8 (or -16/-32) is detected, anything else refused
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid_json", "the body is not valid JSON in UTF-8") from None
    if not isinstance(body, dict):
        raise BadRequest("invalid_json", "the body must be a JSON object")
    if validator is not None:
        problems = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if problems:
            first = problems[0]
            where = ".".join(str(p) for p in first.absolute_path) or "body"
            raise BadRequest("invalid_request", f"{where}: {first.message}")
    return body


def control_blueprint(service: StationService, authenticated: Callable[..., Any]) -> Blueprint:
    blueprint = Blueprint("control", __name__)
    runner = service.runner
    directory = service.directory

    def handles_errors(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(handler)
        async def wrapped(*args: Any, **kwargs: Any) -> Response:
            try:
                return await handler(*args, **kwargs)
            except BadRequest as exc:
                return error(400, exc.code, exc.detail)
            except NotFound as exc:
                return error(404, f"{exc.kind}_not_found", str(exc))
            except InputRejected as exc:
                return error(_REJECTION_STATUS.get(exc.code, 409), exc.code, exc.detail)

        return wrapped

    def route(rule: str, methods: list[str]):
        def register(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
            guarded = authenticated(admin=True)(handles_errors(handler))
            blueprint.add_url_rule(rule, handler.__name__, guarded, methods=methods)
            return guarded

        return register

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
        if "station_id" in body:
            return directory.station(body["station_id"])
        if "mount_id" in body:
            return directory.station_of_mount(body["mount_id"])
        if not required and len(service.scenario.stations) == 1:
            return service.scenario.stations[0].key
        raise BadRequest("station_id_required", "give station_id (a station's UUID or id)")

    async def station_state(station: str) -> dict[str, Any]:
        snapshot = await runner.snapshot()
        return next(s for s in snapshot["stations"] if s["key"] == station)

    async def webstream_state(key: str) -> dict[str, Any]:
        snapshot = await runner.snapshot()
        found = next(w for w in snapshot["webstreams"] if w["key"] == key)
        urls = [u["url"] for u in found["urls"]]
        return {
            "id": found["id"],
            "name": found["name"],
            "urls": urls,
            "active": True,
            "failover_enabled": True,
            "auto_recover_enabled": True,
            "current_url": found["active_url"] or "",
            "current_index": urls.index(found["active_url"]) if found["active_url"] else -1,
            "health_status": found["health_status"],
            "url_health": found["urls"],
        }

    # -- priority ---------------------------------------------------------------------------

    emergency_body = _schema(
        {"station_id": _ID, "media_id": _ID, "mount_id": _ID}, ("station_id", "media_id")
    )

    @route("/api/v1/priority/emergency", ["POST"])
    async def insert_emergency() -> Response:
        body = await _body(emergency_body)
        station = station_of(body, required=True)
        media = directory.track(body["media_id"])
        _, snapshot = await runner.submit_and_snapshot(inputs.InsertEmergency(station=station, media=media))
        on_air = _station(snapshot, station)["on_air"] or {}
        return ok(
            {
                "status": "emergency_activated",
                "preempted": True,
                "transition_type": "immediate",
                "source_id": on_air.get("source_id"),
            }
        )

    override_body = _schema(
        {
            "station_id": _ID,
            "source_id": _ID,
            "source_type": {"enum": ["media", "webstream", "live"]},
            "mount_id": _ID,
            "transition_type": _TRANSITION,
            "name": _ID,
        },
        ("station_id", "source_id"),
    )

    @route("/api/v1/priority/override", ["POST"])
    async def start_override() -> Response:
        body = await _body(override_body)
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
        state = _station(snapshot, station)
        if isinstance(given, inputs.HandOver):
            source_id = body["source_id"]  # a live override's source is the DJ's session
        else:
            source_id = next(
                s.get("source_id") for s in reversed(state["ladder"]) if s.get("name") == given.name
            )
        return ok(
            {
                "status": "override_activated",
                "preempted": any(e.event.TYPE in ("priority.override", "live.handover") for e in emitted),
                "transition_type": "preempt" if transition == "immediate" else transition,
                "requires_fade": transition == "faded",
                "source_id": source_id,
            }
        )

    @route("/api/v1/priority/<source_id>", ["DELETE"])
    async def release_priority(source_id: str) -> Response:
        body = {**request.args, **(await _body(None, optional=True))}
        stations = (
            [station_of(body, required=True)]
            if "station_id" in body
            else [s.key for s in service.scenario.stations]
        )
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
            on_air = _station(snapshot, station)["on_air"] or {}
            released: dict[str, Any] = {"status": "released", "transition_type": _transition_of(emitted)}
            if on_air.get("source_id"):
                released["next_source_id"] = on_air["source_id"]
            released["next_priority"] = on_air.get("priority")
            return ok(released)
        raise InputRejected("not_found", f"no priority source '{source_id}'")  # pragma: no cover

    # -- live ---------------------------------------------------------------------------------

    handover_body = _schema(
        {
            "session_id": _ID,
            "station_id": _ID,
            "mount_id": _ID,
            "user_id": _ID,
            "priority": {"enum": [1, 2]},
            "immediate": {"type": "boolean"},
        },
        ("session_id", "station_id", "priority"),
    )

    @route("/api/v1/live/sessions/handover", ["POST"])
    async def live_handover() -> Response:
        body = await _body(handover_body)
        station = station_of(body, required=True)
        before = (await station_state(station))["on_air"]
        transition = "immediate" if body.get("immediate") else "faded"
        emitted, snapshot = await runner.submit_and_snapshot(
            inputs.HandOver(
                station=station,
                session=body["session_id"],
                priority=int(body["priority"]),
                transition=transition,
            )
        )
        after = _station(snapshot, station)["on_air"]
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

    @route("/api/v1/live/sessions/<session_id>/handover", ["DELETE"])
    async def live_release(session_id: str) -> Response:
        for station in service.scenario.stations:
            state = await station_state(station.key)
            if any(dj["session_id"] == session_id for dj in state["djs"]):
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

    @route("/api/v1/webstreams/<webstream_id>/failover", ["POST"])
    async def webstream_failover(webstream_id: str) -> Response:
        key = directory.webstream(webstream_id)
        await runner.submit(inputs.ForceFailover(webstream=key))
        return ok(await webstream_state(key))

    @route("/api/v1/webstreams/<webstream_id>/reset", ["POST"])
    async def webstream_reset(webstream_id: str) -> Response:
        key = directory.webstream(webstream_id)
        await runner.submit(inputs.ResetWebstream(webstream=key))
        return ok(await webstream_state(key))

    skip_body = _schema({"station_id": _ID, "mount_id": _ID})

    @route("/api/v1/playout/skip", ["POST"])
    async def skip() -> Response:
        body = await _body(skip_body, optional=True)
        await runner.submit(inputs.Skip(station=station_of(body, required=False)))
        return ok({"status": "skipped"})

    # -- simulation only ----------------------------------------------------------------------

    connect_body = _schema(
        {
            "dj": _ID,
            "station_id": _ID,
            "mount_id": _ID,
            "source_ip": _ID,
            "transition": _TRANSITION,
            "priority": {"enum": [1, 2]},
        },
        ("dj",),
    )

    @route("/api/v1/sim/djs/connect", ["POST"])
    async def dj_connect() -> Response:
        body = await _body(connect_body)
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

    disconnect_body = _schema({"dj": _ID, "station_id": _ID}, ("dj",))

    @route("/api/v1/sim/djs/disconnect", ["POST"])
    async def dj_disconnect() -> Response:
        body = await _body(disconnect_body)
        station = station_of(body, required=False)
        emitted = await runner.submit(inputs.DisconnectDj(station=station, dj=directory.dj(body["dj"])))
        return ok({"status": "disconnected", "events": _wire(emitted)})

    url_body = _schema({"reason": {"enum": list(typing.get_args(events.FailoverReason))}})

    @route("/api/v1/sim/webstreams/<webstream_id>/urls/<int:index>/<any(down, up):change>", ["POST"])
    async def webstream_url(webstream_id: str, index: int, change: str) -> Response:
        body = await _body(url_body, optional=True)
        key = directory.webstream(webstream_id)
        if change == "down":
            given: inputs.Input = inputs.UrlDown(
                webstream=key, url=index, reason=body.get("reason", "connection_timeout")
            )
        else:
            given = inputs.UrlUp(webstream=key, url=index)
        await runner.submit(given)
        return ok(await webstream_state(key))

    advance_body = _schema({"by": {"type": ["string", "number"]}}, ("by",))

    @route("/api/v1/sim/advance", ["POST"])
    async def advance() -> Response:
        body = await _body(advance_body)
        try:
            by_ms = parse_duration(body["by"])
        except ValueError:
            raise BadRequest("invalid_request", f"by: {body['by']!r} is not {DURATION_HINT}") from None
        if by_ms > MAX_ADVANCE_MS:
            raise BadRequest("invalid_request", "by: at most 7d at a time")
        emitted = await runner.advance(by_ms)
        snapshot = await runner.snapshot()
        return ok({"station_time": snapshot["station_time"], "events": _wire(emitted)})

    return blueprint


def _wire(emitted: list[Emitted]) -> list[dict[str, Any]]:
    return [wire.to_message(e.event) for e in emitted]


def _transition_of(emitted: list[Emitted]) -> str:
    for item in emitted:
        if isinstance(item.event, events.LiveHandover):
            return item.event.transition_type
    return "immediate"


def _station(snapshot: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in snapshot["stations"] if s["key"] == key)


def _source_info(source: dict[str, Any] | None) -> dict[str, Any] | None:
    if not source:
        return None
    source_type = {"automation": "media", "override": "media"}.get(source["kind"], source["kind"])
    if "webstream_id" in source:
        source_type = "webstream"
    return {
        "priority": source["priority"],
        "source_type": source_type,
        "source_id": source.get("source_id", ""),
    }
