"""Fan-out: every event serialized and framed once, offered to each subscriber without ever blocking.

Each subscriber has a small bounded queue: its connection's :class:`SocketWriter`
(the served fast path, see ``server/transport/socket_writer.py``) or an in-memory channel
(Quart's path, e.g. its test client). Publishing is synchronous: a full queue drops
the event for that subscriber only, and a subscriber that has dropped
``max_dropped`` events in a row is told to go (its connection is closed with
1008), so a client that does not read never slows the station or anyone else.

A subscriber may be scoped to one station (a token's ``station_id`` claim, or the
stream's ``station_id`` parameter): it gets that station's events and the events
of no station (``webstream.failover``, ``webstream.recovered``), never another
station's. Subscribers are kept by type, and scoped ones by type and station, so
an event costs one dict lookup more for the scoped ones whatever their number,
and nothing more when there are none.

A profile whose stream rules give each listed type its own slots (the ``grimnir``
profile) keeps a :class:`~server.bus.BusSubscriber` instead, indexed by its
subscriptions (server/bus.py); the documented fan-out does not change for it.

The heartbeat is one task for every connection (started by :meth:`Hub.run`), not a
timer per connection: each subscriber is pinged every interval after it
subscribed, from a heap of due times.
"""

import heapq
import itertools
import math
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence

import attrs
import orjson
import trio
from wsproto.frame_protocol import FrameProtocol

from playout import DOCUMENTED, EVENT_CLASSES, EVENT_TYPES, Emitted, StreamRules, wire

from .bus import BusSubscriber, Subscription
from .transport.socket_writer import SocketWriter

Departed = weakref.ref[SocketWriter] | None
"""A departed connection, as the collector policy checks it: its writer, weakly (None: unknown)."""
DEFAULT_TYPES = frozenset({"now_playing", "health"})
KNOWN_TYPES = frozenset(EVENT_TYPES)
PING_ROUND_SECONDS = 0.25
"""The heartbeat wakes at most this often: one round pings everyone due (an idle server's CPU)."""
GOING_AWAY = 1001
TOO_SLOW = 1008
INTERNAL_ERROR = 1011
PING_TEXT = wire.PING.decode()
STATIONLESS_TYPES = frozenset(cls.TYPE for cls in EVENT_CLASSES if "station_id" not in attrs.fields_dict(cls))
"""Types whose events belong to no station (a webstream is the scenario's, shared by its stations)."""


def parse_types(
    values: Sequence[str],
    known: frozenset[str] = KNOWN_TYPES,
    default: frozenset[str] = DEFAULT_TYPES,
    rules: StreamRules = DOCUMENTED.stream,
) -> tuple[str, ...]:
    """The ``types`` query parameter's values, read as ``rules`` say: the names they list, in order.

    Documented: every value counts (``types=a&types=b`` is ``types=a,b``), comma-separated,
    blanks trimmed, empty parts skipped, and a name given twice counts once. No parameter, or
    none with a name in it, means ``default`` (``now_playing`` and ``health`` in the documented
    profile). Names not in ``known`` are dropped: nothing of theirs is ever published, so they
    subscribe to nothing.
    """
    names = rules.type_names(values)
    if not names:
        return tuple(default)
    if rules.dedupe:
        names = list(dict.fromkeys(names))
    return tuple(name for name in names if name in known)


def text_frame(text: str) -> bytes:
    """One unfragmented, unmasked server-to-client text frame (wsproto's framing)."""
    return bytes(_FRAMER.send_data(text, fin=True))


def _shared(types: frozenset[str]) -> frozenset[str]:
    """One object per distinct type set, shared by every subscriber that asked for it."""
    return _TYPE_SETS.setdefault(types, types)


_TYPE_SETS: dict[frozenset[str], frozenset[str]] = {}
_FRAMER = FrameProtocol(client=False, extensions=[])  # stateless for whole messages
PING_FRAME = text_frame(PING_TEXT)


