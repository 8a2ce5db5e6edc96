"""Facts fed to the station core: scripted in a scenario's timeline, or sent by drivers.

Every input names its targets by the scenario's keys (``"mike"``, ``"main"``), not
by UUID. The same input, scripted or sent through the control API, produces the
same events.
"""

from typing import Literal

import attrs

from .events import FailoverReason, Transition

ReleaseTarget = Literal["override", "dj", "emergency", "source"]

_input = attrs.frozen(kw_only=True, slots=True)


@_input
class ConnectDj:
    """A DJ's source client connected to a mount."""

    station: str
    dj: str
    mount: str | None = None
    source_ip: str = "127.0.0.1"
    transition: Transition = "faded"
    priority: Literal[1, 2] | None = None
    """1 = live override, 2 = scheduled live; ``None`` = 2 inside the DJ's own show, else 1."""


@_input
class DisconnectDj:
    """The DJ's source client went away."""

    station: str
    dj: str


@_input
class UrlDown:
    """From now on, checks of one webstream URL fail with ``reason``."""

    webstream: str
    url: int
    reason: FailoverReason = "connection_timeout"


@_input
class UrlUp:
    """From now on, checks of one webstream URL pass."""

    webstream: str
    url: int


@_input
class ProbeResult:
    """One health check of one webstream URL, made by a real probe."""

    webstream: str
    url: int
    ok: bool
    reason: FailoverReason = "connection_timeout"


@_input
class ForceFailover:
    """An operator moves a webstream to the next URL of its chain."""

    webstream: str
    to: int | None = None
    """The URL to move to, by its number in the chain, whatever its health (the primary too, and
    out of a state where every URL has failed); ``None``: the next usable backup, never the primary."""


@_input
class ResetWebstream:
    """An operator puts a webstream back on its primary URL and clears its health."""

    webstream: str


@_input
class InsertEmergency:
    """Emergency media takes the air at priority 0 until it ends or is released."""

    station: str
    media: str


@_input
class StartOverride:
    """A manual override at priority 1: one track, or a webstream until released."""

    station: str
    name: str
    media: str | None = None
    webstream: str | None = None
    transition: Transition = "immediate"
    must_preempt: bool = False
    """Refuse (``no_preemption``) rather than wait when the source on air outranks it, as the
    real server's override endpoint does; a scripted override waits its turn."""


@_input
class Release:
    """Take a priority source off the ladder: an override by name, a DJ by key, the emergency,
    or (``source``) any of them by the UUID of the source, its media, webstream or session."""

    station: str
    target: ReleaseTarget
    name: str | None = None
    missing_ok: bool = False
    """Apply a release that finds nothing to take off (it already left) as a no-op, with no events,
    rather than refuse it; it is still an applied input, as a wire profile whose server keeps its
    own record of priority sources needs (the real server releases such a row again)."""


@_input
class HandOver:
    """An operator puts a connected DJ on air at a tier (``announce_override``: as a manual
    override, announced with ``priority.override``). Refused when it cannot preempt."""

    station: str
    session: str
    priority: Literal[1, 2]
    transition: Transition = "faded"
    announce_override: bool = False


@_input
class UpdateMetadata:
    """A source client's metadata update: what the live DJ is playing now."""

    station: str
    dj: str
    title: str
    artist: str = ""


@_input
class Skip:
    """Skip the automation track on air; a fresh one starts now."""

    station: str


Input = (
    ConnectDj
    | DisconnectDj
    | UrlDown
    | UrlUp
    | ProbeResult
    | ForceFailover
    | ResetWebstream
    | InsertEmergency
    | StartOverride
    | Release
    | HandOver
    | UpdateMetadata
    | Skip
)
