"""The harbor against hostile clients: resets, races, floods, password guessing, long heads, its own bugs."""

import hmac
import logging
import socket
import struct
from types import SimpleNamespace

import pytest
import trio

from playout import inputs, parse_scenario
from playout.drivers.harbor import Harbor, HarborLimits, client_key
from playout.scenario.model import HARBOR_LIMIT_KEYS
from playout.scenario.schema import DOCUMENT_SCHEMA
from playout.station.lockouts import Lockouts
from tests.server_support import served
from tests.support import shipped
from tests.test_harbor import SCENARIO, Station, basic

MIKE = basic("mike", "mikes-secret")
SARAH = basic("sarah", "sarahs-secret")
WRONG = basic("mike", "a-guess")


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


# -- password guessing ------------------------------------------------------------------------------


async def test_every_login_compares_every_dj_in_constant_time_whoever_it_names(autojump_clock, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def counted(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counted)
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        per_login = []
        for user, password in [
            ("nobody", "x"),
            ("mike", "a-guess"),
            ("source", "a-much-longer-guess-than-any-password"),
            ("sarah", "mikes-secret"),
        ]:
            compared.clear()
            stream, answer = await put(station, basic(user, password), local="127.0.1.1")
            assert status(answer) == 401
            await stream.aclose()
            per_login.append(list(compared))
        assert len(per_login[0]) >= 2 * len(station.scenario.djs)
        assert all(calls == per_login[0] for calls in per_login)
        assert {lengths for lengths in per_login[0]} == {(32, 32)}  # digests: lengths tell nothing
        nursery.cancel_scope.cancel()


async def test_failed_logins_lock_out_their_address_only_and_only_for_a_while(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        limits = station.harbor.limits
        assert (limits.address_failures, limits.address_lockout_seconds) == (5, 300)
        answers = []
        for _ in range(50):  # a burst of guesses
            stream, answer = await put(station, WRONG, local="127.0.1.1")
            answers.append(status(answer))
            await stream.aclose()
        assert answers == [401] * 5 + [429] * 45
        stream, answer = await put(station, MIKE, local="127.0.1.1")  # even the right password
        assert status(answer) == 429 and b"Retry-After: 300" in answer
        await stream.aclose()
        live, answer = await put(station, MIKE, local="127.0.2.1")  # the DJ elsewhere is not affected
        assert status(answer) == 200
        await live.aclose()
        counters = station.harbor.counters
        assert (counters.auth_failures, counters.locked_out, counters.lockouts) == (5, 46, 1)
        assert station.harbor.snapshot()["locked"] == {"addresses": 1, "mounts": 0}
        await trio.sleep(limits.address_lockout_seconds)
        assert station.harbor.snapshot()["locked"] == {"addresses": 0, "mounts": 0}
        stream, answer = await put(station, SARAH, local="127.0.1.1")
        assert status(answer) == 200
        await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_metadata_logins_are_limited_too(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        answers = []
        for _ in range(6):
            stream = await connect(station, "127.0.1.1")
            await stream.send_all(
                b"GET /admin/metadata?mode=updinfo&mount=/live&song=x HTTP/1.0\r\n"
                + f"Authorization: {WRONG}\r\n\r\n".encode()
            )
            answers.append(status(await stream.receive_some(4096)))
            await stream.aclose()
        assert answers == [401] * 5 + [429]
        nursery.cancel_scope.cancel()


async def test_one_guessing_address_never_keeps_a_dj_out_from_another(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        checked = []

        async def guess_forever():
            while True:
                stream, answer = await put(station, basic("source", "a-guess"), local="127.0.1.1")
                await stream.aclose()
                if status(answer) == 401:
                    checked.append(trio.current_time())
                await trio.sleep(2)

        began = trio.current_time()
        nursery.start_soon(guess_forever)
        for minute in range(12):  # across three lockouts of the guesser
            await trio.sleep(60)
            # from a new address each time, so never one the mount already trusts
            live, answer = await put(station, MIKE, local=f"127.0.2.{minute + 1}")
            assert status(answer) == 200, (minute, answer)
            await live.aclose()
            await wait_for(lambda: not station.harbor.sources)
        # the guesser had 5 guesses checked per 300 s lockout, no more
        assert len(checked) <= 5 * ((trio.current_time() - began) // 300 + 1)
        assert station.harbor.snapshot()["locked"]["mounts"] == 0
        nursery.cancel_scope.cancel()


async def test_a_mount_guessed_at_from_many_addresses_lets_in_only_addresses_djs_used_before(autojump_clock):
    async with trio.open_nursery() as nursery:
        station = await Station(nursery).start()
        limits = station.harbor.limits
        assert (limits.mount_failures, limits.mount_lockout_seconds) == (20, 300)
        before, answer = await put(station, MIKE)  # Mike has been live from 127.0.0.1
        assert status(answer) == 200
        await before.aclose()
        await wait_for(lambda: not station.harbor.sources)
        for n in range(1, 5):  # 4 addresses x 5 = 20 failures on /live
            for _ in range(5):
                stream, answer = await put(station, WRONG, local=f"127.0.1.{n}")
                assert status(answer) == 401
                await stream.aclose()
        newcomer, answer = await put(station, SARAH, local="127.0.2.1")
        assert status(answer) == 429
        await newcomer.aclose()
        elsewhere, answer = await put(station, SARAH, "/main.mp3", local="127.0.2.1")  # another mount
        assert status(answer) == 200
        await elsewhere.aclose()
        await wait_for(lambda: not station.harbor.sources)
        trusted, answer = await put(station, MIKE)
        assert status(answer) == 200
        await trusted.aclose()
        await wait_for(lambda: not station.harbor.sources)
        await trio.sleep(limits.mount_lockout_seconds)
        newcomer, answer = await put(station, MIKE, local="127.0.2.2")
        assert status(answer) == 200
        await newcomer.aclose()
        nursery.cancel_scope.cancel()


# -- the bookkeeping on its own ---------------------------------------------------------------------


def lockouts(**changes) -> Lockouts:
    settings = {
        "address_failures": 3,
        "mount_failures": 5,
        "window": 60.0,
        "address_lockout": 100.0,
        "mount_lockout": 50.0,
        "trusted_addresses": 2,
        "tracked_addresses": 100,
    } | changes
    return Lockouts(**settings)


def test_failures_further_apart_than_the_window_never_lock():
    guarded = lockouts()
    for n in range(10):
        assert guarded.failed("a", None, n * 31.0) == []
    assert guarded.refusal("a", None, 400.0) is None


def test_a_lockout_ends_on_time_and_refused_attempts_do_not_count():
    guarded = lockouts()
    assert guarded.failed("a", "/m", 0) == []
    assert guarded.failed("a", "/m", 1) == []
    (locked,) = guarded.failed("a", "/m", 2)
    assert (locked.kind, locked.key, locked.until) == ("address", "a", 102)
    assert guarded.refusal("a", "/m", 50) == 52
    assert guarded.refusal("b", "/m", 50) is None
    assert guarded.refusal("a", "/m", 102) is None


def test_a_success_forgives_failures_and_trusts_the_latest_addresses_only():
    guarded = lockouts()
    guarded.failed("a", None, 0)
    guarded.failed("a", None, 1)
    guarded.succeeded("a")
    assert guarded.failed("a", None, 2) == []  # the count started again
    for address in ("a", "b", "c"):  # two trusted at most: "a" is forgotten
        guarded.succeeded(address)
    for n in range(5):
        guarded.failed(f"x{n}", "/m", 10)
    assert [guarded.refusal(address, "/m", 11) for address in ("a", "b", "c", "new")] == [49, None, None, 49]


def test_tracked_addresses_are_bounded():
    guarded = lockouts(tracked_addresses=10)
    for n in range(1000):
        guarded.failed(f"10.0.{n // 256}.{n % 256}", None, 0)
        guarded.failed(f"10.0.{n // 256}.{n % 256}", None, 0)
        guarded.failed(f"10.0.{n // 256}.{n % 256}", None, 0)
    assert guarded.locked(1) == {"addresses": 10, "mounts": 0}
    assert len(guarded._address_failures._times) == 0


def test_clients_are_counted_by_ipv4_address_and_ipv6_network():
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") == "2001:db8:0:1::/64"


@pytest.mark.parametrize(
    "changes",
    [
        {"mount_failures": 5},  # one address could lock the mount
        {"address_lockout_seconds": 30},  # shorter than the window: the same
        {"max_pending": 0},
        {"head_timeout_seconds": -1},
        {"max_pending": 4},  # fewer in all than from one address (8)
    ],
)
def test_limits_that_would_defeat_themselves_are_refused(changes):
    with pytest.raises(ValueError):
        HarborLimits(**changes)


async def test_the_harbor_counts_are_in_the_servers_figures(autojump_clock):
    """/api/v1/sim/server shows the harbor's counters, null for a station without a harbor."""
    async with served(shipped("dj-takeover")) as station:
        assert (await station.get("/api/v1/sim/server"))[1]["harbor"] is None
    async with served(shipped("live-harbor"), harbor_port=0) as station:
        harbor = station.service.harbor
        harbor.counters.failures += 1  # as an isolated connection's failure counts itself
        status, figures = await station.get("/api/v1/sim/server")
    assert status == 200
    assert figures["harbor"] == harbor.counters.as_dict()
    assert figures["harbor"]["failures"] == 1


# -- the limits are the scenario's --------------------------------------------------------------

LIMITS_TABLE = """
[harbor]
port = 0
max_pending = 3
max_pending_per_address = 2
head_timeout = "3s"
max_head_bytes = 2048
address_failures = 2
mount_failures = 4
failure_window = "30s"
address_lockout = "45s"
mount_lockout = "90s"
trusted_addresses = 10
tracked_addresses = 100
"""


def test_the_scenarios_harbor_table_sets_every_limit():
    limits = parse_scenario(SCENARIO + LIMITS_TABLE, "harbor.toml").harbor.limits
    assert limits == HarborLimits(
        max_pending=3,
        max_pending_per_address=2,
        head_timeout_seconds=3.0,
        max_head_bytes=2048,
        address_failures=2,
        mount_failures=4,
        failure_window_seconds=30.0,
        address_lockout_seconds=45.0,
        mount_lockout_seconds=90.0,
        trusted_addresses=10,
        tracked_addresses=100,
    )
    assert parse_scenario(SCENARIO, "harbor.toml").harbor.limits == HarborLimits()
    assert set(HARBOR_LIMIT_KEYS) <= set(DOCUMENT_SCHEMA["properties"]["harbor"]["properties"])


async def test_a_served_harbor_holds_the_scenarios_limits(autojump_clock):
    """``serve`` gives the harbor nothing but the scenario: its [harbor] limits are the ones held."""
    async with served(parse_scenario(SCENARIO + LIMITS_TABLE, "harbor.toml")) as served_station:
        station = SimpleNamespace(port=served_station.service.harbor.port)  # what the helpers use
        idle = [await connect(station, "127.0.1.1") for _ in range(2)]
        extra = await connect(station, "127.0.1.1")  # a third from one address: 503
        assert status(await extra.receive_some(4096)) == 503
        idle.append(await connect(station, "127.0.1.2"))
        extra = await connect(station, "127.0.1.3")  # a fourth in all: 503
        assert status(await extra.receive_some(4096)) == 503
        began = trio.current_time()
        assert status(await idle[0].receive_some(4096)) == 408
        assert trio.current_time() - began == pytest.approx(3, abs=0.5)
        for stream in [*idle, extra]:
            await stream.aclose()

        stream = await connect(station)
        await stream.send_all(
            f"PUT /live HTTP/1.1\r\nAuthorization: {MIKE}\r\nX-Padding: ".encode() + b"a" * 2048
        )
        assert status(await stream.receive_some(4096)) == 431
        await stream.aclose()

        for _ in range(2):
            stream, answer = await put(station, WRONG, local="127.0.2.1")
            assert status(answer) == 401
            await stream.aclose()
        stream, answer = await put(station, MIKE, local="127.0.2.1")
        assert status(answer) == 429
        assert b"Retry-After: 45\r\n" in answer
        await stream.aclose()
