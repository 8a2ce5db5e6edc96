"""``serve --profile grimnir``: live sessions and the rows that play them, as the real tables keep them.

The real priority service looks no session up for an override of a ``live`` source, and the
``live_sessions`` table keeps a session after its DJ has left (marked inactive). Each test
quotes the Go code of friendsincode/grimnir_radio at 4b8b2c5f it pins.
"""

import json

from tests.test_profile_grimnir_rest import (
    ADMIN,
    MIKE_ALL_DAY,
    call,
    connect_mike,
    grimnir,
    handover_body,
    heard,
    ids,
)

OVERRIDE = "/api/v1/priority/override"


async def test_an_override_of_a_dj_on_air_in_his_show_preempts_his_row(autojump_clock):
    """internal/api/priority.go:86-150 (handlePriorityOverride) with internal/priority/service.go:74-101
    (StartOverride) and internal/priority/resolver.go:126-227 (Transition: priority 1 over the DJ's
    own priority-2 row is ``preempt``): the real service does not ask what is on air."""
    async with grimnir(MIKE_ALL_DAY) as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        connect_row = station.service.translator.priority.active(i["station"])
        live = {"station_id": i["station"], "source_type": "live", "source_id": session}
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", OVERRIDE, live), "priority.override,live.handover"
        )
        row = station.service.translator.priority.active(i["station"])
        assert status == 200
        assert body == (
            b'{"preempted":true,"requires_fade":true,"source_id":"' + row.id.encode() + b'",'
            b'"status":"override_activated","transition_type":"preempt"}\n'
        )
        assert [kind for kind, _ in got] == ["priority.override", "priority.override"]
        assert (got[0][1]["transition_type"], got[0][1]["old_source_id"]) == ("preempt", connect_row.id)
        assert got[1][1]["resource_id"] == row.id
        again = await call(station, "POST", OVERRIDE, live)
        assert again[:2] == (
            409,
            b'{"message":"Cannot preempt current priority source","status":"no_preemption"}\n',
        )


async def test_an_override_of_a_live_source_no_dj_plays_still_makes_its_row(autojump_clock):
    """internal/priority/service.go:74-101 and internal/priority/resolver.go:126-227: the row is made for
    the source id as given, whatever session it names (a DJ who has left, or none at all); the audio
    stays as it was."""
    async with grimnir() as station:
        i = ids(station)
        unknown = "00000000-0000-0000-0000-0000000000aa"
        live = {"station_id": i["station"], "source_type": "live", "source_id": unknown}
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", OVERRIDE, live), "priority.override"
        )
        assert (status, json.loads(body)["transition_type"]) == (200, "switch")
        assert [kind for kind, _ in got] == ["priority.override", "priority.override"]
        assert got[0][1]["new_media_id"] == unknown
        assert station.service.runner.core.stations["main"].on_air.kind != "live"
        assert (await call(station, "DELETE", f"/api/v1/priority/{unknown}", {"station_id": i["station"]}))[
            0
        ] == 200
        session = await connect_mike(station, priority=1)
        await station.client.post("/api/v1/sim/djs/disconnect", json={"dj": "mike"}, headers=ADMIN)
        gone = {**live, "source_id": session}
        assert (await call(station, "POST", OVERRIDE, gone))[0] == 200
        assert station.service.translator.priority.active(i["station"]).source_id == session


async def test_a_handover_release_after_the_dj_has_left_releases_his_row_again(autojump_clock):
    """internal/live/service.go:296-318 (HandleDisconnect marks the session inactive and keeps it),
    internal/live/handover.go:218-246 (ReleaseHandover: GetSession finds it, Release finds its row
    whatever its state, internal/priority/resolver.go:240; ``priority.released`` then ``live.released``)
    and internal/api/live.go:425-443 (200); internal/live/handover.go:81-87 (a handover of it is
    ``session is not active``, answered by internal/api/live.go:366-378)."""
    async with grimnir() as station:
        i = ids(station)
        session = await connect_mike(station, priority=2)
        await call(station, "POST", "/api/v1/live/sessions/handover", handover_body(i, session))
        await station.client.post("/api/v1/sim/djs/disconnect", json={"dj": "mike"}, headers=ADMIN)
        path = f"/api/v1/live/sessions/{session}/handover"
        (status, body, _), got = await heard(
            station, lambda: call(station, "DELETE", path), "priority.released,live.released,now_playing"
        )
        assert (status, body) == (200, b'{"status":"released"}\n')
        assert [kind for kind, _ in got] == ["priority.released", "live.released"]
        assert got[0][1]["transition_type"] == "fallback" and "new_source_id" not in got[0][1]
        assert (got[1][1]["session_id"], got[1][1]["user_id"]) == (session, i["mike"])
        status, body, _ = await call(
            station, "POST", "/api/v1/live/sessions/handover", handover_body(i, session)
        )
        assert (status, json.loads(body)["error"]) == (500, "session is not active")
        assert json.loads(body)["handover_at"] == "0001-01-01T00:00:00Z"
