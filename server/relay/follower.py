"""An edge's side of the relay: the station's stream followed, and where the station is.

An edge follows the stream from its end on and hands every event the entry
filter accepts (:mod:`server.relay.entries`) to its own hub. It answers the
rest of the API with a redirect to the station's own origin, whatever the
request's target holds (:func:`station_location`).
"""

import time
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlsplit, urlunsplit

import trio

from playout import first_leaf

from ..hub import KNOWN_TYPES
from .connection import (
    DEFAULT_STREAM,
    IO_SECONDS,
    READ_COUNT,
    REDIS_ERRORS,
    Encoded,
    RedisTarget,
    described,
    log,
    station_url_key,
    wait_to_retry,
)
from .entries import EntryFilter

READ_BLOCK_MS = 1000
STATION_URL_SECONDS = 10.0


class StreamFollower:
    """An edge's side: reads the stream from its end on and hands every event to the local hub."""

    def __init__(
        self, redis: RedisTarget, stream: str = DEFAULT_STREAM, *, known_types: Iterable[str] = KNOWN_TYPES
    ) -> None:
        """``known_types``: the types the edge's wire profile sends (the documented ones by default)."""
        self.redis = redis
        self.stream = stream
        self.received = 0
        self.entries = EntryFilter(known_types)
        """What is handed on, and the counts of what is not."""
        self.last_id: bytes | None = None
        """The last entry read; after an outage, reading resumes right after it."""
        self._station_url: tuple[float, str | None] = (-STATION_URL_SECONDS, None)

    async def run(self, publish: Callable[[Encoded], None], *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Follow the stream until cancelled; ``task_status.started()`` once it is positioned."""
        key = self.stream.encode()
        failures = 0
        while True:
            try:
                async with self.redis.client() as client:
                    if self.last_id is None:
                        with trio.fail_after(IO_SECONDS):
                            newest = await client.xrevrange(self.stream, "+", "-", count=1)
                        self.last_id = newest[0].identifier if newest else b"0-0"
                        task_status.started()
                    while True:
                        with trio.fail_after(READ_BLOCK_MS / 1000 + IO_SECONDS):
                            found = await client.xread(
                                {self.stream: self.last_id}, count=READ_COUNT, block=READ_BLOCK_MS
                            )
                        failures = 0
                        entries = (found or {}).get(key)
                        if not entries:
                            continue
                        accept = self.entries.accept
                        batch = [
                            event
                            for event in (accept(entry.identifier, entry.field_values) for entry in entries)
                            if event is not None
                        ]
                        self.last_id = entries[-1].identifier
                        if batch:
                            publish(batch)
                            self.received += len(batch)
            except* REDIS_ERRORS as group:
                failures += 1
                await wait_to_retry(self.redis, group, failures)

    async def station_url(self) -> str | None:
        """The station's REST base URL as it recorded it (cached for a few seconds); None if unknown."""
        fetched_at, url = self._station_url
        if time.monotonic() - fetched_at < STATION_URL_SECONDS:
            return url
        value: bytes | None = url.encode() if url is not None else None  # the last known one, if Redis fails
        try:
            with trio.fail_after(IO_SECONDS):
                async with self.redis.client() as client:
                    value = await client.get(station_url_key(self.stream))
        except* REDIS_ERRORS as group:
            log.warning("Redis at %s: %s (the station's URL)", self.redis.shown, described(first_leaf(group)))
        url = value.decode() if value is not None else None
        self._station_url = (time.monotonic(), url)
        return url


PATH_SAFE = "/%!$&'()*+,;=:@"
"""What RFC 3986 allows as it is in a path besides letters, digits and -._~ ("%" keeps escapes as sent)."""


def station_location(station_url: str, raw_path: bytes, query: bytes) -> str:
    """Where an edge redirects a request: the station's origin, whatever the request's target holds.

    The scheme, host and port (and any path prefix) are the station URL's; the
    request's path follows, made absolute and percent-encoded where RFC 3986
    wants it (a backslash, a space, bytes beyond ASCII; escapes already there are
    kept as sent), so no target can be read as another host: pasted after
    ``http://station:8000``, ``@evil.example/x`` would otherwise make
    ``station:8000`` a user name and ``evil.example`` the host.
    """
    station = urlsplit(station_url)
    path = quote(raw_path, safe=PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit(
        (
            station.scheme,
            station.netloc,
            station.path.rstrip("/") + path,
            quote(query, safe=PATH_SAFE + "?"),
            "",
        )
    )
