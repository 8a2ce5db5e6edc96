"""`grimnir-sim serve --access-log` over a real port: a line per request and per WebSocket, no token."""

import re
import signal
import socket
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from server.accesslog import _types, redact_query, target
from tests.serve_support import Server

LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?P<client>127\.0\.0\.1:\d+) (?P<what>.+?)"
    r"(?: (?P<took>\d+\.\dms)| after (?P<lasted>(\d+[dhms]|\d+ms)+))?"
)
UPGRADE = (
    "GET /api/v1/events?types=health&token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def wait_for_connections(served: Server, count: int) -> None:
    deadline = time.monotonic() + 10
    while served.http.get("/api/v1/sim/server").json()["connections"] != count:
        assert time.monotonic() < deadline, f"never {count} connection(s)"
        time.sleep(0.05)


def test_every_request_and_websocket_is_a_line_and_no_token_is_printed():
    served = Server("dj-takeover", "--manual-clock", "--access-log")
    token = served.token
    try:
        assert served.http.get("/api/v1/health").status_code == 200
        public = httpx.get(f"{served.url}/api/v1/public/now-playing?station_id=main&token={token}")
        assert public.status_code == 200
        with connect(f"{served.ws}?types=now_playing,dj_connect,nonsense&token={token}"):
            pass  # the client closes, 1000
        with connect(f"{served.ws}?token={token}") as client:
            client.close(4000)
        with pytest.raises(InvalidStatus):
            connect(f"{served.ws}?token=not-a-token")
        dropped = socket.create_connection(served.address)
        dropped.sendall(UPGRADE.format(token=token).encode())
        assert dropped.recv(12) == b"HTTP/1.1 101"
        dropped.close()  # no close frame: the connection just ends
        wait_for_connections(served, 0)
        with connect(f"{served.ws}?types=health&token={token}"):
            wait_for_connections(served, 1)
            served.process.send_signal(signal.SIGTERM)  # the server closes it: 1001
            assert served.process.wait(timeout=15) == 0
    finally:
        served.stop()
    log = served.process.stderr.read()
    assert token not in log and "not-a-token" not in log
    entries = [LINE.fullmatch(line) for line in log.splitlines() if not line.startswith("grimnir-sim: ")]
    assert None not in entries, log
    polls = [e for e in entries if e["what"] == "GET /api/v1/sim/server 200"]
    assert polls and all(e["took"] for e in polls)
    entries = [e for e in entries if e not in polls]
    assert [e["what"] for e in entries] == [
        "GET /api/v1/health 200",
        "GET /api/v1/public/now-playing?station_id=main&token=[redacted] 200",
        "WS open /api/v1/events types=dj_connect,now_playing",
        "WS close 1000 by client",
        "WS open /api/v1/events types=health,now_playing",
        "WS close 4000 by client",
        "GET /api/v1/events?token=[redacted] 401",
        "WS open /api/v1/events types=health",
        "WS close 1006 by client",
        "WS open /api/v1/events types=health",
        "WS close 1001 by server",
    ]
    http = [entries[i] for i in (0, 1, 6)]
    assert all(e["took"] and not e["lasted"] for e in http)
    for opened, closed in ((2, 3), (4, 5), (7, 8), (9, 10)):
        assert entries[opened]["client"] == entries[closed]["client"]
        assert entries[closed]["lasted"] and not entries[opened]["took"]


def test_without_the_flag_nothing_is_logged():
    served = Server("dj-takeover", "--manual-clock")
    try:
        assert served.http.get("/api/v1/health").status_code == 200
        with connect(f"{served.ws}?token={served.token}"):
            pass
    finally:
        assert served.stop() == 0
    log = served.process.stderr.read()
    assert "/api/v1/" not in log and "WS " not in log, log


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("token=abc.def.ghi", "token=[redacted]"),
        ("types=now_playing&token=abc&x=1", "types=now_playing&token=[redacted]&x=1"),
        ("TOKEN=abc&%74oken=def&tok%65n=ghi", "TOKEN=[redacted]&%74oken=[redacted]&tok%65n=[redacted]"),
        ("token=a&token=b", "token=[redacted]&token=[redacted]"),
        ("tokens=abc&mytoken=abc&token", "tokens=abc&mytoken=abc&token"),
    ],
)
def test_every_token_value_is_redacted(query, logged):
    assert redact_query(query) == logged


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        (b"types=now_playing&types=dj_connect", "dj_connect,now_playing"),
        (b"types=&types=health", "health"),
        (b"types=&types=", "health,now_playing"),
        (b"", "health,now_playing"),
    ],
)
def test_the_types_logged_are_every_types_parameter_as_the_stream_reads_them(query, logged):
    assert _types({"query_string": query}) == logged


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOiJ1In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("raw_path", "query"),
    [
        (b"/api/v1/sim/state", f"access_token={JWT}"),
        (b"/api/v1/sim/state", f"token%5B%5D={JWT}"),
        (b"/api/v1/sim/state", f"+token={JWT}"),
        (f"/api/v1/x/{JWT}".encode(), ""),
    ],
)
def test_a_jwt_anywhere_in_the_target_is_redacted(raw_path, query):
    logged = target({"raw_path": raw_path, "path": raw_path.decode(), "query_string": query.encode()})
    assert JWT not in logged and "[redacted]" in logged


def test_a_message_over_the_limit_is_logged_as_closed_by_the_server():
    served = Server("dj-takeover", "--manual-clock", "--access-log")
    try:
        with connect(f"{served.ws}?types=health&token={served.token}") as client:
            client.send("x" * 5000)
            with pytest.raises(ConnectionClosed):
                client.recv(timeout=10)
        wait_for_connections(served, 0)
    finally:
        served.stop()
    assert " WS close 1009 by server after " in served.process.stderr.read()
