"""`grimnir-sim serve` as a subprocess on a free port, read from its banner."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

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

    def begin_stopping(self, signum: int = signal.SIGTERM) -> None:
        """Signal the server and return once it says it is stopping: its drain window has begun."""
        self.process.send_signal(signum)
        name = signal.Signals(signum).name
        while True:
            line = self.process.stderr.readline()
            assert line, f"serve exited without saying it was stopping (status {self.process.wait()})"
            if line.startswith(f"grimnir-sim: {name}: "):
                return

    def stop(self) -> int:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)


def assert_stopping_refuses_newcomers(
    server: Server, *more: Callable[[], None], signum: int = signal.SIGTERM
) -> None:
    """Signal ``server``; at once, on fresh connections, REST (health too) and an upgrade get 503.

    Each gets ``{"error":"shutting_down"}`` with ``Retry-After`` and is sent as soon as the
    server says it is stopping, all at once (so within the drain window however slow this
    machine is), with ``more`` checks of the caller's.
    """
    clients = [httpx.Client(base_url=server.url, timeout=5) for _ in range(2)]  # no connection yet

    def rest(client: httpx.Client, path: str, headers: dict[str, str]) -> None:
        response = client.get(path, headers=headers)
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.json()["error"] == "shutting_down"
        assert response.headers["Retry-After"] == "5" and response.headers["Connection"] == "close"

    def upgrade() -> None:
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{server.ws}?token={server.token}", open_timeout=5).close()
        assert refused.value.response.status_code == 503
        assert json.loads(refused.value.response.body)["error"] == "shutting_down"
        assert refused.value.response.headers["Retry-After"] == "5"

    checks = [
        partial(rest, clients[0], "/api/v1/health", {}),  # a load balancer stops routing here
        partial(rest, clients[1], "/api/v1/sim/server", {"Authorization": f"Bearer {server.token}"}),
        upgrade,
        *more,
    ]
    try:
        with ThreadPoolExecutor(len(checks)) as pool:
            server.begin_stopping(signum)
            for done in [pool.submit(check) for check in checks]:
                done.result()
    finally:
        for client in clients:
            client.close()
