"""The trio runner in virtual time, every shipped scenario, and determinism."""

import os
import subprocess
import sys

import pytest
import trio

from playout import InputRejected, Playout, StationRunner, find_catalog, inputs, load_catalog, wire
from tests.support import HITS_ALL_DAY, ROOT, SCENARIOS, focused, shipped, validate

CATALOG = load_catalog(ROOT / "scenarios.toml")


def test_every_scenario_file_is_in_the_catalog():
    listed = {entry.path.resolve() for entry in CATALOG.entries.values()}
    assert listed == {path.resolve() for path in SCENARIOS.glob("*.toml")}
    assert CATALOG.default == "community-week"


@pytest.mark.parametrize("name", sorted(CATALOG.entries))
async def test_every_shipped_scenario_runs_in_virtual_time(name, autojump_clock):
    scenario = shipped(name)
    published = []
    runner = StationRunner(scenario, published.extend, real_probes=False)  # no network: compare with the core
    start = trio.current_time()
    await runner.run(until_ms=scenario.duration_ms)
    # The trio clock moved by exactly the scenario's station time (at speed 1).
    assert trio.current_time() - start == pytest.approx(scenario.duration_ms / 1000 / scenario.speed)
    assert published, "a scenario that emits nothing shows nothing"
    validate(published)
    assert [e.at_ms for e in published] == sorted(e.at_ms for e in published)
    # The driver adds nothing and reorders nothing: same events as the bare core.
    assert published == Playout(scenario).advance(scenario.duration_ms)


async def test_inputs_through_the_runner_land_at_the_station_time(autojump_clock):
    scenario = focused(HITS_ALL_DAY)
    published = []
    runner = StationRunner(scenario, published.extend)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(90)
        emitted = await runner.submit(inputs.ConnectDj(station="main", dj="mike", transition="immediate"))
        assert [(e.at_ms, e.event.TYPE) for e in emitted] == [
            (90_000, "dj_connect"),
            (90_000, "live.handover"),
            (90_000, "now_playing"),
        ]
        with pytest.raises(InputRejected):
            await runner.submit(inputs.ConnectDj(station="main", dj="mike"))
        await trio.sleep(60)
        await runner.submit(inputs.DisconnectDj(station="main", dj="mike"))
        nursery.cancel_scope.cancel()
    kinds = [(e.at_ms, e.event.TYPE) for e in published]
    assert kinds[-4:] == [
        (150_000, "dj_disconnect"),
        (150_000, "live.released"),
        (150_000, "priority.released"),
        (150_000, "now_playing"),
    ]


async def test_speed_scales_station_time(autojump_clock):
    scenario = focused(HITS_ALL_DAY)
    runner = StationRunner(scenario, lambda batch: None, speed=60)
    start = trio.current_time()
    await runner.run(until_ms=3_600_000)
    assert trio.current_time() - start == pytest.approx(60)  # an hour of station time in a minute


async def test_a_manual_clock_steps_to_each_deadline_and_no_further():
    published = []
    runner = StationRunner(shipped("dj-takeover"), published.extend, manual_clock=True, real_probes=False)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        with pytest.raises(RuntimeError, match="no trio time"):
            StationRunner(shipped("dj-takeover"), published.extend).trio_time_at(0)
        # One instant per step: the next track at +3m, then the DJ at +5m, each with its events.
        first = await runner.step_toward(3_600_000)
        assert runner.station_now_ms() == 180_000
        assert [(e.at_ms, e.event.TYPE) for e in first] == [(180_000, "now_playing")]
        second = await runner.step_toward(3_600_000)
        assert [e.event.TYPE for e in second] == ["dj_connect", "live.handover", "now_playing"]
        assert runner.station_now_ms() == 300_000
        # A target before the next deadline is where the step ends, with nothing happening.
        assert await runner.step_toward(310_000) == []
        assert runner.station_now_ms() == 310_000
        with pytest.raises(ValueError, match="past 0 ms"):
            await runner.step_toward(0)
        assert published[-len(second) :] == second
        nursery.cancel_scope.cancel()


async def test_a_running_clock_is_not_stepped_and_maps_station_time_to_trio_time(autojump_clock):
    runner = StationRunner(focused(HITS_ALL_DAY), lambda batch: None, speed=60)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        start = trio.current_time()
        assert runner.trio_time_at(3_600_000) == pytest.approx(start + 60)  # an hour at speed 60
        with pytest.raises(InputRejected, match="runs by itself"):
            await runner.step_toward(3_600_000)
        await trio.sleep_until(runner.trio_time_at(3_600_000))
        assert runner.station_now_ms() == 3_600_000
        nursery.cancel_scope.cancel()


def test_a_week_gives_the_same_log_every_run():
    scenario = shipped("community-week")
    first = b"".join(wire.encode(e.event) for e in Playout(scenario).advance(scenario.duration_ms))
    second = b"".join(
        wire.encode(e.event) for e in Playout(shipped("community-week")).advance(scenario.duration_ms)
    )
    assert first == second


def test_the_cli_log_is_byte_identical_across_processes(tmp_path):
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        result = subprocess.run(
            [sys.executable, "-m", "playout", "run", "default", "--until", "2d", "--with-time"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") > 1000


def test_the_catalog_is_found_from_the_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRIMNIR_SIM_CATALOG", raising=False)
    assert find_catalog() == ROOT / "scenarios.toml"
