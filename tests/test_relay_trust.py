"""Where an edge redirects (no Redis needed)."""

from urllib.parse import urlsplit

import pytest

from server.relay import station_location

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
