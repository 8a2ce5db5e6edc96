"""The test station: run a scenario in process, drive it, step its clock, and assert its events.

A :class:`Station` records what a client would receive and drives a
:class:`~playout.StationRunner` on a manual clock, instant by instant, so a week of
station time passes in well under a second whatever trio clock the test runs on.
:func:`open_station` gives one to plain trio code; the pytest plugin
(``server/pytest_plugin.py``) gives one through its ``grimnir`` fixture. Needs trio,
not pytest; uses only what :mod:`playout` exports. See docs/testing.md.
"""

import difflib
import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import trio

from . import (
    DOCUMENTED,
    PROFILES,
    Emitted,
    Profile,
    Scenario,
    StationRunner,
    find_catalog,
    inputs,
    load_catalog,
    load_scenario,
    parse_duration,
    parse_scenario,
    translator_for,
    wire,
)
from .matching import Expected, Match, Recorded, as_match, as_names, check_names, event, listed

__all__ = [  # the matchers are playout.matching's, used from here with the station
    "UPDATE_ENV",
    "Expected",
    "Match",
    "Recorded",
    "ScenarioLike",
    "Station",
    "as_scenario",
    "event",
    "open_station",
    "start_station",
]

UPDATE_ENV = "GRIMNIR_UPDATE_GOLDEN"
"""Set (to anything) to have :meth:`Station.assert_golden` record golden logs instead of comparing."""
_AROUND = 5

ScenarioLike = str | Path | Scenario


