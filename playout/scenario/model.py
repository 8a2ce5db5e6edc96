"""The frozen scenario model every other part of the station reads: what a checked file describes.

Nothing here reads a file or reports a problem: :mod:`playout.scenario.builder` makes a
:class:`Scenario` from a checked document.
"""

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

import attrs

from ..protocol import inputs
from ..protocol.stationtime import StationClock

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


@attrs.frozen
class Track:
    key: str
    id: str
    title: str
    artist: str
    album: str
    duration_ms: int
    rotation: bool = True


@attrs.frozen
class Mount:
    key: str
    id: str
    path: str


@attrs.frozen
class Station:
    key: str
    id: str
    name: str
    mounts: tuple[Mount, ...]
    crossfade_ms: int
    health_interval_ms: int

    def mount(self, key: str | None) -> Mount:
        """The named mount, or the station's first (main) mount."""
        if key is None:
            return self.mounts[0]
        return next(m for m in self.mounts if m.key == key)


@attrs.frozen
class Playlist:
    key: str
    id: str
    name: str
    tracks: tuple[str, ...]
    shuffle: bool


@attrs.frozen
class Dj:
    key: str
    user_id: str
    username: str
    password: str | None


@attrs.frozen
class ProbeSettings:
    """Webstream health-check settings; defaults are the real server's."""

    kind: Literal["scripted", "http"] = "scripted"
    interval_ms: int = 30_000
    connect_timeout_ms: int = 5_000
    sample_window_ms: int = 4_000
    min_bytes: int = 16_384
    stall_timeout_ms: int = 2_000
    failure_threshold: int = 3
    grace_ms: int = 5_000
    recovery_checks: int = 3


@attrs.frozen
class Webstream:
    key: str
    id: str
    name: str
    urls: tuple[str, ...]
    probe: ProbeSettings


def _positive(_instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be greater than 0, not {value!r}")


@attrs.frozen
class LimitRule:
    """One relation between two harbor limits that keeps them from defeating themselves."""

    field: str
    relation: str
    """How ``field`` must compare with ``other``: "greater than", "at least" or "at most"."""
    other: str
    inverse: str
    """The same relation seen from ``other``."""
    holds: Callable[[float, float], bool]


HARBOR_LIMIT_RULES = (
    # One address must never lock a mount: it is itself locked out before it reaches the
    # mount's count, and for longer than the window its failures count in (see playout.station.lockouts).
    LimitRule("mount_failures", "greater than", "address_failures", "less than", operator.gt),
    LimitRule("address_lockout_seconds", "at least", "failure_window_seconds", "at most", operator.ge),
    LimitRule("max_pending_per_address", "at most", "max_pending", "at least", operator.le),
)


@attrs.frozen
class HarborLimits:
    """The harbor's defences against hostile clients; the defaults are the documented ones.

    A scenario sets them in ``[harbor]``, each field by its name without ``_seconds``
    (docs/live-sources.md has the ranges).
    """

    max_pending: int = attrs.field(default=64, validator=_positive)
    """Connections not authenticated yet (reading their request, or being refused), in all."""
    max_pending_per_address: int = attrs.field(default=8, validator=_positive)
    """The same, from one address (an IPv6 /64); so one slow client cannot take every place."""
    head_timeout_seconds: float = attrs.field(default=10.0, validator=_positive)
    """The whole request head must arrive within this, from the connection's start."""
    max_head_bytes: int = attrs.field(default=16_384, validator=_positive)
    """The longest request head, from its first byte to its closing blank line included."""
    address_failures: int = attrs.field(default=5, validator=_positive)
    """Failed logins from one address within ``failure_window_seconds`` that lock it out."""
    mount_failures: int = attrs.field(default=20, validator=_positive)
    """Failed logins on one mount, from any addresses, within the window, that lock it out."""
    failure_window_seconds: float = attrs.field(default=60.0, validator=_positive)
    address_lockout_seconds: float = attrs.field(default=300.0, validator=_positive)
    mount_lockout_seconds: float = attrs.field(default=300.0, validator=_positive)
    """A locked mount refuses only addresses no DJ has logged in from (see ``trusted_addresses``)."""
    trusted_addresses: int = attrs.field(default=1_024, validator=_positive)
    """Addresses DJs have logged in from that a locked mount still lets in (the latest ones)."""
    tracked_addresses: int = attrs.field(default=10_000, validator=_positive)
    """Addresses whose failures and lockouts are remembered at once (the stalest are forgotten)."""

    def __attrs_post_init__(self) -> None:
        for rule in HARBOR_LIMIT_RULES:
            if not rule.holds(getattr(self, rule.field), getattr(self, rule.other)):
                raise ValueError(f"{rule.field} must be {rule.relation} {rule.other}")


HARBOR_LIMIT_KEYS = {field.name.removesuffix("_seconds"): field.name for field in attrs.fields(HarborLimits)}
"""``[harbor]`` keys of the limits, and their :class:`HarborLimits` fields (durations end in ``_seconds``)."""


@attrs.frozen
class HarborSettings:
    """The Icecast-compatible source receiver for live DJs (``[harbor]``)."""

    port: int | None = None
    """``None``: no harbor unless ``serve --harbor-port`` asks; 0 picks a free port."""
    host: str = "127.0.0.1"
    max_sources: int = 10
    source_timeout_ms: int = 10_000
    """A source that sends no audio for this long is disconnected (Icecast's default)."""
    limits: HarborLimits = HarborLimits()


@attrs.frozen
class Slot:
    """A schedule entry: recurring on ``days`` at ``start_of_day_ms``, or once at ``at_ms``."""

    index: int
    station: str
    kind: Literal["playlist", "webstream", "live"]
    target: str
    duration_ms: int
    days: frozenset[int] | None = None
    start_of_day_ms: int = 0
    at_ms: int | None = None
    title: str = ""
    crossfade_ms: int | None = None


@attrs.frozen
class Happening:
    """A scripted input at ``at_ms``, repeated ``every_ms`` up to ``count`` times."""

    index: int
    at_ms: int
    input: inputs.Input
    every_ms: int | None = None
    count: int | None = None


@attrs.frozen
class Scenario:
    path: str
    name: str
    description: str
    start: datetime
    duration_ms: int
    speed: float
    seed: int
    schedule_window_ms: int
    schedule_refresh_ms: int
    stations: tuple[Station, ...]
    tracks: dict[str, Track]
    playlists: dict[str, Playlist]
    djs: dict[str, Dj]
    webstreams: dict[str, Webstream]
    slots: tuple[Slot, ...]
    timeline: tuple[Happening, ...]
    harbor: HarborSettings = HarborSettings()

    @property
    def clock(self) -> StationClock:
        return StationClock(self.start)

    def station(self, key: str) -> Station:
        return next(s for s in self.stations if s.key == key)

    @property
    def rotation(self) -> tuple[str, ...]:
        """Keys of the tracks automation may pick when nothing else is scheduled."""
        return tuple(key for key, track in self.tracks.items() if track.rotation)
