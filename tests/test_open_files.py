"""The server raises its open-file limit and serves no more clients than fit under it."""

import sys
from contextlib import ExitStack

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from server.fdlimit import RESERVED
from tests.serve_support import Server

HARD = 700
FITS = HARD - RESERVED


def soft_open_files(pid: int) -> int:
    with open(f"/proc/{pid}/limits") as limits:
        line = next(line for line in limits if line.startswith("Max open files"))
    return int(line.split()[3])


def test_the_soft_limit_goes_up_and_the_next_client_is_refused_before_emfile():
    server = Server(
        "dj-takeover",
        "--manual-clock",
        "--per-ip-per-minute",
        "10000",
        command=("prlimit", f"--nofile=600:{HARD}", sys.executable, "-m", "playout"),
    )
    url = f"{server.ws}?types=dj_connect&token={server.token}"
    try:
        assert soft_open_files(server.process.pid) == HARD
        with ExitStack() as clients:
            for _ in range(FITS):
                clients.enter_context(connect(url))
            with pytest.raises(InvalidStatus) as refused:
                clients.enter_context(connect(url))
            assert refused.value.response.status_code == 503
            assert server.http.get("/api/v1/health").json() == {"status": "ok"}  # the port still serves
    finally:
        assert server.stop() == 0
    assert f"serving at most {FITS:,} WebSocket clients, not 10,000" in server.process.stderr.read()
