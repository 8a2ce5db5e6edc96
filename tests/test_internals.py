"""The third-party internals the fast path and its patches use: checked at startup, and the fallbacks.

server/transport/internals.py checks each piece; here every piece is taken away in turn
(monkeypatched) and must be reported with what it turns off, and a station whose
Hypercorn or Quart-Trio moved a piece still serves, on the slow path. The
one-task WebSocket class (server/transport/one_task_websocket.py) is driven directly.
"""

import functools
import gc
import logging
import weakref
from importlib import metadata

import httpx
import pytest
import trio
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.protocol.ws_stream import Handshake, WSStream
from hypercorn.trio.tcp_server import TCPServer
from quart import websocket
from quart.asgi import ASGIWebsocketConnection
from quart_trio import QuartTrio
from quart_trio.asgi import TrioASGIWebsocketConnection
from trio_websocket import open_websocket_url

from server.transport import internals
from server.transport.one_task_websocket import ClientGone, OneTaskWebsocketConnection
from tests.server_support import served
from tests.support import HITS_ALL_DAY, focused


@pytest.fixture(autouse=True)
def _checked_afresh():
    """Each test sees its own (monkeypatched) libraries, and leaves no stale answer behind."""
    internals.startup_check.cache_clear()
    yield
    internals.startup_check.cache_clear()


def _after_init(cls: type, change) -> object:
    """``cls.__init__``, then ``change(self)``: a release that builds the object differently."""
    original = cls.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        change(self)

    return init


def _send_wrapped(self) -> None:
    """``self.send`` still works, but is no longer the bound method it was given."""
    self.send = functools.partial(self.send)


async def _does_nothing(self, *args) -> None:
    pass


class _NotBound:
    """A method that, on an instance, is a callable without ``__self__`` (no walk through it)."""

    def __get__(self, instance, owner=None):
        return _does_nothing if instance is None else functools.partial(_does_nothing, instance)


def _channels_elsewhere(self, app, scope) -> None:
    self.app, self.scope, self._accepted, self._closed = app, scope, False, False
    self.channels = trio.open_memory_channel(10)


def _builds_without_receive_channel(cls: type):
    original = cls._create_websocket_from_scope

    def create(self, send):
        return original(self, send)

    return create


async def _handle_websocket_with_another_signature(self, websocket, send, nursery) -> None:
    pass


EOF_PIECE = f"{internals.TCP_SERVER}: one of ._read_data, ._idle_timeout, ._initiate_server_close, .idle_task"
H11_SEND = f"{internals.H11}.send (built by hypercorn.protocol.ProtocolWrapper)"
REMOVALS = {
    f"{internals.TCP_SERVER}.protocol_send": lambda mp: mp.delattr(TCPServer, "protocol_send"),
    f"{internals.TCP_SERVER}.stream": lambda mp: mp.setattr(
        TCPServer,
        "__init__",
        _after_init(TCPServer, lambda self: setattr(self, "_s", vars(self).pop("stream"))),
    ),
    H11_SEND: lambda mp: mp.setattr(H11Protocol, "__init__", _after_init(H11Protocol, _send_wrapped)),
    f"{internals.H11}.stream_send": lambda mp: mp.delattr(H11Protocol, "stream_send"),
    f"{internals.WS_STREAM}.send": lambda mp: mp.setattr(
        WSStream, "__init__", _after_init(WSStream, _send_wrapped)
    ),
    f"{internals.WS_STREAM}.app_send": lambda mp: mp.delattr(WSStream, "app_send"),
    "the walk WSStream.app_send → H11Protocol → TCPServer": lambda mp: mp.setattr(
        TCPServer, "protocol_send", _NotBound()
    ),
    f"{internals.WS_STREAM}.handle setting .handshake": lambda mp: mp.setattr(
        WSStream, "handle", _does_nothing
    ),
    "hypercorn.protocol.ws_stream.Handshake.extensions": lambda mp: mp.setattr(
        Handshake, "__init__", _after_init(Handshake, lambda self: vars(self).pop("extensions"))
    ),
    f"{internals.H11}._send_error_response": lambda mp: mp.delattr(H11Protocol, "_send_error_response"),
    f"{internals.H11}._send_h11_event": lambda mp: mp.delattr(H11Protocol, "_send_h11_event"),
    f"{internals.WS_STREAM}._send_error_response": lambda mp: mp.delattr(WSStream, "_send_error_response"),
    f"{internals.TCP_SERVER}.run keeping .protocol and ._task_group": lambda mp: mp.setattr(
        TCPServer, "run", _does_nothing
    ),
    EOF_PIECE: lambda mp: mp.delattr(TCPServer, "_idle_timeout"),
    f"{internals.TRIO_WEBSOCKET} setting send_channel and receive_channel": lambda mp: mp.setattr(
        TrioASGIWebsocketConnection, "__init__", _channels_elsewhere
    ),
    f"{internals.TRIO_WEBSOCKET}._create_websocket_from_scope reading receive_channel": lambda mp: mp.setattr(
        TrioASGIWebsocketConnection,
        "_create_websocket_from_scope",
        _builds_without_receive_channel(TrioASGIWebsocketConnection),
    ),
    "quart.asgi.ASGIWebsocketConnection.handle_websocket(websocket, send)": lambda mp: mp.setattr(
        ASGIWebsocketConnection, "handle_websocket", _handle_websocket_with_another_signature
    ),
}
EFFECTS = {piece: effect for piece, effect, _ in internals.PIECES}


