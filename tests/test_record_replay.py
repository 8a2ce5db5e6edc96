"""Recording a server's event stream and serving it back (docs/record-replay.md).

The format and the replay's timing are checked on their own (the replay on trio's
autojump clock), the recorder's reconnects against a scripted connection in virtual
time, and the whole round trip over real sockets: a served station recorded, the
recording served with ``serve --replay`` and recorded again, message for message.
"""

import itertools
import os
import shlex
import sys
from contextlib import asynccontextmanager
from functools import partial

import httpx
import orjson
import pytest
import trio
import trio_websocket

from playout import recording
from playout.drivers.cli import main
from server.app import create_app
from server.pytest_plugin import expected_from
from server.recorder import Recorder, Unreachable, server_profile
from server.replay import WAIT_ROUND_SECONDS, Replay
from server.serve import serve
from server.service import ReplayService, ServerSettings
from tests.docs_support import bash, documented, one, replaced
from tests.serve_support import KEY as SERVE_KEY
from tests.serve_support import Server
from tests.server_support import KEY, token
from tests.test_server_protocol import refusal

STARTED = "2026-01-19T10:00:00Z"


def _message(kind: str, **payload: object) -> str:
    return orjson.dumps({"type": kind, "payload": payload}).decode()


NOW_PLAYING = _message("now_playing", station_id="s1", title="First Light")
HANDOVER = _message("live.handover", station_id="s1", priority=1)
PING = '{"type":"ping"}'


def _lines(*items: bytes) -> list[bytes]:
    return [recording.header_line("ws://h/api/v1/events?token=secret&types=x", "documented", STARTED), *items]


class TestFormat:
    def test_a_recording_reads_back_as_written(self):
        played = recording.read_recording(
            _lines(
                recording.message_line(0, NOW_PLAYING),
                recording.gap_line(1500, "closed 1001 (server shutting down)"),
                recording.message_line(2600, HANDOVER),
            )
        )
        assert played.header == recording.Header("ws://h/api/v1/events?types=x", "documented", STARTED)
        assert played.items == (
            recording.Message(0, "now_playing", NOW_PLAYING),
            recording.Gap(1500, "closed 1001 (server shutting down)"),
            recording.Message(2600, "live.handover", HANDOVER),
        )
        assert played.broken is None

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            (b"{not json", "not JSON"),
            (b"[1, 2]", "not a JSON object"),
            (b'{"at_ms": -1, "text": "{}"}', "at_ms must be a whole number"),
            (b'{"at_ms": 5}', 'neither a message ("text") nor a gap ("gap")'),
            (b'{"at_ms": 5, "text": "{\\"payload\\": {}}"}', 'no JSON message with a "type"'),
            (b'{"at_ms": 5, "text": "{}"}', 'no JSON message with a "type"'),
            (b'{"at_ms": 1, "text": "{\\"type\\":\\"health\\"}"}', "at_ms 1 is before 20"),
        ],
    )
    def test_reading_stops_at_the_first_broken_line_and_names_it(self, line, reason):
        played = recording.read_recording(
            [
                *_lines(recording.message_line(10, NOW_PLAYING), recording.message_line(20, HANDOVER), line),
                recording.message_line(30, NOW_PLAYING),
            ]
        )
        assert [m.text for m in played.messages] == [NOW_PLAYING, HANDOVER]
        assert played.broken is not None and played.broken.line == 4
        assert reason in str(played.broken) and str(played.broken).startswith("line 4: ")

    @pytest.mark.parametrize(
        "first",
        [
            b"",
            b'{"at_ms": 0, "text": "{}"}',
            b'{"grimnir_sim_recording": 1, "source": "x", "started": "soon"}',
        ],
    )
    def test_a_file_without_a_header_is_no_recording(self, first):
        with pytest.raises(recording.RecordingError, match=r"^line 1: "):
            recording.read_recording([first] if first else [])

    def test_the_source_keeps_no_token(self):
        assert recording.without_token("ws://h:1/api/v1/events?token=t0k&types=a,b") == (
            "ws://h:1/api/v1/events?types=a,b"
        )


