"""``serve --profile grimnir``: every REST endpoint answers as the real server's handler does.

Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins
(docs/fidelity.md, "REST"). Answers are compared byte for byte: Go's map keys
sorted or a struct's fields in declaration order, and the encoder's newline.
"""

import json
from contextlib import asynccontextmanager

import jwt
import trio

from server.auth import ALGORITHM
from server.service import ServerSettings
from tests.server_support import KEY, served, token
from tests.support import HITS_ALL_DAY, focused

API_KEY = "sim-key-0123"
AGENT = {"User-Agent": "curl/8.5.0"}


def bearer(**claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(**claims)}", **AGENT}


ADMIN = bearer(user="u1", roles=("admin",))
DJ = bearer(user="u2", roles=("dj",))


@asynccontextmanager
async def grimnir(schedule: str = HITS_ALL_DAY):
    """A served station of the focused library in the grimnir profile, its clock by hand."""
    settings = ServerSettings(profile="grimnir", api_keys=(API_KEY,), health_tick_ms=0)
    async with served(focused(schedule), settings, manual_clock=True) as station:
        yield station


async def call(station, method: str, path: str, body=None, *, raw: bytes | None = None, headers=ADMIN):
    """``(status, body bytes, response)``; ``body`` as JSON unless ``raw`` is given."""
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    response = await station.client.open(path, method=method, data=data, headers=headers)
    return response.status_code, await response.get_data(), response


async def heard(station, action, types: str):
    """Run ``action`` with a client of ``types`` listening: its result and ``(type, payload)`` heard."""
    got = []
    async with station.events(f"types={types}") as ws:
        result = await action()
        with trio.move_on_after(1):
            while True:
                message = json.loads(await ws.receive())
                if message != {"type": "ping"}:
                    got.append((message["type"], message["payload"]))
    return result, got


def ids(station) -> dict[str, str]:
    scenario = station.service.scenario
    spec = scenario.stations[0]
    return {
        "station": spec.id,
        "mount": spec.mounts[0].id,
        "one": scenario.tracks["one"].id,
        "two": scenario.tracks["two"].id,
        "mike": scenario.djs["mike"].user_id,
        "relay": scenario.webstreams["relay"].id,
    }


def error(code: str) -> bytes:
    return b'{"error":"' + code.encode() + b'"}\n'


async def connect_mike(station, priority: int = 2) -> str:
    """Mike's encoder connects (the simulation's own endpoint); his session id."""
    response = await station.client.post(
        "/api/v1/sim/djs/connect", json={"dj": "mike", "priority": priority}, headers=ADMIN
    )
    assert response.status_code == 200, await response.get_data()
    return next(iter(station.service.translator.sessions))


# -- auth and roles ---------------------------------------------------------------------------------


async def test_the_middlewares_401_is_text_without_a_newline(autojump_clock):
    """internal/auth/middleware.go:60-64 (unauthorized): ``WWW-Authenticate: Bearer``, the body written
    raw, so Go sniffs ``text/plain; charset=utf-8``; no newline, no detail."""
    async with grimnir() as station:
        status, body, response = await call(station, "POST", "/api/v1/playout/skip", {}, headers=AGENT)
        assert (status, body) == (401, b'{"error":"unauthorized"}')
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_a_token_without_uid_passes_and_its_audit_user_id_is_empty(autojump_clock):
    """internal/auth/jwt.go:38-56 (Parse requires no claim) and internal/api/api.go:2298-2316
    (auditContext: ``user_id`` is the token's uid, ``""`` when it has none)."""
    no_uid = jwt.encode({"roles": ["admin"]}, KEY.secret, algorithm=ALGORITHM)
    async with grimnir() as station:
        i = ids(station)
        headers = {"Authorization": f"Bearer {no_uid}", **AGENT}
        (status, _, _), got = await heard(
            station,
            lambda: call(
                station,
                "POST",
                "/api/v1/priority/emergency",
                {"station_id": i["station"], "media_id": i["one"]},
                headers=headers,
            ),
            "priority.emergency",
        )
        assert status == 200 and got[1][1]["user_id"] == ""


async def test_an_unscoped_manager_is_platform_mod_and_fails_manager_routes(autojump_clock):
    """internal/auth/jwt.go:58-87 (normalizeClaimRoles: ``manager`` without station_id is
    ``platform_mod``) and internal/api/api.go:1738-1786 (requireRoles: 403 insufficient_role)."""
    async with grimnir() as station:
        status, body, _ = await call(
            station, "POST", "/api/v1/webstreams/relay/reset", headers=bearer(roles=("manager",))
        )
        assert (status, body) == (403, error("insufficient_role"))
        scoped = bearer(roles=("manager",), station_id=ids(station)["station"])
        status, _, _ = await call(
            station, "POST", f"/api/v1/webstreams/{ids(station)['relay']}/reset", headers=scoped
        )
        assert status == 200


async def test_role_names_are_lowercased_and_trimmed_and_a_dj_may_not_call_an_emergency(autojump_clock):
    """internal/auth/jwt.go:58-87 (``strings.ToLower(strings.TrimSpace(r))``); internal/api/priority.go:263
    (emergency: admin only) and internal/api/api.go:386 (skip: admin, manager, dj)."""
    async with grimnir() as station:
        i = ids(station)
        shouted = bearer(roles=(" DJ ",))
        status, body, _ = await call(
            station, "POST", "/api/v1/playout/skip", {"mount_id": i["mount"]}, headers=shouted
        )
        assert (status, body) == (200, b'{"status":"skipped"}\n')
        emergency = {"station_id": i["station"], "media_id": i["one"]}
        status, body, _ = await call(station, "POST", "/api/v1/priority/emergency", emergency, headers=DJ)
        assert (status, body) == (403, error("insufficient_role"))


async def test_a_configured_api_key_is_a_platform_admin_and_any_other_key_is_refused(autojump_clock):
    """internal/auth/middleware.go:29-39 (an ``X-API-Key`` is the only credential looked at: no fallback
    to the Bearer token) and internal/auth/apikey.go:85-136 (its claims: the user's platform role)."""
    async with grimnir() as station:
        path = f"/api/v1/webstreams/{ids(station)['relay']}/reset"
        status, _, _ = await call(station, "POST", path, headers={"X-API-Key": API_KEY})
        assert status == 200
        status, body, _ = await call(station, "POST", path, headers={"X-API-Key": "other", **ADMIN})
        assert (status, body) == (401, b'{"error":"unauthorized"}')
