"""Bad scenario files, as a user meets them: through the library and through ``grimnir-sim``.

Every case starts from one small valid scenario (``BASE``) and changes a little of
it, then asserts the exact table and key each problem is reported at, the gist of
its message, and that ``str(problem)`` is one line naming file, table and key.

Tests marked ``xfail(strict=True)`` assert the behaviour a user should get and
document a loader bug found while writing them; each reason names the input.
"""

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import playout
from playout import Problem, ScenarioError, load_scenario, parse_scenario
from playout.drivers.cli import main
from playout.scenario import positions
from playout.scenario.catalog import CATALOG_ENV, load_catalog

FILE = "x.toml"

HEAD = """\
[scenario]
name = "error-base"
start = "2026-01-19T00:00:00Z"   # a Monday
duration = "1d"
seed = 7

[[stations]]
id = "main"
name = "Test Radio"
crossfade = "2s"

[[stations.mounts]]
id = "main"
path = "/main.mp3"

[[stations.mounts]]
id = "live"
path = "/live"

[[library.tracks]]
id = "song-a"
title = "Song A"
duration = "3m"

[[library.tracks]]
id = "song-b"
title = "Song B"
duration = "4m"

[[library.tracks]]
id = "song-c"
title = "Song C"
duration = "3m30s"

[[library.tracks]]
id = "alert"
title = "Alert Test"
duration = "30s"
rotation = false

[[playlists]]
id = "morning"
name = "Morning"
tracks = ["song-a", "song-b"]

[[djs]]
id = "sarah"
username = "DJ Sarah"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]
"""

# schedule[0] relay daily 00:00-06:00, schedule[1] morning weekdays 06:00-10:00,
# schedule[2] sarah live Wednesdays 20:00-22:00.
SCHEDULE = """
[[schedule]]
days = "daily"
start = "00:00"
duration = "6h"
webstream = "relay"

[[schedule]]
days = "weekdays"
start = "06:00"
duration = "4h"
playlist = "morning"

[[schedule]]
days = ["wed"]
start = "20:00"
duration = "2h"
dj = "sarah"
title = "Wednesday Session"
"""

# timeline[0] outage, [1] dj_connect, [2] dj_disconnect, [3] emergency,
# [4] override, [5] release of the override.
TIMELINE = """
[[timeline]]
at = "+1h"
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "5m"

[[timeline]]
at = "+11h"
action = "dj_connect"
dj = "sarah"
mount = "live"

[[timeline]]
at = "+12h"
action = "dj_disconnect"
dj = "sarah"

[[timeline]]
at = "2026-01-19T13:00:00Z"
action = "emergency"
media = "alert"

[[timeline]]
at = "+14h"
action = "override"
name = "news"
media = "song-c"

[[timeline]]
at = "+15h"
action = "release"
override = "news"
"""

BASE = HEAD + SCHEDULE + TIMELINE
STATIONS = HEAD[HEAD.index("[[stations]]") : HEAD.index("[[library.tracks]]")]  # with its mounts


def variant(
    *edits: tuple[str, str], add: str = "", schedule: str = SCHEDULE, timeline: str = TIMELINE
) -> str:
    """BASE with each ``(old, new)`` edit applied once, ``add`` appended (new tables)."""
    text = HEAD + schedule + timeline
    for old, new in edits:
        assert text.count(old) == 1, f"edit target {old!r} must occur exactly once"
        text = text.replace(old, new)
    return text + ("\n" + add if add else "")


def slot(*lines: str) -> str:
    return "\n[[schedule]]\n" + "\n".join(lines) + "\n"


def event(*lines: str) -> str:
    return "\n[[timeline]]\n" + "\n".join(lines) + "\n"


def problems_of(text: str, file: str = FILE) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, file)
    problems = caught.value.problems
    assert problems, "a ScenarioError must carry at least one problem"
    for problem in problems:
        assert_one_line(problem, file)
    return problems


def places(problems: list[Problem]) -> list[tuple[str, str | None]]:
    return [(p.table, p.key) for p in problems]


def assert_one_line(problem: Problem, file: str) -> None:
    assert isinstance(problem, Problem)
    assert problem.file == file
    text = str(problem)
    assert "\n" not in text, text
    assert text.startswith(file), text
    if problem.table:
        assert f": {problem.table}" in text, text
    if problem.key is not None:
        assert f"{problem.table}, key '{problem.key}': " in text, text
    assert text.endswith(problem.message), text


def assert_single(text: str, table: str, key: str | None, *gist: str) -> Problem:
    problems = problems_of(text)
    assert places(problems) == [(table, key)], [str(p) for p in problems]
    (problem,) = problems
    for words in gist:
        assert words in problem.message, problem.message
    return problem


# --------------------------------------------------------------------------- the base


def test_the_base_scenario_is_valid() -> None:
    scenario = parse_scenario(BASE, FILE)
    assert [s.key for s in scenario.stations] == ["main"]
    assert set(scenario.tracks) == {"song-a", "song-b", "song-c", "alert"}
    assert scenario.rotation == ("song-a", "song-b", "song-c")
    assert [s.kind for s in scenario.slots] == ["webstream", "playlist", "live"]
    assert len(scenario.timeline) == 7  # the outage also schedules its restore
    assert scenario.webstreams["relay"].urls[1] == "http://two.example.org/s.mp3"


def test_load_scenario_reads_the_base(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(BASE, encoding="utf-8")
    assert load_scenario(path).name == "error-base"


def test_scenario_error_is_exported_and_summarises() -> None:
    assert playout.ScenarioError is ScenarioError
    error = ScenarioError([Problem("f.toml", "djs[0]", "id", "a"), Problem("f.toml", "djs[1]", None, "b")])
    assert str(error) == "f.toml: djs[0], key 'id': a"
    assert error.summary() == "f.toml: djs[0], key 'id': a (and 1 more)"
    assert str(Problem("f.toml", "", None, "broken", 3)) == "f.toml:3: broken"


# --------------------------------------------------------------------------- TOML syntax


def test_toml_syntax_error_names_the_line() -> None:
    text = variant(add='[[timeline]]\nat = "+16h"\naction = = "skip"\n')
    bad_line = text.splitlines().index('action = = "skip"') + 1
    (problem,) = problems_of(text)
    assert (problem.table, problem.key) == ("", None)
    assert (problem.line, problem.column) == (bad_line, 10)
    assert problem.message.startswith("invalid TOML: ") and "(at line" not in problem.message
    assert str(problem).startswith(f"{FILE}:{bad_line}:10: invalid TOML")


def test_toml_duplicate_key_names_the_line() -> None:
    text = variant(("seed = 7", "seed = 7\nseed = 8"))
    (problem,) = problems_of(text)
    assert problem.line == text.splitlines().index("seed = 8") + 1
    assert "invalid TOML" in problem.message


# --------------------------------------------------------------------------- schema: unknown keys


@pytest.mark.parametrize(
    ("text", "table", "key", "gist"),
    [
        pytest.param(
            variant(('crossfade = "2s"', 'crosfade = "2s"')),
            "stations[0]",
            "crosfade",
            (
                "unknown key 'crosfade'",
                "did you mean 'crossfade'?",
                "allowed here: id, uuid, name, crossfade",
            ),
            id="station-crosfade",
        ),
        pytest.param(
            variant(("seed = 7", "sede = 7")),
            "scenario",
            "sede",
            ("unknown key 'sede'", "did you mean 'seed'?"),
            id="scenario-sede",
        ),
        pytest.param(
            variant(('path = "/live"', 'pth = "/live"')),
            "stations[0].mounts[1]",
            "pth",
            ("did you mean 'path'?",),
            id="mount-pth",
        ),
        pytest.param(
            variant(('duration = "5m"', 'durration = "5m"')),
            "timeline[0]",
            "durration",
            ("did you mean 'duration'?",),
            id="timeline-durration",
        ),
        pytest.param(
            variant(('title = "Wednesday Session"', 'titel = "Wednesday Session"')),
            "schedule[2]",
            "titel",
            ("did you mean 'title'?",),
            id="schedule-titel",
        ),
        pytest.param(
            variant(('crossfade = "2s"', 'colour = "red"')),
            "stations[0]",
            "colour",
            ("unknown key 'colour'; allowed here",),
            id="no-near-miss",
        ),
        pytest.param(
            variant(add="[options]\nloud = true\n"),
            "(top level)",
            "options",
            ("unknown key 'options'",),
            id="unknown-top-level-table",
        ),
        pytest.param(
            variant(('crossfade = "2s"', 'crosfade = "2s"\ncolour = "red"')),
            "stations[0]",
            None,
            ("unknown keys 'colour', 'crosfade' (did you mean 'crossfade'?)",),
            id="two-unknown-keys-in-one-table",
        ),
    ],
)
def test_unknown_key(text: str, table: str, key: str | None, gist: tuple[str, ...]) -> None:
    assert_single(text, table, key, *gist)


def test_unknown_key_with_no_near_miss_gives_no_hint() -> None:
    problem = assert_single(variant(('crossfade = "2s"', 'colour = "red"')), "stations[0]", "colour")
    assert "did you mean" not in problem.message


# --------------------------------------------------------------------------- schema: missing keys


@pytest.mark.parametrize(
    ("text", "table", "key"),
    [
        pytest.param(
            variant(('start = "2026-01-19T00:00:00Z"   # a Monday\n', "")), "scenario", "start", id="start"
        ),
        pytest.param(variant(('name = "Test Radio"\n', "")), "stations[0]", "name", id="station-name"),
        pytest.param(
            variant(('duration = "4m"\n', "")), "library.tracks[1]", "duration", id="track-duration"
        ),
        pytest.param(variant(('username = "DJ Sarah"\n', "")), "djs[0]", "username", id="dj-username"),
        pytest.param(
            variant(('urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]\n', "")),
            "webstreams[0]",
            "urls",
            id="webstream-urls",
        ),
        pytest.param(variant(('duration = "2h"\n', "")), "schedule[2]", "duration", id="schedule-duration"),
        pytest.param(
            variant(('action = "dj_connect"\ndj = "sarah"\n', 'action = "dj_connect"\n')),
            "timeline[1]",
            "dj",
            id="timeline-dj_connect-dj",
        ),
        pytest.param(
            variant(('at = "+12h"\naction = "dj_disconnect"\n', 'at = "+12h"\n')),
            "timeline[2]",
            "action",
            id="timeline-action",
        ),
        pytest.param(
            variant((STATIONS, "")),
            "(top level)",
            "stations",
            id="no-stations",
        ),
    ],
)
def test_missing_required_key(text: str, table: str, key: str) -> None:
    assert_single(text, table, key, "required key is missing")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            variant(('id = "main"\nname = "Test Radio"\n', "")),
            [("stations[0]", "id"), ("stations[0]", "name")],
            id="station-without-id-and-name",
        ),
        pytest.param(
            "",
            # and, checked in the same run, the library it lacks too
            [("(top level)", "scenario"), ("(top level)", "stations"), ("library", None)],
            id="empty-file",
        ),
    ],
)
def test_every_missing_required_key_is_named_once(text: str, expected: list[tuple[str, str]]) -> None:
    assert places(problems_of(text)) == expected


