"""The OpenAPI 3.1 document of declared endpoints: :class:`Api` collects them and writes it.

Each endpoint is one operation; the framework's own answers are written too:
HEAD for every GET (the GET's answers without their bodies), OPTIONS for every
path (without a token; also the CORS preflight), and the answers to a path or a
method no endpoint has (``components/responses``).
"""

from typing import Any

from ..auth import ADMIN_ROLES
from .answers import (
    ERROR_SCHEMA,
    METHODS,
    NO_ROUTE,
    NOT_AN_UPGRADE,
    UNAUTHORIZED_SCHEMA,
    UNKNOWN_PATH,
    WRONG_METHOD,
    Schema,
    ref,
)
from .endpoint import Auth, Endpoint


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
        """Declare an endpoint (see :class:`Endpoint` for the fields) and add it."""
        endpoint = Endpoint(method, path, **declared)
        self.add(endpoint)
        return endpoint

    def add(self, *endpoints: Endpoint) -> None:
        """Add endpoints declared elsewhere, in this order (the document's)."""
        for endpoint in endpoints:
            for other in self.endpoints:
                if (other.method, other.path) == (endpoint.method, endpoint.path) or (
                    other.operation_id == endpoint.operation_id
                ):
                    raise ValueError(
                        f"{endpoint.method} {endpoint.path} ({endpoint.operation_id}) is declared twice"
                    )
            self.endpoints.append(endpoint)

    def document(self, info: Schema) -> Schema:
        """The OpenAPI 3.1 document of every declared endpoint."""
        by_path: dict[str, list[Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, []).append(endpoint)
        paths: dict[str, Schema] = {}
        for path, endpoints in by_path.items():
            operations = paths[path] = {}
            for endpoint in endpoints:
                operations[endpoint.method.lower()] = _operation(endpoint)
                if endpoint.method == "GET":
                    operations["head"] = _head_operation(endpoint)
            operations["options"] = _options_operation(endpoints)
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


def _security(endpoint: Endpoint) -> list[Schema]:
    """Who may call the endpoint, as OpenAPI security requirements (any one suffices)."""
    if endpoint.auth is Auth.NONE:
        return []
    if endpoint.auth is Auth.ADMIN:
        # OpenAPI 3.1: for schemes other than OAuth the list names the roles needed.
        return [{"bearer": [role]} for role in sorted(ADMIN_ROLES)]
    if endpoint.auth is Auth.STREAM:
        return [{"bearer": []}, {"queryToken": []}]
    return [{"bearer": []}]


def _operation(endpoint: Endpoint) -> Schema:
    """The endpoint's operation object."""
    operation: Schema = {
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
        "operationId": endpoint.operation_id,
    }
    if endpoint.description:
        operation["description"] = endpoint.description
    operation["security"] = _security(endpoint)
    parameters = _path_parameters(endpoint) + [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": p.schema,
        }
        for p in endpoint.query
    ]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "description": endpoint.body.description,
            "required": not endpoint.body.optional,
            "content": {"application/json": {"schema": endpoint.body.schema()}},
        }
    operation["responses"] = {
        str(status): a.response_object() for status, a in endpoint.all_answers().items()
    }
    return operation


def _head_operation(endpoint: Endpoint) -> Schema:
    """HEAD, which the framework answers for every GET: the GET's answers without their bodies."""
    if endpoint.websocket:
        operation: Schema = {
            "tags": [endpoint.tag],
            "summary": "Not an upgrade: refused",
            "operationId": f"{endpoint.operation_id}Head",
            "security": [],
            "responses": {"400": NOT_AN_UPGRADE.response_object()},
        }
    else:
        operation = {
            **_operation(endpoint),
            "summary": f"{endpoint.summary} (HEAD: the headers only)",
            "operationId": f"{endpoint.operation_id}Head",
        }
    operation["responses"] = {
        status: {key: value for key, value in answer.items() if key != "content"}
        for status, answer in operation["responses"].items()
    }
    return operation


def _path_parameters(endpoint: Endpoint) -> list[Schema]:
    return [
        {"name": p.name, "in": "path", "required": True, "description": p.description, "schema": p.schema}
        for p in endpoint.path_params
    ]


def _options_operation(endpoints: list[Endpoint]) -> Schema:
    """OPTIONS of one path (its endpoints), which the framework answers for every path, without a token."""
    first = endpoints[0]
    operation: Schema = {
        "tags": [first.tag],
        "summary": "The methods this path has (and a CORS preflight)",
        "operationId": f"{first.operation_id}Options",
        "security": [],
    }
    parameters = _path_parameters(first)
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {"204": METHODS.response_object()}
    if parameters:
        operation["responses"]["404"] = NO_ROUTE.response_object()
    return operation
