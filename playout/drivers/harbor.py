"""The harbor: an Icecast-compatible source receiver, so real encoders can go live.

A source client (ffmpeg, BUTT, Mixxx, liquidsoap…) connects with ``PUT /mount``
or the legacy ``SOURCE /mount`` and HTTP Basic auth. The user is the DJ's id
(or Icecast's usual ``source``) and the password is the DJ's ``password`` from
the scenario. The mount must be one of a station's mounts (by path). The harbor
answers ``200`` and reads the audio, counting and discarding it, until the client
leaves or sends nothing for ``source_timeout``; connecting is a DJ connecting
(``dj_connect`` with the client's real address, then the ladder decides) and
leaving is the DJ disconnecting (``dj_disconnect`` with the real duration).

``GET /admin/metadata?mode=updinfo&song=Artist - Title&mount=/live`` with the same
credentials sets what the live DJ is playing (a new ``now_playing``).

Refusals: 400 for a request that is not one, 401 with ``WWW-Authenticate: Basic``
for wrong credentials, 404 for an unknown mount, 408 / 431 for a request head
not finished in time / too long, 409 for a mount or DJ already connected (or an
input the station refuses), 429 for a client or mount locked out after failed
logins, 503 beyond ``max_sources`` or beyond :class:`HarborLimits`'
unauthenticated connections, and 503 with ``Retry-After`` for every request once
the server has begun to stop (:meth:`Harbor.stop_admitting`; sources already
connected stay until the station stops).

Every connection is its own task and nothing it does reaches the task that
serves the harbor (and, above it, the station): an unexpected exception closes
that connection, is logged once and counted in :attr:`Harbor.counters`.

The protocol's pieces live beside it: reading a request head, HTTP Basic logins
and the refusals in ``icecast.py``, the caps on connections not yet logged in
in ``harbor_admission.py``.
"""

import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import attrs
import trio

from ..protocol import inputs
from ..scenario.model import Dj, HarborLimits, HarborSettings, Mount, Scenario, Station
from ..station.lockouts import Lockouts
from ..station.outcomes import Emitted, InputRejected
from .harbor_admission import Pending, client_key
from .icecast import (
    SOURCE_METHODS,
    ClientGone,
    Credentials,
    Refused,
    Request,
    basic_login,
    read_head,
    respond,
    unauthorized,
)

log = logging.getLogger("grimnir_sim.harbor")

READ_SIZE = 65_536
LEAVE_SECONDS = 5.0
"""How long a departing source's dj_disconnect may wait for the station."""
LEAVE_WHILE_STOPPING_SECONDS = 0.25
"""The same once the server is stopping (its station may have stopped taking inputs)."""

Submit = Callable[[inputs.Input], Awaitable[list[Emitted]]]


@attrs.define
class HarborCounters:
    """What the harbor has seen since it started; plain counts, for the state and the server's figures."""

    connections: int = 0
    """Connections accepted."""
    over_capacity: int = 0
    """Answered 503 at once: too many unauthenticated connections (in all or from that address)."""
    refused: int = 0
    """Answered with a refusal (4xx, 5xx), the over-capacity ones not included."""
    auth_failures: int = 0
    """Logins with credentials that match no DJ."""
    lockouts: int = 0
    """Lockouts begun (of an address or a mount)."""
    locked_out: int = 0
    """Logins refused with 429 because their address or mount was locked out."""
    failures: int = 0
    """Connections closed by an unexpected exception in the harbor (each logged once)."""

    def as_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


@attrs.define
class SourceConnection:
    """A connected source client: who, where, and how much audio it has sent."""

    dj: Dj
    station: Station
    mount: Mount
    source_ip: str
    connected_at: float
    session_id: str | None = None
    """None until the station has accepted the DJ (the mount is held from before)."""
    bytes_received: int = 0
    content_type: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "dj": self.dj.key,
            "username": self.dj.username,
            "station_id": self.station.id,
            "mount": self.mount.path,
            "session_id": self.session_id,
            "source_ip": self.source_ip,
            "content_type": self.content_type,
            "bytes_received": self.bytes_received,
            "connected_seconds": round(trio.current_time() - self.connected_at, 3),
        }


