"""Timeline actions, one declaration each: the keys an entry takes and the core inputs it stands for.

Everything else about an action derives from :data:`TIMELINE_ACTIONS`: the scenario's JSON Schema
(:mod:`playout.scenario.schema`), the builder of the timeline (:mod:`playout.scenario.timing`) and,
where a control endpoint takes the same fields, its body's schema (server/api/live.py, priority.py
and webstreams.py). A new action is one :class:`Action` here and its handler in the core.
"""

import typing
from collections.abc import Callable
from typing import Any

import attrs

from ..protocol import inputs
from ..protocol.events import FailoverReason, Transition
from ..protocol.stationtime import parse_duration, shown
from .fields import KEY, TEXT, duration
from .model import Webstream
from .references import References

Made = list[tuple[int, inputs.Input]]
"""The inputs one entry stands for, each with its delay after the entry's ``at``."""

_TRANSITION = {"enum": list(typing.get_args(Transition))}
_REASON = {"enum": list(typing.get_args(FailoverReason))}
_PRIORITY = {"enum": [1, 2]}
"""A live DJ's tier: 1 as a live override, 2 as a scheduled show."""
_URL = {"type": ["integer", "string"]}


@attrs.frozen
class Action:
    """One timeline action: its keys (beyond those every entry has) and what an entry of it does."""

    name: str
    properties: dict[str, Any]
    """The JSON Schema of each of its own keys."""
    required: tuple[str, ...]
    make: Callable[[References, str, dict[str, Any]], Made]
    """The inputs of a schema-checked entry (its defaults filled in) at its table; each dangling
    reference or impossible combination is a problem in the references' findings."""
    defaults: dict[str, Any] = attrs.field(factory=dict)
    """What an entry that leaves out an optional key means."""

    def inputs(self, refs: References, table: str, entry: dict[str, Any]) -> Made:
        """The inputs ``entry`` stands for, each with its delay after ``at``."""
        return self.make(refs, table, {**self.defaults, **entry})

    def option(self, key: str) -> dict[str, Any]:
        """One of its keys' schema, with its default when it has one (as a control body documents it)."""
        schema = dict(self.properties[key])
        if key in self.defaults:
            schema["default"] = self.defaults[key]
        return schema


def _dj_connect(refs: References, table: str, entry: dict[str, Any]) -> Made:
    station = refs.station_of(table, entry)
    refs.lookup(table, entry["dj"], "dj")
    mount = entry.get("mount")
    mounts = {m.key for m in refs.stations[station].mounts} if station else set()
    if station and mount and mount not in mounts and "mount" not in refs.unsure:
        refs.findings.problem(table, "mount", f"station '{station}' has no mount '{mount}'")
    connect = inputs.ConnectDj(
        station=station or "",
        dj=entry["dj"],
        mount=mount,
        source_ip=entry["source_ip"],
        transition=entry["transition"],
        priority=entry.get("priority"),
    )
    return [(0, connect)]


def _dj_disconnect(refs: References, table: str, entry: dict[str, Any]) -> Made:
    station = refs.station_of(table, entry)
    refs.lookup(table, entry["dj"], "dj")
    return [(0, inputs.DisconnectDj(station=station or "", dj=entry["dj"]))]


def _scripted_url(refs: References, table: str, entry: dict[str, Any]) -> int | None:
    """The index of the entry's ``url`` in the chain of its webstream, whose checks are scripted."""
    webstream: Webstream | None = refs.lookup(table, entry["webstream"], "webstream")
    if webstream is not None and webstream.probe.kind == "http":
        refs.findings.problem(
            table,
            "webstream",
            f"webstream '{webstream.key}' is probed over HTTP: its outages "
            "come from the network, not the timeline",
        )
    url = entry["url"]
    if webstream is None or not webstream.urls:
        return None  # no URL chain: the schema refused it
    if isinstance(url, int):
        if 0 <= url < len(webstream.urls):
            return url
        refs.findings.problem(
            table,
            "url",
            f"{shown(url)} is not an index of webstream '{webstream.key}' (0 to {len(webstream.urls) - 1})",
        )
        return None
    if url in webstream.urls:
        return webstream.urls.index(url)
    refs.findings.problem(
        table, "url", f"{shown(url)} is not in the URL chain of webstream '{webstream.key}'"
    )
    return None


