"""A manual failover holds until its reset, served: the REST answers, the event stream, the state.

Issue 13's defect (a failover on a healthy primary sent ``webstream.failover`` and, in the same
instant, ``webstream.recovered``, and answered with the primary) and issue 11's review finding
("a failover right after ``--from`` returns 200 and sends no event") had one cause: the primary's
next check, on the 30 s grid, passed and took the stream back at once. The core now holds a
manually failed-over stream off its primary until ``POST …/reset`` (docs/protocol.md, "A manual
failover holds"; the pure rules are in tests/test_webstreams.py).
"""

import json

import trio

from playout import parse_entry_point, place
from tests.server_support import served
from tests.support import focused, shipped

RELAY_ALL_DAY = '\n[[schedule]]\ndays = "daily"\nstart = "00:00"\nduration = "24h"\nwebstream = "relay"\n'
WEBSTREAM_TYPES = "types=webstream.failover,webstream.recovered,now_playing"


async def heard(station, action, query=WEBSTREAM_TYPES):
    """Run ``action`` with a client listening; return its result and ``(type, payload)`` of what was heard."""
    got = []
    async with station.events(query) as ws:
        result = await action()
        with trio.move_on_after(1):
            while True:
                message = json.loads(await ws.receive())
                if message != {"type": "ping"}:
                    got.append((message["type"], message["payload"]))
    return result, got


def held(body: dict) -> tuple:
    return body["current_url"], body["current_index"], body["health_status"], body["manual_failover"]


async def test_a_failover_right_after_from_stays_and_is_heard(autojump_clock):
    """``serve --from "Mon 10:00" --manual-clock``, as the quickstart starts a station for tests.

    The station sits on its entry point, a point of the relay's check grid. Before the fix the
    answer showed the primary again, and a client of the default types heard nothing: the relay is
    not on air at 10:00, so only ``webstream.failover`` and ``webstream.recovered`` were sent.
    """
    scenario = shipped("community-week")
    placement = place(scenario, parse_entry_point("Mon 10:00"), "scenario", scenario.start)
    primary, backup = scenario.webstreams["overnight-relay"].urls
    async with served(scenario, manual_clock=True, placement=placement) as station:
        (status, body), got = await heard(
            station, lambda: station.post("/api/v1/webstreams/overnight-relay/failover")
        )
        assert status == 200 and held(body) == (backup, 1, "degraded", True)
        assert [(kind, p["failed_url"], p["failover_url"], p["reason"]) for kind, p in got] == [
            ("webstream.failover", primary, backup, "manual")
        ]
        # Held on the only backup: no other URL to move to; the way back is a reset.
        status, body = await station.post("/api/v1/webstreams/overnight-relay/failover")
        assert (status, body["error"]) == (409, "conflict") and "reset" in body["detail"]
        (_, advanced), got = await heard(station, lambda: station.post("/api/v1/sim/advance", {"by": "10m"}))
        assert [kind for kind, _ in got if kind.startswith("webstream.")] == []
        assert advanced["station_time"] == "2026-01-19T10:10:00Z"
        _, state = await station.get("/api/v1/sim/state")
        (relay,) = state["webstreams"]
        assert (relay["active_url"], relay["health_status"], relay["manual_failover"]) == (
            backup,
            "degraded",
            True,
        )


async def test_held_through_an_outage_of_the_primary_until_the_reset_then_automatic_again(autojump_clock):
    async with served(focused(RELAY_ALL_DAY), manual_clock=True) as station:
        primary, backup, _ = station.service.scenario.webstreams["relay"].urls
        (status, body), got = await heard(station, lambda: station.post("/api/v1/webstreams/relay/failover"))
        assert status == 200 and held(body) == (backup, 1, "degraded", True)
        assert [(kind, p.get("url") or p["failover_url"]) for kind, p in got] == [
            ("webstream.failover", backup),
            ("now_playing", backup),
        ]

        async def outage_of_the_primary():
            await station.post("/api/v1/sim/webstreams/relay/urls/0/down")
            await station.post("/api/v1/sim/advance", {"by": "2m"})
            await station.post("/api/v1/sim/webstreams/relay/urls/0/up")
            return await station.post("/api/v1/sim/advance", {"by": "5m"})

        (_, advanced), got = await heard(station, outage_of_the_primary)
        assert got == [] and advanced["events"] == []
        _, state = await station.get("/api/v1/sim/state")
        (relay,) = state["webstreams"]
        assert (relay["active_url"], relay["manual_failover"]) == (backup, True)
        assert relay["urls"][0] == {"url": primary, "status": "healthy", "consecutive_failures": 0}
        assert state["stations"][0]["now_playing"]["url"] == backup

        (status, body), got = await heard(station, lambda: station.post("/api/v1/webstreams/relay/reset"))
        assert status == 200 and held(body) == (primary, 0, "healthy", False)
        assert [(kind, p.get("url") or p["recovered_url"]) for kind, p in got] == [
            ("webstream.recovered", primary),
            ("now_playing", primary),
        ]

        # After the reset the automatic rules hold again: an outage fails over, its end recovers.
        await station.post("/api/v1/sim/webstreams/relay/urls/0/down")
        _, advanced = await station.post("/api/v1/sim/advance", {"by": "70s"})
        assert [
            (m["type"], m["payload"]["reason"]) for m in advanced["events"] if m["type"] != "now_playing"
        ] == [("webstream.failover", "connection_timeout")]
        await station.post("/api/v1/sim/webstreams/relay/urls/0/up")
        _, advanced = await station.post("/api/v1/sim/advance", {"by": "90s"})
        assert [m["type"] for m in advanced["events"]] == ["webstream.recovered", "now_playing"]
        _, state = await station.get("/api/v1/sim/state")
        assert state["webstreams"][0]["manual_failover"] is False