class Harbor:
    def __init__(
        self,
        scenario: Scenario,
        submit: Submit,
        settings: HarborSettings | None = None,
        limits: HarborLimits | None = None,
    ) -> None:
        self.scenario = scenario
        self.settings = settings or scenario.harbor
        self.limits = limits or self.settings.limits
        self._submit = submit
        self._mounts = {m.path: (station, m) for station in scenario.stations for m in station.mounts}
        self._credentials = Credentials(scenario.djs.values())
        self._pending = Pending(self.limits)
        self._lockouts = Lockouts.from_limits(self.limits)
        self.counters = HarborCounters()
        self.sources: dict[str, SourceConnection] = {}
        """Connected sources by mount path; a mount is held here from before its first await."""
        self.port: int | None = None
        self._bound: list[trio.SocketListener] | None = None
        """The listeners :meth:`bind` took ahead of :meth:`serve`, if it did."""
        self._stopping_retry_after: int | None = None

    def stop_admitting(self, *, retry_after: int) -> None:
        """The server is stopping: every request from now on is refused (503, ``Retry-After``)."""
        self._stopping_retry_after = retry_after

    def snapshot(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "max_sources": self.settings.max_sources,
            "sources": [source.describe() for source in self.sources.values()],
            "pending": self._pending.total,
            "locked": self._lockouts.locked(trio.current_time()),
            "counters": self.counters.as_dict(),
        }

    def bind(self, port: int | None = None) -> None:
        """Take the listening sockets now (``host:port``, the settings' port unless given), so a
        port in use or a host that does not resolve is an OSError before anything is served.

        Called outside trio (it runs trio for the moment); the listeners serve in a later run.
        """
        self._bound = trio.run(self._listen, port)

    async def _listen(self, port: int | None) -> list[trio.SocketListener]:
        wanted = self.settings.port if port is None else port
        return await trio.open_tcp_listeners(wanted or 0, host=self.settings.host)

    async def serve(self, *, port: int | None = None, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Listen on ``host:port`` (the settings' unless given; or what :meth:`bind` took) until cancelled."""
        listeners, self._bound = self._bound or await self._listen(port), None
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started(self.port)
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, stream: trio.SocketStream) -> None:
        """One connection, isolated: whatever goes wrong in it closes it and nothing else."""
        self.counters.connections += 1
        try:
            try:
                await self._connection(stream)
            finally:
                await stream.aclose()
        except Exception:  # (a cancellation, the harbor's shutdown, is not an Exception)
            self.counters.failures += 1
            log.exception("a harbor connection failed and was closed")

    async def _connection(self, stream: trio.SocketStream) -> None:
        try:
            peer = stream.socket.getpeername()[0]
        except OSError:
            return  # reset before the harbor looked at it (a health check, a port scan)
        client = client_key(peer)
        slot = self._pending.take(client)
        if slot is None:
            self.counters.over_capacity += 1
            await respond(stream, 503, "Too many connections")
            return
        with slot:
            try:
                request = await self._read_head(stream)
                if self._stopping_retry_after is not None:
                    raise Refused(
                        503, "Server shutting down", {"Retry-After": str(self._stopping_retry_after)}
                    )
                if request.method in SOURCE_METHODS:
                    dj = self._authenticate(request, client, request.path)
                    slot.release()
                    await self._source(stream, request, dj, peer)
                elif request.method == "GET" and request.path == "/admin/metadata":
                    dj = self._authenticate(request, client, request.query.get("mount", [""])[0])
                    slot.release()
                    await self._metadata(stream, request, dj)
                else:
                    raise Refused(
                        405 if request.path in self._mounts else 404, "Not a source or metadata request"
                    )
            except Refused as refused:
                self.counters.refused += 1
                await respond(stream, refused.status, refused.reason, refused.headers)
            except (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # the client went away; whatever it had started is cleaned up where it started

    async def _read_head(self, stream: trio.SocketStream) -> Request:
        """The connection's request head, within this harbor's limits."""
        return await read_head(stream, self.limits)

    def _authenticate(self, request: Request, client: str, mount_path: str) -> Dj:
        """The DJ of the request's credentials, within the failed-login limits of ``client`` and the mount."""
        mount = mount_path if mount_path in self._mounts else None
        now = trio.current_time()
        wait = self._lockouts.refusal(client, mount, now)
        if wait is not None:
            self.counters.locked_out += 1
            raise Refused(429, "Too Many Requests", {"Retry-After": str(math.ceil(wait))})
        dj = self._credentials.match(*basic_login(request))
        if dj is None:
            self.counters.auth_failures += 1
            for lockout in self._lockouts.failed(client, mount, now):
                self.counters.lockouts += 1
                log.warning(
                    "harbor: %s %s locked out for %gs after failed logins",
                    lockout.kind,
                    lockout.key,
                    lockout.until - now,
                )
            raise unauthorized()
        self._lockouts.succeeded(client)
        return dj

    async def _apply(self, given: inputs.Input) -> list[Emitted]:
        """Submit one input; an input the station refuses is a 409 for this client only."""
        try:
            return await self._submit(given)
        except InputRejected as exc:
            raise Refused(409, exc.detail) from None

    @contextlib.contextmanager
    def _holding(self, source: SourceConnection) -> Iterator[None]:
        """Hold ``source``'s mount (and its DJ) from before the first await until it leaves.

        The checks and the claim are one step with no await between them, so two
        clients can never both pass them; and only the holder lets the mount go.
        """
        path = source.mount.path
        if path in self.sources:
            raise Refused(409, f"Mount {path} is in use")
        if any(held.dj.key == source.dj.key for held in self.sources.values()):
            raise Refused(409, f"{source.dj.username} is already connected")
        if len(self.sources) >= self.settings.max_sources:
            raise Refused(503, "Too many sources connected")
        self.sources[path] = source
        try:
            yield
        finally:
            del self.sources[path]

    async def _source(self, stream: trio.SocketStream, request: Request, dj: Dj, peer: str) -> None:
        found = self._mounts.get(request.path)
        if found is None:
            raise Refused(404, f"No mount {request.path}")
        station, mount = found
        source = SourceConnection(
            dj,
            station,
            mount,
            peer,
            trio.current_time(),
            content_type=request.headers.get("Content-Type", ""),
        )
        with self._holding(source):
            emitted = await self._apply(
                inputs.ConnectDj(station=station.key, dj=dj.key, mount=mount.key, source_ip=peer)
            )
            source.session_id = next(e.event.session_id for e in emitted if e.event.TYPE == "dj_connect")  # type: ignore[attr-defined]
            log.info("%s connected to %s from %s", dj.username, mount.path, peer)
            try:
                await stream.send_all(b"HTTP/1.0 200 OK\r\nServer: grimnir-sim harbor\r\n\r\n")
                source.bytes_received += len(request.leftover)
                await self._read_audio(stream, source)
            finally:
                # Leaving is news even when the reason is a cancellation (server shutdown).
                # (InputRejected: already disconnected through the control API.) Once the server
                # is stopping the station may no longer take inputs: wait only a moment then.
                stopping = self._stopping_retry_after is not None
                bound = LEAVE_WHILE_STOPPING_SECONDS if stopping else LEAVE_SECONDS
                leaving = trio.move_on_after(bound)
                with trio.CancelScope(shield=True), leaving, contextlib.suppress(InputRejected):
                    await self._submit(inputs.DisconnectDj(station=station.key, dj=dj.key))
                log.info("%s left %s after %d bytes", dj.username, mount.path, source.bytes_received)

    async def _read_audio(self, stream: trio.SocketStream, source: SourceConnection) -> None:
        timeout = self.settings.source_timeout_ms / 1000
        while True:
            with trio.move_on_after(timeout):
                chunk = await stream.receive_some(READ_SIZE)
                if not chunk:
                    return  # the encoder stopped
                source.bytes_received += len(chunk)  # counted, never stored
                continue
            log.info("%s sent no audio for %gs: disconnecting", source.dj.username, timeout)
            return

    async def _metadata(self, stream: trio.SocketStream, request: Request, dj: Dj) -> None:
        if request.query.get("mode", [""])[0] != "updinfo":
            raise Refused(400, "Unsupported mode")
        song = request.query.get("song", [""])[0]
        mount_path = request.query.get("mount", [""])[0]
        source = self.sources.get(mount_path) or next(
            (s for s in self.sources.values() if s.dj.key == dj.key), None
        )
        if source is None or source.dj.key != dj.key:
            raise Refused(400, "Source does not exist")
        artist, separator, title = song.partition(" - ")
        if not separator:
            artist, title = "", song
        await self._apply(
            inputs.UpdateMetadata(
                station=source.station.key, dj=dj.key, title=title.strip(), artist=artist.strip()
            )
        )
        body = (
            b'<?xml version="1.0"?>\n<iceresponse><message>Metadata update successful</message>'
            b"<return>1</return></iceresponse>\n"
        )
        await stream.send_all(
            b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
