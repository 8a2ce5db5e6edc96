"""The sources above automation joining and leaving a station's ladder: DJs, overrides, emergencies.

Each function applies one input (or a finished track) to the ladder and refuses,
with :class:`InputRejected`, what cannot apply; who then takes the air is decided
by the ladder when the station reconciles (``on_air``).
"""

from ..protocol import inputs
from . import announce
from .ladder import EMERGENCY, LIVE_OVERRIDE, LIVE_SCHEDULED, Source, Tier
from .outcomes import InputRejected
from .state import CoreState, Session, StationState


def connect(core: CoreState, given: inputs.ConnectDj) -> None:
    """A DJ's source connects: priority 2 inside their own show (waiting until it starts), else 1."""
    station = core.station(given.station)
    dj = core.scenario.djs.get(given.dj)
    if dj is None:
        raise InputRejected("not_found", f"no DJ '{given.dj}'")
    if given.dj in station.sessions:
        raise InputRejected("conflict", f"DJ '{given.dj}' is already connected to station '{given.station}'")
    mount_keys = {m.key for m in station.spec.mounts}
    if given.mount is not None and given.mount not in mount_keys:
        raise InputRejected("not_found", f"station '{given.station}' has no mount '{given.mount}'")
    entry = station.entry
    in_show = entry is not None and entry.slot.kind == "live" and entry.slot.target == dj.key
    priority = Tier(given.priority) if given.priority else LIVE_SCHEDULED if in_show else LIVE_OVERRIDE
    station.session_count += 1
    session = Session(
        id=core.uid("session", f"{station.spec.key}/{dj.key}/{station.session_count}"),
        dj=dj,
        mount=station.spec.mount(given.mount),
        source_ip=given.source_ip,
        connected_ms=core.now_ms,
        priority=priority,
        transition=given.transition,
    )
    station.sessions[dj.key] = session
    session.source = live_source(core, session)
    if priority == LIVE_SCHEDULED and not in_show:
        session.source.fire("hold")  # until the DJ's show starts
    station.ladder.add(session.source)
    core.emit(announce.dj_connect(station, session))


def live_source(core: CoreState, session: Session) -> Source:
    """A new place on the ladder for ``session``, at its priority and transition."""
    return Source(
        "live",
        session.priority,
        core.next_seq(),
        session.transition,
        id=session.id,
        name=session.id,
        session=session,
    )


def disconnect(core: CoreState, given: inputs.DisconnectDj) -> None:
    station = core.station(given.station)
    session = station.sessions.pop(given.dj, None)
    if session is None:
        raise InputRejected("conflict", f"DJ '{given.dj}' is not connected to station '{given.station}'")
    core.emit(announce.dj_disconnect(station, session, core.now_ms))
    if session.source is not None:
        release(core, station, session.source)


def insert_emergency(core: CoreState, given: inputs.InsertEmergency) -> None:
    station = core.station(given.station)
    core.track(given.media)
    seq = core.next_seq()
    emergency = Source(
        "emergency",
        EMERGENCY,
        seq,
        "immediate",
        id=core.uid("source", f"{station.spec.key}/{seq}"),
        media=given.media,
    )
    station.ladder.add_emergency(emergency, station.on_air)


def start_override(core: CoreState, given: inputs.StartOverride) -> None:
    station = core.station(given.station)
    if given.name in station.overrides:
        raise InputRejected("conflict", f"an override named '{given.name}' is already active")
    if (given.media is None) == (given.webstream is None):
        raise InputRejected("bad_request", "an override needs exactly one of media or webstream")
    if given.media is not None:
        core.track(given.media)
    else:
        core.webstream(given.webstream)  # type: ignore[arg-type]
    if given.must_preempt and not station.ladder.preempts(
        Source("override", LIVE_OVERRIDE, 0), station.on_air
    ):
        raise InputRejected("no_preemption", "the source on air cannot be preempted by an override")
    seq = core.next_seq()
    source = Source(
        "override",
        LIVE_OVERRIDE,
        seq,
        given.transition,
        id=core.uid("source", f"{station.spec.key}/{seq}"),
        name=given.name,
        media=given.media,
        webstream=given.webstream,
    )
    station.overrides[given.name] = source
    station.ladder.add(source)