class Station:
    """A running scenario: its recorded events, ways to drive it, and assertions."""

    def __init__(
        self, runner: StationRunner, *, update_golden: bool | None = None, profile: Profile = DOCUMENTED
    ) -> None:
        """Record ``runner``'s events through :meth:`record`; ``update_golden=None`` follows
        ``GRIMNIR_UPDATE_GOLDEN``; ``profile``: the wire the runner speaks (names are checked against it)."""
        self.runner = runner
        self.profile = profile
        self.scenario: Scenario = runner.scenario
        self.events: list[Recorded] = []
        self._cursor = 0
        self._arrived = trio.Event()
        self._update_golden = bool(os.environ.get(UPDATE_ENV)) if update_golden is None else update_golden

    # -- recording ---------------------------------------------------------------------------

    def record(self, batch: list[Emitted]) -> None:
        """The runner's publish callback: keep each event as a client would get it."""
        stamp = self.scenario.clock.stamp
        for emitted in batch:
            message = wire.to_message(emitted.event)
            self.events.append(
                Recorded(emitted.at_ms, stamp(emitted.at_ms), message["type"], message["payload"])
            )
        if batch:
            self._arrived.set()
            self._arrived = trio.Event()

    @property
    def now_ms(self) -> int:
        return self.runner.station_now_ms()

    @property
    def now(self) -> str:
        return self.scenario.clock.stamp(self.now_ms)

    def of_type(self, *types: str) -> list[Recorded]:
        """The events of these types so far (a type this station's wire never sends is refused)."""
        for name in types:
            self._check_names(name, {})
        return [e for e in self.events if e.type in types]

    # -- time ----------------------------------------------------------------------------------

    async def advance(self, duration: str | int | float) -> None:
        """Let ``duration`` of station time pass (``"90s"``, ``"15m"``, or seconds)."""
        await self._run_until(self.now_ms + parse_duration(duration))

    async def _run_until(self, target_ms: int, stop: Callable[[], bool] | None = None) -> None:
        """Let station time reach ``target_ms``, or stop early once ``stop()`` holds."""
        if self.runner.manual_clock:
            # One instant at a time, so an expectation met early stops the clock there.
            while self.now_ms < target_ms and not (stop and stop()):
                await self.runner.step_toward(target_ms)
            return
        with trio.move_on_at(self.runner.trio_time_at(target_ms)):
            while not (stop and stop()):
                await self._arrived.wait()

    # -- driving (the same operations as the control API) ---------------------------------------

    def _station_key(self, station: str | None) -> str:
        if station is not None:
            return station
        if len(self.scenario.stations) != 1:
            raise ValueError("this scenario has several stations: name one with station=")
        return self.scenario.stations[0].key

    async def submit(self, given: inputs.Input) -> list[Recorded]:
        """Apply any input now; return the events it produced."""
        before = len(self.events)
        await self.runner.submit(given)
        return self.events[before:]

    async def connect_dj(self, dj: str, *, station: str | None = None, **options: Any) -> list[Recorded]:
        return await self.submit(inputs.ConnectDj(station=self._station_key(station), dj=dj, **options))

    async def disconnect_dj(self, dj: str, *, station: str | None = None) -> list[Recorded]:
        return await self.submit(inputs.DisconnectDj(station=self._station_key(station), dj=dj))

    async def url_down(
        self, webstream: str, url: int = 0, reason: str = "connection_timeout"
    ) -> list[Recorded]:
        return await self.submit(inputs.UrlDown(webstream=webstream, url=url, reason=reason))  # type: ignore[arg-type]

    async def url_up(self, webstream: str, url: int = 0) -> list[Recorded]:
        return await self.submit(inputs.UrlUp(webstream=webstream, url=url))

    async def emergency(self, media: str, *, station: str | None = None) -> list[Recorded]:
        return await self.submit(inputs.InsertEmergency(station=self._station_key(station), media=media))

    async def override(self, name: str, *, station: str | None = None, **source: Any) -> list[Recorded]:
        return await self.submit(
            inputs.StartOverride(station=self._station_key(station), name=name, **source)
        )

    async def release(
        self, target: str, name: str | None = None, *, station: str | None = None
    ) -> list[Recorded]:
        given = inputs.Release(station=self._station_key(station), target=target, name=name)  # type: ignore[arg-type]
        return await self.submit(given)

    async def skip(self, *, station: str | None = None) -> list[Recorded]:
        return await self.submit(inputs.Skip(station=self._station_key(station)))

    # -- assertions ----------------------------------------------------------------------------

    async def expect(
        self, expected: Iterable[Expected], *, within: str | int | float = "5s", strict: bool = False
    ) -> list[Recorded]:
        """Wait until these events have happened, in this order, within ``within`` of station time.

        Matching starts after the last event a previous ``expect`` matched. Other
        events may come between, unless ``strict`` (then they must be consecutive).
        Returns the matched events; on failure the message shows what was
        expected, what arrived, and the log around it.
        """
        matchers = [as_match(e) for e in expected]
        if not matchers:
            raise ValueError("expect needs at least one event")
        for matcher in matchers:
            self._check_names(matcher.type, matcher.fields)
        start_ms = self.now_ms
        deadline = start_ms + parse_duration(within)
        found: list[int] = []

        def complete() -> bool:
            nonlocal found
            found = self._find(matchers, strict)
            return len(found) == len(matchers)

        if not complete():
            await self._run_until(deadline, complete)
        if complete():
            self._cursor = found[-1] + 1
            return [self.events[i] for i in found]
        raise AssertionError(self._explain(matchers, found, start_ms, deadline, strict))

    def _check_names(self, type_: str, fields: dict[str, Any]) -> None:
        """Refuse a type this station's wire never sends, or a payload key that type never has."""
        check_names(self.profile, type_, fields)

    def _find(self, matchers: list[Match], strict: bool) -> list[int]:
        events = self.events
        if not strict:
            found: list[int] = []
            for index in range(self._cursor, len(events)):
                if len(found) < len(matchers) and matchers[len(found)].matches(events[index]):
                    found.append(index)
            return found
        best: list[int] = []
        for first in range(self._cursor, len(events)):
            run = []
            for offset, matcher in enumerate(matchers):
                index = first + offset
                if index >= len(events) or not matcher.matches(events[index]):
                    break
                run.append(index)
            if len(run) == len(matchers):
                return run
            best = max(best, run, key=len)
        return best

    def _explain(
        self, matchers: list[Match], found: list[int], start_ms: int, deadline: int, strict: bool
    ) -> str:
        stamp = self.scenario.clock.stamp
        order = "consecutively" if strict else "in this order"
        lines = [
            self._headline(matchers[len(found)], found, stamp(deadline)),
            f"expected {order} by {stamp(deadline)} (waited from {stamp(start_ms)}):",
        ]
        for position, matcher in enumerate(matchers):
            if position < len(found):
                lines.append(f"  ✓ {matcher}  at {self.events[found[position]].at}")
            else:
                lines.append(f"  ✗ {matcher}  {'not seen' if position == len(found) else 'not reached'}")
        arrived = self.events[self._cursor :]
        lines.append(f"arrived since the last match ({len(arrived)}):")
        lines += listed(arrived, (m.type for m in matchers))
        before = self.events[max(0, self._cursor - _AROUND) : self._cursor]
        if before:
            lines.append(f"the {len(before)} events before them:")
            lines += [f"  {e.at} {e.type}" for e in before]
        return "\n".join(lines)

    def _headline(self, missing: Match, found: list[int], deadline: str) -> str:
        """The failure's first line: the first expectation not met, and what came instead."""
        after = found[-1] + 1 if found else self._cursor
        same_type = [e for e in self.events[after:] if e.type == missing.type]
        if not same_type:
            others = len(self.events) - after
            return f"expected {missing} by {deadline}, got no {missing.type} ({others} other event(s))"
        first = same_type[0]
        shown = ", ".join(f"{key}={first.payload.get(key)!r}" for key in missing.fields)
        got = f"{first.type} ({shown})" if shown else first.type
        more = f" and {len(same_type) - 1} more {missing.type}" if len(same_type) > 1 else ""
        return f"expected {missing} by {deadline}, got {got} at {first.at}{more}"

    async def expect_quiet(
        self, duration: str | int | float, *, types: str | Iterable[str] | None = None
    ) -> None:
        """Let ``duration`` pass and assert that nothing (of ``types``: one name, or several) happened."""
        wanted = set(as_names(types)) if types is not None else None
        for name in wanted or ():
            self._check_names(name, {})
        start = len(self.events)
        start_at = self.now
        await self.advance(duration)
        happened = [e for e in self.events[start:] if wanted is None or e.type in wanted]
        if happened:
            shown = "\n".join(f"  {e.at} {e.type} {orjson.dumps(e.payload).decode()}" for e in happened[:20])
            raise AssertionError(
                f"expected nothing from {start_at} to {self.now}, but got {len(happened)}:\n{shown}"
            )
        self._cursor = len(self.events)

    # -- golden logs -----------------------------------------------------------------------------

    def log(self) -> str:
        """The whole log, one JSON line per event with its station time (``at``)."""
        return "".join(e.line() + "\n" for e in self.events)

    def assert_golden(self, path: str | Path) -> None:
        """Compare the log with a recorded one; record it only when asked to update.

        A missing file fails, like a different one: a test whose golden log was never
        committed must not pass (record it with ``--grimnir-update-golden``).
        """
        path = Path(path)
        current = self.log()
        if self._update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(current, encoding="utf-8")
            return
        if not path.exists():
            raise AssertionError(
                f"no golden log at {path}: record this run's with pytest --grimnir-update-golden "
                f"(or {UPDATE_ENV}=1), read it, and commit it"
            )
        golden = path.read_text(encoding="utf-8")
        if golden == current:
            return
        diff = list(
            difflib.unified_diff(
                golden.splitlines(), current.splitlines(), f"{path} (golden)", "this run", lineterm="", n=2
            )
        )
        shown = "\n".join(diff[:80]) + (f"\n… {len(diff) - 80} more diff lines" if len(diff) > 80 else "")
        raise AssertionError(
            f"the event log differs from {path}:\n{shown}\n"
            f"(if the change is intended: pytest --grimnir-update-golden, or {UPDATE_ENV}=1)"
        )


