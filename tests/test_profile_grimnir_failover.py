"""``serve --profile grimnir``: an operator's webstream failover takes the next URL whatever its health.

Tests quote the Go code of friendsincode/grimnir_radio at 4b8b2c5f they pin.
"""

import json

from tests.test_profile_grimnir_rest import ADMIN, call, grimnir, heard, ids


async def test_a_failover_takes_the_next_url_whatever_its_health_every_url_down_too(autojump_clock):
    """internal/webstream/service.go:277-325 (TriggerFailover) with internal/models/webstream.go:113-161
    (GetNextFailoverURL and FailoverToNext: the URL after the one in use, by index, no health consulted;
    after the last, the primary, auto-recover being on): an unhealthy backup is taken, and with every URL
    down the failover is still 200 and moves on (internal/api/webstream.go:302-333)."""
    async with grimnir() as station:
        relay = ids(station)["relay"]
        urls = station.service.scenario.webstreams["relay"].urls
        health = station.service.runner.core.webstreams["relay"]
        path = f"/api/v1/webstreams/{relay}/failover"
        await station.client.post("/api/v1/sim/webstreams/relay/urls/1/down", json={}, headers=ADMIN)
        await station.client.post("/api/v1/sim/advance", json={"by": "10m"}, headers=ADMIN)
        assert health.urls[1].status == "unhealthy"
        status, body, _ = await call(station, "POST", path)
        assert (status, json.loads(body)["current_index"], health.active) == (200, 1, 1)
        for index in range(len(urls)):
            await station.client.post(
                f"/api/v1/sim/webstreams/relay/urls/{index}/down", json={}, headers=ADMIN
            )
        await station.client.post("/api/v1/sim/advance", json={"by": "10m"}, headers=ADMIN)
        assert health.active is None
        at = station.service.translator.webstreams.index("relay")
        (status, body, _), got = await heard(
            station, lambda: call(station, "POST", path), "webstream.failover"
        )
        following = (at + 1) % len(urls)
        assert (status, json.loads(body)["current_index"], json.loads(body)["current_url"]) == (
            200,
            following,
            urls[following],
        )
        assert [kind for kind, _ in got] == ["webstream.failover", "webstream.failover"]
        assert (got[0][1]["from_index"], got[0][1]["current_index"], got[0][1]["manual"]) == (
            at,
            following,
            True,
        )
        assert (got[1][1]["new_index"], got[1][1]["new_url"]) == (following, urls[following])
        assert health.active == following
