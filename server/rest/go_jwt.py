"""A JWT's claims as the real server reads them: golang-jwt v5.3.0 decoding into ``auth.Claims``.

internal/auth/jwt.go:19-56 parses the payload with ``encoding/json`` into a struct,
so what passes is Go's rules, not PyJWT's: a key matches its field whatever its
case and the last such key wins; JSON ``null`` leaves a field empty (an ``exp`` of
``null`` is no ``exp``); a value of the wrong type fails the whole token (``uid: 5``,
``roles: "admin"``, ``aud: 5``); a time claim may be a number or a string holding
one (``NumericDate.UnmarshalJSON`` reads a ``json.Number``), truncated to the
second; only ``exp`` (valid while now is before it) and ``nbf`` are checked.
"""

import math
import re
import time
from typing import Any

import attrs
import jwt

from ..auth import ALGORITHM, SigningKey
from .go_wire import LONE_SURROGATE

_STRINGS = ("uid", "station_id", "iss", "sub", "jti")
_TIMES = ("exp", "nbf", "iat")
_FIELDS = frozenset((*_STRINGS, *_TIMES, "roles", "aud"))
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_SIGNATURE_ONLY = {
    "verify_signature": True,
    **{f"verify_{claim}": False for claim in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")},
}


class InvalidClaims(ValueError):
    """A claim ``encoding/json`` cannot put in its field, or a token out of its time."""


@attrs.frozen
class TokenClaims:
    uid: str
    roles: tuple[str, ...]
    """As the token gives them, a JSON ``null`` among them as ``""`` (not yet normalised)."""
    station_id: str


def decode(key: SigningKey, token: str, *, now: float | None = None) -> TokenClaims:
    """The token's claims, or :class:`InvalidClaims` / :class:`jwt.PyJWTError` for a token Parse refuses."""
    payload = jwt.decode(token, key.secret, algorithms=[ALGORITHM], options=_SIGNATURE_ONLY)
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
    return TokenClaims(strings["uid"], tuple(_go_string(r) for r in roles or ()), strings["station_id"])


def _is_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _string(name: str, value: Any) -> str:
    if not _is_string(value):
        raise InvalidClaims(f"{name} is not a string")
    return _go_string(value)


def _go_string(value: str | None) -> str:
    """A lone surrogate escape is U+FFFD to Go's decoder."""
    return LONE_SURROGATE.sub("\ufffd", value or "")


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
