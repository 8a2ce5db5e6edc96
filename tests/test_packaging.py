"""What a plain install brings: every third-party module the product imports is a declared dependency,
and the ``testing`` extra brings what docs/testing.md's examples import."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.docs_support import blocks
from tests.support import ROOT

# Modules imported only where their presence is implied: the pytest plugin is loaded by pytest itself.
_IMPLIED = {("server/pytest_plugin.py", "pytest")}


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
