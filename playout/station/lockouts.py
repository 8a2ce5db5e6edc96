"""Failed-login limits for the harbor: per client address and per mount (pure: the caller gives the time).

After ``address_failures`` failed logins from one address within ``window``
seconds, that address is refused for ``address_lockout`` seconds; after
``mount_failures`` failed logins on one mount (from any addresses) within the
window, the mount is refused for ``mount_lockout`` seconds to every address
that has not logged in successfully before. A refused attempt is not a failure:
it neither counts nor extends a lockout, so every lockout ends on time.

With ``mount_failures > address_failures`` and ``address_lockout >= window``
(checked by the harbor's settings) one address can never lock a mount: it is
itself locked out before it reaches the mount's count, and stays locked longer
than the window its failures are counted in.
"""

import collections

import attrs

from ..scenario.model import HarborLimits


@attrs.frozen
class Lockout:
    """A lockout that has just begun: of an ``address`` or a ``mount``, until ``until``."""

    kind: str
    key: str
    until: float


class _Expiring:
    """Keys locked until a time; all locks of one kind last as long, so the oldest ends first."""

    def __init__(self, capacity: int) -> None:
        self._until: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._capacity = capacity

    def remaining(self, key: str, now: float) -> float | None:
        self._expire(now)
        until = self._until.get(key)
        return None if until is None else until - now

    def lock(self, key: str, until: float) -> None:
        self._until.pop(key, None)
        self._until[key] = until
        while len(self._until) > self._capacity:
            self._until.popitem(last=False)

    def count(self, now: float) -> int:
        self._expire(now)
        return len(self._until)

    def _expire(self, now: float) -> None:
        while self._until and next(iter(self._until.values())) <= now:
            self._until.popitem(last=False)


class _Failures:
    """Recent failure times per key (at most ``threshold`` each), for at most ``capacity`` keys."""

    def __init__(self, threshold: int, window: float, capacity: int) -> None:
        self._times: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()
        self._threshold = threshold
        self._window = window
        self._capacity = capacity

    def add(self, key: str, now: float) -> bool:
        """Count a failure; True when it is the ``threshold``-th within the window (the count restarts)."""
        times = self._times.pop(key, None) or collections.deque(maxlen=self._threshold)
        times.append(now)
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._threshold:
            return True
        self._times[key] = times  # most recently failed last, so the stalest key is evicted first
        while len(self._times) > self._capacity:
            self._times.popitem(last=False)
        return False

    def forget(self, key: str) -> None:
        self._times.pop(key, None)


class Lockouts:
    """Counts failed logins per address and per mount and says who is locked out, and for how long."""

    def __init__(
        self,
        *,
        address_failures: int,
        mount_failures: int,
        window: float,
        address_lockout: float,
        mount_lockout: float,
        trusted_addresses: int,
        tracked_addresses: int,
    ) -> None:
        self._address_lockout = address_lockout
        self._mount_lockout = mount_lockout
        self._address_failures = _Failures(address_failures, window, tracked_addresses)
        self._mount_failures = _Failures(mount_failures, window, tracked_addresses)
        self._locked_addresses = _Expiring(tracked_addresses)
        self._locked_mounts = _Expiring(tracked_addresses)
        self._trusted: collections.OrderedDict[str, None] = collections.OrderedDict()
        """Addresses a DJ has logged in from, most recent last (the oldest forgotten first)."""
        self._trusted_capacity = trusted_addresses

    @classmethod
    def from_limits(cls, limits: HarborLimits) -> "Lockouts":
        """The failed-login bookkeeping a harbor's limits describe."""
        return cls(
            address_failures=limits.address_failures,
            mount_failures=limits.mount_failures,
            window=limits.failure_window_seconds,
            address_lockout=limits.address_lockout_seconds,
            mount_lockout=limits.mount_lockout_seconds,
            trusted_addresses=limits.trusted_addresses,
            tracked_addresses=limits.tracked_addresses,
        )

    def refusal(self, address: str, mount: str | None, now: float) -> float | None:
        """Seconds until ``address`` may try to log in on ``mount`` again, or None: it may now."""
        waits = [self._locked_addresses.remaining(address, now)]
        if mount is not None and address not in self._trusted:
            waits.append(self._locked_mounts.remaining(mount, now))
        return max((wait for wait in waits if wait is not None), default=None)

    def failed(self, address: str, mount: str | None, now: float) -> list[Lockout]:
        """Count a failed login of ``address`` on ``mount`` (None: no mount); return the lockouts begun."""
        begun = []
        if self._address_failures.add(address, now):
            begun.append(Lockout("address", address, now + self._address_lockout))
        if mount is not None and self._mount_failures.add(mount, now):
            begun.append(Lockout("mount", mount, now + self._mount_lockout))
        for lockout in begun:
            locked = self._locked_addresses if lockout.kind == "address" else self._locked_mounts
            locked.lock(lockout.key, lockout.until)
        return begun

    def succeeded(self, address: str) -> None:
        """A DJ logged in from ``address``: its failures are forgiven and a locked mount lets it in."""
        self._address_failures.forget(address)
        self._trusted.pop(address, None)
        self._trusted[address] = None
        while len(self._trusted) > self._trusted_capacity:
            self._trusted.popitem(last=False)

    def locked(self, now: float) -> dict[str, int]:
        """How many addresses and mounts are locked out now."""
        return {"addresses": self._locked_addresses.count(now), "mounts": self._locked_mounts.count(now)}
