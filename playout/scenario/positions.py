"""Where a problem is in the TOML text: the line and column of the key, item or table it names.

``tomllib`` gives values without positions, and so do the other TOML libraries at hand
(tomlkit keeps the text's formatting, but a position only for a syntax error), so this
module scans the text once more. It reads only text ``tomllib`` has parsed, so it can
take TOML's grammar as given; it runs only when a file has problems.
"""

import bisect
import re
import tomllib
from collections.abc import Iterable

import attrs

from .problems import Problem

Path = tuple[str | int, ...]
"""A value's place in the document: table names, keys and list indexes (``("stations", 0, "name")``)."""

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]*")
_BARE_PAIR = re.compile(r"([A-Za-z0-9_-]+)[ \t]*=[ \t]*")  # most lines: one bare key, then its value
_STRING = re.compile(
    r'"""(?:\\.|[^\\])*?"{3,5}'  # a multi-line basic string
    r"|'''.*?'{3,5}"  # a multi-line literal string
    r'|"(?:\\.|[^"\\\n])*"'  # a basic string
    r"|'[^'\n]*'",  # a literal string
    re.DOTALL,
)
_SCALAR = re.compile(r"[^,\]}\n#]*")  # a number, boolean or date-time: up to what ends a value
_BLANK = re.compile(r"(?:\s|#[^\n]*)*")  # spaces, newlines and comments
_SPACE = re.compile(r"[ \t]*")
_PLACE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ITEM = re.compile(r"(.+)\[(\d+)\]")


def located(text: str, problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` with the line and column of each one's place in ``text``, where it has one.

    A problem is placed at its key, else at the nearest table around it that the text
    spells (a missing key at its table's header); one about the whole file has none.
    """
    problems = list(problems)
    if all(p.line is not None for p in problems):
        return problems
    found = places(text)
    result = []
    for problem in problems:
        if problem.line is None:
            path = _path_of(problem.table, problem.key)
            while path and path not in found:
                path = path[:-1]
            if path:
                line, column = found[path]
                problem = attrs.evolve(problem, line=line, column=column)
        result.append(problem)
    return result


def places(text: str) -> dict[Path, tuple[int, int]]:
    """The line and column (1-based) of every table, key and list item of a TOML text ``tomllib`` parsed."""
    return _Scanner(text).places()


def _path_of(table: str, key: str | None) -> Path:
    """The place a problem names, back from its words: ``stations[0].mounts[1]``, key ``path``."""
    path: list[str | int] = []
    if table not in ("", "(top level)"):
        for name, index in _PLACE.findall(table):
            path.append(int(index) if index else name)
    if key is not None:
        item = _ITEM.fullmatch(key)
        path += [item.group(1), int(item.group(2))] if item else [key]
    return tuple(path)


class _Scanner:
    """Reads a parsed TOML text for the position of each table header, key and list item."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.found: dict[Path, tuple[int, int]] = {}
        self.tables: dict[Path, int] = {}  # arrays of tables ([[x]]) and how many entries they have so far
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def places(self) -> dict[Path, tuple[int, int]]:
        table: Path = ()
        while True:
            self.skip(_BLANK)
            if self.at >= len(self.text):
                return self.found
            if self.text.startswith("[", self.at):
                table = self.header()
            else:
                self.pair(table)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def mark(self, path: Path, offset: int) -> None:
        """``path`` is at ``offset``, and so are the tables it implies that no earlier line spelled."""
        where = self.position(offset)
        for length in range(1, len(path) + 1):
            self.found.setdefault(path[:length], where)

    def skip(self, pattern: re.Pattern[str]) -> str:
        """What ``pattern`` matches at the scanner's place (each one here may match nothing), read."""
        match = pattern.match(self.text, self.at)
        if match is None:
            return ""
        self.at = match.end()
        return match.group()

    def header(self) -> Path:
        """A ``[table]`` or ``[[array.of.tables]]`` header: the path of the table it opens."""
        start = self.at
        many = self.text.startswith("[[", start)
        self.at += 2 if many else 1
        keys = self.keys()
        self.at += 2 if many else 1
        path: Path = ()
        for position, key in enumerate(keys):
            path = (*path, key)
            if path in self.tables and (position < len(keys) - 1 or not many):
                path = (*path, self.tables[path] - 1)  # within the latest entry of that array
        if many:
            count = self.tables.get(path, 0)
            self.tables[path] = count + 1
            path = (*path, count)
        self.mark(path, start)
        return path

    def keys(self) -> list[str]:
        """A dotted key (``a."b c".d``), each part as the parser reads it."""
        keys = []
        while True:
            self.skip(_SPACE)
            quoted = _STRING.match(self.text, self.at)
            if quoted:
                self.at = quoted.end()
                keys.append(
                    tomllib.loads(f"k = {quoted.group()}")["k"]
                )  # its escapes, as the parser reads them
            else:
                keys.append(self.skip(_BARE_KEY))
            self.skip(_SPACE)
            if not self.text.startswith(".", self.at):
                return keys
            self.at += 1

    def pair(self, table: Path) -> None:
        """``key = value``, in a table or an inline table."""
        start = self.at
        simple = _BARE_PAIR.match(self.text, start)
        if simple:
            path = (*table, simple.group(1))
            self.at = simple.end()
        else:
            path = (*table, *self.keys())
            self.at += 1  # the '='
            self.skip(_SPACE)
        self.mark(path, start)
        self.value(path)

    def value(self, path: Path) -> None:
        text = self.text
        if text.startswith("[", self.at):
            self.at += 1
            index = 0
            while True:
                self.skip(_BLANK)
                if text.startswith("]", self.at):
                    self.at += 1
                    return
                self.mark((*path, index), self.at)
                self.value((*path, index))
                self.skip(_BLANK)
                if text.startswith(",", self.at):
                    self.at += 1
                index += 1
        elif text.startswith("{", self.at):
            self.at += 1
            while True:
                self.skip(_BLANK)
                if text.startswith("}", self.at):
                    self.at += 1
                    return
                self.pair(path)
                self.skip(_BLANK)
                if text.startswith(",", self.at):
                    self.at += 1
        else:
            string = _STRING.match(text, self.at)
            if string:
                self.at = string.end()
            else:
                self.skip(_SCALAR)
