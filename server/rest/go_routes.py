"""The real server's auth and role gates, and the binding of its handlers (the ``grimnir`` profile).

internal/auth/middleware.go:25-94: an ``X-API-Key`` header, when present, is the
only credential looked at; else ``Authorization: Bearer <JWT>``. Any failure is the
middleware's 401 (:func:`~server.rest.go_wire.go_unauthorized`). The JWT is checked
as golang-jwt v5 checks it (internal/auth/jwt.go:38-56, :mod:`.go_jwt`): HS256, ``exp`` and
``nbf`` when present, nothing required, ``uid`` may be absent; role names are lowercased
and trimmed, and an unscoped ``admin`` is ``platform_admin``, an unscoped
``manager`` ``platform_mod`` (:func:`normalized_roles`). ``requireRoles``
(internal/api/api.go:1738-1786) then lets ``platform_admin`` or any allowed role
through, else 403 ``insufficient_role``.

The simulator has no ``api_keys`` table: the keys given to ``serve --api-key`` are
each a platform admin's (``uid`` :data:`API_KEY_USER`); any other key is refused.
"""

import functools
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import attrs
from quart import Quart, Response, current_app, g, request
from quart_cors import cors_exempt

from ..auth import SigningKey, bearer_token
from . import go_jwt
from .endpoint import Endpoint
from .go_wire import GoRefusal, chi_refusal, go_answer, go_unauthorized

API_KEY_USER = "api-key-user"
"""The ``uid`` of a configured API key's claims (the real server gives its user's id)."""
ADMIN, MANAGER, DJ = "admin", "manager", "dj"

GoHandler = Callable[..., Awaitable[Response]]


@attrs.frozen
class GoClaims:
    """The claims a handler sees: ``uid`` is ``""`` when the token has none."""

    uid: str
    roles: tuple[str, ...]
    station_id: str


def normalized_roles(roles: list[str], station_id: str) -> tuple[str, ...]:
    """``normalizeClaimRoles`` (internal/auth/jwt.go:58-87)."""
    out = []
    for role in roles:
        name = role.strip().lower()
        if name == "admin":
            name = "admin" if station_id else "platform_admin"
        elif name == "manager":
            name = "manager" if station_id else "platform_mod"
        elif name in ("mod", "moderator"):
            name = "platform_mod"
        out.append(name)
    return tuple(out)


def jwt_claims(key: SigningKey, token: str | None) -> GoClaims | None:
    """The token's claims as ``auth.Parse`` reads them (:mod:`.go_jwt`), or None for every kind of bad
    token."""
    if not token:
        return None
    try:
        claims = go_jwt.decode(key, token)
    except go_jwt.InvalidClaims:
        return None
    return GoClaims(claims.uid, normalized_roles(list(claims.roles), claims.station_id), claims.station_id)


def request_claims(key: SigningKey, api_keys: Collection[str]) -> GoClaims | None:
    """The request's credential: its ``X-API-Key`` when it sends one, else its Bearer token."""
    return credential_claims(key, api_keys, request.headers)


def credential_claims(
    key: SigningKey, api_keys: Collection[str], headers: Mapping[str, str], query_token: str | None = None
) -> GoClaims | None:
    """internal/auth/middleware.go:25-94: an ``X-API-Key`` when sent (no fallback), else a usable
    ``Authorization: Bearer`` token (no fallback either), else ``query_token`` (``?token=``, which
    the middleware reads for the event stream's upgrade only, :80-93)."""
    api_key = headers.get("X-API-Key", "")
    if api_key:
        return GoClaims(API_KEY_USER, ("platform_admin",), "") if api_key in api_keys else None
    header_token = bearer_token(headers.get("Authorization"))
    return jwt_claims(key, header_token if header_token is not None else query_token)


def bind_go(
    app: Quart,
    endpoint: Endpoint,
    roles: tuple[str, ...] | None,
    handler: GoHandler,
    *,
    key: SigningKey,
    api_keys: Collection[str],
) -> None:
    """``handler`` on ``endpoint``'s path behind the real gates: ``roles`` None for a public route."""

    @functools.wraps(handler)
    async def gated(**path_values: Any) -> Response:
        if request.method == "HEAD":  # chi routes HEAD only where it is declared (no GetHead middleware)
            allowed = current_app.create_url_adapter(request).allowed_methods(request.path)
            return chi_refusal(405, ", ".join(allowed))
        if roles is not None:
            claims = request_claims(key, api_keys)
            if claims is None:
                return go_unauthorized()
            if "platform_admin" not in claims.roles and not set(roles) & set(claims.roles):
                return go_answer(403, {"error": "insufficient_role"})
            g.go_claims = claims
        try:
            return await handler(**path_values)
        except GoRefusal as refusal:
            return go_answer(refusal.status, refusal.body)

    # No OPTIONS and no CORS either: the real router has neither (internal/server/server.go:140-158),
    # so a preflight is chi's 405 and an answer carries no Access-Control-* header.
    rule, name = endpoint.rule, endpoint.operation_id
    view = cors_exempt(gated)
    app.add_url_rule(rule, name, view, methods=[endpoint.method], provide_automatic_options=False)
