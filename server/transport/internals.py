"""What the fast path and its patches take from Hypercorn, Quart and Quart-Trio, checked at startup.

Five modules reach into these libraries' internals, as of the minor versions
pyproject.toml pins (hypercorn 0.18, quart 0.22, quart-trio 0.12):

- server/transport/socket_writer.py walks from a WebSocket's ASGI ``send`` to Hypercorn's
  ``TCPServer`` and puts its writer in place of the connection's stream (the
  fast path), and forgets the client's compression offer in Hypercorn's handshake;
- server/transport/hypercorn_errors.py replaces two ``_send_error_response`` methods;
- server/transport/hypercorn_cycles.py wraps ``TCPServer.run`` and drops two of its attributes;
- server/transport/hypercorn_eof.py replaces ``TCPServer._read_data`` (a copy), wraps ``_idle_timeout``;
- server/transport/one_task_websocket.py subclasses Quart-Trio's WebSocket connection.

Each falls back on its own when what it needs is not there, silently. So
:func:`check` looks at every piece before the first connection: a method by its
presence, an instance attribute by building Hypercorn's objects the way Hypercorn
does (no socket, nothing run), and the attribute a method must keep using by the
names its code refers to. :func:`startup_check` does that once per process, logs
one warning naming what is off and why, and is what ``GET /api/v1/sim/server``
shows as ``fast_path``.
"""

import functools
import inspect
import logging
from collections.abc import Callable
from importlib import metadata

import attrs
from hypercorn.config import Config
from hypercorn.protocol import ProtocolWrapper
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.ws_stream import Handshake, WSStream
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from quart.asgi import ASGIWebsocketConnection
from quart_trio.asgi import TrioASGIWebsocketConnection

from .socket_writer import connection_behind

log = logging.getLogger("grimnir_sim.server")
WRITTEN_AGAINST = {"hypercorn": "0.18", "quart": "0.22", "quart-trio": "0.12"}

FAST_PATH = "the fast path is off (events go through Quart's websocket.send)"
NO_COMPRESSION = "a client's compression offer is no longer refused"
ERROR_BODIES = "Hypercorn's own 400/431 answers keep their empty bodies"
CYCLES = "closed connections wait for the cyclic collector"
EOF_CLOSE = "an idle keep-alive connection the client closed stays in CLOSE-WAIT for 5 s"
ONE_TASK = "each WebSocket runs as Quart-Trio's two tasks"


@attrs.frozen
class Missing:
    """One piece that is not as the server was written against, and what is off because of it."""

    piece: str
    effect: str

    def __str__(self) -> str:
        return f"{self.piece}: {self.effect}"


@attrs.frozen
class Internals:
    """What :func:`check` found: every piece there (``available``), or the ones that are not."""

    missing: tuple[Missing, ...] = ()

    @property
    def available(self) -> bool:
        return not self.missing

    def offers(self, effect: str) -> bool:
        """Whether everything one feature needs (named by its effect, e.g. :data:`ONE_TASK`) is there."""
        return all(missing.effect != effect for missing in self.missing)

    def as_json(self) -> dict[str, object]:
        return {"available": self.available, "missing": [str(missing) for missing in self.missing]}


class _Sender:
    async def send(self, event: object) -> None:
        """Stands for the bound method Hypercorn hands each object it builds."""


def _config_and_context() -> tuple[Config, WorkerContext]:
    return Config(), WorkerContext(None)


def _tcp_server(stream: object) -> TCPServer:
    config, context = _config_and_context()
    return TCPServer(app=None, config=config, context=context, state={}, stream=stream)


def _h11_protocol(send: Callable) -> object:
    """What ``TCPServer.run`` builds, for a plain HTTP/1.1 connection: the wrapper's protocol."""
    config, context = _config_and_context()
    wrapper = ProtocolWrapper(
        app=None,
        config=config,
        context=context,
        task_group=None,
        state=None,
        ssl=False,
        client=None,
        server=None,
        send=send,
        alpn_protocol="http/1.1",
    )
    return wrapper.protocol


def _ws_stream(send: Callable) -> WSStream:
    config, context = _config_and_context()
    return WSStream(
        app=None,
        config=config,
        context=context,
        task_group=None,
        ssl=False,
        client=None,
        server=None,
        send=send,
        stream_id=1,
    )


def _keeps(build: Callable[[Callable], object]) -> bool:
    """Whether the object built with a ``send`` keeps that very bound method as ``.send``."""
    send = _Sender().send
    return getattr(build(send), "send", None) is send


def _stream_kept() -> bool:
    stream = object()
    return vars(_tcp_server(stream)).get("stream") is stream


def _walk_reaches_the_connection() -> bool:
    connection = _tcp_server(object())
    ws_stream = _ws_stream(_h11_protocol(connection.protocol_send).stream_send)
    return connection_behind(ws_stream.app_send) is connection


