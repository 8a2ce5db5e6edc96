"""``serve --profile grimnir``: every REST endpoint answers as the real server's handler does.

Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins
(docs/fidelity.md, "REST"). Answers are compared byte for byte: Go's map keys
sorted or a struct's fields in declaration order, and the encoder's newline.
"""

import json
import subprocess
import sys
from contextlib import asynccontextmanager

import jwt
import trio

from server.auth import ALGORITHM
from server.rest.go_wire import chi_refusal
from server.service import ServerSettings
from tests.server_support import KEY, served, token
from tests.support import HITS_ALL_DAY, focused, shipped

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


PEER = ("127.0.0.1", 51234)


async def call(station, method: str, path: str, body=None, *, raw: bytes | None = None, headers=ADMIN):
    """``(status, body bytes, response)``, from :data:`PEER`; ``body`` as JSON unless ``raw`` is given."""
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    response = await station.client.open(
        path, method=method, data=data, headers=headers, scope_base={"client": PEER}
    )
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


def handover_body(i: dict[str, str], session: str) -> dict[str, object]:
    """A handover of Mike's session to priority 1, with the four ids the real handler requires."""
    return {
        "session_id": session,
        "station_id": i["station"],
        "mount_id": i["mount"],
        "user_id": i["mike"],
        "priority": 1,
    }


async def connect_mike(station, priority: int = 2) -> str:
    """Mike's encoder connects (the simulation's own endpoint); his session id."""
    response = await station.client.post(
        "/api/v1/sim/djs/connect", json={"dj": "mike", "priority": priority}, headers=ADMIN
    )
    assert response.status_code == 200, await response.get_data()
    return next(reversed(station.service.translator.sessions))  # the newest


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


# -- POST /priority/emergency -----------------------------------------------------------------------


async def test_an_emergency_answers_its_row_then_the_audit_duplicate_follows_the_service_event(
    autojump_clock,
):
    """internal/api/priority.go:42-83 (handlePriorityEmergency: the map answer, the audit after the
    service's event, internal/api/api.go:2319-2328) and internal/priority/service.go:46-62."""
    async with grimnir() as station:
        i = ids(station)
        emergency = {"station_id": i["station"], "media_id": i["one"]}
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", emergency),
            "priority.emergency",
        )
        row = station.service.translator.priority.active(i["station"])
        assert status == 200
        assert body == (
            b'{"preempted":false,"source_id":"' + row.id.encode() + b'","status":"emergency_activated",'
            b'"transition_type":"emergency"}\n'
        )
        assert [kind for kind, _ in got] == ["priority.emergency", "priority.emergency"]
        assert got[0][1]["new_source_id"] == row.id and "ip_address" not in got[0][1]
        assert got[1][1] == {
            "ip_address": "127.0.0.1:51234",
            "media_id": i["one"],
            "mount_id": "",
            "resource_id": row.id,
            "resource_type": "priority_source",
            "station_id": i["station"],
            "user_agent": "curl/8.5.0",
            "user_id": "u1",
        }
        forwarded = {**ADMIN, "X-Forwarded-For": "203.0.113.9, 10.0.0.1"}
        _, got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", emergency, headers=forwarded),
            "priority.emergency",
        )
        assert got[1][1]["ip_address"] == "203.0.113.9"  # chi's RealIP (internal/server/server.go:141-158)


async def test_an_emergency_without_a_body_or_a_field_is_400(autojump_clock):
    """internal/api/priority.go:44-52: ``json.NewDecoder(r.Body).Decode`` of nothing is invalid_json;
    an empty station_id or media_id is station_id_and_media_id_required."""
    async with grimnir() as station:
        path = "/api/v1/priority/emergency"
        assert (await call(station, "POST", path))[:2] == (400, error("invalid_json"))
        assert (await call(station, "POST", path, raw=b"[1]"))[:2] == (400, error("invalid_json"))
        only_station = {"station_id": ids(station)["station"], "media_id": ""}
        assert (await call(station, "POST", path, only_station))[:2] == (
            400,
            error("station_id_and_media_id_required"),
        )


async def test_an_emergency_of_what_the_database_lacks_is_500(autojump_clock):
    """internal/api/priority.go:62-67: the service's failure is 500 emergency_insertion_failed (no 404)."""
    async with grimnir() as station:
        body = {"station_id": ids(station)["station"], "media_id": "00000000-0000-0000-0000-000000000000"}
        assert (await call(station, "POST", "/api/v1/priority/emergency", body))[:2] == (
            500,
            error("emergency_insertion_failed"),
        )


# -- POST /priority/override ------------------------------------------------------------------------


async def test_an_override_switches_with_its_audit_then_another_cannot_preempt_it(autojump_clock):
    """internal/api/priority.go:86-150 (handlePriorityOverride: 409 no_preemption with no event when
    the transition is none; the audit after the service's ``priority.override``)."""
    async with grimnir() as station:
        i = ids(station)
        override = {"station_id": i["station"], "source_type": "media", "source_id": i["one"]}
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/override", override, headers=DJ),
            "priority.override",
        )
        row = station.service.translator.priority.active(i["station"])
        assert status == 200
        assert body == (
            b'{"preempted":false,"requires_fade":false,"source_id":"' + row.id.encode() + b'",'
            b'"status":"override_activated","transition_type":"switch"}\n'
        )
        assert [kind for kind, _ in got] == ["priority.override", "priority.override"]
        assert {k: got[1][1][k] for k in ("resource_id", "source_id", "source_type", "user_id")} == {
            "resource_id": row.id,
            "source_id": i["one"],
            "source_type": "media",
            "user_id": "u2",
        }
        again = {**override, "source_id": i["two"]}
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", "/api/v1/priority/override", again), "priority.override"
        )
        assert (status, body, got) == (
            409,
            b'{"message":"Cannot preempt current priority source","status":"no_preemption"}\n',
            [],
        )


