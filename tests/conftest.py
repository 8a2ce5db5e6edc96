"""Every event the station emits anywhere in this suite is checked against the contract,
and so is every REST answer a test gets (docs/openapi.json, see tests/openapi_support.py) from a
server that speaks the documented profile."""

from collections.abc import Iterator

import httpx
import pytest
import websockets.client
from quart_trio.testing import TrioClient
from quart_trio.testing.connections import TestHTTPConnection, TestWebsocketConnection

from playout.protocol import wire
from server.contract_grimnir import explain as explain_grimnir
from server.contract_grimnir import shapes_of as grimnir_shapes_of
from server.hub import Hub
from tests.openapi_support import RestContract, contract
from tests.support import validate_message

pytest_plugins = ["pytester"]
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Whether the test itself failed: a violation it raised is not reported again at teardown."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _events_follow_the_contract(monkeypatch):
    """Each published message matches its profile's contract: the documented one, or (a
    :class:`~playout.protocol.wire.WireEvent`) exactly one shape of the real wire's."""
    publish = Hub.publish

    def checked(self, batch):
        for emitted in batch:
            message = wire.to_message(emitted.event)
            if isinstance(emitted.event, wire.WireEvent):
                assert len(grimnir_shapes_of(message)) == 1, explain_grimnir(message)
            else:
                validate_message(message)
        publish(self, batch)

    monkeypatch.setattr(Hub, "publish", checked)


def _scope_path(scope: dict) -> str:
    """The path of a Quart test request, as sent."""
    return (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")


@pytest.fixture(autouse=True)
def rest_contract(monkeypatch, request) -> Iterator[RestContract]:
    """Wraps the suite's HTTP clients so that an answer the document does not describe fails the test.

    HTTP answers raise :class:`~tests.openapi_support.ContractViolation` at the call; a WebSocket
    handshake's outcome is checked where the client reads it (another task or thread), so a
    violation there fails the test when it ends. A test that provokes violations on purpose
    takes them from ``rest_contract.violations``.
    """
    checker = contract()
    checker.violations.clear()

    class CheckedHTTPConnection(TestHTTPConnection):
        async def as_response(self):
            response = await super().as_response()
            served = self.app.extensions.get("grimnir_sim")
            if served is not None and served.settings.profile != "documented":
                return response  # another server's REST (docs/fidelity.md): not the document's
            answer = await response.get_data()
            violation = checker.check(
                self.scope["method"], _scope_path(self.scope), response.status_code, response.headers, answer
            )
            if violation is not None:
                raise violation
            return response

    class CheckedWebsocketConnection(TestWebsocketConnection):
        async def _asgi_send(self, message: dict) -> None:
            path = _scope_path(self.scope)
            served = self.app.extensions.get("grimnir_sim")
            if served is not None and served.settings.profile != "documented":
                pass  # another server's handshake refusals (docs/fidelity.md): not the document's
            elif message["type"] == "websocket.accept":
                checker.check("GET", path, 101, {}, b"", upgrade=True)
            elif message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
                body = bytes(self.response_data) + message["body"]
                assert self.headers is not None and self.status_code is not None
                checker.check("GET", path, self.status_code, self.headers, body, upgrade=True)
            await super()._asgi_send(message)

    monkeypatch.setattr(TrioClient, "http_connection_class", CheckedHTTPConnection)
    monkeypatch.setattr(TrioClient, "websocket_connection_class", CheckedWebsocketConnection)

    def check_httpx(response: httpx.Response) -> None:
        for answer in (*response.history, response):
            asked = answer.request
            violation = checker.check(
                asked.method,
                str(asked.url),
                answer.status_code,
                answer.headers,
                answer.content,
            )
            if violation is not None:
                raise violation

    send, send_async = httpx.Client.send, httpx.AsyncClient.send

    def checked_send(self, request, *, stream=False, **options):
        response = send(self, request, stream=stream, **options)
        if not stream:  # a streamed body is the caller's to read (the probes', never the API's)
            check_httpx(response)
        return response

    async def checked_send_async(self, request, *, stream=False, **options):
        response = await send_async(self, request, stream=stream, **options)
        if not stream:
            check_httpx(response)
        return response

    monkeypatch.setattr(httpx.Client, "send", checked_send)
    monkeypatch.setattr(httpx.AsyncClient, "send", checked_send_async)

    process_response = websockets.client.ClientProtocol.process_response

    def checked_handshake(self, response):
        checker.check(
            "GET",
            self.uri.resource_name,
            response.status_code,
            response.headers,
            bytes(response.body),
            upgrade=True,
        )
        return process_response(self, response)

    monkeypatch.setattr(websockets.client.ClientProtocol, "process_response", checked_handshake)
    yield checker
    # A violation raised at the call has failed the test already; this catches the rest.
    if checker.violations and not request.node.stash.get(CALL_FAILED, False):
        raise AssertionError(
            "answers the OpenAPI document does not describe:\n" + "\n".join(map(str, checker.violations))
        )
