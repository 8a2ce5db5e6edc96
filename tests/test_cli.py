"""The command line as people use it: run (jsonl, text, filters), check, scenarios."""

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable

import pytest

from playout.drivers.cli import build_parser, main
from playout.drivers.textlog_grimnir import describe_grimnir
from playout.protocol.wire import WireEvent
from playout.scenario import catalog
from tests.support import ROOT


@pytest.fixture(autouse=True)
def _at_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRIMNIR_SIM_CATALOG", raising=False)


def lines(capsys):
    out = capsys.readouterr().out
    return [line for line in out.splitlines() if line]


def test_run_prints_one_wire_message_per_line(capsys):
    assert main(["run", "dj-takeover"]) == 0
    messages = [json.loads(line) for line in lines(capsys)]
    assert all(set(m) == {"type", "payload"} for m in messages)
    assert [m["type"] for m in messages][:6] == [
        "schedule_update",
        "now_playing",
        "now_playing",
        "dj_connect",
        "live.handover",
        "now_playing",
    ]


def test_run_filters_types_and_adds_the_station_time_when_asked(capsys):
    assert main(["run", "dj-takeover", "--types", " dj_connect, ,dj_disconnect ", "--with-time"]) == 0
    messages = [json.loads(line) for line in lines(capsys)]
    assert [(m["at"], m["type"]) for m in messages] == [
        ("2026-01-19T10:05:00Z", "dj_connect"),
        ("2026-01-19T10:35:00Z", "dj_disconnect"),
    ]
    assert list(messages[0]) == ["at", "type", "payload"]


def test_run_until_limits_station_time(capsys):
    assert main(["run", "default", "--until", "90s", "--with-time"]) == 0
    stamps = [json.loads(line)["at"] for line in lines(capsys)]
    assert stamps[0] == "2026-01-19T00:00:00Z"
    assert stamps[-1] == "2026-01-19T00:01:00Z"  # the 1-minute health beat; nothing past 90 s


def test_run_text_reads_the_real_servers_messages_in_the_grimnir_profile(capsys):
    types = "now_playing,priority.override,dj_connect,dj_disconnect,priority.released"
    argv = ["run", "dj-takeover", "--profile", "grimnir", "--health-tick", "1h", "--format", "text"]
    assert main([*argv, "--until", "36m", "--types", types]) == 0
    assert [line.split("  ", 2)[2] for line in lines(capsys)] == [
        'now_playing          "First Light" by Ada Larsen, position 0 of 3 in hits',
        'now_playing          "Second Wind" by The Paper Boats, position 1',
        "priority.override    priority 1 live (DJ Mike) on air (switch)",
        "dj_connect           DJ Mike connects at priority 1",
        'now_playing          live: "Live DJ" with DJ Mike',
        "priority.released    priority 1 live released (fallback)",
        "dj_disconnect        DJ Mike disconnects after 30:00",
        'now_playing          "Third Rail" by Signal Club, position 2',
    ]


def test_a_grimnir_message_of_a_shape_not_described_is_its_compact_payload():
    audit = {"resource_type": "priority_source", "resource_id": "r1", "user_id": "u"}
    assert describe_grimnir(WireEvent("priority.emergency", audit, go=True)) == (
        '{"resource_id":"r1","resource_type":"priority_source","user_id":"u"}'
    )
    newer = {"station_id": "s", "status": "playing"}  # a later server's health, without entry_id
    assert describe_grimnir(WireEvent("health", newer, go=True)) == '{"station_id":"s","status":"playing"}'


def test_run_text_is_a_readable_timeline(capsys):
    assert main(["run", "emergency", "--format", "text", "--until", "4m"]) == 0
    text = lines(capsys)
    assert text[0].startswith("Fri 2026-01-23 11:58:00  main  schedule_update")
    assert any("priority.emergency" in line and "EMERGENCY" in line for line in text)


def test_run_accepts_a_path(capsys, tmp_path):
    copy = tmp_path / "mine.toml"
    shutil.copy(ROOT / "scenarios" / "crossfade.toml", copy)
    assert main(["run", str(copy), "--until", "1s"]) == 0
    assert len(lines(capsys)) == 2


def test_scenarios_lists_the_catalog_with_the_default_marked(capsys):
    assert main(["scenarios"]) == 0
    out = lines(capsys)
    assert out[0].startswith("* community-week")
    assert any(line.startswith("  webstream-failover") for line in out)


def test_check_reports_ok_for_every_shipped_scenario(capsys):
    assert main(["check", "default", "dj-takeover", "scenarios/crossfade.toml"]) == 0
    assert [line.split(" ")[0] for line in lines(capsys)] == ["ok:", "ok:", "ok:"]


