"""Reset churn: a served station reset again and again under connected clients, measured from outside.

    python bench/reset_churn.py                         # 100 clients, 20 resets
    python bench/reset_churn.py --clients 500 --resets 50

Starts ``grimnir-sim serve dj-takeover --manual-clock --clock scenario`` on a free loopback
port and connects ``--clients`` WebSocket clients with ``snapshot=true`` (``types=now_playing``),
spread over 127.0.0.2-127.0.0.251 so the per-IP limit holds. Each round moves the station
on (``POST /api/v1/sim/advance`` 6m: DJ Mike goes on air, a ``now_playing`` every client must
get), then resets it (``POST /api/v1/sim/reset``) and waits until every client has received
the fresh station's state: the same ``now_playing`` it got on connect (the scenario's clock
makes it byte-identical each time). Prints, per reset, the server's RSS after it; at the end,
the clients still connected, the states each received (1 on connect + 1 per reset), and the
RSS before the first reset and after the last. Every wait is bounded (``--timeout``).
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123"
SOURCE_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 252)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Client:
    def __init__(self, index: int) -> None:
        self.index = index
        self.messages: list[str] = []
        self.closed = False

    async def run(self, url: str, connected: asyncio.Event, counter: list[int], total: int) -> None:
        source = SOURCE_ADDRESSES[self.index % len(SOURCE_ADDRESSES)]
        try:
            async with connect(url, local_addr=(source, 0), ping_interval=None, max_queue=None) as ws:
                counter[0] += 1
                if counter[0] == total:
                    connected.set()
                async for message in ws:
                    if message != '{"type":"ping"}':
                        self.messages.append(message)
        finally:
            self.closed = True


async def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    from server.auth import SigningKey, mint

    token = mint(SigningKey(SIGNING_KEY, generated=False), roles=("admin",))
    port = free_port()
    command = [sys.executable, "-m", "playout", "serve", "dj-takeover", "--manual-clock"]
    command += ["--clock", "scenario", "--port", str(port), "--host", "127.0.0.1"]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "GRIMNIR_JWT_SIGNING_KEY": SIGNING_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {token}"}
    http = httpx.AsyncClient(base_url=base, headers=admin, timeout=args.timeout)
    try:
        await wait_until(lambda: _up(base), args.timeout, "the server")
        url = f"ws://127.0.0.1:{port}/api/v1/events?types=now_playing&snapshot=true&token={token}"
        clients = [Client(i) for i in range(args.clients)]
        connected, counter = asyncio.Event(), [0]
        tasks = [asyncio.create_task(c.run(url, connected, counter, args.clients)) for c in clients]
        await asyncio.wait_for(connected.wait(), args.timeout)
        await wait_until(lambda: all(c.messages for c in clients), args.timeout, "the state on connect")
        state = clients[0].messages[0]
        before = rss_kib(server.pid)
        print(f"clients {args.clients}, resets {args.resets}; server RSS before the first: {before:,} KiB")
        for round_ in range(1, args.resets + 1):
            counts = [len(c.messages) for c in clients]
            assert (await http.post("/api/v1/sim/advance", json={"by": "6m"})).status_code == 200
            await wait_until(partial(_all_more, clients, counts, None), args.timeout, "the DJ's now_playing")
            counts = [c.messages.count(state) for c in clients]
            answer = await http.post("/api/v1/sim/reset")
            assert answer.status_code == 200, answer.text
            await wait_until(partial(_all_more, clients, counts, state), args.timeout, "the reset's state")
            station_time = answer.json()["station_time"]
            print(f"reset {round_:3}: station_time {station_time}, RSS {rss_kib(server.pid):,} KiB")
        await asyncio.sleep(0.5)
        after = rss_kib(server.pid)
        still = sum(1 for c in clients if not c.closed)
        states = sorted({c.messages.count(state) for c in clients})
        print(f"clients connected at the end: {still} of {args.clients}")
        print(f"states received per client (1 on connect + 1 per reset): {states}")
        print(f"server RSS: {before:,} KiB before the first reset, {after:,} KiB after the last")
        print(f"RSS growth over {args.resets} resets: {after - before:+,} KiB")
        for task in tasks:
            task.cancel()
        ok = still == args.clients and states == [args.resets + 1]
        return 0 if ok else 1
    finally:
        await http.aclose()
        server.terminate()
        server.wait(timeout=30)


def _all_more(clients: list[Client], counts: list[int], message: str | None) -> bool:
    """Every client has more messages (or more of ``message``) than ``counts`` says."""
    return all(
        (len(c.messages) if message is None else c.messages.count(message)) > n
        for c, n in zip(clients, counts, strict=True)
    )


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--resets", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0)
    sys.exit(asyncio.run(main(parser.parse_args())))
