"""The ranges and limits of scenario files: what a hostile file found, and the bounds that stop it.

Nothing ``grimnir-sim check`` accepts may crash or stall ``run`` or ``serve``; each
finding below crashed, hung or took tens of seconds before the limits
(docs/scenarios.md, "Ranges and limits"). A refused file is one line per problem
and exit status 2, never a traceback.
"""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from playout import MAX_SPEED, MIN_SPEED, ScenarioError, parse_scenario
from playout.drivers.cli import main
from playout.scenario.catalog import CATALOG_ENV, load_catalog
from playout.scenario.schema import (
    MAX_DJS,
    MAX_FILE_BYTES,
    MAX_NESTING,
    MAX_SCHEDULE,
    MAX_TIMELINE,
    MAX_TRACKS,
)

HEAD = """\
[scenario]
name = "limits"
start = "2026-01-19T00:00:00Z"
duration = "1d"

[[stations]]
id = "main"
name = "Test Radio"

[[library.tracks]]
id = "song"
title = "Song"
duration = "3m"

[[djs]]
id = "sarah"
username = "DJ Sarah"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"]
"""


def edit(old: str, new: str, text: str = HEAD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write a scenario file (no catalog in the way) and give its path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CATALOG_ENV, raising=False)

    def write(text: str, name: str = "hostile.toml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """Run ``grimnir-sim ARGV`` expecting exit status 2; the lines it printed on stderr."""
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    return err.splitlines()


def where(path: str, key: str, value: str = "") -> str:
    """``path:line:1``: where a problem of ``key`` is reported, the one line that sets it (to ``value``…)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    (number,) = [n for n, line in enumerate(lines, 1) if line.startswith(f"{key} = {value}")]
    return f"{path}:{number}:1"


def only_problem(text: str) -> tuple[str, str | None, str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.toml")
    (problem,) = caught.value.problems
    return problem.table, problem.key, problem.message


# --------------------------------------------------------------------------- the findings


def test_a_309_digit_duration_is_refused_not_an_overflow(write, capsys) -> None:
    path = write(edit('duration = "1d"', f"duration = {'9' * 309}"))
    (line,) = refused(capsys, "check", path)
    assert line.startswith(f"{where(path, 'duration', '999')}: scenario, key 'duration': 99999")
    assert "(309 characters) is longer than ten years" in line


def test_a_number_too_long_for_python_is_a_toml_error_not_a_crash(write, capsys) -> None:
    (line,) = refused(capsys, "check", write(HEAD + f"\n[library]\ngenerate = {'9' * 5000}\n"))
    assert "invalid TOML" in line and "4300 digits" in line


@pytest.mark.parametrize(
    "nesting",
    [
        pytest.param(f"x = {'[' * 500}1{']' * 500}", id="500-deep-lists"),
        pytest.param(f"x = {'{a = ' * 500}1{'}' * 500}", id="500-deep-inline-tables"),
    ],
)
def test_500_deep_nesting_is_one_problem_before_parsing(write, capsys, nesting: str) -> None:
    path = write(HEAD + "\n[library]\n" + nesting + "\n")
    line_number = HEAD.count("\n") + 3
    assert refused(capsys, "check", path) == [
        f"{path}:{line_number}: tables and lists nested more than 16 deep"
    ]
    assert refused(capsys, "run", path) == [
        f"error: {path}:{line_number}: tables and lists nested more than 16 deep"
    ]


def test_2000_deep_table_headers_are_one_problem(write, capsys) -> None:
    # Dotted keys nest without brackets: tomllib builds them without recursion, the checks after it did not.
    path = write(HEAD + "\n[scenario" + ".a" * 2000 + "]\nb = 1\n")
    assert refused(capsys, "check", path) == [f"{path}: tables and lists nested more than 16 deep"]


def test_brackets_in_strings_and_comments_are_not_nesting() -> None:
    deep = "[" * 40
    text = edit(
        'title = "Song"', f'title = "{deep}"  # {deep}\nalbum = """\n{deep}\n"""\nartist = \'{deep}\''
    )
    assert parse_scenario(text, "x.toml").tracks["song"].title == deep


def test_nesting_at_the_limit_is_only_an_unknown_key() -> None:
    inline = "[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1)  # under [library]: one level more
    table, key, message = only_problem(HEAD + f"\n[library]\nx = {inline}\n")
    assert (table, key) == ("library", "x") and message.startswith("unknown key 'x'")


@pytest.mark.parametrize("speed", ["nan", "inf", "-inf"])
def test_a_speed_that_is_no_finite_number_is_refused_by_check_and_run(write, capsys, speed: str) -> None:
    path = write(edit('duration = "1d"', f'duration = "1d"\nspeed = {speed}'))
    assert refused(capsys, "check", path) == [
        f"{where(path, 'speed')}: scenario, key 'speed': {speed} is not a finite number"
    ]
    assert refused(capsys, "run", path, "--until", "1h") == [
        f"error: {where(path, 'speed')}: scenario, key 'speed': {speed} is not a finite number"
    ]


@pytest.mark.parametrize("speed", ["5e-324", "0.0009", "0", "-1", "1000000.5", "1e308", f"{'9' * 309}"])
def test_a_speed_out_of_range_is_refused(speed: str) -> None:
    assert only_problem(edit('duration = "1d"', f'duration = "1d"\nspeed = {speed}')) == (
        "scenario",
        "speed",
        "must be from 0.001 to 1,000,000",
    )


@pytest.mark.parametrize("speed", [MIN_SPEED, MAX_SPEED])
def test_the_speed_limits_are_accepted(speed: float) -> None:
    assert (
        parse_scenario(edit('duration = "1d"', f'duration = "1d"\nspeed = {speed!r}'), "x.toml").speed
        == speed
    )


@pytest.mark.parametrize(
    ("change", "table", "key", "message"),
    [
        pytest.param(
            ('name = "Test Radio"', 'name = "Test Radio"\nhealth_interval = "1ms"'),
            "stations[0]",
            "health_interval",
            "must be 0s (off) or from 5s to 1d",
            id="health_interval",
        ),
        pytest.param(
            ('duration = "1d"', 'duration = "1d"\nschedule_refresh = "1ms"\nschedule_window = "1m"'),
            "scenario",
            "schedule_refresh",
            "must be from 1m to 28d",
            id="schedule_refresh",
        ),
        pytest.param(
            ('urls = ["http://one', 'interval = "1ms"\nurls = ["http://one'),
            "webstreams[0]",
            "interval",
            "must be from 1s to 1d",
            id="probe-interval",
        ),
        pytest.param(
            ("", '\n[[timeline]]\nat = "+1h"\naction = "skip"\nevery = "1ms"\n'),
            "timeline[0]",
            "every",
            "must be from 5s to 28d",
            id="every",
        ),
    ],
)
def test_a_1ms_interval_is_refused_by_check_and_run(
    write, capsys, change: tuple[str, str], table: str, key: str, message: str
) -> None:
    text = edit(*change) if change[0] else HEAD + change[1]
    path = write(text)
    assert refused(capsys, "check", path) == [f"{where(path, key)}: {table}, key '{key}': {message}"]
    assert refused(capsys, "run", path) == [f"error: {where(path, key)}: {table}, key '{key}': {message}"]


def test_100000_timeline_entries_are_refused_quickly(write, capsys) -> None:
    entries = "".join(f'\n[[timeline]]\nat = "+{i}s"\naction = "skip"\n' for i in range(100_000))
    path = write(HEAD + entries)
    began = time.perf_counter()
    assert refused(capsys, "check", path) == [f"{path}: larger than 512 KiB, the most a file may be"]
    assert time.perf_counter() - began < 2  # it was 22 s: the file is not even parsed


def test_a_timeline_over_its_count_is_refused_without_checking_each_entry(write, capsys) -> None:
    entries = ",\n".join(f'{{at = "+{i}s", action = "skip"}}' for i in range(MAX_TIMELINE + 1))
    path = write(HEAD.replace("[scenario]", f"timeline = [\n{entries}\n]\n\n[scenario]"))
    began = time.perf_counter()
    assert refused(capsys, "check", path) == [
        f"{path}:1:1: (top level), key 'timeline': has 5,001 entries, more than the 5,000 allowed"
    ]
    assert time.perf_counter() - began < 5


def test_a_file_at_the_limits_checks_in_well_under_the_old_22_seconds() -> None:
    # Long enough for its timeline (an entry a minute) to end within it.
    head = edit('duration = "1d"', 'duration = "4d"')
    parts = [edit('[[djs]]\nid = "sarah"\nusername = "DJ Sarah"\n', "", head)]
    parts += [f'[[djs]]\nid = "dj{n}"\nusername = "DJ {n}"\n' for n in range(MAX_DJS)]
    parts += [
        f'[[schedule]]\ndays = ["{("mon", "tue", "wed", "thu", "fri", "sat", "sun")[n % 7]}"]\n'
        f'start = "{n // 7 // 6:02d}:{n // 7 % 6 * 10:02d}"\nduration = "5m"\ndj = "dj{n}"\n'
        for n in range(MAX_SCHEDULE)
    ]
    parts += [
        f'[[timeline]]\nat = "+{n}m"\naction = "dj_connect"\ndj = "dj{n % MAX_DJS}"\n'
        for n in range(MAX_TIMELINE)
    ]
    size = sum(len(part) + 1 for part in parts)
    for n in range(MAX_TRACKS - 1):
        track = f'[[library.tracks]]\nid = "t{n}"\ntitle = "Track {n}"\nduration = "3m"\n'
        size += len(track) + 1
        if size > MAX_FILE_BYTES:
            break
        parts.append(track)
    text = "\n".join(parts)
    assert MAX_FILE_BYTES - 100 < len(text) <= MAX_FILE_BYTES
    began = time.perf_counter()
    scenario = parse_scenario(text, "x.toml")
    assert time.perf_counter() - began < 5  # about a second on a busy machine
    assert (len(scenario.slots), len(scenario.djs)) == (MAX_SCHEDULE, MAX_DJS)
    assert len(scenario.timeline) == MAX_TIMELINE


# --------------------------------------------------------------------------- bounds on a day's work


def test_recurring_work_over_the_daily_limit_is_refused() -> None:
    second = '[[stations]]\nid = "two"\nname = "Two"\nhealth_interval = "5s"\n\n[[library.tracks]]'
    text = edit('name = "Test Radio"', 'name = "Test Radio"\nhealth_interval = "5s"')
    table, key, message = only_problem(edit("[[library.tracks]]", second, text))
    assert (table, key) == ("(top level)", None)
    assert message == (
        "41,304 recurring happenings a day at most (health beats 34,560, track changes 960, "
        "scripted checks 5,760, schedule refreshes 24), more than the 30,000 allowed; lengthen "
        "health_interval, the shortest tracks, a webstream's interval or a timeline entry's every"
    )


def test_a_five_second_health_beat_is_within_the_daily_limit() -> None:
    text = edit('name = "Test Radio"', 'name = "Test Radio"\nhealth_interval = "5s"')
    assert parse_scenario(text, "x.toml").stations[0].health_interval_ms == 5000


def test_short_tracks_count_toward_the_daily_limit_as_track_changes() -> None:
    # 2 s tracks crossfaded by 1 s change every second: 86,400 a day.
    text = edit(
        'duration = "3m"',
        'duration = "2s"',
        edit('name = "Test Radio"', 'name = "Test Radio"\ncrossfade = "1s"'),
    )
    table, _, message = only_problem(text)
    assert table == "(top level)" and "track changes 86,400" in message
    assert (
        parse_scenario(edit('duration = "3m"', 'duration = "5s"'), "x.toml").tracks["song"].duration_ms
        == 5000
    )


def test_timeline_repeats_count_toward_the_daily_limit() -> None:
    repeat = '\n[[timeline]]\nat = "+1h"\naction = "skip"\nevery = "5s"\n'
    assert parse_scenario(HEAD + repeat, "x.toml").timeline[0].every_ms == 5000
    table, _, message = only_problem(HEAD + repeat * 2)
    assert table == "(top level)" and "timeline repeats 34,560" in message
    # A count bounds a repeat: two entries of a hundred repeats are fine.
    limited = repeat.replace('every = "5s"', 'every = "5s"\ncount = 100')
    assert len(parse_scenario(HEAD + limited * 2, "x.toml").timeline) == 2


# --------------------------------------------------------------------------- hostile but cheap to refuse


def test_many_unknown_references_get_hints_only_for_the_first_hundred() -> None:
    djs = "".join(f'\n[[djs]]\nid = "dj-{n:04d}"\nusername = "DJ {n}"\n' for n in range(MAX_DJS - 1))
    connects = "".join(
        f'\n[[timeline]]\nat = "+{n}m"\naction = "dj_connect"\ndj = "dx-{n:04d}"\n'
        for n in range(MAX_TIMELINE)
    )
    began = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:  # 4 days: each entry is within the scenario
        parse_scenario(edit('duration = "1d"', 'duration = "4d"') + djs + connects, "x.toml")
    assert time.perf_counter() - began < 5
    problems = caught.value.problems
    assert len(problems) == MAX_TIMELINE
    assert sum("did you mean" in p.message for p in problems) == 100


def test_overlapping_entries_are_a_problem_each_not_one_per_pair() -> None:
    entry = '\n[[schedule]]\ndays = "daily"\nstart = "10:00"\nduration = "1h"\ndj = "sarah"\n'
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + entry * MAX_SCHEDULE, "x.toml")
    problems = caught.value.problems
    assert len(problems) == MAX_SCHEDULE - 1  # was 124,750, one for each pair
    assert {p.message for p in problems} == {
        "overlaps schedule[0] on station 'main' from 2026-01-19T10:00:00Z; both cannot play"
    }


def test_a_table_of_40000_unknown_keys_is_one_short_problem() -> None:
    keys = "".join(f"k{n:05d} = 1\n" for n in range(40_000))
    began = time.perf_counter()
    table, key, message = only_problem(edit('duration = "1d"\n', 'duration = "1d"\n' + keys))
    assert time.perf_counter() - began < 5  # 8 s, for a problem of 400 KB
    assert (table, key) == ("scenario", None)
    assert message.startswith("unknown keys 'k00000', 'k00001', ")
    assert "'k00009', and 39,990 more; allowed here: name, " in message
    assert len(message) < 300


def test_a_list_of_60000_days_is_refused_by_its_count() -> None:
    days = ", ".join(['"mon"'] * 60_000)
    entry = f'\n[[schedule]]\ndays = [{days}]\nstart = "10:00"\nduration = "1h"\ndj = "sarah"\n'
    began = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + entry, "x.toml")
    assert time.perf_counter() - began < 2  # 3 s before
    assert [(p.table, p.key, p.message[:50]) for p in caught.value.problems] == [
        ("schedule[0]", "days", "has 60,000 entries, more than the 7 allowed"),
        ("schedule[0]", "days", "['mon', 'mon', 'mon'… (49 characters) is not one o"),
    ]


