"""Where a served station begins in its scenario, and which instant its time shows on the wire.

``run``, golden logs and tests use the scenario's own calendar from its start.
A served station is live: on the wall clock its timestamps are the current UTC
time. A scenario that lasts whole weeks is entered at the current weekday and
time of day and repeats; a shorter one starts now. ``--from`` picks another
entry point: ``start``, ``now``, an offset such as ``+6h``, or a weekday and
time such as ``Wed 20:00`` (its first occurrence in the scenario). A reset on the
wall clock enters ``now`` at the current time again; the other entry points keep
their scenario instant.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

import attrs

from ..protocol.stationtime import DURATION_HINT, format_duration, parse_duration
from ..scenario.model import DAY_MS, WEEK_MS, Scenario

Clock = Literal["wall", "scenario"]
CLOCKS: tuple[Clock, ...] = ("wall", "scenario")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = tuple((name[:3], name) for name in _DAY_NAMES)
_WEEKDAY_TIME = re.compile(r"(?i)^\s*([a-z]+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
FROM_HINT = "start, now, an offset such as +6h, or a weekday and time such as 'Wed 20:00'"


@attrs.frozen
class EntryPoint:
    """A parsed ``--from``: ``kind`` is start, now, offset or weekday."""

    kind: Literal["start", "now", "offset", "weekday"]
    offset_ms: int = 0
    """For ``offset``: from the scenario's start. For ``weekday``: from Monday 00:00."""
    text: str = ""


@attrs.frozen
class Placement:
    """A served station's entry point and the wire instant of its scenario's start."""

    clock: Clock
    entry_ms: int
    """Scenario milliseconds the station starts at (it fast-forwards there silently)."""
    anchor: datetime
    """The instant the wire shows for scenario millisecond 0."""
    period_ms: int | None
    """On the wall clock a whole-week scenario repeats with this period; otherwise None."""
    follows_now: bool = False
    """On the wall clock, entered at ``now``: each fresh start enters at the current time again."""

    def wall_of(self, scenario_ms: int) -> datetime:
        return self.anchor + timedelta(milliseconds=scenario_ms)

    def again(self, scenario: Scenario, wall_now: datetime) -> "Placement":
        """The same entry point for a fresh start at ``wall_now`` (a reset, or a reloaded ``scenario``).

        On the wall clock the wire's instants start again from ``wall_now``, and an entry point
        of ``now`` is derived again from it (the station stays in step with the wall clock); on
        the scenario's they are its own. Raises ValueError (one line) when the entry point lies
        beyond the scenario's end.
        """
        if self.follows_now:
            return place(scenario, EntryPoint("now", text="now"), "wall", wall_now)
        if self.entry_ms >= scenario.duration_ms:
            lasts = format_duration(scenario.duration_ms)
            raise ValueError(
                f"the scenario '{scenario.name}' lasts {lasts}; the entry point "
                f"{format_duration(self.entry_ms)} into it is past its end"
            )
        if self.clock == "scenario":
            return Placement("scenario", self.entry_ms, scenario.start, None)
        wall_now = wall_now.astimezone(UTC)
        wall_now -= timedelta(microseconds=wall_now.microsecond % 1000)
        anchor = wall_now - timedelta(milliseconds=self.entry_ms)
        period_ms = scenario.duration_ms if repeats_weekly(scenario) else None
        return Placement("wall", self.entry_ms, anchor, period_ms)


def parse_entry_point(text: str) -> EntryPoint:
    """``start``, ``now``, ``+6h`` or ``Wed 20:00``; a ValueError names the accepted forms."""
    cleaned = text.strip()
    if cleaned.lower() in ("start", "now"):
        return EntryPoint(cleaned.lower(), text=cleaned)  # type: ignore[arg-type]
    if cleaned.startswith("+"):
        try:
            return EntryPoint("offset", parse_duration(cleaned[1:]), cleaned)
        except ValueError:
            raise ValueError(f"{text!r}: after '+' give {DURATION_HINT}") from None
    match = _WEEKDAY_TIME.match(cleaned)
    if match:
        day, hours, minutes, seconds = match.groups()
        weekday = next((i for i, names in enumerate(_WEEKDAYS) if day.lower() in names), None)
        if weekday is None:
            raise ValueError(f"{text!r}: {day!r} is not a weekday (Mon, Tue, … or Monday, Tuesday, …)")
        if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
            raise ValueError(f"{text!r}: {hours}:{minutes} is not a time of day (00:00 to 23:59)")
        of_week = weekday * DAY_MS + ((int(hours) * 60 + int(minutes)) * 60 + int(seconds or 0)) * 1000
        return EntryPoint("weekday", of_week, cleaned)
    raise ValueError(f"{text!r} is not an entry point: give {FROM_HINT}")


def repeats_weekly(scenario: Scenario) -> bool:
    """A scenario of whole weeks is a station's week: on the wall clock it is entered and repeated."""
    return scenario.duration_ms > 0 and scenario.duration_ms % WEEK_MS == 0


def place(scenario: Scenario, entry: EntryPoint, clock: Clock, wall_now: datetime) -> Placement:
    """The station's entry point in ``scenario`` and its wire anchor, for ``wall_now``.

    Raises ValueError (one line) when the entry point lies beyond the scenario's end.
    """
    wall_now = wall_now.astimezone(UTC)
    wall_now -= timedelta(microseconds=wall_now.microsecond % 1000)  # station time counts milliseconds
    weekly = repeats_weekly(scenario)
    if entry.kind == "start":
        entry_ms = 0
    elif entry.kind == "now":
        entry_ms = scenario.clock.offset_of(wall_now) % scenario.duration_ms if weekly else 0
    elif entry.kind == "offset":
        entry_ms = entry.offset_ms
    else:
        start = scenario.start
        since_midnight = -scenario.clock.offset_of(start.replace(hour=0, minute=0, second=0, microsecond=0))
        start_of_week = start.weekday() * DAY_MS + since_midnight  # the start, from Monday 00:00
        entry_ms = (entry.offset_ms - start_of_week) % WEEK_MS
    if entry_ms >= scenario.duration_ms:
        lasts = format_duration(scenario.duration_ms)
        raise ValueError(
            f"--from {entry.text}: the scenario '{scenario.name}' lasts {lasts}; "
            f"{format_duration(entry_ms)} into it is past its end"
        )
    if clock == "scenario":
        return Placement("scenario", entry_ms, scenario.start, None)
    anchor = wall_now - timedelta(milliseconds=entry_ms)
    period_ms = scenario.duration_ms if weekly else None
    return Placement("wall", entry_ms, anchor, period_ms, follows_now=entry.kind == "now")
