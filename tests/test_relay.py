"""Several server processes, one station, over a real redis-server (``--redis``, ``--role``)."""

import http.client
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import coredis
import httpx
import pytest
import trio
import trustme
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.relay.connection import READ_COUNT, RedisTarget
from server.relay.publisher import StreamPublisher
from tests.docs_support import background, documented, one, replaced, stop, with_this_python
from tests.serve_support import KEY, Server, assert_stopping_refuses_newcomers
from tests.support import ROOT

TYPES = "now_playing,schedule.changed,health"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis:
    def __init__(
        self, directory, port: int | None = None, *, password: str | None = None, tls: Path | None = None
    ) -> None:
        """``tls``: a directory holding ca.pem, cert.pem and key.pem; the port then speaks TLS only."""
        binary = shutil.which("redis-server")
        assert binary, ".ci/run installs Debian's redis-server"
        self.port = port or free_port()
        userinfo = f":{quote(password, safe='')}@" if password is not None else ""
        self.url = f"{'rediss' if tls else 'redis'}://{userinfo}127.0.0.1:{self.port}"
        command = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)]
        if tls is None:
            command += ["--port", str(self.port)]
        else:
            command += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no",
                        "--tls-ca-cert-file", str(tls / "ca.pem"), "--tls-cert-file", str(tls / "cert.pem"),
                        "--tls-key-file", str(tls / "key.pem")]  # fmt: skip
        if password is not None:
            command += ["--requirepass", password]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis(tmp_path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    yield server
    server.stop()


def station(redis: Redis, *extra: str) -> Server:
    return Server("crossfade", "--manual-clock", "--redis", redis.url, "--role", "station", *extra)


def edge(redis: Redis, *extra: str) -> Server:
    return Server("--redis", redis.url, "--role", "edge", *extra)


def subscribe(server: Server) -> ClientConnection:
    return connect(f"{server.ws}?types={TYPES}&token={server.token}", open_timeout=10)


def received(client: ClientConnection, count: int) -> list[str]:
    """The next ``count`` events (heartbeats skipped), each within 10 s."""
    events = []
    while len(events) < count:
        message = client.recv(timeout=10)
        if message != '{"type":"ping"}':
            events.append(message)
    return events


def test_clients_on_two_edges_and_the_station_see_the_same_sequence(redis):
    served = station(redis)
    edges = [edge(redis), edge(redis)]
    try:
        with ExitStack() as stack:
            clients = [stack.enter_context(subscribe(s)) for s in (served, *edges)]
            assert served.http.post("/api/v1/sim/advance", json={"by": "30m"}).status_code == 200
            sequences = [received(c, 16) for c in clients]
        assert sequences[1] == sequences[0] and sequences[2] == sequences[0]
        kinds = [json.loads(m)["type"] for m in sequences[0]]
        assert kinds.count("now_playing") >= 5 and "health" in kinds
        figures = [e.http.get("/api/v1/sim/server").json()["relay"] for e in edges]
        assert all(f["role"] == "edge" and f["received"] >= 16 for f in figures)
        assert served.http.get("/api/v1/sim/server").json()["relay"]["lost"] == 0
    finally:
        for server in (*edges, served):
            server.stop()


def test_an_edge_that_restarts_picks_up_while_the_station_runs_on(redis):
    served = station(redis)
    first = edge(redis)
    try:
        with subscribe(served) as direct, subscribe(first) as before:
            served.http.post("/api/v1/sim/advance", json={"by": "10m"})
            assert received(before, 4) == received(direct, 4)
        assert first.stop() == 0
        served.http.post("/api/v1/sim/advance", json={"by": "10m"})  # while no edge runs
        with subscribe(served) as direct:
            second = edge(redis)
            try:
                with subscribe(second) as after:
                    advanced = served.http.post("/api/v1/sim/advance", json={"by": "10m"}).json()
                    assert received(after, 4) == received(direct, 4)
                # The station did not restart: its time is 30 minutes on from where it entered its scenario.
                clock = served.http.get("/api/v1/sim/state").json()["clock"]
                assert clock["station_time"] == advanced["station_time"]
                elapsed = datetime.fromisoformat(clock["scenario_time"]) - datetime.fromisoformat(
                    clock["entered_at"]
                )
                assert (elapsed, clock["repeats"]) == (timedelta(minutes=30), 0)
            finally:
                second.stop()
    finally:
        served.stop()


def test_edges_ride_out_a_redis_restart(tmp_path):
    redis = Redis(tmp_path)
    served = station(redis)
    follower = edge(redis)
    try:
        with subscribe(served) as direct, subscribe(follower) as client:
            served.http.post("/api/v1/sim/advance", json={"by": "5m"})
            assert received(client, 2) == received(direct, 2)
            redis.stop()
            served.http.post("/api/v1/sim/advance", json={"by": "10m"})  # queued at the station
            redis = Redis(tmp_path, redis.port)
            assert received(client, 4) == received(direct, 4)  # delivered once Redis is back
    finally:
        follower.stop()
        served.stop()
        redis.stop()


def append(redis: Redis, *entries: Mapping[str, str | bytes | int]) -> None:
    """XADD each entry to the events stream, in order, its fields as given (hostile bytes too)."""

    async def appending() -> None:
        async with coredis.Redis.from_url(redis.url) as client:
            for fields in entries:
                await client.xadd("grimnir-sim:events", dict(fields))

    trio.run(appending)


def now_playing(n: int) -> str:
    return json.dumps({"type": "now_playing", "payload": {"n": n}}, separators=(",", ":"))


def entry(
    n: int, event: str | bytes, kind: str = "now_playing", run: str = "run-a"
) -> dict[str, str | bytes | int]:
    return {"t": kind, "e": event, "r": run, "n": n}


def test_an_edge_hands_on_only_what_it_can_trust_and_logs_each_reason_once(redis):
    # Regression (issue 11): an event that was not UTF-8 took the edge down (the hub decoded it),
    # and events that were not JSON, or 1 MB long, went to every client as they were.
    follower = edge(redis)
    try:
        with subscribe(follower) as client:
            append(
                redis,
                {"t": "now_playing", "e": now_playing(0)},  # no run id, no sequence number
                entry(1, now_playing(0)) | {"n": "one"},
                entry(2, b'{"type":"now_playing","payload":{"title":"\xff\xfe"}}'),
                *(entry(3 + i, f"not JSON {i}") for i in range(50)),  # a flood: logged once
                entry(53, json.dumps({"type": "now_playing", "payload": {"title": "x" * 1_000_000}})),
                entry(54, "[1,2]"),
                entry(55, '{"type":"health","payload":{}}'),  # not the entry's type
                entry(56, '{"type":"now_playing","payload":{},"extra":1}'),
                entry(57, '{"type":"now_playing","payload":"text"}'),
                entry(58, '{"type":"track.started","payload":{}}', kind="track.started"),
                entry(59, now_playing(1)),
                entry(60, now_playing(2)),
            )
            assert received(client, 2) == [now_playing(1), now_playing(2)]
        relay = follower.http.get("/api/v1/sim/server").json()["relay"]
        assert relay["received"] == 2 and relay["skipped"] == 59
        assert relay["skipped_by_reason"] == {
            "malformed": 2,
            "too_large": 1,
            "not_json": 51,
            "not_an_event": 4,
            "unknown_type": 1,
            "resent": 0,
        }
        assert follower.http.get("/api/v1/health").status_code == 200
    finally:
        follower.stop()
    logged = [line for line in follower.process.stderr.read().splitlines() if " skipped: " in line]
    assert len(logged) == 5, logged  # one line for each reason met, however many entries


def test_an_edge_recognises_resends_and_no_number_silences_it(redis):
    # Regression (issue 11): one entry with the station's run id and a huge sequence number made every
    # later real entry look like a resend, and the edge went silent for good.
    follower = edge(redis)
    try:
        with subscribe(follower) as client:
            append(
                redis,
                entry(1, now_playing(1)),
                entry(2, now_playing(2)),
                entry(1, now_playing(1)),  # (a) the batch appended again after an ambiguous failure
                entry(2, now_playing(2)),
                entry(3, now_playing(3)),
                entry(10**18, now_playing(666)),  # (b) forged (it is a valid event: it goes out)
                entry(4, now_playing(4)),
                entry(5000, now_playing(5000)),  # (c) a gap: lost while Redis was away, or trimmed
                entry(5001, now_playing(5001)),
                entry(5000, now_playing(5000)),  # ... and resends after it are recognised too
                entry(5001, now_playing(5001)),
                entry(5002, now_playing(5002)),
                entry(1, now_playing(7), run="run-b"),  # a new station run starts again at 1
            )
            expected = [now_playing(n) for n in (1, 2, 3, 666, 4, 5000, 5001, 5002, 7)]
            assert received(client, len(expected)) == expected
        relay = follower.http.get("/api/v1/sim/server").json()["relay"]
        assert relay["received"] == 9 and relay["skipped"] == 4
        assert relay["skipped_by_reason"]["resent"] == 4
    finally:
        follower.stop()


async def test_a_station_appends_at_most_read_count_entries_at_once(redis):
    # After an ambiguous failure the station appends its last pipeline again; followers recognise
    # resends among the last RESEND_WINDOW entries (2 x READ_COUNT), so no pipeline may be longer.
    publisher = StreamPublisher(RedisTarget.parse(redis.url))
    pipelines = []
    append = publisher._append

    async def recording(client: coredis.Redis, entries: list) -> None:
        pipelines.append(len(entries))
        await append(client, entries)

    publisher._append = recording
    publisher.offer([("now_playing", now_playing(n).encode()) for n in range(2 * READ_COUNT + 500)])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(publisher.run)
        with trio.fail_after(30):
            while publisher.appended < 2 * READ_COUNT + 500:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert pipelines == [READ_COUNT, READ_COUNT, 500]
    async with RedisTarget.parse(redis.url).client() as client:
        assert await client.xlen("grimnir-sim:events") == 2 * READ_COUNT + 500


def test_an_edge_skips_what_it_cannot_read_and_what_was_sent_twice(redis):
    # Regression (review): one entry of an unknown type took the edge's background work down
    # (it went on accepting clients and sent them nothing), and a batch the station sent again
    # after an ambiguous failure reached edge clients twice.
    follower = edge(redis)

    def xadd(*fields: str) -> None:
        command = [
            shutil.which("redis-cli"),
            "-p",
            str(redis.port),
            "XADD",
            "grimnir-sim:events",
            "*",
            *fields,
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=10)

    try:
        with subscribe(follower) as client:
            xadd("t", "now_playing")  # no payload
            unknown = '{"type":"track.started","payload":{}}'
            xadd("t", "track.started", "e", unknown, "r", "run-a", "n", "1")  # a type this edge does not know
            xadd("t", "now_playing", "e", now_playing(1), "r", "run-a", "n", "2")
            xadd("t", "now_playing", "e", now_playing(1), "r", "run-a", "n", "2")  # sent again
            xadd("t", "now_playing", "e", now_playing(2), "r", "run-a", "n", "3")
            assert received(client, 2) == [now_playing(1), now_playing(2)]
        relay = follower.http.get("/api/v1/sim/server").json()["relay"]
        assert relay["received"] == 2 and relay["skipped"] == 3
        skipped = {reason: count for reason, count in relay["skipped_by_reason"].items() if count}
        assert skipped == {"malformed": 1, "unknown_type": 1, "resent": 1}
        assert follower.http.get("/api/v1/health").status_code == 200
    finally:
        follower.stop()


def test_an_edge_redirects_the_rest_of_the_api_to_the_station(redis):
    served = station(redis, "--public-url", "http://radio.example:8000/")
    follower = edge(redis)
    try:
        response = follower.http.get("/api/v1/sim/state?x=1")
        assert response.status_code == 307
        assert response.headers["location"] == "http://radio.example:8000/api/v1/sim/state?x=1"
        # Percent-encoding is passed on as sent, not decoded (review: a%3Fb became a?b).
        response = follower.http.post("/api/v1/webstreams/a%3Fb%2520c/failover")
        assert (
            response.headers["location"] == "http://radio.example:8000/api/v1/webstreams/a%3Fb%2520c/failover"
        )
        assert follower.http.get("/api/v1/health").json() == {"status": "ok"}
    finally:
        follower.stop()
        served.stop()


@pytest.mark.parametrize("role", ["station", "edge"])
def test_either_role_stops_like_a_lone_station(redis, role):
    # Regression (issue 11): right after SIGTERM, newcomers got a refused connection, not a 503.
    served = station(redis)
    follower = edge(redis)
    stopping, other = (served, follower) if role == "station" else (follower, served)
    try:
        with subscribe(stopping) as client, subscribe(other) as elsewhere:

            def the_rest_too() -> None:  # an edge's redirect to the station included
                with httpx.Client(base_url=stopping.url, timeout=5) as fresh:
                    response = fresh.get(
                        "/api/v1/sim/state", headers={"Authorization": f"Bearer {stopping.token}"}
                    )
                assert (response.status_code, response.json()["error"]) == (503, "shutting_down")

            started = time.monotonic()
            assert_stopping_refuses_newcomers(stopping, the_rest_too)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    client.recv(timeout=10)
            assert closed.value.rcvd.code == 1001
            assert stopping.process.wait(timeout=10) == 0
            assert time.monotonic() - started < 8
            assert "Traceback" not in stopping.process.stderr.read()
            # The other process serves on.
            assert other.http.get("/api/v1/health").json() == {"status": "ok"}
            assert elsewhere.ping().wait(timeout=5)
    finally:
        follower.stop()
        served.stop()


HOSTILE_TARGETS = [
    b"@evil.example/x",
    b":1@evil.example/x",
    b"//evil.example/x",
    b"///evil.example/x",
    b"\\\\evil.example",
    b"/\\evil.example/x",
    b"\\/evil.example/x",
    b"%2F%2Fevil.example/x",
    b"%5C%5Cevil.example/x",
    b"%40evil.example/x",
    b"%2540evil.example/x",
    b".evil.example/x",
    b"http://evil.example/x",
    b"https:evil.example",
    b"/x#@evil.example",
    b"@evil.example/x?next=//evil.example",
    b"/x?a=@evil.example#\\evil.example",
]


def redirect_from(server: Server, target: bytes) -> tuple[int, str | None]:
    """The status and Location of a GET of ``target`` sent byte for byte (no client tidies it up)."""
    netloc = urlsplit(server.url).netloc
    host, port = netloc.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: " + netloc.encode() + b"\r\nConnection: close\r\n\r\n"
        )
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.getheader("Location")


