"""The real wire's contract: docs/asyncapi-grimnir.yaml is current and valid, and every message the
``grimnir`` profile sends matches exactly one of its shapes (playout/profiles/grimnir_schemas.py).

The shapes follow friendsincode/grimnir_radio at 4b8b2c5f; each names the Go code it
was read from. A scenario run is checked message by message; the tables below say
which shipped scenario shows each shape, and which request shows the shapes that no
scenario's timeline can make.
"""

import json
import subprocess
import sys
from collections.abc import Callable

import jsonschema
import pytest
import yaml

from playout import GRIMNIR, GRIMNIR_SHAPES, PROFILES, Emitted, inputs, load_catalog, load_scenario
from playout.drivers.cli import main
from playout.protocol.wire import WireEvent
from playout.testing import event
from server.contract_grimnir import EXAMPLES, explain, grimnir_asyncapi_yaml, grimnir_messages, shapes_of
from server.hub import Hub
from server.typescript import typescript_declarations
from tests.support import ROOT, shipped
from tests.test_contract import SPECS
from tests.test_profile_grimnir import Wire
from tests.test_typed_clients import client_with, tsc

CATALOG = load_catalog(ROOT / "scenarios.toml")
NAMES = sorted(CATALOG.entries)
CONTRACT_FILE = ROOT / "docs" / "asyncapi-grimnir.yaml"
SHAPE_NAMES = [shape.name for shape in GRIMNIR_SHAPES]


@pytest.fixture(scope="module")
def runs() -> dict[str, list[dict]]:
    """Every shipped scenario's whole run through the grimnir profile (snapshots once a minute)."""
    return {name: grimnir_messages(load_scenario(CATALOG.resolve(name))) for name in NAMES}


def shape_name(message: dict) -> str:
    matching = shapes_of(message)
    assert len(matching) == 1, explain(message)
    return matching[0].name


# -- the document --------------------------------------------------------------------------------


def test_the_grimnir_contract_file_is_current():
    generated = grimnir_asyncapi_yaml(lambda name: shipped(name))
    assert CONTRACT_FILE.read_text() == generated, (
        "run: grimnir-sim schema --profile grimnir > docs/asyncapi-grimnir.yaml"
    )


