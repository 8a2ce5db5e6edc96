"""What the ``grimnir`` profile's handlers share: the request body, the translator's rows, the audit message.

The real API handlers publish, after the service's own event, a second message of
the same type with who asked (``publishAuditEvent``, internal/api/api.go:2298-2328):
the handler's keys over ``ip_address`` (``r.RemoteAddr`` after chi's ``RealIP``),
``user_agent`` and ``user_id`` (the token's ``uid``). The simulator has no users
table, so ``user_email`` never appears.
"""

import ipaddress
import re
from typing import Any

from quart import g, request

from playout import Emitted
from playout.profiles.base import wire_event
from playout.profiles.grimnir import GrimnirTranslator

from ..directory import NotFound
from ..rest.go_wire import GoRefusal, decode, go_text
from ..service import StationService

REAL_IP_HEADERS = ("True-Client-IP", "X-Real-IP")
_PG_UUID = re.compile(r"\{?([0-9A-Fa-f]{4}(?:-?[0-9A-Fa-f]{4}){7})\}?")


async def body(fields: dict[str, type]) -> dict[str, Any]:
    """The request body decoded as the handler's request struct (400 ``invalid_json`` otherwise)."""
    return decode(await request.get_data(), fields)


def translator(service: StationService) -> GrimnirTranslator:
    """The profile's translator, whose rows and sessions are the real server's tables here."""
    found = service.translator
    assert isinstance(found, GrimnirTranslator), "the grimnir REST table needs the grimnir translator"
    return found


def pg_uuid(text: str) -> str | None:
    """``text`` as a Postgres ``uuid`` column reads it (``string_to_uuid``: any case, optional braces, a
    hyphen optional after any group of four digits), in its canonical form; None where the query fails
    (22P02, ``invalid input syntax for type uuid``). Every id column of the real server is a ``uuid``."""
    match = _PG_UUID.fullmatch(text)
    if match is None or text.startswith("{") != text.endswith("}"):
        return None
    digits = match.group(1).replace("-", "").lower()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def station_key(service: StationService, station_id: str, failure: str) -> str:
    """The station a request names by its UUID (:func:`pg_uuid`); ``failure`` (a 500) for what the
    database would not find, or a key such as ``main`` (no UUID: the query fails)."""
    wanted = pg_uuid(station_id)
    spec = next((s for s in service.scenario.stations if s.id == wanted), None)
    if spec is None:
        raise GoRefusal(500, failure)
    return spec.key


def found(find: Any, wanted: str, failure: str) -> str:
    """A directory lookup by UUID (:func:`pg_uuid`) whose miss the real handler answers with a 500
    ``failure``: the real server knows its rows by UUID only, so a scenario's key is a miss too."""
    uid = pg_uuid(wanted)
    if uid is not None:
        try:
            return find(uid)
        except NotFound:
            pass
    raise GoRefusal(500, failure)


def caller_address() -> str:
    """``r.RemoteAddr`` after chi's ``RealIP``: the first forwarding header's address when it is
    one, else the peer's ``host:port``."""
    given = next((request.headers[n] for n in REAL_IP_HEADERS if request.headers.get(n)), None)
    if given is None and request.headers.get("X-Forwarded-For"):
        given = request.headers["X-Forwarded-For"].split(",", 1)[0]
    if given is not None:
        try:
            ipaddress.ip_address(given.strip())
            return given.strip()
        except ValueError:
            pass  # not an address: RealIP leaves RemoteAddr as it is
    client = request.scope.get("client")
    if not client:
        return ""
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def publish_audit(service: StationService, event_type: str, station_id: str, data: dict[str, Any]) -> None:
    """The handler's audit duplicate of ``event_type``, published after the service's message."""
    claims = g.get("go_claims")
    payload = {
        "ip_address": caller_address(),
        # The header's bytes (Werkzeug gives them as Latin-1), as Go's encoder writes them.
        "user_agent": go_text(request.headers.get("User-Agent", "").encode("latin-1")),
        **({} if claims is None else {"user_id": claims.uid}),
        **data,
    }
    message = wire_event(event_type, payload, station_id or None)
    service.hub.publish([Emitted(service.runner.station_now_ms(), message)])
