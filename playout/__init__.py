"""grimnir-sim's station: a pure playout core and its trio runner (no web imports).

``server`` imports only what is exported here.
"""

from . import events, inputs, wire
from .catalog import Catalog, UnknownScenario, find_catalog, load_catalog
from .core import Emitted, InputRejected, Notice, Playout
from .events import EVENT_CLASSES, EVENT_TYPES, Event
from .placement import CLOCKS, FROM_HINT, EntryPoint, Placement, parse_entry_point, place
from .runner import StationRunner
from .scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario
from .scenario_schema import MAX_SPEED, MIN_SPEED
from .schemas import envelope_schema, messages_schema, payload_schema
from .stationtime import format_duration, parse_duration

__all__ = [
    "CLOCKS",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "FROM_HINT",
    "MAX_SPEED",
    "MIN_SPEED",
    "Catalog",
    "Emitted",
    "EntryPoint",
    "Event",
    "InputRejected",
    "Notice",
    "Placement",
    "Playout",
    "Problem",
    "Scenario",
    "ScenarioError",
    "StationRunner",
    "UnknownScenario",
    "envelope_schema",
    "events",
    "find_catalog",
    "format_duration",
    "inputs",
    "load_catalog",
    "load_scenario",
    "messages_schema",
    "parse_duration",
    "parse_entry_point",
    "parse_scenario",
    "payload_schema",
    "place",
    "wire",
]
