"""``grimnir-sim record``: write what a server's event stream sends as a recording (docs/record-replay.md)."""

import argparse
import signal
import sys
from datetime import UTC, datetime
from functools import partial
from typing import IO
from urllib.parse import urlsplit

import trio

from playout import PROFILES, UsageError, add_command, parse_duration

from ..recorder import Recorder, server_profile
from . import Handler

EVENTS_PATH = "/api/v1/events"


def _duration(text: str) -> int:
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"must be positive, not {text!r}")
    try:
        ms = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if ms == 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text!r}")
    return ms


def register_record(commands: argparse._SubParsersAction) -> Handler:
    parser = add_command(
        commands,
        "record",
        "record a server's event stream (this one, or the real Grimnir server) as JSON lines",
        [
            "grimnir-sim record ws://127.0.0.1:8000/api/v1/events --token TOKEN --out station.jsonl",
            "grimnir-sim record http://127.0.0.1:8000 --token TOKEN --profile grimnir --for 10m",
        ],
        catalog=False,  # it reads no scenario
    )
    parser.add_argument(
        "url",
        metavar="URL",
        help=f"the event stream: ws:// or wss:// (http(s):// works too; no path means {EVENTS_PATH}); "
        "without types=, every type is asked for",
    )
    parser.add_argument("--token", help="a JWT, sent as Authorization: Bearer (or put token= in the URL)")
    parser.add_argument("--out", metavar="FILE", help="write the recording here (default: standard output)")
    parser.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        help="the server's wire profile, noted in the recording for `serve --replay` (default: what this "
        "simulator's GET /api/v1/sim/server says; from any other server unknown, served as documented)",
    )
    parser.add_argument(
        "--for",
        dest="duration",
        type=_duration,
        metavar="DURATION",
        help="stop after this long (default: Ctrl-C)",
    )
    return cmd_record


def stream_url(given: str) -> str:
    """A ws(s) URL of the event stream from what the command line gave."""
    parts = urlsplit(given)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise UsageError(f"record takes a ws://, wss://, http:// or https:// URL, not {given!r}")
    path = parts.path if parts.path not in ("", "/") else EVENTS_PATH
    return parts._replace(scheme=scheme, path=path).geturl()


def cmd_record(args: argparse.Namespace) -> int:
    url = stream_url(args.url)
    to_file = args.out not in (None, "-")
    out: IO[bytes] | None = None if to_file else sys.stdout.buffer

    def write(line: bytes) -> None:
        nonlocal out
        if out is None:  # the header, once the first connection is open: a failed record leaves no file
            out = _open(args.out)
        out.write(line)
        out.flush()  # a recording is read while it grows, and survives a crash

    identify = partial(server_profile, url, args.token) if args.profile is None else None
    recorder = Recorder(url, write, token=args.token, profile=args.profile, identify=identify)
    try:  # (a first connection that fails is one line and status 2: recorder.Unreachable)
        trio.run(partial(_record_until_stopped, recorder, args.duration))
    finally:
        if to_file and out is not None:
            out.close()
    where = f" to {args.out}" if to_file else ""
    print(
        f"grimnir-sim: recorded {recorder.messages} message(s), {recorder.gaps} gap(s){where}",
        file=sys.stderr,
    )
    return 0


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "wb")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


async def _record_until_stopped(recorder: Recorder, duration_ms: int | None) -> None:
    """Record until SIGINT/SIGTERM, or ``duration_ms`` after the first connection."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(recorder.run, _now))
            nursery.start_soon(_cancel_on_signal, signals, nursery.cancel_scope)
            if duration_ms is not None:
                await trio.sleep(duration_ms / 1000)
                nursery.cancel_scope.cancel()


async def _cancel_on_signal(signals, scope: trio.CancelScope) -> None:
    async for _ in signals:
        scope.cancel()
        return


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
