"""The ``grimnir`` profile: what the real Grimnir server (commit 4b8b2c5f) publishes for the core's decisions.

The core decides as the documented protocol says; this translator turns each
batch of its events, with the inputs applied in it, into the messages the real
server publishes for the same happenings, in the real order and with the real
timing rules (docs/fidelity.md, one row per difference):

- an input's messages come as its real handler publishes them: a DJ's connect is
  the priority event (if it preempts) → ``dj_connect`` → the live ``now_playing``;
  a disconnect is ``priority.released`` (if the DJ held a priority row) →
  ``dj_disconnect``, with no ``live.*``; ``live.handover`` only for an operator's
  handover; a reset always gives ``webstream.recovered``; a skip gives
  ``now_playing {skipped}``;
- what the real server never publishes is dropped: ``schedule_update`` (only on
  schedule edits, which the simulator has none of), the documented ``health``
  beats and crossfades at track boundaries, ``priority.released`` when an
  emergency or override simply ends (the real rows stay active until released),
  and ``now_playing`` for priority media or for what follows a release that changed
  no real audio (priority sources never change the real server's audio);
- what only the real server publishes is added: a live entry's ``now_playing`` when
  it comes into force, whether its DJ is there or not;
- its own cadence (:meth:`GrimnirTranslator.tick`): a ``health`` snapshot of
  every playing mount each 250 ms (``health_tick_ms``), and ``webstream.health``
  for each passing check of a webstream, on its check interval; a check that
  fails, or turns the URL in use unhealthy, is announced when it happens.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import attrs

from ..protocol import events as ev
from ..protocol import inputs
from ..protocol.wire import WireEvent
from ..scenario.model import Scenario
from ..station.core import Playout
from ..station.outcomes import Applied, Emitted
from ..station.state import StationState
from . import grimnir_payloads as real
from .base import wire_event
from .grimnir_playing import PlayingWire
from .grimnir_priority import PriorityRows
from .grimnir_webstreams import WebstreamWire

HEALTH_TICK_MS = 250
"""The director's tick (internal/playout/director.go:244): a ``health`` snapshot per playing mount."""


