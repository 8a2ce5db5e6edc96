"""Every REST request's body is read to its end, whenever the handler answers, so keep-alive never sticks.

A handler may answer before the request's body has arrived (401, 403, 404, 413,
or an endpoint that takes no body). Hypercorn (0.18) hands the body to the app
through a queue of ten messages; once the app has answered, nothing reads that
queue, so the connection's task blocks on the eleventh chunk: the next request on
the keep-alive connection is never answered, and when the client leaves, the
socket stays in CLOSE-WAIT for good.

Here one small task per HTTP request reads what Hypercorn delivers, from the
start and until the request ends (``http.disconnect``, which Hypercorn sends once
the response is done), and forwards it to the app. Body bytes past the app's
limit are read and dropped rather than forwarded, so a request costs at most
that limit plus one chunk of memory, and the app still sees that the body was
too large (413). Then Hypercorn, never blocked, either starts the connection's
next request (the body was complete) or closes it (it was not): an answer that
goes out before the whole body has been read says ``Connection: close``.

A client may also close its side of the connection once its request is sent
(a half-close). Hypercorn then hands the app ``http.disconnect`` at once, and
Quart-Trio cancels a handler that sees it: the answer would be cut short, or
never sent, although Hypercorn could still deliver it. So once a request has
come whole, ``http.disconnect`` reaches the app only after the answer has been
sent (or the app has ended); a client that is really gone only makes the
handler's writes go nowhere. A request cut off before its body ended is
cancelled at once, as before.

A complete request's messages are queued by Hypercorn before the app starts
(a GET's one message, or a small body's chunk and its end), but the app may
answer before the reader has run. So an answer to a request whose body is not
known to be complete waits for it, at most BODY_WAIT_SECONDS: a complete
request keeps its connection alive, and a slow client's body does not hold up
its 401 for longer than that.
"""

import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

BODY_WAIT_SECONDS = 0.05
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Callable[[Message], Awaitable[None]]], Awaitable[None]]


def read_request_bodies(app: ASGIApp, *, forward_at_most: int) -> ASGIApp:
    """Wrap an ASGI app: each HTTP request's messages are read as they come, whatever the app does.

    ``forward_at_most``: body bytes beyond this (the app's own limit) are dropped unread by the app.
    """

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Callable) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        # Unbounded, yet small: at most forward_at_most bytes of body and a few messages wait in it.
        to_app, app_receives = trio.open_memory_channel[Message](math.inf)
        body_read = trio.Event()
        answered = trio.Event()

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_read.is_set():
                with trio.move_on_after(BODY_WAIT_SECONDS):
                    await body_read.wait()
                if not body_read.is_set():
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # The last send also ends the request in Hypercorn: it hands the app
                # http.disconnect, and then closes or recycles the connection. Quart-Trio
                # cancels the response's task as soon as its reader sees that disconnect,
                # which can land in the middle of this, and the connection is then never
                # closed nor recycled. The kernel's TCP_USER_TIMEOUT bounds the wait.
                with trio.CancelScope(shield=True):
                    await send(message)
                answered.set()
                return
            await send(message)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(_read_all, receive, to_app, forward_at_most, body_read, answered)
            try:
                await app(scope, app_receives.receive, closing_send)
            finally:
                answered.set()

    return wrapped


async def _read_all(
    receive: Receive,
    to_app: trio.MemorySendChannel[Message],
    forward_at_most: int,
    body_read: trio.Event,
    answered: trio.Event,
) -> None:
    """Move every message to the app; ``body_read`` is set once the body's last chunk has come.

    Once the whole request has come, ``http.disconnect`` waits for ``answered`` (the answer
    sent, or the app ended): the handler of a whole request always finishes.
    """
    forwarded = 0
    async with to_app:
        while True:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if forwarded > forward_at_most and chunk:
                    message = {**message, "body": b""}  # past the limit: read, not kept
                forwarded += len(chunk)
                if not message.get("more_body", False):
                    body_read.set()
            elif message["type"] == "http.disconnect" and body_read.is_set():
                await answered.wait()  # a whole request gets its answer; a cut-off one need not wait
            to_app.send_nowait(message)
            if message["type"] == "http.disconnect":
                return
