"""Real webstream probes against a real Icecast fed by ffmpeg: failover, then recovery.

Real processes, so real time (about 15 s each). .ci/run installs Debian's icecast2 and ffmpeg.
The last test runs docs/live-sources.md's recipe as written.
"""

import json
import os
import shlex
import shutil
import socket
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
from websockets.sync.client import connect

from playout import StationRunner, parse_scenario
from tests.docs_support import background, bash, documented, one, replaced, stop, with_this_python
from tests.serve_support import Server
from tests.support import ROOT, ffmpeg_tone

SOURCE_PASSWORD = "feed-me-0123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def icecast_config(folder, port: int) -> str:
    # As root, Icecast insists on dropping privileges to its Debian user.
    owner = (
        "<changeowner><user>icecast2</user><group>icecast</group></changeowner>" if os.geteuid() == 0 else ""
    )
    return f"""<icecast>
  <limits><sources>4</sources><source-timeout>3</source-timeout><burst-size>16384</burst-size></limits>
  <authentication><source-password>{SOURCE_PASSWORD}</source-password>
    <admin-user>admin</admin-user><admin-password>{SOURCE_PASSWORD}</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>{port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>{folder}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
"""


def feed(port: int, mount: str, frequency: int) -> list[str]:
    return ffmpeg_tone(f"icecast://source:{SOURCE_PASSWORD}@127.0.0.1:{port}/{mount}", frequency=frequency)


async def wait_for_mount(url: str, up: bool) -> None:
    async with httpx.AsyncClient() as client:
        with trio.fail_after(15):
            while True:
                try:
                    async with client.stream("GET", url, timeout=2) as response:
                        if (response.status_code == 200) == up:
                            return
                except httpx.HTTPError:
                    pass
                await trio.sleep(0.2)


SCENARIO = """
[scenario]
name = "real-icecast"
start = "2026-01-19T10:00:00Z"
duration = "1d"

[[stations]]
id = "main"
name = "Relay FM"
health_interval = "0s"

[[library.tracks]]
id = "one"
title = "One"
duration = "3m"

[[webstreams]]
id = "relay"
name = "Icecast Relay"
urls = ["{primary}", "{backup}"]
probe = "http"
interval = "1s"
failure_threshold = 2
grace = "1s"
recovery_checks = 2
sample_window = "2s"
min_bytes = 4096

[[schedule]]
days = "daily"
start = "00:00"
duration = "24h"
webstream = "relay"
"""


@pytest.fixture
def icecast_dir():
    # Icecast writes its logs after dropping to its own user, who cannot reach pytest's tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="grimnir-icecast-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_probes_fail_over_and_recover_against_a_real_icecast(icecast_dir):
    tmp_path = icecast_dir
    icecast = shutil.which("icecast2")
    assert icecast and shutil.which("ffmpeg"), ".ci/run installs Debian's icecast2 and ffmpeg"
    port = free_port()
    (tmp_path / "icecast.xml").write_text(icecast_config(tmp_path, port))
    primary, backup = (f"http://127.0.0.1:{port}/{mount}" for mount in ("primary", "backup"))
    async with trio.open_nursery() as nursery:
        await nursery.start(
            partial(trio.run_process, [icecast, "-c", str(tmp_path / "icecast.xml")], check=False)
        )
        primary_feed = await nursery.start(partial(trio.run_process, feed(port, "primary", 440), check=False))
        await nursery.start(partial(trio.run_process, feed(port, "backup", 660), check=False))
        await wait_for_mount(primary, up=True)
        await wait_for_mount(backup, up=True)

        scenario = parse_scenario(SCENARIO.format(primary=primary, backup=backup), "real-icecast.toml")
        published = []
        runner = StationRunner(scenario, published.extend)
        await nursery.start(runner.run)

        def changes():
            return [e.event for e in published if e.event.TYPE.startswith("webstream.")]

        await trio.sleep(3)  # a few passing checks of both URLs
        assert changes() == []
        primary_feed.kill()  # the primary's encoder dies; Icecast drops the mount
        with trio.fail_after(15):
            while not changes():
                await trio.sleep(0.1)
        (failover,) = changes()
        assert (failover.TYPE, failover.failed_url, failover.failover_url) == (
            "webstream.failover",
            primary,
            backup,
        )
        assert failover.reason == "http_error"  # Icecast answers 404 for a mount without a source
        await nursery.start(partial(trio.run_process, feed(port, "primary", 440), check=False))
        with trio.fail_after(20):
            while len(changes()) < 2:
                await trio.sleep(0.1)
        assert [c.TYPE for c in changes()] == ["webstream.failover", "webstream.recovered"]
        assert changes()[1].recovered_url == primary
        playing = [e.event for e in published if e.event.TYPE == "now_playing"]
        assert [p.url for p in playing] == [primary, backup, primary]
        assert [p.health_status for p in playing] == ["healthy", "degraded", "healthy"]
        nursery.cancel_scope.cancel()


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _mount_serves(url: str) -> bool:
    try:
        with httpx.stream("GET", url, timeout=2) as response:
            return response.status_code == 200
    except httpx.HTTPError:
        return False


