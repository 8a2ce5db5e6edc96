"""The HTTP probe against in-process servers that behave well, badly and hostilely.

Virtual time (autojump clock) over loopback sockets: the stall and sample-window
timeouts pass instantly, and the checks still see real TCP and real HTTP parsing.
"""

import socket
import struct
from functools import partial

import httpx
import pytest
import trio

from playout import StationRunner, parse_scenario
from playout.drivers.probes import check_url
from playout.scenario.model import ProbeSettings

AUDIO_HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\nicy-metaint: 16000\r\n\r\n"
SETTINGS = ProbeSettings(kind="http")


class Behaviours:
    """Connection handlers; each counts its connections so tests can see leaks."""

    def __init__(self) -> None:
        self.open = 0
        self.served = 0
        self.requests: list[bytes] = []

    async def _request(self, stream: trio.SocketStream) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(4096)
            if not chunk:
                return
            data += chunk
        self.requests.append(data)

    @staticmethod
    async def _until_client_leaves(stream: trio.SocketStream, scope: trio.CancelScope) -> None:
        try:
            while await stream.receive_some(4096):
                pass
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        scope.cancel()

    async def serve(self, behaviour, stream: trio.SocketStream) -> None:
        self.open += 1
        self.served += 1
        try:
            await self._request(stream)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._until_client_leaves, stream, nursery.cancel_scope)
                await behaviour(stream)
                nursery.cancel_scope.cancel()
        except* (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass  # the probe hung up while we were still talking: expected
        finally:
            self.open -= 1
            await stream.aclose()


async def healthy(stream):
    await stream.send_all(AUDIO_HEAD)
    while True:  # an endless stream: the probe must stop reading by itself
        await stream.send_all(b"\xff\xfb" * 4096)
        await trio.sleep(0.05)


async def not_found(stream):
    await stream.send_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")


async def silent(stream):
    await trio.sleep_forever()


async def endless_headers(stream):
    await stream.send_all(b"HTTP/1.0 200 OK\r\n")
    while True:
        await stream.send_all(b"X-Junk: " + b"a" * 1000 + b"\r\n")


async def garbage(stream):
    await stream.send_all(b"\x00\x01NOT HTTP AT ALL\r\n\r\n")


async def trickle(stream):
    await stream.send_all(AUDIO_HEAD)
    while True:
        await stream.send_all(b"x" * 100)
        await trio.sleep(1.5)


async def stall(stream):
    await stream.send_all(AUDIO_HEAD + b"x" * 2000)
    await trio.sleep_forever()


async def reset_mid_body(stream):
    await stream.send_all(AUDIO_HEAD + b"x" * 3000)
    # SO_LINGER 0 makes close send a TCP reset instead of a FIN.
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.socket.close()


async def start_server(nursery, behaviours, behaviour) -> str:
    listeners = await nursery.start(
        partial(trio.serve_tcp, partial(behaviours.serve, behaviour), 0, host="127.0.0.1")
    )
    port = listeners[0].socket.getsockname()[1]
    return f"http://127.0.0.1:{port}/stream"


@pytest.mark.parametrize(
    ("behaviour", "ok", "reason"),
    [
        (healthy, True, None),
        (not_found, False, "http_error"),
        (silent, False, "read_stall"),
        (endless_headers, False, "http_error"),
        (garbage, False, "http_error"),
        (trickle, False, "insufficient_data"),
        (stall, False, "read_stall"),
        (reset_mid_body, False, "insufficient_data"),
    ],
)
async def test_each_behaviour_is_a_clear_result_and_leaks_nothing(behaviour, ok, reason, autojump_clock):
    behaviours = Behaviours()
    async with trio.open_nursery() as nursery, httpx.AsyncClient() as client:
        url = await start_server(nursery, behaviours, behaviour)
        started = trio.current_time()
        outcome = await check_url(client, url, SETTINGS)
        took = trio.current_time() - started
        await trio.sleep(0.1)  # let the server notice the probe hung up
        assert behaviours.open == 0, "the probe left its connection open"
        nursery.cancel_scope.cancel()
    assert outcome.ok is ok
    if not ok:
        assert outcome.reason == reason
    assert took <= (5 + 2 + 4) + 1  # never longer than its budget
    assert outcome.bytes_read <= SETTINGS.min_bytes + 65_536  # reads a sample, not the stream
    assert b"icy-metadata: 1" in behaviours.requests[0].lower()


async def test_nothing_listening_is_connection_refused(autojump_clock):
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
    async with httpx.AsyncClient() as client:
        outcome = await check_url(client, f"http://127.0.0.1:{port}/", SETTINGS)
    assert (outcome.ok, outcome.reason) == (False, "connection_refused")


async def test_probes_drive_failover_and_recovery_in_virtual_time(autojump_clock):
    behaviours = Behaviours()
    mode = {"primary": healthy}

    async def switchable(stream):
        await mode["primary"](stream)

    async with trio.open_nursery() as nursery:
        primary = await start_server(nursery, behaviours, switchable)
        backup = await start_server(nursery, behaviours, healthy)
        scenario = focused_with_http(primary, backup)
        published = []
        runner = StationRunner(scenario, published.extend)
        await nursery.start(runner.run)
        await trio.sleep(65)
        mode["primary"] = not_found
        await trio.sleep(150)
        mode["primary"] = healthy
        await trio.sleep(150)
        nursery.cancel_scope.cancel()
    changes = [(e.at_ms // 1000, e.event.TYPE) for e in published if e.event.TYPE.startswith("webstream.")]
    # Checks at 0, 30, 60 pass; 90, 120, 150 fail -> failover after the 5 s grace at 155 s.
    # The primary passes again at 240, 270, 300 -> recovery at 300 s.
    assert changes == [(155, "webstream.failover"), (300, "webstream.recovered")]
    failover = next(e.event for e in published if e.event.TYPE == "webstream.failover")
    assert (failover.failed_url, failover.failover_url, failover.reason) == (primary, backup, "http_error")


def focused_with_http(primary: str, backup: str):
    text = f'''
[scenario]
name = "http-probes"
start = "2026-01-19T10:00:00Z"
duration = "1h"

[[stations]]
id = "main"
name = "Probe FM"
health_interval = "0s"

[[library.tracks]]
id = "one"
title = "One"
duration = "3m"

[[webstreams]]
id = "web"
name = "Real Relay"
urls = ["{primary}", "{backup}"]
probe = "http"

[[schedule]]
days = "daily"
start = "00:00"
duration = "24h"
webstream = "web"
'''
    return parse_scenario(text, "http-probes.toml")
