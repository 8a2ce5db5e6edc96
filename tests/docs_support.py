"""The commands of README.md and docs/*.md, and which test (or CI) runs each one.

Commands are read from fenced ``sh`` blocks (one per logical line: ``\\``
continuations and here-documents joined, comment lines skipped) and from
``console`` blocks (lines starting with ``$ ``, the lines after each being the
output the docs show). ``RUN_BY`` names, for every command, the test that runs
it or the line of ``.ci/run`` that does; tests/test_docs.py fails when a command
has no entry, so a new command in the docs needs something that runs it.
"""

import importlib
import inspect
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import pytest
from markdown_it import MarkdownIt

from tests.support import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

CI = ".ci/run: "
"""A ``RUN_BY`` value starting with this names what .ci/run runs for the command (a text in .ci/run)."""

# Each command as the docs write it (see Command.key) -> the test that runs it, or CI + the
# line of .ci/run that does. Tests take their commands from here (documented()), run them
# with only the substitutions they state (a free port for 8000, the banner's token for …),
# and check what the docs say they do.
RUN_BY: dict[str, str] = {
    # README.md and docs/quickstart.md: installing is CI's (a plain install of the checkout, then
    # `serve` from it); bash .ci/run is what CI runs.
    "python3 -m pip install -e . && grimnir-sim serve": CI + 'plain_install_check "$PWD"',
    "bash .ci/run": CI + "python3 -m pytest",
    "grimnir-sim serve": "tests/test_docs.py::test_the_serve_banner_is_the_documented_one",
    "grimnir-sim run default --format text --types now_playing,dj_connect,live.handover,webstream.failover"
    " | sed -n '1,3p;/Sarah/p'": "tests/test_docs.py::test_console_examples_print_what_the_docs_show",
    "grimnir-sim run dj-takeover --types dj_connect": (
        "tests/test_docs.py::test_console_examples_print_what_the_docs_show"
    ),
    # docs/record-replay.md
    **dict.fromkeys(
        [
            "grimnir-sim serve dj-takeover --speed 10",
            'grimnir-sim record ws://127.0.0.1:8000/api/v1/events --token "$(grimnir-sim token)"'
            " --out station.jsonl --for 5m",
            "grimnir-sim run --replay station.jsonl --types dj_connect,live.handover --with-time",
            "grimnir-sim serve --replay station.jsonl --speed 10",
        ],
        "tests/test_record_replay.py::test_the_documented_commands_record_print_and_serve_back_a_station",
    ),
    # docs/quickstart.md
    "curl 'http://127.0.0.1:8000/api/v1/public/now-playing?station_id=main'": (
        "tests/test_docs.py::test_the_quickstart_station_starts_with_a_playlist_on_air"
    ),
    'grimnir-sim serve --from "Mon 10:00"': (
        "tests/test_docs.py::test_the_quickstart_station_starts_with_a_playlist_on_air"
    ),
    **dict.fromkeys(
        [
            "TOKEN=…",
            'H="Authorization: Bearer $TOKEN"',
            """curl -X POST -H "$H" -d '{"station_id":"main"}' http://127.0.0.1:8000/api/v1/playout/skip""",
            """curl -X POST -H "$H" -d '{"dj":"mike","transition":"immediate"}'"""
            " http://127.0.0.1:8000/api/v1/sim/djs/connect",
            """curl -X POST -H "$H" -d '{"dj":"mike"}' http://127.0.0.1:8000/api/v1/sim/djs/disconnect""",
            """curl -X POST -H "$H" -d '{"station_id":"main","media_id":"eas-test"}'"""
            " http://127.0.0.1:8000/api/v1/priority/emergency",
            'curl -X POST -H "$H" http://127.0.0.1:8000/api/v1/sim/webstreams/overnight-relay/urls/0/down',
            'grimnir-sim serve --from "Mon 10:00" --manual-clock',
            """curl -X POST -H "$H" -d '{"by":"5m"}' http://127.0.0.1:8000/api/v1/sim/advance""",
        ],
        "tests/test_docs.py::test_the_quickstart_examples_cause_the_events_they_name",
    ),
    **dict.fromkeys(
        [
            "grimnir-sim schema typescript > grimnir-events.ts",
            "grimnir-sim schema jsonschema > grimnir-events.schema.json",
            "grimnir-sim schema > asyncapi.yaml",
            "npx json-schema-to-typescript grimnir-events.schema.json > grimnir-events.d.ts",
        ],
        "tests/test_docs.py::test_the_quickstart_type_commands_and_the_typescript_example",
    ),
    # docs/live-sources.md
    **dict.fromkeys(
        [
            "grimnir-sim serve live-harbor",
            "ffmpeg -re -f lavfi -i sine=frequency=440 -c:a libmp3lame -b:a 128k"
            " -f mp3 -content_type audio/mpeg icecast://mike:mikes-password@127.0.0.1:8001/live",
            "ffmpeg -re -i mix.mp3 -c copy -f mp3 -content_type audio/mpeg -legacy_icecast 1"
            " icecast://source:mikes-password@127.0.0.1:8001/live",
            "curl -u mike:mikes-password"
            " 'http://127.0.0.1:8001/admin/metadata?mode=updinfo&mount=/live&song=Nina%20Simone%20-%20Sinnerman'",
        ],
        "tests/test_docs.py::test_the_harbor_commands_go_live_send_metadata_and_leave",
    ),
    **dict.fromkeys(
        [
            "cat > icecast.xml <<'EOF'",
            "icecast2 -c icecast.xml >icecast.log 2>&1 &",
            "sleep 1",
            "ffmpeg -nostdin -re -f lavfi -i sine=frequency=440 -c:a libmp3lame -b:a 64k -f mp3"
            " -content_type audio/mpeg icecast://source:PASSWORD@127.0.0.1:8100/primary &",
            "ffmpeg -nostdin -re -f lavfi -i sine=frequency=660 -c:a libmp3lame -b:a 64k -f mp3"
            " -content_type audio/mpeg icecast://source:PASSWORD@127.0.0.1:8100/backup &",
            "grimnir-sim serve live-harbor --speed 60",
        ],
        "tests/test_icecast.py::test_the_documented_icecast_recipe_fails_over_and_recovers",
    ),
    # docs/performance.md
    **dict.fromkeys(
        [
            "export GRIMNIR_JWT_SIGNING_KEY=...",
            "redis-server --port 6379 --bind 127.0.0.1 --save '' &",
            "grimnir-sim serve community-week --redis redis://127.0.0.1:6379 --port 8000",
            "grimnir-sim serve --redis redis://127.0.0.1:6379 --role edge --port 8001",
            "grimnir-sim serve --redis redis://127.0.0.1:6379 --role edge --port 8002",
        ],
        "tests/test_relay.py::test_the_documented_station_and_two_edges",
    ),
    # docs/scenarios.md
    **dict.fromkeys(
        ["grimnir-sim run dj-takover", "grimnir-sim check tests/data/six-kinds.toml"],
        "tests/test_docs.py::test_console_examples_print_what_the_docs_show",
    ),
    # docs/testing.md: the install runs in a fresh venv (with the wheel for the path); pytest
    # runs the examples both there and in this environment.
    "python3 -m pip install '/path/to/grimnir-sim[testing]'": (
        "tests/test_install.py::test_the_testing_extra_runs_the_examples_of_docs_testing_md"
    ),
    "python3 -m pytest": "tests/test_docs.py::test_the_examples_of_docs_testing_md_pass_and_fail_as_shown",
    "python3 -m tests.mutation_check": CI + "python3 -m tests.mutation_check",
}