# --------------------------------------------------------------------------- schema: wrong types


@pytest.mark.parametrize(
    ("text", "table", "key", "gist"),
    [
        pytest.param(
            variant(("seed = 7", 'seed = "seven"')),
            "scenario",
            "seed",
            "'seven' is a string, expected an integer",
            id="seed-string",
        ),
        pytest.param(
            variant(("seed = 7", 'seed = 7\nspeed = "fast"')),
            "scenario",
            "speed",
            "'fast' is a string, expected a number",
            id="speed-string",
        ),
        pytest.param(
            variant(("seed = 7", "seed = 7\nspeed = 0")),
            "scenario",
            "speed",
            "0",
            id="speed-zero",
        ),
        pytest.param(
            variant(('start = "2026-01-19T00:00:00Z"', "start = 2026-01-19T00:00:00")),
            "scenario",
            "start",
            "'2026-01-19T00:00:00' has no UTC offset",
            id="start-toml-local-datetime",
        ),
        pytest.param(
            variant(("rotation = false", 'rotation = "no"')),
            "library.tracks[3]",
            "rotation",
            "'no' is a string, expected true or false",
            id="rotation-string",
        ),
        pytest.param(
            variant(('tracks = ["song-a", "song-b"]', 'tracks = "song-a"')),
            "playlists[0]",
            "tracks",
            "'song-a' is a string, expected a list",
            id="playlist-tracks-string",
        ),
        pytest.param(
            variant(('tracks = ["song-a", "song-b"]', 'tracks = ["song-a", 2]')),
            "playlists[0]",
            "tracks[1]",
            "2 is a",
            id="playlist-track-integer",
        ),
        pytest.param(
            variant(('tracks = ["song-a", "song-b"]', 'pick = "3"')),
            "playlists[0]",
            "pick",
            "'3' is a string, expected an integer",
            id="pick-string",
        ),
        pytest.param(
            variant(('name = "Relay"', 'name = "Relay"\nmin_bytes = "lots"')),
            "webstreams[0]",
            "min_bytes",
            "'lots' is a string, expected an integer",
            id="min_bytes-string",
        ),
        pytest.param(
            variant(("url = 0", "url = true")),
            "timeline[0]",
            "url",
            "True is a boolean, expected an integer or a string",
            id="url-boolean",
        ),
        pytest.param(
            variant(('crossfade = "2s"', "crossfade = true")),
            "stations[0]",
            "crossfade",
            "True is not a duration such as 90s",
            id="crossfade-boolean",
        ),
        pytest.param(
            variant((STATIONS, '[stations]\nid = "main"\nname = "Test Radio"\n\n')),
            "(top level)",
            "stations",
            "is a table, expected a list",
            id="stations-a-table",
        ),
        pytest.param(
            variant(('mount = "live"', 'mount = "live"\npriority = 3')),
            "timeline[1]",
            "priority",
            "3 is not one of 1, 2",
            id="priority-3",
        ),
        pytest.param(
            variant(('duration = "5m"', 'duration = "5m"\nreason = "gremlins"')),
            "timeline[0]",
            "reason",
            "'gremlins' is not one of 'connection_timeout'",
            id="reason-unknown",
        ),
        pytest.param(
            variant(('at = "+12h"\naction = "dj_disconnect"', 'at = "+12h"\naction = "explode"')),
            "timeline[2]",
            "action",
            "'explode' is not one of 'dj_connect'",
            id="action-unknown",
        ),
        pytest.param(
            variant(
                ('id = "main"\nname = "Test Radio"', 'id = "main"\nuuid = "not-a-uuid"\nname = "Test Radio"')
            ),
            "stations[0]",
            "uuid",
            "'not-a-uuid' is not a UUID",
            id="bad-uuid",
        ),
        pytest.param(
            variant(('path = "/live"', 'path = "live"')),
            "stations[0].mounts[1]",
            "path",
            "'live'",
            id="mount-path-without-slash",
        ),
        pytest.param(
            variant(('username = "DJ Sarah"', 'username = ""')),
            "djs[0]",
            "username",
            "''",
            id="empty-username",
        ),
        pytest.param(
            variant(('urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]', "urls = []")),
            "webstreams[0]",
            "urls",
            "[]",
            id="no-urls",
        ),
    ],
)
def test_wrong_type_or_shape(text: str, table: str, key: str, gist: str) -> None:
    assert_single(text, table, key, gist)


def test_wrong_type_message_grammar() -> None:
    assert_single(
        variant(('name = "Morning"', "name = 5")),
        "playlists[0]",
        "name",
        "5 is an integer, expected a string",
    )


def test_float_pick_is_a_wrong_type() -> None:
    assert_single(
        variant(('tracks = ["song-a", "song-b"]', "pick = 2.0")), "playlists[0]", "pick", "is a float"
    )


def test_float_url_is_a_wrong_type() -> None:
    assert_single(variant(("url = 0", "url = 1.0")), "timeline[0]", "url", "is a float")


# --------------------------------------------------------------------------- durations, times, days


