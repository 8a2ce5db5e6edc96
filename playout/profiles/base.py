"""What a wire profile is: a translator from the core's decisions to one server's wire.

The core decides and announces in the documented protocol's terms; a profile that
speaks another server's wire turns each batch of those events (with the inputs the
station applied in it, and a look at its state) into that server's messages, and may
add messages of its own on a cadence (:meth:`Translator.tick`). The core never
branches on a profile: a later server version is a new translator.
"""

from typing import Protocol

from ..protocol.wire import WireEvent
from ..station.core import Playout
from ..station.outcomes import Applied, Emitted


class Translator(Protocol):
    """One served station's translation; it may keep state between batches (pure, no clock)."""

    def translate(self, batch: list[Emitted], applied: list[Applied], core: Playout) -> list[Emitted]:
        """The wire's messages for one batch of the core's events (``core``: read, never driven)."""
        ...

    def next_tick(self) -> int | None:
        """The station time of the next message of the profile's own cadence, or None."""
        ...

    def tick(self, now_ms: int, core: Playout) -> list[Emitted]:
        """The cadence's messages due at ``now_ms`` (called at :meth:`next_tick`)."""
        ...


def wire_event(type_: str, payload: dict, station_id: str | None = None) -> WireEvent:
    """A Go-marshalled message: keys sorted in the envelope and in every map of the payload."""
    return WireEvent(type_, payload, station_id, go=True)