class _Socket:
    """A scripted connection: each message after its delay, then a close (or nothing more, ever)."""

    def __init__(self, *messages: tuple[float, str], close: int | None = 1001) -> None:
        self.messages = list(messages)
        self.close = close

    async def get_message(self) -> str:
        if self.messages:
            delay, text = self.messages.pop(0)
            await trio.sleep(delay)
            return text
        if self.close is None:
            await trio.sleep_forever()
        raise trio_websocket.ConnectionClosed(trio_websocket.CloseReason(self.close, "server shutting down"))


def _scripted(*steps: _Socket | Exception):
    """A ``connect`` that plays ``steps`` in turn, noting when and how each attempt came."""
    plan = list(steps)
    attempts: list[tuple[float, str, list[tuple[bytes, bytes]]]] = []

    @asynccontextmanager
    async def connect(url: str, headers: list[tuple[bytes, bytes]]):
        attempts.append((trio.current_time(), url, headers))
        step = plan.pop(0)
        if isinstance(step, Exception):
            raise step
        yield step

    return connect, attempts


class TestRecorder:
    async def test_a_lost_connection_is_a_gap_then_a_reconnect_with_the_documented_backoff(
        self, autojump_clock
    ):
        refused = trio_websocket.HandshakeError()
        refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
        connect, attempts = _scripted(
            _Socket((0.5, NOW_PLAYING), (0.25, PING), (0.75, HANDOVER)),
            refused,
            OSError(101, "Network is unreachable"),
            _Socket((0.25, NOW_PLAYING)),
            _Socket(close=None),
        )
        lines: list[bytes] = []
        said: list[str] = []
        recorder = Recorder("ws://h/api/v1/events", lines.append, token="T", connect=connect, say=said.append)
        async with trio.open_nursery() as nursery:
            begun = trio.current_time()
            await nursery.start(partial(recorder.run, lambda: STARTED))
            await trio.sleep(60)
            nursery.cancel_scope.cancel()
        # 1 s, then twice as long each time (websocket-events.txt); back to 1 s once connected.
        assert [round(at - begun, 3) for at, _, _ in attempts] == [0, 2.5, 4.5, 8.5, 9.75]
        assert all(headers == [(b"authorization", b"Bearer T")] for _, _, headers in attempts)
        assert "types=now_playing," in attempts[0][1]
        played = recording.read_recording(lines)
        assert played.header == recording.Header(attempts[0][1], None, STARTED)
        assert played.items == (
            recording.Message(500, "now_playing", NOW_PLAYING),
            recording.Message(1500, "live.handover", HANDOVER),
            recording.Gap(1500, "closed 1001 (server shutting down)"),
            recording.Message(8750, "now_playing", NOW_PLAYING),
            recording.Gap(8750, "closed 1001 (server shutting down)"),
        )
        assert (recorder.messages, recorder.gaps) == (3, 2)
        assert said[:3] == [
            "closed 1001 (server shutting down); reconnecting in 1s",
            "cannot connect to ws://h/api/v1/events: Connection refused; retrying in 2s",
            "cannot connect to ws://h/api/v1/events: Network is unreachable; retrying in 4s",
        ]

    async def test_the_wait_between_attempts_stops_growing_at_30_seconds(self, autojump_clock):
        down = [OSError(111, "Connection refused") for _ in range(7)]
        connect, attempts = _scripted(_Socket(), *down, _Socket(close=None))
        recorder = Recorder("ws://h/api/v1/events", [].append, connect=connect, say=lambda _: None)
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(recorder.run, lambda: STARTED))
            await trio.sleep(300)
            nursery.cancel_scope.cancel()
        times = [at for at, _, _ in attempts]
        assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1, 2, 4, 8, 16, 30, 30, 30]

    async def test_a_url_with_its_own_types_is_left_alone(self, autojump_clock):
        connect, attempts = _scripted(_Socket(close=None))
        recorder = Recorder("ws://h/api/v1/events?types=health", [].append, connect=connect)
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(recorder.run, lambda: STARTED))
            nursery.cancel_scope.cancel()
        assert attempts[0][1] == "ws://h/api/v1/events?types=health"

    @pytest.mark.parametrize(
        ("failure", "line"),
        [
            (
                trio_websocket.ConnectionRejected(401, (), b"{}"),
                "ws://h/api/v1/events refused the connection: 401 Unauthorized",
            ),
            (
                OSError(111, "Connection refused"),
                "cannot connect to ws://h/api/v1/events: Connection refused",
            ),
        ],
    )
    async def test_a_first_connection_that_fails_is_unreachable(self, failure, line, autojump_clock):
        connect, _ = _scripted(failure)
        lines: list[bytes] = []
        recorder = Recorder("ws://h/api/v1/events?token=secret", lines.append, connect=connect)
        with pytest.raises(Unreachable) as raised:
            await recorder.run(lambda: STARTED)
        assert str(raised.value) == line
        assert lines == []  # no header for a recording that never began


