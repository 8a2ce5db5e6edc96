"""``serve --access-log``: a line per HTTP request and per WebSocket open and close, tokens redacted.

:func:`with_access_log` wraps the ASGI app Hypercorn serves. An HTTP request
(a refused WebSocket handshake, 401, 429 or 503, is one too) gets one line
when the app has sent its response: method, path and query, status, duration.
An accepted WebSocket gets an ``open`` line with the event types it receives,
and a ``close`` line with the close code (1006 by server when the server dropped
it without a close frame), the side that closed first, and how long it lasted.
``serve`` installs the wrapper only with the flag, so without it no request and
no connection pays anything for logging.

Not Hypercorn's own access log (``config.accesslog``): it logs a request twice,
once without a status, when the client closes the connection as the response
ends, and its format prints the query, token included.

The value of every ``token`` query parameter is replaced by ``[redacted]``;
headers (``Authorization``) are never logged.
"""

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import IO, Any
from urllib.parse import parse_qsl, unquote_plus

from playout import format_duration

from .hub import INTERNAL_ERROR, Hub, parse_types
from .transport.socket_writer import close_code_sent, dropped

log = logging.getLogger("grimnir_sim.access")
REDACTED = "[redacted]"  # brackets arrive percent-encoded, so no real value reads like this
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
"""A JWT's shape: a base64url JSON header (``{"`` encodes as ``eyJ``), a payload and a signature."""
SERVER_CLOSE_CODES = frozenset({1009})
"""Close codes only the server sends first here: Hypercorn's 1009 for a message over the limit."""
ABNORMAL_CLOSURE = 1006
HANDSHAKE_CLOSED = 403  # Hypercorn's answer to a WebSocket the app closes before accepting

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


def write_to(stream: IO[str]) -> None:
    """Send the access log to ``stream`` (``serve`` gives stderr), one timestamped line per entry."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def redact_query(query: str) -> str:
    """``query`` with the value of each ``token`` parameter (in any case or encoding) replaced."""
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).lower() == "token":
            parts[index] = f"{name}={REDACTED}"
    return "&".join(parts)


def target(scope: dict[str, Any]) -> str:
    """The path and query as the client sent them (still percent-encoded), tokens redacted.

    The raw path, not the decoded one, so an encoded newline cannot start a line of its own.
    """
    path = _raw_path(scope)
    query = scope.get("query_string", b"").decode("latin-1")
    # A JWT anywhere else (?access_token=, a path segment, an odd parameter name) goes too.
    return _JWT.sub(REDACTED, f"{path}?{redact_query(query)}" if query else path)


def _raw_path(scope: dict[str, Any]) -> str:
    return (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")


def client(scope: dict[str, Any]) -> str:
    """``host:port`` of the peer (``[host]:port`` for IPv6), ``-`` when unknown."""
    peer = scope.get("client")
    if not peer:
        return "-"
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def with_access_log(app: ASGIApp, hub: Hub) -> ASGIApp:
    """Wrap an ASGI app so each HTTP request and each WebSocket connection is logged.

    ``hub``: the stream's, whose profile says how ``types`` is read (logged as read).
    """
    read_types = functools.partial(
        parse_types, known=hub.known_types, default=hub.default_types, rules=hub.rules
    )

    def wrapped(scope: dict, receive: Callable, send: Callable) -> Awaitable[None]:
        if scope["type"] == "http":
            return _logged_request(app, scope, receive, send)
        if scope["type"] == "websocket":
            return _logged_websocket(app, scope, receive, send, read_types)
        return app(scope, receive, send)

    return wrapped


async def _logged_request(app: ASGIApp, scope: dict, receive: Callable, send: Callable) -> None:
    started_at = time.monotonic()
    status: int | None = None

    async def logging_send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, logging_send)
    except Exception:
        status = status or 500  # Hypercorn answers 500 for an app that fails before responding
        raise
    finally:
        _log_request(scope, scope["method"], status, started_at)


async def _logged_websocket(
    app: ASGIApp,
    scope: dict,
    receive: Callable,
    send: Callable,
    read_types: Callable[[list[str]], Iterable[str]],
) -> None:
    started_at = time.monotonic()
    opened_at: float | None = None
    refused: int | None = None  # the HTTP status of a handshake the app answered without accepting
    closed: tuple[int, str] | None = None  # the close code, and which side closed first

    async def logging_send(message: dict[str, Any]) -> None:
        nonlocal opened_at, refused, closed
        kind = message["type"]
        if kind == "websocket.accept":
            opened_at = time.monotonic()
            log.info("%s WS open %s types=%s", client(scope), _raw_path(scope), _types(scope, read_types))
        elif kind == "websocket.http.response.start":
            refused = message["status"]
        elif kind == "websocket.close" and closed is None:
            # (After a drop, Quart still closes the handler's WebSocket; nothing reaches the client.)
            closed = (ABNORMAL_CLOSURE if dropped(scope) else int(message.get("code", 1000)), "server")
        await send(message)

    async def logging_receive() -> dict[str, Any]:
        nonlocal closed
        message = await receive()
        if message["type"] == "websocket.disconnect" and closed is None:
            # Hypercorn's reply to a client's close frame echoes its code; no reply: the connection dropped.
            sent = close_code_sent(scope)
            code = sent or int(message.get("code", ABNORMAL_CLOSURE))
            closed = (code, "server" if sent in SERVER_CLOSE_CODES else "client")
        return message

    try:
        await app(scope, logging_receive, logging_send)
    finally:
        if opened_at is not None:
            # A handler that ends without closing (it failed, or was cancelled): Hypercorn sends 1011.
            code, side = closed or (INTERNAL_ERROR, "server")
            lasted = format_duration(round((time.monotonic() - opened_at) * 1000))
            log.info("%s WS close %d by %s after %s", client(scope), code, side, lasted)
        else:
            # Refused before the upgrade; a close before accepting is Hypercorn's 403.
            _log_request(scope, "GET", refused or (HANDSHAKE_CLOSED if closed else None), started_at)


def _log_request(scope: dict[str, Any], method: str, status: int | None, started_at: float) -> None:
    """One HTTP line; status ``-`` when no response was sent (the client left first)."""
    took = (time.monotonic() - started_at) * 1000
    log.info("%s %s %s %s %.1fms", client(scope), method, target(scope), status or "-", took)


def _types(scope: dict[str, Any], read: Callable[[list[str]], Iterable[str]] = parse_types) -> str:
    """The event types the connection gets, as the events route reads its ``types`` parameter
    (``read``: as the stream's profile reads the parameter's values; the documented reading)."""
    query = scope.get("query_string", b"").decode("latin-1")
    asked = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "types"]
    return ",".join(sorted(read(asked))) or "(none)"