def _webstream_outage(refs: References, table: str, entry: dict[str, Any]) -> Made:
    index = _scripted_url(refs, table, entry)
    if index is None:
        return []
    webstream = entry["webstream"]
    made: Made = [(0, inputs.UrlDown(webstream=webstream, url=index, reason=entry["reason"]))]
    if "duration" in entry:
        made.append((parse_duration(entry["duration"]), inputs.UrlUp(webstream=webstream, url=index)))
    return made


def _webstream_restore(refs: References, table: str, entry: dict[str, Any]) -> Made:
    index = _scripted_url(refs, table, entry)
    return [] if index is None else [(0, inputs.UrlUp(webstream=entry["webstream"], url=index))]


def _webstream_failover(refs: References, table: str, entry: dict[str, Any]) -> Made:
    refs.lookup(table, entry["webstream"], "webstream")
    return [(0, inputs.ForceFailover(webstream=entry["webstream"]))]


def _webstream_reset(refs: References, table: str, entry: dict[str, Any]) -> Made:
    refs.lookup(table, entry["webstream"], "webstream")
    return [(0, inputs.ResetWebstream(webstream=entry["webstream"]))]


def _emergency(refs: References, table: str, entry: dict[str, Any]) -> Made:
    station = refs.station_of(table, entry)
    refs.lookup(table, entry["media"], "media")
    return [(0, inputs.InsertEmergency(station=station or "", media=entry["media"]))]


def _override(refs: References, table: str, entry: dict[str, Any]) -> Made:
    station = refs.station_of(table, entry)
    sources = [key for key in ("media", "webstream") if key in entry]
    if len(sources) != 1:
        refs.findings.problem(
            table,
            None,
            "an override needs exactly one of 'media' or 'webstream'",
            about=["media", "webstream"],
        )
        return []
    refs.lookup(table, entry[sources[0]], sources[0])
    start = inputs.StartOverride(
        station=station or "",
        name=entry["name"],
        media=entry.get("media"),
        webstream=entry.get("webstream"),
        transition=entry["transition"],
    )
    return [(0, start)]


def _release(refs: References, table: str, entry: dict[str, Any]) -> Made:
    station = refs.station_of(table, entry)
    targets = [key for key in ("override", "dj", "emergency") if key in entry]
    if len(targets) != 1:
        refs.findings.problem(
            table,
            None,
            "a release needs exactly one of 'override', 'dj' or 'emergency = true'",
            about=["override", "dj", "emergency"],
        )
        return []
    target = targets[0]
    if target == "dj":
        refs.lookup(table, entry["dj"], "dj")
    if target == "override" and entry["override"] not in refs.overrides:
        refs.findings.problem(
            table, "override", f"no override in the timeline is named '{entry['override']}'"
        )
    name = None if target == "emergency" else entry[target]
    return [(0, inputs.Release(station=station or "", target=target, name=name))]


def _skip(refs: References, table: str, entry: dict[str, Any]) -> Made:
    return [(0, inputs.Skip(station=refs.station_of(table, entry) or ""))]


TIMELINE_ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            "dj_connect",
            {
                "station": KEY,
                "dj": KEY,
                "mount": KEY,
                "source_ip": TEXT,
                "transition": _TRANSITION,
                "priority": _PRIORITY,
            },
            ("dj",),
            _dj_connect,
            {"source_ip": "127.0.0.1", "transition": "faded"},
        ),
        Action("dj_disconnect", {"station": KEY, "dj": KEY}, ("dj",), _dj_disconnect),
        Action(
            "webstream_outage",
            {"webstream": KEY, "url": _URL, "duration": duration(longer_than_zero=True), "reason": _REASON},
            ("webstream", "url"),
            _webstream_outage,
            {"reason": "connection_timeout"},
        ),
        Action(
            "webstream_restore", {"webstream": KEY, "url": _URL}, ("webstream", "url"), _webstream_restore
        ),
        Action("webstream_failover", {"webstream": KEY}, ("webstream",), _webstream_failover),
        Action("webstream_reset", {"webstream": KEY}, ("webstream",), _webstream_reset),
        Action("emergency", {"station": KEY, "media": KEY}, ("media",), _emergency),
        Action(
            "override",
            {"station": KEY, "name": KEY, "media": KEY, "webstream": KEY, "transition": _TRANSITION},
            ("name",),
            _override,
            {"transition": "immediate"},
        ),
        Action(
            "release",
            {"station": KEY, "override": KEY, "dj": KEY, "emergency": {"const": True}},
            (),
            _release,
        ),
        Action("skip", {"station": KEY}, (), _skip),
    )
}
"""Every timeline action by name, in the order the schema and the docs list them."""
