"""Hostile-client memory benchmark: how much server memory one hostile client can take.

    python bench/hostile.py                          # every attack, 3 runs each (about 8 minutes)
    python bench/hostile.py --attacks deflate-bomb,ping-flood --runs 5 --json hostile.json
    python bench/hostile.py --quick --runs 1         # every attack once, briefly (the test's run)

Each run of each attack starts its own server (``grimnir-sim serve
bench/hostile-station.toml --manual-clock``: the fan-out benchmark's station with a
harbor and one DJ; each ``POST /api/v1/playout/skip`` is exactly one ``now_playing``),
pinned to CPU 0, so no attack's residue hides another's. This process, pinned to CPU 1,
then:

1. connects one normal authenticated WebSocket client (``types=now_playing``) that stays
   connected and reads throughout, publishes events to it (10 skips and two days of the
   station), and runs one normal harbor source session (a DJ connects, streams 64 KiB,
   leaves);
2. takes the baseline: the server's VmRSS with that client connected, settled;
3. resets the server's peak RSS (``5`` into ``/proc/PID/clear_refs``), then lets one
   hostile client (a valid token; on the harbor, a DJ's password or none) attack,
   sampling VmRSS several hundred times a second meanwhile;
4. the peak: VmHWM after the attack (the kernel's own high-water mark, so nothing
   between two samples is missed), above the baseline;
5. the residual: VmRSS once the hostile client has left and the server has settled,
   above the baseline;
6. checks that the server still serves: the normal client receives one more event and
   ``/api/v1/health`` answers.

The target (issue 11): one hostile client raises RSS by at most 1 MiB above a normal
connection, at its peak and after it has left. Prints each run, then a table with the
median and the spread (min to max) of every attack; ``--json`` writes every run.
"""

import argparse
import asyncio
import base64
import datetime
import json
import os
import platform
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from fanout import ROOT, Rest, launch, pinned_to, rss_kib, stop

SCENARIO = ROOT / "bench" / "hostile-station.toml"
DJ_CREDENTIALS = base64.b64encode(b"mike:bench-password").decode()  # the scenario's DJ
TARGET_KIB = 1024
PING = b'{"type":"ping"}'
CUT_OFF_DROPS = 256  # a client that loses this many events in a row is closed (docs/protocol.md)
CHUNK = 64 * 1024  # a multiple of 4: a masked chunk repeated is the same data masked


# -- the server's memory -------------------------------------------------------------------------


