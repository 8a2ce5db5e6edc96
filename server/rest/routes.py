"""Handlers bound to their declarations, with the checks the declarations imply.

:class:`Routes` checks, before a handler runs, what its endpoint's declaration
says: the token and its role (and, for a station's token, that this server runs
the station), the required query parameters, the body against its schema. A
handler's own refusals are exceptions (:class:`BadRequest`, :class:`Forbidden`,
:class:`server.directory.NotFound`, :class:`playout.InputRejected`) that the
route turns into the JSON answer the declaration documents.
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from quart import Quart, Response, g, request

from playout import InputRejected

from ..auth import SigningKey, bearer_token, verify
from ..directory import NotFound
from ..responses import error, unauthorized
from .endpoint import Auth, Body, Endpoint

Handler = Callable[..., Awaitable[Response]]

_REJECTION_STATUS = {"not_found": 404, "conflict": 409, "no_preemption": 409, "bad_request": 400}


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
        """A WebSocket handler, bound as it is: it checks its limits and token itself (see :class:`Auth`).

        The path answers plain HTTP too, as every path does: OPTIONS with its methods (204 and
        ``Allow``, the methods its 405 names), a GET or HEAD that is no upgrade with 400.
        """
        if not endpoint.websocket:
            raise ValueError(f"{endpoint.path} is not a WebSocket endpoint")

        def bind(handler: Handler) -> Handler:
            self.app.add_websocket(endpoint.rule, endpoint.operation_id, handler)
            self.app.add_url_rule(
                endpoint.rule, f"{endpoint.operation_id}NotAnUpgrade", _not_an_upgrade, methods=["GET"]
            )
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


async def _not_an_upgrade() -> Response:
    return error(
        400, "bad_request", "this path takes only a WebSocket upgrade (a GET with Upgrade: websocket)"
    )


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
