"""Fan-out: every event serialized once, offered to each subscriber without ever blocking.

Each subscriber has a small bounded queue. Publishing is synchronous: a full queue
drops the event for that subscriber only, and a subscriber that has dropped
``max_dropped`` events in a row is told to go (its connection is closed with
1008), so a client that does not read never slows the station or anyone else.
"""

from collections.abc import Callable, Iterable

import trio

from playout import EVENT_TYPES, Emitted, wire

DEFAULT_TYPES = frozenset({"now_playing", "health"})
KNOWN_TYPES = frozenset(EVENT_TYPES)
TOO_SLOW = 1008
GOING_AWAY = 1001


def parse_types(raw: str | None) -> frozenset[str]:
    """The ``types`` query parameter: comma-separated, blanks trimmed, empty parts skipped.

    Unknown names are silently ignored, a name given twice counts once, and no
    parameter (or an empty one) means ``now_playing`` and ``health``.
    """
    if not raw:
        return DEFAULT_TYPES
    return frozenset(part.strip() for part in raw.split(",") if part.strip()) & KNOWN_TYPES


class Subscriber:
    __slots__ = ("_receive", "_send", "cancel_scope", "close_code", "dropped_in_a_row", "types")

    def __init__(self, types: frozenset[str], queue_size: int) -> None:
        self.types = types
        self._send, self._receive = trio.open_memory_channel[str](queue_size)
        self.dropped_in_a_row = 0
        self.close_code: int | None = None
        """Set when the hub wants this connection closed (1001 shutdown, 1008 too slow)."""
        self.cancel_scope = trio.CancelScope()
        """Cancelled together with ``close_code``; the connection's writer runs inside it."""

    async def next_message(self) -> str:
        message = await self._receive.receive()
        self.dropped_in_a_row = 0
        return message

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.cancel_scope.cancel()


class Hub:
    def __init__(self, *, queue_size: int = 64, max_dropped: int = 256) -> None:
        self.queue_size = queue_size
        self.max_dropped = max_dropped
        self._by_type: dict[str, set[Subscriber]] = {name: set() for name in KNOWN_TYPES}
        self._subscribers: set[Subscriber] = set()
        self.published = 0
        self.dropped = 0
        self.taps: list[Callable[[list[Emitted]], None]] = []
        """Also handed every batch (a test's recorder)."""

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, types: Iterable[str]) -> Subscriber:
        subscriber = Subscriber(frozenset(types) & KNOWN_TYPES, self.queue_size)
        self._subscribers.add(subscriber)
        for name in subscriber.types:
            self._by_type[name].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        for name in subscriber.types:
            self._by_type[name].discard(subscriber)

    def publish(self, batch: list[Emitted]) -> None:
        """Offer each event, in order, to every subscriber of its type. Never blocks."""
        for tap in self.taps:
            tap(batch)
        for emitted in batch:
            subscribers = self._by_type[emitted.event.TYPE]
            self.published += 1
            if not subscribers:
                continue
            text = wire.encode(emitted.event).decode()
            for subscriber in subscribers:
                try:
                    subscriber._send.send_nowait(text)
                except trio.WouldBlock:
                    self.dropped += 1
                    subscriber.dropped_in_a_row += 1
                    if subscriber.dropped_in_a_row >= self.max_dropped:
                        subscriber.close(TOO_SLOW)

    async def settle(self, max_rounds: int = 200) -> None:
        """Let subscribers that keep up drain to half their queue (a manual clock's bursts).

        A subscriber already losing events is too slow to wait for; the wait is
        bounded either way, so it never holds the station for long.
        """
        for _ in range(max_rounds):
            if all(
                s.dropped_in_a_row or s._send.statistics().current_buffer_used <= self.queue_size // 2
                for s in self._subscribers
            ):
                return
            await trio.sleep(0)

    def close_all(self, code: int = GOING_AWAY) -> None:
        for subscriber in list(self._subscribers):
            subscriber.close(code)
