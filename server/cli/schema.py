"""``grimnir-sim schema``: the event stream's contract as AsyncAPI, one JSON Schema, or TypeScript."""

import argparse
import json
import sys

from playout import PROFILES, add_profile_option, catalog_of, resolve_scenario

from ..contract import asyncapi_yaml
from ..contract_grimnir import grimnir_asyncapi_yaml
from ..typescript import typescript_declarations
from . import Handler

CONTRACT_EXAMPLES = "community-week"
"""The scenario whose first event of each kind becomes the contract's example."""

SCHEMA_EXAMPLES = """\
examples:
  grimnir-sim schema > asyncapi.yaml
      asyncapi: the AsyncAPI 3.0 contract of /api/v1/events, as YAML (docs/asyncapi.yaml)
  grimnir-sim schema jsonschema > grimnir-events.schema.json
      jsonschema: one JSON Schema (draft 2020-12) that every message matches: a oneOf over
      each message's envelope, named in $defs, for any generator or validator, e.g.
      npx json-schema-to-typescript grimnir-events.schema.json > grimnir-events.d.ts
  grimnir-sim schema typescript > grimnir-events.ts
      typescript: TypeScript declarations, generated here (no Node.js needed): an interface
      per message and per payload, and the union GrimnirMessage to switch on msg.type
  grimnir-sim schema --profile grimnir > asyncapi-grimnir.yaml
      the same three of the real Grimnir server's wire (docs/asyncapi-grimnir.yaml, docs/fidelity.md);
      its TypeScript union is GrimnirServerMessage
"""
SOURCES = {"documented": "playout/protocol/events.py", "grimnir": "playout/profiles/grimnir_schemas.py"}
"""What each profile's documents are generated from, for their headers."""


def register_schema(commands: argparse._SubParsersAction) -> Handler:
    parser = commands.add_parser(
        "schema",
        help="print the AsyncAPI 3.0 contract, one JSON Schema of every message, or TypeScript types",
        description="Print the event stream's contract in one of three forms, all from the event classes.",
        epilog=SCHEMA_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "kind",
        nargs="?",
        choices=("asyncapi", "jsonschema", "typescript"),
        default="asyncapi",
        help="asyncapi (YAML, the default), jsonschema (JSON) or typescript (see the examples)",
    )
    add_profile_option(parser)
    return cmd_schema


def cmd_schema(args: argparse.Namespace) -> int:
    profile = PROFILES[args.profile]
    if args.kind == "jsonschema":
        sys.stdout.write(json.dumps(profile.messages_schema(), indent=2) + "\n")
    elif args.kind == "typescript":
        command = "grimnir-sim schema typescript" + (
            "" if profile.name == "documented" else f" --profile {profile.name}"
        )
        sys.stdout.write(typescript_declarations(profile.messages_schema(), command, SOURCES[profile.name]))
    elif profile.name == "grimnir":
        catalog = catalog_of(args)
        sys.stdout.write(grimnir_asyncapi_yaml(lambda name: resolve_scenario(name, catalog)))
    else:
        sys.stdout.write(asyncapi_yaml(resolve_scenario(CONTRACT_EXAMPLES, catalog_of(args))))
    return 0