def manual_release(core: CoreState, given: inputs.Release) -> None:
    """An operator releases the emergency, an override, a priority source by id, or a DJ; with
    ``missing_ok``, what finds nothing changes nothing."""
    station = core.station(given.station)
    try:
        source = _to_release(core, station, given)
    except InputRejected:
        if given.missing_ok:
            return
        raise
    release(core, station, source)


def _to_release(core: CoreState, station: StationState, given: inputs.Release) -> Source:
    """The source ``given`` takes off the ladder (an override's name freed), or :class:`InputRejected`."""
    if given.target == "emergency":
        emergency = station.ladder.emergency
        if emergency is None:
            raise InputRejected("conflict", f"no emergency is active on station '{given.station}'")
        source = emergency
    elif given.target == "override":
        found = station.overrides.pop(given.name or "", None)
        if found is None:
            raise InputRejected("not_found", f"no active override named '{given.name}'")
        source = found
    elif given.target == "source":
        source = _find_source(core, station, given.name or "")
        if source.kind == "override":
            station.overrides.pop(source.name, None)
    else:
        session = station.sessions.get(given.name or "")
        if session is None or session.source is None:
            raise InputRejected("conflict", f"DJ '{given.name}' holds no place on the ladder")
        source = session.source
    return source


def _find_source(core: CoreState, station: StationState, wanted: str) -> Source:
    """A priority source named by its own id or the id of its media, webstream or session."""
    for source in station.ladder.sources():
        if source.priority > LIVE_SCHEDULED or source.state in ("released", "replaced"):
            continue
        ids = {source.id}
        if source.media is not None:
            ids.add(core.scenario.tracks[source.media].id)
        if source.webstream is not None:
            ids.add(core.scenario.webstreams[source.webstream].id)
        if wanted in ids:
            return source
    raise InputRejected("not_found", f"no priority source '{wanted}' on station '{station.spec.key}'")


def operator_handover(core: CoreState, given: inputs.HandOver) -> None:
    """An operator puts a connected DJ on the ladder at a new priority (and transition)."""
    station = core.station(given.station)
    session = next((s for s in station.sessions.values() if s.id == given.session), None)
    if session is None:
        raise InputRejected(
            "not_found", f"no connected session '{given.session}' on station '{given.station}'"
        )
    current = station.on_air
    if current is not None and current is session.source:
        raise InputRejected("conflict", f"{session.dj.username} is on air already")
    challenger = Source("live", Tier(given.priority), 0)
    if not station.ladder.preempts(challenger, current):
        raise InputRejected("no_preemption", "the source on air cannot be preempted at that priority")
    handed_over = False
    if session.source is not None:
        handed_over = session.source.handed_over
        station.ladder.remove(session.source)
    session.priority = Tier(given.priority)
    session.transition = given.transition
    session.source = live_source(core, session)
    session.source.announce_override = given.announce_override
    session.source.handed_over = handed_over
    station.ladder.add(session.source)


def update_metadata(core: CoreState, given: inputs.UpdateMetadata) -> None:
    """A DJ's title and artist; announced at once while they are on air."""
    station = core.station(given.station)
    session = station.sessions.get(given.dj)
    if session is None:
        raise InputRejected("conflict", f"DJ '{given.dj}' is not connected to station '{given.station}'")
    session.title, session.artist = given.title, given.artist
    if station.on_air is not None and station.on_air is session.source:
        core.emit_now_playing(station, announce.now_playing_live(station, session, core.stamp()))


def media_end(core: CoreState, item: tuple[str, Source, int]) -> None:
    """An emergency's or override's track ends (the timeline's ``MEDIA_END``), unless it no longer plays."""
    station_key, source, token = item
    station = core.stations[station_key]
    if source.play_token == token and source in station.ladder:
        if source.kind == "override":
            station.overrides.pop(source.name, None)
        release(core, station, source)


def release(core: CoreState, station: StationState, source: Source) -> None:
    """Take a source off the ladder; events follow when it leaves the air (``on_air``)."""
    source.fire("release")
    if source is station.on_air:
        return
    station.ladder.remove(source)
    if source.kind == "live":
        session = source.session
        assert isinstance(session, Session)
        session.source = None
        if source.handed_over:
            # Preempted (by an emergency) and now gone for good: close its handover.
            announce_live_released(core, station, session, source)


def announce_live_released(core: CoreState, station: StationState, session: Session, source: Source) -> None:
    """The DJ's handover is over: ``live.released``, and a later return is a fresh handover."""
    source.handed_over = False
    core.emit(announce.live_released(station, session, core.stamp()))
