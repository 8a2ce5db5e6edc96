"""The fan-out benchmark still runs end to end (a tiny run; figures are printed, never asserted)."""

import importlib
import json
import re
import subprocess
import sys

import pytest

from tests.support import ROOT


def test_the_fanout_benchmark_runs_and_prints_every_figure():
    result = subprocess.run(
        [sys.executable, "bench/fanout.py", "--clients", "20", "--hold", "0.5", "--events", "3",
         "--burst", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for figure in ("handshakes_per_second", "server_rss_kib_per_connection", "connect_max_stall_ms",
                   "hold_server_cpu_percent", "connections_lost", "last_receipt_p99_ms",
                   "delivered_per_second"):  # fmt: skip
        assert figure in result.stdout


ATTACKS = [  # a normal client for reference, then issue 11's list, each a row of docs/performance.md's table
    "normal-client", "deflate-bomb", "endless-fragments", "huge-frame", "huge-frame-max", "message-flood",
    "ping-flood", "slow-reader", "upgrade-many-headers", "upgrade-huge-header", "harbor-endless-head",
    "harbor-endless-body",
]  # fmt: skip


def test_the_hostile_client_benchmark_runs_every_attack_and_the_server_survives_each(tmp_path):
    """Every attack runs against its own server, and each server still serves afterwards.

    Memory is reported, never asserted here: the figures are docs/performance.md's.
    """
    written = tmp_path / "hostile.json"
    result = subprocess.run(
        [sys.executable, "bench/hostile.py", "--quick", "--runs", "1", "--json", str(written)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("verdict", 1)[1]
    for attack in ATTACKS:
        assert re.search(
            rf"^  {attack} +[-\d,]+ KiB +[-\d,]+ KiB +1 MiB +(pass|FAIL|\(reference\))$", table, re.M
        ), attack
    runs = json.loads(written.read_text())["runs"]
    assert [run["attack"] for run in runs] == list(ATTACKS)
    assert all(run["still_serving"] for run in runs), [r["attack"] for r in runs if not r["still_serving"]]
    (bomb,) = (run for run in runs if run["attack"] == "deflate-bomb")
    assert bomb["details"]["extension_refused"]


@pytest.fixture
def hostile(monkeypatch):
    """bench/hostile.py as a module (it imports its neighbour fanout.py as a top-level module)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("hostile")


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([0, -4, 0], "0 KiB (-4 to 0)"),
        ([-12, -4, -4], "-4 KiB (-12 to -4)"),
        ([40, 52, 40], "40 KiB (40 to 52)"),
        ([1_024, 0, 2_048], "1,024 KiB (0 to 2,048)"),
        ([0, 0, 0], "0 KiB (0 to 0)"),
        ([12], "12 KiB"),
    ],
)
def test_the_hostile_tables_spread_shows_both_ends_of_the_range_even_when_negative(hostile, values, shown):
    assert hostile.spread(values) == shown
