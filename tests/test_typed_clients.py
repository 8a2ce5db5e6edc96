"""Types for clients: ``schema jsonschema`` (one document) and ``schema typescript``, checked by their tools.

The TypeScript checks run the compiler and json-schema-to-typescript that .ci/run
installs under .ci/.cache; without them they fail and say so.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from playout import (
    EVENT_CLASSES,
    EVENT_TYPES,
    Event,
    Playout,
    load_catalog,
    load_scenario,
    messages_schema,
    wire,
)
from playout.drivers.cli import main
from server.typescript import UnmappedSchema, typescript_declarations
from tests.support import ROOT

NODE_BIN = ROOT / ".ci" / ".cache" / "node_modules" / ".bin"
CLIENT = ROOT / "tests" / "typescript" / "client.ts"
ENVELOPES = [f"{cls.__name__}Message" for cls in EVENT_CLASSES] + ["PingMessage"]
PAYLOADS = [cls.__name__ for cls in EVENT_CLASSES]
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


@pytest.fixture(autouse=True)
def _at_project_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRIMNIR_SIM_CATALOG", raising=False)


def schema_output(kind: str, capsys) -> str:
    assert main(["schema", kind]) == 0
    return capsys.readouterr().out


def node_tool(name: str) -> Path:
    tool = NODE_BIN / name
    assert shutil.which("node") and tool.exists(), (
        f"run .ci/run first: it installs Node.js (Debian's npm) and, with npm, typescript and "
        f"json-schema-to-typescript under .ci/.cache ({tool} is missing)"
    )
    return tool


def tsc(directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node_tool("tsc"), "--strict", "--noEmit", *files],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


def client_with(tmp_path: Path, declarations: str, file_name: str, client: str | None = None) -> Path:
    """A directory holding the typed client and the declarations it imports as ./grimnir-events."""
    (tmp_path / file_name).write_text(declarations)
    (tmp_path / "client.ts").write_text(CLIENT.read_text() if client is None else client)
    return tmp_path


def _one_of_by_validity(validator, one_of, instance, schema):
    """``oneOf`` with each branch decided by ``is_valid``, which stops at a branch's first error.

    jsonschema's own keyword lists every error of each branch before the matching
    one, to explain a failure, which makes checking a week of messages against
    sixteen envelopes about four times slower. The verdict is the same, and on a
    mismatch the standard keyword reports.
    """
    matches = sum(validator.evolve(schema=branch).is_valid(instance) for branch in one_of)
    if matches != 1:
        yield from jsonschema.Draft202012Validator.VALIDATORS["oneOf"](validator, one_of, instance, schema)


_QuickOneOf = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"oneOf": _one_of_by_validity})


def default_run() -> tuple[list[dict[str, Any]], dict[type[Event], dict[str, Any]]]:
    """Every message the catalog's default scenario emits, and the first of each event class."""
    scenario = load_scenario(load_catalog(ROOT / "scenarios.toml").resolve("default"))
    messages, firsts = [], {}
    for emitted in Playout(scenario).advance(scenario.duration_ms):
        message = wire.to_message(emitted.event)
        messages.append(message)
        firsts.setdefault(type(emitted.event), message)
    return messages, firsts


def test_jsonschema_prints_one_document_with_a_titled_envelope_per_message(capsys):
    document = json.loads(schema_output("jsonschema", capsys))
    assert document == messages_schema()
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["title"] == "GrimnirMessage"
    assert document["oneOf"] == [{"$ref": f"#/$defs/{name}"} for name in ENVELOPES]
    defs = document["$defs"]
    each_pair = [name for cls in EVENT_CLASSES for name in (cls.__name__, f"{cls.__name__}Message")]
    assert list(defs) == [*each_pair, "PingMessage"]
    assert all(schema["title"] == name for name, schema in defs.items())
    wire_names = [defs[name]["properties"]["type"]["const"] for name in ENVELOPES]
    assert list(dict.fromkeys(wire_names)) == [*EVENT_TYPES, "ping"]
    for cls in EVENT_CLASSES:
        envelope = defs[f"{cls.__name__}Message"]
        assert envelope["properties"]["payload"] == {"$ref": f"#/$defs/{cls.__name__}"}
        assert envelope["required"] == ["type", "payload"]
        assert envelope["additionalProperties"] is False
    assert defs["PingMessage"]["required"] == ["type"]


def test_the_document_accepts_every_message_of_the_default_scenario():
    document = messages_schema()
    messages, firsts = default_run()
    assert set(firsts) == set(EVENT_CLASSES), "the default scenario shows every payload shape"
    whole = _QuickOneOf(document, format_checker=FORMATS)
    for message in [*messages, json.loads(wire.PING)]:
        whole.validate(message)
    # Each shape's first message under jsonschema's own oneOf, and under its own envelope.
    standard = jsonschema.Draft202012Validator(document, format_checker=FORMATS)
    for cls, message in firsts.items():
        standard.validate(message)
        own = {"$defs": document["$defs"], "$ref": f"#/$defs/{cls.__name__}Message"}
        jsonschema.Draft202012Validator(own, format_checker=FORMATS).validate(message)


