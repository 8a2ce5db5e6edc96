"""The real server's priority rows, as the ``grimnir`` profile keeps them to shape its priority events.

internal/priority/resolver.go: a new source takes over only with a strictly
higher priority (a lower number), and every takeover deactivates the row before,
so at most one row per station is active; a release looks its row up by what it
plays; nothing releases a row by itself when its media ends.
"""

import uuid
from collections.abc import Callable

from ..protocol.wire import WireEvent
from . import grimnir_payloads as real
from .base import wire_event


class PriorityRows:
    """Every station's priority rows, in the order they were made (the table's primary key)."""

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
        handle: tuple[str, str],
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

    def released(self, station_id: str, matches: Callable[[real.Row], bool]) -> list[WireEvent]:
        """``Release`` (internal/priority/service.go:175-190): the first row that matches, then
        whichever row is still active (``release``), else ``fallback``."""
        row = next((r for r in self._rows[station_id] if matches(r)), None)
        if row is None:
            return []
        row.active = False
        following = self.active(station_id)
        kind = "fallback" if following is None else "release"
        payload = real.priority_event(station_id, kind, row, following, preempted=False, requires_fade=True)
        return [wire_event("priority.released", payload, station_id)]

    def find(self, station_id: str, source_id: str) -> real.Row | None:
        """A row of the station that plays ``source_id`` (``Release``'s lookup), the active one if any."""
        rows = [row for row in self._rows.get(station_id, []) if row.source_id == source_id]
        return next((row for row in rows if row.active), rows[0] if rows else None)

    def active(self, station_id: str) -> real.Row | None:
        return next((row for row in self._rows[station_id] if row.active), None)

    def row(
        self,
        station_id: str,
        source_id: str,
        priority: int,
        source_type: str,
        metadata: dict,
        handle: tuple[str, str],
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