@attrs.frozen
class Command:
    doc: str
    """The file, relative to the checkout (``docs/quickstart.md``)."""
    line: int
    text: str
    """As written: continuation lines and a here-document's body included."""
    key: str
    """Its ``RUN_BY`` key: the lines of the command itself (no here-document body), each
    without its trailing ``\\`` or ``# comment``, joined by single spaces."""
    output: str | None = None
    """A console example's output, as shown."""

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.key}"


@attrs.frozen
class Block:
    doc: str
    line: int
    """The line of the opening fence."""
    info: str
    content: str


_COMMENT = re.compile(r"\s+#(\s.*)?$")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]+)\1")


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order (indented ones in lists too)."""
    doc = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    return blocks_in(path.read_text(encoding="utf-8"), doc)


def blocks_in(markdown: str, doc: str) -> list[Block]:
    return [
        Block(doc, token.map[0] + 1, token.info.strip(), token.content)
        for token in MarkdownIt("commonmark").parse(markdown)
        if token.type == "fence" and token.map is not None
    ]


def _key(lines: list[str]) -> str:
    return " ".join(" ".join(_COMMENT.sub("", line).removesuffix("\\").split()) for line in lines).strip()


def _shell_commands(block: Block) -> list[Command]:
    lines = block.content.splitlines()
    found = []
    index = 0
    while index < len(lines):
        if not lines[index].strip() or lines[index].lstrip().startswith("#"):
            index += 1
            continue
        start = index
        while lines[index].rstrip().endswith("\\") and index + 1 < len(lines):
            index += 1
        own = lines[start : index + 1]
        heredoc = _HEREDOC.search(lines[start])
        if heredoc:
            while index + 1 < len(lines) and lines[index].strip() != heredoc.group(2):
                index += 1
        found.append(
            Command(block.doc, block.line + 1 + start, "\n".join(lines[start : index + 1]), _key(own))
        )
        index += 1
    return found


def _console_commands(block: Block) -> list[Command]:
    lines = block.content.splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("$ ")]
    if not starts:
        return []  # output alone
    found = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        text = lines[start][2:]
        output = "".join(line + "\n" for line in lines[start + 1 : end])
        found.append(Command(block.doc, block.line + 1 + start, text, _key([text]), output))
    return found


def commands_in(markdown: str, doc: str) -> list[Command]:
    """The commands of one Markdown text, in order."""
    found: list[Command] = []
    for block in blocks_in(markdown, doc):
        if block.info == "sh":
            found += _shell_commands(block)
        elif block.info == "console":
            found += _console_commands(block)
    return found


def all_commands() -> list[Command]:
    return [
        command
        for path in DOCS
        for command in commands_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]


def unrun(commands: list[Command], run_by: dict[str, str]) -> list[str]:
    """Each way ``run_by`` fails to cover ``commands``: a command nothing runs, an entry for a
    command the docs no longer have, a test that does not exist, a CI line .ci/run lacks."""
    problems = [
        f"{command}: nothing runs it (add it to RUN_BY)" for command in commands if command.key not in run_by
    ]
    keys = {command.key for command in commands}
    problems += [f"RUN_BY has {key!r}, which no doc has any more" for key in run_by if key not in keys]
    ci_script = (ROOT / ".ci" / "run").read_text()
    for key, runner in run_by.items():
        if runner.startswith(CI):
            if runner.removeprefix(CI) not in ci_script:
                problems.append(f"{key!r}: .ci/run has no {runner.removeprefix(CI)!r}")
            continue
        module_path, _, name = runner.partition("::")
        module = module_path.removesuffix(".py").replace("/", ".")
        found = (ROOT / module_path).is_file()
        test = getattr(importlib.import_module(module), name, None) if found else None
        if not callable(test):
            problems.append(f"{key!r}: no test {runner}")
        elif not re.search(r"\bdocumented(_for)?\(", inspect.getsource(test)):
            problems.append(f"{key!r}: {runner} does not take its commands from the docs (documented())")
    return problems


def documented_for(test_id: str) -> list[Command]:
    """The commands ``RUN_BY`` gives to a test (``tests/test_x.py::test_y``), in the order of the docs."""
    mine = [command for command in all_commands() if RUN_BY.get(command.key) == test_id]
    assert mine, f"RUN_BY gives no command to {test_id}"
    return mine


def documented(request: pytest.FixtureRequest) -> list[Command]:
    """The commands ``RUN_BY`` gives to the requesting test (documented_for())."""
    return documented_for(request.node.nodeid.split("[")[0])


def one(commands: list[Command], key_start: str) -> Command:
    """The one command whose key starts with ``key_start``."""
    (found,) = [command for command in commands if command.key.startswith(key_start)]
    return found


def replaced(text: str, *changes: tuple[str, str]) -> str:
    """``text`` with each (old, new) replaced; each ``old`` must be there."""
    for old, new in changes:
        assert old in text, f"expected {old!r} in the documented command:\n{text}"
        text = text.replace(old, new)
    return text


def _unwrapped(output: str) -> str:
    """pytest's "E" lines without their prefix: each run of them loses the "E" and the spaces
    all of its lines share, so the text keeps its own indentation."""
    lines = output.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        if not lines[index].startswith("E "):
            index += 1
            continue
        end = index
        while end < len(lines) and lines[end].startswith("E"):
            end += 1
        block = [line[1:] for line in lines[index:end]]
        shared = min(len(line) - len(line.lstrip(" ")) for line in block if line.strip())
        lines[index:end] = [line[shared:] if line.strip() else line.lstrip(" ") for line in block]
        index = end
    return "".join(lines)


def shown(output: str) -> re.Pattern[str]:
    """A pattern for output the docs show: a line that is only ``…`` stands for any lines,
    a ``…`` within a line for any text."""
    parts = []
    for line in output.splitlines():
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(re.escape(line).replace("…", r"[^\n]*?") + r"\n")
    return re.compile("".join(parts))


# Run in bash: documented curl commands fail on an HTTP error status (and say why) instead
# of printing the error body and exiting 0, as curl does by default.
BASH_PRELUDE = """set -euo pipefail
curl() { command curl --silent --show-error --fail-with-body "$@"; echo; }
"""


def bash(
    script: str,
    cwd: Path,
    *,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
) -> str:
    """Run ``script`` with bash (after BASH_PRELUDE; ``prefix`` runs bash, as setpriv does);
    its output, or a failure showing it."""
    result = subprocess.run(
        [*prefix, "bash", "-c", BASH_PRELUDE + script],
        cwd=cwd,
        env=with_this_python(env or os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{script}\nexited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def background(
    script: str, cwd: Path, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """Start ``script`` (a documented ``command &``, without the ``&``) with bash, in its own
    process group, so stop() ends it and whatever it started."""
    return subprocess.Popen(
        [*prefix, "bash", "-c", script],
        cwd=cwd,
        env=with_this_python(env or os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def with_this_python(environment: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The environment with this interpreter's folder first on PATH, so the docs' ``python3``
    and ``grimnir-sim`` are the ones under test."""
    path = environment.get("PATH", os.defpath)
    return {**environment, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{path}"}


@attrs.frozen
class ExamplesOfTestingMd:
    """docs/testing.md's examples, written out as a project (write_examples_of_testing_md())."""

    passing: list[str]
    """The ``file::test`` of each test the docs expect to pass."""
    failing: dict[str, str]
    """Each test the docs show failing -> the output they show for it."""

    def check(self, result: subprocess.CompletedProcess[str], attempt: str) -> None:
        """``result``, a pytest run of the project, is what the docs say."""
        report = f"({attempt})\n{result.stdout}\n{result.stderr}"
        summary = re.search(r"^=+ (.*) in [\d.]+s", result.stdout, re.M)
        assert summary, report
        counts = dict(reversed(part.split(" ", 1)) for part in summary.group(1).split(", "))
        expected = {"failed": str(len(self.failing))} if self.failing else {}
        assert counts == {**expected, "passed": str(len(self.passing))}, report
        # Without -v, pytest names each failure in its short summary; the failure text is shown
        # as pytest prints an exception group's lines ("    | ") or a plain one's ("E" and the
        # raising line's indentation).
        unwrapped = _unwrapped(re.sub(r"^ *\| ?", "", result.stdout, flags=re.M))
        for test, output in self.failing.items():
            assert f"FAILED {test} - " in result.stdout, report
            assert shown(output).search(unwrapped), f"the docs show:\n{output}\n{report}"
        assert result.returncode == (1 if self.failing else 0), report


def write_examples_of_testing_md(folder: Path) -> ExamplesOfTestingMd:
    """Write docs/testing.md's examples into ``folder`` as a project: its pytest configuration
    (the ``toml`` block) and each Python example under the file name its first line gives.
    An example followed by a plain block is one the docs show failing, with that output."""
    doc = blocks(ROOT / "docs" / "testing.md")
    (configuration,) = [block for block in doc if block.info == "toml"]
    (folder / "pyproject.toml").write_text(configuration.content)
    passing: list[str] = []
    failing: dict[str, str] = {}
    for block, following in zip(doc, [*doc[1:], None], strict=True):
        if block.info != "python":
            continue
        named = re.match(r"# (test_\w+\.py)\n", block.content)
        assert named, f"{block.doc}:{block.line}: an example starts with '# test_NAME.py'"
        (folder / named.group(1)).write_text(block.content)
        tests = [
            f"{named.group(1)}::{name}"
            for name in re.findall(r"^(?:async )?def (test_\w+)", block.content, re.M)
        ]
        if following is not None and following.info == "":
            (test,) = tests
            failing[test] = following.content
        else:
            passing += tests
    return ExamplesOfTestingMd(passing, failing)
