"""``serve --reload``: a scenario file edited while served (server/reload.py), in virtual time."""

import logging
import os
import subprocess
import sys

import trio

from playout import load_scenario
from server.reload import POLL_SECONDS
from tests.serve_support import Server
from tests.server_support import served
from tests.support import ROOT
from tests.test_server_reset import messages_within


def _edit(path, text: str) -> None:
    path.write_text(text)
    stamp = path.stat().st_mtime_ns + 1_000_000_000  # a second later, whatever the file system's grain
    os.utime(path, ns=(stamp, stamp))


async def test_a_valid_change_restarts_the_station_and_an_invalid_one_keeps_it(
    autojump_clock, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="grimnir_sim.reload")
    original = (ROOT / "scenarios" / "dj-takeover.toml").read_text()
    path = tmp_path / "station.toml"
    path.write_text(original)
    async with (
        served(load_scenario(path), manual_clock=True, reload_from=path) as station,
        station.events("snapshot=true") as ws,
    ):
        await messages_within(ws)
        await station.post("/api/v1/sim/advance", {"by": "6m"})
        await messages_within(ws)

        renamed = original.replace('"DJ Mike"', '"DJ Michael"')
        assert renamed != original
        _edit(path, renamed)
        await trio.sleep(POLL_SECONDS * 2)
        assert [r.getMessage() for r in caplog.records] == [
            f"{path} reloaded: the station starts over at 2026-01-19T10:00:00Z"
        ]
        assert station.service.scenario.djs["mike"].username == "DJ Michael"
        _, state = await station.get("/api/v1/sim/state")
        assert state["clock"]["station_time"] == "2026-01-19T10:00:00Z"
        assert [m["type"] for m in await messages_within(ws)] == ["now_playing"]  # still connected
        caplog.clear()

        reloaded = station.service.scenario
        _edit(
            path, renamed.replace('at = "+5m"', 'at = "soon"').replace("[scenario]", "[scenario]\nbogus = 1")
        )
        await trio.sleep(POLL_SECONDS * 2)
        lines = [r.getMessage() for r in caplog.records]
        assert lines[0] == f"{path} changed but does not load; the station runs on unchanged:"
        assert (
            len(lines) >= 3
            and any("bogus" in line for line in lines)
            and any("soon" in line for line in lines)
        )
        assert station.service.scenario is reloaded
        status, body = await station.post("/api/v1/sim/advance", {"by": "6m"})
        assert status == 200 and "dj_connect" in [m["type"] for m in body["events"]]


async def test_a_touch_changes_nothing(autojump_clock, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="grimnir_sim.reload")
    path = tmp_path / "station.toml"
    path.write_text((ROOT / "scenarios" / "dj-takeover.toml").read_text())
    async with served(load_scenario(path), manual_clock=True, reload_from=path) as station:
        await station.post("/api/v1/sim/advance", {"by": "6m"})
        running = station.service.scenario
        _edit(path, path.read_text())  # the modification time moves, the bytes do not
        await trio.sleep(POLL_SECONDS * 4)
        assert caplog.records == []
        assert station.service.scenario is running
        _, state = await station.get("/api/v1/sim/state")
        assert state["clock"]["station_time"] == "2026-01-19T10:06:00Z"  # not reset


async def test_a_file_gone_and_back_is_logged_once_each_way(autojump_clock, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="grimnir_sim.reload")
    original = (ROOT / "scenarios" / "dj-takeover.toml").read_text()
    path = tmp_path / "station.toml"
    path.write_text(original)
    async with served(load_scenario(path), manual_clock=True, reload_from=path) as station:
        await station.post("/api/v1/sim/advance", {"by": "6m"})
        running = station.service.scenario
        path.rename(tmp_path / "station.toml~")
        await trio.sleep(POLL_SECONDS * 10)
        assert [r.getMessage() for r in caplog.records] == [
            f"{path} is gone (deleted or renamed); the station runs on unchanged"
        ]
        status, _ = await station.post("/api/v1/sim/advance", {"by": "1m"})
        assert status == 200 and station.service.scenario is running
        caplog.clear()

        (tmp_path / "station.toml~").rename(path)  # back as it was: nothing to reload
        await trio.sleep(POLL_SECONDS * 4)
        assert [r.getMessage() for r in caplog.records] == [f"{path} is back"]
        assert station.service.scenario is running
        caplog.clear()

        path.unlink()
        await trio.sleep(POLL_SECONDS * 2)
        path.write_text(original.replace('"DJ Mike"', '"DJ Michael"'))  # back with another content
        await trio.sleep(POLL_SECONDS * 2)
        assert [r.getMessage() for r in caplog.records] == [
            f"{path} is gone (deleted or renamed); the station runs on unchanged",
            f"{path} is back",
            f"{path} reloaded: the station starts over at 2026-01-19T10:00:00Z",
        ]
        assert station.service.scenario.djs["mike"].username == "DJ Michael"


def test_serve_reload_watches_the_file_it_was_given(tmp_path):
    """The command's wiring, end to end: ``serve FILE --reload`` on a real socket, its log on stderr."""
    original = (ROOT / "scenarios" / "dj-takeover.toml").read_text()
    path = tmp_path / "station.toml"
    path.write_text(original)
    server = Server(str(path), "--reload", "--manual-clock", "--clock", "scenario")
    try:
        server.http.post("/api/v1/sim/advance", json={"by": "6m"})
        _edit(path, original.replace('"DJ Mike"', '"DJ Michael"'))
        assert server.process.stderr.readline().rstrip() == (
            f"grimnir-sim: {path} reloaded: the station starts over at 2026-01-19T10:00:00Z"
        )
        state = server.http.get("/api/v1/sim/state").json()
        assert state["clock"]["station_time"] == "2026-01-19T10:00:00Z"
        _edit(path, original.replace("[scenario]", "[scenario]\nbogus = 1"))
        assert "does not load" in server.process.stderr.readline()
        assert "bogus" in server.process.stderr.readline()
    finally:
        assert server.stop() == 0


def test_reload_needs_a_station():
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", "--replay", "missing.jsonl", "--reload"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--reload watches a station's scenario file" in result.stderr
