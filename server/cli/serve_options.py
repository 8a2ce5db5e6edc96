"""``grimnir-sim serve``'s options: their names, defaults and help, and the checks argparse makes."""

import argparse
from collections.abc import Callable

from playout import CLOCKS, FROM_HINT, EntryPoint, add_command, add_profile_options, parse_entry_point

from ..auth import KEY_ENV
from ..cors import allowed_origin
from ..relay.connection import DEFAULT_STREAM
from . import Handler
from .serve import MAX_CONNECTIONS, PER_IP_PER_MINUTE, cmd_serve


def _entry_point(text: str) -> EntryPoint:
    try:
        return parse_entry_point(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _origin(text: str) -> str:
    try:
        return allowed_origin(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} {exc}") from None


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
            "grimnir-sim serve --profile grimnir --health-tick 5s",
            "grimnir-sim serve --replay station.jsonl --speed 10",
        ],
    )
    add_profile_options(parser)
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
        "--replay",
        metavar="FILE",
        help="serve a recording (`grimnir-sim record`) instead of a station: its messages with their "
        "recorded timing, divided by --speed, from when the first client connects (docs/record-replay.md)",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="watch the scenario file: a change that loads restarts the station as "
        "POST /api/v1/sim/reset does (clients stay connected); one that does not is logged with "
        "every problem, and the station runs on",
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="send every new client each station's current now_playing first "
        "(a client may still ask ?snapshot=false); without it, clients ask ?snapshot=true "
        "(not in the grimnir profile: the real server has no state on connect)",
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
        default=MAX_CONNECTIONS,
        metavar="N",
        help="refuse WebSocket connections beyond this many with 503 (default: 10000; "
        "the grimnir profile has no limit)",
    )
    parser.add_argument(
        "--per-ip-per-minute",
        type=_positive,
        default=PER_IP_PER_MINUTE,
        metavar="N",
        help="refuse a client address's WebSocket connections beyond this many a minute with 429 "
        "(default: 100; the grimnir profile has no limit)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        type=_origin,
        metavar="ORIGIN",
        help="allow this browser origin, scheme://host[:port], on the REST API (repeatable; * allows "
        "every origin; default: any loopback origin)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        metavar="KEY",
        help="with --profile grimnir: accept this X-API-Key as a platform admin's, as the real "
        "server accepts its users' keys (repeatable; default: none, every key is refused with 401)",
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
