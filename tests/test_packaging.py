"""What a plain install brings: every third-party module the product imports is a declared dependency,
and the ``testing`` extra brings what docs/testing.md's examples import."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.docs_support import blocks
from tests.support import ROOT

# Modules imported only where their presence is implied: the pytest plugin is loaded by pytest itself,
# and its shared servers (server/shared.py) are the plugin's alone (the test below holds that).
_IMPLIED = {("server/pytest_plugin.py", "pytest"), ("server/shared.py", "pytest")}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_runtime_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalized(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["dependencies"]}


def _top_level_imports(path) -> set[str]:
    return _top_level_imports_of(path.read_text(), str(path))


def _top_level_imports_of(source: str, name: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source, name)):
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


def test_the_plugins_own_modules_are_imported_by_the_plugin_alone():
    """What may import pytest (``_IMPLIED``) is loaded only under pytest: no other module imports it."""
    plugin_only = {path.removesuffix(".py").replace("/", ".") for path, _ in _IMPLIED} - {
        "server.pytest_plugin"
    }
    importers = []
    for path in sorted([*(ROOT / "playout").rglob("*.py"), *(ROOT / "server").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "server/pytest_plugin.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.ImportFrom):
                base = relative.removesuffix(".py").replace("/", ".").rsplit(".", node.level)[0]
                module = f"{base}.{node.module}" if node.level else node.module
                names = [module or base] + [f"{module or base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            importers += [f"{relative} imports {name}" for name in names if name in plugin_only]
    assert plugin_only and importers == []


def test_the_testing_extra_brings_what_the_examples_of_docs_testing_md_import():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"]["testing"]
    testing = {_normalized(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in extra}
    assert "pytest-trio" in testing  # what runs the examples' async tests (trio_mode)
    available = _declared_runtime_distributions() | testing
    providers = packages_distributions()
    missing = []
    for block in blocks(ROOT / "docs" / "testing.md"):
        if block.info != "python":
            continue
        for module in sorted(_top_level_imports_of(block.content, f"docs/testing.md:{block.line}")):
            if module in {"playout", "server"} or module in sys.stdlib_module_names:
                continue
            distributions = {_normalized(d) for d in providers.get(module, [module])}
            if not distributions & available:
                missing.append(f"docs/testing.md:{block.line} imports {module} ({', '.join(distributions)})")
    assert missing == [], "not in the testing extra:\n" + "\n".join(missing)
