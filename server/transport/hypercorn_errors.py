"""JSON bodies for the answers Hypercorn gives by itself, before any handler runs.

A malformed request line, a head over 16 KiB (431), a transfer coding other than
chunked (501, RFC 9112 section 6.1) or a broken WebSocket upgrade is answered by
Hypercorn, not by the app, with an empty body, while every other
error of this server is ``{"error": "<code>", "detail": "..."}``. Hypercorn (0.18)
has no setting for these bodies, so :func:`install` replaces the two methods that
send them, ``H11Protocol._send_error_response`` and ``WSStream._send_error_response``,
with ones that send the same status and headers and a JSON body. When those
methods are not there (another Hypercorn), nothing is replaced and those answers
keep their empty bodies; the startup check (server/transport/internals.py) says so.
"""

import http
from time import time

import h11
import orjson
from hypercorn.protocol import h11 as hypercorn_h11
from hypercorn.protocol import ws_stream
from hypercorn.protocol.events import Body, EndBody, Response, StreamClosed

REFUSED_UPGRADES = frozenset({400, 404})
"""The answers WSStream.handle gives a broken upgrade itself, without ending the stream."""


def _body(status_code: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "error"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    return orjson.dumps({"error": code, "detail": f"{phrase}: the request could not be read"})


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]


async def _h11_error_response(self, status_code: int) -> None:
    body = _body(status_code)
    headers = _headers(body) + list(self.config.response_headers("h11"))
    await self._send_h11_event(h11.Response(status_code=status_code, headers=headers))
    await self._send_h11_event(h11.Data(data=body))
    await self._send_h11_event(h11.EndOfMessage())


async def _websocket_error_response(self, status_code: int) -> None:
    body = _body(status_code)
    await self.send(Response(stream_id=self.stream_id, status_code=status_code, headers=_headers(body)))
    await self.send(Body(stream_id=self.stream_id, data=body))
    await self.send(EndBody(stream_id=self.stream_id))
    await self.config.log.access(self.scope, {"status": status_code, "headers": []}, time() - self.start_time)
    if status_code in REFUSED_UPGRADES:
        # Hypercorn (0.18) refuses a broken upgrade (400, or 404 for an unknown path) from
        # WSStream.handle and never ends the stream, so the connection was never closed:
        # one anonymous peer could hold sockets for good. Ending it lets Hypercorn close
        # the connection, as the Connection: close above says. (Its 403 and 500 paths end
        # the stream themselves.)
        await self.send(StreamClosed(stream_id=self.stream_id))


def install() -> bool:
    """Give Hypercorn's own error answers JSON bodies; False when it cannot (internals.py warns)."""
    targets = (
        (hypercorn_h11.H11Protocol, _h11_error_response),
        (ws_stream.WSStream, _websocket_error_response),
    )
    if not all(callable(getattr(cls, "_send_error_response", None)) for cls, _ in targets):
        return False
    for cls, replacement in targets:
        cls._send_error_response = replacement
    return True
