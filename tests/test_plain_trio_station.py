"""The test station without pytest's fixtures: ``playout.testing`` in plain trio, as docs/testing.md shows."""

import pytest
import trio

from playout import UnknownScenario
from playout.testing import event, open_station, start_station
from tests.docs_support import blocks
from tests.support import ROOT


def test_the_plain_trio_example_of_docs_testing_md_passes_as_written():
    (example,) = [
        block
        for block in blocks(ROOT / "docs" / "testing.md")
        if block.info == "python" and block.content.startswith("# test_plain_trio.py\n")
    ]
    namespace: dict = {}
    exec(compile(example.content, f"{example.doc}:{example.line}", "exec"), namespace)
    namespace["test_the_dj_takes_over_and_gives_back_in_plain_trio"]()


def test_a_station_in_a_nursery_of_ones_own_runs_until_it_is_cancelled():
    async def run() -> str:
        async with trio.open_nursery() as nursery:
            station = await start_station(nursery, "dj-takeover")
            await station.expect([event("dj_connect", username="DJ Mike")], within="10m")
            await station.expect_quiet("1m")
            nursery.cancel_scope.cancel()
        return station.now

    assert trio.run(run) == "2026-01-19T10:06:00Z"


def test_an_unknown_scenario_raises_itself_before_anything_starts():
    async def run() -> None:
        async with open_station("dj-takover"):
            raise AssertionError("the block must not run")

    with pytest.raises(UnknownScenario, match="dj-takeover"):
        trio.run(run)


def test_a_failed_expectation_in_open_station_is_a_plain_assertion_error():
    async def run() -> None:
        async with open_station("dj-takeover") as station:
            await station.expect([event("dj_connect", username="DJ Nobody")], within="10m")

    with pytest.raises(AssertionError) as failure:
        trio.run(run)
    assert not isinstance(failure.value, BaseExceptionGroup)
    assert "DJ Nobody" in str(failure.value)
