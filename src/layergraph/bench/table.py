"""Plain-text and Markdown tables for benchmark summaries."""

from __future__ import annotations

import math
from typing import Sequence

__all__ = ["format_table", "format_number"]


def format_number(value, digits: int = 4) -> str:
    """Format a cell: ints as is, floats with ``digits`` significant digits, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.{digits}g}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence], fmt: str = "text", digits: int = 4) -> str:
    """Render rows as an aligned text table or a GitHub Markdown table.

    Parameters
    ----------
    headers : sequence of str, length C
    rows : sequence of sequences, each of length C
        Cells are formatted with :func:`format_number`.
    fmt : {"text", "markdown"}
    digits : int
        Significant digits for float cells.

    Returns
    -------
    str
        The table, lines joined by newlines, without a trailing newline.
    """
    if fmt not in ("text", "markdown"):
        raise ValueError(f"format_table: fmt must be 'text' or 'markdown', got {fmt!r}")
    headers = [str(h) for h in headers]
    cells = []
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"format_table: row {i} has {len(row)} cells, expected {len(headers)} (one per header)")
        cells.append([format_number(c, digits) for c in row])
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(headers)]
    numeric = [all(_looks_numeric(r[j]) for r in cells) and bool(cells) for j in range(len(headers))]

    def line(parts):
        padded = [p.rjust(w) if num else p.ljust(w) for p, w, num in zip(parts, widths, numeric)]
        if fmt == "markdown":
            return "| " + " | ".join(padded) + " |"
        return "  ".join(padded).rstrip()

    out = [line(headers)]
    if fmt == "markdown":
        rule = [("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)]
        out.append("|" + "|".join(rule) + "|")
    else:
        out.append("  ".join("-" * w for w in widths))
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _looks_numeric(text: str) -> bool:
    if text in ("-", "nan", "inf", "-inf"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True
