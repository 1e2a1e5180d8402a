"""Small-cell suppression for figures shown to the public (pure).

A table of counts is published with its row totals, column totals and grand total. Seen
with its margins it is a grid of (R + 1) x (C + 1) entries in which every line (a row or a
column, margins included) is a sum: its last entry is the sum of the others.

- Primary suppression: an entry from 1 to `minimum - 1` is not shown (a count of 1 to 4
  people could be someone the reader knows). A zero is shown: it says nothing of anyone.
- Secondary suppression: an entry hidden alone in a line would be the line's total less the
  others, so every line with a hidden entry hides at least two; and where a line's total is
  shown, what its hidden cells add up to is known, so that sum must not be small either
  (0, or at least `minimum`). The smallest shown non-zero cells of the line are hidden next
  (the least information lost), then its total; this repeats until every line holds.

`suppress(table)` returns the same grid with hidden entries as None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MINIMUM = 5


@dataclass(frozen=True)
class Suppressed:
    """A table as it may be published: None is a hidden entry."""

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    total: int | None

    @property
    def hidden(self) -> int:
        """How many entries (margins included) are hidden."""
        entries = [*self.row_totals, *self.column_totals, self.total]
        entries += [cell for row in self.cells for cell in row]
        return sum(1 for entry in entries if entry is None)


def _is_small(value: int, minimum: int) -> bool:
    return 0 < value < minimum


def _lines(rows: int, columns: int) -> list[list[tuple[int, int]]]:
    """Every line of the grid with margins, its total last (the cell at index R or C)."""
    lines = [[(r, c) for c in range(columns + 1)] for r in range(rows + 1)]
    lines += [[(r, c) for r in range(rows + 1)] for c in range(columns + 1)]
    return lines


def suppress(table: Sequence[Sequence[int]], minimum: int = MINIMUM) -> Suppressed:
    """Hide the entries of `table` (rows of counts, all rows the same length) and of its
    margins that would show, or let a reader work out, a count from 1 to minimum - 1."""
    rows = len(table)
    columns = len(table[0]) if rows else 0
    if any(len(row) != columns for row in table):
        raise ValueError("every row of a table has the same number of cells")
    if any(value < 0 for row in table for value in row):
        raise ValueError("counts are never negative")
    grid = [[*list(row), sum(row)] for row in table]
    grid.append([sum(table[r][c] for r in range(rows)) for c in range(columns)])
    grid[rows].append(sum(grid[rows]))
    hidden = {
        (r, c)
        for r in range(rows + 1)
        for c in range(columns + 1)
        if _is_small(grid[r][c], minimum)
    }
    lines = _lines(rows, columns)
    changed = True
    while changed:
        changed = False
        for line in lines:
            extra = _one_more(line, grid, hidden, minimum)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return Suppressed(
        cells=tuple(
            tuple(None if (r, c) in hidden else grid[r][c] for c in range(columns))
            for r in range(rows)
        ),
        row_totals=tuple(None if (r, columns) in hidden else grid[r][columns] for r in range(rows)),
        column_totals=tuple(None if (rows, c) in hidden else grid[rows][c] for c in range(columns)),
        total=None if (rows, columns) in hidden else grid[rows][columns],
    )


def _one_more(
    line: list[tuple[int, int]],
    grid: list[list[int]],
    hidden: set[tuple[int, int]],
    minimum: int,
) -> tuple[int, int] | None:
    """The next entry of `line` to hide so that none of its hidden entries can be worked
    out, or None if the line already holds."""
    *cells, total = line
    hidden_cells = [cell for cell in cells if cell in hidden]
    count = len(hidden_cells) + (1 if total in hidden else 0)
    if count == 0:
        return None
    hidden_sum = sum(grid[r][c] for r, c in hidden_cells)
    exposed_sum = total not in hidden and _is_small(hidden_sum, minimum)
    if count >= 2 and not exposed_sum:
        return None
    shown = sorted(
        (cell for cell in cells if cell not in hidden and grid[cell[0]][cell[1]] > 0),
        key=lambda cell: (grid[cell[0]][cell[1]], cell),
    )
    if shown:
        return shown[0]
    if total not in hidden:
        return total
    # Only zeros are left shown beside a hidden total: hiding a zero keeps two unknowns.
    zeros = [cell for cell in cells if cell not in hidden]
    return zeros[0] if zeros else None


def suppress_counts(
    counts: Sequence[int], minimum: int = MINIMUM
) -> tuple[list[int | None], int | None]:
    """A single column of counts and its total: the counts as they may be published."""
    if not counts:
        return [], 0
    result = suppress([[count] for count in counts], minimum)
    return [row[0] for row in result.cells], result.total
