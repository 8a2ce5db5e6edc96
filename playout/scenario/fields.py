"""The JSON Schema of one value in a scenario file: an id, a text, an integer, a duration and its range.

Shared by the document's schema (:mod:`playout.scenario.schema`) and the timeline actions'
(:mod:`playout.scenario.actions`).
"""

from typing import Any

from ..protocol.stationtime import parse_duration

MAX_INTEGER = 2**63 - 1
"""TOML's integers are 64-bit; larger ones are refused rather than carried along."""
MIN_INTEGER = -(2**63)

KEY = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}
"""A scenario's own short id for a station, track, DJ…: what other entries refer to it by."""
TEXT = {"type": "string", "minLength": 1}


def duration(
    minimum: str = "0s",
    maximum: str = "28d",
    *,
    longer_than_zero: bool = False,
    off: bool = False,
) -> dict[str, Any]:
    """A duration key's schema: ``minimum`` to ``maximum``; ``off``: ``0s`` is also allowed (it turns
    the thing off); ``longer_than_zero``: anything above 0 s up to ``maximum``."""
    limits: dict[str, Any] = {"minimum": parse_duration(minimum), "maximum": parse_duration(maximum)}
    if longer_than_zero:
        limits["exclusiveMinimum"] = limits.pop("minimum")
    if off:
        limits["off"] = True
    return {"type": ["string", "number"], "format": "duration", "durationRange": limits}


def integer(minimum: int = MIN_INTEGER, maximum: int = MAX_INTEGER) -> dict[str, Any]:
    """An integer key's schema: ``minimum`` to ``maximum`` (TOML's 64-bit range unless given)."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}