def test_the_document_rejects_a_message_whose_type_is_wrong():
    standard = jsonschema.Draft202012Validator(messages_schema(), format_checker=FORMATS)
    _, firsts = default_run()
    for cls, message in firsts.items():
        for other in EVENT_TYPES:
            if other != cls.TYPE:
                assert not standard.is_valid({**message, "type": other}), (cls.__name__, other)
        assert not standard.is_valid({**message, "type": cls.TYPE.upper()})
        assert not standard.is_valid({"payload": message["payload"]})
    assert standard.is_valid({"type": "ping"})
    assert not standard.is_valid({"type": "pong"})
    assert not standard.is_valid({"type": "ping", "payload": {}})


def test_schema_help_explains_each_kind_with_an_example(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["schema", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "{asyncapi,jsonschema,typescript}" in text
    for example in (
        "grimnir-sim schema > asyncapi.yaml",
        "grimnir-sim schema jsonschema > grimnir-events.schema.json",
        "npx json-schema-to-typescript grimnir-events.schema.json > grimnir-events.d.ts",
        "grimnir-sim schema typescript > grimnir-events.ts",
    ):
        assert example in text
    for kind in ("asyncapi:", "jsonschema:", "typescript:"):
        assert kind in text


def test_an_unknown_schema_kind_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["schema", "protobuf"])
    assert exited.value.code == 2
    assert "invalid choice: 'protobuf'" in capsys.readouterr().err


def test_typescript_declares_each_payload_and_message_and_the_union(capsys):
    text = schema_output("typescript", capsys)
    assert text.startswith("// Generated by `grimnir-sim schema typescript`")
    assert text == typescript_declarations(messages_schema())
    union = re.search(r"export type GrimnirMessage =((?:\n  \| \w+)+);", text)
    assert union is not None
    assert union.group(1).split("\n  | ")[1:] == ENVELOPES
    for name in PAYLOADS + ENVELOPES:
        assert f"\nexport interface {name} {{\n" in text
    assert 'export interface PingMessage {\n  type: "ping";\n}' in text
    assert (
        "export interface LiveHandover {\n"
        "  /** format: uuid */\n  station_id: string;\n"
        "  /** format: uuid */\n  session_id: string;\n"
        "  /** format: uuid */\n  user_id: string;\n"
        "  username: string;\n"
        "  priority: 1 | 2;\n"
        '  transition_type: "immediate" | "faded" | "delayed";\n'
        "  /** format: date-time */\n  handover_at: string;\n"
        "}"
    ) in text
    assert "  duration: number;\n" in text
    assert "  entries_added: number;\n" in text
    media_message = (
        'export interface NowPlayingMediaMessage {\n  type: "now_playing";\n  payload: NowPlayingMedia;\n}'
    )
    assert media_message in text


CONSTRUCTS = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Shape",
    "anyOf": [{"$ref": "#/$defs/Box"}, {"type": "null"}],
    "$defs": {
        "Box": {
            "type": "object",
            "description": "Every construct the mapping knows.",
            "properties": {
                "id": {"type": "string", "format": "uuid", "pattern": "^[0-9a-f-]+$"},
                "count": {"type": "integer", "minimum": 0},
                "ratio": {"type": "number"},
                "open": {"type": "boolean"},
                "kind": {"const": "box"},
                "size": {"enum": ["s", "m", 3]},
                "note": {"type": ["string", "null"], "description": "nullable"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "grid": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "either": {
                    "type": "array",
                    "items": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/Box"}]},
                },
                "anything": {},
                "meta": {
                    "type": "object",
                    "properties": {"by": {"type": "string"}},
                    "required": ["by"],
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "content-type": {"type": "string"},
            },
            "required": ["id", "count", "kind"],
            "additionalProperties": False,
        },
    },
}

CONSTRUCTS_TS = """\
// Generated by `grimnir-sim schema typescript` from playout/protocol/events.py; do not edit by hand.

export type Shape = Box | null;

/** Every construct the mapping knows. */
export interface Box {
  /** format: uuid */
  id: string;
  count: number;
  ratio?: number;
  open?: boolean;
  kind: "box";
  size?: "s" | "m" | 3;
  /** nullable */
  note?: string | null;
  tags?: string[];
  grid?: number[][];
  either?: (string | Box)[];
  anything?: unknown;
  meta?: {
    by: string;
    [key: string]: unknown;
  };
  labels?: {
    [key: string]: string;
  };
  "content-type"?: string;
}
"""


def test_the_mapping_covers_objects_optionals_literals_nullables_arrays_and_numbers():
    assert typescript_declarations(CONSTRUCTS) == CONSTRUCTS_TS


@pytest.mark.parametrize(
    ("schema", "complaint"),
    [
        ({"title": "T", "allOf": [{"type": "string"}]}, "#: no TypeScript mapping for allOf"),
        ({"title": "T", "$ref": "other.json#/$defs/X"}, "only references into this document's $defs map"),
        ({"title": "T", "$ref": "#/$defs/Missing"}, "only references into this document's $defs map"),
        ({"title": "T", "type": "object", "required": ["a"]}, "#/required: a not among the properties"),
        ({"title": "T", "const": "a", "enum": ["a"]}, "#: no TypeScript mapping for const with enum"),
        (
            {"title": "T", "oneOf": [{"type": "string"}], "type": "object", "properties": {}},
            "#: no TypeScript mapping for oneOf with type with properties",
        ),
        (
            {"title": "T", "properties": {"a": {}}, "additionalProperties": {"type": "string"}},
            "#/additionalProperties: a schema beside properties has no TypeScript index type",
        ),
        ({"title": "T", "type": "date"}, "#/type: 'date' is not a JSON Schema type"),
        ({"title": "T", "const": {"a": 1}}, "#/const: no TypeScript literal"),
        ({"title": "not a name"}, "#: 'not a name' is not a TypeScript type name"),
        ({"oneOf": []}, "the document needs a title"),
        ({"title": "X", "$defs": {"X": {"type": "string"}}}, "two declarations would be named X"),
        (
            {"title": "T", "$defs": {"A": {"type": "object", "properties": {"p": {"if": {}}}}}},
            "#/$defs/A/properties/p: no TypeScript mapping for if",
        ),
    ],
)
def test_the_mapping_refuses_what_it_cannot_express(schema, complaint):
    with pytest.raises(UnmappedSchema, match=re.escape(complaint)):
        typescript_declarations(schema)


def test_a_typed_client_compiles_against_schema_typescript(capsys, tmp_path):
    client = CLIENT.read_text()
    assert set(re.findall(r'case "([^"]+)":', client)) == {*EVENT_TYPES, "ping"}
    directory = client_with(tmp_path, schema_output("typescript", capsys), "grimnir-events.ts")
    (directory / "constructs.ts").write_text(CONSTRUCTS_TS + CONSTRUCTS_USE)
    compiled = tsc(directory, "client.ts", "constructs.ts")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


CONSTRUCTS_USE = """
export const full: Shape = {
  id: "0b8e1f6e-7c1d-5d8e-9a43-3f0c5e1d2a10", count: 2, ratio: 0.5, open: true, kind: "box", size: 3,
  note: null, tags: ["a"], grid: [[1, 2]], either: ["b"], anything: [1], meta: { by: "me", extra: 1 },
  labels: { a: "b" }, "content-type": "audio/mpeg",
};
export const none: Shape = null;
// @ts-expect-error: count is required
export const noCount: Box = { id: "x", kind: "box" };
// @ts-expect-error: kind is the literal "box"
export const wrongKind: Box = { id: "x", count: 1, kind: "crate" };
// @ts-expect-error: tags hold strings
export const numberTags: Box = { id: "x", count: 1, kind: "box", tags: [1] };
// @ts-expect-error: labels map to strings
export const numberLabels: Box = { id: "x", count: 1, kind: "box", labels: { a: 1 } };
"""


def test_the_exhaustiveness_check_catches_a_missing_message_type(capsys, tmp_path):
    without_ping = re.sub(r'\n *case "ping":[^\n]*', "", CLIENT.read_text())
    assert 'case "ping"' not in without_ping
    directory = client_with(tmp_path, schema_output("typescript", capsys), "grimnir-events.ts", without_ping)
    compiled = tsc(directory, "client.ts")
    assert compiled.returncode != 0
    assert "Argument of type 'PingMessage' is not assignable to parameter of type 'never'" in compiled.stdout


def test_json_schema_to_typescript_makes_the_same_union_and_the_client_compiles(capsys, tmp_path):
    json2ts = node_tool("json2ts")
    schema_file = tmp_path / "grimnir-events.schema.json"
    schema_file.write_text(schema_output("jsonschema", capsys))
    generated = subprocess.run(
        [json2ts, "--input", schema_file, "--output", tmp_path / "grimnir-events.d.ts"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stderr
    text = (tmp_path / "grimnir-events.d.ts").read_text()
    union = re.search(r"export type GrimnirMessage =([^;]*);", text)
    assert union is not None
    assert [name.strip() for name in union.group(1).split("|") if name.strip()] == ENVELOPES
    for name in PAYLOADS + ENVELOPES:
        assert f"\nexport interface {name} {{\n" in text
    assert re.search(r'export interface PingMessage \{\n  type: "ping";\n\}', text)
    (tmp_path / "client.ts").write_text(CLIENT.read_text())
    compiled = tsc(tmp_path, "client.ts")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
