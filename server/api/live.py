"""Live DJs: handing them the air and taking it back; their encoders (dis)connecting (simulation)."""

from playout import TIMELINE_ACTIONS

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Body, Endpoint, Param
from .answer_schemas import DJ_CONNECTED, DJ_DISCONNECTED, HANDED_OVER, SESSION_RELEASED
from .schemas import ID, MOUNT_ID, MOUNT_MISMATCH, STATION_IN_BODY, STATION_OF_BODY_REFUSED

LIVE_HANDOVER = Endpoint(
    "POST",
    "/api/v1/live/sessions/handover",
    operation_id="handOverToLive",
    summary="Hand the air to a connected DJ",
    tag="live",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ's session, the station and the priority to take the air at.",
        {
            "session_id": ID,
            "station_id": ID,
            "mount_id": ID,
            "user_id": ID,
            "priority": {"enum": [1, 2]},
            "immediate": {"type": "boolean", "default": False},
        },
        ("session_id", "station_id", "priority"),
    ),
    answers={
        200: Answer("The handover.", HANDED_OVER),
        400: MOUNT_MISMATCH,
        404: refusal(
            "station_not_found",
            "mount_not_found",
            "not_found",
            description="No such station or mount, or no such connected session.",
        ),
        409: refusal(
            "conflict",
            "no_preemption",
            description="conflict: the DJ is on air already; no_preemption: the source on air outranks it.",
        ),
    },
)
LIVE_RELEASE = Endpoint(
    "DELETE",
    "/api/v1/live/sessions/{session_id}/handover",
    operation_id="releaseLiveSession",
    summary="Take a DJ off the air (the DJ stays connected)",
    tag="live",
    auth=Auth.ADMIN,
    path_params=(Param("session_id", "the DJ's session id"),),
    answers={
        200: Answer("The DJ is off the ladder.", SESSION_RELEASED),
        404: refusal("session_not_found", description="No connected session with this id."),
        409: refusal("conflict", description="The DJ is connected but holds no place on the ladder."),
    },
)
DJ_CONNECT = Endpoint(
    "POST",
    "/api/v1/sim/djs/connect",
    operation_id="connectDj",
    summary="A DJ's encoder connects to the harbor",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ; the rest is optional (source_ip defaults to the caller's).",
        {
            **STATION_IN_BODY,
            "dj": ID,
            "source_ip": ID,
            "transition": TIMELINE_ACTIONS["dj_connect"].option("transition"),
            "priority": TIMELINE_ACTIONS["dj_connect"].option("priority"),
        },
        TIMELINE_ACTIONS["dj_connect"].required,
    ),
    answers={
        200: Answer("The DJ is connected.", DJ_CONNECTED),
        400: STATION_OF_BODY_REFUSED[400],
        404: refusal(
            "station_not_found",
            "mount_not_found",
            "dj_not_found",
            description="No such station, mount or DJ.",
        ),
        409: refusal("conflict", description="The DJ is connected already."),
    },
)
DJ_DISCONNECT = Endpoint(
    "POST",
    "/api/v1/sim/djs/disconnect",
    operation_id="disconnectDj",
    summary="A DJ's encoder disconnects",
    tag="simulation",
    auth=Auth.ADMIN,
    body=Body(
        "The DJ; the station as for connect.",
        {
            "dj": ID,
            "station_id": ID,
            # Not type-checked (connect's is): any value that is no mount's UUID is 404 mount_not_found.
            "mount_id": {"description": MOUNT_ID},
        },
        TIMELINE_ACTIONS["dj_disconnect"].required,
    ),
    answers={
        200: Answer("The DJ is gone.", DJ_DISCONNECTED),
        400: STATION_OF_BODY_REFUSED[400],
        404: refusal(
            "station_not_found",
            "mount_not_found",
            "dj_not_found",
            description="No such station, mount or DJ.",
        ),
        409: refusal("conflict", description="The DJ is not connected."),
    },
)
