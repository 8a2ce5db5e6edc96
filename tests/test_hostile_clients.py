"""What one token holder can make the server hold: no compression, small messages, no endless reading.

Over raw sockets against ``grimnir-sim serve`` in a subprocess, so the frames are
exactly what a hostile client sends and the server's memory can be read from /proc.
"""

import base64
import json
import os
import re
import socket
import struct
import time

import pytest

from tests.serve_support import Server

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server():
    started = Server("dj-takeover", "--manual-clock")
    yield started
    started.stop()


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def upgrade(server, *, extensions: str | None = None) -> tuple[socket.socket, bytes]:
    """A raw WebSocket handshake; the socket and the response head."""
    host, port = server.address
    sock = socket.create_connection(server.address, timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET /api/v1/events?types=dj_connect&token={server.token} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    )
    if extensions is not None:
        head += f"Sec-WebSocket-Extensions: {extensions}\r\n"
    sock.sendall((head + "\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        assert chunk, "closed during the handshake"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock, response.split(b"\r\n\r\n", 1)[0]


def frame(opcode: int, payload: bytes, *, fin: bool, rsv1: bool = False) -> bytes:
    """A masked client frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def close_code_then_eof(sock: socket.socket, keep_sending: bytes = b"") -> tuple[int | None, bool]:
    """Read until EOF (sending ``keep_sending`` meanwhile); the close code seen, and whether EOF came."""
    received = b""
    sock.settimeout(0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if keep_sending:
            try:
                sock.send(keep_sending)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                keep_sending = b""
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    else:
        return _close_code(received), False
    return _close_code(received), True


def _close_code(received: bytes) -> int | None:
    at = received.find(b"\x88")
    if at < 0 or len(received) < at + 4:
        return None
    return struct.unpack("!H", received[at + 2 : at + 4])[0]


def test_compression_is_never_negotiated(server):
    sock, head = upgrade(server, extensions="permessage-deflate; client_max_window_bits")
    try:
        assert b"sec-websocket-extensions" not in head.lower()
    finally:
        sock.close()


def test_a_compressed_frame_is_a_protocol_error_not_a_bomb(server):
    """A client that compresses anyway (RSV1 set without the extension) is closed, nothing inflated."""
    sock, _ = upgrade(server, extensions="permessage-deflate")
    try:
        sock.sendall(frame(0x1, b"\x00" * 1024, fin=True, rsv1=True))
        code, ended = close_code_then_eof(sock)
        assert ended and code in (None, 1002)  # wsproto's parse error ends it, with or without a close
    finally:
        sock.close()


def test_a_message_over_4_kib_is_refused_with_1009_and_the_connection_ends(server):
    sock, _ = upgrade(server)
    try:
        sock.sendall(frame(0x1, b"x" * (4 * 1024 + 1), fin=True))
        code, ended = close_code_then_eof(sock)
        assert (code, ended) == (1009, True)
    finally:
        sock.close()


def test_a_small_message_is_read_and_ignored(server):
    sock, _ = upgrade(server)
    try:
        sock.sendall(frame(0x1, b'{"type":"pong"}', fin=True))
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing comes back, and the connection stays open
    finally:
        sock.close()


def test_an_endless_fragmented_message_is_cut_off_and_never_buffered(server):
    before = rss(server.process.pid)
    sock, _ = upgrade(server)
    try:
        sock.sendall(frame(0x1, b"x" * 1024, fin=False))  # a text message that never finishes
        more = frame(0x0, b"y" * 60_000, fin=False)
        code, ended = close_code_then_eof(sock, keep_sending=more * 50)  # ~3 MB a round, for up to 10 s
        assert (code, ended) == (1009, True)
    finally:
        sock.close()
    assert rss(server.process.pid) - before < 1 * MiB
    assert server.http.get("/api/v1/health").json() == {"status": "ok"}


def raw_answer(server, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` as it is; the answer's head and body."""
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < length:
            body += sock.recv(65536)
    return head, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "error"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400", "bad_request"),
        (
            b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
            b"431",
            "request_header_fields_too_large",
        ),
        (  # an upgrade without its Sec-WebSocket-Key
            b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n",
            b"400",
            "bad_request",
        ),
    ],
    ids=["malformed", "head-too-large", "bad-upgrade"],
)
def test_hypercorns_own_refusals_are_json_like_every_other_error(server, request_bytes, status, error):
    head, body = raw_answer(server, request_bytes)
    assert head.split(b" ")[1] == status
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"] == error


@pytest.mark.parametrize("coding", ["gzip, chunked", "chunked, gzip", "gzip"])
def test_a_transfer_coding_other_than_chunked_alone_is_a_json_501_that_closes_the_connection(server, coding):
    """RFC 9112 section 6.1: a transfer coding the server does not understand SHOULD get 501, and
    h11 implements chunked only. Where chunked is not the last coding (``chunked, gzip``, ``gzip``)
    section 6.3 asks for 400; h11 refuses those heads with the same 501 before the app sees them.
    Either way the connection is closed, so no part of the body is read as another request."""
    body = b"2\r\n{}\r\n0\r\n\r\n"
    request = (
        b"POST /api/v1/playout/skip HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + server.token.encode() + b"\r\n"
        b"Transfer-Encoding: " + coding.encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):  # to the end: the server closes the connection
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"501"
    assert b"connection: close" in head.lower()
    assert json.loads(rest)["error"] == "not_implemented"  # one answer, nothing after it
