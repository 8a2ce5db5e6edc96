"""The Quart-Trio application: ``GET /api/v1/events`` and the read-only REST endpoints.

The station runs in the app's own nursery (started before serving), so serving
the app with Hypercorn, or opening it with Quart's test client, runs the station.
Every endpoint is declared in :mod:`server.api`; the handlers here and in
:mod:`server.control` are bound to those declarations.
"""

import functools
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trio
from quart import Response, redirect, request, send_from_directory, websocket
from quart_cors import cors, cors_exempt
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from playout import StationView, events

from . import api
from .auth import bearer_token, verify
from .control import bind_control
from .directory import NotFound
from .hub import GOING_AWAY, INTERNAL_ERROR, TOO_SLOW, Subscriber, parse_types
from .relay.follower import station_location
from .responses import error, ok, refused, unauthorized
from .rest.routes import Routes
from .service import EdgeService, ServerSettings, ServingProcess, StationService
from .shutdown import SHUTTING_DOWN
from .transport import internals
from .transport.one_task_websocket import ClientGone, OneTaskWebsocketConnection
from .transport.socket_writer import socket_writer_from

log = logging.getLogger("grimnir_sim.server")
DASHBOARD = Path(__file__).parent / "dashboard"
CLOSE_REASONS = {
    GOING_AWAY: "server shutting down",
    TOO_SLOW: "client too slow: events were lost",
    INTERNAL_ERROR: "server error: the station stopped",
}


class _App(QuartTrio):
    async def make_default_options_response(self) -> Response:
        """OPTIONS on a path: 204 with Allow (Quart's own is a 200 with an empty text/html body)."""
        response = await super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        response.headers.pop("Content-Length", None)  # none on a 204 (RFC 9110)
        return response


