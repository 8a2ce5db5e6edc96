"""The docs run as written: every command in README.md and docs/*.md is run by a test or by CI.

tests/docs_support.py reads the commands and holds RUN_BY, which names what runs
each one; this module checks that table and runs most of the commands itself:
against `grimnir-sim serve` on a free port (the docs' 127.0.0.1:8000 replaced by
its address, their `…` token by its token), in a temporary folder, or from the
checkout, and compares what they print with what the docs show.
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from datetime import datetime
from typing import Any

import yaml
from websockets.sync.client import ClientConnection, connect

from playout import Playout, inputs, load_catalog
from tests.docs_support import (
    DOCS,
    RUN_BY,
    Command,
    all_commands,
    background,
    bash,
    blocks,
    commands_in,
    documented,
    one,
    replaced,
    shown,
    stop,
    unrun,
    with_this_python,
    write_examples_of_testing_md,
)
from tests.serve_support import Server
from tests.support import ROOT, shipped
from tests.test_typed_clients import NODE_BIN, tsc


def serve_arguments(command: Command) -> list[str]:
    """A documented ``grimnir-sim serve …``'s arguments, for Server (which adds a free port)."""
    words = shlex.split(command.text, comments=True)
    assert words[:2] == ["grimnir-sim", "serve"], command
    return words[2:]


def serve(command: Command, *extra: str, **options: Any) -> Server:
    """Start a documented serve command as written, by name, on a free loopback port."""
    return Server(
        *serve_arguments(command),
        *extra,
        command=["grimnir-sim"],
        environment=with_this_python(os.environ),
        **options,
    )


def address(server: Server) -> tuple[str, str]:
    """The change from the docs' server address to the one under test."""
    return "127.0.0.1:8000", server.url.removeprefix("http://")


def wait_for(client: ClientConnection, type_: str, timeout: float = 15) -> dict[str, Any]:
    """The next message of that type (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(client.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == type_:
            return message


def received(client: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages, heartbeats skipped, each within 10 s."""
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        message = json.loads(client.recv(timeout=10))
        if message["type"] != "ping":
            messages.append(message)
    return messages


def instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


# -- the table ---------------------------------------------------------------------------------


def test_every_documented_command_is_run_by_a_test_or_by_ci():
    commands = all_commands()
    assert {command.doc for command in commands} == {
        "README.md",
        "docs/live-sources.md",
        "docs/performance.md",
        "docs/quickstart.md",
        "docs/record-replay.md",
        "docs/scenarios.md",
        "docs/testing.md",
    }
    assert unrun(commands, RUN_BY) == []


SAMPLE = """# A page

```sh
# a comment line
grimnir-sim serve --port 8000   # a trailing comment
ffmpeg -re \\
  -i x.mp3 out.mp3 &
cat > a.xml <<'EOF'
<a>$HOME</a>
EOF
```

```python
print("not a command")
```

- in a list:

  ```console
  $ grimnir-sim run x
  one line
  $ grimnir-sim run y
  ```
"""


