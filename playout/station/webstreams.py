"""Webstream health and failover, as a pure state machine per webstream.

Follows ``grimnir-facts.md``: one failed check marks a URL ``degraded``, more mark
it ``unhealthy``; after ``failure_threshold`` consecutive failures of the URL on
air and a grace period the stream fails over to the next usable URL of its chain.
Recovery to the primary needs ``recovery_checks`` consecutive passes (hysteresis,
so a flapping primary cannot make the station flap).

An operator's failover holds the stream off its primary until a reset, whatever
the primary's health: its passes bring nothing back, and while held an automatic
failover moves on among the backups only (docs/protocol.md, "A manual failover
holds"). An operator's failover onto a URL named (``ForceFailover.to``) takes it
whatever its health, the primary too; the hold stays until the reset all the same.
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
        self.held = False
        """From a manual failover until :meth:`reset`: the primary URL is out of the chain."""

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
        """False once a URL has passed ``recovery_checks`` times in a row, so scripted checks may be skipped.

        Only a failing or recovering URL can change anything (a failure zeroes its passes).
        Every URL has failed before none is on air, and a primary passing that often is
        on air, unless a manual failover holds the stream off it: then nothing waits on it.
        """
        return self.urls[index].passes < self.settings.recovery_checks

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
        if health.passes < self.settings.recovery_checks or (index == 0 and self.held):
            return []
        if self.active is None:
            self.active = index
            if index == 0:
                return [Recovered()]
            return [Failover(0, index, "manual" if self.held else self.urls[0].reason)]
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

    def force_failover(self, *, to: int | None = None) -> list[Change]:
        """An operator's failover: the hold on until :meth:`reset`.

        Onto the next usable backup, never the primary; or onto URL ``to`` whatever its health,
        the primary too, even when every URL has failed (announced then as a failover from the
        primary, as a recovery out of that state is). Nothing when no URL qualifies, or ``to``
        is the URL in use.
        """
        if to is None:
            target = None if self.active is None else self._next_usable(skip_primary=True)
        else:
            target = None if to == self.active else to
        if target is None:
            return []
        failed = 0 if self.active is None else self.active
        self.held = True
        self.grace_until = None
        self.active = target
        return [Failover(failed, target, "manual")]

    def reset(self) -> list[Change]:
        """Forget every failure and the hold, and go back to the primary URL."""
        was = self.active
        self.urls = [UrlHealth(passes=self.settings.recovery_checks) for _ in self.spec.urls]
        self.active = 0
        self.grace_until = None
        self.held = False
        return [] if was == 0 else [Recovered()]

    def _next_usable(self, *, skip_primary: bool) -> int | None:
        """The next URL after the one on air that is not unhealthy, nor the primary if ``skip_primary``."""
        assert self.active is not None
        count = len(self.urls)
        for step in range(1, count):
            candidate = (self.active + step) % count
            if candidate == 0 and skip_primary:
                continue
            if self.urls[candidate].status != "unhealthy":  # a degraded backup is still worth a try
                return candidate
        return None

    def _move_on(self, reason: FailoverReason) -> list[Change]:
        failed = self.active
        assert failed is not None
        target = self._next_usable(skip_primary=self.held)
        if target is None:
            self.active = None
            return [AllFailed(failed, reason)]
        self.active = target
        return [Failover(failed, target, reason)]
