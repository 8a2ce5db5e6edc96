"""Hypercorn and the station in one trio nursery, with a clean shutdown (server.shutdown)."""

import logging
import socket
from functools import partial

import attrs
import hypercorn.config
import hypercorn.trio
import trio

from playout import first_leaf

from . import accesslog
from .app import create_app
from .hub import INTERNAL_ERROR
from .service import ServingProcess
from .shutdown import GRACEFUL_SECONDS
from .transport import hypercorn_cycles, hypercorn_eof, hypercorn_errors, internals
from .transport.socket_writer import MAX_CLIENT_MESSAGE, with_socket_writers
from .transport.unread_bodies import read_request_bodies

log = logging.getLogger("grimnir_sim.server")
LISTEN_BACKLOG = 1024
"""Hypercorn's default, 100, overflows when hundreds connect at once (they then retry after 1 s)."""


@attrs.define
class RunningServer:
    """A served station: its base URL, and :meth:`stop` for a graceful shutdown."""

    service: ServingProcess
    url: str
    port: int
    _shutdown: trio.Event
    _stopped: trio.Event = attrs.Factory(trio.Event)

    @property
    def events_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/api/v1/events"

    async def stop(self, code: int | None = None) -> None:
        """Refuse newcomers (503) and close every WebSocket with ``code`` (None: as the profile's
        streams end when the server stops, 1001 in the documented one); after the drain window
        (server.shutdown), close the listeners and stop serving."""
        self.service.stop_admitting()
        self.service.hub.close_all(code)
        await self.service.shutdown.drain(self.service.hub.__len__)
        self._shutdown.set()
        await self._stopped.wait()


async def serve(
    service: ServingProcess,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    task_status=trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until :meth:`RunningServer.stop`; ``task_status.started`` gets the RunningServer."""
    checked = internals.startup_check()  # (warns once when a piece below, or the fast path, is off)
    if checked.offers(internals.ERROR_BODIES):
        hypercorn_errors.install()
    if checked.offers(internals.CYCLES):
        hypercorn_cycles.install()
    if checked.offers(internals.EOF_CLOSE):
        hypercorn_eof.install()
    config = hypercorn.config.Config()
    listener = _listening_socket(host, port, service.settings.send_timeout_seconds)
    config.bind = [f"fd://{listener.detach()}"]  # Hypercorn owns the descriptor from here
    config.graceful_timeout = GRACEFUL_SECONDS
    config.backlog = LISTEN_BACKLOG
    config.accesslog = None
    config.errorlog = log
    config.websocket_ping_interval = None  # the protocol's heartbeat is the {"type":"ping"} message
    config.websocket_max_message_size = MAX_CLIENT_MESSAGE
    app = create_app(service)
    app = read_request_bodies(app, forward_at_most=app.config["MAX_CONTENT_LENGTH"])
    if service.settings.access_log:  # only then: without the flag, nothing pays for logging
        app = accesslog.with_access_log(app, service.hub)
    shutdown = trio.Event()
    app = with_socket_writers(app)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(service.vitals.run)  # real time: loop passes, the collector policy
        async with trio.open_nursery() as serving:
            binds = await serving.start(
                partial(hypercorn.trio.serve, app, config, shutdown_trigger=shutdown.wait, mode="asgi")
            )
            url = binds[0]
            running = RunningServer(service, url, int(url.rsplit(":", 1)[1]), shutdown)
            nursery.start_soon(_stop_on_failure, running)
            task_status.started(running)
        nursery.cancel_scope.cancel()  # Hypercorn has stopped: so can the vitals
    running._stopped.set()
    if service.failure is not None:
        raise ServiceFailed(f"the station stopped: {first_leaf(service.failure)!r}") from service.failure


class ServiceFailed(Exception):
    """The background work (station, relay, heartbeat) failed; the server has closed everything."""


async def _stop_on_failure(running: RunningServer) -> None:
    await running.service.failed.wait()
    log.critical(
        "the station stopped (%r); closing every client (1011) and stopping", running.service.failure
    )
    await running.stop(INTERNAL_ERROR)


def _listening_socket(host: str, port: int, send_timeout_seconds: float) -> socket.socket:
    """A bound TCP socket whose connections give up on data unacknowledged for the send timeout.

    The events route's SocketWriter gives up on a socket that takes nothing for
    the send timeout; TCP_USER_TIMEOUT, which accepted sockets inherit, does the
    same in the kernel for every connection, including the REST ones whose
    writes Hypercorn shields from cancellation.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(send_timeout_seconds * 1000))
        listener.bind((host, port))
    except BaseException:
        listener.close()
        raise
    return listener
