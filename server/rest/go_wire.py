"""REST as the real Grimnir server's Go handlers speak it: bodies, refusals and request decoding.

For the ``grimnir`` profile (docs/fidelity.md, "REST"). Answers are written as
``writeJSON`` does (internal/api/api.go:2287-2295): ``json.NewEncoder`` with its
trailing newline, ``Content-Type: application/json``; a map's keys sorted, a
struct's in declaration order (:class:`Struct`); refusals are ``{"error":"<code>"}``
with no ``detail``. Bodies are read as ``json.NewDecoder(r.Body).Decode(&req)``
reads them into a Go struct (:func:`decode`).
"""

import codecs
import json
import math
import re
from typing import Any

import orjson
from quart import Response

from playout import wire

GO_UNAUTHORIZED_BODY = b'{"error":"unauthorized"}'
"""The auth middleware's 401 body: written raw, no newline (internal/auth/middleware.go:60-64)."""
INT64 = (-(2**63), 2**63 - 1)
MAX_NESTING = 200
"""Go's decoder nests up to 10,000 deep; here a body deeper than this is 400 ``invalid_json``, so that
what a handler publishes stays within what the wire's encoder takes (orjson: 254 levels)."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _each_byte_replaced(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd", error.start + 1


codecs.register_error("grimnir-sim-go", _each_byte_replaced)


def go_text(raw: bytes) -> str:
    """Bytes as Go's ``encoding/json`` reads or writes them as text: each byte of invalid UTF-8 is one
    U+FFFD (``utf8.DecodeRune``'s width 1), where Python's ``replace`` merges a truncated sequence."""
    return raw.decode("utf-8", errors="grimnir-sim-go")


class Struct(dict):
    """A Go struct in a JSON body: its fields in declaration order, not sorted as a map's keys are."""


class GoRefusal(Exception):
    """A handler's ``writeError(w, status, code)``, or any other fixed answer it gives instead."""

    def __init__(self, status: int, code: str, body: Any = None) -> None:
        super().__init__(code)
        self.status = status
        self.body = {"error": code} if body is None else body


def encode(value: Any) -> bytes:
    """``value`` as Go's ``encoding/json`` writes it: maps sorted, :class:`Struct` fields in order."""
    if isinstance(value, Struct):
        fields = (orjson.dumps(name) + b":" + encode(field) for name, field in value.items())
        return b"{" + b",".join(fields) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(encode(item) for item in value) + b"]"
    return wire.go_json(value)


def go_answer(status: int, value: Any) -> Response:
    """``writeJSON(w, status, value)``: the encoder's trailing newline included."""
    return Response(encode(value) + b"\n", status=status, content_type="application/json")


def go_unauthorized() -> Response:
    """The auth middleware's 401: ``WWW-Authenticate: Bearer`` and the body Go sniffs as text."""
    return Response(
        GO_UNAUTHORIZED_BODY,
        status=401,
        headers={"WWW-Authenticate": "Bearer", "Content-Type": "text/plain; charset=utf-8"},
    )


def decode(raw: bytes, fields: dict[str, type]) -> dict[str, Any]:
    """The body decoded into a Go struct of ``fields`` (name → ``str``, ``int``, ``bool`` or ``dict``).

    As ``json.Decoder.Decode``: the first JSON value only (trailing bytes are never
    read); ``null`` leaves every field zero; names match case-insensitively, an
    exact match first; unknown names are ignored; a value of the wrong type (a
    string for an int, ``1.0`` for an int) fails. Invalid UTF-8 is read as U+FFFD (in a string that
    is the value; elsewhere a syntax error). Every failure is 400 ``invalid_json``.
    A field absent from the body has its Go zero value. Lone surrogate escapes are U+FFFD, as
    Go reads them; deeper than :data:`MAX_NESTING` is ``invalid_json`` here (docs/fidelity.md).
    """
    try:
        text = go_text(raw)
        start = len(text) - len(text.lstrip(" \t\r\n"))
        if _nesting(text, start) > MAX_NESTING:
            raise ValueError("nested too deep")
        decoder = json.JSONDecoder(object_pairs_hook=_Pairs, parse_float=_GoFloat, parse_constant=not_json)
        value, _ = decoder.raw_decode(text, start)
    except (UnicodeDecodeError, ValueError):
        raise GoRefusal(400, "invalid_json") from None
    value = _go_text(value)
    decoded: dict[str, Any] = {name: kind() for name, kind in fields.items()}
    if value is None:
        return decoded
    if not isinstance(value, _Pairs):
        raise GoRefusal(400, "invalid_json")
    failed = False
    for key, given in value:
        name = key if key in fields else next((f for f in fields if f.lower() == key.lower()), None)
        if name is None:
            continue
        if given is None:
            continue  # null leaves the field as it is
        converted = _convert(given, fields[name])
        if converted is None:
            failed = True  # Go goes on decoding, then reports the first type error
        else:
            decoded[name] = converted
    if failed:
        raise GoRefusal(400, "invalid_json")
    return decoded


def _nesting(text: str, start: int) -> int:
    """How deep the first JSON value from ``start`` nests its arrays and objects (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text[start:]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 0 and not char.isspace():
            break  # a scalar first value: the bytes after it are never read
    return deepest


def go_string(text: str) -> str:
    """A decoded JSON string as Go's decoder reads it: a ``\\uD800``-style escape with no partner is
    U+FFFD (Python's decoder keeps the lone surrogate, which no encoder takes)."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _go_text(value: Any) -> Any:
    """``value`` with every lone surrogate, in keys and strings, read as U+FFFD."""
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, _Pairs):
        return _Pairs((_go_text(key), _go_text(item)) for key, item in value)
    if isinstance(value, list):
        return [_go_text(item) for item in value]
    return value


def not_json(literal: str) -> Any:
    """``NaN`` and ``Infinity``, which Python's decoder takes and Go's refuses (a ``parse_constant``)."""
    raise ValueError(f"{literal} is not JSON")


class _Pairs(list):
    """A JSON object's members, in order (repeated names kept, as Go's decoder sees them)."""


class _GoFloat(float):
    """A JSON number written with a fraction or an exponent: never a Go ``int``."""


def _convert(given: Any, kind: type) -> Any:
    if kind is str:
        return given if isinstance(given, str) else None
    if kind is bool:
        return given if isinstance(given, bool) else None
    if kind is int:
        ok = isinstance(given, int) and not isinstance(given, bool) and INT64[0] <= given <= INT64[1]
        return given if ok else None
    if kind is dict:
        return _as_map(given) if isinstance(given, _Pairs) else None
    raise TypeError(f"no Go decoding for {kind}")  # pragma: no cover


def _as_map(pairs: list) -> dict[str, Any]:
    """A ``map[string]any``: the last of repeated keys wins, numbers are ``float64``."""
    return {key: _plain(value) for key, value in pairs}


def _plain(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return _as_map(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        return int(number) if number.is_integer() and math.isfinite(number) else number
    return value


BODY_TOO_LARGE = {"error": "request_entity_too_large"}
"""The simulator's own 64 KiB body limit, kept under the profile (the real JSON handlers read any
size) and answered in its shape, without ``detail`` (docs/fidelity.md)."""


def go_framework_refusal(status: int, allow: str | None) -> Response | None:
    """What the profile answers where no handler runs: :func:`chi_refusal`, or the body limit's 413."""
    if status == 413:
        return go_answer(413, BODY_TOO_LARGE)
    return chi_refusal(status, allow)


def chi_refusal(status: int, allow: str | None) -> Response | None:
    """chi's own answer where no route serves a request (the real router installs no handlers of its
    own): ``http.NotFound``'s text 404, an empty 405 with ``Allow``; None for any other status."""
    if status == 404:
        return Response(
            b"404 page not found\n",
            status=404,
            headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
        )
    if status == 405:
        # chi lists the methods routed on the path; HEAD and OPTIONS are Werkzeug's own additions.
        routed = [m.strip() for m in (allow or "").split(",") if m.strip() not in ("", "HEAD", "OPTIONS")]
        response = Response(b"", status=405)
        for method in sorted(routed):  # one header each, as chi adds them (in Go's map order: any)
            response.headers.add("Allow", method)
        del response.headers["Content-Type"]
        return response
    return None
