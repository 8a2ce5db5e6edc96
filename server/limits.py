"""Admission limits checked before a WebSocket upgrade: total connections and per-IP rate."""

import math
from collections import deque
from collections.abc import Callable

import attrs
import trio

WINDOW_SECONDS = 60.0


@attrs.frozen
class Refusal:
    status: int
    error: str
    detail: str
    retry_after: int


class Admission:
    """At most ``max_connections`` at once; at most ``per_ip_per_minute`` new ones per client IP.

    Only admitted connections count toward the rate, so a refused client's retries
    cost it nothing more. Time is trio's clock, so limits work in virtual time.
    """

    def __init__(
        self,
        max_connections: int = 10_000,
        per_ip_per_minute: int = 100,
        clock: Callable[[], float] = trio.current_time,
    ) -> None:
        self.max_connections = max_connections
        self.per_ip_per_minute = per_ip_per_minute
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._next_sweep: float | None = None
        self.active = 0

    def check(self, ip: str) -> Refusal | None:
        now = self._clock()
        if self._next_sweep is None:
            self._next_sweep = now + WINDOW_SECONDS
        elif now >= self._next_sweep:
            self._sweep(now)
        recent = self._recent.get(ip)
        if recent is not None:
            while recent and recent[0] <= now - WINDOW_SECONDS:
                recent.popleft()
            if not recent:
                del self._recent[ip]
            elif len(recent) >= self.per_ip_per_minute:
                wait = math.ceil(recent[0] + WINDOW_SECONDS - now)
                return Refusal(
                    429,
                    "rate_limited",
                    f"more than {self.per_ip_per_minute} new connections from {ip} in a minute",
                    max(wait, 1),
                )
        if self.active >= self.max_connections:
            return Refusal(
                503,
                "too_many_connections",
                f"the server holds its limit of {self.max_connections} connections",
                5,
            )
        return None

    def admit(self, ip: str) -> None:
        self._recent.setdefault(ip, deque()).append(self._clock())
        self.active += 1

    def release(self) -> None:
        self.active -= 1

    def _sweep(self, now: float) -> None:
        """Forget addresses that have not connected for a whole window (memory stays bounded)."""
        self._next_sweep = now + WINDOW_SECONDS
        for ip in [ip for ip, recent in self._recent.items() if recent[-1] <= now - WINDOW_SECONDS]:
            del self._recent[ip]

    def remembered(self) -> int:
        return len(self._recent)
