"""Webstream health: degraded/unhealthy, threshold and grace, hysteresis, manual controls."""

import attrs

from playout.scenario.model import ProbeSettings, Webstream
from playout.station.webstreams import AllFailed, Failover, GraceStarted, Recovered, WebstreamHealth
from tests.support import HITS_ALL_DAY, focused, log

# Mutants of playout/station/webstreams.py that no test can catch, and why (tests/mutation_check.py).
SURVIVING_MUTANTS: dict[str, str] = {}

URLS = ("http://a.example/s", "http://b.example/s", "http://c.example/s")


def health(**settings) -> WebstreamHealth:
    return WebstreamHealth(Webstream("relay", "id", "Relay", URLS, attrs.evolve(ProbeSettings(), **settings)))


def fail(h: WebstreamHealth, index: int, now: int, reason="connection_timeout"):
    return h.record(index, False, reason, now)


def test_one_failure_degrades_more_make_unhealthy():
    h = health()
    assert fail(h, 0, 0) == []
    assert h.urls[0].status == "degraded" and h.status == "degraded"
    fail(h, 0, 30_000)
    assert h.urls[0].status == "unhealthy"
    h.record(0, True, "connection_timeout", 60_000)
    assert h.urls[0].status == "healthy" and h.status == "healthy"


def test_failover_after_threshold_and_grace():
    h = health()
    fail(h, 0, 0)
    fail(h, 0, 30_000)
    assert fail(h, 0, 60_000, "read_stall") == [GraceStarted(65_000)]
    assert h.grace_expired(64_999) == []
    assert h.grace_expired(65_000) == [Failover(0, 1, "read_stall")]
    assert h.active == 1 and h.url == URLS[1] and h.status == "degraded"


def test_a_pass_during_the_grace_cancels_the_failover():
    h = health()
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.record(0, True, "connection_timeout", 62_000)
    assert h.grace_expired(65_000) == []
    assert h.active == 0


def test_failover_skips_unhealthy_urls_and_reports_all_failed():
    h = health()
    for t in (0, 30_000):
        fail(h, 1, t)  # the first backup is unhealthy already
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    assert h.grace_expired(65_000) == [Failover(0, 2, "connection_timeout")]
    for t in (90_000, 120_000, 150_000):
        fail(h, 2, t, "http_error")
    assert h.grace_expired(155_000) == [AllFailed(2, "http_error")]
    assert h.active is None and h.status == "unhealthy" and h.url is None


def test_recovery_needs_consecutive_passes():
    h = health(recovery_checks=3)
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.grace_expired(65_000)
    assert h.record(0, True, "connection_timeout", 90_000) == []
    assert h.record(0, True, "connection_timeout", 120_000) == []
    fail(h, 0, 150_000)  # flaps: the count starts again
    assert h.record(0, True, "connection_timeout", 180_000) == []
    assert h.record(0, True, "connection_timeout", 210_000) == []
    assert h.record(0, True, "connection_timeout", 240_000) == [Recovered()]
    assert h.active == 0 and h.status == "healthy"


def test_manual_failover_and_reset():
    h = health()
    assert h.held is False
    assert h.force_failover() == [Failover(0, 1, "manual")]
    assert h.held is True
    assert h.reset() == [Recovered()]
    assert h.held is False
    assert h.reset() == []
    single = WebstreamHealth(Webstream("one", "id", "One", URLS[:1], ProbeSettings()))
    assert single.force_failover() == []
    assert single.held is False


def test_a_pass_clears_the_failures_before_it():
    h = health(failure_threshold=2)
    fail(h, 0, 0)
    h.record(0, True, "connection_timeout", 30_000)
    assert fail(h, 0, 60_000) == []  # one failure since the pass: under the threshold
    assert h.urls[0].status == "degraded"


def test_a_backup_passing_does_not_end_the_grace_of_the_url_on_air():
    h = health()
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.record(1, True, "connection_timeout", 62_000)
    assert h.grace_expired(65_000) == [Failover(0, 1, "connection_timeout")]


def all_failed() -> WebstreamHealth:
    """Every URL unhealthy, each for its own reason, the primary last."""
    h = health()
    for index, reason in ((1, "read_stall"), (2, "insufficient_data")):
        for t in (0, 30_000):
            fail(h, index, t, reason)
    for t in (0, 30_000, 60_000):
        fail(h, 0, t, "http_error")
    assert h.grace_expired(65_000) == [AllFailed(0, "http_error")]
    return h


