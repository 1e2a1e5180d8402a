"""Every table of the dashboard as a download: CSV (UTF-8 with a byte-order mark, so Excel
opens Chinese text correctly) and XLSX (openpyxl).

A table is the same `Table` the page shows beside its chart, so a download holds the same
numbers as the page. A text cell that a spreadsheet would read as a formula (=, +, -, @,
tab, carriage return first) is written with a leading apostrophe (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | None

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_REFUSED = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Table:
    """A table of figures: its title, column headings, and rows of cells (None: no value,
    or hidden). `links` holds, per row, where the row's figure drills down to (pages only)."""

    title: str
    headings: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    links: tuple[str | None, ...] = field(default=())
    # Words under the table (a note on suppression, on what a rate is of).
    note: str = ""


def _text_safe(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_cell(value: Cell, blank: str) -> str:
    if value is None:
        return blank
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    return _text_safe(value)


def to_csv(table: Table, blank: str = "") -> bytes:
    """One table as CSV: the BOM, the headings, the rows (CRLF, as Excel writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text_safe(h) for h in table.headings])
    for row in table.rows:
        writer.writerow([_csv_cell(cell, blank) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_name(title: str, taken: set[str]) -> str:
    base = (title.translate(_SHEET_NAME_REFUSED).strip("' ") or "Sheet")[:28]
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base[:26]}{n}"
        n += 1
    taken.add(name.lower())
    return name


def to_xlsx(tables: Sequence[Table], blank: str = "") -> bytes:
    """Tables as one workbook, a sheet each: the title, the headings in bold, the rows
    (numbers as numbers), the note under them."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.title, taken))
        sheet.append([_text_safe(table.title)])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([_text_safe(h) for h in table.headings])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(
                [
                    blank if cell is None else _text_safe(cell) if isinstance(cell, str) else cell
                    for cell in row
                ]
            )
        if table.note:
            sheet.append([])
            sheet.append([_text_safe(table.note)])
        for index, heading in enumerate(table.headings, start=1):
            longest = max(
                [len(str(heading))] + [len(str(row[index - 1] or "")) for row in table.rows]
            )
            sheet.column_dimensions[get_column_letter(index)].width = min(60, 4 + 2 * longest)
        sheet.freeze_panes = "A3"
    if not tables:
        book.create_sheet("Sheet")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(stem: str, today: date, extension: str) -> str:
    """An ASCII file name for the download (the words are in the file)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in stem)
    return f"{safe.strip('-') or 'figures'}-{today.isoformat()}.{extension}"
