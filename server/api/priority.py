"""Changing what is on air, on the real server's paths: an emergency, an override, a release; a skip."""

from playout import TIMELINE_ACTIONS

from ..rest.answers import Answer, refusal
from ..rest.endpoint import Auth, Body, Endpoint, Param
from .answer_schemas import EMERGENCY_ACTIVATED, OVERRIDE_ACTIVATED, SKIPPED, SOURCE_RELEASED
from .schemas import ID, MOUNT_MISMATCH, STATION_IN_BODY, STATION_OF_BODY_REFUSED

INSERT_EMERGENCY = Endpoint(
    "POST",
    "/api/v1/priority/emergency",
    operation_id="insertEmergency",
    summary="Put emergency media on air (priority 0)",
    tag="priority",
    auth=Auth.ADMIN,
    body=Body(
        "The station and the media to play.",
        {"station_id": ID, "media_id": ID, "mount_id": ID},
        ("station_id", "media_id"),
    ),
    answers={
        200: Answer("The emergency is on air.", EMERGENCY_ACTIVATED),
        400: MOUNT_MISMATCH,
        404: refusal(
            "station_not_found",
            "media_not_found",
            "mount_not_found",
            description="No such station, media or mount.",
        ),
    },
)
START_OVERRIDE = Endpoint(
    "POST",
    "/api/v1/priority/override",
    operation_id="startOverride",
    summary="Override what plays (priority 1): media, a webstream, or a connected DJ",
    tag="priority",
    auth=Auth.ADMIN,
    body=Body(
        "The station and the source; a live source_id is a connected DJ's session_id.",
        {
            "station_id": ID,
            "source_id": ID,
            "source_type": {"enum": ["media", "webstream", "live"], "default": "media"},
            "mount_id": ID,
            "transition_type": TIMELINE_ACTIONS["override"].option("transition"),
            "name": ID,
        },
        ("station_id", "source_id"),
    ),
    answers={
        200: Answer("The override is on the ladder.", OVERRIDE_ACTIVATED),
        400: MOUNT_MISMATCH,
        404: refusal(
            "station_not_found",
            "media_not_found",
            "webstream_not_found",
            "mount_not_found",
            "not_found",
            description="No such station, media, webstream or mount; not_found: no such connected session.",
        ),
        409: refusal(
            "conflict",
            "no_preemption",
            description="conflict: an override of that name is active, or the DJ is on air already; "
            "no_preemption: the source on air outranks it.",
        ),
    },
)
RELEASE_PRIORITY = Endpoint(
    "DELETE",
    "/api/v1/priority/{source_id}",
    operation_id="releasePrioritySource",
    summary="Take a priority source off the ladder",
    tag="priority",
    auth=Auth.ADMIN,
    path_params=(Param("source_id", "the source's id, or the id of its media, webstream or DJ session"),),
    query=(Param("station_id", "a station's UUID or id (also accepted in the body); absent: every station"),),
    body=Body(
        "Optional; station_id as in the query.",
        {"station_id": {"description": "a station's UUID or id"}},
        optional=True,
    ),
    answers={
        200: Answer("The source is released.", SOURCE_RELEASED),
        404: refusal(
            "station_not_found", "not_found", description="No such station, or no such priority source."
        ),
    },
)
SKIP = Endpoint(
    "POST",
    "/api/v1/playout/skip",
    operation_id="skipTrack",
    summary="Skip the automation track on air",
    tag="playout",
    auth=Auth.ADMIN,
    body=Body("Optional with one station.", STATION_IN_BODY, optional=True),
    answers={
        200: Answer("The next track plays.", SKIPPED),
        **STATION_OF_BODY_REFUSED,
        409: refusal("conflict", description="No automation track is on air."),
    },
)