@pytest.mark.parametrize(
    ("text", "table", "key"),
    [
        pytest.param(
            variant(('crossfade = "2s"', 'crossfade = "4 sec"')), "stations[0]", "crossfade", id="crossfade"
        ),
        pytest.param(
            variant(('duration = "4m"', 'duration = "4 sec"')), "library.tracks[1]", "duration", id="track"
        ),
        pytest.param(
            variant(('duration = "6h"', 'duration = "4 sec"')), "schedule[0]", "duration", id="slot"
        ),
        pytest.param(
            variant(('duration = "1d"', 'duration = "4 sec"')), "scenario", "duration", id="scenario"
        ),
        pytest.param(
            variant(('duration = "5m"', 'duration = "4 sec"')), "timeline[0]", "duration", id="outage"
        ),
        pytest.param(
            variant(('name = "Relay"', 'name = "Relay"\ninterval = "4 sec"')),
            "webstreams[0]",
            "interval",
            id="probe",
        ),
    ],
)
def test_bad_duration(text: str, table: str, key: str) -> None:
    assert_single(text, table, key, "'4 sec' is not a duration such as 90s, 15m, 2h, 7d or 1h30m")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        pytest.param('every = "4 sec"', "every", id="every-4-sec"),
        pytest.param('every = "1h"\ncount = 0', "count", id="count-0"),
        pytest.param("note = 5", "note", id="note-integer"),
    ],
)
def test_timeline_common_key_reported_once(line: str, key: str) -> None:
    text = variant(add=event('at = "+16h"', 'action = "skip"', line))
    assert places(problems_of(text)) == [("timeline[6]", key)]


@pytest.mark.parametrize(
    ("text", "table", "key", "gist"),
    [
        pytest.param(
            variant(('at = "+11h"', 'at = "+11 hours"')),
            "timeline[1]",
            "at",
            "'+11 hours' is neither +duration",
            id="offset-in-words",
        ),
        pytest.param(
            variant(('at = "+11h"', 'at = "2026-01-19T11:00:00"')),
            "timeline[1]",
            "at",
            "has no UTC offset",
            id="instant-without-offset",
        ),
        pytest.param(
            variant(('at = "+11h"', 'at = "tomorrow"')),
            "timeline[1]",
            "at",
            "'tomorrow' is not an RFC 3339 instant",
            id="instant-garbage",
        ),
        pytest.param(
            variant(('at = "2026-01-19T13:00:00Z"', 'at = "2026-01-18T13:00:00Z"')),
            "timeline[3]",
            "at",
            "2026-01-18T13:00:00Z is before the scenario's start",
            id="before-the-start",
        ),
        pytest.param(
            variant(('start = "2026-01-19T00:00:00Z"', 'start = "next monday"')),
            "scenario",
            "start",
            "'next monday' is not an RFC 3339 instant",
            id="scenario-start",
        ),
        pytest.param(
            variant(add=slot('at = "2026-01-20T12:00"', 'duration = "1h"', 'playlist = "morning"')),
            "schedule[3]",
            "at",
            "has no UTC offset",
            id="one-off-without-offset",
        ),
    ],
)
def test_bad_instant(text: str, table: str, key: str, gist: str) -> None:
    assert_single(text, table, key, gist)


def test_timeline_at_exactly_the_start_is_accepted() -> None:
    parse_scenario(variant(('at = "2026-01-19T13:00:00Z"', 'at = "2026-01-19T00:00:00Z"')), FILE)


@pytest.mark.parametrize("start", ["6:00", "24:00", "21:60", "8pm", "06:00:00"])
def test_bad_time_of_day(start: str) -> None:
    text = variant(('start = "20:00"', f'start = "{start}"'))
    assert_single(text, "schedule[2]", "start", f"{start!r} is not a time of day like 06:00 or 21:30")


@pytest.mark.parametrize(
    "days",
    ['["wed", "funday"]', '"everyday"', '["Wed"]', "[]", '["wed", "wed"]', '"wed"'],
)
def test_bad_day_name(days: str) -> None:
    text = variant(('days = ["wed"]', f"days = {days}"))
    assert_single(
        text, "schedule[2]", "days", "is not one of: 'daily', 'weekdays', 'weekends'; a list of 'mon'"
    )


@pytest.mark.parametrize(
    ("urls", "key", "shown"),
    [
        ('["http://one.example.org/s.mp3", "ftp://two.example.org/s.mp3"]', "urls[1]", "ftp://two"),
        ('["one.example.org/s.mp3", "http://two.example.org/s.mp3"]', "urls[0]", "one.example.org"),
        ('["http://one.example.org/s.mp3", "HTTP//two"]', "urls[1]", "HTTP//two"),
    ],
)
def test_bad_url(urls: str, key: str, shown: str) -> None:
    text = variant(
        ('urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]', f"urls = {urls}")
    )
    problem = assert_single(text, "webstreams[0]", key, "is not an http:// or https:// URL")
    assert shown in problem.message


def test_the_same_url_twice() -> None:
    text = variant(("http://two.example.org/s.mp3", "http://one.example.org/s.mp3"))
    assert_single(text, "webstreams[0]", "urls", "lists the same URL twice")


@pytest.mark.parametrize(
    ("text", "table", "key"),
    [
        pytest.param(variant(('id = "sarah"', 'id = "dj sarah"')), "djs[0]", "id", id="space"),
        pytest.param(
            variant(('id = "song-c"', 'id = "-song-c"')), "library.tracks[2]", "id", id="leading-dash"
        ),
        pytest.param(variant(('id = "relay"', 'id = "relay/1"')), "webstreams[0]", "id", id="slash"),
        pytest.param(variant(('name = "error-base"', 'name = ""')), "scenario", "name", id="empty-name"),
        pytest.param(
            variant(('playlist = "morning"', 'playlist = "the morning"')), "schedule[1]", "playlist", id="ref"
        ),
    ],
)
def test_bad_id(text: str, table: str, key: str) -> None:
    assert_single(
        text, table, key, "is not an id (letters, digits, '-', '_', '.'; starting with a letter or digit)"
    )


# --------------------------------------------------------------------------- references

REFERENCES = [
    pytest.param(
        variant(('tracks = ["song-a", "song-b"]', 'tracks = ["song-a", "song_b"]')),
        "playlists[0]",
        "tracks[1]",
        "no track has the id 'song_b' (did you mean 'song-b'?)",
        id="playlist-track",
    ),
    pytest.param(
        variant(('playlist = "morning"', 'playlist = "mornin"')),
        "schedule[1]",
        "playlist",
        "no playlist has the id 'mornin' (did you mean 'morning'?)",
        id="schedule-playlist",
    ),
    pytest.param(
        variant(('webstream = "relay"\n\n[[schedule]]', 'webstream = "relya"\n\n[[schedule]]')),
        "schedule[0]",
        "webstream",
        "no webstream has the id 'relya'",
        id="schedule-webstream",
    ),
    pytest.param(
        variant(('dj = "sarah"\ntitle', 'dj = "mike"\ntitle')),
        "schedule[2]",
        "dj",
        "no dj has the id 'mike'",
        id="schedule-dj",
    ),
    pytest.param(
        variant(('days = ["wed"]', 'station = "mian"\ndays = ["wed"]')),
        "schedule[2]",
        "station",
        "no station has the id 'mian' (did you mean 'main'?)",
        id="schedule-station",
    ),
    pytest.param(
        variant(('action = "dj_connect"\ndj = "sarah"', 'action = "dj_connect"\ndj = "sara"')),
        "timeline[1]",
        "dj",
        "no dj has the id 'sara' (did you mean 'sarah'?)",
        id="timeline-dj_connect-dj",
    ),
    pytest.param(
        variant(('action = "dj_disconnect"\ndj = "sarah"', 'action = "dj_disconnect"\ndj = "mike"')),
        "timeline[2]",
        "dj",
        "no dj has the id 'mike'",
        id="timeline-dj_disconnect-dj",
    ),
    pytest.param(
        variant(('override = "news"', 'dj = "mike"')),
        "timeline[5]",
        "dj",
        "no dj has the id 'mike'",
        id="timeline-release-dj",
    ),
    pytest.param(
        variant(
            (
                'action = "webstream_outage"\nwebstream = "relay"',
                'action = "webstream_outage"\nwebstream = "rely"',
            )
        ),
        "timeline[0]",
        "webstream",
        "no webstream has the id 'rely' (did you mean 'relay'?)",
        id="timeline-outage-webstream",
    ),
    pytest.param(
        variant(add=event('at = "+16h"', 'action = "webstream_failover"', 'webstream = "backup"')),
        "timeline[6]",
        "webstream",
        "no webstream has the id 'backup'",
        id="timeline-failover-webstream",
    ),
    pytest.param(
        variant(add=event('at = "+16h"', 'action = "webstream_restore"', 'webstream = "backup"', "url = 0")),
        "timeline[6]",
        "webstream",
        "no webstream has the id 'backup'",
        id="timeline-restore-webstream",
    ),
    pytest.param(
        variant(('media = "alert"', 'media = "alarm"')),
        "timeline[3]",
        "media",
        "no media has the id 'alarm'",
        id="timeline-emergency-media",
    ),
    pytest.param(
        variant(('media = "song-c"', 'media = "song-d"')),
        "timeline[4]",
        "media",
        "no media has the id 'song-d'",
        id="timeline-override-media",
    ),
    pytest.param(
        variant(('media = "song-c"', 'webstream = "backup"')),
        "timeline[4]",
        "webstream",
        "no webstream has the id 'backup'",
        id="timeline-override-webstream",
    ),
    pytest.param(
        variant(('media = "alert"', 'media = "alert"\nstation = "second"')),
        "timeline[3]",
        "station",
        "no station has the id 'second'",
        id="timeline-station",
    ),
    pytest.param(
        variant(('mount = "live"', 'mount = "studio"')),
        "timeline[1]",
        "mount",
        "station 'main' has no mount 'studio'",
        id="timeline-mount",
    ),
    pytest.param(
        variant(('override = "news"', 'override = "weather"')),
        "timeline[5]",
        "override",
        "no override in the timeline is named 'weather'",
        id="timeline-override",
    ),
    pytest.param(
        variant(("url = 0", "url = 2")),
        "timeline[0]",
        "url",
        "2 is not an index of webstream 'relay' (0 to 1)",
        id="url-index-too-big",
    ),
    pytest.param(
        variant(("url = 0", "url = -1")),
        "timeline[0]",
        "url",
        "-1 is not an index of webstream 'relay' (0 to 1)",
        id="url-index-negative",
    ),
    pytest.param(
        variant(("url = 0", 'url = "http://three.example.org/s.mp3"')),
        "timeline[0]",
        "url",
        "'http://three.example.org/s.mp3' is not in the URL chain of webstream 'relay'",
        id="url-not-in-chain",
    ),
]


