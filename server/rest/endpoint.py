"""How an endpoint is declared: method and path, parameters, who may call it, its body, its answers.

An :class:`Endpoint` is everything its route checks (:mod:`server.rest.routes`)
and the document says (:mod:`server.rest.openapi`), written once. Its answers
are its own (:mod:`server.rest.answers`); :meth:`Endpoint.all_answers` adds the
shared ones the declaration implies.
"""

import enum
import re
from collections.abc import Mapping

import attrs
import jsonschema
import jsonschema.protocols

from .answers import (
    FORBIDDEN,
    INTERNAL,
    INVALID_BODY,
    NO_ROUTE,
    NOT_ON_A_REPLAY,
    SHUTTING_DOWN,
    STATION_UNKNOWN,
    TO_THE_STATION,
    TOO_LARGE,
    UNAUTHORIZED,
    Answer,
    Schema,
)

_TEMPLATE_PARAMETER = re.compile(r"\{([a-z_]+)\}")


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
    """This endpoint's own answers; the shared ones are added (:meth:`all_answers`)."""
    description: str = ""
    path_params: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    body: Body | None = None
    station_only: bool = True
    """Served by a station process only; an edge answers with a 307 to the station, a replay 404."""
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
            shared[404] = NOT_ON_A_REPLAY
            shared[503] = STATION_UNKNOWN.merged(SHUTTING_DOWN)
        else:
            shared[503] = SHUTTING_DOWN
        if self.path_params:
            shared[404] = shared[404].merged(NO_ROUTE) if 404 in shared else NO_ROUTE
        if not self.websocket:
            shared[500] = INTERNAL
        answers = dict(self.answers)
        for status, answer in shared.items():
            answers[status] = answers[status].merged(answer) if status in answers else answer
        return dict(sorted(answers.items()))
