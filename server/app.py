"""The Quart-Trio application: assembles the endpoints and runs the station in the app's nursery.

The station runs in the app's own nursery (started before serving), so serving
the app with Hypercorn, or opening it with Quart's test client, runs the station.
Every endpoint is declared in :mod:`server.api`; the handlers of :mod:`server.event_stream`
(``GET /api/v1/events``), :mod:`server.reads` and :mod:`server.control` are bound to
those declarations here. On an edge every other path is a 307 to the station.
"""

import functools
import logging
from collections.abc import Callable

import trio
from quart import Response, has_websocket_context, redirect, request, websocket
from quart_cors import cors_exempt
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as NoSuchPath

from . import api
from .control import bind_control
from .cors import with_cors
from .directory import NotFound
from .event_stream import events
from .reads import bind_reads, bind_station_reads
from .relay.follower import station_location
from .reload import watch_scenario
from .responses import error, refused
from .rest.go_wire import go_framework_refusal
from .rest.routes import Routes
from .service import EdgeService, ReplayService, ServingProcess, StationService
from .shutdown import SHUTTING_DOWN
from .transport import internals
from .transport.one_task_websocket import OneTaskWebsocketConnection

log = logging.getLogger("grimnir_sim.server")
ROUTING_REFUSALS = {"grimnir": go_framework_refusal}
"""A wire profile's answers to an unknown path or a wrong method (status, Allow → response or None)."""


class _App(QuartTrio):
    async def make_default_options_response(self) -> Response:
        """OPTIONS on a path: 204 with Allow (Quart's own is a 200 with an empty text/html body)."""
        response = await super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        response.headers.pop("Content-Length", None)  # none on a 204 (RFC 9110)
        return response


REPLAY_SERVES_NO_STATION = (
    "no such path on a replay (serve --replay): it has no station to read or control, and serves only "
    f"{api.EVENTS.path}, {api.HEALTH.path}, {api.OPENAPI.path} and {api.SIM_SERVER.path}"
)


def create_app(service: StationService | EdgeService | ReplayService) -> QuartTrio:
    """The app of a station process (the default), an edge process (``--role edge``) or a replay
    (``--replay``: the events, and what every process serves)."""
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

    @app.before_websocket
    async def no_such_stream() -> None:
        """An upgrade to a path with no WebSocket endpoint: 404, like a plain request to an unknown path.

        Werkzeug would answer 400 for a path that serves plain HTTP, and quart_cors's own hook,
        which runs after this one, would refuse any upgrade without a view (no Origin, no
        exemption to find) with 400 before the routing failure is even raised.
        """
        if websocket.routing_exception is not None:
            raise NoSuchPath(f"no WebSocket endpoint at this path; the event stream is {api.EVENTS.path}")

    @app.before_request
    async def refuse_while_stopping() -> Response | None:
        return _stopping_refusal(service, request.routing_exception)

    @app.before_websocket
    async def refuse_upgrades_while_stopping() -> Response | None:
        return _stopping_refusal(service, websocket.routing_exception)

    route = Routes(app, service.key, _claimed_station(service))

    # Like the real server, any origin may open the event stream; the token is the gate.
    route.websocket(api.EVENTS)(cors_exempt(functools.partial(events, service)))
    bind_reads(route, service)
    if isinstance(service, StationService):
        bind_station_reads(route, service)
        bind_control(route, service)
    elif isinstance(service, EdgeService):

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

    routing_refusal = ROUTING_REFUSALS.get(service.settings.profile)

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        """Unknown paths, wrong methods, oversized bodies: JSON like every other error (a wire profile's
        server may answer what no route serves its own way: :data:`ROUTING_REFUSALS`)."""
        if routing_refusal is not None:
            answer = routing_refusal(exc.code or 500, dict(exc.get_headers()).get("Allow"))
            if answer is not None:
                return answer
        code = (exc.name or "error").lower().replace(" ", "_")
        detail = exc.description or code
        if isinstance(service, ReplayService) and exc.code == 404:
            detail = REPLAY_SERVES_NO_STATION
        response = error(exc.code or 500, code, detail)
        # The exception's own headers but its HTML content type: Allow on a 405 (RFC 9110 asks for it).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    if routing_refusal is not None:

        @app.after_request
        async def no_cors_on_routing_refusals(response: Response) -> Response:
            """The profile's server has no CORS: its router's own answers carry no ``Access-Control-*``
            (this hook runs after quart_cors's, registered later)."""
            if request.url_rule is None:
                names = {name for name, _ in response.headers.items()}
                for name in (n for n in names if n.lower().startswith("access-control-")):
                    del response.headers[name]
            return response

    @app.errorhandler(Exception)
    async def defect(exc: Exception) -> Response:
        """A defect met by one request, or by an upgrade before it is accepted: a JSON 500 for it
        alone; it is logged and counted."""
        if has_websocket_context():
            service.connection_failures["websocket"] += 1
            log.error("WebSocket %s failed", websocket.path, exc_info=exc)
        else:
            service.connection_failures["rest"] += 1
            log.error("%s %s failed", request.method, request.path, exc_info=exc)
        return error(500, "internal_error", "the server failed on this request; the failure is logged")

    return with_cors(app, service.settings.cors_origins)


async def _background_work(
    service: StationService | EdgeService | ReplayService, *, task_status=trio.TASK_STATUS_IGNORED
) -> None:
    """The station (or the stream an edge follows, or a replay), the relay, the harbor and the hub's tasks.

    They run in the app's nursery, where a failure would only be logged by
    Hypercorn while it went on serving a station that never speaks; instead the
    failure is handed to the service, and ``serve`` closes every client (1011)
    and ends the process with an error.
    """
    try:
        async with trio.open_nursery() as nursery:
            if isinstance(service, EdgeService):
                await nursery.start(service.follower.run, service.hub.publish_encoded)
            elif isinstance(service, ReplayService):
                await nursery.start(service.replay.run, service.hub.publish_encoded)
            else:
                await nursery.start(service.runner.run)
                if service.relay is not None:
                    nursery.start_soon(service.relay.run)
                if service.harbor is not None:
                    await nursery.start(functools.partial(service.harbor.serve, port=service.harbor_port))
                if service.reload_from is not None:
                    nursery.start_soon(watch_scenario, service, service.reload_from)
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


def _claimed_station(service: StationService | EdgeService | ReplayService) -> Callable[[str], str | None]:
    """The key of the station a token's station_id claim names, or None when this server runs no such one."""

    def station_key(claimed: str) -> str | None:
        if not isinstance(service, StationService):
            return None  # (an edge serves no control endpoints: they redirect to the station)
        try:
            return service.directory.station(claimed)
        except NotFound:
            return None

    return station_key
