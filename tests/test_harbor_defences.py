"""The harbor against hostile clients: resets, races, floods, long heads, its own bugs."""

import logging
import socket
import struct

import pytest
import trio

from playout import inputs
from playout.harbor import Harbor, HarborLimits, client_key
from tests.test_harbor import Station, basic

MIKE = basic("mike", "mikes-secret")
SARAH = basic("sarah", "sarahs-secret")


def status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.0 "), answer
    return int(answer.split(b" ")[1])


async def connect(station: Station, local: str = "127.0.0.1") -> trio.SocketStream:
    return await trio.open_tcp_stream("127.0.0.1", station.port, local_address=local)


async def put(
    station: Station, authorization: str, mount: str = "/live", *, local: str = "127.0.0.1"
) -> tuple[trio.SocketStream, bytes]:
    """A source client from ``local`` (any 127.x.y.z address is loopback): its stream and the answer."""
    stream = await connect(station, local)
    await stream.send_all(f"PUT {mount} HTTP/1.1\r\nAuthorization: {authorization}\r\n\r\n".encode())
    return stream, await stream.receive_some(4096)


async def closed_by_harbor(stream: trio.SocketStream) -> bool:
    """Whether the harbor has closed the connection (an end of stream or a reset, within 5 s)."""
    with trio.move_on_after(5):
        try:
            while await stream.receive_some(4096):
                pass
        except trio.BrokenResourceError:
            pass
        return True
    return False


async def wait_for(condition, seconds: float = 10) -> None:
    with trio.fail_after(seconds):
        while not condition():
            await trio.sleep(0.05)


# -- one connection's trouble is that connection's only ---------------------------------------


async def test_connections_reset_before_the_harbor_reads_them_stop_nothing(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        for _ in range(3):  # what a health checker that resets does
            probe = socket.create_connection(("127.0.0.1", station.port))
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            probe.close()  # the reset arrives before the harbor's task has even run
        await trio.sleep(1)
        source, answer = await put(station, MIKE)
        assert status(answer) == 200
        await source.aclose()
        await wait_for(lambda: "dj_disconnect" in station.kinds())
        counters = station.harbor.counters
        assert (counters.connections, counters.failures) == (4, 0)
        nursery.cancel_scope.cancel()


async def test_an_exception_while_reading_a_request_closes_that_connection_only(
    autojump_clock, monkeypatch, caplog
):
    read_head = Harbor._read_head

    async def broken_for_boom(self, stream):
        request = await read_head(self, stream)
        if request.path == "/boom":
            raise RuntimeError("injected")
        return request

    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        live, answer = await put(station, MIKE)
        assert status(answer) == 200
        monkeypatch.setattr(Harbor, "_read_head", broken_for_boom)
        with caplog.at_level(logging.INFO, logger="grimnir_sim.harbor"):
            boom = await connect(station)
            await boom.send_all(b"PUT /boom HTTP/1.1\r\n\r\n")
            assert await closed_by_harbor(boom)
            await boom.aclose()
        failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(failed) == 1 and failed[0].name == "grimnir_sim.harbor"
        assert failed[0].exc_info[1].args == ("injected",)
        assert station.harbor.snapshot()["counters"]["failures"] == 1
        # the source already live goes on, another one goes live, the station carries on
        await live.send_all(b"\x00" * 1000)
        await wait_for(lambda: station.harbor.sources["/live"].bytes_received == 1000)
        other, answer = await put(station, SARAH, "/main.mp3")
        assert status(answer) == 200
        for stream in (live, other):
            await stream.aclose()
        await wait_for(lambda: station.kinds().count("dj_disconnect") == 2)
        assert not station.harbor.sources
        nursery.cancel_scope.cancel()


async def test_an_exception_while_a_source_is_live_disconnects_it_and_frees_the_mount(
    autojump_clock, monkeypatch, caplog
):
    async def broken_audio(self, stream, source):
        await stream.receive_some(4096)
        raise RuntimeError("injected")

    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        monkeypatch.setattr(Harbor, "_read_audio", broken_audio)
        live, answer = await put(station, MIKE)
        assert status(answer) == 200
        await live.send_all(b"\x00" * 100)
        assert await closed_by_harbor(live)
        await wait_for(lambda: station.harbor.counters.failures == 1)
        assert "dj_disconnect" in station.kinds()
        assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("injected",)]
        monkeypatch.undo()
        again, answer = await put(station, SARAH)
        assert status(answer) == 200
        await again.aclose()
        await wait_for(lambda: station.kinds().count("dj_disconnect") == 2)
        nursery.cancel_scope.cancel()


# -- the mount is held before anything waits -------------------------------------------------