def test_unknown_scenario_name_is_one_line_and_status_2(capsys):
    assert main(["run", "no-such-scenario"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no scenario named 'no-such-scenario'" in captured.err


def test_console_script_and_module_entry_points():
    for command in (["grimnir-sim"], ["python", "-m", "playout"]):
        result = subprocess.run(
            [*command, "run", "crossfade", "--until", "0s"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.count("\n") == 2


def test_a_closed_pipe_is_not_an_error():
    result = subprocess.run(
        "grimnir-sim run default | head -1", shell=True, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_version_is_the_installed_packages():
    with open(ROOT / "pyproject.toml", "rb") as file:
        declared = tomllib.load(file)["project"]["version"]
    result = subprocess.run(
        [sys.executable, "-m", "playout", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"grimnir-sim {declared}\n", "")


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"grimnir-sim": parser, **commands.choices}


def test_every_option_of_every_command_says_what_it_does():
    parsers = command_parsers()
    assert set(parsers) == {"grimnir-sim", "run", "check", "scenarios", "serve", "token", "schema", "record"}
    undocumented = [
        f"{name} {action.option_strings or action.dest}"
        for name, parser in parsers.items()
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and (not action.help or action.help == argparse.SUPPRESS)
    ]
    assert undocumented == []


@pytest.mark.parametrize("name", ["grimnir-sim", "run", "check", "scenarios", "serve", "token", "schema"])
def test_every_commands_help_ends_with_examples_that_parse(name):
    help_text = command_parsers()[name].format_help()
    assert "\nexamples:\n" in help_text
    examples = [line.strip() for line in help_text.split("\nexamples:\n", 1)[1].splitlines()]
    commands = [line for line in examples if line.startswith("grimnir-sim ") and "COMMAND" not in line]
    assert commands, help_text
    for example in commands:
        words = shlex.split(example)
        words = words[: next((i for i, w in enumerate(words) if w in (">", "|")), len(words))]
        args = build_parser().parse_args(words[1:])  # an example that no longer parses exits here
        assert name == "grimnir-sim" or args.command == name, example


# --------------------------------------------------------------------------- where the catalog comes from


def catalog_listed(capsys) -> str:
    """The catalog file `grimnir-sim scenarios` read (its last line names it)."""
    assert main(["scenarios"]) == 0
    return lines(capsys)[-1].removeprefix("* default (").removesuffix(")")


def one_entry_catalog(folder, name: str) -> str:
    folder.mkdir()
    path = folder / "scenarios.toml"
    shipped = ROOT / "scenarios" / "crossfade.toml"
    path.write_text(
        f'[catalog]\ndefault = "{name}"\n\n[scenarios.{name}]\nfile = "{shipped}"\ndescription = "x"\n'
    )
    return str(path)


def test_the_flag_beats_the_environment_beats_the_folder_beats_the_shipped_catalog(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert catalog_listed(capsys) == str(ROOT / "scenarios.toml")  # an editable install: the checkout's
    here = one_entry_catalog(tmp_path / "here", "here")
    monkeypatch.chdir(tmp_path / "here")
    assert catalog_listed(capsys) == here
    monkeypatch.setenv(catalog.CATALOG_ENV, one_entry_catalog(tmp_path / "env", "env"))
    assert catalog_listed(capsys) == str(tmp_path / "env" / "scenarios.toml")
    flag = one_entry_catalog(tmp_path / "flag", "flag")
    assert main(["--catalog", flag, "scenarios"]) == 0
    assert lines(capsys)[-1] == f"* default ({flag})"


def test_an_installed_package_reads_the_catalog_from_its_package_data(tmp_path, monkeypatch):
    # What a wheel holds (pyproject.toml's force-include): playout/shipped/scenarios.toml.
    packaged = tmp_path / "shipped" / "scenarios.toml"
    packaged.parent.mkdir()
    packaged.write_text("")
    monkeypatch.setattr(catalog.resources, "files", {"playout": tmp_path}.__getitem__)
    assert catalog.shipped_catalog() == packaged
    packaged.unlink()
    assert catalog.shipped_catalog() == ROOT / "scenarios.toml"


def test_the_catalog_may_be_given_after_the_command_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    flag = one_entry_catalog(tmp_path / "after", "after")
    assert main(["scenarios", "--catalog", flag]) == 0
    assert lines(capsys)[-1] == f"* default ({flag})"


def test_a_bad_option_is_one_line_and_exit_2():
    result = subprocess.run(
        [sys.executable, "-m", "playout", "run", "dj-takeover", "--format", "xml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: grimnir-sim run: argument --format: invalid choice: 'xml'")
    assert result.stderr.count("\n") == 1


def test_a_misspelt_name_in_another_case_still_gets_its_did_you_mean(capsys):
    assert main(["run", "DJ-TAKEOVER"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("(did you mean 'dj-takeover'?)")


@pytest.mark.parametrize(
    "args",
    [["--speed", "inf"], ["--speed", "nan"], ["--speed", "5e-324"], ["--port", "70000"], ["--port", "-1"]],
)
def test_serve_refuses_impossible_settings_in_one_line(args):
    result = subprocess.run(
        [sys.executable, "-m", "playout", "serve", "dj-takeover", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_a_harbor_port_in_use_is_one_line_and_status_2(tmp_path):
    # Regression (review): the harbor bound its port after the banner, inside the station's work,
    # so a port in use (or a host that does not resolve) was two copies of a long traceback.
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        scenario = (ROOT / "scenarios" / "live-harbor.toml").read_text()
        unresolvable = tmp_path / "unresolvable.toml"
        unresolvable.write_text(scenario.replace('host = "127.0.0.1"', 'host = "not a host"', 1))
        in_use = f"cannot listen on 127.0.0.1:{port} for the harbor"
        for arguments, expected in [
            (["live-harbor", "--harbor-port", str(port)], in_use),
            ([str(unresolvable), "--harbor-port", "0"], "cannot listen on not a host:0 for the harbor"),
        ]:
            result = subprocess.run(
                [sys.executable, "-m", "playout", "serve", "--port", "0", *arguments],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
            )
            assert result.returncode == 2, result.stderr
            assert expected in result.stderr
            assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("option", ["--heartbeat", "--send-timeout"])
@pytest.mark.parametrize("value", ["inf", "nan", "0", "0.001", "3000000", "-5", "1e300"])
def test_serve_refuses_seconds_out_of_range_in_one_line(option, value, capsys):
    # Regression (review): --send-timeout inf or 3000000 crashed serve with a traceback;
    # --heartbeat inf, 1e300 or 0.001 were taken (no pings ever, or a thousand a second).
    with pytest.raises(SystemExit) as exited:
        main(["serve", option, value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "must be 0.1 to 3600 seconds" in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("origin", "error"),
    [
        ("http://localhost:3000/app", "has a path"),
        ("https://app.example/?x=1", "has a query"),
        ("localhost:3000", "is not an origin"),
        ("http://localhost:99999", "is not an origin"),
    ],
)
def test_serve_refuses_a_cors_origin_that_is_not_one_in_one_line(origin, error, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--cors-origin", origin])
    assert exited.value.code == 2
    said = capsys.readouterr().err
    assert f"argument --cors-origin: {origin!r} {error}" in said and "Traceback" not in said


def interrupted_serve(*arguments: str, ready: Callable[[], object]) -> subprocess.CompletedProcess:
    """``serve`` with ``arguments``, sent SIGINT once ``ready()`` returns (it waits for the process)."""
    environment = {**os.environ, "GRIMNIR_JWT_SIGNING_KEY": "cli-signing-key-0123456789abcdef0123"}
    process = subprocess.Popen(
        [sys.executable, "-m", "playout", "serve", *arguments, "--port", "0"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_ctrl_c_while_serve_reads_its_scenario_is_one_line_and_status_130(tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    writer: list[int] = []

    def reading() -> None:
        """Until serve opens the scenario (a FIFO) for reading; it then waits for its text."""
        deadline = time.monotonic() + 60
        while not writer:
            try:
                writer.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # ENXIO: no reader yet
                assert time.monotonic() < deadline, "serve never opened its scenario"
                time.sleep(0.05)

    try:
        result = interrupted_serve(str(fifo), ready=reading)
    finally:
        for fd in writer:
            os.close(fd)
    assert result.returncode == 130
    assert result.stderr == "grimnir-sim: interrupted\n" and result.stdout == ""


def test_ctrl_c_while_serve_waits_for_redis_is_one_line_and_status_130():
    with socket.socket() as silent:  # accepts the connection, never answers PING
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        redis = f"redis://127.0.0.1:{silent.getsockname()[1]}"
        connections: list[socket.socket] = []
        try:
            result = interrupted_serve(
                "dj-takeover", "--redis", redis, ready=lambda: connections.append(silent.accept()[0])
            )
        finally:
            for connection in connections:
                connection.close()
    assert result.returncode == 130
    assert result.stderr == "grimnir-sim: interrupted\n" and result.stdout == ""
