"""Station time: durations as people write them, instants as the protocol prints them.

Inside the core every instant is an ``int`` of milliseconds since the scenario's
start, so arithmetic is exact and logs are byte-identical on every machine.
"""

import math
import re
from datetime import UTC, datetime, timedelta

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
DURATION_PATTERN = r"^(\d+(\.\d+)?(ms|s|m|h|d))+$"
DURATION_HINT = "a duration such as 90s, 15m, 2h, 7d or 1h30m"
MAX_DURATION_MS = 3650 * _UNIT_MS["d"]
"""Ten years: longer than any scenario needs, short enough for every date calculation."""


def parse_duration(value: str | int | float) -> int:
    """Return milliseconds for ``"90s"``, ``"15m"``, ``"1h30m"``, ``"7d"`` or plain seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not {DURATION_HINT}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{shown(value)} is not {DURATION_HINT}")
        ms: int | float = value * 1000  # exact: a 309-digit integer never becomes a float
    elif isinstance(value, float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{shown(value)} is not {DURATION_HINT}")
        ms = value * 1000
    else:
        text = value.strip()
        if not re.fullmatch(DURATION_PATTERN, text):
            raise ValueError(f"{shown(value)} is not {DURATION_HINT}")
        ms = sum(float(n) * _UNIT_MS[unit] for n, unit in _PART.findall(text))
    if not ms <= MAX_DURATION_MS:  # also catches the inf that 400 digits become
        raise ValueError(f"{shown(value)} is longer than ten years")
    return round(ms)


def shown(value: object) -> str:
    """A value for a one-line message: a 309-digit number or a long string cut short, with its length."""
    text = repr(value)
    if len(text) <= 40:
        return text
    return f"{text[:20]}… ({len(text)} characters)"


def format_clock(seconds: float) -> str:
    """A length as a clock shows it, to the second: ``3:20``, ``2:06:40``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_duration(ms: int) -> str:
    """The shortest ``1d2h3m4s`` spelling of a duration (milliseconds kept when present)."""
    if ms == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_MS[unit]
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    if ms:
        parts.append(f"{ms}ms")
    return "".join(parts)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant; a missing offset is an error (station time is always UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 instant like 2026-01-19T06:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; write it like 2026-01-19T06:00:00Z")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = datetime.min.replace(tzinfo=UTC)
    if not 1900 <= moment.year <= 9000:
        raise ValueError(f"{text!r} is outside the years 1900 to 9000")
    return moment


def format_instant(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; fractional seconds only when present, trailing zeros trimmed.

    This is how Go's ``time.Time`` marshals to JSON (RFC3339Nano), so the simulated
    server prints ``2026-01-22T10:30:00Z`` and ``2026-01-22T10:33:20.5Z`` as the real one does.
    """
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


class StationClock:
    """Maps core milliseconds to wall-calendar instants for one scenario."""

    __slots__ = ("_cache", "start")

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)
        self._cache: tuple[int, str] = (-1, "")

    def instant(self, ms: int) -> datetime:
        return self.start + timedelta(milliseconds=ms)

    def stamp(self, ms: int) -> str:
        # Several events of one instant share a stamp; remember the last one.
        if self._cache[0] != ms:
            self._cache = (ms, format_instant(self.instant(ms)))
        return self._cache[1]

    def offset_of(self, moment: datetime) -> int:
        """Milliseconds from the scenario's start to ``moment`` (negative before it)."""
        delta = moment.astimezone(UTC) - self.start
        return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
