"""The read model: every station and webstream as it is now, in frozen typed views.

:func:`take_snapshot` builds a :class:`StationSnapshot` from the core's state;
every view's :meth:`View.as_json` gives the plain data the REST API serves
(``GET /api/v1/sim/state``, the public now-playing, the control answers). A
source's optional keys (``source_id``, ``name``, ``media_id``, ``webstream_id``,
``username``) are left out of that data when they do not apply.
"""

from typing import Any, Literal

import attrs

from ..protocol import events as ev
from .ladder import Source, SourceKind, SourceState
from .state import CoreState, NowPlaying, Session, StationState, TrackPlay

_OPTIONAL = {"optional": True}
"""Field metadata: the key is left out of :meth:`View.as_json` when the value is ``None``."""


def _kept(field: attrs.Attribute, value: object) -> bool:
    return value is not None or not field.metadata.get("optional", False)


def _listed(_: object, __: object, value: object) -> object:
    """Tuples become lists, as JSON arrays read back."""
    return list(value) if isinstance(value, tuple) else value


class View:
    """A frozen attrs view of the core's state."""

    __slots__ = ()

    def as_json(self) -> dict[str, Any]:
        """Plain data (dicts, lists, strings, numbers, booleans, ``None``), as the REST API serves it."""
        return attrs.asdict(self, filter=_kept, value_serializer=_listed)


@attrs.frozen
class MountView(View):
    id: str
    key: str
    path: str


@attrs.frozen
class SourceView(View):
    """A source on a station's ladder."""

    priority: int
    kind: SourceKind
    state: SourceState
    on_air: bool
    source_id: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    """The UUID a control API names it by; automation and fallback have none."""
    name: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    """An override's name."""
    media_id: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    webstream_id: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    username: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    """A live source's DJ."""


@attrs.frozen
class DjView(View):
    """A connected DJ's session."""

    key: str
    username: str
    user_id: str
    session_id: str
    mount_id: str
    source_ip: str
    priority: int
    connected_at: str
    on_air: bool


@attrs.frozen
class ScheduleEntryView(View):
    """The schedule entry in force."""

    kind: Literal["playlist", "webstream", "live"]
    target: str
    title: str
    starts_at: str
    ends_at: str


@attrs.frozen
class StationView(View):
    id: str
    key: str
    name: str
    mounts: tuple[MountView, ...]
    on_air: SourceView | None
    now_playing: NowPlaying | None
    """The last ``now_playing`` event sent."""
    since: str
    """When that ``now_playing`` was sent."""
    ends_at: str | None
    """When the track on air ends (``None`` for a webstream or a DJ)."""
    ladder: tuple[SourceView, ...]
    """Every source, by priority, then first come."""
    djs: tuple[DjView, ...]
    schedule_entry: ScheduleEntryView | None


@attrs.frozen
class UrlView(View):
    """One URL of a webstream and its health."""

    url: str
    status: ev.HealthStatus
    consecutive_failures: int


@attrs.frozen
class WebstreamView(View):
    id: str
    key: str
    name: str
    health_status: ev.HealthStatus
    active_url: str | None
    """The URL in use; ``None`` when every URL has failed."""
    manual_failover: bool
    """From a manual failover until a reset: held off the primary URL, whatever its health."""
    urls: tuple[UrlView, ...]


@attrs.frozen
class StationSnapshot(View):
    """Every station's ladder, on-air source, DJs and schedule entry, and the webstreams' health."""

    station_time: str
    elapsed_seconds: float
    stations: tuple[StationView, ...]
    webstreams: tuple[WebstreamView, ...]

    def station(self, key: str) -> StationView:
        """The station whose key is ``key``; ``KeyError`` if there is none."""
        for station in self.stations:
            if station.key == key:
                return station
        raise KeyError(key)

    def webstream(self, key: str) -> WebstreamView:
        """The webstream whose key is ``key``; ``KeyError`` if there is none."""
        for webstream in self.webstreams:
            if webstream.key == key:
                return webstream
        raise KeyError(key)


def take_snapshot(core: CoreState) -> StationSnapshot:
    """The views of everything in ``core`` now."""
    stamp = core.clock.stamp
    return StationSnapshot(
        station_time=stamp(core.now_ms),
        elapsed_seconds=core.now_ms / 1000,
        stations=tuple(_station_view(core, station) for station in core.stations.values()),
        webstreams=tuple(
            WebstreamView(
                id=health.spec.id,
                key=key,
                name=health.spec.name,
                health_status=health.status,
                active_url=health.url,
                manual_failover=health.held,
                urls=tuple(
                    UrlView(url=url, status=h.status, consecutive_failures=h.failures)
                    for url, h in zip(health.spec.urls, health.urls, strict=True)
                ),
            )
            for key, health in core.webstreams.items()
        ),
    )


def _station_view(core: CoreState, station: StationState) -> StationView:
    stamp = core.clock.stamp
    on_air = station.on_air
    entry = station.entry
    play = station.play
    return StationView(
        id=station.spec.id,
        key=station.spec.key,
        name=station.spec.name,
        mounts=tuple(MountView(id=m.id, key=m.key, path=m.path) for m in station.spec.mounts),
        on_air=None if on_air is None else _source_view(core, station, on_air),
        now_playing=station.now_playing,
        since=stamp(station.now_playing_ms),
        ends_at=stamp(play.end_ms) if isinstance(play, TrackPlay) else None,
        ladder=tuple(
            _source_view(core, station, source)
            for source in sorted(station.ladder.sources(), key=lambda s: (s.priority, s.seq))
        ),
        djs=tuple(
            DjView(
                key=session.dj.key,
                username=session.dj.username,
                user_id=session.dj.user_id,
                session_id=session.id,
                mount_id=session.mount.id,
                source_ip=session.source_ip,
                priority=int(session.priority),
                connected_at=stamp(session.connected_ms),
                on_air=on_air is not None and on_air is session.source,
            )
            for session in station.sessions.values()
        ),
        schedule_entry=None
        if entry is None
        else ScheduleEntryView(
            kind=entry.slot.kind,
            target=entry.slot.target,
            title=entry.slot.title,
            starts_at=stamp(entry.start_ms),
            ends_at=stamp(entry.end_ms),
        ),
    )


def _source_view(core: CoreState, station: StationState, source: Source) -> SourceView:
    scenario = core.scenario
    return SourceView(
        priority=int(source.priority),
        kind=source.kind,
        state=source.state,
        on_air=source is station.on_air,
        source_id=source.id or None,
        name=source.name if source.kind == "override" else None,
        media_id=None if source.media is None else scenario.tracks[source.media].id,
        webstream_id=None if source.webstream is None else scenario.webstreams[source.webstream].id,
        username=source.session.dj.username if isinstance(source.session, Session) else None,
    )