def test_after_all_failed_a_recovered_backup_goes_on_air_as_a_failover_from_the_primary():
    h = all_failed()
    assert h.record(2, True, "connection_timeout", 90_000) == []
    assert h.record(2, True, "connection_timeout", 120_000) == []
    assert h.record(2, True, "connection_timeout", 150_000) == [Failover(0, 2, "http_error")]
    assert h.active == 2 and h.url == URLS[2]


def test_after_all_failed_a_recovered_primary_is_a_recovery():
    h = all_failed()
    for t in (90_000, 120_000):
        h.record(0, True, "connection_timeout", t)
    assert h.record(0, True, "connection_timeout", 150_000) == [Recovered()]
    assert h.active == 0 and h.status == "healthy"


def test_checks_are_needed_only_while_something_can_change():
    h = health(recovery_checks=2)
    assert not h.needs_checks(0) and not h.needs_checks(1)  # every URL passes, the primary on air
    fail(h, 1, 0)
    assert h.needs_checks(1)
    h.record(1, True, "connection_timeout", 30_000)
    assert h.needs_checks(1)  # one pass of the two a recovery needs
    h.record(1, True, "connection_timeout", 60_000)
    assert not h.needs_checks(1)
    h.force_failover()
    # Held off the primary: nothing waits on it (it used to be checked, and taken back at once).
    assert not h.needs_checks(0) and not h.needs_checks(1)
    h.reset()
    for t in (90_000, 120_000, 150_000):
        fail(h, 0, t)
    h.grace_expired(155_000)
    assert h.needs_checks(0)  # failed over automatically: the primary, waited on to come back
    h.record(0, True, "connection_timeout", 180_000)
    assert h.needs_checks(0)  # one pass of the two a recovery needs
    h.record(0, True, "connection_timeout", 210_000)
    assert h.active == 0 and not h.needs_checks(0)


def test_a_manual_failover_or_reset_ends_the_grace():
    h = health()
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.force_failover()
    # The backup's own failures start a grace of their own.
    for t in (62_000, 63_000):
        fail(h, 1, t)
    assert fail(h, 1, 64_000) == [GraceStarted(69_000)]
    assert h.reset() == [Recovered()]
    for t in (70_000, 71_000):
        fail(h, 0, t)
    assert fail(h, 0, 72_000) == [GraceStarted(77_000)]


def test_a_flapping_primary_cannot_make_the_station_flap():
    # The primary is down for 40 s out of every 60 s for 20 minutes: failover once,
    # no recovery while it flaps, one recovery after it settles.
    body = """
[[schedule]]
days = "daily"
start = "00:00"
duration = "24h"
webstream = "relay"

[[timeline]]
at = "+5m"
every = "1m"
count = 20
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "40s"
"""
    rows = log(focused(body), 40 * 60_000, skip=("schedule_update",))
    changes = [(w, k) for w, k, _ in rows if k.startswith("webstream.")]
    assert [k for _, k in changes] == ["webstream.failover", "webstream.recovered"]
    assert changes[1][0] >= "2026-01-19T10:25:00Z"


def test_scripted_checks_are_skipped_while_nothing_can_change():
    from playout import Playout

    core = Playout(focused(HITS_ALL_DAY))
    core.advance(7 * 86_400_000)
    assert not core.state.probes.checking  # a week of a healthy webstream schedules no checks at all


def test_manual_failover_and_reset_from_the_timeline():
    body = (
        HITS_ALL_DAY
        + """
[[timeline]]
at = "+1m"
action = "webstream_failover"
webstream = "relay"

[[timeline]]
at = "+2m"
action = "webstream_reset"
webstream = "relay"
"""
    )
    rows = log(focused(body), 3 * 60_000)
    failover = [p for _, k, p in rows if k == "webstream.failover"]
    assert [p["reason"] for p in failover] == ["manual"]
    # The recovery is the reset's (it came at 10:01:00, the failover's own instant on the check grid).
    assert [(w, k) for w, k, _ in rows if k.startswith("webstream.")] == [
        ("2026-01-19T10:01:00Z", "webstream.failover"),
        ("2026-01-19T10:02:00Z", "webstream.recovered"),
    ]


# -- A manual failover holds (docs/protocol.md) ----------------------------------------------------
#
# Our choice: the real server keeps no hold. Its TriggerFailover (internal/webstream/service.go)
# only moves CurrentIndex with FailoverToNext (internal/models/webstream.go), which wraps to the
# primary after the last URL; its checker (internal/webstream/health_checker.go) checks the URL on
# air alone and goes back to the primary only after that URL was degraded or unhealthy
# (handleSuccessfulCheck) or by wrapping (triggerFailover). There a manual failover sticks while
# its backup stays healthy, and ResetToPrimary (service.go) is the operator's way back.