async def test_two_sources_on_one_mount_at_once_get_200_and_409_and_both_leave_cleanly(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery, answer_delay=0.5).start()  # the station is slow to answer
        answers = {}

        async def go_live(name, authorization):
            answers[name] = await put(station, authorization)

        async with trio.open_nursery() as clients:
            clients.start_soon(go_live, "mike", MIKE)
            clients.start_soon(go_live, "sarah", SARAH)
        assert sorted(status(answer) for _, answer in answers.values()) == [200, 409]
        for stream, _ in answers.values():
            await stream.aclose()
        await wait_for(lambda: "dj_disconnect" in station.kinds())
        assert not station.harbor.sources
        again, answer = await put(station, SARAH)  # the mount is free again
        assert status(answer) == 200
        await again.aclose()
        await wait_for(lambda: station.kinds().count("dj_disconnect") == 2)
        assert station.kinds().count("dj_connect") == 2
        assert station.harbor.counters.failures == 0
        nursery.cancel_scope.cancel()


async def test_a_source_is_listed_as_connecting_until_the_station_accepts_it(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery, answer_delay=1).start()
        source = await connect(station)
        await source.send_all(f"PUT /live HTTP/1.1\r\nAuthorization: {MIKE}\r\n\r\n".encode())
        await trio.sleep(0.5)
        (connecting,) = station.harbor.snapshot()["sources"]
        assert (connecting["mount"], connecting["session_id"]) == ("/live", None)
        assert status(await source.receive_some(4096)) == 200
        assert station.harbor.snapshot()["sources"][0]["session_id"] is not None
        await source.aclose()
        nursery.cancel_scope.cancel()


# -- inputs the station refuses ------------------------------------------------------------------


async def test_metadata_after_the_dj_was_disconnected_through_the_api_is_a_409(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        live, answer = await put(station, MIKE)
        assert status(answer) == 200
        # what POST /api/v1/sim/djs/disconnect does
        await station.runner.submit(inputs.DisconnectDj(station="main", dj="mike"))
        meta = await connect(station)
        await meta.send_all(
            b"GET /admin/metadata?mode=updinfo&mount=/live&song=A%20-%20B HTTP/1.0\r\n"
            + f"Authorization: {MIKE}\r\n\r\n".encode()
        )
        answer = await meta.receive_some(4096)
        assert status(answer) == 409 and b"not connected" in answer, answer
        await meta.aclose()
        await live.send_all(b"\x00" * 100)  # the encoder itself goes on until it leaves
        await live.aclose()
        await wait_for(lambda: not station.harbor.sources)
        assert station.kinds().count("dj_disconnect") == 1
        assert station.harbor.counters.failures == 0
        nursery.cancel_scope.cancel()


# -- unauthenticated connections are capped ------------------------------------------------------


async def test_unauthenticated_connections_beyond_the_caps_are_answered_503_at_once(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        limits = station.harbor.limits
        assert (limits.max_pending, limits.max_pending_per_address) == (64, 8)
        idle = [await connect(station, "127.0.1.1") for _ in range(8)]
        await trio.sleep(0.1)
        began = trio.current_time()
        extra = await connect(station, "127.0.1.1")
        assert status(await extra.receive_some(4096)) == 503
        assert trio.current_time() - began < 0.5
        assert await closed_by_harbor(extra)
        live, answer = await put(station, MIKE, local="127.0.2.1")  # another address still gets in
        assert status(answer) == 200
        await live.aclose()
        # 7 more addresses x 8 = 64 in all: a further address gets 503 too, and nobody waits for it
        for n in range(2, 9):
            idle += [await connect(station, f"127.0.1.{n}") for _ in range(8)]
        await trio.sleep(0.1)
        assert station.harbor.snapshot()["pending"] == 64
        began = trio.current_time()
        extra = await connect(station, "127.0.3.1")
        assert status(await extra.receive_some(4096)) == 503
        assert trio.current_time() - began < 0.5
        assert station.harbor.counters.over_capacity == 2
        # the idle ones are answered 408 when their head does not come within the head timeout
        answer = await idle[0].receive_some(4096)
        assert status(answer) == 408
        assert trio.current_time() - began == pytest.approx(limits.head_timeout_seconds, abs=0.5)
        await trio.sleep(0.5)
        assert station.harbor.snapshot()["pending"] == 0
        live, answer = await put(station, MIKE, local="127.0.3.1")
        assert status(answer) == 200
        for stream in [*idle, extra, live]:
            await stream.aclose()
        nursery.cancel_scope.cancel()


# -- request heads --------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [(16_384, 200), (16_385, 431)])
async def test_the_request_head_limit_is_exactly_16_kib(size, expected, autojump_clock):
    start = f"PUT /live HTTP/1.1\r\nAuthorization: {MIKE}\r\nX-Padding: ".encode()
    head = start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == size
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        stream = await connect(station)
        await stream.send_all(head)
        assert status(await stream.receive_some(4096)) == expected
        if expected == 431:
            assert await closed_by_harbor(stream)
            assert station.kinds() == ["now_playing"]
        await stream.aclose()
        nursery.cancel_scope.cancel()


# -- the settings ----------------------------------------------------------------------------------


def test_clients_are_counted_by_ipv4_address_and_ipv6_network():
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") == "2001:db8:0:1::/64"


@pytest.mark.parametrize(
    "changes",
    [{"max_pending": 0}, {"max_pending_per_address": 0}, {"head_timeout_seconds": -1}, {"max_head_bytes": 0}],
)
def test_limits_that_would_defeat_themselves_are_refused(changes):
    with pytest.raises(ValueError):
        HarborLimits(**changes)
