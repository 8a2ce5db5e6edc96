"""The one place where an event becomes bytes on the socket.

Every message is the envelope ``{"type": …, "payload": {…}}``, serialized once,
however many clients receive it: a documented :class:`~playout.protocol.events.Event`
as the protocol page has it, or a :class:`WireEvent` that another wire profile
(``playout/profiles``) has shaped itself.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import orjson

from .events import Event


@attrs.frozen(slots=True)
class WireEvent:
    """A message in another profile's shape: its type, its payload as plain JSON data, its station.

    ``go``: marshalled as Go's ``encoding/json`` marshals a ``map[string]any`` (:func:`go_json`),
    else in the order given, type first.
    """

    TYPE: str
    payload: Mapping[str, Any]
    station_id: str | None = None
    go: bool = False
    VARIANT: ClassVar[str] = ""


AnyEvent = Event | WireEvent

PING: bytes = b'{"type":"ping"}'
"""The heartbeat text message, byte for byte as documented."""


def to_message(event: AnyEvent) -> dict[str, Any]:
    """The envelope as plain data."""
    if isinstance(event, WireEvent):
        return {"type": event.TYPE, "payload": event.payload}
    return {"type": event.TYPE, "payload": attrs.asdict(event, recurse=False)}


def encode(event: AnyEvent) -> bytes:
    """The envelope as compact UTF-8 JSON."""
    if isinstance(event, WireEvent) and event.go:
        return go_json(to_message(event))
    return orjson.dumps(to_message(event))


_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def go_json(data: Any) -> bytes:
    """``data`` as Go's ``json.Marshal`` gives a map: keys sorted at every level, ``<``, ``>``, ``&``
    and U+2028/U+2029 escaped (HTML-safe), other text as raw UTF-8.

    The five characters can only occur inside JSON strings, so escaping them in the
    encoded bytes is exact. Numbers are the caller's: Go writes an integral float
    without ``.0``, so payloads hold such values as ``int``.
    """
    encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    for raw, escaped in _GO_ESCAPES:
        if raw in encoded:
            encoded = encoded.replace(raw, escaped)
    return encoded


def encode_stamped(at: str, event: AnyEvent) -> bytes:
    """The envelope with the station time in front, for logs (``at`` is not on the wire)."""
    if isinstance(event, WireEvent) and event.go:
        return b'{"at":' + orjson.dumps(at) + b"," + go_json(to_message(event))[1:]
    return orjson.dumps({"at": at, **to_message(event)})
