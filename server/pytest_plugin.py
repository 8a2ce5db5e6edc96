"""pytest plugin: run a scenario in a test, drive it, and assert its event sequence.

Installed with grimnir-sim (entry point ``pytest11``); needs pytest-trio. Two fixtures:

``grimnir``
    Runs scenarios in process in virtual time: station time moves only when the
    test waits (``expect``, ``advance``), instant by instant, so a week passes in
    well under a second whatever trio clock the test runs on.
    ``await grimnir.start(scenario)`` returns a :class:`playout.testing.Station`
    (``playout.testing.open_station`` gives the same without pytest).

``grimnir_server``
    Serves a scenario on a free loopback port in real time, with a manual station
    clock by default, for tests of a client: ``await grimnir_server.serve(scenario)``
    returns a :class:`ServedStation` with ``url``, ``events_url`` and ``token``.
    ``await grimnir_server.shared(scenario)`` reuses one server for every test that asks
    for the same scenario and options, reset (``POST /api/v1/sim/reset``) before each
    test after the first: a :class:`SharedServer` (:func:`shared_station` gives the same
    to tests without trio, e.g. a browser's).

A scenario is a catalog name (``"dj-takeover"``), a path, TOML text, or a
:class:`playout.Scenario`. See docs/testing.md for a worked example.

:func:`expected_from` (also ``grimnir.expected_from``) loads a recording
(``grimnir-sim record``, docs/record-replay.md) as the sequence to ``expect``.
"""

import os
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio

from playout import DOCUMENTED, PROFILES, recording
from playout.matching import Match, as_names, check_fields, event
from playout.testing import UPDATE_ENV, ScenarioLike, Station, as_scenario, start_station

