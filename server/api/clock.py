"""The simulation's clock: moving a manual station clock forward."""

from playout import DURATION_HINT

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Body, Endpoint
from .answer_schemas import ADVANCED

ADVANCE = Endpoint(
    "POST",
    "/api/v1/sim/advance",
    operation_id="advanceClock",
    summary="Move a manual station clock forward",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "How far: " + DURATION_HINT + ", or a number of seconds; at most 7d.",
        {"by": {"type": ["string", "number"], "examples": ["90s", "15m", "1h30m", 3600]}},
        ("by",),
    ),
    answers={
        200: Answer("Station time now, and what happened on the way.", ADVANCED),
        400: refusal("invalid_request", description="invalid_request: by is not a duration, or is over 7d."),
        409: refusal("conflict", description="The clock runs by itself (serve without --manual-clock)."),
    },
)
