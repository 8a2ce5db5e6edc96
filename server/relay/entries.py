"""What a follower hands on from the stream: the checks an entry must pass, and the resend window.

A follower hands on only what it can vouch for (:class:`EntryFilter`); every
other entry is skipped, counted by reason and logged once per reason (a flood
of bad entries is one line), and nothing in an entry can raise out of the
follower: one bad entry must not stop the edge. An entry is skipped when

- a field is missing or unreadable: ``t`` (the type, UTF-8), ``e`` (the event),
  ``r`` (the run id), ``n`` (the sequence number, an integer of 1 or more);
- ``e`` is larger than ``MAX_EVENT_BYTES`` (64 KiB; the station's events are
  well under 4 KiB), so a huge entry is never sent to every client;
- ``e`` is not UTF-8 JSON;
- ``e`` is not the documented envelope: an object with exactly ``type``, equal
  to ``t``, and a ``payload`` object;
- its type is not one this server's wire profile sends (no client here can
  have asked for it);
- it was sent again (below).

Resends. Each entry carries the station process's run id and a sequence
number. After an ambiguous failure (Redis applied a pipeline, the reply was
lost) the station appends the same entries again, at most ``READ_COUNT`` of
them, right after the first copies. A follower remembers the (run id, sequence
number) of the last ``RESEND_WINDOW`` entries it handed on, and skips an entry
whose pair is among them. Within that window a sequence number is accepted once
and only once; outside it nothing is assumed. There is deliberately no "highest
number so far" rule (accept only what is above the last one): under such a
rule one entry carrying the station's run id and a huge number, from a bug or
from anyone who can write to the stream, would make every later real entry look
like a resend and silence the edge for good. With exact pairs:

- a batch appended again (same run id, same numbers) is skipped;
- a forged or stray number, however large, can at worst make the one real
  entry with that same pair, if it follows within the window, look sent twice;
  it never affects any other entry;
- a gap (the station lost batches while Redis was away, or this edge was away
  while the stream was trimmed) needs no resynchronising: numbers it has not
  seen are new, and the window goes on from there. A new station run (a new run
  id) is new in the same way.
"""

import collections
from collections.abc import Iterable, Mapping

import orjson

from ..hub import KNOWN_TYPES
from .connection import READ_COUNT, log

RESEND_WINDOW = 2 * READ_COUNT
"""How many entries handed on a follower remembers, to recognise resends (twice the largest one)."""
MAX_EVENT_BYTES = 64 * 1024
"""The largest event a follower hands on; the station's are well under 4 KiB."""
SKIP_REASONS = {
    "malformed": "a field missing or unreadable",
    "too_large": f"an event larger than {MAX_EVENT_BYTES // 1024} KiB",
    "not_json": "an event that is not UTF-8 JSON",
    "not_an_event": "not an object with exactly a type equal to the entry's and a payload object",
    "unknown_type": "an event type this server does not know",
    "resent": "sent again after an ambiguous failure: already handed on",
}
"""Why a follower skips an entry (the keys of ``skipped_by_reason`` in ``/api/v1/sim/server``)."""


class EntryFilter:
    """What a follower hands on: the checks and the resend window of the module's docstring."""

    def __init__(self, known_types: Iterable[str] = KNOWN_TYPES) -> None:
        """``known_types``: the types the edge's wire profile sends (the documented ones by default)."""
        self.known_types = frozenset(known_types)
        self.skipped_by_reason = dict.fromkeys(SKIP_REASONS, 0)
        self._recent: set[tuple[bytes, int]] = set()
        self._recent_order: collections.deque[tuple[bytes, int]] = collections.deque()
        self._logged: set[str] = set()

    @property
    def skipped(self) -> int:
        """Entries not handed on, for every reason."""
        return sum(self.skipped_by_reason.values())

    def accept(self, identifier: bytes, fields: Mapping[bytes, bytes]) -> tuple[str, bytes] | None:
        """The (type, JSON) of an entry to hand on, or None for one skipped (counted, logged once)."""
        try:
            kind, event = fields[b"t"].decode(), bytes(fields[b"e"])
            run, sequence = bytes(fields[b"r"]), int(fields[b"n"])
        except (KeyError, UnicodeDecodeError, ValueError, TypeError):
            return self._skip("malformed", identifier)
        if sequence < 1:
            return self._skip("malformed", identifier)
        if len(event) > MAX_EVENT_BYTES:
            return self._skip("too_large", identifier)
        try:
            message = orjson.loads(event.decode())  # (decoded first: the hub decodes it again, strictly)
        except (UnicodeDecodeError, orjson.JSONDecodeError):
            return self._skip("not_json", identifier)
        if not (
            isinstance(message, dict)
            and message.keys() == {"type", "payload"}
            and message["type"] == kind
            and isinstance(message["payload"], dict)
        ):
            return self._skip("not_an_event", identifier)
        if kind not in self.known_types:
            return self._skip("unknown_type", identifier)
        if (run, sequence) in self._recent:
            return self._skip("resent", identifier)
        self._remember((run, sequence))
        return kind, event

    def _remember(self, pair: tuple[bytes, int]) -> None:
        if len(self._recent_order) == RESEND_WINDOW:
            self._recent.discard(self._recent_order.popleft())
        self._recent_order.append(pair)
        self._recent.add(pair)

    def _skip(self, reason: str, identifier: bytes) -> None:
        self.skipped_by_reason[reason] += 1
        if reason not in self._logged:  # a flood of bad entries must not flood the log
            self._logged.add(reason)
            log.warning(
                "stream entry %s skipped: %s (further entries skipped for this reason are only counted, "
                "in GET /api/v1/sim/server)",
                identifier.decode(errors="replace"),
                SKIP_REASONS[reason],
            )
        return None
