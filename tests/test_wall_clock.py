"""A served station on the wall clock: entry points, wire timestamps, the repeating week."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import trio

from playout import Placement, Playout, StationRunner, parse_entry_point, place, wire
from playout.protocol.stationtime import parse_instant
from playout.station.placement import EntryPoint
from tests.support import shipped

WEEK = shipped("community-week")  # 7 days from Monday 2026-01-19 00:00
SHORT = shipped("dj-takeover")  # 1 hour from Monday 2026-01-19 10:00
H = 3_600_000
D = 24 * H


def at(text: str) -> datetime:
    return parse_instant(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start", EntryPoint("start", 0, "start")),
        (" NOW ", EntryPoint("now", 0, "NOW")),
        ("+6h", EntryPoint("offset", 6 * H, "+6h")),
        ("+1h30m", EntryPoint("offset", 90 * 60_000, "+1h30m")),
        ("Wed 20:00", EntryPoint("weekday", 2 * D + 20 * H, "Wed 20:00")),
        ("sunday 23:59:30", EntryPoint("weekday", 6 * D + 23 * H + 59 * 60_000 + 30_000, "sunday 23:59:30")),
        ("mon 0:05", EntryPoint("weekday", 5 * 60_000, "mon 0:05")),
    ],
)
def test_entry_points_people_write(text, expected):
    assert parse_entry_point(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("later", "'later' is not an entry point: give start, now, an offset such as +6h"),
        ("+6 hours", "'+6 hours': after '+' give a duration such as 90s"),
        ("+", "'+': after '+' give a duration"),
        ("Wdn 20:00", "'Wdn 20:00': 'Wdn' is not a weekday (Mon, Tue, … or Monday, Tuesday, …)"),
        ("Wed 24:00", "'Wed 24:00': 24:00 is not a time of day (00:00 to 23:59)"),
        ("Wed 20:60", "'Wed 20:60': 20:60 is not a time of day"),
    ],
)
def test_entry_points_refused_with_the_forms_that_work(text, message):
    with pytest.raises(ValueError) as refused:
        parse_entry_point(text)
    assert str(refused.value).startswith(message)


def test_a_week_is_entered_at_todays_weekday_and_time_on_the_wall_clock():
    thursday = at("2026-12-03T20:15:07.250Z")
    placement = place(WEEK, parse_entry_point("now"), "wall", thursday)
    assert placement.entry_ms == 3 * D + 20 * H + 15 * 60_000 + 7_250
    assert placement.anchor == at("2026-11-30T00:00:00Z")  # this week's Monday: weekdays line up
    assert placement.period_ms == 7 * D
    assert placement.wall_of(placement.entry_ms) == thursday


def test_sub_millisecond_wall_time_is_dropped_so_station_time_stays_whole_milliseconds():
    placement = place(WEEK, parse_entry_point("now"), "wall", at("2026-11-30T00:00:00.0019Z"))
    assert placement.entry_ms == 1
    assert placement.anchor == at("2026-11-30T00:00:00Z")


def test_a_week_before_its_own_start_date_is_entered_the_same_way():
    placement = place(WEEK, parse_entry_point("now"), "wall", at("2025-06-01T12:00:00Z"))  # a Sunday
    assert placement.entry_ms == 6 * D + 12 * H
    assert placement.anchor.weekday() == 0 and placement.anchor.time().isoformat() == "00:00:00"


def test_a_shorter_scenario_starts_now_and_does_not_repeat():
    now = at("2026-11-30T01:02:03Z")
    placement = place(SHORT, parse_entry_point("now"), "wall", now)
    assert (placement.entry_ms, placement.anchor, placement.period_ms) == (0, now, None)


def test_a_weekday_entry_is_its_first_occurrence_and_maps_to_now():
    now = at("2026-11-30T01:00:00Z")
    placement = place(WEEK, parse_entry_point("Wed 20:00"), "wall", now)
    assert placement.entry_ms == 2 * D + 20 * H
    assert placement.wall_of(placement.entry_ms) == now
    short = place(SHORT, parse_entry_point("Mon 10:30"), "wall", now)  # the scenario starts Mon 10:00
    assert short.entry_ms == 30 * 60_000


def test_the_scenario_clock_keeps_the_scenarios_calendar():
    placement = place(WEEK, parse_entry_point("+6h"), "scenario", at("2026-11-30T01:00:00Z"))
    assert (placement.entry_ms, placement.anchor, placement.period_ms) == (6 * H, WEEK.start, None)
    now = place(WEEK, parse_entry_point("now"), "scenario", at("2026-12-03T20:15:00Z"))
    assert (now.entry_ms, now.anchor) == (3 * D + 20 * H + 15 * 60_000, WEEK.start)


@pytest.mark.parametrize(
    ("scenario", "text", "message"),
    [
        (SHORT, "+3h", "--from +3h: the scenario 'dj-takeover' lasts 1h; 3h into it is past its end"),
        (SHORT, "+1h", "--from +1h: the scenario 'dj-takeover' lasts 1h; 1h into it is past its end"),
        (
            SHORT,
            "Wed 20:00",
            "--from Wed 20:00: the scenario 'dj-takeover' lasts 1h; 2d10h into it is past its end",
        ),
        (WEEK, "+7d", "--from +7d: the scenario 'community-week' lasts 7d; 7d into it is past its end"),
    ],
)
def test_an_entry_point_beyond_the_end_is_refused(scenario, text, message):
    with pytest.raises(ValueError) as refused:
        place(scenario, parse_entry_point(text), "wall", at("2026-11-30T01:00:00Z"))
    assert str(refused.value) == message


class Recorder:
    """What a runner publishes, with the trio time of each batch."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, object]] = []
        self.quiet: list[object] = []

    def publish(self, batch) -> None:
        self.seen += [(trio.current_time(), emitted) for emitted in batch]

    def messages(self):
        return [wire.to_message(emitted.event) for _, emitted in self.seen]


