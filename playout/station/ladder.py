"""Who may be on air: the priority ladder of one station and every rule that decides it.

Tiers (``grimnir-facts.md``): 0 emergency, 1 live override (an unscheduled DJ or a
manual override), 2 scheduled live, 3 automation, 4 fallback. A source takes the
air only from a strictly higher number; equal priority waits its turn (first come,
first served); emergency always takes the air.

Everything that decides the air is here, pure (no clock, no events, no I/O):

- :data:`MOVES`, the table of the moves a source's state may make; :meth:`Source.fire`
  refuses any other.
- :func:`stream_moves`: automation waits while its scheduled webstream is dead, and so
  does a webstream override.
- :meth:`Ladder.add_emergency`: a new emergency replaces the old one.
- :func:`decide`: what happens next on a station (:class:`Switch`, :class:`WaitForBoundary`
  or :data:`STAY`): a delayed handover waits for the track boundary, a returning DJ cuts
  straight back in, and the source leaving the air leaves as its state says
  (:data:`DEPARTURES`: a replaced source goes silently, a released one is announced).

The core applies what these return (``on_air.py``) and announces it (``announce.py``).
"""

from collections.abc import Callable
from enum import IntEnum
from typing import Literal

import attrs

from ..protocol.events import Transition


class Tier(IntEnum):
    """A source's priority; the number is the wire's ``priority``."""

    EMERGENCY = 0
    LIVE_OVERRIDE = 1
    LIVE_SCHEDULED = 2
    AUTOMATION = 3
    FALLBACK = 4


EMERGENCY, LIVE_OVERRIDE, LIVE_SCHEDULED, AUTOMATION, FALLBACK = Tier

SourceKind = Literal["emergency", "override", "live", "automation", "fallback"]
SourceState = Literal["active", "waiting", "released", "replaced"]
"""``active`` may take the air; ``waiting`` may later (a show's DJ before the show,
automation whose webstream is dead); ``released`` and ``replaced`` are leaving for good."""

SourceEvent = Literal["hold", "admit", "release", "replace"]
"""``hold``: it may not take the air for now (a show's DJ before the show, a dead webstream);
``admit``: now it may (the show starts, the webstream is back); ``release``: it leaves for
good (ended, released by hand, the DJ gone or the show over); ``replace``: a newer
emergency takes its place."""

MOVES: dict[tuple[SourceState, SourceEvent], SourceState] = {
    ("active", "hold"): "waiting",
    ("waiting", "admit"): "active",
    # A show starting for a DJ already on the ladder and active changes nothing.
    ("active", "admit"): "active",
    # A DJ whose show ends at the instant their next show starts: the new show takes the
    # release back before the station reconciles, so the DJ stays on air.
    ("released", "admit"): "active",
    ("active", "release"): "released",
    ("waiting", "release"): "released",
    # Released twice in one instant (the show ends and the DJ disconnects): still released.
    ("released", "release"): "released",
    ("active", "replace"): "replaced",
}
"""Every move a source's state may make: (state, event) -> new state. Nothing else is allowed."""


class BadMove(Exception):
    """A source was asked to make a move that :data:`MOVES` does not list."""


@attrs.define(eq=False)
class Source:
    kind: SourceKind
    priority: Tier
    seq: int
    transition: Transition = "faded"
    state: SourceState = attrs.field(default="active", on_setattr=attrs.setters.frozen)
    """Changed only by :meth:`fire`, through :data:`MOVES`."""
    id: str = ""
    """The UUID a control API names this source by (a live source: its session id)."""
    name: str = ""
    media: str | None = None
    webstream: str | None = None
    session: object | None = None
    announce_override: bool = False
    """A live source put on air by a manual override: its handover is preceded by ``priority.override``."""
    handed_over: bool = False
    """A DJ who has had the air and not yet left it: coming back (after an emergency) cuts straight in."""
    play_token: int | None = None
    """Identifies the track this source is playing, so a stale end-of-track is ignored."""

    def fire(self, event: SourceEvent) -> SourceState:
        """Move this source's state by ``event`` as :data:`MOVES` says; raise :class:`BadMove` otherwise."""
        new = MOVES.get((self.state, event))
        if new is None:
            raise BadMove(f"a {self.state} {self.kind} source cannot {event}")
        object.__setattr__(self, "state", new)
        return new


@attrs.frozen
class Departure:
    """How the source on air leaves it when another takes the air."""

    name: Literal["preempted", "waiting", "released", "replaced"]
    announce: bool
    """``priority.released`` is sent (after ``live.released`` for a DJ)."""
    remove: bool
    """It leaves the ladder; otherwise it stays and may come back."""


