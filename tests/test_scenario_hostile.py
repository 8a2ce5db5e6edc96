"""Hostile scenario files, generated from the scenario schema: ``check`` refuses them, or ``run`` ends.

Each example is a small valid scenario with a few of its numbers, durations and
counts (every one the schema has, found by walking it) set to a hostile value:
nan, inf, huge, tiny, negative, ``1ms``, and each side of the key's range. Written
as TOML, it must either be refused by ``grimnir-sim check`` (exit status 2, one
line per problem, no traceback) or run a whole day with ``grimnir-sim run``
within a wall-clock bound (in process, under an interval timer).

The examples start from a valid scenario rather than from hypothesis-jsonschema's
arbitrary documents: nearly all of those would be refused for their ids and
references before any number was looked at (and its latest release, 0.23.1, fails
on this hypothesis: ``'many' object has no attribute 'more'``).
"""

import contextlib
import copy
import io
import math
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from playout.drivers.cli import main
from playout.protocol.stationtime import format_duration
from playout.scenario.schema import DOCUMENT_SCHEMA, timeline_action_schema

RUN_SECONDS = 30.0
"""A day of the heaviest scenario check accepts takes about 20 s here; 1ms beats took hours."""

BASE: dict[str, Any] = {
    "scenario": {"name": "hostile", "start": "2026-01-19T00:00:00Z", "duration": "1d", "seed": 3},
    "stations": [{"id": "main", "name": "Hostile Radio", "crossfade": "2s", "mounts": [{"id": "main"}]}],
    "library": {
        "generate": 20,
        "tracks": [
            {"id": "song", "title": "Song", "duration": "3m"},
            {"id": "alert", "title": "Alert", "duration": "30s", "rotation": False},
        ],
    },
    "playlists": [{"id": "morning", "tracks": ["song"], "pick": 5, "shuffle": True}],
    "djs": [{"id": "sarah", "username": "DJ Sarah", "password": "hunter2"}],
    "webstreams": [
        {
            "id": "relay",
            "name": "Relay",
            "urls": ["http://one.example.org/s.mp3", "http://two.example.org/s.mp3"],
            "interval": "30s",
        }
    ],
    "schedule": [
        {"days": "daily", "start": "00:00", "duration": "2h", "webstream": "relay"},
        {"days": "weekdays", "start": "06:00", "duration": "4h", "playlist": "morning", "crossfade": "3s"},
    ],
    "timeline": [
        {"at": "+30m", "action": "webstream_outage", "webstream": "relay", "url": 0, "duration": "5m"},
        {"at": "+11h", "action": "dj_connect", "dj": "sarah", "every": "2h", "count": 3},
        {"at": "+12h", "action": "dj_disconnect", "dj": "sarah", "every": "2h", "count": 3},
        {"at": "+13h", "action": "emergency", "media": "alert"},
        {"at": "+15h", "action": "skip", "every": "1h"},
    ],
    "harbor": {"port": 0, "max_sources": 2, "source_timeout": "10s"},
}


