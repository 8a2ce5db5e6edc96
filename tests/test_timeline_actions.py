"""Every timeline action is one declaration that the schema, the builder and the control bodies share.

A new action in :data:`playout.TIMELINE_ACTIONS` must show up in the scenario's JSON Schema,
load from a scenario file, and either feed a control endpoint's body or be listed below with
the reason its endpoint shares nothing.
"""

from playout import TIMELINE_ACTIONS, inputs, parse_scenario
from playout.scenario.schema import DOCUMENT_SCHEMA, TIMELINE_ENTRY_COMMON, timeline_action_schema
from server import api

CONTROL_BODIES = {
    # action: (endpoint, {body field: the action's key it is declared by}, whether `required` is shared)
    "dj_connect": (api.DJ_CONNECT, {"transition": "transition", "priority": "priority"}, True),
    "dj_disconnect": (api.DJ_DISCONNECT, {}, True),
    "override": (api.START_OVERRIDE, {"transition_type": "transition"}, False),
    "webstream_outage": (api.WEBSTREAM_URL, {"reason": "reason"}, False),
}
NO_SHARED_BODY = {
    "webstream_restore": "/urls/{index}/up shares down's body; up has nothing to say",
    "webstream_failover": "the webstream is in the path; no body",
    "webstream_reset": "the webstream is in the path; no body",
    "emergency": "station, media and mount by UUID or key (*_id), and the station required",
    "release": "the source is in the path, by any of its ids; the body names only the station",
    "skip": "station_id and mount_id, by UUID or key, where the timeline has a station's key",
}

EVERY_ACTION = """\
[scenario]
name = "every-action"
start = "2026-01-19T00:00:00Z"

[[stations]]
id = "main"
name = "Test Radio"

[[library.tracks]]
id = "alert"
title = "Alert"
duration = "1m"

[[djs]]
id = "mike"
username = "dj_mike"

[[webstreams]]
id = "relay"
name = "Relay"
urls = ["http://primary.example/stream", "http://backup.example/stream"]

[[timeline]]
at = "+1m"
action = "dj_connect"
dj = "mike"

[[timeline]]
at = "+2m"
action = "dj_disconnect"
dj = "mike"

[[timeline]]
at = "+3m"
action = "webstream_outage"
webstream = "relay"
url = 0
duration = "1m"

[[timeline]]
at = "+5m"
action = "webstream_restore"
webstream = "relay"
url = "http://primary.example/stream"

[[timeline]]
at = "+6m"
action = "webstream_failover"
webstream = "relay"

[[timeline]]
at = "+7m"
action = "webstream_reset"
webstream = "relay"

[[timeline]]
at = "+8m"
action = "emergency"
media = "alert"

[[timeline]]
at = "+9m"
action = "override"
name = "relay-now"
webstream = "relay"

[[timeline]]
at = "+10m"
action = "release"
override = "relay-now"

[[timeline]]
at = "+11m"
action = "skip"
"""


def test_every_action_has_its_branch_in_the_scenario_schema():
    branches = DOCUMENT_SCHEMA["properties"]["timeline"]["items"]["allOf"]
    by_action = {branch["if"]["properties"]["action"]["const"]: branch["then"] for branch in branches}
    assert list(by_action) == list(TIMELINE_ACTIONS)
    assert TIMELINE_ENTRY_COMMON["properties"]["action"]["enum"] == list(TIMELINE_ACTIONS)
    for name, action in TIMELINE_ACTIONS.items():
        branch = by_action[name]
        assert branch == timeline_action_schema(name)
        assert {key: branch["properties"][key] for key in action.properties} == action.properties
        assert branch["required"] == ["at", "action", *action.required]
        assert set(action.defaults) <= set(action.properties) - set(action.required)


def test_a_scenario_with_every_action_loads_into_its_inputs():
    scenario = parse_scenario(EVERY_ACTION)
    made = [(happening.index, type(happening.input)) for happening in scenario.timeline]
    assert made == [
        (0, inputs.ConnectDj),
        (1, inputs.DisconnectDj),
        (2, inputs.UrlDown),
        (2, inputs.UrlUp),
        (3, inputs.UrlUp),
        (4, inputs.ForceFailover),
        (5, inputs.ResetWebstream),
        (6, inputs.InsertEmergency),
        (7, inputs.StartOverride),
        (8, inputs.Release),
        (9, inputs.Skip),
    ]
    # What an entry leaves out is the action's default.
    assert [scenario.timeline[0].input.transition, scenario.timeline[8].input.transition] == [
        TIMELINE_ACTIONS["dj_connect"].defaults["transition"],
        TIMELINE_ACTIONS["override"].defaults["transition"],
    ]
    assert scenario.timeline[2].input.reason == TIMELINE_ACTIONS["webstream_outage"].defaults["reason"]


def test_every_action_feeds_a_control_body_or_says_why_not():
    assert set(CONTROL_BODIES) | set(NO_SHARED_BODY) == set(TIMELINE_ACTIONS)
    assert not set(CONTROL_BODIES) & set(NO_SHARED_BODY)
    for name, (endpoint, shared, same_required) in CONTROL_BODIES.items():
        action = TIMELINE_ACTIONS[name]
        assert endpoint.body is not None
        for field, key in shared.items():
            assert endpoint.body.properties[field] == action.option(key)
        if same_required:
            assert endpoint.body.required == action.required


def test_a_control_body_documents_the_default_the_timeline_applies():
    connect = TIMELINE_ACTIONS["dj_connect"]
    assert connect.option("transition") == {**connect.properties["transition"], "default": "faded"}
    assert connect.option("priority") == connect.properties["priority"]  # no default: none is documented
    assert "default" not in connect.properties["transition"]  # the scenario's schema stays without one
