"""``scenarios.toml``: the default scenario, server defaults and the named scenarios."""

import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import jsonschema

from .loader import read_text, read_toml
from .positions import located
from .problems import Problem, ScenarioError, suggest

CATALOG_FILE = "scenarios.toml"
CATALOG_ENV = "GRIMNIR_SIM_CATALOG"
MAX_SCENARIOS = 1_000
SHIPPED_FOLDER = "shipped"
"""Where a wheel puts the project's scenarios.toml and scenarios/ inside this package (see pyproject.toml)."""

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
        """The scenario file of a catalog name (``default`` is the catalog's default) or of a path.

        What looks like a path (:func:`looks_like_a_path`) is one, found or not, so a
        missing file gets the file's error; so is an existing file that is no catalog
        name. Anything else is a name: an unknown one raises :class:`UnknownScenario`.
        """
        if looks_like_a_path(name_or_path):
            return Path(name_or_path)
        name = self.default if name_or_path == "default" else name_or_path
        if name in self.entries:
            return self.entries[name].path
        if Path(name_or_path).is_file():
            return Path(name_or_path)
        raise UnknownScenario(name_or_path, self.entries)


class UnknownScenario(LookupError):
    """A scenario name the catalog does not have; the message lists the names it has."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        hint = suggest(name, self.known)
        super().__init__(f"no scenario named '{name}'; known: {', '.join(self.known)}{hint}")


def looks_like_a_path(name_or_path: str) -> bool:
    """``*.toml`` or anything with a folder in it names a file, never a catalog entry."""
    return name_or_path.endswith(".toml") or "/" in name_or_path or os.sep in name_or_path


def find_catalog(explicit: str | None = None) -> Path | None:
    """``--catalog``, else ``$GRIMNIR_SIM_CATALOG``, else ./scenarios.toml, else the shipped one."""
    for candidate in (explicit, os.environ.get(CATALOG_ENV)):
        if candidate:
            return Path(candidate)
    here = Path.cwd() / CATALOG_FILE
    if here.exists():
        return here
    return shipped_catalog()


def shipped_catalog() -> Path | None:
    """The project's own catalog: a wheel's package data, else the checkout's (an editable install)."""
    packaged = resources.files("playout") / SHIPPED_FOLDER / CATALOG_FILE
    # Installed packages are plain files; a zip import has no folder to resolve scenario files in.
    if isinstance(packaged, Path) and packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / CATALOG_FILE
    return checkout if checkout.is_file() else None


def load_catalog(path: Path) -> Catalog:
    """Read and check a catalog; its size and nesting have a scenario file's limits, its problems
    a scenario file's lines and columns."""
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
        raise ScenarioError(located(text, problems))
    entries = {
        name: CatalogEntry(name, (path.parent / spec["file"]), spec["description"])
        for name, spec in document["scenarios"].items()
    }
    default = document["catalog"]["default"]
    if default not in entries:
        raise ScenarioError(
            located(text, [Problem(file, "catalog", "default", f"'{default}' is not in [scenarios]")])
        )
    return Catalog(path, default, entries, document.get("server", {}))
