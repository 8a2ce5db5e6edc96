"""docs/fidelity.md keeps its promise: every row of its difference tables names a test, and each
test it names exists (issue 13: "each row linked to a test")."""

import re

from tests.support import ROOT

TABLES = ("Serialization", "Events", "REST", "Stream")


def table_rows(section: str) -> list[list[str]]:
    """The body rows of the first table under ``## section``, as cells."""
    text = (ROOT / "docs" / "fidelity.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in body.splitlines() if line.startswith("|")]
    first_table = []
    for line in lines[2:]:  # after the header and its rule
        first_table.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return first_table


def defined_tests() -> set[str]:
    names = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        names.update(re.findall(r"^\s*(?:async )?def (test_\w+)\(", path.read_text(), re.M))
    return names


def test_every_difference_names_a_test_that_exists():
    known = defined_tests()
    rows = 0
    for section in TABLES:
        previous: list[str] = []
        for cells in table_rows(section):
            rows += 1
            named = re.findall(r"`(test_\w+)`", cells[-1])
            shared = (cells[-1] == "same" and previous) or cells[-1].startswith("every test below")
            assert named or shared, f"{section}: a row names no test: {cells[0]}"
            missing = [name for name in named if name not in known]
            assert not missing, f"{section}: {cells[0]} names tests that do not exist: {missing}"
            previous = named or previous
    assert rows >= 40  # the four tables, whole