def create_app(service: StationService | EdgeService) -> QuartTrio:
    """The app of a station process (the default), or of an edge process (``--role edge``)."""
    app = _App("grimnir_sim")
    # No redirects to a "cleaner" path (Werkzeug's 308, with an HTML body): /a//b, or an id that
    # decodes to "/" (%2F), is simply no such path, a JSON 404 like every other.
    app.url_map.merge_slashes = False
    if internals.startup_check().offers(internals.ONE_TASK):
        app.asgi_websocket_class = OneTaskWebsocketConnection
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["grimnir_sim"] = service

    @app.before_serving
    async def start() -> None:
        await app.nursery.start(_background_work, service)

    @app.before_request
    async def refuse_while_stopping() -> Response | None:
        return _stopping_refusal(service, request.routing_exception)

    @app.before_websocket
    async def refuse_upgrades_while_stopping() -> Response | None:
        return _stopping_refusal(service, websocket.routing_exception)

    route = Routes(app, service.key, _claimed_station(service))

    @route.websocket(api.EVENTS)
    @cors_exempt  # like the real server, any origin may open the stream; the token is the gate
    async def events() -> Response | None:
        # Every refusal happens here, before the upgrade, and costs a dict lookup or a JWT check.
        ip = websocket.remote_addr or "unknown"
        refusal = service.admission.check(ip)
        if refusal is not None:
            return refused(refusal)
        station = _stream_station(service)
        if isinstance(station, Response):  # 401 (the token), 403 or 404 (its station_id)
            return station
        settings = service.settings
        snapshot = _snapshot_wanted(settings.snapshot_by_default)
        if snapshot is None:
            return error(400, "invalid_snapshot", "snapshot takes true, false, 1 or 0")
        service.admission.admit(ip)
        try:
            # Taken over before accepting, so the 101 response goes out through the writer too;
            # subscribed after, so no event frame can reach the socket before the 101.
            writer = socket_writer_from(
                websocket.scope,
                max_waiting=settings.queue_size,
                send_timeout=settings.send_timeout_seconds,
                spawn=service.hub.spawn,
            )
            await websocket.accept()
            subscriber = service.hub.subscribe(
                parse_types(_query_value("types")),
                writer,
                heartbeat=settings.heartbeat_seconds,
                snapshot=snapshot,
                station=station,
            )
            try:
                if writer is None:
                    code = await _stream(subscriber, settings)
                else:
                    # The fast path: the hub writes this subscriber's frames itself; this task only
                    # reads (and drops) what the client sends until the hub ends the connection.
                    # (Inline, not a function: a frame less held by each of 10,000 connections.)
                    with subscriber.cancel_scope:
                        while True:
                            await websocket.receive()  # a "pong" or anything: the protocol needs none
                    if subscriber.close_code == TOO_SLOW:
                        writer.discard_waiting()  # its close frame goes right after the frame being written
                    code = subscriber.close_code or 1000
            finally:
                service.hub.unsubscribe(subscriber)
        except Exception as exc:  # a defect of ours, met by this connection only: 1011 for it alone
            service.connection_failures["websocket"] += 1
            log.error("a WebSocket connection failed", exc_info=exc)
            code = INTERNAL_ERROR
        finally:
            service.admission.release()
        # The close frame may wait behind a slow client's unread data; the station does not.
        await websocket.close(code, CLOSE_REASONS.get(code, ""))
        return None

    @route(api.HEALTH)
    async def health() -> Response:
        return ok({"status": "ok"})

    @route(api.OPENAPI)
    async def openapi() -> Response:
        return Response(api.openapi_json(), content_type="application/json")

    @route(api.SIM_SERVER)
    async def sim_server() -> Response:
        """The serving process, not the station: connections, the loop's stalls, the collector."""
        return ok(
            {
                "connections": len(service.hub),
                "on_the_fast_path": service.hub.socket_writers(),
                "fast_path": internals.startup_check().as_json(),
                "events_published": service.hub.published,
                "events_dropped": service.hub.dropped,
                "last_published_monotonic": service.hub.last_published_at,
                "connection_failures": dict(service.connection_failures),
                "harbor": _harbor_figures(service),
                "relay": _relay_figures(service),
                **service.vitals.snapshot(),
            }
        )

    if isinstance(service, StationService):

        @app.get("/")
        async def dashboard() -> Response:
            return await send_from_directory(DASHBOARD, "index.html")

        @app.get("/dashboard/<any('dashboard.js', 'dashboard.css'):name>")
        async def dashboard_file(name: str) -> Response:
            return await send_from_directory(DASHBOARD, name)

        async def public_now_playing() -> Response:
            wanted = request.args["station_id"]
            snapshot = await service.runner.snapshot()
            station = next((s for s in snapshot.stations if wanted in (s.id, s.key)), None)
            if station is None:
                return error(404, "station_not_found", f"no station '{wanted}'")
            return ok(public_now_playing_body(station))

        # The real server answers both paths alike; its own dashboard reads the analytics one.
        route(api.PUBLIC_NOW_PLAYING)(public_now_playing)
        route(api.ANALYTICS_NOW_PLAYING)(public_now_playing)

        @route(api.SIM_STATE)
        async def sim_state() -> Response:
            state = (await service.runner.snapshot()).as_json()
            state["clock"] = {
                "speed": service.runner.speed,
                "manual": service.runner.manual_clock,
                "scenario_start": service.scenario.clock.stamp(0),
                **service.runner.clock_view(),
            }
            if service.harbor is not None:
                state["harbor"] = service.harbor.snapshot()
            state["catalog"] = _catalog(service)
            state["clients"] = {
                "connected": len(service.hub),
                "events_published": service.hub.published,
                "events_dropped": service.hub.dropped,
            }
            return ok(state)

        bind_control(route, service)
    else:

        @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "DELETE"])
        @app.route("/<path:path>", methods=["GET", "POST", "DELETE"])
        async def to_the_station(path: str) -> Response:
            """An edge serves the events; everything else is the station's: a 307 to it."""
            station_url = await service.follower.station_url()
            if station_url is None:
                return error(503, "station_unknown", "no station has announced itself on this Redis stream")
            # The path as the client sent it, still percent-encoded: `path` is decoded.
            raw_path = request.scope.get("raw_path") or request.path.encode()
            return redirect(station_location(station_url, raw_path, request.query_string), 307)

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        """Unknown paths, wrong methods, oversized bodies: JSON like every other error."""
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error(exc.code or 500, code, exc.description or code)
        # The exception's own headers but its HTML content type: Allow on a 405 (RFC 9110 asks for it).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    async def defect(exc: Exception) -> Response:
        """A defect met by one request: that request gets a JSON 500; it is logged and counted."""
        service.connection_failures["rest"] += 1
        log.error("%s %s failed", request.method, request.path, exc_info=exc)
        return error(500, "internal_error", "the server failed on this request; the failure is logged")

    return cors(
        app,
        allow_origin=list(service.settings.cors_origins),
        allow_headers=["Authorization", "Content-Type"],
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        max_age=600,
    )