async def test_an_override_needs_station_and_source_then_live_or_media(autojump_clock):
    """internal/api/priority.go:93-108: station_id_and_source_id_required first, then
    invalid_source_type for anything but ``live`` or ``media`` (a webstream too, or none)."""
    async with grimnir() as station:
        i = ids(station)
        path = "/api/v1/priority/override"
        assert (await call(station, "POST", path, {"station_id": i["station"]}))[:2] == (
            400,
            error("station_id_and_source_id_required"),
        )
        for source_type in ("webstream", None):
            body = {"station_id": i["station"], "source_id": i["relay"], "source_type": source_type}
            assert (await call(station, "POST", path, body))[:2] == (400, error("invalid_source_type"))


# -- DELETE /priority/{sourceID} --------------------------------------------------------------------


async def test_a_release_finds_its_row_by_what_it_plays_not_by_the_row_id(autojump_clock):
    """internal/api/priority.go:153-196 and internal/priority/service.go:175-190 (Release looks the row
    up by its ``source_id`` column: the media id; the row id the POST returned is a 500 release_failed)."""
    async with grimnir() as station:
        i = ids(station)
        emergency = {"station_id": i["station"], "media_id": i["one"]}
        _, answer, _ = await call(station, "POST", "/api/v1/priority/emergency", emergency)
        row_id = json.loads(answer)["source_id"]
        by_row = await call(station, "DELETE", f"/api/v1/priority/{row_id}", {"station_id": i["station"]})
        assert by_row[:2] == (500, error("release_failed"))
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "DELETE", f"/api/v1/priority/{i['one']}", {"station_id": i["station"]}),
            "priority.released",
        )
        assert (status, body) == (200, b'{"status":"released","transition_type":"fallback"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "priority.released"]
        assert {k: got[1][1][k] for k in ("resource_id", "resource_type", "station_id")} == {
            "resource_id": i["one"],
            "resource_type": "priority_source",
            "station_id": i["station"],
        }


async def test_a_release_needs_a_body_with_the_station(autojump_clock):
    """internal/api/priority.go:160-169: no body is invalid_json, ``{}`` is station_id_required (the query
    is not read); internal/api/priority.go:269 (admin, manager: a dj is refused)."""
    async with grimnir() as station:
        path = f"/api/v1/priority/{ids(station)['one']}?station_id={ids(station)['station']}"
        assert (await call(station, "DELETE", path))[:2] == (400, error("invalid_json"))
        assert (await call(station, "DELETE", path, {}))[:2] == (400, error("station_id_required"))
        assert (await call(station, "DELETE", path, {}, headers=DJ))[:2] == (403, error("insufficient_role"))


# -- POST /live/sessions/handover, DELETE /live/sessions/{id}/handover -----------------------------


async def test_a_handover_answers_the_struct_after_the_priority_event_and_both_live_handovers(autojump_clock):
    """internal/api/live.go:329-423 (handleLiveStartHandover: struct answer in declaration order, audit
    after the service's ``live.handover``) and internal/live/handover.go:61-216 (StartHandover)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        previous = station.service.translator.priority.active(i["station"])
        request = handover_body(i, session)
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/live/sessions/handover", request, headers=DJ),
            "priority.override,live.handover",
        )
        assert status == 200
        answer = json.loads(body)
        assert body.endswith(b"}\n") and list(answer) == [
            "success",
            "session_id",
            "handover_at",
            "transition_type",
            "previous_source",
            "new_source",
        ]
        assert (answer["success"], answer["session_id"], answer["transition_type"]) == (
            True,
            session,
            "immediate",
        )
        assert answer["previous_source"]["source_id"] == previous.source_id == session
        assert answer["new_source"] == {
            "priority": 1,
            "source_type": "live",
            "source_id": session,
            "metadata": {"user_id": i["mike"], "username": "DJ Mike"},
        }
        assert [kind for kind, _ in got] == ["priority.override", "live.handover", "live.handover"]
        audit = got[2][1]
        assert {
            k: audit[k] for k in ("mount_id", "priority", "resource_id", "resource_type", "transition_type")
        } == {
            "mount_id": i["mount"],
            "priority": 1,
            "resource_id": session,
            "resource_type": "live_session",
            "transition_type": "immediate",
        }
        assert "session_id" not in audit and audit["user_id"] == "u2"


async def test_a_handover_needs_its_four_fields_and_priority_one_or_two(autojump_clock):
    """internal/api/live.go:337-347: session_station_mount_user_required when any of the four is empty,
    then invalid_priority unless 1 or 2 (a missing priority is 0); a string priority is invalid_json."""
    async with grimnir() as station:
        i = ids(station)
        path = "/api/v1/live/sessions/handover"
        full = {"session_id": "s", "station_id": i["station"], "mount_id": i["mount"], "user_id": i["mike"]}
        for missing in full:
            partial = {**full, missing: "", "priority": 1}
            assert (await call(station, "POST", path, partial))[:2] == (
                400,
                error("session_station_mount_user_required"),
            )
        for priority in (None, 0, 3):
            body = full if priority is None else {**full, "priority": priority}
            assert (await call(station, "POST", path, body))[:2] == (400, error("invalid_priority"))
        assert (await call(station, "POST", path, {**full, "priority": "1"}))[:2] == (
            400,
            error("invalid_json"),
        )
        assert (await call(station, "POST", path, {**full, "priority": 1.0}))[:2] == (
            400,
            error("invalid_json"),
        )


async def test_a_handover_of_an_unknown_session_or_another_user_is_a_500_struct(autojump_clock):
    """internal/live/handover.go:67-88 (session not found, user mismatch) answered by
    internal/api/live.go:366-378 with only success, session_id, the zero handover_at, error set; a
    session id that is no UUID fails GetSession's query on the ``uuid`` column
    (internal/live/service.go:369-378, internal/models/live.go:15), so its error is Postgres's."""
    async with grimnir() as station:
        i = ids(station)
        path = "/api/v1/live/sessions/handover"
        base = {"station_id": i["station"], "mount_id": i["mount"], "user_id": i["mike"], "priority": 1}
        unknown = "00000000-0000-0000-0000-000000000000"
        status, body, _ = await call(station, "POST", path, {**base, "session_id": unknown})
        assert (status, body) == (
            500,
            b'{"success":false,"session_id":"' + unknown.encode() + b'","handover_at":"0001-01-01T00:00:00Z",'
            b'"transition_type":"","error":"session not found: live session not found"}\n',
        )
        status, body, _ = await call(station, "POST", path, {**base, "session_id": "nobody"})
        assert (status, json.loads(body)["error"]) == (
            500,
            'session not found: query session: ERROR: invalid input syntax for type uuid: "nobody" '
            "(SQLSTATE 22P02)",
        )
        session = await connect_mike(station)
        status, body, _ = await call(station, "POST", path, {**base, "session_id": session, "user_id": "u9"})
        assert status == 500 and json.loads(body)["error"] == "user mismatch"


async def test_a_handover_release_is_priority_released_then_live_released_and_every_failure_is_500(
    autojump_clock,
):
    """internal/api/live.go:425-443 (any ReleaseHandover error is 500 release_failed: its 404 branch
    compares a wrapped error with ``==``) and internal/live/handover.go:218-246 (a second release finds
    the released row again: internal/priority/resolver.go:240 reads it whatever its state)."""
    async with grimnir() as station:
        i = ids(station)
        assert (await call(station, "DELETE", "/api/v1/live/sessions/nobody/handover"))[:2] == (
            500,
            error("release_failed"),
        )
        session = await connect_mike(station, priority=2)
        request = handover_body(i, session)
        await call(station, "POST", "/api/v1/live/sessions/handover", request)
        path = f"/api/v1/live/sessions/{session}/handover"
        (status, body, _), got = await heard(
            station, lambda: call(station, "DELETE", path, headers=DJ), "priority.released,live.released"
        )
        assert (status, body) == (200, b'{"status":"released"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "live.released"]  # no audit message
        (status, body, _), got = await heard(
            station, lambda: call(station, "DELETE", path), "priority.released,live.released"
        )
        assert (status, body) == (200, b'{"status":"released"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "live.released"]


# -- POST /playout/skip -----------------------------------------------------------------------------


async def test_a_skip_needs_a_mount_and_answers_skipped_even_for_a_mount_it_does_not_run(autojump_clock):
    """internal/api/api.go:1368-1388 (handlePlayoutSkip: mount_id_required; StopPipeline's error only
    logged; ``now_playing {mount_id, skipped, station_id}`` published; no audit)."""
    async with grimnir() as station:
        path = "/api/v1/playout/skip"
        assert (await call(station, "POST", path, raw=b""))[:2] == (400, error("invalid_json"))
        assert (await call(station, "POST", path, {"station_id": "x"}))[:2] == (
            400,
            error("mount_id_required"),
        )
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", path, {"mount_id": "elsewhere"}), "now_playing"
        )
        assert (status, body) == (200, b'{"status":"skipped"}\n')
        assert got == [("now_playing", {"mount_id": "elsewhere", "skipped": True, "station_id": ""})]
        i = ids(station)
        (status, _, _), got = await heard(
            station,
            lambda: call(
                station, "POST", path, {"station_id": i["station"], "mount_id": i["mount"]}, headers=DJ
            ),
            "now_playing",
        )
        assert status == 200
        assert got[0] == (
            "now_playing",
            {"mount_id": i["mount"], "skipped": True, "station_id": i["station"]},
        )


# -- POST /webstreams/{id}/failover, /reset ---------------------------------------------------------

WEBSTREAM_FIELDS = [
    "id",
    "station_id",
    "name",
    "description",
    "urls",
    "health_check_enabled",
    "health_check_interval_sec",
    "health_check_timeout_sec",
    "health_check_method",
    "failover_enabled",
    "failover_grace_ms",
    "auto_recover_enabled",
    "preflight_check",
    "buffer_size_ms",
    "reconnect_delay_ms",
    "max_reconnect_attempts",
    "passthrough_metadata",
    "override_metadata",
    "active",
    "current_url",
    "current_index",
    "health_status",
    "created_at",
    "updated_at",
]


async def test_a_failover_answers_the_webstream_struct_then_its_audit_follows(autojump_clock):
    """internal/api/webstream.go:302-333 (handleTriggerWebstreamFailover: health not consulted; the
    audit after the service's manual ``webstream.failover``) and :62-89, :360-389 (webstreamResponse)."""
    async with grimnir() as station:
        i = ids(station)
        primary, backup, _ = station.service.scenario.webstreams["relay"].urls
        path = f"/api/v1/webstreams/{i['relay']}/failover"
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", path), "webstream.failover"
        )
        answer = json.loads(body)
        assert status == 200 and body.endswith(b"}\n") and list(answer) == WEBSTREAM_FIELDS
        assert (answer["current_url"], answer["current_index"], answer["urls"][0]) == (backup, 1, primary)
        assert [kind for kind, _ in got] == ["webstream.failover", "webstream.failover"]
        audit = got[1][1]
        assert {k: audit[k] for k in ("name", "new_index", "new_url", "resource_id", "resource_type")} == {
            "name": "Relay",
            "new_index": 1,
            "new_url": backup,
            "resource_id": i["relay"],
            "resource_type": "webstream",
        }


async def test_the_webstream_struct_has_last_health_check_once_a_check_has_run(autojump_clock):
    """internal/api/webstream.go:86 (``LastHealthCheck *time.Time``, omitempty), set by every check's
    Mark* (internal/models/webstream.go:172-189, internal/webstream/health_checker.go:188): absent
    before the first check, then the latest check's time (the relay is checked every 30 s)."""
    async with grimnir() as station:
        path = f"/api/v1/webstreams/{ids(station)['relay']}/reset"
        assert "last_health_check" not in json.loads((await call(station, "POST", path))[1])
        await station.service.runner.advance(95_000)
        answer = json.loads((await call(station, "POST", path))[1])
        clock = station.service.runner.core.clock
        assert answer["last_health_check"] == clock.stamp(90_000)
        fields = list(answer)
        assert fields.index("last_health_check") == fields.index("health_status") + 1


async def test_a_failover_leaves_the_health_status_and_after_the_last_url_wraps_to_the_primary(
    autojump_clock,
):
    """internal/webstream/service.go:277-325 TriggerFailover (no Mark*: the stored health_status stays) with
    FailoverToNext (internal/models/webstream.go:138-161: after the last URL the primary, auto-recover
    being on); from_index and from_url are the URL in use (service.go:311-319)."""
    async with grimnir() as station:
        urls = station.service.scenario.webstreams["relay"].urls
        path = f"/api/v1/webstreams/{ids(station)['relay']}/failover"
        answers, moves = [], []

        async def fail_over():
            return await call(station, "POST", path)

        for _ in urls:
            (status, body, _), got = await heard(station, fail_over, "webstream.failover")
            assert status == 200
            answers.append(json.loads(body))
            moves += [(p["from_index"], p["current_index"]) for kind, p in got if "manual" in p]
        assert [(a["current_index"], a["current_url"], a["health_status"]) for a in answers] == [
            (1, urls[1], "healthy"),
            (2, urls[2], "healthy"),
            (0, urls[0], "healthy"),
        ]
        assert moves == [(0, 1), (1, 2), (2, 0)]


async def test_a_failover_of_an_unknown_webstream_is_500_and_a_dj_may_not(autojump_clock):
    """internal/api/webstream.go:309-313 (any service error is 500 failover_failed, no 404) and
    internal/api/api.go:374 (admin, manager only)."""
    async with grimnir() as station:
        assert (await call(station, "POST", "/api/v1/webstreams/nothing/failover"))[:2] == (
            500,
            error("failover_failed"),
        )
        path = f"/api/v1/webstreams/{ids(station)['relay']}/failover"
        assert (await call(station, "POST", path, headers=DJ))[:2] == (403, error("insufficient_role"))


async def test_a_reset_answers_the_primary_and_sends_recovered_without_an_audit(autojump_clock):
    """internal/api/webstream.go:335-356 (handleResetWebstreamToPrimary: 500 reset_failed, no audit)
    and internal/webstream/service.go:328-358 (``webstream.recovered {url}`` even on the primary)."""
    async with grimnir() as station:
        i = ids(station)
        assert (await call(station, "POST", "/api/v1/webstreams/nothing/reset"))[:2] == (
            500,
            error("reset_failed"),
        )
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", f"/api/v1/webstreams/{i['relay']}/reset"),
            "webstream.recovered",
        )
        primary = station.service.scenario.webstreams["relay"].urls[0]
        answer = json.loads(body)
        assert status == 200 and list(answer) == WEBSTREAM_FIELDS
        assert (answer["current_url"], answer["current_index"]) == (primary, 0)
        assert [kind for kind, _ in got] == ["webstream.recovered"]


