"""The read endpoints: health, the OpenAPI document, the process's vitals, a station's own reads.

A station's own: the dashboard, now-playing and the simulation's state. Each handler is a
plain function of what it reads; :func:`bind_reads` and :func:`bind_station_reads` bind
them to their declarations in :mod:`server.api`.
"""

import functools
import uuid
from pathlib import Path
from typing import Any

from quart import Response, request, send_from_directory

from playout import StationView, events

from . import api, grimnir_reads
from .directory import canonical
from .responses import error, ok
from .rest.go_routes import bind_go
from .rest.routes import Routes
from .service import EdgeService, ServingProcess, StationService
from .transport import internals

DASHBOARD = Path(__file__).parent / "dashboard"
PROFILE_NOW_PLAYING = {"grimnir": grimnir_reads.now_playing}
"""A wire profile's own now-playing answer (public, with that server's refusals); else the documented one."""


def bind_reads(route: Routes, service: ServingProcess) -> None:
    """What every process serves, a station's, an edge's or a replay's: health, the document, its vitals."""
    route(api.HEALTH)(health)
    route(api.OPENAPI)(openapi)
    route(api.SIM_SERVER)(functools.partial(sim_server, service))


def bind_station_reads(route: Routes, service: StationService) -> None:
    """What only a station serves (an edge redirects it): the dashboard, now-playing, its state."""
    route.app.get("/")(dashboard)
    route.app.get("/dashboard/<any('dashboard.js', 'dashboard.css'):name>")(dashboard_file)
    # The real server answers both paths alike; its own dashboard reads the analytics one.
    profile_read = PROFILE_NOW_PLAYING.get(service.settings.profile)
    for endpoint in (api.PUBLIC_NOW_PLAYING, api.ANALYTICS_NOW_PLAYING):
        if profile_read is None:
            route(endpoint)(functools.partial(public_now_playing, service))
        else:
            bind_go(
                route.app,
                endpoint,
                None,
                functools.partial(profile_read, service),
                key=service.key,
                api_keys=(),
            )
    if profile_read is not None:
        bind_go(route.app, grimnir_reads.HEALTHZ, None, grimnir_reads.healthz, key=service.key, api_keys=())
    route(api.SIM_STATE)(functools.partial(sim_state, service))


async def health() -> Response:
    return ok({"status": "ok"})


async def openapi() -> Response:
    return Response(api.openapi_json(), content_type="application/json")


async def sim_server(service: ServingProcess) -> Response:
    """The serving process, not the station: connections, the loop's stalls, the collector."""
    return ok(
        {
            "profile": service.settings.wire_profile.name,
            "connections": len(service.hub),
            "on_the_fast_path": service.hub.socket_writers(),
            "fast_path": internals.startup_check().as_json(),
            "events_published": service.hub.published,
            "events_dropped": service.hub.dropped,
            "last_published_monotonic": service.hub.last_published_at,
            "connection_failures": dict(service.connection_failures),
            "harbor": _harbor_figures(service),
            "relay": _relay_figures(service),
            **service.vitals.snapshot(),
        }
    )


async def dashboard() -> Response:
    return await send_from_directory(DASHBOARD, "index.html")


async def dashboard_file(name: str) -> Response:
    return await send_from_directory(DASHBOARD, name)


async def public_now_playing(service: StationService) -> Response:
    wanted = canonical(request.args["station_id"])
    snapshot = await service.runner.snapshot()
    station = next((s for s in snapshot.stations if wanted in (s.id, s.key)), None)
    if station is None:
        return error(404, "station_not_found", f"no station '{wanted}'")
    return ok(public_now_playing_body(station))


async def sim_state(service: StationService) -> Response:
    state = (await service.runner.snapshot()).as_json()
    state["clock"] = {
        "speed": service.runner.speed,
        "manual": service.runner.manual_clock,
        "scenario_start": service.scenario.clock.stamp(0),
        **service.runner.clock_view(),
    }
    if service.harbor is not None:
        state["harbor"] = service.harbor.snapshot()
    state["catalog"] = _catalog(service)
    state["clients"] = {
        "connected": len(service.hub),
        "events_published": service.hub.published,
        "events_dropped": service.hub.dropped,
    }
    return ok(state)


def _harbor_figures(service: ServingProcess) -> dict[str, int] | None:
    harbor = getattr(service, "harbor", None)
    return None if harbor is None else harbor.counters.as_dict()


def _relay_figures(service: ServingProcess) -> dict[str, Any] | None:
    if isinstance(service, EdgeService):
        follower = service.follower
        last_id = follower.last_id.decode() if follower.last_id else None
        return {
            "role": "edge",
            "stream": follower.stream,
            "received": follower.received,
            "skipped": follower.entries.skipped,
            "skipped_by_reason": follower.entries.skipped_by_reason,
            "last_id": last_id,
        }
    relay = getattr(service, "relay", None)  # (a replay has none)
    if relay is not None:
        return {"role": "station", "stream": relay.stream, "appended": relay.appended, "lost": relay.lost}
    return None


def _catalog(service: StationService) -> dict[str, Any]:
    """What the dashboard's controls offer: DJs, emergency media (non-rotation tracks), webstream URLs."""
    scenario = service.scenario
    alerts = [t for t in scenario.tracks.values() if not t.rotation] or list(scenario.tracks.values())[:10]
    return {
        "djs": [{"key": dj.key, "username": dj.username} for dj in scenario.djs.values()],
        "emergency_media": [{"key": t.key, "title": t.title} for t in alerts],
        "webstreams": [
            {"key": w.key, "name": w.name, "urls": list(w.urls)} for w in scenario.webstreams.values()
        ],
    }


def public_now_playing_body(station: StationView) -> dict[str, Any]:
    """What is on air, in the real server's ``/public/now-playing`` shape."""
    playing = station.now_playing
    if playing is None:
        return {"status": "idle"}
    is_live = isinstance(playing, events.NowPlayingLive)
    webstream = playing if isinstance(playing, events.NowPlayingWebstream) else None
    track = playing if isinstance(playing, events.NowPlayingMedia) else None
    started = station.since if isinstance(playing, events.NowPlayingWebstream) else playing.starts_at
    media_id = "" if track is None else track.media_id
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.UUID(station.id), f"play/{started}/{media_id}")),
        "station_id": station.id,
        "mount_id": playing.mount_id,
        "media_id": media_id,
        "artist": "" if isinstance(playing, events.NowPlayingWebstream) else playing.artist,
        "title": playing.webstream_name if isinstance(playing, events.NowPlayingWebstream) else playing.title,
        "album": "" if track is None else track.album,
        "started_at": started,
        "ended_at": station.ends_at,
        "status": "playing",
        "type": "live" if is_live else ("webstream" if webstream is not None else "media"),
        "source_type": "live" if is_live else ("media" if station.on_air is None else station.on_air.kind),
        "is_live_dj": is_live,
    }
    if is_live:
        body["session_started_at"] = started
    if webstream is not None:
        body["webstream_id"] = webstream.webstream_id
        body["url"] = webstream.url
    return body
