"""Quart-Trio's WebSocket connection with one task instead of two.

Quart-Trio runs each WebSocket as two tasks in a nursery: the handler, and a
reader that moves ASGI messages into a 10-slot channel and cancels the handler
when the client disconnects. At 10,000 connections that nursery, task and
channel cost about 6 KiB each. Here the handler's own ``websocket.receive()``
reads ASGI directly, and a disconnect ends the handler from there: ``receive``
raises :class:`ClientGone`, a BaseException like trio's ``Cancelled`` (so
``except Exception`` does not stop it), which this class absorbs once the
handler's ``finally`` blocks have run. Every WebSocket handler of this app keeps
calling ``receive``. (An exception, not a cancel scope: a scope entered for each
connection costs another 600 bytes.)
"""

from quart.asgi import ASGIWebsocketConnection
from quart.signals import websocket_received
from quart_trio.asgi import TrioASGIWebsocketConnection


class ClientGone(BaseException):
    """The client disconnected: raised from ``websocket.receive()``, ends the handler."""


class OneTaskWebsocketConnection(TrioASGIWebsocketConnection):
    """Installed as the app's ``asgi_websocket_class``; the rest is Quart-Trio's."""

    def __init__(self, app, scope) -> None:
        super().__init__(app, scope)
        del self.send_channel

    @property
    def receive_channel(self) -> "OneTaskWebsocketConnection":
        """The Websocket object calls ``receive_channel.receive``: that is :meth:`receive`.

        A property, not ``self.receive_channel = self``: that reference cycle would keep
        every closed connection until a full collection (see server/transport/hypercorn_cycles.py).
        """
        return self

    @receive_channel.setter
    def receive_channel(self, channel: object) -> None:
        """Quart-Trio's ``__init__`` sets its own channel; it is not used, so not kept."""

    async def __call__(self, receive, send) -> None:
        self._receive = receive
        websocket = self._create_websocket_from_scope(send)
        try:
            await ASGIWebsocketConnection.handle_websocket(self, websocket, send)
        except* ClientGone:
            pass

    async def receive(self) -> str | bytes:
        """The client's next message; raises :class:`ClientGone` when it disconnects."""
        while True:
            event = await self._receive()
            if event["type"] == "websocket.receive":
                message = event.get("bytes") or event["text"]
                await websocket_received.send_async(message, _sync_wrapper=self.app.ensure_async)
                return message
            if event["type"] == "websocket.disconnect":
                raise ClientGone()
