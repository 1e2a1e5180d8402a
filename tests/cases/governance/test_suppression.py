"""Small-cell suppression (cases/governance/suppression.py): table tests of primary and
secondary suppression, and a property test that no published table shows, or lets a reader
work out from its margins, a count from 1 to 4."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.governance.suppression import Suppressed, suppress, suppress_counts

_ = None


@pytest.mark.parametrize(
    ("table", "cells", "row_totals", "column_totals", "total"),
    [
        # Nothing small: everything shown.
        ([[10, 20], [30, 40]], [[10, 20], [30, 40]], [30, 70], [40, 60], 100),
        # Zeros are shown: they say nothing of anyone.
        ([[0, 20], [30, 0]], [[0, 20], [30, 0]], [20, 30], [30, 20], 50),
        # One small cell: its row and column each hide a second cell, and the cell across
        # from it goes too (otherwise the second cells could be worked out).
        ([[3, 20], [30, 40]], [[_, _], [_, _]], [23, 70], [33, 60], 93),
        (
            [[3, 20, 25], [30, 40, 50], [60, 70, 80]],
            [[_, _, 25], [_, _, 50], [60, 70, 80]],
            [48, 120, 210],
            [93, 130, 155],
            378,
        ),
        # Two small cells in one row: hidden together (their sum, 5, is not small), and
        # each column hides one more.
        (
            [[2, 3, 40], [30, 40, 50], [60, 70, 80]],
            [[_, _, 40], [_, _, 50], [60, 70, 80]],
            [45, 120, 210],
            [92, 113, 170],
            375,
        ),
        # Two small cells whose sum is small (1 + 2 = 3 = total less what is shown): a third
        # goes.
        (
            [[1, 2, 40], [30, 40, 50], [60, 70, 80]],
            [[_, _, _], [_, _, _], [60, 70, 80]],
            [43, 120, 210],
            [91, 112, 170],
            373,
        ),
        # A small row total: hidden, and then the other row total (or the grand total less
        # it would give 3), and with it enough of each line that nothing can be added up.
        ([[1, 2], [30, 40]], [[_, _], [_, _]], [_, _], [31, 42], 73),
    ],
)
def test_suppression(
    table: list[list[int]],
    cells: list[list[int | None]],
    row_totals: list[int | None],
    column_totals: list[int | None],
    total: int | None,
) -> None:
    result = suppress(table)
    assert [list(row) for row in result.cells] == cells
    assert list(result.row_totals) == row_totals
    assert list(result.column_totals) == column_totals
    assert result.total == total


def test_a_single_column() -> None:
    assert suppress_counts([12, 3, 9, 0]) == ([12, None, None, 0], 24)
    assert suppress_counts([12, 30]) == ([12, 30], 42)
    assert suppress_counts([2]) == ([None], None)
    assert suppress_counts([]) == ([], 0)


def test_the_minimum_is_a_parameter() -> None:
    assert suppress([[3, 20]], minimum=3).cells == ((3, 20),)
    assert suppress([[3, 20]], minimum=10).cells == ((None, None),)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[-1]])


def _grid(table: list[list[int]], result: Suppressed) -> tuple[list[list[int]], list[list[bool]]]:
    """The original grid with margins, and which of its entries were hidden."""
    rows = [[*list(row), sum(row)] for row in table]
    rows.append([sum(col) for col in zip(*rows, strict=True)])
    shown = [
        [*list(row), total] for row, total in zip(result.cells, result.row_totals, strict=True)
    ]
    shown.append([*result.column_totals, result.total])
    return rows, [[entry is None for entry in row] for row in shown]


tables = st.integers(1, 5).flatmap(
    lambda columns: st.lists(
        st.lists(st.integers(0, 30), min_size=columns, max_size=columns), min_size=1, max_size=5
    )
)


@settings(max_examples=400, deadline=None)
@given(tables, st.integers(2, 10))
def test_no_small_count_can_be_read_or_worked_out(table: list[list[int]], minimum: int) -> None:
    result = suppress(table, minimum)
    grid, hidden = _grid(table, result)
    published = [[*list(row), t] for row, t in zip(result.cells, result.row_totals, strict=True)]
    published.append([*result.column_totals, result.total])
    lines = [[(r, c) for c in range(len(grid[0]))] for r in range(len(grid))]
    lines += [[(r, c) for r in range(len(grid))] for c in range(len(grid[0]))]
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if hidden[r][c]:
                continue
            # What is shown is true, and never small.
            assert published[r][c] == value
            assert not 0 < value < minimum
    for line in lines:
        *cells, (tr, tc) = line
        count = sum(hidden[r][c] for r, c in line)
        # No entry is hidden alone in its line (it would be the total less the others).
        assert count != 1, (table, line)
        if not hidden[tr][tc]:
            # With the line's total shown, what its hidden cells add up to is known.
            hidden_sum = sum(grid[r][c] for r, c in cells if hidden[r][c])
            assert not 0 < hidden_sum < minimum, (table, line)
