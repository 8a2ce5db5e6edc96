"""How a serving process stops: a short drain window in which newcomers are refused, then the listeners close.

From the first stop signal (or a failure of the station) every new request to a
path the server serves, REST and WebSocket upgrade alike, health included, is
answered 503 ``{"error":"shutting_down"}`` with ``Retry-After`` and
``Connection: close``, and so is every new harbor request; open WebSockets are
closed (1001). The listeners stay open for the drain window, so that a client
that reconnects at once after its 1001, or a load balancer's health check, gets
an answer it can act on rather than a refused connection:

- the window lasts until every WebSocket has gone, but at least
  :data:`DRAIN_AT_LEAST_SECONDS` and at most :data:`DRAIN_AT_MOST_SECONDS`;
- then the listeners close, and what is still open (a request being answered, a
  close handshake with a slow client) has :data:`GRACEFUL_SECONDS` to finish
  before it is cut.

Everything here runs on trio's clock, so the window can be checked in virtual time.
"""

from collections.abc import Callable

import trio

from .limits import Refusal

DRAIN_AT_LEAST_SECONDS = 0.5
DRAIN_AT_MOST_SECONDS = 2.0
GRACEFUL_SECONDS = 3.0
"""Hypercorn's ``graceful_timeout``: after the listeners close, what is still open gets this long."""
RETRY_AFTER_SECONDS = 5
SHUTTING_DOWN = Refusal(503, "shutting_down", "the server is stopping", RETRY_AFTER_SECONDS)
POLL_SECONDS = 0.01


class Shutdown:
    """Whether the process has begun to stop, and the drain window that follows."""

    def __init__(self) -> None:
        self.began_at: float | None = None
        """trio's clock when :meth:`begin` was first called; None while serving normally."""

    @property
    def begun(self) -> bool:
        return self.began_at is not None

    def begin(self) -> None:
        """From now on every newcomer is refused; calling it again changes nothing."""
        if self.began_at is None:
            self.began_at = trio.current_time()

    async def drain(self, remaining: Callable[[], int]) -> None:
        """Wait out the drain window: until ``remaining()`` (open WebSockets) is 0, within its bounds.

        The bounds count from :meth:`begin` (which this calls, if nobody has).
        """
        self.begin()
        assert self.began_at is not None
        await trio.sleep_until(self.began_at + DRAIN_AT_LEAST_SECONDS)
        with trio.move_on_at(self.began_at + DRAIN_AT_MOST_SECONDS):
            while remaining():
                await trio.sleep(POLL_SECONDS)
