"""The station core: inputs with an explicit time in, documented events out.

No trio, no clock, no I/O. :class:`Playout` owns every station of a scenario, the
webstreams' health and the timeline of what happens next; a driver calls
:meth:`Playout.advance` with the station time it has reached and
:meth:`Playout.submit` with inputs from outside, and gets back the events in the
order the station emitted them. The canonical sequences are listed in
``docs/protocol.md``; each comment below names the rule it implements.
"""

import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from ..protocol import events as ev
from ..protocol import inputs
from ..protocol.stationtime import StationClock
from ..scenario.model import Dj, Mount, Scenario, Station, Track, Webstream
from . import ladder as rules
from .ladder import (
    AUTOMATION,
    EMERGENCY,
    FALLBACK,
    LIVE_OVERRIDE,
    LIVE_SCHEDULED,
    Ladder,
    Source,
    Switch,
    Tier,
    decide,
    stream_moves,
)
from .schedule import Entry, entries_between
from .timeline import Rank, Timeline
from .webstreams import AllFailed, Change, Failover, GraceStarted, Recovered, WebstreamHealth

WEEK_MS = 7 * 86_400_000


class InputRejected(Exception):
    """An input that cannot apply to the station as it is; nothing changed.

    ``code`` is ``not_found`` (an unknown station, DJ, webstream, media or name) or
    ``conflict`` (the DJ is already connected, nothing to release, …).
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@attrs.frozen
class Emitted:
    """One event and the station time (ms since the scenario's start) it was emitted at."""

    at_ms: int
    event: ev.Event


@attrs.frozen
class Notice:
    """A scripted input the station could not apply (it is skipped, the run goes on)."""

    at_ms: int
    happening: int
    message: str


@attrs.define(eq=False)
class Session:
    """A DJ's live source connection."""

    id: str
    dj: Dj
    mount: Mount
    source_ip: str
    connected_ms: int
    priority: Tier
    transition: ev.Transition
    source: Source | None = None
    title: str = ""
    artist: str = ""


@attrs.define
class TrackPlay:
    track: Track
    start_ms: int
    boundary_ms: int
    """When the next item starts: the end, less the crossfade."""
    end_ms: int


@attrs.define
class WebstreamPlay:
    webstream: str
    url: str


@attrs.define
class LivePlay:
    session: Session


Play = TrackPlay | WebstreamPlay | LivePlay


class _Cursor:
    """Walks a list of track keys forever, reshuffling each pass when asked."""

    def __init__(self, keys: tuple[str, ...], shuffle: bool, rng: random.Random) -> None:
        self._keys = keys
        self._shuffle = shuffle
        self._rng = rng
        self._order: list[str] = []
        self._position = 0

    def next(self) -> str:
        if self._position >= len(self._order):
            last = self._order[-1] if self._order else None
            self._order = list(self._keys)
            if self._shuffle:
                self._rng.shuffle(self._order)
                if len(self._order) > 1 and self._order[0] == last:
                    # A new pass never opens with the track that closed the last one.
                    self._order[0], self._order[-1] = self._order[-1], self._order[0]
            self._position = 0
        key = self._order[self._position]
        self._position += 1
        return key


@attrs.define(eq=False)
class _StationState:
    spec: Station
    ladder: Ladder
    rng: random.Random
    rotation: _Cursor
    on_air: Source | None = None
    play: Play | None = None
    entry: Entry | None = None
    """The schedule entry in force now, if any."""
    cut: bool = False
    """Automation must change content now (a slot started or a webstream slot ended)."""
    sessions: dict[str, Session] = attrs.Factory(dict)
    overrides: dict[str, Source] = attrs.Factory(dict)
    playlists: dict[str, _Cursor] = attrs.Factory(dict)
    session_count: int = 0
    track_count: int = 0
    now_playing: ev.Event | None = None
    """The last ``now_playing`` sent, for clients that need it before their first event."""
    now_playing_ms: int = 0


class Playout:
    """Every station of one scenario, advanced by explicit station time."""

    def __init__(self, scenario: Scenario, *, anchor: datetime | None = None) -> None:
        """``anchor`` is the instant the wire shows for station millisecond 0 (default: the scenario's
        start); the program itself always follows the scenario's calendar."""
        self.scenario = scenario
        self.clock: StationClock = scenario.clock if anchor is None else StationClock(anchor)
        self.now_ms = 0
        self.timeline = Timeline()
        self.notices: list[Notice] = []
        self._out: list[Emitted] = []
        self._seq = 0
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"grimnir-sim/{scenario.name}")
        self.webstreams = {key: WebstreamHealth(ws) for key, ws in scenario.webstreams.items()}
        self._down: dict[tuple[str, int], ev.FailoverReason] = {}
        self._check_generation: dict[tuple[str, int], int] = {}
        self._checking: set[tuple[str, int]] = set()
        """Scripted-probe URLs with a check on the timeline."""
        self._window_end_ms = 0
        self.stations: dict[str, _StationState] = {}
        for spec in scenario.stations:
            rng = random.Random(f"{scenario.seed}/station/{spec.key}")
            automation = Source("automation", AUTOMATION, self._next_seq())
            fallback = Source("fallback", FALLBACK, self._next_seq())
            self.stations[spec.key] = _StationState(
                spec=spec,
                ladder=Ladder(automation, fallback),
                rng=rng,
                rotation=_Cursor(scenario.rotation, True, rng),
            )
            if spec.health_interval_ms > 0:
                self.timeline.push(spec.health_interval_ms, Rank.HEALTH, spec.key)
        self.timeline.push(0, Rank.REFRESH, None)
        for happening in scenario.timeline:
            self.timeline.push(happening.at_ms, Rank.HAPPENING, (happening, 1))

    # -- driving ---------------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        """The station time of the next scheduled happening, or ``None``."""
        return self.timeline.next_time()

    def advance(self, now_ms: int) -> list[Emitted]:
        """Run everything due up to ``now_ms``; return the events in emission order."""
        if now_ms < self.now_ms:
            raise ValueError(f"time runs forward: {now_ms} < {self.now_ms}")
        while (due := self.timeline.pop_due(now_ms)) is not None:
            at_ms, rank, item = due
            self.now_ms = at_ms
            deferred_health = []
            while True:
                if rank is Rank.HEALTH:
                    deferred_health.append(item)
                else:
                    self._run_item(rank, item)
                upcoming = self.timeline.next_time()
                if upcoming != at_ms:
                    break
                _, rank, item = self.timeline.pop_due(at_ms)  # type: ignore[misc]
            self._reconcile_all()
            for station_key in deferred_health:
                self._health_tick(self.stations[station_key])
        self.now_ms = now_ms
        return self._drain()

    def submit(self, given: inputs.Input) -> list[Emitted]:
        """Apply one input from outside at the current station time.

        Call :meth:`advance` first to bring the core up to the input's time. Raises
        :class:`InputRejected` when the input cannot apply; then nothing changed.
        """
        self._apply(given)
        self._reconcile_all()
        return self._drain()

    def snapshot(self) -> dict[str, Any]:
        """Every station's ladder, on-air source, DJs and the webstreams' health, as plain data."""
        stations = []
        for state in self.stations.values():
            on_air = state.on_air
            stations.append(
                {
                    "id": state.spec.id,
                    "key": state.spec.key,
                    "name": state.spec.name,
                    "mounts": [{"id": m.id, "key": m.key, "path": m.path} for m in state.spec.mounts],
                    "on_air": None if on_air is None else self._describe_source(state, on_air),
                    "now_playing": None if state.now_playing is None else attrs.asdict(state.now_playing),
                    "since": self.clock.stamp(state.now_playing_ms),
                    "ends_at": self._ends_at(state),
                    "ladder": [
                        self._describe_source(state, source)
                        for source in sorted(state.ladder.sources(), key=lambda s: (s.priority, s.seq))
                    ],
                    "djs": [
                        {
                            "key": session.dj.key,
                            "username": session.dj.username,
                            "user_id": session.dj.user_id,
                            "session_id": session.id,
                            "mount_id": session.mount.id,
                            "source_ip": session.source_ip,
                            "priority": int(session.priority),
                            "connected_at": self.clock.stamp(session.connected_ms),
                            "on_air": on_air is not None and on_air is session.source,
                        }
                        for session in state.sessions.values()
                    ],
                    "schedule_entry": None
                    if state.entry is None
                    else {
                        "kind": state.entry.slot.kind,
                        "target": state.entry.slot.target,
                        "title": state.entry.slot.title,
                        "starts_at": self.clock.stamp(state.entry.start_ms),
                        "ends_at": self.clock.stamp(state.entry.end_ms),
                    },
                }
            )
        webstreams = [
            {
                "id": health.spec.id,
                "key": key,
                "name": health.spec.name,
                "health_status": health.status,
                "active_url": health.url,
                "urls": [
                    {"url": url, "status": h.status, "consecutive_failures": h.failures}
                    for url, h in zip(health.spec.urls, health.urls, strict=True)
                ],
            }
            for key, health in self.webstreams.items()
        ]
        return {
            "station_time": self.clock.stamp(self.now_ms),
            "elapsed_seconds": self.now_ms / 1000,
            "stations": stations,
            "webstreams": webstreams,
        }

    def _describe_source(self, state: _StationState, source: Source) -> dict[str, Any]:
        described: dict[str, Any] = {
            "priority": int(source.priority),
            "kind": source.kind,
            "state": source.state,
            "on_air": source is state.on_air,
        }
        if source.id:
            described["source_id"] = source.id
        if source.kind == "override":
            described["name"] = source.name
        if source.media is not None:
            described["media_id"] = self.scenario.tracks[source.media].id
        if source.webstream is not None:
            described["webstream_id"] = self.scenario.webstreams[source.webstream].id
        if isinstance(source.session, Session):
            described["username"] = source.session.dj.username
        return described

    def _ends_at(self, state: _StationState) -> str | None:
        play = state.play
        return self.clock.stamp(play.end_ms) if isinstance(play, TrackPlay) else None

    # -- helpers ---------------------------------------------------------------------------------

    def _drain(self) -> list[Emitted]:
        out, self._out = self._out, []
        return out

    def _emit(self, event: ev.Event, state: "_StationState | None" = None) -> None:
        self._out.append(Emitted(self.now_ms, event))
        if state is not None:
            state.now_playing = event
            state.now_playing_ms = self.now_ms

    def _stamp(self) -> ev.Timestamp:
        return ev.Timestamp(self.clock.stamp(self.now_ms))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _uid(self, kind: str, key: str) -> ev.Uuid:
        return ev.Uuid(str(uuid.uuid5(self._namespace, f"{kind}/{key}")))

    def station(self, key: str) -> _StationState:
        state = self.stations.get(key)
        if state is None:
            raise InputRejected("not_found", f"no station '{key}'")
        return state

    def _webstream(self, key: str) -> WebstreamHealth:
        health = self.webstreams.get(key)
        if health is None:
            raise InputRejected("not_found", f"no webstream '{key}'")
        return health

    def _track(self, key: str) -> Track:
        track = self.scenario.tracks.get(key)
        if track is None:
            raise InputRejected("not_found", f"no media '{key}'")
        return track

    # -- timeline items --------------------------------------------------------------------------

    def _run_item(self, rank: Rank, item: Any) -> None:
        handlers: dict[Rank, Callable[[Any], None]] = {
            Rank.REFRESH: self._refresh_schedule,
            Rank.SLOT_END: self._slot_end,
            Rank.SLOT_START: self._slot_start,
            Rank.MEDIA_END: self._media_end,
            Rank.HAPPENING: self._happening,
            Rank.PROBE: self._probe_check,
            Rank.GRACE: self._grace,
            Rank.WAKE: lambda _: None,  # only makes the stations reconcile at this instant
        }
        handlers[rank](item)

    def _refresh_schedule(self, _: object) -> None:
        """Keep a rolling window of entries ahead and announce what was added (``schedule_update``)."""
        scenario = self.scenario
        first = self._window_end_ms == 0 and self.now_ms == 0
        begin = -WEEK_MS if first else self._window_end_ms
        end = self.now_ms + scenario.schedule_window_ms
        added: dict[str, int] = {}
        for entry in entries_between(scenario, scenario.slots, begin, end):
            if entry.end_ms <= 0:
                continue
            self.timeline.push(max(entry.start_ms, 0), Rank.SLOT_START, entry)
            self.timeline.push(entry.end_ms, Rank.SLOT_END, entry)
            added[entry.slot.station] = added.get(entry.slot.station, 0) + 1
        self._window_end_ms = end
        for key, state in self.stations.items():
            if added.get(key):
                self._emit(
                    ev.ScheduleUpdate(
                        station_id=ev.Uuid(state.spec.id), entries_added=added[key], timestamp=self._stamp()
                    )
                )
        self.timeline.push(self.now_ms + scenario.schedule_refresh_ms, Rank.REFRESH, None)

    def _slot_start(self, entry: Entry) -> None:
        state = self.stations[entry.slot.station]
        state.entry = entry
        if entry.slot.kind == "live":
            # A scheduled show's DJ, connected with a priority-2 session, may now take the air.
            session = state.sessions.get(entry.slot.target)
            if session is not None and session.priority == LIVE_SCHEDULED:
                if session.source is None:
                    session.source = self._live_source(session)
                    state.ladder.add(session.source)
                session.source.fire("admit")
        else:
            state.cut = True

    def _slot_end(self, entry: Entry) -> None:
        state = self.stations[entry.slot.station]
        if state.entry is entry:
            state.entry = None
        if entry.slot.kind == "webstream":
            state.cut = True
        elif entry.slot.kind == "live":
            # The show is over: its DJ is released even when still connected.
            session = state.sessions.get(entry.slot.target)
            if session is not None and session.priority == LIVE_SCHEDULED and session.source is not None:
                self._release(state, session.source)

    def _media_end(self, item: tuple[str, Source, int]) -> None:
        station_key, source, token = item
        state = self.stations[station_key]
        if source.play_token == token and source in state.ladder:
            if source.kind == "override":
                state.overrides.pop(source.name, None)
            self._release(state, source)

    def _happening(self, item: tuple[Any, int]) -> None:
        happening, occurrence = item
        if happening.every_ms and (happening.count is None or occurrence < happening.count):
            self.timeline.push(self.now_ms + happening.every_ms, Rank.HAPPENING, (happening, occurrence + 1))
        try:
            self._apply(happening.input)
        except InputRejected as exc:
            self.notices.append(Notice(self.now_ms, happening.index, exc.detail))

    def _health_tick(self, state: _StationState) -> None:
        """The periodic ``health`` status beat (our shape; docs/protocol.md)."""
        on_air = state.on_air
        assert on_air is not None
        status: ev.StationStatus = "ok"
        if on_air.kind == "fallback":
            status = "fallback"
        elif (
            isinstance(state.play, WebstreamPlay)
            and self.webstreams[state.play.webstream].status != "healthy"
        ):
            status = "degraded"
        self._emit(
            ev.HealthStatusReport(
                station_id=ev.Uuid(state.spec.id),
                mount_id=ev.Uuid(state.spec.mounts[0].id),
                event="status",
                status=status,
                priority=int(on_air.priority),  # type: ignore[arg-type]
                source_type=self._source_type(state),
                timestamp=self._stamp(),
            )
        )
        self.timeline.push(self.now_ms + state.spec.health_interval_ms, Rank.HEALTH, state.spec.key)

    def _source_type(self, state: _StationState) -> ev.SourceType:
        on_air = state.on_air
        assert on_air is not None
        if on_air.kind in ("emergency", "fallback", "live"):
            return on_air.kind  # type: ignore[return-value]
        return "webstream" if isinstance(state.play, WebstreamPlay) else "media"

    # -- inputs ----------------------------------------------------------------------------------

    def _apply(self, given: inputs.Input) -> None:
        match given:
            case inputs.ConnectDj():
                self._connect(given)
            case inputs.DisconnectDj():
                self._disconnect(given)
            case inputs.UrlDown() | inputs.UrlUp():
                self._set_url(given)
            case inputs.ProbeResult():
                health = self._webstream(given.webstream)
                self._check_index(health, given.url)
                self._webstream_changes(health, health.record(given.url, given.ok, given.reason, self.now_ms))
            case inputs.ForceFailover():
                health = self._webstream(given.webstream)
                changes = health.force_failover()
                if not changes:
                    raise InputRejected("conflict", f"webstream '{given.webstream}' has no other usable URL")
                self._webstream_changes(health, changes)
            case inputs.ResetWebstream():
                health = self._webstream(given.webstream)
                self._webstream_changes(health, health.reset())
                for index in range(len(health.urls)):
                    self._schedule_check(health, index)
            case inputs.InsertEmergency():
                self._insert_emergency(given)
            case inputs.StartOverride():
                self._start_override(given)
            case inputs.Release():
                self._manual_release(given)
            case inputs.HandOver():
                self._operator_handover(given)
            case inputs.UpdateMetadata():
                self._update_metadata(given)
            case inputs.Skip():
                self._skip(given)
            case _:  # pragma: no cover - the union is closed
                raise TypeError(f"not an input: {given!r}")

    def _connect(self, given: inputs.ConnectDj) -> None:
        state = self.station(given.station)
        dj = self.scenario.djs.get(given.dj)
        if dj is None:
            raise InputRejected("not_found", f"no DJ '{given.dj}'")
        if given.dj in state.sessions:
            raise InputRejected(
                "conflict", f"DJ '{given.dj}' is already connected to station '{given.station}'"
            )
        mount_keys = {m.key for m in state.spec.mounts}
        if given.mount is not None and given.mount not in mount_keys:
            raise InputRejected("not_found", f"station '{given.station}' has no mount '{given.mount}'")
        in_show = (
            state.entry is not None and state.entry.slot.kind == "live" and state.entry.slot.target == dj.key
        )
        priority = Tier(given.priority) if given.priority else LIVE_SCHEDULED if in_show else LIVE_OVERRIDE
        state.session_count += 1
        session = Session(
            id=self._uid("session", f"{state.spec.key}/{dj.key}/{state.session_count}"),
            dj=dj,
            mount=state.spec.mount(given.mount),
            source_ip=given.source_ip,
            connected_ms=self.now_ms,
            priority=priority,
            transition=given.transition,
        )
        state.sessions[dj.key] = session
        session.source = self._live_source(session)
        if priority == LIVE_SCHEDULED and not in_show:
            session.source.fire("hold")  # until the DJ's show starts
        state.ladder.add(session.source)
        self._emit(
            ev.DjConnect(
                station_id=ev.Uuid(state.spec.id),
                mount_id=ev.Uuid(session.mount.id),
                session_id=ev.Uuid(session.id),
                username=dj.username,
                source_ip=given.source_ip,
            )
        )

    def _live_source(self, session: Session) -> Source:
        return Source(
            "live",
            session.priority,
            self._next_seq(),
            session.transition,
            id=session.id,
            name=session.id,
            session=session,
        )

    def _disconnect(self, given: inputs.DisconnectDj) -> None:
        state = self.station(given.station)
        session = state.sessions.pop(given.dj, None)
        if session is None:
            raise InputRejected("conflict", f"DJ '{given.dj}' is not connected to station '{given.station}'")
        self._emit(
            ev.DjDisconnect(
                station_id=ev.Uuid(state.spec.id),
                session_id=ev.Uuid(session.id),
                username=session.dj.username,
                duration_seconds=(self.now_ms - session.connected_ms) / 1000,
            )
        )
        if session.source is not None:
            self._release(state, session.source)

    def _insert_emergency(self, given: inputs.InsertEmergency) -> None:
        state = self.station(given.station)
        self._track(given.media)
        seq = self._next_seq()
        emergency = Source(
            "emergency",
            EMERGENCY,
            seq,
            "immediate",
            id=self._uid("source", f"{state.spec.key}/{seq}"),
            media=given.media,
        )
        state.ladder.add_emergency(emergency, state.on_air)

    def _start_override(self, given: inputs.StartOverride) -> None:
        state = self.station(given.station)
        if given.name in state.overrides:
            raise InputRejected("conflict", f"an override named '{given.name}' is already active")
        if (given.media is None) == (given.webstream is None):
            raise InputRejected("bad_request", "an override needs exactly one of media or webstream")
        if given.media is not None:
            self._track(given.media)
        else:
            self._webstream(given.webstream)  # type: ignore[arg-type]
        if given.must_preempt and not state.ladder.preempts(
            Source("override", LIVE_OVERRIDE, 0), state.on_air
        ):
            raise InputRejected("no_preemption", "the source on air cannot be preempted by an override")
        seq = self._next_seq()
        source = Source(
            "override",
            LIVE_OVERRIDE,
            seq,
            given.transition,
            id=self._uid("source", f"{state.spec.key}/{seq}"),
            name=given.name,
            media=given.media,
            webstream=given.webstream,
        )
        state.overrides[given.name] = source
        state.ladder.add(source)

    def _manual_release(self, given: inputs.Release) -> None:
        state = self.station(given.station)
        if given.target == "emergency":
            emergency = state.ladder.emergency
            if emergency is None:
                raise InputRejected("conflict", f"no emergency is active on station '{given.station}'")
            source = emergency
        elif given.target == "override":
            found = state.overrides.pop(given.name or "", None)
            if found is None:
                raise InputRejected("not_found", f"no active override named '{given.name}'")
            source = found
        elif given.target == "source":
            source = self._find_source(state, given.name or "")
            if source.kind == "override":
                state.overrides.pop(source.name, None)
        else:
            session = state.sessions.get(given.name or "")
            if session is None or session.source is None:
                raise InputRejected("conflict", f"DJ '{given.name}' holds no place on the ladder")
            source = session.source
        self._release(state, source)

    def _find_source(self, state: _StationState, wanted: str) -> Source:
        """A priority source named by its own id or the id of its media, webstream or session."""
        for source in state.ladder.sources():
            if source.priority > LIVE_SCHEDULED or source.state in ("released", "replaced"):
                continue
            ids = {source.id}
            if source.media is not None:
                ids.add(self.scenario.tracks[source.media].id)
            if source.webstream is not None:
                ids.add(self.scenario.webstreams[source.webstream].id)
            if wanted in ids:
                return source
        raise InputRejected("not_found", f"no priority source '{wanted}' on station '{state.spec.key}'")

    def _operator_handover(self, given: inputs.HandOver) -> None:
        state = self.station(given.station)
        session = next((s for s in state.sessions.values() if s.id == given.session), None)
        if session is None:
            raise InputRejected(
                "not_found", f"no connected session '{given.session}' on station '{given.station}'"
            )
        current = state.on_air
        if current is not None and current is session.source:
            raise InputRejected("conflict", f"{session.dj.username} is on air already")
        challenger = Source("live", Tier(given.priority), 0)
        if not state.ladder.preempts(challenger, current):
            raise InputRejected("no_preemption", "the source on air cannot be preempted at that priority")
        handed_over = False
        if session.source is not None:
            handed_over = session.source.handed_over
            state.ladder.remove(session.source)
        session.priority = Tier(given.priority)
        session.transition = given.transition
        session.source = self._live_source(session)
        session.source.announce_override = given.announce_override
        session.source.handed_over = handed_over
        state.ladder.add(session.source)

    def _update_metadata(self, given: inputs.UpdateMetadata) -> None:
        state = self.station(given.station)
        session = state.sessions.get(given.dj)
        if session is None:
            raise InputRejected("conflict", f"DJ '{given.dj}' is not connected to station '{given.station}'")
        session.title, session.artist = given.title, given.artist
        if state.on_air is not None and state.on_air is session.source:
            self._emit_live_now_playing(state, session)

    def _skip(self, given: inputs.Skip) -> None:
        state = self.station(given.station)
        on_air = state.on_air
        if (
            on_air is None
            or on_air.kind not in ("automation", "fallback")
            or not isinstance(state.play, TrackPlay)
        ):
            raise InputRejected("conflict", "only an automation track can be skipped")
        self._start_automation(state, on_air, crossfade=False, previous=state.play)

    def _release(self, state: _StationState, source: Source) -> None:
        """Take a source off the ladder; events follow when it leaves the air (``_leave``)."""
        source.fire("release")
        if source is state.on_air:
            return
        state.ladder.remove(source)
        if source.kind == "live":
            session = source.session
            assert isinstance(session, Session)
            session.source = None
            if source.handed_over:
                # Preempted (by an emergency) and now gone for good: close its handover.
                self._emit_live_released(state, session, source)

    # -- webstreams ------------------------------------------------------------------------------

    def _check_index(self, health: WebstreamHealth, index: int) -> None:
        if not 0 <= index < len(health.urls):
            raise InputRejected("not_found", f"webstream '{health.spec.key}' has no URL number {index}")

    def _set_url(self, given: inputs.UrlDown | inputs.UrlUp) -> None:
        health = self._webstream(given.webstream)
        self._check_index(health, given.url)
        key = (given.webstream, given.url)
        if isinstance(given, inputs.UrlDown):
            self._down[key] = given.reason
        else:
            self._down.pop(key, None)
        self._schedule_check(health, given.url)

    def _schedule_check(self, health: WebstreamHealth, index: int) -> None:
        """Scripted probes check on the webstream's interval grid from the scenario's start.

        Checks that would pass and change nothing are skipped (the outcome is the
        same), so a week of healthy streams costs nothing.
        """
        if health.settings.kind != "scripted":
            return
        key = (health.spec.key, index)
        generation = self._check_generation.get(key, 0) + 1
        self._check_generation[key] = generation
        self._checking.add(key)
        interval = health.settings.interval_ms
        at = -(-self.now_ms // interval) * interval
        self.timeline.push(at, Rank.PROBE, (health.spec.key, index, generation))

    def _probe_check(self, item: tuple[str, int, int]) -> None:
        key, index, generation = item
        if self._check_generation.get((key, index)) != generation:
            return
        health = self.webstreams[key]
        reason = self._down.get((key, index))
        changes = health.record(index, reason is None, reason or "connection_timeout", self.now_ms)
        self._webstream_changes(health, changes)
        if health.needs_checks(index) or (key, index) in self._down:
            self.timeline.push(self.now_ms + health.settings.interval_ms, Rank.PROBE, item)
        else:
            self._checking.discard((key, index))

    def _grace(self, key: str) -> None:
        health = self.webstreams[key]
        self._webstream_changes(health, health.grace_expired(self.now_ms))

    def _webstream_changes(self, health: WebstreamHealth, changes: list[Change]) -> None:
        spec = health.spec
        for change in changes:
            if isinstance(change, GraceStarted):
                self.timeline.push(change.until_ms, Rank.GRACE, spec.key)
            elif isinstance(change, Failover):
                self._emit(
                    ev.WebstreamFailover(
                        webstream_id=ev.Uuid(spec.id),
                        webstream_name=spec.name,
                        failed_url=spec.urls[change.failed],
                        failover_url=spec.urls[change.to],
                        reason=change.reason,
                        timestamp=self._stamp(),
                    )
                )
            elif isinstance(change, Recovered):
                self._emit(
                    ev.WebstreamRecovered(
                        webstream_id=ev.Uuid(spec.id),
                        webstream_name=spec.name,
                        recovered_url=spec.urls[0],
                        timestamp=self._stamp(),
                    )
                )
            elif isinstance(change, AllFailed):
                pass  # the stations playing it fall back when they reconcile (docs/protocol.md)
        # Keep checking every URL that something now waits on (a primary to recover to).
        for index in range(len(health.urls)):
            if health.needs_checks(index) and (spec.key, index) not in self._checking:
                self._schedule_check(health, index)

    # -- the ladder ------------------------------------------------------------------------------

    def _reconcile_all(self) -> None:
        for state in self.stations.values():
            self._reconcile(state)

    def _stream_alive(self, key: str) -> bool:
        return self.webstreams[key].active is not None

    def _reconcile(self, state: _StationState) -> None:
        """Apply what the ladder decides (``ladder.py``); then keep automation's content going."""
        entry = state.entry
        automation_stream = (
            entry.slot.target if entry is not None and entry.slot.kind == "webstream" else None
        )
        for source, event in stream_moves(state.ladder, automation_stream, self._stream_alive):
            source.fire(event)
        play = state.play
        decision = decide(
            state.ladder,
            state.on_air,
            self.now_ms,
            boundary_ms=play.boundary_ms if isinstance(play, TrackPlay) else None,
            crossfade=self._crossfade_ms(state) > 0,
        )
        if isinstance(decision, Switch):
            self._switch(state, decision)
        else:
            # Stay, or a delayed handover waiting for the boundary (the WAKE pushed with the
            # track reconciles again then).
            self._continue(state)
        state.cut = False

    def _switch(self, state: _StationState, decision: rules.Switch) -> None:
        best = decision.to
        current = state.on_air
        previous_play = state.play
        if current is not None:
            assert decision.departure is not None
            self._leave(state, current, best, decision.departure)
        state.on_air = best
        if best.kind == "emergency":
            track = self._track(best.media or "")
            self._emit(
                ev.PriorityEmergency(
                    station_id=ev.Uuid(state.spec.id),
                    media_id=ev.Uuid(track.id),
                    priority=0,
                    source_type="emergency",
                    inserted_at=self._stamp(),
                )
            )
            self._start_priority_track(state, best, track)
        elif best.kind == "override":
            if best.media is not None:
                source_type, source_id = "media", self.scenario.tracks[best.media].id
            else:
                source_type, source_id = "webstream", self.scenario.webstreams[best.webstream or ""].id
            self._emit(
                ev.PriorityOverride(
                    station_id=ev.Uuid(state.spec.id),
                    priority=1,
                    source_type=source_type,  # type: ignore[arg-type]
                    source_id=ev.Uuid(source_id),
                    transition_type="preempt" if decision.transition == "immediate" else decision.transition,
                )
            )
            if best.media is not None:
                self._start_priority_track(state, best, self.scenario.tracks[best.media])
            else:
                self._start_webstream(state, best.webstream or "")
        elif best.kind == "live":
            session = best.session
            assert isinstance(session, Session)
            if best.announce_override:
                best.announce_override = False  # announced once, not again after an emergency
                self._emit(
                    ev.PriorityOverride(
                        station_id=ev.Uuid(state.spec.id),
                        priority=1,
                        source_type="live",
                        source_id=ev.Uuid(session.id),
                        transition_type="preempt" if best.transition == "immediate" else best.transition,
                    )
                )
            self._hand_over(state, session, best, decision.transition)
        else:
            self._start_automation(
                state, best, crossfade=decision.transition == "faded", previous=previous_play
            )

    def _leave(
        self, state: _StationState, current: Source, incoming: Source, departure: rules.Departure
    ) -> None:
        """``current`` gives the air to ``incoming`` as ``departure`` says (``ladder.DEPARTURES``)."""
        if departure is rules.PREEMPTED:
            current.play_token = None  # its pending end-of-track no longer applies
            return
        if departure.announce:
            if current.kind == "live":
                session = current.session
                assert isinstance(session, Session)
                session.source = None
                self._emit_live_released(state, session, current)
            self._emit(
                ev.PriorityReleased(
                    station_id=ev.Uuid(state.spec.id),
                    previous_priority=int(current.priority),  # type: ignore[arg-type]
                    new_priority=int(incoming.priority),  # type: ignore[arg-type]
                    released_at=self._stamp(),
                )
            )
        if departure.remove:
            state.ladder.remove(current)

    def _emit_live_released(self, state: _StationState, session: Session, source: Source) -> None:
        source.handed_over = False
        self._emit(
            ev.LiveReleased(
                station_id=ev.Uuid(state.spec.id),
                session_id=ev.Uuid(session.id),
                user_id=ev.Uuid(session.dj.user_id),
                username=session.dj.username,
                released_at=self._stamp(),
            )
        )

    def _hand_over(
        self, state: _StationState, session: Session, source: Source, transition: ev.Transition
    ) -> None:
        source.handed_over = True
        self._emit(
            ev.LiveHandover(
                station_id=ev.Uuid(state.spec.id),
                session_id=ev.Uuid(session.id),
                user_id=ev.Uuid(session.dj.user_id),
                username=session.dj.username,
                priority=int(session.priority),  # type: ignore[arg-type]
                transition_type=transition,
                handover_at=self._stamp(),
            )
        )
        state.play = LivePlay(session)
        self._emit_live_now_playing(state, session)

    def _emit_live_now_playing(self, state: _StationState, session: Session) -> None:
        entry = state.entry
        show = (
            entry.slot.title
            if entry and entry.slot.kind == "live" and entry.slot.target == session.dj.key
            else ""
        )
        self._emit(
            state=state,
            event=ev.NowPlayingLive(
                station_id=ev.Uuid(state.spec.id),
                mount_id=ev.Uuid(session.mount.id),
                session_id=ev.Uuid(session.id),
                user_id=ev.Uuid(session.dj.user_id),
                username=session.dj.username,
                title=session.title or show or f"{session.dj.username} live",
                artist=session.artist or session.dj.username,
                starts_at=self._stamp(),
            ),
        )

    def _continue(self, state: _StationState) -> None:
        """Nothing changes hands: advance automation's track, or follow its webstream's URL."""
        on_air = state.on_air
        assert on_air is not None
        play = state.play
        slot_changed = state.cut and on_air.kind == "automation"
        track_done = isinstance(play, TrackPlay) and play.boundary_ms <= self.now_ms
        if on_air.kind in ("automation", "fallback") and (slot_changed or track_done):
            self._start_automation(state, on_air, crossfade=True, previous=play)
        if isinstance(play, WebstreamPlay) and state.play is play:
            health = self.webstreams[play.webstream]
            if health.url is not None and health.url != play.url:
                self._start_webstream(state, play.webstream)

    def _crossfade_ms(self, state: _StationState) -> int:
        entry = state.entry
        if entry is not None and entry.slot.crossfade_ms is not None:
            return entry.slot.crossfade_ms
        return state.spec.crossfade_ms

    def _start_automation(
        self, state: _StationState, source: Source, *, crossfade: bool, previous: Play | None = None
    ) -> None:
        """A fresh item of automation (tier 3: the slot's content, else rotation) or fallback (tier 4)."""
        entry = state.entry
        if source.kind == "automation" and entry is not None and entry.slot.kind == "webstream":
            self._start_webstream(state, entry.slot.target)
            return
        if source.kind == "automation" and entry is not None and entry.slot.kind == "playlist":
            playlist = self.scenario.playlists[entry.slot.target]
            cursor = state.playlists.get(playlist.key)
            if cursor is None:
                cursor = state.playlists[playlist.key] = _Cursor(playlist.tracks, playlist.shuffle, state.rng)
        else:
            cursor = state.rotation
        key = cursor.next()
        if isinstance(previous, TrackPlay) and key == previous.track.key:
            key = cursor.next()  # never the same track twice in a row (a one-track list excepted)
        track = self.scenario.tracks[key]
        fade_ms = min(self._crossfade_ms(state), track.duration_ms // 2)
        self._start_track(state, source, track, fade_ms)
        # The documented crossfade notice follows the incoming track's now_playing.
        if crossfade and fade_ms > 0 and isinstance(previous, TrackPlay) and previous.end_ms > self.now_ms:
            self._emit(
                ev.HealthCrossfade(
                    station_id=ev.Uuid(state.spec.id),
                    mount_id=ev.Uuid(state.spec.mounts[0].id),
                    event="crossfade",
                    previous_media=ev.Uuid(previous.track.id),
                    current_media=ev.Uuid(track.id),
                    timestamp=self._stamp(),
                )
            )

    def _start_priority_track(self, state: _StationState, source: Source, track: Track) -> None:
        self._start_track(state, source, track, 0)
        self.timeline.push(state.play.end_ms, Rank.MEDIA_END, (state.spec.key, source, source.play_token))  # type: ignore[union-attr]

    def _start_track(self, state: _StationState, source: Source, track: Track, fade_ms: int) -> None:
        now = self.now_ms
        state.track_count += 1
        source.play_token = state.track_count
        play = TrackPlay(track, now, now + track.duration_ms - fade_ms, now + track.duration_ms)
        state.play = play
        if source.kind in ("automation", "fallback"):
            self.timeline.push(play.boundary_ms, Rank.WAKE, state.spec.key)
        self._emit(
            state=state,
            event=ev.NowPlayingMedia(
                station_id=ev.Uuid(state.spec.id),
                mount_id=ev.Uuid(state.spec.mounts[0].id),
                media_id=ev.Uuid(track.id),
                title=track.title,
                artist=track.artist,
                album=track.album,
                duration=track.duration_ms / 1000,
                starts_at=self._stamp(),
            ),
        )

    def _start_webstream(self, state: _StationState, key: str) -> None:
        health = self.webstreams[key]
        spec: Webstream = health.spec
        url = health.url or spec.urls[0]
        state.play = WebstreamPlay(key, url)
        self._emit(
            state=state,
            event=ev.NowPlayingWebstream(
                station_id=ev.Uuid(state.spec.id),
                mount_id=ev.Uuid(state.spec.mounts[0].id),
                webstream_id=ev.Uuid(spec.id),
                webstream_name=spec.name,
                url=url,
                health_status=health.status,
            ),
        )
