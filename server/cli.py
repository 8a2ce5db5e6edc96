"""``grimnir-sim serve`` and ``grimnir-sim token`` (registered through an entry point)."""

import argparse
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

import trio

from playout import format_duration, messages_schema, parse_duration
from playout.cli import UsageError, catalog_of, first_leaf, resolve_scenario

from .auth import KEY_ENV, SigningKey, mint
from .contract import asyncapi_yaml
from .relay import DEFAULT_STREAM, RelayError, StreamFollower, StreamPublisher, check_reachable
from .serve import ServiceFailed, serve
from .service import EdgeService, ServerSettings, StationService
from .typescript import typescript_declarations

Handler = Callable[[argparse.Namespace], int]
STOP_SECONDS = 20.0
CONTRACT_EXAMPLES = "community-week"
"""The scenario whose first event of each kind becomes the contract's example."""
MAX_SPEED = 1_000_000.0
TOKEN_TTL = "24h"


def _seconds(text: str) -> int:
    try:
        return parse_duration(text) // 1000
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register_serve(commands: argparse._SubParsersAction) -> Handler:
    parser = commands.add_parser("serve", help="run a scenario and serve its events over WebSocket and REST")
    parser.add_argument("scenario", nargs="?", metavar="SCENARIO", help="(default: the catalog's default)")
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
        "--harbor-port",
        type=int,
        metavar="PORT",
        help="accept Icecast source clients (live DJs) on this port; 0 picks a free one "
        "(default: the scenario's [harbor] port)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="ping interval (default: 15, as documented)",
    )
    parser.add_argument(
        "--send-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="cut off a client whose socket accepts nothing for this long (default: 10)",
    )
    parser.add_argument("--max-connections", type=_positive, default=10_000)
    parser.add_argument("--per-ip-per-minute", type=_positive, default=100)
    parser.add_argument(
        "--cors-origin",
        action="append",
        metavar="ORIGIN",
        help="allow this browser origin on the REST API (repeatable; default: any loopback origin)",
    )
    several = parser.add_argument_group(
        "several processes, one station (docs/performance.md)",
        f"With --redis, every process needs the same {KEY_ENV}.",
    )
    several.add_argument(
        "--redis", metavar="URL", help="relay the station's events through Redis, e.g. redis://127.0.0.1:6379"
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
    parser = commands.add_parser("token", help=f"mint a JWT signed with ${KEY_ENV}")
    parser.add_argument("--user", default="grimnir-sim", help="the uid (and sub) claim")
    parser.add_argument("--roles", default="admin", help="comma-separated roles (default: admin)")
    parser.add_argument("--station", help="the station_id claim")
    parser.add_argument(
        "--ttl", type=_seconds, default=_seconds(TOKEN_TTL), help="lifetime, e.g. 15m, 1h, 7d"
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
        description="Print the event stream's contract in one of three forms, all from playout/events.py.",
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
    key = SigningKey.from_environment()
    if key is None:
        raise UsageError(
            f"set {KEY_ENV} to the server's signing key (serve prints a token for its generated one)"
        )
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    print(mint(key, user=args.user, roles=roles, station_id=args.station, ttl_seconds=args.ttl))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.role is not None and args.redis is None:
        raise UsageError("--role needs --redis (the stream that joins the processes)")
    if args.public_url is not None:
        if args.redis is None or args.role == "edge":
            raise UsageError("--public-url is the station's, and needs --redis")
        public = urlsplit(args.public_url)
        if public.scheme not in ("http", "https") or not public.netloc:
            raise UsageError(
                f"--public-url takes an http(s) URL, e.g. http://radio.example:8000, not {args.public_url!r}"
            )
        args.public_url = args.public_url.rstrip("/")
    if args.role == "edge" and (args.scenario is not None or args.speed is not None or args.manual_clock):
        raise UsageError(
            "an edge runs no station: give the scenario, --speed and --manual-clock to the station"
        )
    catalog = catalog_of(args)
    scenario = resolve_scenario(args.scenario or "default", catalog) if args.role != "edge" else None
    server_defaults = catalog.server if catalog is not None else {}
    host = args.host or server_defaults.get("host", "127.0.0.1")
    port = args.port if args.port is not None else server_defaults.get("port", 8000)
    if args.speed is not None and not (math.isfinite(args.speed) and 0 < args.speed <= MAX_SPEED):
        raise UsageError(f"--speed must be greater than 0 and at most {MAX_SPEED:,.0f}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0 to 65535, not {port}")
    if not args.send_timeout > 0:
        raise UsageError("--send-timeout must be greater than 0")
    if not args.heartbeat > 0:
        raise UsageError("--heartbeat must be greater than 0")
    settings = ServerSettings(
        max_connections=args.max_connections,
        heartbeat_seconds=args.heartbeat,
        send_timeout_seconds=args.send_timeout,
        per_ip_per_minute=args.per_ip_per_minute,
        **({"cors_origins": tuple(args.cors_origin)} if args.cors_origin else {}),
    )
    key = SigningKey.from_environment()
    if key is None and args.redis is not None:
        raise UsageError(
            f"--redis: set {KEY_ENV} to the same key in every process, so a token works on each "
            f"(e.g. export {KEY_ENV}=$(python3 -c 'import secrets; print(secrets.token_hex(32))'))"
        )
    key = key or SigningKey.generate()
    if args.redis is not None:
        try:
            trio.run(check_reachable, args.redis)
        except RelayError as exc:
            raise UsageError(str(exc)) from None
    service: StationService | EdgeService
    if args.role == "edge":
        service = EdgeService(StreamFollower(args.redis, args.redis_stream), key, settings)
    else:
        service = StationService(
            scenario,
            key,
            settings,
            speed=args.speed,
            manual_clock=args.manual_clock,
            harbor_port=args.harbor_port,
            relay=StreamPublisher(args.redis, args.redis_stream) if args.redis else None,
        )
    logging.basicConfig(level=logging.WARNING, format="grimnir-sim: %(message)s")
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
            if isinstance(service, EdgeService):
                _print_edge_banner(service, running.url, running.events_url)
            else:
                if service.relay is not None:
                    await service.relay.announce(public_url or running.url)
                _print_banner(service, running.url, running.events_url)
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
                        print(f"grimnir-sim: not stopped after {STOP_SECONDS:g}s; exiting", file=sys.stderr)
                        os._exit(1)
                    stopping.cancel_scope.cancel()
                break


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
                f"grimnir-sim: edge for the station on {follower.url} (stream {follower.stream})",
                f"  REST:    {url}/api/v1/health  (other endpoints redirect to the station)",
                f"  events:  {events_url}",
                f"  key:     from {KEY_ENV}",
                f"  token:   {token}",
                "  stop:    Ctrl-C",
            ]
        ),
        flush=True,
    )


def _print_banner(service: StationService, url: str, events_url: str) -> None:
    scenario = service.scenario
    runner = service.runner
    pace = "manual clock (POST /api/v1/sim/advance)" if runner.manual_clock else f"speed {runner.speed:g}x"
    token = _banner_token(service.key)
    valid = format_duration(parse_duration(TOKEN_TTL))
    lines = [
        f"grimnir-sim: serving '{scenario.name}' ({scenario.description or scenario.path}), {pace}",
        f"  REST:    {url}/api/v1/health",
        f"  events:  {events_url}",
    ]
    if service.key.generated:
        lines.append(f"  key:     generated for this run; set {KEY_ENV} to choose one")
    else:
        lines.append(f"  key:     from {KEY_ENV}")
    lines += [
        f"  token:   {token}",
        f"           (admin, valid {valid}; mint more with `grimnir-sim token`)",
        f"  connect: {events_url}?types=now_playing,live.handover,live.released&token={token}",
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
