"""What an edge takes from the Redis stream, where it redirects, how Redis URLs show (no Redis needed)."""

import logging
from urllib.parse import urlsplit

import orjson
import pytest

from server.relay.connection import RedisTarget
from server.relay.entries import MAX_EVENT_BYTES, RESEND_WINDOW, SKIP_REASONS, EntryFilter
from server.relay.follower import station_location


def event(kind: str = "now_playing", **payload: object) -> bytes:
    return orjson.dumps({"type": kind, "payload": payload})


def fields(n: int, body: bytes | None = None, kind: bytes = b"now_playing", run: bytes = b"run-a") -> dict:
    return {b"t": kind, b"e": event(n=n) if body is None else body, b"r": run, b"n": str(n).encode()}


def handed_on(entries: EntryFilter, *many: dict) -> list[bytes]:
    """The events of ``many`` that ``entries`` hands on, in order."""
    accepted = (entries.accept(b"1-0", one) for one in many)
    return [found[1] for found in accepted if found is not None]


def padded_to(size: int) -> bytes:
    """A valid now_playing event exactly ``size`` bytes long."""
    bare = len(event(title=""))
    return event(title="x" * (size - bare))


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({b"t": b"now_playing", b"e": event(), b"r": b"run-a"}, "malformed"),
        ({b"e": event(), b"r": b"run-a", b"n": b"1"}, "malformed"),
        ({b"t": b"now_playing", b"e": event(), b"n": b"1"}, "malformed"),
        (fields(1) | {b"n": b"one"}, "malformed"),
        (fields(1) | {b"n": b"0"}, "malformed"),
        (fields(1) | {b"n": b"-3"}, "malformed"),
        (fields(1) | {b"t": b"now_\xff"}, "malformed"),
        (fields(1, padded_to(MAX_EVENT_BYTES + 1)), "too_large"),
        (fields(1, b"x" * 1_000_000), "too_large"),
        (fields(1, b'{"type":"now_playing","payload":{"title":"\xff\xfe"}}'), "not_json"),
        (fields(1, b'{"type":"now_playing","payload":{"title":"\xed\xa0\x80"}}'), "not_json"),  # a surrogate
        (fields(1, b"not JSON"), "not_json"),
        (fields(1, b""), "not_json"),
        (fields(1, b'{"type":"now_playing","payload":{"n":NaN}}'), "not_json"),
        (fields(1, b"[" * 5000 + b"]" * 5000), "not_json"),  # deeper than any parser should go
        (fields(1, b"[1,2]"), "not_an_event"),
        (fields(1, b'"now_playing"'), "not_an_event"),
        (fields(1, b'{"type":"now_playing"}'), "not_an_event"),
        (fields(1, b'{"payload":{}}'), "not_an_event"),
        (fields(1, b'{"type":"now_playing","payload":[]}'), "not_an_event"),
        (fields(1, b'{"type":"now_playing","payload":null}'), "not_an_event"),
        (fields(1, b'{"type":["now_playing"],"payload":{}}'), "not_an_event"),
        (fields(1, event("health")), "not_an_event"),  # not the entry's type
        (fields(1, b'{"type":"now_playing","payload":{},"extra":1}'), "not_an_event"),
        (fields(1, event("track.started"), kind=b"track.started"), "unknown_type"),
        (fields(1, event("ping"), kind=b"ping"), "unknown_type"),
    ],
)
def test_an_entry_that_cannot_be_trusted_is_skipped_for_its_reason(entry, reason):
    entries = EntryFilter()
    assert entries.accept(b"1-0", entry) is None
    assert entries.skipped_by_reason == {name: int(name == reason) for name in SKIP_REASONS}
    assert entries.skipped == 1
    assert handed_on(entries, fields(2)) == [event(n=2)]  # and the next good one goes on


def test_the_size_cap_is_inclusive():
    assert len(padded_to(MAX_EVENT_BYTES)) == MAX_EVENT_BYTES
    assert handed_on(EntryFilter(), fields(1, padded_to(MAX_EVENT_BYTES))) == [padded_to(MAX_EVENT_BYTES)]


def test_each_reason_is_logged_once_however_many_entries(caplog):
    entries = EntryFilter()
    with caplog.at_level(logging.WARNING, logger="grimnir_sim.relay"):
        handed_on(entries, *(fields(n, b"not JSON") for n in range(1, 1001)))
        handed_on(entries, *(fields(n, b"x" * (MAX_EVENT_BYTES + 1)) for n in range(1001, 2001)))
        handed_on(entries, fields(1, b"[]"))
    assert [record.getMessage().split(": ", 1)[1] for record in caplog.records] == [
        f"{SKIP_REASONS[reason]} (further entries skipped for this reason are only counted, "
        "in GET /api/v1/sim/server)"
        for reason in ("not_json", "too_large", "not_an_event")
    ]
    assert entries.skipped_by_reason["not_json"] == 1000 and entries.skipped_by_reason["too_large"] == 1000


def test_a_batch_appended_again_is_skipped():
    entries = EntryFilter()
    first = [fields(n) for n in range(1, 1001)]
    assert handed_on(entries, *first) == [event(n=n) for n in range(1, 1001)]
    # Redis applied the first 600 of a pipeline and the reply was lost: the station appends it again.
    assert handed_on(entries, *first[400:600], *first[400:], fields(1001)) == [event(n=1001)]
    assert entries.skipped_by_reason["resent"] == 800