def test_the_grimnir_contract_is_a_valid_asyncapi_3_document_whose_examples_fit():
    official = json.loads((SPECS / "schemas" / "3.0.0.json").read_text())
    contract = yaml.safe_load(CONTRACT_FILE.read_text())
    jsonschema.Draft7Validator(official).validate(contract)
    messages = contract["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {*GRIMNIR.event_types, "ping"}
    assert len(messages) == len(GRIMNIR_SHAPES) + 1
    with_examples = set()
    for message in messages.values():
        for example in message.get("examples", []):
            jsonschema.Draft202012Validator(
                message["payload"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            ).validate(example["payload"])
            with_examples.add(message["title"])
    assert len(with_examples) == len(EXAMPLES) + 1  # and the heartbeat's
    security = contract["components"]["securitySchemes"]
    assert security["apiKey"] == {**security["apiKey"], "in": "header", "name": "X-API-Key"}


def test_the_document_is_valid_json_schema_and_its_shapes_are_strict():
    """Closed where the real map is fixed; open only where publishNowPlaying
    (internal/playout/director.go:4249-4270) merges the entry's metadata, and where publishEvent
    (internal/priority/service.go:212-246) merges the new source's."""
    document = GRIMNIR.messages_schema()
    jsonschema.Draft202012Validator.check_schema(document)
    merged = {shape.name for shape in GRIMNIR_SHAPES if shape.payload["additionalProperties"] is not False}
    assert merged == {
        "NowPlayingEntryTrack", "NowPlayingRotationTrack", "NowPlayingPlaylistFirstTrack",
        "NowPlayingPlaylistNextTrack", "NowPlayingWebstream", "NowPlayingLiveEntry", "PriorityEmergency",
        "PriorityEmergencyPreempting", "PriorityOverrideSwitch", "PriorityOverridePreempt",
        "PriorityChangeSwitch", "PriorityReleasedRelease",
    }  # fmt: skip
    formats = {
        key: schema.get("format")
        for shape in GRIMNIR_SHAPES
        for key, schema in shape.payload["properties"].items()
        if isinstance(schema, dict)
    }
    assert formats["station_id"] == "uuid" and formats["session_id"] == "uuid"
    assert formats["started_at"] == formats["handover_at"] == formats["released_at"] == "date-time"


# -- the command ---------------------------------------------------------------------------------


def test_schema_prints_each_profiles_documents(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["schema", "--profile", "grimnir"]) == 0
    assert capsys.readouterr().out == CONTRACT_FILE.read_text()
    assert main(["schema", "--profile", "documented"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "asyncapi.yaml").read_text()
    assert main(["schema", "jsonschema", "--profile", "grimnir"]) == 0
    assert json.loads(capsys.readouterr().out) == GRIMNIR.messages_schema()
    assert main(["schema", "typescript", "--profile", "grimnir"]) == 0
    declarations = capsys.readouterr().out
    assert declarations == typescript_declarations(
        GRIMNIR.messages_schema(),
        "grimnir-sim schema typescript --profile grimnir",
        "playout/profiles/grimnir_schemas.py",
    )
    assert "export type GrimnirServerMessage =" in declarations
    assert "  playlist_id?: never;\n" in declarations  # a later playlist track has none


def test_an_unknown_profile_is_one_line_naming_the_known_ones():
    done = subprocess.run(
        [sys.executable, "-m", "playout", "schema", "--profile", "icecast"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert all(f"'{name}'" in done.stderr for name in PROFILES)


# -- every message of every run ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_message_of_a_run_matches_exactly_one_shape(runs, name):
    assert runs[name], f"{name} sends nothing"
    for message in runs[name]:
        shape_name(message)


def test_each_shape_a_scenario_can_make_shows_in_the_scenario_the_table_names(runs):
    shown: dict[str, set[str]] = {}
    for name, messages in runs.items():
        for message in messages:
            shown.setdefault(shape_name(message), set()).add(name)
    assert {shape: name for shape, name in EXAMPLES.items() if name not in shown.get(shape, ())} == {}
    assert set(shown) == set(EXAMPLES), "a new shape in a run: name its scenario in EXAMPLES"


def _skip(station: Wire) -> list[dict]:
    station.advance(60_000)
    return station.submit(inputs.Skip(station="main"))


def _metadata_update(station: Wire) -> list[dict]:
    station.advance(60_000)
    station.submit(inputs.ConnectDj(station="main", dj="mike", priority=1))
    return station.submit(inputs.UpdateMetadata(station="main", dj="mike", title="Night Drive", artist="Kai"))


def _failover_and_reset(station: Wire) -> list[dict]:
    station.advance(60_000)
    key = next(iter(station.core.scenario.webstreams))
    return station.submit(inputs.ForceFailover(webstream=key)) + station.submit(
        inputs.ResetWebstream(webstream=key)
    )


def _handover_preempt_and_release(station: Wire) -> list[dict]:
    """Mike on air at tier 2, Sarah waiting at tier 2; an operator hands over to Sarah at tier 1 (she
    preempts Mike), releases her handover, and Mike leaves while an emergency holds the air."""
    station.advance(60_000)
    sent = station.submit(inputs.ConnectDj(station="main", dj="mike", priority=2))
    sent += station.submit(inputs.ConnectDj(station="main", dj="sarah", priority=2))
    session = station.core.stations["main"].sessions["sarah"].id
    sent += station.submit(inputs.HandOver(station="main", session=session, priority=1))
    sent += station.submit(inputs.Release(station="main", target="dj", name="sarah"))
    alert = next(iter(station.core.scenario.tracks))
    sent += station.submit(inputs.InsertEmergency(station="main", media=alert))
    return sent + station.submit(inputs.DisconnectDj(station="main", dj="mike"))


REQUESTED: dict[str, tuple[str, Callable[[Wire], list[dict]]]] = {
    "NowPlayingSkipped": ("dj-takeover", _skip),
    "NowPlayingLive": ("dj-takeover", _metadata_update),
    "WebstreamFailoverManual": ("webstream-failover", _failover_and_reset),
    "WebstreamRecoveredReset": ("webstream-failover", _failover_and_reset),
    "PriorityOverridePreempt": ("dj-queue", _handover_preempt_and_release),
    "LiveHandover": ("dj-queue", _handover_preempt_and_release),
    "LiveReleased": ("dj-queue", _handover_preempt_and_release),
    "PriorityReleasedRelease": ("dj-queue", _handover_preempt_and_release),
}
"""Shapes only a request makes (no timeline action, or no shipped scenario uses it): the scenario it is
made on, and the requests."""


@pytest.mark.parametrize("shape", sorted(REQUESTED))
def test_each_shape_a_request_makes_shows_after_that_request(shape):
    name, requests = REQUESTED[shape]
    sent = requests(Wire(name))
    assert shape in [shape_name(message) for message in sent]


def test_a_metadata_update_is_the_live_shape_with_the_songs_artist_and_title():
    """internal/harbor/server.go:598-607: the connect's keys, artist and title from the song."""
    (update,) = _metadata_update(Wire("dj-takeover"))
    assert shape_name(update) == "NowPlayingLive"
    assert (update["payload"]["artist"], update["payload"]["title"]) == ("Kai", "Night Drive")


AUDIT_EXAMPLE = {
    "payload": {
        "ip_address": "127.0.0.1:51234",
        "media_id": "0b5e4e2c-9a43-4d36-9a62-6a1c1c0e2f11",
        "mount_id": "",
        "resource_id": "6f1f0a54-3b8e-4b53-a7a8-1a3b9d7f0c22",
        "resource_type": "priority_source",
        "station_id": "2d0c8f3e-5b1a-4c7e-9f6d-8e2a1b3c4d55",
        "user_agent": "curl/8.5.0",
        "user_id": "u1",
    },
    "type": "priority.emergency",
}
"""The spec's example of an audit duplicate (internal/api/api.go:2319-2328, priority.go:69-75)."""


def test_the_audit_duplicates_are_told_from_the_services_messages():
    """internal/api/api.go:2298-2328: auditContext merged with the handler's keys, published on the same
    type after the service's message; the REST layer sends them (serve), so a run has none."""
    assert shape_name(AUDIT_EXAMPLE) == "PriorityEmergencyAudit"
    with_email = {**AUDIT_EXAMPLE, "payload": {**AUDIT_EXAMPLE["payload"], "user_email": "a@example.org"}}
    assert shape_name(with_email) == "PriorityEmergencyAudit"
    stray = {**AUDIT_EXAMPLE, "payload": {**AUDIT_EXAMPLE["payload"], "detail": "x"}}
    assert shapes_of(stray) == []
    # The request's ids are echoed as sent (Postgres reads a UUID in any case); the server's own are not.
    payload = AUDIT_EXAMPLE["payload"]
    shouted = {**AUDIT_EXAMPLE, "payload": {**payload, "station_id": payload["station_id"].upper()}}
    assert shape_name(shouted) == "PriorityEmergencyAudit"
    generated = {**AUDIT_EXAMPLE, "payload": {**payload, "resource_id": payload["resource_id"].upper()}}
    assert shapes_of(generated) == []
    audits = {name for name in SHAPE_NAMES if name.endswith("Audit")}
    assert audits == {
        "PriorityEmergencyAudit", "PriorityOverrideAudit", "PriorityReleasedAudit", "LiveHandoverAudit",
        "WebstreamFailoverAudit", "DjConnectAudit", "DjDisconnectAudit",
    }  # fmt: skip
    assert set(SHAPE_NAMES) == set(EXAMPLES) | set(REQUESTED) | audits


def test_a_webstream_override_puts_no_now_playing_on_the_wire():
    """internal/executor/executor.go:481-498: priority sources never reach the real server's audio, so
    an override of a webstream is announced by no now_playing (as an override of media is not).
    community-week's Saturday match relay comes after Friday's emergency, whose row stays active
    (internal/priority/resolver.go:126-227), so the real server refuses it: no priority event either;
    the mount's snapshots meanwhile stay well formed."""
    station = Wire("community-week", health_tick_ms=60_000)
    saturday_2pm = (5 * 24 + 14) * 3600_000
    station.advance(saturday_2pm - 1)
    sent = station.advance(saturday_2pm + 60_000)
    assert {m["type"] for m in sent} == {"health", "webstream.health"}
    assert {shape_name(m) for m in sent} == {"HealthSnapshot", "WebstreamHealth"}


def test_the_suites_check_of_published_messages_holds_the_real_wires_to_its_contract():
    """tests/conftest.py checks every message a served station publishes: a grimnir message too (here
    a dj_connect with the documented source_ip, which internal/live/service.go:263-271 has not)."""
    station = Wire("dj-takeover")
    (connect,) = [
        m for m in station.submit(inputs.ConnectDj(station="main", dj="mike")) if m["type"] == "dj_connect"
    ]
    Hub().publish([Emitted(0, WireEvent("dj_connect", connect["payload"], go=True))])
    stray = WireEvent("dj_connect", {**connect["payload"], "source_ip": "127.0.0.1"}, go=True)
    with pytest.raises(AssertionError, match="DjConnect: Additional properties"):
        Hub().publish([Emitted(0, stray)])


SERVER_CLIENT = """\
import type { GrimnirServerMessage } from "./grimnir-server-events";

export function show(text: string): string {
  const message = JSON.parse(text) as GrimnirServerMessage;
  switch (message.type) {
    case "now_playing":
      if ("skipped" in message.payload) return `skipped on ${message.payload.mount_id}`;
      if ("is_live_dj" in message.payload) return `${message.payload.artist}: ${message.payload.title}`;
      if (message.payload.source_type === "playlist") return `#${message.payload.position}`;
      return message.payload.entry_id;
    case "priority.released":
      // The audit duplicate has no transition_type; the service's shapes are open (merged metadata).
      if (!("transition_type" in message.payload)) return message.payload.resource_id;
      return message.payload.transition_type === "release"
        ? `${message.payload.new_priority}`
        : `${message.payload.old_priority}`;
    case "webstream.failover":
      if ("manual" in message.payload) return `${message.payload.current_index}`;
      if ("auto" in message.payload) return message.payload.reason;
      return message.payload.new_url;
    case "dj_connect":
      return "preempted" in message.payload ? `${message.payload.priority}` : message.payload.session_user;
    default:
      return message.type;
  }
}
"""


def test_the_typescript_of_the_real_wire_narrows_on_type_and_shape(tmp_path, capsys):
    """A client switching on type, then on a shape's own key or constant, compiles with tsc --strict."""
    assert main(["schema", "typescript", "--profile", "grimnir"]) == 0
    folder = client_with(tmp_path, capsys.readouterr().out, "grimnir-server-events.ts", SERVER_CLIENT)
    done = tsc(folder, "client.ts")
    assert done.returncode == 0, done.stdout + done.stderr
    wrong = SERVER_CLIENT.replace("message.payload.current_index", "message.payload.to_index")
    done = tsc(
        client_with(
            tmp_path, (folder / "grimnir-server-events.ts").read_text(), "grimnir-server-events.ts", wrong
        ),
        "client.ts",
    )
    assert done.returncode != 0 and "to_index" in done.stdout


async def test_a_matcher_in_the_grimnir_profile_names_the_real_wires_fields(grimnir):
    """The plugin refuses a payload key no shape of that type has (dj_connect has no source_ip,
    internal/live/service.go:263-271) and finds one that the real wire has."""
    station = await grimnir.start("dj-takeover", profile="grimnir", health_tick_ms=60_000)
    with pytest.raises(ValueError, match=r"unknown payload field 'source_ip' of dj_connect"):
        await station.expect([event("dj_connect", source_ip="203.0.113.5")], within="1d")
    (connect,) = await station.expect([event("dj_connect", preempted=False, priority=1)], within="1d")
    assert connect.payload["username"] == "DJ Mike"
    assert GRIMNIR.payload_fields is not None
    assert GRIMNIR.payload_fields["priority.released"] >= {"new_priority", "resource_id", "session_id"}
