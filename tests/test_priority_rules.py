"""Each priority rule of playout/station/ladder.py, on ladders built by hand (no scenario, no core)."""

import itertools

import attrs
import pytest

from playout import Playout, wire
from playout.station.ladder import (
    DEPARTURES,
    MOVES,
    PREEMPTED,
    STAY,
    BadMove,
    Ladder,
    Source,
    Switch,
    Tier,
    WaitForBoundary,
    decide,
    stream_moves,
)
from tests.support import focused, log, shipped

# Mutants of playout/station/ladder.py that no test can catch, and why (tests/mutation_check.py): none.
SURVIVING_MUTANTS: dict[str, str] = {}

_seq = itertools.count()


def source(kind: str, tier: Tier, transition: str = "faded", **kw) -> Source:
    return Source(kind, tier, next(_seq), transition, **kw)  # type: ignore[arg-type]


def station() -> Ladder:
    return Ladder(source("automation", Tier.AUTOMATION), source("fallback", Tier.FALLBACK))


def dj(transition: str = "immediate", tier: Tier = Tier.LIVE_OVERRIDE) -> Source:
    return source("live", tier, transition)


def switch(ladder: Ladder, on_air: Source | None, now_ms: int = 0, **kw) -> Switch:
    decision = decide(
        ladder, on_air, now_ms, boundary_ms=kw.pop("boundary_ms", None), crossfade=kw.pop("crossfade", True)
    )
    assert isinstance(decision, Switch), decision
    return decision


def test_tiers_keep_their_wire_numbers():
    assert [int(t) for t in Tier] == [0, 1, 2, 3, 4]
    assert [t.name for t in Tier] == [
        "EMERGENCY",
        "LIVE_OVERRIDE",
        "LIVE_SCHEDULED",
        "AUTOMATION",
        "FALLBACK",
    ]


def test_a_source_takes_the_air_only_from_a_strictly_higher_tier():
    ladder = station()
    on_air = dj(tier=Tier.LIVE_OVERRIDE)
    assert ladder.preempts(dj(tier=Tier.LIVE_OVERRIDE), on_air) is False
    assert ladder.preempts(dj(tier=Tier.LIVE_SCHEDULED), on_air) is False
    assert ladder.preempts(dj(tier=Tier.LIVE_OVERRIDE), dj(tier=Tier.LIVE_SCHEDULED)) is True
    assert ladder.preempts(ladder.automation, ladder.fallback) is True


def test_emergency_always_takes_the_air_but_not_from_itself():
    ladder = station()
    alert = source("emergency", Tier.EMERGENCY, "immediate")
    assert ladder.preempts(alert, source("emergency", Tier.EMERGENCY)) is True
    assert ladder.preempts(alert, alert) is False


def test_anything_takes_an_empty_or_leaving_air():
    ladder = station()
    leaving = dj()
    leaving.fire("release")
    assert ladder.preempts(ladder.fallback, None) is True
    assert ladder.preempts(ladder.fallback, leaving) is True


def test_best_is_the_lowest_tier_then_first_come():
    ladder = station()
    show, first, second = dj(tier=Tier.LIVE_SCHEDULED), dj(), dj()
    for src in (show, first, second):
        ladder.add(src)
    assert ladder.best() is first
    first.fire("release")
    assert ladder.best() is second
    second.fire("release")
    assert ladder.best() is show
    show.fire("hold")
    assert ladder.best() is ladder.automation


def test_equal_priority_waits_its_turn_even_when_it_came_first():
    # An override whose webstream was dead when a DJ took the air comes back at the same
    # tier: it ranks first (older) but does not take the air from the DJ.
    ladder = station()
    relay = source("override", Tier.LIVE_OVERRIDE, webstream="relay")
    ladder.add(relay)
    relay.fire("hold")
    mike = dj()
    ladder.add(mike)
    relay.fire("admit")
    assert ladder.best() is relay
    assert decide(ladder, mike, 0, boundary_ms=None, crossfade=True) is STAY


def test_automation_waits_while_its_webstream_is_dead():
    ladder = station()
    dead = {"relay"}

    def alive(key: str) -> bool:
        return key not in dead

    moves = stream_moves(ladder, "relay", alive)
    assert moves == [(ladder.automation, "hold")]
    for src, event in moves:
        src.fire(event)
    assert ladder.automation.state == "waiting"
    assert stream_moves(ladder, "relay", alive) == []  # nothing more to do while it stays dead
    decision = switch(ladder, ladder.automation)
    assert decision.to is ladder.fallback
    # Waiting on its stream: its priority is released, but it stays on the ladder.
    assert decision.departure is DEPARTURES["waiting"]
    assert (decision.departure.announce, decision.departure.remove) == (True, False)

    dead.clear()
    assert stream_moves(ladder, "relay", alive) == [(ladder.automation, "admit")]
    # Without a webstream slot, automation never waits.
    assert stream_moves(station(), None, lambda key: False) == []


