"""``scenarios.toml``: the default scenario, server defaults and the named scenarios."""

import os
from pathlib import Path
from typing import Any

import attrs
import jsonschema

from .scenario import Problem, ScenarioError, read_text, read_toml

CATALOG_FILE = "scenarios.toml"
CATALOG_ENV = "GRIMNIR_SIM_CATALOG"
MAX_SCENARIOS = 1_000

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["catalog", "scenarios"],
    "properties": {
        "catalog": {
            "type": "object",
            "additionalProperties": False,
            "required": ["default"],
            "properties": {"default": {"type": "string"}},
        },
        "server": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "host": {"type": "string"},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
            },
        },
        "scenarios": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": MAX_SCENARIOS,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["file", "description"],
                "properties": {"file": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
}


@attrs.frozen
class CatalogEntry:
    name: str
    path: Path
    description: str


@attrs.frozen
class Catalog:
    path: Path
    default: str
    entries: dict[str, CatalogEntry]
    server: dict[str, Any]

    def resolve(self, name_or_path: str) -> Path:
        """A catalog name (``default`` means the catalog's default) or a file path."""
        name = self.default if name_or_path == "default" else name_or_path
        if name in self.entries:
            return self.entries[name].path
        candidate = Path(name_or_path)
        if candidate.suffix == ".toml" or candidate.exists():
            return candidate
        known = ", ".join(sorted(self.entries))
        raise ScenarioError(
            [
                Problem(
                    str(self.path), "scenarios", None, f"no scenario named '{name_or_path}' (known: {known})"
                )
            ]
        )


def find_catalog(explicit: str | None = None) -> Path | None:
    """``--catalog``, else ``$GRIMNIR_SIM_CATALOG``, else ./scenarios.toml, else the project's own."""
    for candidate in (explicit, os.environ.get(CATALOG_ENV)):
        if candidate:
            return Path(candidate)
    here = Path.cwd() / CATALOG_FILE
    if here.exists():
        return here
    project = Path(__file__).resolve().parent.parent / CATALOG_FILE
    return project if project.exists() else None


def load_catalog(path: Path) -> Catalog:
    """Read and check a catalog; its size and nesting have a scenario file's limits."""
    file = str(path)
    try:
        text = read_text(path)
    except ScenarioError as exc:
        problem = exc.problems[0]
        message = problem.message.replace("cannot read the file", "cannot read the catalog")
        raise ScenarioError([attrs.evolve(problem, message=message)]) from None
    document = read_toml(text, file)
    problems = []
    for error in jsonschema.Draft202012Validator(_SCHEMA).iter_errors(document):
        table = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(Problem(file, table, None, error.message))
    if problems:
        raise ScenarioError(problems)
    entries = {
        name: CatalogEntry(name, (path.parent / spec["file"]), spec["description"])
        for name, spec in document["scenarios"].items()
    }
    default = document["catalog"]["default"]
    if default not in entries:
        raise ScenarioError([Problem(file, "catalog", "default", f"'{default}' is not in [scenarios]")])
    return Catalog(path, default, entries, document.get("server", {}))
