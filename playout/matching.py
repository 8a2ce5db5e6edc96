"""What a test expects of a station's events: matchers, and their names checked against a wire profile.

:class:`Match` (made by :func:`event`) is one expected event; :func:`check_names` and
:func:`check_fields` refuse a type or payload field the profile never sends, with the
closest names and all of them, before anything waits; :func:`listed` shows the events
that arrived when an expectation fails. Used by :mod:`playout.testing` and the pytest
plugin's ``expected_from``; see docs/testing.md.
"""

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import orjson

from .profiles import ALL_EVENT_TYPES, Profile

LISTED = 40
"""How many arrived events a failed expectation lists."""
SNAPSHOTS = "health"
"""The grimnir profile's 250 ms snapshots: left out of a failure's list unless it is about them."""


@attrs.frozen
class Recorded:
    """One event as a client would get it, with the station time it was emitted at."""

    at_ms: int
    at: str
    type: str
    payload: dict[str, Any]

    def line(self) -> str:
        return orjson.dumps({"at": self.at, "type": self.type, "payload": self.payload}).decode()


@attrs.frozen
class Match:
    """An expected event: its type, and payload fields that must be equal (or satisfy a callable)."""

    type: str
    fields: dict[str, Any] = attrs.Factory(dict)

    def matches(self, event: Recorded) -> bool:
        if event.type != self.type:
            return False
        for key, wanted in self.fields.items():
            if key not in event.payload:
                return False
            got = event.payload[key]
            if not (wanted(got) if callable(wanted) else got == wanted):
                return False
        return True

    def __str__(self) -> str:
        if not self.fields:
            return self.type
        shown = ", ".join(f"{k}={'<check>' if callable(v) else repr(v)}" for k, v in self.fields.items())
        return f"{self.type} ({shown})"


def event(type_: str, **fields: Any) -> Match:
    """``event("dj_connect", username="DJ Mike")``: a type and payload fields to match.

    A type no profile sends is refused at once (:class:`ValueError`, with the closest names).
    """
    check_name("event type", type_, ALL_EVENT_TYPES)
    return Match(type_, fields)


Expected = str | Match | tuple[str, dict[str, Any]]


def as_match(expected: Expected) -> Match:
    if isinstance(expected, Match):
        return expected
    if isinstance(expected, str):
        return Match(expected)
    return Match(expected[0], dict(expected[1]))


def as_names(types: str | Iterable[str]) -> tuple[str, ...]:
    """A ``types`` (or ``fields``) argument as names: one string is one name, not its letters."""
    return (types,) if isinstance(types, str) else tuple(types)


def check_name(what: str, name: str, known: Iterable[str], context: str = "") -> None:
    """Refuse ``name`` unless it is ``known``: the closest names first, then all of them."""
    known = sorted(known)
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown {what} {name!r}{context}{hint} (known: {', '.join(known)})")


def check_names(profile: Profile, type_: str, fields: Iterable[str] = ()) -> None:
    """Refuse a type ``profile``'s wire never sends, or a payload key that type never has."""
    check_name("event type", type_, profile.event_types, f" for the {profile.name} profile")
    known = (profile.payload_fields or {}).get(type_)
    if known is not None:
        for name in fields:
            check_name("payload field", name, known, f" of {type_}")


def check_fields(profile: Profile, types: Sequence[str] | None, fields: Iterable[str]) -> None:
    """Refuse a payload key that none of ``types`` (None: of any type ``profile`` sends) ever has."""
    for name in types or ():
        check_names(profile, name)
    among = types if types else profile.event_types
    carried = profile.payload_fields or {}
    if any(name not in carried for name in among):
        return  # a type whose keys are not known: any key may be right
    known = set().union(*(carried[name] for name in among))
    of = " or ".join(types) if types else f"any type of the {profile.name} profile"
    for name in fields:
        check_name("payload field", name, known, f" of {of}")


def listed(arrived: Sequence[Recorded], about: Iterable[str]) -> list[str]:
    """The lines listing ``arrived`` for a failed expectation about the types ``about``.

    The first :data:`LISTED` events, with their station times and payloads; ``health``
    snapshots are left out (and counted) unless the expectation is about them, so the
    grimnir profile's four a second do not hide the events that matter.
    """
    shown = list(arrived)
    left_out = 0
    if SNAPSHOTS not in set(about):
        shown = [e for e in arrived if e.type != SNAPSHOTS]
        left_out = len(arrived) - len(shown)
    lines = [f"  {e.at} {e.type} {orjson.dumps(e.payload).decode()}" for e in shown[:LISTED]]
    if not lines:
        lines.append("  (nothing)" if not left_out else "  (nothing else)")
    if len(shown) > LISTED:
        lines.append(f"  … and {len(shown) - LISTED} more")
    if left_out:
        lines.append(f"  ({left_out} {SNAPSHOTS} snapshot(s) left out: the expectation is not about them)")
    return lines
