"""The schedule: recurring and one-off slots materialised into dated entries."""

from datetime import timedelta

import attrs

from ..scenario.model import DAY_MS, Scenario, Slot


@attrs.frozen
class Entry:
    """One dated occurrence of a slot, in core milliseconds (``start_ms`` may be < 0)."""

    slot: Slot
    start_ms: int
    end_ms: int


def entries_between(scenario: Scenario, slots: tuple[Slot, ...], begin_ms: int, end_ms: int) -> list[Entry]:
    """Occurrences that start in ``[begin_ms, end_ms)``, in time order (then file order)."""
    clock = scenario.clock
    found: list[Entry] = []
    midnight = clock.start.replace(hour=0, minute=0, second=0, microsecond=0)
    midnight_ms = clock.offset_of(midnight)
    first_day = (begin_ms - midnight_ms) // DAY_MS - 1
    last_day = (end_ms - midnight_ms) // DAY_MS
    for slot in slots:
        if slot.at_ms is not None:
            if begin_ms <= slot.at_ms < end_ms:
                found.append(Entry(slot, slot.at_ms, slot.at_ms + slot.duration_ms))
            continue
        assert slot.days is not None
        for day in range(first_day, last_day + 1):
            if (midnight + timedelta(days=day)).weekday() not in slot.days:
                continue
            start = midnight_ms + day * DAY_MS + slot.start_of_day_ms
            if begin_ms <= start < end_ms:
                found.append(Entry(slot, start, start + slot.duration_ms))
    found.sort(key=lambda e: (e.start_ms, e.slot.index))
    return found
