"""A REST answer sent before the request's body arrived never leaves the keep-alive connection stuck.

Raw sockets against ``grimnir-sim serve`` in a subprocess: the body is sent only after
the answer has come, as a slow client's would, then the next request on the same
connection must be answered, or the connection closed, at once.
"""

import socket
import time

import pytest

from tests.serve_support import Server

BODY = b"x" * 200_000
FOLLOW_UP = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def server():
    started = Server("dj-takeover", "--manual-clock")
    yield started
    started.stop()


def answered_early_then_follow_up(server, request_head: str) -> str:
    """Send the head, wait for the answer, then the body and a second request: what became of it."""
    with socket.create_connection(server.address, timeout=5) as client:
        client.sendall(request_head.encode())
        first = client.recv(65536)
        assert first.startswith(b"HTTP/1.1 4"), first
        try:
            client.sendall(BODY + FOLLOW_UP)
            received = b""
            while b'{"status":"ok"}' not in received:
                chunk = client.recv(65536)
                if not chunk:
                    return "closed"
                received += chunk
            return "answered"
        except (BrokenPipeError, ConnectionResetError):
            return "closed"
        except TimeoutError:
            return "stuck"


@pytest.mark.parametrize(
    "head",
    [
        # 401: no token, the handler never reads the body
        "POST /api/v1/sim/djs/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n",
        # 404: no such path
        f"POST /api/v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BODY)}\r\n\r\n",
        # 413: announced too large
        "POST /api/v1/sim/advance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n",
    ],
    ids=["401", "404", "413"],
)
def test_the_next_request_is_answered_or_the_connection_closed(server, head):
    outcomes = [answered_early_then_follow_up(server, head) for _ in range(15)]
    assert "stuck" not in outcomes, outcomes


def close_wait_sockets(port: int) -> int:
    """Server-side sockets of ``port`` in CLOSE-WAIT (the client left, the server never closed)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                if int(local.rsplit(":", 1)[1], 16) == port and state == "08":
                    count += 1
    return count


def test_no_socket_outlives_a_client_that_left(server):
    host, port = server.address
    head = (
        "POST /api/v1/sim/djs/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode()
    clients = []
    try:
        for _ in range(30):
            client = socket.create_connection((host, port), timeout=5)
            clients.append(client)
            client.sendall(head)
            client.recv(65536)  # the 401
            try:
                client.sendall(BODY + FOLLOW_UP)
                client.shutdown(socket.SHUT_WR)  # the client is done: its FIN, and nothing unread reset
            except OSError:
                pass  # the server closed (or reset) first: fine
        deadline = time.monotonic() + 5
        while close_wait_sockets(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert close_wait_sockets(port) == 0
    finally:
        for client in clients:
            client.close()
    assert server.http.get("/api/v1/health").json() == {"status": "ok"}


def test_an_idle_connection_the_client_leaves_is_closed_at_once(server):
    # Regression (issue 11, M1): Hypercorn left the server's side of an idle keep-alive connection
    # open (CLOSE-WAIT) until its 5 s keep-alive timeout once the client had closed its side, as
    # every HTTP client pool does when it lets a connection go.
    for _ in range(10):
        with socket.create_connection(server.address, timeout=5) as client:
            client.sendall(FOLLOW_UP)
            received = b""
            while b'{"status":"ok"}' not in received:
                received += client.recv(65536)
            client.shutdown(socket.SHUT_WR)
            client.settimeout(2.5)  # half of the keep-alive timeout the server used to wait out
            assert client.recv(65536) == b"", "the server answered nothing more, yet did not close"


def read_to_end(client: socket.socket) -> bytes:
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def test_a_client_that_half_closes_after_its_request_still_gets_the_whole_answer(server):
    # Regression (review): a client that shut its sending side once its request was out got
    # the head of the answer and an empty body, or for a POST no answer at all: Hypercorn
    # told the app the client was gone, and Quart-Trio cancelled the handler mid-answer.
    body = b'{"by": "1m"}'
    requests = {
        "GET": FOLLOW_UP,
        "POST": (
            b"POST /api/v1/sim/advance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + b"Authorization: Bearer %s\r\n" % server.token.encode()
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        ),
    }
    for name, request in requests.items():
        for _ in range(5):
            with socket.create_connection(server.address, timeout=5) as client:
                client.sendall(request)
                client.shutdown(socket.SHUT_WR)
                answer = read_to_end(client)
            head, _, content = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), (name, answer[:200])
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            assert len(content) == length, (name, answer[:300])


def test_complete_requests_keep_their_connection():
    # Regression (review): every answer said Connection: close, GETs included, because the app
    # answered before the body reader had seen the (empty, complete) body: no keep-alive at all.
    started = Server("dj-takeover", "--manual-clock")
    try:
        with socket.create_connection(started.address, timeout=5) as client:
            for _ in range(5):
                client.sendall(FOLLOW_UP)
                received = b""
                while b'{"status":"ok"}' not in received:
                    chunk = client.recv(65536)
                    assert chunk, "the server closed a keep-alive connection after a complete request"
                    received += chunk
                assert b"connection: close" not in received.lower()
            body = b'{"by": "1m"}'
            client.sendall(
                b"POST /api/v1/sim/advance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + b"Content-Length: %d\r\n\r\n" % len(body)
                + body
                + FOLLOW_UP
            )
            received = b""
            while received.count(b"HTTP/1.1 ") < 2:
                chunk = client.recv(65536)
                assert chunk, "the server closed a keep-alive connection after a complete request"
                received += chunk
            assert received.startswith(b"HTTP/1.1 401") and b"connection: close" not in received.lower()
    finally:
        started.stop()


@pytest.mark.parametrize(
    "upgrade",
    [
        b"Sec-WebSocket-Version: 13\r\n",  # no Sec-WebSocket-Key
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
    ],
    ids=["no-key", "version-8"],
)
def test_a_refused_upgrade_closes_its_connection(server, upgrade):
    # Regression (review): Hypercorn answered a broken upgrade 400 but never ended the stream, so
    # the connection stayed open for good (and a request after it was never answered).
    with socket.create_connection(server.address, timeout=5) as client:
        client.sendall(
            b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + upgrade
            + b"\r\n"
        )
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        assert received.startswith(b"HTTP/1.1 400") and b'"error"' in received
