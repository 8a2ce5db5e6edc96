"""The ranges and limits of scenario files: what a hostile file found, and the bounds that stop it.

Nothing ``grimnir-sim check`` accepts may crash or stall ``run`` or ``serve``; each
finding below crashed, hung or took tens of seconds. A refused file is one line
per problem and exit status 2, never a traceback.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from playout.catalog import CATALOG_ENV
from playout.cli import main

HEAD = """\
[scenario]
name = "limits"
start = "2026-01-19T00:00:00Z"
duration = "1d"

[[stations]]
id = "main"
name = "Test Radio"

[[library.tracks]]
id = "song"
title = "Song"
duration = "3m"

[[djs]]
id = "sarah"
username = "DJ Sarah"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]
"""


def edit(old: str, new: str, text: str = HEAD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write a scenario file (no catalog in the way) and give its path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)

    def write(text: str, name: str = "hostile.toml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """Run ``grimnir-sim ARGV`` expecting exit status 2; the lines it printed on stderr."""
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    return err.splitlines()


# --------------------------------------------------------------------------- the findings


def test_a_309_digit_duration_is_refused_not_an_overflow(write, capsys) -> None:
    path = write(edit('duration = "1d"', f"duration = {'9' * 309}"))
    (line,) = refused(capsys, "check", path)
    assert line.startswith(f"{path}: scenario, key 'duration': 99999")
    assert "(309 characters) is longer than ten years" in line