# -- GET /analytics/now-playing, /public/now-playing ------------------------------------------------


async def test_now_playing_is_the_newest_history_row_sorted_public_on_both_paths(autojump_clock):
    """internal/api/api.go:1409-1499 (handleAnalyticsNowPlaying, routes :242 and :244 outside the auth
    group) with the row recordPlayHistory writes (internal/playout/director.go:4272-4340)."""
    async with grimnir() as station:
        i = ids(station)
        track = station.service.scenario.tracks["one"]
        for path in ("/api/v1/analytics/now-playing", "/api/v1/public/now-playing"):
            status, body, _ = await call(station, "GET", f"{path}?station_id={i['station']}", headers={})
            answer = json.loads(body)
            assert status == 200 and body.endswith(b"}\n") and list(answer) == sorted(answer)
            assert set(answer) == {
                "album",
                "artist",
                "ended_at",
                "id",
                "is_live_dj",
                "media_id",
                "mount_id",
                "source_type",
                "started_at",
                "station_id",
                "status",
                "title",
                "type",
            }
            assert (answer["media_id"], answer["title"], answer["status"]) == (
                track.id,
                track.title,
                "playing",
            )
            assert (answer["type"], answer["source_type"], answer["is_live_dj"]) == ("", "", False)
            assert (
                answer["started_at"] == "2026-01-19T10:00:00Z"
                and answer["ended_at"] == "2026-01-19T10:03:00Z"
            )