def test_a_webstream_override_waits_while_its_webstream_is_dead():
    ladder = station()
    relay = source("override", Tier.LIVE_OVERRIDE, webstream="relay")
    promo = source("override", Tier.LIVE_OVERRIDE, media="promo")
    ladder.add(relay)
    ladder.add(promo)
    assert stream_moves(ladder, None, lambda key: False) == [(relay, "hold")]
    relay.fire("release")
    assert stream_moves(ladder, None, lambda key: False) == []  # a released one is not touched


def test_a_waiting_webstream_override_comes_back_with_its_webstream():
    ladder = station()
    relay = source("override", Tier.LIVE_OVERRIDE, webstream="relay")
    ladder.add(relay)
    relay.fire("hold")
    assert stream_moves(ladder, None, lambda key: False) == []  # still dead: it keeps waiting
    assert stream_moves(ladder, None, lambda key: True) == [(relay, "admit")]


def test_automation_and_fallback_never_leave_the_ladder():
    ladder = station()
    ladder.remove(ladder.automation)
    ladder.remove(ladder.fallback)
    ladder.remove(dj())  # never on this ladder: nothing to remove
    assert ladder.sources() == [ladder.automation, ladder.fallback]


class TestDelayedHandover:
    def ladder_with(self, transition: str) -> tuple[Ladder, Source]:
        ladder = station()
        mike = dj(transition)
        ladder.add(mike)
        return ladder, mike

    def test_waits_for_the_boundary_of_the_track_on_air(self):
        ladder, mike = self.ladder_with("delayed")
        decision = decide(ladder, ladder.automation, 60_000, boundary_ms=180_000, crossfade=True)
        assert decision == WaitForBoundary(mike, 180_000)

    def test_takes_the_air_at_the_boundary(self):
        ladder, mike = self.ladder_with("delayed")
        decision = switch(ladder, ladder.automation, 180_000, boundary_ms=180_000)
        assert (decision.to, decision.transition, decision.departure) == (mike, "delayed", PREEMPTED)

    def test_cuts_at_once_when_no_track_is_on_air(self):
        ladder, mike = self.ladder_with("delayed")
        assert switch(ladder, ladder.automation, 60_000, boundary_ms=None).to is mike

    def test_does_not_wait_for_a_source_that_is_leaving(self):
        ladder, mike = self.ladder_with("delayed")
        override = source("override", Tier.LIVE_SCHEDULED, media="promo")
        ladder.add(override)
        override.fire("release")
        assert switch(ladder, override, 60_000, boundary_ms=180_000).to is mike

    @pytest.mark.parametrize("transition", ["immediate", "faded"])
    def test_other_transitions_do_not_wait(self, transition):
        ladder, mike = self.ladder_with(transition)
        decision = switch(ladder, ladder.automation, 60_000, boundary_ms=180_000)
        assert (decision.to, decision.transition) == (mike, transition)


def test_a_replaced_source_leaves_silently_and_a_released_one_is_announced():
    assert (DEPARTURES["replaced"].announce, DEPARTURES["replaced"].remove) == (False, True)
    assert (DEPARTURES["released"].announce, DEPARTURES["released"].remove) == (True, True)
    assert (PREEMPTED.announce, PREEMPTED.remove) == (False, False)
    ladder = station()
    mike = dj()
    ladder.add(mike)
    mike.fire("release")
    assert switch(ladder, mike).departure is DEPARTURES["released"]


def test_a_new_emergency_replaces_the_one_in_force():
    ladder = station()
    first = source("emergency", Tier.EMERGENCY, "immediate")
    ladder.add_emergency(first, ladder.automation)
    assert ladder.emergency is first
    assert switch(ladder, ladder.automation).departure is PREEMPTED

    second = source("emergency", Tier.EMERGENCY, "immediate")
    ladder.add_emergency(second, first)
    assert first.state == "replaced" and first in ladder  # on air: it leaves when the new one takes over
    assert ladder.emergency is second
    decision = switch(ladder, first)
    assert (decision.to, decision.departure) == (second, DEPARTURES["replaced"])

    third = source("emergency", Tier.EMERGENCY, "immediate")
    ladder.add_emergency(third, ladder.automation)
    assert second.state == "replaced" and second not in ladder  # off air: it goes at once


def test_a_returning_dj_cuts_straight_back_in():
    ladder = station()
    mike = dj("faded")
    ladder.add(mike)
    assert switch(ladder, ladder.automation).transition == "faded"  # the first handover: its own transition
    mike.handed_over = True  # on air, then preempted by an emergency that has now ended
    assert switch(ladder, ladder.automation).transition == "immediate"


