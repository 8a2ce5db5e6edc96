"""Every ladder rule, on small inline scenarios run through the pure core."""

import pytest

from playout import InputRejected, Playout, inputs
from tests.support import HITS_ALL_DAY, focused, kinds, log, shipped


def at(minutes: str) -> str:
    return f"2026-01-19T{minutes}Z"


def timeline(*entries: str) -> str:
    return "".join(f"\n[[timeline]]\n{entry.strip()}\n" for entry in entries)


class TestTransitions:
    def run(self, transition: str, at_offset: str = "+1m"):
        scenario = focused(
            HITS_ALL_DAY
            + timeline(f'at = "{at_offset}"\naction = "dj_connect"\ndj = "mike"\ntransition = "{transition}"')
        )
        return log(scenario, 10 * 60_000, skip=("schedule_update",))

    @pytest.mark.parametrize("transition", ["immediate", "faded"])
    def test_immediate_and_faded_take_the_air_now(self, transition):
        rows = self.run(transition)
        assert kinds(rows)[:4] == [
            (at("10:00:00"), "now_playing"),
            (at("10:01:00"), "dj_connect"),
            (at("10:01:00"), "live.handover"),
            (at("10:01:00"), "now_playing"),
        ]
        assert rows[2][2]["transition_type"] == transition
        assert len(rows) == 4  # the DJ holds the air; automation stays silent

    def test_delayed_waits_for_the_current_track_to_end(self):
        rows = self.run("delayed")
        assert kinds(rows) == [
            (at("10:00:00"), "now_playing"),
            (at("10:01:00"), "dj_connect"),
            # "one" (3:00) ends at 10:03:00: the handover waits for it.
            (at("10:03:00"), "live.handover"),
            (at("10:03:00"), "now_playing"),
        ]
        assert rows[2][2]["handover_at"] == at("10:03:00")
        assert rows[2][2]["transition_type"] == "delayed"

    def test_delayed_honours_the_crossfade_boundary(self):
        scenario = focused(
            HITS_ALL_DAY.replace('playlist = "hits"', 'playlist = "hits"\ncrossfade = "6s"')
            + timeline('at = "+1m"\naction = "dj_connect"\ndj = "mike"\ntransition = "delayed"')
        )
        rows = log(scenario, 10 * 60_000, skip=("schedule_update",))
        assert (at("10:02:54"), "live.handover") in kinds(rows)

    def test_delayed_on_a_webstream_cuts_at_once(self):
        scenario = focused(
            '\n[[schedule]]\ndays = "daily"\nstart = "00:00"\nduration = "24h"\nwebstream = "relay"\n'
            + timeline('at = "+1m"\naction = "dj_connect"\ndj = "mike"\ntransition = "delayed"')
        )
        rows = log(scenario, 5 * 60_000, skip=("schedule_update",))
        assert (at("10:01:00"), "live.handover") in kinds(rows)

    def test_a_dj_connecting_one_second_before_the_track_ends(self):
        rows = self.run("delayed", "+2m59s")
        assert kinds(rows)[1:] == [
            (at("10:02:59"), "dj_connect"),
            (at("10:03:00"), "live.handover"),
            (at("10:03:00"), "now_playing"),
        ]


def test_equal_priority_waits_its_turn():
    rows = log(shipped("dj-queue"), skip=("schedule_update",))
    events = [(w, k, p.get("username")) for w, k, p in rows if not (k == "now_playing" and "media_id" in p)]
    assert events == [
        (at("10:05:00"), "dj_connect", "DJ Mike"),
        (at("10:05:00"), "live.handover", "DJ Mike"),
        (at("10:05:00"), "now_playing", "DJ Mike"),
        # Sarah connects while Mike is on air at the same priority: she waits.
        (at("10:10:00"), "dj_connect", "DJ Sarah"),
        (at("10:20:00"), "dj_disconnect", "DJ Mike"),
        (at("10:20:00"), "live.released", "DJ Mike"),
        (at("10:20:00"), "priority.released", None),
        (at("10:20:00"), "live.handover", "DJ Sarah"),
        (at("10:20:00"), "now_playing", "DJ Sarah"),
        (at("10:30:00"), "dj_disconnect", "DJ Sarah"),
        (at("10:30:00"), "live.released", "DJ Sarah"),
        (at("10:30:00"), "priority.released", None),
    ]
    released = [p for _, k, p in rows if k == "priority.released"]
    assert [(p["previous_priority"], p["new_priority"]) for p in released] == [(1, 1), (1, 3)]


def test_second_dj_connecting_the_instant_the_first_drops_goes_straight_on_air():
    scenario = focused(
        HITS_ALL_DAY
        + timeline(
            'at = "+5m"\naction = "dj_connect"\ndj = "mike"\ntransition = "immediate"',
            'at = "+20m"\naction = "dj_disconnect"\ndj = "mike"',
            'at = "+20m"\naction = "dj_connect"\ndj = "sarah"\ntransition = "immediate"',
        )
    )
    rows = log(scenario, 25 * 60_000, skip=("schedule_update",))
    assert [(k, p.get("username")) for w, k, p in rows if w == at("10:20:00")] == [
        ("dj_disconnect", "DJ Mike"),
        ("dj_connect", "DJ Sarah"),
        ("live.released", "DJ Mike"),
        ("priority.released", None),
        ("live.handover", "DJ Sarah"),
        ("now_playing", "DJ Sarah"),  # no automation track in between
    ]


