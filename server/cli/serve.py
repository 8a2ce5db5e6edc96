"""``grimnir-sim serve``: its options checked together, the service built, served until a signal."""

import argparse
import logging
import math
import os
import signal
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import trio

from playout import (
    HEALTH_TICK_MS,
    MAX_SPEED,
    MIN_SPEED,
    PROFILES,
    Catalog,
    UsageError,
    catalog_of,
    first_leaf,
    format_duration,
    parse_entry_point,
    place,
    read_recording_file,
    recording,
    resolve_scenario,
)

from .. import accesslog, keyfile
from ..auth import KEY_ENV, SigningKey
from ..fdlimit import clients_that_fit, raise_soft_limit
from ..relay.connection import RedisTarget, RelayError, check_reachable
from ..relay.follower import StreamFollower
from ..relay.publisher import StreamPublisher
from ..serve import ServiceFailed, serve
from ..service import EdgeService, ReplayService, ServerSettings, StationService
from .banner import print_banner, print_edge_banner, print_replay_banner

MAX_CONNECTIONS = 10_000
"""The documented connection limit, ``--max-connections``'s default."""
PER_IP_PER_MINUTE = 100
"""The documented per-address rate, ``--per-ip-per-minute``'s default."""

STOP_SECONDS = 20.0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.role is not None and args.redis is None:
        raise UsageError("--role needs --redis (the stream that joins the processes)")
    if args.redis_ca is not None and args.redis is None:
        raise UsageError("--redis-ca needs --redis (a rediss:// URL)")
    if args.public_url is not None:
        if args.redis is None or args.role == "edge":
            raise UsageError("--public-url is the station's, and needs --redis")
        public = urlsplit(args.public_url)
        if public.scheme not in ("http", "https") or not public.netloc:
            raise UsageError(
                f"--public-url takes an http(s) URL, e.g. http://radio.example:8000, not {args.public_url!r}"
            )
        args.public_url = args.public_url.rstrip("/")
    if args.role == "edge" and (
        args.scenario is not None
        or args.speed is not None
        or args.manual_clock
        or args.entry is not None
        or args.clock != "wall"
    ):
        raise UsageError(
            "an edge runs no station: give the scenario, --speed, --manual-clock, --clock and --from "
            "to the station"
        )
    if args.reload and (args.replay is not None or args.role == "edge"):
        raise UsageError("--reload watches a station's scenario file: not with --replay or --role edge")
    played = _recording(args) if args.replay is not None else None
    catalog = catalog_of(args)
    station = args.role != "edge" and played is None
    scenario = resolve_scenario(args.scenario or "default", catalog) if station else None
    server_defaults = catalog.server if catalog is not None else {}
    host = args.host or server_defaults.get("host", "127.0.0.1")
    port = args.port if args.port is not None else server_defaults.get("port", 8000)
    if args.speed is not None and not (math.isfinite(args.speed) and MIN_SPEED <= args.speed <= MAX_SPEED):
        raise UsageError(f"--speed must be {MIN_SPEED:g} to {MAX_SPEED:,.0f}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0 to 65535, not {port}")
    if not args.send_timeout > 0:
        raise UsageError("--send-timeout must be greater than 0")
    if not args.heartbeat > 0:
        raise UsageError("--heartbeat must be greater than 0")
    if args.health_tick <= 0:
        raise UsageError("--health-tick must be greater than 0")
    api_keys = tuple(args.api_key or ())
    if api_keys and args.profile != "grimnir":
        raise UsageError("--api-key: only --profile grimnir takes X-API-Key (the documented API does not)")
    if any(not k.strip() for k in api_keys):
        raise UsageError("--api-key must not be empty")
    placement = None
    if scenario is not None:
        entry = args.entry or parse_entry_point("now" if args.clock == "wall" else "start")
        try:
            placement = place(scenario, entry, args.clock, datetime.now(UTC))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    for ignored in ignored_by_profile(args):
        print(f"grimnir-sim: warning: {ignored}", file=sys.stderr)
    if scenario is not None and (note := snapshot_rate_note(args, len(scenario.stations))) is not None:
        print(f"grimnir-sim: note: {note}", file=sys.stderr)
    open_files = raise_soft_limit()
    max_connections = clients_that_fit(args.max_connections, open_files)
    if max_connections < args.max_connections:
        print(
            f"grimnir-sim: the open-file limit is {open_files:,}: serving at most {max_connections:,} "
            f"WebSocket clients, not {args.max_connections:,} (raise the hard limit, ulimit -Hn, for more)",
            file=sys.stderr,
        )
    settings = ServerSettings(
        max_connections=max_connections,
        heartbeat_seconds=args.heartbeat,
        send_timeout_seconds=args.send_timeout,
        per_ip_per_minute=args.per_ip_per_minute,
        snapshot_by_default=args.snapshot,
        access_log=args.access_log,
        profile=args.profile,
        health_tick_ms=args.health_tick,
        api_keys=api_keys,
        **({"cors_origins": tuple(args.cors_origin)} if args.cors_origin else {}),
    )
    key = SigningKey.from_environment()
    if key is None and args.redis is not None:
        raise UsageError(
            f"--redis: set {KEY_ENV} to the same key in every process, so a token works on each "
            f"(e.g. export {KEY_ENV}=$(python3 -c 'import secrets; print(secrets.token_hex(32))'))"
        )
    key = key or SigningKey.generate()
    redis: RedisTarget | None = None
    if args.redis is not None:
        try:
            redis = RedisTarget.parse(args.redis, args.redis_ca)
            trio.run(check_reachable, redis)
        except RelayError as exc:
            raise UsageError(str(exc)) from None
    service: StationService | EdgeService | ReplayService
    if played is not None:
        service = ReplayService(played, key, settings, speed=args.speed or 1.0)
    elif redis is not None and args.role == "edge":
        follower = StreamFollower(redis, args.redis_stream, known_types=PROFILES[args.profile].event_types)
        service = EdgeService(follower, key, settings)
    else:
        service = StationService(
            scenario,
            key,
            settings,
            speed=args.speed,
            manual_clock=args.manual_clock,
            harbor_port=args.harbor_port,
            relay=StreamPublisher(redis, args.redis_stream) if redis is not None else None,
            placement=placement,
            reload_from=_scenario_file(args, catalog) if args.reload else None,
        )
    harbor = getattr(service, "harbor", None)
    if harbor is not None:  # taken now: a port in use or a host that does not resolve is one line
        where = f"{harbor.settings.host}:{service.harbor_port}"
        try:
            harbor.bind(service.harbor_port)
        except OSError as exc:
            raise UsageError(f"cannot listen on {where} for the harbor: {exc.strerror or exc}") from None
    logging.basicConfig(level=logging.WARNING, format="grimnir-sim: %(message)s")
    if args.access_log:
        accesslog.write_to(sys.stderr)
    failure: OSError | None = None
    stopped: ServiceFailed | None = None
    try:
        trio.run(partial(_serve_until_signalled, service, host, port, args.public_url))
    except* OSError as group:  # binding fails inside Hypercorn's nursery
        failure = first_leaf(group)  # type: ignore[assignment]
    except* ServiceFailed as group:
        stopped = first_leaf(group)  # type: ignore[assignment]
    if failure is not None:
        raise UsageError(f"cannot listen on {host}:{port}: {failure.strerror or failure}")
    if stopped is not None:
        print(f"grimnir-sim: {stopped}", file=sys.stderr)
        return 1
    return 0


