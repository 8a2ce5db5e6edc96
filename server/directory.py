"""Finds a scenario's stations, mounts, media, DJs and webstreams by UUID or by key.

Clients of the real server send UUIDs; people typing curl commands send keys
(``main``, ``mike``). Both work everywhere an id is taken. UUIDs in any case: they
are case-insensitive (RFC 9562), and this server's own are lower case.
"""

import re
from typing import TypeVar

from playout import Scenario

T = TypeVar("T")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def canonical(wanted: str) -> str:
    """``wanted`` in lower case (the canonical form, this server's) when it is a UUID; else as given."""
    return wanted.lower() if _UUID.fullmatch(wanted) else wanted


class NotFound(LookupError):
    def __init__(self, kind: str, wanted: str) -> None:
        super().__init__(f"no {kind} '{wanted}'")
        self.kind = kind
        self.wanted = wanted


class Directory:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._stations = self._index((s.key, s.id) for s in scenario.stations)
        self._tracks = self._index((t.key, t.id) for t in scenario.tracks.values())
        self._djs = self._index((d.key, d.user_id) for d in scenario.djs.values())
        self._webstreams = self._index((w.key, w.id) for w in scenario.webstreams.values())
        self._mounts = {m.id: station.key for station in scenario.stations for m in station.mounts}

    @staticmethod
    def _index(pairs) -> dict[str, str]:
        index: dict[str, str] = {}
        for key, uid in pairs:
            index[key] = key
            index[uid] = key
        return index

    @staticmethod
    def _find(index: dict[str, str], kind: str, wanted: object) -> str:
        found = None if not isinstance(wanted, str) else index.get(wanted) or index.get(canonical(wanted))
        if found is None:
            raise NotFound(kind, str(wanted))
        return found

    def station(self, wanted: object) -> str:
        return self._find(self._stations, "station", wanted)

    def track(self, wanted: object) -> str:
        return self._find(self._tracks, "media", wanted)

    def dj(self, wanted: object) -> str:
        return self._find(self._djs, "dj", wanted)

    def webstream(self, wanted: object) -> str:
        return self._find(self._webstreams, "webstream", wanted)

    def station_of_mount(self, wanted: object) -> str:
        """The station key a mount (by UUID) belongs to."""
        return self._find(self._mounts, "mount", wanted)

    def mount(self, station: str, wanted: object) -> str:
        """A mount of ``station`` by UUID or key; returns its key."""
        for mount in self.scenario.station(station).mounts:
            if wanted == mount.key or (isinstance(wanted, str) and canonical(wanted) == mount.id):
                return mount.key
        raise NotFound("mount", str(wanted))
