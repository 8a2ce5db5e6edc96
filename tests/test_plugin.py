"""The pytest plugin, used as a test author would, and its failure messages."""

import json
import time

import pytest
import trio
from trio_websocket import open_websocket_url

from playout import UnknownScenario, load_catalog
from playout.matching import Recorded, listed
from playout.scenario.catalog import CATALOG_ENV
from playout.testing import event
from server.pytest_plugin import Simulator
from tests.support import HITS_ALL_DAY, ROOT, focused_text

INLINE = focused_text(HITS_ALL_DAY)


async def test_expect_a_scripted_sequence_by_catalog_name(grimnir):
    station = await grimnir.start("dj-takeover")
    await station.expect(
        ["dj_connect", "live.handover", event("now_playing", username="DJ Mike")], within="10m"
    )
    assert station.now == "2026-01-19T10:05:00Z"  # the clock stopped where the expectation was met
    released = await station.expect(
        ["dj_disconnect", "live.released", event("priority.released", new_priority=3), "now_playing"],
        within="1h",
        strict=True,
    )
    assert released[0].payload["duration_seconds"] == 1800.0


async def test_catalog_names_work_from_any_folder(grimnir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    station = await grimnir.start("webstream-failover")
    assert station.scenario.path == str(ROOT / "scenarios" / "webstream-failover.toml")


async def test_an_unknown_name_lists_the_catalog_and_suggests_the_closest(
    grimnir, grimnir_server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    known = ", ".join(sorted(load_catalog(ROOT / "scenarios.toml").entries))
    with pytest.raises(UnknownScenario) as caught:
        await grimnir.start("dj-takover")
    suggestion = "(did you mean 'dj-takeover'?)"
    assert str(caught.value) == f"no scenario named 'dj-takover'; known: {known} {suggestion}"
    with pytest.raises(UnknownScenario, match=r"^no scenario named 'nothing-like-it'; known: [^(]+$"):
        await grimnir_server.serve("nothing-like-it")


async def test_drive_the_station_mid_test(grimnir):
    station = await grimnir.start(INLINE)
    await station.advance("1m")
    await station.connect_dj("mike", transition="immediate", source_ip="203.0.113.9")
    await station.expect([event("dj_connect", source_ip="203.0.113.9"), "live.handover"], within="0s")
    await station.expect_quiet("30m", types=["now_playing", "live.released"])
    await station.emergency("one")
    await station.expect(["priority.emergency", event("now_playing", title="First Light")], within="0s")
    await station.expect(
        [event("priority.released", previous_priority=0, new_priority=1), "live.handover"], within="3m"
    )
    await station.disconnect_dj("mike")
    await station.expect(["dj_disconnect", "live.released", "priority.released", "now_playing"], strict=True)


async def test_golden_logs_are_recorded_only_when_asked_then_compared(grimnir, tmp_path):
    golden = tmp_path / "golden" / "dj-takeover.jsonl"
    first = await grimnir.start("dj-takeover")
    await first.advance("1h")
    missing = r"no golden log at .*dj-takeover.jsonl.*--grimnir-update-golden"
    with pytest.raises(AssertionError, match=missing):
        first.assert_golden(golden)  # a missing file fails: it is not recorded behind the test's back
    assert not golden.exists()
    async with trio.open_nursery() as nursery:
        # as with --grimnir-update-golden
        recorder = await Simulator(nursery, update_golden=True).start("dj-takeover")
        await recorder.advance("1h")
        recorder.assert_golden(golden)  # recorded
        nursery.cancel_scope.cancel()
    second = await grimnir.start("dj-takeover")
    await second.advance("1h")
    second.assert_golden(golden)  # identical
    assert golden.read_text().count("\n") == len(second.events) == 17
    third = await grimnir.start("dj-queue")
    await third.advance("1h")
    with pytest.raises(
        AssertionError, match=r"(?s)differs from .*golden.*\+.*DJ Sarah.*--grimnir-update-golden"
    ):
        third.assert_golden(golden)


async def test_a_served_station_for_client_tests(grimnir_server):
    station = await grimnir_server.serve("dj-takeover")  # manual clock: time moves when the test says
    async with open_websocket_url(station.events_url_with(["dj_connect", "live.handover"])) as client:
        await station.advance("6m")
        got = [json.loads(await client.get_message()) for _ in range(2)]
    assert [m["type"] for m in got] == ["dj_connect", "live.handover"]
    assert station.of_type("dj_connect")[0].payload == got[0]["payload"]
    with trio.fail_after(5):
        await station.expect(["dj_connect", "live.handover"], within="0s")


def test_failure_messages_show_expected_arrived_and_around(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the summary line, whole
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        f"""
import os
os.chdir({str(ROOT)!r})
from playout.testing import event

async def test_wrong(grimnir):
    station = await grimnir.start("dj-takeover")
    await station.expect(["dj_connect", event("live.handover", priority=2)], within="10m")

async def test_noisy(grimnir):
    station = await grimnir.start("dj-takeover")
    await station.expect_quiet("4m", types=["now_playing"])
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(failed=2)
    assert "ExceptionGroup" not in result.stdout.str()  # one AssertionError, as itself
    result.stdout.fnmatch_lines(
        [
            "FAILED test_failure_messages_show_expected_arrived_and_around.py::test_wrong - AssertionError: "
            "expected live.handover (priority=2) by 2026-01-19T10:10:00Z, got live.handover (priority=1) "
            "at 2026-01-19T10:05:00Z",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*expected in this order by 2026-01-19T10:10:00Z (waited from 2026-01-19T10:00:00Z):*",
            "*✓ dj_connect  at 2026-01-19T10:05:00Z*",
            "*✗ live.handover (priority=2)  not seen*",
            "*arrived since the last match*",
            '*2026-01-19T10:05:00Z live.handover {*"priority":1*',
        ]
    )
    result.stdout.fnmatch_lines(
        ["*expected nothing from 2026-01-19T10:00:00Z to 2026-01-19T10:04:00Z, but got 1:*"]
    )


async def test_a_station_in_the_grimnir_profile_speaks_the_real_wire(grimnir):
    """internal/live/service.go:223-271: the priority event, then dj_connect (no source_ip); the harbor's
    now_playing "Live DJ" (internal/harbor/server.go:280-289); no live.handover on a connect."""
    station = await grimnir.start("dj-takeover", profile="grimnir", health_tick_ms=60_000)
    got = await station.expect(
        ["priority.override", "dj_connect", event("now_playing", title="Live DJ")], within="10m", strict=True
    )
    assert "source_ip" not in got[1].payload and got[1].payload["priority"] == 1
    assert station.of_type("live.handover") == []
    await station.expect([event("health", status="playing")], within="2m")


async def test_a_failure_in_the_grimnir_profile_lists_the_events_not_the_health_snapshots(grimnir):
    station = await grimnir.start("dj-takeover", profile="grimnir")
    with pytest.raises(AssertionError) as failed:
        await station.expect([event("dj_connect", priority=2)], within="10m")
    lines = str(failed.value).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("arrived since the last match (")))
    listed_lines = lines[start + 1 :]
    assert not any(" health {" in line for line in listed_lines)
    assert any(line.startswith("  2026-01-19T10:05:00Z dj_connect {") for line in listed_lines)
    health = len(station.of_type("health"))
    assert health > 2000  # four a second
    assert listed_lines[-1] == f"  ({health} health snapshot(s) left out: the expectation is not about them)"
    assert lines[start] == f"arrived since the last match ({len(station.events)}):"


def test_the_list_of_arrived_events_keeps_health_only_when_the_expectation_is_about_it():
    def at(second: int, type_: str) -> Recorded:
        return Recorded(second * 1000, f"2026-01-19T10:00:{second:02d}Z", type_, {"n": second})

    arrived = [at(0, "health"), at(1, "now_playing"), at(2, "health")] + [at(3, "health")] * 45
    assert listed(arrived, ["now_playing"]) == [
        '  2026-01-19T10:00:01Z now_playing {"n":1}',
        "  (47 health snapshot(s) left out: the expectation is not about them)",
    ]
    about_health = listed(arrived, ["now_playing", "health"])
    assert about_health[:2] == [
        '  2026-01-19T10:00:00Z health {"n":0}',
        '  2026-01-19T10:00:01Z now_playing {"n":1}',
    ]
    assert about_health[40:] == ["  … and 8 more"]
    assert listed([at(0, "health")], ["dj_connect"]) == [
        "  (nothing else)",
        "  (1 health snapshot(s) left out: the expectation is not about them)",
    ]
    assert listed([], ["dj_connect"]) == ["  (nothing)"]


async def test_one_type_given_as_a_string_is_that_type_and_of_type_checks_names(grimnir):
    station = await grimnir.start("dj-takeover")
    with pytest.raises(AssertionError, match=r"but got 2:\n  2026-01-19T10:03:00Z now_playing "):
        await station.expect_quiet("20m", types="now_playing")
    with pytest.raises(ValueError, match=r"unknown event type 'dj\.connect' .*did you mean 'dj_connect'"):
        station.of_type("dj.connect")
    assert [e.type for e in station.of_type("dj_connect")] == ["dj_connect"]


async def test_events_url_with_takes_one_type_as_a_string_and_checks_names(grimnir_server):
    station = await grimnir_server.serve("dj-takeover")
    assert (
        station.events_url_with("dj_connect")
        == f"{station.events_url}?types=dj_connect&token={station.token}"
    )
    with pytest.raises(ValueError, match=r"did you mean 'dj_connect'"):
        station.events_url_with(["dj.connect"])


async def test_an_unknown_profile_names_the_known_ones(grimnir, grimnir_server):
    with pytest.raises(ValueError, match="unknown profile 'grimnr'; known: documented, grimnir"):
        await grimnir.start("dj-takeover", profile="grimnr")
    with pytest.raises(ValueError, match="known: documented, grimnir"):
        await grimnir_server.serve("dj-takeover", profile="grimnr")


async def test_a_served_station_in_the_grimnir_profile(grimnir_server):
    station = await grimnir_server.serve("dj-takeover", profile="grimnir", health_tick_ms=60_000)
    assert station.service.settings.profile == "grimnir" and station.service.settings.health_tick_ms == 60_000
    async with open_websocket_url(station.events_url_with(["dj_connect"])) as ws:
        await station.advance("5m")
        message = json.loads(await ws.get_message())
    assert message["type"] == "dj_connect" and "source_ip" not in message["payload"]


def test_a_misspelled_type_or_field_is_refused_at_once_with_the_closest_names():
    began = time.perf_counter()
    with pytest.raises(ValueError, match=r"unknown event type 'dj\.connect'; did you mean 'dj_connect'"):
        event("dj.connect")
    assert time.perf_counter() - began < 0.01


async def test_expect_checks_names_against_the_stations_profile_before_waiting(grimnir):
    station = await grimnir.start("dj-takeover")
    with pytest.raises(
        ValueError, match=r"unknown payload field 'user_name' of dj_connect; did you mean 'username'"
    ):
        await station.expect([event("dj_connect", user_name="DJ Mike")], within="1d")
    with pytest.raises(
        ValueError, match=r"unknown event type 'webstream\.health' for the documented profile"
    ):
        await station.expect(["webstream.health"], within="1d")
    with pytest.raises(ValueError, match="unknown event type 'now_plying' for the documented profile"):
        await station.expect_quiet("1m", types=["now_plying"])
    assert station.now == "2026-01-19T10:00:00Z"  # refused before any time passed


def test_two_tests_share_one_served_station_and_each_starts_clean(pytester):
    """``grimnir_server.shared``: one server for the session, reset before every test after the first."""
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(
        f"""
import json
import os
os.chdir({str(ROOT)!r})
import httpx
from trio_websocket import open_websocket_url

SEEN = []

async def starts_clean(station):
    async with open_websocket_url(station.events_url_with() + "&snapshot=true") as client:
        first = json.loads(await client.get_message())
    assert first["type"] == "now_playing" and first["payload"]["title"] != "DJ Mike live"
    admin = {{"Authorization": f"Bearer {{station.token}}"}}
    async with httpx.AsyncClient(base_url=station.url, headers=admin) as http:
        state = (await http.get("/api/v1/sim/state")).json()
        assert state["clock"]["station_time"] == "2026-01-19T10:00:00Z"
        moved = (await http.post("/api/v1/sim/advance", json={{"by": "6m"}})).json()
    assert "dj_connect" in [m["type"] for m in moved["events"]]  # leaves DJ Mike on air

async def test_first(grimnir_server):
    station = await grimnir_server.shared("dj-takeover")
    SEEN.append((station.url, station.resets))
    await starts_clean(station)

async def test_second(grimnir_server):
    station = await grimnir_server.shared("dj-takeover")
    SEEN.append((station.url, station.resets))
    await starts_clean(station)
    assert SEEN[0][0] == SEEN[1][0] and [resets for _, resets in SEEN] == [0, 1]
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
