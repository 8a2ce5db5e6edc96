"""``serve --replay``: a recording's messages published through the hub with their recorded timing.

The replay is a publisher like an edge's stream follower: it hands the hub messages
already on the wire (``Hub.publish_encoded``), so the stream's every rule (the token,
``types`` and ``station_id`` filters, the state on connect, the heartbeat, the limits,
slow clients) applies unchanged. It starts when the first client has subscribed (a
page opened after ``serve`` still sees the recording from its start) and then keeps
the recording's offsets on trio's clock, divided by ``speed``; the texts are served
byte for byte, so their instants are the recording's. Messages received in the same
millisecond go out as one batch, and after each batch the replay waits for the clients that
keep up to drain (``settle``, as a manual clock's advance does): a burst the recorder took in
at once (a station advanced by hand) reaches them whole, even where the profile's small
per-type queues would otherwise drop it.
"""

import itertools
import logging
from collections.abc import Awaitable, Callable

import trio

from playout import recording

log = logging.getLogger("grimnir_sim.server")
WAIT_ROUND_SECONDS = 0.05
"""How often the replay looks for its first client."""

Publish = Callable[[list[tuple[str, bytes]]], None]


class Replay:
    def __init__(
        self,
        played: recording.Recording,
        clients: Callable[[], int],
        speed: float = 1.0,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``clients``: how many clients are subscribed now (the replay waits for the first);
        ``settle``: awaited after each batch (the hub's, so clients that keep up drain)."""
        self.recording = played
        self.speed = speed
        self._clients = clients
        self._settle = settle or trio.lowlevel.checkpoint
        self.published = 0
        self.started_at: float | None = None
        """trio's clock when the first client came and the replay began."""
        self.finished = trio.Event()

    async def run(self, publish: Publish, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Wait for a client, publish every message at its time, then stay idle (clients stay connected)."""
        task_status.started()
        while not self._clients():
            await trio.sleep(WAIT_ROUND_SECONDS)
        start = self.started_at = trio.current_time()
        for at_ms, batch in itertools.groupby(self.recording.messages, key=lambda message: message.at_ms):
            await trio.sleep_until(start + at_ms / 1000 / self.speed)
            encoded = [(message.type, message.text.encode()) for message in batch]
            publish(encoded)
            self.published += len(encoded)
            await self._settle()
        broken = self.recording.broken
        stop = f"; it stops at its broken {broken}" if broken is not None else ""
        log.warning("the replay has sent its %d message(s)%s", self.published, stop)
        self.finished.set()