async def run_for(runner: StationRunner, seconds: float) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(seconds)
        nursery.cancel_scope.cancel()


async def test_the_fast_forward_is_silent_and_the_wire_shows_the_wall_clock(autojump_clock):
    thursday = at("2026-12-03T14:11:30Z")  # Mike's takeover in the scenario is Thursday 14:12
    placement = place(WEEK, parse_entry_point("now"), "wall", thursday)
    recorder = Recorder()
    began = trio.current_time()
    runner = StationRunner(
        WEEK,
        recorder.publish,
        placement=placement,
        quietly=recorder.quiet.extend,
        real_probes=False,
        wall_clock=lambda: thursday + timedelta(seconds=trio.current_time() - began),
    )
    await run_for(runner, 120)
    assert recorder.quiet, "the fast-forward's events go to the quiet sink"
    assert all(emitted.at_ms <= placement.entry_ms for emitted in recorder.quiet)
    published = [emitted for _, emitted in recorder.seen]
    assert published and all(emitted.at_ms > placement.entry_ms for emitted in published)
    # Every stamp on the wire is the wall-clock time the event was published at.
    for when, emitted in recorder.seen:
        wall = thursday + timedelta(seconds=when - began)
        assert runner.core.clock.instant(emitted.at_ms) == wall
    dj = next(m for m in recorder.messages() if m["type"] == "dj_connect")
    assert dj["payload"]["username"] == "DJ Mike"
    health = [m["payload"]["timestamp"] for m in recorder.messages() if m["type"] == "health"]
    assert health == ["2026-12-03T14:11:54.5Z", "2026-12-03T14:12:00Z", "2026-12-03T14:13:00Z"]
    # The same events as the scenario's own run from that instant, only with this week's dates.
    assert runner.clock_view() == {
        "clock": "wall",
        "station_time": "2026-12-03T14:13:00Z",  # the core's time: the last instant it advanced to
        "scenario_time": "2026-01-22T14:13:00Z",
        "entered_at": "2026-01-22T14:11:30Z",
        "repeats_every": 7 * 24 * 3600,
        "repeats": 0,
    }
    reference = Playout(WEEK, anchor=placement.anchor)
    reference.advance(placement.entry_ms)
    assert [(e.at_ms, e.event) for e in reference.advance(placement.entry_ms + 120_000)] == [
        (e.at_ms, e.event) for e in published
    ]


def _placed_at(placement: Placement) -> Callable[[], datetime]:
    """A wall clock that reads the placement's own instant: the start took no time, whenever the test runs."""
    return lambda: placement.wall_of(placement.entry_ms)


async def test_on_air_after_the_fast_forward_is_what_the_scenario_gives_then(autojump_clock):
    placement = place(WEEK, parse_entry_point("Wed 21:00"), "wall", at("2026-11-30T09:00:00Z"))
    runner = StationRunner(
        WEEK, lambda batch: None, placement=placement, real_probes=False, wall_clock=_placed_at(placement)
    )
    await run_for(runner, 1)
    (station,) = runner.core.snapshot().stations
    assert station.on_air.kind == "live" and station.djs[0].username == "DJ Sarah"
    assert station.now_playing.title == "Wednesday Night Session"
    assert station.now_playing.starts_at == "2026-11-30T08:00:00Z"  # an hour before "now" on the wire


async def test_the_station_catches_up_with_the_time_its_start_took(autojump_clock):
    placement = place(WEEK, parse_entry_point("now"), "wall", at("2026-12-03T14:11:58Z"))
    recorder = Recorder()
    late = timedelta(seconds=1.5)  # the fast-forward and the server's start took 1.5 s
    runner = StationRunner(
        WEEK,
        recorder.publish,
        placement=placement,
        real_probes=False,
        wall_clock=lambda: placement.anchor + timedelta(milliseconds=placement.entry_ms) + late,
    )
    began = trio.current_time()
    await run_for(runner, 5)
    first_health = next(when for when, e in recorder.seen if e.event.TYPE == "health")
    assert first_health - began == pytest.approx(0.5)  # 14:12:00 is 2 s after the placement


