"""Helpers shared by the tests: load shipped scenarios, run the pure core, read logs."""

import shutil
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from playout import Emitted, Playout, Scenario, load_scenario, messages_schema, parse_scenario, wire

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

MESSAGES_SCHEMA = messages_schema()


def _envelope_validators(document: dict[str, Any]) -> dict[str, list[jsonschema.Draft202012Validator]]:
    """The document's envelopes by wire name, each checked on its own, its payload's ``$ref`` resolved.

    Checking a message against only the envelopes of its ``type`` is the root
    ``oneOf``'s verdict without trying (and explaining) the other fifteen, which
    jsonschema makes several times slower; resolving the reference here saves a
    lookup per message. tests/test_typed_clients.py checks the root itself.
    """
    defs = document["$defs"]
    by_type: dict[str, list[jsonschema.Draft202012Validator]] = {}
    for branch in document["oneOf"]:
        envelope = defs[branch["$ref"].removeprefix("#/$defs/")]
        properties = dict(envelope["properties"])
        if "payload" in properties:
            properties["payload"] = defs[properties["payload"]["$ref"].removeprefix("#/$defs/")]
        by_type.setdefault(properties["type"]["const"], []).append(
            jsonschema.Draft202012Validator(
                {**envelope, "properties": properties},
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
        )
    return by_type


_ENVELOPES = _envelope_validators(MESSAGES_SCHEMA)
CONTRACT = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
_CONTRACT_VALIDATORS: dict[str, list[jsonschema.Draft7Validator]] = {}
for _message in CONTRACT["components"]["messages"].values():
    _CONTRACT_VALIDATORS.setdefault(_message["name"], []).append(
        jsonschema.Draft7Validator(
            _message["payload"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
    )


def ffmpeg_tone(target: str, *, seconds: float | None = None, frequency: int = 440) -> list[str]:
    """An ffmpeg command streaming a sine tone as 64 kb/s MP3 to an icecast:// URL (as Icecast sources do)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed (.ci/run installs Debian's ffmpeg)"
    duration = [] if seconds is None else ["-t", str(seconds)]
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=44100", *duration,
        "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", "-content_type", "audio/mpeg", target,
    ]  # fmt: skip


def shipped(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")


def validate_message(message: dict) -> None:
    """A wire message must match one envelope of the JSON Schema and a message of docs/asyncapi.yaml."""
    envelopes = _ENVELOPES.get(message.get("type"), [])
    matching = sum(v.is_valid(message) for v in envelopes)
    if matching != 1:
        errors = [error for v in envelopes for error in v.iter_errors(message)]
        reason = jsonschema.exceptions.best_match(errors).message if errors else "no envelope of that type"
        raise AssertionError(f"matches {matching} envelopes of the JSON Schema ({reason}): {message}")
    if not any(v.is_valid(message) for v in _CONTRACT_VALIDATORS[message["type"]]):
        raise AssertionError(f"not a message of the AsyncAPI contract: {message}")


def validate(emitted: list[Emitted]) -> None:
    """Every event must match the schemas of its documented payload (the code's and the contract's)."""
    for item in emitted:
        validate_message(wire.to_message(item.event))


def run_core(scenario: Scenario, until_ms: int | None = None) -> list[Emitted]:
    """Run the pure core to ``until_ms`` (default: the scenario's duration); schema-check it."""
    emitted = Playout(scenario).advance(scenario.duration_ms if until_ms is None else until_ms)
    validate(emitted)
    return emitted


def log(
    scenario: Scenario, until_ms: int | None = None, *, skip: tuple[str, ...] = ()
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(station time, type, payload)`` triples, leaving out the types in ``skip``."""
    clock = scenario.clock
    rows = []
    for item in run_core(scenario, until_ms):
        message = wire.to_message(item.event)
        if message["type"] not in skip:
            rows.append((clock.stamp(item.at_ms), message["type"], message["payload"]))
    return rows


def kinds(rows: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """Just ``(time, type)`` of each row, to assert order compactly."""
    return [(when, kind) for when, kind, _ in rows]


def focused(
    body: str, *, start: str = "2026-01-19T10:00:00Z", duration: str = "1h", extra_head: str = ""
) -> Scenario:
    """An inline scenario on the three-track library the focused scenarios share."""
    return parse_scenario(
        focused_text(body, start=start, duration=duration, extra_head=extra_head), "inline.toml"
    )


def focused_text(
    body: str, *, start: str = "2026-01-19T10:00:00Z", duration: str = "1h", extra_head: str = ""
) -> str:
    """The TOML text of :func:`focused`."""
    return f'''
[scenario]
name = "inline"
start = "{start}"
duration = "{duration}"
{extra_head}

[[stations]]
id = "main"
name = "Focus FM"
health_interval = "0s"

[[library.tracks]]
id = "one"
title = "First Light"
artist = "Ada Larsen"
duration = "3m"

[[library.tracks]]
id = "two"
title = "Second Wind"
artist = "The Paper Boats"
duration = "3m20s"

[[library.tracks]]
id = "three"
title = "Third Rail"
artist = "Signal Club"
duration = "4m"

[[library.tracks]]
id = "alert"
title = "Alert"
duration = "1m"
rotation = false

[[playlists]]
id = "hits"
tracks = ["one", "two", "three"]

[[djs]]
id = "mike"
username = "DJ Mike"

[[djs]]
id = "sarah"
username = "DJ Sarah"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://primary.example.org/s", "http://backup.example.org/s", "http://third.example.org/s"]
{body}
'''


HITS_ALL_DAY = """
[[schedule]]
days = "daily"
start = "00:00"
duration = "24h"
playlist = "hits"
"""
