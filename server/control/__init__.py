"""Control endpoints: the real server's paths where it has them, and simulation-only ones.

Every call becomes one input to the station core, so it produces exactly the events
the same happening produces when scripted in a scenario. A bad request (malformed
JSON, unknown ids, wrong types, an impossible change) gets 400/404/409 with
``{"error": <code>, "detail": …}`` and changes nothing. Each endpoint is declared in
:mod:`server.api`; the admin role and the body's schema are checked from there
before a handler runs. The handlers live by area (:mod:`.priority`, :mod:`.live`,
:mod:`.webstreams`, :mod:`.playback`), each a plain function of the service and the
request's checked body and path values; :data:`HANDLERS` says which serves which endpoint.

That is the documented profile. A wire profile that speaks another server's REST
has a table of its own in :data:`PROFILE_HANDLERS`: for each of that server's
endpoints, the roles its gate lets through and the handler that answers as it
does (``grimnir``: :mod:`.grimnir_priority`, :mod:`.grimnir_live`, behind
:func:`server.rest.go_routes.bind_go`); the simulation's own endpoints
(``/api/v1/sim/…``) stay as documented. The table is chosen once, when the app is made.
"""

import functools

from .. import api
from ..rest.go_routes import ADMIN, DJ, MANAGER, bind_go
from ..rest.routes import Routes
from ..service import StationService
from . import grimnir_live, grimnir_priority, live, playback, priority, webstreams

SIMULATION = (
    (api.DJ_CONNECT, live.dj_connect),
    (api.DJ_DISCONNECT, live.dj_disconnect),
    (api.WEBSTREAM_URL, webstreams.webstream_url),
    (api.ADVANCE, playback.advance),
    (api.RESET, playback.reset),
)
"""The simulation's own endpoints (``/api/v1/sim/…``): the same in every profile."""
HANDLERS = (
    (api.INSERT_EMERGENCY, priority.insert_emergency),
    (api.START_OVERRIDE, priority.start_override),
    (api.RELEASE_PRIORITY, priority.release_priority),
    (api.LIVE_HANDOVER, live.live_handover),
    (api.LIVE_RELEASE, live.live_release),
    (api.WEBSTREAM_FAILOVER, webstreams.webstream_failover),
    (api.WEBSTREAM_RESET, webstreams.webstream_reset),
    (api.SKIP, playback.skip),
    *SIMULATION,
)
"""Each control endpoint's declaration and its handler, in the order they are bound."""

ADMINS = (ADMIN,)
MANAGERS = (ADMIN, MANAGER)
STAFF = (ADMIN, MANAGER, DJ)
GRIMNIR_HANDLERS = (
    (api.INSERT_EMERGENCY, ADMINS, grimnir_priority.emergency),  # internal/api/priority.go:263
    (api.START_OVERRIDE, STAFF, grimnir_priority.override),  # :266
    (api.RELEASE_PRIORITY, MANAGERS, grimnir_priority.release),  # :269
    (api.LIVE_HANDOVER, STAFF, grimnir_live.handover),  # internal/api/api.go:321
    (api.LIVE_RELEASE, STAFF, grimnir_live.release_handover),  # :322
    (api.WEBSTREAM_FAILOVER, MANAGERS, grimnir_live.failover),  # :374
    (api.WEBSTREAM_RESET, MANAGERS, grimnir_live.reset),  # :375
    (api.SKIP, STAFF, grimnir_priority.skip),  # :386
)
"""The real server's endpoints as it answers them: each one's declaration (its path), the roles
its ``requireRoles`` gate lets through besides ``platform_admin``, and its handler."""
PROFILE_HANDLERS = {"grimnir": GRIMNIR_HANDLERS}
"""Each wire profile's own REST table; a profile not listed answers as documented (:data:`HANDLERS`)."""


def bind_control(route: Routes, service: StationService) -> None:
    """Bind the control endpoints' handlers, each given ``service`` first, as the profile answers them."""
    table = PROFILE_HANDLERS.get(service.settings.profile)
    if table is None:
        for endpoint, handler in HANDLERS:
            route(endpoint)(functools.partial(handler, service))
        return
    settings = service.settings
    for endpoint, roles, go_handler in table:
        bind = functools.partial(bind_go, key=service.key, api_keys=settings.api_keys)
        bind(route.app, endpoint, roles, functools.partial(go_handler, service))
    for endpoint, handler in SIMULATION:
        route(endpoint)(functools.partial(handler, service))
