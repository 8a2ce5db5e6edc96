"""The core's state, in one place: every station, its sessions and what it plays, and the shared clock.

:class:`CoreState` is owned by one :class:`~playout.station.core.Playout`; the core's
functions read and change it, and everything they change hangs from it. It also
holds the few helpers they all use: emitting an event at the current time, derived
ids, and lookups that refuse an unknown key with :class:`InputRejected`.
"""

import random
import uuid

import attrs

from ..protocol import events as ev
from ..protocol.stationtime import StationClock
from ..scenario.model import Dj, Mount, Scenario, Station, Track
from .ladder import AUTOMATION, FALLBACK, Ladder, Source, Tier
from .outcomes import Applied, Emitted, InputRejected, Notice
from .schedule import Entry
from .timeline import Rank, Timeline
from .webstreams import WebstreamHealth


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

NowPlaying = ev.NowPlayingMedia | ev.NowPlayingWebstream | ev.NowPlayingLive


class TrackCursor:
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

    @property
    def index(self) -> int:
        """Where the key :meth:`next` gave last stands in this pass's order (-1 before the first)."""
        return self._position - 1


@attrs.define(eq=False)
class StationState:
    """One station: its ladder, what is on air and playing, its DJs' sessions and overrides."""

    spec: Station
    ladder: Ladder
    rng: random.Random
    rotation: TrackCursor
    on_air: Source | None = None
    play: Play | None = None
    entry: Entry | None = None
    """The schedule entry in force now, if any."""
    cut: bool = False
    """Automation must change content now (a slot started or a webstream slot ended)."""
    sessions: dict[str, Session] = attrs.Factory(dict)
    overrides: dict[str, Source] = attrs.Factory(dict)
    playlists: dict[str, TrackCursor] = attrs.Factory(dict)
    session_count: int = 0
    track_count: int = 0
    now_playing: NowPlaying | None = None
    """The last ``now_playing`` sent, for clients that need it before their first event."""
    now_playing_ms: int = 0


@attrs.define
class ScriptedProbes:
    """The scripted probes' bookkeeping, per (webstream, URL index)."""

    down: dict[tuple[str, int], ev.FailoverReason] = attrs.Factory(dict)
    """URLs a scenario or an operator took down, and why their checks fail."""
    generation: dict[tuple[str, int], int] = attrs.Factory(dict)
    """Bumped by each new schedule of checks; a check of an older one is ignored."""
    checking: set[tuple[str, int]] = attrs.Factory(set)
    """URLs with a check on the timeline."""


class CoreState:
    """Every station of one scenario, the webstreams' health, the timeline, the events not yet handed out."""

    def __init__(self, scenario: Scenario, clock: StationClock, *, keep_applied: bool = False) -> None:
        self.scenario = scenario
        self.clock = clock
        self.now_ms = 0
        self.timeline = Timeline()
        self.notices: list[Notice] = []
        self.out: list[Emitted] = []
        self.applied: list[Applied] | None = [] if keep_applied else None
        """The inputs applied since the last :meth:`drain_applied`, when kept (a wire profile reads them)."""
        self.webstreams = {key: WebstreamHealth(ws) for key, ws in scenario.webstreams.items()}
        self.probes = ScriptedProbes()
        self.window_end_ms = 0
        """Where the schedule's rolling window of entries ends."""
        self._seq = 0
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"grimnir-sim/{scenario.name}")
        self.stations: dict[str, StationState] = {}
        for spec in scenario.stations:
            rng = random.Random(f"{scenario.seed}/station/{spec.key}")
            automation = Source("automation", AUTOMATION, self.next_seq())
            fallback = Source("fallback", FALLBACK, self.next_seq())
            self.stations[spec.key] = StationState(
                spec=spec,
                ladder=Ladder(automation, fallback),
                rng=rng,
                rotation=TrackCursor(scenario.rotation, True, rng),
            )
            if spec.health_interval_ms > 0:
                self.timeline.push(spec.health_interval_ms, Rank.HEALTH, spec.key)

    def emit(self, event: ev.Event) -> None:
        """Emit ``event`` now."""
        self.out.append(Emitted(self.now_ms, event))

    def emit_now_playing(self, station: StationState, event: NowPlaying) -> None:
        """Emit ``station``'s new ``now_playing``, and keep it for whoever asks what is on."""
        self.out.append(Emitted(self.now_ms, event))
        station.now_playing = event
        station.now_playing_ms = self.now_ms

    def drain(self) -> list[Emitted]:
        """The events emitted since the last drain, in order."""
        out, self.out = self.out, []
        return out

    def drain_applied(self) -> list[Applied]:
        """The inputs applied since the last call, in order (none unless they are kept)."""
        if not self.applied:
            return []
        applied, self.applied = self.applied, []
        return applied

    def stamp(self) -> ev.Timestamp:
        """Now, as the wire shows it."""
        return ev.Timestamp(self.clock.stamp(self.now_ms))

    def next_seq(self) -> int:
        """The next arrival number on a ladder (first come, first served)."""
        self._seq += 1
        return self._seq

    def uid(self, kind: str, key: str) -> ev.Uuid:
        """A UUID derived from the scenario's name, so it is the same on every run."""
        return ev.Uuid(str(uuid.uuid5(self._namespace, f"{kind}/{key}")))

    def station(self, key: str) -> StationState:
        state = self.stations.get(key)
        if state is None:
            raise InputRejected("not_found", f"no station '{key}'")
        return state

    def webstream(self, key: str) -> WebstreamHealth:
        health = self.webstreams.get(key)
        if health is None:
            raise InputRejected("not_found", f"no webstream '{key}'")
        return health

    def track(self, key: str) -> Track:
        track = self.scenario.tracks.get(key)
        if track is None:
            raise InputRejected("not_found", f"no media '{key}'")
        return track