async def test_now_playing_is_live_while_a_dj_is_connected(autojump_clock):
    """internal/api/api.go:1451-1470: an active live session makes ``is_live_dj`` true and
    ``source_type`` live, with ``session_started_at``, whatever automation plays."""
    async with grimnir() as station:
        i = ids(station)
        await connect_mike(station)
        _, body, _ = await call(station, "GET", f"/api/v1/analytics/now-playing?station_id={i['station']}")
        answer = json.loads(body)
        assert (answer["is_live_dj"], answer["source_type"]) == (True, "live")
        assert answer["session_started_at"] == "2026-01-19T10:00:00Z"


async def test_now_playing_refusals_are_the_handlers(autojump_clock):
    """internal/api/api.go:1410-1432: no station_id is 400 station_id_required; a station id Postgres
    cannot read as a UUID is 500 db_error; a UUID with no history row is ``{"status":"idle"}``."""
    async with grimnir() as station:
        path = "/api/v1/analytics/now-playing"
        assert (await call(station, "GET", path, headers={}))[:2] == (400, error("station_id_required"))
        assert (await call(station, "GET", f"{path}?station_id=main", headers={}))[:2] == (
            500,
            error("db_error"),
        )
        other = f"{path}?station_id=00000000-0000-0000-0000-000000000000"
        assert (await call(station, "GET", other, headers={}))[:2] == (200, b'{"status":"idle"}\n')


