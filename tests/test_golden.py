"""Every shipped scenario's full event log, pinned by a golden file (the plugin's golden logs).

A deliberate change of behaviour shows up as a readable diff here; after checking
it, rerun with --grimnir-update-golden (or GRIMNIR_UPDATE_GOLDEN=1) and commit.
A missing golden file fails unless that flag is given, so no scenario passes unpinned.
"""

import os
from pathlib import Path

import pytest

from playout import load_catalog
from playout.testing import UPDATE_ENV
from tests.support import ROOT

GOLDEN = Path(__file__).parent / "golden"
# The long scenarios' first six hours stand for them (the default week is 14,000 events).
LENGTH = {"community-week": "6h", "live-harbor": "6h"}
NAMES = sorted(load_catalog(ROOT / "scenarios.toml").entries)


def updating(config: pytest.Config) -> bool:
    """Whether golden files are being (re)recorded: the plugin's flag, or its environment variable."""
    return bool(config.getoption("--grimnir-update-golden") or os.environ.get(UPDATE_ENV))


def golden_file(name: str, *, update: bool, folder: Path = GOLDEN) -> Path:
    """A scenario's golden file; a missing one fails the test, unless golden files are being recorded."""
    path = folder / f"{name}.jsonl"
    if not update and not path.exists():
        pytest.fail(
            f"{path} is missing: record it with pytest --grimnir-update-golden (or {UPDATE_ENV}=1), "
            "check it, and commit it",
            pytrace=False,
        )
    return path


@pytest.mark.parametrize("name", NAMES)
async def test_the_log_matches_its_golden_file(grimnir, name, monkeypatch, request):
    monkeypatch.chdir(ROOT)
    golden = golden_file(name, update=updating(request.config))
    station = await grimnir.start(name)
    await station.advance(LENGTH.get(name, station.scenario.duration_ms / 1000))
    station.assert_golden(golden)


def test_a_missing_golden_file_fails_unless_recording(tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"nothing\.jsonl is missing: .*--grimnir-update-golden"):
        golden_file("nothing", update=False, folder=tmp_path)
    assert golden_file("nothing", update=True, folder=tmp_path) == tmp_path / "nothing.jsonl"
    (tmp_path / "there.jsonl").write_text("")
    assert golden_file("there", update=False, folder=tmp_path) == tmp_path / "there.jsonl"


def test_the_update_flag_and_its_environment_variable_both_mean_recording(pytestconfig, monkeypatch):
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    assert updating(pytestconfig) is bool(pytestconfig.getoption("--grimnir-update-golden"))
    monkeypatch.setenv(UPDATE_ENV, "1")
    assert updating(pytestconfig) is True


@pytest.mark.parametrize("name", ["community-week", "emergency", "edge-flapping-stream"])
def test_golden_files_are_what_grimnir_sim_run_prints(name, capsys, monkeypatch):
    from playout import format_duration, load_scenario
    from playout.drivers.cli import main

    monkeypatch.chdir(ROOT)
    scenario = load_scenario(load_catalog(ROOT / "scenarios.toml").resolve(name))
    until = LENGTH.get(name, format_duration(scenario.duration_ms))
    assert main(["run", name, "--with-time", "--until", until]) == 0
    assert capsys.readouterr().out == (GOLDEN / f"{name}.jsonl").read_text()
