"""Mutation testing of the station's decision modules: fails on a surviving mutant nobody listed.

Runs mutmut 3 as ``[tool.mutmut]`` in pyproject.toml configures it (the ladder, webstream
health and schedule modules, against their fast unit tests) in a fresh ``mutants/``
folder, then compares the mutants the tests did not catch with those listed in each
module's test module, ``SURVIVING_MUTANTS`` (see :data:`LISTS`): mutated line → the
reason no test can catch it. A mutant is named there by its function and its mutated
line, as ``mutmut show`` prints it, e.g. ``"WebstreamHealth.needs_checks: health.failures > 1"``.

Exits 1 when a mutant is not caught and not listed, or when a listed one is caught now
(the list must stay true). From the checkout: ``python -m tests.mutation_check``
(a few minutes); afterwards ``mutmut results`` and ``mutmut show NAME`` read ``mutants/``.
"""

import importlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LISTS = {
    "playout.station.ladder": "tests.test_priority_rules",
    "playout.station.webstreams": "tests.test_webstreams",
    "playout.station.schedule": "tests.test_schedule",
}
"""Each mutated module, and the test module that lists its surviving mutants."""

CAUGHT = {"killed", "timeout", "segfault", "caught by type check"}
"""Verdicts that mean the tests noticed (a hard timeout ends in SIGKILL, which mutmut calls a segfault)."""

# mutmut 3 names a mutant after its function: ``pkg.module.x_function__mutmut_3`` or
# ``pkg.module.xǁClassǁmethod__mutmut_3``.
_NAME = re.compile(r"(?P<module>[\w.]+?)\.x(?:_|ǁ(?P<cls>\w+)ǁ)(?P<function>\w+?)__mutmut_\d+")
_RESULT = re.compile(r"\s*(?P<name>\S+): (?P<status>.+)")


def mutmut(*args: str) -> str:
    """Run a mutmut command in the checkout; its output, or exit 1 with it when the command fails."""
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"mutmut {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def not_caught() -> dict[str, str]:
    """Every mutant whose verdict is not in :data:`CAUGHT`, with its verdict."""
    found = {}
    for line in mutmut("results").splitlines():
        result = _RESULT.fullmatch(line)
        if result and result["status"] not in CAUGHT:
            found[result["name"]] = result["status"]
    return found


def key(name: str) -> tuple[str, str]:
    """The mutated module and ``"function: mutated line"`` of a mutant, as the lists name it."""
    parsed = _NAME.fullmatch(name)
    if parsed is None:
        sys.exit(f"not a mutmut 3 mutant name: {name}")
    function = f"{parsed['cls']}.{parsed['function']}" if parsed["cls"] else parsed["function"]
    diff = mutmut("show", name).splitlines()
    added = [line[1:].strip() for line in diff if line.startswith("+") and not line.startswith("+++")]
    removed = [line[1:].strip() for line in diff if line.startswith("-") and not line.startswith("---")]
    change = " / ".join(added) if added else "removed " + " / ".join(removed)
    return parsed["module"], f"{function}: {change}"


def main() -> int:
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # a fresh run: no verdict kept from older code
    started = time.monotonic()
    output = mutmut("run")
    progress = [part for part in re.split(r"[\r\n]", output) if "🎉" in part]
    print(f"mutmut run: {progress[-1].strip() if progress else output.strip()[-300:]}")
    print(f"  ({time.monotonic() - started:.0f} s; 🎉 killed, 🙁 survived, 🫥 no tests, ⏰ timeout)")

    listed = {module: importlib.import_module(tests).SURVIVING_MUTANTS for module, tests in LISTS.items()}
    seen: set[tuple[str, str]] = set()
    unlisted = 0
    for name, status in sorted(not_caught().items()):
        module, change = key(name)
        if change in listed.get(module, {}):
            seen.add((module, change))
            print(f"  listed survivor ({status}): {name}: {change}")
            continue
        unlisted += 1
        where = f"{LISTS[module]}.SURVIVING_MUTANTS" if module in LISTS else f"LISTS (no list for {module})"
        print(f"\n{status}: {name}\n{mutmut('show', name)}")
        print(f"Catch it with a test, or, if no test can, list it in {where}:")
        print(f'    {change!r}: "why no test can catch it",')
    stale = [(m, change) for m, changes in listed.items() for change in changes if (m, change) not in seen]
    for module, change in stale:
        print(f"\nlisted in {LISTS[module]}.SURVIVING_MUTANTS but caught now (or gone): {change!r}")
    if unlisted or stale:
        print(f"\nmutation check failed: {unlisted} unlisted survivors, {len(stale)} listed but caught")
        return 1
    print("mutation check passed: every mutant is caught or listed with its reason")
    return 0


if __name__ == "__main__":
    sys.exit(main())