class TestRecordCommand:
    def test_an_unreachable_url_is_one_line_and_status_2(self, capsys):
        assert main(["record", "ws://127.0.0.1:1/api/v1/events", "--for", "1s"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith("error: cannot connect to ws://127.0.0.1:1/api/v1/events: ")

    def test_a_failed_record_leaves_an_existing_file_alone_and_creates_none(self, tmp_path, capsys):
        kept = tmp_path / "keep.jsonl"
        kept.write_bytes(b"an earlier recording\n")
        assert main(["record", "ws://127.0.0.1:1/api/v1/events", "--out", str(kept)]) == 2
        assert kept.read_bytes() == b"an earlier recording\n"
        assert main(["record", "ws://127.0.0.1:1/api/v1/events", "--out", str(tmp_path / "new.jsonl")]) == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]
        capsys.readouterr()

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--for=-3s"], "argument --for: must be positive, not '-3s'"),
            (["--for", "0s"], "argument --for: must be positive, not '0s'"),
            (["--for", "-3s"], "--for: expected one argument (a value that starts with '-' goes after"),
            (["--catalog", "x.toml"], "unrecognized arguments: --catalog x.toml"),  # it reads no scenario
        ],
    )
    def test_what_its_options_refuse(self, argv, message, capsys):
        with pytest.raises(SystemExit) as exited:
            main(["record", "ws://127.0.0.1:1/api/v1/events", *argv])
        assert exited.value.code == 2
        assert message in capsys.readouterr().err

    def test_a_url_that_is_no_websocket_is_a_usage_error(self, capsys):
        assert main(["record", "ftp://example.org/"]) == 2
        assert "record takes a ws://, wss://, http:// or https:// URL" in capsys.readouterr().err

    async def test_a_refusing_server_is_one_line_with_its_status_and_status_2(self, grimnir_server):
        station = await grimnir_server.serve("dj-takeover")
        done = await trio.run_process(
            [sys.executable, "-m", "playout", "record", station.events_url, "--token", "not-a-jwt"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert done.returncode == 2
        refusal = f"error: {station.events_url} refused the connection: 401 Unauthorized\n"
        assert done.stderr.decode() == refusal
        assert done.stdout == b""


class TestTheProfileAsked:
    @pytest.mark.parametrize("profile", ["documented", "grimnir"])
    async def test_without_profile_record_notes_what_this_simulator_serves(
        self, profile, grimnir_server, tmp_path
    ):
        station = await grimnir_server.serve("dj-takeover", profile=profile, health_tick_ms=60_000)
        out = tmp_path / "r.jsonl"
        argv = ["record", station.events_url, "--token", station.token, "--out", str(out), "--for", "1s"]
        done = await trio.run_process(
            [sys.executable, "-m", "playout", *argv], capture_stderr=True, check=False
        )
        assert done.returncode == 0, done.stderr
        with out.open("rb") as lines:
            assert recording.read_recording(lines).header.profile == profile

    async def test_a_server_without_the_path_or_none_at_all_is_unknown(self, monkeypatch):
        # Another server's 404 is not an answer of this one's document: unchecked (rest_contract).
        monkeypatch.setattr(httpx.AsyncClient, "send", UNCHECKED_SEND)

        async def not_found(stream: trio.SocketStream) -> None:
            await stream.receive_some()
            await stream.send_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
            )
            await stream.aclose()

        async with trio.open_nursery() as nursery:
            (listener,) = await nursery.start(partial(trio.serve_tcp, not_found, 0, host="127.0.0.1"))
            port = listener.socket.getsockname()[1]
            assert await server_profile(f"ws://127.0.0.1:{port}/api/v1/events", "t") is None
            nursery.cancel_scope.cancel()
        assert await server_profile("ws://127.0.0.1:1/api/v1/events?token=t", None) is None


UNCHECKED_SEND = httpx.AsyncClient.send


def _write(path, *items: bytes) -> str:
    path.write_bytes(b"".join(_lines(*items)))
    return str(path)


class TestRunReplay:
    def test_it_prints_the_messages_as_received_and_the_gaps_on_stderr(self, tmp_path, capsys):
        path = _write(
            tmp_path / "r.jsonl",
            recording.message_line(0, NOW_PLAYING),
            recording.gap_line(1500, "closed 1006"),
            recording.message_line(2600, HANDOVER),
        )
        assert main(["run", "--replay", path]) == 0
        out, err = capsys.readouterr()
        assert out == f"{NOW_PLAYING}\n{HANDOVER}\n"
        assert err == "grimnir-sim: gap at 2026-01-19T10:00:01.5Z: closed 1006\n"

    def test_types_until_and_with_time_filter_and_stamp_like_run(self, tmp_path, capsys):
        path = _write(
            tmp_path / "r.jsonl",
            recording.message_line(0, NOW_PLAYING),
            recording.message_line(2600, HANDOVER),
            recording.message_line(5000, HANDOVER),
        )
        assert (
            main(["run", "--replay", path, "--types", "live.handover", "--until", "3s", "--with-time"]) == 0
        )
        expected = '{"at":"2026-01-19T10:00:02.6Z",' + HANDOVER[1:]
        assert capsys.readouterr().out == expected + "\n"

    def test_a_broken_line_ends_the_output_with_its_number_and_status_2(self, tmp_path, capsys):
        path = _write(
            tmp_path / "r.jsonl",
            recording.message_line(0, NOW_PLAYING),
            b"{oops\n",
            recording.message_line(2600, HANDOVER),
        )
        assert main(["run", "--replay", path]) == 2
        out, err = capsys.readouterr()
        assert out == f"{NOW_PLAYING}\n"
        assert err.startswith(f"error: {path}: line 3: not JSON")
        assert err.endswith("; the messages before it are printed\n") and err.count("\n") == 1

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["run"], "run needs a SCENARIO (a catalog name or a path), or --replay FILE"),
            (
                ["run", "dj-takeover", "--replay", "r.jsonl"],
                "--replay prints a recording: leave out the SCENARIO",
            ),
            (["run", "--replay", "/nonexistent/r.jsonl"], "cannot read /nonexistent/r.jsonl: No such file"),
        ],
    )
    def test_what_it_refuses(self, argv, message, capsys):
        assert main(argv) == 2
        assert message in capsys.readouterr().err

    def test_a_file_that_is_no_recording_is_one_line(self, tmp_path, capsys):
        path = tmp_path / "events.jsonl"
        path.write_text(NOW_PLAYING + "\n")
        assert main(["run", "--replay", str(path)]) == 2
        assert capsys.readouterr().err == (
            f"error: {path}: line 1: no grimnir_sim_recording=1 header: not a grimnir-sim recording\n"
        )