def test_every_piece_is_there_in_the_pinned_versions():
    for distribution, minor in internals.WRITTEN_AGAINST.items():
        assert metadata.version(distribution).startswith(f"{minor}.")
    checked = internals.check()
    assert checked.available and checked.missing == ()
    assert checked.as_json() == {"available": True, "missing": []}


def test_every_piece_checked_is_taken_away_by_a_test_below():
    assert set(REMOVALS) == set(EFFECTS)


@pytest.mark.parametrize("piece", list(REMOVALS))
def test_a_piece_taken_away_is_reported_with_what_it_turns_off(piece, monkeypatch):
    REMOVALS[piece](monkeypatch)
    checked = internals.check()
    effect = EFFECTS[piece]
    assert internals.Missing(piece, effect) in checked.missing
    assert {missing.effect for missing in checked.missing} == {effect}  # nothing else is off
    assert not checked.available and not checked.offers(effect)
    assert f"{piece}: {effect}" in checked.as_json()["missing"]


def test_the_warning_names_each_missing_piece_and_is_logged_once(monkeypatch, caplog):
    REMOVALS[H11_SEND](monkeypatch)
    REMOVALS[f"{internals.TCP_SERVER}.run keeping .protocol and ._task_group"](monkeypatch)
    with caplog.at_level(logging.WARNING, logger="grimnir_sim.server"):
        first = internals.startup_check()
        assert internals.startup_check() is first
    [record] = caplog.records
    message = record.getMessage()
    assert f"{H11_SEND} is missing, so {internals.FAST_PATH}" in message
    assert f"is missing, so {internals.CYCLES}" in message
    assert "hypercorn 0.18" in message and "quart-trio 0.12" in message


def test_no_warning_when_everything_is_there(caplog):
    with caplog.at_level(logging.WARNING, logger="grimnir_sim.server"):
        assert internals.startup_check().available
    assert caplog.records == []


async def test_a_served_station_whose_hypercorn_moved_a_piece_serves_on_the_slow_path(
    grimnir_server, monkeypatch, caplog
):
    REMOVALS[H11_SEND](monkeypatch)  # every connection's H11Protocol.send now leads nowhere
    with caplog.at_level(logging.WARNING, logger="grimnir_sim.server"):
        station = await grimnir_server.serve("dj-takeover")
        async with open_websocket_url(station.events_url_with(["dj_connect"])) as client:
            await station.advance("6m")
            with trio.fail_after(5):
                assert '"dj_connect"' in await client.get_message()
            async with httpx.AsyncClient() as rest:
                answer = await rest.get(
                    f"{station.url}/api/v1/sim/server", headers={"Authorization": f"Bearer {station.token}"}
                )
    vitals = answer.json()
    assert vitals["connections"] == 1 and vitals["on_the_fast_path"] == 0
    walk = "the walk WSStream.app_send → H11Protocol → TCPServer"
    assert vitals["fast_path"] == {
        "available": False,
        "missing": [f"{H11_SEND}: {internals.FAST_PATH}", f"{walk}: {internals.FAST_PATH}"],
    }
    with trio.fail_after(5):
        while len(station.service.hub):  # the handler ends once it reads the client's close
            await trio.sleep(0.01)
    # One warning, at startup; the client's leaving is no error (it was logged as one, with a
    # traceback, when the slow path's reader raised ClientGone inside a nursery's group).
    assert [(r.levelno, r.getMessage().count(H11_SEND)) for r in caplog.records] == [(logging.WARNING, 1)]


