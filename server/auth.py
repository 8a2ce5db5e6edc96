"""JWT authentication as the real server does it: HS256 only, claims uid/roles/station_id.

Tokens come from ``Authorization: Bearer …`` or, on the events endpoint, ``?token=``.
Failure of any kind (missing, malformed, wrongly signed, expired, another algorithm,
``none`` included) is the same HTTP 401 with ``WWW-Authenticate: Bearer`` and
``{"error":"unauthorized"}``.
"""

import os
import secrets
import time
from collections.abc import Iterable, Mapping

import attrs
import jwt

KEY_ENV = "GRIMNIR_JWT_SIGNING_KEY"
ALGORITHM = "HS256"
ADMIN_ROLES = frozenset({"admin", "platform_admin"})
IAT_SKEW_SECONDS = 60
"""How far ahead of this machine's clock a token's ``iat`` may be (clocks differ; a day ahead is forged)."""


@attrs.frozen
class Claims:
    uid: str
    roles: tuple[str, ...]
    station_id: str | None
    expires_at: int | None

    @property
    def is_admin(self) -> bool:
        return not ADMIN_ROLES.isdisjoint(self.roles)


@attrs.frozen
class SigningKey:
    """The HS256 key, and whether it came from the environment or was made for this run."""

    secret: str
    generated: bool

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "SigningKey | None":
        secret = environ.get(KEY_ENV, "")
        return cls(secret, generated=False) if secret else None

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(secrets.token_urlsafe(32), generated=True)


def mint(
    key: SigningKey,
    *,
    user: str = "grimnir-sim",
    roles: Iterable[str] = ("admin",),
    station_id: str | None = None,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """A token with the claims the real server issues (``sub`` = ``uid``)."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "uid": user,
        "sub": user,
        "roles": list(roles),
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if station_id:
        claims["station_id"] = station_id
    return jwt.encode(claims, key.secret, algorithm=ALGORITHM)


def verify(key: SigningKey, token: str | None, *, now: float | None = None) -> Claims | None:
    """The token's claims, or ``None`` for every kind of bad token.

    Beyond the signature, ``exp`` and the algorithm: ``uid`` must be a non-blank string,
    and an ``iat`` more than :data:`IAT_SKEW_SECONDS` ahead of ``now`` is refused.
    """
    if not token:
        return None
    try:
        # algorithms pins HS256: "none", RS256 and the rest are refused before any check.
        # Like golang-jwt on the real server: an aud claim is no reason to refuse; iat is checked below,
        # with a skew PyJWT's leeway would also grant to exp.
        decoded = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            options={"require": ["uid"], "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    roles = decoded.get("roles", [])
    station = decoded.get("station_id")
    issued = decoded.get("iat")
    if issued is not None and (
        isinstance(issued, bool)
        or not isinstance(issued, int | float)
        or issued > (time.time() if now is None else now) + IAT_SKEW_SECONDS
    ):
        return None
    if (
        not isinstance(decoded["uid"], str)
        or not decoded["uid"].strip()
        or not isinstance(roles, list)
        or not all(isinstance(r, str) for r in roles)
    ):
        return None
    if "station_id" in decoded and not (isinstance(station, str) and station.strip()):
        return None  # a limit that cannot be read is refused, never taken for "every station"
    return Claims(
        uid=decoded["uid"],
        roles=tuple(roles),
        station_id=station,
        expires_at=decoded.get("exp"),
    )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