@pytest.mark.parametrize(("text", "table", "key", "gist"), REFERENCES)
def test_unknown_reference(text: str, table: str, key: str, gist: str) -> None:
    assert_single(text, table, key, gist)


def test_url_given_as_a_string_in_the_chain_is_accepted() -> None:
    scenario = parse_scenario(variant(("url = 0", 'url = "http://two.example.org/s.mp3"')), FILE)
    assert scenario.timeline[0].input.url == 1


@pytest.mark.parametrize(
    ("text", "table", "gist"),
    [
        pytest.param(
            variant(('title = "Wednesday Session"', 'title = "Wednesday Session"\nplaylist = "morning"')),
            "schedule[2]",
            "needs exactly one of the keys 'playlist', 'webstream' or 'dj'",
            id="schedule-two-targets",
        ),
        pytest.param(
            variant(add=slot('days = ["sat"]', 'start = "12:00"', 'duration = "1h"')),
            "schedule[3]",
            "needs exactly one of the keys 'playlist', 'webstream' or 'dj'",
            id="schedule-no-target",
        ),
        pytest.param(
            variant(('media = "song-c"', 'media = "song-c"\nwebstream = "relay"')),
            "timeline[4]",
            "an override needs exactly one of 'media' or 'webstream'",
            id="override-two-sources",
        ),
        pytest.param(
            variant(('override = "news"', 'override = "news"\ndj = "sarah"')),
            "timeline[5]",
            "a release needs exactly one of 'override', 'dj' or 'emergency = true'",
            id="release-two-targets",
        ),
    ],
)
def test_exactly_one_target(text: str, table: str, gist: str) -> None:
    assert_single(text, table, None, gist)


# --------------------------------------------------------------------------- library and playlists


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(('tracks = ["song-a", "song-b"]', "tracks = []"), id="empty-list"),
        pytest.param(('tracks = ["song-a", "song-b"]', "shuffle = true"), id="no-tracks-key"),
    ],
)
def test_playlist_without_tracks(edit: tuple[str, str]) -> None:
    assert_single(variant(edit), "playlists[0]", "tracks", "a playlist needs tracks (list them, or set pick)")


def test_pick_larger_than_the_rotation_pool() -> None:
    # Three rotation tracks: 'alert' has rotation = false and is not in the pool.
    text = variant(('tracks = ["song-a", "song-b"]', 'tracks = ["song-a"]\npick = 4'))
    assert_single(text, "playlists[0]", "pick", "asks for 4 tracks but the rotation pool has 3")


def test_pick_larger_than_the_pool_is_the_only_problem() -> None:
    text = variant(('tracks = ["song-a", "song-b"]', "pick = 4"))
    assert_single(text, "playlists[0]", "pick", "asks for 4 tracks but the rotation pool has 3")


def test_pick_of_the_whole_pool_is_accepted() -> None:
    scenario = parse_scenario(variant(('tracks = ["song-a", "song-b"]', "pick = 3")), FILE)
    assert sorted(scenario.playlists["morning"].tracks) == ["song-a", "song-b", "song-c"]


def test_library_with_no_rotation_tracks() -> None:
    text = variant(
        ('duration = "3m"\n', 'duration = "3m"\nrotation = false\n'),
        ('duration = "4m"\n', 'duration = "4m"\nrotation = false\n'),
        ('duration = "3m30s"\n', 'duration = "3m30s"\nrotation = false\n'),
    )
    assert_single(text, "library", None, "no track is available for rotation")


def test_scenario_without_a_library() -> None:
    text = HEAD.split("[[library.tracks]]")[0] + '[[djs]]\nid = "sarah"\nusername = "DJ Sarah"\n'
    assert places(problems_of(text)) == [("library", None)]


@pytest.mark.parametrize(
    ("edit", "table", "gist"),
    [
        pytest.param(
            (
                "rotation = false\n",
                'rotation = false\n\n[[library.tracks]]\nid = "song-a"\ntitle = "Again"\nduration = 60\n',
            ),
            "library.tracks[4]",
            "'song-a' is already the id of library.tracks[0]",
            id="track",
        ),
        pytest.param(
            ('id = "main"\npath = "/main.mp3"', 'id = "live"\npath = "/main.mp3"'),
            "stations[0].mounts[1]",
            "'live' is already the id of stations[0].mounts[0]",
            id="mount",
        ),
        pytest.param(
            ('[[djs]]\nid = "sarah"', '[[djs]]\nid = "sarah"\nusername = "Sarah"\n\n[[djs]]\nid = "sarah"'),
            "djs[1]",
            "'sarah' is already the id of djs[0]",
            id="dj",
        ),
        pytest.param(
            (
                '[[playlists]]\nid = "morning"',
                '[[playlists]]\nid = "morning"\ntracks = ["song-c"]\n\n[[playlists]]\nid = "morning"',
            ),
            "playlists[1]",
            "'morning' is already the id of playlists[0]",
            id="playlist",
        ),
        pytest.param(
            (
                '[[webstreams]]\nid = "relay"',
                '[[webstreams]]\nid = "relay"\nname = "R"\nurls = ["https://r.example.org/"]\n\n'
                '[[webstreams]]\nid = "relay"',
            ),
            "webstreams[1]",
            "'relay' is already the id of webstreams[0]",
            id="webstream",
        ),
    ],
)
def test_duplicate_id(edit: tuple[str, str], table: str, gist: str) -> None:
    assert_single(variant(edit), table, "id", gist)


def test_duplicate_station_id() -> None:
    text = variant(
        (
            '[[library.tracks]]\nid = "song-a"',
            '[[stations]]\nid = "main"\nname = "Again"\n\n[[library.tracks]]\nid = "song-a"',
        ),
        schedule="",
        timeline="",
    )
    assert_single(text, "stations[1]", "id", "'main' is already the id of stations[0]")


def test_explicit_track_clashing_with_a_generated_id() -> None:
    text = variant(
        (
            '[[library.tracks]]\nid = "song-a"',
            '[library]\ngenerate = 3\n\n[[library.tracks]]\nid = "gen-0002"',
        ),
        ('tracks = ["song-a", "song-b"]', 'tracks = ["song-b"]'),
    )
    assert_single(text, "library.tracks[0]", "id", "'gen-0002' clashes with a generated track's id")


# --------------------------------------------------------------------------- crossfade limits


@pytest.mark.parametrize(
    ("text", "table"),
    [
        pytest.param(variant(('crossfade = "2s"', 'crossfade = "31s"')), "stations[0]", id="station-31s"),
        pytest.param(variant(('crossfade = "2s"', "crossfade = 30.5")), "stations[0]", id="station-30.5"),
        pytest.param(
            variant(('playlist = "morning"', 'playlist = "morning"\ncrossfade = "45s"')),
            "schedule[1]",
            id="slot-45s",
        ),
    ],
)
def test_crossfade_over_30s(text: str, table: str) -> None:
    assert_single(text, table, "crossfade", "must be at most 30s")


