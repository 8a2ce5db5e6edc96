"""A generated signing key, kept where ``grimnir-sim token`` finds it while its server runs.

``serve`` without ``$GRIMNIR_JWT_SIGNING_KEY`` makes a key for the run. It writes
it to one file per port in the per-user state directory
(``$XDG_STATE_HOME/grimnir-sim``, by default ``~/.local/state/grimnir-sim``;
the directory 0700, the file 0600, written under a temporary name and renamed
into place) and holds an exclusive ``flock`` on that file for as long as it
serves. ``token`` reads the file of the port it is given, or the newest of the
servers still running; a file nobody holds a lock on was left by a server that
died without cleaning up, and is ignored (a process id could have been reused,
a lock cannot outlive its process). A clean shutdown removes the file.

A key given through the environment is never written anywhere.
"""

import fcntl
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .auth import SigningKey

APP_DIRECTORY = "grimnir-sim"
FILE_PREFIX = "serve-"
FILE_SUFFIX = ".json"


def state_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_STATE_HOME/grimnir-sim``, or ``~/.local/state/grimnir-sim`` when it is unset."""
    base = environ.get("XDG_STATE_HOME", "")
    # The XDG Base Directory spec: a relative path is invalid and is to be ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / APP_DIRECTORY


def key_path(directory: Path, port: int) -> Path:
    return directory / f"{FILE_PREFIX}{port}{FILE_SUFFIX}"


class KeyFileError(Exception):
    """The state directory cannot hold the key safely (it is not ours, or not writable)."""


@attrs.define
class HeldKey:
    """The key file of a running server, locked until :meth:`release`."""

    path: Path
    port: int
    _descriptor: int

    def release(self) -> None:
        """Remove the file (unless another server on the same port has replaced it) and unlock it."""
        try:
            if os.stat(self.path).st_ino == os.fstat(self._descriptor).st_ino:
                self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(self._descriptor)


@attrs.frozen
class ServedKey:
    """What ``token`` found: the key of the server on ``port``, reachable at ``url``."""

    port: int
    url: str
    pid: int
    key: SigningKey


def keep(directory: Path, *, port: int, url: str, key: SigningKey) -> HeldKey:
    """Write ``key`` for the server on ``port``, locked for as long as this process holds it."""
    _private_directory(directory)
    record = {"port": port, "url": url, "pid": os.getpid(), "key": key.secret}
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".serve-", suffix=".tmp")  # mode 0600
    try:
        os.write(descriptor, json.dumps(record).encode())
        os.fsync(descriptor)
        # Locked before it appears under its name: a reader never sees it unlocked while we live.
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(temporary, key_path(directory, port))
    except BaseException:
        os.close(descriptor)
        Path(temporary).unlink(missing_ok=True)
        raise
    return HeldKey(key_path(directory, port), port, descriptor)


def find(directory: Path, port: int | None = None) -> tuple[ServedKey | None, int]:
    """The key of the running server on ``port`` (or of the newest one), and how many are running."""
    paths = (
        [key_path(directory, port)] if port is not None else directory.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")
    )
    running = [found for found in map(_read_if_running, paths) if found is not None]
    if not running:
        return None, 0
    newest = max(running, key=lambda found: found[1])
    return newest[0], len(running)


def _read_if_running(path: Path) -> tuple[ServedKey, int] | None:
    """The file's key and its modification time, if a running server holds its lock."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: its server is running
        else:
            return None  # nobody holds it: left behind by a server that was killed
        with os.fdopen(os.dup(descriptor), "rb") as file:
            record: dict[str, Any] = json.loads(file.read())
        found = ServedKey(
            port=int(record["port"]),
            url=str(record["url"]),
            pid=int(record["pid"]),
            key=SigningKey(str(record["key"]), generated=True),
        )
        return found, os.fstat(descriptor).st_mtime_ns
    except (ValueError, KeyError, TypeError):
        return None  # not a file of ours
    finally:
        os.close(descriptor)


def _private_directory(directory: Path) -> None:
    """Create ``directory`` 0700, or make an existing one of ours 0700; refuse one that is not ours."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = directory.stat()
    if status.st_uid != os.getuid():
        raise KeyFileError(f"{directory} belongs to another user")
    if status.st_mode & 0o077:
        directory.chmod(0o700)
