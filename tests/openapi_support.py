"""Every REST answer the suite gets is checked against the OpenAPI document the server serves.

openapi-core finds the operation (method and path template), then the answer of
the status, and validates the body (media type, JSON Schema with the document's
components) and the required headers. Hand-written, this would be path
templating, status lookup and ``$ref`` resolution again; openapi-core is the
maintained implementation of exactly that.

The clients wrapped (by the autouse fixture in tests/conftest.py):

- Quart's test client (quart-trio's): each HTTP answer, and each WebSocket
  upgrade's outcome (the 101, or the refusal before it);
- httpx (what ``tests/serve_support.Server`` and the subprocess tests use);
- the ``websockets`` client's handshake (the end-to-end tests' refusals and 101s).

Only paths under ``/api/`` are the API's (the dashboard's page and files are not).
The document has every path's OPTIONS (CORS preflight included) and every GET's
HEAD, as the server answers them. A path the document does not have must be answered 404,
a method a documented path does not have 405, each with the document's
``UnknownPath`` / ``WrongMethod`` answer. A WebSocket upgrade is an operation only where the
document's GET answers 101 (the event stream); to any other path it is one the document does
not have, so 404 too.
"""

import functools
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import referencing
import referencing.jsonschema
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

from server.api import openapi_document

DOCUMENT_URI = "urn:grimnir-sim:openapi"
UNMATCHED = {PathNotFound: (404, "UnknownPath"), OperationNotFound: (405, "WrongMethod")}


class ContractViolation(AssertionError):
    """An answer the OpenAPI document does not describe."""


class RestContract:
    """Checks answers against the document; keeps every violation it found (see :attr:`violations`)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.openapi = OpenAPI.from_dict(document)
        registry = referencing.Registry().with_resource(
            DOCUMENT_URI, referencing.jsonschema.DRAFT202012.create_resource(document)
        )
        self._unmatched = {
            name: jsonschema.Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#/components/responses/{name}/content/application~1json/schema"},
                registry=registry,
            )
            for _, name in UNMATCHED.values()
        }
        self._upgrade_paths = {
            path
            for path, operations in document["paths"].items()
            if "101" in operations.get("get", {}).get("responses", {})
        }
        self.checked = 0
        self.violations: list[ContractViolation] = []

    def check(
        self,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        upgrade: bool = False,
    ) -> ContractViolation | None:
        """Check one answer (``upgrade``: to a WebSocket upgrade request, a GET); the violation (also
        kept) or ``None``. Answers outside the API pass."""
        path = urlsplit(url).path
        if not path.startswith("/api/"):
            return None
        self.checked += 1
        lowered = {k.lower(): v for k, v in headers.items()}
        request = MockRequest("http://localhost", method.lower(), path)
        response = MockResponse(
            body, status_code=status, headers=dict(headers), content_type=lowered.get("content-type", "")
        )
        try:
            if upgrade and path not in self._upgrade_paths:
                raise PathNotFound(path)
            self.openapi.validate_response(request, response)
            return None
        except (PathNotFound, OperationNotFound) as unmatched:
            problem = self._unmatched_problem(type(unmatched), status, lowered, body)
        except OpenAPIError as invalid:
            details = getattr(invalid.__cause__, "schema_errors", None)
            if details:
                problem = type(invalid).__name__ + "".join(
                    f"\n  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in details
                )
            else:
                name, text = type(invalid).__name__, str(invalid)
                problem = text if text.startswith(name) else f"{name}: {text}"
        if problem is None:
            return None
        shown = body[:600].decode("utf-8", "replace")
        violation = ContractViolation(
            f"{method.upper()} {path} answered {status}: {problem}\n  body: {shown}"
        )
        self.violations.append(violation)
        return violation

    def _unmatched_problem(
        self, kind: type[OpenAPIError], status: int, headers: Mapping[str, str], body: bytes
    ) -> str | None:
        wanted_status, name = UNMATCHED[kind]
        if status != wanted_status:
            return f"not in the document, so it must be {wanted_status} ({name}), not {status}"
        try:
            self._unmatched[name].validate(json.loads(body))
        except (ValueError, jsonschema.ValidationError) as invalid:
            return f"not the document's {name} answer: {invalid}"
        declared = self.document["components"]["responses"][name].get("headers", {})
        for header, described in declared.items():
            value = headers.get(header.lower())
            if value is None:
                if described.get("required"):
                    return f"the document's {name} answer has a {header} header, and this one has none"
                continue
            try:
                jsonschema.Draft202012Validator(described["schema"]).validate(value)
            except jsonschema.ValidationError as invalid:
                return f"the {header} header of the document's {name} answer: {invalid.message}"
        return None


@functools.cache
def contract() -> RestContract:
    """The served document's checker, built once per session (building validates the document)."""
    return RestContract(openapi_document())
