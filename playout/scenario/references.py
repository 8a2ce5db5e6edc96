"""References between a scenario's tables, checked: a station, track, playlist, DJ or webstream by its id."""

from typing import Any

import attrs

from .model import Station
from .problems import Findings


@attrs.frozen
class References:
    """What a scenario file declares, by id, for the entries that refer to it; a dangling
    reference is a problem with a hint."""

    findings: Findings
    stations: dict[str, Station]
    declared: dict[str, dict[str, Any]]
    """What may be referred to, by kind ("media", "playlist", "webstream", "dj"), then by id."""
    unsure: frozenset[str] = frozenset()
    """Kinds (also "station" and "mount") some ids of which the schema refused: an unknown id of
    one may be a refused one, so it is no problem of its own."""
    overrides: frozenset[str] = frozenset()
    """The names the timeline gives its overrides, which a release may name."""

    def station_of(self, table: str, entry: dict[str, Any]) -> str | None:
        """The entry's ``station``, or the only one when it names none."""
        key = entry.get("station")
        if key is None:
            if len(self.stations) == 1:
                return next(iter(self.stations))
            if self.stations:  # none: the schema refused them all
                self.findings.problem(
                    table, "station", "required when the scenario has more than one station"
                )
            return None
        if key not in self.stations:
            if "station" in self.unsure:
                return None
            self.findings.problem(
                table, "station", f"no station has the id '{key}'{self.findings.suggest(key, self.stations)}"
            )
            return None
        return key

    def lookup(self, table: str, key: str, kind: str) -> Any:
        """The ``kind`` declared as ``key`` (the entry's key of that name refers to it), or None."""
        known = self.declared[kind]
        value = known.get(key)
        if value is None and kind not in self.unsure:
            self.findings.problem(
                table, kind, f"no {kind} has the id '{key}'{self.findings.suggest(key, known)}"
            )
        return value
