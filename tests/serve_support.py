"""`grimnir-sim serve` as a subprocess on a free port, read from its banner."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.support import ROOT

KEY = "e2e-signing-key-0123456789abcdef0123"


class Server:
    def __init__(
        self,
        *args: str,
        key: str | None = KEY,
        state_home: Path | None = None,
        command: Sequence[str] = (sys.executable, "-m", "playout"),
        cwd: Path = ROOT,
        environment: Mapping[str, str] = os.environ,
    ) -> None:
        """``key=None``: serve generates one; ``state_home``: its $XDG_STATE_HOME, where it keeps it;
        ``command``, ``cwd`` and ``environment``: how and where to run it (an installed copy, say)."""
        env = {**environment, "PYTHONUNBUFFERED": "1"}
        env.pop("GRIMNIR_JWT_SIGNING_KEY", None)
        if key is not None:
            env["GRIMNIR_JWT_SIGNING_KEY"] = key
        if state_home is not None:
            env["XDG_STATE_HOME"] = str(state_home)
        self.process = subprocess.Popen(
            [*command, "serve", *args, "--host", "127.0.0.1", "--port", "0"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.banner = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"serve exited early: {self.process.stderr.read()}")
            self.banner.append(line.rstrip())
            if line.strip().startswith("stop:"):
                break
        self.url = next(line.split()[1] for line in self.banner if line.strip().startswith("REST:"))
        self.url = self.url.removesuffix("/api/v1/health")
        self.ws = self.url.replace("http://", "ws://") + "/api/v1/events"
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))
        """Where it listens, for raw sockets."""
        self.token = next(line.split()[1] for line in self.banner if line.strip().startswith("token:"))
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def stop(self) -> int:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)
