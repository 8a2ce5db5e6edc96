"""What the core does about its webstreams' health: outages, probe checks, grace, failover and recovery.

The health rules themselves are :class:`~playout.station.webstreams.WebstreamHealth`'s;
here its changes are announced and its checks put on the timeline. The stations
playing a webstream follow it when they reconcile (``on_air``).
"""

from ..protocol import inputs
from . import announce
from .outcomes import InputRejected
from .state import CoreState
from .timeline import Rank
from .webstreams import AllFailed, Change, Failover, GraceStarted, Recovered, WebstreamHealth


def set_url(core: CoreState, given: inputs.UrlDown | inputs.UrlUp) -> None:
    """A scripted outage of one URL begins or ends; its checks start failing or passing."""
    health = core.webstream(given.webstream)
    _check_index(health, given.url)
    key = (given.webstream, given.url)
    if isinstance(given, inputs.UrlDown):
        core.probes.down[key] = given.reason
    else:
        core.probes.down.pop(key, None)
    _schedule_check(core, health, given.url)


def probe_result(core: CoreState, given: inputs.ProbeResult) -> None:
    """One real probe's check of one URL."""
    health = core.webstream(given.webstream)
    _check_index(health, given.url)
    apply_changes(core, health, health.record(given.url, given.ok, given.reason, core.now_ms))


def force_failover(core: CoreState, given: inputs.ForceFailover) -> None:
    """An operator's failover: onto a backup, held there until a reset (docs/protocol.md)."""
    health = core.webstream(given.webstream)
    if given.to is not None:
        _check_index(health, given.to)
    changes = health.force_failover(to=given.to)
    if not changes and given.to is not None:
        raise InputRejected("conflict", f"webstream '{given.webstream}' is on URL number {given.to} already")
    if not changes:
        raise InputRejected(
            "conflict",
            f"webstream '{given.webstream}' has no other usable backup URL (a reset returns to the primary)",
        )
    apply_changes(core, health, changes)


def reset(core: CoreState, given: inputs.ResetWebstream) -> None:
    """Back on the primary, every failure and a manual failover's hold forgotten; every URL checked again."""
    health = core.webstream(given.webstream)
    apply_changes(core, health, health.reset())
    for index in range(len(health.urls)):
        _schedule_check(core, health, index)


def probe_check(core: CoreState, item: tuple[str, int, int]) -> None:
    """A scripted probe's check (the timeline's ``PROBE`` item), unless a newer schedule replaced it."""
    key, index, generation = item
    probes = core.probes
    if probes.generation.get((key, index)) != generation:
        return
    health = core.webstreams[key]
    reason = probes.down.get((key, index))
    changes = health.record(index, reason is None, reason or "connection_timeout", core.now_ms)
    apply_changes(core, health, changes)
    if health.needs_checks(index) or (key, index) in probes.down:
        core.timeline.push(core.now_ms + health.settings.interval_ms, Rank.PROBE, item)
    else:
        probes.checking.discard((key, index))


def grace_over(core: CoreState, key: str) -> None:
    """The grace period of a failing URL on air ends (the timeline's ``GRACE`` item)."""
    health = core.webstreams[key]
    apply_changes(core, health, health.grace_expired(core.now_ms))


def apply_changes(core: CoreState, health: WebstreamHealth, changes: list[Change]) -> None:
    """Announce what changed, wait out a grace period, keep checking what something waits on."""
    spec = health.spec
    for change in changes:
        if isinstance(change, GraceStarted):
            core.timeline.push(change.until_ms, Rank.GRACE, spec.key)
        elif isinstance(change, Failover):
            core.emit(announce.webstream_failover(spec, change, core.stamp()))
        elif isinstance(change, Recovered):
            core.emit(announce.webstream_recovered(spec, core.stamp()))
        elif isinstance(change, AllFailed):
            pass  # the stations playing it fall back when they reconcile (docs/protocol.md)
    # Keep checking every URL that something now waits on (a primary to recover to).
    for index in range(len(health.urls)):
        if health.needs_checks(index) and (spec.key, index) not in core.probes.checking:
            _schedule_check(core, health, index)


def _check_index(health: WebstreamHealth, index: int) -> None:
    if not 0 <= index < len(health.urls):
        raise InputRejected("not_found", f"webstream '{health.spec.key}' has no URL number {index}")


def _schedule_check(core: CoreState, health: WebstreamHealth, index: int) -> None:
    """Scripted probes check on the webstream's interval grid from the scenario's start.

    Checks that would pass and change nothing are skipped (the outcome is the
    same), so a week of healthy streams costs nothing.
    """
    if health.settings.kind != "scripted":
        return
    key = (health.spec.key, index)
    probes = core.probes
    generation = probes.generation.get(key, 0) + 1
    probes.generation[key] = generation
    probes.checking.add(key)
    interval = health.settings.interval_ms
    at = -(-core.now_ms // interval) * interval
    core.timeline.push(at, Rank.PROBE, (health.spec.key, index, generation))
