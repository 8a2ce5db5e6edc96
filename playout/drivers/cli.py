"""``grimnir-sim``: run scenarios in virtual time, check them, list the catalog."""

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import NoReturn

import orjson

from ..profiles import ALL_EVENT_TYPES, HEALTH_TICK_MS, PROFILE_HELP, PROFILES, Profile
from ..profiles.base import Translator
from ..protocol import recording
from ..protocol.stationtime import DURATION_HINT, StationClock, format_duration, parse_duration, parse_instant
from ..scenario.catalog import Catalog, UnknownScenario, find_catalog, load_catalog, looks_like_a_path
from ..scenario.loader import load_scenario
from ..scenario.model import Scenario
from ..scenario.problems import ScenarioError
from ..station.outcomes import Emitted
from .run_output import Progress, line_writer
from .runner import StationRunner

EXIT_USAGE = 2
MANY_SNAPSHOTS = 100_000
"""More grimnir health snapshots than this in one run (a station-week at 1 a minute is 10,080), and ``run``
says so first: each station-hour at 250 ms takes about 10 s here."""
EXIT_INTERRUPTED = 130
"""SIGINT (Ctrl-C) before a command handles it: 128 + 2, as a shell reports a command it interrupted."""
CATALOG_HELP = "the scenario catalog (default: $GRIMNIR_SIM_CATALOG, ./scenarios.toml, or the shipped one)"
COMMAND_GROUP = "grimnir_sim.commands"


class UsageError(Exception):
    """A bad command line or input file: one line on stderr, exit status 2."""


def _duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {DURATION_HINT}") from None


def _types(text: str) -> frozenset[str]:
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(ALL_EVENT_TYPES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown event type {', '.join(unknown)}; known: {', '.join(ALL_EVENT_TYPES)}"
        )
    return frozenset(names)


class OneLineParser(argparse.ArgumentParser):
    """Bad input on the command line is one line on stderr and exit status 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        if message.endswith("expected one argument"):  # argparse takes a value like -3s for an option
            message += " (a value that starts with '-' goes after '=': --option=-value)"
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def add_command(
    commands: argparse._SubParsersAction,
    name: str,
    summary: str,
    examples: Sequence[str],
    *,
    catalog: bool = True,
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` starts with ``summary`` and ends with its ``examples``.

    Each example is a whole command line (``grimnir-sim NAME ...``); the tests parse
    every one, so an example that stops working fails them. ``--catalog`` may come
    after the command's name too, unless the command reads no scenario (``catalog=False``).
    """
    parser = commands.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if catalog:
        parser.add_argument("--catalog", default=argparse.SUPPRESS, help=CATALOG_HELP)
    return parser


def version_line() -> str:
    """``grimnir-sim X.Y.Z``, from the installed package's metadata."""
    try:
        return f"grimnir-sim {version('grimnir-sim')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "grimnir-sim (version unknown: the package is not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="grimnir-sim",
        description="A simulated Grimnir Radio station that produces the documented event stream.",
        epilog="examples:\n  grimnir-sim serve\n  grimnir-sim run dj-takeover --format text\n"
        "  grimnir-sim COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=version_line(), help="print the version and exit"
    )
    parser.add_argument(
        "--catalog",
        help=CATALOG_HELP,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = add_command(
        commands,
        "run",
        "run a scenario in virtual time and print its event log",
        [
            "grimnir-sim run dj-takeover",
            "grimnir-sim run default --until 2d --format text --types now_playing,live.handover",
            "grimnir-sim run scenarios/crossfade.toml --with-time",
            "grimnir-sim run dj-takeover --profile grimnir --health-tick 1m",
            "grimnir-sim run --replay station.jsonl --types live.handover --with-time",
        ],
    )
    run.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="a catalog name ('default' for the default) or a path"
    )
    run.add_argument(
        "--replay",
        metavar="FILE",
        help="print a recording's messages (`grimnir-sim record`) instead of running a scenario",
    )
    run.add_argument("--until", type=_duration, help="how much station time to run (default: the scenario's)")
    run.add_argument("--types", type=_types, help="only these event types, comma-separated")
    run.add_argument(
        "--format", choices=("jsonl", "text"), default="jsonl", help="jsonl (wire messages) or text"
    )
    run.add_argument(
        "--with-time", action="store_true", help='jsonl: put the station time in each line as "at"'
    )
    add_profile_options(run)

    check = add_command(
        commands,
        "check",
        "validate scenario files and report every problem (exit status 2 if any)",
        ["grimnir-sim check scenarios/*.toml", "grimnir-sim check default dj-takeover"],
    )
    check.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="catalog names ('default' for the default) or paths"
    )

    add_command(
        commands,
        "scenarios",
        "list the scenario catalog",
        ["grimnir-sim scenarios", "grimnir-sim --catalog ../other/scenarios.toml scenarios"],
    )
    for entry in entry_points(group=COMMAND_GROUP):
        # Commands from other packages (the server's serve and token) register here, so
        # this package never imports them.
        COMMANDS[entry.name] = entry.load()(commands)
    return parser


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    """``--profile``: an unknown name is one line naming the known ones, exit status 2."""
    parser.add_argument("--profile", choices=tuple(PROFILES), default="documented", help=PROFILE_HELP)


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    """``--profile`` and ``--health-tick``, as ``run`` and ``serve`` take them."""
    add_profile_option(parser)
    parser.add_argument(
        "--health-tick",
        type=_duration,
        default=HEALTH_TICK_MS,
        metavar="DURATION",
        help="grimnir profile: how often, in station time, each playing mount's health snapshot is sent "
        "(default 250ms, as the real server; longer for people reading along)",
    )


