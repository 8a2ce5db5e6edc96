"""Fan-out benchmark: events from the served station to N WebSocket clients, measured from outside.

    python bench/fanout.py [--clients 1000] [--events 30] [--burst 100] [--json out.json]

Three processes on loopback: this orchestrator; ``grimnir-sim serve
bench/bench-station.toml --manual-clock`` (each ``POST /api/v1/playout/skip`` is
exactly one ``now_playing``); and a lean load generator (asyncio, raw sockets, a
minimal frame parser) holding the connections. Figures:

- handshakes per second while the clients connect (authenticated, 200 at a time);
- server RSS growth per connection;
- per event: time from the skip request to the last client's receipt (an upper
  bound of emission-to-receipt: it includes the REST call), p50 and p99;
- delivered messages per second over a burst of back-to-back events.

Times are CLOCK_MONOTONIC, shared by the processes. Every wait is bounded; the
run stops by itself. The per-IP limit is raised for the run (all clients come
from 127.0.0.1).
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "bench" / "bench-station.toml"


def raise_file_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# -- the load generator (its own process) -----------------------------------------------------


class Client:
    __slots__ = ("reader", "received", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[float] = []


async def open_client(host: str, port: int, token: str) -> Client:
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /api/v1/events?types=now_playing&token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    return Client(reader, writer)


async def read_frames(client: Client) -> None:
    """Server frames are unmasked; text frames other than the heartbeat are events."""
    reader = client.reader
    try:
        while True:
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            if first & 0x0F == 1 and payload != b'{"type":"ping"}':
                client.received.append(time.monotonic())
            elif first & 0x0F == 8:
                return
    except (asyncio.IncompleteReadError, ConnectionError):
        return


async def post_skip(host: str, port: int, token: str) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    body = b'{"station_id":"main"}'
    writer.write(
        f"POST /api/v1/playout/skip HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    body = await asyncio.wait_for(reader.readexactly(length), 10)
    writer.close()
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError((head + body)[:300])


async def wait_for_count(clients: list[Client], count: int, timeout: float) -> float:
    """When every client holds ``count`` events: the last receipt time (or raise)."""
    deadline = time.monotonic() + timeout
    while True:
        if all(len(c.received) >= count for c in clients):
            return max(c.received[count - 1] for c in clients)
        if time.monotonic() > deadline:
            behind = sum(len(c.received) < count for c in clients)
            raise TimeoutError(f"{behind} clients still lack event {count} after {timeout}s")
        await asyncio.sleep(0.002)


async def generate(args: argparse.Namespace) -> dict:
    host, port = args.host, args.port
    started = time.monotonic()
    clients: list[Client] = []
    limit = asyncio.Semaphore(200)

    async def one() -> None:
        async with limit:
            clients.append(await open_client(host, port, args.token))

    await asyncio.gather(*(one() for _ in range(args.clients)))
    connect_seconds = time.monotonic() - started
    readers = [asyncio.create_task(read_frames(c)) for c in clients]
    print("CONNECTED", flush=True)
    sys.stdin.readline()  # the orchestrator has read the server's memory

    latencies = []
    for index in range(1, args.events + 1):
        sent = time.monotonic()
        await post_skip(host, port, args.token)
        last = await wait_for_count(clients, index, 30)
        latencies.append(last - sent)

    burst_start = time.monotonic()
    for _ in range(args.burst):
        await post_skip(host, port, args.token)
    last = await wait_for_count(clients, args.events + args.burst, 120)
    burst_seconds = last - burst_start

    for task in readers:
        task.cancel()
    for client in clients:
        client.writer.close()
    latencies.sort()
    return {
        "clients": args.clients,
        "connect_seconds": connect_seconds,
        "handshakes_per_second": args.clients / connect_seconds,
        "events": args.events,
        "last_receipt_p50_ms": 1000 * statistics.median(latencies),
        "last_receipt_p99_ms": 1000 * latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        "burst_events": args.burst,
        "burst_seconds": burst_seconds,
        "delivered_per_second": args.clients * args.burst / burst_seconds,
    }


# -- the orchestrator ------------------------------------------------------------------------


def start_server(clients: int) -> tuple[subprocess.Popen, str, int, str]:
    env = {
        **os.environ,
        "GRIMNIR_JWT_SIGNING_KEY": "bench-signing-key-0123456789abcdef0123",
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "playout", "serve", str(SCENARIO), "--manual-clock", "--port", "0",
         "--max-connections", str(clients + 100), "--per-ip-per-minute", str(10 * clients + 1000)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=raise_file_limit,
    )  # fmt: skip
    url = token = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (url is None or token is None):
        line = server.stdout.readline().strip()
        if line.startswith("REST:"):
            url = line.split()[1].removesuffix("/api/v1/health")
        elif line.startswith("token:"):
            token = line.split()[1]
    if url is None or token is None:
        server.kill()
        raise RuntimeError("the server did not start")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return server, host, int(port), token


def run_once(args: argparse.Namespace) -> dict:
    server, host, port, token = start_server(args.clients)
    try:
        time.sleep(0.5)
        baseline = rss_kib(server.pid)
        generator = subprocess.Popen(
            [sys.executable, __file__, "--role", "generator", "--host", host, "--port", str(port),
             "--token", token, "--clients", str(args.clients), "--events", str(args.events),
             "--burst", str(args.burst)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=raise_file_limit,
        )  # fmt: skip
        line = generator.stdout.readline().strip()
        if line != "CONNECTED":
            raise RuntimeError(f"the load generator failed: {line}")
        time.sleep(1)
        connected = rss_kib(server.pid)
        generator.stdin.write("go\n")
        generator.stdin.flush()
        result = json.loads(generator.stdout.readline())
        generator.wait(timeout=60)
        result["server_rss_kib_per_connection"] = (connected - baseline) / args.clients
        return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30, help="events measured one at a time")
    parser.add_argument("--burst", type=int, default=100, help="events sent back to back for throughput")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--role", choices=("orchestrator", "generator"), default="orchestrator")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.role == "generator":
        raise_file_limit()
        print(json.dumps(asyncio.run(generate(args))), flush=True)
        return 0
    results = []
    for run in range(1, args.runs + 1):
        result = run_once(args)
        results.append(result)
        print(
            f"run {run}: "
            + ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
            file=sys.stderr,
        )
    keys = [
        "handshakes_per_second",
        "server_rss_kib_per_connection",
        "last_receipt_p50_ms",
        "last_receipt_p99_ms",
        "delivered_per_second",
    ]
    print(
        f"\n{args.clients:,} clients, {args.events} measured events, burst of {args.burst}, "
        f"{args.runs} run(s), medians:"
    )
    for key in keys:
        print(f"  {key:<32} {statistics.median(r[key] for r in results):>12,.1f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
