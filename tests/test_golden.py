"""Every shipped scenario's full event log, pinned by a golden file (the plugin's golden logs).

A deliberate change of behaviour shows up as a readable diff here; after checking
it, rerun with --grimnir-update-golden (or GRIMNIR_UPDATE_GOLDEN=1) and commit.
"""

from pathlib import Path

import pytest

from playout import load_catalog
from tests.support import ROOT

GOLDEN = Path(__file__).parent / "golden"
# The long scenarios' first six hours stand for them (the default week is 14,000 events).
LENGTH = {"community-week": "6h", "live-harbor": "6h"}
NAMES = sorted(load_catalog(ROOT / "scenarios.toml").entries)


@pytest.mark.parametrize("name", NAMES)
async def test_the_log_matches_its_golden_file(grimnir, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    station = await grimnir.start(name)
    await station.advance(LENGTH.get(name, station.scenario.duration_ms / 1000))
    station.assert_golden(GOLDEN / f"{name}.jsonl")


@pytest.mark.parametrize("name", ["community-week", "emergency", "edge-flapping-stream"])
def test_golden_files_are_what_grimnir_sim_run_prints(name, capsys, monkeypatch):
    from playout import format_duration, load_scenario
    from playout.cli import main

    monkeypatch.chdir(ROOT)
    scenario = load_scenario(load_catalog(ROOT / "scenarios.toml").resolve(name))
    until = LENGTH.get(name, format_duration(scenario.duration_ms))
    assert main(["run", name, "--with-time", "--until", until]) == 0
    assert capsys.readouterr().out == (GOLDEN / f"{name}.jsonl").read_text()
