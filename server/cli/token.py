"""``grimnir-sim token``: a JWT signed with the environment's key, or a running server's."""

import argparse
import sys

from playout import UsageError, add_command, parse_duration

from .. import keyfile
from ..auth import KEY_ENV, SigningKey, mint
from . import Handler

TOKEN_TTL = "24h"


def _seconds(text: str) -> int:
    try:
        seconds = parse_duration(text) // 1000
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds < 1:  # a token that has expired when it is printed
        raise argparse.ArgumentTypeError(f"{text!r} is shorter than 1s: the token would expire at once")
    return seconds


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 1 to 65535")
    return value


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
