"""``serve --reload``: the scenario file watched; a valid change restarts the station as a reset does.

Scenarios include no other files (``scenarios.toml`` only names them), so the one file
is watched. It is polled on trio's clock (its size and modification time, every
:data:`POLL_SECONDS`): one ``stat`` a poll costs nothing, and a test runs it in
virtual time. When those move, a hash of the bytes says whether the content did (a
``touch`` changes nothing). A change that loads is handed to :meth:`StationService.reset`
(clients stay connected; those that asked for the state on connect get the fresh one)
and logged in one line; one that does not load is logged with every problem the loader
found, and the running station goes on. A file deleted or renamed away is logged once,
and again once when it is back; the station runs on meanwhile.
"""

import hashlib
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


def _digest(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").digest()
    except OSError:
        return None  # (the loader says why, if it is still so when it reads)


async def watch_scenario(service: StationService, path: Path) -> None:
    """Reload ``path`` into ``service`` whenever its content changes, until cancelled."""
    seen, content = _stamp(path), _digest(path)
    while True:
        await trio.sleep(POLL_SECONDS)
        stamp = _stamp(path)
        if stamp == seen:
            continue
        if stamp is None:
            log.warning("%s is gone (deleted or renamed); the station runs on unchanged", path)
        elif seen is None:
            log.warning("%s is back", path)
        seen = stamp
        if stamp is None:
            continue
        digest = _digest(path)
        if digest is not None and digest == content:
            continue  # touched, or written back as it was: nothing to reload
        content = digest
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
