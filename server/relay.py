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
publishing task; if Redis is away longer than that queue lasts, the newest
batches are refused (counted in ``lost`` and logged), so edges later receive the
queued ones and then a gap. A follower that was away longer than the stream's
length also misses what was trimmed meanwhile.

A follower hands on only what it can vouch for (:class:`EntryFilter`); every
other entry is skipped, counted by reason and logged once per reason (a flood
of bad entries is one line), and nothing in an entry can raise out of the
follower: one bad entry must not stop the edge. An entry is skipped when

- a field is missing or unreadable: ``t`` (the type, UTF-8), ``e`` (the event),
  ``r`` (the run id), ``n`` (the sequence number, an integer of 1 or more);
- ``e`` is larger than ``MAX_EVENT_BYTES`` (64 KiB; the station's events are
  well under 4 KiB), so a huge entry is never sent to every client;
- ``e`` is not UTF-8 JSON;
- ``e`` is not the documented envelope: an object with exactly ``type``, equal
  to ``t``, and a ``payload`` object;
- its type is not one this server knows (``KNOWN_TYPES``: no client here can
  have asked for it);
- it was sent again (below).

Resends. Each entry carries the station process's run id and a sequence
number. After an ambiguous failure (Redis applied a pipeline, the reply was
lost) the station appends the same entries again, at most ``READ_COUNT`` of
them, right after the first copies. A follower remembers the (run id, sequence
number) of the last ``RESEND_WINDOW`` entries it handed on, and skips an entry
whose pair is among them. Within that window a sequence number is accepted once
and only once; outside it nothing is assumed. There is deliberately no "highest
number so far" rule (accept only what is above the last one): under such a
rule one entry carrying the station's run id and a huge number, from a bug or
from anyone who can write to the stream, would make every later real entry look
like a resend and silence the edge for good. With exact pairs:

- a batch appended again (same run id, same numbers) is skipped;
- a forged or stray number, however large, can at worst make the one real
  entry with that same pair, if it follows within the window, look sent twice;
  it never affects any other entry;
- a gap (the station lost batches while Redis was away, or this edge was away
  while the stream was trimmed) needs no resynchronising: numbers it has not
  seen are new, and the window goes on from there. A new station run (a new run
  id) is new in the same way.