async def test_a_week_on_the_wall_clock_starts_over_at_its_end(autojump_clock):
    sunday_night = at("2026-12-06T23:59:00Z")
    placement = place(WEEK, parse_entry_point("now"), "wall", sunday_night)
    recorder = Recorder()
    runner = StationRunner(
        WEEK, recorder.publish, placement=placement, real_probes=False, wall_clock=_placed_at(placement)
    )
    began = trio.current_time()
    await run_for(runner, 180.5)
    assert runner.repeats == 1
    monday = at("2026-12-07T00:00:00Z")
    fresh = [(when, e) for when, e in recorder.seen if runner.core.clock.instant(e.at_ms) >= monday]
    first_when = fresh[0][0]
    assert first_when - began == pytest.approx(60)  # no jump: Monday 00:00 comes a minute later
    messages = [wire.to_message(e.event) for _, e in fresh]
    assert [m["type"] for m in messages[:2]] == ["schedule_update", "now_playing"]
    assert messages[1]["payload"]["webstream_name"] == "Overnight Public Radio Relay"
    assert runner.core.clock.stamp(0) == "2026-12-07T00:00:00Z"
    health = [m["payload"]["timestamp"] for m in messages if m["type"] == "health"]
    assert health == ["2026-12-07T00:00:00Z", "2026-12-07T00:01:00Z", "2026-12-07T00:02:00Z"]  # none skipped
    assert runner.clock_view()["scenario_time"] == "2026-01-19T00:02:00Z"


async def test_a_manual_clock_crosses_the_weeks_end_too(autojump_clock):
    placement = place(WEEK, parse_entry_point("now"), "wall", at("2026-12-06T23:59:00Z"))
    recorder = Recorder()
    runner = StationRunner(WEEK, recorder.publish, placement=placement, manual_clock=True, real_probes=False)
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        emitted = await runner.advance(3 * 60_000)
        nursery.cancel_scope.cancel()
    assert runner.repeats == 1
    assert runner.clock_view()["station_time"] == "2026-12-07T00:02:00Z"
    assert [e.event.TYPE for e in emitted].count("schedule_update") == 1


def test_an_entry_at_now_is_derived_again_from_the_wall_clock_at_a_fresh_start():
    placement = place(WEEK, parse_entry_point("now"), "wall", at("2026-11-30T14:02:58Z"))
    again = placement.again(WEEK, at("2026-11-30T15:04:03Z"))  # reset after an hour on air
    assert again.entry_ms == 15 * H + 4 * 60_000 + 3_000  # Monday 15:04:03 in the scenario, not 14:02:58
    assert again.anchor == at("2026-11-30T00:00:00Z")
    assert again.wall_of(again.entry_ms) == at("2026-11-30T15:04:03Z") and again.follows_now
    # A shorter scenario entered "now" starts at its start again.
    assert place(SHORT, parse_entry_point("now"), "wall", at("2026-11-30T14:00:00Z")).again(
        SHORT, at("2026-11-30T15:00:00Z")
    ) == Placement("wall", 0, at("2026-11-30T15:00:00Z"), None, follows_now=True)


@pytest.mark.parametrize(("text", "clock"), [("Mon 14:00", "wall"), ("+14h", "wall"), ("now", "scenario")])
def test_other_entry_points_keep_their_scenario_instant_at_a_fresh_start(text, clock):
    placement = place(WEEK, parse_entry_point(text), clock, at("2026-11-30T14:00:00Z"))
    again = placement.again(WEEK, at("2026-11-30T15:04:03Z"))
    assert again.entry_ms == placement.entry_ms == 14 * H and not again.follows_now
    if clock == "wall":
        assert again.wall_of(again.entry_ms) == at("2026-11-30T15:04:03Z")


async def test_a_restart_after_an_hour_on_air_is_in_step_with_the_wall_clock(autojump_clock):
    monday = at("2026-11-30T14:02:58Z")
    placement = place(WEEK, parse_entry_point("now"), "wall", monday)
    began = trio.current_time()
    runner = StationRunner(
        WEEK,
        lambda batch: None,
        placement=placement,
        real_probes=False,
        wall_clock=lambda: monday + timedelta(seconds=trio.current_time() - began),
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(runner.run)
        await trio.sleep(3600)
        await runner.restart(WEEK, lambda scenario: None)
        view = runner.clock_view()
        nursery.cancel_scope.cancel()
    assert view["station_time"] == "2026-11-30T15:02:58Z"
    assert (
        view["scenario_time"] == view["entered_at"] == "2026-01-19T15:02:58Z"
    )  # the 15:00 programme at 15:00