def translator_for(
    profile: Profile, scenario: Scenario, health_tick_ms: int, types: frozenset[str] | None = None
) -> Translator | None:
    """The profile's translator for ``scenario`` (None for the documented wire); when ``types`` leaves
    out ``health``, no snapshots are made at all."""
    if profile.translator is None:
        return None
    if types is not None and "health" not in types:
        health_tick_ms = 0
    return profile.translator(scenario, health_tick_ms)


def catalog_of(args: argparse.Namespace) -> Catalog | None:
    path = find_catalog(args.catalog)
    if path is None:
        return None
    return load_catalog(path)


def resolve_scenario(name: str, catalog: Catalog | None) -> Scenario:
    """Load a catalog name or a path; an unknown name raises :class:`UnknownScenario`."""
    if catalog is not None:
        return load_scenario(catalog.resolve(name))
    if not (looks_like_a_path(name) or Path(name).is_file()):
        raise UsageError(f"no scenarios.toml found to look up '{name}'; give a path or --catalog")
    return load_scenario(name)


def run_virtual(
    scenario: Scenario,
    until_ms: int,
    publish: Callable[[list[Emitted]], None],
    translator: Translator | None = None,
) -> StationRunner:
    """Run ``scenario`` for ``until_ms`` station time on trio's autojump clock (through a profile's
    ``translator``, when given)."""
    # Here, not at the top: trio.testing imports pytest when it is installed (about 0.15 s), and
    # every command (and `import playout`, which exports this module's helpers) would pay for it.
    import trio.testing

    runner: StationRunner | None = None

    async def main() -> None:
        nonlocal runner
        runner = StationRunner(scenario, publish, real_probes=False, translator=translator)
        await runner.run(until_ms=until_ms)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    assert runner is not None
    return runner


def cmd_run(args: argparse.Namespace) -> int:
    if args.replay is not None:
        return print_recording(args)
    if args.scenario is None:
        raise UsageError("run needs a SCENARIO (a catalog name or a path), or --replay FILE")
    scenario = resolve_scenario(args.scenario, catalog_of(args))
    profile = PROFILES[args.profile]
    unknown = sorted((args.types or frozenset()) - set(profile.event_types))
    if unknown:
        raise UsageError(
            f"the {profile.name} profile sends no {', '.join(unknown)}; "
            f"it sends: {', '.join(profile.event_types)}"
        )
    if args.health_tick <= 0:
        raise UsageError("--health-tick must be greater than 0")
    if profile.translator is None and args.health_tick != HEALTH_TICK_MS:
        print(
            f"warning: --health-tick does nothing: the {profile.name} profile sends no snapshots",
            file=sys.stderr,
        )
    until_ms = args.until if args.until is not None else scenario.duration_ms
    snapshots = until_ms // args.health_tick * len(scenario.stations)
    if (
        profile.translator is not None
        and snapshots > MANY_SNAPSHOTS
        and "health" in (args.types or {"health"})
    ):
        print(
            f"note: {snapshots:,} health snapshots, one per playing mount every "
            f"{format_duration(args.health_tick)} as the real server sends them; this takes a while "
            "(--health-tick 1m, or --types without health, for fewer)",
            file=sys.stderr,
        )
    for webstream in scenario.webstreams.values():
        if webstream.probe.kind == "http":
            print(
                f"warning: webstream '{webstream.key}' is probed over HTTP; `run` stays off the network, "
                "so it stays healthy (`serve` checks it for real)",
                file=sys.stderr,
            )
    out = sys.stdout.buffer
    write = line_writer(scenario, out, args.types, text=args.format == "text", with_time=args.with_time)
    progress = Progress(until_ms, sys.stderr.isatty())

    def publish(batch: list[Emitted]) -> None:
        write(batch)
        if batch:
            progress.update(batch[-1].at_ms)

    try:
        translator = translator_for(profile, scenario, args.health_tick, args.types)
        runner = run_virtual(scenario, until_ms, publish, translator)
        out.flush()
    finally:
        progress.finish()
    for notice in runner.core.notices:
        when = scenario.clock.stamp(notice.at_ms)
        print(
            f"warning: {scenario.path}: timeline[{notice.happening}] at {when}: {notice.message}",
            file=sys.stderr,
        )
    return 0