Redis can require a password (``redis://:PASSWORD@host:6379``) and TLS
(``rediss://``; the server's certificate is checked against the system's CAs or
``--redis-ca FILE``, and its host name against the URL's). Messages show the
URL with the password masked.

An edge answers the rest of the API with a redirect to the station's own
origin, whatever the request's target holds (:func:`station_location`).
"""

import collections
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import attrs
import coredis
import coredis.exceptions
import orjson
import trio
from coredis.tokens import PureToken

from playout.drivers.cli import first_leaf

from .hub import KNOWN_TYPES

DEFAULT_STREAM = "grimnir-sim:events"
STREAM_LENGTH = 10_000
PENDING_BATCHES = 10_000
READ_COUNT = 1_000
"""The most entries a follower reads at once, and a station appends in one pipeline (so resends too)."""
RESEND_WINDOW = 2 * READ_COUNT
"""How many entries handed on a follower remembers, to recognise resends (twice the largest one)."""
MAX_EVENT_BYTES = 64 * 1024
"""The largest event a follower hands on; the station's are well under 4 KiB."""
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
CONNECT_SECONDS = 5.0
IO_SECONDS = 5.0
"""The longest any one Redis call may take beyond its own blocking time; longer counts as an outage
(a connection that died without a reset would otherwise wait forever)."""
READ_BLOCK_MS = 1000
STATION_URL_SECONDS = 10.0

log = logging.getLogger("grimnir_sim.relay")
Encoded = list[tuple[str, bytes]]
Entry = dict[str, str | bytes | int]
SKIP_REASONS = {
    "malformed": "a field missing or unreadable",
    "too_large": f"an event larger than {MAX_EVENT_BYTES // 1024} KiB",
    "not_json": "an event that is not UTF-8 JSON",
    "not_an_event": "not an object with exactly a type equal to the entry's and a payload object",
    "unknown_type": "an event type this server does not know",
    "resent": "sent again after an ambiguous failure: already handed on",
}
"""Why a follower skips an entry (the keys of ``skipped_by_reason`` in ``/api/v1/sim/server``)."""
REDIS_ERRORS = (coredis.exceptions.RedisError, TimeoutError, OSError, trio.TooSlowError)
"""What an outage raises (coredis raises them in exception groups, from its anyio task groups)."""


class RelayError(Exception):
    """Unusable Redis settings, or Redis cannot be reached at start-up (later outages are retried)."""


@attrs.frozen
class RedisTarget:
    """Where Redis is (the URL, a password in it if any) and, for ``rediss://``, how to trust it."""

    url: str
    tls: ssl.SSLContext | None = None

    @classmethod
    def parse(cls, url: str, ca_file: str | None = None) -> "RedisTarget":
        """``--redis URL`` and ``--redis-ca FILE``, checked (no connection yet); RelayError if unusable."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (what raises on a port that is not a number)
        except ValueError as exc:
            raise RelayError(f"--redis: {exc}") from None
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise RelayError(
                f"--redis takes a redis:// URL (e.g. redis://127.0.0.1:6379), not {_masked(url)!r}"
            )
        tls = None
        if parts.scheme == "rediss":
            if any(name.startswith("ssl_") for name, _ in parse_qsl(parts.query)):
                raise RelayError("--redis: give the CA with --redis-ca FILE, not ssl_* parameters in the URL")
            try:
                tls = ssl.create_default_context(cafile=ca_file)  # certificate and host name checked
            except OSError as exc:  # (ssl.SSLError is one: a file that holds no certificate)
                raise RelayError(f"--redis-ca {ca_file}: {exc.strerror or exc}") from None
        elif ca_file is not None:
            raise RelayError("--redis-ca is for TLS: give a rediss:// URL")
        target = cls(url, tls)
        target.client()  # a bad port or database number is refused now, not at each connection
        return target

    @property
    def shown(self) -> str:
        """The URL with its password masked: what messages show."""
        return _masked(self.url)

    def client(self) -> coredis.Redis:
        """A new client (it connects when first used); a password may be percent-encoded (%2F for /)."""
        try:
            if self.tls is not None:
                return coredis.Redis.from_url(self.url, decode_components=True, ssl_context=self.tls)
            return coredis.Redis.from_url(self.url, decode_components=True)
        except ValueError as exc:
            raise RelayError(f"--redis: {exc}") from None


def _masked(url: str) -> str:
    """``url`` with the password of its user part and of a ``password`` parameter replaced by ***."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is None and all(name != "password" for name, _ in query):
        return url
    if parts.password is not None:
        user_part, _, host_part = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user_part.partition(':')[0]}:***@{host_part}")
    masked = [(name, "***" if name == "password" else value) for name, value in query]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))


def _described(failure: BaseException) -> str:
    """An outage's cause in a few words (a TLS failure's reason, which coredis keeps as the cause)."""
    text = str(failure) or type(failure).__name__
    if isinstance(failure.__cause__, ssl.SSLError):
        text += f" ({failure.__cause__})"
    return text


async def check_reachable(redis: RedisTarget) -> None:
    """Fail early and clearly when nothing answers at ``redis``, or it refuses the password or TLS."""
    failure: BaseException | None = None
    try:
        with trio.fail_after(CONNECT_SECONDS):
            async with redis.client() as client:
                await client.ping()
    except* REDIS_ERRORS as group:
        failure = first_leaf(group)
    if isinstance(failure, coredis.exceptions.AuthenticationRequiredError):
        raise RelayError(
            f"Redis at {redis.shown} wants a password: give it in the URL, e.g. redis://:PASSWORD@host:6379"
        )
    if isinstance(failure, coredis.exceptions.AuthenticationError):
        raise RelayError(f"Redis at {redis.shown} refused the user or password in the URL: {failure}")
    if failure is not None:
        raise RelayError(f"cannot reach Redis at {redis.shown}: {_described(failure)}")


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
                await _wait_to_retry(self.redis, group, failures)

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
                _described(first_leaf(group)),
            )

    async def _record_station_url(self, client: coredis.Redis) -> None:
        if self.station_url is not None:
            with trio.fail_after(IO_SECONDS):
                await client.set(_station_url_key(self.stream), self.station_url)

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


