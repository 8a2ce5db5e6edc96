"""Control endpoints: the real server's paths where it has them, and simulation-only ones.

Every call becomes one input to the station core, so it produces exactly the events
the same happening produces when scripted in a scenario. A bad request (malformed
JSON, unknown ids, wrong types, an impossible change) gets 400/404/409 with
``{"error": <code>, "detail": …}`` and changes nothing. Each endpoint is declared in
:mod:`server.api`; the admin role and the body's schema are checked from there
before a handler runs. The handlers live by area (:mod:`.priority`, :mod:`.live`,
:mod:`.webstreams`, :mod:`.playback`), each a plain function of the service and the
request's checked body and path values; :data:`HANDLERS` says which serves which endpoint.
"""

import functools

from .. import api
from ..rest.routes import Routes
from ..service import StationService
from . import live, playback, priority, webstreams

HANDLERS = (
    (api.INSERT_EMERGENCY, priority.insert_emergency),
    (api.START_OVERRIDE, priority.start_override),
    (api.RELEASE_PRIORITY, priority.release_priority),
    (api.LIVE_HANDOVER, live.live_handover),
    (api.LIVE_RELEASE, live.live_release),
    (api.WEBSTREAM_FAILOVER, webstreams.webstream_failover),
    (api.WEBSTREAM_RESET, webstreams.webstream_reset),
    (api.SKIP, playback.skip),
    (api.DJ_CONNECT, live.dj_connect),
    (api.DJ_DISCONNECT, live.dj_disconnect),
    (api.WEBSTREAM_URL, webstreams.webstream_url),
    (api.ADVANCE, playback.advance),
)
"""Each control endpoint's declaration and its handler, in the order they are bound."""


def bind_control(route: Routes, service: StationService) -> None:
    """Bind the control endpoints' handlers, each given ``service`` first, to their declarations."""
    for endpoint, handler in HANDLERS:
        route(endpoint)(functools.partial(handler, service))
