"""A defect met by one request or one connection ends that one only: the station and its other clients
carry on, and the failure is logged once and counted in /api/v1/sim/server.

(The harbor's connections: tests/test_harbor_defences.py; the relay follower's entries: tests/test_relay.py.)
"""

import logging

import trio
from quart.testing.connections import WebsocketDisconnectError

from playout.drivers.cli import first_leaf
from server import event_stream
from server.hub import Hub
from tests.server_support import served
from tests.support import shipped
from tests.test_server_protocol import receive_json, refusal


async def test_a_rest_request_that_fails_gets_a_json_500_and_nothing_else_is_affected(
    autojump_clock, monkeypatch, caplog
):
    scenario = shipped("dj-takeover")  # DJ Mike connects at 10:05
    async with served(scenario) as station:
        runner = station.service.runner
        real_snapshot = runner.snapshot
        failing = {"left": 1}

        async def snapshot_that_fails_once():
            if failing["left"]:
                failing["left"] -= 1
                raise RuntimeError("injected")
            return await real_snapshot()

        monkeypatch.setattr(runner, "snapshot", snapshot_that_fails_once)
        async with station.events("types=dj_connect") as listener:
            with caplog.at_level(logging.ERROR, logger="grimnir_sim.server"):
                status, body = await station.get("/api/v1/sim/state")
            assert (status, body["error"]) == (500, "internal_error")
            assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("injected",)]
            assert (await station.get("/api/v1/sim/state"))[0] == 200  # the next request is served
            while (message := await receive_json(listener))["type"] == "ping":
                pass
            assert message["type"] == "dj_connect"  # the station and the stream went on
        status, figures = await station.get("/api/v1/sim/server")
        assert figures["connection_failures"] == {"rest": 1, "websocket": 0}


async def test_a_websocket_connection_that_fails_is_closed_alone(autojump_clock, monkeypatch, caplog):
    async with served(shipped("dj-takeover")) as station:
        real_subscribe = Hub.subscribe
        failing = {"left": 1}

        def subscribe_that_fails_once(self, *args, **kwargs):
            if failing["left"]:
                failing["left"] -= 1
                raise RuntimeError("injected")
            return real_subscribe(self, *args, **kwargs)

        monkeypatch.setattr(Hub, "subscribe", subscribe_that_fails_once)
        closed = None
        with caplog.at_level(logging.ERROR, logger="grimnir_sim.server"):
            try:
                async with station.events("types=dj_connect") as doomed:
                    with trio.fail_after(5):
                        await doomed.receive()
            except* WebsocketDisconnectError as group:  # (Quart's test client raises from a nursery)
                closed = first_leaf(group)
        assert closed is not None and closed.args == (1011,)
        assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("injected",)]
        async with station.events("types=dj_connect") as healthy:
            while (message := await receive_json(healthy))["type"] == "ping":
                pass
            assert message["type"] == "dj_connect"
        _, figures = await station.get("/api/v1/sim/server")
        assert figures["connection_failures"] == {"rest": 0, "websocket": 1}
        assert station.service.failure is None  # the station itself never failed


async def test_an_upgrade_that_fails_before_it_is_accepted_gets_a_500_and_counts_as_a_websocket_failure(
    autojump_clock, monkeypatch, caplog
):
    async with served(shipped("dj-takeover")) as station:
        failing = {"left": 1}
        real_verify = event_stream.verify

        def verify_that_fails_once(*args, **kwargs):
            if failing["left"]:
                failing["left"] -= 1
                raise RuntimeError("injected")
            return real_verify(*args, **kwargs)

        monkeypatch.setattr(event_stream, "verify", verify_that_fails_once)
        with caplog.at_level(logging.ERROR, logger="grimnir_sim.server"):
            response = await refusal(station.events("types=dj_connect"))
        assert response.status_code == 500
        assert (await response.get_json())["error"] == "internal_error"
        assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("injected",)]
        async with station.events("types=dj_connect") as healthy:  # the next upgrade is served
            while (message := await receive_json(healthy))["type"] == "ping":
                pass
            assert message["type"] == "dj_connect"
        _, figures = await station.get("/api/v1/sim/server")
        assert figures["connection_failures"] == {"rest": 0, "websocket": 1}
