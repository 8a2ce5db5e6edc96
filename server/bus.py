"""A stream client as the real Grimnir bus keeps one: a small queue per listed type.

Where a profile's stream rules give each type its own slots (``slots_per_type``,
the ``grimnir`` profile), the hub keeps a :class:`Subscription` per type a client
listed, as ``G:internal/events/bus.go:96-115`` does: ``Subscribe`` makes a channel of 8
for each call (a type listed twice is two subscriptions, and each event of it comes
twice), and ``Publish`` sends to each without blocking, so a full one loses that event
for that client, silently, and nobody is closed for being slow.

The messages wait in one line, in publish order, and the connection sends them one
at a time, each once the socket has taken the one before (``conn.Write`` blocks the
same way, ``G:internal/api/api.go:1701-1713``); a message leaves its subscription's
slots when it is taken to be sent. The heartbeat waits in a slot of its own: one ping
at most, as Go's ticker keeps one tick for a slow receiver.
"""

from collections import deque

import trio


class Subscription:
    """One listed type of one client: at most ``slots`` of its messages wait."""

    __slots__ = ("client", "slots", "type", "waiting")

    def __init__(self, client: "BusSubscriber", type_: str, slots: int) -> None:
        self.client = client
        self.type = type_
        self.slots = slots
        self.waiting = 0

    def offer(self, text: str, frame: bytes) -> bool:
        """Queue one message for the client; False (it is lost) when this subscription is full."""
        if self.waiting >= self.slots:
            self.client.dropped_in_a_row += 1
            return False
        self.waiting += 1
        self.client.dropped_in_a_row = 0
        self.client.put(self, text)
        return True


class BusSubscriber:
    """A client whose every listed type has its own slots; sent by Quart's path, one by one."""

    __slots__ = (
        "_arrived",
        "_line",
        "_ping",
        "cancel_scope",
        "close_code",
        "dropped_in_a_row",
        "subscriptions",
    )
    station = None
    """Such a client is never scoped to a station."""
    writer = None
    """Nor written to by the fast path: its messages wait in their own slots, not in a socket writer."""

    def __init__(self, types: tuple[str, ...], slots: int) -> None:
        self.subscriptions = tuple(Subscription(self, name, slots) for name in types)
        self._ping = Subscription(self, "ping", 1)
        self._line: deque[tuple[Subscription, str]] = deque()
        self._arrived: trio.Event | None = None
        self.dropped_in_a_row = 0
        self.close_code: int | None = None
        self.cancel_scope = trio.CancelScope()

    @property
    def waiting(self) -> int:
        """The most messages waiting in any one of its subscriptions (each holds ``slots``)."""
        return max((subscription.waiting for subscription in self.subscriptions), default=0)

    def offer(self, text: str, frame: bytes) -> bool:
        """The heartbeat's ping: it waits unless one already does (a skipped ping is no lost event)."""
        if self._ping.waiting:
            return False
        self._ping.waiting = 1
        self.put(self._ping, text)
        return True

    def put(self, subscription: Subscription, text: str) -> None:
        self._line.append((subscription, text))
        if self._arrived is not None:
            self._arrived.set()
            self._arrived = None

    async def next_message(self) -> str:
        """The next message, once there is one; its slot is free from now on."""
        while not self._line:
            self._arrived = trio.Event()
            await self._arrived.wait()
        subscription, text = self._line.popleft()
        subscription.waiting -= 1
        return text

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.cancel_scope.cancel()
