"""The hub's and the collector policy's bookkeeping across connections coming and going."""

import functools
import gc
import time
import weakref
from collections import deque

import httpx
import pytest
import trio
import trio.testing
from hypercorn.trio.tcp_server import TCPServer
from trio_websocket import ConnectionClosed, open_websocket_url

from playout.drivers.cli import first_leaf
from server.hub import GOING_AWAY, PING_ROUND_SECONDS, Hub
from server.serve import ServiceFailed, serve
from server.service import StationService
from server.transport.one_task_websocket import OneTaskWebsocketConnection
from server.transport.socket_writer import SocketWriter
from server.vitals import FREEZE_EVERY, LINGER_SECONDS, Vitals
from tests.server_support import KEY, token
from tests.support import shipped


async def test_a_subscriber_that_arrives_after_close_all_is_closed_at_once():
    # Regression (review): a handler still inside accept() when the server began stopping
    # subscribed after close_all() and was never told to go (no 1001, a 3 s drain for nothing).
    hub = Hub()
    early = hub.subscribe({"now_playing"})
    hub.close_all()
    late = hub.subscribe({"now_playing"})
    assert early.close_code == late.close_code == GOING_AWAY
    assert late.cancel_scope.cancel_called


async def test_unsubscribing_breaks_the_subscriber_writer_cycle():
    # Regression (review): subscriber and writer referred to each other, so only the cyclic
    # collector could free them, and frozen objects (gc.freeze) escape it: they stayed forever.
    ours, theirs = trio.socket.socketpair()
    with ours, theirs:
        writer = SocketWriter(trio.SocketStream(ours), max_waiting=4, send_timeout=1, spawn=lambda task: None)
        hub = Hub()
        subscriber = hub.subscribe({"now_playing"}, writer)
        assert writer.on_broken.__self__ is subscriber and subscriber.writer is writer
        hub.unsubscribe(subscriber)
        assert getattr(writer.on_broken, "__self__", None) is None  # neither refers to the other
        assert subscriber.writer is None
        assert hub.departed == 1


class FakeHub:
    def __init__(self) -> None:
        self.connected = 0
        self.departed = 0
        self.departures: deque = deque()

    def __len__(self) -> int:
        return self.connected


def test_the_collector_policy_freezes_after_arrivals_and_collects_only_after_lingering():
    vitals = Vitals(FakeHub())  # type: ignore[arg-type]
    try:
        vitals._steer_gc(FREEZE_EVERY - 1, FREEZE_EVERY - 1, 0)
        assert vitals.freezes == 0
        vitals._steer_gc(2 * FREEZE_EVERY, 2 * FREEZE_EVERY, 0)  # a burst: frozen
        assert vitals.freezes == 1 and gc.get_freeze_count() > 0
        # Churn at a steady count: arrivals, not the count, call for the next freeze
        vitals._steer_gc(2 * FREEZE_EVERY, 3 * FREEZE_EVERY - 1, 0)
        assert vitals.freezes == 1
        vitals._steer_gc(2 * FREEZE_EVERY, 3 * FREEZE_EVERY, 0)
        assert vitals.freezes == 2 and vitals.collections == 0
        # Departures that were freed never call for a full collection; lingering ones do: as many
        # as half of those frozen (but at least FREEZE_EVERY) means unfreeze, collect, freeze again.
        vitals._steer_gc(2 * FREEZE_EVERY, 3 * FREEZE_EVERY, FREEZE_EVERY - 1)
        assert vitals.collections == 0
        vitals._steer_gc(2 * FREEZE_EVERY, 3 * FREEZE_EVERY, FREEZE_EVERY)
        assert vitals.collections == 1 and vitals.freezes == 3
        vitals._steer_gc(2 * FREEZE_EVERY, 3 * FREEZE_EVERY, FREEZE_EVERY + 10)  # counted from there
        assert vitals.collections == 1
    finally:
        gc.unfreeze()


async def test_the_freeze_at_start_up_is_counted_like_every_other():
    vitals = Vitals(FakeHub())  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(vitals.run)
        await trio.testing.wait_all_tasks_blocked()  # it has frozen what lives for good and sleeps
        assert vitals.freezes == 1 and gc.get_freeze_count() > 0
        nursery.cancel_scope.cancel()
    assert gc.get_freeze_count() == 0


