"""The station's side of the relay: every batch the hub publishes, appended once to the Redis stream.

The station never waits for Redis: batches wait in a bounded queue for the
publishing task; if Redis is away longer than that queue lasts, the newest
batches are refused (counted in ``lost`` and logged), so edges later receive the
queued ones and then a gap. A follower that was away longer than the stream's
length also misses what was trimmed meanwhile.

After an ambiguous failure (Redis applied a pipeline, the reply was lost) the
same entries are appended again; each carries the station process's run id and
a sequence number, so followers skip them (:mod:`server.relay.entries`).
"""

import uuid

import coredis
import trio
from coredis.tokens import PureToken

from playout import first_leaf

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

STREAM_LENGTH = 10_000
PENDING_BATCHES = 10_000
Entry = dict[str, str | bytes | int]


class StreamPublisher:
    """The station's side: every batch the hub publishes, appended to the stream in order."""

    def __init__(self, redis: RedisTarget, stream: str = DEFAULT_STREAM) -> None:
        self.redis = redis
        self.stream = stream
        self._send, self._receive = trio.open_memory_channel[list[Entry]](PENDING_BATCHES)
        self.run_id = uuid.uuid4().hex[:16].encode()
        self._sequence = 0
        self.appended = 0
        self.lost = 0
        self._losing = False
        self.station_url: str | None = None

    def offer(self, batch: Encoded) -> None:
        """The hub's relay hook: queue a batch without blocking (counted lost if the queue is full)."""
        entries = []
        for kind, payload in batch:
            self._sequence += 1
            entries.append({"t": kind, "e": payload, "r": self.run_id, "n": self._sequence})
        try:
            self._send.send_nowait(entries)
        except trio.WouldBlock:
            if not self._losing:
                log.error("Redis has been away too long: events are being lost for the edges")
                self._losing = True
            self.lost += len(batch)

    async def run(self) -> None:
        """Append queued batches, in order, reconnecting after an outage; runs until cancelled.

        At most ``READ_COUNT`` entries go in one pipeline: after an ambiguous failure that
        pipeline is appended again, and followers recognise resends only that far back.
        """
        pending: list[Entry] = []
        failures = 0
        while True:
            try:
                async with self.redis.client() as client:
                    await self._record_station_url(client)
                    while True:
                        if not pending:
                            pending = list(await self._receive.receive())
                            while len(pending) < READ_COUNT:  # whatever else is already waiting
                                try:
                                    pending += self._receive.receive_nowait()
                                except trio.WouldBlock:
                                    break
                        appending = pending[:READ_COUNT]
                        with trio.fail_after(IO_SECONDS):
                            await self._append(client, appending)
                        self.appended += len(appending)
                        del pending[: len(appending)]
                        failures = 0
                        self._losing = False
            except* REDIS_ERRORS as group:
                failures += 1
                await wait_to_retry(self.redis, group, failures)

    async def announce(self, station_url: str) -> None:
        """Record the station's REST base URL, for edges to send control requests to.

        Written now if Redis answers, and again on every reconnection of :meth:`run`.
        """
        self.station_url = station_url
        try:
            with trio.fail_after(IO_SECONDS):  # the connection too, not only the write
                async with self.redis.client() as client:
                    await self._record_station_url(client)
        except* REDIS_ERRORS as group:
            log.warning(
                "Redis at %s: %s; the station's URL is recorded when it is back",
                self.redis.shown,
                described(first_leaf(group)),
            )

    async def _record_station_url(self, client: coredis.Redis) -> None:
        if self.station_url is not None:
            with trio.fail_after(IO_SECONDS):
                await client.set(station_url_key(self.stream), self.station_url)

    async def _append(self, client: coredis.Redis, entries: list[Entry]) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(
                    self.stream,
                    entry,
                    trim_strategy=PureToken.MAXLEN,
                    threshold=STREAM_LENGTH,
                    trim_operator=PureToken.APPROXIMATELY,
                )
