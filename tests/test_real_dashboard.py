"""The real Grimnir dashboard script keeps its header and badges current against ``serve``, in both profiles.

The script is the real server's ``internal/web/static/js/app.js`` (friendsincode/grimnir_radio at
4b8b2c5f, vendored unmodified under tests/real_dashboard/vendor/, AGPL-3.0-or-later, with the
README there naming the source); tests/real_dashboard/run.mjs runs it in node:vm through the
repository's own harness (``test/js/harness.mjs``, ``loadPlayer``) with a real WebSocket (npm
``ws``, which .ci/run installs under .ci/.cache) and prints what the page shows each time it
changes. ``grimnir-sim serve`` runs tests/real_dashboard/station.toml on a manual clock, entered at
its start on the wall clock (timestamps are now, as on a real server), and the test moves it on.

What app.js does (app.js:193-256, 298-377, 411-422):

* On ``DOMContentLoaded`` it opens ``/api/v1/events?types=schedule_update,now_playing,health``
  with ``window.GRIMNIR_WS_TOKEN`` and fetches ``GET /api/v1/analytics/now-playing?station_id=``
  for the selected station; every ``now_playing`` message (its payload unread) fetches it again.
  The header (``#nowPlaying``) is ``"<artist> - <title>"`` of that answer, or ``"Live DJ"`` when
  ``is_live_dj`` is true; the on-air badge (``#onAirStatus``) is ``ON AIR`` while ``status`` is
  ``"playing"``. Both profiles answer that endpoint with the fields it reads (``artist``,
  ``title``, ``is_live_dj``, ``mount_id``, ``status``; G:internal/api/api.go:1409-1499), so the
  header and badge read the same in both.
* Every ``health`` message whose ``mount_id`` is the badge's sets the mount health badge
  (``[data-health-mount]``) to ``Healthy`` (``badge bg-success``) if the payload's ``healthy``
  is truthy, else ``Error`` (``badge bg-danger``). Neither wire has a ``healthy`` field: the
  documented profile's status beat says ``status: "ok"`` and the grimnir profile's per-mount
  snapshot ``status: "playing"``, as the real server's (G:internal/playout/director.go:4232-4247)
  does, which never sends ``healthy`` either. So against the real wire as against ours the badge
  reads ``Error`` from the first health message for its mount on: that is what the real dashboard
  shows, and what is asserted here (it stays at the page's own placeholder until then).

The checks wait a few seconds at most, well under app.js's 15 s poll, so the page must follow the
station's events; a second page whose socket delivers nothing to app.js fails them.
"""

import hashlib
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import Server
from tests.support import ROOT

HERE = ROOT / "tests" / "real_dashboard"
NPM_PREFIX = ROOT / ".ci" / ".cache"
"""Where .ci/run installs the npm packages (ws, in its node_modules)."""
APP_JS = HERE / "vendor" / "internal" / "web" / "static" / "js" / "app.js"

ON_AIR = {"class": "badge on-air", "text": "ON AIR"}
ERROR = {"class": "badge bg-danger", "text": "Error"}
PLACEHOLDER = {"class": "badge bg-secondary", "text": "Unknown"}
"""The mount badge as run.mjs's page has it before app.js touches it."""

WAIT = 5.0
"""Seconds a change may take to reach the page: a message, a fetch, a render; the poll is 15 s."""
START = 20.0
"""Seconds for the first page: Node.js's start, the socket's opening and the first fetch."""