def test_a_manual_failover_stays_on_the_backup_whatever_the_primary_does():
    """Issue 13: the primary's next pass (at once, on the check grid) took a healthy stream back."""
    h = health()
    assert h.force_failover() == [Failover(0, 1, "manual")]
    for t in range(0, 300_000, 30_000):
        assert h.record(0, True, "connection_timeout", t) == []
    for t in (300_000, 330_000, 360_000):  # the primary goes down and comes back: nothing either
        assert fail(h, 0, t) == []
    assert h.grace_expired(365_000) == []
    for t in (390_000, 420_000, 450_000):
        assert h.record(0, True, "connection_timeout", t) == []
    assert (h.active, h.url, h.status, h.held) == (1, URLS[1], "degraded", True)
    assert h.reset() == [Recovered()]
    assert (h.active, h.status, h.held) == (0, "healthy", False)


def test_after_a_reset_automatic_failover_and_recovery_resume():
    h = health()
    h.force_failover()
    h.reset()
    for t in (0, 30_000, 60_000):
        fail(h, 0, t, "http_error")
    assert h.grace_expired(65_000) == [Failover(0, 1, "http_error")]
    assert h.held is False
    for t in (90_000, 120_000):
        assert h.record(0, True, "connection_timeout", t) == []
    assert h.record(0, True, "connection_timeout", 150_000) == [Recovered()]


def test_while_held_a_failing_backup_fails_over_to_the_next_backup_never_the_primary():
    h = health()  # three URLs; the primary passes all along
    h.force_failover()
    for t in (0, 30_000, 60_000):
        fail(h, 1, t, "read_stall")
    assert h.grace_expired(65_000) == [Failover(1, 2, "read_stall")]
    for t in (90_000, 120_000, 150_000):
        fail(h, 2, t, "http_error")
    # Every backup has failed: the stream is dead (its stations fall back), the primary still unused.
    assert h.grace_expired(155_000) == [AllFailed(2, "http_error")]
    assert (h.active, h.status, h.held) == (None, "unhealthy", True)
    assert not h.needs_checks(0)  # nothing waits on the primary it is held off
    assert [h.record(0, True, "connection_timeout", t) for t in (160_000, 190_000, 220_000)] == [[], [], []]
    # The first backup to pass again takes the air, as the operator's failover from the primary.
    for t in (180_000, 210_000):
        assert h.record(2, True, "connection_timeout", t) == []
    assert h.record(2, True, "connection_timeout", 240_000) == [Failover(0, 2, "manual")]
    assert h.reset() == [Recovered()]


def test_while_held_on_the_only_backup_its_failure_leaves_the_stream_dead_until_a_reset():
    h = WebstreamHealth(Webstream("relay", "id", "Relay", URLS[:2], ProbeSettings()))
    h.force_failover()
    for t in (0, 30_000, 60_000):
        fail(h, 1, t)
    assert h.grace_expired(65_000) == [AllFailed(1, "connection_timeout")]
    assert h.record(0, True, "connection_timeout", 90_000) == []
    assert h.reset() == [Recovered()]
    assert (h.active, h.held) == (0, False)


def test_a_manual_failover_while_held_moves_on_among_the_backups():
    h = health()
    assert h.force_failover() == [Failover(0, 1, "manual")]
    assert h.force_failover() == [Failover(1, 2, "manual")]
    assert h.force_failover() == [Failover(2, 1, "manual")]  # the first backup again, not the primary
    two = WebstreamHealth(Webstream("relay", "id", "Relay", URLS[:2], ProbeSettings()))
    two.force_failover()
    assert two.force_failover() == []  # no other backup (409 over REST): the way back is a reset
    assert (two.active, two.held) == (1, True)


def test_a_manual_failover_onto_a_url_named_goes_round_to_the_primary_and_the_hold_stays():
    """The grimnir profile's failover (the real FailoverToNext wraps, internal/models/webstream.go:138-161);
    only a reset ends the hold (issue 13)."""
    h = health()
    assert [h.force_failover(to=to) for to in (1, 2, 0)] == [
        [Failover(0, 1, "manual")],
        [Failover(1, 2, "manual")],
        [Failover(2, 0, "manual")],
    ]
    assert (h.active, h.status, h.held) == (0, "healthy", True)
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    assert h.grace_expired(65_000) == [Failover(0, 1, "connection_timeout")]
    for t in (90_000, 120_000, 150_000):  # held: the primary's passes bring nothing back
        assert h.record(0, True, "connection_timeout", t) == []
    assert h.reset() == [Recovered()]
    assert h.held is False


