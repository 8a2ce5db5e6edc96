"""``grimnir-sim serve`` and ``grimnir-sim token`` (registered through an entry point)."""

import argparse
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import trio

from playout import (
    CLOCKS,
    FROM_HINT,
    MAX_SPEED,
    MIN_SPEED,
    EntryPoint,
    format_duration,
    messages_schema,
    parse_duration,
    parse_entry_point,
    place,
)
from playout.drivers.cli import UsageError, add_command, catalog_of, first_leaf, resolve_scenario

from . import accesslog, keyfile
from .auth import KEY_ENV, SigningKey, mint
from .contract import asyncapi_yaml
from .fdlimit import clients_that_fit, raise_soft_limit
from .relay.connection import DEFAULT_STREAM, RedisTarget, RelayError, check_reachable
from .relay.follower import StreamFollower
from .relay.publisher import StreamPublisher
from .serve import ServiceFailed, serve
from .service import EdgeService, ServerSettings, StationService
from .typescript import typescript_declarations

Handler = Callable[[argparse.Namespace], int]
STOP_SECONDS = 20.0
CONTRACT_EXAMPLES = "community-week"
"""The scenario whose first event of each kind becomes the contract's example."""
TOKEN_TTL = "24h"


def _seconds(text: str) -> int:
    try:
        return parse_duration(text) // 1000
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _entry_point(text: str) -> EntryPoint:
    try:
        return parse_entry_point(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds from ``low`` to ``high``."""

    def seconds(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # (NaN fails both comparisons)
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g} seconds")
        return value

    return seconds


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 1 to 65535")
    return value


def register_serve(commands: argparse._SubParsersAction) -> Handler:
    parser = add_command(
        commands,
        "serve",
        "run a scenario and serve its events over WebSocket and REST",
        [
            "grimnir-sim serve",
            "grimnir-sim serve dj-takeover --speed 60 --port 8080",
            "grimnir-sim serve emergency --manual-clock --access-log",
            "grimnir-sim serve live-harbor --harbor-port 9001",
            "grimnir-sim serve --from 'Wed 20:00' --snapshot",
            "grimnir-sim serve dj-takeover --clock scenario",
        ],
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="a catalog name or a path (default: the catalog's default)",
    )
    parser.add_argument("--host", help="address to listen on (default: the catalog's, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on; 0 picks a free one (default: 8000)")
    parser.add_argument(
        "--speed", type=float, help="station seconds per wall second (default: the scenario's)"
    )
    parser.add_argument(
        "--manual-clock",
        action="store_true",
        help="station time stands still until POST /api/v1/sim/advance moves it",
    )
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall (default): timestamps are the current UTC time, and a week-long scenario is "
        "entered at today's weekday and time and repeats; scenario: the scenario's own calendar",
    )
    parser.add_argument(
        "--from",
        dest="entry",
        type=_entry_point,
        metavar="WHEN",
        help=f"where the station enters its scenario: {FROM_HINT} (default: now on the wall clock, "
        "start on the scenario's); the station fast-forwards there silently",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="send every new client each station's current now_playing first "
        "(a client may still ask ?snapshot=false); without it, clients ask ?snapshot=true",
    )
    parser.add_argument(
        "--harbor-port",
        type=int,
        metavar="PORT",
        help="accept Icecast source clients (live DJs) on this port; 0 picks a free one "
        "(default: the scenario's [harbor] port)",
    )
    parser.add_argument(
        "--heartbeat",
        type=_seconds_between(0.1, 3600),
        default=15.0,
        metavar="SECONDS",
        help="ping interval (default: 15, as documented)",
    )
    parser.add_argument(
        "--send-timeout",
        type=_seconds_between(0.1, 3600),
        default=10.0,
        metavar="SECONDS",
        help="cut off a client whose socket accepts nothing for this long (default: 10)",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive,
        default=10_000,
        metavar="N",
        help="refuse WebSocket connections beyond this many with 503 (default: 10000)",
    )
    parser.add_argument(
        "--per-ip-per-minute",
        type=_positive,
        default=100,
        metavar="N",
        help="refuse a client address's WebSocket connections beyond this many a minute with 429 "
        "(default: 100)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allow this browser origin on the REST API (repeatable; default: any loopback origin)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="print a line on stderr for each HTTP request and each WebSocket's open and close "
        "(tokens redacted)",
    )
    several = parser.add_argument_group(
        "several processes, one station (docs/performance.md)",
        f"With --redis, every process needs the same {KEY_ENV}.",
    )
    several.add_argument(
        "--redis",
        metavar="URL",
        help="relay the station's events through Redis, e.g. redis://127.0.0.1:6379, "
        "redis://:PASSWORD@host:6379, rediss://host:6380 (TLS)",
    )
    several.add_argument(
        "--redis-ca",
        metavar="FILE",
        help="with a rediss:// URL: trust the Redis server's certificate if this PEM CA file signed it "
        "(default: the system's CAs); its host name is checked against the URL's either way",
    )
    several.add_argument(
        "--role",
        choices=("station", "edge"),
        help="station (default): run the scenario and append its events to the stream; "
        "edge: run no station, serve the stream's events to this process's clients",
    )
    several.add_argument(
        "--redis-stream",
        default=DEFAULT_STREAM,
        metavar="KEY",
        help=f"the stream's key (default: {DEFAULT_STREAM})",
    )
    several.add_argument(
        "--public-url",
        metavar="URL",
        help="the station's base URL as edges' clients reach it, for their redirects "
        "(default: the address it listens on; give one when that is 0.0.0.0)",
    )
    return cmd_serve


def register_token(commands: argparse._SubParsersAction) -> Handler:
    parser = add_command(
        commands,
        "token",
        f"mint a JWT with ${KEY_ENV}, else with the key of the running `grimnir-sim serve`",
        [
            "grimnir-sim token",
            "grimnir-sim token --port 8080 --roles dj --station main --ttl 1h",
        ],
    )
    parser.add_argument(
        "--user", default="grimnir-sim", help="the uid (and sub) claim (default: grimnir-sim)"
    )
    parser.add_argument("--roles", default="admin", help="comma-separated roles (default: admin)")
    parser.add_argument("--station", help="the station_id claim (default: none, every station)")
    parser.add_argument(
        "--ttl",
        type=_seconds,
        default=_seconds(TOKEN_TTL),
        help=f"lifetime, e.g. 15m, 1h, 7d (default: {TOKEN_TTL})",
    )
    parser.add_argument(
        "--port",
        type=_port,
        help=f"without ${KEY_ENV}: the key of the server on this port (default: the newest running)",
    )
    return cmd_token


SCHEMA_EXAMPLES = """\
examples:
  grimnir-sim schema > asyncapi.yaml
      asyncapi: the AsyncAPI 3.0 contract of /api/v1/events, as YAML (docs/asyncapi.yaml)
  grimnir-sim schema jsonschema > grimnir-events.schema.json
      jsonschema: one JSON Schema (draft 2020-12) that every message matches: a oneOf over
      each message's envelope, named in $defs, for any generator or validator, e.g.
      npx json-schema-to-typescript grimnir-events.schema.json > grimnir-events.d.ts
  grimnir-sim schema typescript > grimnir-events.ts
      typescript: TypeScript declarations, generated here (no Node.js needed): an interface
      per message and per payload, and the union GrimnirMessage to switch on msg.type
"""


def register_schema(commands: argparse._SubParsersAction) -> Handler:
    parser = commands.add_parser(
        "schema",
        help="print the AsyncAPI 3.0 contract, one JSON Schema of every message, or TypeScript types",
        description="Print the event stream's contract in one of three forms, all from the event classes.",
        epilog=SCHEMA_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "kind",
        nargs="?",
        choices=("asyncapi", "jsonschema", "typescript"),
        default="asyncapi",
        help="asyncapi (YAML, the default), jsonschema (JSON) or typescript (see the examples)",
    )
    return cmd_schema


def cmd_schema(args: argparse.Namespace) -> int:
    if args.kind == "jsonschema":
        sys.stdout.write(json.dumps(messages_schema(), indent=2) + "\n")
    elif args.kind == "typescript":
        sys.stdout.write(typescript_declarations(messages_schema()))
    else:
        sys.stdout.write(asyncapi_yaml(resolve_scenario(CONTRACT_EXAMPLES, catalog_of(args))))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    if args.station is not None and not args.station.strip():
        raise UsageError("--station is empty: give a station's id or key, or leave it out for every station")
    if not args.user.strip():
        raise UsageError("--user is empty: the server refuses a token without a user")
    key = SigningKey.from_environment()
    if key is not None:
        ignored = " (--port ignored)" if args.port is not None else ""
        print(f"grimnir-sim: signed with ${KEY_ENV}{ignored}", file=sys.stderr)
    else:
        directory = keyfile.state_directory()
        served, running = keyfile.find(directory, args.port)
        if served is None:
            where = f" on port {args.port}" if args.port is not None else ""
            raise UsageError(
                f"no running `grimnir-sim serve`{where} with a generated key in {directory}; "
                f"set {KEY_ENV} to the server's key"
            )
        others = f"; {running} servers are running, --port chooses" if running > 1 else ""
        print(
            f"grimnir-sim: signed with the generated key of the server on port {served.port} "
            f"({served.url}, pid {served.pid}){others}",
            file=sys.stderr,
        )
        key = served.key
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    print(mint(key, user=args.user, roles=roles, station_id=args.station, ttl_seconds=args.ttl))
    return 0


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
    catalog = catalog_of(args)
    scenario = resolve_scenario(args.scenario or "default", catalog) if args.role != "edge" else None
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
    placement = None
    if scenario is not None:
        entry = args.entry or parse_entry_point("now" if args.clock == "wall" else "start")
        try:
            placement = place(scenario, entry, args.clock, datetime.now(UTC))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
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
    service: StationService | EdgeService
    if redis is not None and args.role == "edge":
        service = EdgeService(StreamFollower(redis, args.redis_stream), key, settings)
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


async def _serve_until_signalled(
    service: StationService | EdgeService, host: str, port: int, public_url: str | None = None
) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            running = await nursery.start(partial(serve, service, host=host, port=port))
            held = _keep_generated_key(service.key, running.port, running.url)
            try:
                if isinstance(service, EdgeService):
                    _print_edge_banner(service, running.url, running.events_url)
                else:
                    if service.relay is not None:
                        await service.relay.announce(public_url or running.url)
                    _print_banner(service, running.url, running.events_url, held)
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


def _banner_token(key: SigningKey) -> str:
    """The admin token a banner prints, valid for TOKEN_TTL."""
    return mint(key, user="grimnir-sim", roles=("admin",), ttl_seconds=parse_duration(TOKEN_TTL) // 1000)


def _print_edge_banner(service: EdgeService, url: str, events_url: str) -> None:
    token = _banner_token(service.key)
    follower = service.follower
    print(
        "\n".join(
            [
                f"grimnir-sim: edge for the station on {follower.redis.shown} (stream {follower.stream})",
                f"  REST:    {url}/api/v1/health  (other endpoints redirect to the station)",
                f"  events:  {events_url}",
                f"  key:     from {KEY_ENV}",
                f"  token:   {token}",
                "  stop:    Ctrl-C",
            ]
        ),
        flush=True,
    )


def _print_banner(service: StationService, url: str, events_url: str, held: keyfile.HeldKey | None) -> None:
    scenario = service.scenario
    runner = service.runner
    pace = "manual clock (POST /api/v1/sim/advance)" if runner.manual_clock else f"speed {runner.speed:g}x"
    token = _banner_token(service.key)
    valid = format_duration(parse_duration(TOKEN_TTL))
    clock = runner.clock_view()
    if clock["clock"] == "wall":
        when = f"  time:    {clock['station_time']} (wall clock); in the scenario {clock['scenario_time']}"
        if clock["repeats_every"] is not None:
            when += f", repeating every {format_duration(clock['repeats_every'] * 1000)}"
    else:
        when = f"  time:    {clock['station_time']} (the scenario's own calendar)"
    lines = [
        f"grimnir-sim: serving '{scenario.name}' ({scenario.description or scenario.path}), {pace}",
        when,
        f"  REST:    {url}/api/v1/health",
        f"  events:  {events_url}",
    ]
    if held is not None:
        lines.append(f"  key:     generated for this run, kept in {held.path}; set {KEY_ENV} to choose one")
        mint_more = f"`grimnir-sim token --port {held.port}`"
    elif service.key.generated:
        lines.append(f"  key:     generated for this run; set {KEY_ENV} to choose one")
        mint_more = f"`grimnir-sim token` once you serve with {KEY_ENV} set"
    else:
        lines.append(f"  key:     from {KEY_ENV}")
        mint_more = f"`grimnir-sim token` with the same {KEY_ENV}"
    lines += [
        f"  token:   {token}",
        f"           (admin, valid {valid}; mint more with {mint_more})",
        f"  connect: {events_url}?types=now_playing,live.handover,live.released&snapshot=true&token={token}",
        f"  page:    {url}/#token={token}",
        "  stop:    Ctrl-C",
    ]
    if service.harbor is not None and service.harbor.port is not None:
        host = service.harbor.settings.host
        mounts = ", ".join(m.path for station in scenario.stations for m in station.mounts)
        lines[-1:-1] = [
            f"  harbor:  icecast://DJ:PASSWORD@{host}:{service.harbor.port}/MOUNT"
            f"  (PUT or SOURCE; mounts {mounts})"
        ]
    print("\n".join(lines), flush=True)