def test_a_lower_tier_never_preempts_and_emergency_always_does():
    scenario = focused(
        HITS_ALL_DAY
        + timeline(
            'at = "+1m"\naction = "dj_connect"\ndj = "mike"\ntransition = "immediate"',
            'at = "+2m"\naction = "override"\nname = "promo"\nmedia = "two"',
            'at = "+3m"\naction = "emergency"\nmedia = "alert"',
            'at = "+3m30s"\naction = "emergency"\nmedia = "alert"',
        )
    )
    rows = log(scenario, 12 * 60_000, skip=("schedule_update",))
    assert kinds(rows) == [
        (at("10:00:00"), "now_playing"),
        (at("10:01:00"), "dj_connect"),
        (at("10:01:00"), "live.handover"),
        (at("10:01:00"), "now_playing"),
        # 10:02 an override at priority 1 waits behind the DJ at priority 1.
        (at("10:03:00"), "priority.emergency"),
        (at("10:03:00"), "now_playing"),
        # A newer emergency replaces the one on air; only it is announced.
        (at("10:03:30"), "priority.emergency"),
        (at("10:03:30"), "now_playing"),
        # It ends after 1 min; the DJ (first come at priority 1) takes the air back.
        (at("10:04:30"), "priority.released"),
        (at("10:04:30"), "live.handover"),
        (at("10:04:30"), "now_playing"),
    ]
    assert (rows[8][2]["previous_priority"], rows[8][2]["new_priority"]) == (0, 1)


def test_override_media_plays_once_then_releases():
    scenario = focused(
        HITS_ALL_DAY + timeline('at = "+1m"\naction = "override"\nname = "promo"\nmedia = "three"')
    )
    rows = log(scenario, 8 * 60_000, skip=("schedule_update",))
    station = scenario.stations[0].id
    assert rows[1] == (
        at("10:01:00"),
        "priority.override",
        {
            "station_id": station,
            "priority": 1,
            "source_type": "media",
            "source_id": scenario.tracks["three"].id,
            "transition_type": "preempt",
        },
    )
    assert rows[2][1] == "now_playing" and rows[2][2]["media_id"] == scenario.tracks["three"].id
    assert kinds(rows[3:5]) == [(at("10:05:00"), "priority.released"), (at("10:05:00"), "now_playing")]
    assert (rows[3][2]["previous_priority"], rows[3][2]["new_priority"]) == (1, 3)


def test_override_webstream_holds_until_released():
    scenario = focused(
        HITS_ALL_DAY
        + timeline(
            'at = "+1m"\naction = "override"\nname = "relay-now"\nwebstream = "relay"\ntransition = "faded"',
            'at = "+30m"\naction = "release"\noverride = "relay-now"',
        )
    )
    rows = log(scenario, 31 * 60_000, skip=("schedule_update",))
    assert kinds(rows) == [
        (at("10:00:00"), "now_playing"),
        (at("10:01:00"), "priority.override"),
        (at("10:01:00"), "now_playing"),
        (at("10:30:00"), "priority.released"),
        (at("10:30:00"), "now_playing"),
    ]
    assert rows[1][2]["source_type"] == "webstream" and rows[1][2]["transition_type"] == "faded"
    assert rows[2][2]["webstream_id"] == scenario.webstreams["relay"].id


def test_manual_release_of_a_dj_keeps_the_connection():
    scenario = focused(
        HITS_ALL_DAY
        + timeline(
            'at = "+1m"\naction = "dj_connect"\ndj = "mike"\ntransition = "immediate"',
            'at = "+5m"\naction = "release"\ndj = "mike"',
            'at = "+9m"\naction = "dj_disconnect"\ndj = "mike"',
        )
    )
    rows = log(scenario, 10 * 60_000, skip=("schedule_update",))
    assert kinds(rows)[4:] == [
        (at("10:05:00"), "live.released"),
        (at("10:05:00"), "priority.released"),
        (at("10:05:00"), "now_playing"),  # "two", 3:20
        (at("10:08:20"), "now_playing"),
        # Still connected but off the ladder: leaving later is a disconnect only.
        (at("10:09:00"), "dj_disconnect"),
    ]


def test_show_ending_while_its_dj_is_preempted_by_an_emergency():
    body = """
[[schedule]]
days = "daily"
start = "10:00"
duration = "10m"
dj = "sarah"
""" + timeline(
        'at = "+1m"\naction = "dj_connect"\ndj = "sarah"\ntransition = "immediate"',
        'at = "+9m30s"\naction = "emergency"\nmedia = "alert"',
    )
    rows = log(focused(body), 12 * 60_000, skip=("schedule_update",))
    assert kinds(rows)[4:] == [
        (at("10:09:30"), "priority.emergency"),
        (at("10:09:30"), "now_playing"),
        # 10:10 the show ends during the emergency: the DJ's handover is closed now.
        (at("10:10:00"), "live.released"),
        (at("10:10:30"), "priority.released"),
        (at("10:10:30"), "now_playing"),
    ]
    assert rows[-2][2]["new_priority"] == 3


