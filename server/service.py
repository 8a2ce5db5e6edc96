"""Everything one served station needs, built once: the runner, the hub, auth and limits."""

import re
from pathlib import Path

import attrs
import trio

from playout import (
    PROFILES,
    Harbor,
    Placement,
    Profile,
    Scenario,
    StationRunner,
    StationSnapshot,
    Translator,
    recording,
    translator_for,
)

from .auth import SigningKey
from .cors import LOOPBACK_ORIGIN
from .directory import Directory
from .hub import Hub
from .limits import Admission
from .relay.follower import StreamFollower
from .relay.publisher import StreamPublisher
from .replay import Replay
from .shutdown import RETRY_AFTER_SECONDS, Shutdown
from .vitals import Vitals


@attrs.frozen
class ServerSettings:
    """Protocol limits and knobs; the defaults are the documented ones."""

    max_connections: int = 10_000
    per_ip_per_minute: int = 100
    heartbeat_seconds: float = 15.0
    queue_size: int = 64
    """Events a client may fall behind before it starts losing them."""
    max_dropped: int = 256
    """Events a client may lose in a row before it is closed with 1008."""
    send_timeout_seconds: float = 10.0
    """A client whose socket accepts nothing for this long is cut off."""
    cors_origins: tuple[str | re.Pattern[str], ...] = (LOOPBACK_ORIGIN,)
    """Browser origins allowed on the REST API: as ``server.cors.allowed_origin`` writes them, or patterns."""
    snapshot_by_default: bool = False
    """Send each new client the current ``now_playing`` first, unless it asks ``snapshot=false``."""
    access_log: bool = False
    """Log each HTTP request and each WebSocket's open and close (``server.accesslog``)."""
    profile: str = "documented"
    """The wire spoken (``playout.profiles``): ``documented`` or ``grimnir``."""
    health_tick_ms: int = 250
    """The ``grimnir`` profile's health snapshot cadence."""
    api_keys: tuple[str, ...] = ()
    """``X-API-Key`` values the ``grimnir`` profile accepts, each as a platform admin's (``--api-key``)."""

    @property
    def wire_profile(self) -> Profile:
        return PROFILES[self.profile]


class ServingProcess:
    """What every serving process has, station or edge: clients, their hub and limits, its health."""

    def __init__(self, key: SigningKey, settings: ServerSettings | None) -> None:
        self.key = key
        self.settings = settings or ServerSettings()
        profile = self.settings.wire_profile
        self.hub = Hub(
            queue_size=self.settings.queue_size,
            max_dropped=self.settings.max_dropped,
            known_types=profile.event_types,
            default_types=profile.default_types,
            rules=profile.stream,
        )
        self.admission: Admission | None = None
        """The connection limits, where the profile's stream has them."""
        if profile.stream.limits:
            self.admission = Admission(self.settings.max_connections, self.settings.per_ip_per_minute)
        self.shutdown = Shutdown()
        """Begun when the process starts to stop: from then on every newcomer is refused (503)."""
        self.vitals = Vitals(self.hub)
        self.failure: Exception | None = None
        """Why the process's background work (station, relay, heartbeat) stopped, if it did."""
        self.failed = trio.Event()
        self.connection_failures = {"rest": 0, "websocket": 0}
        """Requests and connections ended by an unexpected error of ours (each logged once); the
        process and its other clients go on. (The harbor and the relay count their own.)"""

    def stop_admitting(self) -> None:
        """Refuse every newcomer from now on (503 ``shutting_down``): the process is stopping."""
        self.shutdown.begin()

    def fail(self, failure: Exception) -> None:
        """The background work failed: serving on would be a station that never speaks."""
        if self.failure is None:
            self.failure = failure
            self.failed.set()


class StationService(ServingProcess):
    def __init__(
        self,
        scenario: Scenario,
        key: SigningKey,
        settings: ServerSettings | None = None,
        *,
        speed: float | None = None,
        manual_clock: bool = False,
        harbor_port: int | None = None,
        relay: StreamPublisher | None = None,
        placement: Placement | None = None,
        reload_from: Path | None = None,
    ) -> None:
        super().__init__(key, settings)
        self.reload_from = reload_from
        """The scenario file ``serve --reload`` watches (``server/reload.py``), or None."""
        self.runner = StationRunner(
            scenario,
            self.hub.publish,
            speed=speed,
            manual_clock=manual_clock,
            settle=self.hub.settle,
            placement=placement,
            quietly=self.hub.remember,
            translator=self._translator_for(scenario),
        )
        self._directory = Directory(scenario)
        self.harbor_port = harbor_port if harbor_port is not None else scenario.harbor.port
        self.harbor = Harbor(scenario, self.runner.submit) if self.harbor_port is not None else None
        """The source receiver for live DJs, when the scenario or ``--harbor-port`` asks for one."""
        self.relay = relay
        """Appends every event to a Redis stream for edge processes (``--redis``), or None."""
        if relay is not None:
            self.hub.relays.append(relay.offer)

    @property
    def scenario(self) -> Scenario:
        """The scenario served (a reloaded one once ``serve --reload`` has taken it)."""
        return self.runner.scenario

    @property
    def translator(self) -> Translator | None:
        """The profile's translator (None for the documented wire); its REST answers read its state."""
        return self.runner.translator

    @property
    def directory(self) -> Directory:
        """Ids of the scenario served, by UUID or key."""
        if self._directory.scenario is not self.scenario:
            self._directory = Directory(self.scenario)
        return self._directory

    def _translator_for(self, scenario: Scenario) -> Translator | None:
        return translator_for(self.settings.wire_profile, scenario, self.settings.health_tick_ms)

    async def reset(self, scenario: Scenario | None = None) -> StationSnapshot:
        """The station back at its entry point with a fresh core and translator: of ``scenario``
        (``serve --reload``), else of the one served. Connected clients stay; those that asked
        for the state on connect get the fresh station's (:meth:`Hub.remember`). Raises
        :class:`playout.InputRejected` when the fresh station cannot be built: the running one
        goes on. The harbor keeps the DJs, mounts and limits it started with.
        """
        return await self.runner.restart(scenario or self.scenario, self._translator_for)

    def stop_admitting(self) -> None:
        super().stop_admitting()
        if self.harbor is not None:
            self.harbor.stop_admitting(retry_after=RETRY_AFTER_SECONDS)


class EdgeService(ServingProcess):
    """An edge process (``--role edge``): no station, only clients; the events come from Redis."""

    def __init__(
        self, follower: StreamFollower, key: SigningKey, settings: ServerSettings | None = None
    ) -> None:
        super().__init__(key, settings)
        self.follower = follower


class ReplayService(ServingProcess):
    """``serve --replay``: no station; the events come from a recording (``server/replay.py``)."""

    def __init__(
        self,
        played: recording.Recording,
        key: SigningKey,
        settings: ServerSettings | None = None,
        *,
        speed: float = 1.0,
    ) -> None:
        super().__init__(key, settings)
        self.replay = Replay(played, self.hub.__len__, speed, settle=self.hub.settle)