def _scenario_file(args: argparse.Namespace, catalog: Catalog | None) -> Path:
    """The file ``--reload`` watches: the scenario's, as its name or path resolved."""
    name = args.scenario or "default"
    return catalog.resolve(name) if catalog is not None else Path(name)


def ignored_by_profile(args: argparse.Namespace) -> list[str]:
    """The options given that the chosen profile's stream has no use for, each said in a line."""
    profile = PROFILES[args.profile]
    rules = profile.stream
    why = f"the {args.profile} profile's stream has"
    ignored = []
    if profile.translator is None and args.health_tick != HEALTH_TICK_MS:
        ignored.append(f"--health-tick does nothing: the {args.profile} profile sends no snapshots")
    if not rules.snapshot and args.snapshot:
        ignored.append(f"--snapshot does nothing: {why} no state on connect")
    if not rules.limits:
        for option, value, default in (
            ("--max-connections", args.max_connections, MAX_CONNECTIONS),
            ("--per-ip-per-minute", args.per_ip_per_minute, PER_IP_PER_MINUTE),
        ):
            if value != default:
                ignored.append(f"{option} does nothing: {why} no connection limits")
    return ignored


SNAPSHOTS_PER_SECOND_NOTED = 20
"""More ``health`` snapshots a wall-clock second than this, and ``serve`` says how to have fewer."""