def test_the_harness_reads_each_command_and_reports_one_that_nothing_runs():
    commands = commands_in(SAMPLE, "sample.md")
    assert [(command.line, command.key) for command in commands] == [
        (5, "grimnir-sim serve --port 8000"),
        (6, "ffmpeg -re -i x.mp3 out.mp3 &"),
        (8, "cat > a.xml <<'EOF'"),
        (20, "grimnir-sim run x"),
        (22, "grimnir-sim run y"),
    ]
    assert commands[1].text == "ffmpeg -re \\\n  -i x.mp3 out.mp3 &"
    assert commands[2].text == "cat > a.xml <<'EOF'\n<a>$HOME</a>\nEOF"
    assert (commands[3].output, commands[4].output) == ("one line\n", "")
    runs_them = "tests/test_docs.py::test_console_examples_print_what_the_docs_show"
    table = dict.fromkeys([command.key for command in commands[:4]], runs_them)
    assert unrun(commands, table) == ["sample.md:22: grimnir-sim run y: nothing runs it (add it to RUN_BY)"]
    unrelated = "tests/test_docs.py::test_shown_output_matches_with_ellipses_and_only_then"
    table |= {
        "grimnir-sim run y": "tests/test_docs.py::test_nothing_of_that_name",
        "grimnir-sim run z": runs_them,
        "grimnir-sim serve --port 8000": ".ci/run: grimnir-sim serve --port 8000",
        "ffmpeg -re -i x.mp3 out.mp3 &": unrelated,
    }
    assert unrun(commands, table) == [
        "RUN_BY has 'grimnir-sim run z', which no doc has any more",
        "'grimnir-sim serve --port 8000': .ci/run has no 'grimnir-sim serve --port 8000'",
        f"'ffmpeg -re -i x.mp3 out.mp3 &': {unrelated} does not take its commands from the docs"
        " (documented())",
        "'grimnir-sim run y': no test tests/test_docs.py::test_nothing_of_that_name",
    ]


def test_shown_output_matches_with_ellipses_and_only_then():
    pattern = shown('first\n…\nlast {"id":"c9dd…",…}\n')
    assert pattern.fullmatch('first\nlast {"id":"c9dd5d30","x":1}\n')
    assert pattern.fullmatch('first\ntwo\nthree\nlast {"id":"c9dd5d30","x":1}\n')
    assert not pattern.fullmatch('first\nlast {"id":"e3c8","x":1}\n')
    assert not shown("exact (1)\n").fullmatch("exact (2)\n")


# -- commands run from the checkout --------------------------------------------------------------


def test_console_examples_print_what_the_docs_show(request):
    environment = {name: value for name, value in os.environ.items() if name != "GRIMNIR_SIM_CATALOG"}
    for command in documented(request):
        result = subprocess.run(
            ["bash", "-c", "set -o pipefail\n" + command.text],
            cwd=ROOT,
            env=with_this_python(environment),
            capture_output=True,
            text=True,
            timeout=60,
        )
        printed = result.stdout + result.stderr
        assert command.output is not None
        assert shown(command.output).fullmatch(printed), (
            f"{command}\nshows:\n{command.output}\nprints:\n{printed}"
        )
        assert result.returncode == (2 if result.stderr else 0), command  # an error is one line and status 2


# What differs from one run of `serve` to the next: times, ports, tokens, the key's folder.
_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"), "<time>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"--port \d+"), "--port <port>"),
    (re.compile(r"kept in \S+/grimnir-sim/serve-\d+\.json"), "kept in <state>/grimnir-sim/serve-<port>.json"),
]


def _steady(banner: str) -> str:
    for pattern, stand_in in _VOLATILE:
        banner = pattern.sub(stand_in, banner)
    return banner


def test_the_serve_banner_is_the_documented_one(request, tmp_path):
    (command,) = documented(request)
    assert command.output is not None
    banners = [command.output] + [
        block.content
        for path in DOCS
        for block in blocks(path)
        if block.info == "console" and block.content.startswith("grimnir-sim: serving")
    ]
    assert len(banners) == 2  # the README's and the quickstart's
    server = serve(command, key=None, state_home=tmp_path)
    try:
        printed = "".join(line + "\n" for line in server.banner)
        for banner in banners:
            assert shown(_steady(banner)).fullmatch(_steady(printed)), (
                f"shown:\n{banner}\nprinted:\n{printed}"
            )
        assert server.http.get("/api/v1/health").json() == {"status": "ok"}
    finally:
        assert server.stop() == 0


# -- docs/quickstart.md ------------------------------------------------------------------------


def test_the_quickstart_station_starts_with_a_playlist_on_air(request, tmp_path):
    commands = documented(request)
    server = serve(one(commands, "grimnir-sim serve"))
    try:
        assert "in the scenario 2026-01-19T10:00:00Z" in server.banner[1]  # Monday 10:00
        now_playing = bash(replaced(one(commands, "curl").text, address(server)), tmp_path)
        body = json.loads(now_playing)
        assert (body["type"], body["source_type"], body["is_live_dj"]) == ("media", "automation", False)
        assert body["title"] and body["artist"]
    finally:
        assert server.stop() == 0


