"""The harbor with real source clients: ffmpeg (PUT), a raw legacy SOURCE client, refusals."""

import base64
from functools import partial

import pytest
import trio

from playout import StationRunner, parse_scenario
from playout.drivers.harbor import Harbor, HarborLimits
from playout.scenario.model import HarborSettings
from tests.support import ffmpeg_tone

SCENARIO = """
[scenario]
name = "harbor"
start = "2026-01-19T10:00:00Z"
duration = "1d"

[[stations]]
id = "main"
name = "Harbor FM"
health_interval = "0s"

[[stations.mounts]]
id = "main"
path = "/main.mp3"

[[stations.mounts]]
id = "live"
path = "/live"

[[library.tracks]]
id = "one"
title = "One"
duration = "3m"

[[djs]]
id = "mike"
username = "DJ Mike"
password = "mikes-secret"

[[djs]]
id = "sarah"
username = "DJ Sarah"
password = "sarahs-secret"
"""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Station:
    def __init__(
        self,
        nursery: trio.Nursery,
        *,
        limits: HarborLimits | None = None,
        answer_delay: float = 0.0,
        **settings,
    ) -> None:
        """A station and its harbor; ``answer_delay``: the station takes that long to answer each input."""
        self.scenario = parse_scenario(SCENARIO, "harbor.toml")
        self.published = []
        self.runner = StationRunner(self.scenario, self.published.extend)

        async def slow_submit(given):
            await trio.sleep(answer_delay)
            return await self.runner.submit(given)

        submit = slow_submit if answer_delay else self.runner.submit
        self.harbor = Harbor(self.scenario, submit, HarborSettings(port=0, **settings), limits)
        self.nursery = nursery

    async def start(self) -> "Station":
        await self.nursery.start(self.runner.run)
        self.port = await self.nursery.start(self.harbor.serve)
        return self

    def kinds(self):
        return [e.event.TYPE for e in self.published]

    async def request(self, head: str, body: bytes = b"") -> tuple[trio.SocketStream, bytes]:
        stream = await trio.open_tcp_stream("127.0.0.1", self.port)
        await stream.send_all(head.encode() + body)
        return stream, await stream.receive_some(4096)


async def test_ffmpeg_goes_live_over_put_and_its_leaving_releases_the_air():
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        command = ffmpeg_tone(f"icecast://mike:mikes-secret@127.0.0.1:{station.port}/live", seconds=2)
        running = await nursery.start(partial(trio.run_process, command, capture_stderr=True, check=False))
        with trio.fail_after(10):
            while "now_playing" not in station.kinds()[1:] or not station.harbor.sources:
                await trio.sleep(0.05)
        (source,) = station.harbor.sources.values()
        assert (source.mount.path, source.dj.key, source.content_type) == ("/live", "mike", "audio/mpeg")
        with trio.fail_after(15):
            while "dj_disconnect" not in station.kinds():
                await trio.sleep(0.05)
        await running.wait()
        assert running.returncode == 0, running.stderr
        assert source.bytes_received > 10_000  # about 2 s of 64 kb/s MP3
        assert not station.harbor.sources
        nursery.cancel_scope.cancel()
    events = [e.event for e in station.published]
    kinds = [e.TYPE for e in events]
    assert kinds[kinds.index("dj_connect") :] == [
        "dj_connect",
        "live.handover",
        "now_playing",
        "dj_disconnect",
        "live.released",
        "priority.released",
        "now_playing",
    ]
    connect = events[kinds.index("dj_connect")]
    assert (connect.username, connect.source_ip) == ("DJ Mike", "127.0.0.1")
    assert connect.mount_id == station.scenario.station("main").mount("live").id
    disconnect = events[kinds.index("dj_disconnect")]
    assert 1.5 < disconnect.duration_seconds < 6


