"""docs/asyncapi.yaml: generated from the event classes, current, and a valid AsyncAPI 3.0 document."""

import json
import os
from pathlib import Path

import jsonschema
import yaml

from playout import EVENT_TYPES
from playout.drivers.cli import main
from server.contract import asyncapi_yaml
from tests.support import CONTRACT, ROOT, shipped

SPECS = Path(
    os.environ.get("GRIMNIR_ASYNCAPI_SPECS", ROOT / ".ci" / ".cache" / "node_modules" / "@asyncapi" / "specs")
)


def test_the_contract_file_is_current():
    generated = asyncapi_yaml(shipped("community-week"))
    assert (ROOT / "docs" / "asyncapi.yaml").read_text() == generated, (
        "run: grimnir-sim schema > docs/asyncapi.yaml"
    )


def test_the_contract_is_a_valid_asyncapi_3_document():
    schema_file = SPECS / "schemas" / "3.0.0.json"
    assert schema_file.exists(), (
        f"the official AsyncAPI schema is installed by .ci/run (npm @asyncapi/specs): {schema_file}"
    )
    official = json.loads(schema_file.read_text())
    jsonschema.Draft7Validator(official).validate(CONTRACT)


def test_the_contract_covers_every_type_with_an_example_that_fits():
    messages = CONTRACT["components"]["messages"]
    assert {m["name"] for m in messages.values()} == {*EVENT_TYPES, "ping"}
    for message in messages.values():
        (example,) = message["examples"]
        jsonschema.Draft7Validator(message["payload"]).validate(example["payload"])
    binding = CONTRACT["channels"]["events"]["bindings"]["ws"]
    assert CONTRACT["channels"]["events"]["address"] == "/api/v1/events"
    assert set(binding["query"]["properties"]) == {"types", "token"}
    assert set(CONTRACT["components"]["securitySchemes"]) == {"bearer", "queryToken"}


def test_schema_command_prints_the_contract(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["schema"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == CONTRACT
    assert main(["schema", "asyncapi"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == CONTRACT
