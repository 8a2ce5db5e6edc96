"""What an endpoint answers: an :class:`Answer` per status, and the answers every endpoint shares.

A refusal's body is ``{"error": <code>, "detail": …}`` (``Error``), except the
401's, which is exactly the real server's (``Unauthorized``); both are named in
every document's ``components/schemas``. Which shared answers an endpoint gives
follows from its declaration (:meth:`server.rest.endpoint.Endpoint.all_answers`).
"""

from collections.abc import Mapping
from typing import Any

import attrs

from ..responses import UNAUTHORIZED_BODY

Schema = dict[str, Any]

ERROR_SCHEMA: Schema = {
    "type": "object",
    "description": "Every refusal but the 401: a machine-readable code and a sentence for people.",
    "properties": {
        "error": {"type": "string", "pattern": "^[a-z_]+$"},
        "detail": {"type": "string", "minLength": 1},
    },
    "required": ["error", "detail"],
    "additionalProperties": False,
}
UNAUTHORIZED_SCHEMA: Schema = {
    "type": "object",
    "description": "The real server's 401 body, exactly " + UNAUTHORIZED_BODY.decode() + ".",
    "properties": {"error": {"const": "unauthorized"}},
    "required": ["error"],
    "additionalProperties": False,
}


@attrs.frozen
class Answer:
    """One status's answer: what it means, its JSON body's schema, its headers."""

    description: str
    schema: Schema | None = None
    headers: Mapping[str, Schema] = attrs.field(factory=dict)
    """Header name to an OpenAPI header object (``required``, ``schema``, ``description``)."""
    media_type: str = "application/json"
    codes: tuple[str, ...] = ()
    """For refusals: the ``error`` codes this status can carry."""

    def merged(self, other: "Answer") -> "Answer":
        """Two refusals of one status (the endpoint's own and a shared one) as one answer.

        A header stays required only if both require it: either refusal may be the one given.
        """
        if not (self.codes and other.codes):
            raise ValueError(f"only refusals merge: {self.description!r} and {other.description!r}")
        codes = tuple(dict.fromkeys(self.codes + other.codes))
        headers: dict[str, Schema] = {}
        for name in dict.fromkeys([*self.headers, *other.headers]):
            given = [h for h in (self.headers.get(name), other.headers.get(name)) if h is not None]
            headers[name] = {
                **given[0],
                "required": len(given) == 2 and all(h.get("required") for h in given),
            }
        return refusal(*codes, description=f"{self.description} {other.description}", headers=headers)

    def response_object(self) -> Schema:
        described: Schema = {"description": self.description}
        if self.headers:
            described["headers"] = dict(self.headers)
        if self.schema is not None:
            schema = self.schema
            if self.codes:
                # allOf, not siblings of $ref: tools that replace a $ref by its target drop siblings.
                schema = {"allOf": [schema, {"properties": {"error": {"enum": list(self.codes)}}}]}
            described["content"] = {self.media_type: {"schema": schema}}
        return described


def refusal(*codes: str, description: str, headers: Mapping[str, Schema] | None = None) -> Answer:
    """A refusal with ``{"error": <one of codes>, "detail": …}``."""
    return Answer(description, schema=ref("Error"), headers=headers or {}, codes=codes)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


INTERNAL = refusal(
    "internal_error",
    description="A defect of the server's, met by this request only: it is logged and counted "
    "(rest in /api/v1/sim/server's connection_failures), and nothing else is affected.",
)
UNAUTHORIZED = Answer(
    "A missing, malformed, wrongly signed or expired token (every kind of bad token alike).",
    schema=ref("Unauthorized"),
    headers={"WWW-Authenticate": {"required": True, "schema": {"const": "Bearer"}}},
)
FORBIDDEN = refusal(
    "insufficient_role",
    "station_forbidden",
    description=(
        "insufficient_role: the token has neither the admin nor the platform_admin role; "
        "station_forbidden: its station_id claim names another station than the one the request changes "
        "(or one this server does not run)."
    ),
)
INVALID_BODY = refusal(
    "invalid_json",
    "invalid_request",
    description=(
        "invalid_json: the body is not a JSON object in UTF-8 (or is missing where one is needed); "
        "invalid_request: a field is missing or of the wrong type (detail names it)."
    ),
)
TOO_LARGE = refusal("request_entity_too_large", description="The body is over 64 KiB.")
TO_THE_STATION = Answer(
    "On an edge process (--role edge): the same request belongs to the station; Location is the "
    "station's URL with the same path and query.",
    schema={"type": "string"},
    headers={"Location": {"required": True, "schema": {"type": "string", "format": "uri"}}},
    media_type="text/html",
)
STATION_UNKNOWN = refusal(
    "station_unknown",
    description=(
        "station_unknown: on an edge process, no station has announced itself on the Redis stream yet."
    ),
)
RETRY_AFTER = {
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
SHUTTING_DOWN = refusal(
    "shutting_down",
    description=(
        "shutting_down: the server is stopping (for at most a few seconds, docs/protocol.md); it comes "
        "with Retry-After and Connection: close."
    ),
    headers=RETRY_AFTER,
)
UNKNOWN_PATH = refusal("not_found", description="No endpoint has this path.")
NOT_ON_A_REPLAY = refusal(
    "not_found",
    description="not_found: on a replay (serve --replay), which has no station to read or control; its "
    "detail says so.",
)
NO_ROUTE = refusal(
    "not_found",
    description="not_found: a path parameter the route cannot take (not an integer or not one of its "
    "values where the parameter says so, or an encoded slash) leaves no endpoint for the path.",
)
ALLOW: Schema = {
    "required": True,
    "description": "the methods the path has (RFC 9110), e.g. GET, HEAD, OPTIONS",
    "schema": {"type": "string", "pattern": "^[A-Z]+(, [A-Z]+)*$"},
}
WRONG_METHOD = refusal(
    "method_not_allowed", description="The path has no endpoint for this method.", headers={"Allow": ALLOW}
)
METHODS = Answer(
    "The methods this path has, in Allow; no body. A CORS preflight from an allowed origin gets the "
    "Access-Control-* headers too.",
    headers={"Allow": ALLOW},
)
NOT_AN_UPGRADE = refusal("bad_request", description="This path takes only a WebSocket upgrade (a GET).")
