"""The AsyncAPI 3.0 contract of the real Grimnir server's wire (``grimnir-sim schema --profile grimnir``).

``docs/asyncapi-grimnir.yaml`` is this module's output (a test fails when it is
stale). Each message is one shape of :mod:`playout.profiles.grimnir_schemas`; its
example is the first message of that shape the ``grimnir`` profile sends in the
shipped scenario :data:`EXAMPLES` names for it. The shapes that only a request
makes (a skip, an operator's handover, a manual failover or reset, the REST
handlers' audit duplicates) have no example: ``run``'s scenarios make none.
"""

import json
from collections.abc import Callable
from typing import Any

import jsonschema

from playout import GRIMNIR, GRIMNIR_SHAPES, MessageShape, Scenario, envelope_schema, run_virtual, wire

from .contract import BEARER, QUERY_TOKEN, asyncapi_message, asyncapi_of, to_yaml

EXAMPLES = {
    "NowPlayingEntryTrack": "edge-all-urls-down",
    "NowPlayingRotationTrack": "edge-schedule-gap",
    "NowPlayingPlaylistFirstTrack": "dj-takeover",
    "NowPlayingPlaylistNextTrack": "dj-takeover",
    "NowPlayingWebstream": "edge-all-urls-down",
    "NowPlayingLiveEntry": "show-without-dj",
    "NowPlayingLive": "dj-takeover",
    "HealthSnapshot": "dj-takeover",
    "PriorityEmergency": "emergency",
    "PriorityEmergencyPreempting": "emergency",
    "PriorityOverrideSwitch": "dj-takeover",
    "PriorityChangeSwitch": "show-with-dj",
    "PriorityReleasedFallback": "dj-takeover",
    "DjConnect": "dj-takeover",
    "DjDisconnect": "dj-takeover",
    "WebstreamFailoverAuto": "webstream-failover",
    "WebstreamRecoveredAuto": "webstream-failover",
    "WebstreamHealth": "edge-all-urls-down",
}
"""Which shipped scenario shows each shape that a scenario can make (its example comes from there)."""
HEALTH_TICK_MS = 60_000
"""The snapshot cadence of the example runs: one a minute is plenty for an example, and quick."""
API_KEY = {
    "type": "httpApiKey",
    "name": "X-API-Key",
    "in": "header",
    "description": "An API key, checked before any JWT; its user's platform role is the token's role.",
}


def _validators() -> dict[str, list[tuple[MessageShape, jsonschema.Draft202012Validator]]]:
    by_type: dict[str, list[tuple[MessageShape, jsonschema.Draft202012Validator]]] = {}
    for shape in GRIMNIR_SHAPES:
        validator = jsonschema.Draft202012Validator(
            envelope_schema(shape.type, shape.payload),
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        by_type.setdefault(shape.type, []).append((shape, validator))
    return by_type


_VALIDATORS = _validators()


def shapes_of(message: dict[str, Any]) -> list[MessageShape]:
    """The shapes ``message`` matches: exactly one for every message of the real wire."""
    return [
        shape
        for shape, validator in _VALIDATORS.get(message.get("type", ""), [])
        if validator.is_valid(message)
    ]


def explain(message: dict[str, Any]) -> str:
    """Why ``message`` matches no single shape: each shape of its type and its first objection."""
    lines = [f"matches {[shape.name for shape in shapes_of(message)]} of the real wire's shapes: {message}"]
    for shape, validator in _VALIDATORS.get(message.get("type", ""), []):
        error = jsonschema.exceptions.best_match(validator.iter_errors(message))
        lines.append(f"  {shape.name}: {'matches' if error is None else error.message}")
    return "\n".join(lines)


def grimnir_messages(scenario: Scenario, until_ms: int | None = None) -> list[dict[str, Any]]:
    """Every message the ``grimnir`` profile sends in a ``run`` of ``scenario`` (snapshots once a minute),
    as the wire has it."""
    sent: list[dict[str, Any]] = []

    def keep(batch: list) -> None:
        sent.extend(json.loads(wire.encode(emitted.event)) for emitted in batch)  # keys as Go sorts them

    translator = GRIMNIR.translator
    assert translator is not None
    until = scenario.duration_ms if until_ms is None else until_ms
    run_virtual(scenario, until, keep, translator(scenario, HEALTH_TICK_MS))
    return sent


def grimnir_asyncapi_document(load: Callable[[str], Scenario]) -> dict[str, Any]:
    """The contract; ``load`` turns a scenario's catalog name into the :class:`Scenario` to run."""
    examples: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(EXAMPLES.values()):
        for message in grimnir_messages(load(name)):
            for shape in shapes_of(message):
                if EXAMPLES.get(shape.name) == name:
                    examples.setdefault(shape.name, message)
    missing = sorted(set(EXAMPLES) - set(examples))
    if missing:
        raise ValueError(f"no example of {', '.join(missing)} where EXAMPLES says")
    messages = {}
    for shape in GRIMNIR_SHAPES:
        name = shape.name[0].lower() + shape.name[1:]
        messages[name] = asyncapi_message(
            shape.type,
            f"{shape.type} ({shape.name})",
            shape.envelope_description,
            shape.payload,
            examples.get(shape.name),
            name,
        )
    return asyncapi_of(
        title="Grimnir Radio event stream: the real server's wire (grimnir-sim --profile grimnir)",
        description=(
            "What the real Grimnir server (friendsincode/grimnir_radio at commit 4b8b2c5f) sends on "
            "/api/v1/events, as grimnir-sim serves it with --profile grimnir. Every message is a Go map "
            'marshalled by encoding/json: {"payload": {...}, "type": ...}, keys sorted at every level, '
            "<, > and & escaped; times RFC 3339 with up to nine fraction digits, trailing zeros trimmed; "
            "integral float64 values without .0. Several types come in shapes, one message per shape; "
            "REST handlers send a second, audit message of the same type. See docs/fidelity.md for every "
            "difference from the documented protocol (docs/asyncapi.yaml)."
        ),
        messages=messages,
        channel_description=(
            "Subscribe with the types query parameter. Every token may subscribe and gets every "
            "station's events. One 8-message queue per listed type: a full queue drops silently; a type "
            "listed twice is delivered twice. No connection or rate limit: the refusals are 401 for a "
            "bad token or API key and 503 when live updates are switched off. The server never reads "
            "from the socket (no pong, no close reply)."
        ),
        types_description=(
            "Comma-separated event types, split on commas, empty parts skipped before trimming, no "
            "dedupe, no validation (an unknown name subscribes to nothing). Absent: "
            + ",".join(t for t in GRIMNIR.event_types if t in GRIMNIR.default_types)
            + "."
        ),
        types_example="now_playing,health,webstream.health",
        security={"bearer": BEARER, "queryToken": QUERY_TOKEN, "apiKey": API_KEY},
    )


def grimnir_asyncapi_yaml(load: Callable[[str], Scenario]) -> str:
    return to_yaml(
        grimnir_asyncapi_document(load),
        "grimnir-sim schema --profile grimnir",
        "playout/profiles/grimnir_schemas.py",
    )
