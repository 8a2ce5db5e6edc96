"""The fan-out's fast path: one ordered, mostly synchronous writer per accepted WebSocket.

Quart's ``websocket.send`` costs each client an await, wsproto framing, a lock and a
shielded scope for every message (55% of the server's CPU in a burst, see
docs/performance.md). Here each event is framed once, by the hub, and the frame is
handed to every client's :class:`SocketWriter`, which writes it to the socket at
once, without awaiting, when the kernel takes it; only what the kernel refuses is
queued, and a bounded queue that overflows drops whole frames (the hub counts the
drops and cuts the client off, exactly as with the in-memory path).

How the writer gets its socket: :func:`with_socket_writers` wraps the ASGI app
Hypercorn serves and tells the events route (through the ASGI scope's
``extensions``) how to take over the connection's write side. Taking over puts a
:class:`SocketWriter` in place of the connection's trio stream inside Hypercorn's
``TCPServer``, so Hypercorn's own writes (the 101 response, a pong, the close frame)
go through the same ordered queue and can never split an event frame. Reads stay
with Hypercorn. Where the connection is not Hypercorn's HTTP/1.1 over a plain
socket (Quart's test client, TLS, HTTP/2) the extension is absent and the route
uses Quart's path; both paths share the hub's rules and its tests.
"""

import contextlib
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from hypercorn.trio.tcp_server import TCPServer

