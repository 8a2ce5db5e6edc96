"""What a plain install brings: every third-party module the product imports is a declared dependency."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.support import ROOT

# Modules imported only where their presence is implied: the pytest plugin is loaded by pytest itself.
_IMPLIED = {("server/pytest_plugin.py", "pytest")}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalized(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["dependencies"]}


def _top_level_imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_runtime_import_is_a_declared_dependency():
    declared = _declared_runtime_distributions()
    providers = packages_distributions()
    ours = {"playout", "server"}
    undeclared = []
    for package in sorted(ours):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for module in sorted(_top_level_imports(path)):
                if module in ours or module in sys.stdlib_module_names or (relative, module) in _IMPLIED:
                    continue
                distributions = {_normalized(d) for d in providers.get(module, [module])}
                if not distributions & declared:
                    undeclared.append(f"{relative} imports {module} ({', '.join(sorted(distributions))})")
    assert undeclared == [], "not in [project] dependencies:\n" + "\n".join(undeclared)
