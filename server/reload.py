"""``serve --reload``: the scenario file watched; a valid change restarts the station as a reset does.

Scenarios include no other files (``scenarios.toml`` only names them), so the one file
is watched. It is polled on trio's clock (its size and modification time, every
:data:`POLL_SECONDS`): one ``stat`` a poll costs nothing, and a test runs it in
virtual time. A change that loads is handed to :meth:`StationService.reset` (clients
stay connected; those that asked for the state on connect get the fresh one) and
logged in one line; one that does not load is logged with every problem the loader
found, and the running station goes on.
"""

import logging
import os
from pathlib import Path

import trio

from playout import InputRejected, ScenarioError, load_scenario

from .service import StationService

log = logging.getLogger("grimnir_sim.reload")
POLL_SECONDS = 0.5


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None  # (an editor may replace the file: absent for a moment)
    return status.st_mtime_ns, status.st_size


async def watch_scenario(service: StationService, path: Path) -> None:
    """Reload ``path`` into ``service`` whenever it changes, until cancelled."""
    seen = _stamp(path)
    while True:
        await trio.sleep(POLL_SECONDS)
        stamp = _stamp(path)
        if stamp is None or stamp == seen:
            continue
        seen = stamp
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            log.warning("%s changed but does not load; the station runs on unchanged:", path)
            for problem in exc.problems:
                log.warning("  %s", problem)
            continue
        except OSError as exc:
            log.warning("%s changed but cannot be read (%s); the station runs on unchanged", path, exc)
            continue
        try:
            snapshot = await service.reset(scenario)
        except InputRejected as exc:
            log.warning("%s: %s", path, exc.detail)
            continue
        log.warning("%s reloaded: the station starts over at %s", path, snapshot.station_time)
