"""``--format text`` for the ``grimnir`` profile: one readable line per real-server message.

The real payloads vary by publisher (docs/fidelity.md); a shape not described
here, such as a REST handler's audit duplicate, is shown as its compact payload.
"""

from collections.abc import Callable, Mapping
from typing import Any

from ..protocol.stationtime import format_clock
from ..protocol.wire import WireEvent, go_json

Payload = Mapping[str, Any]


def _now_playing(p: Payload) -> str:
    if p.get("skipped"):
        return "skipped"
    if p.get("is_live_dj"):
        return f'live: "{p["title"]}" with {p["artist"]}'
    if "webstream_name" in p:
        return f"webstream {p['webstream_name']} from {p['url']} [{p['health_status']}]"
    line = f'"{p["title"]}" by {p.get("artist") or "unknown"}'
    if "position" in p:
        line += f", position {p['position']}"
        if "playlist_name" in p:
            line += f" of {p['total_items']} in {p['playlist_name']}"
    return line if p.get("source_type") != "media" else f"{line} (rotation)"


def _health(p: Payload) -> str:
    what = "live" if p["entry_id"].startswith("live:") else f"media {p['media_id'][:8]}"
    return f"{p['status']}: {what} since {p['started_at']}"


def _priority(p: Payload) -> str:
    source = p["new_source_type"]
    who = f" ({p['username']})" if "username" in p else ""
    line = f"priority {p['new_priority']} {source}{who} on air ({p['transition_type']})"
    return line + (f", preempting priority {p['old_priority']}" if p["preempted"] else "")


def _released(p: Payload) -> str:
    line = f"priority {p['old_priority']} {p['old_source_type']} released ({p['transition_type']})"
    return line + (f", priority {p['new_priority']} on air" if "new_priority" in p else "")


def _failover(p: Payload) -> str:
    how = "manual" if p.get("manual") else p.get("reason", "auto")
    return f"webstream {p['webstream_id'][:8]}: {p['from_url']} → {p['to_url']} ({how})"


def _recovered(p: Payload) -> str:
    if "url" in p:
        return f"webstream {p['webstream_id'][:8]}: reset to {p['url']}"
    return f"webstream {p['webstream_id'][:8]}: {p['from_url']} → {p['to_url']} (recovered)"


_DESCRIBE: dict[str, Callable[[Payload], str]] = {
    "now_playing": _now_playing,
    "health": _health,
    "priority.emergency": _priority,
    "priority.override": _priority,
    "priority.change": _priority,
    "priority.released": _released,
    "dj_connect": lambda p: (
        f"{p['username']} connects at priority {p['priority']}" + (", preempting" if p["preempted"] else "")
    ),
    "dj_disconnect": lambda p: f"{p['username']} disconnects after {format_clock(p['duration_seconds'])}",
    "live.handover": lambda p: (
        f"{p['username']} hands over at priority {p['priority']} ({p['transition_type']})"
    ),
    "live.released": lambda p: f"{p['username']} releases the air",
    "webstream.failover": _failover,
    "webstream.recovered": _recovered,
    "webstream.health": lambda p: f"webstream {p['webstream_id'][:8]}: {p['status']} on {p['url']}",
}


def describe_grimnir(message: WireEvent) -> str:
    """One line for a real-server message; its compact payload when its shape is not one described here."""
    describe = _DESCRIBE.get(message.TYPE)
    if describe is not None and "resource_type" not in message.payload:  # not an audit duplicate
        try:
            return describe(message.payload)
        except (KeyError, AttributeError, TypeError):  # a recording of another server's version
            pass
    return go_json(message.payload).decode()