EVENT_TYPES = (
    "now_playing,dj_connect,dj_disconnect,live.handover,live.released,"
    "priority.emergency,priority.released,webstream.failover"
)


def test_the_quickstart_examples_cause_the_events_they_name(request, tmp_path):
    """Step 3's curl commands, then the manual clock's advance, against its manual-clock station.

    The manual clock holds station time at Monday 10:00 while the commands run, so no track
    change comes between them, and the advance shows when the timed events come.
    """
    commands = documented(request)
    manual = one(commands, "grimnir-sim serve")
    server = serve(manual)
    try:
        script = replaced(
            "\n".join(command.text for command in commands if command is not manual),
            address(server),
            ("TOKEN=…", f"TOKEN={server.token}"),
        )
        with connect(f"{server.ws}?types={EVENT_TYPES}&token={server.token}") as client:
            bash(script, tmp_path)
            at_once = received(client, 10)
            later = [wait_for(client, "priority.released"), wait_for(client, "webstream.failover")]
    finally:
        assert server.stop() == 0
    assert [message["type"] for message in at_once] == [
        "now_playing",  # the skip
        "dj_connect", "live.handover", "now_playing",  # a DJ takes the air
        "dj_disconnect", "live.released", "priority.released", "now_playing",  # the DJ leaves
        "priority.emergency", "now_playing",  # the alert
    ]  # fmt: skip
    assert at_once[3]["payload"]["username"] == "DJ Mike"
    assert at_once[7]["payload"]["media_id"]  # the playlist again
    assert at_once[9]["payload"]["title"] == "Weekly Emergency Alert System Test"
    alert_at = instant(at_once[8]["payload"]["inserted_at"])
    released, failover = (message["payload"] for message in later)
    assert (released["previous_priority"], released["new_priority"]) == (0, 3)
    assert (instant(released["released_at"]) - alert_at).total_seconds() == 60
    # The URL went down at the same station instant, on a point of the 30 s check grid (Monday
    # 10:00): the soonest failover, 65 s. test_the_quickstart_failover_timing_is_the_measured_range
    # covers every other moment.
    assert (instant(failover["timestamp"]) - alert_at).total_seconds() == 65
    assert failover["failed_url"] == "http://relay-primary.example.org/stream.mp3"


def test_the_quickstart_failover_timing_is_the_measured_range():
    text = (ROOT / "docs" / "quickstart.md").read_text()
    low, high = map(int, re.search(r"webstream\.failover (\d+) to (\d+) s later", text).groups())
    default = shipped(load_catalog(ROOT / "scenarios.toml").default)
    monday_10 = 10 * 3_600_000
    delays = []
    # From a point of the check grid to just before the next one, as a click may land.
    for offset in [0, 1, *range(1_000, 30_000, 1_000), 29_999]:
        core = Playout(default)
        core.advance(monday_10 + offset)
        core.submit(inputs.UrlDown(webstream="overnight-relay", url=0))
        emitted = core.advance(monday_10 + offset + 2 * 60_000)
        (failover,) = [e for e in emitted if e.event.TYPE == "webstream.failover"]
        delays.append(failover.at_ms - (monday_10 + offset))
    assert min(delays) == low * 1000  # the call lands on a check: it fails at once
    assert max(delays) == high * 1000 - 1  # just after one: the first failed check is 30 s less 1 ms away


