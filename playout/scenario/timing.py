"""When things happen in a scenario: the schedule's slots, the timeline's happenings, and their checks.

Slots of one station must not overlap, each timeline entry becomes the inputs its action
(:mod:`playout.scenario.actions`) stands for, and what recurs must fit the daily budget.
"""

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import attrs

from ..protocol.stationtime import DURATION_HINT, StationClock, format_duration, parse_duration, parse_instant
from .actions import TIMELINE_ACTIONS
from .model import DAY_MS, WEEK_MS, Happening, Playlist, Slot, Station, Track, Webstream
from .references import References
from .schema import MAX_RECURRING_PER_DAY

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SETS = {"daily": frozenset(range(7)), "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}


class Timing:
    """Builds and checks a scenario's schedule and timeline; problems go to the references' findings."""

    def __init__(self, refs: References, start: datetime, *, start_known: bool, end_ms: int | None) -> None:
        self.refs = refs
        self.findings = refs.findings
        self.start = start
        self.start_known = start_known
        """False when the schema refused the start: then no entry can be judged early or late."""
        self.end_ms = end_ms
        """The scenario's duration, which timeline entries must start within; None: not checked."""
        self.clock = StationClock(start)

    def slots(self, entries: list[tuple[int, dict[str, Any]]]) -> tuple[Slot, ...]:
        """The ``[[schedule]]`` entries, each a recurring or one-off slot."""
        result = []
        for index, entry in entries:
            table = f"schedule[{index}]"
            station = self.refs.station_of(table, entry)
            kinds = [k for k in ("playlist", "webstream", "dj") if k in entry]
            if len(kinds) != 1:
                self.findings.problem(
                    table,
                    None,
                    "needs exactly one of the keys 'playlist', 'webstream' or 'dj'",
                    about=["playlist", "webstream", "dj"],
                )
                continue
            ref = kinds[0]
            target = entry[ref]
            self.refs.lookup(table, target, ref)
            if "title" in entry and ref != "dj":
                self.findings.problem(table, "title", "only a live show (dj = ...) has a title")
            if "duration" not in entry:
                continue  # refused by the schema: its overlaps would be guesses
            duration = parse_duration(entry["duration"])
            crossfade = entry.get("crossfade")
            crossfade_ms = None if crossfade is None else parse_duration(crossfade)
            common = {
                "index": index,
                "station": station or "",
                "kind": "live" if ref == "dj" else ref,
                "target": target,
                "duration_ms": duration,
                "title": entry.get("title", ""),
                "crossfade_ms": crossfade_ms,
            }
            if "at" in entry:
                if "days" in entry or "start" in entry:
                    self.findings.problem(
                        table,
                        "at",
                        "a one-off entry has 'at'; a recurring one has 'days' and 'start', not both",
                    )
                    continue
                try:
                    at_ms = self.clock.offset_of(parse_instant(entry["at"]))
                except ValueError as exc:
                    self.findings.problem(table, "at", str(exc))
                    continue
                result.append(Slot(at_ms=at_ms, **common))
            else:
                missing = [k for k in ("days", "start") if k not in entry]
                if missing:
                    self.findings.problem(
                        table, missing[0], "required for a recurring entry (or give 'at' for a one-off)"
                    )
                    continue
                days = entry["days"]
                day_set = (
                    _DAY_SETS[days] if isinstance(days, str) else frozenset(_WEEKDAYS.index(d) for d in days)
                )
                hours, minutes = entry["start"].split(":")
                start_of_day = (int(hours) * 60 + int(minutes)) * 60_000
                ordered = sorted(day_set)
                gaps = [
                    ((ordered[(i + 1) % len(ordered)] - day - 1) % 7 + 1) * DAY_MS
                    for i, day in enumerate(ordered)
                ]
                if duration > min(gaps):
                    self.findings.problem(
                        table,
                        "duration",
                        f"is longer than the gap to the entry's next day "
                        f"({min(gaps) // 3_600_000}h); it overlaps its own next occurrence",
                    )
                result.append(Slot(days=day_set, start_of_day_ms=start_of_day, **common))
        return tuple(result)

    def check_overlaps(self, slots: tuple[Slot, ...]) -> None:
        """Two entries of one station that would be on air at once cannot both play.

        One-offs meet one-offs on the calendar; every other pair meets on one week, each
        entry folded onto it. Each entry is reported once, at the first entry it overlaps.
        """
        monday = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        monday_offset = self.clock.offset_of(monday) - self.start.weekday() * DAY_MS

        def weekly(slot: Slot) -> list[tuple[int, int]]:
            if slot.days is not None:
                starts = [day * DAY_MS + slot.start_of_day_ms for day in sorted(slot.days)]
            else:
                starts = [(slot.at_ms - monday_offset) % WEEK_MS]  # type: ignore[operator]
            spans = []
            for begin in starts:
                end = begin + slot.duration_ms
                spans.append((begin, min(end, WEEK_MS)))
                if end > WEEK_MS:
                    spans.append((0, end - WEEK_MS))
            return spans

        first_clash: dict[int, int] = {}  # position of an entry -> position of the first it overlaps
        by_station: dict[str, list[int]] = {}
        for position, slot in enumerate(slots):
            by_station.setdefault(slot.station, []).append(position)
        for positions in by_station.values():
            once = [p for p in positions if slots[p].at_ms is not None]
            calendar = [(slots[p].at_ms, slots[p].at_ms + slots[p].duration_ms, p) for p in once]
            folded = [(begin, end, p) for p in positions for begin, end in weekly(slots[p])]
            for first, second in _overlapping(calendar) | {
                (i, j)
                for i, j in _overlapping(folded)
                if slots[i].days is not None or slots[j].days is not None
            }:
                first_clash[second] = min(first, first_clash.get(second, first))
        for second, first in sorted(first_clash.items(), key=lambda pair: (pair[1], pair[0])):
            earlier, later = slots[first], slots[second]
            since = _first_collision(earlier, later, monday_offset)
            self.findings.problem(
                f"schedule[{later.index}]",
                "start" if later.days is not None else "at",
                f"overlaps schedule[{earlier.index}] on station '{earlier.station}' "
                f"from {self.clock.stamp(since)}; both cannot play",
            )

    def check_recurring(
        self,
        stations: tuple[Station, ...],
        tracks: dict[str, Track],
        playlists: dict[str, Playlist],
        webstreams: dict[str, Webstream],
        slots: tuple[Slot, ...],
        timeline: tuple[Happening, ...],
        refresh_ms: int,
    ) -> None:
        """What recurs bounds a day's work: at most :data:`MAX_RECURRING_PER_DAY` beats, track
        changes, checks, repeats and refreshes in a day of station time, each at its worst."""

        def per_day(interval_ms: int) -> int:
            return -(-DAY_MS // max(interval_ms, 1))

        # Automation may play any rotation or playlist track back to back, each cut short by the
        # longest crossfade the station may use (at most half the track).
        playable = {key for key, track in tracks.items() if track.rotation}
        playable.update(key for playlist in playlists.values() for key in playlist.tracks)
        shortest = [tracks[key].duration_ms for key in playable if key in tracks]
        track_changes = 0
        for station in stations:
            fades = [s.crossfade_ms or 0 for s in slots if s.station == station.key]
            fade = max([station.crossfade_ms, *fades])
            if shortest:
                track_changes += per_day(min(ms - min(fade, ms // 2) for ms in shortest))
        parts = {
            "health beats": sum(per_day(s.health_interval_ms) for s in stations if s.health_interval_ms > 0),
            "track changes": track_changes,
            "scripted checks": sum(
                per_day(w.probe.interval_ms) * len(w.urls)
                for w in webstreams.values()
                if w.probe.kind == "scripted"
            ),
            "timeline repeats": sum(
                min(per_day(h.every_ms), h.count or math.inf) for h in timeline if h.every_ms is not None
            ),
            "schedule refreshes": per_day(refresh_ms),
        }
        total = sum(parts.values())
        if total > MAX_RECURRING_PER_DAY:
            each = ", ".join(f"{name} {count:,}" for name, count in parts.items() if count)
            self.findings.problem(
                "(top level)",
                None,
                f"{total:,} recurring happenings a day at most ({each}), more than the "
                f"{MAX_RECURRING_PER_DAY:,} allowed; lengthen health_interval, the shortest tracks, "
                "a webstream's interval or a timeline entry's every",
            )

    def timeline(self, entries: list[tuple[int, dict[str, Any]]]) -> tuple[Happening, ...]:
        """The ``[[timeline]]`` entries as happenings: an entry's inputs, each at its time."""
        result: list[Happening] = []
        # A release may name an override of any entry, earlier or later.
        overrides = frozenset(e["name"] for _, e in entries if e.get("action") == "override" and "name" in e)
        refs = attrs.evolve(self.refs, overrides=overrides)
        for index, entry in entries:
            table = f"timeline[{index}]"
            at_ms = self.offset(table, entry["at"]) if "at" in entry else None
            every = entry.get("every")
            every_ms = None if every is None else parse_duration(every)
            if "count" in entry and every is None:
                self.findings.problem(
                    table, "count", "only a repeating entry (with 'every') has a count", about=["every"]
                )
            action = TIMELINE_ACTIONS.get(entry.get("action", ""))
            if action is None or any(key not in entry for key in action.required):
                continue  # the schema reported what it lacks: what it would do is unknown
            problems_before = len(self.findings.problems)
            made = action.inputs(refs, table, entry)
            if at_ms is None or len(self.findings.problems) != problems_before:
                continue  # an entry with a problem stands for nothing (its problems are reported)
            for delay, made_input in made:
                result.append(Happening(index, at_ms + delay, made_input, every_ms, entry.get("count")))
        return tuple(result)

    def offset(self, table: str, text: str) -> int | None:
        if text.startswith("+"):
            try:
                offset = parse_duration(text[1:])
            except ValueError:
                self.findings.problem(
                    table, "at", f"{text!r} is neither +{DURATION_HINT[2:]} nor an RFC 3339 instant"
                )
                return None
            return self.within(table, text, offset, lambda ms: f"+{format_duration(ms)}")
        try:
            offset = self.clock.offset_of(parse_instant(text))
        except ValueError as exc:
            self.findings.problem(table, "at", f"{exc}; or write an offset such as +2h30m")
            return None
        return self.within(table, text, offset, self.clock.stamp)

    def within(self, table: str, text: str, offset: int, spell: Callable[[int], str]) -> int | None:
        """``offset``, or None and a problem when it is before the scenario's start or after its end."""
        if not self.start_known:
            return offset
        if offset < 0:
            self.findings.problem(table, "at", f"{text} is before the scenario's start")
            return None
        if self.end_ms is None or offset <= self.end_ms:
            return offset
        self.findings.problem(table, "at", f"{text} is after the scenario's end ({spell(self.end_ms)})")
        return None


def _first_collision(first: Slot, second: Slot, monday_offset: int) -> int:
    """The first instant (ms from the start) at or after the start that both slots are on air; or,
    when every collision ends before the start (one-offs may be in the past), the first of them."""
    if first.at_ms is not None:
        around = first.at_ms
    elif second.at_ms is not None:
        around = second.at_ms
    else:
        around = 0  # two recurring slots collide again every week: look at the weeks about the start
    week = monday_offset + (around - monday_offset) // WEEK_MS * WEEK_MS
    collisions = sorted(
        (max(b1, b2), min(e1, e2))
        for b1, e1 in _occurrences(first, week)
        for b2, e2 in _occurrences(second, week)
        if max(b1, b2) < min(e1, e2)
    )
    return next((max(begin, 0) for begin, end in collisions if end > 0), collisions[0][0])


def _occurrences(slot: Slot, week: int) -> Iterator[tuple[int, int]]:
    """``(begin, end)`` of the slot in the week starting at ``week`` (a Monday's midnight), and those
    around it: a one-off once, a recurring slot from the week before to the week after."""
    if slot.at_ms is not None:
        yield slot.at_ms, slot.at_ms + slot.duration_ms
        return
    for weeks in (-1, 0, 1):
        for day in sorted(slot.days or ()):
            begin = week + weeks * WEEK_MS + day * DAY_MS + slot.start_of_day_ms
            yield begin, begin + slot.duration_ms


def _overlapping(spans: list[tuple[int, int, int]]) -> set[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of different owners whose ``(begin, end, owner)`` spans overlap."""
    pairs = set()
    active: list[tuple[int, int]] = []  # (end, owner) of the spans begun so far that may still overlap
    for begin, end, owner in sorted(spans):
        active = [(until, other) for until, other in active if until > begin]
        pairs.update((min(owner, other), max(owner, other)) for _, other in active if other != owner)
        active.append((end, owner))
    return pairs
