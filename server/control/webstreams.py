"""Webstreams: failover and reset (the real server's), and a URL's checks failing or passing (simulated)."""

from typing import Any

from quart import Response

from playout import TIMELINE_ACTIONS, inputs

from ..responses import ok
from ..service import StationService

OUTAGE = TIMELINE_ACTIONS["webstream_outage"]


async def webstream_failover(service: StationService, webstream_id: str) -> Response:
    """The webstream onto its next usable backup URL, held there until a reset."""
    key = service.directory.webstream(webstream_id)
    await service.runner.submit(inputs.ForceFailover(webstream=key))
    return ok(await webstream_state(service, key))


async def webstream_reset(service: StationService, webstream_id: str) -> Response:
    """The webstream back on its primary URL."""
    key = service.directory.webstream(webstream_id)
    await service.runner.submit(inputs.ResetWebstream(webstream=key))
    return ok(await webstream_state(service, key))


async def webstream_url(
    service: StationService, body: dict[str, Any], webstream_id: str, index: int, change: str
) -> Response:
    """The checks of the webstream's URL at ``index`` fail (``down``) or pass (``up``) from now on."""
    key = service.directory.webstream(webstream_id)
    if change == "down":
        given: inputs.Input = inputs.UrlDown(
            webstream=key, url=index, reason=body.get("reason", OUTAGE.defaults["reason"])
        )
    else:
        given = inputs.UrlUp(webstream=key, url=index)
    await service.runner.submit(given)
    return ok(await webstream_state(service, key))


async def webstream_state(service: StationService, key: str) -> dict[str, Any]:
    """The webstream in the real server's shape (``Webstream`` in the API document)."""
    found = (await service.runner.snapshot()).webstream(key)
    urls = [u.url for u in found.urls]
    return {
        "id": found.id,
        "name": found.name,
        "urls": urls,
        "active": True,
        "failover_enabled": True,
        "auto_recover_enabled": True,
        "current_url": found.active_url or "",
        "current_index": urls.index(found.active_url) if found.active_url else -1,
        "health_status": found.health_status,
        "url_health": [u.as_json() for u in found.urls],
        "manual_failover": found.manual_failover,
    }