async def test_without_the_one_task_pieces_the_app_keeps_quart_trios_websocket_class(
    monkeypatch, autojump_clock
):
    REMOVALS[f"{internals.TRIO_WEBSOCKET}._create_websocket_from_scope reading receive_channel"](monkeypatch)
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        assert station.client.app.asgi_websocket_class is not OneTaskWebsocketConnection
        async with station.events("types=now_playing&snapshot=true") as ws:
            assert '"now_playing"' in await ws.receive()
        status, vitals = await station.get("/api/v1/sim/server")
    assert status == 200 and vitals["fast_path"]["available"] is False


async def test_on_the_pinned_versions_the_app_uses_the_one_task_class(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        assert station.client.app.asgi_websocket_class is OneTaskWebsocketConnection
        status, vitals = await station.get("/api/v1/sim/server")
    assert status == 200 and vitals["fast_path"] == {"available": True, "missing": []}


# -- the one-task WebSocket class, driven directly ---------------------------------------------------


def _echo_app(log: list) -> QuartTrio:
    """A WebSocket handler that keeps reading, swallows every Exception, and records its finally."""
    app = QuartTrio(__name__)
    app.asgi_websocket_class = OneTaskWebsocketConnection

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        try:
            while True:
                try:
                    log.append(await websocket.receive())
                except Exception as error:  # ClientGone is not one: it still ends the handler
                    log.append(f"swallowed {error!r}")
        finally:
            log.append("finally ran")

    return app


SCOPE = {
    "type": "websocket",
    "path": "/ws",
    "raw_path": b"/ws",
    "query_string": b"",
    "scheme": "ws",
    "headers": [(b"host", b"localhost")],
    "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 2),
    "subprotocols": [],
    "extensions": {},
}


async def _run(connection: OneTaskWebsocketConnection, messages: list[dict]) -> list[dict]:
    """Feed ``messages`` to the connection as its ASGI receive, and return what it sent."""
    sent: list[dict] = []
    incoming = iter(messages)

    async def receive() -> dict:
        await trio.sleep(0)
        return next(incoming)

    async def send(message: dict) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await connection(receive, send)
    return sent


async def test_the_one_task_class_receives_then_ends_the_handler_on_disconnect():
    log: list = []
    app = _echo_app(log)
    async with app.app_context():
        connection = OneTaskWebsocketConnection(app, dict(SCOPE))
        sent = await _run(
            connection,
            [
                {"type": "websocket.connect"},
                {"type": "websocket.receive", "text": "one"},
                {"type": "websocket.receive", "bytes": b"two"},
                {"type": "websocket.disconnect", "code": 1000},
            ],
        )
    # Every message, in order; the disconnect was not an Exception the handler could swallow; its
    # finally ran, and ClientGone went no further (the call above returned).
    assert log == ["one", b"two", "finally ran"]
    assert sent[0]["type"] == "websocket.accept"


def test_client_gone_is_not_an_exception():
    assert issubclass(ClientGone, BaseException) and not issubclass(ClientGone, Exception)


def test_the_one_task_class_keeps_no_channel_and_receives_itself():
    connection = OneTaskWebsocketConnection(QuartTrio(__name__), dict(SCOPE))
    assert connection.receive_channel is connection
    kept = vars(connection)
    assert "send_channel" not in kept and "receive_channel" not in kept
    channels = (trio.MemorySendChannel, trio.MemoryReceiveChannel)
    assert not any(isinstance(value, channels) for value in kept.values())


async def test_a_finished_connection_is_freed_by_reference_counting_alone():
    log: list = []
    app = _echo_app(log)
    async with app.app_context():
        gc.collect()
        gc.disable()
        try:
            connection = OneTaskWebsocketConnection(app, dict(SCOPE))
            await _run(
                connection,
                [
                    {"type": "websocket.connect"},
                    {"type": "websocket.receive", "text": "one"},
                    {"type": "websocket.disconnect", "code": 1000},
                ],
            )
            gone = weakref.ref(connection)
            del connection
            assert gone() is None, "a reference cycle keeps it until the cyclic collector runs"
        finally:
            gc.enable()
    assert log == ["one", "finally ran"]
