"""End to end over real sockets: `grimnir-sim serve` as a subprocess, the `websockets` client.

`websockets` has its own protocol implementation (the server uses wsproto), so
these tests check the wire, not just our own code talking to itself.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.serve_support import KEY, Server
from tests.support import ROOT, ffmpeg_tone


@pytest.fixture
def server():
    started = Server("dj-takeover", "--manual-clock", "--heartbeat", "0.5")
    yield started
    started.stop()


def test_banner_gives_a_url_a_token_and_a_ready_example(server):
    assert server.banner[0].startswith("grimnir-sim: serving 'dj-takeover'")
    assert any(line.strip().startswith("connect: ws://127.0.0.1:") for line in server.banner)
    assert server.http.get("/api/v1/health").json() == {"status": "ok"}


def test_both_auth_forms_filters_events_and_heartbeat(server):
    with (
        connect(f"{server.ws}?types=dj_connect,live.handover&token={server.token}") as by_query,
        connect(
            f"{server.ws}?types=now_playing", additional_headers={"Authorization": f"Bearer {server.token}"}
        ) as by_header,
    ):
        response = server.http.post("/api/v1/sim/advance", json={"by": "6m"})
        assert response.status_code == 200
        first = json.loads(by_query.recv(timeout=5))
        second = json.loads(by_query.recv(timeout=5))
        assert (first["type"], second["type"]) == ("dj_connect", "live.handover")
        assert first["payload"]["source_ip"] == "203.0.113.7"
        playing = [json.loads(by_header.recv(timeout=5)) for _ in range(2)]
        assert [m["type"] for m in playing] == ["now_playing", "now_playing"]  # 10:03 track, 10:05 the DJ
        assert playing[1]["payload"]["username"] == "DJ Mike"
        assert json.loads(by_query.recv(timeout=5)) == {"type": "ping"}
        by_query.send('{"type":"pong"}')  # read and ignored
        assert by_header.ping().wait(timeout=5)  # a control ping is answered with a pong
        assert json.loads(by_query.recv(timeout=5)) == {"type": "ping"}
        # Served by Hypercorn, both connections are on the fast path (server/transport/socket_writer.py): if a
        # Hypercorn upgrade moved what it reaches into, this says so, not just a slower server.
        vitals = server.http.get("/api/v1/sim/server").json()
        assert vitals["connections"] == vitals["on_the_fast_path"] == 2
        # Two arrivals, far from the next freeze (every 200): the one at start-up is counted.
        assert vitals["gc"]["freezes"] == 1 and vitals["gc"]["frozen_objects"] > 0


def test_bad_token_is_refused_with_401(server):
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{server.ws}?token=not-a-token")
    assert caught.value.response.status_code == 401
    assert caught.value.response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_closes_clients_with_1001_and_exits_cleanly(server, stop):
    with connect(f"{server.ws}?types=now_playing&token={server.token}") as client:
        assert json.loads(client.recv(timeout=5)) == {"type": "ping"}
        server.process.send_signal(stop)
        with pytest.raises(ConnectionClosed) as caught:
            while True:
                client.recv(timeout=10)
    assert caught.value.rcvd.code == 1001
    assert server.process.wait(timeout=15) == 0
    assert "Traceback" not in server.process.stderr.read()


def test_token_command_mints_with_the_configured_key(tmp_path):
    env = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": KEY, "XDG_STATE_HOME": str(tmp_path)}
    minted = subprocess.run(
        [sys.executable, "-m", "playout", "token", "--roles", "dj", "--ttl", "15m"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    import jwt

    claims = jwt.decode(minted, KEY, algorithms=["HS256"])
    assert claims["roles"] == ["dj"] and claims["uid"] == claims["sub"] == "grimnir-sim"
    assert claims["exp"] - claims["iat"] == 900
    env.pop("GRIMNIR_JWT_SIGNING_KEY")
    refused = subprocess.run(
        [sys.executable, "-m", "playout", "token"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "GRIMNIR_JWT_SIGNING_KEY" in refused.stderr


def test_a_port_in_use_is_one_line_and_status_2(server):
    port = str(server.address[1])
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", "dj-takeover", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot listen on 127.0.0.1:") and "Traceback" not in result.stderr


def test_an_encoder_pointed_at_the_served_harbor_goes_live():
    served = Server("live-harbor", "--harbor-port", "0", "--speed", "1")
    try:
        harbor = next(line.split()[1] for line in served.banner if line.strip().startswith("harbor:"))
        port = harbor.split("@", 1)[1].split(":")[1].split("/")[0]
        with connect(
            f"{served.ws}?types=dj_connect,live.handover,dj_disconnect&token={served.token}"
        ) as client:
            encoder = subprocess.run(
                ffmpeg_tone(f"icecast://mike:mikes-password@127.0.0.1:{port}/live", seconds=1.5),
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert encoder.returncode == 0, encoder.stderr
            got = [json.loads(client.recv(timeout=10)) for _ in range(3)]
        assert [m["type"] for m in got] == ["dj_connect", "live.handover", "dj_disconnect"]
        assert got[0]["payload"]["username"] == "DJ Mike" and got[0]["payload"]["source_ip"] == "127.0.0.1"
        state = served.http.get("/api/v1/sim/state").json()
        assert state["harbor"]["port"] == int(port) and state["harbor"]["sources"] == []
    finally:
        assert served.stop() == 0


def test_a_client_that_stops_reading_is_cut_off_and_does_not_block_shutdown():
    served = Server("community-week", "--speed", "20000", "--send-timeout", "1")
    try:
        port = served.address[1]
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a tiny window, never read
        stuck.connect(("127.0.0.1", port))
        stuck.sendall(
            f"GET /api/v1/events?types=now_playing,health&token={served.token} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert stuck.recv(12) == b"HTTP/1.1 101"
        with connect(f"{served.ws}?types=now_playing,health&token={served.token}") as reader:
            received = 0
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                reader.recv(timeout=5)
                received += 1
            clients = served.http.get("/api/v1/sim/state").json()["clients"]
        assert received > 1000  # the reader kept up throughout
        assert clients["connected"] == 1, clients  # the stuck client was cut off; the reader remains
        stopped_at = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=15) == 0
        assert time.monotonic() - stopped_at < 8
        stuck.close()
    finally:
        served.stop()