from .auth import SigningKey, mint
from .serve import RunningServer, serve
from .service import ServerSettings, StationService
from .shared import SharedServer, scenario_key, shared_server, stop_shared_servers


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grimnir-sim")
    group.addoption(
        "--grimnir-update-golden",
        action="store_true",
        help=f"rewrite golden event logs instead of comparing them (or set {UPDATE_ENV}=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "grimnir: a test of a grimnir-sim scenario")


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_shared_servers(config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A failed expectation in a test that uses this plugin's fixtures is reported as itself.

    pytest-trio runs the test in a nursery, which wraps whatever the test raises in an
    exception group; a lone AssertionError (``expect``'s explanation) comes out bare, so
    pytest's report and summary line start with what was expected and what came instead.
    """
    try:
        return (yield)
    except BaseExceptionGroup as group:
        fixtures = getattr(item, "fixturenames", ())
        leaf = _lone_leaf(group)
        if isinstance(leaf, AssertionError) and ("grimnir" in fixtures or "grimnir_server" in fixtures):
            raise leaf from None
        raise


def _lone_leaf(group: BaseExceptionGroup) -> BaseException | None:
    """The one exception inside nested single-member groups, else None."""
    while len(group.exceptions) == 1:
        only = group.exceptions[0]
        if not isinstance(only, BaseExceptionGroup):
            return only
        group = only
    return None


class ServedStation(Station):
    """A station served on a loopback port: connect a client to ``events_url`` with ``token``."""

    def __init__(self, service: StationService, running: RunningServer, token: str, **options: Any) -> None:
        super().__init__(service.runner, profile=service.settings.wire_profile, **options)
        self.service = service
        self.server = running
        self.url = running.url
        self.events_url = running.events_url
        self.token = token

    def events_url_with(self, types: str | Iterable[str] = ()) -> str:
        """The events URL with the token and, if given, a ``types`` filter (one name, or several)."""
        names = as_names(types)
        for name in names:
            self._check_names(name, {})
        query = f"token={self.token}"
        if names:
            query = f"types={','.join(names)}&" + query
        return f"{self.events_url}?{query}"


def expected_from(
    path: str | Path, *, types: str | Iterable[str] | None = None, fields: Iterable[str] | None = None
) -> list[Match]:
    """A recording's messages as the sequence a station should send, for ``Station.expect``.

    Each message is ``event(type, **payload)``: its whole payload, or only the keys named in
    ``fields`` (a recording of a station on the wall clock has other instants than a test
    station; ``serve --clock scenario``'s match). ``types``: only messages of these types. A
    recording with a broken line is refused (:class:`ValueError` naming the line), so a test
    never expects less than was recorded. So is a type or field the recording's profile (its
    header's; unknown: the documented one) never sends, with the known names and a did-you-mean.
    """
    with open(path, "rb") as lines:
        played = recording.read_recording(lines)
    if played.broken is not None:
        raise ValueError(f"{path}: {played.broken}")
    names = None if types is None else as_names(types)
    keys = None if fields is None else as_names(fields)
    check_fields(PROFILES.get(played.header.profile or "", DOCUMENTED), names, keys or ())
    wanted = None if names is None else set(names)
    expected = []
    for message in played.messages:
        if wanted is not None and message.type not in wanted:
            continue
        payload = orjson.loads(message.text).get("payload") or {}
        kept = payload if keys is None else {key: payload[key] for key in keys if key in payload}
        expected.append(event(message.type, **kept))
    return expected


def _update_golden(config: pytest.Config) -> bool:
    return bool(config.getoption("--grimnir-update-golden") or os.environ.get(UPDATE_ENV))


class Simulator:
    """The ``grimnir`` fixture: scenarios in virtual time, in this test's nursery."""

    expected_from = staticmethod(expected_from)

    def __init__(self, nursery: trio.Nursery, update_golden: bool) -> None:
        self._nursery = nursery
        self._update_golden = update_golden

    async def start(
        self, scenario: ScenarioLike, *, profile: str = "documented", health_tick_ms: int = 250
    ) -> Station:
        """``profile="grimnir"``: the real server's wire (docs/fidelity.md)."""
        return await start_station(
            self._nursery,
            scenario,
            update_golden=self._update_golden,
            profile=profile,
            health_tick_ms=health_tick_ms,
        )


class ServerFactory:
    """The ``grimnir_server`` fixture: scenarios served on loopback, in real time."""

    def __init__(self, nursery: trio.Nursery, update_golden: bool, config: pytest.Config) -> None:
        self._nursery = nursery
        self._update_golden = update_golden
        self._config = config

    async def shared(
        self,
        scenario: ScenarioLike,
        *,
        manual_clock: bool = True,
        speed: float | None = None,
        settings: ServerSettings | None = None,
        roles: Iterable[str] = ("admin",),
        profile: str | None = None,
        health_tick_ms: int | None = None,
    ) -> SharedServer:
        """One server for every test asking for this scenario and these options (:func:`shared_station`)."""
        share = partial(shared_station, profile=profile, health_tick_ms=health_tick_ms)
        return await trio.to_thread.run_sync(
            partial(share, self._config, scenario, manual_clock, speed, settings, roles)
        )

    async def serve(
        self,
        scenario: ScenarioLike,
        *,
        manual_clock: bool = True,
        speed: float | None = None,
        settings: ServerSettings | None = None,
        roles: Iterable[str] = ("admin",),
        profile: str | None = None,
        health_tick_ms: int | None = None,
    ) -> ServedStation:
        """``profile``: the wire served (``documented``, ``grimnir``), else ``settings``'s;
        ``health_tick_ms``: the grimnir health snapshots' cadence (default: the real 250 ms)."""
        loaded = as_scenario(scenario)
        settings = _settings_for(settings, profile, health_tick_ms)
        key = SigningKey.generate()
        service = StationService(loaded, key, settings, speed=speed, manual_clock=manual_clock)
        running = await self._nursery.start(partial(serve, service, host="127.0.0.1", port=0))
        station = ServedStation(service, running, mint(key, roles=roles), update_golden=self._update_golden)
        service.hub.taps.append(station.record)
        return station


def shared_station(
    config: pytest.Config,
    scenario: ScenarioLike,
    manual_clock: bool = True,
    speed: float | None = None,
    settings: ServerSettings | None = None,
    roles: Iterable[str] = ("admin",),
    *,
    profile: str | None = None,
    health_tick_ms: int | None = None,
) -> SharedServer:
    """The session's server for this scenario and these options, in a thread of its own: started
    on first use, reset (``POST /api/v1/sim/reset``) on every later one, so each test starts clean.

    ``grimnir_server.shared(...)`` in a trio test; call it directly from a test or fixture without
    trio (a browser test's). Blocks while the server starts or resets.
    """
    settings = _settings_for(settings, profile, health_tick_ms)
    key = (scenario_key(scenario), manual_clock, speed, settings, tuple(roles))

    def make_service(signing: SigningKey) -> StationService:
        return StationService(
            as_scenario(scenario), signing, settings, speed=speed, manual_clock=manual_clock
        )

    server, started = shared_server(config, key, make_service, roles)
    if not started:
        server.reset()
    return server


def _settings_for(
    settings: ServerSettings | None, profile: str | None, health_tick_ms: int | None
) -> ServerSettings | None:
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile '{profile}'; known: {', '.join(PROFILES)}")
        settings = attrs.evolve(settings or ServerSettings(), profile=profile)
    if health_tick_ms is not None:
        settings = attrs.evolve(settings or ServerSettings(), health_tick_ms=health_tick_ms)
    return settings


@pytest.fixture
async def grimnir(nursery: trio.Nursery, request: pytest.FixtureRequest) -> Simulator:
    """Run scenarios in virtual time: ``station = await grimnir.start("dj-takeover")``."""
    return Simulator(nursery, _update_golden(request.config))


@pytest.fixture
async def grimnir_server(nursery: trio.Nursery, request: pytest.FixtureRequest) -> ServerFactory:
    """Serve scenarios on loopback: ``station = await grimnir_server.serve("dj-takeover")``."""
    return ServerFactory(nursery, _update_golden(request.config), request.config)
