"""The ``grimnir`` profile's webstream messages: failovers, recoveries and health checks as the real server
publishes them (internal/webstream/service.go, health.go)."""

from ..protocol import events as ev
from ..protocol.wire import WireEvent
from ..scenario.model import Scenario
from ..station.core import Playout
from . import grimnir_payloads as real
from .base import wire_event


class WebstreamWire:
    """Each webstream's URL in use, last announced status and check cadence, as the real server keeps them."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._urls = {key: ws.urls[0] for key, ws in scenario.webstreams.items()}
        self._statuses = {key: "healthy" for key in scenario.webstreams}
        self._next_check = {key: ws.probe.interval_ms for key, ws in scenario.webstreams.items()}
        self.station = {key: self._owner(key) for key in scenario.webstreams}
        """Each webstream's station on the real server (``serve``'s REST answers read it too)."""

    def failover(self, event: ev.WebstreamFailover, *, manual: bool) -> WireEvent:
        key = self.key_of(event.webstream_id)
        spec = self._scenario.webstreams[key]
        station = self.station[key]
        from_index, to_index = spec.urls.index(event.failed_url), spec.urls.index(event.failover_url)
        self._urls[key] = event.failover_url
        if manual:
            payload = real.failover_manual(spec.id, station, spec.urls, from_index, to_index)
        else:
            payload = real.failover_auto(spec.id, station, spec.name, spec.urls, from_index, to_index)
        return wire_event("webstream.failover", payload, station)

    def recovered(self, event: ev.WebstreamRecovered) -> WireEvent:
        """An automatic recovery: the health check found the primary passing again."""
        key = self.key_of(event.webstream_id)
        station = self.station[key]
        payload = real.recovered_auto(event.webstream_id, station, self._urls[key], event.recovered_url)
        self._urls[key] = event.recovered_url
        return wire_event("webstream.recovered", payload, station)

    def reset(self, key: str) -> WireEvent:
        """An operator's reset: back to the primary, announced even when already on it."""
        spec = self._scenario.webstreams[key]
        self._urls[key] = spec.urls[0]
        station = self.station[key]
        payload = real.recovered_reset(spec.id, station, spec.urls[0])
        return wire_event("webstream.recovered", payload, station)

    def status_changes(self, core: Playout) -> list[WireEvent]:
        """``webstream.health`` when the URL in use starts failing, turns unhealthy or passes again."""
        out = []
        for key, health in core.webstreams.items():
            status = "unhealthy" if health.active is None else health.urls[health.active].status
            if status != self._statuses[key]:
                self._statuses[key] = status
                out.append(self._health(key, status, health.url or self._urls[key]))
        return out

    def next_check(self) -> int | None:
        return min(self._next_check.values(), default=None)

    def passing_checks(self, now_ms: int, core: Playout) -> list[WireEvent]:
        """``webstream.health`` for each healthy webstream whose check is due at ``now_ms``."""
        return [
            self._health(key, "healthy", core.webstreams[key].url or self._urls[key])
            for key, due in self._next_check.items()
            if due <= now_ms and self._statuses[key] == "healthy"
        ]

    def catch_up(self, now_ms: int) -> None:
        """Put each check's next time at or after ``now_ms``."""
        for key, due in self._next_check.items():
            if due < now_ms:
                interval = self._scenario.webstreams[key].probe.interval_ms
                self._next_check[key] = -(-now_ms // interval) * interval

    def key_of(self, webstream_id: str) -> str:
        return next(key for key, ws in self._scenario.webstreams.items() if ws.id == webstream_id)

    def _health(self, key: str, status: str, url: str) -> WireEvent:
        spec, station = self._scenario.webstreams[key], self.station[key]
        return wire_event("webstream.health", real.webstream_health(spec.id, station, status, url), station)

    def _owner(self, webstream_key: str) -> str:
        """The station a webstream belongs to on the real server: the first that schedules it."""
        for slot in self._scenario.slots:
            if slot.kind == "webstream" and slot.target == webstream_key:
                return self._scenario.station(slot.station).id
        return self._scenario.stations[0].id