def as_scenario(scenario: ScenarioLike) -> Scenario:
    """A catalog name, a path to a ``.toml`` file, TOML text (containing ``[scenario]``), or a Scenario."""
    if isinstance(scenario, Scenario):
        return scenario
    text = str(scenario)
    if "[scenario]" in text:
        return parse_scenario(text, "<inline scenario>")
    catalog_path = find_catalog()
    if catalog_path is None:
        return load_scenario(text)
    # An unknown name raises UnknownScenario, listing the catalog's names.
    return load_scenario(load_catalog(catalog_path).resolve(text))


def _checked_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile '{profile}'; known: {', '.join(PROFILES)}")


async def start_station(
    nursery: trio.Nursery,
    scenario: ScenarioLike,
    *,
    update_golden: bool | None = None,
    profile: str = "documented",
    health_tick_ms: int = 250,
) -> Station:
    """Run ``scenario`` on a manual clock in ``nursery`` (until it is cancelled); return its Station.

    ``profile``: the wire it speaks (``documented`` or ``grimnir``, docs/fidelity.md); with
    ``grimnir``, each playing mount's ``health`` snapshot comes every ``health_tick_ms`` of
    station time (the real server's 250 ms; a longer tick makes long waits quicker).
    """
    _checked_profile(profile)
    loaded = as_scenario(scenario)
    station: Station | None = None

    def record(batch: list[Emitted]) -> None:
        assert station is not None
        station.record(batch)

    translator = translator_for(PROFILES[profile], loaded, health_tick_ms)
    runner = StationRunner(loaded, record, manual_clock=True, real_probes=False, translator=translator)
    station = Station(runner, update_golden=update_golden, profile=PROFILES[profile])
    await nursery.start(runner.run)
    return station


@asynccontextmanager
async def open_station(
    scenario: ScenarioLike,
    *,
    update_golden: bool | None = None,
    profile: str = "documented",
    health_tick_ms: int = 250,
) -> AsyncIterator[Station]:
    """``async with open_station("dj-takeover") as station:``, a Station for the block, stopped after it.

    An unknown scenario raises before anything starts, and an error of the block (a failed
    ``expect``'s AssertionError) comes out as itself, not inside the nursery's exception group.
    """
    _checked_profile(profile)
    loaded = as_scenario(scenario)
    try:
        async with trio.open_nursery() as nursery:
            station = await start_station(
                nursery, loaded, update_golden=update_golden, profile=profile, health_tick_ms=health_tick_ms
            )
            yield station
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        only = group.exceptions[0] if len(group.exceptions) == 1 else None
        if isinstance(only, Exception):
            raise only from None
        raise
