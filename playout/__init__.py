"""grimnir-sim's station: a pure playout core and its trio runner (no web imports).

``server`` imports only what is exported here.
"""

from . import events, inputs, wire
from .catalog import Catalog, UnknownScenario, find_catalog, load_catalog
from .core import Emitted, InputRejected, Notice, Playout
from .events import EVENT_CLASSES, EVENT_TYPES, Event
from .runner import StationRunner
from .scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario
from .schemas import all_message_schemas, message_schema, payload_schema
from .stationtime import format_duration, parse_duration

__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "Catalog",
    "Emitted",
    "Event",
    "InputRejected",
    "Notice",
    "Playout",
    "Problem",
    "Scenario",
    "ScenarioError",
    "StationRunner",
    "UnknownScenario",
    "all_message_schemas",
    "events",
    "find_catalog",
    "format_duration",
    "inputs",
    "load_catalog",
    "load_scenario",
    "message_schema",
    "parse_duration",
    "parse_scenario",
    "payload_schema",
    "wire",
]
