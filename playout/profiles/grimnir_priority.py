"""The real server's priority rows, as the ``grimnir`` profile keeps them to shape its priority events.

internal/priority/resolver.go: a new source takes over only with a strictly
higher priority (a lower number), and every takeover deactivates the row before,
so at most one row per station is active; nothing releases a row by itself when
its media ends (it stays active until released, and keeps lower tiers out). A
release looks its row up by what it plays, whatever its state, and takes the
first by primary key (``First``): of a DJ's connect row and a handover's, the one
with the lower id, every time. The real ids are random, so which one is chance
there; the simulator's derived ids fix it per scenario.
"""

import uuid

from ..protocol.wire import WireEvent
from . import grimnir_payloads as real
from .base import wire_event


class PriorityRows:
    """Every station's priority rows, in the order they were made (the table's primary key is the id)."""

    def __init__(self, ids: uuid.UUID, station_ids: list[str]) -> None:
        self._ids = ids
        self._count = 0
        self._rows: dict[str, list[real.Row]] = {station_id: [] for station_id in station_ids}

    def transition(
        self,
        station_id: str,
        priority: int,
        source_type: str,
        source_id: str,
        metadata: dict,
        handle: tuple[str, str] | None,
    ) -> tuple[list[WireEvent], str | None]:
        """``Transition`` (internal/priority/resolver.go:126-227), none unless strictly higher: its event,
        and its kind (``switch``, ``preempt``; None when the source may not take over)."""
        old = self.active(station_id)
        if old is not None and not priority < old.priority:
            return [], None
        kind = "switch" if old is None else "preempt"
        if old is not None:
            old.active = False
        new = self.row(station_id, source_id, priority, source_type, metadata, handle)
        payload = real.priority_event(
            station_id, kind, old, new, preempted=old is not None, requires_fade=old is not None
        )
        event_type = "priority.override" if priority == 1 else "priority.change"
        return [wire_event(event_type, payload, station_id)], kind

    def released(self, station_id: str, source_id: str) -> list[WireEvent]:
        """``Release`` (internal/priority/service.go:175-190, resolver.go:230-302): the row :meth:`find`
        gives, deactivated (again, if it was), then whichever row is still active (``release``),
        else ``fallback``; nothing when no row plays ``source_id`` (``ErrSourceNotFound``)."""
        row = self.find(station_id, source_id)
        if row is None:
            return []
        row.active = False
        following = self.active(station_id)
        kind = "fallback" if following is None else "release"
        payload = real.priority_event(station_id, kind, row, following, preempted=False, requires_fade=True)
        return [wire_event("priority.released", payload, station_id)]

    def find(self, station_id: str, source_id: str) -> real.Row | None:
        """``Release``'s lookup (internal/priority/resolver.go:240): the row with the lowest id of those
        of the station that play ``source_id``, active or not."""
        rows = [row for row in self._rows.get(station_id, []) if row.source_id == source_id]
        return min(rows, key=lambda row: row.id, default=None)

    def played(self, station_id: str, handle: tuple[str, str | None]) -> str | None:
        """What the newest row a scripted release names plays (``("emergency", None)``: any emergency's)."""
        kind, name = handle
        for row in reversed(self._rows[station_id]):
            if row.handle is not None and row.handle[0] == kind and name in (None, row.handle[1]):
                return row.source_id
        return None

    def active(self, station_id: str) -> real.Row | None:
        return next((row for row in self._rows[station_id] if row.active), None)

    def row(
        self,
        station_id: str,
        source_id: str,
        priority: int,
        source_type: str,
        metadata: dict,
        handle: tuple[str, str] | None,
    ) -> real.Row:
        self._count += 1
        row = real.Row(
            str(uuid.uuid5(self._ids, f"row/{self._count}")),
            source_id,
            priority,
            source_type,
            metadata,
            handle,
        )
        self._rows[station_id].append(row)
        return row