def _until(condition, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.1)


@pytest.mark.parametrize("user", ["this user", "nobody"])
def test_the_documented_icecast_recipe_fails_over_and_recovers(request, user, icecast_dir):
    """docs/live-sources.md's lines, on a free port instead of 8100: as whoever runs the suite (root
    in CI, where Icecast must drop to its own user) and, as root, the shell's lines as nobody."""
    if user == "nobody" and os.geteuid() != 0:
        pytest.skip("running the recipe as another user needs root; 'this user' is not root here")
    assert shutil.which("icecast2") and shutil.which("ffmpeg"), ".ci/run installs icecast2 and ffmpeg"
    commands = documented(request)
    port = free_port()
    local = ("127.0.0.1:8100", f"127.0.0.1:{port}")
    # setpriv (util-linux) runs the shell's lines as nobody; the folder is writable by anyone.
    as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if user == "nobody" else []
    configuration = one(commands, "cat > icecast.xml").text
    bash(replaced(configuration, ("<port>8100</port>", f"<port>{port}</port>")), icecast_dir, prefix=as_user)

    def start(command: str):  # a documented `command &`
        return background(command.removesuffix(" &"), icecast_dir, prefix=as_user)

    started = []
    try:
        started.append(start(one(commands, "icecast2").text))
        bash(one(commands, "sleep").text, icecast_dir)
        assert _port_open(port), (icecast_dir / "icecast.log").read_text()
        primary_feed, backup_feed = (
            replaced(one(commands, f"ffmpeg -nostdin -re -f lavfi -i sine=frequency={tone}").text, local)
            for tone in (440, 660)
        )
        primary = start(primary_feed)
        started += [primary, start(backup_feed)]
        primary_url, backup_url = (f"http://127.0.0.1:{port}/{mount}" for mount in ("primary", "backup"))
        _until(lambda: _mount_serves(primary_url) and _mount_serves(backup_url), "mounts")

        # The scenario as shipped checks 127.0.0.1:8100; a catalog of its own in the server's
        # folder (which wins over the shipped one) holds a copy that checks this port.
        shipped = (ROOT / "scenarios" / "live-harbor.toml").read_text()
        (icecast_dir / "live-harbor.toml").write_text(replaced(shipped, local))
        (icecast_dir / "scenarios.toml").write_text(
            '[catalog]\ndefault = "live-harbor"\n\n'
            '[scenarios.live-harbor]\nfile = "live-harbor.toml"\ndescription = "checks this Icecast"\n'
        )
        serve_command = one(commands, "grimnir-sim serve")
        environment = {name: value for name, value in os.environ.items() if name != "GRIMNIR_SIM_CATALOG"}
        server = Server(
            *shlex.split(serve_command.text, comments=True)[2:],
            "--harbor-port", "0",
            command=["grimnir-sim"], cwd=icecast_dir, environment=with_this_python(environment),
        )  # fmt: skip
        try:
            types = "webstream.failover,webstream.recovered"
            with connect(f"{server.ws}?types={types}&token={server.token}") as client:
                stop(primary)  # the primary's encoder stops; Icecast drops the mount
                failover = next_event(client)
                assert failover["type"] == "webstream.failover"
                assert (failover["payload"]["failed_url"], failover["payload"]["failover_url"]) == (
                    primary_url,
                    backup_url,
                )
                started.append(start(primary_feed))  # and starts again
                recovered = next_event(client)
                assert recovered["type"] == "webstream.recovered"
                assert recovered["payload"]["recovered_url"] == primary_url
        finally:
            assert server.stop() == 0
    finally:
        for process in reversed(started):
            stop(process)


def next_event(client) -> dict:
    """The next message other than the heartbeat, within 20 s."""
    deadline = time.monotonic() + 20
    while True:
        message = json.loads(client.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] != "ping":
            return message