def _numeric(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    return bool({"number", "integer"} & set(kinds)) or "durationRange" in schema


def numeric_slots(value: Any, schema: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple]:
    """Every place in ``value`` (a document shaped like :data:`BASE`) the schema gives a number or
    duration, present or not: ``(path, schema)``."""
    if isinstance(value, dict):
        for key, subschema in schema.get("properties", {}).items():
            if _numeric(subschema):
                yield (*path, key), subschema
            elif key in value:
                yield from numeric_slots(value[key], subschema, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            items = schema["items"]
            if path == ("timeline",):
                items = timeline_action_schema(item["action"])  # the branch of its action
            yield from numeric_slots(item, items, (*path, index))


SLOTS = sorted(numeric_slots(BASE, DOCUMENT_SCHEMA), key=lambda slot: [str(part) for part in slot[0]])
HUGE = [10**309, -(10**309), 2**63, -(2**63) - 1, 1e308, -1e308]
NOT_FINITE = [math.nan, math.inf, -math.inf]


def hostile_values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for one key: its range's edges from either side (about half are in it), and what no
    range holds."""
    if "durationRange" in schema:
        limits = schema["durationRange"]
        low = limits.get("minimum", limits.get("exclusiveMinimum", 0))
        edges = sorted({low - 1, low, low + 1, limits["maximum"], limits["maximum"] + 1} - {-1})
        inside = [format_duration(ms) for ms in edges if _in_range(ms, limits)]
        outside = [format_duration(ms) for ms in edges if not _in_range(ms, limits)]
        outside += ["1ms", "0s", "0.4ms", "9" * 309 + "s", "999999999d", -1, 5e-324, *HUGE, *NOT_FINITE]
        return st.sampled_from(inside) | st.sampled_from(outside) | st.floats()
    edges = [schema[k] for k in ("minimum", "maximum", "exclusiveMinimum") if k in schema]
    nearby = {edge + step for edge in edges for step in (-1, 0, 1)} | {edge * 2 for edge in edges}
    if "integer" in schema.get("type", ()):
        nearby = {int(n) for n in nearby}
        anything: st.SearchStrategy[Any] = st.integers()
    else:
        nearby |= {5e-324, 1e-300, 0.001}
        anything = st.floats()
    inside = sorted(n for n in nearby if _in_range(n, schema)) or [1]
    outside = sorted(n for n in nearby if not _in_range(n, schema))
    return st.sampled_from(inside) | st.sampled_from([*outside, 0, -1, *HUGE, *NOT_FINITE]) | anything


def _in_range(value: float, limits: dict[str, Any]) -> bool:
    if limits.get("off") and value == 0:
        return True
    if "exclusiveMinimum" in limits and not value > limits["exclusiveMinimum"]:
        return False
    return limits.get("minimum", -math.inf) <= value <= limits.get("maximum", math.inf)


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


@st.composite
def hostile_documents(draw: st.DrawFn) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    for path, schema in draw(st.lists(st.sampled_from(SLOTS), min_size=1, max_size=3, unique_by=str)):
        _set(document, path, draw(hostile_values(schema)))
    # Many repeating entries at once: each may be fine, together they may be too much.
    every = draw(hostile_values(timeline_action_schema("skip")["properties"]["every"]))
    copies = draw(st.sampled_from([0, 0, 1, 2, 40]))
    document["timeline"] += [{"at": "+1s", "action": "skip", "every": every}] * copies
    return document


class RunTooLong(Exception):
    pass


@contextlib.contextmanager
def wall_clock_limit(seconds: float) -> Iterator[None]:
    """Fail the test if what runs inside takes more than ``seconds`` of real time.

    An interval timer interrupts whatever the main thread runs; inside trio's own
    loop that surfaces as a ``TrioInternalError``, so every way out after the timer
    fired is turned into the one failure.
    """
    fired = False

    def expire(signum: int, frame: object) -> None:
        nonlocal fired
        fired = True
        raise RunTooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except BaseException:
        if not fired:
            raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        raise AssertionError(f"still running after {seconds:g} s of wall time")


def grimnir_sim(*argv: str) -> tuple[int, str]:
    """``grimnir-sim ARGV`` in process: its exit status and what it wrote on stderr."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, err.getvalue()


def test_the_base_scenario_is_valid_and_every_range_is_reached() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.toml"
        path.write_text(tomli_w.dumps(BASE), encoding="utf-8")
        assert grimnir_sim("check", str(path)) == (0, "")
    keys = {path[-1] for path, _ in SLOTS}
    assert {"speed", "health_interval", "schedule_refresh", "every", "count", "interval", "generate"} <= keys
    assert len(SLOTS) >= 30


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # shrinking a stalled run would stall again, 30 s a time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=hostile_documents())
def test_check_refuses_a_hostile_file_or_run_ends(document: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.toml"
        path.write_text(tomli_w.dumps(document), encoding="utf-8")
        status, err = grimnir_sim("check", str(path))
        if status == 2:
            assert err, "a refused file names its problems"
            assert all(line.startswith(str(path)) for line in err.splitlines()), err
            return
        assert (status, err) == (0, "")
        with wall_clock_limit(RUN_SECONDS):
            status, err = grimnir_sim("run", str(path), "--until", "1d")
        assert status == 0, err
        assert "Traceback" not in err
