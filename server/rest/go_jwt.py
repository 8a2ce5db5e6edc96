"""A JWT's claims as the real server reads them: golang-jwt v5.3.0 decoding into ``auth.Claims``.

internal/auth/jwt.go:19-56 parses the payload with ``encoding/json`` into a struct,
so what passes is Go's rules, not PyJWT's: a key matches its field whatever its
case and the last such key wins; JSON ``null`` leaves a field empty (an ``exp`` of
``null`` is no ``exp``); a value of the wrong type fails the whole token (``uid: 5``,
``roles: "admin"``, ``aud: 5``); a time claim may be a number or a string holding
one (``NumericDate.UnmarshalJSON`` reads a ``json.Number``), truncated to the
second; only ``exp`` (valid while now is before it) and ``nbf`` are checked. The token
itself is parsed as golang-jwt's parser does (:func:`_verified_payload`), with PyJWT's
HMAC only: its own header checks are not Go's.
"""

import base64
import binascii
import json
import math
import re
import time
from typing import Any

import attrs
from jwt.algorithms import HMACAlgorithm

from ..auth import ALGORITHM, SigningKey
from .go_wire import go_string, go_text, not_json

_STRINGS = ("uid", "station_id", "iss", "sub", "jti")
_TIMES = ("exp", "nbf", "iat")
_FIELDS = frozenset((*_STRINGS, *_TIMES, "roles", "aud"))
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_RAW_URL_BASE64 = re.compile(r"[A-Za-z0-9_-]*")
_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)


class InvalidClaims(ValueError):
    """A claim ``encoding/json`` cannot put in its field, or a token out of its time."""


@attrs.frozen
class TokenClaims:
    uid: str
    roles: tuple[str, ...]
    """As the token gives them, a JSON ``null`` among them as ``""`` (not yet normalised)."""
    station_id: str


def decode(key: SigningKey, token: str, *, now: float | None = None) -> TokenClaims:
    """The token's claims, or :class:`InvalidClaims` for a token Parse refuses."""
    payload = _verified_payload(key, token)
    fields: dict[str, Any] = {}
    for name, value in payload.items():  # encoding/json: case-insensitive, the last key wins
        if name.lower() in _FIELDS:
            fields[name.lower()] = value
    strings = {name: _string(name, fields.get(name)) for name in _STRINGS}
    times = {name: _numeric_date(name, fields.get(name)) for name in _TIMES}
    _audience(fields.get("aud"))
    roles = fields.get("roles")
    if roles is not None and not (isinstance(roles, list) and all(_is_string(r) for r in roles)):
        raise InvalidClaims("roles is not an array of strings")
    moment = time.time() if now is None else now
    if times["exp"] is not None and not moment < times["exp"]:
        raise InvalidClaims("token is expired")
    if times["nbf"] is not None and moment < times["nbf"]:
        raise InvalidClaims("token is not valid yet")
    return TokenClaims(strings["uid"], tuple(go_string(r or "") for r in roles or ()), strings["station_id"])


def _verified_payload(key: SigningKey, token: str) -> dict[str, Any]:
    """``Parser.ParseWithClaims`` (golang-jwt v5.3.0 parser.go) up to the claims' checks: three segments
    in unpadded base64url, a JSON object header whose ``alg`` is HS256 (the real key function's only
    check, internal/auth/jwt.go:40-44), a JSON object payload, and the HMAC. Nothing else in the header
    is looked at: a ``crit`` or a ``kid`` of any type passes, as there (PyJWT would refuse them)."""
    segments = token.split(".")
    if len(segments) != 3:
        raise InvalidClaims("token is malformed: it has not three segments")
    header, payload, signature = (_segment(segment) for segment in segments)
    if not isinstance(header := _json(header), dict) or header.get("alg") != ALGORITHM:
        raise InvalidClaims("unexpected signing method")
    signed = f"{segments[0]}.{segments[1]}".encode()
    if not _HS256.verify(signed, _HS256.prepare_key(key.secret), signature):
        raise InvalidClaims("signature is invalid")
    if not isinstance(claims := _json(payload), dict):
        raise InvalidClaims("the claims are not a JSON object")
    return claims


def _segment(segment: str) -> bytes:
    """``base64.RawURLEncoding``: the URL alphabet without padding, nothing else."""
    if not _RAW_URL_BASE64.fullmatch(segment):
        raise InvalidClaims("a segment is not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        raise InvalidClaims("a segment is not unpadded base64url") from None


def _json(raw: bytes) -> Any:
    """JSON as ``encoding/json`` reads it: invalid UTF-8 as U+FFFD, no NaN or Infinity."""
    try:
        return json.loads(go_text(raw), parse_constant=not_json)
    except (ValueError, RecursionError):
        raise InvalidClaims("a segment is not JSON") from None


def _is_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _string(name: str, value: Any) -> str:
    if not _is_string(value):
        raise InvalidClaims(f"{name} is not a string")
    return go_string(value or "")


def _numeric_date(name: str, value: Any) -> int | None:
    """``NumericDate.UnmarshalJSON``: a JSON number, or a string that is one; whole seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        if not _JSON_NUMBER.fullmatch(value):
            raise InvalidClaims(f"{name} is not a number")
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaims(f"{name} is not a number")
    try:
        seconds = float(value)
    except OverflowError:
        raise InvalidClaims(f"{name} is out of range") from None
    if not math.isfinite(seconds):
        raise InvalidClaims(f"{name} is out of range")
    return math.floor(seconds)


def _audience(value: Any) -> None:
    """``ClaimStrings.UnmarshalJSON``: a string, an array of strings, or null."""
    if value is None or isinstance(value, str):
        return
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise InvalidClaims("aud is not a string or an array of strings")