def test_an_edge_redirects_only_to_the_station(redis):
    # Regression (issue 11): `GET @evil.example/x` was answered with
    # `Location: http://127.0.0.1:PORT@evil.example/x`, a redirect to evil.example.
    served = station(redis)
    follower = edge(redis)
    try:
        station_netloc = urlsplit(served.url).netloc
        for target in HOSTILE_TARGETS:
            status, location = redirect_from(follower, target)
            assert status == 307, target
            assert location is not None and location.startswith(f"{served.url}/"), (target, location)
            assert urlsplit(location).netloc == station_netloc, (target, location)
    finally:
        follower.stop()
        served.stop()


def serve_refused(*arguments: str) -> str:
    """``serve``'s stderr, once it has refused to start: exit status 2, one line, no traceback."""
    env = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": KEY}
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", *arguments, "--port", "0"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_station_and_edge_use_a_redis_password(tmp_path):
    password = f"p@ss/{secrets.token_hex(8)}:"  # percent-encoded in the URL: p%40ss%2F...%3A
    secret = password[5:-1]
    redis = Redis(tmp_path, password=password)
    try:
        served = station(redis)
        follower = edge(redis)
        try:
            assert secret not in "\n".join(follower.banner)
            assert f"redis://:***@127.0.0.1:{redis.port}" in follower.banner[0]
            with subscribe(served) as direct, subscribe(follower) as client:
                served.http.post("/api/v1/sim/advance", json={"by": "10m"})
                assert received(client, 4) == received(direct, 4)
        finally:
            follower.stop()
            served.stop()
        assert secret not in follower.process.stderr.read()
        wrong = serve_refused("--redis", f"redis://:not-{secret}@127.0.0.1:{redis.port}", "--role", "edge")
        assert f"Redis at redis://:***@127.0.0.1:{redis.port} refused the user or password" in wrong
        assert secret not in wrong
        missing = serve_refused("crossfade", "--redis", f"redis://127.0.0.1:{redis.port}")
        assert "wants a password: give it in the URL" in missing
    finally:
        redis.stop()