def test_a_manual_failover_onto_a_url_named_takes_it_whatever_its_health():
    """The real FailoverToNext consults no health (internal/models/webstream.go:138-161): an unhealthy
    URL is taken, and out of a state where every URL has failed the move is from the primary."""
    h = health()
    fail(h, 1, 0)
    fail(h, 1, 30_000)
    assert h.urls[1].status == "unhealthy"
    assert h.force_failover(to=1) == [Failover(0, 1, "manual")]  # a plain one would pass it over
    assert (h.active, h.held, h.grace_until) == (1, True, None)
    assert h.force_failover(to=1) == []  # the URL in use already
    two = WebstreamHealth(Webstream("relay", "id", "Relay", URLS[:2], ProbeSettings()))
    two.force_failover()
    assert two.force_failover(to=0) == [Failover(1, 0, "manual")]  # where a plain one is refused
    dead = health()
    for t in (0, 30_000):
        fail(dead, 1, t)
        fail(dead, 2, t)
    for t in (0, 30_000, 60_000):
        fail(dead, 0, t)
    assert dead.grace_expired(65_000) == [AllFailed(0, "connection_timeout")]
    assert dead.force_failover() == []
    assert dead.force_failover(to=2) == [Failover(0, 2, "manual")]
    assert (dead.active, dead.held) == (2, True)


def test_a_manual_failover_from_an_automatic_one_holds_too():
    h = health()
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.grace_expired(65_000)  # on the first backup, the primary failing
    assert h.force_failover() == [Failover(1, 2, "manual")]
    for t in (90_000, 120_000, 150_000):
        assert h.record(0, True, "connection_timeout", t) == []
    assert (h.active, h.held) == (2, True)


def test_a_manual_failover_refused_changes_nothing():
    h = all_failed()
    assert h.force_failover() == []
    assert (h.active, h.held) == (None, False)
    assert h.record(0, True, "connection_timeout", 90_000) == []  # still recovering as before


def test_without_a_hold_an_automatic_failover_wraps_to_a_primary_that_is_only_degraded():
    h = WebstreamHealth(Webstream("relay", "id", "Relay", URLS[:2], ProbeSettings()))
    for t in (0, 30_000, 60_000):
        fail(h, 0, t)
    h.grace_expired(65_000)  # on the backup
    h.record(0, True, "connection_timeout", 90_000)
    fail(h, 0, 120_000)  # one failure since its pass: degraded, worth a try
    for t in (130_000, 140_000, 150_000):
        fail(h, 1, t)
    assert h.grace_expired(155_000) == [Failover(1, 0, "connection_timeout")]


def test_a_manual_failover_holds_in_a_scenario_until_its_reset():
    """The relay on air: a manual failover, an outage of the primary while held, the reset, then the
    automatic rules again (an outage of the primary fails over and recovers by itself)."""
    body = """
[[schedule]]
days = "daily"
start = "00:00"
duration = "24h"
webstream = "relay"

[[timeline]]
at = "+1m"
action = "webstream_failover"
webstream = "relay"

[[timeline]]
at = "+3m"
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "2m"

[[timeline]]
at = "+10m"
action = "webstream_reset"
webstream = "relay"

[[timeline]]
at = "+15m"
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "2m"
"""
    scenario = focused(body)
    primary, backup, _ = scenario.webstreams["relay"].urls
    rows = log(scenario, 30 * 60_000, skip=("schedule_update",))
    assert [(w, k, p.get("url") or p.get("failover_url") or p.get("recovered_url")) for w, k, p in rows] == [
        ("2026-01-19T10:00:00Z", "now_playing", primary),
        ("2026-01-19T10:01:00Z", "webstream.failover", backup),
        ("2026-01-19T10:01:00Z", "now_playing", backup),
        ("2026-01-19T10:10:00Z", "webstream.recovered", primary),
        ("2026-01-19T10:10:00Z", "now_playing", primary),
        ("2026-01-19T10:16:05Z", "webstream.failover", backup),
        ("2026-01-19T10:16:05Z", "now_playing", backup),
        ("2026-01-19T10:18:00Z", "webstream.recovered", primary),
        ("2026-01-19T10:18:00Z", "now_playing", primary),
    ]
    assert rows[1][2]["reason"] == "manual" and rows[5][2]["reason"] == "connection_timeout"