@pytest.mark.parametrize(("crossfade", "transition"), [(True, "faded"), (False, "immediate")])
def test_automation_fades_in_only_with_a_crossfade(crossfade, transition):
    ladder = station()
    alert = source("emergency", Tier.EMERGENCY, "immediate")
    ladder.add(alert)
    alert.fire("release")
    decision = switch(ladder, alert, crossfade=crossfade)
    assert (decision.to, decision.transition) == (ladder.automation, transition)


@pytest.mark.parametrize(("crossfade", "transition"), [(True, "faded"), (False, "immediate")])
def test_fallback_fades_in_only_with_a_crossfade(crossfade, transition):
    ladder = station()
    ladder.automation.fire("hold")  # automation waits on its dead webstream
    decision = switch(ladder, ladder.automation, crossfade=crossfade)
    assert (decision.to, decision.transition) == (ladder.fallback, transition)


def test_nothing_changes_hands_while_the_best_source_is_on_air():
    ladder = station()
    assert decide(ladder, ladder.automation, 0, boundary_ms=0, crossfade=True) is STAY


class TestMoves:
    @pytest.mark.parametrize(
        ("state", "event", "new"),
        [
            ("active", "hold", "waiting"),  # a show's DJ before the show, a dead webstream
            ("waiting", "admit", "active"),  # the show starts, the webstream is back
            ("active", "admit", "active"),
            ("released", "admit", "active"),  # back-to-back shows: the next one takes the release back
            ("active", "release", "released"),
            ("waiting", "release", "released"),
            ("released", "release", "released"),
            ("active", "replace", "replaced"),
        ],
    )
    def test_a_listed_move(self, state, event, new):
        src = source("live", Tier.LIVE_OVERRIDE)
        object.__setattr__(src, "state", state)
        assert src.fire(event) == new and src.state == new

    def test_the_table_lists_nothing_else(self):
        assert len(MOVES) == 8

    @pytest.mark.parametrize(
        ("state", "event"),
        [
            ("replaced", "admit"),
            ("replaced", "release"),
            ("replaced", "hold"),
            ("released", "hold"),
            ("released", "replace"),
            ("waiting", "replace"),
            ("waiting", "hold"),
        ],
    )
    def test_a_move_the_table_does_not_list_is_refused(self, state, event):
        assert (state, event) not in MOVES
        src = source("emergency", Tier.EMERGENCY)
        object.__setattr__(src, "state", state)
        with pytest.raises(BadMove, match=f"a {state} emergency source cannot {event}"):
            src.fire(event)
        assert src.state == state

    def test_the_state_is_never_assigned_directly(self):
        with pytest.raises(attrs.exceptions.FrozenAttributeError):
            source("live", Tier.LIVE_OVERRIDE).state = "released"  # type: ignore[misc]


def test_a_dj_with_back_to_back_shows_stays_on_air():
    body = """
[[schedule]]
days = "daily"
start = "10:00"
duration = "10m"
dj = "sarah"

[[schedule]]
days = "daily"
start = "10:10"
duration = "10m"
dj = "sarah"

[[timeline]]
at = "+1m"
action = "dj_connect"
dj = "sarah"
transition = "immediate"
"""
    rows = log(focused(body), 25 * 60_000, skip=("schedule_update",))
    live = [(w, k) for w, k, p in rows if "media_id" not in p]
    assert live == [
        ("2026-01-19T10:01:00Z", "dj_connect"),
        ("2026-01-19T10:01:00Z", "live.handover"),
        ("2026-01-19T10:01:00Z", "now_playing"),
        # 10:10 one show ends as the next begins: no release, no second handover.
        ("2026-01-19T10:20:00Z", "live.released"),
        ("2026-01-19T10:20:00Z", "priority.released"),
    ]


def _plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return type(value) in (str, int, float, bool, type(None))


@pytest.mark.parametrize("name", ["edge-emergency-in-show", "dj-takeover", "webstream-all-down"])
def test_tiers_reach_the_wire_and_the_snapshot_as_plain_numbers(name):
    # YAML (the AsyncAPI examples) and other encoders than orjson must see ints, not Tier members.
    core = Playout(shipped(name))
    priorities = set()
    for emitted in core.advance(core.scenario.duration_ms):
        payload = wire.to_message(emitted.event)["payload"]
        assert _plain(payload), payload
        priorities.update(v for k, v in payload.items() if k.endswith("priority"))
        assert _plain(core.snapshot().as_json())
    assert priorities and all(type(p) is int for p in priorities)