async def _background_work(
    service: StationService | EdgeService, *, task_status=trio.TASK_STATUS_IGNORED
) -> None:
    """The station (or the stream an edge follows), the relay, the harbor and the hub's own tasks.

    They run in the app's nursery, where a failure would only be logged by
    Hypercorn while it went on serving a station that never speaks; instead the
    failure is handed to the service, and ``serve`` closes every client (1011)
    and ends the process with an error.
    """
    try:
        async with trio.open_nursery() as nursery:
            if isinstance(service, EdgeService):
                await nursery.start(service.follower.run, service.hub.publish_encoded)
            else:
                await nursery.start(service.runner.run)
                if service.relay is not None:
                    nursery.start_soon(service.relay.run)
                if service.harbor is not None:
                    await nursery.start(functools.partial(service.harbor.serve, port=service.harbor_port))
            nursery.start_soon(service.hub.run, service.settings.heartbeat_seconds)
            task_status.started()
    except Exception as failure:  # (a cancellation, the normal end, is not an Exception)
        service.fail(failure)
        raise


def _stopping_refusal(service: ServingProcess, routing_exception: Exception | None) -> Response | None:
    """503 ``shutting_down`` for every request once the process has begun to stop (server.shutdown).

    A path or method the server does not have is still 404 or 405: that answer does not change.
    ``Connection: close`` sends a keep-alive client to a fresh connection, past this process.
    """
    if not service.shutdown.begun or routing_exception is not None:
        return None
    response = refused(SHUTTING_DOWN)
    response.headers["Connection"] = "close"
    return response


def _harbor_figures(service: StationService | EdgeService) -> dict[str, int] | None:
    harbor = getattr(service, "harbor", None)
    return None if harbor is None else harbor.counters.as_dict()


def _relay_figures(service: StationService | EdgeService) -> dict[str, Any] | None:
    if isinstance(service, EdgeService):
        follower = service.follower
        last_id = follower.last_id.decode() if follower.last_id else None
        return {
            "role": "edge",
            "stream": follower.stream,
            "received": follower.received,
            "skipped": follower.entries.skipped,
            "skipped_by_reason": follower.entries.skipped_by_reason,
            "last_id": last_id,
        }
    if service.relay is not None:
        relay = service.relay
        return {"role": "station", "stream": relay.stream, "appended": relay.appended, "lost": relay.lost}
    return None


def _stream_station(service: ServingProcess) -> str | Response | None:
    """The station a stream is scoped to (its UUID), None for every station, or the refusal.

    A valid token is needed, in the Authorization header or ``?token=`` (else 401). Its
    ``station_id`` claim, when present, is the scope, and ``?station_id=`` may name that
    station only (else 403 ``station_forbidden``); without a claim, ``?station_id=`` picks
    the scope (404 ``station_not_found`` for a station this server does not run). A
    station process knows its stations by UUID and by key; an edge knows no scenario and
    takes the ids as given, to be matched with the events' ``station_id``.

    A function of its own so the token and its claims are not kept alive, in the
    handler's frame, for as long as the connection lasts.
    """
    token = bearer_token(websocket.headers.get("Authorization")) or _query_value("token")
    claims = verify(service.key, token)
    if claims is None:
        return unauthorized()
    asked = _query_value("station_id")
    if claims.station_id is not None:
        claimed = _station_uuid(service, claims.station_id)
        if claimed is None:
            return error(
                403,
                "station_forbidden",
                f"this token is for station '{claims.station_id}', which this server does not run",
            )
        if asked is not None and _station_uuid(service, asked) != claimed:
            return error(403, "station_forbidden", f"this token may read station '{claims.station_id}' only")
        return claimed
    if asked is None:
        return None
    return _station_uuid(service, asked) or error(404, "station_not_found", f"no station '{asked}'")


def _station_uuid(service: ServingProcess, wanted: str) -> str | None:
    """The UUID of the station ``wanted`` names (a UUID or a key), None if this server runs none such.

    An edge runs no scenario: the id is taken as given, the UUID the events carry.
    """
    if not isinstance(service, StationService):
        return wanted or None
    try:
        return service.scenario.station(service.directory.station(wanted)).id
    except NotFound:
        return None