class Page:
    """run.mjs running app.js against a served station; what its page showed, in order."""

    def __init__(self, server: Server, errors: Path, *, deaf: bool = False) -> None:
        node = shutil.which("node")
        assert node and (NPM_PREFIX / "node_modules" / "ws").is_dir() and APP_JS.is_file(), (
            "run .ci/run first: it installs Node.js (Debian's npm) and, with npm, ws under .ci/.cache; "
            f"app.js must be vendored at {APP_JS}"
        )
        station = server.http.get("/api/v1/sim/state").json()["stations"][0]
        self._errors = errors
        command = [
            node,
            HERE / "run.mjs",
            *("--base", server.url, "--token", server.token),
            *("--station", station["id"], "--mount", station["mounts"][0]["id"], "--modules", NPM_PREFIX),
            *(["--deaf"] if deaf else []),
        ]
        with errors.open("w") as stderr:
            self.process = subprocess.Popen(
                [str(part) for part in command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
            )
        self.lines: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(json.loads(raw))
                self._changed.notify_all()

    def pages(self) -> list[dict[str, Any]]:
        with self._changed:
            return [line for line in self.lines if line["kind"] == "page"]

    def messages(self, kind: str) -> int:
        with self._changed:
            return sum(line["kind"] == "message" and line["type"] == kind for line in self.lines)

    def shows(
        self, header: str, on_air: dict[str, str], mount: dict[str, str], *, within: float = WAIT
    ) -> None:
        """Wait until the page shows this header and these badges; fail with what it did show."""
        wanted = {"kind": "page", "header": header, "on_air": on_air, "mount": mount}
        deadline = time.monotonic() + within
        with self._changed:
            while not (self.lines and self._last_page() == wanted):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    seen = "\n".join(json.dumps(line) for line in self.lines)
                    raise AssertionError(
                        f"the page did not show {wanted} within {within:g} s; run.mjs printed:\n{seen}\n"
                        f"and on stderr:\n{self._errors.read_text()}"
                    )
                self._changed.wait(left)

    def _last_page(self) -> dict[str, Any] | None:
        return next((line for line in reversed(self.lines) if line["kind"] == "page"), None)

    def close(self) -> None:
        self.process.stdin.close()
        try:
            assert self.process.wait(timeout=10) == 0, self._errors.read_text()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(timeout=10)


@contextmanager
def served(profile: str) -> Iterator[Server]:
    # One health message a minute of station time in both profiles (the scenario's beat; the
    # grimnir snapshot's tick), so that the manual clock's jumps send a handful, not hundreds.
    server = Server(
        str(HERE / "station.toml"),
        *("--profile", profile, "--health-tick", "1m", "--manual-clock", "--from", "start"),
    )
    try:
        yield server
    finally:
        assert server.stop() == 0


@contextmanager
def page_of(server: Server, errors: Path, *, deaf: bool = False) -> Iterator[Page]:
    page = Page(server, errors, deaf=deaf)
    try:
        yield page
    finally:
        page.close()


def advance(server: Server, by: str) -> None:
    response = server.http.post("/api/v1/sim/advance", json={"by": by})
    assert response.status_code == 200, response.text


def dj(server: Server, change: str) -> None:
    response = server.http.post(f"/api/v1/sim/djs/{change}", json={"dj": "mike"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("profile", ["documented", "grimnir"])
def test_the_header_and_badges_follow_automation_a_dj_and_automation_again(profile: str, tmp_path: Path):
    """A second page, whose socket hands app.js none of its messages, rides along: it must fail the
    same checks (its header stays on the first track, its mount badge on the placeholder), which
    shows that they pass on the station's events, not on app.js's 15 s poll."""
    with (
        served(profile) as server,
        page_of(server, tmp_path / "page.stderr") as page,
        page_of(server, tmp_path / "deaf.stderr", deaf=True) as deaf,
    ):
        # The first track, from the fetch at start-up; no health message yet.
        for each in (page, deaf):
            each.shows("Ada Larsen - First Light", ON_AIR, PLACEHOLDER, within=START)
        advance(server, "1m")  # the first health message for the mount
        page.shows("Ada Larsen - First Light", ON_AIR, ERROR)
        advance(server, "2m")  # the playlist's second track
        page.shows("The Paper Boats - Second Wind", ON_AIR, ERROR)
        dj(server, "connect")
        page.shows("Live DJ", ON_AIR, ERROR)
        advance(server, "1m")
        dj(server, "disconnect")  # automation takes the air back with the playlist's next track
        page.shows("Signal Club - Third Rail", ON_AIR, ERROR)

        with pytest.raises(AssertionError, match="did not show"):
            deaf.shows("Signal Club - Third Rail", ON_AIR, ERROR, within=1.0)
        first = {"kind": "page", "header": "Ada Larsen - First Light", "on_air": ON_AIR, "mount": PLACEHOLDER}
        assert deaf.pages()[1:] == [first]
        assert page.messages("now_playing") == deaf.messages("now_playing") == 3


def test_the_vendored_files_are_the_real_ones_unmodified():
    """Each file of tests/real_dashboard/vendor/ has the git blob id its README gives (the real
    repository's at 4b8b2c5f), and the README lists every file there but itself."""
    vendor = HERE / "vendor"
    listed = dict(
        re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{40})` \|", (vendor / "README.md").read_text(), re.M)
    )
    present = {p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file()} - {"README.md"}
    assert set(listed) == present
    for path, blob in listed.items():
        content = (vendor / path).read_bytes()
        assert hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest() == blob, path
