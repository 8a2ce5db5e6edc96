"""Webstream health and failover, as a pure state machine per webstream.

Follows ``grimnir-facts.md``: one failed check marks a URL ``degraded``, more mark
it ``unhealthy``; after ``failure_threshold`` consecutive failures of the URL on
air and a grace period the stream fails over to the next usable URL of its chain.
Recovery to the primary needs ``recovery_checks`` consecutive passes (hysteresis,
so a flapping primary cannot make the station flap).
"""

import attrs

from ..protocol.events import FailoverReason, HealthStatus
from ..scenario.model import Webstream


@attrs.define
class UrlHealth:
    failures: int = 0
    passes: int = 0
    status: HealthStatus = "healthy"
    reason: FailoverReason = "connection_timeout"


@attrs.frozen
class Failover:
    failed: int
    to: int
    reason: FailoverReason


@attrs.frozen
class Recovered:
    """Back on the primary URL."""


@attrs.frozen
class AllFailed:
    failed: int
    reason: FailoverReason


@attrs.frozen
class GraceStarted:
    until_ms: int


Change = Failover | Recovered | AllFailed | GraceStarted


class WebstreamHealth:
    def __init__(self, spec: Webstream) -> None:
        self.spec = spec
        self.settings = spec.probe
        self.urls = [UrlHealth(passes=self.settings.recovery_checks) for _ in spec.urls]
        self.active: int | None = 0
        """Index of the URL in use; ``None`` when every URL has failed."""
        self.grace_until: int | None = None

    @property
    def status(self) -> HealthStatus:
        """``healthy`` on a healthy primary, ``degraded`` on a backup or a failing URL, else ``unhealthy``."""
        if self.active is None:
            return "unhealthy"
        if self.active != 0:
            return "degraded"
        return self.urls[0].status

    @property
    def url(self) -> str | None:
        return None if self.active is None else self.spec.urls[self.active]

    def needs_checks(self, index: int) -> bool:
        """False while a URL passes and nothing waits on it, so scripted checks may be skipped."""
        health = self.urls[index]
        return (
            health.failures > 0
            or health.passes < self.settings.recovery_checks
            or self.active is None
            or (index == 0 and self.active != 0)
        )

    def record(self, index: int, ok: bool, reason: FailoverReason, now_ms: int) -> list[Change]:
        """Take one check's result; return what changed."""
        health = self.urls[index]
        if not ok:
            health.failures += 1
            health.passes = 0
            health.status = "degraded" if health.failures == 1 else "unhealthy"
            health.reason = reason
            if (
                index == self.active
                and health.failures >= self.settings.failure_threshold
                and self.grace_until is None
            ):
                self.grace_until = now_ms + self.settings.grace_ms
                return [GraceStarted(self.grace_until)]
            return []
        health.failures = 0
        health.passes += 1
        health.status = "healthy"
        if index == self.active:
            self.grace_until = None
        if health.passes < self.settings.recovery_checks:
            return []
        if self.active is None:
            self.active = index
            return [Recovered()] if index == 0 else [Failover(0, index, self.urls[0].reason)]
        if index == 0 and self.active != 0:
            self.active = 0
            return [Recovered()]
        return []

    def grace_expired(self, now_ms: int) -> list[Change]:
        if self.grace_until is None or now_ms < self.grace_until or self.active is None:
            return []
        self.grace_until = None
        current = self.urls[self.active]
        if current.failures < self.settings.failure_threshold:
            return []
        return self._move_on(current.reason)

    def force_failover(self) -> list[Change]:
        """An operator's failover: the next usable URL, or nothing when there is none."""
        if self.active is None or self._next_usable() is None:
            return []
        self.grace_until = None
        return self._move_on("manual")

    def reset(self) -> list[Change]:
        """Forget every failure and go back to the primary URL."""
        was = self.active
        self.urls = [UrlHealth(passes=self.settings.recovery_checks) for _ in self.spec.urls]
        self.active = 0
        self.grace_until = None
        return [] if was == 0 else [Recovered()]

    def _next_usable(self) -> int | None:
        assert self.active is not None
        count = len(self.urls)
        for step in range(1, count):
            candidate = (self.active + step) % count
            if self.urls[candidate].status != "unhealthy":  # a degraded backup is still worth a try
                return candidate
        return None

    def _move_on(self, reason: FailoverReason) -> list[Change]:
        failed = self.active
        assert failed is not None
        target = self._next_usable()
        if target is None:
            self.active = None
            return [AllFailed(failed, reason)]
        self.active = target
        return [Failover(failed, target, reason)]
