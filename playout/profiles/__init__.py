"""Wire profiles: which server's wire the station speaks.

``documented`` is the protocol page (``websocket-events.txt``), the core's own
events as they are; ``grimnir`` is what the real Grimnir server publishes for the
same happenings (:mod:`playout.profiles.grimnir`, docs/fidelity.md). A profile is
the one layer between the core's decisions and the wire: a later server version
is a new translator here, not edits across the code.
"""

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..protocol.events import EVENT_CLASSES, EVENT_TYPES
from ..protocol.schemas import messages_schema
from ..scenario.model import Scenario
from .base import Translator
from .grimnir import HEALTH_TICK_MS, GrimnirTranslator
from .grimnir_payloads import GRIMNIR_TYPES
from .grimnir_schemas import grimnir_messages_schema, grimnir_payload_fields
from .stream import DOCUMENTED_STREAM, GRIMNIR_STREAM, NO_CLOSE_FRAME, StreamRules


@attrs.frozen
class Profile:
    name: str
    summary: str
    translator: Callable[[Scenario, int], Translator] | None
    """Makes a scenario's translator, given the health snapshot cadence in ms; None: the core's own events."""
    default_types: frozenset[str]
    """What a stream without ``types`` subscribes to."""
    event_types: tuple[str, ...]
    """Every type of message it publishes (besides the heartbeat)."""
    stream: StreamRules
    """The event stream's own rules: ``types``, queues, limits, scope, snapshot, shutdown."""
    messages_schema: Callable[[], dict[str, Any]]
    """The JSON Schema every message of its wire matches (``grimnir-sim schema jsonschema``)."""
    payload_fields: Mapping[str, frozenset[str]] | None = None
    """Every payload key each type may carry (what a test's matcher may name), where known."""
    example_types: str = "now_playing,live.handover,live.released"
    """A DJ's comings and goings, as a ``types`` value (the serve banner's example)."""


def _documented_fields() -> dict[str, frozenset[str]]:
    fields: dict[str, set[str]] = {}
    for cls in EVENT_CLASSES:
        fields.setdefault(cls.TYPE, set()).update(attrs.fields_dict(cls))
    return {name: frozenset(keys) for name, keys in fields.items()}


DOCUMENTED = Profile(
    "documented",
    "the documented protocol (websocket-events.txt), exactly",
    None,
    frozenset({"now_playing", "health"}),
    EVENT_TYPES,
    DOCUMENTED_STREAM,
    messages_schema,
    _documented_fields(),
)
GRIMNIR = Profile(
    "grimnir",
    "the real Grimnir server's wire (friendsincode/grimnir_radio at 4b8b2c5f)",
    lambda scenario, health_tick_ms: GrimnirTranslator(scenario, health_tick_ms=health_tick_ms),
    frozenset({"now_playing", "health", "webstream.health"}),
    GRIMNIR_TYPES,
    GRIMNIR_STREAM,
    grimnir_messages_schema,
    grimnir_payload_fields(),
    "now_playing,dj_connect,dj_disconnect,priority.override,priority.released",
)
PROFILES = {profile.name: profile for profile in (DOCUMENTED, GRIMNIR)}
ALL_EVENT_TYPES = tuple(dict.fromkeys(t for p in PROFILES.values() for t in p.event_types))
PROFILE_HELP = "the wire to speak: documented (the protocol page, the default) or grimnir (the real server's)"

__all__ = [
    "ALL_EVENT_TYPES",
    "DOCUMENTED",
    "GRIMNIR",
    "HEALTH_TICK_MS",
    "NO_CLOSE_FRAME",
    "PROFILES",
    "PROFILE_HELP",
    "Profile",
    "StreamRules",
    "Translator",
]