def test_no_sequence_number_silences_what_follows():
    entries = EntryFilter()
    assert handed_on(entries, fields(1), fields(2)) == [event(n=1), event(n=2)]
    forged = fields(10**18, event(n="forged"))
    assert handed_on(entries, forged, fields(3), fields(4)) == [event(n="forged"), event(n=3), event(n=4)]
    # A number just ahead costs at most the one real entry that carries the same number.
    assert handed_on(entries, fields(6, event(n="forged 6")), fields(5), fields(6), fields(7)) == [
        event(n="forged 6"),
        event(n=5),
        event(n=7),
    ]
    assert entries.skipped_by_reason["resent"] == 1


def test_a_gap_or_a_new_run_needs_no_resynchronising():
    entries = EntryFilter()
    assert handed_on(entries, fields(1), fields(2)) == [event(n=1), event(n=2)]
    # The edge was away while the stream was trimmed, or the station lost batches: numbers jump.
    assert handed_on(entries, fields(90_000), fields(90_001), fields(90_000), fields(90_002)) == [
        event(n=90_000),
        event(n=90_001),
        event(n=90_002),
    ]
    # The station restarted: a new run id counts from 1 again, and the old run's numbers are not in the way.
    assert handed_on(entries, fields(1, run=b"run-b"), fields(2, run=b"run-b"), fields(2, run=b"run-b")) == [
        event(n=1),
        event(n=2),
    ]
    assert entries.skipped_by_reason["resent"] == 2


def test_the_resend_window_is_bounded():
    entries = EntryFilter()
    handed_on(entries, fields(1), *(fields(n, run=b"other") for n in range(1, RESEND_WINDOW)))
    assert handed_on(entries, fields(1)) == []  # still among the last RESEND_WINDOW handed on
    entries = EntryFilter()
    handed_on(entries, fields(1), *(fields(n, run=b"other") for n in range(1, RESEND_WINDOW + 1)))
    assert handed_on(entries, fields(1)) == [event(n=1)]  # forgotten: memory does not grow


STATION = "http://radio.example:8000"


@pytest.mark.parametrize(
    "raw_path",
    [
        b"@evil.example/x",
        b":1@evil.example/x",
        b"//evil.example/x",
        b"\\\\evil.example",
        b"/\\evil.example",
        b"%2F%2Fevil.example",
        b"%40evil.example",
        b"http://evil.example/x",
        b"/x#@evil.example",
        b"?@evil.example",
        b"\xc3\xa9vil.example/x",
        b"\r\nLocation: http://evil.example",
        b"",
    ],
)
def test_a_redirect_stays_on_the_stations_origin(raw_path):
    location = station_location(STATION, raw_path, b"next=//evil.example&x=\\#@evil.example")
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.fragment) == ("http", "radio.example:8000", "")
    assert location.isascii() and location.isprintable()
    assert parts.path.startswith("/")


def test_a_redirect_keeps_the_path_as_sent_and_the_stations_prefix():
    assert (
        station_location(STATION, b"/api/v1/webstreams/a%3Fb%2520c/failover", b"x=1&y=%2F")
        == "http://radio.example:8000/api/v1/webstreams/a%3Fb%2520c/failover?x=1&y=%2F"
    )
    assert station_location("https://radio.example/sim/", b"/api/v1/sim/state", b"") == (
        "https://radio.example/sim/api/v1/sim/state"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@127.0.0.1:6379", "redis://:***@127.0.0.1:6379"),
        ("redis://bob:p%40ss%2F1@127.0.0.1:6379/2?x=1", "redis://bob:***@127.0.0.1:6379/2?x=1"),
        ("rediss://127.0.0.1:6380?password=pw&db=2", "rediss://127.0.0.1:6380?password=***&db=2"),
        ("unix://:pw@/run/redis.sock?db=1", "unix://:***@/run/redis.sock?db=1"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
    ],
)
def test_a_redis_url_is_shown_without_its_password(url, shown):
    assert RedisTarget.parse(url).shown == shown


def test_an_edge_takes_the_types_of_its_wire_profile():
    """An edge serving --profile grimnir hands on the real wire's own types (webstream.health,
    priority.change), which the documented protocol has not."""
    from playout.profiles import GRIMNIR

    documented, grimnir = EntryFilter(), EntryFilter(GRIMNIR.event_types)
    health = fields(1, event("webstream.health"), kind=b"webstream.health")
    assert handed_on(documented, health) == [] and documented.skipped_by_reason["unknown_type"] == 1
    assert handed_on(grimnir, health) == [event("webstream.health")]
    assert handed_on(grimnir, fields(2, event("health.status"), kind=b"health.status")) == []


async def test_ctrl_c_inside_the_redis_check_is_the_interrupt_not_an_unreachable_redis(monkeypatch):
    """A Ctrl-C can land inside the client's connect, whose cleanup then fails in its place: the check
    re-raises the interrupt (serve says 'interrupted' and exits 130), not 'cannot reach Redis'."""
    from contextlib import asynccontextmanager

    from server.relay import connection

    @asynccontextmanager
    async def connect_interrupted():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ConnectionError("half-made connection torn down") from None  # (context kept)
        yield

    target = RedisTarget.parse("redis://127.0.0.1:9")
    monkeypatch.setattr(RedisTarget, "client", lambda self: connect_interrupted())
    with pytest.raises(KeyboardInterrupt):
        await connection.check_reachable(target)