def test_station_and_edge_reach_redis_over_tls(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    certificate = authority.issue_cert("127.0.0.1")
    certificate.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    redis = Redis(tmp_path, tls=tmp_path)
    ca = ("--redis-ca", str(tmp_path / "ca.pem"))
    try:
        served = station(redis, *ca)
        follower = edge(redis, *ca)
        try:
            with subscribe(served) as direct, subscribe(follower) as client:
                served.http.post("/api/v1/sim/advance", json={"by": "10m"})
                assert received(client, 4) == received(direct, 4)
        finally:
            follower.stop()
            served.stop()
        # Without the CA the certificate is not trusted; under another name it does not match.
        untrusted = serve_refused("--redis", redis.url, "--role", "edge")
        assert f"cannot reach Redis at {redis.url}" in untrusted and "CERTIFICATE_VERIFY_FAILED" in untrusted
        elsewhere = serve_refused("--redis", f"rediss://localhost:{redis.port}", *ca, "--role", "edge")
        assert "Hostname mismatch" in elsewhere
    finally:
        redis.stop()


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["--role", "edge"], {}, "--role needs --redis"),
        (["crossfade", "--redis", "redis://127.0.0.1:1", "--role", "edge"], {}, "an edge runs no station"),
        (
            ["--redis", "redis://127.0.0.1:6379"],
            {"GRIMNIR_JWT_SIGNING_KEY": ""},
            "set GRIMNIR_JWT_SIGNING_KEY",
        ),
        (["--redis", "redis://127.0.0.1:1", "--port", "0"], {}, "cannot reach Redis at redis://127.0.0.1:1"),
        (["--redis", "http://nowhere", "--port", "0"], {}, "--redis takes a redis:// URL"),
        (["--redis", "redis://[::1", "--port", "0"], {}, "--redis: Invalid IPv6 URL"),
        (["--redis", "redis://127.0.0.1:port", "--port", "0"], {}, "--redis: Port could not be cast"),
        (["--redis-ca", "ca.pem"], {}, "--redis-ca needs --redis"),
        (["--redis", "redis://127.0.0.1:1", "--redis-ca", "ca.pem"], {}, "--redis-ca is for TLS"),
        (
            ["--redis", "rediss://127.0.0.1:1", "--redis-ca", "/nonexistent/ca.pem"],
            {},
            "--redis-ca /nonexistent/ca.pem: No such file or directory",
        ),
        (
            ["--redis", "rediss://127.0.0.1:1?ssl_ca_certs=ca.pem"],
            {},
            "give the CA with --redis-ca FILE",
        ),
        (["--redis", "redis://:secret@127.0.0.1:1", "--port", "0"], {}, "at redis://:***@127.0.0.1:1:"),
        (["--public-url", "http://a.example"], {}, "--public-url is the station's, and needs --redis"),
        (
            ["--redis", "redis://127.0.0.1:1", "--public-url", "a.example"],
            {},
            "--public-url takes an http(s) URL",
        ),
    ],
)
def test_bad_relay_settings_are_refused_clearly(arguments, environment, message):
    env = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": KEY, **environment}
    if not env["GRIMNIR_JWT_SIGNING_KEY"]:
        del env["GRIMNIR_JWT_SIGNING_KEY"]
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", *arguments], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_documented_station_and_two_edges(request, tmp_path):
    """docs/performance.md's commands, with free ports for 6379 and (as Server adds --port 0) 8000-8002."""
    commands = documented(request)
    export = one(commands, "export")
    (assignment,) = shlex.split(export.text, comments=True)[1:]
    # "The same key in every process": Server gives each process GRIMNIR_JWT_SIGNING_KEY=KEY.
    assert assignment == "GRIMNIR_JWT_SIGNING_KEY=..."
    port = free_port()
    to_redis = ("6379", str(port))
    redis = background(replaced(one(commands, "redis-server").text, to_redis).removesuffix(" &"), tmp_path)
    servers: list[Server] = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        for command in commands:
            if command.key.startswith("grimnir-sim serve"):
                arguments = shlex.split(replaced(command.text, to_redis), comments=True)[2:]
                environment = with_this_python(os.environ)
                servers.append(Server(*arguments, command=["grimnir-sim"], environment=environment))
        served = servers[0]
        roles = [server.banner[0].split()[1:3] for server in servers]
        assert roles == [["serving", "'community-week'"], ["edge", "for"], ["edge", "for"]]
        with ExitStack() as stack:
            clients = [
                stack.enter_context(connect(f"{s.ws}?types=priority.emergency&token={s.token}"))
                for s in servers
            ]
            alert = {"station_id": "main", "media_id": "eas-test"}
            assert served.http.post("/api/v1/priority/emergency", json=alert).status_code == 200
            (seen,), *on_edges = [received(client, 1) for client in clients]
        assert json.loads(seen)["type"] == "priority.emergency"
        assert on_edges == [[seen], [seen]]
    finally:
        for server in reversed(servers):
            server.stop()
        stop(redis)
