"""JSON Schemas of the wire messages, derived from the event classes."""

import types
import typing
from typing import Any

import attrs

from .events import EVENT_CLASSES, Event, Timestamp, Uuid

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_RFC3339_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _field_schema(annotation: Any) -> dict[str, Any]:
    if annotation is Uuid:
        return {"type": "string", "format": "uuid", "pattern": _UUID}
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


def message_schema(event_type: str) -> dict[str, Any]:
    """The envelope ``{"type": …, "payload": …}`` for one wire name (variants as ``oneOf``)."""
    variants = [payload_schema(cls) for cls in EVENT_CLASSES if event_type == cls.TYPE]
    if not variants:
        raise KeyError(event_type)
    payload = variants[0] if len(variants) == 1 else {"oneOf": variants}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": event_type,
        "type": "object",
        "properties": {"type": {"const": event_type}, "payload": payload},
        "required": ["type", "payload"],
        "additionalProperties": False,
    }


def all_message_schemas() -> dict[str, dict[str, Any]]:
    """Every wire name's message schema, in the protocol page's order."""
    return {cls.TYPE: message_schema(cls.TYPE) for cls in EVENT_CLASSES}