def _station_of(text: str) -> str | None:
    """The ``station_id`` of an event known only by its JSON; None when it has no readable one."""
    try:
        station = orjson.loads(text)["payload"]["station_id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None  # (an edge's stream may hold anything: such an event reaches no scoped subscriber)
    return station if isinstance(station, str) else None


class Subscriber:
    __slots__ = (
        "_receive",
        "_send",
        "cancel_scope",
        "close_code",
        "dropped_in_a_row",
        "station",
        "types",
        "wants_state",
        "writer",
    )

    def __init__(
        self, types: frozenset[str], queue_size: int, writer: SocketWriter | None, station: str | None = None
    ) -> None:
        self.types = types
        self.station = station
        """The one station whose events it gets (a UUID, as in the events), or None for every station."""
        self.writer = writer
        """The connection's socket writer (the fast path), or None for an in-memory channel."""
        if writer is None:
            self._send, self._receive = trio.open_memory_channel[str](queue_size)
        self.dropped_in_a_row = 0
        self.wants_state = False
        """It asked for the state on connect (and ``now_playing``): it gets it again after a reset."""
        self.close_code: int | None = None
        """Set when the hub wants this connection closed (1001 shutdown, 1008 too slow)."""
        self.cancel_scope = trio.CancelScope()
        """Cancelled together with ``close_code``; the connection's handler waits inside it."""

    @property
    def waiting(self) -> int:
        """Messages queued for this subscriber and not yet handed to its connection."""
        if self.writer is not None:
            return self.writer.waiting
        return self._send.statistics().current_buffer_used

    def offer(self, text: str, frame: bytes) -> bool:
        """Queue one message without blocking; False when the queue is full."""
        if self.writer is not None:
            return self.writer.write_nowait(frame)
        try:
            self._send.send_nowait(text)
        except trio.WouldBlock:
            return False
        return True

    async def next_message(self) -> str:
        """The in-memory path's next message (not used with a socket writer)."""
        return await self._receive.receive()

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.cancel_scope.cancel()

    def too_slow(self) -> None:
        self.close(TOO_SLOW)


Client = Subscriber | BusSubscriber
"""A connection's subscriber, as its stream rules keep it."""
Receiver = Subscriber | Subscription
"""What the fan-out offers an event to: a subscriber, or one subscription of a bus subscriber."""


def _receivers(subscriber: Client) -> list[tuple[str, Receiver]]:
    """What ``subscriber`` is indexed by: each type and what receives it (its subscription, if any)."""
    if isinstance(subscriber, BusSubscriber):
        return [(subscription.type, subscription) for subscription in subscriber.subscriptions]
    return [(name, subscriber) for name in subscriber.types]


class Hub:
    def __init__(
        self,
        *,
        queue_size: int = 64,
        max_dropped: int = 256,
        known_types: Iterable[str] = KNOWN_TYPES,
        default_types: frozenset[str] = DEFAULT_TYPES,
        rules: StreamRules = DOCUMENTED.stream,
    ) -> None:
        """``known_types``, ``default_types``, ``rules``: the wire profile's (the documented protocol's
        by default). With ``rules.slots_per_type``, that is each subscription's queue, not ``queue_size``."""
        self.rules = rules
        self.queue_size = queue_size if rules.slots_per_type is None else rules.slots_per_type
        self.max_dropped = max_dropped
        self.known_types = frozenset(known_types)
        self.default_types = default_types
        if rules.slots_per_type is not None:
            self._offer = self._offer_to_slots
        self._by_type: dict[str, set[Receiver]] = {name: set() for name in self.known_types}
        """The subscribers (or subscriptions) of each type that get every station's events."""
        self._by_station: dict[str, dict[str, set[Receiver]]] = {name: {} for name in self.known_types}
        """The subscribers of each type scoped to one station, by station (no empty sets are kept)."""
        self._subscribers: set[Client] = set()
        self._pings: list[tuple[float, int, Client]] = []
        self._ping_order = itertools.count()
        self._first_ping_due = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._closing_code: int | None = None
        self.departed = 0
        """Subscribers that have gone, in all."""
        self.departures: deque[Departed] = deque(maxlen=100_000)
        """Each departure's writer, weakly (None without one), until the collector policy checks
        that it was freed (server.vitals)."""
        self.published = 0
        self.dropped = 0
        self.last_published_at: float | None = None
        """CLOCK_MONOTONIC when the latest event was offered to subscribers (benchmarks measure from it)."""
        self.taps: list[Callable[[list[Emitted]], None]] = []
        """Also handed every batch (a test's recorder)."""
        self.relays: list[Callable[[list[tuple[str, bytes]]], None]] = []
        """Also handed every published batch, encoded (the Redis stream, for edge processes)."""
        self._now_playing: dict[str, tuple[str, bytes]] = {}
        """Each station's latest ``now_playing`` (text, frame): the state a client may ask for on connect."""

    def __len__(self) -> int:
        return len(self._subscribers)

    def socket_writers(self) -> int:
        """Subscribers written to by the fast path (the rest use in-memory channels)."""
        return sum(1 for subscriber in self._subscribers if subscriber.writer is not None)

    def subscribe(
        self,
        types: Iterable[str],
        writer: SocketWriter | None = None,
        *,
        heartbeat: float | None = None,
        snapshot: bool = False,
        station: str | None = None,
    ) -> Client:
        """A new subscriber; with ``heartbeat`` it is pinged every that many seconds from now.

        Under rules with ``slots_per_type`` it is a :class:`BusSubscriber` with a subscription
        for each name in ``types``, repeats included (and no ``writer``, ``station`` or snapshot).
        With ``station`` (a station's UUID) it gets only that station's events and those of
        no station (:data:`STATIONLESS_TYPES`). With ``snapshot`` (and ``now_playing`` among
        its types) it first gets each station's latest ``now_playing`` (only its own
        station's with ``station``), in the same step as it joins, so no live event comes
        before them and none is missed between.
        """
        subscriber: Client
        if self.rules.slots_per_type is not None:
            subscriber = BusSubscriber(tuple(t for t in types if t in self.known_types), self.queue_size)
            station = None
        else:
            subscriber = Subscriber(
                _shared(frozenset(types) & self.known_types), self.queue_size, writer, station
            )
            if snapshot and "now_playing" in subscriber.types:
                subscriber.wants_state = True
                self._offer_state(subscriber)
            if writer is not None:  # a socket that fails, or takes nothing for the send timeout
                writer.on_broken = subscriber.too_slow
        if self._closing_code is not None:  # subscribed after close_all, while accepting: going too
            subscriber.close(self._closing_code)
        self._subscribers.add(subscriber)
        if station is None:
            for name, receiver in _receivers(subscriber):
                self._by_type[name].add(receiver)
        else:
            for name, receiver in _receivers(subscriber):
                self._by_station[name].setdefault(station, set()).add(receiver)
        if heartbeat is not None:
            heapq.heappush(self._pings, (trio.current_time() + heartbeat, next(self._ping_order), subscriber))
            self._first_ping_due.set()
        return subscriber

    def unsubscribe(self, subscriber: Client) -> None:
        self._subscribers.discard(subscriber)
        station = subscriber.station
        if station is None:
            for name, receiver in _receivers(subscriber):
                self._by_type[name].discard(receiver)
        else:
            for name, receiver in _receivers(subscriber):
                scoped = self._by_station[name]
                group = scoped.get(station)
                if group is not None:
                    group.discard(receiver)
                    if not group:
                        del scoped[station]
        self.departed += 1
        if subscriber.writer is None:
            self.departures.append(None)
        else:
            self.departures.append(weakref.ref(subscriber.writer))
            # Subscriber and writer refer to each other: break the cycle, so both go as soon as
            # the connection does, without the cyclic collector (which frozen objects escape).
            subscriber.writer.detach()
            subscriber.writer = None

    def publish(self, batch: list[Emitted]) -> None:
        """Offer each event, in order, to every subscriber of its type (and station). Never blocks."""
        for tap in self.taps:
            tap(batch)
        encoded = [(emitted.event.TYPE, wire.encode(emitted.event)) for emitted in batch]
        for relay in self.relays:
            relay(encoded)
        self._fan_out(encoded, batch)

    def remember(self, batch: list[Emitted]) -> None:
        """Take the station's state from events that are not sent: a silent fast-forward to the
        entry point, at start or after a reset. It replaces the state kept, and goes at once to
        each subscriber that asked for the state on connect, as if it had just connected."""
        latest = {e.event.station_id: e.event for e in batch if e.event.TYPE == "now_playing"}
        self._now_playing.clear()
        for station_id, event in latest.items():
            text = wire.encode(event).decode()
            self._now_playing[station_id] = (text, text_frame(text))
        for subscriber in self._subscribers:
            if isinstance(subscriber, Subscriber) and subscriber.wants_state and not subscriber.close_code:
                self._offer_state(subscriber)

    def _offer_state(self, subscriber: Subscriber) -> None:
        """Each station's latest ``now_playing`` (only its own station's, for a scoped subscriber)."""
        if subscriber.station is None:
            for text, frame in self._now_playing.values():
                subscriber.offer(text, frame)
        elif subscriber.station in self._now_playing:
            subscriber.offer(*self._now_playing[subscriber.station])

    def publish_encoded(self, batch: list[tuple[str, bytes]]) -> None:
        """:meth:`publish` for events already on the wire: ``(type, JSON bytes)`` pairs."""
        self._fan_out(batch, None)

    def _fan_out(self, batch: list[tuple[str, bytes]], events: list[Emitted] | None) -> None:
        """Frame each event once and offer it; ``events``: the same events unencoded, when at hand.

        An event's station is found only when it is needed: for a ``now_playing`` (the
        state on connect) or when subscribers scoped to a station want its type. From
        ``events`` it is an attribute; from the wire alone (an edge), the JSON is read.
        """
        self.last_published_at = time.monotonic()
        for index, (kind, payload) in enumerate(batch):
            everyone = self._by_type.get(kind)  # (an edge's stream may hold any type name)
            scoped = self._by_station.get(kind)
            self.published += 1
            if not everyone and not scoped and kind != "now_playing":
                continue
            text = payload.decode()
            frame = text_frame(text)
            station = None
            if (scoped or kind == "now_playing") and kind not in STATIONLESS_TYPES:
                station = events[index].event.station_id if events is not None else _station_of(text)
            if kind == "now_playing" and station is not None:
                self._now_playing[station] = (text, frame)
            if everyone:
                self._offer(everyone, text, frame)
            if scoped:
                if kind in STATIONLESS_TYPES:
                    for group in scoped.values():
                        self._offer(group, text, frame)
                elif station in scoped:
                    self._offer(scoped[station], text, frame)

    def _offer(self, subscribers: set[Subscriber], text: str, frame: bytes) -> None:
        for subscriber in subscribers:
            if subscriber.offer(text, frame):
                subscriber.dropped_in_a_row = 0
            else:
                self.dropped += 1
                subscriber.dropped_in_a_row += 1
                if subscriber.dropped_in_a_row >= self.max_dropped:
                    subscriber.close(TOO_SLOW)

    def _offer_to_slots(self, subscriptions: set[Subscription], text: str, frame: bytes) -> None:
        """:meth:`_offer` under ``slots_per_type``: a full subscription loses the event, and no more."""
        for subscription in subscriptions:
            if not subscription.offer(text, frame):
                self.dropped += 1

    async def run(self, heartbeat: float) -> None:
        """The hub's background work, until cancelled: the heartbeat, and writers' backlogs.

        Socket writers start their short-lived backlog tasks here (:meth:`spawn`).
        """
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                await self._heartbeat(heartbeat)
            finally:
                self._nursery = None

    def spawn(self, task: Callable[[], Awaitable[None]]) -> None:
        """Start a socket writer's backlog task in the hub's nursery.

        Once :meth:`run` has ended the server is shutting down (the station may
        still publish a last batch in the same instant): the backlog is abandoned.
        """
        if self._nursery is not None:
            self._nursery.start_soon(task)

    async def _heartbeat(self, interval: float) -> None:
        """Ping each subscriber every ``interval`` seconds from when it subscribed.

        One task for all connections: it sleeps until the earliest due ping and
        sends the one prebuilt ping frame to everyone due by then. It wakes at
        most every PING_ROUND_SECONDS, so connections that arrived at different
        moments are pinged in rounds (a ping is at most that late; the next is
        due an interval after the last one was due, so none drifts). A ping that
        finds the queue full is skipped (the client is already behind).
        """
        pings = self._pings
        last_round = -math.inf
        while True:
            if not pings:
                self._first_ping_due = trio.Event()
                await self._first_ping_due.wait()
            await trio.sleep_until(max(pings[0][0], last_round + PING_ROUND_SECONDS))
            now = last_round = trio.current_time()
            while pings and pings[0][0] <= now:
                due, order, subscriber = pings[0]
                if subscriber in self._subscribers and subscriber.close_code is None:
                    subscriber.offer(PING_TEXT, PING_FRAME)
                    heapq.heapreplace(pings, (due + interval, order, subscriber))
                else:
                    heapq.heappop(pings)

    async def settle(self, max_rounds: int = 200) -> None:
        """Let subscribers that keep up drain to half their queue (a manual clock's bursts).

        A subscriber already losing events is too slow to wait for; the wait is
        bounded either way, so it never holds the station for long.
        """
        for _ in range(max_rounds):
            if all(s.dropped_in_a_row or s.waiting <= self.queue_size // 2 for s in self._subscribers):
                return
            await trio.sleep(0)

    def close_all(self, code: int | None = None) -> None:
        """Close every subscriber, and any that subscribes from now on, with ``code``.

        None: as the stream rules end streams when the server stops (1001, going away, in the
        documented profile).
        """
        if code is None:
            code = self.rules.shutdown_close
        self._closing_code = code
        for subscriber in list(self._subscribers):
            subscriber.close(code)