class TestReplay:
    async def test_it_waits_for_a_client_then_keeps_the_recorded_offsets_divided_by_speed(
        self, autojump_clock
    ):
        played = recording.read_recording(
            _lines(
                recording.message_line(0, NOW_PLAYING),
                recording.message_line(0, HANDOVER),
                recording.gap_line(1000, "closed 1006"),
                recording.message_line(4000, NOW_PLAYING),
            )
        )
        clients = 0
        published: list[tuple[float, list[tuple[str, bytes]]]] = []
        replay = Replay(played, lambda: clients, speed=2)
        async with trio.open_nursery() as nursery:
            await nursery.start(replay.run, lambda batch: published.append((trio.current_time(), batch)))
            await trio.sleep(30)
            assert published == []  # nobody to replay to yet
            clients = 1
            await replay.finished.wait()
        start = replay.started_at
        assert start is not None and 30 <= start <= 30 + WAIT_ROUND_SECONDS
        assert [(round(at - start, 3), batch) for at, batch in published] == [
            (0, [("now_playing", NOW_PLAYING.encode()), ("live.handover", HANDOVER.encode())]),
            (2, [("now_playing", NOW_PLAYING.encode())]),
        ]
        assert replay.published == 3


def _replay_service(*items: bytes, **options) -> ReplayService:
    return ReplayService(recording.read_recording(_lines(*items)), KEY, **options)