def test_a_departure_counts_as_lingering_only_while_its_connection_is_alive():
    class Writer:  # stands for a departed connection's SocketWriter
        pass

    hub = FakeHub()
    vitals = Vitals(hub)  # type: ignore[arg-type]
    freed, kept = Writer(), Writer()
    hub.departures.extend([weakref.ref(freed), weakref.ref(kept), None])
    vitals._check_departures(100.0)
    del freed
    vitals._check_departures(100.0 + LINGER_SECONDS / 2)
    assert vitals.lingered == 0  # not checked before LINGER_SECONDS
    vitals._check_departures(100.0 + LINGER_SECONDS)
    assert vitals.lingered == 2  # the one still alive, and the one with no writer to check
    assert kept is not None


def _alive(cls: type) -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is cls)


async def test_closed_connections_are_freed_by_refcounting_alone():
    # Regression (issue 11, churn): each closed connection stayed in reference cycles (Hypercorn's
    # TCPServer and its protocol; our WebSocket connection, its own receive_channel), so freeing
    # frozen ones took a full collection of everything alive: 146 ms at 10,000 connections.
    service = StationService(shipped("crossfade"), KEY, manual_clock=True)
    enabled = gc.isenabled()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            running = await nursery.start(functools.partial(serve, service, port=0))
            gc.disable()  # from here only refcounting frees anything
            try:
                for _ in range(5):
                    async with open_websocket_url(f"{running.events_url}?token={token()}"):
                        pass
                async with httpx.AsyncClient() as rest:  # keep-alive: one connection, two requests
                    for _ in range(2):
                        assert (await rest.get(f"{running.url}/api/v1/health")).status_code == 200
                while len(service.hub) or _alive(TCPServer):
                    await trio.sleep(0.01)
                assert service.hub.departed == 5
                assert all(departed is not None and departed() is None for departed in service.hub.departures)
                assert _alive(OneTaskWebsocketConnection) == 0
            finally:
                if enabled:
                    gc.enable()
            await running.stop()


async def test_a_failing_background_task_closes_every_client_with_1011_and_ends_serve():
    # Regression (review): a task in the app's nursery that raised was only logged by Hypercorn,
    # which went on serving (health 200, 101s) a station that never spoke again.
    service = StationService(shipped("crossfade"), KEY, manual_clock=True)
    fail_now = trio.Event()

    async def heartbeat_that_fails(interval: float) -> None:
        await fail_now.wait()
        raise RuntimeError("boom")

    service.hub.run = heartbeat_that_fails  # type: ignore[method-assign]
    stopped = None
    with trio.fail_after(10):
        try:
            async with trio.open_nursery() as nursery:
                running = await nursery.start(functools.partial(serve, service, port=0))
                async with open_websocket_url(f"{running.events_url}?token={token()}") as client:
                    fail_now.set()
                    with pytest.raises(ConnectionClosed) as closed:
                        while True:
                            await client.get_message()
                assert closed.value.reason.code == 1011
        except* ServiceFailed as group:
            stopped = first_leaf(group)
    assert stopped is not None and "RuntimeError('boom')" in str(stopped)


async def test_connections_due_at_different_moments_are_pinged_in_rounds(autojump_clock):
    # Regression (issue 11, idle CPU): the heartbeat woke once for every connection's due time,
    # so 10,000 connections made over 25 s meant a trio wake-up for each ping, 667 a second.
    hub = Hub()
    pinged_at: list[float] = []

    async def three_pings(subscribed: float, subscriber) -> None:
        for beat in (1, 2, 3):
            assert await subscriber.next_message() == '{"type":"ping"}'
            due = subscribed + 15.0 * beat
            assert due <= trio.current_time() <= due + PING_ROUND_SECONDS  # a round late at most, no drift
            pinged_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(hub.run, 15.0)
        async with trio.open_nursery() as readers:
            for _ in range(50):  # one every 10 ms
                subscriber = hub.subscribe({"now_playing"}, heartbeat=15.0)
                readers.start_soon(three_pings, trio.current_time(), subscriber)
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert len(pinged_at) == 150
    # 0.5 s of due times, three times over: a handful of rounds, not a wake-up per ping
    assert len(set(pinged_at)) <= 3 * (0.5 / PING_ROUND_SECONDS + 1)


async def test_a_long_pass_of_the_run_loop_is_recorded_as_a_stall():
    vitals = Vitals(Hub())
    async with trio.open_nursery() as nursery:
        nursery.start_soon(vitals.run)
        await trio.sleep(0.01)
        assert vitals.max_stall_ms < 50
        before = time.monotonic()
        time.sleep(0.06)  # blocks the loop, as a long collection or a slow handler would
        await trio.sleep(0)
        nursery.cancel_scope.cancel()
    assert vitals.max_stall_ms >= 60
    (ended, _), *_ = [stall for stall in vitals.stalls if stall[1] >= 60]
    assert ended >= before + 0.06
