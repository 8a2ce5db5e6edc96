"""Reading the station: what is on air (public, in the real server's shape) and the simulation's state."""

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Endpoint, Param
from .answer_schemas import PUBLIC_NOW_PLAYING_BODY, SIM_STATE_BODY

STATION_ID_QUERY = Param("station_id", "a station's UUID or id", required=True)
STATION_NOT_FOUND = refusal("station_not_found", description="No such station.")
NOW_PLAYING_ANSWERS = {
    200: Answer("What is on air.", PUBLIC_NOW_PLAYING_BODY),
    400: refusal("station_id_required", description="No ?station_id=."),
    404: STATION_NOT_FOUND,
}

PUBLIC_NOW_PLAYING = Endpoint(
    "GET",
    "/api/v1/public/now-playing",
    operation_id="getPublicNowPlaying",
    summary="What is on air, in the real server's shape",
    tag="public",
    auth=Auth.NONE,
    query=(STATION_ID_QUERY,),
    answers=NOW_PLAYING_ANSWERS,
)
ANALYTICS_NOW_PLAYING = Endpoint(
    "GET",
    "/api/v1/analytics/now-playing",
    operation_id="getAnalyticsNowPlaying",
    summary="What is on air: the same answer as /api/v1/public/now-playing",
    description="The real server serves both paths; its own dashboard reads this one.",
    tag="public",
    auth=Auth.NONE,
    query=(STATION_ID_QUERY,),
    answers=NOW_PLAYING_ANSWERS,
)
SIM_STATE = Endpoint(
    "GET",
    "/api/v1/sim/state",
    operation_id="getSimState",
    summary="Every station's ladder, on-air source, DJs and schedule; webstream health; the clock",
    tag="simulation",
    auth=Auth.TOKEN,
    answers={200: Answer("The station's state now.", SIM_STATE_BODY)},
)
