"""Fan-out benchmark: the served station's events to N WebSocket clients, measured from outside.

    python bench/fanout.py                                  # the small run: 1,000 clients, under a minute
    python bench/fanout.py --clients 10000 --hold 120       # the full run (issue 6's table)
    python bench/fanout.py --edges 2                        # station + 2 edge processes over Redis

Processes on loopback: this orchestrator; the server (``grimnir-sim serve
bench/bench-station.toml --manual-clock``, where each ``POST /api/v1/playout/skip`` is
exactly one ``now_playing``), pinned to CPU 0; and a lean load generator (asyncio
protocols and a minimal frame parser, one process for every connection), pinned to
CPU 1. The generator spreads its connections over 127.0.0.2-127.0.0.251 so the
server's default per-IP limit (100 a minute) holds. Phases and figures:

1. connect: handshakes per second (authenticated, ``--in-flight`` at a time), and
   the server's longest event-loop stall while they connect;
2. server RSS growth per connection, one second after the last handshake;
3. hold: ``--hold`` seconds with no events; server CPU over the hold (the
   heartbeat's cost, plus an idle loop), pings received, connections lost;
4. events, one at a time: from the station's emission (the hub's CLOCK_MONOTONIC
   stamp, from ``GET /api/v1/sim/server``) to the last client's receipt; p50, p99;
5. a burst of back-to-back events: delivered messages per second, from the first
   skip request to the last receipt (the REST calls are inside the window);
6. with ``--churn N``: N clients leave and N others arrive; the longest loop stall
   meanwhile, and whether the collector policy ran its full collection.

With ``--edges N`` (N >= 1) a ``redis-server`` on a free port, a station process
(``--role station``) and N edge processes (``--role edge``) are started; the
clients are spread over the edges and the events are driven through the station.

Times are CLOCK_MONOTONIC, shared by the processes. Every wait is bounded; the
run stops by itself. Prints each run, then a table of medians against the
targets; ``--json`` writes every run.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "bench" / "bench-station.toml"
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123"
PING = b'{"type":"ping"}'
SOURCE_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 252)]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

TARGETS = {  # figure: (target, higher is better, format)
    "handshakes_per_second": (1000, True, "{:,.0f}/s"),
    "server_rss_kib_per_connection": (32, False, "{:.1f} KiB"),
    "connect_max_stall_ms": (100, False, "{:.0f} ms"),
    "hold_server_cpu_percent": (5, False, "{:.2f}% of a core"),
    "connections_lost": (0, False, "{:.0f}"),
    "last_receipt_p50_ms": (None, False, "{:.1f} ms"),
    "last_receipt_p99_ms": (None, False, "{:.1f} ms"),
    "delivered_per_second": (50_000, True, "{:,.0f} msgs/s"),
    "churn_max_stall_ms": (100, False, "{:.0f} ms"),  # with --churn only
    "churn_full_collections": (None, False, "{:.0f}"),
}


def raise_file_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def pinned_to(cpu: int | None):
    """A preexec_fn: raise the file limit and run on one CPU (when there are several; None: any)."""

    def setup() -> None:
        raise_file_limit()
        if cpu is not None and len(os.sched_getaffinity(0)) > 1:
            os.sched_setaffinity(0, {cpu % os.cpu_count()})

    return setup


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- the load generator (its own process) -----------------------------------------------------


class Tally:
    """Per event index: how many clients have it, and when the latest of them got it."""

    def __init__(self) -> None:
        self.count: list[int] = []
        self.last: list[float] = []
        self.pings = 0
        self.lost = 0

    def received(self, index: int, now: float) -> None:
        if index == len(self.count):
            self.count.append(0)
            self.last.append(0.0)
        self.count[index] += 1
        self.last[index] = now


class Client(asyncio.Protocol):
    """One WebSocket client: the upgrade, then server frames (unmasked) parsed from a buffer."""

    def __init__(self, request: bytes, tally: Tally, opened: asyncio.Future) -> None:
        self.request = request
        self.tally = tally
        self.opened = opened
        self.buffer = bytearray()
        self.upgraded = False
        self.events = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if not status.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(RuntimeError(status.decode(errors="replace")))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(self)
        now = time.monotonic()
        size, at = len(buffer), 0
        while size - at >= 2:
            opcode, length, start = buffer[at] & 0x0F, buffer[at + 1] & 0x7F, at + 2
            if length == 126:
                if size - at < 4:
                    break
                length, start = int.from_bytes(buffer[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                if size - at < 10:
                    break
                length, start = int.from_bytes(buffer[at + 2 : at + 10], "big"), at + 10
            if size < start + length:
                break
            at = start + length
            if opcode == 1:
                if length == len(PING) and buffer[start:at] == PING:
                    self.tally.pings += 1
                else:
                    self.tally.received(self.events, now)
                    self.events += 1
            elif opcode == 8:
                self.transport.close()
        del buffer[:at]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upgraded:
            self.tally.lost += 1
        elif not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the upgrade"))


class Rest:
    """Just enough HTTP/1.1 for the control calls (one connection each, Connection: close)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token

    async def call(self, method: str, path: str, body: bytes = b"") -> dict:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(
                f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = next(
                (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")),
                0,
            )  # fmt: skip
            data = await asyncio.wait_for(reader.readexactly(length), 30)
        finally:
            writer.close()
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError((head + data)[:300].decode(errors="replace"))
        return json.loads(data)

    async def skip(self) -> None:
        await self.call("POST", "/api/v1/playout/skip", b'{"station_id":"main"}')

    async def server(self) -> dict:
        return await self.call("GET", "/api/v1/sim/server")


async def open_client(host: str, port: int, token: str, source: str, tally: Tally) -> Client:
    loop = asyncio.get_running_loop()
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /api/v1/events?types=now_playing&token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    opened = loop.create_future()
    await loop.create_connection(lambda: Client(request, tally, opened), host, port, local_addr=(source, 0))
    return await asyncio.wait_for(opened, 30)


async def wait_for(tally: Tally, index: int, clients: int, timeout: float) -> float:
    """When every client holds event ``index``: the last receipt time (or raise)."""
    deadline = time.monotonic() + timeout
    while len(tally.count) <= index or tally.count[index] < clients:
        if time.monotonic() > deadline:
            have = tally.count[index] if len(tally.count) > index else 0
            raise TimeoutError(f"only {have} of {clients} clients got event {index + 1} in {timeout} s")
        await asyncio.sleep(0.001)
    return tally.last[index]


async def generate(args: argparse.Namespace) -> dict:
    endpoints = [(host, int(port)) for host, port in (e.rsplit(":", 1) for e in args.endpoints.split(","))]
    station_host, station_port = args.station.rsplit(":", 1)
    station = Rest(station_host, int(station_port), args.token)
    edges = [Rest(host, port, args.token) for host, port in endpoints]
    pids = [int(p) for p in args.server_pids.split(",")]
    tally = Tally()
    result: dict = {"clients": args.clients, "edges": args.edges}

    # 1. connect
    rss_before = sum(rss_kib(pid) for pid in pids)
    in_flight = asyncio.Semaphore(args.in_flight)
    clients: list[Client] = []

    async def connect(number: int, into: Tally) -> None:
        """Client ``number``: spread over the endpoints and source addresses, ``--in-flight`` at a time."""
        host, port = endpoints[number % len(endpoints)]
        source = SOURCE_ADDRESSES[number % len(SOURCE_ADDRESSES)]
        async with in_flight:
            clients.append(await open_client(host, port, args.token, source, into))

    async def stalls_between(start: float, end: float) -> tuple[list[float], list[dict]]:
        """The servers' recorded loop stalls in [start, end] (ms), and their vitals."""
        every = [await edge.server() for edge in edges]
        return [
            ms for vitals in every for at, ms in vitals["loop"]["recent_stalls"] if start <= at <= end
        ], every

    async def connect_reporting(number: int) -> None:
        await connect(number, tally)
        if len(clients) % 1000 == 0:
            print(f"  connected {len(clients):,}", file=sys.stderr, flush=True)

    connect_start = time.monotonic()
    cpu_before, own_before = sum(cpu_seconds(p) for p in pids), time.process_time()
    await asyncio.gather(*(connect_reporting(n) for n in range(args.clients)))
    connect_end = time.monotonic()
    result["connect_seconds"] = connect_end - connect_start
    result["handshakes_per_second"] = args.clients / result["connect_seconds"]
    # Which side bounds the handshake rate: a process near 100% of its core is the bound.
    result["connect_server_cpu_percent"] = (
        100 * (sum(cpu_seconds(p) for p in pids) - cpu_before) / result["connect_seconds"]
    )
    result["connect_generator_cpu_percent"] = (
        100 * (time.process_time() - own_before) / result["connect_seconds"]
    )

    # 2. memory, and the loop's stalls while connecting
    await asyncio.sleep(1)
    result["server_rss_kib_per_connection"] = (sum(rss_kib(p) for p in pids) - rss_before) / args.clients
    stalls, every = await stalls_between(connect_start, connect_end + 1)
    result["gc_freezes"] = sum(vitals["gc"]["freezes"] for vitals in every)
    result["connect_max_stall_ms"] = max(stalls, default=0.0)  # 0: none of 20 ms or more (not recorded)
    result["connect_stalls_over_20ms"] = len(stalls)

    # 3. hold: no events, the heartbeat only
    print(f"  holding {args.hold} s", file=sys.stderr, flush=True)
    cpu_before, pings_before = sum(cpu_seconds(p) for p in pids), tally.pings
    await asyncio.sleep(args.hold)
    result["hold_seconds"] = args.hold
    result["hold_server_cpu_percent"] = 100 * (sum(cpu_seconds(p) for p in pids) - cpu_before) / args.hold
    result["hold_pings_per_client"] = (tally.pings - pings_before) / args.clients
    result["connections_lost"] = tally.lost

    # 4. one event at a time
    latencies = []
    for index in range(args.events):
        await station.skip()
        last = await wait_for(tally, index, args.clients, 60)
        emitted = (await station.server())["last_published_monotonic"]  # the station's hub, edges or not
        latencies.append(last - emitted)
    latencies.sort()
    result["events"] = args.events
    result["last_receipt_p50_ms"] = 1000 * statistics.median(latencies)
    result["last_receipt_p99_ms"] = 1000 * percentile(latencies, 0.99)

    # 5. a burst
    burst_start = time.monotonic()
    cpu_before, own_before = sum(cpu_seconds(p) for p in pids), time.process_time()
    for _ in range(args.burst):
        await station.skip()
    last = await wait_for(tally, args.events + args.burst - 1, args.clients, 300)
    elapsed = time.monotonic() - burst_start
    result["burst_server_cpu_percent"] = 100 * (sum(cpu_seconds(p) for p in pids) - cpu_before) / elapsed
    result["burst_generator_cpu_percent"] = 100 * (time.process_time() - own_before) / elapsed
    result["burst_events"] = args.burst
    result["burst_seconds"] = last - burst_start
    result["delivered_per_second"] = args.clients * args.burst / result["burst_seconds"]
    result["connections_lost"] = tally.lost

    # 6. churn (--churn N): N clients leave and N others arrive; the loop's stalls meanwhile
    if args.churn:
        churn_start = time.monotonic()
        for client in clients[: args.churn]:
            client.transport.close()
        newcomers = Tally()
        await asyncio.gather(*(connect(n, newcomers) for n in range(args.churn)))
        churn_end = time.monotonic()
        await asyncio.sleep(1.5)
        stalls, every = await stalls_between(churn_start, churn_end + 1.5)
        collections = sum(vitals["gc"]["full_collections_after_churn"] for vitals in every)
        result["churn"] = args.churn
        result["churn_seconds"] = churn_end - churn_start
        result["churn_max_stall_ms"] = max(stalls, default=0.0)
        result["churn_full_collections"] = collections
    for client in clients:
        client.transport.close()
    return result


# -- the orchestrator ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(arguments: list[str], cpu: int | None = 0) -> tuple[subprocess.Popen, dict[str, str]]:
    """``grimnir-sim serve ARGUMENTS --port 0`` with the benchmark's key, and its banner's fields.

    The fields are the banner's labelled lines, by label (``REST``, ``token``, ``harbor``...):
    the first word after the label.
    """
    env = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": SIGNING_KEY, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "playout", "serve", "--port", "0", *arguments]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=pinned_to(cpu),
    )  # fmt: skip
    banner: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "stop" not in banner:
        line = server.stdout.readline().strip()
        label, colon, rest = line.partition(":")
        if colon and " " not in label and rest.split():
            banner.setdefault(label, rest.split()[0])
        elif not line and server.poll() is not None:
            break
    if "REST" not in banner or "token" not in banner:
        server.kill()
        raise RuntimeError(f"the server did not start: {' '.join(command)}")
    return server, banner


def start_server(
    clients: int, *extra: str, edge: bool = False, cpu: int | None = 0
) -> tuple[subprocess.Popen, str, int, str]:
    arguments = [] if edge else [str(SCENARIO), "--manual-clock"]
    if clients > 10_000:  # the documented default limit; above it the run says so
        arguments += ["--max-connections", str(clients)]
    server, banner = launch(arguments + list(extra), cpu)
    host, port = banner["REST"].removeprefix("http://").removesuffix("/api/v1/health").rsplit(":", 1)
    return server, host, int(port), banner["token"]


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("--edges needs redis-server (Debian: apt-get install redis-server)")
    port = free_port()
    redis = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return redis, f"redis://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    redis.kill()
    raise RuntimeError("redis-server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_once(args: argparse.Namespace) -> dict:
    started: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as scratch:
        try:
            if args.edges:
                redis, url = start_redis(Path(scratch))
                started.append(redis)
                # Several processes share the two CPUs: none is pinned in this mode.
                station, host, port, token = start_server(
                    args.clients, "--redis", url, "--role", "station", cpu=None
                )
                started.append(station)
                servers = []
                for _ in range(args.edges):
                    edge = start_server(args.clients, "--redis", url, "--role", "edge", edge=True, cpu=None)
                    started.append(edge[0])
                    servers.append(edge)
                station_endpoint = f"{host}:{port}"
            else:
                single = start_server(args.clients)
                started.append(single[0])
                servers, station_endpoint, token = [single], f"{single[1]}:{single[2]}", single[3]
            time.sleep(0.5)
            generator = subprocess.run(
                [sys.executable, __file__, "--role", "generator", "--token", token,
                 "--endpoints", ",".join(f"{h}:{p}" for _, h, p, _ in servers),
                 "--server-pids", ",".join(str(s[0].pid) for s in servers),
                 "--station", station_endpoint, "--edges", str(args.edges),
                 "--clients", str(args.clients), "--in-flight", str(args.in_flight),
                 "--hold", str(args.hold), "--events", str(args.events), "--burst", str(args.burst),
                 "--churn", str(args.churn)],
                stdout=subprocess.PIPE, text=True, preexec_fn=pinned_to(None if args.edges else 1),
                timeout=args.hold + 600,
            )  # fmt: skip
            if generator.returncode != 0:
                raise RuntimeError(f"the load generator failed (exit {generator.returncode})")
            return json.loads(generator.stdout.strip().splitlines()[-1])
        finally:
            for process in reversed(started):
                stop(process)


def target_of(key: str, clients: int) -> float | None:
    """The issue's target for this figure; p99 latency has one at 1,000 and at 10,000 clients."""
    if key == "last_receipt_p99_ms":
        return {1000: 30, 10_000: 250}.get(clients)
    return TARGETS[key][0]


def verdict(key: str, value: float, clients: int) -> str:
    target, higher = target_of(key, clients), TARGETS[key][1]
    if target is None:
        return ""
    return "meets" if (value >= target if higher else value <= target) else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=200, help="handshakes at a time")
    parser.add_argument("--hold", type=float, default=16, help="seconds with no events (heartbeat CPU)")
    parser.add_argument("--events", type=int, default=30, help="events measured one at a time")
    parser.add_argument("--burst", type=int, default=100, help="events sent back to back for throughput")
    parser.add_argument("--edges", type=int, default=0, help="edge processes behind Redis (0: one process)")
    parser.add_argument(
        "--churn", type=int, default=0, help="then N clients leave and N others arrive (the GC's pause)"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--role", choices=("orchestrator", "generator"), default="orchestrator")
    parser.add_argument("--endpoints", help=argparse.SUPPRESS)
    parser.add_argument("--station", help=argparse.SUPPRESS)
    parser.add_argument("--server-pids", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "generator":
        raise_file_limit()
        try:
            import uvloop  # the generator must outrun the server; uvloop's loop costs less per read
        except ImportError:
            result = asyncio.run(generate(args))
        else:
            result = uvloop.run(generate(args))
        print(json.dumps(result), flush=True)
        return 0
    if args.clients > len(SOURCE_ADDRESSES) * 25_000:
        parser.error("too many clients for the source addresses' ephemeral ports")
    results = []
    for run in range(1, args.runs + 1):
        print(f"run {run} of {args.runs}: {args.clients:,} clients", file=sys.stderr, flush=True)
        result = run_once(args)
        results.append(result)
        print(
            f"run {run}: "
            + ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()),
            file=sys.stderr, flush=True,
        )  # fmt: skip
    where = f"{args.edges} edge process(es) over Redis" if args.edges else "one server process"
    print(
        f"\n{args.clients:,} clients, {where}, hold {args.hold:g} s, {args.events} measured events, "
        f"burst of {args.burst}; median of {len(results)} run(s):"
    )
    for key, (_, higher, style) in TARGETS.items():
        if key not in results[0]:
            continue  # (the churn figures, without --churn)
        values = [r[key] for r in results]
        value = statistics.median(values)
        target = target_of(key, args.clients)
        goal = "" if target is None else f"{'>=' if higher else '<='} {style.format(target)}"
        shown = "< 20 ms" if key == "connect_max_stall_ms" and value == 0 else style.format(value)
        spread = f"  runs: {', '.join(style.format(v) for v in values)}" if len(values) > 1 else ""
        print(f"  {key:<32} {shown:>20}  {goal:<22} {verdict(key, value, args.clients):<6}{spread}")
    if args.json:
        args.json.write_text(json.dumps({"arguments": vars(args) | {"json": str(args.json)}, "runs": results},
                                        indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