class EntryFilter:
    """What a follower hands on: the checks and the resend window of the module's docstring."""

    def __init__(self) -> None:
        self.skipped_by_reason = dict.fromkeys(SKIP_REASONS, 0)
        self._recent: set[tuple[bytes, int]] = set()
        self._recent_order: collections.deque[tuple[bytes, int]] = collections.deque()
        self._logged: set[str] = set()

    @property
    def skipped(self) -> int:
        """Entries not handed on, for every reason."""
        return sum(self.skipped_by_reason.values())

    def accept(self, identifier: bytes, fields: Mapping[bytes, bytes]) -> tuple[str, bytes] | None:
        """The (type, JSON) of an entry to hand on, or None for one skipped (counted, logged once)."""
        try:
            kind, event = fields[b"t"].decode(), bytes(fields[b"e"])
            run, sequence = bytes(fields[b"r"]), int(fields[b"n"])
        except (KeyError, UnicodeDecodeError, ValueError, TypeError):
            return self._skip("malformed", identifier)
        if sequence < 1:
            return self._skip("malformed", identifier)
        if len(event) > MAX_EVENT_BYTES:
            return self._skip("too_large", identifier)
        try:
            message = orjson.loads(event.decode())  # (decoded first: the hub decodes it again, strictly)
        except (UnicodeDecodeError, orjson.JSONDecodeError):
            return self._skip("not_json", identifier)
        if not (
            isinstance(message, dict)
            and message.keys() == {"type", "payload"}
            and message["type"] == kind
            and isinstance(message["payload"], dict)
        ):
            return self._skip("not_an_event", identifier)
        if kind not in KNOWN_TYPES:
            return self._skip("unknown_type", identifier)
        if (run, sequence) in self._recent:
            return self._skip("resent", identifier)
        self._remember((run, sequence))
        return kind, event

    def _remember(self, pair: tuple[bytes, int]) -> None:
        if len(self._recent_order) == RESEND_WINDOW:
            self._recent.discard(self._recent_order.popleft())
        self._recent_order.append(pair)
        self._recent.add(pair)

    def _skip(self, reason: str, identifier: bytes) -> None:
        self.skipped_by_reason[reason] += 1
        if reason not in self._logged:  # a flood of bad entries must not flood the log
            self._logged.add(reason)
            log.warning(
                "stream entry %s skipped: %s (further entries skipped for this reason are only counted, "
                "in GET /api/v1/sim/server)",
                identifier.decode(errors="replace"),
                SKIP_REASONS[reason],
            )
        return None


class StreamFollower:
    """An edge's side: reads the stream from its end on and hands every event to the local hub."""

    def __init__(self, redis: RedisTarget, stream: str = DEFAULT_STREAM) -> None:
        self.redis = redis
        self.stream = stream
        self.received = 0
        self.entries = EntryFilter()
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
                await _wait_to_retry(self.redis, group, failures)

    async def station_url(self) -> str | None:
        """The station's REST base URL as it recorded it (cached for a few seconds); None if unknown."""
        fetched_at, url = self._station_url
        if time.monotonic() - fetched_at < STATION_URL_SECONDS:
            return url
        value: bytes | None = url.encode() if url is not None else None  # the last known one, if Redis fails
        try:
            with trio.fail_after(IO_SECONDS):
                async with self.redis.client() as client:
                    value = await client.get(_station_url_key(self.stream))
        except* REDIS_ERRORS as group:
            log.warning(
                "Redis at %s: %s (the station's URL)", self.redis.shown, _described(first_leaf(group))
            )
        url = value.decode() if value is not None else None
        self._station_url = (time.monotonic(), url)
        return url


async def _wait_to_retry(redis: RedisTarget, group: BaseExceptionGroup, failures: int) -> None:
    """Log an outage and wait before reconnecting: longer after each failure in a row (1 and up)."""
    delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
    log.warning("Redis at %s: %s; retrying in %gs", redis.shown, _described(first_leaf(group)), delay)
    await trio.sleep(delay)


def _station_url_key(stream: str) -> str:
    """Where the station records its REST base URL, beside its stream."""
    return f"{stream}:station-url"


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