def test_the_quickstart_type_commands_and_the_typescript_example(request, tmp_path):
    commands = documented(request)
    # npx runs the json-schema-to-typescript that .ci/run installs (found through ./node_modules),
    # and downloads nothing.
    (tmp_path / "node_modules").symlink_to(NODE_BIN.parent, target_is_directory=True)
    environment = {**os.environ, "npm_config_offline": "true"}
    bash("\n".join(command.text for command in commands), tmp_path, env=environment, timeout=300)
    assert "export type GrimnirMessage =" in (tmp_path / "grimnir-events.ts").read_text()
    assert json.loads((tmp_path / "grimnir-events.schema.json").read_text())["oneOf"]
    assert yaml.safe_load((tmp_path / "asyncapi.yaml").read_text())["asyncapi"] == "3.0.0"
    assert "export type GrimnirMessage =" in (tmp_path / "grimnir-events.d.ts").read_text()
    (example,) = [block for block in blocks(ROOT / "docs" / "quickstart.md") if block.info == "ts"]
    (tmp_path / "show.ts").write_text(example.content)
    compiled = tsc(tmp_path, "show.ts")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


# -- docs/live-sources.md ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_harbor_commands_go_live_send_metadata_and_leave(request, tmp_path):
    commands = documented(request)
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, ".ci/run installs Debian's ffmpeg"
    # A stand-in for the mix the legacy example streams: three seconds of tone.
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=330",
         "-t", "3", "-c:a", "libmp3lame", "-b:a", "128k", tmp_path / "mix.mp3"],
        check=True, timeout=60,
    )  # fmt: skip
    harbor = free_port()
    to_harbor = ("127.0.0.1:8001", f"127.0.0.1:{harbor}")
    server = serve(one(commands, "grimnir-sim serve"), "--harbor-port", str(harbor))
    try:
        types = "dj_connect,dj_disconnect,live.handover,now_playing"
        with connect(f"{server.ws}?types={types}&token={server.token}") as client:
            encoder = background(replaced(one(commands, "ffmpeg -re -f lavfi").text, to_harbor), tmp_path)
            try:
                connected = wait_for(client, "dj_connect")["payload"]
                assert (connected["username"], connected["source_ip"]) == ("DJ Mike", "127.0.0.1")
                assert wait_for(client, "live.handover")["payload"]["username"] == "DJ Mike"
                bash(replaced(one(commands, "curl -u mike").text, to_harbor), tmp_path)
                song = wait_for(client, "now_playing")["payload"]
                while song.get("title") == "DJ Mike live":  # the handover's own now_playing
                    song = wait_for(client, "now_playing")["payload"]
                assert (song["artist"], song["title"]) == ("Nina Simone", "Sinnerman")
            finally:
                stop(encoder)
            assert wait_for(client, "dj_disconnect")["payload"]["username"] == "DJ Mike"
            bash(replaced(one(commands, "ffmpeg -re -i mix.mp3").text, to_harbor), tmp_path)
            assert wait_for(client, "dj_connect")["payload"]["username"] == "DJ Mike"
            assert wait_for(client, "dj_disconnect")["payload"]["duration_seconds"] >= 2
    finally:
        assert server.stop() == 0


# -- docs/testing.md ---------------------------------------------------------------------------


def test_the_examples_of_docs_testing_md_pass_and_fail_as_shown(request, tmp_path):
    (run,) = documented(request)
    examples = write_examples_of_testing_md(tmp_path)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"GRIMNIR_SIM_CATALOG", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "GRIMNIR_UPDATE_GOLDEN"}
    }
    # The docs' golden test is recorded once, as they say, with GRIMNIR_UPDATE_GOLDEN=1
    # (or --grimnir-update-golden), then compared.
    runs = (("records the golden log", {"GRIMNIR_UPDATE_GOLDEN": "1"}), ("compares with it", {}))
    for attempt, update in runs:
        result = subprocess.run(
            ["bash", "-c", run.text],
            cwd=tmp_path,
            env=with_this_python({**environment, **update}),
            capture_output=True,
            text=True,
            timeout=300,
        )
        examples.check(result, attempt)
    assert (tmp_path / "golden" / "dj-takeover.jsonl").read_text() == (
        ROOT / "tests" / "golden" / "dj-takeover.jsonl"
    ).read_text()
