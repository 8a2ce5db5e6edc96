"""Several server processes, one station: its events relayed through a Redis stream.

``grimnir-sim serve --redis URL`` runs the station (``--role station``, the
default) and appends each event it emits, once, to a Redis stream; ``--role
edge`` runs no station, follows that stream and fans each event out to its own
WebSocket clients. One stream, appended by one station, so every client of
every process sees the events in the station's order.

Why a stream (XADD/XREAD) and not PUBLISH: a stream keeps the recent past, so a
follower that loses Redis for a moment resumes from the last entry it read and
misses nothing; an edge that restarts starts at the stream's end (its new
clients see what happens from then on, as with any new connection) while the
station runs on. The stream is trimmed to about ``STREAM_LENGTH`` entries.

The station never waits for Redis: batches wait in a bounded queue for the
publishing task, and if Redis is away longer than that queue lasts, the oldest
unsent events are the ones lost (counted and logged).
"""

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import coredis
import coredis.exceptions
import trio
from coredis.tokens import PureToken

from playout.cli import first_leaf

DEFAULT_STREAM = "grimnir-sim:events"
STREAM_LENGTH = 10_000
PENDING_BATCHES = 10_000
READ_COUNT = 1_000
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
CONNECT_SECONDS = 5.0

log = logging.getLogger("grimnir_sim.relay")
Encoded = list[tuple[str, bytes]]
REDIS_ERRORS = (coredis.exceptions.RedisError, TimeoutError, OSError)
"""What an outage raises (coredis raises them in exception groups, from its anyio task groups)."""


class RelayError(Exception):
    """Redis cannot be reached at start-up (later outages are retried, not raised)."""


def _client(url: str) -> coredis.Redis:
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise RelayError(f"--redis takes a redis:// URL (e.g. redis://127.0.0.1:6379), not {url!r}")
    try:
        return coredis.Redis.from_url(url)
    except ValueError as exc:
        raise RelayError(f"--redis: {exc}") from None


async def check_reachable(url: str) -> None:
    """Fail early and clearly when nothing answers at ``url``."""
    failure: BaseException | None = None
    try:
        with trio.fail_after(CONNECT_SECONDS):
            async with _client(url) as client:
                await client.ping()
    except* (*REDIS_ERRORS, trio.TooSlowError) as group:
        failure = first_leaf(group)
    if failure is not None:
        raise RelayError(f"cannot reach Redis at {url}: {failure or type(failure).__name__}")


class StreamPublisher:
    """The station's side: every batch the hub publishes, appended to the stream in order."""

    def __init__(self, url: str, stream: str = DEFAULT_STREAM) -> None:
        self.url = url
        self.stream = stream
        self._send, self._receive = trio.open_memory_channel[Encoded](PENDING_BATCHES)
        self.appended = 0
        self.lost = 0
        self.station_url: str | None = None

    def offer(self, batch: Encoded) -> None:
        """The hub's relay hook: queue a batch without blocking (counted lost if the queue is full)."""
        try:
            self._send.send_nowait(batch)
        except trio.WouldBlock:
            if not self.lost:
                log.error("Redis has been away too long: events are being lost for the edges")
            self.lost += len(batch)

    async def run(self) -> None:
        """Append queued batches, in order, reconnecting after an outage; runs until cancelled."""
        pending: Encoded = []
        failures = 0
        while True:
            try:
                async with _client(self.url) as client:
                    if self.station_url is not None:
                        await client.set(f"{self.stream}:station-url", self.station_url)
                    while True:
                        if not pending:
                            pending = list(await self._receive.receive())
                            while len(pending) < READ_COUNT:  # whatever else is already waiting
                                try:
                                    pending += self._receive.receive_nowait()
                                except trio.WouldBlock:
                                    break
                        await self._append(client, pending)
                        self.appended += len(pending)
                        pending = []
                        failures = 0
            except* REDIS_ERRORS as group:
                failures += 1
                log.warning(
                    "Redis at %s: %s; retrying in %gs", self.url, first_leaf(group), _retry_delay(failures)
                )
                await trio.sleep(_retry_delay(failures))

    async def announce(self, station_url: str) -> None:
        """Record the station's REST base URL, for edges to send control requests to."""
        self.station_url = station_url
        async with _client(self.url) as client:
            await client.set(f"{self.stream}:station-url", station_url)

    async def _append(self, client: coredis.Redis, events: Encoded) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for kind, payload in events:
                pipe.xadd(
                    self.stream,
                    {"t": kind, "e": payload},
                    trim_strategy=PureToken.MAXLEN,
                    threshold=STREAM_LENGTH,
                    trim_operator=PureToken.APPROXIMATELY,
                )


class StreamFollower:
    """An edge's side: reads the stream from its end on and hands every event to the local hub."""

    def __init__(self, url: str, stream: str = DEFAULT_STREAM) -> None:
        self.url = url
        self.stream = stream
        self.received = 0
        self.last_id: bytes | None = None
        """The last entry handed on; after an outage, reading resumes right after it."""

    async def run(self, publish: Callable[[Encoded], None], *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Follow the stream until cancelled; ``task_status.started()`` once it is positioned."""
        key = self.stream.encode()
        failures = 0
        while True:
            try:
                async with _client(self.url) as client:
                    if self.last_id is None:
                        newest = await client.xrevrange(self.stream, "+", "-", count=1)
                        self.last_id = newest[0].identifier if newest else b"0-0"
                        task_status.started()
                    while True:
                        found = await client.xread({self.stream: self.last_id}, count=READ_COUNT, block=1000)
                        failures = 0
                        entries = (found or {}).get(key)
                        if not entries:
                            continue
                        publish([(e.field_values[b"t"].decode(), e.field_values[b"e"]) for e in entries])
                        self.received += len(entries)
                        self.last_id = entries[-1].identifier
            except* REDIS_ERRORS as group:
                failures += 1
                log.warning(
                    "Redis at %s: %s; retrying in %gs", self.url, first_leaf(group), _retry_delay(failures)
                )
                await trio.sleep(_retry_delay(failures))

    async def station_url(self) -> str | None:
        async with _client(self.url) as client:
            value = await client.get(f"{self.stream}:station-url")
        return value.decode() if value is not None else None


def _retry_delay(failures: int) -> float:
    """Seconds to wait after this many failures in a row (1 and up)."""
    return RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