def read_recording_file(path: str) -> recording.Recording:
    """The recording at ``path``, up to its first broken line; a file that cannot be read or has no
    header is a :class:`UsageError` naming it."""
    try:
        with open(path, "rb") as lines:
            return recording.read_recording(lines)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except recording.RecordingError as exc:
        raise UsageError(f"{path}: {exc}") from None


def print_recording(args: argparse.Namespace) -> int:
    """``run --replay``: the recording's messages as they came off the wire, one a line; gaps on stderr.

    ``--types`` and ``--until`` (after the recording's start) filter; ``--with-time`` puts the receipt
    instant in each line as ``at``. A broken line ends the output with an error naming it (status 2).
    """
    if args.scenario is not None:
        raise UsageError("--replay prints a recording: leave out the SCENARIO")
    if args.format != "jsonl":
        raise UsageError("--replay prints the recorded messages as JSON lines: leave out --format text")
    played = read_recording_file(args.replay)
    stamp = StationClock(parse_instant(played.header.started)).stamp
    out = sys.stdout.buffer
    for item in played.items:
        if args.until is not None and item.at_ms > args.until:
            break
        if isinstance(item, recording.Gap):
            out.flush()
            print(f"grimnir-sim: gap at {stamp(item.at_ms)}: {item.reason}", file=sys.stderr)
        elif args.types is None or item.type in args.types:
            text = item.text.encode()
            if args.with_time:
                text = b'{"at":' + orjson.dumps(stamp(item.at_ms)) + b"," + text.lstrip()[1:]
            out.write(text + b"\n")
    out.flush()
    if played.broken is not None:
        raise UsageError(f"{args.replay}: {played.broken}; the messages before it are printed")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    catalog = catalog_of(args)
    failed = 0
    for name in args.scenarios:
        try:
            scenario = resolve_scenario(name, catalog)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        except UnknownScenario as exc:
            failed += 1
            print(exc, file=sys.stderr)
            continue
        print(
            f"ok: {scenario.path} ({scenario.name}: {len(scenario.stations)} station(s), "
            f"{len(scenario.tracks)} tracks, {len(scenario.slots)} schedule entries, "
            f"{len(scenario.timeline)} timeline inputs)"
        )
    return EXIT_USAGE if failed else 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    catalog = catalog_of(args)
    if catalog is None:
        raise UsageError("no scenarios.toml found; run from the project's root or pass --catalog")
    width = max(len(name) for name in catalog.entries)
    for name, entry in catalog.entries.items():
        marker = "*" if name == catalog.default else " "
        print(f"{marker} {name:<{width}}  {entry.description}")
    print(f"\n* default ({catalog.path})")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "check": cmd_check,
    "scenarios": cmd_scenarios,
}


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C before a command handles it (serve does once it serves): one line and the shell's 130,
    # not a traceback, whether it comes while the commands load, a scenario loads or a station starts.
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return _interrupted()
    status = EXIT_USAGE
    # except*: a command's errors may surface from inside trio nurseries, as exception groups.
    try:
        status = COMMANDS[args.command](args)
    except* KeyboardInterrupt:
        status = _interrupted()
    except* ScenarioError as group:
        print(f"error: {first_leaf(group).summary()}", file=sys.stderr)  # type: ignore[attr-defined]
    except* (UsageError, UnknownScenario) as group:
        print(f"error: {first_leaf(group)}", file=sys.stderr)
    except* BrokenPipeError:
        # The reader went away (`| head`); that is not an error of ours.
        sys.stderr.close()
        status = 0
    return status


def _interrupted() -> int:
    print("grimnir-sim: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def first_leaf(error: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
