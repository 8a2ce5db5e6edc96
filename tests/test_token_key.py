"""`grimnir-sim token` right after a plain `grimnir-sim serve`: the generated key, kept per port."""

import os
import re
import shlex
import signal
import subprocess
import sys

import jwt
import pytest

from playout.drivers.cli import main
from server import keyfile
from server.auth import SigningKey
from tests.serve_support import KEY, Server
from tests.support import ROOT

FIRST = "first-server-generated-key-0123456789"
SECOND = "second-server-generated-key-012345678"


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("GRIMNIR_JWT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def run_cli(command: str, state_home, key: str | None = None) -> subprocess.CompletedProcess:
    """A `grimnir-sim ...` command line as a user types it, run as ``python -m playout``."""
    env = {**os.environ, "XDG_STATE_HOME": str(state_home)}
    env.pop("GRIMNIR_JWT_SIGNING_KEY", None)
    if key is not None:
        env["GRIMNIR_JWT_SIGNING_KEY"] = key
    words = shlex.split(command)
    assert words[0] == "grimnir-sim"
    return subprocess.run(
        [sys.executable, "-m", "playout", *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_banners_token_command_works_against_a_plain_serve(tmp_path):
    served = Server("dj-takeover", "--manual-clock", key=None, state_home=tmp_path)
    try:
        port = served.address[1]
        command = re.search(r"mint more with `(grimnir-sim token[^`]*)`", "\n".join(served.banner))
        assert command is not None, served.banner
        assert command[1] == f"grimnir-sim token --port {port}"
        kept = tmp_path / "grimnir-sim" / f"serve-{port}.json"
        assert (
            f"  key:     generated for this run, kept in {kept}; set GRIMNIR_JWT_SIGNING_KEY to choose one"
            in served.banner
        )
        assert kept.stat().st_mode & 0o777 == 0o600
        assert kept.parent.stat().st_mode & 0o777 == 0o700
        assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary file left

        minted = run_cli(command[1] + " --roles dj", tmp_path)
        assert minted.returncode == 0, minted.stderr
        assert minted.stderr == (
            f"grimnir-sim: signed with the generated key of the server on port {port} "
            f"({served.url}, pid {served.process.pid})\n"
        )
        dj = {"Authorization": f"Bearer {minted.stdout.strip()}"}
        assert served.http.get("/api/v1/sim/state", headers=dj).status_code == 200
        assert served.http.post("/api/v1/sim/advance", json={"by": "1m"}, headers=dj).status_code == 403

        newest = run_cli("grimnir-sim token", tmp_path)  # no --port: the newest running server
        assert newest.returncode == 0, newest.stderr
        admin = {"Authorization": f"Bearer {newest.stdout.strip()}"}
        assert served.http.post("/api/v1/sim/advance", json={"by": "1m"}, headers=admin).status_code == 200

        # The environment's key keeps priority, even over a running server's file.
        chosen = run_cli(f"grimnir-sim token --port {port}", tmp_path, key=KEY)
        assert chosen.returncode == 0
        assert chosen.stderr == "grimnir-sim: signed with $GRIMNIR_JWT_SIGNING_KEY (--port ignored)\n"
        assert jwt.decode(chosen.stdout.strip(), KEY, algorithms=["HS256"])["roles"] == ["admin"]
    finally:
        assert served.stop() == 0
    assert not kept.exists()  # a clean shutdown removes it
    refused = run_cli("grimnir-sim token", tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"error: no running `grimnir-sim serve` with a generated key in {tmp_path / 'grimnir-sim'}; "
        "set GRIMNIR_JWT_SIGNING_KEY to the server's key\n"
    )


def test_a_key_from_the_environment_is_never_written(tmp_path):
    served = Server("dj-takeover", "--manual-clock", key=KEY, state_home=tmp_path)
    try:
        assert (
            "           (admin, valid 1d; mint more with `grimnir-sim token` with the same "
            "GRIMNIR_JWT_SIGNING_KEY)" in served.banner
        )
        assert "  key:     from GRIMNIR_JWT_SIGNING_KEY" in served.banner
        assert not (tmp_path / "grimnir-sim").exists()
    finally:
        assert served.stop() == 0


def test_the_key_of_a_killed_server_is_not_used(tmp_path, capsys):
    served = Server("dj-takeover", "--manual-clock", key=None, state_home=tmp_path)
    port = str(served.address[1])
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(timeout=15)
    served.stop()
    left = tmp_path / "grimnir-sim" / f"serve-{port}.json"
    assert left.exists()  # no clean shutdown, so the file stays, but nobody holds its lock
    assert main(["token", "--port", port]) == 2
    assert capsys.readouterr().err == (
        f"error: no running `grimnir-sim serve` on port {port} with a generated key in "
        f"{tmp_path / 'grimnir-sim'}; set GRIMNIR_JWT_SIGNING_KEY to the server's key\n"
    )


def test_token_takes_the_newest_server_unless_given_a_port(tmp_path, capsys):
    directory = keyfile.state_directory()
    first = keyfile.keep(directory, port=8001, url="http://127.0.0.1:8001", key=SigningKey(FIRST, True))
    second = keyfile.keep(directory, port=8002, url="http://127.0.0.1:8002", key=SigningKey(SECOND, True))
    os.utime(first.path, ns=(1, 1))  # started long before the second
    try:
        assert main(["token"]) == 0
        out, err = capsys.readouterr()
        assert jwt.decode(out.strip(), SECOND, algorithms=["HS256"])
        assert "port 8002" in err and "2 servers are running, --port chooses" in err
        assert main(["token", "--port", "8001"]) == 0
        out, err = capsys.readouterr()
        assert jwt.decode(out.strip(), FIRST, algorithms=["HS256"])
        assert err == (
            "grimnir-sim: signed with the generated key of the server on port 8001 "
            f"(http://127.0.0.1:8001, pid {os.getpid()})\n"
        )
    finally:
        first.release()
        second.release()
    assert list(directory.iterdir()) == []


def test_a_server_on_the_same_port_keeps_its_file_when_an_older_one_stops(tmp_path):
    directory = keyfile.state_directory()
    older = keyfile.keep(directory, port=8000, url="http://127.0.0.1:8000", key=SigningKey("old", True))
    newer = keyfile.keep(directory, port=8000, url="http://127.0.0.2:8000", key=SigningKey("new", True))
    older.release()
    found, running = keyfile.find(directory, 8000)
    assert found is not None and found.key.secret == "new" and running == 1
    newer.release()
    assert keyfile.find(directory, 8000) == (None, 0)


def test_the_state_directory_follows_xdg_and_is_made_private(tmp_path, monkeypatch):
    assert keyfile.state_directory() == tmp_path / "grimnir-sim"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for ignored in ("", "relative/state"):  # unset, or relative (invalid by the XDG spec)
        monkeypatch.setenv("XDG_STATE_HOME", ignored)
        assert keyfile.state_directory() == tmp_path / "home" / ".local" / "state" / "grimnir-sim"
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    held = keyfile.keep(loose, port=8000, url="http://127.0.0.1:8000", key=SigningKey("k", True))
    try:
        assert loose.stat().st_mode & 0o777 == 0o700
        assert held.path.stat().st_mode & 0o777 == 0o600
    finally:
        held.release()


def test_token_refuses_a_port_that_cannot_be(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["token", "--port", "0"])
    assert exited.value.code == 2
    assert "--port: must be 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize("ttl", ["0s", "500ms"])
def test_token_refuses_a_lifetime_that_ends_at_once(ttl, capsys):
    # Regression (issue 11 review): --ttl 0s printed a token that had already expired.
    with pytest.raises(SystemExit) as exited:
        main(["token", "--ttl", ttl])
    assert exited.value.code == 2
    assert "--ttl: " in (err := capsys.readouterr().err) and "shorter than 1s" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--station", ""], "--station is empty"),
        (["--station", "  "], "--station is empty"),
        (["--user", ""], "--user is empty"),
    ],
)
def test_token_refuses_an_empty_station_or_user(options, message, capsys, monkeypatch):
    # Regression (review): --station "" minted a token for every station (say, $STATION unset).
    monkeypatch.setenv("GRIMNIR_JWT_SIGNING_KEY", "a-key-for-this-test-0123456789abcdef")
    assert main(["token", *options]) == 2
    assert message in capsys.readouterr().err
