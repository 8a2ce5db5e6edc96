"""``serve --profile grimnir``: the real server finds its rows by UUID only, as Postgres reads a ``uuid``.

Every id column of the real server is a ``uuid`` (internal/models/models.go:375, :444, :470,
internal/models/live.go:15, internal/models/webstream.go:15, internal/models/priority.go:46-51):
a scenario's key (``main``, ``one``, ``relay``) is no UUID, so the query fails and the handler
answers its 500; a UUID in upper case is the same row. Maps in Go memory compare strings
exactly. Each test quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins.
"""

import json

from tests.test_profile_grimnir_rest import call, connect_mike, error, grimnir, handover_body, heard, ids


async def test_a_skip_stops_only_a_mount_named_by_its_exact_uuid_and_echoes_the_ids_as_given(autojump_clock):
    """internal/api/api.go:1368-1388 (handlePlayoutSkip: ``now_playing {mount_id, skipped, station_id}``
    with the body's ids) and internal/playout/manager.go:129-140 (StopPipeline: a map lookup by the
    mount id as given, so a key or the UUID in upper case stops nothing, and ``station_id`` is ``""``
    when the body has none)."""
    async with grimnir() as station:
        i = ids(station)
        path = "/api/v1/playout/skip"
        for named in ("main", i["mount"].upper()):
            request = {"station_id": i["station"], "mount_id": named}
            (status, body, _), got = await heard(
                station, lambda request=request: call(station, "POST", path, request), "now_playing"
            )
            assert (status, body) == (200, b'{"status":"skipped"}\n')
            assert got == [("now_playing", {"mount_id": named, "skipped": True, "station_id": i["station"]})]
        (status, _, _), got = await heard(
            station, lambda: call(station, "POST", path, {"mount_id": i["mount"]}), "now_playing"
        )
        assert status == 200
        assert got[0] == ("now_playing", {"mount_id": i["mount"], "skipped": True, "station_id": ""})
        assert [payload.get("media_id") is not None for _, payload in got[1:]] == [True]  # the next track


async def test_a_key_is_no_id_for_the_real_handlers_and_a_uuid_in_upper_case_is_the_same_row(autojump_clock):
    """internal/priority/resolver.go:126-227 and :230-302 (the rows' ``source_id`` is a ``uuid``: a key
    fails the insert or the lookup, 500; an upper-case UUID finds the row), internal/api/priority.go:62-67,
    :118-124, :170-175 (500 emergency_insertion_failed, override_start_failed, release_failed),
    internal/webstream/service.go:277-285, :328-335 (``First(&ws, "id = ?", id)``: 500 failover_failed,
    reset_failed)."""
    async with grimnir() as station:
        i = ids(station)
        for path, request, failure in (
            (
                "/api/v1/priority/emergency",
                {"station_id": i["station"], "media_id": "one"},
                "emergency_insertion_failed",
            ),
            (
                "/api/v1/priority/emergency",
                {"station_id": "main", "media_id": i["one"]},
                "emergency_insertion_failed",
            ),
            (
                "/api/v1/priority/override",
                {"station_id": i["station"], "source_type": "media", "source_id": "one"},
                "override_start_failed",
            ),
            ("/api/v1/webstreams/relay/failover", None, "failover_failed"),
            ("/api/v1/webstreams/relay/reset", None, "reset_failed"),
        ):
            assert (await call(station, "POST", path, request))[:2] == (500, error(failure)), path
        upper = {"station_id": i["station"].upper(), "media_id": i["one"].upper()}
        assert (await call(station, "POST", "/api/v1/priority/emergency", upper))[0] == 200
        by_key = await call(station, "DELETE", "/api/v1/priority/one", {"station_id": i["station"]})
        assert by_key[:2] == (500, error("release_failed"))
        (status, body, _), got = await heard(
            station,
            lambda: call(
                station, "DELETE", f"/api/v1/priority/{i['one'].upper()}", {"station_id": i["station"]}
            ),
            "priority.released",
        )
        assert (status, body) == (200, b'{"status":"released","transition_type":"fallback"}\n')
        assert got[1][1]["resource_id"] == i["one"].upper()  # the audit names it as the path does
        assert station.service.translator.priority.active(i["station"]) is None
        assert all(
            s.kind != "emergency" for s in station.service.runner.core.stations["main"].ladder.sources()
        )
        relay = station.service.scenario.webstreams["relay"].id.upper()
        status, body, _ = await call(station, "POST", f"/api/v1/webstreams/{relay}/failover")
        assert (status, json.loads(body)["current_index"]) == (200, 1)


async def test_a_session_is_found_by_its_uuid_in_any_case(autojump_clock):
    """internal/live/service.go:369-378 (GetSession: ``First(&session, "id = ?", sessionID)`` on a
    ``uuid`` column) from internal/live/handover.go:61-75 (StartHandover) and :218-229 (ReleaseHandover);
    internal/api/priority.go:86-150 with internal/priority/resolver.go:126-227 (an override of a
    ``live`` source whose id is no UUID fails the row's insert: 500 override_start_failed)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        request = handover_body(i, session.upper())
        status, body, _ = await call(station, "POST", "/api/v1/live/sessions/handover", request)
        assert (status, json.loads(body)["success"]) == (200, True)
        path = f"/api/v1/live/sessions/{session.upper()}/handover"
        assert (await call(station, "DELETE", path))[:2] == (200, b'{"status":"released"}\n')
        live = {"station_id": i["station"], "source_type": "live", "source_id": "mike"}
        assert (await call(station, "POST", "/api/v1/priority/override", live))[:2] == (
            500,
            error("override_start_failed"),
        )
