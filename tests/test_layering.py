"""The tree's layering holds: ruff refuses an import that crosses it (the nested ruff.toml files).

The pure packages (playout/protocol, playout/scenario, playout/station) do no I/O and
keep no time, and depend one way (protocol ← scenario ← station); playout never
imports server; the server takes from playout only what playout/__init__.py exports.
Each rule is checked by feeding ruff one import as if it were a file in that folder,
so removing or weakening a rule fails here.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff")


def banned(path: str, source: str) -> list[str]:
    """The TID251 complaints ruff makes about ``source`` as the file ``path``."""
    assert RUFF, "ruff is in the test extra"
    result = subprocess.run(
        [RUFF, "check", "--output-format", "concise", "--select", "TID251", "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return [line for line in result.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize("package", ["protocol", "scenario", "station"])
@pytest.mark.parametrize(
    "statement",
    [
        "import trio",
        "import httpx",
        "import socket",
        "import asyncio",
        "import time",
        "from datetime import datetime\n\nprint(datetime.now())",
        "from ..drivers import runner",
        "from playout.drivers.runner import StationRunner",
        "from playout.testing import Station",
        "from server import app",
    ],
)
def test_the_pure_packages_do_no_io_and_import_no_driver(package, statement):
    assert banned(f"playout/{package}/probe.py", statement + "\n")


@pytest.mark.parametrize(
    ("package", "statement"),
    [
        ("protocol", "from ..scenario.model import Scenario"),
        ("protocol", "from ..station import ladder"),
        ("scenario", "from ..station.lockouts import Lockouts"),
        ("scenario", "from playout.station.core import Playout"),
    ],
)
def test_the_pure_packages_depend_one_way(package, statement):
    assert banned(f"playout/{package}/probe.py", statement + "\n")


@pytest.mark.parametrize(
    "statement",
    ["from ..protocol import events", "from .ladder import decide", "import attrs", "import random"],
)
def test_the_pure_packages_import_each_other_and_plain_libraries(statement):
    assert banned("playout/station/probe.py", statement + "\n") == []


@pytest.mark.parametrize("path", ["playout/probe.py", "playout/drivers/probe.py", "playout/testing.py"])
def test_playout_never_imports_server(path):
    assert banned(path, "from server.hub import Hub\n")


@pytest.mark.parametrize(
    "statement",
    [
        "from playout.station.core import Playout",
        "from playout.scenario.model import Scenario",
        "from playout.protocol import events",
        "from playout.drivers.harbor import Harbor",
        "import playout.station.ladder",
    ],
)
def test_the_server_imports_only_what_playout_exports(statement):
    assert banned("server/probe.py", statement + "\n")
    assert banned("server/control/probe.py", statement + "\n")


@pytest.mark.parametrize(
    "statement",
    ["from playout import Playout, Scenario, events", "from playout.testing import Station", "import trio"],
)
def test_the_server_may_import_playouts_surface_and_the_test_station(statement):
    assert banned("server/probe.py", statement + "\n") == []


def test_the_whole_tree_keeps_the_rules():
    result = subprocess.run(
        [RUFF, "check", "--select", "TID251", "--output-format", "concise", "."],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout
