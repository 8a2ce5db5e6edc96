"""The fan-out benchmark still runs end to end (a tiny run; figures are printed, never asserted)."""

import subprocess
import sys

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