def test_crossfade_of_exactly_30s_is_accepted() -> None:
    text = variant(
        ('crossfade = "2s"', 'crossfade = "30s"'),
        ('playlist = "morning"', 'playlist = "morning"\ncrossfade = 30'),
    )
    scenario = parse_scenario(text, FILE)
    assert scenario.stations[0].crossfade_ms == 30_000
    assert scenario.slots[1].crossfade_ms == 30_000


# --------------------------------------------------------------------------- schedule shape


@pytest.mark.parametrize(
    ("extra", "key", "gist"),
    [
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'days = "daily"', 'duration = "1h"', 'playlist = "morning"'),
            "at",
            "a one-off entry has 'at'; a recurring one has 'days' and 'start', not both",
            id="at-and-days",
        ),
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'start = "12:00"', 'duration = "1h"', 'playlist = "morning"'),
            "at",
            "not both",
            id="at-and-start",
        ),
        pytest.param(
            ('duration = "1h"', 'playlist = "morning"'),
            "days",
            "required for a recurring entry (or give 'at' for a one-off)",
            id="neither-at-nor-days",
        ),
        pytest.param(
            ('days = ["sat"]', 'duration = "1h"', 'playlist = "morning"'),
            "start",
            "required for a recurring entry",
            id="days-without-start",
        ),
        pytest.param(
            ('days = ["sat"]', 'start = "12:00"', 'duration = "0s"', 'playlist = "morning"'),
            "duration",
            "must be longer than 0s and at most 7d",
            id="zero-duration",
        ),
        pytest.param(
            ('days = ["sat"]', 'start = "12:00"', 'duration = "1h"', 'playlist = "morning"', 'title = "Sat"'),
            "title",
            "only a live show (dj = ...) has a title",
            id="title-on-a-playlist",
        ),
    ],
)
def test_schedule_entry_shape(extra: tuple[str, ...], key: str, gist: str) -> None:
    assert_single(variant(add=slot(*extra)), "schedule[3]", key, gist)


# --------------------------------------------------------------------------- overlapping slots

MON_10_12 = ('days = ["mon"]', 'start = "10:00"', 'duration = "2h"', 'playlist = "morning"')
SUN_23_01 = ('days = ["sun"]', 'start = "23:00"', 'duration = "2h"', 'playlist = "morning"')
WED_20_22 = ('days = ["wed"]', 'start = "20:00"', 'duration = "2h"', 'dj = "sarah"')


@pytest.mark.parametrize(
    ("first", "second", "key", "since"),
    [
        pytest.param(
            MON_10_12,
            ('days = ["mon", "tue"]', 'start = "11:00"', 'duration = "1h"', 'dj = "sarah"'),
            "start",
            "2026-01-19T11:00:00Z",
            id="recurring-recurring",
        ),
        pytest.param(
            MON_10_12,
            ('days = "weekdays"', 'start = "09:00"', 'duration = "1h1m"', 'dj = "sarah"'),
            "start",
            "2026-01-19T10:00:00Z",
            id="recurring-recurring-by-a-minute",
        ),
        pytest.param(
            SUN_23_01,
            ('days = ["mon"]', 'start = "00:30"', 'duration = "1h"', 'dj = "sarah"'),
            "start",
            "2026-01-19T00:30:00Z",
            id="sunday-past-midnight-into-monday",
        ),
        pytest.param(
            ('days = ["mon"]', 'start = "00:30"', 'duration = "1h"', 'dj = "sarah"'),
            SUN_23_01,
            "start",
            "2026-01-19T00:30:00Z",
            id="monday-then-sunday-wrapping-into-it",
        ),
        pytest.param(
            WED_20_22,
            ('at = "2026-01-21T21:00:00Z"', 'duration = "30m"', 'playlist = "morning"'),
            "at",
            "2026-01-21T21:00:00Z",
            id="recurring-then-one-off",
        ),
        pytest.param(
            ('at = "2026-01-21T21:00:00Z"', 'duration = "30m"', 'playlist = "morning"'),
            WED_20_22,
            "start",
            "2026-01-21T21:00:00Z",
            id="one-off-then-recurring",
        ),
        pytest.param(
            WED_20_22,
            ('at = "2026-02-04T19:00:00Z"', 'duration = "1h30m"', 'playlist = "morning"'),
            "at",
            "2026-02-04T20:00:00Z",
            id="one-off-weeks-later-meets-recurring",
        ),
        pytest.param(
            ('days = ["mon"]', 'start = "00:00"', 'duration = "1h"', 'dj = "sarah"'),
            ('at = "2026-01-25T23:30:00Z"', 'duration = "1h"', 'playlist = "morning"'),
            "at",
            "2026-01-26T00:00:00Z",
            id="one-off-sunday-into-recurring-monday",
        ),
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'duration = "2h"', 'playlist = "morning"'),
            ('at = "2026-01-20T13:59:00Z"', 'duration = "1h"', 'dj = "sarah"'),
            "at",
            "2026-01-20T13:59:00Z",
            id="one-off-one-off",
        ),
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'duration = "1d"', 'playlist = "morning"'),
            ('at = "2026-01-21T01:00:00+02:00"', 'duration = "1h"', 'dj = "sarah"'),
            "at",
            "2026-01-20T23:00:00Z",
            id="one-off-one-off-other-offset",
        ),
        pytest.param(
            SUN_23_01,
            ('days = "daily"', 'start = "23:30"', 'duration = "1h"', 'dj = "sarah"'),
            "start",
            "2026-01-19T00:00:00Z",  # from Sunday 23:30, before the start
            id="collision-under-way-at-the-start",
        ),
    ],
)
def test_overlapping_slots(first: tuple[str, ...], second: tuple[str, ...], key: str, since: str) -> None:
    text = variant(schedule=slot(*first) + slot(*second))
    problem = assert_single(text, "schedule[1]", key)
    # The first instant both are on air (the scenario starts on Monday 2026-01-19 at midnight).
    assert problem.message == f"overlaps schedule[0] on station 'main' from {since}; both cannot play"
    lines = text.splitlines()
    assert lines[problem.line - 1].startswith(f"{key} = ")
    assert problem.line > lines.index("[[schedule]]", lines.index("[[schedule]]") + 1)  # in the second


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            MON_10_12,
            ('days = ["mon"]', 'start = "12:00"', 'duration = "1h"', 'dj = "sarah"'),
            id="back-to-back",
        ),
        pytest.param(
            ('days = ["mon"]', 'start = "12:00"', 'duration = "1h"', 'dj = "sarah"'),
            MON_10_12,
            id="back-to-back-reversed",
        ),
        pytest.param(
            ('days = ["sun"]', 'start = "22:00"', 'duration = "2h"', 'playlist = "morning"'),
            ('days = ["mon"]', 'start = "00:00"', 'duration = "1h"', 'dj = "sarah"'),
            id="sunday-ending-at-midnight-then-monday",
        ),
        pytest.param(
            SUN_23_01,
            ('days = ["mon"]', 'start = "01:00"', 'duration = "1h"', 'dj = "sarah"'),
            id="sunday-wrap-ends-as-monday-starts",
        ),
        pytest.param(
            MON_10_12,
            ('days = ["tue"]', 'start = "10:00"', 'duration = "2h"', 'dj = "sarah"'),
            id="same-hour-other-day",
        ),
        pytest.param(
            WED_20_22,
            ('at = "2026-01-21T22:00:00Z"', 'duration = "1h"', 'playlist = "morning"'),
            id="one-off-right-after-recurring",
        ),
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'duration = "2h"', 'playlist = "morning"'),
            ('at = "2026-01-20T14:00:00Z"', 'duration = "1h"', 'dj = "sarah"'),
            id="one-off-back-to-back",
        ),
        pytest.param(
            ('at = "2026-01-20T14:00:00Z"', 'duration = "1h"', 'dj = "sarah"'),
            ('at = "2026-01-20T12:00:00Z"', 'duration = "2h"', 'playlist = "morning"'),
            id="one-off-back-to-back-reversed",
        ),
        pytest.param(
            ('at = "2026-01-20T12:00:00Z"', 'duration = "2h"', 'playlist = "morning"'),
            ('at = "2026-01-27T12:00:00Z"', 'duration = "2h"', 'dj = "sarah"'),
            id="one-offs-a-week-apart",
        ),
    ],
)
def test_adjacent_slots_are_accepted(first: tuple[str, ...], second: tuple[str, ...]) -> None:
    scenario = parse_scenario(variant(schedule=slot(*first) + slot(*second)), FILE)
    assert len(scenario.slots) == 2


