"""``GET /api/v1/events``: every refusal before the upgrade, the upgrade, and the stream to the client.

The refusals (the connection limits, the token and its ``station_id`` claim, a bad
``?snapshot=``) each cost a dict lookup or a JWT check and happen before the 101. After
it, a connection is on the fast path (the hub writes its frames through a socket writer
taken over from Hypercorn) or, where there is none (Quart's test client), on Quart's own
path, one message after another.

Which of these apply is the wire profile's (``StreamRules``, playout/profiles/stream.py):
the ``grimnir`` profile has no limits, no station scope and no snapshot, keeps each
listed type in slots of its own (server/bus.py, so on Quart's path, sending each
message once the socket took the one before, with no deadline: a slow client only
loses events), and a stopping server drops its streams without a close frame.
"""

import logging
from urllib.parse import parse_qsl

import trio
from quart import Response, websocket

from playout import NO_CLOSE_FRAME, StreamRules

from .auth import bearer_token, verify
from .directory import NotFound, canonical
from .hub import GOING_AWAY, INTERNAL_ERROR, TOO_SLOW, Client, parse_types
from .responses import error, refused, unauthorized
from .rest.go_routes import credential_claims
from .rest.go_wire import go_unauthorized
from .service import ServingProcess, StationService
from .transport.one_task_websocket import ClientGone
from .transport.socket_writer import drop_connection, socket_writer_from

log = logging.getLogger("grimnir_sim.server")
CLOSE_REASONS = {
    GOING_AWAY: "server shutting down",
    TOO_SLOW: "client too slow: events were lost",
    INTERNAL_ERROR: "server error: the station stopped",
}


async def events(service: ServingProcess) -> Response | None:
    """The event stream's handler: a refusal, or the connection until the hub or the client ends it."""
    # Every refusal happens here, before the upgrade, and costs a dict lookup or a JWT check.
    ip = websocket.remote_addr or "unknown"
    admission = service.admission
    refusal = admission.check(ip) if admission is not None else None
    if refusal is not None:
        return refused(refusal)
    rules = service.hub.rules
    station = _stream_station(service, rules)
    if isinstance(station, Response):  # 401 (the token), 403 or 404 (its station_id)
        return station
    settings = service.settings
    snapshot = _snapshot_wanted(settings.snapshot_by_default) if rules.snapshot else False
    if snapshot is None:
        return error(400, "invalid_snapshot", "snapshot takes true, false, 1 or 0")
    if admission is not None:
        admission.admit(ip)
    try:
        # Taken over before accepting, so the 101 response goes out through the writer too;
        # subscribed after, so no event frame can reach the socket before the 101.
        writer = None
        if rules.slots_per_type is None:  # (slots of its own per type: Quart's path, server.bus)
            writer = socket_writer_from(
                websocket.scope,
                max_waiting=settings.queue_size,
                send_timeout=settings.send_timeout_seconds,
                spawn=service.hub.spawn,
            )
        await websocket.accept()
        subscriber = service.hub.subscribe(
            parse_types(_query_values("types"), service.hub.known_types, service.hub.default_types, rules),
            writer,
            heartbeat=settings.heartbeat_seconds,
            snapshot=snapshot,
            station=station,
        )
        try:
            if writer is None:
                # Under per-type slots a slow client only loses events: no send deadline.
                no_deadline = rules.slots_per_type is not None
                code = await _stream(subscriber, None if no_deadline else settings.send_timeout_seconds)
            else:
                # The fast path: the hub writes this subscriber's frames itself; this task only
                # reads (and drops) what the client sends until the hub ends the connection.
                # (Inline, not a function: a frame less held by each of 10,000 connections.)
                with subscriber.cancel_scope:
                    while True:
                        await websocket.receive()  # a "pong" or anything: the protocol needs none
                if subscriber.close_code == TOO_SLOW:
                    writer.discard_waiting()  # its close frame goes right after the frame being written
                code = subscriber.close_code or 1000
        finally:
            service.hub.unsubscribe(subscriber)
    except Exception as exc:  # a defect of ours, met by this connection only: 1011 for it alone
        service.connection_failures["websocket"] += 1
        log.error("a WebSocket connection failed", exc_info=exc)
        code = INTERNAL_ERROR
    finally:
        if admission is not None:
            admission.release()
    if code == NO_CLOSE_FRAME and drop_connection(websocket.scope):
        return None
    # The close frame may wait behind a slow client's unread data; the station does not.
    await websocket.close(code, CLOSE_REASONS.get(code, ""))
    return None


