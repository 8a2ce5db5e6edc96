"""A plain install, as a user gets one: the wheel in a fresh venv, used from a folder outside the checkout.

The module builds the sdist and, from it, the wheel (``python -m build``), installs
the wheel with its ``testing`` extra only (pytest, pytest-trio and trio-websocket,
for the plugin), as docs/testing.md says, into one venv that all its tests share,
and runs everything from a temporary folder, so only the installed package and its
package data can answer. It needs PyPI (the build backend and the dependencies);
``-m 'not install'`` leaves it out.
"""

import json
import os
import shlex
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import attrs
import pytest

from playout import load_catalog
from playout.drivers.cli import main
from tests.docs_support import documented_for, replaced, write_examples_of_testing_md
from tests.serve_support import Server
from tests.support import ROOT

pytestmark = pytest.mark.install

TESTING_EXTRA = "tests/test_install.py::test_the_testing_extra_runs_the_examples_of_docs_testing_md"

# Anything that could make the installed package read the checkout instead of itself.
_LEAKS = {
    "GRIMNIR_UPDATE_GOLDEN",
    "GRIMNIR_SIM_CATALOG",
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
}


@attrs.frozen
class Installed:
    venv: Path
    package: Path
    """The installed ``playout`` package's folder, in the venv's site-packages."""
    elsewhere: Path
    """An empty folder outside the checkout to run from."""
    environment: dict[str, str]

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=self.elsewhere,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )


def _run(*command: str | Path) -> None:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the sdist and the wheel built from it."""
    folder = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", folder, ROOT)
    return folder


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    (wheel,) = dist.glob("grimnir_sim-*.whl")
    venv = tmp_path_factory.mktemp("venv")
    # No pip inside the venv: this interpreter's pip installs into it (--python), which
    # saves bootstrapping one; what lands in site-packages is the same.
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    # docs/testing.md's install, with the wheel for the path to a checkout and --python for the venv.
    (install,) = documented_for(TESTING_EXTRA)
    words = shlex.split(replaced(install.text, ("/path/to/grimnir-sim", str(wheel))), comments=True)
    assert words[:4] == ["python3", "-m", "pip", "install"], install
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", *words[4:])
    environment = {name: value for name, value in os.environ.items() if name not in _LEAKS}
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    probe = subprocess.run(
        [venv / "bin" / "python", "-c", "import playout; print(playout.__file__)"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return Installed(venv, Path(probe.stdout.strip()).parent, elsewhere, environment)


def test_neither_archive_ships_the_vendored_agpl_files(dist: Path) -> None:
    """tests/real_dashboard/vendor/ holds the real server's dashboard script and test harness
    (AGPL-3.0-or-later) for tests/test_real_dashboard.py: the sdist has that test, not them."""
    (sdist,) = dist.glob("grimnir_sim-*.tar.gz")
    (wheel,) = dist.glob("grimnir_sim-*.whl")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    with zipfile.ZipFile(wheel) as archive:
        names += archive.namelist()
    assert any(name.endswith("/tests/real_dashboard/run.mjs") for name in names)
    assert [name for name in names if "/real_dashboard/vendor/" in name] == []


def test_the_installed_package_lists_its_own_scenarios(installed: Installed) -> None:
    assert installed.package.is_relative_to(installed.venv)
    listing = installed.run("grimnir-sim", "scenarios").stdout.splitlines()
    shipped = load_catalog(ROOT / "scenarios.toml")
    assert [line[2:].split()[0] for line in listing[: len(shipped.entries)]] == list(shipped.entries)
    assert listing[-1] == f"* default ({installed.package / 'shipped' / 'scenarios.toml'})"


def test_run_default_gives_the_checkouts_log(
    installed: Installed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = installed.run("grimnir-sim", "run", "default", "--until", "1h").stdout
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRIMNIR_SIM_CATALOG", raising=False)
    assert main(["run", "default", "--until", "1h"]) == 0
    assert log == capsys.readouterr().out
    assert json.loads(log.splitlines()[0])["type"] == "schedule_update"


def test_check_a_shipped_name_and_an_unknown_one(installed: Installed) -> None:
    result = installed.run("grimnir-sim", "check", "webstream-failover", "dj-takover", check=False)
    assert result.returncode == 2
    shipped_file = installed.package / "shipped" / "scenarios" / "webstream-failover.toml"
    assert result.stdout.startswith(f"ok: {shipped_file} (webstream-failover: ")
    known = ", ".join(sorted(load_catalog(ROOT / "scenarios.toml").entries))
    assert result.stderr == f"no scenario named 'dj-takover'; known: {known} (did you mean 'dj-takeover'?)\n"


def test_serve_answers_health_and_the_dashboard_and_stops_on_sigterm(installed: Installed) -> None:
    served = Server(
        "dj-takeover",
        command=[str(installed.venv / "bin" / "grimnir-sim")],
        cwd=installed.elsewhere,
        environment=installed.environment,
    )
    try:
        assert served.banner[0].startswith("grimnir-sim: serving 'dj-takeover' ")
        health = served.http.get("/api/v1/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        page = served.http.get("/")
        assert page.status_code == 200
        assert "dashboard/dashboard.js" in page.text
        assert served.http.get("/dashboard/dashboard.js").status_code == 200
    finally:
        assert served.stop() == 0


def test_the_pytest_plugin_runs_a_shipped_scenario(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\ntrio_mode = true\n")
    (tmp_path / "test_station.py").write_text(
        "import pytest\n"
        "\n"
        "\n"
        "async def test_takeover(grimnir):\n"
        '    station = await grimnir.start("dj-takeover")\n'
        '    await station.expect(["dj_connect", "live.handover"], within="10m")\n'
        '    assert station.now == "2026-01-19T10:05:00Z"\n'
        "\n"
        "\n"
        "async def test_unknown_name(grimnir):\n"
        "    with pytest.raises(LookupError, match=r\"^no scenario named 'dj-takover'; known: \"):\n"
        '        await grimnir.start("dj-takover")\n'
    )
    result = subprocess.run(
        [installed.venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=installed.environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_testing_extra_runs_the_examples_of_docs_testing_md(installed: Installed, tmp_path: Path) -> None:
    """The examples as a project of their own, run by the venv's pytest as the docs say (python3 -m
    pytest, which tests/test_docs.py also runs in this environment)."""
    examples = write_examples_of_testing_md(tmp_path)
    (run,) = documented_for("tests/test_docs.py::test_the_examples_of_docs_testing_md_pass_and_fail_as_shown")
    path = f"{installed.venv / 'bin'}{os.pathsep}{os.environ['PATH']}"  # python3 is the venv's
    runs = (("records the golden log", {"GRIMNIR_UPDATE_GOLDEN": "1"}), ("compares with it", {}))
    for attempt, update in runs:  # recorded once with the update flag, as the docs say, then compared
        result = subprocess.run(
            ["bash", "-c", run.text],
            cwd=tmp_path,
            env={**installed.environment, "PATH": path, **update},
            capture_output=True,
            text=True,
            timeout=300,
        )
        examples.check(result, attempt)
