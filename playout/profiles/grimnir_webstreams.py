"""The ``grimnir`` profile's webstream messages: failovers, recoveries and health checks as the real server
publishes them (internal/webstream/service.go, health_checker.go).

The real server keeps, per webstream, the URL in use (``CurrentIndex``) and a stored
``HealthStatus``; its checker checks the URL in use alone and publishes one
``webstream.health`` per check (internal/webstream/health_checker.go). This module keeps
the same two values for the core's decisions, and every message names them.
"""

from ..protocol import events as ev
from ..protocol.wire import WireEvent
from ..scenario.model import Scenario
from ..station.core import Playout
from ..station.webstreams import WebstreamHealth
from . import grimnir_payloads as real
from .base import wire_event


class WebstreamWire:
    """Each webstream's URL in use, stored health status and check cadence, as the real server keeps them."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._index = {key: 0 for key in scenario.webstreams}
        self._statuses = {key: "healthy" for key in scenario.webstreams}
        self._lost: set[str] = set()
        """Webstreams whose every URL has failed: the real checker moves on among them silently."""
        self._next_check = {key: ws.probe.interval_ms for key, ws in scenario.webstreams.items()}
        self.station = {key: self._owner(key) for key in scenario.webstreams}
        """Each webstream's station on the real server (``serve``'s REST answers read it too)."""

    def index(self, key: str) -> int:
        """The real ``CurrentIndex``: the URL in use."""
        return self._index[key]

    def url(self, key: str) -> str:
        """The real ``GetCurrentURL()`` (internal/models/webstream.go:102-111)."""
        return self._scenario.webstreams[key].urls[self._index[key]]

    def health_status(self, key: str) -> str:
        """The real stored ``HealthStatus``: what the last check or automatic failover left."""
        return self._statuses[key]

    def manual_failover(self, event: ev.WebstreamFailover) -> WireEvent:
        """An operator's failover (``TriggerFailover``, service.go:277-325): from the URL in use, the health
        status left as it was."""
        key = self.key_of(event.webstream_id)
        spec, station = self._scenario.webstreams[key], self.station[key]
        from_index, self._index[key] = self._index[key], spec.urls.index(event.failover_url)
        self._lost.discard(key)
        payload = real.failover_manual(spec.id, station, spec.urls, from_index, self._index[key])
        return wire_event("webstream.failover", payload, station)

    def failover(self, event: ev.WebstreamFailover, at_ms: int) -> list[WireEvent]:
        """An automatic failover (``triggerFailover``, health_checker.go:332-414), in a failed check of the
        URL in use: from that URL, the stream marked healthy without a ``webstream.health``. Out of a
        state where every URL had failed, the checker has already moved on silently (:357-372), so
        the URL that passes again is just its check's ``webstream.health``."""
        key = self.key_of(event.webstream_id)
        spec, station = self._scenario.webstreams[key], self.station[key]
        from_index, self._index[key] = self._index[key], spec.urls.index(event.failover_url)
        self._checked(key, at_ms)
        if key in self._lost:
            self._lost.discard(key)
            return [self._passed(key)]
        self._statuses[key] = "healthy"
        payload = real.failover_auto(spec.id, station, spec.name, spec.urls, from_index, self._index[key])
        return [wire_event("webstream.failover", payload, station)]

    def recovered(self, event: ev.WebstreamRecovered, at_ms: int) -> list[WireEvent]:
        """An automatic recovery (``handleSuccessfulCheck``, health_checker.go:180-237): the check's
        ``webstream.health`` for the URL in use, then, unless that is the primary, ``webstream.recovered``
        from it to the primary."""
        key = self.key_of(event.webstream_id)
        spec, station = self._scenario.webstreams[key], self.station[key]
        self._checked(key, at_ms)
        if key in self._lost:
            self._lost.discard(key)
            self._index[key] = 0
        out = [self._passed(key)]
        if self._index[key] != 0:
            payload = real.recovered_auto(spec.id, station, self.url(key), spec.urls[0])
            self._index[key] = 0
            out.append(wire_event("webstream.recovered", payload, station))
        return out

    def reset(self, key: str) -> WireEvent:
        """An operator's reset (``ResetToPrimary``, service.go:328-358): back to the primary, announced even
        when already on it; the health status stays as it was."""
        spec = self._scenario.webstreams[key]
        self._index[key] = 0
        self._lost.discard(key)
        station = self.station[key]
        payload = real.recovered_reset(spec.id, station, spec.urls[0])
        return wire_event("webstream.recovered", payload, station)

    def status_changes(self, core: Playout) -> list[WireEvent]:
        """``webstream.health`` when the URL in use starts failing (health_checker.go:280-294) or turns
        unhealthy (:247-266, once); a passing check is announced on the check cadence."""
        out = []
        for key, health in core.webstreams.items():
            if health.active is None:
                self._lost.add(key)
            status = _status(health)
            if status != "healthy" and status != self._statuses[key]:
                self._statuses[key] = status
                out.append(self._health(key, status))
        return out

    def last_check_ms(self, key: str, now_ms: int) -> int | None:
        """When the webstream's latest check ran, as ``last_health_check`` (every check sets it, whatever
        its result: ``Mark*``, internal/models/webstream.go:172-189); None before the first."""
        interval = self._scenario.webstreams[key].probe.interval_ms
        return now_ms // interval * interval if now_ms >= interval else None

    def next_check(self) -> int | None:
        return min(self._next_check.values(), default=None)

    def passing_checks(self, now_ms: int, core: Playout) -> list[WireEvent]:
        """``webstream.health healthy`` for each webstream whose check is due at ``now_ms`` and whose URL in
        use passes (health_checker.go:180-205)."""
        return [
            self._passed(key)
            for key, due in self._next_check.items()
            if due <= now_ms and _status(core.webstreams[key]) == "healthy"
        ]

    def catch_up(self, now_ms: int) -> None:
        """Put each check's next time at or after ``now_ms``."""
        for key, due in self._next_check.items():
            if due < now_ms:
                interval = self._scenario.webstreams[key].probe.interval_ms
                self._next_check[key] = -(-now_ms // interval) * interval

    def key_of(self, webstream_id: str) -> str:
        return next(key for key, ws in self._scenario.webstreams.items() if ws.id == webstream_id)

    def _checked(self, key: str, at_ms: int) -> None:
        """The check due at ``at_ms`` has had its message: the next one is an interval on."""
        if self._next_check[key] <= at_ms:
            interval = self._scenario.webstreams[key].probe.interval_ms
            self._next_check[key] = (at_ms // interval + 1) * interval

    def _passed(self, key: str) -> WireEvent:
        self._statuses[key] = "healthy"
        return self._health(key, "healthy")

    def _health(self, key: str, status: str) -> WireEvent:
        spec, station = self._scenario.webstreams[key], self.station[key]
        payload = real.webstream_health(spec.id, station, status, self.url(key))
        return wire_event("webstream.health", payload, station)

    def _owner(self, webstream_key: str) -> str:
        """The station a webstream belongs to on the real server: the first that schedules it."""
        for slot in self._scenario.slots:
            if slot.kind == "webstream" and slot.target == webstream_key:
                return self._scenario.station(slot.station).id
        return self._scenario.stations[0].id


def _status(health: WebstreamHealth) -> str:
    """The core's health of the URL it has on air (``unhealthy`` when every URL has failed)."""
    return "unhealthy" if health.active is None else health.urls[health.active].status