def _stream_station(service: ServingProcess, rules: StreamRules) -> str | Response | None:
    """The station a stream is scoped to (its UUID), None for every station, or the refusal.

    A valid token is needed, in the Authorization header or ``?token=`` (else 401). Its
    ``station_id`` claim, when present, is the scope, and ``?station_id=`` may name that
    station only (else 403 ``station_forbidden``); without a claim, ``?station_id=`` picks
    the scope (404 ``station_not_found`` for a station this server does not run). A
    station process knows its stations by UUID and by key; an edge knows no scenario and
    takes the ids as given, to be matched with the events' ``station_id``.

    Without a station scope (the profile's ``station_scoped`` off) a valid credential is all it
    takes, whatever its claim, ``?station_id=`` is ignored, and the stream has every station;
    with ``go_auth`` the credential is the real middleware's (an ``X-API-Key``, or a token
    without ``uid``; its text 401).

    A function of its own so the token and its claims are not kept alive, in the
    handler's frame, for as long as the connection lasts.
    """
    token = _query_value("token")
    if rules.go_auth:
        real = credential_claims(service.key, service.settings.api_keys, websocket.headers, token)
        if real is None:
            return go_unauthorized()
        claim = real.station_id or None
    else:
        claims = verify(service.key, bearer_token(websocket.headers.get("Authorization")) or token)
        if claims is None:
            return unauthorized()
        claim = claims.station_id
    if not rules.station_scoped:
        return None
    asked = _query_value("station_id")
    if claim is not None:
        claimed = _station_uuid(service, claim)
        if claimed is None:
            return error(
                403,
                "station_forbidden",
                f"this token is for station '{claim}', which this server does not run",
            )
        if asked is not None and _station_uuid(service, asked) != claimed:
            return error(403, "station_forbidden", f"this token may read station '{claim}' only")
        return claimed
    if asked is None:
        return None
    return _station_uuid(service, asked) or error(404, "station_not_found", f"no station '{asked}'")


def _station_uuid(service: ServingProcess, wanted: str) -> str | None:
    """The UUID of the station ``wanted`` names (a UUID or a key), None if this server runs none such.

    An edge runs no scenario: the id is taken as given (a UUID in lower case), as the events carry it.
    """
    if not isinstance(service, StationService):
        return canonical(wanted) or None
    try:
        return service.scenario.station(service.directory.station(wanted)).id
    except NotFound:
        return None


def _snapshot_wanted(default: bool) -> bool | None:
    """``?snapshot=``: true or 1, false or 0, exactly; absent, the server's default; anything else None."""
    raw = _query_value("snapshot")
    if raw is None:
        return default
    return {"true": True, "1": True, "false": False, "0": False}.get(raw)


def _query_value(name: str) -> str | None:
    """The first value of one query parameter, like ``websocket.args.get(name)``."""
    return next(iter(_query_values(name)), None)


def _query_values(name: str) -> list[str]:
    """Every value of one query parameter, in order, like ``websocket.args.getlist(name)``.

    ``websocket.args`` would parse the query once and keep the result (the token
    included) for the connection's lifetime: some 700 bytes for each of 10,000
    clients. This parses it for the moment.
    """
    query = websocket.query_string.decode("latin-1")
    return [value for key, value in parse_qsl(query, keep_blank_values=True) if key == name]


async def _stream(subscriber: Client, send_timeout: float | None) -> int:
    """Quart's path (no socket writer, e.g. the test client): send queued messages one by one.

    A message the socket takes nothing of for ``send_timeout`` seconds closes the connection
    (1008, too slow); with None the send waits as long as it takes (Hypercorn's write is not
    cancelled; the kernel cuts a socket that takes nothing, server.serve).

    Returns the close code when the hub ends the connection; a client that disconnects ends
    this (and the whole handler) with :class:`ClientGone`, or, under Quart-Trio's own
    WebSocket class, cancels it from outside.
    """
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_ignore_client_messages)
            with subscriber.cancel_scope:
                while True:
                    text = await subscriber.next_message()
                    if send_timeout is None:
                        await websocket.send(text)
                        continue
                    # A frame is sent whole or not at all: the hub's close waits for it, a socket
                    # that accepts nothing for send_timeout does not (the client is too slow).
                    with trio.CancelScope(shield=True) as sending:
                        sending.deadline = trio.current_time() + send_timeout
                        await websocket.send(text)
                    if sending.cancelled_caught:
                        subscriber.close(TOO_SLOW)
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The reader met the client's disconnect: raised bare, as the one-task connection expects,
        # for Quart-Trio takes a group for a failure of the handler and logs it as an error.
        if group.split(ClientGone)[1] is None:
            raise ClientGone() from None
        raise
    return subscriber.close_code or 1000


async def _ignore_client_messages() -> None:
    """Read and drop whatever the client sends (a "pong", anything): the protocol needs none."""
    while True:
        await websocket.receive()
