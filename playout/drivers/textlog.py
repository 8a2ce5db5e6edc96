"""A readable, one-line-per-event timeline for people (``--format text``)."""

from ..protocol import events as ev
from ..protocol.stationtime import format_clock
from ..protocol.wire import WireEvent
from ..scenario.model import Scenario
from ..station.outcomes import Emitted
from .textlog_grimnir import describe_grimnir


def describe(event: ev.Event | WireEvent) -> str:
    match event:
        case WireEvent():  # the grimnir profile's message, the only other profile
            return describe_grimnir(event)
        case ev.NowPlayingMedia():
            return f'"{event.title}" by {event.artist or "unknown"} ({format_clock(event.duration)})'
        case ev.NowPlayingWebstream():
            return f"webstream {event.webstream_name} from {event.url} [{event.health_status}]"
        case ev.NowPlayingLive():
            return f'live: "{event.title}" with {event.username}'
        case ev.LiveHandover():
            return f"{event.username} takes the air at priority {event.priority} ({event.transition_type})"
        case ev.LiveReleased():
            return f"{event.username} releases the air"
        case ev.DjConnect():
            return f"{event.username} connects from {event.source_ip}"
        case ev.DjDisconnect():
            return f"{event.username} disconnects after {format_clock(event.duration_seconds)}"
        case ev.WebstreamFailover():
            return (
                f"{event.webstream_name}: {event.failed_url} failed ({event.reason}), "
                f"using {event.failover_url}"
            )
        case ev.WebstreamRecovered():
            return f"{event.webstream_name}: back on {event.recovered_url}"
        case ev.PriorityEmergency():
            return "EMERGENCY insert at priority 0"
        case ev.PriorityOverride():
            return f"override at priority 1: {event.source_type} ({event.transition_type})"
        case ev.PriorityReleased():
            return f"priority {event.previous_priority} released, priority {event.new_priority} on air"
        case ev.HealthCrossfade():
            return "crossfade"
        case ev.HealthStatusReport():
            return f"status {event.status}, priority {event.priority} ({event.source_type})"
        case ev.ScheduleUpdate():
            return f"{event.entries_added} schedule entr{'y' if event.entries_added == 1 else 'ies'} added"
    raise TypeError(f"unknown event {event!r}")  # pragma: no cover


class TextLog:
    """Formats emitted events with the station time and the station's short id."""

    def __init__(self, scenario: Scenario) -> None:
        self._clock = scenario.clock
        self._stations = {s.id: s.key for s in scenario.stations}
        self._width = max(len(s.key) for s in scenario.stations)

    def line(self, emitted: Emitted) -> str:
        event = emitted.event
        when = self._clock.instant(emitted.at_ms).strftime("%a %Y-%m-%d %H:%M:%S")
        station = self._stations.get(getattr(event, "station_id", ""), "")
        return f"{when}  {station:<{self._width}}  {event.TYPE:<19}  {describe(event)}"