EXTENSION = "grimnir.socket_writer"
DROPPED = "grimnir.dropped"
"""Set in the scope's extensions once :func:`drop_connection` has ended the connection."""
WRITEV_BATCH = 64  # frames per writev(2); far below IOV_MAX
CLOSE_OPCODE_BYTE = b"\x88"  # FIN + opcode 8: an unfragmented server close frame
NO_STATUS = 1005  # RFC 6455 7.4.1: a close frame without a status code
MESSAGE_TOO_BIG = 1009
MAX_CLIENT_MESSAGE = 4 * 1024
"""Bytes one client message may have (Hypercorn's ``websocket_max_message_size``): clients send only
pongs or nothing, and a bigger message, whole or in fragments, gets 1009 and the connection ends."""

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class SocketWriter:
    """The write side of one connection: frames go out in order, and never block the caller.

    ``write_nowait`` (the hub's path) writes what the kernel takes and queues the
    rest; at most ``max_waiting`` whole frames wait, beyond that a frame is refused
    (the caller counts it dropped). ``send_all`` is the trio stream method Hypercorn
    calls for its own bytes: queued behind the frames already waiting, never
    dropped. A short-lived backlog task moves the queue to the socket as it
    becomes writable; a socket that takes nothing for ``send_timeout`` seconds is
    given up on.
    """

    __slots__ = (
        "__weakref__",  # the collector policy checks that a departed connection was freed
        "_flush_scheduled",
        "_head_started",
        "_max_waiting",
        "_progress",
        "_queue",
        "_send_timeout",
        "_spawn",
        "_stream",
        "broken",
        "closing",
        "on_broken",
        "receive_some",
        "socket",
    )  # ten thousand of these: no per-instance dict

    def __init__(
        self,
        stream: trio.SocketStream,
        *,
        max_waiting: int,
        send_timeout: float,
        spawn: Callable[[Callable[[], Awaitable[None]]], None],
    ) -> None:
        self._stream = stream
        self.socket = stream.socket
        self.receive_some = stream.receive_some
        """Reads are the stream's own (no wrapper: a frame less held by every waiting connection)."""
        self._max_waiting = max_waiting
        self._send_timeout = send_timeout
        self._spawn = spawn
        self._queue: list[bytes | memoryview] = []  # a list, not a deque: empty, it allocates nothing
        self._head_started = False
        """The queue's first frame is partly written: it must go out whole, before anything else."""
        self._flush_scheduled = False
        """A backlog task is running: the only one writing queued bytes, so no lock is needed."""
        self._progress: trio.Event | None = None
        """Set when the kernel takes queued bytes (or the writer breaks), for ``send_all`` to wait on."""
        self.closing = 0
        """The code of the close frame Hypercorn has sent, 0 before: no data frame may follow it
        (RFC 6455 5.5.1)."""
        self.broken = False
        """The socket failed, timed out or was closed: writes are discarded from now on."""
        self.on_broken: Callable[[], None] = _nothing
        """Called once when the connection breaks while the fan-out was writing to it."""

    # -- the hub's side --------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Whole frames queued and not yet started (Hypercorn's rare own bytes included)."""
        return len(self._queue) - self._head_started

    def write_nowait(self, frame: bytes) -> bool:
        """Write or queue one frame; False when the queue is full (the frame is dropped)."""
        if self.broken or self.closing:
            return True  # the connection is ending; its handler reports why
        if self._queue and self.waiting >= self._max_waiting:
            return False
        self._write_or_queue(frame)
        if self._queue:
            self._schedule_flush()
        return True

    def detach(self) -> None:
        """Stop reporting breaks: whoever was told (the hub's subscriber) has gone."""
        self.on_broken = _nothing

    def discard_waiting(self) -> None:
        """Forget the fan-out's frames not yet started (a too-slow client's backlog before its close).

        A partly written frame stays, and so do Hypercorn's own bytes (a pong, say).
        """
        start = 1 if self._head_started else 0
        self._queue[start:] = [data for data in self._queue[start:] if _is_servers(data)]

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._spawn(self._flush_backlog)

    async def _flush_backlog(self) -> None:
        """A short-lived task (in the hub's nursery) writing the queue out as the kernel takes it.

        A socket that takes nothing for the send timeout is given up on.
        """
        try:
            while self._queue and not self.broken:
                with trio.move_on_after(self._send_timeout) as waiting:
                    try:
                        await trio.lowlevel.wait_writable(self.socket)
                    except (trio.ClosedResourceError, OSError):  # closed by aclose() meanwhile
                        self._break()
                        return
                if waiting.cancelled_caught:
                    self._break()
                    return
                self._write_queue()
        finally:
            self._flush_scheduled = False

    # -- the trio stream Hypercorn holds -------------------------------------------------------------

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Hypercorn's bytes: queued behind what waits, never dropped; returns once they are written.

        It waits for its own bytes only, not for frames the hub queues after them.
        """
        if self.broken:
            raise trio.BrokenResourceError("the connection is closed")
        if data[:1] == CLOSE_OPCODE_BYTE:  # (the one non-WebSocket write, the 101, starts with "H")
            self.closing = _close_code(data)
            if self.closing == MESSAGE_TOO_BIG:
                self._stop_reading()
        ours = _ServerBytes(data)
        self._write_or_queue(ours)
        if self._queue:  # (the usual case, all written at once, waits for nothing)
            await self._wait_written(ours)
        if self.broken:
            raise trio.BrokenResourceError("the connection broke while sending")

    async def wait_send_all_might_not_block(self) -> None:
        if self._queue:
            await self._wait_written(self._queue[-1])

    async def send_eof(self) -> None:
        await self._stream.send_eof()

    async def aclose(self) -> None:
        # Marked broken before the descriptor is closed (and perhaps reused), but not reported:
        # the connection is ending normally and its handler is told so by Hypercorn.
        self.broken = True
        self._discard_all()
        await self._stream.aclose()

    # -- the socket ------------------------------------------------------------------------------

    def _stop_reading(self) -> None:
        """Read nothing more from a client that sent too much: Hypercorn reads EOF and ends it.

        After its 1009 close frame Hypercorn would go on reading, and buffering, whatever the
        client sends; with the read side shut, its next read returns at once with nothing.
        """
        with contextlib.suppress(OSError):  # already gone: Hypercorn learns it from its own read
            self.socket.shutdown(socket.SHUT_RD)

    def _write_or_queue(self, data: bytes) -> None:
        """Behind what already waits, or written at once: what the kernel refuses is queued."""
        if self._queue:
            self._queue.append(data)
            return
        written = self._write([data])
        if written < len(data) and not self.broken:
            self._queue.append(memoryview(data)[written:])
            self._head_started = written > 0

    async def _wait_written(self, data: bytes | memoryview) -> None:
        """Until ``data`` (queued) has been written; the backlog task writes it, in order."""
        while not self.broken and any(_base(waiting) is _base(data) for waiting in self._queue):
            self._schedule_flush()
            if self._progress is None:
                self._progress = trio.Event()
            with trio.move_on_after(self._send_timeout) as waited:
                await self._progress.wait()
            if waited.cancelled_caught:  # (no backlog task: the hub has stopped)
                self._break()

    def _write_queue(self) -> None:
        written = self._write(self._queue[:WRITEV_BATCH])
        while written and self._queue:
            head = self._queue[0]
            if written >= len(head):
                written -= len(head)
                del self._queue[0]
                self._head_started = False
            else:
                self._queue[0] = memoryview(head)[written:]
                self._head_started = True
                written = 0

    def _write(self, buffers: list) -> int:
        """One non-blocking writev(2); the byte count the kernel took (0 when its buffer is full)."""
        try:
            written = os.writev(self.socket.fileno(), buffers)
        except BlockingIOError:
            return 0
        except OSError:  # reset, broken pipe, TCP_USER_TIMEOUT, or already closed (EBADF)
            self._break()
            return 0
        if written and self._progress is not None:
            self._progress.set()
            self._progress = None
        return written

    def _break(self) -> None:
        """The socket failed or timed out: discard everything, and report it once."""
        if not self.broken:
            self.broken = True
            self._discard_all()
            if self._progress is not None:
                self._progress.set()
            self.on_broken()

    def _discard_all(self) -> None:
        self._queue.clear()
        self._head_started = False


class _ServerBytes(bytes):
    """Bytes Hypercorn queued through ``send_all``: written in order, never discarded."""

    __slots__ = ()


def _base(data: bytes | memoryview) -> object:
    """The bytes object queued, whether whole or as the unwritten rest of it."""
    return data.obj if isinstance(data, memoryview) else data


def _is_servers(data: bytes | memoryview) -> bool:
    """Hypercorn's bytes, whole or the unwritten rest of them."""
    return isinstance(_base(data), _ServerBytes)