def _method(cls: type, name: str) -> bool:
    return callable(getattr(cls, name, None))


def _refers_to(function: object, *names: str) -> bool:
    """Whether a function's code uses these attribute names (a wrapper is looked through)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    return code is not None and set(names) <= set(code.co_names)


def _handshake_has_extensions() -> bool:
    return "extensions" in vars(Handshake([], "1.1")) and _refers_to(Handshake.accept, "extensions")


def _quart_trio_channels() -> bool:
    return {"send_channel", "receive_channel"} <= set(vars(TrioASGIWebsocketConnection(None, {})))


def _handle_websocket_takes_websocket_and_send() -> bool:
    parameters = inspect.signature(ASGIWebsocketConnection.handle_websocket).parameters
    return list(parameters) == ["self", "websocket", "send"]


TCP_SERVER = "hypercorn.trio.tcp_server.TCPServer"
H11 = "hypercorn.protocol.h11.H11Protocol"
WS_STREAM = "hypercorn.protocol.ws_stream.WSStream"
TRIO_WEBSOCKET = "quart_trio.asgi.TrioASGIWebsocketConnection"
PIECES: tuple[tuple[str, str, Callable[[], bool]], ...] = (
    (f"{TCP_SERVER}.protocol_send", FAST_PATH, lambda: _method(TCPServer, "protocol_send")),
    (f"{TCP_SERVER}.stream", FAST_PATH, _stream_kept),
    (f"{H11}.send (built by hypercorn.protocol.ProtocolWrapper)", FAST_PATH, lambda: _keeps(_h11_protocol)),
    (f"{H11}.stream_send", FAST_PATH, lambda: _method(H11Protocol, "stream_send")),
    (f"{WS_STREAM}.send", FAST_PATH, lambda: _keeps(_ws_stream)),
    (f"{WS_STREAM}.app_send", FAST_PATH, lambda: _method(WSStream, "app_send")),
    ("the walk WSStream.app_send → H11Protocol → TCPServer", FAST_PATH, _walk_reaches_the_connection),
    (
        f"{WS_STREAM}.handle setting .handshake",
        NO_COMPRESSION,
        lambda: _refers_to(WSStream.handle, "handshake"),
    ),
    ("hypercorn.protocol.ws_stream.Handshake.extensions", NO_COMPRESSION, _handshake_has_extensions),
    (f"{H11}._send_error_response", ERROR_BODIES, lambda: _method(H11Protocol, "_send_error_response")),
    (f"{H11}._send_h11_event", ERROR_BODIES, lambda: _method(H11Protocol, "_send_h11_event")),
    (f"{WS_STREAM}._send_error_response", ERROR_BODIES, lambda: _method(WSStream, "_send_error_response")),
    (
        f"{TCP_SERVER}.run keeping .protocol and ._task_group",
        CYCLES,
        lambda: _method(TCPServer, "run") and _refers_to(TCPServer.run, "protocol", "_task_group"),
    ),
    (
        f"{TCP_SERVER}: one of ._read_data, ._idle_timeout, ._initiate_server_close, .idle_task",
        EOF_CLOSE,
        lambda: (
            _refers_to(TCPServer._read_data, "receive_some", "read_timeout", "handle")
            and _method(TCPServer, "_initiate_server_close")
            and _method(TCPServer, "_idle_timeout")
            and "idle_task" in vars(_tcp_server(None))
        ),
    ),
    (f"{TRIO_WEBSOCKET} setting send_channel and receive_channel", ONE_TASK, _quart_trio_channels),
    (
        f"{TRIO_WEBSOCKET}._create_websocket_from_scope reading receive_channel",
        ONE_TASK,
        lambda: _refers_to(TrioASGIWebsocketConnection._create_websocket_from_scope, "receive_channel"),
    ),
    (
        "quart.asgi.ASGIWebsocketConnection.handle_websocket(websocket, send)",
        ONE_TASK,
        _handle_websocket_takes_websocket_and_send,
    ),
)


def check() -> Internals:
    """Every piece the fast path and the patches need, looked at now; what is missing, in order."""
    missing = []
    for piece, effect, present in PIECES:
        try:
            there = present()
        except Exception:  # a constructor that takes other arguments, an attribute gone: not there
            there = False
        if not there:
            missing.append(Missing(piece, effect))
    return Internals(tuple(missing))


@functools.cache
def startup_check() -> Internals:
    """:func:`check`, once per process; when anything is missing, one warning says what is off and why."""
    internals = check()
    if not internals.available:
        installed = ", ".join(f"{name} {_version(name)}" for name in WRITTEN_AGAINST)
        against = ", ".join(f"{name} {version}" for name, version in WRITTEN_AGAINST.items())
        log.warning(
            "Hypercorn/Quart internals not as written against (%s; installed: %s): %s",
            against,
            installed,
            "; ".join(f"{missing.piece} is missing, so {missing.effect}" for missing in internals.missing),
        )
    return internals


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"
