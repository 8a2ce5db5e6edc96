"""The schedule's dated entries: which occurrences of a scenario's slots start in a window, and when."""

from playout import Scenario
from playout.protocol.stationtime import parse_instant
from playout.station.schedule import entries_between
from tests.support import focused

DAY_MS = 86_400_000

# A Monday, at a time of day with minutes, seconds and a microsecond: midnight must come out exact.
START = "2026-01-19T10:17:23.000001Z"

ONE_OFF_THEN_DAILY = """
[[schedule]]
at = "2026-01-20T12:00:00Z"
duration = "30m"
playlist = "hits"

[[schedule]]
days = "daily"
start = "06:00"
duration = "1h"
playlist = "hits"
"""

# Mutants of playout/station/schedule.py that no test can catch, and why (tests/mutation_check.py).
SURVIVING_MUTANTS = {
    "entries_between: first_day = (begin_ms + midnight_ms) // DAY_MS - 1": (
        "midnight_ms is in (-1 day, 0], so this only starts the scan one day earlier; "
        "the begin_ms check drops the extra day"
    ),
    "entries_between: first_day = (begin_ms - midnight_ms) // DAY_MS - 2": (
        "one more day scanned before the window; the begin_ms check drops it"
    ),
    "entries_between: for day in range(first_day, last_day + 2):": (
        "one more day scanned after the window; the end_ms check drops it"
    ),
}


def scenario(body: str) -> Scenario:
    return focused(body, start=START, duration="7d")


def at(scenario: Scenario, instant: str) -> int:
    """The core milliseconds of an RFC 3339 instant, computed without the schedule."""
    return scenario.clock.offset_of(parse_instant(instant))


def entries(scenario: Scenario, begin_ms: int, end_ms: int) -> list[tuple[int, int, int]]:
    """``(slot index, start, end)`` of each entry starting in ``[begin_ms, end_ms)``."""
    return [
        (e.slot.index, e.start_ms, e.end_ms)
        for e in entries_between(scenario, scenario.slots, begin_ms, end_ms)
    ]


def test_a_daily_slot_starts_at_its_time_of_day_on_each_day_of_the_window():
    s = scenario(ONE_OFF_THEN_DAILY)
    tuesday, wednesday = at(s, "2026-01-20T06:00:00Z"), at(s, "2026-01-21T06:00:00Z")
    # Monday's 06:00 is before the window; Wednesday's is its last day.
    assert entries(s, 0, 2 * DAY_MS) == [
        (1, tuesday, tuesday + 3_600_000),
        (0, at(s, "2026-01-20T12:00:00Z"), at(s, "2026-01-20T12:30:00Z")),
        (1, wednesday, wednesday + 3_600_000),
    ]


def test_the_window_includes_its_begin_and_excludes_its_end():
    s = scenario(ONE_OFF_THEN_DAILY)
    daily, one_off = at(s, "2026-01-20T06:00:00Z"), at(s, "2026-01-20T12:00:00Z")
    next_daily = at(s, "2026-01-21T06:00:00Z")
    assert [start for _, start, _ in entries(s, daily, one_off)] == [daily]
    assert [start for _, start, _ in entries(s, one_off, next_daily)] == [one_off]


def test_a_window_beginning_mid_day_keeps_that_day_s_later_start():
    s = scenario(
        """
[[schedule]]
days = "daily"
start = "12:00"
duration = "1h"
playlist = "hits"
"""
    )
    noon = at(s, "2026-01-19T12:00:00Z")
    assert entries(s, 0, noon + 1) == [(0, noon, noon + 3_600_000)]


def test_the_week_before_the_start_is_materialised_too():
    # The core's first window begins a week before the scenario, for entries already on air.
    s = scenario(ONE_OFF_THEN_DAILY)
    starts = [start for _, start, _ in entries(s, -7 * DAY_MS, 0)]
    assert starts == [at(s, f"2026-01-{day}T06:00:00Z") for day in range(13, 20)]


def test_a_slot_plays_only_on_its_weekdays():
    s = scenario(
        """
[[schedule]]
days = ["wed", "fri"]
start = "06:00"
duration = "1h"
playlist = "hits"
"""
    )
    starts = [start for _, start, _ in entries(s, 0, 7 * DAY_MS)]
    assert starts == [at(s, "2026-01-21T06:00:00Z"), at(s, "2026-01-23T06:00:00Z")]
