"""Scenario files: TOML in, a frozen, fully checked :class:`~playout.scenario.model.Scenario` out.

Loading never half-succeeds: every problem in a file (syntax, unknown or missing
keys, wrong types, values out of range, dangling references, overlapping slots) is
collected into one :class:`~playout.scenario.problems.ScenarioError` before anything
runs, each with its line and column. Here: reading within the size and nesting
limits, TOML, the count limits and the schema check; the meaning is the builder's
(:mod:`playout.scenario.builder`), which also checks what the schema let through of
a file it refused.
"""

import copy
import math
import re
import tomllib
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema

from ..protocol.stationtime import format_duration, parse_duration
from .actions import TIMELINE_ACTIONS
from .builder import Builder
from .model import Scenario
from .positions import located
from .problems import Findings, Problem, ScenarioError, place_of, problems_from_schema
from .schema import (
    DOCUMENT_SCHEMA,
    MAX_FILE_BYTES,
    MAX_NESTING,
    TIMELINE_ENTRY_COMMON,
    timeline_action_schema,
)


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
        try:
            return Builder(Findings(file), document).build()
        except ScenarioError as exc:
            raise ScenarioError(located(text, exc.problems)) from None
    problems = sorted(
        dict.fromkeys([*cut, *(p for e in errors for p in problems_from_schema(file, e))]),
        key=lambda p: (p.table, p.key or ""),
    )
    if cut:
        # References into what was cut off would all look dangling: the meaning is not checked.
        raise ScenarioError(located(text, problems))
    # Check the meaning of what the schema let through too, so one run reports every problem.
    refused = [
        (p.table, p.key)
        for e in errors
        if e.validator != "additionalProperties"
        for p in problems_from_schema(file, e)
    ]
    findings = Findings(file, refused)
    try:
        Builder(findings, _without_invalid(document, errors)).build()
    except ScenarioError:
        seen = set(problems)
        problems += [p for p in findings.problems if p not in seen]
    raise ScenarioError(located(text, problems))


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
        message, line, column = _placed(str(exc))
        raise ScenarioError([Problem(file, "", None, f"invalid TOML: {message}", line, column)]) from None
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
            table, key = place_of(path)
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
    """A copy of ``document`` without the values and keys the schema rejected.

    A rejected key of a table is left out; a rejected item of a list becomes ``None``, so
    that the items after it keep their indexes (the builder passes over it).
    """
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
            elif error.validator == "required":
                continue  # nothing there to take out
            elif path and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif path and isinstance(parent, list):
                parent[path[-1]] = None
        except (KeyError, IndexError, TypeError):
            continue  # inside a value an earlier error already took out
    return pruned


_AT = re.compile(r" \(at line (\d+), column (\d+)\)$")


def _placed(message: str) -> tuple[str, int | None, int | None]:
    """tomllib's message without its ``(at line L, column C)``, and L and C (None where it has none)."""
    found = _AT.search(message)
    if found is None:
        return message, None, None
    return message[: found.start()], int(found[1]), int(found[2])


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