class TestServedReplay:
    """``serve --replay`` in process (Quart's test client), on the autojump clock: the stream's rules hold."""

    async def test_the_token_types_and_heartbeat_rules_apply(self, autojump_clock):
        service = _replay_service(
            recording.message_line(1000, NOW_PLAYING),
            recording.message_line(2000, HANDOVER),
            recording.message_line(3000, NOW_PLAYING),
        )
        app = create_app(service)
        async with app.test_app() as test_app:
            client = test_app.test_client()
            refused = await client.get("/api/v1/events")
            assert refused.status_code == 400  # no upgrade (the route's plain-HTTP answer)
            async with client.websocket(f"/api/v1/events?types=live.handover&token={token()}") as ws:
                assert await ws.receive() == HANDOVER
                with trio.fail_after(20):
                    assert await ws.receive() == '{"type":"ping"}'  # 15 s after subscribing

    async def test_without_a_token_the_upgrade_is_refused(self, autojump_clock):
        app = create_app(_replay_service(recording.message_line(0, NOW_PLAYING)))
        async with app.test_app() as test_app:
            response = await refusal(test_app.test_client().websocket("/api/v1/events"))
            assert response.status_code == 401

    async def test_a_late_client_asking_for_the_state_gets_the_latest_now_playing(self, autojump_clock):
        later = NOW_PLAYING.replace("First Light", "Second Wind")
        service = _replay_service(recording.message_line(0, NOW_PLAYING), recording.message_line(10, later))
        app = create_app(service)
        async with app.test_app() as test_app:
            client = test_app.test_client()
            async with client.websocket(f"/api/v1/events?token={token()}") as first:
                assert await first.receive() == NOW_PLAYING
                assert await first.receive() == later
                async with client.websocket(f"/api/v1/events?snapshot=true&token={token()}") as late:
                    assert await late.receive() == later

    async def test_a_station_path_is_a_404_that_says_a_replay_has_no_station(self, autojump_clock):
        app = create_app(_replay_service(recording.message_line(0, NOW_PLAYING)))
        async with app.test_app() as test_app:
            client = test_app.test_client()
            for path in ("/api/v1/sim/state", "/api/v1/analytics/now-playing", "/no/such/path"):
                response = await client.get(path, headers={"Authorization": f"Bearer {token()}"})
                assert response.status_code == 404
                body = await response.get_json()
                assert body["error"] == "not_found"
                assert body["detail"].startswith("no such path on a replay (serve --replay)")
                assert "/api/v1/sim/server" in body["detail"]
            served = await client.get("/api/v1/sim/server", headers={"Authorization": f"Bearer {token()}"})
            assert served.status_code == 200


async def _recorded(
    url: str, token_: str, profile: str | None, nursery: trio.Nursery
) -> tuple[Recorder, list]:
    lines: list[bytes] = []
    recorder = Recorder(url, lines.append, token=token_, profile=profile, say=lambda _: None)
    await nursery.start(partial(recorder.run, lambda: STARTED))
    return recorder, lines


async def _until(done, seconds: float = 20) -> None:
    with trio.fail_after(seconds):
        while not done():
            await trio.sleep(0.01)


@pytest.mark.parametrize(
    ("profile", "run_for", "types"),
    [
        ("documented", "2h", {"now_playing", "dj_connect", "live.handover", "live.released"}),
        ("grimnir", "6m", {"health", "dj_connect", "priority.override"}),
    ],
)
async def test_a_recording_of_serve_replayed_and_recorded_again_matches_message_for_message(
    profile, run_for, types, grimnir_server
):
    """Real sockets: the served station recorded, the recording served with --replay, recorded again."""
    station = await grimnir_server.serve("dj-takeover", profile=profile)
    async with trio.open_nursery() as nursery:
        first, lines = await _recorded(station.events_url, station.token, profile, nursery)
        hub = station.service.hub
        before = hub.published  # (the manual clock stands still: nothing is published meanwhile)
        await station.advance(run_for)
        await _until(lambda: first.messages == hub.published - before)
        nursery.cancel_scope.cancel()
    original = recording.read_recording(lines)
    assert len(original.messages) > 10 and {m.type for m in original.messages} >= types
    assert original.header.profile == profile

    service = ReplayService(original, KEY)
    assert service.settings.profile == "documented"  # as given; serve --replay takes the header's
    service = ReplayService(original, KEY, ServerSettings(profile=profile))
    async with trio.open_nursery() as nursery:
        running = await nursery.start(partial(serve, service, host="127.0.0.1", port=0))
        second, again = await _recorded(running.events_url, token(), profile, nursery)
        await _until(lambda: second.messages == len(original.messages))
        await service.replay.finished.wait()
        nursery.cancel_scope.cancel()
    replayed = recording.read_recording(again)
    assert [m.text for m in replayed.messages] == [m.text for m in original.messages]
    assert replayed.broken is None and not [i for i in replayed.items if isinstance(i, recording.Gap)]


