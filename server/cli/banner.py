"""What ``grimnir-sim serve`` prints once it serves: where, a token, and how to mint more."""

from playout import DOCUMENTED, format_duration, parse_duration

from .. import keyfile
from ..auth import KEY_ENV, SigningKey, mint
from ..service import EdgeService, ReplayService, StationService
from .token import TOKEN_TTL


def _banner_token(key: SigningKey) -> str:
    """The admin token a banner prints, valid for TOKEN_TTL."""
    return mint(key, user="grimnir-sim", roles=("admin",), ttl_seconds=parse_duration(TOKEN_TTL) // 1000)


def print_edge_banner(service: EdgeService, url: str, events_url: str) -> None:
    """An edge's banner: the station it follows, its own URLs, an admin token."""
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


def print_replay_banner(service: ReplayService, url: str, events_url: str) -> None:
    """A replay's banner: the recording, its pace, the URLs, an admin token."""
    replay = service.replay
    header = replay.recording.header
    token = _banner_token(service.key)
    key = f"from {KEY_ENV}" if not service.key.generated else "generated for this run"
    print(
        "\n".join(
            [
                f"grimnir-sim: replaying {len(replay.recording.messages)} message(s) recorded from "
                f"{header.source} at {header.started} ({service.settings.profile} profile), "
                f"speed {replay.speed:g}x, from the first client on",
                f"  REST:    {url}/api/v1/health",
                f"  events:  {events_url}",
                f"  key:     {key}",
                f"  token:   {token}",
                "  stop:    Ctrl-C",
            ]
        ),
        flush=True,
    )


def print_banner(service: StationService, url: str, events_url: str, held: keyfile.HeldKey | None) -> None:
    """A station's banner: the scenario and its clock, the URLs, the key, an admin token, the harbor."""
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
    profile = service.settings.wire_profile
    speaks = (
        "" if profile is DOCUMENTED else f", speaking the {profile.name} profile's wire (docs/fidelity.md)"
    )
    lines = [
        f"grimnir-sim: serving '{scenario.name}' ({scenario.description or scenario.path}), {pace}{speaks}",
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
    snapshot = "&snapshot=true" if service.hub.rules.snapshot else ""  # (a profile's stream may have none)
    lines += [
        f"  token:   {token}",
        f"           (admin, valid {valid}; mint more with {mint_more})",
        f"  connect: {events_url}?types={profile.example_types}{snapshot}&token={token}",
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
