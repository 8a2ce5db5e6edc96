"""Webstream health: degraded/unhealthy, threshold and grace, hysteresis, manual controls."""

import attrs

from playout.scenario.model import ProbeSettings, Webstream
from playout.station.webstreams import AllFailed, Failover, GraceStarted, Recovered, WebstreamHealth
from tests.support import HITS_ALL_DAY, focused, log

# Mutants of playout/station/webstreams.py that no test can catch, and why (tests/mutation_check.py).
SURVIVING_MUTANTS = {
    "WebstreamHealth.needs_checks: health.failures > 1": (
        "a failure sets passes to 0 and recovery_checks is at least 1, so a URL with any failure "
        "already needs checks by passes < recovery_checks"
    ),
}

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
    assert h.force_failover() == [Failover(0, 1, "manual")]
    assert h.reset() == [Recovered()]
    assert h.reset() == []
    single = WebstreamHealth(Webstream("one", "id", "One", URLS[:1], ProbeSettings()))
    assert single.force_failover() == []


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
    assert h.needs_checks(0)  # the primary, waited on to come back
    assert not h.needs_checks(1)


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
    assert [k for _, k, _ in rows if k.startswith("webstream.")] == [
        "webstream.failover",
        "webstream.recovered",
    ]