def snapshot_rate_note(args: argparse.Namespace, stations: int) -> str | None:
    """How many snapshots a second a fast ``--speed`` makes the profile send, when it is many."""
    if PROFILES[args.profile].translator is None or args.speed is None:
        return None
    per_second = args.speed * 1000 / args.health_tick * stations
    if per_second <= SNAPSHOTS_PER_SECOND_NOTED:
        return None
    one_a_second = format_duration(max(args.health_tick, round(args.speed * 1000)))
    return (
        f"at --speed {args.speed:g} the {args.profile} profile sends {per_second:,.0f} health snapshots a "
        f"second (one per playing mount every {format_duration(args.health_tick)} of station time); "
        f"--health-tick {one_a_second} for one a second per mount, or leave health out of a client's types"
    )


def _recording(args: argparse.Namespace) -> recording.Recording:
    """``--replay``'s recording, read up to its first broken line (reported); its profile is served."""
    given = [
        option
        for option, used in (
            ("a scenario", args.scenario is not None),
            ("--manual-clock", args.manual_clock),
            ("--from", args.entry is not None),
            ("--clock scenario", args.clock != "wall"),
            ("--harbor-port", args.harbor_port is not None),
            ("--redis", args.redis is not None),
        )
        if used
    ]
    if given:
        raise UsageError(f"--replay serves a recording, not a station: leave out {', '.join(given)}")
    played = read_recording_file(args.replay)
    if played.broken is not None:
        print(
            f"grimnir-sim: {args.replay}: {played.broken}; serving the {len(played.messages)} message(s) "
            "before it",
            file=sys.stderr,
        )
    profile = played.header.profile
    if profile is not None:
        if profile not in PROFILES:
            raise UsageError(f"{args.replay}: unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        args.profile = profile
    return played


async def _serve_until_signalled(
    service: StationService | EdgeService | ReplayService, host: str, port: int, public_url: str | None = None
) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            running = await nursery.start(partial(serve, service, host=host, port=port))
            held = _keep_generated_key(service.key, running.port, running.url)
            try:
                if isinstance(service, EdgeService):
                    print_edge_banner(service, running.url, running.events_url)
                elif isinstance(service, ReplayService):
                    print_replay_banner(service, running.url, running.events_url)
                else:
                    if service.relay is not None:
                        await service.relay.announce(public_url or running.url)
                    print_banner(service, running.url, running.events_url, held)
                async for received in signals:
                    name = signal.Signals(received).name
                    print(
                        f"grimnir-sim: {name}: closing {len(service.hub)} connection(s) and stopping",
                        file=sys.stderr,
                    )
                    async with trio.open_nursery() as stopping:
                        stopping.start_soon(_exit_on_another_signal, signals)
                        with trio.move_on_after(STOP_SECONDS) as waited:
                            await running.stop()
                        if waited.cancelled_caught:
                            print(
                                f"grimnir-sim: not stopped after {STOP_SECONDS:g}s; exiting", file=sys.stderr
                            )
                            os._exit(1)
                        stopping.cancel_scope.cancel()
                    break
            finally:
                if held is not None:
                    held.release()


def _keep_generated_key(key: SigningKey, port: int, url: str) -> keyfile.HeldKey | None:
    """Keep a generated key where `grimnir-sim token` finds it; a key from the environment stays there."""
    if not key.generated:
        return None
    directory = keyfile.state_directory()
    try:
        return keyfile.keep(directory, port=port, url=url, key=key)
    except (OSError, keyfile.KeyFileError) as exc:
        print(
            f"grimnir-sim: cannot keep the key in {directory} ({exc}), so `grimnir-sim token` cannot "
            f"find it; set {KEY_ENV} to choose one",
            file=sys.stderr,
        )
        return None


async def _exit_on_another_signal(signals) -> None:
    """A second Ctrl-C (or SIGTERM) while stopping: leave at once."""
    async for received in signals:
        print(f"grimnir-sim: {signal.Signals(received).name} again: exiting now", file=sys.stderr)
        os._exit(130)
