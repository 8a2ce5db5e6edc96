"""REST endpoints declared once: each one's route, auth and body check, and its OpenAPI operation.

An :class:`Endpoint` says what a client needs to know: the method and path, the
path and query parameters, who may call it, the JSON body it takes, and every
answer it gives by status. :class:`Routes` binds a handler to a declaration and
checks, before the handler runs, what the declaration says: the token and its
role, the required query parameters, the body against its schema.
:meth:`Api.document` writes the same declarations as an OpenAPI 3.1 document, so
what is served, what is checked and what is documented cannot drift apart.

The answers every endpoint shares are added from the declaration itself: a
token-guarded endpoint answers 401, an admin one 403 too, one with a body 400
and 413, one only a station serves answers 307 (or 503) on an edge process, and
every one answers 503 ``shutting_down`` while the server stops.
"""

import enum
import functools
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import jsonschema
import jsonschema.protocols
import orjson
from quart import Quart, Response, g, request

from playout import InputRejected

from .auth import ADMIN_ROLES, SigningKey, bearer_token, verify
from .directory import NotFound
from .responses import UNAUTHORIZED_BODY, error, unauthorized

Schema = dict[str, Any]
Handler = Callable[..., Awaitable[Response]]

_REJECTION_STATUS = {"not_found": 404, "conflict": 409, "no_preemption": 409, "bad_request": 400}
_TEMPLATE_PARAMETER = re.compile(r"\{([a-z_]+)\}")
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


class BadRequest(Exception):
    """A request the declaration's checks, or a handler's own, refuse with 400."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Forbidden(Exception):
    """A request the token may not make (403), found by a handler (a station outside its claim)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Auth(enum.Enum):
    """Who may call an endpoint."""

    NONE = "none"
    TOKEN = "token"
    """Any valid token, in ``Authorization: Bearer``."""
    ADMIN = "admin"
    """A valid token with one of the roles in :data:`server.auth.ADMIN_ROLES`."""
    STREAM = "stream"
    """The events endpoint: a valid token in the header or ``?token=``, checked by its handler
    after the connection limits (so a refusal for load costs no JWT check)."""


@attrs.frozen
class Param:
    """A path or query parameter."""

    name: str
    description: str
    schema: Schema = attrs.field(factory=lambda: {"type": "string", "minLength": 1})
    required: bool = False
    """Query parameters only (path parameters always are): missing or empty is 400 ``<name>_required``."""

    def converter(self) -> str:
        """The parameter as a Quart (Werkzeug) rule part."""
        if "enum" in self.schema:
            return f"<any({', '.join(self.schema['enum'])}):{self.name}>"
        if self.schema.get("type") == "integer":
            return f"<int:{self.name}>"  # Werkzeug's int: digits only, so never negative
        return f"<{self.name}>"


