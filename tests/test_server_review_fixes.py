"""Regression tests for defects an independent review found in the server (each reproduced first)."""

import json
import subprocess
import sys
import time

import jwt
import pytest
import trio

from server.auth import verify
from server.limits import Admission
from tests.server_support import ADMIN, KEY, served
from tests.support import HITS_ALL_DAY, ROOT, focused, shipped

RELAY_ALL_DAY = '\n[[schedule]]\ndays = "daily"\nstart = "00:00"\nduration = "24h"\nwebstream = "relay"\n'


async def test_a_long_manual_advance_does_not_cut_off_a_prompt_reader(autojump_clock):
    async with served(shipped("community-week"), manual_clock=True) as station:
        got = []
        async with station.events("types=now_playing,health") as ws:

            async def read():
                while True:
                    message = json.loads(await ws.receive())
                    if message != {"type": "ping"}:
                        got.append(message)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                status, body = await station.post("/api/v1/sim/advance", {"by": "6h"})
                await trio.sleep(1)
                nursery.cancel_scope.cancel()
        assert status == 200
        wanted = [m for m in body["events"] if m["type"] in ("now_playing", "health")]
        assert len(wanted) > 300  # six hours: 360 status beats and the overnight relay
        assert got == wanted  # every event, none lost, the reader never closed with 1008


async def test_advance_is_capped(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        status, body = await station.post("/api/v1/sim/advance", {"by": "3650d"})
        assert (status, body["error"]) == (400, "invalid_request")


async def test_a_float_priority_reaches_the_wire_as_an_integer(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        status, body = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 1.0})
        assert status == 200
        handover = next(m for m in body["events"] if m["type"] == "live.handover")
        assert handover["payload"]["priority"] == 1 and isinstance(handover["payload"]["priority"], int)


async def test_control_answers_with_the_state_of_its_own_change(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        alert = station.service.scenario.tracks["alert"].id
        results = {}

        async def insert():
            results["post"] = await station.post(
                "/api/v1/priority/emergency", {"station_id": "main", "media_id": alert}
            )

        async def release():
            response = await station.client.delete(f"/api/v1/priority/{alert}", headers=ADMIN)
            results["delete"] = response.status_code

        async with trio.open_nursery() as nursery:
            nursery.start_soon(insert)
            nursery.start_soon(release)
        assert results["post"][0] == 200  # never a 500 after the change was made
        assert results["delete"] in (200, 404)


@pytest.mark.parametrize("raw", [b'{"station_id":"m\xff"}', b"\xff\xfe\x00"])
async def test_a_body_that_is_not_utf8_is_400(raw, autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        response = await station.client.post(
            "/api/v1/playout/skip", data=raw, headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert (response.status_code, (await response.get_json())["error"]) == (400, "invalid_json")


def test_addresses_that_stopped_connecting_are_forgotten():
    now = [0.0]
    admission = Admission(clock=lambda: now[0])
    for n in range(50_000):
        ip = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        assert admission.check(ip) is None
        admission.admit(ip)
        admission.release()
    assert admission.remembered() == 50_000
    now[0] = 121.0
    admission.check("127.0.0.1")
    assert admission.remembered() == 0


async def test_short_ids_json_errors_and_a_released_dj(autojump_clock):
    async with served(focused(RELAY_ALL_DAY), manual_clock=True) as station:
        status, _ = await station.post(
            "/api/v1/priority/override", {"station_id": "main", "source_id": "one", "source_type": "media"}
        )
        assert status == 200
        response = await station.client.delete("/api/v1/priority/one", headers=ADMIN)  # the media's short id
        assert response.status_code == 200
        for method, path, status in (
            ("GET", "/api/v1/nope", 404),
            ("GET", "/api/v1/priority/emergency", 405),
        ):
            response = await station.client.open(path, method=method, headers=ADMIN)
            body = await response.get_json()
            assert response.status_code == status and set(body) == {"error", "detail"}
        response = await station.client.post("/api/v1/playout/skip", data=b"x" * 70_000, headers=ADMIN)
        assert (
            response.status_code == 413 and (await response.get_json())["error"] == "request_entity_too_large"
        )
        _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "mike"})
        session = connected["session_id"]
        path = f"/api/v1/live/sessions/{session}/handover"
        assert (await station.client.delete(path, headers=ADMIN)).status_code == 200
        response = await station.client.delete(path, headers=ADMIN)  # connected, already released
        assert (response.status_code, (await response.get_json())["error"]) == (409, "conflict")


async def test_a_delayed_live_override_returns_its_session_as_the_source(autojump_clock):
    async with served(focused(HITS_ALL_DAY), manual_clock=True) as station:
        _, connected = await station.post("/api/v1/sim/djs/connect", {"dj": "sarah", "priority": 2})
        status, body = await station.post(
            "/api/v1/priority/override",
            {
                "station_id": "main",
                "source_id": connected["session_id"],
                "source_type": "live",
                "transition_type": "delayed",
            },
        )
        assert status == 200 and body["source_id"] == connected["session_id"]


def test_tokens_with_an_audience_or_an_iat_slightly_ahead_are_accepted():
    now = int(time.time())
    for extra in ({"aud": "grimnir"}, {"iat": now + 30}):
        token = jwt.encode({"uid": "u", "roles": [], "exp": now + 60, **extra}, KEY.secret, algorithm="HS256")
        assert verify(KEY, token) is not None


@pytest.mark.parametrize(
    "args",
    [["--speed", "inf"], ["--speed", "nan"], ["--speed", "5e-324"], ["--port", "70000"], ["--port", "-1"]],
)
def test_serve_refuses_impossible_settings_in_one_line(args):
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", "dj-takeover", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
