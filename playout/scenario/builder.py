"""A schema-valid scenario document's meaning: ids, references, settings, and then the :class:`Scenario`.

The builder turns the head, stations, library, playlists, DJs, webstreams and harbor into the
frozen model, leaves the schedule and the timeline to :mod:`playout.scenario.timing`, and
collects every problem it finds in a :class:`~playout.scenario.problems.Findings`.

It also reads what the schema let through of a file it refused (the loader takes the
refused values out, and refused list items become ``None``): so a required key may be
missing, and an entry without its ``id`` is passed over (nothing can refer to it).
"""

import random
import uuid
from typing import Any

from ..protocol.stationtime import format_duration, parse_duration, parse_instant
from .library import generate_catalog
from .model import (
    DAY_MS,
    HARBOR_LIMIT_KEYS,
    HARBOR_LIMIT_RULES,
    Dj,
    HarborLimits,
    HarborSettings,
    Mount,
    Playlist,
    ProbeSettings,
    Scenario,
    Station,
    Track,
    Webstream,
)
from .problems import Findings, ScenarioError
from .references import References
from .timing import Timing


def entries(document: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """The tables of the list ``key`` with their indexes; items the schema refused are passed over."""
    return [(index, entry) for index, entry in enumerate(document.get(key, [])) if entry is not None]


class Builder:
    """Turns a document into a Scenario, collecting every problem of its meaning."""

    def __init__(self, findings: Findings, document: dict[str, Any]) -> None:
        self.findings = findings
        self.doc = document
        self.unsure: set[str] = set()
        """Kinds ("station", "mount", "media"…) some of whose ids the schema refused: a reference
        to an unknown id of one may be to that entry, so it is not called dangling."""

    def identified(
        self, document: dict[str, Any], key: str, table: str, kind: str
    ) -> list[tuple[int, dict[str, Any]]]:
        """The entries of the list ``key`` (of ``table``) that have an id; ``kind`` is unsure when
        the schema refused the list, an entry of it or an entry's id."""
        items = [(index, entry) for index, entry in entries(document, key) if "id" in entry]
        if len(items) < len(document.get(key, [])) or (table, key) in self.findings.refused:
            self.unsure.add(kind)
        return items

    def duration(self, table: str, key: str, value: object, default: int) -> int:
        """``value`` in milliseconds; ``default`` when it is absent (or was refused by the schema)."""
        if value is None:
            return default
        return parse_duration(value)  # type: ignore[arg-type]  # the schema checked the shape

    def build(self) -> Scenario:
        head = self.doc.get("scenario", {})
        self.name = head.get("name", "")
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"grimnir-sim/{self.name}")
        self.seed = head.get("seed", 0)
        self.start = parse_instant("2026-01-01T00:00:00Z")
        start_known = False  # if not, no instant can be judged early or late
        try:
            self.start = parse_instant(head["start"])
            start_known = True
        except KeyError:
            pass  # the schema reported it
        except ValueError as exc:
            self.findings.problem("scenario", "start", str(exc))
        duration_ms = self.duration("scenario", "duration", head.get("duration"), DAY_MS)
        window_ms = self.duration("scenario", "schedule_window", head.get("schedule_window"), 2 * DAY_MS)
        refresh_ms = self.duration("scenario", "schedule_refresh", head.get("schedule_refresh"), 3_600_000)
        if window_ms < refresh_ms:
            self.findings.problem(
                "scenario",
                "schedule_window",
                "must be at least as long as schedule_refresh",
                about=["schedule_refresh"],
            )

        stations = self.stations()
        tracks = self.tracks()
        playlists = self.playlists(tracks)
        djs = self.djs()
        webstreams = self.webstreams()
        refs = References(
            self.findings,
            {s.key: s for s in stations},
            {"media": tracks, "playlist": playlists, "webstream": webstreams, "dj": djs},
            frozenset(self.unsure),
        )
        # A refused duration leaves the default's end, which the timeline need not keep to.
        end_ms = None if ("scenario", "duration") in self.findings.refused else duration_ms
        timing = Timing(refs, self.start, start_known=start_known, end_ms=end_ms)
        slots = timing.slots(entries(self.doc, "schedule"))
        timing.check_overlaps(slots)
        timeline = timing.timeline(entries(self.doc, "timeline"))
        timing.check_recurring(stations, tracks, playlists, webstreams, slots, timeline, refresh_ms)
        harbor_doc = self.doc.get("harbor", {})
        harbor = HarborSettings(
            port=harbor_doc.get("port"),
            host=harbor_doc.get("host", "127.0.0.1"),
            max_sources=harbor_doc.get("max_sources", 10),
            source_timeout_ms=self.duration(
                "harbor", "source_timeout", harbor_doc.get("source_timeout"), 10_000
            ),
            limits=self.harbor_limits(harbor_doc),
        )
        if self.findings.problems:
            raise ScenarioError(self.findings.problems)
        return Scenario(
            path=self.findings.file,
            name=self.name,
            description=head.get("description", ""),
            start=self.start,
            duration_ms=duration_ms,
            speed=float(head.get("speed", 1.0)),
            seed=self.seed,
            schedule_window_ms=window_ms,
            schedule_refresh_ms=refresh_ms,
            stations=stations,
            tracks=tracks,
            playlists=playlists,
            djs=djs,
            webstreams=webstreams,
            slots=slots,
            timeline=timeline,
            harbor=harbor,
        )

    def harbor_limits(self, harbor_doc: dict[str, Any]) -> HarborLimits:
        """``[harbor]``'s limits (the defaults for those not given), or the defaults and a problem
        for each rule they break."""
        defaults = HarborLimits()
        values: dict[str, float] = {}
        for key, field in HARBOR_LIMIT_KEYS.items():
            if key not in harbor_doc:
                values[field] = getattr(defaults, field)
            elif field.endswith("_seconds"):
                values[field] = self.duration("harbor", key, harbor_doc[key], 0) / 1000
            else:
                values[field] = harbor_doc[key]
        keys = {field: key for key, field in HARBOR_LIMIT_KEYS.items()}
        broken = False
        for rule in HARBOR_LIMIT_RULES:
            if rule.holds(values[rule.field], values[rule.other]):
                continue
            broken = True
            # Named where the file sets it: a key left out has its default, which the file may not know.
            field, relation, other = rule.field, rule.relation, rule.other
            if keys[field] not in harbor_doc:
                field, relation, other = other, rule.inverse, field
            value = values[other]
            shown_value = format_duration(round(value * 1000)) if other.endswith("_seconds") else f"{value:,}"
            default = "" if keys[other] in harbor_doc else ", its default"
            self.findings.problem(
                "harbor",
                keys[field],
                f"must be {relation} {keys[other]} ({shown_value}{default})",
                about=[keys[other]],
            )
        return defaults if broken else HarborLimits(**values)

    def uid(self, kind: str, key: str, explicit: str | None = None) -> str:
        if explicit is not None:
            return str(uuid.UUID(explicit))
        return str(uuid.uuid5(self.namespace, f"{kind}/{key}"))

    def unique(self, table: str, items: list[tuple[int, dict[str, Any]]]) -> None:
        seen: dict[str, int] = {}
        for index, entry in items:
            key = entry["id"]
            if key in seen:
                self.findings.problem(
                    f"{table}[{index}]", "id", f"'{key}' is already the id of {table}[{seen[key]}]"
                )
            seen.setdefault(key, index)

    def stations(self) -> tuple[Station, ...]:
        items = self.identified(self.doc, "stations", "(top level)", "station")
        self.unique("stations", items)
        result = []
        for index, entry in items:
            table = f"stations[{index}]"
            key = entry["id"]
            if "mounts" in entry:
                mounts_doc = self.identified(entry, "mounts", table, "mount")
            else:
                mounts_doc = [(0, {"id": "main"})]
                if (table, "mounts") in self.findings.refused:
                    self.unsure.add("mount")
            self.unique(f"{table}.mounts", mounts_doc)
            mounts = tuple(
                Mount(
                    m["id"],
                    self.uid("mount", f"{key}/{m['id']}", m.get("uuid")),
                    m.get("path", f"/{key}/{m['id']}"),
                )
                for _, m in mounts_doc
            )
            crossfade = self.duration(table, "crossfade", entry.get("crossfade"), 0)
            result.append(
                Station(
                    key=key,
                    id=self.uid("station", key, entry.get("uuid")),
                    name=entry.get("name", ""),
                    mounts=mounts,
                    crossfade_ms=crossfade,
                    health_interval_ms=self.duration(
                        table, "health_interval", entry.get("health_interval"), 60_000
                    ),
                )
            )
        return tuple(result)

    def tracks(self) -> dict[str, Track]:
        library = self.doc.get("library", {})
        explicit = self.identified(library, "tracks", "library", "media")
        if ("(top level)", "library") in self.findings.refused:
            self.unsure.add("media")
        self.unique("library.tracks", explicit)
        tracks: dict[str, Track] = {}
        explicit_index = {entry["id"]: index for index, entry in reversed(explicit)}
        for index, entry in explicit:
            # A refused duration is reported; the track stays (as long as a track may be, so that it
            # shortens nothing), and what refers to it is no cascade.
            duration = self.duration(f"library.tracks[{index}]", "duration", entry.get("duration"), DAY_MS)
            tracks[entry["id"]] = Track(
                key=entry["id"],
                id=self.uid("media", entry["id"], entry.get("uuid")),
                title=entry.get("title", ""),
                artist=entry.get("artist", ""),
                album=entry.get("album", ""),
                duration_ms=duration,
                rotation=entry.get("rotation", True),
            )
        for generated in generate_catalog(library.get("generate", 0), random.Random(f"{self.seed}/library")):
            key = str(generated["key"])
            if key in tracks:
                self.findings.problem(
                    f"library.tracks[{explicit_index[key]}]",
                    "id",
                    f"'{key}' clashes with a generated track's id; pick another",
                )
                continue
            tracks[key] = Track(
                key=key,
                id=self.uid("media", key),
                title=str(generated["title"]),
                artist=str(generated["artist"]),
                album=str(generated["album"]),
                duration_ms=int(generated["duration_ms"]),  # type: ignore[call-overload]
            )
        if not any(t.rotation for t in tracks.values()) and not self.findings.refused_within("library"):
            self.findings.problem(
                "library", None, "no track is available for rotation: add [[library.tracks]] or set generate"
            )
        return tracks

    def playlists(self, tracks: dict[str, Track]) -> dict[str, Playlist]:
        items = self.identified(self.doc, "playlists", "(top level)", "playlist")
        self.unique("playlists", items)
        pool = [key for key, track in tracks.items() if track.rotation]
        result = {}
        for index, entry in items:
            table = f"playlists[{index}]"
            chosen = list(entry.get("tracks", []))
            for position, key in enumerate(chosen):
                if key is not None and key not in tracks and "media" not in self.unsure:
                    self.findings.problem(
                        table,
                        f"tracks[{position}]",
                        f"no track has the id '{key}'{self.findings.suggest(key, tracks)}",
                    )
            pick = entry.get("pick", 0)
            if pick > len(pool):
                self.findings.problem(
                    table, "pick", f"asks for {pick} tracks but the rotation pool has {len(pool)}"
                )
            elif pick:
                rng = random.Random(f"{self.seed}/playlist/{entry['id']}")
                chosen += rng.sample(pool, pick)
            if not chosen and not pick:
                self.findings.problem(
                    table, "tracks", "a playlist needs tracks (list them, or set pick)", about=["pick"]
                )
            result[entry["id"]] = Playlist(
                key=entry["id"],
                id=self.uid("playlist", entry["id"], entry.get("uuid")),
                name=entry.get("name", entry["id"]),
                tracks=tuple(chosen),
                shuffle=entry.get("shuffle", False),
            )
        return result

    def djs(self) -> dict[str, Dj]:
        items = self.identified(self.doc, "djs", "(top level)", "dj")
        self.unique("djs", items)
        return {
            e["id"]: Dj(
                e["id"], self.uid("user", e["id"], e.get("uuid")), e.get("username", ""), e.get("password")
            )
            for _, e in items
        }

    def webstreams(self) -> dict[str, Webstream]:
        items = self.identified(self.doc, "webstreams", "(top level)", "webstream")
        self.unique("webstreams", items)
        result = {}
        defaults = ProbeSettings()
        for index, entry in items:
            table = f"webstreams[{index}]"
            urls = [url for url in entry.get("urls", []) if url is not None]
            if len(set(urls)) != len(urls):
                self.findings.problem(table, "urls", "lists the same URL twice")

            def setting(key: str, default: int, table: str = table, entry: dict[str, Any] = entry) -> int:
                return self.duration(table, key, entry.get(key), default)

            probe = ProbeSettings(
                kind=entry.get("probe", "scripted"),
                interval_ms=setting("interval", defaults.interval_ms),
                connect_timeout_ms=setting("connect_timeout", defaults.connect_timeout_ms),
                sample_window_ms=setting("sample_window", defaults.sample_window_ms),
                min_bytes=entry.get("min_bytes", defaults.min_bytes),
                stall_timeout_ms=setting("stall_timeout", defaults.stall_timeout_ms),
                failure_threshold=entry.get("failure_threshold", defaults.failure_threshold),
                grace_ms=setting("grace", defaults.grace_ms),
                recovery_checks=entry.get("recovery_checks", defaults.recovery_checks),
            )
            result[entry["id"]] = Webstream(
                key=entry["id"],
                id=self.uid("webstream", entry["id"], entry.get("uuid")),
                name=entry.get("name", ""),
                urls=tuple(entry.get("urls", [])),
                probe=probe,
            )
        return result