def test_an_api_key_needs_the_grimnir_profile():
    """The documented API has no X-API-Key: ``serve --api-key`` without ``--profile grimnir`` is a usage
    error (exit status 2, one line)."""
    done = subprocess.run(
        [sys.executable, "-m", "playout", "serve", "--api-key", "k"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--api-key" in done.stderr and len(done.stderr.strip().splitlines()) == 1


async def test_an_unknown_path_and_a_wrong_method_are_chis_own_answers(autojump_clock):
    """internal/api/api.go (no NotFound or MethodNotAllowed handler installed on the chi router): chi's
    ``http.NotFound`` text 404, and an empty 405."""
    async with grimnir() as station:
        status, body, response = await call(station, "GET", "/api/v1/nothing")
        assert (status, body, response.headers["Content-Type"]) == (
            404,
            b"404 page not found\n",
            "text/plain; charset=utf-8",
        )
        status, body, response = await call(station, "GET", "/api/v1/playout/skip")
        assert (status, body, response.headers["Allow"]) == (405, b"", "POST")
    # (Quart's test client gives every answer a Content-Type; the 405 itself has none, as Go's.)
    assert "Content-Type" not in chi_refusal(405, "POST").headers


async def test_head_options_and_cors_are_chis_405_and_no_access_control_headers(autojump_clock):
    """internal/server/server.go:140-158 (chi with no GetHead, no CORS and no OPTIONS handler): HEAD and
    OPTIONS on a real route are chi's empty 405, one ``Allow`` header per routed method (chi v5.2.3
    mux.go:518-526), so a browser's preflight fails as against the real server; no answer carries an
    ``Access-Control-*`` header. The simulation's own paths keep theirs."""
    origin = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"}
    async with grimnir() as station:
        i = ids(station)
        for method, path in (
            ("HEAD", "/api/v1/public/now-playing"),
            ("OPTIONS", "/api/v1/public/now-playing"),
            ("OPTIONS", "/api/v1/playout/skip"),
        ):
            status, body, response = await call(station, method, path, headers={**ADMIN, **origin})
            assert (status, body) == (405, b""), (method, path)
            assert response.headers.getlist("Allow") == (["GET"] if "now-playing" in path else ["POST"])
            assert not [h for h in response.headers if h[0].lower().startswith("access-control-")]
        read = f"/api/v1/public/now-playing?station_id={i['station']}"
        status, _, response = await call(station, "GET", read, headers={**AGENT, "Origin": origin["Origin"]})
        assert status == 200 and "Access-Control-Allow-Origin" not in response.headers
        assert (await call(station, "OPTIONS", "/api/v1/sim/state"))[0] == 204


async def test_a_body_is_read_as_json_decoder_fills_a_struct(autojump_clock):
    """internal/api/api.go:1369-1373 (``json.NewDecoder(r.Body).Decode(&req)``): names match
    case-insensitively, unknown ones are ignored, bytes after the first value are never read,
    ``null`` leaves the struct empty; NaN and a wrong type are invalid_json."""
    async with grimnir() as station:
        path = "/api/v1/playout/skip"
        assert (await call(station, "POST", path, raw=b'{"MOUNT_ID":"m","x":1} and more'))[:2] == (
            200,
            b'{"status":"skipped"}\n',
        )
        assert (await call(station, "POST", path, raw=b"null"))[:2] == (400, error("mount_id_required"))
        for raw in (b'{"mount_id":NaN}', b'{"mount_id":"m","launch":true}', b"[]"):
            assert (await call(station, "POST", path, raw=raw))[:2] == (400, error("invalid_json"))
        # Nesting deeper than Python's decoder goes is Go's refusal, never the handler's crash (a 500).
        deep = b'{"mount_id":"m","a":' + b"[" * 5000 + b"]" * 5000 + b"}"
        assert (await call(station, "POST", path, raw=deep))[:2] == (400, error("invalid_json"))
        # Invalid UTF-8 in a string is U+FFFD to Go's decoder, not an error; outside one it is.
        assert (await call(station, "POST", path, raw=b'{"mount_id":"m\xff"}'))[0] == 200
        assert (await call(station, "POST", path, raw=b'{"mount_id":"m"\xff}'))[:2] == (
            400,
            error("invalid_json"),
        )


async def test_a_body_over_the_simulators_limit_is_a_413_in_the_profiles_shape(autojump_clock):
    """The real JSON handlers read any size (internal/api/api.go:714 limits uploads only); the simulator
    keeps its 64 KiB limit and answers it as the profile answers everything: no ``detail``."""
    async with grimnir() as station:
        big = b'{"mount_id":"m","pad":"' + b"x" * 70_000 + b'"}'
        status, body, _ = await call(station, "POST", "/api/v1/playout/skip", raw=big)
        assert (status, body) == (413, b'{"error":"request_entity_too_large"}\n')


async def test_a_release_by_a_djs_session_id_is_priority_released_alone(autojump_clock):
    """internal/api/priority.go:153-196 with internal/priority/resolver.go:230-260: a DJ's row plays his
    session id, so ``DELETE /priority/{session_id}`` releases it: ``priority.released`` and its audit,
    no ``live.released`` (that is the handover release's)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=1)
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "DELETE", f"/api/v1/priority/{session}", {"station_id": i["station"]}),
            "priority.released,live.released",
        )
        assert (status, body) == (200, b'{"status":"released","transition_type":"fallback"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "priority.released"]
        assert got[1][1]["resource_id"] == session


async def test_a_handover_that_cannot_preempt_is_delayed_and_still_announced(autojump_clock):
    """internal/live/handover.go:162-168 (TransitionNone is ``delayed``, still a success) and :182-190
    (``live.handover`` published all the same), then the audit (internal/api/live.go:386-393)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        emergency = {"station_id": i["station"], "media_id": i["one"]}
        await call(station, "POST", "/api/v1/priority/emergency", emergency)
        emergency_row = station.service.translator.priority.active(i["station"])
        request = handover_body(i, session)
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/live/sessions/handover", request),
            "priority.override,live.handover",
        )
        answer = json.loads(body)
        assert (status, answer["transition_type"]) == (200, "delayed")
        assert answer["previous_source"]["source_id"] == emergency_row.source_id == i["one"]
        assert [(kind, p["transition_type"]) for kind, p in got] == [
            ("live.handover", "delayed"),
            ("live.handover", "delayed"),
        ]


async def test_an_override_of_a_live_source_puts_the_session_on_air(autojump_clock):
    """internal/api/priority.go:98-103 (``live`` is a valid source type; its source_id is a session)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        override = {"station_id": i["station"], "source_type": "live", "source_id": session}
        status, body, _ = await call(station, "POST", "/api/v1/priority/override", override)
        row = station.service.translator.priority.active(i["station"])
        assert (status, row.source_id, row.priority) == (200, session, 1)
        assert json.loads(body)["transition_type"] == "preempt"


async def test_a_station_uuid_in_capitals_is_the_station_and_the_audit_echoes_it(autojump_clock):
    """internal/api/priority.go:69-75 (the audit's station_id is the request's string) over a Postgres
    ``uuid`` column, which reads a UUID in any case."""
    async with grimnir() as station:
        i = ids(station)
        emergency = {"station_id": i["station"].upper(), "media_id": i["one"]}
        (status, _, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", emergency),
            "priority.emergency",
        )
        assert status == 200 and got[1][1]["station_id"] == i["station"].upper()
        now_playing = f"/api/v1/analytics/now-playing?station_id={i['station'].upper()}"
        assert json.loads((await call(station, "GET", now_playing))[1])["station_id"] == i["station"]


async def test_the_simulations_answers_list_the_messages_the_wire_sent(autojump_clock):
    """The /api/v1/sim answers list what a call put on the wire: in the grimnir profile the real
    server's messages (internal/live/service.go:223-271: the priority event, then dj_connect without
    source_ip), not the documented events the core decided."""
    settings = ServerSettings(profile="grimnir", health_tick_ms=3_600_000)
    async with served(shipped("dj-takeover"), settings, manual_clock=True) as station:
        status, body = await station.post("/api/v1/sim/djs/connect", {"dj": "mike"})
        assert status == 200
        assert [m["type"] for m in body["events"]] == ["priority.override", "dj_connect", "now_playing"]
        assert "source_ip" not in body["events"][1]["payload"]
        status, body = await station.post("/api/v1/sim/advance", {"by": "1h"})
        assert status == 200
        kinds = [m["type"] for m in body["events"]]
        assert "health" in kinds and "schedule_update" not in kinds and "live.released" not in kinds
        assert all(m["payload"]["status"] == "playing" for m in body["events"] if m["type"] == "health")


# -- rows and the core: what the review found (docs/fidelity.md) -----------------------------------

MIKE_ALL_DAY = HITS_ALL_DAY.replace('playlist = "hits"', 'dj = "mike"\ntitle = "Mike All Day"')


async def test_a_row_outlives_its_emergencys_media_and_is_released_as_the_real_one(autojump_clock):
    """internal/priority/resolver.go:126-158 (the emergency's row stays active when its media has ended,
    so a tier-1 override cannot preempt it: internal/api/priority.go:126-132, 409) and :230-302
    (Release still finds it: 200 ``fallback``, internal/priority/service.go:175-190 publishes
    ``priority.released``); then an override switches in."""
    async with grimnir() as station:
        i = ids(station)
        alert = station.service.scenario.tracks["alert"].id  # one minute long
        emergency = {"station_id": i["station"], "media_id": alert}
        assert (await call(station, "POST", "/api/v1/priority/emergency", emergency))[0] == 200
        row = station.service.translator.priority.active(i["station"])
        await station.service.runner.advance(2 * 60_000)
        override = {"station_id": i["station"], "source_type": "media", "source_id": i["one"]}
        assert (await call(station, "POST", "/api/v1/priority/override", override))[0] == 409
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "DELETE", f"/api/v1/priority/{alert}", {"station_id": i["station"]}),
            "priority.released",
        )
        assert (status, body) == (200, b'{"status":"released","transition_type":"fallback"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "priority.released"]
        assert (got[0][1]["old_source_id"], got[0][1]["old_source_type"]) == (row.id, "emergency")
        status, body, _ = await call(station, "POST", "/api/v1/priority/override", override)
        assert status == 200 and json.loads(body)["transition_type"] == "switch"


async def test_a_new_emergency_preempts_the_row_whose_media_ended(autojump_clock):
    """internal/priority/resolver.go:305-324 (InsertEmergency forces the preemption of the active row,
    ended media or not: ``preempted`` and its ``old_*``)."""
    async with grimnir() as station:
        i = ids(station)
        emergency = {"station_id": i["station"], "media_id": station.service.scenario.tracks["alert"].id}
        await call(station, "POST", "/api/v1/priority/emergency", emergency)
        stale = station.service.translator.priority.active(i["station"])
        await station.service.runner.advance(2 * 60_000)
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", {**emergency, "media_id": i["two"]}),
            "priority.emergency",
        )
        assert status == 200 and json.loads(body)["preempted"] is True
        assert (got[0][1]["preempted"], got[0][1]["old_source_id"]) == (True, stale.id)


async def test_a_sessions_rows_are_released_first_by_id_on_a_handover_release_and_a_disconnect(
    autojump_clock,
):
    """internal/priority/resolver.go:240 (Release: ``First`` of the rows playing the session id, by primary
    key, active or not), from internal/live/handover.go:231 (ReleaseHandover) and
    internal/live/service.go:316-322 (HandleDisconnect, before ``dj_disconnect``). Here the handover's
    row has the lower id: it is released, fallback, and the connect row stays as it was."""
    async with grimnir() as station:
        i = ids(station)
        rows = station.service.translator.priority
        session = await connect_mike(station, priority=2)
        connect_row = rows.active(i["station"])
        await call(station, "POST", "/api/v1/live/sessions/handover", handover_body(i, session))
        handover_row = rows.active(i["station"])
        assert handover_row.id < connect_row.id  # the derived ids of this scenario's rows 1 and 2
        path = f"/api/v1/live/sessions/{session}/handover"
        _, got = await heard(station, lambda: call(station, "DELETE", path), "priority.released")
        released = got[0][1]
        assert (released["old_source_id"], released["transition_type"]) == (handover_row.id, "fallback")
        assert "new_source_id" not in released
        override = {"station_id": i["station"], "source_type": "media", "source_id": i["one"]}
        assert (await call(station, "POST", "/api/v1/priority/override", override))[0] == 200
        override_row = rows.active(i["station"])
        leave = {"dj": "mike"}
        _, got = await heard(
            station,
            lambda: station.client.post("/api/v1/sim/djs/disconnect", json=leave, headers=ADMIN),
            "priority.released,dj_disconnect",
        )
        assert [kind for kind, _ in got] == ["priority.released", "dj_disconnect"]
        assert (got[0][1]["old_source_id"], got[0][1]["transition_type"]) == (handover_row.id, "release")
        assert got[0][1]["new_source_id"] == override_row.id


async def test_the_requests_metadata_is_merged_into_the_priority_event(autojump_clock):
    """internal/priority/service.go:212-246 (publishEvent merges the new row's metadata into the
    payload) with the request's ``metadata`` as the row's (internal/api/priority.go:54-59,
    :110-116); an override of a live source is StartOverride alone: no ``live.handover``, no
    session keys (internal/priority/service.go:74-101)."""
    async with grimnir() as station:
        i = ids(station)
        metadata = {"reason": "EAS test", "level": 2, "tags": ["a", {"b": 1.5}]}
        session = await connect_mike(station, priority=2)
        live = {"station_id": i["station"], "source_type": "live", "source_id": session, "metadata": metadata}
        (status, _, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/override", live),
            "priority.override,live.handover",
        )
        assert status == 200 and [kind for kind, _ in got] == ["priority.override", "priority.override"]
        payload = got[0][1]
        assert {k: payload[k] for k in metadata} == metadata
        assert payload["new_media_id"] == session and "username" not in payload
        emergency = {"station_id": i["station"], "media_id": i["one"], "metadata": {"reason": "EAS"}}
        _, got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", emergency),
            "priority.emergency",
        )
        assert got[0][1]["reason"] == "EAS" and "reason" not in got[1][1]  # not in the audit
        await call(station, "DELETE", f"/api/v1/priority/{i['one']}", {"station_id": i["station"]})
        await call(station, "DELETE", f"/api/v1/priority/{session}", {"station_id": i["station"]})
        media = {
            "station_id": i["station"],
            "source_type": "media",
            "source_id": i["two"],
            "metadata": metadata,
        }
        _, got = await heard(
            station, lambda: call(station, "POST", "/api/v1/priority/override", media), "priority.override"
        )
        assert {k: got[0][1][k] for k in metadata} == metadata


async def test_a_second_handover_of_a_dj_on_air_is_delayed_unless_asked_immediate(autojump_clock):
    """internal/live/handover.go:111-168: a handover to the priority the DJ's row already has (or a
    lower one) is a transition of kind none, a success: 200 ``delayed`` (``immediate`` when the request
    says so), ``live.handover`` and its audit, no priority event."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=1)
        path = "/api/v1/live/sessions/handover"
        for extra, transition in (
            ({}, "delayed"),
            ({"immediate": True}, "immediate"),
            ({"priority": 2}, "delayed"),
        ):
            request = {**handover_body(i, session), **extra}
            (status, body, _), got = await heard(
                station,
                lambda request=request: call(station, "POST", path, request),
                "priority.override,live.handover",
            )
            assert (status, json.loads(body)["transition_type"]) == (200, transition)
            assert [(kind, p["transition_type"]) for kind, p in got] == [("live.handover", transition)] * 2


