"""REST endpoints declared once: each one's route, auth and body check, and its OpenAPI operation.

An :class:`~server.rest.endpoint.Endpoint` says what a client needs to know: the
method and path, the path and query parameters, who may call it, the JSON body
it takes, and every answer it gives by status (:mod:`server.rest.answers`).
:class:`~server.rest.routes.Routes` binds a handler to a declaration and checks,
before the handler runs, what the declaration says: the token and its role, the
required query parameters, the body against its schema.
:meth:`~server.rest.openapi.Api.document` writes the same declarations as an
OpenAPI 3.1 document, so what is served, what is checked and what is documented
cannot drift apart.

The answers every endpoint shares are added from the declaration itself: a
token-guarded endpoint answers 401, an admin one 403 too, one with a body 400
and 413, one only a station serves answers 307 (or 503) on an edge process, and
every one answers 503 ``shutting_down`` while the server stops.

The endpoints of this server are declared in :mod:`server.api`.
"""
