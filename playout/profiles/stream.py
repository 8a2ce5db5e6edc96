"""A wire profile's event stream rules: how ``GET /api/v1/events`` treats its clients.

The messages are the translator's; these rules are the stream's own: how ``types``
is read, how a client's queue is kept, and which refusals, scopes and extras the
server has. server/hub.py and server/event_stream.py read them; neither names a
profile. docs/fidelity.md lists the ``grimnir`` rules with their Go sources.
"""

from collections.abc import Callable, Sequence

import attrs

NO_CLOSE_FRAME = 1006
"""RFC 6455 7.1.5: the code a client reports when the connection ended without a close frame."""


def documented_type_names(values: Sequence[str]) -> list[str]:
    """The documented page's reading of ``types``: every value, each part trimmed, blank parts skipped."""
    return [name for value in values for name in (part.strip() for part in value.split(",")) if name]


def go_type_names(values: Sequence[str]) -> list[str]:
    """The real handler's: the first value only (``r.URL.Query().Get``, G:internal/api/api.go:1672),
    read by ``parseEventTypes`` (:2272-2285), which skips empty parts *before* trimming.

    So a blank part stays as ``""``, a name no one publishes: ``types=%20`` subscribes to
    nothing (pings only), not to the defaults.
    """
    first = values[0] if values else ""
    return [part.strip() for part in first.split(",") if part]


@attrs.frozen
class StreamRules:
    type_names: Callable[[Sequence[str]], list[str]]
    """The names the ``types`` parameter's values list, in order, repeats kept; none: the defaults."""
    dedupe: bool
    """A type listed twice is sent once; else once per listing (each listing is a subscription)."""
    slots_per_type: int | None
    """Each listing of a type gets its own queue of this many messages; a full one drops that
    type's next message for that client, silently, and a client is never closed for being slow.
    None: one queue for all the client's types (``queue_size``); a client that keeps losing
    events is closed (1008)."""
    limits: bool
    """The connection limit (503) and the per-IP rate (429) apply."""
    snapshot: bool
    """``?snapshot=`` (and ``--snapshot``) is honoured; else it is ignored: live events only."""
    station_scoped: bool
    """A token's ``station_id`` claim and ``?station_id=`` scope the stream to one station;
    else both are ignored and every client gets every station's events."""
    shutdown_close: int
    """How a stopping server ends each stream: a close code, or :data:`NO_CLOSE_FRAME` (the
    connection is dropped without one)."""
    go_auth: bool = False
    """The real server's auth middleware admits the stream (an ``X-API-Key``, a token without
    ``uid``, no ``iat`` check, its text 401); else the documented token check."""

    def __attrs_post_init__(self) -> None:
        if not self.dedupe and self.slots_per_type is None:
            raise ValueError("a type listed twice is sent twice only through a queue of its own per listing")


DOCUMENTED_STREAM = StreamRules(
    type_names=documented_type_names,
    dedupe=True,
    slots_per_type=None,
    limits=True,
    snapshot=True,
    station_scoped=True,
    shutdown_close=1001,
)
GRIMNIR_STREAM = StreamRules(
    type_names=go_type_names,
    dedupe=False,  # G:internal/api/api.go:1677-1680: one Subscribe per listed name
    slots_per_type=8,  # G:internal/events/bus.go:96-115: make(Subscriber, 8), a non-blocking send
    limits=False,  # no limiter in G:internal/server or G:internal/api
    snapshot=False,  # G:internal/api/api.go:1653-1719 reads only ?types
    station_scoped=False,  # nor filters by station
    shutdown_close=NO_CLOSE_FRAME,  # G:cmd/grimnirradio/main.go:129: Shutdown leaves hijacked connections
    go_auth=True,  # G:internal/auth/middleware.go:25-94, the same middleware as the REST routes'
)
