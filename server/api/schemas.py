"""The API's schema building blocks, its event schemas, and ``API``, where every named schema is declared.

``API`` (see :class:`server.rest.openapi.Api`) keeps its named schemas in the
order declared: the events' here, then every answer's in
:mod:`server.api.answer_schemas`; the package's ``__init__`` adds the endpoints
in the document's order. The leading underscore of the helpers says they are
this package's own.
"""

import typing
from typing import Any

from playout import EVENT_CLASSES, events, payload_schema
from playout.profiles.grimnir_schemas import grimnir_messages_schema

from ..rest.answers import Schema, refusal
from ..rest.openapi import Api, ref

API = Api()
"""This server's endpoints and the named schemas of their answers."""

UUID: Schema = {"type": "string", "format": "uuid"}
INSTANT: Schema = {"type": "string", "format": "date-time", "description": "UTC, RFC 3339 with Z"}
TEXT: Schema = {"type": "string"}
ID: Schema = {"type": "string", "minLength": 1, "description": "a UUID or the scenario's short id"}
COUNT: Schema = {"type": "integer", "minimum": 0}
PRIORITY: Schema = {"type": "integer", "minimum": 0, "maximum": 4}
HEALTH_STATUS: Schema = {"enum": list(typing.get_args(events.HealthStatus))}
TRANSITION: Schema = {"enum": list(typing.get_args(events.Transition))}


def _literal(values: Any) -> Schema:
    return {"enum": list(typing.get_args(values))}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object with exactly these properties, all required but ``optional``."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _event_schemas() -> tuple[Schema, Schema]:
    """Each event class's payload as a named schema; returns the wire message's and now playing's schemas."""
    envelopes = []
    now_playing = []
    for cls in EVENT_CLASSES:
        payload = API.schema(cls.__name__, payload_schema(cls))
        envelopes.append(_object({"type": {"const": cls.TYPE}, "payload": payload}))
        if cls.TYPE == "now_playing":
            now_playing.append(payload)
    message = API.schema(
        "EventMessage",
        {
            "description": "A wire message, as on GET /api/v1/events (docs/asyncapi.yaml).",
            "oneOf": envelopes,
        },
    )
    return message, {"oneOf": now_playing}


def _grimnir_ref(local: str) -> str:
    return ref(f"Grimnir{local.removeprefix('#/$defs/')}")["$ref"]


def _grimnir_message() -> Schema:
    """The real server's event messages (docs/asyncapi-grimnir.yaml), each shape named ``Grimnir…``."""
    document = grimnir_messages_schema()

    def named(schema: Any) -> Any:
        if isinstance(schema, dict):
            return {
                key: _grimnir_ref(value) if key == "$ref" else named(value) for key, value in schema.items()
            }
        return [named(item) for item in schema] if isinstance(schema, list) else schema

    for name, schema in document["$defs"].items():
        if name != "PingMessage":
            API.schema(f"Grimnir{name}", named(schema))
    shapes = [named(shape) for shape in document["oneOf"] if shape["$ref"] != "#/$defs/PingMessage"]
    description = "A message on the real server's wire (`--profile grimnir`, docs/asyncapi-grimnir.yaml)."
    return API.schema("GrimnirMessage", {"description": description, "oneOf": shapes})


EVENT_MESSAGE, NOW_PLAYING_PAYLOAD = _event_schemas()
GRIMNIR_MESSAGE = _grimnir_message()
EVENTS_LIST: Schema = {
    **_array({"anyOf": [EVENT_MESSAGE, GRIMNIR_MESSAGE]}),
    "description": "What the change published, in order, as the stream carried it: each an `EventMessage` "
    "under the documented profile, a `GrimnirMessage` under `--profile grimnir`.",
}

# -- request body parts and refusals shared by several areas --------------------------------------

MOUNT_ID = "a mount's UUID: the station it belongs to"
STATION_IN_BODY = {"station_id": ID, "mount_id": {**ID, "description": MOUNT_ID}}
MOUNT_MISMATCH = refusal(
    "mount_mismatch",
    description="mount_mismatch: mount_id names a mount of another station than station_id does.",
)
STATION_OF_BODY_REFUSED = {
    400: refusal(
        "station_id_required",
        description="station_id_required: no station_id or mount_id, and the scenario has several stations.",
    ).merged(MOUNT_MISMATCH),
    404: refusal("station_not_found", "mount_not_found", description="No such station, or mount."),
}