async def test_legacy_source_method_metadata_and_byte_count(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        source, answer = await station.request(
            f"SOURCE /live ICE/1.0\r\nAuthorization: {basic('source', 'sarahs-secret')}\r\n"
            "Content-Type: audio/mpeg\r\nice-name: Sarah's set\r\n\r\n",
            b"\xff\xfb" * 500,
        )
        assert answer.startswith(b"HTTP/1.0 200 OK")
        await source.send_all(b"\x00" * 3000)
        await trio.sleep(1)
        assert station.harbor.snapshot()["sources"][0]["bytes_received"] == 4000
        meta, answer = await station.request(
            "GET /admin/metadata?mode=updinfo&mount=/live&song=Nina%20Simone%20-%20Sinnerman HTTP/1.0\r\n"
            f"Authorization: {basic('sarah', 'sarahs-secret')}\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.0 200 OK") and b"<return>1</return>" in answer
        await meta.aclose()
        await trio.sleep(1)
        await source.aclose()
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    playing = [
        e.event for e in station.published if e.event.TYPE == "now_playing" and hasattr(e.event, "session_id")
    ]
    assert [(p.title, p.artist) for p in playing] == [
        ("DJ Sarah live", "DJ Sarah"),
        ("Sinnerman", "Nina Simone"),
    ]
    assert station.kinds()[-4:] == ["dj_disconnect", "live.released", "priority.released", "now_playing"]


async def test_a_source_that_sends_nothing_is_disconnected_after_the_timeout(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery, source_timeout_ms=5_000).start()
        stream, answer = await station.request(
            f"PUT /live HTTP/1.1\r\nAuthorization: {basic('mike', 'mikes-secret')}\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.0 200")
        connected = trio.current_time()
        with trio.fail_after(30):
            while "dj_disconnect" not in station.kinds():
                await trio.sleep(0.5)
        assert trio.current_time() - connected == pytest.approx(5, abs=0.6)
        await stream.aclose()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (f"PUT /live HTTP/1.1\r\nAuthorization: {basic('mike', 'wrong')}\r\n\r\n", b"401"),
        ("PUT /live HTTP/1.1\r\n\r\n", b"401"),
        (f"PUT /live HTTP/1.1\r\nAuthorization: {basic('sarah', 'mikes-secret')}\r\n\r\n", b"401"),
        ("PUT /live HTTP/1.1\r\nAuthorization: Basic !!notbase64\r\n\r\n", b"401"),
        (f"PUT /nowhere HTTP/1.1\r\nAuthorization: {basic('mike', 'mikes-secret')}\r\n\r\n", b"404"),
        ("THIS IS NOT HTTP\r\n\r\n", b"400"),
        ("GET /live HTTP/1.1\r\n\r\n", b"405"),
        (
            "GET /admin/metadata?mode=updinfo&song=x HTTP/1.0\r\n"
            f"Authorization: {basic('mike', 'mikes-secret')}\r\n\r\n",
            b"400",
        ),
    ],
)
async def test_refusals(head, status, autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        stream, answer = await station.request(head)
        assert answer.split(b" ")[1] == status, answer
        if status == b"401":
            assert b'WWW-Authenticate: Basic realm="Icecast2 Server"' in answer
        await stream.aclose()
        assert station.kinds() == ["now_playing"]  # nothing happened on the station
        nursery.cancel_scope.cancel()


async def test_a_taken_mount_is_409_and_too_many_sources_503(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery, max_sources=1).start()
        first, answer = await station.request(
            f"PUT /live HTTP/1.1\r\nAuthorization: {basic('mike', 'mikes-secret')}\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.0 200")
        await first.send_all(b"\x00" * 100)
        taken, answer = await station.request(
            f"PUT /live HTTP/1.1\r\nAuthorization: {basic('sarah', 'sarahs-secret')}\r\n\r\n"
        )
        assert answer.split(b" ")[1] == b"409"
        full, answer = await station.request(
            f"PUT /main.mp3 HTTP/1.1\r\nAuthorization: {basic('sarah', 'sarahs-secret')}\r\n\r\n"
        )
        assert answer.split(b" ")[1] == b"503"
        for stream in (first, taken, full):
            await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_headers_that_never_end_are_refused(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        stream = await trio.open_tcp_stream("127.0.0.1", station.port)
        await stream.send_all(b"PUT /live HTTP/1.1\r\n" + b"X-Junk: " + b"a" * 20_000)
        assert (await stream.receive_some(4096)).split(b" ")[1] == b"431"
        await stream.aclose()
        slow = await trio.open_tcp_stream("127.0.0.1", station.port)
        await slow.send_all(b"PUT /live HTTP/1.1\r\n")
        assert (await slow.receive_some(4096)).split(b" ")[1] == b"408"  # after 10 s of nothing
        await slow.aclose()
        nursery.cancel_scope.cancel()
