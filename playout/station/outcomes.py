"""What the core gives back: events with their time, scripted inputs it skipped, inputs it refused,
and (when asked) the inputs it applied."""

import attrs

from ..protocol import events as ev
from ..protocol import inputs


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


@attrs.frozen
class Applied:
    """An input the station applied (from outside or from its timeline) and the station time it applied at.

    What a wire profile reads to tell the events of an operator's call from those the
    station's own clock caused (the real server publishes some events from its API handlers).
    """

    at_ms: int
    given: inputs.Input
