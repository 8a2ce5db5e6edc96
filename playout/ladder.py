"""Who may be on air: the priority ladder of one station.

Tiers (``grimnir-facts.md``): 0 emergency, 1 live override (an unscheduled DJ or a
manual override), 2 scheduled live, 3 automation, 4 fallback. A source takes the
air only from a strictly higher number; equal priority waits its turn (first come,
first served); emergency always takes the air.
"""

from typing import Literal

import attrs

from .events import Transition

SourceKind = Literal["emergency", "override", "live", "automation", "fallback"]
SourceState = Literal["active", "waiting", "released", "replaced"]
"""``active`` may take the air; ``waiting`` may later (a show's DJ before the show,
automation whose webstream is dead); ``released`` and ``replaced`` are leaving for good."""

EMERGENCY, LIVE_OVERRIDE, LIVE_SCHEDULED, AUTOMATION, FALLBACK = 0, 1, 2, 3, 4


@attrs.define(eq=False)
class Source:
    kind: SourceKind
    priority: int
    seq: int
    transition: Transition = "faded"
    state: SourceState = "active"
    id: str = ""
    """The UUID a control API names this source by (a live source: its session id)."""
    name: str = ""
    media: str | None = None
    webstream: str | None = None
    session: object | None = None
    announce_override: bool = False
    """A live source put on air by a manual override: its handover is preceded by ``priority.override``."""
    play_token: int | None = None
    """Identifies the track this source is playing, so a stale end-of-track is ignored."""


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
