"""Webstreams: failing over and back to the primary URL; a URL's checks failing or passing (simulation)."""

from playout import TIMELINE_ACTIONS

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Body, Endpoint, Param
from .answer_schemas import WEBSTREAM

WEBSTREAM_ID = Param("webstream_id", "the webstream's UUID or id")
WEBSTREAM_ANSWERS = {200: Answer("The webstream after the change.", WEBSTREAM)}

WEBSTREAM_FAILOVER = Endpoint(
    "POST",
    "/api/v1/webstreams/{webstream_id}/failover",
    operation_id="failOverWebstream",
    summary="Move a webstream to its next usable backup URL, held there until a reset",
    description=(
        "The webstream stays off its primary URL, whatever the primary's health, until "
        "POST /api/v1/webstreams/{webstream_id}/reset (manual_failover is true meanwhile). If the "
        "backup on air fails, it fails over to the next usable backup; when none is left, the "
        "webstream is down until a backup passes again or the reset."
    ),
    tag="webstreams",
    auth=Auth.ADMIN,
    path_params=(WEBSTREAM_ID,),
    answers={
        **WEBSTREAM_ANSWERS,
        404: refusal("webstream_not_found", description="No such webstream."),
        409: refusal(
            "conflict", description="No other backup URL is usable (a reset returns to the primary)."
        ),
    },
)
WEBSTREAM_RESET = Endpoint(
    "POST",
    "/api/v1/webstreams/{webstream_id}/reset",
    operation_id="resetWebstream",
    summary="Put a webstream back on its primary URL, its failures and a manual failover's hold forgotten",
    tag="webstreams",
    auth=Auth.ADMIN,
    path_params=(WEBSTREAM_ID,),
    answers={**WEBSTREAM_ANSWERS, 404: refusal("webstream_not_found", description="No such webstream.")},
)
WEBSTREAM_URL = Endpoint(
    "POST",
    "/api/v1/sim/webstreams/{webstream_id}/urls/{index}/{change}",
    operation_id="setWebstreamUrl",
    summary="A webstream URL's checks fail (down) or pass (up) from now on",
    tag="simulation",
    auth=Auth.ADMIN,
    path_params=(
        WEBSTREAM_ID,
        Param("index", "the URL's position, from 0", {"type": "integer", "minimum": 0}),
        Param("change", "down or up", {"enum": ["down", "up"]}),
    ),
    body=Body(
        "Optional; down only: why its checks fail.",
        {"reason": TIMELINE_ACTIONS["webstream_outage"].option("reason")},
        optional=True,
    ),
    answers={
        **WEBSTREAM_ANSWERS,
        404: refusal(
            "webstream_not_found",
            "not_found",
            description="No such webstream; not_found: no URL at that index.",
        ),
    },
)