def _snapshot_wanted(default: bool) -> bool | None:
    """``?snapshot=``: true or 1, false or 0, exactly; absent, the server's default; anything else None."""
    raw = _query_value("snapshot")
    if raw is None:
        return default
    return {"true": True, "1": True, "false": False, "0": False}.get(raw)


def _claimed_station(service: StationService | EdgeService) -> Callable[[str], str | None]:
    """The key of the station a token's station_id claim names, or None when this server runs no such one."""

    def station_key(claimed: str) -> str | None:
        if not isinstance(service, StationService):
            return None  # (an edge serves no control endpoints: they redirect to the station)
        try:
            return service.directory.station(claimed)
        except NotFound:
            return None

    return station_key


def _query_value(name: str) -> str | None:
    """The first value of one query parameter, like ``websocket.args.get(name)``.

    ``websocket.args`` would parse the query once and keep the result (the token
    included) for the connection's lifetime: some 700 bytes for each of 10,000
    clients. This parses it for the moment.
    """
    query = websocket.query_string.decode("latin-1")
    return next((value for key, value in parse_qsl(query, keep_blank_values=True) if key == name), None)


async def _stream(subscriber: Subscriber, settings: ServerSettings) -> int:
    """Quart's path (no socket writer, e.g. the test client): send queued messages one by one.

    Returns the close code when the hub ends the connection; a client that
    disconnects ends this (and the whole handler) with :class:`ClientGone`, or, under
    Quart-Trio's own WebSocket class, cancels it from outside.
    """
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_ignore_client_messages)
            with subscriber.cancel_scope:
                while True:
                    text = await subscriber.next_message()
                    # A frame is sent whole or not at all: the hub's close waits for it, a socket
                    # that accepts nothing for send_timeout does not (the client is too slow).
                    with trio.CancelScope(shield=True) as sending:
                        sending.deadline = trio.current_time() + settings.send_timeout_seconds
                        await websocket.send(text)
                    if sending.cancelled_caught:
                        subscriber.close(TOO_SLOW)
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The reader met the client's disconnect: raised bare, as the one-task connection expects,
        # for Quart-Trio takes a group for a failure of the handler and logs it as an error.
        if group.split(ClientGone)[1] is None:
            raise ClientGone() from None
        raise
    return subscriber.close_code or 1000


async def _ignore_client_messages() -> None:
    """Read and drop whatever the client sends (a "pong", anything): the protocol needs none."""
    while True:
        await websocket.receive()


def _catalog(service: StationService) -> dict[str, Any]:
    """What the dashboard's controls offer: DJs, emergency media (non-rotation tracks), webstream URLs."""
    scenario = service.scenario
    alerts = [t for t in scenario.tracks.values() if not t.rotation] or list(scenario.tracks.values())[:10]
    return {
        "djs": [{"key": dj.key, "username": dj.username} for dj in scenario.djs.values()],
        "emergency_media": [{"key": t.key, "title": t.title} for t in alerts],
        "webstreams": [
            {"key": w.key, "name": w.name, "urls": list(w.urls)} for w in scenario.webstreams.values()
        ],
    }


def public_now_playing_body(station: StationView) -> dict[str, Any]:
    """What is on air, in the real server's ``/public/now-playing`` shape."""
    playing = station.now_playing
    if playing is None:
        return {"status": "idle"}
    is_live = isinstance(playing, events.NowPlayingLive)
    webstream = playing if isinstance(playing, events.NowPlayingWebstream) else None
    track = playing if isinstance(playing, events.NowPlayingMedia) else None
    started = station.since if isinstance(playing, events.NowPlayingWebstream) else playing.starts_at
    media_id = "" if track is None else track.media_id
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.UUID(station.id), f"play/{started}/{media_id}")),
        "station_id": station.id,
        "mount_id": playing.mount_id,
        "media_id": media_id,
        "artist": "" if isinstance(playing, events.NowPlayingWebstream) else playing.artist,
        "title": playing.webstream_name if isinstance(playing, events.NowPlayingWebstream) else playing.title,
        "album": "" if track is None else track.album,
        "started_at": started,
        "ended_at": station.ends_at,
        "status": "playing",
        "type": "live" if is_live else ("webstream" if webstream is not None else "media"),
        "source_type": "live" if is_live else ("media" if station.on_air is None else station.on_air.kind),
        "is_live_dj": is_live,
    }
    if is_live:
        body["session_started_at"] = started
    if webstream is not None:
        body["webstream_id"] = webstream.webstream_id
        body["url"] = webstream.url
    return body
