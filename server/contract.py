"""The AsyncAPI 3.0 contract of ``GET /api/v1/events``, generated from the event classes.

``docs/asyncapi.yaml`` is this module's output (a test fails when it is stale).
Each message's payload schema comes from :mod:`playout.protocol.schemas`, and its example
is the first such event the default scenario emits, so the contract, the code
and the examples cannot drift apart.
"""

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import yaml

from playout import (
    EVENT_CLASSES,
    EVENT_TYPES,
    Event,
    Playout,
    Scenario,
    envelope_schema,
    payload_schema,
    wire,
)

from .hub import DEFAULT_TYPES

BINDING_VERSION = "0.1.0"


def _message_id(cls: type[Event]) -> str:
    name = cls.__name__
    return name[0].lower() + name[1:]


def _examples(scenario: Scenario) -> dict[type[Event], dict[str, Any]]:
    """The first event of each class in the scenario's run, as wire messages."""
    found: dict[type[Event], dict[str, Any]] = {}
    for emitted in Playout(scenario).advance(scenario.duration_ms):
        found.setdefault(type(emitted.event), wire.to_message(emitted.event))
    return found


def package_version() -> str:
    """The installed grimnir-sim's version, for the documents' ``info.version``."""
    try:
        return version("grimnir-sim")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def asyncapi_message(
    type_: str, title: str, summary: str, payload: dict[str, Any], example: dict[str, Any] | None, name: str
) -> dict[str, Any]:
    """One message of the channel: its envelope's schema and, when there is one, an example named ``name``."""
    message = {
        "name": type_,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "payload": envelope_schema(type_, payload),
    }
    if example is not None:
        message["examples"] = [{"name": name, "payload": example}]
    return message


PING_MESSAGE = {
    "name": "ping",
    "title": "heartbeat",
    "summary": 'The text message {"type":"ping"}, every 15 s from the connection\'s start; not an event.',
    "contentType": "application/json",
    "payload": envelope_schema("ping"),
    "examples": [{"name": "ping", "payload": {"type": "ping"}}],
}
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Authorization: Bearer <jwt> (HS256; claims uid, roles, station_id, exp).",
}
QUERY_TOKEN = {
    "type": "httpApiKey",
    "name": "token",
    "in": "query",
    "description": "The same JWT as ?token=, for browsers' WebSocket API.",
}


def asyncapi_of(
    *,
    title: str,
    description: str,
    messages: dict[str, Any],
    channel_description: str,
    types_description: str,
    types_example: str,
    security: dict[str, Any],
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``/api/v1/events`` with these ``messages`` (the heartbeat added)."""
    messages = {**messages, "ping": PING_MESSAGE}
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": package_version(), "description": description},
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "grimnir-sim serve (default address)",
                "security": [{"$ref": f"#/components/securitySchemes/{name}"} for name in security],
            }
        },
        "channels": {
            "events": {
                "address": "/api/v1/events",
                "title": "Station events",
                "description": channel_description,
                "messages": channel_messages,
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "query": {
                            "type": "object",
                            "properties": {
                                "types": {
                                    "type": "string",
                                    "description": types_description,
                                    "examples": [types_example],
                                },
                                "token": {
                                    "type": "string",
                                    "description": "A JWT (HS256), instead of the Authorization header.",
                                },
                            },
                        },
                        "bindingVersion": BINDING_VERSION,
                    }
                },
            }
        },
        "operations": {
            "receiveEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "Events of the subscribed types, in emission order, and the heartbeat.",
                "messages": [{"$ref": f"#/channels/events/messages/{name}"} for name in messages],
            }
        },
        "components": {"messages": messages, "securitySchemes": security},
    }


def asyncapi_document(example_scenario: Scenario) -> dict[str, Any]:
    """The documented protocol's contract, from the event classes."""
    examples = _examples(example_scenario)
    missing = [cls.__name__ for cls in EVENT_CLASSES if cls not in examples]
    if missing:
        raise ValueError(f"scenario '{example_scenario.name}' emits no example of {', '.join(missing)}")
    messages: dict[str, Any] = {}
    for cls in EVENT_CLASSES:
        summary = (cls.__doc__ or cls.TYPE).strip().splitlines()[0]
        variant = f" ({cls.VARIANT} variant)" if cls.VARIANT else ""
        name = _message_id(cls)
        messages[name] = asyncapi_message(
            cls.TYPE, f"{cls.TYPE}{variant}", summary, payload_schema(cls), examples[cls], name
        )
    return asyncapi_of(
        title="Grimnir Radio event stream (grimnir-sim)",
        description=(
            "Real-time events of a Grimnir Radio station over WebSocket, as documented on Grimnir's "
            "WebSocket Events page and served by grimnir-sim. Every message is a JSON text frame "
            '{"type": ..., "payload": {...}}; ids are UUID strings, times UTC RFC 3339 with Z, '
            "durations float seconds. See docs/protocol.md for the rules and decisions."
        ),
        messages=messages,
        channel_description=(
            "Subscribe with the types query parameter. A token with a station_id claim gets only "
            "that station's events and those of no station (webstream.failover and "
            "webstream.recovered). "
            "Refusals happen before the upgrade: 401 for a bad token, 403 for a station_id claim "
            "naming a station this server does not run, 429 past 100 new connections per IP per "
            "minute, 503 past 10,000 connections."
        ),
        types_description=(
            "Comma-separated event types; blanks trimmed, empty parts skipped, unknown names ignored; "
            "given more than once, every occurrence counts. Absent: "
            + ",".join(t for t in EVENT_TYPES if t in DEFAULT_TYPES)
            + "."
        ),
        types_example="now_playing,live.handover,live.released",
        security={"bearer": BEARER, "queryToken": QUERY_TOKEN},
    )


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, long strings folded for reading; a schema several
    properties share is written out at each (no YAML anchors for a reader to chase)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = ">" if len(value) > 80 and "\n" not in value and not re.search(r"\s$", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(document: dict[str, Any], command: str, source: str) -> str:
    """An AsyncAPI document as the YAML the docs keep, headed by the command and the code it comes from."""
    header = f"# Generated by `{command}` from {source}; do not edit by hand.\n"
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return header + body


def asyncapi_yaml(example_scenario: Scenario) -> str:
    return to_yaml(asyncapi_document(example_scenario), "grimnir-sim schema", "playout/protocol/events.py")