PREEMPTED = Departure("preempted", announce=False, remove=False)
DEPARTURES: dict[SourceState, Departure] = {
    # Still active: it only gives way (its track's end no longer applies) and comes back later.
    "active": PREEMPTED,
    # Waiting on a dead webstream: its priority is released, but it stays for the stream's return.
    "waiting": Departure("waiting", announce=True, remove=False),
    "released": Departure("released", announce=True, remove=True),
    # Replaced by a newer emergency: only the new one is announced.
    "replaced": Departure("replaced", announce=False, remove=True),
}


@attrs.frozen
class Switch:
    """``to`` takes the air now with ``transition``; the source on air (if any) leaves by ``departure``."""

    to: Source
    transition: Transition
    departure: Departure | None


@attrs.frozen
class WaitForBoundary:
    """``source`` takes the air at ``at_ms``, the boundary of the track on air (a delayed handover)."""

    source: Source
    at_ms: int


@attrs.frozen
class Stay:
    """Nothing changes hands."""


STAY = Stay()

Decision = Switch | WaitForBoundary | Stay


class Ladder:
    """The candidate sources of one station; automation and fallback are always present."""

    def __init__(self, automation: Source, fallback: Source) -> None:
        self.automation = automation
        self.fallback = fallback
        self._sources: list[Source] = [automation, fallback]

    def add(self, source: Source) -> None:
        self._sources.append(source)

    def remove(self, source: Source) -> None:
        if source is not self.automation and source is not self.fallback and source in self._sources:
            self._sources.remove(source)

    def __contains__(self, source: Source) -> bool:
        return source in self._sources

    @property
    def emergency(self) -> Source | None:
        """The emergency in force (not yet released or replaced), if any."""
        for source in self._sources:
            if source.kind == "emergency" and source.state == "active":
                return source
        return None

    def add_emergency(self, source: Source, on_air: Source | None) -> None:
        """Add a new emergency; it replaces the one in force, which leaves now unless it is on air
        (then it leaves, unannounced, when the new one takes the air)."""
        old = self.emergency
        if old is not None:
            old.fire("replace")
            if old is not on_air:
                self.remove(old)
        self.add(source)

    def best(self) -> Source:
        """The active source that should be on air: lowest tier, then first come."""
        return min((s for s in self._sources if s.state == "active"), key=lambda s: (s.priority, s.seq))

    def preempts(self, challenger: Source, current: Source | None) -> bool:
        """Whether ``challenger`` takes the air from ``current`` now (ignoring ``delayed``)."""
        if current is None or current.state != "active":
            return True
        if challenger.priority == EMERGENCY:
            return challenger is not current
        return challenger.priority < current.priority

    def sources(self) -> list[Source]:
        return list(self._sources)


def stream_moves(
    ladder: Ladder, automation_stream: str | None, alive: Callable[[str], bool]
) -> list[tuple[Source, SourceEvent]]:
    """The moves that make sources wait on a dead webstream, or take them back when it lives.

    Automation waits while the webstream its slot schedules (``automation_stream``) is
    dead; so does an override playing a dead webstream. ``alive`` tells whether a
    webstream has a usable URL. Apply each with :meth:`Source.fire` before :func:`decide`.
    """
    moves: list[tuple[Source, SourceEvent]] = []
    automation = ladder.automation
    dead = automation_stream is not None and not alive(automation_stream)
    if dead != (automation.state == "waiting"):
        moves.append((automation, "hold" if dead else "admit"))
    for source in ladder._sources:
        if source.webstream is not None and source.state in ("active", "waiting"):
            dead = not alive(source.webstream)
            if dead != (source.state == "waiting"):
                moves.append((source, "hold" if dead else "admit"))
    return moves


def decide(
    ladder: Ladder, on_air: Source | None, now_ms: int, *, boundary_ms: int | None, crossfade: bool
) -> Decision:
    """What happens next on the station whose ladder is ``ladder`` and whose source on air is ``on_air``.

    ``boundary_ms`` is when the track on air reaches its boundary (its end less the
    crossfade), ``None`` when no track is on air (a webstream, a DJ, nothing yet);
    ``crossfade`` is whether automation and fallback fade in (the station or slot has
    a crossfade) rather than cut.
    """
    best = ladder.best()
    if best is on_air or not ladder.preempts(best, on_air):
        return STAY
    if (
        best.transition == "delayed"
        and on_air is not None
        and on_air.state == "active"
        and boundary_ms is not None
        and boundary_ms > now_ms
    ):
        # A delayed handover waits for the current track's boundary (the core wakes then).
        return WaitForBoundary(best, boundary_ms)
    if best.kind in ("automation", "fallback"):
        transition: Transition = "faded" if crossfade else "immediate"
    elif best.handed_over:
        transition = "immediate"  # a DJ coming back after an emergency cuts straight back in
    else:
        transition = best.transition
    return Switch(best, transition, None if on_air is None else DEPARTURES[on_air.state])