def test_the_same_hour_on_two_stations_is_accepted() -> None:
    text = variant(
        (
            '[[library.tracks]]\nid = "song-a"',
            '[[stations]]\nid = "second"\nname = "Two"\n\n[[library.tracks]]\nid = "song-a"',
        ),
        schedule=slot('station = "main"', *MON_10_12) + slot('station = "second"', *MON_10_12),
        timeline="",
    )
    scenario = parse_scenario(text, FILE)
    assert [s.station for s in scenario.slots] == ["main", "second"]


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            ('days = ["sat", "sun"]', 'start = "12:00"', 'duration = "25h"', 'playlist = "morning"'),
            id="sat-sun-25h",
        ),
        pytest.param(
            ('days = "daily"', 'start = "12:00"', 'duration = "2d"', 'playlist = "morning"'), id="daily-2d"
        ),
    ],
)
def test_recurring_entry_overlapping_itself(entry: tuple[str, ...]) -> None:
    assert_single(variant(schedule=slot(*entry)), "schedule[0]", "duration", "overlaps")


# --------------------------------------------------------------------------- several stations


def test_station_is_required_everywhere_when_there_are_two() -> None:
    text = variant(
        (
            '[[library.tracks]]\nid = "song-a"',
            '[[stations]]\nid = "second"\nname = "Two"\n\n[[library.tracks]]\nid = "song-a"',
        ),
        add=event('at = "+16h"', 'action = "skip"')
        + event('at = "+17h"', 'action = "skip"', 'station = "second"'),
    )
    problems = problems_of(text)
    # Every schedule entry, and every timeline action that acts on a station (not the
    # webstream outage at timeline[0], nor timeline[7], which names its station).
    assert places(problems) == [
        ("schedule[0]", "station"),
        ("schedule[1]", "station"),
        ("schedule[2]", "station"),
        ("timeline[1]", "station"),
        ("timeline[2]", "station"),
        ("timeline[3]", "station"),
        ("timeline[4]", "station"),
        ("timeline[5]", "station"),
        ("timeline[6]", "station"),
    ]
    assert {p.message for p in problems} == {"required when the scenario has more than one station"}


# --------------------------------------------------------------------------- crashes found


@pytest.mark.parametrize(
    ("edit", "table", "key"),
    [
        pytest.param(('crossfade = "2s"', "crossfade = inf"), "stations[0]", "crossfade", id="inf"),
        pytest.param(('duration = "6h"', "duration = nan"), "schedule[0]", "duration", id="nan"),
        pytest.param(
            ('duration = "3m"\n', f'duration = "{"9" * 400}s"\n'),
            "library.tracks[0]",
            "duration",
            id="400-digits",
        ),
    ],
)
def test_unrepresentable_duration(edit: tuple[str, str], table: str, key: str) -> None:
    assert places(problems_of(variant(edit))) == [(table, key)]


@pytest.mark.parametrize(
    ("edit", "table"),
    [
        pytest.param(
            ('start = "2026-01-19T00:00:00Z"', 'start = "9999-12-31T23:59:59-01:00"'), "scenario", id="start"
        ),
        pytest.param(
            ('at = "2026-01-19T13:00:00Z"', 'at = "9999-12-31T23:59:59-01:00"'), "timeline[3]", id="timeline"
        ),
        pytest.param(
            ('at = "+11h"', 'at = "0001-01-01T00:00:00+01:00"'), "timeline[1]", id="timeline-year-1"
        ),
    ],
)
def test_instant_out_of_range(edit: tuple[str, str], table: str) -> None:
    key = "start" if table == "scenario" else "at"
    assert places(problems_of(variant(edit))) == [(table, key)]


def test_problem_with_a_newline_in_the_key_is_one_line() -> None:
    problems_of(variant(('crossfade = "2s"', '"cross\\nfade" = "2s"')))


# --------------------------------------------------------------------------- several problems at once


def test_every_structural_problem_is_reported() -> None:
    text = variant(
        ("seed = 7", "sede = 7"),
        ('crossfade = "2s"', 'crossfade = "4 sec"'),
        ('username = "DJ Sarah"\n', ""),
        ("http://two.example.org", "ftp://two.example.org"),
        ('start = "20:00"', 'start = "8pm"'),
        ('days = "weekdays"', 'days = ["mon", "funday"]'),
        ("url = 0", "url = true"),
    )
    problems = problems_of(text)
    assert len(problems) == 7
    assert places(problems) == [  # sorted by table, then key
        ("djs[0]", "username"),
        ("scenario", "sede"),
        ("schedule[1]", "days"),
        ("schedule[2]", "start"),
        ("stations[0]", "crossfade"),
        ("timeline[0]", "url"),
        ("webstreams[0]", "urls[1]"),
    ]


def test_every_reference_and_meaning_problem_is_reported() -> None:
    text = variant(
        ('tracks = ["song-a", "song-b"]', 'tracks = ["song-a", "song-z"]'),
        ('crossfade = "2s"', 'crossfade = "40s"'),
        ('dj = "sarah"\ntitle', 'dj = "mike"\ntitle'),
        ('media = "alert"', 'media = "alarm"'),
        ("url = 0", "url = 5"),
        ('override = "news"', 'override = "weather"'),
        add=slot('at = "2026-01-19T05:00:00Z"', 'duration = "30m"', 'playlist = "morning"')
        + '\n[[djs]]\nid = "sarah"\nusername = "Again"\n',
    )
    problems = problems_of(text)
    assert len(problems) == 8
    assert sorted(places(problems)) == sorted(
        [
            ("stations[0]", "crossfade"),
            ("playlists[0]", "tracks[1]"),
            ("djs[1]", "id"),
            ("schedule[2]", "dj"),
            ("schedule[3]", "at"),  # overlaps the relay, schedule[0]
            ("timeline[0]", "url"),
            ("timeline[3]", "media"),
            ("timeline[5]", "override"),
        ]
    )


def test_structural_and_reference_problems_are_reported_together() -> None:
    text = variant(('crossfade = "2s"', 'crosfade = "2s"'), ('playlist = "morning"', 'playlist = "mornin"'))
    assert sorted(places(problems_of(text))) == [("schedule[1]", "playlist"), ("stations[0]", "crosfade")]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param(
            [('dj = "sarah"\nmount = "live"', 'dj = "sara"\nmount = "live"\ncolour = "red"')],
            [("timeline[1]", "colour"), ("timeline[1]", "dj")],
            id="a-dangling-reference-in-an-entry-with-an-unknown-key",
        ),
        pytest.param(
            [('title = "Song A"\n', ""), ('media = "alert"', 'media = "alarm"')],
            [("library.tracks[0]", "title"), ("timeline[3]", "media")],
            id="a-dangling-reference-and-a-track-without-its-title",
        ),
        pytest.param(
            [("seed = 7", "sede = 7"), ('at = "+15h"', 'at = "+1d1h"')],
            [("scenario", "sede"), ("timeline[5]", "at")],
            id="a-late-entry-and-an-unknown-key",
        ),
        pytest.param(
            [('username = "DJ Sarah"\n', ""), ('mount = "live"', 'mount = "studio"')],
            [("djs[0]", "username"), ("timeline[1]", "mount")],
            id="a-missing-key-and-a-missing-mount",
        ),
    ],
)
def test_the_meaning_of_a_refused_file_is_checked_in_the_same_run(
    edits: list[tuple[str, str]], expected: list[tuple[str, str]]
) -> None:
    # Each pair took two runs of check: a schema problem hid the rest of its entry, or stopped
    # the builder at the key it lacked.
    assert places(problems_of(variant(*edits))) == expected


# --------------------------------------------------------------------------- one run, every problem, placed

DATA = Path(__file__).parent / "data"

