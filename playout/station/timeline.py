"""What happens when: a heap of future items with a total, stable order.

Items at the same millisecond run by rank (schedule before slots, slots before
scripted inputs, inputs before probe checks, …) and then in the order they were
pushed, so same-time happenings always resolve the same way.
"""

import heapq
import itertools
from enum import IntEnum
from typing import Any


class Rank(IntEnum):
    REFRESH = 0
    SLOT_END = 1
    SLOT_START = 2
    MEDIA_END = 3
    HAPPENING = 4
    PROBE = 5
    GRACE = 6
    WAKE = 7
    HEALTH = 8


class Timeline:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, Any]] = []
        self._seq = itertools.count()

    def push(self, at_ms: int, rank: Rank, item: Any) -> None:
        heapq.heappush(self._heap, (at_ms, rank, next(self._seq), item))

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int) -> tuple[int, Rank, Any] | None:
        """The earliest item at or before ``now_ms``, or ``None``."""
        if not self._heap or self._heap[0][0] > now_ms:
            return None
        at_ms, rank, _, item = heapq.heappop(self._heap)
        return at_ms, Rank(rank), item

    def __len__(self) -> int:
        return len(self._heap)
