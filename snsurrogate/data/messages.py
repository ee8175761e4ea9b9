"""Small helpers that word the located messages of :mod:`snsurrogate.data`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def names(items: Sequence[str]) -> str:
    """``'a', 'b'``: the names quoted and comma-separated."""
    return ", ".join(repr(n) for n in items)


def plural(n: int, word: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def is_number(text: str) -> bool:
    """Whether ``float(text)`` succeeds."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def line_ranges(lines: np.ndarray, limit: int = 8) -> str:
    """``'3-7, 12, 20-25'`` for sorted line (or row) numbers; consecutive numbers form one range."""
    if lines.size == 0:
        return ""
    groups: list[tuple[int, int]] = []
    start = prev = int(lines[0])
    for v in lines[1:]:
        v = int(v)
        if v != prev + 1:
            groups.append((start, prev))
            start = v
        prev = v
    groups.append((start, prev))
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in groups[:limit]]
    if len(groups) > limit:
        parts.append(f"... ({len(groups) - limit} more ranges)")
    return ", ".join(parts)


def fmt_row(values: np.ndarray, columns: Sequence[str]) -> str:
    """``strain = 0.01`` or ``(exx, eyy, gxy) = (0.01, 0, 0.002)``."""
    if len(columns) == 1:
        return f"{columns[0]} = {values[0]:g}"
    return f"({', '.join(columns)}) = ({', '.join(f'{v:g}' for v in values)})"