class GrimnirTranslator:
    """One scenario's translation into the real server's wire; pure, deterministic."""

    def __init__(self, scenario: Scenario, *, health_tick_ms: int = HEALTH_TICK_MS) -> None:
        """``health_tick_ms``: the snapshot cadence (0: none, e.g. when ``health`` is filtered out)."""
        self._scenario = scenario
        self._ids = uuid.uuid5(uuid.NAMESPACE_URL, f"grimnir-sim/{scenario.name}/grimnir")
        self._health_tick_ms = health_tick_ms
        self._next_health: int | None = health_tick_ms or None
        self.webstreams = WebstreamWire(scenario)
        """The webstreams' URLs in use, health statuses and stations (``serve``'s REST answers read them)."""
        self._playing = PlayingWire(scenario, self._ids, self.webstreams)
        self._live_on_wire: set[str] = set()
        """Stations whose last ``now_playing`` on the wire is a DJ's (the harbor's live shape)."""
        self.priority = PriorityRows(self._ids, [spec.id for spec in scenario.stations])
        """The real server's priority rows (``serve``'s REST answers read them, never write)."""
        self._requested: dict[int, dict] = {}
        """A REST request's ``metadata`` for the row its input makes, by the input's identity."""
        self.sessions: dict[str, real.DjSession] = {}
        """Every DJ's live session, by session id, those that ended kept inactive, as the real
        ``live_sessions`` table keeps them (read by ``serve``'s REST answers too)."""

    # -- the translator protocol -----------------------------------------------------------------

    def translate(self, batch: list[Emitted], applied: list[Applied], core: Playout) -> list[Emitted]:
        out: list[Emitted] = []
        instants = sorted({e.at_ms for e in batch} | {a.at_ms for a in applied})
        for at_ms in instants:
            events = [e.event for e in batch if e.at_ms == at_ms]
            given = [a.given for a in applied if a.at_ms == at_ms]
            out += [Emitted(at_ms, message) for message in self._instant(at_ms, events, given, core)]
        out += [Emitted(core.now_ms, message) for message in self.webstreams.status_changes(core)]
        entries = self._playing.entry_starts(core)
        self._note_now_playing(entries)
        out += [Emitted(core.now_ms, message) for message in entries]
        self._catch_up(core.now_ms)
        return out

    def next_tick(self) -> int | None:
        due = [at for at in (self._next_health, self.webstreams.next_check()) if at is not None]
        return min(due, default=None)

    def tick(self, now_ms: int, core: Playout) -> list[Emitted]:
        out: list[Emitted] = []
        if self._next_health is not None and self._next_health <= now_ms:
            out += [Emitted(now_ms, message) for message in self._playing.snapshots(core)]
        out += [Emitted(now_ms, message) for message in self.webstreams.passing_checks(now_ms, core)]
        self._catch_up(now_ms + 1)
        return out

    # -- one instant -------------------------------------------------------------------------------

    def _instant(
        self, at_ms: int, events: list[ev.Event], given: list[inputs.Input], core: Playout
    ) -> list[WireEvent]:
        stamp = core.clock.stamp(at_ms)
        out: list[WireEvent] = []
        for applied in given:
            out += self._input(applied, events, core, stamp)
        quiet = self._audio_unchanged(events, given, core)
        by_hand = {g.webstream for g in given if isinstance(g, inputs.ForceFailover | inputs.ResetWebstream)}
        webstream_moved = bool(by_hand) or any(
            isinstance(e, ev.WebstreamFailover | ev.WebstreamRecovered) for e in events
        )
        for event in events:
            match event:
                case ev.NowPlayingMedia() if event.station_id not in quiet:
                    out += self._playing.now_playing_media(event, core)
                case ev.NowPlayingWebstream() if not (event.station_id in quiet or webstream_moved):
                    out += self._playing.now_playing_webstream(event, core)
                case ev.WebstreamFailover() if self.webstreams.key_of(event.webstream_id) not in by_hand:
                    out += self.webstreams.failover(event, at_ms)
                case ev.WebstreamRecovered() if self.webstreams.key_of(event.webstream_id) not in by_hand:
                    out += self.webstreams.recovered(event, at_ms)
        self._note_now_playing(out)
        return out

    def _note_now_playing(self, sent: list[WireEvent]) -> None:
        """Keep :attr:`_live_on_wire` current with what was just sent."""
        for message in sent:
            if message.TYPE == "now_playing" and message.station_id is not None:
                if message.payload.get("is_live_dj") is True:
                    self._live_on_wire.add(message.station_id)
                else:
                    self._live_on_wire.discard(message.station_id)

    def _audio_unchanged(self, events: list[ev.Event], given: list[inputs.Input], core: Playout) -> set[str]:
        """The stations where a priority release changes no real audio, so what the core plays next gets no
        ``now_playing``: priority sources never reach the real air (``_priority_on_air``), and a release by
        request leaves a DJ on it. Audio changes, and the resumed automation is announced, when a DJ's
        live source leaves the encoder: at the DJ's disconnect (the director's dead-air check restarts the
        entry, internal/playout/director.go:475-525 after :4914-4928), when the DJ's show ends and the next
        entry takes the mount (:278-470), or at the release after a DJ who had left under it."""
        released = {e.station_id for e in events if isinstance(e, ev.PriorityReleased)}
        if not released:
            return set()
        requested = {core.stations[g.station].spec.id for g in given if isinstance(g, inputs.Release)}
        disconnected = {core.stations[g.station].spec.id for g in given if isinstance(g, inputs.DisconnectDj)}
        show_over = {e.station_id for e in events if isinstance(e, ev.LiveReleased)} - requested
        connected = {session.station_id for session in self.sessions.values() if session.active}
        left_before = self._live_on_wire - connected
        return released - disconnected - show_over - left_before

    def _input(
        self, given: inputs.Input, events: list[ev.Event], core: Playout, stamp: str
    ) -> list[WireEvent]:
        match given:
            case inputs.ConnectDj():
                return self._dj_connect(given, events, core, stamp)
            case inputs.DisconnectDj():
                return self._dj_disconnect(given, events)
            case inputs.InsertEmergency():
                return self._emergency(given, core)
            case inputs.StartOverride():
                return self._override(given, events, core)
            case inputs.Release():
                return self._release(given, core, stamp)
            case inputs.HandOver():
                return self.handover(given, stamp)[0]
            case inputs.UpdateMetadata():
                session = self._session_of(core.stations[given.station], given.dj)
                if session is None:
                    return []
                payload = real.now_playing_live(
                    session.station_id, session.mount_id, given.artist, given.title, stamp
                )
                return [wire_event("now_playing", payload, session.station_id)]
            case inputs.Skip():
                spec = core.stations[given.station].spec
                asked = self._requested.get(id(given)) or real.now_playing_skipped(spec.id, spec.mounts[0].id)
                return [wire_event("now_playing", asked, spec.id)]
            case inputs.ForceFailover():
                webstream_id = self._scenario.webstreams[given.webstream].id
                return [
                    self.webstreams.manual_failover(e)
                    for e in events
                    if isinstance(e, ev.WebstreamFailover) and e.webstream_id == webstream_id
                ]
            case inputs.ResetWebstream():
                return [self.webstreams.reset(given.webstream)]
        return []  # URL outages and probe results: announced by WebstreamWire.status_changes

    # -- DJs ---------------------------------------------------------------------------------------

    def _dj_connect(
        self, given: inputs.ConnectDj, events: list[ev.Event], core: Playout, stamp: str
    ) -> list[WireEvent]:
        station = core.stations[given.station]
        connected = next(
            (e for e in events if isinstance(e, ev.DjConnect) and e.station_id == station.spec.id), None
        )
        live = station.sessions.get(given.dj)
        if connected is None or live is None:
            return []
        dj = live.dj
        session = real.DjSession(
            connected.session_id, station.spec.id, connected.mount_id, dj.user_id, dj.username
        )
        self.sessions[session.session_id] = session
        priority = int(live.priority)
        metadata = {"session_id": session.session_id, "user_id": dj.user_id, "username": dj.username}
        out, kind = self.priority.transition(
            station.spec.id, priority, "live", session.session_id, metadata, None
        )
        preempted = kind == "preempt"
        out.append(wire_event("dj_connect", real.dj_connect(session, priority, preempted), station.spec.id))
        out.append(
            wire_event(
                "now_playing",
                real.now_playing_live(station.spec.id, session.mount_id, dj.username, "Live DJ", stamp),
                station.spec.id,
            )
        )
        return out

    def _dj_disconnect(self, given: inputs.DisconnectDj, events: list[ev.Event]) -> list[WireEvent]:
        left = next((e for e in events if isinstance(e, ev.DjDisconnect)), None)
        session = None if left is None else self.sessions.get(left.session_id)
        if left is None or session is None:
            return []
        self.sessions[session.session_id] = attrs.evolve(session, active=False)
        out = self.priority.released(session.station_id, session.session_id)
        out.append(
            wire_event(
                "dj_disconnect", real.dj_disconnect(session, left.duration_seconds), session.station_id
            )
        )
        return out

    def handover(self, given: inputs.HandOver, stamp: str) -> tuple[list[WireEvent], str | None]:
        """``StartHandover`` (internal/live/handover.go:107-190): the priority transition, then
        ``live.handover``; and the transition's kind (None: the DJ may not take over). Also for a
        handover the core refused (the DJ on air already, or outranked): the real service makes the
        transition whatever the station plays, and a handover that makes none is ``delayed``.

        An override of a live source (``announce_override``) is ``StartOverride`` alone
        (internal/api/priority.go:110-124): a row of the request's station for the source id, whatever
        session it names (none is looked up), the request's metadata, no ``live.handover``."""
        if given.announce_override:
            metadata = self._requested.get(id(given), {})
            station_id = self._scenario.station(given.station).id
            return self.priority.transition(station_id, 1, "live", given.session, metadata, None)
        session = self.sessions.get(given.session)
        if session is None or not session.active:
            return [], None
        metadata = {
            "handover_at": stamp,
            "session_id": session.session_id,
            "user_id": session.user_id,
            "username": session.username,
        }
        out, kind = self.priority.transition(
            session.station_id, given.priority, "live", session.session_id, metadata, None
        )
        transition = real.handover_transition(given.transition == "immediate", kind)
        out.append(
            wire_event(
                "live.handover",
                real.live_handover(session, given.priority, transition, stamp),
                session.station_id,
            )
        )
        return out, kind

    def _session_of(self, station: StationState, dj_key: str) -> real.DjSession | None:
        live = station.sessions.get(dj_key)
        return None if live is None else self.sessions.get(live.id)

    # -- priority rows -----------------------------------------------------------------------------

    @contextmanager
    def request_metadata(self, given: inputs.Input, metadata: dict) -> Iterator[None]:
        """While ``given`` is submitted, the request's ``metadata`` for the row it makes: the real
        service stores it and merges it into the priority event (internal/priority/service.go:212-246).
        For a skip, the skipped ``now_playing`` as the request names it (internal/api/api.go:1382-1386:
        the ids as given). It is no fact the station acts on, so it travels here, beside the input."""
        self._requested[id(given)] = metadata
        try:
            yield
        finally:
            del self._requested[id(given)]

    def _emergency(self, given: inputs.InsertEmergency, core: Playout) -> list[WireEvent]:
        """``InsertEmergency`` (internal/priority/resolver.go:305-324): it preempts any active row."""
        station_id = core.stations[given.station].spec.id
        media_id = self._scenario.tracks[given.media].id
        old = self.priority.active(station_id)
        if old is not None:
            old.active = False
        metadata = self._requested.get(id(given), {})
        new = self.priority.row(station_id, media_id, 0, "emergency", metadata, ("emergency", given.media))
        payload = real.priority_event(
            station_id, "emergency", old, new, preempted=old is not None, requires_fade=False
        )
        return [wire_event("priority.emergency", payload, station_id)]

    def _override(
        self, given: inputs.StartOverride, events: list[ev.Event], core: Playout
    ) -> list[WireEvent]:
        if not any(isinstance(e, ev.PriorityOverride) for e in events):
            return []
        station_id = core.stations[given.station].spec.id
        if given.media is not None:
            source_type, source_id = "media", self._scenario.tracks[given.media].id
        else:
            source_type, source_id = "webstream", self._scenario.webstreams[given.webstream or ""].id
        metadata = self._requested.get(id(given), {})
        handle = ("override", given.name)
        out, _ = self.priority.transition(station_id, 1, source_type, source_id, metadata, handle)
        return out

    def _release(self, given: inputs.Release, core: Playout, stamp: str) -> list[WireEvent]:
        """``Release`` of what the input names (internal/priority/service.go:175-190); a DJ's is
        :meth:`release_handover` of the DJ's session."""
        station = core.stations[given.station]
        if given.target == "dj":
            session = self._session_of(station, given.name or "")
            return [] if session is None else self.release_handover(session, stamp)
        if given.target == "source":
            source_id = given.name
        else:
            source_id = self.priority.played(station.spec.id, (given.target, given.name))
        return [] if source_id is None else self.priority.released(station.spec.id, source_id)

    def release_handover(self, session: real.DjSession, stamp: str) -> list[WireEvent]:
        """``ReleaseHandover`` (internal/live/handover.go:218-246): the row playing the session released
        (whatever its state), then ``live.released``; nothing when no row plays it. Also for a session
        that has ended: the real table keeps it, and the release goes out all the same."""
        out = self.priority.released(session.station_id, session.session_id)
        if out:
            out.append(wire_event("live.released", real.live_released(session, stamp), session.station_id))
        return out

    def _catch_up(self, now_ms: int) -> None:
        """Put the cadences' next times at or after ``now_ms`` (after a tick, or a silent fast-forward)."""
        tick = self._health_tick_ms
        if self._next_health is not None and self._next_health < now_ms:
            self._next_health = -(-now_ms // tick) * tick
        self.webstreams.catch_up(now_ms)