def _nothing() -> None:
    pass


def _close_code(frame: bytes | bytearray | memoryview) -> int:
    """The status code of an unmasked server close frame (its payload's first two bytes)."""
    return int.from_bytes(frame[2:4], "big") if len(frame) >= 4 else NO_STATUS


def with_socket_writers(app: ASGIApp) -> ASGIApp:
    """Wrap an ASGI app so its WebSocket handlers may take over their connection's writes.

    For a WebSocket scope served by Hypercorn's trio worker over plain HTTP/1.1,
    ``scope["extensions"][EXTENSION]`` is the connection (Hypercorn's TCPServer); :func:`socket_writer_from`
    turns it into the connection's :class:`SocketWriter`.
    """

    def wrapped(scope: dict, receive: Callable, send: Callable) -> Awaitable[None]:
        # Not a coroutine of its own: the app's is returned, so no frame of ours is
        # held for each connection's lifetime.
        if scope["type"] == "websocket":
            _refuse_compression(send)
            connection = _hypercorn_connection(send)
            if connection is not None:
                scope.setdefault("extensions", {})[EXTENSION] = connection
        return app(scope, receive, send)

    return wrapped


def socket_writer_from(
    scope: dict[str, Any],
    *,
    max_waiting: int,
    send_timeout: float,
    spawn: Callable[[Callable[[], Awaitable[None]]], None],
) -> SocketWriter | None:
    """Take over the connection's writes, when the server offers it; None otherwise.

    Call it after every refusal check and before accepting: from here on every
    byte to this client, Hypercorn's included, goes through the returned writer.
    """
    connection: TCPServer | None = (scope.get("extensions") or {}).get(EXTENSION)
    if connection is None:
        return None
    if not isinstance(connection.stream, SocketWriter):
        connection.stream = SocketWriter(
            connection.stream, max_waiting=max_waiting, send_timeout=send_timeout, spawn=spawn
        )
    return connection.stream


def drop_connection(scope: dict[str, Any]) -> bool:
    """End the connection without a close frame, as a process that exits does; False where it cannot.

    Both directions are shut: the client reads the end of the stream (and reports 1006), and
    Hypercorn reads it too and ends the connection, writing nothing more. Where the connection
    is not Hypercorn's plain socket (Quart's test client) there is nothing to shut.
    """
    extensions = scope.get("extensions") or {}
    connection: TCPServer | None = extensions.get(EXTENSION)
    if connection is None:
        return False
    with contextlib.suppress(OSError):  # already gone
        connection.stream.socket.shutdown(socket.SHUT_RDWR)
    extensions[DROPPED] = True
    return True


def dropped(scope: dict[str, Any]) -> bool:
    """Whether :func:`drop_connection` ended this connection (whatever the app sends after)."""
    return bool((scope.get("extensions") or {}).get(DROPPED))


def close_code_sent(scope: dict[str, Any]) -> int:
    """The code of the close frame Hypercorn wrote on this fast-path connection, 0 if none (yet).

    When the client closes, Hypercorn's reply echoes the client's code, while the
    app's ``websocket.disconnect`` says 1006 whatever the client sent. 0 as well
    where the connection is not on the fast path.
    """
    connection: TCPServer | None = (scope.get("extensions") or {}).get(EXTENSION)
    stream = getattr(connection, "stream", None)
    return stream.closing if isinstance(stream, SocketWriter) else 0


def _refuse_compression(send: Callable) -> None:
    """Negotiate no permessage-deflate on this WebSocket, whatever the client offers.

    Hypercorn always accepts the offer, and wsproto inflates what it receives with no
    limit: one 1 MB frame from any token holder became 1,000 MiB of memory. The
    protocol does not ask for compression, and the events are small. Before the app
    accepts, the offer read from the handshake (Hypercorn's ``WSStream.handshake``,
    0.18) is forgotten, so the 101 names no extension and frames stay as sent.
    """
    handshake = getattr(getattr(send, "__self__", None), "handshake", None)
    if handshake is not None and hasattr(handshake, "extensions"):
        handshake.extensions = None


def connection_behind(send: Callable) -> object | None:
    """What is behind an ASGI ``send`` in Hypercorn: WSStream.app_send → H11Protocol → TCPServer.

    These are Hypercorn's internals (written against 0.18, see server/transport/internals.py,
    which checks this walk at startup); None where it leads nowhere.
    """
    try:
        h11_protocol = send.__self__.send.__self__
        return h11_protocol.send.__self__
    except AttributeError:
        return None


def _hypercorn_connection(send: Callable) -> TCPServer | None:
    """The TCPServer behind an ASGI ``send``, when its stream is a plain socket.

    Anything unexpected (another server, HTTP/2, TLS, a Hypercorn that moved its
    internals) returns None and the caller falls back to Quart's path. An e2e
    test fails when served connections are not on the fast path, and the startup
    check (server/transport/internals.py) warns, so a move does not go unnoticed.
    """
    connection = connection_behind(send)
    if isinstance(connection, TCPServer) and isinstance(connection.stream, trio.SocketStream):
        return connection
    return None