async def test_a_handover_of_a_dj_on_air_in_his_show_to_priority_one_preempts_his_row(autojump_clock):
    """internal/priority/resolver.go:126-227 (priority 1 over the DJ's own priority-2 row: ``preempt``)
    and internal/live/handover.go:162-190 (``immediate``): the real service does not ask what is on air."""
    async with grimnir(MIKE_ALL_DAY) as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        connect_row = station.service.translator.priority.active(i["station"])
        (status, body, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/live/sessions/handover", handover_body(i, session)),
            "priority.override,live.handover",
        )
        assert (status, json.loads(body)["transition_type"]) == (200, "immediate")
        assert [kind for kind, _ in got] == ["priority.override", "live.handover", "live.handover"]
        assert (got[0][1]["transition_type"], got[0][1]["old_source_id"]) == ("preempt", connect_row.id)


async def test_hostile_text_is_read_as_go_reads_it_and_the_station_runs_on(autojump_clock):
    """Go's encoding/json reads a lone surrogate escape as U+FFFD and writes each invalid UTF-8 byte as
    U+FFFD (internal/api/priority.go:42-83 decoding, internal/api/api.go:2298-2316 the audit's
    user_agent); it nests 10,000 deep, where the simulator refuses a body deeper than 200 (the wire's
    encoder takes 254). None of these may stop the station."""
    async with grimnir() as station:
        i = ids(station)
        ids_part = f'"station_id":"{i["station"]}","media_id":"{i["one"]}"'
        metadata = r'"metadata":{"note":"\udc00","\ud800k":"a\ud83d\ude00"}'
        body = ("{" + ids_part + "," + metadata + "}").encode()
        odd_agent = {
            **bearer(user="\ud800", roles=("admin",)),
            "User-Agent": "café",
        }
        (status, _, _), got = await heard(
            station,
            lambda: call(station, "POST", "/api/v1/priority/emergency", raw=body, headers=odd_agent),
            "priority.emergency",
        )
        assert status == 200
        service_event, audit = got[0][1], got[1][1]
        assert service_event["note"] == "\ufffd" and service_event["\ufffdk"] == "a\U0001f600"
        assert audit["user_agent"] == "café" and audit["user_id"] == "\ufffd"  # its UTF-8 bytes, not Latin-1
        deep = b'{"station_id":"s","media_id":"m","metadata":{"x":' + b"[" * 300 + b"]" * 300 + b"}}"
        assert (await call(station, "POST", "/api/v1/priority/emergency", raw=deep))[:2] == (
            400,
            error("invalid_json"),
        )
        skip = b'{"mount_id":"\\ud800x"}'
        assert (await call(station, "POST", "/api/v1/playout/skip", raw=skip))[:2] == (
            200,
            b'{"status":"skipped"}\n',
        )
        assert (await call(station, "POST", "/api/v1/playout/skip", {"mount_id": i["mount"]}))[0] == 200


def test_each_invalid_byte_is_one_replacement_character_as_go_writes_it():
    """encoding/json replaces each byte of invalid UTF-8 (utf8.DecodeRune's width 1) with U+FFFD, where
    Python's "replace" merges a truncated sequence into one."""
    from server.rest.go_wire import go_text

    assert go_text("café".encode()) == "café"
    assert go_text(b"caf\xc3\xa9 \xff\xe2\x82!") == "café \ufffd\ufffd\ufffd!"


async def test_healthz_is_the_real_liveness_probe(autojump_clock):
    """internal/server/server.go:205-224 and :870 (``handleHealthz``): ``GET /healthz``, public, the body
    written raw without a newline; HEAD is chi's 405 as on every route."""
    async with grimnir() as station:
        status, body, response = await call(station, "GET", "/healthz", headers=AGENT)
        assert (status, body, response.headers["Content-Type"]) == (
            200,
            b'{"status":"ok"}',
            "application/json",
        )
        assert (await call(station, "HEAD", "/healthz", headers=AGENT))[0] == 405
