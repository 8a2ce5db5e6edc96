"""The simulation's clock: moving a manual station clock forward, and starting the station over."""

from playout import DURATION_HINT

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Body, Endpoint
from .answer_schemas import ADVANCED, RESET_DONE

ADVANCE = Endpoint(
    "POST",
    "/api/v1/sim/advance",
    operation_id="advanceClock",
    summary="Move a manual station clock forward",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "How far: " + DURATION_HINT + ", or a number of seconds; at most 7d (under --profile grimnir, "
        "at most 20,000 health snapshots' worth: 1h23m20s per station at the real 250 ms tick).",
        {"by": {"type": ["string", "number"], "examples": ["90s", "15m", "1h30m", 3600]}},
        ("by",),
    ),
    answers={
        200: Answer("Station time now, and what happened on the way.", ADVANCED),
        400: refusal(
            "invalid_request",
            description="invalid_request: by is not a duration, or is over 7d, or over what the grimnir "
            "profile's health snapshots allow (the detail says how far, and how to go further).",
        ),
        409: refusal("conflict", description="The clock runs by itself (serve without --manual-clock)."),
    },
)

RESET = Endpoint(
    "POST",
    "/api/v1/sim/reset",
    operation_id="resetStation",
    summary="Put the station back at its entry point, with a fresh timeline",
    description=(
        "The station starts over at its entry point, chosen as at start (serve --from; on the wall "
        "clock an entry at now, the default, is taken again from the time of the reset), with a "
        "fresh core and, for the grimnir profile, a fresh translator: every DJ, override, failover "
        "and manual-clock advance is gone. Connected WebSocket clients stay connected; each one that "
        "asked for the state on connect (snapshot) receives the fresh station's now_playing at once, "
        "as if it had just connected. If the fresh station cannot be built, the running one goes on "
        "and the answer is 409 with the reason."
    ),
    tag="simulation",
    auth=Auth.ADMIN,
    answers={
        200: Answer("The station's time at its entry point.", RESET_DONE),
        409: refusal(
            "conflict",
            description="The fresh station could not be built (the running one goes on).",
        ),
    },
)
