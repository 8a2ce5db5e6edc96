"""Scenario files: TOML in, a frozen, fully checked :class:`Scenario` out.

Loading never half-succeeds: every problem in a file (syntax, unknown or missing
keys, wrong types, dangling references, overlapping slots) is collected into one
:class:`ScenarioError` before anything runs.
"""

import copy
import difflib
import math
import operator
import random
import re
import tomllib
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import attrs
import jsonschema

from ..protocol import inputs
from ..protocol.stationtime import (
    DURATION_HINT,
    StationClock,
    format_duration,
    parse_duration,
    parse_instant,
    shown,
)
from ..station.lockouts import Lockouts
from .library import generate_catalog
from .schema import (
    DOCUMENT_SCHEMA,
    MAX_FILE_BYTES,
    MAX_NESTING,
    MAX_RECURRING_PER_DAY,
    TIMELINE_ACTIONS,
    TIMELINE_ENTRY_COMMON,
    timeline_action_schema,
)

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MAX_HINTS = 100
"""'did you mean' hints per file: each searches every id of its kind, so a hostile file gets only some."""
MAX_KEYS_NAMED = 10
"""Unknown keys named in a table's one problem; a table of 40,000 made a line of 400 KB (and 8 s)."""
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SETS = {"daily": frozenset(range(7)), "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}


def _one_line(text: str | None) -> str | None:
    return None if text is None else text.replace("\r", "\\r").replace("\n", "\\n")


@attrs.frozen
class Problem:
    """One thing wrong with a scenario file, located by table and key."""

    file: str
    table: str = attrs.field(converter=_one_line)
    key: str | None = attrs.field(converter=_one_line)
    message: str = attrs.field(converter=_one_line)
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        place = self.table if self.key is None else f"{self.table}, key '{self.key}'"
        return f"{where}: {place}: {self.message}" if place else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario file that cannot run; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(problems[0]) if problems else "invalid scenario")

    def summary(self) -> str:
        """One line: the first problem, and how many more there are."""
        more = len(self.problems) - 1
        return str(self.problems[0]) + (f" (and {more} more)" if more > 0 else "")


@attrs.frozen
class Track:
    key: str
    id: str
    title: str
    artist: str
    album: str
    duration_ms: int
    rotation: bool = True


@attrs.frozen
class Mount:
    key: str
    id: str
    path: str


@attrs.frozen
class Station:
    key: str
    id: str
    name: str
    mounts: tuple[Mount, ...]
    crossfade_ms: int
    health_interval_ms: int

    def mount(self, key: str | None) -> Mount:
        """The named mount, or the station's first (main) mount."""
        if key is None:
            return self.mounts[0]
        return next(m for m in self.mounts if m.key == key)


@attrs.frozen
class Playlist:
    key: str
    id: str
    name: str
    tracks: tuple[str, ...]
    shuffle: bool


@attrs.frozen
class Dj:
    key: str
    user_id: str
    username: str
    password: str | None


@attrs.frozen
class ProbeSettings:
    """Webstream health-check settings; defaults are the real server's."""

    kind: Literal["scripted", "http"] = "scripted"
    interval_ms: int = 30_000
    connect_timeout_ms: int = 5_000
    sample_window_ms: int = 4_000
    min_bytes: int = 16_384
    stall_timeout_ms: int = 2_000
    failure_threshold: int = 3
    grace_ms: int = 5_000
    recovery_checks: int = 3


@attrs.frozen
class Webstream:
    key: str
    id: str
    name: str
    urls: tuple[str, ...]
    probe: ProbeSettings


