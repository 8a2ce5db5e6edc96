"""The JSON error and refusal responses every endpoint shares."""

from typing import Any

from quart import Response, jsonify

from .limits import Refusal

UNAUTHORIZED_BODY = b'{"error":"unauthorized"}'


def error(status: int, code: str, detail: str) -> Response:
    response = jsonify({"error": code, "detail": detail})
    response.status_code = status
    return response


def unauthorized() -> Response:
    """The real server's 401: exactly ``{"error":"unauthorized"}`` with ``WWW-Authenticate: Bearer``."""
    return Response(
        UNAUTHORIZED_BODY,
        status=401,
        headers={"WWW-Authenticate": "Bearer", "Content-Type": "application/json"},
    )


def refused(refusal: Refusal) -> Response:
    response = error(refusal.status, refusal.error, refusal.detail)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def ok(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
