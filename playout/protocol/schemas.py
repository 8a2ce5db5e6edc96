"""JSON Schemas of the wire messages, derived from the event classes."""

import types
import typing
from typing import Any

import attrs

from .events import EVENT_CLASSES, Event, Timestamp, Uuid

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_RFC3339_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _field_schema(annotation: Any) -> dict[str, Any]:
    if annotation is Uuid:
        return {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}
    if annotation is Timestamp:
        return {"type": "string", "format": "date-time", "pattern": _RFC3339_Z}
    if annotation is str:
        return {"type": "string"}
    if annotation is int:
        return {"type": "integer", "minimum": 0}
    if annotation is float:
        return {"type": "number", "minimum": 0}
    if typing.get_origin(annotation) is typing.Literal:
        values = list(typing.get_args(annotation))
        kind = "integer" if all(isinstance(v, int) for v in values) else "string"
        if len(values) == 1:
            return {"type": kind, "const": values[0]}
        return {"type": kind, "enum": values}
    if isinstance(annotation, types.UnionType):  # pragma: no cover - no such field today
        raise TypeError(f"unions are not wire types: {annotation!r}")
    raise TypeError(f"no JSON type for {annotation!r}")


def payload_schema(cls: type[Event]) -> dict[str, Any]:
    """The payload schema of one event class: every documented field, nothing else."""
    hints = typing.get_type_hints(cls)
    names = [field.name for field in attrs.fields(cls)]
    return {
        "type": "object",
        "title": cls.__name__,
        "description": (cls.__doc__ or cls.TYPE).strip().splitlines()[0],
        "properties": {name: _field_schema(hints[name]) for name in names},
        "required": names,
        "additionalProperties": False,
    }


MESSAGE_TITLE = "GrimnirMessage"
"""The title of the one document (and the union type generators name after it)."""
PING_TITLE = "PingMessage"


def envelope_schema(event_type: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """The envelope ``{"type": …, "payload": …}`` of one message; with no payload, ``{"type": …}`` (ping)."""
    properties: dict[str, Any] = {"type": {"type": "string", "const": event_type}}
    if payload is not None:
        properties["payload"] = payload
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@attrs.frozen
class MessageShape:
    """One payload shape of a message type, as a document names it: ``name`` in ``$defs``, its
    envelope ``{name}Message``."""

    type: str
    name: str
    envelope_description: str
    payload: dict[str, Any]


def messages_document(title: str, description: str, shapes: list[MessageShape]) -> dict[str, Any]:
    """One JSON Schema (draft 2020-12) that every message of a wire matches, the heartbeat included.

    The root is a ``oneOf`` over one envelope per payload shape (a type with variants
    has one envelope per variant) and the ``ping`` envelope. Envelopes and payloads
    live in ``$defs`` under titled names, so a generator (json-schema-to-typescript)
    names each one and turns the root into a union discriminated on ``type``; quicktype
    names them too but merges any union of objects into one.
    """
    defs: dict[str, Any] = {}
    for shape in shapes:
        defs[shape.name] = shape.payload
        defs[f"{shape.name}Message"] = {
            "title": f"{shape.name}Message",
            "description": shape.envelope_description,
            **envelope_schema(shape.type, {"$ref": f"#/$defs/{shape.name}"}),
        }
    defs[PING_TITLE] = {
        "title": PING_TITLE,
        "description": "The heartbeat, every 15 s from the connection's start; not an event.",
        **envelope_schema("ping"),
    }
    envelopes = [f"{shape.name}Message" for shape in shapes] + [PING_TITLE]
    return {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        "description": description,
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in envelopes],
        "$defs": defs,
    }


def messages_schema() -> dict[str, Any]:
    """The documented protocol's document (:func:`messages_document`), from the event classes."""
    shapes = [
        MessageShape(
            cls.TYPE,
            cls.__name__,
            f"A {cls.TYPE} message" + (f" ({cls.VARIANT} variant)." if cls.VARIANT else "."),
            payload_schema(cls),
        )
        for cls in EVENT_CLASSES
    ]
    return messages_document(
        MESSAGE_TITLE, "A message on /api/v1/events: an event envelope or the heartbeat.", shapes
    )