def _positive(_instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be greater than 0, not {value!r}")


@attrs.frozen
class LimitRule:
    """One relation between two harbor limits that keeps them from defeating themselves."""

    field: str
    relation: str
    """How ``field`` must compare with ``other``: "greater than", "at least" or "at most"."""
    other: str
    inverse: str
    """The same relation seen from ``other``."""
    holds: Callable[[float, float], bool]


HARBOR_LIMIT_RULES = (
    # One address must never lock a mount: it is itself locked out before it reaches the
    # mount's count, and for longer than the window its failures count in (see playout.station.lockouts).
    LimitRule("mount_failures", "greater than", "address_failures", "less than", operator.gt),
    LimitRule("address_lockout_seconds", "at least", "failure_window_seconds", "at most", operator.ge),
    LimitRule("max_pending_per_address", "at most", "max_pending", "at least", operator.le),
)


@attrs.frozen
class HarborLimits:
    """The harbor's defences against hostile clients; the defaults are the documented ones.

    A scenario sets them in ``[harbor]``, each field by its name without ``_seconds``
    (docs/live-sources.md has the ranges).
    """

    max_pending: int = attrs.field(default=64, validator=_positive)
    """Connections not authenticated yet (reading their request, or being refused), in all."""
    max_pending_per_address: int = attrs.field(default=8, validator=_positive)
    """The same, from one address (an IPv6 /64); so one slow client cannot take every place."""
    head_timeout_seconds: float = attrs.field(default=10.0, validator=_positive)
    """The whole request head must arrive within this, from the connection's start."""
    max_head_bytes: int = attrs.field(default=16_384, validator=_positive)
    """The longest request head, from its first byte to its closing blank line included."""
    address_failures: int = attrs.field(default=5, validator=_positive)
    """Failed logins from one address within ``failure_window_seconds`` that lock it out."""
    mount_failures: int = attrs.field(default=20, validator=_positive)
    """Failed logins on one mount, from any addresses, within the window, that lock it out."""
    failure_window_seconds: float = attrs.field(default=60.0, validator=_positive)
    address_lockout_seconds: float = attrs.field(default=300.0, validator=_positive)
    mount_lockout_seconds: float = attrs.field(default=300.0, validator=_positive)
    """A locked mount refuses only addresses no DJ has logged in from (see ``trusted_addresses``)."""
    trusted_addresses: int = attrs.field(default=1_024, validator=_positive)
    """Addresses DJs have logged in from that a locked mount still lets in (the latest ones)."""
    tracked_addresses: int = attrs.field(default=10_000, validator=_positive)
    """Addresses whose failures and lockouts are remembered at once (the stalest are forgotten)."""

    def __attrs_post_init__(self) -> None:
        for rule in HARBOR_LIMIT_RULES:
            if not rule.holds(getattr(self, rule.field), getattr(self, rule.other)):
                raise ValueError(f"{rule.field} must be {rule.relation} {rule.other}")

    def lockouts(self) -> Lockouts:
        """The failed-login bookkeeping these limits describe."""
        return Lockouts(
            address_failures=self.address_failures,
            mount_failures=self.mount_failures,
            window=self.failure_window_seconds,
            address_lockout=self.address_lockout_seconds,
            mount_lockout=self.mount_lockout_seconds,
            trusted_addresses=self.trusted_addresses,
            tracked_addresses=self.tracked_addresses,
        )


HARBOR_LIMIT_KEYS = {field.name.removesuffix("_seconds"): field.name for field in attrs.fields(HarborLimits)}
"""``[harbor]`` keys of the limits, and their :class:`HarborLimits` fields (durations end in ``_seconds``)."""


@attrs.frozen
class HarborSettings:
    """The Icecast-compatible source receiver for live DJs (``[harbor]``)."""

    port: int | None = None
    """``None``: no harbor unless ``serve --harbor-port`` asks; 0 picks a free port."""
    host: str = "127.0.0.1"
    max_sources: int = 10
    source_timeout_ms: int = 10_000
    """A source that sends no audio for this long is disconnected (Icecast's default)."""
    limits: HarborLimits = HarborLimits()


@attrs.frozen
class Slot:
    """A schedule entry: recurring on ``days`` at ``start_of_day_ms``, or once at ``at_ms``."""

    index: int
    station: str
    kind: Literal["playlist", "webstream", "live"]
    target: str
    duration_ms: int
    days: frozenset[int] | None = None
    start_of_day_ms: int = 0
    at_ms: int | None = None
    title: str = ""
    crossfade_ms: int | None = None

    @property
    def id_key(self) -> str:
        return f"slot-{self.index}"


@attrs.frozen
class Happening:
    """A scripted input at ``at_ms``, repeated ``every_ms`` up to ``count`` times."""

    index: int
    at_ms: int
    input: inputs.Input
    every_ms: int | None = None
    count: int | None = None


@attrs.frozen
class Scenario:
    path: str
    name: str
    description: str
    start: datetime
    duration_ms: int
    speed: float
    seed: int
    schedule_window_ms: int
    schedule_refresh_ms: int
    stations: tuple[Station, ...]
    tracks: dict[str, Track]
    playlists: dict[str, Playlist]
    djs: dict[str, Dj]
    webstreams: dict[str, Webstream]
    slots: tuple[Slot, ...]
    timeline: tuple[Happening, ...]
    harbor: HarborSettings = HarborSettings()

    @property
    def clock(self) -> StationClock:
        return StationClock(self.start)

    def station(self, key: str) -> Station:
        return next(s for s in self.stations if s.key == key)

    @property
    def rotation(self) -> tuple[str, ...]:
        """Keys of the tracks automation may pick when nothing else is scheduled."""
        return tuple(key for key, track in self.tracks.items() if track.rotation)


def read_text(path: str | Path) -> str:
    """A scenario file's (or the catalog's) text; a file over the size limit is not read to its end."""
    name = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([Problem(name, "", None, f"cannot read the file: {exc.strerror}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError([_too_large(name)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(name, "", None, f"not UTF-8 text ({exc.reason})")]) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raise :class:`ScenarioError` naming every problem."""
    return parse_scenario(read_text(path), str(path))


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Check a scenario given as TOML text (``file`` names it in messages)."""
    document = _instants_as_text(read_toml(text, file))
    cut = _cut_long_lists(file, document, DOCUMENT_SCHEMA, [])
    errors = _schema_errors(document)
    if not errors and not cut:
        return _Builder(file, document).build()
    problems = sorted(
        dict.fromkeys([*cut, *(p for e in errors for p in _problems_from_schema(file, e))]),
        key=lambda p: (p.table, p.key or ""),
    )
    if cut:
        # References into what was cut off would all look dangling: the meaning is not checked.
        raise ScenarioError(problems)
    # Check the meaning of what is well-formed too, so one run reports every problem.
    builder = _Builder(file, _without_invalid(document, errors))
    try:
        builder.build()
    except ScenarioError:
        pass
    except (KeyError, TypeError, ValueError, AttributeError):
        pass  # a hole left by a structural problem; what was found up to it still counts
    seen = set(problems)
    flagged = _Flagged(p.table for p in problems)
    problems += [p for p in builder.problems if p not in seen and not flagged.covers(p.table)]
    raise ScenarioError(problems)


def _too_large(file: str) -> Problem:
    return Problem(file, "", None, f"larger than {MAX_FILE_BYTES // 1024:,} KiB, the most a file may be")


def read_toml(text: str, file: str) -> dict[str, Any]:
    """Parse TOML text within the limits: its size and nesting are checked before ``tomllib`` sees it."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScenarioError([_too_large(file)])
    line = _too_deep_at(text)
    if line is not None:
        raise ScenarioError([Problem(file, "", None, _TOO_DEEP, line)])
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        raise ScenarioError(
            [Problem(file, "", None, f"invalid TOML: {message}", _line_of(message))]
        ) from None
    except ValueError as exc:  # tomllib lets int() refuse a number of more than 4300 digits
        raise ScenarioError([Problem(file, "", None, f"invalid TOML: {exc}")]) from None
    if _deeper_than(document, MAX_NESTING):  # dotted keys and [a.b.c] headers nest without brackets
        raise ScenarioError([Problem(file, "", None, _TOO_DEEP)])
    return document


_TOO_DEEP = f"tables and lists nested more than {MAX_NESTING} deep"
_TOML_TOKEN = re.compile(
    r'"""(?:\\.|[^\\])*?"{3,5}'  # a multi-line basic string
    r"|'''.*?'{3,5}"  # a multi-line literal string
    r'|"(?:\\.|[^"\\\n])*"'  # a basic string
    r"|'[^'\n]*'"  # a literal string
    r"|#[^\n]*"  # a comment
    r"""|[\[\]{}"']""",  # a bracket, or a quote that starts no string
    re.DOTALL,
)


def _too_deep_at(text: str) -> int | None:
    """The line where inline lists and tables nest more than :data:`MAX_NESTING` deep, if any.

    ``tomllib`` parses nested values by recursion: 500 levels are a ``RecursionError``.
    Brackets in strings and comments do not count; at a quote that starts no string
    the scan stops, as the parser will stop there with a syntax error.
    """
    depth = 0
    for match in _TOML_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return text.count("\n", 0, match.start()) + 1
        elif token in ("]", "}"):
            depth = max(depth - 1, 0)
        elif token in ('"', "'"):
            return None
    return None


def _deeper_than(document: dict[str, Any], limit: int) -> bool:
    """Whether tables and lists nest more than ``limit`` deep below the document (without recursion)."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _cut_long_lists(file: str, value: Any, schema: dict[str, Any], path: list[Any]) -> list[Problem]:
    """A problem for each list longer than its schema's ``maxItems``, and the list cut to that length.

    This runs before the schema, so a file of 100,000 timeline entries costs no more to
    refuse than one at the limit.
    """
    problems = []
    if isinstance(value, list) and "maxItems" in schema:
        limit = schema["maxItems"]
        if len(value) > limit:
            table, key = _place(path)
            problems.append(Problem(file, table, key, _too_many(len(value), limit)))
            del value[limit:]
        items = schema.get("items", {})
        if isinstance(items, dict) and items.get("type") == "object":
            for index, item in enumerate(value):
                problems += _cut_long_lists(file, item, items, [*path, index])
    elif isinstance(value, dict):
        for key, subschema in schema.get("properties", {}).items():
            if key in value:
                problems += _cut_long_lists(file, value[key], subschema, [*path, key])
    return problems


def _too_many(count: int, limit: int) -> str:
    return f"has {count:,} entries, more than the {limit:,} allowed"


class _Flagged:
    """The tables the schema flagged: a builder problem in, around or inside one is a cascade."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.tables = set(tables)
        self.around = {ancestor for table in self.tables for ancestor in _ancestors(table)}

    def covers(self, table: str) -> bool:
        return table in self.around or any(ancestor in self.tables for ancestor in _ancestors(table))


def _ancestors(table: str) -> Iterator[str]:
    """``stations[0].mounts[1]``: ``stations``, ``stations[0]``, ``stations[0].mounts`` and itself."""
    for match in re.finditer(r"[.\[]", table):
        if match.start():
            yield table[: match.start()]
    yield table


def _instants_as_text(value: Any) -> Any:
    """TOML's own dates and times (``start = 2026-01-19T06:00:00Z``) read as the strings they spell."""
    if isinstance(value, dict):
        return {k: _instants_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_instants_as_text(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # an instant without an offset is then refused by name
    return value


def _without_invalid(document: dict[str, Any], errors: list[jsonschema.ValidationError]) -> dict[str, Any]:
    """A copy of ``document`` without the values and keys the schema rejected."""
    pruned = copy.deepcopy(document)
    for error in errors:
        path = list(error.absolute_path)
        parent: Any = pruned
        try:
            for part in path[:-1]:
                parent = parent[part]
            if error.validator == "additionalProperties":
                target = parent[path[-1]] if path else pruned
                for key in set(target) - set(error.schema.get("properties", {})):
                    target.pop(key, None)
            elif path and isinstance(parent, dict):
                parent.pop(path[-1], None)
        except (KeyError, IndexError, TypeError):
            continue
    return pruned


def _line_of(message: str) -> int | None:
    marker = "(at line "
    if marker not in message:
        return None
    return int(message.split(marker, 1)[1].split(",", 1)[0].rstrip(")"))


def _number(value: object) -> bool:
    """A JSON Schema number, as TOML can spell it: no boolean, no nan, no inf."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True  # math.isfinite would overflow on a 309-digit integer
    return isinstance(value, float) and math.isfinite(value)


# TOML tells integers from floats; JSON Schema would take 2.0 as an integer. nan and inf are
# TOML floats but no number any range can hold.
_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
    {
        "integer": lambda _, value: isinstance(value, int) and not isinstance(value, bool),
        "number": lambda _, value: _number(value),
    }
)
_FORMATS = jsonschema.FormatChecker()
_FORMATS.checks("uuid", raises=ValueError)(lambda value: not isinstance(value, str) or bool(uuid.UUID(value)))
_FORMATS.checks("duration", raises=ValueError)(
    lambda value: not _duration_shaped(value) or parse_duration(value) >= 0
)


def _duration_shaped(value: object) -> bool:
    return isinstance(value, str) or _number(value)


def _duration_range(
    validator: Any, limits: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """The ``durationRange`` keyword: a duration's milliseconds within ``limits`` (see scenario_schema)."""
    if not _duration_shaped(instance):
        return  # "type" reports it
    try:
        ms = parse_duration(instance)
    except ValueError:
        return  # "format" reports it
    if limits.get("off") and ms == 0:
        return
    below = ms <= limits["exclusiveMinimum"] if "exclusiveMinimum" in limits else ms < limits["minimum"]
    if below or ms > limits["maximum"]:
        yield jsonschema.ValidationError(_duration_range_text(limits))


def _duration_range_text(limits: dict[str, Any]) -> str:
    top = format_duration(limits["maximum"])
    if "exclusiveMinimum" in limits:
        return f"must be longer than {format_duration(limits['exclusiveMinimum'])} and at most {top}"
    low = format_duration(limits["minimum"])
    if limits.get("off"):
        return f"must be 0s (off) or from {low} to {top}"
    if limits["minimum"] == 0:
        return f"must be at most {top}"
    return f"must be from {low} to {top}"


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, validators={"durationRange": _duration_range}, type_checker=_TYPES
)
# Timeline entries are checked one at a time against their action's schema: the document
# schema's ten if/then branches cost jsonschema ten sub-validations per entry (22 s for
# 100,000 entries); a lookup by action costs one.
_DOCUMENT_VALIDATOR = _Validator(
    {
        **DOCUMENT_SCHEMA,
        "properties": {
            **DOCUMENT_SCHEMA["properties"],
            "timeline": {**DOCUMENT_SCHEMA["properties"]["timeline"], "items": {"type": "object"}},
        },
    },
    format_checker=_FORMATS,
)
_TIMELINE_VALIDATORS = {
    action: _Validator(timeline_action_schema(action), format_checker=_FORMATS) for action in TIMELINE_ACTIONS
}
_TIMELINE_COMMON_VALIDATOR = _Validator(TIMELINE_ENTRY_COMMON, format_checker=_FORMATS)


def _schema_errors(document: dict[str, Any]) -> list[jsonschema.ValidationError]:
    """Every way ``document`` breaks :data:`DOCUMENT_SCHEMA`."""
    errors = list(_DOCUMENT_VALIDATOR.iter_errors(document))
    timeline = document.get("timeline")
    if not isinstance(timeline, list):
        return errors
    for index, entry in enumerate(timeline):
        if not isinstance(entry, dict):
            continue  # the document's validator named it
        action = entry.get("action")
        validator = _TIMELINE_VALIDATORS.get(action) if isinstance(action, str) else None
        for error in (validator or _TIMELINE_COMMON_VALIDATOR).iter_errors(entry):
            error.path.extendleft((index, "timeline"))  # relative to the entry: make it the document's
            errors.append(error)
    return errors


def _table_name(path: list[Any]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or "(top level)"


def _place(path: list[Any]) -> tuple[str, str | None]:
    """The table and key a value at ``path`` is reported at (a list's item by its index)."""
    if path and isinstance(path[-1], int) and len(path) >= 2 and not isinstance(path[-2], int):
        return _table_name(path[:-2]), f"{path[-2]}[{path[-1]}]"
    if path:
        return _table_name(path[:-1]), str(path[-1])
    return "(top level)", None


def _problems_from_schema(file: str, error: jsonschema.ValidationError) -> list[Problem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - set(allowed))
        hints = []
        for key in extras[:MAX_KEYS_NAMED]:
            close = difflib.get_close_matches(key, allowed, n=1)
            hints.append(f"{shown(key)}" + (f" (did you mean '{close[0]}'?)" if close else ""))
        if len(extras) > MAX_KEYS_NAMED:
            hints.append(f"and {len(extras) - MAX_KEYS_NAMED:,} more")
        return [
            Problem(
                file,
                _table_name(path),
                extras[0] if len(extras) == 1 else None,
                "unknown key"
                + ("s " if len(extras) > 1 else " ")
                + ", ".join(hints)
                + f"; allowed here: {', '.join(allowed)}",
            )
        ]
    if error.validator == "required":
        missing = [key for key in error.validator_value if key not in error.instance]
        return [Problem(file, _table_name(path), key, "required key is missing") for key in missing]
    # A value of the wrong shape: name its table and key.
    table, key = _place(path)
    return [Problem(file, table, key, _describe(error))]


def _describe(error: jsonschema.ValidationError) -> str:
    value = error.instance
    schema = error.schema
    if error.validator == "format" and schema.get("format") == "duration":
        try:
            parse_duration(value)
        except ValueError as exc:
            return str(exc)
    if error.validator == "format" and schema.get("format") == "uuid":
        return f"{_shown(value)} is not a UUID"
    if error.validator == "anyOf":
        return f"{_shown(value)} is not one of: " + "; ".join(_shape(sub) for sub in schema["anyOf"])
    if error.validator == "enum":
        return f"{_shown(value)} is not one of " + ", ".join(repr(v) for v in schema["enum"])
    if error.validator == "pattern" and schema["pattern"].startswith("^[A-Za-z0-9]"):
        return (
            f"{_shown(value)} is not an id (letters, digits, '-', '_', '.'; starting with a letter or digit)"
        )
    if error.validator == "pattern" and schema["pattern"] == "^https?://":
        return f"{_shown(value)} is not an http:// or https:// URL"
    if error.validator == "pattern" and "[01]" in schema["pattern"]:
        return f"{_shown(value)} is not a time of day like 06:00 or 21:30"
    if error.validator == "type" and schema.get("format") == "duration":
        return f"{_shown(value)} is not {DURATION_HINT}"
    if error.validator == "type" and isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum"):
        return _number_range_text(schema)
    if error.validator == "type":
        return f"{_shown(value)} is {_toml_type(value)}, expected {_expected(schema['type'])}"
    return error.message


def _shape(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return ", ".join(repr(v) for v in schema["enum"])
    return f"a list of {', '.join(repr(v) for v in schema['items']['enum'])}"


def _toml_type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(
        type(value), "a TOML date or time" if hasattr(value, "isoformat") else type(value).__name__
    )


def _number_range_text(schema: dict[str, Any]) -> str:
    top = _count(schema["maximum"])
    if "exclusiveMinimum" in schema:
        return f"must be greater than {_count(schema['exclusiveMinimum'])} and at most {top}"
    return f"must be from {_count(schema['minimum'])} to {top}"


def _count(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


def _shown(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else shown(value)  # type: ignore[attr-defined]


def _expected(kind: str | list[str]) -> str:
    names = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "array": "a list",
        "object": "a table",
    }
    kinds = [kind] if isinstance(kind, str) else kind
    return " or ".join(names.get(k, k) for k in kinds)


class _Builder:
    """Turns a schema-valid document into a Scenario, collecting every semantic problem."""

    def __init__(self, file: str, document: dict[str, Any]) -> None:
        self.file = file
        self.doc = document
        self.problems: list[Problem] = []
        self.hints_left = MAX_HINTS

    def problem(self, table: str, key: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, table, key, message))

    def duration(self, table: str, key: str, value: object, default: int) -> int:
        """``value`` in milliseconds; ``default`` when it is absent (or was refused by the schema)."""
        if value is None:
            return default
        return parse_duration(value)  # type: ignore[arg-type]  # the schema checked the shape

    def suggest(self, key: str, known: Iterable[str]) -> str:
        """`` (did you mean 'x'?)`` for the first :data:`MAX_HINTS` unknown ids of a file."""
        if self.hints_left <= 0:
            return ""
        self.hints_left -= 1
        return suggest(key, known)

    def build(self) -> Scenario:
        head = self.doc["scenario"]
        self.name = head["name"]
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"grimnir-sim/{self.name}")
        self.seed = head.get("seed", 0)
        try:
            self.start = parse_instant(head["start"])
        except ValueError as exc:
            self.problem("scenario", "start", str(exc))
            self.start = parse_instant("2026-01-01T00:00:00Z")
        self.clock = StationClock(self.start)
        duration_ms = self.duration("scenario", "duration", head.get("duration"), DAY_MS)
        window_ms = self.duration("scenario", "schedule_window", head.get("schedule_window"), 2 * DAY_MS)
        refresh_ms = self.duration("scenario", "schedule_refresh", head.get("schedule_refresh"), 3_600_000)
        if window_ms < refresh_ms:
            self.problem("scenario", "schedule_window", "must be at least as long as schedule_refresh")

        stations = self.stations()
        self.station_keys = {s.key: s for s in stations}
        tracks = self.tracks()
        self.track_keys = tracks
        playlists = self.playlists(tracks)
        djs = self.djs()
        webstreams = self.webstreams()
        self.refs = {"playlist": playlists, "webstream": webstreams, "dj": djs}
        slots = self.slots()
        self.check_overlaps(slots)
        timeline = self.timeline(djs, webstreams, tracks)
        self.check_recurring(stations, tracks, playlists, webstreams, slots, timeline, refresh_ms)
        harbor_doc = self.doc.get("harbor", {})
        harbor = HarborSettings(
            port=harbor_doc.get("port"),
            host=harbor_doc.get("host", "127.0.0.1"),
            max_sources=harbor_doc.get("max_sources", 10),
            source_timeout_ms=self.duration(
                "harbor", "source_timeout", harbor_doc.get("source_timeout"), 10_000
            ),
            limits=self.harbor_limits(harbor_doc),
        )
        if self.problems:
            raise ScenarioError(self.problems)
        return Scenario(
            path=self.file,
            name=self.name,
            description=head.get("description", ""),
            start=self.start,
            duration_ms=duration_ms,
            speed=float(head.get("speed", 1.0)),
            seed=self.seed,
            schedule_window_ms=window_ms,
            schedule_refresh_ms=refresh_ms,
            stations=stations,
            tracks=tracks,
            playlists=playlists,
            djs=djs,
            webstreams=webstreams,
            slots=slots,
            timeline=timeline,
            harbor=harbor,
        )

    def harbor_limits(self, harbor_doc: dict[str, Any]) -> HarborLimits:
        """``[harbor]``'s limits (the defaults for those not given), or the defaults and a problem
        for each rule they break."""
        defaults = HarborLimits()
        values: dict[str, float] = {}
        for key, field in HARBOR_LIMIT_KEYS.items():
            if key not in harbor_doc:
                values[field] = getattr(defaults, field)
            elif field.endswith("_seconds"):
                values[field] = self.duration("harbor", key, harbor_doc[key], 0) / 1000
            else:
                values[field] = harbor_doc[key]
        keys = {field: key for key, field in HARBOR_LIMIT_KEYS.items()}
        broken = False
        for rule in HARBOR_LIMIT_RULES:
            if rule.holds(values[rule.field], values[rule.other]):
                continue
            broken = True
            # Named where the file sets it: a key left out has its default, which the file may not know.
            field, relation, other = rule.field, rule.relation, rule.other
            if keys[field] not in harbor_doc:
                field, relation, other = other, rule.inverse, field
            value = values[other]
            shown_value = format_duration(round(value * 1000)) if other.endswith("_seconds") else f"{value:,}"
            default = "" if keys[other] in harbor_doc else ", its default"
            self.problem("harbor", keys[field], f"must be {relation} {keys[other]} ({shown_value}{default})")
        return defaults if broken else HarborLimits(**values)

    def uid(self, kind: str, key: str, explicit: str | None = None) -> str:
        if explicit is not None:
            return str(uuid.UUID(explicit))
        return str(uuid.uuid5(self.namespace, f"{kind}/{key}"))

    def unique(self, table: str, entries: list[dict[str, Any]]) -> None:
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            key = entry["id"]
            if key in seen:
                self.problem(f"{table}[{index}]", "id", f"'{key}' is already the id of {table}[{seen[key]}]")
            seen.setdefault(key, index)

    def stations(self) -> tuple[Station, ...]:
        entries = self.doc["stations"]
        self.unique("stations", entries)
        result = []
        for index, entry in enumerate(entries):
            table = f"stations[{index}]"
            key = entry["id"]
            mounts_doc = entry.get("mounts") or [{"id": "main"}]
            self.unique(f"{table}.mounts", mounts_doc)
            mounts = tuple(
                Mount(
                    m["id"],
                    self.uid("mount", f"{key}/{m['id']}", m.get("uuid")),
                    m.get("path", f"/{key}/{m['id']}"),
                )
                for m in mounts_doc
            )
            crossfade = self.duration(table, "crossfade", entry.get("crossfade"), 0)
            result.append(
                Station(
                    key=key,
                    id=self.uid("station", key, entry.get("uuid")),
                    name=entry["name"],
                    mounts=mounts,
                    crossfade_ms=crossfade,
                    health_interval_ms=self.duration(
                        table, "health_interval", entry.get("health_interval"), 60_000
                    ),
                )
            )
        return tuple(result)

    def tracks(self) -> dict[str, Track]:
        library = self.doc.get("library", {})
        explicit = library.get("tracks", [])
        self.unique("library.tracks", explicit)
        tracks: dict[str, Track] = {}
        explicit_index = {entry["id"]: index for index, entry in reversed(list(enumerate(explicit)))}
        for index, entry in enumerate(explicit):
            # A refused duration is reported; the track stays (as long as a track may be, so that it
            # shortens nothing), and what refers to it is no cascade.
            duration = self.duration(f"library.tracks[{index}]", "duration", entry.get("duration"), DAY_MS)
            tracks[entry["id"]] = Track(
                key=entry["id"],
                id=self.uid("media", entry["id"], entry.get("uuid")),
                title=entry["title"],
                artist=entry.get("artist", ""),
                album=entry.get("album", ""),
                duration_ms=duration,
                rotation=entry.get("rotation", True),
            )
        for generated in generate_catalog(library.get("generate", 0), random.Random(f"{self.seed}/library")):
            key = str(generated["key"])
            if key in tracks:
                self.problem(
                    f"library.tracks[{explicit_index[key]}]",
                    "id",
                    f"'{key}' clashes with a generated track's id; pick another",
                )
                continue
            tracks[key] = Track(
                key=key,
                id=self.uid("media", key),
                title=str(generated["title"]),
                artist=str(generated["artist"]),
                album=str(generated["album"]),
                duration_ms=int(generated["duration_ms"]),  # type: ignore[call-overload]
            )
        if not any(t.rotation for t in tracks.values()):
            self.problem(
                "library", None, "no track is available for rotation: add [[library.tracks]] or set generate"
            )
        return tracks

    def playlists(self, tracks: dict[str, Track]) -> dict[str, Playlist]:
        entries = self.doc.get("playlists", [])
        self.unique("playlists", entries)
        pool = [key for key, track in tracks.items() if track.rotation]
        result = {}
        for index, entry in enumerate(entries):
            table = f"playlists[{index}]"
            chosen = list(entry.get("tracks", []))
            for position, key in enumerate(chosen):
                if key not in tracks:
                    self.problem(
                        table,
                        f"tracks[{position}]",
                        f"no track has the id '{key}'{self.suggest(key, tracks)}",
                    )
            pick = entry.get("pick", 0)
            if pick > len(pool):
                self.problem(table, "pick", f"asks for {pick} tracks but the rotation pool has {len(pool)}")
            elif pick:
                rng = random.Random(f"{self.seed}/playlist/{entry['id']}")
                chosen += rng.sample(pool, pick)
            if not chosen and not pick:
                self.problem(table, "tracks", "a playlist needs tracks (list them, or set pick)")
            result[entry["id"]] = Playlist(
                key=entry["id"],
                id=self.uid("playlist", entry["id"], entry.get("uuid")),
                name=entry.get("name", entry["id"]),
                tracks=tuple(chosen),
                shuffle=entry.get("shuffle", False),
            )
        return result

    def djs(self) -> dict[str, Dj]:
        entries = self.doc.get("djs", [])
        self.unique("djs", entries)
        return {
            e["id"]: Dj(e["id"], self.uid("user", e["id"], e.get("uuid")), e["username"], e.get("password"))
            for e in entries
        }

    def webstreams(self) -> dict[str, Webstream]:
        entries = self.doc.get("webstreams", [])
        self.unique("webstreams", entries)
        result = {}
        defaults = ProbeSettings()
        for index, entry in enumerate(entries):
            table = f"webstreams[{index}]"
            if len(set(entry["urls"])) != len(entry["urls"]):
                self.problem(table, "urls", "lists the same URL twice")

            def setting(key: str, default: int, table: str = table, entry: dict[str, Any] = entry) -> int:
                return self.duration(table, key, entry.get(key), default)

            probe = ProbeSettings(
                kind=entry.get("probe", "scripted"),
                interval_ms=setting("interval", defaults.interval_ms),
                connect_timeout_ms=setting("connect_timeout", defaults.connect_timeout_ms),
                sample_window_ms=setting("sample_window", defaults.sample_window_ms),
                min_bytes=entry.get("min_bytes", defaults.min_bytes),
                stall_timeout_ms=setting("stall_timeout", defaults.stall_timeout_ms),
                failure_threshold=entry.get("failure_threshold", defaults.failure_threshold),
                grace_ms=setting("grace", defaults.grace_ms),
                recovery_checks=entry.get("recovery_checks", defaults.recovery_checks),
            )
            result[entry["id"]] = Webstream(
                key=entry["id"],
                id=self.uid("webstream", entry["id"], entry.get("uuid")),
                name=entry["name"],
                urls=tuple(entry["urls"]),
                probe=probe,
            )
        return result

    def station_of(self, table: str, entry: dict[str, Any]) -> str | None:
        key = entry.get("station")
        if key is None:
            if len(self.station_keys) == 1:
                return next(iter(self.station_keys))
            self.problem(table, "station", "required when the scenario has more than one station")
            return None
        if key not in self.station_keys:
            self.problem(
                table, "station", f"no station has the id '{key}'{self.suggest(key, self.station_keys)}"
            )
            return None
        return key

    def slots(self) -> tuple[Slot, ...]:
        result = []
        for index, entry in enumerate(self.doc.get("schedule", [])):
            table = f"schedule[{index}]"
            station = self.station_of(table, entry)
            kinds = [k for k in ("playlist", "webstream", "dj") if k in entry]
            if len(kinds) != 1:
                self.problem(table, None, "needs exactly one of the keys 'playlist', 'webstream' or 'dj'")
                continue
            ref = kinds[0]
            target = entry[ref]
            if target not in self.refs[ref]:
                self.problem(
                    table, ref, f"no {ref} has the id '{target}'{self.suggest(target, self.refs[ref])}"
                )
            if "title" in entry and ref != "dj":
                self.problem(table, "title", "only a live show (dj = ...) has a title")
            if "duration" not in entry:
                continue  # refused by the schema: its overlaps would be guesses
            duration = parse_duration(entry["duration"])
            crossfade = entry.get("crossfade")
            crossfade_ms = None if crossfade is None else parse_duration(crossfade)
            common = {
                "index": index,
                "station": station or "",
                "kind": "live" if ref == "dj" else ref,
                "target": target,
                "duration_ms": duration,
                "title": entry.get("title", ""),
                "crossfade_ms": crossfade_ms,
            }
            if "at" in entry:
                if "days" in entry or "start" in entry:
                    self.problem(
                        table,
                        "at",
                        "a one-off entry has 'at'; a recurring one has 'days' and 'start', not both",
                    )
                    continue
                try:
                    at_ms = self.clock.offset_of(parse_instant(entry["at"]))
                except ValueError as exc:
                    self.problem(table, "at", str(exc))
                    continue
                result.append(Slot(at_ms=at_ms, **common))
            else:
                missing = [k for k in ("days", "start") if k not in entry]
                if missing:
                    self.problem(
                        table, missing[0], "required for a recurring entry (or give 'at' for a one-off)"
                    )
                    continue
                days = entry["days"]
                day_set = (
                    _DAY_SETS[days] if isinstance(days, str) else frozenset(_WEEKDAYS.index(d) for d in days)
                )
                hours, minutes = entry["start"].split(":")
                start_of_day = (int(hours) * 60 + int(minutes)) * 60_000
                ordered = sorted(day_set)
                gaps = [
                    ((ordered[(i + 1) % len(ordered)] - day - 1) % 7 + 1) * DAY_MS
                    for i, day in enumerate(ordered)
                ]
                if duration > min(gaps):
                    self.problem(
                        table,
                        "duration",
                        f"is longer than the gap to the entry's next day "
                        f"({min(gaps) // 3_600_000}h); it overlaps its own next occurrence",
                    )
                result.append(Slot(days=day_set, start_of_day_ms=start_of_day, **common))
        return tuple(result)

    def check_overlaps(self, slots: tuple[Slot, ...]) -> None:
        """Two entries of one station that would be on air at once cannot both play.

        One-offs meet one-offs on the calendar; every other pair meets on one week, each
        entry folded onto it. Each entry is reported once, at the first entry it overlaps.
        """
        monday = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        monday_offset = self.clock.offset_of(monday) - self.start.weekday() * DAY_MS

        def weekly(slot: Slot) -> list[tuple[int, int]]:
            if slot.days is not None:
                starts = [day * DAY_MS + slot.start_of_day_ms for day in sorted(slot.days)]
            else:
                starts = [(slot.at_ms - monday_offset) % WEEK_MS]  # type: ignore[operator]
            spans = []
            for begin in starts:
                end = begin + slot.duration_ms
                spans.append((begin, min(end, WEEK_MS)))
                if end > WEEK_MS:
                    spans.append((0, end - WEEK_MS))
            return spans

        first_clash: dict[int, int] = {}  # position of an entry -> position of the first it overlaps
        by_station: dict[str, list[int]] = {}
        for position, slot in enumerate(slots):
            by_station.setdefault(slot.station, []).append(position)
        for positions in by_station.values():
            once = [p for p in positions if slots[p].at_ms is not None]
            calendar = [(slots[p].at_ms, slots[p].at_ms + slots[p].duration_ms, p) for p in once]
            folded = [(begin, end, p) for p in positions for begin, end in weekly(slots[p])]
            for first, second in _overlapping(calendar) | {
                (i, j)
                for i, j in _overlapping(folded)
                if slots[i].days is not None or slots[j].days is not None
            }:
                first_clash[second] = min(first, first_clash.get(second, first))
        for second, first in sorted(first_clash.items(), key=lambda pair: (pair[1], pair[0])):
            earlier, later = slots[first], slots[second]
            self.problem(
                f"schedule[{later.index}]",
                "start" if later.days is not None else "at",
                f"overlaps schedule[{earlier.index}] on station '{earlier.station}'; both cannot play",
            )

    def check_recurring(
        self,
        stations: tuple[Station, ...],
        tracks: dict[str, Track],
        playlists: dict[str, Playlist],
        webstreams: dict[str, Webstream],
        slots: tuple[Slot, ...],
        timeline: tuple[Happening, ...],
        refresh_ms: int,
    ) -> None:
        """What recurs bounds a day's work: at most :data:`MAX_RECURRING_PER_DAY` beats, track
        changes, checks, repeats and refreshes in a day of station time, each at its worst."""

        def per_day(interval_ms: int) -> int:
            return -(-DAY_MS // max(interval_ms, 1))

        # Automation may play any rotation or playlist track back to back, each cut short by the
        # longest crossfade the station may use (at most half the track).
        playable = {key for key, track in tracks.items() if track.rotation}
        playable.update(key for playlist in playlists.values() for key in playlist.tracks)
        shortest = [tracks[key].duration_ms for key in playable if key in tracks]
        track_changes = 0
        for station in stations:
            fades = [s.crossfade_ms or 0 for s in slots if s.station == station.key]
            fade = max([station.crossfade_ms, *fades])
            if shortest:
                track_changes += per_day(min(ms - min(fade, ms // 2) for ms in shortest))
        parts = {
            "health beats": sum(per_day(s.health_interval_ms) for s in stations if s.health_interval_ms > 0),
            "track changes": track_changes,
            "scripted checks": sum(
                per_day(w.probe.interval_ms) * len(w.urls)
                for w in webstreams.values()
                if w.probe.kind == "scripted"
            ),
            "timeline repeats": sum(
                min(per_day(h.every_ms), h.count or math.inf) for h in timeline if h.every_ms is not None
            ),
            "schedule refreshes": per_day(refresh_ms),
        }
        total = sum(parts.values())
        if total > MAX_RECURRING_PER_DAY:
            each = ", ".join(f"{name} {count:,}" for name, count in parts.items() if count)
            self.problem(
                "(top level)",
                None,
                f"{total:,} recurring happenings a day at most ({each}), more than the "
                f"{MAX_RECURRING_PER_DAY:,} allowed; lengthen health_interval, the shortest tracks, "
                "a webstream's interval or a timeline entry's every",
            )

    def timeline(
        self, djs: dict[str, Dj], webstreams: dict[str, Webstream], tracks: dict[str, Track]
    ) -> tuple[Happening, ...]:
        result: list[Happening] = []
        overrides = {e.get("name") for e in self.doc.get("timeline", []) if e["action"] == "override"}
        for index, entry in enumerate(self.doc.get("timeline", [])):
            table = f"timeline[{index}]"
            at_ms = self.offset(table, entry["at"])
            every = entry.get("every")
            every_ms = None if every is None else parse_duration(every)
            if "count" in entry and every is None:
                self.problem(table, "count", "only a repeating entry (with 'every') has a count")
            made = self.happening_inputs(table, entry, djs, webstreams, tracks, overrides)
            if at_ms is None or made is None:
                continue
            for delay, made_input in made:
                result.append(Happening(index, at_ms + delay, made_input, every_ms, entry.get("count")))
        return tuple(result)

    def offset(self, table: str, text: str) -> int | None:
        if text.startswith("+"):
            try:
                return parse_duration(text[1:])
            except ValueError:
                self.problem(table, "at", f"{text!r} is neither +{DURATION_HINT[2:]} nor an RFC 3339 instant")
                return None
        try:
            offset = self.clock.offset_of(parse_instant(text))
        except ValueError as exc:
            self.problem(table, "at", f"{exc}; or write an offset such as +2h30m")
            return None
        if offset < 0:
            self.problem(table, "at", f"{text} is before the scenario's start")
            return None
        return offset

    def url_index(self, table: str, webstream: Webstream | None, url: int | str) -> int | None:
        if webstream is None:
            return None
        if isinstance(url, int):
            if 0 <= url < len(webstream.urls):
                return url
            self.problem(
                table,
                "url",
                f"{shown(url)} is not an index of webstream '{webstream.key}' "
                f"(0 to {len(webstream.urls) - 1})",
            )
            return None
        if url in webstream.urls:
            return webstream.urls.index(url)
        self.problem(table, "url", f"{shown(url)} is not in the URL chain of webstream '{webstream.key}'")
        return None

    def lookup(self, table: str, key: str, kind: str, known: dict[str, Any]) -> Any:
        value = known.get(key)
        if value is None:
            self.problem(table, kind, f"no {kind} has the id '{key}'{self.suggest(key, known)}")
        return value

    def happening_inputs(
        self,
        table: str,
        entry: dict[str, Any],
        djs: dict[str, Dj],
        webstreams: dict[str, Webstream],
        tracks: dict[str, Track],
        overrides: set[str | None],
    ) -> list[tuple[int, inputs.Input]] | None:
        """The inputs one timeline entry stands for, each with its delay after ``at``."""
        action = entry["action"]
        problems_before = len(self.problems)
        made: list[tuple[int, inputs.Input]] = []
        if action in ("dj_connect", "dj_disconnect"):
            station = self.station_of(table, entry)
            self.lookup(table, entry["dj"], "dj", djs)
            if action == "dj_disconnect":
                made.append((0, inputs.DisconnectDj(station=station or "", dj=entry["dj"])))
            else:
                mount = entry.get("mount")
                if station and mount and mount not in {m.key for m in self.station_keys[station].mounts}:
                    self.problem(table, "mount", f"station '{station}' has no mount '{mount}'")
                made.append(
                    (
                        0,
                        inputs.ConnectDj(
                            station=station or "",
                            dj=entry["dj"],
                            mount=mount,
                            source_ip=entry.get("source_ip", "127.0.0.1"),
                            transition=entry.get("transition", "faded"),
                            priority=entry.get("priority"),
                        ),
                    )
                )
        elif action in ("webstream_outage", "webstream_restore"):
            webstream = self.lookup(table, entry["webstream"], "webstream", webstreams)
            if webstream is not None and webstream.probe.kind == "http":
                self.problem(
                    table,
                    "webstream",
                    f"webstream '{webstream.key}' is probed over HTTP: its outages "
                    "come from the network, not the timeline",
                )
            index = self.url_index(table, webstream, entry["url"])
            if index is not None and action == "webstream_outage":
                made.append(
                    (
                        0,
                        inputs.UrlDown(
                            webstream=entry["webstream"],
                            url=index,
                            reason=entry.get("reason", "connection_timeout"),
                        ),
                    )
                )
                if "duration" in entry:
                    made.append(
                        (
                            parse_duration(entry["duration"]),
                            inputs.UrlUp(webstream=entry["webstream"], url=index),
                        )
                    )
            elif index is not None:
                made.append((0, inputs.UrlUp(webstream=entry["webstream"], url=index)))
        elif action in ("webstream_failover", "webstream_reset"):
            self.lookup(table, entry["webstream"], "webstream", webstreams)
            kind = inputs.ForceFailover if action == "webstream_failover" else inputs.ResetWebstream
            made.append((0, kind(webstream=entry["webstream"])))
        elif action == "emergency":
            station = self.station_of(table, entry)
            self.lookup(table, entry["media"], "media", tracks)
            made.append((0, inputs.InsertEmergency(station=station or "", media=entry["media"])))
        elif action == "override":
            station = self.station_of(table, entry)
            sources = [k for k in ("media", "webstream") if k in entry]
            if len(sources) != 1:
                self.problem(table, None, "an override needs exactly one of 'media' or 'webstream'")
            else:
                self.lookup(
                    table, entry[sources[0]], sources[0], tracks if sources[0] == "media" else webstreams
                )
                made.append(
                    (
                        0,
                        inputs.StartOverride(
                            station=station or "",
                            name=entry["name"],
                            media=entry.get("media"),
                            webstream=entry.get("webstream"),
                            transition=entry.get("transition", "immediate"),
                        ),
                    )
                )
        elif action == "release":
            station = self.station_of(table, entry)
            targets = [k for k in ("override", "dj", "emergency") if k in entry]
            if len(targets) != 1:
                self.problem(
                    table, None, "a release needs exactly one of 'override', 'dj' or 'emergency = true'"
                )
            else:
                target = targets[0]
                if target == "dj":
                    self.lookup(table, entry["dj"], "dj", djs)
                if target == "override" and entry["override"] not in overrides:
                    self.problem(
                        table, "override", f"no override in the timeline is named '{entry['override']}'"
                    )
                name = None if target == "emergency" else entry[target]
                made.append((0, inputs.Release(station=station or "", target=target, name=name)))
        elif action == "skip":
            station = self.station_of(table, entry)
            made.append((0, inputs.Skip(station=station or "")))
        return made if len(self.problems) == problems_before else None


def _overlapping(spans: list[tuple[int, int, int]]) -> set[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of different owners whose ``(begin, end, owner)`` spans overlap."""
    pairs = set()
    active: list[tuple[int, int]] = []  # (end, owner) of the spans begun so far that may still overlap
    for begin, end, owner in sorted(spans):
        active = [(until, other) for until, other in active if until > begin]
        pairs.update((min(owner, other), max(owner, other)) for _, other in active if other != owner)
        active.append((end, owner))
    return pairs


def suggest(key: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` with the closest of ``known`` (case aside), or nothing when none is close."""
    by_folded = {name.casefold(): name for name in known}
    close = difflib.get_close_matches(key.casefold(), list(by_folded), n=1)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""