def test_a_catalog_is_held_to_the_same_size_and_nesting(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text('[catalog]\ndefault = "a"\n[scenarios.a]\nfile = "a.toml"\ndescription = ' + "[" * 500)
    with pytest.raises(ScenarioError) as caught:
        load_catalog(deep)
    assert [str(p) for p in caught.value.problems] == [f"{deep}:5: tables and lists nested more than 16 deep"]
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * MAX_FILE_BYTES)
    with pytest.raises(ScenarioError) as caught:
        load_catalog(big)
    assert [str(p) for p in caught.value.problems] == [f"{big}: larger than 512 KiB, the most a file may be"]


# --------------------------------------------------------------------------- the harbor's limits


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param(
            "address_failures = 5\nmount_failures = 5",
            "key 'mount_failures': must be greater than address_failures (5)",
            id="one-address-could-lock-a-mount",
        ),
        pytest.param(
            "address_failures = 20",
            "key 'address_failures': must be less than mount_failures (20, its default)",
            id="the-same-against-a-default",
        ),
        pytest.param(
            'address_lockout = "30s"',
            "key 'address_lockout': must be at least failure_window (1m, its default)",
            id="lockout-shorter-than-the-window",
        ),
        pytest.param(
            'failure_window = "10m"',
            "key 'failure_window': must be at most address_lockout (5m, its default)",
            id="window-longer-than-the-lockout",
        ),
        pytest.param(
            "max_pending_per_address = 100",
            "key 'max_pending_per_address': must be at most max_pending (64, its default)",
            id="more-from-one-address-than-in-all",
        ),
        pytest.param("max_pending = 0", "key 'max_pending': must be from 1 to 1,000", id="no-pending"),
        pytest.param(
            "max_head_bytes = 100000", "key 'max_head_bytes': must be from 1,024 to 65,536", id="huge-heads"
        ),
        pytest.param('head_timeout = "0s"', "key 'head_timeout': must be from 1s to 1m", id="no-time"),
        pytest.param("address_failures = 21", "key 'address_failures': must be from 1 to 20", id="failures"),
        pytest.param(
            "tracked_addresses = 1000000",
            "key 'tracked_addresses': must be from 1 to 50,000",
            id="unbounded-bookkeeping",
        ),
        pytest.param('mount_lockout = "8d"', "key 'mount_lockout': must be from 1s to 7d", id="lockout"),
    ],
)
def test_harbor_limits_out_of_range_or_defeating_themselves_are_one_line_from_check(
    write, capsys, table: str, message: str
) -> None:
    path = write(HEAD + f"\n[library]\ngenerate = 5\n\n[harbor]\nport = 0\n{table}\n")
    key = message.split("'")[1]
    assert refused(capsys, "check", path) == [f"{where(path, key)}: harbor, {message}"]


def test_harbor_limits_at_the_ends_of_their_ranges_are_accepted(write, capsys) -> None:
    table = (
        'max_pending = 1000\nmax_pending_per_address = 1000\nhead_timeout = "1s"\nmax_head_bytes = 1024\n'
        'address_failures = 20\nmount_failures = 1000\nfailure_window = "1d"\naddress_lockout = "7d"\n'
        'mount_lockout = "1s"\ntrusted_addresses = 50000\ntracked_addresses = 1\n'
    )
    assert main(["check", write(HEAD + f"\n[library]\ngenerate = 5\n\n[harbor]\n{table}")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