SIX_KINDS_REPORT = """\
six-kinds.toml:20:1: library.tracks[1], key 'title': required key is missing
six-kinds.toml:8:1: scenario, key 'sede': unknown key 'sede' (did you mean 'seed'?); allowed here: name, \
description, start, duration, speed, seed, schedule_window, schedule_refresh
six-kinds.toml:13:1: stations[0], key 'crossfade': must be at most 30s
six-kinds.toml:53:1: timeline[0], key 'colour': unknown key 'colour'; allowed here: at, every, count, \
action, note, station, dj, mount, source_ip, transition, priority
six-kinds.toml:60:1: timeline[1], key 'duration': '-3m' must be positive
six-kinds.toml:26:21: playlists[0], key 'tracks[1]': no track has the id 'song-z' (did you mean 'song-b'?)
six-kinds.toml:41:1: schedule[0], key 'playlist': no playlist has the id 'mornin' (did you mean 'morning'?)
six-kinds.toml:45:1: schedule[1], key 'start': overlaps schedule[0] on station 'main' from \
2026-01-19T07:00:00Z; both cannot play
six-kinds.toml:52:1: timeline[0], key 'dj': no dj has the id 'sara' (did you mean 'sarah'?)
six-kinds.toml:63:1: timeline[2], key 'at': +3h is after the scenario's end (+1h)
"""

INLINE_TABLES_REPORT = """\
inline-tables.toml:8:47: djs[0], key 'pasword': unknown key 'pasword' (did you mean 'password'?); allowed \
here: id, uuid, username, password
inline-tables.toml:2:80: scenario, key 'speed': must be from 0.001 to 1,000,000
inline-tables.toml:4:33: stations[0], key 'crossfade': -2 must not be negative
inline-tables.toml:21:1: timeline[1], key 'every': '-10m' must be at least 5s
inline-tables.toml:10:55: schedule[0], key 'playlist': no playlist has the id 'none'
inline-tables.toml:11:5: schedule[1], key 'at': overlaps schedule[0] on station 'main' from \
2026-01-19T00:30:00Z; both cannot play
inline-tables.toml:15:1: timeline[0], key 'at': 2026-01-18T23:00:00Z is before the scenario's start
inline-tables.toml:23:1: timeline[1], key 'station': no station has the id 'mian' (did you mean 'main'?)
"""


@pytest.mark.parametrize(
    ("name", "report"),
    [
        pytest.param("six-kinds.toml", SIX_KINDS_REPORT, id="tables"),
        pytest.param("inline-tables.toml", INLINE_TABLES_REPORT, id="inline-tables"),
    ],
)
def test_check_reports_every_kind_of_problem_in_one_run_with_its_line_and_column(
    name: str, report: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unknown keys, missing keys, values out of range, negative durations, dangling references,
    # overlaps and timeline entries outside the scenario: the schema's problems (by table and
    # key), then the builder's (in the order it finds them).
    monkeypatch.chdir(DATA)
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    status = main(["check", name])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == report


def test_a_problem_names_its_line_and_column() -> None:
    assert str(Problem("f.toml", "djs[0]", "id", "bad", 4, 7)) == "f.toml:4:7: djs[0], key 'id': bad"
    assert (
        str(Problem("f.toml", "(top level)", None, "too much", None, None)) == "f.toml: (top level): too much"
    )


@pytest.mark.parametrize(
    ("edit", "table", "key", "line"),
    [
        pytest.param(
            ("seed = 7", 'seed = 7\nspeed = "fast"'), "scenario", "speed", 'speed = "fast"', id="a-key"
        ),
        pytest.param(
            ('username = "DJ Sarah"\n', ""), "djs[0]", "username", "[[djs]]", id="a-missing-key-at-its-table"
        ),
        pytest.param(
            ('tracks = ["song-a", "song-b"]', 'tracks = ["song-a",\n  "song_b"]'),
            "playlists[0]",
            "tracks[1]",
            '  "song_b"]',
            id="a-list-item",
        ),
        pytest.param(
            ('crossfade = "2s"', '"cross fade" = "2s"'),
            "stations[0]",
            "cross fade",
            '"cross fade" = "2s"',
            id="a-quoted-key",
        ),
        pytest.param(
            (
                '[[stations.mounts]]\nid = "live"\npath = "/live"',
                '[[stations.mounts]]\nid = "live"\npath = "live"',
            ),
            "stations[0].mounts[1]",
            "path",
            'path = "live"',
            id="in-an-array-of-tables-in-one",
        ),
    ],
)
def test_a_problem_is_placed_at_its_key(edit: tuple[str, str], table: str, key: str, line: str) -> None:
    text = variant(edit)
    (problem,) = problems_of(text)
    assert (problem.table, problem.key) == (table, key)
    assert problem.line is not None and problem.column is not None
    assert text.splitlines()[problem.line - 1] == line
    assert problem.column == len(line) - len(line.lstrip()) + 1


def test_a_problem_after_strings_and_comments_that_look_like_tables_is_placed_at_its_key() -> None:
    text = (
        BASE.replace("seed = 7", 'description = """\n[[stations]]\nseed = "not a key"\n"""\nseed = 7')
        .replace('name = "error-base"', "name = 'error-base'  # [not.a.table] ]]")
        .replace("\n", "\r\n")
        + "\r\n[harbor]\r\nports = { tcp = [1, 2], 'udp' = {} }\r\n"
    )
    (problem,) = problems_of(text)
    assert (problem.table, problem.key, problem.line, problem.column) == (
        "harbor",
        "ports",
        text.split("\r\n").index("ports = { tcp = [1, 2], 'udp' = {} }") + 1,
        1,
    )


def _paths(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, id=path.name)
        for path in sorted((Path(__file__).parents[1] / "scenarios").glob("*.toml"))
    ],
)
def test_every_key_and_item_of_a_shipped_scenario_has_its_place(path: Path) -> None:
    # Every table, key and list item a problem could name is found where the text spells it.
    text = path.read_text(encoding="utf-8")
    found = positions.places(text)
    lines = text.splitlines()
    for value_path in _paths(tomllib.loads(text)):
        line, column = found[value_path]
        spelled = lines[line - 1][column - 1 :]
        last = value_path[-1]
        if isinstance(last, str):
            assert last in lines[line - 1], (value_path, line)
        else:
            assert spelled and spelled[0] not in " ,]", (value_path, spelled)


def test_a_catalog_problem_is_placed_too(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[catalog]\ndefault = "gamma"\n\n[scenarios.alpha]\nfile = "a.toml"\ndescription = "A"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_catalog(catalog)
    assert [str(p) for p in caught.value.problems] == [
        f"{catalog}:2:1: catalog, key 'default': 'gamma' is not in [scenarios]"
    ]
    catalog.write_text('[catalog]\ndefault = "alpha"\n\n[scenarios.alpha]\nfile = 1\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_catalog(catalog)
    assert [(p.table, p.line, p.column) for p in caught.value.problems] == [
        ("scenarios.alpha", 4, 1),  # its description is missing
        ("scenarios.alpha.file", 5, 1),
    ]


def test_a_problem_of_the_whole_file_has_no_line() -> None:
    text = variant(("[scenario]", 'description = "no [scenario] table at all"\n\n[other]'))
    problems = problems_of(text)
    assert [(p.table, p.key, p.line) for p in problems if p.key == "scenario"] == [
        ("(top level)", "scenario", None)
    ]


# --------------------------------------------------------------------------- timeline within the scenario


@pytest.mark.parametrize(
    ("at", "message"),
    [
        pytest.param("+1d1m", "+1d1m is after the scenario's end (+1d)", id="offset"),
        pytest.param(
            "2026-01-20T00:00:01Z",
            "2026-01-20T00:00:01Z is after the scenario's end (2026-01-20T00:00:00Z)",
            id="instant",
        ),
    ],
)
def test_a_timeline_entry_after_the_end(at: str, message: str) -> None:
    problem = assert_single(variant(('at = "+15h"', f'at = "{at}"')), "timeline[5]", "at")
    assert problem.message == message


@pytest.mark.parametrize("at", ["+1d", "2026-01-20T00:00:00Z"])
def test_a_timeline_entry_at_the_very_end_is_accepted(at: str) -> None:
    parse_scenario(variant(('at = "+15h"', f'at = "{at}"')), FILE)


@pytest.mark.parametrize(
    ("edit", "place"),
    [
        pytest.param(
            ('duration = "1d"', 'duration = "40d"'), ("scenario", "duration"), id="refused-duration"
        ),
        pytest.param(
            ('start = "2026-01-19T00:00:00Z"', "start = 5"), ("scenario", "start"), id="refused-start"
        ),
    ],
)
def test_entries_are_not_judged_against_a_refused_start_or_end(
    edit: tuple[str, str], place: tuple[str, str]
) -> None:
    # The defaults standing in for them would make the entry look early or late.
    text = variant(edit, ('at = "+15h"', 'at = "+1d1h"'))
    assert places(problems_of(text)) == [place]


# --------------------------------------------------------------------------- negative durations


@pytest.mark.parametrize(
    ("edit", "table", "key", "message"),
    [
        pytest.param(
            ('duration = "5m"', 'duration = "-3m"'),
            "timeline[0]",
            "duration",
            "'-3m' must be positive",
            id="-3m",
        ),
        pytest.param(
            ('crossfade = "2s"', "crossfade = -2"),
            "stations[0]",
            "crossfade",
            "-2 must not be negative",
            id="-2",
        ),
        pytest.param(
            ('duration = "1d"', 'duration = "-1h30m"'),
            "scenario",
            "duration",
            "'-1h30m' must be positive",
            id="-1h30m",
        ),
        pytest.param(
            ('duration = "5m"', 'duration = "-3 minutes"'),
            "timeline[0]",
            "duration",
            "'-3 minutes' is not a duration such as 90s, 15m, 2h, 7d or 1h30m",
            id="not-a-duration-either",
        ),
    ],
)
def test_a_negative_duration_must_be_positive(
    edit: tuple[str, str], table: str, key: str, message: str
) -> None:
    assert assert_single(variant(edit), table, key).message == message


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.table, problem.key) == (str(path), "", None)
    assert problem.message.startswith("cannot read the file: ")
    assert_one_line(problem, str(path))


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.table, problem.key) == (str(tmp_path), "", None)
    assert "cannot read the file" in problem.message


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace('"Test Radio"', '"Radio Fr\xe9quence"').encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.table, problem.key) == (str(path), "", None)
    assert problem.message.startswith("not UTF-8 text")
    assert_one_line(problem, str(path))