def test_a_show_token_outside_the_show_waits_for_the_show():
    body = """
[[schedule]]
days = "daily"
start = "10:30"
duration = "10m"
dj = "sarah"
""" + timeline('at = "+1m"\naction = "dj_connect"\ndj = "sarah"\npriority = 2')
    rows = log(focused(body), 45 * 60_000, skip=("schedule_update",))
    live = [(w, k) for w, k, p in rows if "media_id" not in p]
    assert live == [
        (at("10:01:00"), "dj_connect"),
        (at("10:30:00"), "live.handover"),
        (at("10:30:00"), "now_playing"),
        (at("10:40:00"), "live.released"),
        (at("10:40:00"), "priority.released"),
    ]


def test_skip_starts_a_fresh_track_now():
    scenario = focused(HITS_ALL_DAY + timeline('at = "+1m"\naction = "skip"'))
    rows = log(scenario, 5 * 60_000, skip=("schedule_update",))
    assert [(w, p["title"]) for w, _, p in rows] == [
        (at("10:00:00"), "First Light"),
        (at("10:01:00"), "Second Wind"),
        (at("10:04:20"), "Third Rail"),
    ]


def test_repeating_happening_honours_count():
    scenario = focused(
        HITS_ALL_DAY + timeline('at = "+1m"\nevery = "10m"\ncount = 3\naction = "emergency"\nmedia = "alert"')
    )
    rows = log(scenario, 60 * 60_000)
    assert [w for w, k, _ in rows if k == "priority.emergency"] == [
        at("10:01:00"),
        at("10:11:00"),
        at("10:21:00"),
    ]


def test_impossible_scripted_input_is_a_notice_not_a_crash():
    scenario = focused(HITS_ALL_DAY + timeline('at = "+1m"\naction = "dj_disconnect"\ndj = "mike"'))
    core = Playout(scenario)
    core.advance(5 * 60_000)
    assert [(n.at_ms, n.happening) for n in core.notices] == [(60_000, 0)]
    assert "not connected" in core.notices[0].message


class TestSubmittedInputs:
    def core(self):
        core = Playout(focused(HITS_ALL_DAY))
        core.advance(60_000)
        return core

    @pytest.mark.parametrize(
        ("given", "code"),
        [
            (inputs.ConnectDj(station="nope", dj="mike"), "not_found"),
            (inputs.ConnectDj(station="main", dj="nobody"), "not_found"),
            (inputs.ConnectDj(station="main", dj="mike", mount="nope"), "not_found"),
            (inputs.DisconnectDj(station="main", dj="mike"), "conflict"),
            (inputs.InsertEmergency(station="main", media="nope"), "not_found"),
            (inputs.Release(station="main", target="emergency"), "conflict"),
            (inputs.Release(station="main", target="override", name="nope"), "not_found"),
            (inputs.UrlDown(webstream="relay", url=7), "not_found"),
            (inputs.UrlDown(webstream="nope", url=0), "not_found"),
        ],
    )
    def test_rejected_inputs_change_nothing(self, given, code):
        core = self.core()
        with pytest.raises(InputRejected) as caught:
            core.submit(given)
        assert caught.value.code == code
        assert core.submit(inputs.Skip(station="main"))[0].event.title == "Second Wind"

    @pytest.mark.parametrize("target", ["emergency", "override", "dj", "source"])
    def test_a_release_missing_ok_that_finds_nothing_is_applied_and_changes_nothing(self, target):
        core = Playout(focused(HITS_ALL_DAY), keep_applied=True)
        core.advance(60_000)
        core.drain_applied()
        given = inputs.Release(station="main", target=target, name="nope", missing_ok=True)
        assert core.submit(given) == []
        assert [a.given for a in core.drain_applied()] == [given]
        with pytest.raises(InputRejected):
            core.submit(inputs.Release(station="nope", target=target, missing_ok=True))

    def test_connecting_twice_is_a_conflict(self):
        core = self.core()
        core.submit(inputs.ConnectDj(station="main", dj="mike"))
        with pytest.raises(InputRejected) as caught:
            core.submit(inputs.ConnectDj(station="main", dj="mike"))
        assert caught.value.code == "conflict"

    def test_submitted_input_gives_the_same_events_as_scripted(self):
        scripted = focused(HITS_ALL_DAY + timeline('at = "+1m"\naction = "dj_connect"\ndj = "mike"'))
        core = self.core()
        live = [e.event for e in core.submit(inputs.ConnectDj(station="main", dj="mike"))]
        from_file = [e.event for e in Playout(scripted).advance(60_000)][2:]
        assert live == from_file