def test_the_documented_commands_record_print_and_serve_back_a_station(request, tmp_path):
    """docs/record-replay.md's commands (a free port for 8000, twelve times their speed and a shorter
    --for), then the recording recorded again from `serve --replay`, and served from a copy broken
    halfway. (Which of the station's messages the recording catches depends on when it starts: the
    in-process test above pins the types.)"""
    commands = documented(request)
    environment = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": SERVE_KEY, "XDG_STATE_HOME": str(tmp_path)}
    serve_station = replaced(
        one(commands, "grimnir-sim serve dj-takeover").key, ("--speed 10", "--speed 120")
    )
    station = Server(*shlex.split(serve_station)[2:], cwd=tmp_path)
    try:
        record = one(commands, "grimnir-sim record").key
        bash(
            replaced(
                record,
                ("127.0.0.1:8000", f"{station.address[0]}:{station.address[1]}"),
                ("--for 5m", "--for 20s"),
            ),
            tmp_path,
            env=environment,
        )
    finally:
        assert station.stop() == 0
    original = recording.read_recording((tmp_path / "station.jsonl").read_bytes().splitlines())
    assert len(original.messages) >= 4 and "now_playing" in {m.type for m in original.messages}

    printed = bash(one(commands, "grimnir-sim run --replay").key, tmp_path, env=environment).splitlines()
    wanted = [m for m in original.messages if m.type in ("dj_connect", "live.handover")]
    assert [orjson.loads(line)["type"] for line in printed] == [m.type for m in wanted]
    assert all(line.startswith('{"at":"') for line in printed)

    replay = Server(*shlex.split(one(commands, "grimnir-sim serve --replay").key)[2:], cwd=tmp_path)
    try:
        assert replay.banner[0].startswith(f"grimnir-sim: replaying {len(original.messages)} message(s)")
        again = tmp_path / "again.jsonl"
        bash(f"grimnir-sim record {replay.ws} --token {replay.token} --out {again} --for 3s", tmp_path)
    finally:
        assert replay.stop() == 0
    replayed = recording.read_recording(again.read_bytes().splitlines())
    assert [m.text for m in replayed.messages] == [m.text for m in original.messages]

    lines = (tmp_path / "station.jsonl").read_bytes().splitlines()
    (tmp_path / "broken.jsonl").write_bytes(b"\n".join([*lines[:4], b'{"at_ms": 99, "text"', *lines[4:]]))
    broken = Server("--replay", "broken.jsonl", "--speed", "100", cwd=tmp_path)
    try:
        assert broken.banner[0].startswith("grimnir-sim: replaying 3 message(s)")
        said = broken.process.stderr.readline()
        assert said.startswith("grimnir-sim: broken.jsonl: line 5: not JSON")
        assert said.endswith("; serving the 3 message(s) before it\n")
        cut = tmp_path / "cut.jsonl"
        bash(f"grimnir-sim record {broken.ws} --token {broken.token} --out {cut} --for 2s", tmp_path)
    finally:
        assert broken.stop() == 0
    served = recording.read_recording(cut.read_bytes().splitlines()).messages
    assert [m.text for m in served] == [m.text for m in original.messages[:3]]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["dj-takeover"], "--replay serves a recording, not a station: leave out a scenario"),
        (["--manual-clock", "--from", "start"], "leave out --manual-clock, --from"),
        (["--speed", "0"], "--speed must be"),
    ],
)
def test_serve_replay_refuses_what_belongs_to_a_station(extra, message, tmp_path, capsys):
    path = _write(tmp_path / "r.jsonl", recording.message_line(0, NOW_PLAYING))
    assert main(["serve", "--replay", path, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_serve_replay_of_no_recording_is_one_line(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text(NOW_PLAYING + "\n")
    assert main(["serve", "--replay", str(path)]) == 2
    assert (
        capsys.readouterr().err
        == f"error: {path}: line 1: no grimnir_sim_recording=1 header: not a grimnir-sim recording\n"
    )


class TestExpectedFromARecording:
    async def _recording_of_served_dj_takeover(self, grimnir_server, path) -> int:
        served = await grimnir_server.serve("dj-takeover")
        async with trio.open_nursery() as nursery:
            recorder, lines = await _recorded(served.events_url, served.token, "documented", nursery)
            hub = served.service.hub
            before = hub.published
            await served.advance("2h")
            await _until(lambda: recorder.messages == hub.published - before)
            nursery.cancel_scope.cancel()
        path.write_bytes(b"".join(lines))
        return recorder.messages

    async def test_a_test_station_sends_what_the_served_one_was_recorded_sending(
        self, grimnir_server, grimnir, tmp_path
    ):
        path = tmp_path / "dj-takeover.jsonl"
        recorded = await self._recording_of_served_dj_takeover(grimnir_server, path)
        station = await grimnir.start("dj-takeover")
        matched = await station.expect(grimnir.expected_from(path), within="2h", strict=True)
        assert len(matched) == recorded

        handovers = expected_from(path, types=["live.handover", "live.released"], fields=["username"])
        assert [str(m) for m in handovers] == [
            "live.handover (username='DJ Mike')",
            "live.released (username='DJ Mike')",
        ]

    async def test_a_station_that_differs_from_the_recording_fails_on_the_first_difference(
        self, grimnir_server, grimnir, tmp_path
    ):
        path = tmp_path / "dj-takeover.jsonl"
        await self._recording_of_served_dj_takeover(grimnir_server, path)
        path.write_bytes(path.read_bytes().replace(b"DJ Mike", b"DJ Nobody"))
        station = await grimnir.start("dj-takeover")
        with pytest.raises(AssertionError) as failed:
            await station.expect(expected_from(path, fields=["username"]), within="2h", strict=True)
        assert str(failed.value).startswith("expected dj_connect (username='DJ Nobody') by ")

    def test_a_broken_recording_is_refused(self, tmp_path):
        path = _write(tmp_path / "r.jsonl", recording.message_line(0, NOW_PLAYING), b"{oops\n")
        with pytest.raises(ValueError, match=r"r\.jsonl: line 3: not JSON"):
            expected_from(path)

    @pytest.mark.parametrize(
        ("profile", "options", "message"),
        [
            (
                "documented",
                {"fields": ["usernme"]},
                r"unknown payload field 'usernme' of any type of the documented profile; "
                r"did you mean 'username'\? \(known: .*\)",
            ),
            (
                "documented",
                {"types": ["live.handovr"]},
                r"unknown event type 'live\.handovr' for the documented profile; "
                r"did you mean 'live\.handover'\?",
            ),
            (
                None,  # unknown: the documented profile
                {"types": "webstream.health"},
                r"unknown event type 'webstream\.health' for the documented profile",
            ),
            (
                "grimnir",
                {"types": "schedule_update"},
                r"unknown event type 'schedule_update' for the grimnir profile",
            ),
            (
                "documented",
                {"types": ["live.handover"], "fields": ["title"]},
                r"unknown payload field 'title' of live\.handover",
            ),
        ],
    )
    def test_an_unknown_type_or_field_is_refused_against_the_recordings_profile(
        self, profile, options, message, tmp_path
    ):
        path = tmp_path / "r.jsonl"
        header = recording.header_line("ws://h/api/v1/events", profile, STARTED)
        path.write_bytes(header + recording.message_line(0, HANDOVER))
        with pytest.raises(ValueError, match=message):
            expected_from(path, **options)

    def test_one_type_given_as_a_string_is_that_type(self, tmp_path):
        path = _write(
            tmp_path / "r.jsonl", recording.message_line(0, NOW_PLAYING), recording.message_line(5, HANDOVER)
        )
        assert [str(m) for m in expected_from(path, types="live.handover", fields="priority")] == [
            "live.handover (priority=1)"
        ]
