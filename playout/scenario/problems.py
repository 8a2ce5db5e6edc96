"""What is wrong with a scenario file, said so that its author can fix it.

A :class:`Problem` names the file, the table and the key, and the line and column where the
file spells them; a :class:`ScenarioError` carries every problem of a file. Here too: a schema
error in words, "did you mean" hints, and which of the builder's problems are only the cascade
of a value the schema refused.
"""

import difflib
import math
from collections.abc import Iterable
from typing import Any

import attrs
import jsonschema

from ..protocol.stationtime import DURATION_HINT, format_duration, parse_duration, shown

MAX_HINTS = 100
"""'did you mean' hints per file: each searches every id of its kind, so a hostile file gets only some."""
MAX_KEYS_NAMED = 10
"""Unknown keys named in a table's one problem; a table of 40,000 made a line of 400 KB (and 8 s)."""


def _one_line(text: str | None) -> str | None:
    return None if text is None else text.replace("\r", "\\r").replace("\n", "\\n")


@attrs.frozen
class Problem:
    """One thing wrong with a scenario file, located by table and key, and by line and column
    (1-based) where the text has a place for it (:func:`playout.scenario.positions.located`)."""

    file: str
    table: str = attrs.field(converter=_one_line)
    key: str | None = attrs.field(converter=_one_line)
    message: str = attrs.field(converter=_one_line)
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.line is not None and self.column is not None:
            where += f":{self.column}"
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


Place = tuple[str, str | None]
"""A problem's table and key."""


class Findings:
    """The problems found in one file so far, and what is left of its budget of hints.

    ``refused`` are the places whose values the schema refused (or found missing): the
    builder sees a document without them, so a problem of its own at one of them, or one
    that depends on one, is only their cascade and is left out.
    """

    def __init__(self, file: str, refused: Iterable[Place] = ()) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.hints_left = MAX_HINTS
        self.refused = set(refused)

    def problem(self, table: str, key: str | None, message: str, about: Iterable[str] = ()) -> None:
        """A problem at ``table``'s ``key``, unless it or a key of the table it is ``about`` was refused."""
        if (table, key) in self.refused or any((table, other) in self.refused for other in about):
            return
        self.problems.append(Problem(self.file, table, key, message))

    def refused_within(self, table: str) -> bool:
        """Whether the schema refused anything in ``table`` (a top-level one) or the table itself."""
        return ("(top level)", table) in self.refused or any(
            refused == table or refused.startswith((f"{table}.", f"{table}[")) for refused, _ in self.refused
        )

    def suggest(self, key: str, known: Iterable[str]) -> str:
        """`` (did you mean 'x'?)`` for the first :data:`MAX_HINTS` unknown ids of a file."""
        if self.hints_left <= 0:
            return ""
        self.hints_left -= 1
        return suggest(key, known)


def suggest(key: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` with the closest of ``known`` (case aside), or nothing when none is close."""
    by_folded = {name.casefold(): name for name in known}
    close = difflib.get_close_matches(key.casefold(), list(by_folded), n=1)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""


def _table_name(path: list[Any]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name or "(top level)"


def place_of(path: list[Any]) -> tuple[str, str | None]:
    """The table and key a value at ``path`` is reported at (a list's item by its index)."""
    if path and isinstance(path[-1], int) and len(path) >= 2 and not isinstance(path[-2], int):
        return _table_name(path[:-2]), f"{path[-2]}[{path[-1]}]"
    if path:
        return _table_name(path[:-1]), str(path[-1])
    return "(top level)", None


def problems_from_schema(file: str, error: jsonschema.ValidationError) -> list[Problem]:
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
    table, key = place_of(path)
    return [Problem(file, table, key, _describe(error))]


def _describe(error: jsonschema.ValidationError) -> str:
    value = error.instance
    schema = error.schema
    if error.validator == "format" and schema.get("format") == "duration":
        if _negative_duration(value):
            limits = schema.get("durationRange", {})
            if "exclusiveMinimum" in limits:
                return f"{_shown(value)} must be positive"
            if limits.get("minimum", 0) > 0:
                return f"{_shown(value)} must be at least {format_duration(limits['minimum'])}"
            return f"{_shown(value)} must not be negative"
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


def _negative_duration(value: object) -> bool:
    """``-3m`` or ``-90``: a duration but for its sign."""
    if isinstance(value, str) and value.strip().startswith("-"):
        value = value.strip()[1:]
    elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        value = -value
    else:
        return False
    try:
        parse_duration(value)
    except ValueError:
        return False
    return True


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
