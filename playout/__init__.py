"""grimnir-sim's station: a pure playout core and its trio runner (no web imports).

``server`` imports only what is exported here, and the test station from :mod:`playout.testing`
(which this package does not import: a station that only serves has no use for it).
"""

from .drivers.cli import (
    UsageError,
    add_command,
    add_profile_option,
    add_profile_options,
    catalog_of,
    first_leaf,
    read_recording_file,
    resolve_scenario,
    run_virtual,
    translator_for,
)
from .drivers.harbor import Harbor, HarborCounters
from .drivers.runner import StationRunner
from .profiles import (
    ALL_EVENT_TYPES,
    DOCUMENTED,
    GRIMNIR,
    HEALTH_TICK_MS,
    NO_CLOSE_FRAME,
    PROFILES,
    Profile,
    StreamRules,
    Translator,
)
from .profiles.grimnir_schemas import SHAPES as GRIMNIR_SHAPES
from .protocol import events, inputs, recording, wire
from .protocol.events import EVENT_CLASSES, EVENT_TYPES, Event
from .protocol.schemas import MessageShape, envelope_schema, messages_schema, payload_schema
from .protocol.stationtime import DURATION_HINT, format_duration, parse_duration
from .scenario.actions import TIMELINE_ACTIONS
from .scenario.catalog import Catalog, UnknownScenario, find_catalog, load_catalog
from .scenario.loader import load_scenario, parse_scenario
from .scenario.model import Scenario
from .scenario.problems import Problem, ScenarioError
from .scenario.schema import MAX_SPEED, MIN_SPEED
from .station.announce import override_transition
from .station.core import Playout
from .station.ladder import SourceKind, SourceState
from .station.outcomes import Emitted, InputRejected, Notice
from .station.placement import CLOCKS, FROM_HINT, EntryPoint, Placement, parse_entry_point, place
from .station.views import (
    DjView,
    MountView,
    NowPlaying,
    ScheduleEntryView,
    SourceView,
    StationSnapshot,
    StationView,
    UrlView,
    WebstreamView,
)

__all__ = [
    "ALL_EVENT_TYPES",
    "CLOCKS",
    "DOCUMENTED",
    "DURATION_HINT",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "FROM_HINT",
    "GRIMNIR",
    "GRIMNIR_SHAPES",
    "HEALTH_TICK_MS",
    "MAX_SPEED",
    "MIN_SPEED",
    "NO_CLOSE_FRAME",
    "PROFILES",
    "TIMELINE_ACTIONS",
    "Catalog",
    "DjView",
    "Emitted",
    "EntryPoint",
    "Event",
    "Harbor",
    "HarborCounters",
    "InputRejected",
    "MessageShape",
    "MountView",
    "Notice",
    "NowPlaying",
    "Placement",
    "Playout",
    "Problem",
    "Profile",
    "Scenario",
    "ScenarioError",
    "ScheduleEntryView",
    "SourceKind",
    "SourceState",
    "SourceView",
    "StationRunner",
    "StationSnapshot",
    "StationView",
    "StreamRules",
    "Translator",
    "UnknownScenario",
    "UrlView",
    "UsageError",
    "WebstreamView",
    "add_command",
    "add_profile_option",
    "add_profile_options",
    "catalog_of",
    "envelope_schema",
    "events",
    "find_catalog",
    "first_leaf",
    "format_duration",
    "inputs",
    "load_catalog",
    "load_scenario",
    "messages_schema",
    "override_transition",
    "parse_duration",
    "parse_entry_point",
    "parse_scenario",
    "payload_schema",
    "place",
    "read_recording_file",
    "recording",
    "resolve_scenario",
    "run_virtual",
    "translator_for",
    "wire",
]
