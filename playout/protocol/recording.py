"""A recording of an event stream (``grimnir-sim record``): JSON lines, each message with its receipt time.

The first line names what was recorded::

    {"grimnir_sim_recording":1,"source":"ws://127.0.0.1:8000/api/v1/events?types=…",
     "profile":"documented","started":"2026-01-19T10:00:00.000Z"}

``source`` is the URL without its ``token``; ``profile`` the wire profile when the
recorder was told it (``--profile``) or this simulator's server said it, else null (the
real server, or unknown);
``started`` the wall-clock instant the recording began. Then one line per message,
in the order received, ``at_ms`` being milliseconds after ``started``::

    {"at_ms":1520,"text":"{\\"type\\":\\"now_playing\\",\\"payload\\":{…}}"}

``text`` is the message exactly as it came off the wire (pings, the connection's
heartbeat, are not recorded). Where the connection was lost, a gap marker says when
and why; the messages after it came over a new connection::

    {"at_ms":90210,"gap":"closed 1001 (server shutting down)"}

Reading stops at the first broken line: :func:`read_recording` returns what came
before it and a :class:`BrokenLine` naming its number. Pure: no clock, no I/O.
"""

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import orjson

from .stationtime import parse_instant

FORMAT_VERSION = 1
HEADER_KEY = "grimnir_sim_recording"


@attrs.frozen
class Header:
    source: str
    profile: str | None
    started: str


@attrs.frozen
class Message:
    """One message as received: its type (from the text) and its text, ``at_ms`` after the start."""

    at_ms: int
    type: str
    text: str


@attrs.frozen
class Gap:
    """The connection was lost at ``at_ms``; what follows came over a new one."""

    at_ms: int
    reason: str


@attrs.frozen
class BrokenLine:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@attrs.frozen
class Recording:
    header: Header
    items: tuple[Message | Gap, ...]
    broken: BrokenLine | None
    """The first line that could not be read (nothing after it was), or None."""

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(item for item in self.items if isinstance(item, Message))


class RecordingError(Exception):
    """Not a recording at all: its first line is no header."""


def without_token(url: str) -> str:
    """``url`` without its ``token`` query parameter (a recording names its source, never a secret)."""
    parts = urlsplit(url)
    query = [
        (name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "token"
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def header_line(source: str, profile: str | None, started: str) -> bytes:
    header = {HEADER_KEY: FORMAT_VERSION, "source": without_token(source), "profile": profile}
    return orjson.dumps({**header, "started": started}) + b"\n"


def message_line(at_ms: int, text: str) -> bytes:
    return orjson.dumps({"at_ms": at_ms, "text": text}) + b"\n"


def gap_line(at_ms: int, reason: str) -> bytes:
    return orjson.dumps({"at_ms": at_ms, "gap": reason}) + b"\n"


def message_type(text: str) -> str | None:
    """The ``type`` of a message's text, or None when it is no JSON object with a string type."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    kind = message.get("type") if isinstance(message, dict) else None
    return kind if isinstance(kind, str) else None


def read_recording(lines: Iterable[bytes | str]) -> Recording:
    """The recording in ``lines`` up to its first broken line; a missing or broken header raises."""
    numbered = enumerate(lines, start=1)
    first = next(numbered, None)
    if first is None:
        raise RecordingError("line 1: empty: not a grimnir-sim recording")
    header = _header(first[1])
    items: list[Message | Gap] = []
    last_ms = 0
    for number, line in numbered:
        if not line.strip():
            continue
        item = _item(line)
        if isinstance(item, str):
            return Recording(header, tuple(items), BrokenLine(number, item))
        if item.at_ms < last_ms:
            return Recording(
                header, tuple(items), BrokenLine(number, f"at_ms {item.at_ms} is before {last_ms}")
            )
        last_ms = item.at_ms
        items.append(item)
    return Recording(header, tuple(items), None)


def _header(line: bytes | str) -> Header:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or data.get(HEADER_KEY) != FORMAT_VERSION:
        raise RecordingError(f"line 1: no {HEADER_KEY}={FORMAT_VERSION} header: not a grimnir-sim recording")
    source, profile, started = data.get("source"), data.get("profile"), data.get("started")
    if not isinstance(source, str) or not isinstance(started, str) or not isinstance(profile, str | None):
        raise RecordingError("line 1: the header needs a source and a started instant (strings)")
    try:
        parse_instant(started)
    except ValueError as exc:
        raise RecordingError(f"line 1: started: {exc}") from None
    return Header(source, profile, started)


def _item(line: bytes | str) -> Message | Gap | str:
    """The line's message or gap, or what is wrong with it."""
    try:
        data: Any = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"not JSON ({exc})"
    if not isinstance(data, dict):
        return "not a JSON object"
    at_ms = data.get("at_ms")
    if not isinstance(at_ms, int) or isinstance(at_ms, bool) or at_ms < 0:
        return "at_ms must be a whole number of milliseconds, 0 or more"
    if isinstance(data.get("gap"), str):
        return Gap(at_ms, data["gap"])
    text = data.get("text")
    if not isinstance(text, str):
        return 'neither a message ("text") nor a gap ("gap")'
    kind = message_type(text)
    if kind is None:
        return 'its "text" is no JSON message with a "type"'
    return Message(at_ms, kind, text)