def test_load_scenario_names_the_file_in_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(variant(('playlist = "morning"', 'playlist = "mornin"')), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    (problem,) = caught.value.problems
    assert (problem.file, problem.table, problem.key) == (str(path), "schedule[1]", "playlist")
    line = path.read_text(encoding="utf-8").splitlines().index('playlist = "mornin"') + 1
    assert str(problem).startswith(
        f"{path}:{line}:1: schedule[1], key 'playlist': no playlist has the id 'mornin'"
    )


# --------------------------------------------------------------------------- the command line

BAD = variant(
    ('crossfade = "2s"', 'crossfade = "45s"'),
    ('playlist = "morning"', 'playlist = "mornin"'),
    ("url = 0", "url = 9"),
)
BAD_PLACES = [("stations[0]", "crossfade"), ("schedule[1]", "playlist"), ("timeline[0]", "url")]
BAD_LINES = [
    BAD.splitlines().index(line) + 1 for line in ('crossfade = "45s"', 'playlist = "mornin"', "url = 9")
]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """good.toml, bad.toml and a catalog of two names, with the cwd and environment out of the way."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)
    good = tmp_path / "good.toml"
    good.write_text(BASE, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        '[catalog]\ndefault = "alpha"\n\n'
        '[scenarios.alpha]\nfile = "good.toml"\ndescription = "the good one"\n\n'
        '[scenarios.beta]\nfile = "good.toml"\ndescription = "the good one again"\n',
        encoding="utf-8",
    )
    return {"good": good, "bad": bad, "catalog": catalog}


def test_bad_fixture_has_exactly_its_three_problems() -> None:
    assert places(problems_of(BAD)) == BAD_PLACES


def test_check_reports_ok_and_every_problem(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "check", str(files["good"]), str(files["bad"])])
    out, err = capsys.readouterr()
    assert status == 2
    assert out.splitlines() == [
        f"ok: {files['good']} (error-base: 1 station(s), 4 tracks, 3 schedule entries, 7 timeline inputs)"
    ]
    lines = err.splitlines()
    assert len(lines) == 3
    bad = str(files["bad"])
    for line, (table, key), number in zip(lines, BAD_PLACES, BAD_LINES, strict=True):
        assert line.startswith(f"{bad}:{number}:1: {table}, key '{key}': "), line
    assert "must be at most 30s" in lines[0]
    assert "did you mean 'morning'?" in lines[1]
    assert "9 is not an index of webstream 'relay'" in lines[2]


def test_check_of_good_files_only_succeeds(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "check", str(files["good"]), "alpha"])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    assert [line.split(" (")[0] for line in out.splitlines()] == [f"ok: {files['good']}"] * 2


def test_check_reports_an_unreadable_file_and_goes_on(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = files["good"].parent / "missing.toml"
    status = main(["--catalog", str(files["catalog"]), "check", str(missing), str(files["good"])])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(f"{missing}: cannot read the file: ")
    assert len(err.splitlines()) == 1
    assert out.startswith(f"ok: {files['good']} ")


def test_run_of_a_bad_file_prints_one_error_line_and_runs_nothing(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "run", str(files["bad"])])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    where = f"{files['bad']}:{BAD_LINES[0]}:1"
    assert err == f"error: {where}: stations[0], key 'crossfade': must be at most 30s (and 2 more)\n"


def test_run_of_a_good_file_prints_events(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # The control for the test above: the same command on the good file does run.
    status = main(["--catalog", str(files["catalog"]), "run", str(files["good"]), "--until", "10m"])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_run_of_a_missing_file(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    missing = files["good"].parent / "missing.toml"
    status = main(["--catalog", str(files["catalog"]), "run", str(missing)])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith(f"error: {missing}: cannot read the file: ")
    assert err.count("\n") == 1


def test_run_of_an_unknown_catalog_name(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--catalog", str(files["catalog"]), "run", "gamma"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == "error: no scenario named 'gamma'; known: alpha, beta\n"


def test_a_close_unknown_name_gets_a_suggestion(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "run", "alpah"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == "error: no scenario named 'alpah'; known: alpha, beta (did you mean 'alpha'?)\n"


def test_check_reports_an_unknown_name_and_goes_on(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "check", "bet", str(files["good"])])
    out, err = capsys.readouterr()
    assert status == 2
    assert err == "no scenario named 'bet'; known: alpha, beta (did you mean 'beta'?)\n"
    assert out.startswith(f"ok: {files['good']} ")


def test_serve_of_an_unknown_name_is_one_line_and_serves_nothing(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--catalog", str(files["catalog"]), "serve", "gama", "--port", "0"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == "error: no scenario named 'gama'; known: alpha, beta\n"


@pytest.mark.parametrize("given", ["missing.toml", "sub/missing", "sub/missing.toml"])
def test_what_looks_like_a_path_gets_the_file_error(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], given: str
) -> None:
    status = main(["--catalog", str(files["catalog"]), "run", given])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == f"error: {given}: cannot read the file: No such file or directory\n"


def test_an_existing_file_without_the_toml_suffix_is_a_path(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (files["good"].parent / "mine").write_text(BASE, encoding="utf-8")
    status = main(["--catalog", str(files["catalog"]), "run", "mine", "--until", "1m"])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert json.loads(out.splitlines()[0])["type"] == "schedule_update"


def test_without_any_catalog_a_name_is_a_usage_error_and_a_path_still_runs(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No catalog anywhere: only an install that lost its package data gets here.
    monkeypatch.setattr("playout.drivers.cli.find_catalog", lambda explicit=None: None)
    assert main(["run", "alpha"]) == 2
    assert capsys.readouterr().err == (
        "error: no scenarios.toml found to look up 'alpha'; give a path or --catalog\n"
    )
    assert main(["run", "./good.toml", "--until", "1m"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        pytest.param(["--until", "5 parsecs"], "'5 parsecs' is not a duration", id="until"),
        pytest.param(["--types", "bogus"], "unknown event type bogus; known: ", id="types"),
    ],
)
def test_bad_run_options_are_usage_errors(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], option: list[str], shown: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--catalog", str(files["catalog"]), "run", str(files["good"]), *option])
    out, err = capsys.readouterr()
    assert caught.value.code == 2
    assert out == ""
    assert err.startswith("error: grimnir-sim run: argument ") and err.count("\n") == 1  # one line
    assert shown in err


def test_a_toml_datetime_with_an_offset_is_accepted() -> None:
    # TOML's native date-time is the natural way to write an instant; it reads like the string.
    scenario = parse_scenario(
        variant(('start = "2026-01-19T00:00:00Z"', "start = 2026-01-19T00:00:00Z")), "x.toml"
    )
    assert scenario.start.isoformat() == "2026-01-19T00:00:00+00:00"
