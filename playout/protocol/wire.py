"""The one place where an event becomes bytes on the socket.

Every message is the documented envelope ``{"type": …, "payload": {…}}`` and is
serialized once, however many clients receive it.
"""

from typing import Any

import attrs
import orjson

from .events import Event

PING: bytes = b'{"type":"ping"}'
"""The heartbeat text message, byte for byte as documented."""


def to_message(event: Event) -> dict[str, Any]:
    """The envelope as plain data."""
    return {"type": event.TYPE, "payload": attrs.asdict(event, recurse=False)}


def encode(event: Event) -> bytes:
    """The envelope as compact UTF-8 JSON."""
    return orjson.dumps(to_message(event))


def encode_stamped(at: str, event: Event) -> bytes:
    """The envelope with the station time in front, for logs (``at`` is not on the wire)."""
    return orjson.dumps({"at": at, **to_message(event)})
