"""Recording a server's event stream and serving it back (docs/record-replay.md).

The format and the replay's timing are checked on their own (the replay on trio's
autojump clock), the recorder's reconnects against a scripted connection in virtual
time, and the whole round trip over real sockets: a served station recorded, the
recording served with ``serve --replay`` and recorded again, message for message.
"""

import itertools
import sys
from contextlib import asynccontextmanager
from functools import partial

import orjson
import pytest
import trio
import trio_websocket

from playout import recording
from playout.drivers.cli import main
from server.recorder import Recorder, Unreachable

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