@attrs.frozen
class Body:
    """A JSON object body, checked against ``properties`` and ``required`` before the handler runs.

    Unknown fields are allowed (and ignored), like the real server's.
    """

    description: str
    properties: Mapping[str, Schema]
    required: tuple[str, ...] = ()
    optional: bool = False
    """An empty body is then ``{}``; otherwise it is 400 ``invalid_json``."""
    validator: jsonschema.protocols.Validator = attrs.field(init=False, eq=False, repr=False)

    @validator.default
    def _validator(self) -> jsonschema.protocols.Validator:
        return jsonschema.Draft202012Validator(self.schema())

    def schema(self) -> Schema:
        return {
            "type": "object",
            "properties": dict(self.properties),
            "required": list(self.required),
            "additionalProperties": True,
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


@attrs.frozen
class Endpoint:
    """One endpoint: everything the route checks and the document says."""

    method: str
    path: str
    """An OpenAPI path template: ``/api/v1/priority/{source_id}``."""
    operation_id: str
    summary: str
    tag: str
    auth: Auth
    answers: Mapping[int, Answer]
    """This endpoint's own answers; the shared ones (see the module's docstring) are added."""
    description: str = ""
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: Body | None = None
    station_only: bool = True
    """Served by a station process only; an edge answers with a 307 to the station."""
    websocket: bool = False

    def __attrs_post_init__(self) -> None:
        in_template = _TEMPLATE_PARAMETER.findall(self.path)
        if in_template != [p.name for p in self.path_params]:
            raise ValueError(f"{self.path}: path parameters {in_template} are not declared in that order")
        if self.websocket != (self.auth is Auth.STREAM) or (self.websocket and self.method != "GET"):
            raise ValueError(f"{self.path}: a WebSocket endpoint is a GET with Auth.STREAM, and only it")

    @property
    def rule(self) -> str:
        """The Quart URL rule: each ``{name}`` becomes its parameter's converter."""
        converters = {p.name: p.converter() for p in self.path_params}
        return _TEMPLATE_PARAMETER.sub(lambda m: converters[m.group(1)], self.path)

    def all_answers(self) -> dict[int, Answer]:
        """The endpoint's own answers and the shared ones its declaration implies, by status."""
        shared: dict[int, Answer] = {}
        if self.auth in (Auth.TOKEN, Auth.ADMIN, Auth.STREAM):
            shared[401] = UNAUTHORIZED
        if self.auth is Auth.ADMIN:
            shared[403] = FORBIDDEN
        if self.body is not None:
            shared[400] = INVALID_BODY
            shared[413] = TOO_LARGE
        if self.station_only:
            shared[307] = TO_THE_STATION
            shared[503] = STATION_UNKNOWN.merged(SHUTTING_DOWN)
        else:
            shared[503] = SHUTTING_DOWN
        if self.path_params:
            shared[404] = NO_ROUTE
        if not self.websocket:
            shared[500] = INTERNAL
        answers = dict(self.answers)
        for status, answer in shared.items():
            answers[status] = answers[status].merged(answer) if status in answers else answer
        return dict(sorted(answers.items()))

    def security(self) -> list[Schema]:
        if self.auth is Auth.NONE:
            return []
        if self.auth is Auth.ADMIN:
            # OpenAPI 3.1: for schemes other than OAuth the list names the roles needed.
            return [{"bearer": [role]} for role in sorted(ADMIN_ROLES)]
        if self.auth is Auth.STREAM:
            return [{"bearer": []}, {"queryToken": []}]
        return [{"bearer": []}]

    def operation(self) -> Schema:
        operation: Schema = {
            "tags": [self.tag],
            "summary": self.summary,
            "operationId": self.operation_id,
        }
        if self.description:
            operation["description"] = self.description
        operation["security"] = self.security()
        parameters = self._path_parameters() + [
            {
                "name": p.name,
                "in": "query",
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in self.query
        ]
        if parameters:
            operation["parameters"] = parameters
        if self.body is not None:
            operation["requestBody"] = {
                "description": self.body.description,
                "required": not self.body.optional,
                "content": {"application/json": {"schema": self.body.schema()}},
            }
        operation["responses"] = {
            str(status): a.response_object() for status, a in self.all_answers().items()
        }
        return operation

    def head_operation(self) -> Schema:
        """HEAD, which the framework answers for every GET: the GET's answers without their bodies."""
        if self.websocket:
            operation: Schema = {
                "tags": [self.tag],
                "summary": "Not an upgrade: refused",
                "operationId": f"{self.operation_id}Head",
                "security": [],
                "responses": {"400": NOT_AN_UPGRADE.response_object()},
            }
        else:
            operation = {
                **self.operation(),
                "summary": f"{self.summary} (HEAD: the headers only)",
                "operationId": f"{self.operation_id}Head",
            }
        operation["responses"] = {
            status: {key: value for key, value in answer.items() if key != "content"}
            for status, answer in operation["responses"].items()
        }
        return operation

    def _path_parameters(self) -> list[Schema]:
        return [
            {"name": p.name, "in": "path", "required": True, "description": p.description, "schema": p.schema}
            for p in self.path_params
        ]


def options_operation(endpoints: list[Endpoint]) -> Schema:
    """OPTIONS of one path (its endpoints), which the framework answers for every path, without a token."""
    first = endpoints[0]
    operation: Schema = {
        "tags": [first.tag],
        "summary": "The methods this path has (and a CORS preflight)",
        "operationId": f"{first.operation_id}Options",
        "security": [],
    }
    parameters = first._path_parameters()
    if parameters:
        operation["parameters"] = parameters
    if first.websocket:
        operation["responses"] = {"400": NOT_AN_UPGRADE.response_object()}
    else:
        operation["responses"] = {"204": METHODS.response_object()}
    if parameters:
        operation["responses"]["404"] = NO_ROUTE.response_object()
    return operation


class Api:
    """The declared endpoints, in the order declared, and the named schemas their answers use."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []
        self.schemas: dict[str, Schema] = {"Error": ERROR_SCHEMA, "Unauthorized": UNAUTHORIZED_SCHEMA}

    def schema(self, name: str, schema: Schema) -> Schema:
        """Name a schema (under ``components/schemas``); returns the reference to it."""
        if name in self.schemas:
            raise ValueError(f"a schema named {name!r} is declared already")
        self.schemas[name] = schema
        return ref(name)

    def endpoint(self, method: str, path: str, **declared: Any) -> Endpoint:
        """Declare an endpoint (see :class:`Endpoint` for the fields)."""
        endpoint = Endpoint(method, path, **declared)
        for other in self.endpoints:
            if (other.method, other.path) == (method, path) or other.operation_id == endpoint.operation_id:
                raise ValueError(f"{method} {path} ({endpoint.operation_id}) is declared twice")
        self.endpoints.append(endpoint)
        return endpoint

    def document(self, info: Schema) -> Schema:
        """The OpenAPI 3.1 document of every declared endpoint."""
        by_path: dict[str, list[Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, []).append(endpoint)
        paths: dict[str, Schema] = {}
        for path, endpoints in by_path.items():
            operations = paths[path] = {}
            for endpoint in endpoints:
                operations[endpoint.method.lower()] = endpoint.operation()
                if endpoint.method == "GET":
                    operations["head"] = endpoint.head_operation()
            operations["options"] = options_operation(endpoints)
        return {
            "openapi": "3.1.0",
            "info": info,
            "servers": [{"url": "/", "description": "the serving process (grimnir-sim serve)"}],
            "paths": paths,
            "components": {
                "schemas": dict(self.schemas),
                "responses": {
                    "UnknownPath": UNKNOWN_PATH.response_object(),
                    "WrongMethod": WRONG_METHOD.response_object(),
                },
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                        "description": (
                            "Authorization: Bearer <jwt>, HS256, claims uid (required), roles, station_id, "
                            "exp. Changes need the admin or platform_admin role."
                        ),
                    },
                    "queryToken": {
                        "type": "apiKey",
                        "in": "query",
                        "name": "token",
                        "description": "The same JWT as ?token=, on the events endpoint only.",
                    },
                },
            },
        }


class Routes:
    """Binds handlers to declared endpoints on one app, with the checks the declarations imply."""

    def __init__(
        self, app: Quart, key: SigningKey, station_key: Callable[[str], str | None] = lambda claimed: None
    ) -> None:
        """``station_key``: the key of the station a token's ``station_id`` claim names, None if not ours."""
        self.app = app
        self.key = key
        self._station_key = station_key

    def __call__(self, endpoint: Endpoint) -> Callable[[Handler], Handler]:
        """A REST handler: called with the path parameters, and the checked body first when there is one."""
        if endpoint.websocket:
            raise ValueError(f"{endpoint.path} is a WebSocket endpoint: bind it with Routes.websocket")

        def bind(handler: Handler) -> Handler:
            @functools.wraps(handler)
            async def checked(**path_values: Any) -> Response:
                refused = self._refusal(endpoint.auth)
                if refused is not None:
                    return refused
                try:
                    for param in endpoint.query:
                        if param.required and not request.args.get(param.name):
                            raise BadRequest(
                                f"{param.name}_required", f"give ?{param.name}= ({param.description})"
                            )
                    if endpoint.body is None:
                        return await handler(**path_values)
                    return await handler(await read_body(endpoint.body), **path_values)
                except BadRequest as exc:
                    return error(400, exc.code, exc.detail)
                except Forbidden as exc:
                    return error(403, exc.code, exc.detail)
                except NotFound as exc:
                    return error(404, f"{exc.kind}_not_found", str(exc))
                except InputRejected as exc:
                    return error(_REJECTION_STATUS.get(exc.code, 409), exc.code, exc.detail)

            self.app.add_url_rule(endpoint.rule, endpoint.operation_id, checked, methods=[endpoint.method])
            return checked

        return bind

    def websocket(self, endpoint: Endpoint) -> Callable[[Handler], Handler]:
        """A WebSocket handler, bound as it is: it checks its limits and token itself (see :class:`Auth`)."""
        if not endpoint.websocket:
            raise ValueError(f"{endpoint.path} is not a WebSocket endpoint")

        def bind(handler: Handler) -> Handler:
            self.app.add_websocket(endpoint.rule, endpoint.operation_id, handler)
            return handler

        return bind

    def _refusal(self, auth: Auth) -> Response | None:
        if auth is Auth.NONE:
            return None
        claims = verify(self.key, bearer_token(request.headers.get("Authorization")))
        if claims is None:
            return unauthorized()
        if auth is Auth.ADMIN and not claims.is_admin:
            return error(
                403, "insufficient_role", "changing the station needs the admin or platform_admin role"
            )
        if auth is Auth.ADMIN and claims.station_id is not None:
            station = self._station_key(claims.station_id)
            if station is None:
                return error(
                    403,
                    "station_forbidden",
                    f"this token is for station '{claims.station_id}', which this server does not run",
                )
            g.token_station = station  # the handler refuses to change any other station
        return None


async def read_body(body: Body) -> dict[str, Any]:
    """The request's JSON object, checked against ``body``; :class:`BadRequest` when it is not one."""
    raw = await request.get_data()
    if not raw.strip():
        if body.optional:
            return {}
        raise BadRequest("invalid_json", "the request needs a JSON object body")
    try:
        # orjson refuses what json.loads would crash on later: nesting past 1,024 levels
        # (RecursionError) and numbers beyond a double (OverflowError); UTF-8 only, as JSON is.
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("invalid_json", "the body is not valid JSON in UTF-8") from None
    if not isinstance(parsed, dict):
        raise BadRequest("invalid_json", "the body must be a JSON object")
    problems = sorted(body.validator.iter_errors(parsed), key=lambda e: list(e.path))
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first.absolute_path) or "body"
        raise BadRequest("invalid_request", f"{where}: {first.message}")
    return parsed