def status_kib(pid: int, field: str) -> int:
    """A ``Vm…`` line of /proc/PID/status, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def settled_rss_kib(pid: int) -> int:
    """The median of a few VmRSS readings 20 ms apart (the loop's own ticks move it by a page or two)."""
    readings = []
    for _ in range(7):
        readings.append(rss_kib(pid))
        time.sleep(0.02)
    return int(statistics.median(readings))


def reset_peak(pid: int) -> bool:
    """Make VmHWM the current VmRSS (Linux 4.0+); False where the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


class Sampler(threading.Thread):
    """Reads VmRSS in a loop until stopped; keeps the highest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except (OSError, RuntimeError):  # the server died: the run reports it
                return
            self.samples += 1
            self.done.wait(0.001)

    def stop(self) -> None:
        self.done.set()
        self.join()


# -- frames, requests and what comes back -----------------------------------------------------


def masked(data: bytes, key: bytes) -> bytes:
    """RFC 6455's client masking of ``data`` with ``key`` (4 bytes), all at once."""
    size = len(data)
    pad = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(size, "big")


def frame_header(opcode: int, length: int, key: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """A masked client frame's header declaring ``length`` payload bytes (any 63-bit length)."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        return struct.pack("!BB", first, 0x80 | length) + key
    if length < 65_536:
        return struct.pack("!BBH", first, 0x80 | 126, length) + key
    return struct.pack("!BBQ", first, 0x80 | 127, length) + key


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    key = os.urandom(4)
    return frame_header(opcode, len(payload), key, fin=fin, rsv1=rsv1) + masked(payload, key)


def upgrade_head(host: str, port: int, token: str, *, types: str | None = "now_playing") -> bytes:
    """A WebSocket upgrade request's head, without its closing blank line."""
    query = f"token={token}" + (f"&types={types}" if types else "")
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /api/v1/events?{query} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    ).encode()


class Received:
    """What a server sends back, parsed as it arrives and never kept whole: an HTTP head's
    status line, then (``frames``) WebSocket frames: counted by opcode, the text ones that are
    not pings counted as events, the close code kept."""

    def __init__(self, *, head: bool, frames: bool) -> None:
        self.status: str | None = None
        self.head = bytearray() if head else None
        self.frames = frames
        self.buffer = bytearray()
        self.bytes = 0
        self.by_opcode: dict[int, int] = {}
        self.events = 0
        self.close_code: int | None = None
        self.extensions: str | None = None

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        if self.head is not None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                del self.head[:-65_536]  # (an endless head from the server: keep its tail only)
                return
            lines = bytes(self.head[:end]).decode("latin-1").split("\r\n")
            self.status = lines[0]
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-extensions":
                    self.extensions = value.strip()
            data = bytes(self.head[end + 4 :])
            self.head = None
        if self.frames and data:
            self._parse(data)

    def _parse(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        at = 0
        while len(buffer) - at >= 2:
            opcode, length, start = buffer[at] & 0x0F, buffer[at + 1] & 0x7F, at + 2
            if length == 126:
                length, start = int.from_bytes(buffer[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                length, start = int.from_bytes(buffer[at + 2 : at + 10], "big"), at + 10
            if len(buffer) < start + length:
                break
            self.by_opcode[opcode] = self.by_opcode.get(opcode, 0) + 1
            if opcode == 1 and buffer[start : start + length] != PING:
                self.events += 1
            elif opcode == 8 and self.close_code is None and length >= 2:
                self.close_code = int.from_bytes(buffer[start : start + 2], "big")
            at = start + length
        del buffer[:at]


def connect(host: str, port: int, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:  # before connecting: the window the server sees is this small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect((host, port))
    return sock


def handshake(sock: socket.socket, request: bytes, received: Received) -> None:
    """Send ``request`` and read until the answer's head has come (the rest stays in ``received``)."""
    sock.sendall(request)
    while received.status is None:
        data = sock.recv(65_536)
        if not data:
            raise RuntimeError("closed before answering the handshake")
        received.feed(data)


def exchange(
    sock: socket.socket,
    received: Received,
    deadline: float,
    next_chunk: Callable[[], bytes | None],
    done: Callable[[], bool] = lambda: False,
) -> dict:
    """Send ``next_chunk()`` as fast as the server takes it (until it returns None) while reading
    everything that comes back, until the server ends the connection, ``deadline`` passes or
    ``done()``; then close the connection."""
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    pending = next_chunk()
    sent = 0
    ended = ""
    selector.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))
    try:
        while not ended:
            left = deadline - time.monotonic()
            if left <= 0 or done():
                ended = "deadline" if left <= 0 else "done"
                break
            for _, mask in selector.select(min(left, 0.1)):
                if mask & selectors.EVENT_READ:
                    try:
                        data = sock.recv(262_144)
                    except BlockingIOError:
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        ended = "closed by the server"
                        break
                    if data:
                        received.feed(data)
                if mask & selectors.EVENT_WRITE and pending:
                    try:
                        count = sock.send(pending)
                    except BlockingIOError:
                        count = 0
                    except OSError:  # reset, or the server shut its side: only reading is left
                        pending = None
                        count = 0
                    sent += count
                    if pending is not None:
                        pending = pending[count:] or next_chunk()
                    if not pending:
                        selector.modify(sock, selectors.EVENT_READ)
    finally:
        selector.close()
        sock.close()
    return {"sent_bytes": sent, "ended": ended, "received_bytes": received.bytes}


def repeating(chunk: bytes, first: bytes = b"") -> Callable[[], bytes]:
    """``first``, then ``chunk`` again and again (memoryviews: nothing copied per send)."""
    parts = [memoryview(first)] if first else []
    view = memoryview(chunk)

    def next_chunk() -> bytes:
        return parts.pop() if parts else view

    return next_chunk


def once(data: bytes) -> Callable[[], bytes | None]:
    parts = [memoryview(data)]
    return lambda: parts.pop() if parts else None


def websocket_details(received: Received) -> dict:
    return {
        "status": received.status,
        "close_code": received.close_code,
        "frames_by_opcode": {str(k): v for k, v in sorted(received.by_opcode.items())},
    }


# -- the station ----------------------------------------------------------------------------


class Target:
    """One served station: where it listens, its token, and its process."""

    def __init__(self, process: subprocess.Popen, banner: dict[str, str]) -> None:
        self.process = process
        self.pid = process.pid
        self.token = banner["token"]
        host, port = banner["REST"].removeprefix("http://").removesuffix("/api/v1/health").rsplit(":", 1)
        self.host, self.port = host, int(port)
        # icecast://DJ:PASSWORD@HOST:PORT/MOUNT
        self.harbor_port = int(banner["harbor"].rsplit("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        self.rest = Rest(self.host, self.port, self.token)

    def call(self, method: str, path: str, body: bytes = b"") -> dict:
        return asyncio.run(self.rest.call(method, path, body))

    def publish_a_day(self) -> int:
        """Advance the manual clock a day: the station plays through it, about 345 ``now_playing``
        (the count returned).

        (``skip`` publishes one event a request: a slow reader's kernel buffers took the first
        4,400 or so, and at 100 requests a second that alone took most of a minute.)
        """
        events = self.call("POST", "/api/v1/sim/advance", b'{"by":"1d"}')["events"]
        return sum(event["type"] == "now_playing" for event in events)

    def skips(self, count: int) -> None:
        async def skipping() -> None:
            for _ in range(count):
                await self.rest.skip()

        asyncio.run(skipping())


class NormalClient(threading.Thread):
    """The baseline's normal client: subscribed to ``now_playing``, reading everything, all along."""

    def __init__(self, target: Target) -> None:
        super().__init__(daemon=True)
        self.sock = connect(target.host, target.port)
        self.received = Received(head=True, frames=True)
        handshake(self.sock, upgrade_head(target.host, target.port, target.token) + b"\r\n", self.received)
        if not self.received.status.startswith("HTTP/1.1 101"):
            raise RuntimeError(f"the normal client was refused: {self.received.status}")
        self.open = True
        self.sock.settimeout(None)
        self.start()

    def run(self) -> None:
        try:
            while data := self.sock.recv(65_536):
                self.received.feed(data)
        except OSError:
            pass
        self.open = False

    def wait_for_events(self, count: int, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while self.received.events < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.received.events >= count

    def close(self) -> None:
        self.sock.close()


def source_session(target: Target, audio: bytes, *, seconds: float = 0) -> dict:
    """One DJ's source connection to the harbor: ``audio`` once, or again and again for ``seconds``."""
    sock = connect(target.host, target.harbor_port)
    received = Received(head=True, frames=False)
    handshake(sock, f"PUT /live HTTP/1.0\r\nAuthorization: Basic {DJ_CREDENTIALS}\r\n"
                    "Content-Type: audio/mpeg\r\n\r\n".encode(), received)  # fmt: skip
    if received.status != "HTTP/1.0 200 OK":
        sock.close()
        raise RuntimeError(f"the harbor refused the DJ: {received.status}")
    if seconds:
        details = exchange(sock, received, time.monotonic() + seconds, repeating(audio))
    else:
        sock.sendall(audio)
        sock.close()
        details = {"sent_bytes": len(audio)}
    return {"status": received.status, **details}


def wait_for_no_source(target: Target, timeout: float = 10) -> None:
    """Until the harbor has seen the source leave (its session is over on the station's side too)."""
    deadline = time.monotonic() + timeout
    while target.call("GET", "/api/v1/sim/state")["harbor"]["sources"] and time.monotonic() < deadline:
        time.sleep(0.02)


# -- the attacks ------------------------------------------------------------------------------


class Budget:
    """How long each attack lasts and how big its bomb is (``--quick`` makes both small)."""

    def __init__(self, seconds: float, bomb_mib: int) -> None:
        self.seconds = seconds
        self.bomb_mib = bomb_mib


def deflate_bomb(inflated_mib: int) -> bytes:
    """Raw DEFLATE data that inflates to ``inflated_mib`` MiB of zeros: about 1 KB per MiB.

    Each MiB is compressed on its own (a full flush resets the history), so every block is
    the same bytes and the bomb is one block repeated: a 1,024 MiB bomb in milliseconds.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1024 * 1024)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * inflated_mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def websocket(target: Target, *, extensions: str | None = None, types: str | None = "now_playing",
              receive_buffer: int | None = None) -> tuple[socket.socket, Received]:  # fmt: skip
    sock = connect(target.host, target.port, receive_buffer=receive_buffer)
    received = Received(head=True, frames=True)
    head = upgrade_head(target.host, target.port, target.token, types=types)
    if extensions is not None:
        head += f"Sec-WebSocket-Extensions: {extensions}\r\n".encode()
    handshake(sock, head + b"\r\n", received)
    if not received.status.startswith("HTTP/1.1 101"):
        raise RuntimeError(f"the hostile client was refused: {received.status}")
    return sock, received


def reference_normal_client(target: Target, budget: Budget) -> dict:
    """Not an attack: a second normal client, subscribed to everything, reading every event of two
    published days (and for the run's length at least), then leaving: what the target is "above"."""
    sock, received = websocket(target, types=None)
    at_least_until = time.monotonic() + budget.seconds
    published: list[int] = []
    outcome: dict = {}

    def read_all() -> None:
        def done() -> bool:
            return bool(published) and received.events >= published[0] and time.monotonic() > at_least_until

        outcome.update(exchange(sock, received, time.monotonic() + 60, lambda: None, done))

    reader = threading.Thread(target=read_all)
    reader.start()
    published.append(target.publish_a_day() + target.publish_a_day())
    reader.join()
    return {"events_published": published[0], "events_read": received.events, **outcome,
            **websocket_details(received)}  # fmt: skip


def attack_deflate_bomb(target: Target, budget: Budget) -> dict:
    """Offer permessage-deflate, then send one compressed message (RSV1) that inflates to 1 GiB."""
    sock, received = websocket(target, extensions="permessage-deflate; client_max_window_bits")
    refused = received.extensions is None
    bomb = deflate_bomb(budget.bomb_mib)
    details = exchange(sock, received, time.monotonic() + max(budget.seconds, 5),
                       once(frame(0x1, bomb, rsv1=True)))  # fmt: skip
    return {
        "extension_refused": refused,
        "bomb_bytes": len(bomb),
        "bomb_inflates_to_bytes": budget.bomb_mib * 1024 * 1024,
        **details,
        **websocket_details(received),
    }


def attack_endless_fragments(target: Target, budget: Budget) -> dict:
    """A text message that never finishes: a first fragment, then 60 KB continuations forever."""
    sock, received = websocket(target)
    first = frame(0x1, b"x" * 1024, fin=False)
    more = frame(0x0, b"y" * 60_000, fin=False) * 16
    details = exchange(sock, received, time.monotonic() + budget.seconds, repeating(more, first))
    return {**details, **websocket_details(received)}


def huge_frame(declared: int) -> Callable[[Target, Budget], dict]:
    """One text frame declaring ``declared`` payload bytes, its data streamed for the run."""

    def attack(target: Target, budget: Budget) -> dict:
        sock, received = websocket(target)
        key = os.urandom(4)
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, declared) + key
        data = masked(b"z" * CHUNK, key)
        details = exchange(sock, received, time.monotonic() + budget.seconds, repeating(data, header))
        return {"declared_length": declared, **details, **websocket_details(received)}

    return attack


def attack_message_flood(target: Target, budget: Budget) -> dict:
    """Small messages as fast as the server reads them: a flood of `{"type":"pong"}`."""
    sock, received = websocket(target)
    batch = frame(0x1, b'{"type":"pong"}') * 2_000
    details = exchange(sock, received, time.monotonic() + budget.seconds, repeating(batch))
    return {"messages_sent": details["sent_bytes"] // len(frame(0x1, b'{"type":"pong"}')),
            **details, **websocket_details(received)}  # fmt: skip


def attack_ping_flood(target: Target, budget: Budget) -> dict:
    """WebSocket pings (control frames, 125-byte payloads) as fast as the server answers them."""
    sock, received = websocket(target)
    ping = frame(0x9, b"p" * 125)
    details = exchange(sock, received, time.monotonic() + budget.seconds, repeating(ping * 500))
    return {"pings_sent": details["sent_bytes"] // len(ping), **details, **websocket_details(received)}


def attack_slow_reader(target: Target, budget: Budget) -> dict:
    """Subscribe to everything and never read (a 4 KiB receive buffer) while events are published,
    until the server has dropped 256 in a row for this client (and so closes it), then read it all."""
    sock, received = websocket(target, types=None, receive_buffer=4096)
    published = dropped = 0
    deadline = time.monotonic() + 60
    while dropped < CUT_OFF_DROPS and time.monotonic() < deadline:
        published += target.publish_a_day()
        dropped = target.call("GET", "/api/v1/sim/server")["events_dropped"]
    details = exchange(sock, received, time.monotonic() + 15, lambda: None)
    return {"events_published": published, "events_dropped": dropped, "events_read": received.events,
            **details, **websocket_details(received)}  # fmt: skip


def _endless_head(target: Target, port: int, head: bytes, line: bytes, budget: Budget) -> dict:
    sock = connect(target.host, port)
    received = Received(head=True, frames=False)
    details = exchange(sock, received, time.monotonic() + budget.seconds, repeating(line * 64, head))
    return {"status": received.status, **details}


def attack_upgrade_many_headers(target: Target, budget: Budget) -> dict:
    """An upgrade request whose head never ends: header line after header line."""
    head = upgrade_head(target.host, target.port, target.token)
    return _endless_head(target, target.port, head, b"X-Flood: " + b"a" * 50 + b"\r\n", budget)


def attack_upgrade_huge_header(target: Target, budget: Budget) -> dict:
    """An upgrade request with one header line that never ends."""
    head = upgrade_head(target.host, target.port, target.token) + b"X-Huge: "
    return _endless_head(target, target.port, head, b"a" * 1024, budget)


def attack_harbor_endless_head(target: Target, budget: Budget) -> dict:
    """On the harbor port: a source request whose head never ends."""
    head = f"PUT /live HTTP/1.0\r\nAuthorization: Basic {DJ_CREDENTIALS}\r\n".encode()
    return _endless_head(target, target.harbor_port, head, b"Ice-Flood: " + b"a" * 50 + b"\r\n", budget)


def attack_harbor_endless_body(target: Target, budget: Budget) -> dict:
    """On the harbor port, with a DJ's password: audio as fast as the harbor reads it, for the run."""
    details = source_session(target, os.urandom(CHUNK), seconds=budget.seconds)
    wait_for_no_source(target)
    return details


ATTACKS: dict[str, Callable[[Target, Budget], dict]] = {
    "normal-client": reference_normal_client,
    "deflate-bomb": attack_deflate_bomb,
    "endless-fragments": attack_endless_fragments,
    # 2^63 sets the length's most significant bit, which RFC 6455 requires to be 0; 2^63 - 1
    # is the most a frame may declare.
    "huge-frame": huge_frame(2**63),
    "huge-frame-max": huge_frame(2**63 - 1),
    "message-flood": attack_message_flood,
    "ping-flood": attack_ping_flood,
    "slow-reader": attack_slow_reader,
    "upgrade-many-headers": attack_upgrade_many_headers,
    "upgrade-huge-header": attack_upgrade_huge_header,
    "harbor-endless-head": attack_harbor_endless_head,
    "harbor-endless-body": attack_harbor_endless_body,
}


# -- a run ------------------------------------------------------------------------------------


def warm_up(target: Target, normal: NormalClient) -> None:
    """What a normal day does once: events published and read, the state read, a DJ's session.

    The first events a served station publishes grow its memory by about 750 KiB (allocator
    arenas, mostly), the next thousands by nothing: two days are published here, so the slow
    reader's events are not charged for it.
    """
    target.skips(10)
    published = 10 + target.publish_a_day() + target.publish_a_day()
    normal.wait_for_events(published)
    target.call("GET", "/api/v1/sim/server")
    source_session(target, os.urandom(CHUNK))
    wait_for_no_source(target)
    target.call("GET", "/api/v1/health")


def run_attack(name: str, budget: Budget, settle: float) -> dict:
    process, banner = launch([str(SCENARIO), "--manual-clock"], cpu=0)
    normal = None
    try:
        target = Target(process, banner)
        normal = NormalClient(target)
        warm_up(target, normal)
        time.sleep(settle)
        baseline = settled_rss_kib(target.pid)
        exact = reset_peak(target.pid)
        sampler = Sampler(target.pid)
        sampler.start()
        started = time.monotonic()
        try:
            details = ATTACKS[name](target, budget)
        finally:
            sampler.stop()
        attack_seconds = time.monotonic() - started
        peak = max(status_kib(target.pid, "VmHWM") if exact else 0, sampler.peak)
        time.sleep(settle)
        residual = settled_rss_kib(target.pid)
        events = normal.received.events
        target.skips(1)
        serving = normal.wait_for_events(events + 1) and target.call("GET", "/api/v1/health") == {
            "status": "ok"
        }
        return {
            "attack": name,
            "baseline_kib": baseline,
            "peak_above_kib": peak - baseline,
            "residual_above_kib": residual - baseline,
            "peak_from": "VmHWM" if exact else "samples",
            "sampled_peak_above_kib": sampler.peak - baseline,
            "samples": sampler.samples,
            "attack_seconds": round(attack_seconds, 3),
            "still_serving": bool(serving and normal.open and process.poll() is None),
            "details": details,
        }
    finally:
        if normal is not None:
            normal.close()
        stop(process)


def passed(run: dict) -> bool:
    refused = run["details"].get("extension_refused", True)
    return (
        run["peak_above_kib"] <= TARGET_KIB
        and run["residual_above_kib"] <= TARGET_KIB
        and run["still_serving"]
        and refused
    )


def spread(values: list[int]) -> str:
    """The median and, for several runs, the range: ``-4 KiB (-12 to 0)``.

    "to", not a hyphen: a residual is often negative, and ``-12--4`` or ``-4-0`` reads as one number.
    """
    values = sorted(values)
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:,.0f} KiB"
    return f"{middle:,.0f} KiB ({values[0]:,} to {values[-1]:,})"


def machine() -> dict:
    return {
        "date": datetime.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "processor": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each attack, each in a fresh server")
    parser.add_argument("--attacks", default=",".join(ATTACKS), help="comma-separated (default: all)")
    parser.add_argument("--seconds", type=float, help="how long each attack lasts (default 5; quick 0.5)")
    parser.add_argument(
        "--bomb-mib", type=int, help="what the deflate bomb inflates to (default 1024; quick 16)"
    )
    parser.add_argument("--settle", type=float, help="seconds before each RSS reading (default 1; quick 0.3)")
    parser.add_argument("--quick", action="store_true", help="the quick defaults above (for tests)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    for option, full, quick in (("seconds", 5.0, 0.5), ("bomb_mib", 1024, 16), ("settle", 1.0, 0.3)):
        if getattr(args, option) is None:
            setattr(args, option, quick if args.quick else full)
    names = [name.strip() for name in args.attacks.split(",") if name.strip()]
    unknown = [name for name in names if name not in ATTACKS]
    if unknown or not names or args.runs < 1:
        parser.error(f"--attacks takes some of {', '.join(ATTACKS)}; --runs at least 1")
    pinned_to(1)()  # the server runs on CPU 0
    budget = Budget(args.seconds, args.bomb_mib)
    runs: list[dict] = []
    for name in names:
        for number in range(1, args.runs + 1):
            run = run_attack(name, budget, args.settle)
            run["run"] = number
            run["passed"] = passed(run)
            runs.append(run)
            print(
                f"{name} run {number}: baseline {run['baseline_kib']:,} KiB,"
                f" peak +{run['peak_above_kib']:,} KiB (sampled +{run['sampled_peak_above_kib']:,}),"
                f" residual {run['residual_above_kib']:+,} KiB, still serving: {run['still_serving']};"
                f" {json.dumps(run['details'])}",
                file=sys.stderr, flush=True,
            )  # fmt: skip
    print(f"\none hostile client per fresh server, {args.runs} run(s) each, {args.seconds:g} s attacks; "
          "median (min to max) above the baseline (the server with one normal client):")  # fmt: skip
    print(f"  {'attack':<22} {'peak RSS':>24} {'residual RSS':>24}  {'target':<8} verdict")
    for name in names:
        mine = [run for run in runs if run["attack"] == name]
        verdict = "pass" if all(run["passed"] for run in mine) else "FAIL"
        if name == "normal-client":
            verdict = "(reference)"
        peak = spread([run["peak_above_kib"] for run in mine])
        residual = spread([run["residual_above_kib"] for run in mine])
        print(f"  {name:<22} {peak:>24} {residual:>24}  {'1 MiB':<8} {verdict}")
    if args.json:
        arguments = vars(args) | {"json": str(args.json)}
        args.json.write_text(
            json.dumps({"arguments": arguments, "machine": machine(), "runs": runs}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
